//! `init`: a release file from a live function's configuration. Only the
//! keys `deploy` accepts, in their documented order, Lambda's defaults left
//! out, and never a variable's value: each becomes
//! `{"FromEnvironment": NAME}`, to be set as a CI secret. Deploying the file
//! against the same function changes nothing.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::core::config::{FunctionConfig, LoggingConfig};

/// What a live function holds, as `init` needs it.
pub struct Live<'a> {
    pub function: &'a str,
    pub config: &'a FunctionConfig,
    /// `PackageType` is `Image`: Runtime and Handler come with the image.
    pub image: bool,
    pub tags: &'a BTreeMap<String, String>,
}

/// The release file's content, and the names of the variables whose values
/// it leaves to the environment (sorted).
pub struct ReleaseFile {
    pub content: Value,
    pub secrets: Vec<String>,
}

/// The file for `live`: each key in the order the release file documents
/// them, written only when it differs from Lambda's default.
pub fn release_file(live: &Live) -> ReleaseFile {
    let c = live.config;
    let mut file = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            file.insert(key.to_string(), value);
        }
    };
    if !live.image {
        put("Runtime", c.runtime.clone().map(Value::from));
        put("Handler", c.handler.clone().map(Value::from));
    }
    put("Role", c.role.clone().map(Value::from));
    put("MemorySize", c.memory_size.filter(|m| *m != 128).map(Value::from));
    put("Timeout", c.timeout.filter(|t| *t != 3).map(Value::from));
    // Names, and whether the live value is empty (a deploy refuses an
    // empty FromEnvironment value unless the file says it is meant).
    let names: Vec<(String, bool)> = c
        .environment
        .as_ref()
        .map(|e| {
            e.variables
                .0
                .iter()
                .map(|(k, v)| (k.clone(), v.is_empty()))
                .collect()
        })
        .unwrap_or_default();
    put(
        "Environment",
        (!names.is_empty()).then(|| {
            let variables: Map<String, Value> = names
                .iter()
                .map(|(name, empty)| {
                    let from = if *empty {
                        json!({ "FromEnvironment": name, "AllowEmpty": true })
                    } else {
                        json!({ "FromEnvironment": name })
                    };
                    (name.clone(), from)
                })
                .collect();
            json!({ "Variables": variables })
        }),
    );
    if !live.image {
        put(
            "Layers",
            c.layers
                .as_ref()
                .filter(|l| !l.is_empty())
                .map(|l| l.iter().map(|layer| Value::from(layer.arn())).collect()),
        );
    }
    put(
        "EphemeralStorage",
        c.ephemeral_storage
            .as_ref()
            .filter(|e| e.size != 512)
            .map(|e| json!({ "Size": e.size })),
    );
    put(
        "TracingConfig",
        c.tracing_config
            .as_ref()
            .filter(|t| t.mode != "PassThrough")
            .map(|t| json!({ "Mode": t.mode })),
    );
    put(
        "VpcConfig",
        c.vpc_config
            .as_ref()
            .filter(|v| !v.subnet_ids.is_empty() || !v.security_group_ids.is_empty())
            .map(|v| {
                let mut vpc = json!({ "SubnetIds": v.subnet_ids, "SecurityGroupIds": v.security_group_ids });
                if v.ipv6_allowed_for_dual_stack == Some(true) {
                    vpc["Ipv6AllowedForDualStack"] = Value::Bool(true);
                }
                vpc
            }),
    );
    put(
        "DeadLetterConfig",
        c.dead_letter_config
            .as_ref()
            .filter(|d| !d.target_arn.is_empty())
            .map(|d| json!({ "TargetArn": d.target_arn })),
    );
    put(
        "KMSKeyArn",
        c.kms_key_arn.clone().filter(|k| !k.is_empty()).map(Value::from),
    );
    put(
        "SnapStart",
        c.snap_start
            .as_ref()
            .filter(|s| s.apply_on != "None")
            .map(|s| json!({ "ApplyOn": s.apply_on })),
    );
    put(
        "LoggingConfig",
        c.logging_config.as_ref().and_then(|l| logging(l, live.function)),
    );
    if live.image {
        put(
            "ImageConfig",
            c.image_config
                .as_ref()
                .filter(|i| i.entry_point.is_some() || i.command.is_some() || i.working_directory.is_some())
                .map(|i| {
                    let mut image = Map::new();
                    if let Some(entry_point) = &i.entry_point {
                        image.insert("EntryPoint".into(), json!(entry_point));
                    }
                    if let Some(command) = &i.command {
                        image.insert("Command".into(), json!(command));
                    }
                    if let Some(directory) = &i.working_directory {
                        image.insert("WorkingDirectory".into(), json!(directory));
                    }
                    Value::Object(image)
                }),
        );
    }
    put(
        "FileSystemConfigs",
        c.file_system_configs.as_ref().filter(|f| !f.is_empty()).map(|f| {
            f.iter()
                .map(|m| json!({ "Arn": m.arn, "LocalMountPath": m.local_mount_path }))
                .collect()
        }),
    );
    put(
        "Architectures",
        (c.architecture() != "x86_64").then(|| json!([c.architecture()])),
    );
    let tags: Map<String, Value> = live
        .tags
        .iter()
        .filter(|(key, _)| !key.to_ascii_lowercase().starts_with("aws:"))
        .map(|(key, value)| (key.clone(), Value::from(value.as_str())))
        .collect();
    put("Tags", (!tags.is_empty()).then_some(Value::Object(tags)));
    ReleaseFile {
        content: Value::Object(file),
        secrets: names.into_iter().map(|(name, _)| name).collect(),
    }
}

