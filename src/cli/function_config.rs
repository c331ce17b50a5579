//! `--function-config FILE`: the configuration a release carries, in
//! Lambda's own key names (JSON, or YAML when the file is named `*.yaml` or
//! `*.yml`):
//!
//! ```json
//! {
//!   "Runtime": "python3.12",
//!   "Handler": "app.handler",
//!   "MemorySize": 256,
//!   "Environment": {
//!     "Variables": {
//!       "STAGE": "prod",
//!       "DB_PASSWORD": { "FromEnvironment": "DB_PASSWORD" }
//!     }
//!   }
//! }
//! ```
//!
//! What `aws lambda get-function-configuration` prints is a valid file: its
//! read-only keys are accepted and ignored (so is `Description`: a version's
//! description is `--description`'s). Any other key is refused, naming the
//! accepted ones. A variable's value `{"FromEnvironment": "NAME"}` is taken
//! from this process's environment (Lambda's values are strings, so the
//! object form cannot be meant literally); a variable that is not set is an
//! error naming it. Values are never shown.

use std::path::Path;

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::core::config::{FunctionConfig, KEYS};
use crate::error::{Error, Result};
use crate::log::Log;
use crate::secrets;

/// Keys `get-function-configuration` prints that a deploy does not set.
const IGNORED: [&str; 25] = [
    "FunctionName",
    "FunctionArn",
    "CodeSize",
    "Description",
    "LastModified",
    "CodeSha256",
    "Version",
    "MasterArn",
    "RevisionId",
    "State",
    "StateReason",
    "StateReasonCode",
    "LastUpdateStatus",
    "LastUpdateStatusReason",
    "LastUpdateStatusReasonCode",
    "PackageType",
    "ImageConfigResponse",
    "SigningProfileVersionArn",
    "SigningJobArn",
    "RuntimeVersionConfig",
    "ConfigSha256",
    "CapacityProviderConfig",
    "DurableConfig",
    "TenancyConfig",
    "ResponseMetadata",
];

/// The object a variable's value may be, to be read from the environment.
const FROM_ENVIRONMENT: &str = "FromEnvironment";
/// Beside `FromEnvironment`: `true` when an empty value is meant.
const ALLOW_EMPTY: &str = "AllowEmpty";
/// `{"FromParameter": "/orders/prod/db-url"}`: the value is read from
/// Parameter Store (decrypted) when the deploy runs.
const FROM_PARAMETER: &str = "FromParameter";

/// How a variable of this process's environment reads.
#[derive(Debug, Clone, PartialEq)]
pub enum EnvValue {
    Set(String),
    NotSet,
    /// Set, but not UTF-8 (Lambda's values are strings).
    NotUnicode,
}

/// This process's environment, as [`load_with`] asks it.
fn process_env(name: &str) -> EnvValue {
    match std::env::var(name) {
        Ok(value) => EnvValue::Set(value),
        Err(std::env::VarError::NotPresent) => EnvValue::NotSet,
        Err(std::env::VarError::NotUnicode(_)) => EnvValue::NotUnicode,
    }
}

/// Read and check the file; variables named `FromEnvironment` are read
/// from this process's environment, and every value is held as a secret
/// (masked wherever AWS's answers quote it). `log`: say that a
/// `Description` in the file is not used.
pub fn load(path: &Path, log: Option<&Log>) -> Result<FunctionConfig> {
    let config = load_with(path, process_env)?;
    for value in config.environment.iter().flat_map(|e| e.variables.0.values()) {
        secrets::hold(value);
    }
    if let Some(log) = log.filter(|_| names_description(path)) {
        log.warn(&format!(
            "--function-config '{}': Description is ignored (a version's description is --description's)",
            path.display()
        ));
    }
    Ok(config)
}

/// Whether the file (already read and checked) has a `Description` key.
fn names_description(path: &Path) -> bool {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| Document::parse(path, &bytes).ok())
        .is_some_and(|document| document.value.get("Description").is_some())
}

