//! The SCF actions lambda-rollout uses, one method each, in one namespace:
//! read a function or version, upload code, publish, list versions, read and
//! write aliases (by weight or by rule), delete a version. Each method is one
//! narrated step whose errors keep Tencent's code and message.

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use crate::core::config::{FunctionConfig, Variables};
use crate::core::entry::{EntryPoint, Kind, Via};
use crate::core::observed::{AliasNow, Moved, Split};
use crate::core::values::{HeaderMatch, HeaderRule};
use crate::error::{Error, Result};
use crate::log::Log;
use crate::scf::client::{Client, ScfError};

/// How long an update may take before `wait_active` gives up.
const ACTIVE_WAIT: Duration = Duration::from_secs(300);

/// A function's `$LATEST` or one published version, as `GetFunction` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionState {
    pub version: String,
    /// `Active`, `Updating`, `Publishing`, `UpdateFailed`, …
    pub status: String,
    pub code_size: u64,
    pub description: String,
    pub mod_time: String,
    pub add_time: String,
    pub runtime: String,
    pub handler: String,
    pub memory_size: Option<i32>,
    pub timeout: Option<i32>,
    /// The environment variables; values are secrets (`Debug` shows names).
    pub environment: Variables,
}

/// One entry of `ListVersionByFunction`.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionEntry {
    pub version: String,
    pub description: String,
    pub add_time: String,
}

/// What a synchronous invoke gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Invoked {
    /// The function's error (`ErrMsg`), when it failed.
    pub error: Option<String>,
    /// What it returned (`RetMsg`).
    pub returned: String,
}

/// The SCF API of one region and namespace.
pub struct Scf {
    client: Client,
    pub namespace: String,
    log: Log,
    /// Every alias this run wrote over one it found: what it found, and the
    /// last routing it sent (recorded before sending; see `Scf::moved`).
    pub(crate) moved: std::sync::Mutex<std::collections::HashMap<(String, String), Moved>>,
}

impl Scf {
    pub fn new(client: Client, namespace: &str, log: Log) -> Scf {
        Scf {
            client,
            namespace: namespace.to_string(),
            log,
            moved: Default::default(),
        }
    }

    /// The client its requests go through (and are paced by).
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn region(&self) -> &str {
        &self.client.region
    }

    async fn call(&self, action: &str, mut params: Value) -> std::result::Result<Value, ScfError> {
        params["Namespace"] = json!(self.namespace);
        self.client.call(action, params).await
    }

    /// `GetFunction` of `$LATEST` (`qualifier` `None`) or a version; `None`
    /// when the function or version does not exist.
    pub async fn function(&self, function: &str, qualifier: Option<&str>) -> Result<Option<FunctionState>> {
        let mut params = json!({"FunctionName": function});
        if let Some(q) = qualifier {
            params["Qualifier"] = json!(q);
        }
        let what = format!("function {function} ({})", qualifier.unwrap_or("$LATEST"));
        match self.call("GetFunction", params).await {
            Ok(answer) => Ok(Some(function_state(&answer))),
            Err(e) if e.not_found() => Ok(None),
            Err(e) => Err(e.failed(&format!("read {what}"))),
        }
    }

    /// A version the run knows exists (the alias routes to it).
    pub async fn version(&self, function: &str, version: &str) -> Result<FunctionState> {
        self.function(function, Some(version))
            .await?
            .ok_or_else(|| Error::failed(format!("version {version} of {function} does not exist")))
    }

    /// A version the user named (`--version`, `--to-version`): missing is bad input.
    pub async fn named_version(&self, function: &str, version: &str) -> Result<FunctionState> {
        self.function(function, Some(version)).await?.ok_or_else(|| {
            Error::usage(format!(
                "version {version} of SCF function {function} (namespace {}) does not exist",
                self.namespace
            ))
        })
    }

    /// `UpdateFunctionCode` with the zip in the request (`ZipFile`), and
    /// the handler when the release names one (SCF takes it with the code).
    pub async fn update_code(&self, function: &str, zip: &[u8], handler: Option<&str>) -> Result<()> {
        let encoded = base64::engine::general_purpose::STANDARD.encode(zip);
        let mut params = json!({"FunctionName": function, "ZipFile": encoded});
        if let Some(handler) = handler {
            params["Handler"] = json!(handler);
        }
        self.call("UpdateFunctionCode", params)
            .await
            .map_err(|e| e.failed(&format!("upload the code of {function}")))?;
        self.log
            .step(&format!("uploaded {} bytes to {function} $LATEST", zip.len()));
        Ok(())
    }

