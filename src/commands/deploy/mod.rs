//! `deploy`, on every platform: package, observe the alias, decide with
//! [`plan::deploy`], then either apply the plan here (one canary, by weight
//! or by header rule where the platform routes by rule) or hand the new
//! version to an engine — `inline` (a staged rollout watched by health
//! gates, in this process) or a hand-off (AWS CodeDeploy shifts the
//! traffic). A conflicting concurrent write makes it observe and plan once
//! more. What differs by platform is behind [`Release`] (`lambda` here,
//! SCF's in `runner::scf`).

mod codedeploy;
pub mod gates;
pub mod inline;
mod lambda;
pub mod release;

use std::collections::HashMap;
use std::sync::Arc;

pub use release::Code;
use release::{Deploy, Handover};

use crate::aws::Clients;
use crate::cli::manifest;
use crate::cli::settings::{DeployJob, DeployRequest, DeploySettings};
use crate::commands::alias;
use crate::commands::prune::prune_function;
use crate::commands::replan::replan_once;
use crate::commands::runner::{Connect, per_function};
use crate::core::entry;
use crate::core::fleet::Intent;
use crate::core::observed::{AliasNow, Observed, Route, weighted_route_refused};
use crate::core::plan::{self, AliasStep, CodeStep, Outcome, Plan, Version, configure_text};
use crate::core::prune::Keep;
use crate::core::route::{self, CanaryRoute};
use crate::core::values::HeaderRule;
use crate::core::values::ImageRef;
use crate::error::{Error, Result};
use crate::log::Log;
use crate::package::{self, Package};
use crate::platform::{Look, Platform};
use crate::report::AliasReport;
use crate::report::output::plural;
use release::Release;

mod after;
mod apply;
pub mod checks;
mod packaged;

pub use after::prune_after;
use after::*;
use apply::*;
use checks::*;
pub use packaged::image_code;
use packaged::*;

