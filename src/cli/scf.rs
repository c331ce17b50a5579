//! `--platform scf`: the flags checked into settings for Tencent Cloud SCF,
//! before any request is sent. The flags SCF has no counterpart for are
//! refused by name, so nothing is silently ignored; and on Lambda, the flags
//! only SCF has are refused the same way.

use crate::cli::Command;
use crate::cli::flags::{Platform, PlatformArgs};
use crate::core::config::FunctionConfig;
use crate::core::values::parse_region;
use crate::error::{Error, Result};

/// The namespace SCF puts a function in when none is named.
pub const DEFAULT_NAMESPACE: &str = "default";

/// The command's platform flags, when it has any.
fn platform_of(command: &Command) -> Option<&PlatformArgs> {
    match command {
        Command::Deploy(args) => Some(&args.target.platform),
        Command::Promote(args) => Some(&args.target.platform),
        Command::Rollback(args) => Some(&args.target.platform),
        Command::Status(args) => Some(&args.target.platform),
        Command::Prune(args) => Some(&args.platform),
        Command::Init(_) | Command::Package(_) => None,
    }
}

/// Whether the command runs on SCF.
pub fn is_scf(command: &Command) -> bool {
    platform_of(command).is_some_and(|p| p.platform == Platform::Scf)
}

/// On Lambda (the default platform): refuse what only SCF takes, and check
/// `--region` as an AWS region.
pub fn check_lambda(command: &Command) -> Result<()> {
    if platform_of(command).is_some_and(|p| p.namespace.is_some()) {
        return Err(Error::usage(
            "--namespace is SCF's: it needs --platform scf (Lambda functions have no namespace)",
        ));
    }
    if let Command::Deploy(args) = command
        && !crate::aws::platform::LAMBDA.header_routing
        && (args.canary_header.is_some() || args.canary_header_range.is_some())
    {
        return Err(Error::usage(
            "--canary-header and --canary-header-range route by rule, which only SCF aliases do: they need --platform scf (on Lambda, use --canary-weight)",
        ));
    }
    let region = match command {
        Command::Deploy(args) => args.target.region.as_deref(),
        Command::Promote(args) => args.target.region.as_deref(),
        Command::Rollback(args) => args.target.region.as_deref(),
        Command::Status(args) => args.target.region.as_deref(),
        Command::Prune(args) => args.region.as_deref(),
        Command::Init(_) | Command::Package(_) => None,
    };
    if let Some(region) = region {
        parse_region(region).map_err(|e| {
            Error::usage(format!(
                "--region {e}{}",
                if region.starts_with("ap-") && region.split('-').count() == 2 {
                    " (for a Tencent Cloud region, add --platform scf)"
                } else {
                    ""
                }
            ))
        })?;
    }
    Ok(())
}

/// What a command needs on SCF besides the shared settings: an SCF
/// function name (a manifest's entries are checked as it is read), and a
/// deploy's region before its package is built. The credentials (and the
/// other commands' region) are checked when the run connects, before any
/// request.
pub fn check_names(command: &Command) -> Result<()> {
    if let Command::Status(args) = command
        && args.metrics.is_some()
        && let crate::platform::Service::Unsupported(why) = crate::scf::platform::SCF.metrics
    {
        return Err(Error::usage(format!(
            "--metrics is not supported with --platform scf: {why}"
        )));
    }
    let target = match command {
        Command::Deploy(args) if args.target.manifest.is_none() => {
            check_function_name(args.target.single().0)?;
            return region(args.target.region.as_deref()).map(|_| ());
        }
        Command::Promote(args) => &args.target,
        Command::Rollback(args) => &args.target,
        Command::Status(args) => &args.target,
        Command::Prune(args) if args.manifest.is_none() => {
            return check_function_name(args.function_name.as_deref().unwrap_or_default());
        }
        _ => return Ok(()),
    };
    if target.manifest.is_some() {
        return Ok(());
    }
    check_function_name(target.single().0)
}

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

/// An SCF function name ([`crate::core::values::check_scf_function_name`]).
pub fn check_function_name(name: &str) -> Result<()> {
    crate::core::values::check_scf_function_name(name).map_err(Error::usage)
}