    /// `UpdateFunctionConfiguration` of `$LATEST` with the keys `config`
    /// names that SCF takes there (`MemorySize`, `Timeout`, `Runtime`,
    /// `Environment`; the handler goes with the code). `what` names the
    /// keys for the narration, never a value.
    pub async fn update_configuration(
        &self,
        function: &str,
        config: &FunctionConfig,
        what: &str,
    ) -> Result<()> {
        let mut params = json!({"FunctionName": function});
        if let Some(memory) = config.memory_size {
            params["MemorySize"] = json!(memory);
        }
        if let Some(timeout) = config.timeout {
            params["Timeout"] = json!(timeout);
        }
        if let Some(runtime) = &config.runtime {
            params["Runtime"] = json!(runtime);
        }
        if let Some(environment) = &config.environment {
            let variables: Vec<Value> = environment
                .variables
                .0
                .iter()
                .map(|(key, value)| json!({"Key": key, "Value": value}))
                .collect();
            params["Environment"] = json!({"Variables": variables});
        }
        self.call("UpdateFunctionConfiguration", params)
            .await
            .map_err(|e| e.failed(&format!("update the configuration of {function}")))?;
        self.log.step(&format!("configured {function} $LATEST: {what}"));
        Ok(())
    }

    /// Read `$LATEST` until its status is `Active` (an update finished); a
    /// failed status or five minutes without one is an error.
    pub async fn wait_active(&self, function: &str) -> Result<FunctionState> {
        let started = std::time::Instant::now();
        loop {
            let state = self
                .function(function, None)
                .await?
                .ok_or_else(|| Error::failed(format!("function {function} was deleted during the run")))?;
            match state.status.as_str() {
                "Active" => return Ok(state),
                status if status.ends_with("Failed") => {
                    return Err(Error::failed(format!(
                        "the update of {function} $LATEST ended in status {status}"
                    )));
                }
                status if started.elapsed() > ACTIVE_WAIT => {
                    return Err(Error::failed(format!(
                        "{function} $LATEST is still {status} after {} s",
                        ACTIVE_WAIT.as_secs()
                    )));
                }
                _ => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    }

    /// `PublishVersion` of `$LATEST`; the new version's number.
    pub async fn publish(&self, function: &str, description: &str) -> Result<String> {
        let answer = self
            .call(
                "PublishVersion",
                json!({"FunctionName": function, "Description": description}),
            )
            .await
            .map_err(|e| e.failed(&format!("publish a version of {function}")))?;
        let version = text(&answer, "FunctionVersion");
        self.log.step(&format!("published version {version}"));
        Ok(version)
    }

    /// Every published version (`ListVersionByFunction`, page by page), `$LATEST` left out.
    pub async fn versions(&self, function: &str) -> Result<Vec<VersionEntry>> {
        const PAGE: u64 = 50;
        let mut all = Vec::new();
        let mut offset = 0;
        loop {
            let answer = self
                .call(
                    "ListVersionByFunction",
                    json!({"FunctionName": function, "Offset": offset, "Limit": PAGE}),
                )
                .await
                .map_err(|e| e.failed(&format!("list the versions of {function}")))?;
            let page = answer["Versions"].as_array().cloned().unwrap_or_default();
            offset += page.len() as u64;
            all.extend(page.iter().map(|v| VersionEntry {
                version: text(v, "Version"),
                description: text(v, "Description"),
                add_time: text(v, "AddTime"),
            }));
            if page.is_empty() || offset >= answer["TotalCount"].as_u64().unwrap_or(0) {
                break;
            }
        }
        all.retain(|v| v.version != "$LATEST");
        Ok(all)
    }

    /// `GetAlias`; `None` when it does not exist.
    pub async fn alias(&self, function: &str, alias: &str) -> Result<Option<AliasNow>> {
        match self
            .call("GetAlias", json!({"FunctionName": function, "Name": alias}))
            .await
        {
            Ok(answer) => Ok(Some(alias_now(&answer))),
            Err(e) if e.not_found() => Ok(None),
            Err(e) => Err(e.failed(&format!("read alias {function}:{alias}"))),
        }
    }

    /// Every alias of the function (`ListAliases`), by name.
    pub async fn aliases(&self, function: &str) -> Result<Vec<(String, AliasNow)>> {
        let mut all = Vec::new();
        loop {
            let answer = self
                .call(
                    "ListAliases",
                    json!({"FunctionName": function, "Offset": all.len(), "Limit": 50}),
                )
                .await
                .map_err(|e| e.failed(&format!("list the aliases of {function}")))?;
            let page = answer["Aliases"].as_array().cloned().unwrap_or_default();
            all.extend(page.iter().map(|a| (text(a, "Name"), alias_now(a))));
            if page.is_empty() || all.len() as u64 >= answer["TotalCount"].as_u64().unwrap_or(0) {
                return Ok(all);
            }
        }
    }

    /// `CreateAlias` or `UpdateAlias` (`create`) to exactly `to`.
    pub async fn write_alias(&self, function: &str, alias: &str, to: &AliasNow, create: bool) -> Result<()> {
        let (weights, matchs) = match &to.canary {
            None => (vec![], vec![]),
            Some((version, Split::Weight(weight))) => {
                (vec![json!({"Version": version, "Weight": weight})], vec![])
            }
            Some((version, Split::Header(rule))) => {
                let (method, expression) = match &rule.matcher {
                    HeaderMatch::Exact(value) => ("exact", value.clone()),
                    HeaderMatch::Range(low, high) => ("range", format!("[{low},{high}]")),
                };
                let key = format!("invoke.headers.{}", rule.header);
                let matched =
                    json!({"Version": version, "Key": key, "Method": method, "Expression": expression});
                (vec![], vec![matched])
            }
            Some((_, Split::Foreign(rule))) => {
                return Err(Error::failed(format!(
                    "alias {function}:{alias}: the rule {rule} is not one this tool writes"
                )));
            }
        };
        let action = if create { "CreateAlias" } else { "UpdateAlias" };
        self.call(
            action,
            json!({
                "FunctionName": function,
                "Name": alias,
                "FunctionVersion": to.primary,
                "RoutingConfig": {"AdditionalVersionWeights": weights, "AddtionVersionMatchs": matchs},
                "Description": to.description,
            }),
        )
        .await
        .map_err(|e| {
            let verb = if create { "create" } else { "update" };
            if create && e.code == "ResourceInUse.Alias" {
                // Another writer (or a lost answer of ours) created it.
                return Error::Conflict(format!("failed to create alias {function}:{alias}: {e}"));
            }
            e.failed(&format!("{verb} alias {function}:{alias}"))
        })?;
        Ok(())
    }

    /// `InvokeFunction` (synchronous) of one published version with
    /// `event` (JSON): what it returned, or its function error.
    pub async fn invoke(&self, function: &str, version: &str, event: &str) -> Result<Invoked> {
        let answer = self
            .call(
                "InvokeFunction",
                json!({"FunctionName": function, "Qualifier": version, "Event": event, "LogType": "None"}),
            )
            .await
            .map_err(|e| e.failed(&format!("invoke version {version} of {function}")))?;
        let result = &answer["Result"];
        let failed = result["InvokeResult"].as_i64().is_some_and(|code| code != 0);
        Ok(Invoked {
            error: failed.then(|| crate::secrets::redact(&text(result, "ErrMsg"))),
            returned: text(result, "RetMsg"),
        })
    }

    /// Every trigger of the function (`ListTriggers`, page by page), as an
    /// entry point: bound to an alias (`$DEFAULT` included), a version, or
    /// `$LATEST`.
    pub async fn triggers(&self, function: &str) -> Result<Vec<EntryPoint>> {
        const PAGE: usize = 100;
        let mut all = Vec::new();
        loop {
            let answer = self
                .call(
                    "ListTriggers",
                    json!({"FunctionName": function, "Offset": all.len(), "Limit": PAGE}),
                )
                .await
                .map_err(|e| e.failed(&format!("list the triggers of {function}")))?;
            let page = answer["Triggers"].as_array().cloned().unwrap_or_default();
            all.extend(page.iter().map(|t| {
                let qualifier = text(t, "Qualifier");
                let via = match qualifier.as_str() {
                    "" | "$LATEST" => Via::Latest,
                    q if q.bytes().all(|b| b.is_ascii_digit()) => Via::Version(qualifier.clone()),
                    _ => Via::Alias(qualifier.clone()),
                };
                EntryPoint {
                    kind: Kind::Trigger,
                    what: format!("{} {}", text(t, "Type"), text(t, "TriggerName")),
                    via,
                }
            }));
            if page.is_empty() || all.len() as u64 >= answer["TotalCount"].as_u64().unwrap_or(0) {
                return Ok(all);
            }
        }
    }

    /// `DeleteFunction` of one published version (`Qualifier`).
    pub async fn delete_version(&self, function: &str, version: &str) -> Result<bool> {
        match self
            .call(
                "DeleteFunction",
                json!({"FunctionName": function, "Qualifier": version}),
            )
            .await
        {
            Ok(_) => Ok(true),
            // Someone else deleted it since the list: nothing left to do.
            Err(e) if e.code == "ResourceNotFound.FunctionVersion" => Ok(false),
            Err(e) => Err(e.failed(&format!("delete version {version} of {function}"))),
        }
    }
}

fn text(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn function_state(answer: &Value) -> FunctionState {
    let number = |key: &str| answer.get(key).and_then(Value::as_i64).map(|n| n as i32);
    let environment = Variables(
        answer["Environment"]["Variables"]
            .as_array()
            .map(|vars| vars.iter().map(|v| (text(v, "Key"), text(v, "Value"))).collect())
            .unwrap_or_default(),
    );
    for value in environment.0.values() {
        crate::secrets::hold(value);
    }
    FunctionState {
        version: Some(text(answer, "Qualifier"))
            .filter(|q| !q.is_empty())
            .unwrap_or_else(|| text(answer, "FunctionVersion")),
        status: text(answer, "Status"),
        code_size: answer["CodeSize"].as_u64().unwrap_or(0),
        description: text(answer, "Description"),
        mod_time: text(answer, "ModTime"),
        add_time: text(answer, "AddTime"),
        runtime: text(answer, "Runtime"),
        handler: text(answer, "Handler"),
        memory_size: number("MemorySize"),
        timeout: number("Timeout"),
        environment,
    }
}

/// An alias from `GetAlias` or an entry of `ListAliases`. A rule this tool
/// cannot read (a key outside `invoke.headers.`, another method) is kept
/// as an exact match on its raw key and expression, so that it still shows
/// and still compares unequal to anything this tool writes.
fn alias_now(answer: &Value) -> AliasNow {
    let routing = &answer["RoutingConfig"];
    let weight = routing["AdditionalVersionWeights"]
        .as_array()
        .and_then(|w| w.first())
        .map(|w| {
            (
                text(w, "Version"),
                Split::Weight(w["Weight"].as_f64().unwrap_or(0.0)),
            )
        });
    let rule = routing["AddtionVersionMatchs"]
        .as_array()
        .and_then(|m| m.first())
        .map(|m| {
            let key = text(m, "Key");
            let expression = text(m, "Expression");
            let header = key.strip_prefix("invoke.headers.").unwrap_or(&key).to_string();
            let range = expression
                .strip_prefix('[')
                .and_then(|e| e.strip_suffix(']'))
                .and_then(|e| e.split_once(','))
                .and_then(|(l, h)| Some((l.trim().parse().ok()?, h.trim().parse().ok()?)));
            let route = match (text(m, "Method").as_str(), range) {
                ("range", Some((low, high))) if key != header => Split::Header(HeaderRule {
                    header,
                    matcher: HeaderMatch::Range(low, high),
                }),
                ("exact", _) if key != header => Split::Header(HeaderRule {
                    header,
                    matcher: HeaderMatch::Exact(expression),
                }),
                (method, _) => Split::Foreign(format!("{key} {method} {expression}")),
            };
            (text(m, "Version"), route)
        });
    AliasNow {
        primary: text(answer, "FunctionVersion"),
        canary: rule.or(weight),
        revision_id: None,
        description: text(answer, "Description"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alias_reads_its_weight_or_its_rule() {
        let weighted = alias_now(&json!({
            "FunctionVersion": "3", "Description": "d",
            "RoutingConfig": {"AdditionalVersionWeights": [{"Version": "4", "Weight": 0.1}], "AddtionVersionMatchs": []}
        }));
        assert_eq!(weighted.canary, Some(("4".into(), Split::Weight(0.1))));
        let ruled = alias_now(&json!({
            "FunctionVersion": "3",
            "RoutingConfig": {"AdditionalVersionWeights": [], "AddtionVersionMatchs": [
                {"Version": "4", "Key": "invoke.headers.x-bucket", "Method": "range", "Expression": "[0,9]"}
            ]}
        }));
        let Some((_, Split::Header(rule))) = ruled.canary else {
            panic!("{ruled:?}")
        };
        assert_eq!(rule.to_string(), "header x-bucket in 0-9");
        let foreign = alias_now(&json!({
            "FunctionVersion": "3",
            "RoutingConfig": {"AddtionVersionMatchs": [
                {"Version": "4", "Key": "invoke.query.user", "Method": "range", "Expression": "(0,9)"}
            ]}
        }));
        assert_eq!(
            foreign.canary.map(|(_, split)| split),
            Some(Split::Foreign("invoke.query.user range (0,9)".into()))
        );
        let alone = alias_now(&json!({"FunctionVersion": "3"}));
        assert_eq!(alone.canary, None);
    }
}
