//! The one resolver: flags, environment and a manifest become checked
//! settings for one function or many, before any request is sent. Every
//! "bad input" refusal that can be decided without AWS happens here (or in
//! the flag and manifest parsers it calls), so a command that gets settings
//! only has to act on them. Settings carry values, never AWS clients.

use std::path::Path;

use crate::cli::flags::{
    CommonArgs, DeployArgs, Engine, OnWaveFailure, OutputFormat, PromoteArgs, PruneArgs, RollbackArgs,
    RolloutArgs, StatusArgs, TargetArgs,
};
use crate::cli::manifest::{self, Code, WaveOf};
use crate::cli::{function_config, function_url};
use crate::core::appspec::HandoffSettings;
use crate::core::config::FunctionConfig;
use crate::core::controller::Watch;
use crate::core::fleet::Place;
use crate::core::gates::{GateConfig, Thresholds};
use crate::core::prune::Keep;
use crate::core::strategy::Step;
use crate::core::url::UrlConfig;
use crate::core::values::{HeaderRule, S3Target, Weight};
use crate::core::waves::Wave;
use crate::error::{Error, Result};
use crate::log::Log;

mod alias;
mod prune;
mod rollout;
pub use alias::*;
pub use prune::*;
pub use rollout::*;

/// Longest version description Lambda accepts.
const DESCRIPTION_LIMIT: usize = 256;

/// How a command runs, whatever it does.
#[derive(Debug, Clone)]
pub struct Run {
    pub region: Option<String>,
    /// `--namespace` (SCF's; Lambda refuses it).
    pub namespace: Option<String>,
    /// `--output json`.
    pub json: bool,
    pub log: Log,
    /// With `--manifest`: how the functions share the run. `None` for one function.
    pub fleet: Option<Fleet>,
    /// A deploy's `[[waves]]` (without `--wave`): assigned again once every
    /// target's account and region is resolved. Empty otherwise.
    pub waves: Vec<Wave>,
}

/// `--manifest`: functions at once, control-plane requests per second, and
/// whether the first failure stops the functions not yet started.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fleet {
    pub concurrency: usize,
    pub per_second: u32,
    pub fail_fast: bool,
    /// `--on-wave-failure rollback`: a wave failing beyond its tolerance
    /// also rolls back every target this run moved.
    pub rollback_on_wave_failure: bool,
}

/// One function and alias a command acts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub function: String,
    pub alias: String,
    /// The region and role its calls go to (a manifest's `region(s)` and
    /// `role-arn`; the run's own otherwise).
    pub place: Place,
    /// Its wave (a manifest's `[[waves]]`).
    pub wave: WaveOf,
}

/// `deploy`, checked: one job per function.
#[derive(Debug)]
pub struct DeploySettings {
    pub run: Run,
    pub jobs: Vec<DeployJob>,
}

/// What to package for one function, and what to do with it.
#[derive(Debug)]
pub struct DeployJob {
    pub code: Code,
    pub excludes: Vec<String>,
    pub request: DeployRequest,
    /// The region and role its calls go to.
    pub place: Place,
    /// Its wave (a manifest's `[[waves]]`).
    pub wave: WaveOf,
    /// `--wave NAME`: a target of an earlier wave, only checked to serve
    /// this release already (never written).
    pub check_only: bool,
}

/// What one deploy asks for, after checking: values only.
#[derive(Debug, Clone)]
pub struct DeployRequest {
    pub function: String,
    pub alias: String,
    pub weight: Option<Weight>,
    pub description: String,
    pub dry_run: bool,
    /// `--strategy`: a staged rollout instead of one canary weight.
    pub rollout: Option<RolloutSettings>,
    /// `--engine codedeploy`: CodeDeploy shifts the traffic.
    pub handoff: Option<HandoffSettings>,
    /// `--s3-bucket`: the zip goes through S3.
    pub s3: Option<S3Target>,
    /// `--keep-versions`: prune after a successful deploy, keeping this many.
    pub keep_versions: Option<usize>,
    /// `--function-config`: the keys the release's configuration names.
    pub config: Option<FunctionConfig>,
    /// `--allow-latest-triggers`: route a canary although entry points
    /// invoke `$LATEST`.
    pub allow_latest_triggers: bool,
    /// `--function-url`: the URL to keep on the alias.
    pub function_url: Option<UrlConfig>,
    /// `--canary-header`/`--canary-header-range`: a new canary routed by
    /// this rule instead of a weight (on a platform whose aliases route by
    /// rule).
    pub header_rule: Option<HeaderRule>,
}

