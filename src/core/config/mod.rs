//! A function's configuration as a release carries it: the keys a
//! `--function-config` file names (Lambda's own names), or everything a
//! version reports. Comparing the two is how `deploy` tells a configuration
//! change from a file that restates what is deployed: values are normalised
//! the way Lambda reports them (defaults filled in, unordered lists sorted).
//!
//! Environment values are secrets: [`Variables`] never prints them, and every
//! difference names keys only.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

mod variables;
mod words;
pub use variables::*;
use words::*;

/// Lambda's writable configuration keys; `None` is a key the file does not
/// name (left as it is). A version's observed configuration has every key
/// Lambda reported.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct FunctionConfig {
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub role: Option<String>,
    pub memory_size: Option<i32>,
    pub timeout: Option<i32>,
    pub environment: Option<Environment>,
    pub layers: Option<Vec<Layer>>,
    pub ephemeral_storage: Option<EphemeralStorage>,
    pub tracing_config: Option<TracingConfig>,
    pub vpc_config: Option<VpcConfig>,
    pub dead_letter_config: Option<DeadLetterConfig>,
    #[serde(rename = "KMSKeyArn")]
    pub kms_key_arn: Option<String>,
    pub snap_start: Option<SnapStart>,
    pub logging_config: Option<LoggingConfig>,
    pub image_config: Option<ImageConfig>,
    pub file_system_configs: Option<Vec<FileSystemConfig>>,
    /// `["x86_64"]` or `["arm64"]`: sent with the code (`UpdateFunctionCode`),
    /// not with the rest of the configuration.
    pub architectures: Option<Vec<String>>,
    /// The function's tags (not a version's): made exactly these after a
    /// deploy that succeeded; `None` leaves them alone. Not in [`KEYS`]: they
    /// are no part of what a version holds.
    pub tags: Option<BTreeMap<String, String>>,
}

/// `Environment`: `Variables` is the whole set. `Error` is what
/// `get-function-configuration` reports; accepted and ignored.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Environment {
    #[serde(default)]
    pub variables: Variables,
    #[serde(default)]
    pub error: Option<serde_json::Value>,
    /// Variables whose values live in Parameter Store (`{"FromParameter":
    /// NAME}` in the file): variable → parameter. Read just before the
    /// deploy plans, and then added to `variables`.
    #[serde(default, rename = "FromParameters")]
    pub parameters: BTreeMap<String, String>,
}

/// A layer: its ARN as a string (what `update-function-configuration`
/// takes) or `{Arn, CodeSize, …}` (what `get-function-configuration` prints).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Layer {
    Arn(String),
    Reported {
        #[serde(rename = "Arn")]
        arn: String,
        #[serde(flatten)]
        _read_only: BTreeMap<String, serde_json::Value>,
    },
}

