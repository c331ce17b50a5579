//! What SCF takes, checked before any request: the keys and limits of a
//! release file, and the region (`--region`, or `TENCENTCLOUD_REGION` as
//! Tencent's tools read it). `cli` asks these of an SCF run.

use crate::core::config::FunctionConfig;
use crate::error::{Error, Result};

/// The namespace SCF puts a function in when none is named.
pub const DEFAULT_NAMESPACE: &str = "default";

/// The keys a version holds on SCF and a release file may set there.
const SCF_KEYS: [&str; 5] = [
    "Runtime",
    "Handler",
    "MemorySize",
    "Timeout",
    "Environment.Variables",
];

/// `--function-config` for SCF (or a manifest entry's `function-config`):
/// the file as Lambda's keys name it (the same parser: values exactly as
/// written, held as secrets), limited to the keys an SCF version has; any
/// other key is refused by name.
pub fn check_config(config: &FunctionConfig, path: &std::path::Path) -> Result<()> {
    let file = path.display();
    if let Some(key) = config.named_keys().into_iter().find(|k| !SCF_KEYS.contains(k)) {
        return Err(Error::usage(format!(
            "--function-config '{file}': {key} is not supported with --platform scf: an SCF release file may name {}",
            SCF_KEYS.join(", ")
        )));
    }
    // SCF's limits: memory 128 to 3072 MB in steps of 128 (SCF also takes
    // 64, but the shared parser's check, Lambda's floor of 128, has
    // already refused it); a timeout of 1 to 900 s.
    if let Some(memory) = config
        .memory_size
        .filter(|m| !(128..=3072).contains(m) || m % 128 != 0)
    {
        return Err(Error::usage(format!(
            "--function-config '{file}': MemorySize {memory} is not one SCF takes: 128 to 3072 (MB), in steps of 128"
        )));
    }
    if let Some(timeout) = config.timeout.filter(|t| !(1..=900).contains(t)) {
        return Err(Error::usage(format!(
            "--function-config '{file}': Timeout {timeout} is not one SCF takes: 1 to 900 (seconds)"
        )));
    }
    if config.tags.is_some() {
        return Err(Error::usage(format!(
            "--function-config '{file}': Tags is not supported with --platform scf: an SCF release file may name {}",
            SCF_KEYS.join(", ")
        )));
    }
    if config
        .environment
        .as_ref()
        .is_some_and(|e| !e.parameters.is_empty())
    {
        return Err(Error::usage(format!(
            "--function-config '{file}': FromParameter reads AWS Parameter Store, which SCF runs do not use: give the value with FromEnvironment"
        )));
    }
    Ok(())
}

/// `--region`, or `TENCENTCLOUD_REGION` as Tencent's tools read it.
pub fn region(given: Option<&str>) -> Result<String> {
    let from_env = std::env::var("TENCENTCLOUD_REGION")
        .ok()
        .filter(|r| !r.is_empty());
    let region = given.map(str::to_string).or(from_env).ok_or_else(|| {
        Error::usage(
            "--platform scf needs a region: pass --region (such as ap-guangzhou) or set TENCENTCLOUD_REGION",
        )
    })?;
    crate::core::values::parse_any_region(&region)
        .map_err(|e| Error::usage(format!("TENCENTCLOUD_REGION {e}")))
}
