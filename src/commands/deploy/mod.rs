//! `deploy`: package, observe the alias, decide with [`plan::deploy`], then
//! either apply the plan here (one canary weight) or hand the new version to
//! an engine — `inline` (a staged rollout watched by health gates, in this
//! process) or `codedeploy` (AWS CodeDeploy shifts the traffic). A
//! conflicting concurrent write makes it observe and plan once more.

mod codedeploy;
pub mod gates;
pub mod inline;
mod publish;

use std::collections::HashMap;
use std::sync::Arc;

pub use publish::Code;
use publish::{Deploy, Handover};

use crate::aws::Clients;
use crate::cli::manifest;
use crate::cli::settings::{DeployJob, DeployRequest, DeploySettings};
use crate::commands::alias;
use crate::commands::prune::prune_function;
use crate::commands::replan::replan_once;
use crate::commands::runner::per_function;
use crate::core::entry;
use crate::core::fleet::Intent;
use crate::core::observed::{AliasNow, Observed, Route, weighted_route_refused};
use crate::core::plan::{self, AliasStep, CodeStep, Outcome, Plan, Version, configure_text};
use crate::core::prune::Keep;
use crate::core::values::ImageRef;
use crate::error::{Error, Result};
use crate::log::Log;
use crate::package::{self, Package};
use crate::platform::Platform;
use crate::report::AliasReport;
use crate::report::output::plural;

mod after;
mod apply;
mod checks;
mod packaged;

pub use after::prune_after;
use after::*;
use apply::*;
use checks::*;
pub use packaged::image_code;
use packaged::*;

/// The `deploy` command: package, connect, deploy, report. A rollout that
/// rolled back fails the job (its outputs say what happened).
pub async fn run(settings: DeploySettings) -> Result<()> {
    let DeploySettings { run, jobs } = &settings;
    let log = run.log;
    // One function: its package is built (and refused) before any request.
    let single = match (run.fleet, jobs.first()) {
        (None, Some(job)) if !matches!(job.code, manifest::Code::Image(_)) => Some(Code::Zip(
            package_checked(&job.code, &job.excludes, job.request.s3.is_some(), Some(&log))?,
        )),
        _ => None,
    };
    // A source or zip several targets share (one function in several
    // regions or accounts) is packaged once: every target gets the same bytes.
    let packaged = Packaged::default();
    if run.fleet.is_some() {
        packaged.build_all(jobs, &log)?;
    }
    let check = async |clients: &Clients, job: &DeployJob| preflight_check(clients, job, &packaged).await;
    let report = per_function(run, jobs, (Intent::Release, check), async |clients, job| {
        // In a run over several account-regions, its lines name the target's.
        let log = clients.log;
        let report = match &single {
            Some(code) => deploy(clients, &job.request, code, log).await?,
            None => {
                let code = packaged.code_of(clients, job, &log).await?;
                if job.check_only {
                    return serves_the_release(clients, job, &code, &log).await;
                }
                deploy(clients, &job.request, &code, log).await?
            }
        };
        let report = url_after(clients, &job.request, report, &log).await?;
        let report = tags_after(clients, &job.request, report, &log).await?;
        let request = &job.request;
        let keep = (request.function.as_str(), request.keep_versions, request.dry_run);
        prune_after(&clients.lambda, keep, report, &log).await
    })
    .await?;
    exit_status(report)
}

/// A one-function deploy's exit status, from the report it printed: a
/// rollout that rolled back or was stopped fails, and so does a prune
/// after it that failed. (A fleet's is its summary's.)
pub fn exit_status(report: Option<AliasReport>) -> Result<()> {
    match report {
        Some(report) if report.result == Outcome::RolledBack => Err(Error::Reported(Box::new(
            Error::failed(format!("rolled back: {}", report.rollback_reason)),
        ))),
        Some(report) if report.result == Outcome::Stopped => Err(Error::Reported(Box::new(
            Error::Interfered(report.rollback_reason),
        ))),
        Some(report) if !report.prune_error.is_empty() => {
            Err(Error::Reported(Box::new(Error::failed(format!(
                "the deploy succeeded ({}), but pruning old versions failed: {}",
                report.result.as_str(),
                report.prune_error
            )))))
        }
        _ => Ok(()),
    }
}