/// A file read: its value, and each environment variable's value exactly
/// as written (a YAML plain scalar or a JSON number is its text, never the
/// number it reads as: `02134` stays `02134`, `1.10` stays `1.10`).
struct Document {
    value: Value,
    /// `Environment.Variables` entries that are scalars, as written; `None`
    /// for a null (no value written).
    written: BTreeMap<String, Option<String>>,
}

impl Document {
    /// Parse the file: YAML when named `*.yaml` or `*.yml`, JSON otherwise;
    /// a UTF-8 byte-order mark is allowed; a key given twice is refused.
    fn parse(path: &Path, bytes: &[u8]) -> std::result::Result<Document, String> {
        let text = std::str::from_utf8(bytes).map_err(|e| format!("is not UTF-8 text: {e}"))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let yaml = matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
        if yaml {
            Document::parse_yaml(text)
        } else {
            Document::parse_json(text)
        }
    }

    fn parse_yaml(text: &str) -> std::result::Result<Document, String> {
        // Only the parser's first line, which says where and what: the
        // lines after it quote the file, which may hold values.
        let refused = |e: serde_saphyr::Error| {
            let said = e.to_string();
            let first = said.lines().next().unwrap_or_default();
            format!("is not valid YAML: {}", first.trim_start_matches("error: "))
        };
        let options = || {
            serde_saphyr::options! {
                duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
                with_snippet: false,
            }
        };
        let Unique(value) = serde_saphyr::from_str_with_options(text, options()).map_err(refused)?;
        // A YAML scalar read as a string is its text as written.
        let scalars = scalar_names(&value);
        let written = if scalars.is_empty() {
            BTreeMap::new()
        } else {
            let seed = VariablesSeed::<Option<String>>::new(&scalars);
            serde_saphyr::with_deserializer_from_str_with_options(text, options(), |de| seed.deserialize(de))
                .map_err(refused)?
        };
        Ok(Document { value, written })
    }

    fn parse_json(text: &str) -> std::result::Result<Document, String> {
        let refused =
            |e: serde_json::Error| format!("is not valid JSON (name a YAML file *.yaml or *.yml): {e}");
        let Unique(value) = serde_json::from_str(text).map_err(refused)?;
        let scalars = scalar_names(&value);
        let raw: BTreeMap<String, Box<RawValue>> = if scalars.is_empty() {
            BTreeMap::new()
        } else {
            let seed = VariablesSeed::<Box<RawValue>>::new(&scalars);
            seed.deserialize(&mut serde_json::Deserializer::from_str(text))
                .map_err(refused)?
        };
        // A string is its text; a number or boolean is its text as written.
        let written = raw
            .into_iter()
            .map(|(name, raw)| {
                let text = raw.get();
                let value = (text != "null")
                    .then(|| serde_json::from_str::<String>(text).unwrap_or_else(|_| text.to_string()));
                (name, value)
            })
            .collect();
        Ok(Document { value, written })
    }
}

/// The names in `Environment.Variables` whose values are scalars (not an
/// object such as `{"FromEnvironment": …}`).
fn scalar_names(value: &Value) -> BTreeSet<String> {
    value
        .pointer("/Environment/Variables")
        .and_then(Value::as_object)
        .map(|variables| {
            variables
                .iter()
                .filter(|(_, value)| !value.is_object() && !value.is_array())
                .map(|(name, _)| name.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// A document as a JSON value, refusing a key that appears twice in one
/// object (serde_json would keep the last silently).
struct Unique(Value);

impl<'de> Deserialize<'de> for Unique {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueVisitor).map(Unique)
    }
}

struct UniqueVisitor;

impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON or YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Value, D::Error> {
        Unique::deserialize(d).map(|u| u.0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Unique(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Unique(value) = map.next_value()?;
            if object.insert(key.clone(), value).is_some() {
                return Err(serde::de::Error::custom(format!(
                    "the key `{key}` appears twice in one object"
                )));
            }
        }
        Ok(Value::Object(object))
    }
}

/// Reads `Environment.Variables` again, each named scalar as a `T` (a YAML
/// string, a JSON raw value), skipping everything else.
struct VariablesSeed<'a, T> {
    path: &'static [&'static str],
    names: &'a BTreeSet<String>,
    read: std::marker::PhantomData<T>,
}

