//! `--platform`: which platform a command runs on, and the flags checked
//! for it before any request is sent. The flags one platform has no
//! counterpart for are refused by name on it, so nothing is silently
//! ignored. What SCF itself takes (release-file keys, limits, its region)
//! is the provider's (`scf::limits`).

use crate::cli::Command;
use crate::cli::flags::{Platform, PlatformArgs};
use crate::core::values::parse_region;
use crate::error::{Error, Result};
use crate::scf::limits::region;

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
            check_scf_name(args.target.single().0)?;
            return region(args.target.region.as_deref()).map(|_| ());
        }
        Command::Promote(args) => &args.target,
        Command::Rollback(args) => &args.target,
        Command::Status(args) => &args.target,
        Command::Prune(args) if args.manifest.is_none() => {
            return check_scf_name(args.function_name.as_deref().unwrap_or_default());
        }
        _ => return Ok(()),
    };
    if target.manifest.is_some() {
        return Ok(());
    }
    check_scf_name(target.single().0)
}

/// An SCF function name ([`crate::core::values::check_scf_function_name`]).
fn check_scf_name(name: &str) -> Result<()> {
    crate::core::values::check_scf_function_name(name).map_err(Error::usage)
}