/// `--wave NAME`: a target of an earlier wave is only checked — it must
/// serve this release already, whole (no canary, nothing to publish or
/// route), or the run stops.
pub fn serving_checked(observed: &Observed, plan: &Plan, job: &DeployJob) -> Result<()> {
    let serves = observed.alias.as_ref().is_some_and(|a| a.canary.is_none())
        && plan.code == CodeStep::None
        && plan.alias == AliasStep::None;
    if serves {
        return Ok(());
    }
    Err(Error::failed(format!(
        "{}:{} does not serve this release yet, and wave {} runs before this one: deploy that wave first",
        job.request.function, job.request.alias, job.wave.name
    )))
}

/// A manifest target's deploy-only reads in preflight, before the first
/// write anywhere: its alias must not serve `$LATEST`, and a canary of new
/// code must not leave an entry point on `$LATEST` (unless
/// `--allow-latest-triggers`). The read of what invokes the function is
/// kept for the deploy that follows soon, so a first wave reads it once. A
/// target whose code is unchanged is left to its own plan (it may route no
/// canary at all).
async fn preflight_check(clients: &Clients, job: &DeployJob, packaged: &Packaged) -> Result<()> {
    let request = &job.request;
    let (function, alias) = (request.function.as_str(), request.alias.as_str());
    let Some(primary) = clients.lambda.alias_primary(function, alias).await? else {
        return Ok(());
    };
    if let Some(refused) = plan::serving_latest_refused(function, alias, &primary.version) {
        return Err(Error::usage(refused));
    }
    let canary = staged_routes_weighted(request)
        .unwrap_or_else(|| request.weight.is_none_or(|w| w.fraction() < 1.0 - 1e-9));
    let unchanged = packaged
        .identity(job)
        .is_some_and(|hash| hash == primary.code_sha256);
    if job.check_only || request.allow_latest_triggers || !canary || unchanged {
        return Ok(());
    }
    let points = clients
        .lambda
        .entry_points(function, &primary.function_arn, alias)
        .await?;
    if let Some(refusal) = entry::latest_refusal(function, alias, &points.found) {
        return Err(Error::usage(refusal));
    }
    clients.lambda.keep_entry_points(function, alias, points);
    Ok(())
}

/// `deploy --wave`: a target of an earlier wave must already serve this
/// release (a deploy of it would change nothing: its primary holds the code
/// and configuration, with no canary). Reads only.
async fn serves_the_release(
    clients: &Clients,
    job: &DeployJob,
    code: &Code,
    log: &Log,
) -> Result<AliasReport> {
    let with_values = with_parameters(clients, &job.request, log).await?;
    let request = with_values.as_ref().unwrap_or(&job.request);
    let (observed, plan) = observe_and_plan(clients, request, code, log).await?;
    serving_checked(&observed, &plan, job)?;
    let deploy = Deploy {
        clients,
        request,
        code,
        log,
    };
    Ok(AliasReport::for_plan(
        deploy.about(),
        &observed,
        code.identity(),
        &plan,
        None,
    ))
}