impl Layer {
    pub fn arn(&self) -> &str {
        match self {
            Layer::Arn(arn) | Layer::Reported { arn, .. } => arn,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct EphemeralStorage {
    pub size: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TracingConfig {
    pub mode: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct VpcConfig {
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    #[serde(default)]
    pub security_group_ids: Vec<String>,
    pub ipv6_allowed_for_dual_stack: Option<bool>,
    /// Read-only (`get-function-configuration` prints it): ignored.
    #[serde(default)]
    pub vpc_id: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DeadLetterConfig {
    #[serde(default)]
    pub target_arn: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct SnapStart {
    pub apply_on: String,
    /// Read-only: ignored.
    #[serde(default)]
    pub optimization_status: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct LoggingConfig {
    pub log_format: Option<String>,
    pub application_log_level: Option<String>,
    pub system_log_level: Option<String>,
    pub log_group: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ImageConfig {
    pub entry_point: Option<Vec<String>>,
    pub command: Option<Vec<String>>,
    pub working_directory: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct FileSystemConfig {
    pub arn: String,
    pub local_mount_path: String,
}

/// The keys a configuration file may set, as Lambda names them.
pub const KEYS: [&str; 17] = [
    "Runtime",
    "Handler",
    "Role",
    "MemorySize",
    "Timeout",
    "Environment",
    "Layers",
    "EphemeralStorage",
    "TracingConfig",
    "VpcConfig",
    "DeadLetterConfig",
    "KMSKeyArn",
    "SnapStart",
    "LoggingConfig",
    "ImageConfig",
    "FileSystemConfigs",
    "Architectures",
];

/// The instruction set architectures Lambda runs; a function has one.
pub const ARCHITECTURES: [&str; 2] = ["x86_64", "arm64"];

/// Lambda's architecture when a version reports none.
const DEFAULT_ARCHITECTURE: &str = "x86_64";

/// One key whose wanted value is not what a version has, in words that
/// never hold an environment value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub key: &'static str,
    /// "128 → 256", or for `Environment`, "added A; removed B; changed C".
    pub change: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.key, self.change)
    }
}

/// "MemorySize (128 → 256), Environment.Variables (added B)".
pub fn differences_text(differences: &[Difference]) -> String {
    differences
        .iter()
        .map(Difference::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Lambda's defaults, for a key a version does not report.
const DEFAULT_EPHEMERAL_MB: i32 = 512;
const DEFAULT_TRACING: &str = "PassThrough";
const DEFAULT_SNAP_START: &str = "None";
const DEFAULT_LOG_FORMAT: &str = "Text";

impl FunctionConfig {
    /// Each key this configuration names whose value differs from what
    /// `actual` (a version's whole configuration) has, after normalising.
    pub fn differences(&self, actual: &FunctionConfig) -> Vec<Difference> {
        let mut found = Vec::new();
        let mut compare = |key: &'static str, wanted: Option<String>, actual: String| {
            if let Some(wanted) = wanted.filter(|w| *w != actual) {
                found.push(Difference {
                    key,
                    change: format!("{} → {}", shown(&actual), shown(&wanted)),
                });
            }
        };
        compare("Runtime", self.runtime.clone(), text(&actual.runtime));
        compare("Handler", self.handler.clone(), text(&actual.handler));
        compare("Role", self.role.clone(), text(&actual.role));
        compare(
            "MemorySize",
            number(self.memory_size),
            text(&number(actual.memory_size)),
        );
        compare("Timeout", number(self.timeout), text(&number(actual.timeout)));
        compare(
            "Layers",
            self.layers.as_ref().map(|l| layer_list(l)),
            layer_list(actual.layers.as_deref().unwrap_or_default()),
        );
        compare(
            "EphemeralStorage",
            self.ephemeral_storage.as_ref().map(|e| format!("{} MB", e.size)),
            format!(
                "{} MB",
                actual
                    .ephemeral_storage
                    .as_ref()
                    .map_or(DEFAULT_EPHEMERAL_MB, |e| e.size)
            ),
        );
        compare(
            "TracingConfig",
            self.tracing_config.as_ref().map(|t| t.mode.clone()),
            actual
                .tracing_config
                .as_ref()
                .map_or(DEFAULT_TRACING.to_string(), |t| t.mode.clone()),
        );
        compare(
            "VpcConfig",
            self.vpc_config
                .as_ref()
                .map(|v| vpc_text(v, v.ipv6_allowed_for_dual_stack.is_some())),
            actual.vpc_config.as_ref().map_or_else(
                || vpc_text(&VpcConfig::default(), self.named_ipv6()),
                |v| vpc_text(v, self.named_ipv6()),
            ),
        );
        compare(
            "DeadLetterConfig",
            self.dead_letter_config.as_ref().map(|d| d.target_arn.clone()),
            actual
                .dead_letter_config
                .as_ref()
                .map(|d| d.target_arn.clone())
                .unwrap_or_default(),
        );
        compare("KMSKeyArn", self.kms_key_arn.clone(), text(&actual.kms_key_arn));
        compare(
            "SnapStart",
            self.snap_start.as_ref().map(|s| s.apply_on.clone()),
            actual
                .snap_start
                .as_ref()
                .map_or(DEFAULT_SNAP_START.to_string(), |s| s.apply_on.clone()),
        );
        if let Some(wanted) = &self.logging_config {
            let had = actual.logging_config.clone().unwrap_or_default();
            let log_format = had.log_format.or(Some(DEFAULT_LOG_FORMAT.to_string()));
            let had = LoggingConfig { log_format, ..had };
            compare(
                "LoggingConfig",
                Some(logging_text(wanted, wanted)),
                logging_text(&had, wanted),
            );
        }
        if let Some(wanted) = &self.image_config {
            let had = actual.image_config.clone().unwrap_or_default();
            compare(
                "ImageConfig",
                Some(image_text(wanted, wanted)),
                image_text(&had, wanted),
            );
        }
        compare(
            "FileSystemConfigs",
            self.file_system_configs.as_ref().map(|f| mounts_text(f)),
            mounts_text(actual.file_system_configs.as_deref().unwrap_or_default()),
        );
        compare(
            "Architectures",
            self.architectures.as_ref().map(|a| a.join(", ")),
            actual.architecture().to_string(),
        );
        if let Some(wanted) = &self.environment {
            let had = actual
                .environment
                .as_ref()
                .map(|e| e.variables.clone())
                .unwrap_or_default();
            if let Some(change) = variables_change(&had, &wanted.variables) {
                found.push(Difference {
                    key: "Environment.Variables",
                    change,
                });
            }
        }
        found
    }

    fn named_ipv6(&self) -> bool {
        self.vpc_config
            .as_ref()
            .is_some_and(|v| v.ipv6_allowed_for_dual_stack.is_some())
    }

    /// How `self` (a version's whole configuration) differs from `other` in
    /// every key, as [`FunctionConfig::differences`] would say it for a file
    /// naming all of `other`'s keys; `except` keys are left out.
    pub fn drift(&self, other: &FunctionConfig, except: &FunctionConfig) -> Vec<Difference> {
        let named = except.named_keys();
        other
            .differences(self)
            .into_iter()
            .filter(|d| !named.contains(&d.key))
            .collect()
    }

    /// The keys this configuration names (Environment as `Environment.Variables`).
    pub fn named_keys(&self) -> Vec<&'static str> {
        let named = [
            self.runtime.is_some(),
            self.handler.is_some(),
            self.role.is_some(),
            self.memory_size.is_some(),
            self.timeout.is_some(),
            self.environment.is_some(),
            self.layers.is_some(),
            self.ephemeral_storage.is_some(),
            self.tracing_config.is_some(),
            self.vpc_config.is_some(),
            self.dead_letter_config.is_some(),
            self.kms_key_arn.is_some(),
            self.snap_start.is_some(),
            self.logging_config.is_some(),
            self.image_config.is_some(),
            self.file_system_configs.is_some(),
            self.architectures.is_some(),
        ];
        KEYS.iter()
            .zip(named)
            .filter(|(_, named)| *named)
            .map(|(key, _)| {
                if *key == "Environment" {
                    "Environment.Variables"
                } else {
                    key
                }
            })
            .collect()
    }

    /// This configuration with `wanted`'s named keys written over it: what
    /// `$LATEST` holds once the file is applied.
    pub fn with(&self, wanted: &FunctionConfig) -> FunctionConfig {
        macro_rules! over {
            ($($field:ident),*) => {
                FunctionConfig {
                    $($field: wanted.$field.clone().or_else(|| self.$field.clone()),)*
                }
            };
        }
        over!(
            runtime,
            handler,
            role,
            memory_size,
            timeout,
            environment,
            layers,
            ephemeral_storage,
            tracing_config,
            vpc_config,
            dead_letter_config,
            kms_key_arn,
            snap_start,
            logging_config,
            image_config,
            file_system_configs,
            architectures,
            tags
        )
    }

    /// The one architecture this configuration (a version's) runs on.
    pub fn architecture(&self) -> &str {
        self.architectures
            .as_deref()
            .and_then(<[String]>::first)
            .map_or(DEFAULT_ARCHITECTURE, String::as_str)
    }

    /// `Architectures` as Lambda accepts it: exactly one of
    /// [`ARCHITECTURES`].
    pub fn check_architectures(&self) -> Result<(), String> {
        match self.architectures.as_deref() {
            None => Ok(()),
            Some([one]) if ARCHITECTURES.contains(&one.as_str()) => Ok(()),
            Some(other) => Err(format!(
                "Architectures: {other:?} is not accepted: expected [\"x86_64\"] or [\"arm64\"] (a function runs on exactly one)"
            )),
        }
    }
}

/// The keys creating a function needs that `config` does not name: `Role`,
/// and for a zip also `Runtime` and `Handler`.
pub fn missing_for_create(config: &FunctionConfig, image: bool) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if config.role.is_none() {
        missing.push("Role");
    }
    if !image {
        if config.runtime.is_none() {
            missing.push("Runtime");
        }
        if config.handler.is_none() {
            missing.push("Handler");
        }
    }
    missing
}

/// The keys `config` names that a function of this package type cannot
/// have: an image brings its runtime, handler and layers; a zip has no
/// image configuration.
pub fn wrong_for_package(config: &FunctionConfig, image: bool) -> Vec<&'static str> {
    let named = config.named_keys();
    let wrong: &[&str] = if image {
        &["Runtime", "Handler", "Layers"]
    } else {
        &["ImageConfig"]
    };
    named.into_iter().filter(|key| wrong.contains(key)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn architectures_are_one_of_the_two_lambda_runs() {
        let with = |names: &[&str]| FunctionConfig {
            architectures: Some(names.iter().map(|n| n.to_string()).collect()),
            ..FunctionConfig::default()
        };
        assert!(with(&["arm64"]).check_architectures().is_ok());
        assert!(with(&["x86_64"]).check_architectures().is_ok());
        for wrong in [&["x86-64"][..], &["arm64", "x86_64"], &[]] {
            let why = with(wrong).check_architectures().unwrap_err();
            assert!(why.contains(r#"expected ["x86_64"] or ["arm64"]"#), "{why}");
        }
        assert_eq!(FunctionConfig::default().architecture(), "x86_64");
    }

    fn vars(pairs: &[(&str, &str)]) -> Variables {
        Variables(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn deployed() -> FunctionConfig {
        FunctionConfig {
            runtime: Some("python3.12".into()),
            handler: Some("app.handler".into()),
            role: Some("arn:aws:iam::123456789012:role/app".into()),
            memory_size: Some(128),
            timeout: Some(3),
            environment: Some(Environment {
                variables: vars(&[("STAGE", "prod"), ("TOKEN", "s3cr3t-value")]),
                error: None,
                parameters: Default::default(),
            }),
            vpc_config: Some(VpcConfig {
                subnet_ids: vec!["subnet-b".into(), "subnet-a".into()],
                security_group_ids: vec!["sg-1".into()],
                ipv6_allowed_for_dual_stack: Some(false),
                vpc_id: None,
            }),
            ..FunctionConfig::default()
        }
    }

    #[test]
    fn a_file_restating_what_is_deployed_is_no_change() {
        let restated = FunctionConfig {
            memory_size: Some(128),
            // Lambda's defaults for keys the version does not report.
            ephemeral_storage: Some(EphemeralStorage { size: 512 }),
            tracing_config: Some(TracingConfig {
                mode: "PassThrough".into(),
            }),
            snap_start: Some(SnapStart {
                apply_on: "None".into(),
                optimization_status: None,
            }),
            logging_config: Some(LoggingConfig {
                log_format: Some("Text".into()),
                ..LoggingConfig::default()
            }),
            // Subnets in another order, no IPv6 flag named.
            vpc_config: Some(VpcConfig {
                subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
                security_group_ids: vec!["sg-1".into()],
                ipv6_allowed_for_dual_stack: None,
                vpc_id: Some(serde_json::json!("vpc-1")),
            }),
            environment: deployed().environment,
            layers: Some(vec![]),
            ..FunctionConfig::default()
        };
        assert_eq!(restated.differences(&deployed()), vec![]);
    }

    #[test]
    fn differences_name_keys_and_never_an_environment_value() {
        let wanted = FunctionConfig {
            memory_size: Some(256),
            environment: Some(Environment {
                variables: vars(&[("STAGE", "staging"), ("NEW", "other-secret")]),
                error: None,
                parameters: Default::default(),
            }),
            ..FunctionConfig::default()
        };
        let found = wanted.differences(&deployed());
        assert_eq!(
            differences_text(&found),
            "MemorySize (128 → 256), Environment.Variables (added NEW; removed TOKEN; changed STAGE)"
        );
        let everything = format!("{found:?} {wanted:?}");
        for secret in ["staging", "other-secret", "s3cr3t-value", "prod"] {
            assert!(!everything.contains(secret), "{secret} shown in {everything}");
        }
    }

    #[test]
    fn an_empty_environment_removes_every_variable() {
        let wanted = FunctionConfig {
            environment: Some(Environment::default()),
            ..FunctionConfig::default()
        };
        assert_eq!(
            differences_text(&wanted.differences(&deployed())),
            "Environment.Variables (removed STAGE, TOKEN)"
        );
        assert_eq!(wanted.differences(&FunctionConfig::default()), vec![]);
    }

    #[test]
    fn layer_order_matters_and_unnamed_keys_are_not_compared() {
        let one = |arns: &[&str]| Some(arns.iter().map(|a| Layer::Arn(a.to_string())).collect());
        let actual = FunctionConfig {
            layers: one(&["arn:l:1", "arn:l:2"]),
            ..deployed()
        };
        let swapped = FunctionConfig {
            layers: one(&["arn:l:2", "arn:l:1"]),
            ..FunctionConfig::default()
        };
        assert_eq!(swapped.differences(&actual)[0].key, "Layers");
        assert_eq!(FunctionConfig::default().differences(&actual), vec![]);
    }

    #[test]
    fn drift_lists_keys_outside_the_file() {
        let latest = FunctionConfig {
            memory_size: Some(512),
            timeout: Some(9),
            ..deployed()
        };
        let file = FunctionConfig {
            timeout: Some(9),
            ..FunctionConfig::default()
        };
        assert_eq!(
            differences_text(&deployed().drift(&latest, &file)),
            "MemorySize (128 → 512)"
        );
    }

    #[test]
    fn an_image_takes_no_runtime_and_a_zip_no_image_configuration() {
        assert_eq!(wrong_for_package(&deployed(), true), ["Runtime", "Handler"]);
        assert!(wrong_for_package(&deployed(), false).is_empty());
        let image = FunctionConfig {
            image_config: Some(ImageConfig::default()),
            ..FunctionConfig::default()
        };
        assert_eq!(wrong_for_package(&image, false), ["ImageConfig"]);
        assert!(wrong_for_package(&image, true).is_empty());
    }

    #[test]
    fn creating_needs_role_and_for_a_zip_runtime_and_handler() {
        assert_eq!(
            missing_for_create(&FunctionConfig::default(), false),
            ["Role", "Runtime", "Handler"]
        );
        assert_eq!(missing_for_create(&FunctionConfig::default(), true), ["Role"]);
        assert!(missing_for_create(&deployed(), false).is_empty());
    }
}
