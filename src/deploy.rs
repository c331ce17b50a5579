//! `deploy`: observe the alias, decide with [`plan::deploy`], apply the steps,
//! report. A conflicting concurrent write makes it observe and plan once more.

use std::sync::Arc;

use crate::alias::{self, Route, routing_text};
use crate::aws::{self, Lambda, NewCode};
use crate::cli::{DeployArgs, Engine, OutputFormat, RolloutArgs};
use crate::error::{Error, Result};
use crate::gates::Thresholds;
use crate::handoff::{self, Handoff, HandoffSettings};
use crate::health::GateConfig;
use crate::manifest::{self, Code};
use crate::monitor::Monitor;
use crate::package::{self, Package};
use crate::plan::{self, AliasStep, CodeStep, Observed, Outcome, Plan, Version};
use crate::report::{self, AliasReport, Log};
use crate::rollout::Watch;
use crate::s3::{S3Target, Store};
use crate::staged::{self, Rollout};
use crate::strategy::Step;
use crate::values::Weight;

/// Longest version description Lambda accepts.
const DESCRIPTION_LIMIT: usize = 256;

/// What one deploy asks for, after parsing.
#[derive(Debug)]
pub struct DeployRequest {
    pub function: String,
    pub alias: String,
    pub weight: Option<Weight>,
    pub description: String,
    pub dry_run: bool,
    /// `--strategy`: a staged rollout instead of one canary weight.
    pub rollout: Option<Rollout>,
    /// `--engine codedeploy`: CodeDeploy shifts the traffic.
    pub handoff: Option<Handoff>,
    /// `--s3-bucket`: the zip goes through S3 (one store for the whole run).
    pub s3: Option<Arc<S3Upload>>,
}

/// Where packages are stored before Lambda takes them.
#[derive(Debug)]
pub struct S3Upload {
    pub target: S3Target,
    pub store: Store,
}

/// The `deploy` command: package, connect, deploy, report.
pub async fn run(args: DeployArgs, github: bool) -> Result<()> {
    let log = Log {
        verbose: args.common.verbose,
        dry_run: args.dry_run.dry_run,
        github,
    };
    let description = match args.description.clone() {
        Some(text) if text.chars().count() > DESCRIPTION_LIMIT => {
            return Err(Error::usage(format!(
                "--description is {} characters long: Lambda accepts at most {DESCRIPTION_LIMIT}",
                text.chars().count()
            )));
        }
        Some(text) => text,
        None => default_description(|name| std::env::var(name).ok().filter(|v| !v.is_empty())),
    };
    if let Some(manifest) = &args.target.manifest {
        return deploy_manifest(&args, manifest, description, log).await;
    }
    let (function, alias) = args.target.single();
    let package = load_code(&args.code, &args.excludes.globs, &log)?;
    refuse_oversized(&package, args.s3.s3_bucket.is_some())?;
    let codedeploy = codedeploy_settings(&args.rollout)?;
    let settings = match codedeploy {
        Some(_) => None,
        None => rollout_settings(&args.rollout)?,
    };
    let config = aws::load_config(args.target.region.as_deref(), aws::Calls::One, log).await?;
    let request = DeployRequest {
        function: function.to_string(),
        alias: alias.to_string(),
        weight: args.canary_weight,
        description,
        dry_run: args.dry_run.dry_run,
        rollout: settings.map(|(steps, watch, gates)| Rollout {
            steps,
            watch,
            gates,
            monitor: Monitor::new(&config, log),
        }),
        handoff: codedeploy.map(|settings| Handoff {
            client: aws_sdk_codedeploy::Client::new(&config),
            settings,
        }),
        s3: s3_upload(&args.s3, &config, log),
    };
    let lambda = Lambda::new(aws_sdk_lambda::Client::new(&config), log);
    let report = deploy(&lambda, &request, &package, log).await?;
    report::emit(&report, args.common.output == OutputFormat::Json)?;
    match report.result {
        // The step's outputs say what happened; the exit status fails the job.
        Outcome::RolledBack => Err(Error::failed(format!("rolled back: {}", report.rollback_reason))),
        _ => Ok(()),
    }
}