/// The request with the values of its `{"FromParameter": NAME}` variables
/// read from Parameter Store (in the target's account and region), before
/// anything is observed or written; `None` when it names none. A parameter
/// that is missing or may not be read stops the deploy (exit 2) naming it;
/// values are never shown.
async fn with_parameters(
    clients: &Clients,
    request: &DeployRequest,
    log: &Log,
) -> Result<Option<DeployRequest>> {
    let Some(environment) = request
        .config
        .as_ref()
        .and_then(|c| c.environment.as_ref())
        .filter(|e| !e.parameters.is_empty())
    else {
        return Ok(None);
    };
    let names: Vec<String> = environment
        .parameters
        .values()
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    log.step(&format!(
        "reading {} from Parameter Store",
        plural(names.len(), "parameter")
    ));
    let values = clients.ssm.values(&names).await?;
    let mut environment = environment.clone();
    for (variable, parameter) in std::mem::take(&mut environment.parameters) {
        environment
            .variables
            .0
            .insert(variable, values[&parameter].clone());
    }
    environment.variables.check().map_err(|why| {
        Error::usage(format!(
            "--function-config: {why} (with the values read from Parameter Store)"
        ))
    })?;
    let mut request = request.clone();
    if let Some(config) = request.config.as_mut() {
        config.environment = Some(environment);
    }
    Ok(Some(request))
}

/// Observe, plan and apply one deploy; with `dry_run`, observe and plan only.
pub async fn deploy(
    clients: &Clients,
    request: &DeployRequest,
    code: &Code,
    log: Log,
) -> Result<AliasReport> {
    let with_values = with_parameters(clients, request, &log).await?;
    let request = with_values.as_ref().unwrap_or(request);
    let target = (request.function.as_str(), request.alias.as_str());
    let mut bypasses = Vec::new();
    let mut report = replan_once(&log, target, "deploying to it", async |look| {
        let (observed, plan) = observe_and_plan(clients, request, code, &log).await?;
        look.check(target, observed.alias.as_ref())?;
        refuse_unshareable(request, code, &observed, &plan)?;
        let provisioned = provisioned_in_the_way(clients, request, &observed, &plan).await?;
        bypasses = refuse_bypassed_canary(clients, request, &observed, &plan, &log).await?;
        let engine = Deploy {
            clients,
            request,
            code,
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
                code.identity(),
                &plan,
                None,
            ));
        }
        let (published, created_alias) = apply(clients, request, code, &observed, &plan, &log).await?;
        if provisioned && plan.alias != AliasStep::None {
            clients
                .lambda
                .wait_provisioned(&request.function, &request.alias)
                .await?;
        }
        let mut report =
            AliasReport::for_plan(about, &observed, code.identity(), &plan, published.as_deref());
        if let Some(alias_arn) = created_alias.filter(|_| observed.function_arn.is_empty()) {
            report.function_arn = alias_arn
                .strip_suffix(&format!(":{}", request.alias))
                .unwrap_or_default()
                .to_string();
            report.alias_arn = alias_arn;
        }
        Ok(report)
    })
    .await?;
    report.bypasses = bypasses;
    Ok(report)
}

/// What the plan compares: the code's identity and the file's keys.
fn wanted(request: &DeployRequest, code: &Code) -> plan::Request {
    plan::Request {
        code_sha256: code.identity().to_string(),
        config: request.config.clone(),
        weight: request.weight,
    }
}

/// Observe the alias and `$LATEST` together, check that the release fits
/// the function (zip or image; what creating it needs), and plan.
async fn observe_and_plan(
    clients: &Clients,
    request: &DeployRequest,
    code: &Code,
    log: &Log,
) -> Result<(Observed, Plan)> {
    let lambda = &clients.lambda;
    let function = request.function.as_str();
    let wanted = wanted(request, code);
    log.step(&format!("observing {function}:{}", request.alias));
    let observed = lambda.observe_with_latest(function, &request.alias).await?;
    if let Some(refusal) = plan::latest_alias_refused(function, &request.alias, &observed) {
        return Err(Error::usage(refusal));
    }
    fits_the_function(request, code, &observed)?;
    let plan = plan::deploy(&observed, &wanted);
    for note in &plan.notes {
        log.warn(note);
    }
    if let Some(changes) = configure_text(&plan) {
        log.step(&format!("configuration: {changes}"));
    }
    Ok((observed, plan))
}
