//! What invokes a function, read for `core::entry`: event source mappings,
//! function URLs and resource-policy statements. Reads only. A read the
//! caller may not make is not a pass: it comes back as a warning naming the
//! permission that would let the check run.

use serde_json::Value;

use crate::aws::Lambda;
use crate::aws::error::{Kind, classify};
use crate::core::entry::{self, EntryPoint, Via};
use crate::error::Result;

/// The entry points read, and what could not be read (one line each).
#[derive(Debug, Default)]
pub struct EntryPoints {
    pub found: Vec<EntryPoint>,
    pub unreadable: Vec<String>,
}

impl Lambda {
    /// Every entry point of the function (`function_arn`, unqualified) that
    /// reaches it unqualified, through a version, or through `alias`; and
    /// those through other aliases that its mappings and policy name.
    pub async fn entry_points(&self, function: &str, function_arn: &str, alias: &str) -> Result<EntryPoints> {
        let mut points = EntryPoints::default();
        match self.mappings_of(function_arn).await {
            Ok(found) => points.found.extend(found),
            Err(why) => points.unreadable.push(why),
        }
        for qualifier in [None, Some(alias)] {
            match self.url_of(function, qualifier).await {
                Ok(found) => points.found.extend(found),
                Err(why) => points.unreadable.push(why),
            }
        }
        for qualifier in [None, Some(alias)] {
            match self.permissions_of(function, function_arn, qualifier).await {
                Ok(found) => {
                    // The emulator answers every statement for either call.
                    for point in found {
                        if !points.found.contains(&point) {
                            points.found.push(point);
                        }
                    }
                }
                Err(why) => points.unreadable.push(why),
            }
        }
        Ok(points)
    }

    /// Mappings whose `FunctionArn` names this function (all mappings are
    /// listed: a listing by function name leaves out those bound to a version).
    async fn mappings_of(&self, function_arn: &str) -> std::result::Result<Vec<EntryPoint>, String> {
        let listed = self
            .all_pages("ListEventSourceMappings", |marker| async move {
                let page = self
                    .client
                    .list_event_source_mappings()
                    .set_marker(marker)
                    .send()
                    .await
                    .map_err(|e| classify(&e))
                    .map_err(|e| {
                        crate::error::Error::failed(unreadable(
                            "the event source mappings",
                            "lambda:ListEventSourceMappings",
                            e,
                        ))
                    })?;
                let items = page
                    .event_source_mappings()
                    .iter()
                    .filter_map(|m| {
                        let via = entry::via_of(function_arn, m.function_arn()?)?;
                        Some(EntryPoint {
                            kind: entry::Kind::Mapping,
                            what: m
                                .event_source_arn()
                                .unwrap_or_else(|| m.uuid().unwrap_or_default())
                                .to_string(),
                            via,
                        })
                    })
                    .collect();
                Ok((items, page.next_marker().map(str::to_string)))
            })
            .await;
        listed.map_err(|e| e.to_string())
    }

    /// The function URL on `$LATEST` (no qualifier) or on `qualifier`.
    async fn url_of(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> std::result::Result<Option<EntryPoint>, String> {
        self.pace().await;
        self.log.detail(&format!(
            "GetFunctionUrlConfig {function}{}",
            qualifier.map(|q| format!(":{q}")).unwrap_or_default()
        ));
        let read = self
            .client
            .get_function_url_config()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await;
        match read {
            Ok(config) => Ok(Some(EntryPoint {
                kind: entry::Kind::Url,
                what: config.function_url().to_string(),
                via: qualifier.map_or(Via::Latest, |q| Via::Alias(q.to_string())),
            })),
            Err(e) => match classify(&e) {
                e if e.kind == Kind::NotFound => Ok(None),
                e => Err(unreadable("the function URL", "lambda:GetFunctionUrlConfig", e)),
            },
        }
    }

    /// The statements of the function's resource policy (of `qualifier`'s
    /// when given), each judged by the ARN its `Resource` names.
    async fn permissions_of(
        &self,
        function: &str,
        function_arn: &str,
        qualifier: Option<&str>,
    ) -> std::result::Result<Vec<EntryPoint>, String> {
        self.pace().await;
        self.log.detail(&format!(
            "GetPolicy {function}{}",
            qualifier.map(|q| format!(":{q}")).unwrap_or_default()
        ));
        let read = self
            .client
            .get_policy()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await;
        let policy = match read {
            Ok(found) => found.policy().unwrap_or_default().to_string(),
            Err(e) => {
                return match classify(&e) {
                    e if e.kind == Kind::NotFound => Ok(Vec::new()),
                    e => Err(unreadable("the resource policy", "lambda:GetPolicy", e)),
                };
            }
        };
        let policy: Value = serde_json::from_str(&policy).unwrap_or_default();
        let statements = match &policy["Statement"] {
            Value::Array(all) => all.clone(),
            one @ Value::Object(_) => vec![one.clone()],
            _ => Vec::new(),
        };
        Ok(statements
            .iter()
            .filter(|s| s["Effect"] != "Deny")
            .flat_map(|s| {
                let what = statement_text(s);
                resources(&s["Resource"])
                    .into_iter()
                    .filter_map(move |resource| entry::via_of(function_arn, &resource))
                    .map(move |via| EntryPoint {
                        kind: entry::Kind::Permission,
                        what: what.clone(),
                        via,
                    })
            })
            .collect())
    }
}

/// "could not read <what> (needs <permission>): <AWS error>".
fn unreadable(what: &str, permission: &str, err: crate::aws::error::AwsError) -> String {
    format!("could not read {what} ({permission} lets the check run): {err}")
}

fn resources(value: &Value) -> Vec<String> {
    match value {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// "s3.amazonaws.com from arn:aws:s3:::uploads (lambda:InvokeFunction)".
fn statement_text(statement: &Value) -> String {
    let principal = match &statement["Principal"] {
        Value::String(any) => any.clone(),
        Value::Object(kinds) => kinds
            .values()
            .flat_map(|v| match v {
                Value::String(one) => vec![one.clone()],
                Value::Array(many) => many
                    .iter()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => "?".to_string(),
    };
    let source = statement["Condition"]
        .as_object()
        .into_iter()
        .flat_map(|conditions| conditions.values())
        .find_map(|condition| {
            condition
                .as_object()?
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case("AWS:SourceArn"))
                .and_then(|(_, v)| v.as_str().map(str::to_string))
        });
    let action = match &statement["Action"] {
        Value::String(one) => one.clone(),
        other => resources(other).join(", "),
    };
    match source {
        Some(source) => format!("{principal} from {source} ({action})"),
        None => format!("{principal} ({action})"),
    }
}
