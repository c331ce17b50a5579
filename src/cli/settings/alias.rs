//! `promote`, `rollback` and `status` settings.

use super::*;

/// `promote`, checked.
#[derive(Debug)]
pub struct PromoteSettings {
    pub run: Run,
    pub targets: Vec<Target>,
    pub dry_run: bool,
    pub to: PromoteTo,
    /// `--allow-latest-triggers`: set a canary weight although entry points
    /// invoke `$LATEST`.
    pub allow_latest_triggers: bool,
}

/// Where `promote` points the alias.
#[derive(Debug, Clone, PartialEq)]
pub enum PromoteTo {
    /// The canary at 100 %, or at this weight.
    Canary(Option<Weight>),
    Version(String),
    /// The version this other alias serves.
    FromAlias(String),
}

/// Check `promote`'s flags (and manifest).
pub fn promote(args: &PromoteArgs, log: Log) -> Result<PromoteSettings> {
    let dry_run = args.dry_run.dry_run;
    let targets = targets_of(&args.target)?;
    if let Some(source) = &args.to.from_alias
        && let Some(same) = targets.iter().find(|t| t.alias == *source)
    {
        return Err(Error::usage(match args.target.manifest {
            Some(_) => {
                "--from-alias names an alias the manifest promotes: name the alias to copy from".to_string()
            }
            None => format!(
                "--from-alias {} is the alias being promoted: name the alias to copy from (such as staging)",
                same.alias
            ),
        }));
    }
    let to = match (&args.to.version, &args.to.from_alias) {
        (Some(version), _) => PromoteTo::Version(version.clone()),
        (None, Some(source)) => PromoteTo::FromAlias(source.clone()),
        (None, None) => PromoteTo::Canary(args.to.weight),
    };
    all_at_once("promote", &args.target)?;
    Ok(PromoteSettings {
        run: run_of(&args.target, &args.common, log, dry_run),
        targets,
        dry_run,
        to,
        allow_latest_triggers: args.allow_latest_triggers,
    })
}

/// `promote` and `rollback` act on every target of a manifest at once (no
/// wave gates them), so a wave failure has nothing to roll back.
pub(super) fn all_at_once(command: &str, target: &TargetArgs) -> Result<()> {
    if target.on_wave_failure == OnWaveFailure::Rollback {
        return Err(Error::usage(format!(
            "--on-wave-failure rollback applies to deploy: {command} --manifest acts on every target at once, with no wave to fail (a target that fails is named, the others still go ahead)"
        )));
    }
    Ok(())
}

/// `rollback`, checked.
#[derive(Debug)]
pub struct RollbackSettings {
    pub run: Run,
    pub targets: Vec<Target>,
    pub dry_run: bool,
    pub to_version: Option<String>,
}

/// Check `rollback`'s flags (and manifest).
pub fn rollback(args: &RollbackArgs, log: Log) -> Result<RollbackSettings> {
    let dry_run = args.dry_run.dry_run;
    all_at_once("rollback", &args.target)?;
    Ok(RollbackSettings {
        run: run_of(&args.target, &args.common, log, dry_run),
        targets: targets_of(&args.target)?,
        dry_run,
        to_version: args.to_version.clone(),
    })
}

/// `status`, checked: one alias, or every alias of a manifest.
#[derive(Debug)]
pub struct StatusSettings {
    pub run: Run,
    pub targets: Vec<Target>,
    /// `--metrics WINDOW`: a live canary's comparison over the last WINDOW.
    pub metrics: Option<std::time::Duration>,
}

/// Check `status`'s flags (and manifest).
pub fn status(args: &StatusArgs, log: Log) -> Result<StatusSettings> {
    Ok(StatusSettings {
        run: run_of(&args.target, &args.common, log, false),
        targets: targets_of(&args.target)?,
        metrics: args.metrics,
    })
}
