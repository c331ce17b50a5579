//! `deploy`: package, observe the alias, decide with [`plan::deploy`], then
//! either apply the plan here (one canary weight) or hand the new version to
//! an engine — `inline` (a staged rollout watched by health gates, in this
//! process) or `codedeploy` (AWS CodeDeploy shifts the traffic). A
//! conflicting concurrent write makes it observe and plan once more.

mod codedeploy;
mod gates;
mod inline;
mod publish;

use publish::{Deploy, Handover};

use crate::aws::Clients;
use crate::cli::manifest::Code;
use crate::cli::settings::{DeployJob, DeployRequest, DeploySettings};
use crate::commands::alias;
use crate::commands::prune::prune_function;
use crate::commands::runner::{per_function, replan_once};
use crate::core::observed::{Observed, Route, weighted_route_refused};
use crate::core::plan::{self, AliasStep, CodeStep, Outcome, Plan, Version};
use crate::core::prune::Keep;
use crate::error::{Error, Result};
use crate::log::Log;
use crate::package::{self, Package};
use crate::report::AliasReport;
use crate::report::output::plural;

/// The `deploy` command: package, connect, deploy, report. A rollout that
/// rolled back fails the job (its outputs say what happened).
pub async fn run(settings: DeploySettings) -> Result<()> {
    let DeploySettings { run, jobs } = &settings;
    let log = run.log;
    // One function: its package is built (and refused) before any request.
    let single = match (run.fleet, jobs.first()) {
        (None, Some(job)) => Some(package_checked(
            &job.code,
            &job.excludes,
            job.request.s3.is_some(),
            Some(&log),
        )?),
        _ => None,
    };
    let report = per_function(run, jobs, async |clients, job| {
        let report = match &single {
            Some(package) => deploy(clients, &job.request, package, log).await?,
            None => {
                let package = package_off_thread(job).await?;
                deploy(clients, &job.request, &package, log).await?
            }
        };
        prune_after(clients, &job.request, report, &log).await
    })
    .await?;
    match report {
        Some(report) if report.result == Outcome::RolledBack => Err(Error::Reported(Box::new(
            Error::failed(format!("rolled back: {}", report.rollback_reason)),
        ))),
        Some(report) if report.result == Outcome::Stopped => Err(Error::Reported(Box::new(
            Error::Interfered(report.rollback_reason),
        ))),
        _ => Ok(()),
    }
}

/// `--keep-versions N`: after a successful deploy (never after a rollback or
/// a stop), delete old versions but the N newest besides the protected ones.
async fn prune_after(
    clients: &Clients,
    request: &DeployRequest,
    mut report: AliasReport,
    log: &Log,
) -> Result<AliasReport> {
    let Some(newest) = request.keep_versions else {
        return Ok(report);
    };
    if matches!(report.result, Outcome::RolledBack | Outcome::Stopped) {
        log.step("not pruning: the deploy did not succeed");
        return Ok(report);
    }
    let keep = Keep {
        newest: Some(newest),
        younger_than: None,
    };
    let pruned = prune_function(&clients.lambda, log, &request.function, keep, request.dry_run).await?;
    report.pruned = pruned.pruned;
    Ok(report)
}

/// Build or read the zip; refuse one over the direct-upload limit without S3.
/// `log`: narrate it (one function; a manifest run does not).
fn package_checked(code: &Code, excludes: &[String], s3: bool, log: Option<&Log>) -> Result<Package> {
    let package = match code {
        Code::Source(dir) => package::build(dir, excludes)?,
        Code::Zip(zip) => package::load_zip(zip)?,
    };
    if let Some(log) = log {
        log.step(&format!(
            "package: {}, {} zipped, CodeSha256 {}",
            plural(package.files, "file"),
            package::human_bytes(package.zip.len() as u64),
            package.code_sha256
        ));
    }
    if package.exceeds_direct_upload() && !s3 {
        return Err(Error::usage(format!(
            "the zip is {}, over Lambda's {} direct-upload limit: set --s3-bucket (and optionally --s3-key-prefix) to deploy it through S3",
            package::human_bytes(package.zip.len() as u64),
            package::human_bytes(package::DIRECT_UPLOAD_LIMIT)
        )));
    }
    Ok(package)
}

/// Packaging is CPU work: keep it off the thread that drives the requests.
async fn package_off_thread(job: &DeployJob) -> Result<Package> {
    let (code, excludes, s3) = (job.code.clone(), job.excludes.clone(), job.request.s3.is_some());
    tokio::task::spawn_blocking(move || package_checked(&code, &excludes, s3, None))
        .await
        .map_err(|e| Error::failed(format!("packaging stopped: {e}")))?
}