/// The `deploy` command on the platform whose connection is `C`: package,
/// connect, deploy, report. A rollout that rolled back fails the job (its
/// outputs say what happened).
pub async fn run<C: Release + Connect>(settings: DeploySettings) -> Result<()> {
    let DeploySettings { run, jobs } = &settings;
    let log = run.log;
    // One function: its package is built (and refused) before any request.
    let single = match (run.fleet, jobs.first()) {
        (None, Some(job)) if !matches!(job.code, manifest::Code::Image(_)) => Some(Code::Zip(
            package_checked::<C>(&job.code, &job.excludes, job.request.s3.is_some(), Some(&log))?,
        )),
        _ => None,
    };
    // A source or zip several targets share (one function in several
    // regions or accounts) is packaged once: every target gets the same bytes.
    let packaged = Packaged::default();
    if run.fleet.is_some() {
        packaged.build_all::<C>(jobs, &log)?;
    }
    let check =
        async |conn: &C, job: &DeployJob| conn.preflight(job, packaged.identity(job).as_deref()).await;
    let report = per_function(run, jobs, (Intent::Release, check), async |conn: &C, job| {
        // In a run over several places, its lines name the target's.
        let log = *conn.log();
        let report = match &single {
            Some(code) => deploy(conn, &job.request, code, log).await?,
            None => {
                let code = packaged.code_of(conn, job, &log).await?;
                if job.check_only {
                    return serves_the_release(conn, job, &code, &log).await;
                }
                deploy(conn, &job.request, &code, log).await?
            }
        };
        let report = conn.after(&job.request, report, &log).await?;
        let request = &job.request;
        let keep = (request.function.as_str(), request.keep_versions, request.dry_run);
        prune_after(conn.platform(), keep, report, &log).await
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
async fn preflight_check(clients: &Clients, job: &DeployJob, identity: Option<&str>) -> Result<()> {
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
    let unchanged = identity.is_some_and(|hash| hash == primary.code_sha256);
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
async fn serves_the_release<C: Release>(
    conn: &C,
    job: &DeployJob,
    code: &Code,
    log: &Log,
) -> Result<AliasReport> {
    let with_values = conn.with_parameters(&job.request, log).await?;
    let request = with_values.as_ref().unwrap_or(&job.request);
    let decided = observe_and_plan(conn, request, code, log).await?;
    let (observed, plan) = (&decided.look.observed, &decided.plan);
    serving_checked(observed, plan, job)?;
    let deploy = Deploy {
        conn,
        request,
        code,
        log,
    };
    Ok(AliasReport::for_plan(
        deploy.about(),
        observed,
        code.identity(),
        plan,
        None,
    ))
}

/// The request with the values of its `{"FromParameter": NAME}` variables
/// read from Parameter Store (in the target's account and region), before
/// anything is observed or written; `None` when it names none. A parameter
/// that is missing or may not be read stops the deploy (exit 2) naming it;
/// values are never shown.
pub(super) async fn with_parameters(
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
pub async fn deploy<C: Release>(
    conn: &C,
    request: &DeployRequest,
    code: &Code,
    log: Log,
) -> Result<AliasReport> {
    let with_values = conn.with_parameters(request, &log).await?;
    let request = with_values.as_ref().unwrap_or(request);
    let target = (request.function.as_str(), request.alias.as_str());
    let mut bypasses = Vec::new();
    let mut report = replan_once(&log, target, "deploying to it", async |first| {
        let decided = observe_and_plan(conn, request, code, &log).await?;
        let Decided { look, plan, route } = &decided;
        let observed = &look.observed;
        first.check(target, observed.alias.as_ref())?;
        refuse_unshareable(request, code, observed, plan)?;
        let provisioned = provisioned_in_the_way(conn, request, observed, plan).await?;
        bypasses = refuse_bypassed_canary(conn, request, observed, plan, &log).await?;
        let engine = Deploy {
            conn,
            request,
            code,
            log: &log,
        };
        if let Some(target) = plan::rollout_target(observed, plan) {
            let handover = Handover {
                deploy: engine,
                observed,
                plan,
                target,
                provisioned,
            };
            // An engine is not re-planned: once it has run, traffic may have moved.
            if let Some(handoff) = &request.handoff {
                return conn.hand_off(handover, handoff).await.map_err(Error::settled);
            }
            if let Some(rollout) = &request.rollout {
                return inline::run(handover, rollout).await.map_err(Error::settled);
            }
        }
        let rule = route::wanted_rule(route.as_ref(), look.alias.as_ref());
        apply(engine, &decided, rule.as_ref(), provisioned).await
    })
    .await?;
    report.bypasses = bypasses;
    Ok(report)
}

/// How the request routes a new canary: by header rule, or by weight.
fn route_of(request: &DeployRequest) -> Option<CanaryRoute> {
    match (&request.header_rule, request.weight) {
        (Some(rule), _) => Some(CanaryRoute::Rule(rule.clone())),
        (None, Some(weight)) => Some(CanaryRoute::Weight(weight)),
        (None, None) => None,
    }
}

/// What the plan compares: the code's identity and the file's keys.
fn wanted(request: &DeployRequest, identity: &str) -> plan::Request {
    plan::Request {
        code_sha256: identity.to_string(),
        config: request.config.clone(),
        weight: route::planned_weight(route_of(request).as_ref()),
    }
}

/// What a deploy decided from its reads, before any write: the function
/// and alias as observed, the plan, and how the canary is routed.
pub(super) struct Decided {
    pub look: Look,
    pub plan: Plan,
    pub route: Option<CanaryRoute>,
}

/// Observe the alias and `$LATEST` together, check that the release fits
/// the function (zip or image; what creating it needs; a rule on the alias
/// this tool does not write), and plan.
async fn observe_and_plan<C: Release>(
    conn: &C,
    request: &DeployRequest,
    code: &Code,
    log: &Log,
) -> Result<Decided> {
    log.step(&format!("observing {}:{}", request.function, request.alias));
    let decided = decide(conn, request, (code.identity(), code.is_image())).await?;
    for note in &decided.plan.notes {
        log.warn(note);
    }
    if let Some(changes) = configure_text(&decided.plan) {
        log.step(&format!("configuration: {changes}"));
    }
    Ok(decided)
}

/// One look and the plan made from it, for a release of code named
/// `identity` (`image`: a container image): what the platform refuses of
/// the release, and a rule on the alias this tool does not write, refused
/// before any write. Reads only.
pub(super) async fn decide<C: Release>(
    conn: &C,
    request: &DeployRequest,
    (identity, image): (&str, bool),
) -> Result<Decided> {
    let (function, alias) = (request.function.as_str(), request.alias.as_str());
    let look = conn.observe_release(function, alias).await?;
    conn.refuse_unfit(request, image, &look.observed)?;
    let route = route_of(request);
    if let Some(refusal) = route::foreign_rule_refusal(route.as_ref(), look.alias.as_ref(), (function, alias))
    {
        return Err(Error::usage(refusal));
    }
    let plan = plan::deploy(&look.observed, &wanted(request, identity));
    Ok(Decided { look, plan, route })
}