fn run_of(target: &TargetArgs, common: &CommonArgs, log: Log, dry_run: bool) -> Run {
    Run {
        region: target.region.clone(),
        namespace: target.platform.namespace.clone(),
        json: common.output == OutputFormat::Json,
        log: log.with(common.verbose, dry_run),
        fleet: target.manifest.as_ref().map(|_| Fleet {
            concurrency: target.concurrency.into(),
            per_second: target.max_requests_per_second,
            fail_fast: target.fail_fast,
            rollback_on_wave_failure: target.on_wave_failure == OnWaveFailure::Rollback,
        }),
        waves: Vec::new(),
    }
}

/// The functions of the manifest, or the one the flags name.
fn targets_of(target: &TargetArgs) -> Result<Vec<Target>> {
    match &target.manifest {
        Some(path) => Ok(on_platform(
            manifest::load_at(path, false, target.region.as_deref())?,
            target.platform.platform == crate::cli::flags::Platform::Scf,
            path,
        )?
        .into_iter()
        .map(|f| Target {
            function: f.name,
            alias: f.alias,
            place: f.place,
            wave: f.wave,
        })
        .collect()),
        None => Ok(vec![single(target)]),
    }
}

/// A manifest's functions, all on the run's platform (`scf`: `--platform
/// scf`); one on another platform is refused by name, and how to run it.
pub(super) fn on_platform(
    functions: Vec<manifest::Function>,
    scf: bool,
    path: &Path,
) -> Result<Vec<manifest::Function>> {
    match functions.iter().find(|f| f.scf != scf) {
        None => Ok(functions),
        Some(f) if f.scf => Err(Error::usage(format!(
            "--manifest '{}': {} is an SCF function (platform = \"scf\"): run the manifest with --platform scf",
            path.display(),
            f.name
        ))),
        Some(f) => Err(Error::usage(format!(
            "--manifest '{}': {} is a Lambda function, but the run is on SCF (--platform scf): one run acts on one platform",
            path.display(),
            f.name
        ))),
    }
}

/// The one function and alias (clap guarantees both without --manifest).
fn single(target: &TargetArgs) -> Target {
    Target {
        function: target.function_name.clone().unwrap_or_default(),
        alias: target.alias.clone().unwrap_or_default(),
        place: Place::default(),
        wave: WaveOf::default(),
    }
}

/// Check `deploy`'s flags (and manifest) before any request.
pub fn deploy(args: &DeployArgs, log: Log) -> Result<DeploySettings> {
    let dry_run = args.dry_run.dry_run;
    let on_scf = args.target.platform.platform == crate::cli::flags::Platform::Scf;
    if on_scf {
        crate::cli::capabilities::refuse_unsupported(&crate::scf::platform::SCF, args)?;
    }
    let run = run_of(&args.target, &args.common, log, dry_run);
    let accepts = match on_scf {
        true => "with --platform scf, lambda-rollout takes",
        false => "Lambda accepts",
    };
    let description = description(args.description.as_deref(), accepts)?;
    let s3 = args.s3.target();
    let function_url = args.function_url.as_deref().map(function_url::load).transpose()?;
    let request = |function: String, alias: String| DeployRequest {
        function,
        alias,
        weight: args.canary_weight,
        description: description.clone(),
        dry_run,
        rollout: None,
        handoff: None,
        s3: s3.clone(),
        keep_versions: args.keep_versions,
        config: None,
        allow_latest_triggers: args.allow_latest_triggers,
        function_url: function_url.clone(),
        header_rule: args.canary_header.clone().or(args.canary_header_range.clone()),
    };
    let Some(path) = &args.target.manifest else {
        let target = single(&args.target);
        let handoff = codedeploy_settings(&args.rollout)?;
        let rollout = match handoff {
            Some(_) => None,
            None => rollout_settings(&args.rollout)?,
        };
        let job = DeployJob {
            code: code_of(args, on_scf)?,
            excludes: args.excludes.globs.clone(),
            place: Place::default(),
            wave: WaveOf::default(),
            check_only: false,
            request: DeployRequest {
                rollout,
                handoff,
                config: args
                    .function_config
                    .as_deref()
                    .map(|path| release_file(path, &run.log, on_scf))
                    .transpose()?,
                ..request(target.function, target.alias)
            },
        };
        return Ok(DeploySettings { run, jobs: vec![job] });
    };
    let (functions, waves) = manifest_for_deploy(args, path, on_scf)?;
    let run = Run { waves, ..run };
    let gates = gate_config(&args.rollout)?;
    let jobs = functions
        .into_iter()
        .map(|function| {
            // `manifest::load(_, true)` refuses an entry without code.
            let code = function.code.ok_or_else(|| Error::usage("no code"))?;
            Ok(DeployJob {
                code,
                excludes: function.excludes,
                place: function.place,
                wave: function.wave,
                check_only: function.check_only,
                request: DeployRequest {
                    config: function.config,
                    function_url: function.function_url.or_else(|| function_url.clone()),
                    weight: function.weight,
                    keep_versions: function.keep_versions.or(args.keep_versions),
                    rollout: function.steps.map(|steps| {
                        let watch = watch_for(&steps, &args.rollout);
                        RolloutSettings::new(steps, watch, gates.clone())
                    }),
                    ..request(function.name, function.alias)
                },
            })
        })
        .collect::<Result<Vec<DeployJob>>>()?;
    if let Some(s3) = s3.as_ref().filter(|s3| !s3.per_region()) {
        one_bucket_region(&s3.bucket, &jobs, run.region.as_deref())?;
    }
    Ok(DeploySettings { run, jobs })
}