/// With `--engine codedeploy`: check its flags before any request.
fn codedeploy_settings(args: &RolloutArgs) -> Result<Option<HandoffSettings>> {
    let codedeploy_flags = args.codedeploy_application.is_some()
        || args.codedeploy_deployment_group.is_some()
        || args.codedeploy_before_allow_traffic.is_some()
        || args.codedeploy_after_allow_traffic.is_some()
        || args.codedeploy_wait.is_some();
    if args.engine == Engine::Inline {
        if codedeploy_flags {
            return Err(Error::usage("the --codedeploy-* flags need --engine codedeploy"));
        }
        return Ok(None);
    }
    let Some(strategy) = &args.strategy else {
        return Err(Error::usage(
            "--engine codedeploy needs --strategy with a CodeDeploy configuration, such as Canary10Percent5Minutes",
        ));
    };
    let Some(config_name) = strategy.codedeploy_config() else {
        return Err(Error::usage(
            "--strategy has no predefined CodeDeploy configuration: with --engine codedeploy use one of CodeDeploy's nine (Canary10Percent5Minutes, Linear10PercentEvery1Minute, AllAtOnce, …), or the inline engine",
        ));
    };
    let inline_only = !args.alarms.is_empty()
        || args.max_error_rate.is_some()
        || args.max_error_rate_increase.is_some()
        || args.pre_traffic_hook.is_some()
        || args.post_traffic_hook.is_some()
        || args.smoke_payload.is_some()
        || args.step_interval.is_some();
    if inline_only {
        return Err(Error::usage(
            "--engine codedeploy takes its gates from the deployment group (alarms) and --codedeploy-before/after-allow-traffic (hook functions): --alarm, --max-error-rate*, the shell hooks, --smoke-payload and --step-interval belong to the inline engine",
        ));
    }
    let (Some(application), Some(deployment_group)) =
        (&args.codedeploy_application, &args.codedeploy_deployment_group)
    else {
        return Err(Error::usage(
            "--engine codedeploy needs --codedeploy-application and --codedeploy-deployment-group",
        ));
    };
    Ok(Some(HandoffSettings {
        application: application.clone(),
        deployment_group: deployment_group.clone(),
        config_name,
        before_allow_traffic: args.codedeploy_before_allow_traffic.clone(),
        after_allow_traffic: args.codedeploy_after_allow_traffic.clone(),
        wait: args.codedeploy_wait,
    }))
}

/// The health gates the flags ask for (checked before any request).
fn gate_config(args: &RolloutArgs) -> Result<GateConfig> {
    let thresholds =
        (args.max_error_rate.is_some() || args.max_error_rate_increase.is_some()).then(|| Thresholds {
            max_error_rate: args.max_error_rate.map(Weight::fraction),
            max_error_rate_increase: args.max_error_rate_increase.map(Weight::fraction),
            min_invocations: args.min_invocations as f64,
        });
    let smoke_payload = match &args.smoke_payload {
        None => None,
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| {
                Error::usage(format!(
                    "--smoke-payload '{}' cannot be read: {e}",
                    path.display()
                ))
            })?;
            serde_json::from_slice::<serde_json::Value>(&bytes).map_err(|e| {
                Error::usage(format!(
                    "--smoke-payload '{}' is not JSON ({e}): Lambda payloads are JSON",
                    path.display()
                ))
            })?;
            Some(bytes)
        }
    };
    let alarms: Vec<String> = args
        .alarms
        .iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    Ok(GateConfig {
        alarms,
        ignore_alarms_already_firing: args.ignore_alarms_already_firing,
        thresholds,
        pre_traffic_hook: args.pre_traffic_hook.clone(),
        post_traffic_hook: args.post_traffic_hook.clone(),
        hook_timeout: args.hook_timeout,
        smoke_payload,
    })
}

