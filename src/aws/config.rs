//! A function's configuration between the SDK's types and the core's
//! [`FunctionConfig`]: what a version reports, and what a create or update
//! request sends.

use aws_sdk_lambda::types::{
    ApplicationLogLevel, DeadLetterConfig, Environment, EphemeralStorage, FileSystemConfig,
    FunctionConfiguration, ImageConfig, LogFormat, LoggingConfig, PackageType, Runtime, SnapStart,
    SnapStartApplyOn, SystemLogLevel, TracingConfig, TracingMode, VpcConfig,
};

use crate::core::config::{self as core, FunctionConfig, Layer, Variables};

/// Everything a version (or `$LATEST`) reports of its configuration.
pub fn reported(c: &FunctionConfiguration) -> FunctionConfig {
    let owned = |s: Option<&str>| s.map(str::to_string);
    FunctionConfig {
        runtime: owned(c.runtime().map(Runtime::as_str)),
        handler: owned(c.handler()),
        role: owned(c.role()),
        memory_size: c.memory_size(),
        timeout: c.timeout(),
        environment: Some(core::Environment {
            variables: Variables(
                c.environment()
                    .and_then(|e| e.variables())
                    .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
            ),
            error: None,
            parameters: Default::default(),
        }),
        layers: Some(
            c.layers()
                .iter()
                .filter_map(|l| l.arn())
                .map(|arn| Layer::Arn(arn.to_string()))
                .collect(),
        ),
        ephemeral_storage: c
            .ephemeral_storage()
            .map(|e| core::EphemeralStorage { size: e.size() }),
        tracing_config: c
            .tracing_config()
            .and_then(|t| t.mode())
            .map(|mode| core::TracingConfig {
                mode: mode.as_str().to_string(),
            }),
        vpc_config: c.vpc_config().map(|v| core::VpcConfig {
            subnet_ids: v.subnet_ids().to_vec(),
            security_group_ids: v.security_group_ids().to_vec(),
            ipv6_allowed_for_dual_stack: v.ipv6_allowed_for_dual_stack(),
            vpc_id: None,
        }),
        dead_letter_config: c.dead_letter_config().map(|d| core::DeadLetterConfig {
            target_arn: d.target_arn().unwrap_or_default().to_string(),
        }),
        kms_key_arn: owned(c.kms_key_arn()),
        snap_start: c
            .snap_start()
            .and_then(|s| s.apply_on())
            .map(|apply_on| core::SnapStart {
                apply_on: apply_on.as_str().to_string(),
                optimization_status: None,
            }),
        logging_config: c.logging_config().map(|l| core::LoggingConfig {
            log_format: owned(l.log_format().map(LogFormat::as_str)),
            application_log_level: owned(l.application_log_level().map(ApplicationLogLevel::as_str)),
            system_log_level: owned(l.system_log_level().map(SystemLogLevel::as_str)),
            log_group: owned(l.log_group()),
        }),
        image_config: c
            .image_config_response()
            .and_then(|r| r.image_config())
            .map(|i| core::ImageConfig {
                entry_point: i.entry_point.clone(),
                command: i.command.clone(),
                working_directory: i.working_directory.clone(),
            }),
        file_system_configs: Some(
            c.file_system_configs()
                .iter()
                .map(|f| core::FileSystemConfig {
                    arn: f.arn().to_string(),
                    local_mount_path: f.local_mount_path().to_string(),
                })
                .collect(),
        ),
        architectures: Some(
            c.architectures()
                .iter()
                .map(|a| a.as_str().to_string())
                .collect::<Vec<_>>(),
        )
        .filter(|a| !a.is_empty()),
        tags: None,
    }
}

/// `Architectures` as the SDK's request type (create and code update).
pub fn architectures(c: &FunctionConfig) -> Option<Vec<aws_sdk_lambda::types::Architecture>> {
    c.architectures.as_ref().map(|a| {
        a.iter()
            .map(|name| aws_sdk_lambda::types::Architecture::from(name.as_str()))
            .collect()
    })
}

/// `PackageType` is `Image`.
pub fn is_image(c: &FunctionConfiguration) -> bool {
    c.package_type() == Some(&PackageType::Image)
}