/// Observe, plan and apply one deploy; with `dry_run`, observe and plan only.
pub async fn deploy(
    clients: &Clients,
    request: &DeployRequest,
    package: &Package,
    log: Log,
) -> Result<AliasReport> {
    let target = (request.function.as_str(), request.alias.as_str());
    replan_once(&log, target, "deploying to it", async |look| {
        let (observed, plan) = observe_and_plan(clients, request, package, &log).await?;
        look.check(target, observed.alias.as_ref())?;
        let provisioned = provisioned_in_the_way(clients, request, &observed, &plan).await?;
        let engine = Deploy {
            clients,
            request,
            package,
            log: &log,
        };
        let about = engine.about();
        if let Some(target) = plan::rollout_target(&observed, &plan) {
            let handover = Handover {
                deploy: engine,
                observed: &observed,
                plan: &plan,
                target,
                provisioned,
            };
            // An engine is not re-planned: once it has run, traffic may have moved.
            if let Some(handoff) = &request.handoff {
                return codedeploy::run(handover, handoff).await.map_err(Error::settled);
            }
            if let Some(rollout) = &request.rollout {
                return inline::run(handover, rollout).await.map_err(Error::settled);
            }
        }
        if request.dry_run {
            narrate_plan(&plan, request, &log);
            return Ok(AliasReport::for_plan(
                about,
                &observed,
                &package.code_sha256,
                &plan,
                None,
            ));
        }
        let published = apply(clients, request, package, &observed, &plan, &log).await?;
        if provisioned && plan.alias != AliasStep::None {
            clients
                .lambda
                .wait_provisioned(&request.function, &request.alias)
                .await?;
        }
        Ok(AliasReport::for_plan(
            about,
            &observed,
            &package.code_sha256,
            &plan,
            published.as_deref(),
        ))
    })
    .await
}

/// Whether the alias has provisioned concurrency, read only when this deploy
/// would write the alias's routing (an unchanged deploy reads nothing more).
/// A weighted route on such an alias is refused before any write, as Lambda
/// would refuse it after the publish.
async fn provisioned_in_the_way(
    clients: &Clients,
    request: &DeployRequest,
    observed: &Observed,
    plan: &Plan,
) -> Result<bool> {
    let staged = request.rollout.is_some() && plan::rollout_target(observed, plan).is_some();
    if observed.alias.is_none() || (plan.alias == AliasStep::None && !staged) || request.handoff.is_some() {
        return Ok(false);
    }
    let Some(provisioned) = clients
        .lambda
        .alias_provisioned(&request.function, &request.alias)
        .await?
    else {
        return Ok(false);
    };
    let weighted_steps = staged
        && request
            .rollout
            .as_ref()
            .is_some_and(|r| r.steps.iter().any(|s| s.weight < 1.0 - 1e-9));
    if weighted_steps || (!staged && plan.routing.canary.is_some()) {
        return Err(Error::usage(weighted_route_refused(
            &request.function,
            &request.alias,
            &provisioned,
        )));
    }
    Ok(true)
}

/// Observe the alias (and `$LATEST` when the plan has code to publish) and plan.
async fn observe_and_plan(
    clients: &Clients,
    request: &DeployRequest,
    package: &Package,
    log: &Log,
) -> Result<(Observed, Plan)> {
    let lambda = &clients.lambda;
    let wanted = plan::Request {
        code_sha256: package.code_sha256.clone(),
        weight: request.weight,
    };
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
    Ok((observed, plan))
}

/// The routing a plan leads to, with `name` for each version.
fn routing_text(plan: &Plan, name: impl Fn(&Version) -> String) -> String {
    let primary = name(&plan.routing.primary);
    let canary = plan.routing.canary.as_ref().map(|(v, w)| (name(v), *w));
    Route {
        primary: &primary,
        canary: canary.as_ref().map(|(v, w)| (v.as_str(), *w)),
    }
    .text()
}

/// Carry out the plan. Returns the version this run published, if any.
async fn apply(
    clients: &Clients,
    request: &DeployRequest,
    package: &Package,
    observed: &Observed,
    plan: &Plan,
    log: &Log,
) -> Result<Option<String>> {
    let (lambda, function) = (&clients.lambda, request.function.as_str());
    let deploy = Deploy {
        clients,
        request,
        package,
        log,
    };
    let published = publish::publish_code(deploy, observed, plan).await?;
    let resolve = |v: &Version| v.resolve(published.as_deref()).unwrap_or_default();
    let primary = resolve(&plan.routing.primary);
    let canary = plan.routing.canary.as_ref().map(|(v, w)| (resolve(v), *w));
    let route = Route {
        primary: &primary,
        canary: canary.as_ref().map(|(v, w)| (v.as_str(), *w)),
    };
    match (&plan.alias, &observed.alias) {
        (AliasStep::Create, _) => {
            alias::create(lambda, log, function, &request.alias, &primary).await?;
            log.step(&format!("alias {} created: {}", request.alias, route.text()));
        }
        (AliasStep::Update { .. }, Some(before)) => {
            let record = plan::promotion_record(before, &primary);
            alias::update(lambda, log, function, before, route, record.as_ref()).await?;
        }
        _ => log.step(&format!("alias {} unchanged: {}", request.alias, route.text())),
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
    let target = routing_text(plan, |v| match v {
        Version::Existing(n) => n.clone(),
        Version::New => "new".to_string(),
    });
    let alias = &request.alias;
    match plan.alias {
        AliasStep::None => log.step(&format!("would leave alias {alias} as it is ({target})")),
        AliasStep::Create => log.step(&format!("would create alias {alias}: {target}")),
        AliasStep::Update { .. } => log.step(&format!("would point alias {alias} at {target}")),
    }
}