/// `LoggingConfig` unless it is Lambda's default (text logs in
/// `/aws/lambda/FUNCTION`): only the parts that differ from it.
fn logging(l: &LoggingConfig, function: &str) -> Option<Value> {
    let mut logging = Map::new();
    if let Some(format) = l.log_format.as_deref().filter(|f| *f != "Text") {
        logging.insert("LogFormat".into(), Value::from(format));
        for (key, level) in [
            ("ApplicationLogLevel", &l.application_log_level),
            ("SystemLogLevel", &l.system_log_level),
        ] {
            if let Some(level) = level {
                logging.insert(key.into(), Value::from(level.as_str()));
            }
        }
    }
    let default_group = format!("/aws/lambda/{}", crate::core::values::function_name_of(function));
    if let Some(group) = l.log_group.as_deref().filter(|g| *g != default_group) {
        logging.insert("LogGroup".into(), Value::from(group));
    }
    (!logging.is_empty()).then_some(Value::Object(logging))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::{Environment, Layer, TracingConfig, Variables};

    #[test]
    fn only_what_differs_from_lambdas_defaults_and_never_a_value() {
        let config = FunctionConfig {
            runtime: Some("python3.12".into()),
            handler: Some("app.handler".into()),
            role: Some("arn:aws:iam::123456789012:role/orders".into()),
            memory_size: Some(128),
            timeout: Some(15),
            environment: Some(Environment {
                variables: Variables(
                    [("STAGE", "prod"), ("DB_PASSWORD", "hunter2"), ("EMPTY", "")]
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .into(),
                ),
                error: None,
                parameters: Default::default(),
            }),
            layers: Some(vec![Layer::Arn("arn:aws:lambda:us-east-1:1:layer:deps:3".into())]),
            tracing_config: Some(TracingConfig {
                mode: "PassThrough".into(),
            }),
            logging_config: Some(LoggingConfig {
                log_format: Some("Text".into()),
                log_group: Some("/aws/lambda/orders".into()),
                ..LoggingConfig::default()
            }),
            architectures: Some(vec!["arm64".into()]),
            ..FunctionConfig::default()
        };
        let tags = [("team", "orders"), ("aws:cloudformation:stack-name", "app")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into();
        let file = release_file(&Live {
            function: "orders",
            config: &config,
            image: false,
            tags: &tags,
        });
        let text = serde_json::to_string(&file.content).unwrap();
        assert_eq!(
            text,
            r#"{"Runtime":"python3.12","Handler":"app.handler","Role":"arn:aws:iam::123456789012:role/orders","Timeout":15,"Environment":{"Variables":{"DB_PASSWORD":{"FromEnvironment":"DB_PASSWORD"},"EMPTY":{"FromEnvironment":"EMPTY","AllowEmpty":true},"STAGE":{"FromEnvironment":"STAGE"}}},"Layers":["arn:aws:lambda:us-east-1:1:layer:deps:3"],"Architectures":["arm64"],"Tags":{"team":"orders"}}"#
        );
        assert!(!text.contains("hunter2") && !text.contains("prod\""), "{text}");
        assert_eq!(file.secrets, ["DB_PASSWORD", "EMPTY", "STAGE"]);
    }
}