/// Set each key `$config` names on a create or update request builder
/// (both have the same setters); keys it does not name are not sent.
macro_rules! with_config {
    ($request:expr, $config:expr) => {{
        use $crate::aws::config::sdk;
        let config: &$crate::core::config::FunctionConfig = $config;
        $request
            .set_runtime(
                config
                    .runtime
                    .as_deref()
                    .map(aws_sdk_lambda::types::Runtime::from),
            )
            .set_handler(config.handler.clone())
            .set_role(config.role.clone())
            .set_memory_size(config.memory_size)
            .set_timeout(config.timeout)
            .set_environment(sdk::environment(config))
            .set_layers(sdk::layers(config))
            .set_ephemeral_storage(sdk::ephemeral_storage(config))
            .set_tracing_config(sdk::tracing(config))
            .set_vpc_config(sdk::vpc(config))
            .set_dead_letter_config(sdk::dead_letter(config))
            .set_kms_key_arn(config.kms_key_arn.clone())
            .set_snap_start(sdk::snap_start(config))
            .set_logging_config(sdk::logging(config))
            .set_image_config(sdk::image(config))
            .set_file_system_configs(sdk::file_systems(config))
    }};
}
pub(crate) use with_config;

/// Each named key as the SDK's request type.
pub mod sdk {
    use super::*;

    pub fn environment(c: &FunctionConfig) -> Option<Environment> {
        c.environment.as_ref().map(|e| {
            Environment::builder()
                .set_variables(Some(e.variables.0.clone().into_iter().collect()))
                .build()
        })
    }

    pub fn layers(c: &FunctionConfig) -> Option<Vec<String>> {
        c.layers
            .as_ref()
            .map(|l| l.iter().map(|l| l.arn().to_string()).collect())
    }

    pub fn ephemeral_storage(c: &FunctionConfig) -> Option<EphemeralStorage> {
        c.ephemeral_storage
            .as_ref()
            .and_then(|e| EphemeralStorage::builder().size(e.size).build().ok())
    }

    pub fn tracing(c: &FunctionConfig) -> Option<TracingConfig> {
        c.tracing_config.as_ref().map(|t| {
            TracingConfig::builder()
                .mode(TracingMode::from(t.mode.as_str()))
                .build()
        })
    }

    pub fn vpc(c: &FunctionConfig) -> Option<VpcConfig> {
        c.vpc_config.as_ref().map(|v| {
            VpcConfig::builder()
                .set_subnet_ids(Some(v.subnet_ids.clone()))
                .set_security_group_ids(Some(v.security_group_ids.clone()))
                .set_ipv6_allowed_for_dual_stack(v.ipv6_allowed_for_dual_stack)
                .build()
        })
    }

    pub fn dead_letter(c: &FunctionConfig) -> Option<DeadLetterConfig> {
        c.dead_letter_config.as_ref().map(|d| {
            DeadLetterConfig::builder()
                .target_arn(d.target_arn.clone())
                .build()
        })
    }

    pub fn snap_start(c: &FunctionConfig) -> Option<SnapStart> {
        c.snap_start.as_ref().map(|s| {
            SnapStart::builder()
                .apply_on(SnapStartApplyOn::from(s.apply_on.as_str()))
                .build()
        })
    }

    pub fn logging(c: &FunctionConfig) -> Option<LoggingConfig> {
        c.logging_config.as_ref().map(|l| {
            LoggingConfig::builder()
                .set_log_format(l.log_format.as_deref().map(LogFormat::from))
                .set_application_log_level(l.application_log_level.as_deref().map(ApplicationLogLevel::from))
                .set_system_log_level(l.system_log_level.as_deref().map(SystemLogLevel::from))
                .set_log_group(l.log_group.clone())
                .build()
        })
    }

    pub fn image(c: &FunctionConfig) -> Option<ImageConfig> {
        c.image_config.as_ref().map(|i| {
            ImageConfig::builder()
                .set_entry_point(i.entry_point.clone())
                .set_command(i.command.clone())
                .set_working_directory(i.working_directory.clone())
                .build()
        })
    }

    pub fn file_systems(c: &FunctionConfig) -> Option<Vec<FileSystemConfig>> {
        c.file_system_configs.as_ref().map(|mounts| {
            mounts
                .iter()
                .filter_map(|m| {
                    FileSystemConfig::builder()
                        .arn(m.arn.clone())
                        .local_mount_path(m.local_mount_path.clone())
                        .build()
                        .ok()
                })
                .collect()
        })
    }
}