/// Check the rollout flags before any request: a schedule, how to watch it,
/// and the gates. Gate flags without `--strategy` are refused.
fn rollout_settings(args: &RolloutArgs) -> Result<Option<(Vec<Step>, Watch, GateConfig)>> {
    let gates = gate_config(args)?;
    let Some(strategy) = &args.strategy else {
        if gates.any() || args.step_interval.is_some() {
            return Err(Error::usage(
                "health gates and --step-interval need --strategy (such as --strategy canary:10%:5m): they watch a staged rollout",
            ));
        }
        return Ok(None);
    };
    let steps = strategy.schedule(args.step_interval).map_err(Error::usage)?;
    let watch = watch_for(&steps, args);
    Ok(Some((steps, watch, gates)))
}

/// How the controller watches `steps`: late data may extend a step by at
/// most one more interval.
fn watch_for(steps: &[Step], args: &RolloutArgs) -> Watch {
    let max_extension = steps.iter().map(|s| s.wait).max().unwrap_or_default();
    Watch {
        poll: args.poll_interval,
        on_no_data: args.on_no_data,
        max_extension,
    }
}

/// `deploy --manifest`: every function of the manifest, concurrently.
async fn deploy_manifest(
    args: &DeployArgs,
    manifest: &std::path::Path,
    description: String,
    log: Log,
) -> Result<()> {
    let functions = manifest::load(manifest, true)?;
    if args.canary_weight.is_some()
        || args.rollout.strategy.is_some()
        || args.rollout.engine != Engine::Inline
    {
        return Err(Error::usage(
            "with --manifest, canary-weight and strategy go in the manifest (per function or in [defaults]); --engine codedeploy takes one function",
        ));
    }
    if !args.excludes.globs.is_empty() {
        return Err(Error::usage(
            "with --manifest, exclude goes in the manifest (per function or in [defaults])",
        ));
    }
    let gates = gate_config(&args.rollout)?;
    if (gates.any() || args.rollout.step_interval.is_some()) && functions.iter().all(|f| f.steps.is_none()) {
        return Err(Error::usage(
            "health gates need a strategy: set one in the manifest",
        ));
    }
    let config = aws::load_config(args.target.region.as_deref(), aws::Calls::Fleet, log).await?;
    let lambda =
        Lambda::new(aws_sdk_lambda::Client::new(&config), log).paced(args.target.max_requests_per_second);
    let dry_run = args.dry_run.dry_run;
    let s3 = s3_upload(&args.s3, &config, log);
    let results = manifest::run_all(
        &functions,
        args.target.concurrency.into(),
        args.target.fail_fast,
        async |function| {
            let code = function.code.clone();
            let excludes = function.excludes.clone();
            // Packaging is CPU work: keep it off the thread that drives the requests.
            let package = tokio::task::spawn_blocking(move || match code {
                Some(Code::Source(dir)) => package::build(&dir, &excludes),
                Some(Code::Zip(zip)) => package::load_zip(&zip),
                None => Err(Error::usage("no code")),
            })
            .await
            .map_err(|e| Error::failed(format!("packaging stopped: {e}")))??;
            refuse_oversized(&package, args.s3.s3_bucket.is_some())?;
            let request = DeployRequest {
                function: function.name.clone(),
                alias: function.alias.clone(),
                weight: function.weight,
                description: description.clone(),
                dry_run,
                rollout: function.steps.clone().map(|steps| Rollout {
                    watch: watch_for(&steps, &args.rollout),
                    steps,
                    gates: gates.clone(),
                    monitor: Monitor::new(&config, log),
                }),
                handoff: None,
                s3: s3.clone(),
            };
            deploy(&lambda, &request, &package, log).await
        },
    )
    .await;
    manifest::emit(&results, args.common.output == OutputFormat::Json)
}

/// Build or read the zip, before any request is sent.
fn load_code(code: &crate::cli::CodeArgs, excludes: &[String], log: &Log) -> Result<Package> {
    let package = match (&code.source, &code.zip_file) {
        (Some(source), _) => package::build(source, excludes)?,
        (None, Some(zip)) => {
            if !excludes.is_empty() {
                return Err(Error::usage(
                    "--exclude applies to --source only: a --zip-file is deployed byte for byte",
                ));
            }
            package::load_zip(zip)?
        }
        (None, None) => {
            return Err(Error::usage(
                "give --source DIR or --zip-file FILE (or --manifest FILE for several functions)",
            ));
        }
    };
    log.step(&format!(
        "package: {} files, {} zipped, CodeSha256 {}",
        package.files,
        package::human_bytes(package.zip.len() as u64),
        package.code_sha256
    ));
    Ok(package)
}

