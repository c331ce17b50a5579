//! How each configuration key reads in a difference: defaults named,
//! unordered lists sorted.

use super::*;

pub(super) fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

pub(super) fn number(value: Option<i32>) -> Option<String> {
    value.map(|n| n.to_string())
}

pub(super) fn shown(value: &str) -> &str {
    if value.is_empty() { "none" } else { value }
}

pub(super) fn layer_list(layers: &[Layer]) -> String {
    layers.iter().map(Layer::arn).collect::<Vec<_>>().join(", ")
}

pub(super) fn sorted(list: &[String]) -> String {
    let mut list = list.to_vec();
    list.sort();
    list.join(", ")
}

/// Subnets and security groups in any order; the IPv6 flag when the file names it.
pub(super) fn vpc_text(vpc: &VpcConfig, with_ipv6: bool) -> String {
    let mut text = format!(
        "subnets [{}], security groups [{}]",
        sorted(&vpc.subnet_ids),
        sorted(&vpc.security_group_ids)
    );
    if with_ipv6 {
        text.push_str(&format!(
            ", IPv6 {}",
            vpc.ipv6_allowed_for_dual_stack.unwrap_or(false)
        ));
    }
    text
}

/// The logging settings `named` names, as `config` has them.
pub(super) fn logging_text(config: &LoggingConfig, named: &LoggingConfig) -> String {
    let fields = [
        ("LogFormat", &config.log_format, named.log_format.is_some()),
        (
            "ApplicationLogLevel",
            &config.application_log_level,
            named.application_log_level.is_some(),
        ),
        (
            "SystemLogLevel",
            &config.system_log_level,
            named.system_log_level.is_some(),
        ),
        ("LogGroup", &config.log_group, named.log_group.is_some()),
    ];
    fields
        .iter()
        .filter(|(_, _, named)| *named)
        .map(|(key, value, _)| format!("{key} {}", shown(&text(value))))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn image_text(config: &ImageConfig, named: &ImageConfig) -> String {
    let list = |l: &Option<Vec<String>>| format!("[{}]", l.clone().unwrap_or_default().join(" "));
    let mut parts = Vec::new();
    if named.entry_point.is_some() {
        parts.push(format!("EntryPoint {}", list(&config.entry_point)));
    }
    if named.command.is_some() {
        parts.push(format!("Command {}", list(&config.command)));
    }
    if named.working_directory.is_some() {
        parts.push(format!(
            "WorkingDirectory {}",
            shown(&text(&config.working_directory))
        ));
    }
    parts.join(", ")
}

pub(super) fn mounts_text(mounts: &[FileSystemConfig]) -> String {
    let mut mounts = mounts.to_vec();
    mounts.sort();
    mounts
        .iter()
        .map(|m| format!("{} at {}", m.arn, m.local_mount_path))
        .collect::<Vec<_>>()
        .join(", ")
}
