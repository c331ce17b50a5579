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

use serde_json::{Map, Value};

use crate::core::config::{FunctionConfig, KEYS};
use crate::error::{Error, Result};
use crate::log::Log;

/// Keys `get-function-configuration` prints that a deploy does not set.
const IGNORED: [&str; 26] = [
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
    "Architectures",
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

/// Read and check the file; variables named `FromEnvironment` are read
/// from this process's environment. `log`: say that a `Description` in the
/// file is not used.
pub fn load(path: &Path, log: Option<&Log>) -> Result<FunctionConfig> {
    let config = load_with(path, |name| std::env::var(name).ok())?;
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
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| parse(path, &text).ok())
        .is_some_and(|value| value.get("Description").is_some())
}

/// The file as a JSON value (YAML when named `*.yaml` or `*.yml`).
fn parse(path: &Path, text: &str) -> std::result::Result<Value, String> {
    let yaml = matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
    if yaml {
        // The parser's first line says where and what; the lines after it
        // quote the file, which may hold variable values: never shown.
        serde_saphyr::from_str(text).map_err(|e| {
            let said = e.to_string();
            let first = said.lines().next().unwrap_or_default();
            format!("is not valid YAML: {}", first.trim_start_matches("error: "))
        })
    } else {
        serde_json::from_str(text)
            .map_err(|e| format!("is not valid JSON (name a YAML file *.yaml or *.yml): {e}"))
    }
}

/// [`load`], with `env` answering for the environment.
pub fn load_with(path: &Path, env: impl Fn(&str) -> Option<String>) -> Result<FunctionConfig> {
    let shown = path.display();
    let refuse = |why: String| Error::usage(format!("--function-config '{shown}': {why}"));
    let text = std::fs::read_to_string(path).map_err(|e| refuse(format!("cannot be read: {e}")))?;
    let value = parse(path, &text).map_err(refuse)?;
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
        if !KEYS.contains(&key.as_str()) {
            return Err(refuse(format!(
                "unknown key `{key}`: the accepted keys are {} (the read-only keys `aws lambda get-function-configuration` prints, such as FunctionArn and CodeSha256, are accepted and ignored)",
                KEYS.join(", ")
            )));
        }
        let value = if key == "Environment" {
            environment(value, &env).map_err(refuse)?
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

/// `Environment`, with each variable's value a string: numbers and booleans
/// as written, `{"FromEnvironment": NAME}` read from `env`.
fn environment(value: Value, env: &impl Fn(&str) -> Option<String>) -> std::result::Result<Value, String> {
    let Value::Object(mut environment) = value else {
        return Err(
            "key `Environment`: expected an object such as {\"Variables\": {\"STAGE\": \"prod\"}}".into(),
        );
    };
    let Some(variables) = environment.remove("Variables") else {
        return Ok(Value::Object(environment));
    };
    let Value::Object(variables) = variables else {
        return Err("key `Environment.Variables`: expected an object of names and string values".into());
    };
    let mut resolved = Map::new();
    for (name, value) in variables {
        let text = match value {
            Value::String(text) => text,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Object(from) if from.len() == 1 && from.contains_key(FROM_ENVIRONMENT) => {
                let source = from[FROM_ENVIRONMENT].as_str().unwrap_or_default();
                if source.is_empty() {
                    return Err(format!(
                        "Environment.Variables.{name}: {FROM_ENVIRONMENT} takes the name of an environment variable"
                    ));
                }
                env(source).ok_or_else(|| {
                    format!(
                        "Environment.Variables.{name} is taken from the environment variable {source}, which is not set"
                    )
                })?
            }
            _ => {
                return Err(format!(
                    "Environment.Variables.{name}: expected a string, or {{\"{FROM_ENVIRONMENT}\": \"NAME\"}} to read it from this run's environment"
                ));
            }
        };
        resolved.insert(name, Value::String(text));
    }
    environment.insert("Variables".into(), Value::Object(resolved));
    Ok(Value::Object(environment))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(name: &str, text: &str, env: &[(&str, &str)]) -> Result<FunctionConfig> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        load_with(&path, |n| {
            env.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string())
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
                "LoggingConfig"
            ]
        );
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
            message.contains("is not valid YAML: line 4 column 5"),
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
