//! What invokes a function, read for `core::entry`: event source mappings,
//! function URLs and resource-policy statements. Reads only. A read the
//! caller may not make is not a pass: it comes back as a warning naming the
//! permission that would let the check run.

use aws_sdk_lambda::operation::get_function_url_config::GetFunctionUrlConfigOutput;
use serde_json::Value;

use crate::aws::Lambda;
use crate::aws::error::{AwsError, Kind, classify};
use crate::core::entry::{self, EntryPoint, Via};
use crate::core::url::{Cors, UrlConfig};
use crate::error::Result;

pub use crate::core::entry::EntryPoints;

impl Lambda {
    /// Every entry point of the function (`function_arn`, unqualified) that
    /// reaches it unqualified, through a version, or through `alias`; and
    /// those through other aliases that its mappings and policy name.
    pub async fn entry_points(&self, function: &str, function_arn: &str, alias: &str) -> Result<EntryPoints> {
        if let Some(kept) = self.kept_entry_points(function, alias) {
            return Ok(kept);
        }
        let mut points = EntryPoints::default();
        match self.mappings_of(function_arn).await {
            Ok(found) => points.found.extend(found),
            Err(why) => points.unreadable.push(why),
        }
        // The alias's URL first: one URL read twice is one entry point (the
        // emulator answers the alias's URL to an unqualified read as well).
        for qualifier in [Some(alias), None] {
            match self.url_of(function, function_arn, qualifier).await {
                Ok(Some(found))
                    if !points
                        .found
                        .iter()
                        .any(|p| p.kind == found.kind && p.what == found.what) =>
                {
                    points.found.push(found)
                }
                Ok(_) => {}
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
        function_arn: &str,
        qualifier: Option<&str>,
    ) -> std::result::Result<Option<EntryPoint>, String> {
        let read = self
            .read_url(function, qualifier)
            .await
            .map_err(|e| unreadable("the function URL", "lambda:GetFunctionUrlConfig", e))?;
        // The alias's URL goes through it; an unqualified read is judged by
        // the ARN the URL names.
        Ok(read.map(|config| EntryPoint {
            kind: entry::Kind::Url,
            what: config.function_url().to_string(),
            via: match qualifier {
                Some(q) => Via::Alias(q.to_string()),
                None => entry::via_of(function_arn, config.function_arn()).unwrap_or(Via::Latest),
            },
        }))
    }

    /// `GetFunctionUrlConfig` of the function or of `qualifier`; `None`
    /// when there is no URL.
    async fn read_url(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> std::result::Result<Option<GetFunctionUrlConfigOutput>, AwsError> {
        self.pace().await;
        self.log.detail(&format!(
            "GetFunctionUrlConfig {}",
            qualified(function, qualifier)
        ));
        let read = self
            .client
            .get_function_url_config()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await;
        match read {
            Ok(config) => Ok(Some(config)),
            Err(e) => match classify(&e) {
                e if e.kind == Kind::NotFound => Ok(None),
                e => Err(e),
            },
        }
    }

    /// `GetPolicy` of the function or of `qualifier`: its statements (none
    /// when there is no policy).
    async fn read_policy(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> std::result::Result<Vec<Value>, AwsError> {
        self.pace_policy().await;
        self.log
            .detail(&format!("GetPolicy {}", qualified(function, qualifier)));
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
                    e => Err(e),
                };
            }
        };
        let policy: Value = serde_json::from_str(&policy).unwrap_or_default();
        Ok(match &policy["Statement"] {
            Value::Array(all) => all.clone(),
            one @ Value::Object(_) => vec![one.clone()],
            _ => Vec::new(),
        })
    }

    /// The statements of the function's resource policy (of `qualifier`'s
    /// when given), each judged by the ARN its `Resource` names.
    async fn permissions_of(
        &self,
        function: &str,
        function_arn: &str,
        qualifier: Option<&str>,
    ) -> std::result::Result<Vec<EntryPoint>, String> {
        let statements = self
            .read_policy(function, qualifier)
            .await
            .map_err(|e| unreadable("the resource policy", "lambda:GetPolicy", e))?;
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

/// `function` or `function:qualifier`, for narration.
fn qualified(function: &str, qualifier: Option<&str>) -> String {
    match qualifier {
        Some(q) => format!("{function}:{q}"),
        None => function.to_string(),
    }
}

/// "could not read <what> (needs <permission>): <AWS error>".
fn unreadable(what: &str, permission: &str, err: AwsError) -> String {
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

/// Statement ids of the public permissions a URL with `AuthType` `NONE`
/// needs on the alias: invoking the URL, and the function through it.
const PUBLIC_URL_STATEMENTS: [&str; 2] = ["lambda-rollout-url-public", "lambda-rollout-url-invoke"];

impl Lambda {
    /// The function URL on `alias`, if it has one: its address and configuration.
    pub async fn alias_url(&self, function: &str, alias: &str) -> Result<Option<(String, UrlConfig)>> {
        let read = self
            .read_url(function, Some(alias))
            .await
            .map_err(|e| e.reading(&format!("the function URL of {function}:{alias}")))?;
        Ok(read.map(|found| {
            (
                found.function_url().to_string(),
                UrlConfig {
                    auth_type: found.auth_type().as_str().to_string(),
                    cors: found.cors().map(|c| Cors {
                        allow_credentials: c.allow_credentials(),
                        allow_headers: c.allow_headers.clone(),
                        allow_methods: c.allow_methods.clone(),
                        allow_origins: c.allow_origins.clone(),
                        expose_headers: c.expose_headers.clone(),
                        max_age: c.max_age(),
                    }),
                    invoke_mode: found.invoke_mode().map(|m| m.as_str().to_string()),
                },
            )
        }))
    }

    /// Create the URL on `alias` (or update it, `exists`) as `config` says.
    /// Returns its address.
    pub async fn put_url(
        &self,
        function: &str,
        alias: &str,
        config: &UrlConfig,
        exists: bool,
    ) -> Result<String> {
        use aws_sdk_lambda::types::{FunctionUrlAuthType, InvokeMode};
        self.pace().await;
        let cors = config.cors.as_ref().map(|c| {
            aws_sdk_lambda::types::Cors::builder()
                .set_allow_credentials(c.allow_credentials)
                .set_allow_headers(c.allow_headers.clone())
                .set_allow_methods(c.allow_methods.clone())
                .set_allow_origins(c.allow_origins.clone())
                .set_expose_headers(c.expose_headers.clone())
                .set_max_age(c.max_age)
                .build()
        });
        let auth = FunctionUrlAuthType::from(config.auth_type.as_str());
        let mode = config.invoke_mode.as_deref().map(InvokeMode::from);
        let what = format!(
            "{} the function URL of {function}:{alias}",
            if exists { "update" } else { "create" }
        );
        self.log.detail(&format!(
            "{} {function}:{alias} AuthType={}",
            if exists {
                "UpdateFunctionUrlConfig"
            } else {
                "CreateFunctionUrlConfig"
            },
            config.auth_type
        ));
        let url = if exists {
            self.client
                .update_function_url_config()
                .function_name(function)
                .qualifier(alias)
                .auth_type(auth)
                .set_cors(cors)
                .set_invoke_mode(mode)
                .send()
                .await
                .map_err(|e| classify(&e).failed(&what))?
                .function_url()
                .to_string()
        } else {
            self.client
                .create_function_url_config()
                .function_name(function)
                .qualifier(alias)
                .auth_type(auth)
                .set_cors(cors)
                .set_invoke_mode(mode)
                .send()
                .await
                .map_err(|e| classify(&e).failed(&what))?
                .function_url()
                .to_string()
        };
        Ok(url)
    }

    /// The statement ids of the alias's resource policy.
    async fn alias_statement_ids(&self, function: &str, alias: &str) -> Result<Vec<String>> {
        Ok(self
            .read_policy(function, Some(alias))
            .await
            .map_err(|e| e.reading(&format!("the resource policy of {function}:{alias}")))?
            .iter()
            .filter_map(|s| s["Sid"].as_str().map(str::to_string))
            .collect())
    }

    /// The public permissions a URL with `AuthType` `NONE` needs on the
    /// alias, each added once (by statement id). Returns those added.
    pub async fn ensure_public_url_permissions(
        &self,
        function: &str,
        alias: &str,
    ) -> Result<Vec<&'static str>> {
        use aws_sdk_lambda::types::FunctionUrlAuthType;
        let present = self.alias_statement_ids(function, alias).await?;
        let mut added = Vec::new();
        for sid in PUBLIC_URL_STATEMENTS {
            if present.iter().any(|p| p == sid) {
                continue;
            }
            self.pace().await;
            self.log
                .detail(&format!("AddPermission {function}:{alias} {sid}"));
            let request = self
                .client
                .add_permission()
                .function_name(function)
                .qualifier(alias)
                .statement_id(sid)
                .principal("*");
            let request = if sid == PUBLIC_URL_STATEMENTS[0] {
                request
                    .action("lambda:InvokeFunctionUrl")
                    .function_url_auth_type(FunctionUrlAuthType::None)
            } else {
                request
                    .action("lambda:InvokeFunction")
                    .invoked_via_function_url(true)
            };
            match request.send().await {
                Ok(_) => added.push(sid),
                // Added meanwhile (another run): it is there, once.
                Err(e) if classify(&e).kind == Kind::Conflict => {}
                Err(e) => {
                    return Err(classify(&e)
                        .failed(&format!("add the public permission {sid} to {function}:{alias}")));
                }
            }
        }
        Ok(added)
    }

    /// The URL is no longer public (`AuthType` `AWS_IAM`): remove the public
    /// permissions this tool added for it (by their statement ids), and
    /// never a statement someone else added. Returns those removed.
    pub async fn remove_public_url_permissions(
        &self,
        function: &str,
        alias: &str,
    ) -> Result<Vec<&'static str>> {
        let present = self.alias_statement_ids(function, alias).await?;
        let mut removed = Vec::new();
        for sid in PUBLIC_URL_STATEMENTS {
            if !present.iter().any(|p| p == sid) {
                continue;
            }
            self.pace().await;
            self.log
                .detail(&format!("RemovePermission {function}:{alias} {sid}"));
            match self
                .client
                .remove_permission()
                .function_name(function)
                .qualifier(alias)
                .statement_id(sid)
                .send()
                .await
            {
                Ok(_) => removed.push(sid),
                // Removed meanwhile (another run): it is gone.
                Err(e) if classify(&e).kind == Kind::NotFound => {}
                Err(e) => {
                    return Err(classify(&e).failed(&format!(
                        "remove the public permission {sid} from {function}:{alias}"
                    )));
                }
            }
        }
        Ok(removed)
    }
}