/// A bucket is in one region, and Lambda takes code only from a bucket in
/// the function's own region: one `--s3-bucket` without `{region}` cannot
/// serve targets in several regions.
fn one_bucket_region(bucket: &str, jobs: &[DeployJob], run_region: Option<&str>) -> Result<()> {
    let mut regions: Vec<&str> = jobs
        .iter()
        .map(|job| {
            job.place
                .region
                .as_deref()
                .or(run_region)
                .unwrap_or("the default region")
        })
        .collect();
    regions.sort_unstable();
    regions.dedup();
    if regions.len() <= 1 {
        return Ok(());
    }
    Err(Error::usage(format!(
        "--s3-bucket '{bucket}' is one bucket, but the manifest deploys to {} regions ({}), and Lambda takes code only from a bucket in the function's own region: name a bucket per region with {{region}} (such as '{bucket}-{{region}}')",
        regions.len(),
        regions.join(", ")
    )))
}

/// `deploy --manifest`: the manifest's functions, and the flags that belong in it refused.
fn manifest_for_deploy(
    args: &DeployArgs,
    path: &Path,
    on_scf: bool,
) -> Result<(Vec<manifest::Function>, Vec<Wave>)> {
    let (functions, waves) = manifest::load_with_waves(path, true, args.target.region.as_deref())?;
    let functions = on_platform(functions, on_scf, path)?;
    if let (true, Some(wave)) = (on_scf, waves.iter().find(|w| !w.alarms.is_empty())) {
        let why = match crate::scf::platform::SCF.alarms {
            crate::platform::Service::Unsupported(why) => why,
            crate::platform::Service::Supported => "",
        };
        return Err(Error::usage(format!(
            "--manifest '{}': wave {} watches alarms, which SCF runs do not read: {why}",
            path.display(),
            wave.name
        )));
    }
    // One rule: what schedules a target's traffic (canary-weight, strategy,
    // step-interval) is the target's, in the manifest; the health gates
    // (alarms, thresholds, hooks, polling) are the run's, on the command line,
    // and watch every target that has a strategy.
    if args.canary_weight.is_some()
        || args.rollout.strategy.is_some()
        || args.rollout.step_interval.is_some()
        || args.rollout.engine != Engine::Inline
    {
        return Err(Error::usage(
            "with --manifest, canary-weight, strategy and step-interval go in the manifest (per function or in [defaults]); --engine codedeploy takes one function",
        ));
    }
    if !args.excludes.globs.is_empty() {
        return Err(Error::usage(
            "with --manifest, exclude goes in the manifest (per function or in [defaults])",
        ));
    }
    // `--wave NAME` keeps the waves as the manifest assigns them (the
    // targets of later waves are left out of the run already).
    let (functions, waves) = match &args.wave {
        Some(name) if !waves.is_empty() && functions.iter().all(|f| f.wave.name.is_empty()) => {
            return Err(Error::usage(format!(
                "--wave {name}: the waves select by account, and entries without role-arn act in the run's own account, which is known only once a run connects: give those entries a role-arn (or select them by region or function) to run one wave per job"
            )));
        }
        Some(name) => (one_wave(functions, name)?, Vec::new()),
        None => (functions, waves),
    };
    let gates = gate_config(&args.rollout)?;
    if gates.any() && functions.iter().all(|f| f.steps.is_none()) {
        return Err(Error::usage(
            "health gates need a strategy: set strategy in the manifest (per function or in [defaults])",
        ));
    }
    Ok((functions, waves))
}