impl<'a, T> VariablesSeed<'a, T> {
    fn new(names: &'a BTreeSet<String>) -> Self {
        VariablesSeed {
            path: &["Environment", "Variables"],
            names,
            read: std::marker::PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for VariablesSeed<'_, T> {
    type Value = BTreeMap<String, T>;

    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for VariablesSeed<'_, T> {
    type Value = BTreeMap<String, T>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
        let mut found = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            match self.path.split_first() {
                Some((step, rest)) if *step == key => {
                    let inner = VariablesSeed {
                        path: rest,
                        names: self.names,
                        read: std::marker::PhantomData,
                    };
                    found = map.next_value_seed(inner)?;
                }
                None if self.names.contains(&key) => {
                    found.insert(key, map.next_value::<T>()?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }
}

/// [`load`], with `env` answering for the environment.
pub fn load_with(path: &Path, env: impl Fn(&str) -> EnvValue) -> Result<FunctionConfig> {
    let shown = path.display();
    let refuse = |why: String| Error::usage(format!("--function-config '{shown}': {why}"));
    let bytes = std::fs::read(path).map_err(|e| refuse(format!("cannot be read: {e}")))?;
    let Document { value, written } = Document::parse(path, &bytes).map_err(refuse)?;
    let Value::Object(keys) = value else {
        return Err(refuse(
            "expected an object of Lambda configuration keys, such as {\"MemorySize\": 256}".into(),
        ));
    };
    let mut kept = Map::new();
    for (key, value) in keys {
        if IGNORED.contains(&key.as_str()) {
            continue;
        }
        if !KEYS.contains(&key.as_str()) && key != "Tags" {
            return Err(refuse(format!(
                "unknown key `{key}`: the accepted keys are {}, Tags (the read-only keys `aws lambda get-function-configuration` prints, such as FunctionArn and CodeSha256, are accepted and ignored)",
                KEYS.join(", ")
            )));
        }
        let value = if key == "Environment" {
            environment(value, &written, &env).map_err(refuse)?
        } else {
            value
        };
        // One key at a time, so that an error names the key.
        let alone = Value::Object(Map::from_iter([(key.clone(), value.clone())]));
        serde_json::from_value::<FunctionConfig>(alone).map_err(|e| refuse(format!("key `{key}`: {e}")))?;
        kept.insert(key, value);
    }
    let config: FunctionConfig =
        serde_json::from_value(Value::Object(kept)).map_err(|e| refuse(e.to_string()))?;
    within_lambda_limits(&config).map_err(refuse)?;
    config.check_architectures().map_err(refuse)?;
    if let Some(tags) = &config.tags {
        crate::core::tags::check(tags).map_err(refuse)?;
    }
    if let Some(environment) = &config.environment {
        // Values from Parameter Store are read later: their names are
        // checked now (with an empty value), the 4 KB once they are read.
        let mut named = environment.variables.clone();
        for variable in environment.parameters.keys() {
            named.0.insert(variable.clone(), String::new());
        }
        named.check().map_err(refuse)?;
    }
    Ok(config)
}

/// Lambda's limits for the numbers a file may set, checked before any request.
fn within_lambda_limits(config: &FunctionConfig) -> std::result::Result<(), String> {
    let limits = [
        ("MemorySize", config.memory_size, 128, 10_240, "MB"),
        ("Timeout", config.timeout, 1, 900, "seconds"),
        (
            "EphemeralStorage.Size",
            config.ephemeral_storage.as_ref().map(|e| e.size),
            512,
            10_240,
            "MB",
        ),
    ];
    for (key, value, low, high, unit) in limits {
        if let Some(value) = value.filter(|v| !(low..=high).contains(v)) {
            return Err(format!(
                "key `{key}`: {value} is outside what Lambda accepts ({low} to {high} {unit})"
            ));
        }
    }
    Ok(())
}

/// `Environment`, with each variable's value a string: scalars as written
/// (`written`), `{"FromEnvironment": NAME}` read from `env`.
fn environment(
    value: Value,
    written: &BTreeMap<String, Option<String>>,
    env: &impl Fn(&str) -> EnvValue,
) -> std::result::Result<Value, String> {
    let Value::Object(mut environment) = value else {
        return Err(
            "key `Environment`: expected an object such as {\"Variables\": {\"STAGE\": \"prod\"}}".into(),
        );
    };
    let Some(variables) = environment.remove("Variables") else {
        // What get-function-configuration prints when the caller may not
        // decrypt the variables: such a file says nothing about them.
        return Err(if environment.contains_key("Error") {
            "key `Environment` holds only `Error` (what get-function-configuration prints when the caller may not decrypt the variables), so it says nothing about the variables: write them under `Variables`, or remove `Environment` to leave them as they are".into()
        } else {
            "key `Environment` names no `Variables`: write {\"Variables\": {…}} (an empty object removes every variable), or remove `Environment` to leave them as they are".into()
        });
    };
    let Value::Object(variables) = variables else {
        return Err("key `Environment.Variables`: expected an object of names and string values".into());
    };
    if let Some(other) = environment.keys().find(|key| *key != "Error") {
        return Err(format!(
            "key `Environment.{other}` is not accepted: `Environment` holds `Variables`"
        ));
    }
    let mut resolved = Map::new();
    let mut parameters = Map::new();
    for (name, value) in variables {
        let text = match value {
            Value::Object(from) if from.contains_key(FROM_ENVIRONMENT) => {
                from_environment(&name, &from, env)?
            }
            Value::Object(from) if from.contains_key(FROM_PARAMETER) => {
                parameters.insert(name.clone(), Value::String(from_parameter(&name, &from)?));
                continue;
            }
            Value::Object(_) | Value::Array(_) => {
                return Err(format!(
                    "Environment.Variables.{name}: expected a string, {{\"{FROM_ENVIRONMENT}\": \"NAME\"}} to read it from this run's environment, or {{\"{FROM_PARAMETER}\": \"/PATH/NAME\"}} to read it from Parameter Store"
                ));
            }
            _ => written.get(&name).cloned().flatten().ok_or_else(|| {
                format!("Environment.Variables.{name} has no value: write \"\" for an empty one")
            })?,
        };
        resolved.insert(name, Value::String(text));
    }
    environment.insert("Variables".into(), Value::Object(resolved));
    environment.insert("FromParameters".into(), Value::Object(parameters));
    Ok(Value::Object(environment))
}

/// `{"FromParameter": NAME}`: the parameter's name (or ARN, with an optional
/// `:version` or `:label`), checked; its value is read when the deploy runs.
fn from_parameter(name: &str, from: &Map<String, Value>) -> std::result::Result<String, String> {
    let form = format!("expected {{\"{FROM_PARAMETER}\": \"/PATH/NAME\"}} (a Parameter Store name or ARN)");
    match (from.len(), from.get(FROM_PARAMETER)) {
        (1, Some(Value::String(parameter)))
            if !parameter.is_empty()
                && parameter.len() <= 2048
                && parameter
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-/:".contains(c)) =>
        {
            Ok(parameter.clone())
        }
        _ => Err(format!("Environment.Variables.{name}: {form}")),
    }
}

/// `{"FromEnvironment": NAME}` (with `"AllowEmpty": true` when an empty
/// value is meant): the value of NAME in this run's environment.
fn from_environment(
    name: &str,
    from: &Map<String, Value>,
    env: &impl Fn(&str) -> EnvValue,
) -> std::result::Result<String, String> {
    let form = format!(
        "expected {{\"{FROM_ENVIRONMENT}\": \"NAME\"}}, with \"{ALLOW_EMPTY}\": true when an empty value is meant"
    );
    if from
        .keys()
        .any(|key| key != FROM_ENVIRONMENT && key != ALLOW_EMPTY)
    {
        return Err(format!("Environment.Variables.{name}: {form}"));
    }
    let source = match from.get(FROM_ENVIRONMENT) {
        Some(Value::String(source)) if !source.is_empty() => source,
        _ => {
            return Err(format!(
                "Environment.Variables.{name}: {FROM_ENVIRONMENT} takes the name of an environment variable ({form})"
            ));
        }
    };
    let allow_empty = match from.get(ALLOW_EMPTY) {
        None => false,
        Some(Value::Bool(allow)) => *allow,
        Some(_) => {
            return Err(format!(
                "Environment.Variables.{name}: {ALLOW_EMPTY} is true or false"
            ));
        }
    };
    let taken = format!("Environment.Variables.{name} is taken from the environment variable {source}");
    match env(source) {
        EnvValue::Set(value) if value.is_empty() && !allow_empty => Err(format!(
            "{taken}, which is empty (as GitHub passes a secret the workflow may not read); add \"{ALLOW_EMPTY}\": true if an empty value is meant"
        )),
        EnvValue::Set(value) => Ok(value),
        EnvValue::NotSet => Err(format!("{taken}, which is not set")),
        EnvValue::NotUnicode => Err(format!(
            "{taken}, which is set but is not UTF-8 text (Lambda's values are strings)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(name: &str, text: &str, env: &[(&str, &str)]) -> Result<FunctionConfig> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        load_with(&path, |n| match env.iter().find(|(k, _)| *k == n) {
            Some((_, v)) => EnvValue::Set(v.to_string()),
            None => EnvValue::NotSet,
        })
    }

    fn usage(result: Result<FunctionConfig>) -> String {
        match result {
            Err(Error::Usage(message)) => message,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn get_function_configuration_output_is_a_valid_file() {
        let printed = r#"{
            "FunctionName": "orders", "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:orders",
            "Runtime": "python3.12", "Role": "arn:aws:iam::123456789012:role/app", "Handler": "app.handler",
            "CodeSize": 312, "Description": "ignored", "Timeout": 3, "MemorySize": 128,
            "LastModified": "2026-11-24T20:07:01.000+0000", "CodeSha256": "abc=", "Version": "$LATEST",
            "Environment": {"Variables": {"STAGE": "prod"}},
            "TracingConfig": {"Mode": "PassThrough"}, "RevisionId": "r1", "State": "Active",
            "LastUpdateStatus": "Successful", "PackageType": "Zip", "Architectures": ["x86_64"],
            "EphemeralStorage": {"Size": 512}, "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
            "Layers": [{"Arn": "arn:aws:lambda:us-east-1:123456789012:layer:deps:3", "CodeSize": 10}],
            "VpcConfig": {"SubnetIds": [], "SecurityGroupIds": [], "VpcId": "", "Ipv6AllowedForDualStack": false},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": "/aws/lambda/orders"},
            "RuntimeVersionConfig": {"RuntimeVersionArn": "arn:aws:lambda:us-east-1::runtime:abc"}
        }"#;
        let config = load_text("function.json", printed, &[]).unwrap();
        assert_eq!(config.memory_size, Some(128));
        assert_eq!(
            config.layers.as_ref().unwrap()[0].arn(),
            "arn:aws:lambda:us-east-1:123456789012:layer:deps:3"
        );
        assert_eq!(
            config.named_keys(),
            [
                "Runtime",
                "Handler",
                "Role",
                "MemorySize",
                "Timeout",
                "Environment.Variables",
                "Layers",
                "EphemeralStorage",
                "TracingConfig",
                "VpcConfig",
                "SnapStart",
                "LoggingConfig",
                "Architectures"
            ]
        );
    }

    #[test]
    fn a_variable_from_parameter_store_is_named_now_and_read_later() {
        let text =
            "Environment:\n  Variables:\n    DB_URL: {FromParameter: /orders/prod/db-url}\n    STAGE: prod\n";
        let config = load_text("function.yaml", text, &[]).unwrap();
        let environment = config.environment.as_ref().unwrap();
        assert_eq!(
            environment.parameters,
            BTreeMap::from([("DB_URL".to_string(), "/orders/prod/db-url".to_string())])
        );
        assert_eq!(environment.variables.0.keys().collect::<Vec<_>>(), ["STAGE"]);
        for (bad, why) in [
            (
                r#"{"Environment": {"Variables": {"A1": {"FromParameter": ""}}}}"#,
                "Environment.Variables.A1: expected {\"FromParameter\"",
            ),
            (
                r#"{"Environment": {"Variables": {"A1": {"FromParameter": "/x", "AllowEmpty": true}}}}"#,
                "Environment.Variables.A1: expected",
            ),
            (
                r#"{"Environment": {"Variables": {"AWS_REGION": {"FromParameter": "/x"}}}}"#,
                "reserved by Lambda's runtime",
            ),
            (
                r#"{"Environment": {"Variables": {}, "FromParameters": {"A1": "/x"}}}"#,
                "`Environment.FromParameters` is not accepted",
            ),
        ] {
            let err = load_text("function.json", bad, &[]).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn yaml_with_a_variable_from_the_environment() {
        let text = "MemorySize: 256\nEnvironment:\n  Variables:\n    PORT: 8080\n    TOKEN: {FromEnvironment: DEPLOY_TOKEN}\n";
        let config = load_text("function.yaml", text, &[("DEPLOY_TOKEN", "s3cr3t")]).unwrap();
        let variables = &config.environment.as_ref().unwrap().variables.0;
        assert_eq!(variables["PORT"], "8080");
        assert_eq!(variables["TOKEN"], "s3cr3t");
        assert!(!format!("{config:?}").contains("s3cr3t"));
    }

    #[test]
    fn a_yaml_syntax_error_says_where_without_quoting_the_file() {
        let text = "Environment:\n  Variables:\n    TOKEN: \"abc-SECRET\n    B: [x\n";
        let message = usage(load_text("f.yaml", text, &[]));
        assert!(
            message.contains(
                "is not valid YAML: invalid indentation in multiline quoted scalar at line 4, column 5"
            ),
            "{message}"
        );
        assert!(!message.contains("SECRET"), "{message}");
    }

    #[test]
    fn a_missing_variable_is_named() {
        let text = r#"{"Environment": {"Variables": {"TOKEN": {"FromEnvironment": "DEPLOY_TOKEN"}}}}"#;
        let message = usage(load_text("f.json", text, &[]));
        assert!(
            message.contains("TOKEN is taken from the environment variable DEPLOY_TOKEN, which is not set"),
            "{message}"
        );
    }

    #[test]
    fn a_misspelt_key_is_refused_with_the_accepted_ones() {
        let message = usage(load_text("f.json", r#"{"MemorySzie": 256}"#, &[]));
        assert!(message.contains("unknown key `MemorySzie`"), "{message}");
        assert!(message.contains("MemorySize, Timeout, Environment"), "{message}");
        let nested = usage(load_text(
            "f.json",
            r#"{"TracingConfig": {"Mod": "Active"}}"#,
            &[],
        ));
        assert!(
            nested.contains("key `TracingConfig`: unknown field `Mod`"),
            "{nested}"
        );
    }

    #[test]
    fn a_wrong_type_names_the_key() {
        let message = usage(load_text("f.json", r#"{"MemorySize": "big"}"#, &[]));
        assert!(
            message.contains("key `MemorySize`: invalid type: string \"big\""),
            "{message}"
        );
        let list = usage(load_text(
            "f.json",
            r#"{"Environment": {"Variables": {"A": ["x"]}}}"#,
            &[],
        ));
        assert!(
            list.contains("Environment.Variables.A: expected a string"),
            "{list}"
        );
        let memory = usage(load_text("f.json", r#"{"MemorySize": 64}"#, &[]));
        assert!(
            memory.contains("key `MemorySize`: 64 is outside what Lambda accepts (128 to 10240 MB)"),
            "{memory}"
        );
        let timeout = usage(load_text("f.yaml", "Timeout: 901", &[]));
        assert!(
            timeout.contains("key `Timeout`: 901 is outside what Lambda accepts (1 to 900 seconds)"),
            "{timeout}"
        );
        let not_object = usage(load_text("f.json", "[1]", &[]));
        assert!(not_object.contains("expected an object"), "{not_object}");
    }
}

#[cfg(test)]
mod values_as_written {
    use super::*;

    fn variables(name: &str, text: &str, env: &[(&str, EnvValue)]) -> Result<BTreeMap<String, String>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let config = load_with(&path, |n| {
            env.iter()
                .find(|(k, _)| *k == n)
                .map_or(EnvValue::NotSet, |(_, v)| v.clone())
        })?;
        Ok(config.environment.unwrap().variables.0)
    }

    fn refused(result: Result<BTreeMap<String, String>>) -> String {
        match result {
            Err(Error::Usage(message)) => message,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn yaml_plain_scalars_are_deployed_as_their_text() {
        let text = "Environment:\n  Variables:\n    ZIP: 02134\n    VER: 1.10\n    FLAG: yes\n    HEX: 0x1F\n    LONG: 123456789012345678901234567890\n    EXP: 1e3\n    ON: true\n    QUOTED: \"007\"\n";
        let vars = variables("f.yaml", text, &[]).unwrap();
        let expected = [
            ("EXP", "1e3"),
            ("FLAG", "yes"),
            ("HEX", "0x1F"),
            ("LONG", "123456789012345678901234567890"),
            ("ON", "true"),
            ("QUOTED", "007"),
            ("VER", "1.10"),
            ("ZIP", "02134"),
        ];
        assert_eq!(
            vars.iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
            expected
        );
    }

    #[test]
    fn json_numbers_and_booleans_are_deployed_as_written() {
        let text = r#"{"Environment": {"Variables": {"VER": 1.10, "BIG": 123456789012345678901234567890, "EXP": 1E+3, "ON": false, "STR": "a\"b"}}}"#;
        let vars = variables("f.json", text, &[]).unwrap();
        assert_eq!(vars["VER"], "1.10");
        assert_eq!(vars["BIG"], "123456789012345678901234567890");
        assert_eq!(vars["EXP"], "1E+3");
        assert_eq!(vars["ON"], "false");
        assert_eq!(vars["STR"], "a\"b");
    }

    #[test]
    fn a_variable_without_a_value_is_refused() {
        let message = refused(variables(
            "f.yaml",
            "Environment:\n  Variables:\n    EMPTY:\n",
            &[],
        ));
        assert!(
            message.contains("Environment.Variables.EMPTY has no value"),
            "{message}"
        );
        let message = refused(variables(
            "f.json",
            r#"{"Environment": {"Variables": {"NUL": null}}}"#,
            &[],
        ));
        assert!(
            message.contains("Environment.Variables.NUL has no value"),
            "{message}"
        );
    }

    #[test]
    fn an_empty_secret_is_refused_unless_empty_is_meant() {
        let text = r#"{"Environment": {"Variables": {"DB_PW": {"FromEnvironment": "DB_PW"}}}}"#;
        let empty = [("DB_PW", EnvValue::Set(String::new()))];
        let message = refused(variables("f.json", text, &empty));
        assert!(
            message.contains(
                "Environment.Variables.DB_PW is taken from the environment variable DB_PW, which is empty"
            ),
            "{message}"
        );
        let meant =
            r#"{"Environment": {"Variables": {"DB_PW": {"FromEnvironment": "DB_PW", "AllowEmpty": true}}}}"#;
        assert_eq!(variables("f.json", meant, &empty).unwrap()["DB_PW"], "");
        let not_unicode = [("DB_PW", EnvValue::NotUnicode)];
        let message = refused(variables("f.json", text, &not_unicode));
        assert!(
            message.contains("which is set but is not UTF-8 text"),
            "{message}"
        );
        let typo =
            r#"{"Environment": {"Variables": {"DB_PW": {"FromEnvironment": "DB_PW", "AllowEmtpy": true}}}}"#;
        let message = refused(variables("f.json", typo, &empty));
        assert!(
            message.contains("\"AllowEmpty\": true when an empty value is meant"),
            "{message}"
        );
    }

    #[test]
    fn an_environment_that_holds_only_an_error_is_refused() {
        let text = r#"{"Environment": {"Error": {"ErrorCode": "AccessDeniedException", "Message": "Lambda was unable to decrypt"}}}"#;
        let message = refused(variables("f.json", text, &[]));
        assert!(message.contains("holds only `Error`"), "{message}");
        assert!(message.contains("says nothing about the variables"), "{message}");
    }

    #[test]
    fn a_key_given_twice_is_refused_by_name_in_json_and_yaml() {
        let json = r#"{"Environment": {"Variables": {"STAGE": "a", "STAGE": "b"}}}"#;
        let message = refused(variables("f.json", json, &[]));
        assert!(message.contains("the key `STAGE` appears twice"), "{message}");
        let yaml = "MemorySize: 128\nMemorySize: 256\n";
        let message = refused(variables("f.yaml", yaml, &[]));
        assert!(
            message.contains("the key `MemorySize` appears twice"),
            "{message}"
        );
        assert!(!message.contains("DuplicateKeyPolicy"), "{message}");
    }

    #[test]
    fn a_byte_order_mark_is_accepted() {
        let json = "\u{feff}{\"Environment\": {\"Variables\": {\"STAGE\": \"prod\"}}}";
        assert_eq!(variables("f.json", json, &[]).unwrap()["STAGE"], "prod");
        let yaml = "\u{feff}Environment:\n  Variables:\n    STAGE: prod\n";
        assert_eq!(variables("f.yaml", yaml, &[]).unwrap()["STAGE"], "prod");
    }

    #[test]
    fn what_lambda_accepts_is_accepted_tz_among_them() {
        for name in ["TZ", "LANG", "PATH", "LD_LIBRARY_PATH", "NODE_PATH", "PYTHONPATH"] {
            let text = format!(r#"{{"Environment": {{"Variables": {{"{name}": "Asia/Tokyo"}}}}}}"#);
            assert_eq!(
                variables("f.json", &text, &[]).unwrap()[name],
                "Asia/Tokyo",
                "{name}"
            );
        }
    }

    #[test]
    fn what_lambda_refuses_is_refused_by_name_never_by_value() {
        for (name, said) in [
            ("1BAD", "the name `1BAD`"),
            ("A-B", "the name `A-B`"),
            ("", "the name ``"),
            ("X", "the name `X`"),
            ("AWS_REGION", "`AWS_REGION` is reserved"),
        ] {
            let text = format!(r#"{{"Environment": {{"Variables": {{"{name}": "s3cr3t-value"}}}}}}"#);
            let message = refused(variables("f.json", &text, &[]));
            assert!(message.contains(said), "{name}: {message}");
            assert!(!message.contains("s3cr3t-value"), "{message}");
        }
        let big = "x".repeat(4090);
        let text = format!(r#"{{"Environment": {{"Variables": {{"BIG": "{big}"}}}}}}"#);
        let message = refused(variables("f.json", &text, &[]));
        assert!(message.contains("4100 bytes in all"), "{message}");
        assert!(message.contains("limit of 4096 bytes"), "{message}");
        let fits = format!(
            r#"{{"Environment": {{"Variables": {{"BIG": "{}"}}}}}}"#,
            "x".repeat(4085)
        );
        assert!(variables("f.json", &fits, &[]).is_ok());
    }
}