/// A zip over Lambda's direct-upload limit needs `--s3-bucket`: refused
/// before any request.
fn refuse_oversized(package: &Package, s3: bool) -> Result<()> {
    if package.exceeds_direct_upload() && !s3 {
        return Err(Error::usage(format!(
            "the zip is {}, over Lambda's {} direct-upload limit: set --s3-bucket (and optionally --s3-key-prefix) to deploy it through S3",
            package::human_bytes(package.zip.len() as u64),
            package::human_bytes(package::DIRECT_UPLOAD_LIMIT)
        )));
    }
    Ok(())
}

fn s3_upload(args: &crate::cli::S3Args, config: &aws_config::SdkConfig, log: Log) -> Option<Arc<S3Upload>> {
    args.target().map(|target| {
        Arc::new(S3Upload {
            target,
            store: Store::new(config, log),
        })
    })
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

/// Observe, plan and apply one deploy; with `dry_run`, observe and plan only.
pub async fn deploy(
    lambda: &Lambda,
    request: &DeployRequest,
    package: &Package,
    log: Log,
) -> Result<AliasReport> {
    let wanted = plan::Request {
        code_sha256: package.code_sha256.clone(),
        weight: request.weight,
    };
    let mut replanned = false;
    loop {
        log.step(&format!("observing {}:{}", request.function, request.alias));
        let mut observed = lambda.observe(&request.function, &request.alias).await?;
        let mut plan = plan::deploy(&observed, &wanted);
        if plan::needs_latest(&observed, &plan) {
            observed.latest = Some(lambda.latest(&request.function).await?.1);
            plan = plan::deploy(&observed, &wanted);
        }
        for note in &plan.notes {
            log.warn(note);
        }
        if let Some(handoff) = &request.handoff
            && let Some(target) = staged::target(&observed, &plan)
        {
            return handoff::run(
                (lambda, request, package),
                &observed,
                &plan,
                handoff,
                target,
                &log,
            )
            .await;
        }
        if let Some(rollout) = &request.rollout
            && let Some(target) = staged::target(&observed, &plan)
        {
            return staged::run(
                (lambda, request, package),
                &observed,
                &plan,
                rollout,
                target,
                &log,
            )
            .await;
        }
        if request.dry_run {
            narrate_plan(&plan, request, &log);
            return Ok(report(request, package, &observed, &plan, None));
        }
        match apply(lambda, request, package, &observed, &plan, &log).await {
            Ok(published) => return Ok(report(request, package, &observed, &plan, published.as_deref())),
            Err(Error::Conflict(message)) if !replanned => {
                log.warn(&format!("{message}; observing again and planning once more"));
                replanned = true;
            }
            Err(Error::Conflict(message)) => {
                return Err(Error::Conflict(format!(
                    "alias {}:{} changed concurrently while deploying ({message}): another run is deploying to it; re-run once it has finished",
                    request.function, request.alias
                )));
            }
            Err(other) => return Err(other),
        }
    }
}

/// Carry out the plan's code step: wait for an update in progress, upload
/// if needed, publish. Returns the version this run published, if any.
pub(crate) async fn publish_code(
    lambda: &Lambda,
    request: &DeployRequest,
    package: &Package,
    observed: &Observed,
    plan: &Plan,
    log: &Log,
) -> Result<Option<String>> {
    let function = request.function.as_str();
    if plan.wait_for_update {
        lambda.wait_for_update(function).await?;
    }
    let latest_revision = observed
        .latest
        .as_ref()
        .and_then(|latest| latest.revision_id.as_deref());
    let published = match plan.code {
        CodeStep::None => None,
        CodeStep::PublishLatest => {
            log.step("publishing the code already in $LATEST (no upload needed)");
            Some(
                lambda
                    .publish(
                        function,
                        &package.code_sha256,
                        &request.description,
                        latest_revision,
                    )
                    .await?,
            )
        }
        CodeStep::UploadAndPublish => {
            log.step(&format!(
                "uploading {} to {function}{}",
                package::human_bytes(package.zip.len() as u64),
                if request.s3.is_some() { " through S3" } else { "" }
            ));
            let revision = match &request.s3 {
                None => {
                    lambda
                        .upload(function, NewCode::Zip(package.zip.clone()), latest_revision)
                        .await?
                }
                Some(s3) => {
                    let stored = s3.store.put(&s3.target, function, package).await?;
                    let code = NewCode::S3 {
                        bucket: &stored.bucket,
                        key: &stored.key,
                    };
                    lambda.upload(function, code, latest_revision).await?
                }
            };
            Some(
                lambda
                    .publish(
                        function,
                        &package.code_sha256,
                        &request.description,
                        revision.as_deref(),
                    )
                    .await?,
            )
        }
    };
    Ok(published)
}

/// Carry out the plan. Returns the version this run published, if any.
async fn apply(
    lambda: &Lambda,
    request: &DeployRequest,
    package: &Package,
    observed: &Observed,
    plan: &Plan,
    log: &Log,
) -> Result<Option<String>> {
    let function = request.function.as_str();
    let published = publish_code(lambda, request, package, observed, plan, log).await?;
    let resolve = |v: &Version| v.resolve(published.as_deref()).unwrap_or_default();
    let primary = resolve(&plan.routing.primary);
    let canary = plan.routing.canary.as_ref().map(|(v, w)| (resolve(v), *w));
    let canary_ref = canary.as_ref().map(|(v, w)| (v.as_str(), *w));
    let route = Route {
        primary: &primary,
        canary: canary_ref,
    };
    match (&plan.alias, &observed.alias) {
        (AliasStep::Create, _) => {
            lambda.create_alias(function, &request.alias, &primary).await?;
            log.step(&format!(
                "alias {} created: {}",
                request.alias,
                routing_text(route)
            ));
        }
        (AliasStep::Update { .. }, Some(before)) => {
            let record = alias::promotion_record(before, &primary);
            alias::update(lambda, log, function, before, route, record.as_ref()).await?;
        }
        _ => log.step(&format!(
            "alias {} unchanged: {}",
            request.alias,
            routing_text(route)
        )),
    }
    Ok(published)
}

fn narrate_plan(plan: &Plan, request: &DeployRequest, log: &Log) {
    match plan.code {
        CodeStep::None => log.step("would upload nothing and publish nothing"),
        CodeStep::PublishLatest => log.step("would publish the code already in $LATEST (no upload)"),
        CodeStep::UploadAndPublish => log.step(&format!(
            "would upload the zip to {} and publish it",
            request.function
        )),
    }
    let name = |v: &Version| match v {
        Version::Existing(n) => n.clone(),
        Version::New => "new".to_string(),
    };
    let primary = name(&plan.routing.primary);
    let canary = plan.routing.canary.as_ref().map(|(v, w)| (name(v), *w));
    let target = routing_text(Route {
        primary: &primary,
        canary: canary.as_ref().map(|(v, w)| (v.as_str(), *w)),
    });
    match plan.alias {
        AliasStep::None => log.step(&format!(
            "would leave alias {} as it is ({target})",
            request.alias
        )),
        AliasStep::Create => log.step(&format!("would create alias {}: {target}", request.alias)),
        AliasStep::Update { .. } => log.step(&format!("would point alias {} at {target}", request.alias)),
    }
}

fn report(
    request: &DeployRequest,
    package: &Package,
    observed: &Observed,
    plan: &Plan,
    published: Option<&str>,
) -> AliasReport {
    let resolve = |v: &Version| v.resolve(published).unwrap_or_default();
    let primary = resolve(&plan.routing.primary);
    let (version, previous_version, canary_weight) = match &plan.routing.canary {
        Some((canary, weight)) => (resolve(canary), primary, *weight),
        None => {
            let replaced = plan.previous_primary.clone().filter(|p| *p != primary);
            (primary, replaced.unwrap_or_default(), 1.0)
        }
    };
    AliasReport {
        version,
        previous_version,
        skipped: plan.outcome == plan::Outcome::Skipped,
        canary_weight,
        ..AliasReport::for_deploy(observed, request, package, plan.outcome)
    }
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