/// `--wave NAME`: the targets of that wave, and those of every earlier wave
/// marked to be checked only (they must serve this release already; any
/// that does not stops the run). Later waves are left out.
fn one_wave(functions: Vec<manifest::Function>, name: &str) -> Result<Vec<manifest::Function>> {
    let Some(index) = functions
        .iter()
        .find(|f| f.wave.name == name)
        .map(|f| f.wave.index)
    else {
        let names: std::collections::BTreeMap<usize, &str> = functions
            .iter()
            .filter(|f| !f.wave.name.is_empty())
            .map(|f| (f.wave.index, f.wave.name.as_str()))
            .collect();
        let names: Vec<&str> = names.into_values().collect();
        return Err(Error::usage(if names.is_empty() {
            format!("--wave {name}: the manifest has no [[waves]]")
        } else {
            format!(
                "--wave {name}: no such wave; the manifest's waves are {}",
                names.join(", ")
            )
        }));
    };
    Ok(functions
        .into_iter()
        .filter(|f| f.wave.index <= index)
        .map(|mut f| {
            if f.wave.index < index {
                // Checked, not written: any target behind stops the run, and
                // the bake is the workflow's (its environment's wait timer).
                f.check_only = true;
                f.wave.tolerance = crate::core::waves::Tolerance::Count(0);
                f.wave.bake = std::time::Duration::ZERO;
            }
            f
        })
        .collect())
}

/// `--function-config`, read; on SCF, limited to the keys an SCF version has.
fn release_file(path: &Path, log: &Log, on_scf: bool) -> Result<FunctionConfig> {
    let config = function_config::load(path, Some(log))?;
    if on_scf {
        crate::scf::limits::check_config(&config, path)?;
    }
    Ok(config)
}

/// `--source` or `--zip-file` (`--exclude` applies to a source only).
fn code_of(args: &DeployArgs, on_scf: bool) -> Result<Code> {
    if let Some(image) = &args.code.image_uri {
        return Ok(Code::Image(image.clone()));
    }
    match (&args.code.source, &args.code.zip_file) {
        (Some(source), _) => Ok(Code::Source(source.clone())),
        (None, Some(_)) if !args.excludes.globs.is_empty() => Err(Error::usage(
            "--exclude applies to --source only: a --zip-file is deployed byte for byte",
        )),
        (None, Some(zip)) => Ok(Code::Zip(zip.clone())),
        (None, None) if on_scf => Err(Error::usage(
            "with --platform scf, give --source DIR or --zip-file FILE",
        )),
        (None, None) => Err(Error::usage(
            "give --source DIR, --zip-file FILE or --image-uri URI (or --manifest FILE for several functions)",
        )),
    }
}

/// `--description`, or the commit and run GitHub provides; `accepts` says
/// who takes at most 256 characters (Lambda, or the tool for SCF).
pub fn description(given: Option<&str>, accepts: &str) -> Result<String> {
    match given {
        Some(text) if text.chars().count() > DESCRIPTION_LIMIT => Err(Error::usage(format!(
            "--description is {} characters long: {accepts} at most {DESCRIPTION_LIMIT}",
            text.chars().count()
        ))),
        Some(text) => Ok(text.to_string()),
        None => Ok(default_description(|name| {
            std::env::var(name).ok().filter(|v| !v.is_empty())
        })),
    }
}

/// "commit <sha> run <url>" from GitHub's variables, or a plain marker.
pub fn default_description(var: impl Fn(&str) -> Option<String>) -> String {
    let commit = var("GITHUB_SHA").map(|sha| format!("commit {sha}"));
    let run = match (
        var("GITHUB_SERVER_URL"),
        var("GITHUB_REPOSITORY"),
        var("GITHUB_RUN_ID"),
    ) {
        (Some(server), Some(repo), Some(id)) => Some(format!("run {server}/{repo}/actions/runs/{id}")),
        _ => None,
    };
    let parts: Vec<String> = commit.into_iter().chain(run).collect();
    let text = if parts.is_empty() {
        "deployed by lambda-rollout".to_string()
    } else {
        parts.join(" ")
    };
    text.chars().take(DESCRIPTION_LIMIT).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_description_names_the_commit_and_run() {
        let github = |name: &str| {
            Some(
                match name {
                    "GITHUB_SHA" => "0123abcd",
                    "GITHUB_SERVER_URL" => "https://github.com",
                    "GITHUB_REPOSITORY" => "acme/api",
                    "GITHUB_RUN_ID" => "42",
                    _ => return None,
                }
                .to_string(),
            )
        };
        assert_eq!(
            default_description(github),
            "commit 0123abcd run https://github.com/acme/api/actions/runs/42"
        );
        assert_eq!(default_description(|_| None), "deployed by lambda-rollout");
    }
}
