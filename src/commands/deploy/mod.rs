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
use crate::core::config::{missing_for_create, wrong_for_package};
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
    let serves = observed.alias.as_ref().is_some_and(|a| a.canary.is_none())
        && plan.code == CodeStep::None
        && plan.alias == AliasStep::None;
    if !serves {
        return Err(Error::failed(format!(
            "{}:{} does not serve this release yet, and wave {} runs before this one: deploy that wave first",
            request.function, request.alias, job.wave.name
        )));
    }
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

/// `Tags` in the release file: once the deploy did not roll back or stop,
/// the function's tags become exactly the file's (`aws:` tags aside). Tags
/// belong to the function, not to a version: they are not canaried, and a
/// later rollback leaves them as they are.
async fn tags_after(
    clients: &Clients,
    request: &DeployRequest,
    mut report: AliasReport,
    log: &Log,
) -> Result<AliasReport> {
    let Some(wanted) = request.config.as_ref().and_then(|c| c.tags.as_ref()) else {
        return Ok(report);
    };
    if matches!(report.result, Outcome::RolledBack | Outcome::Stopped) {
        return Ok(report);
    }
    let function = request.function.as_str();
    // A dry run that would create the function has no tags to read.
    let current = if report.function_arn.is_empty() {
        std::collections::BTreeMap::new()
    } else {
        clients.lambda.tags(&report.function_arn).await?
    };
    let changes = crate::core::tags::changes(&current, wanted);
    if changes.is_empty() {
        log.step(&format!("the tags of {function} are as the file says"));
    } else if request.dry_run {
        log.step(&format!(
            "would change the tags of {function} (the function's, not the version's: neither canaried nor rolled back): {}",
            changes.lines.join("; ")
        ));
    } else {
        log.step(&format!(
            "tags of {function} (the function's, not the version's: neither canaried nor rolled back): {}",
            changes.lines.join("; ")
        ));
        clients.lambda.retag(&report.function_arn, &changes).await.map_err(|err| {
            Error::failed(format!(
                "the deploy succeeded ({}, version {}), but the tags were not written: {err}; a re-run writes them",
                report.result.as_str(),
                report.version
            ))
        })?;
    }
    report.tags = changes.lines;
    Ok(report)
}

/// `--function-url FILE`: after a deploy that did not roll back, the URL on
/// the alias is created when missing, updated when it differs from the
/// file, left alone when equal; a public one (`AuthType` `NONE`) gets the
/// permissions Lambda requires on the alias, each added once.
async fn url_after(
    clients: &Clients,
    request: &DeployRequest,
    mut report: AliasReport,
    log: &Log,
) -> Result<AliasReport> {
    let Some(wanted) = &request.function_url else {
        return Ok(report);
    };
    if matches!(report.result, Outcome::RolledBack | Outcome::Stopped) {
        return Ok(report);
    }
    let (lambda, function, alias) = (&clients.lambda, request.function.as_str(), request.alias.as_str());
    let current = lambda.alias_url(function, alias).await?;
    let was_public = current.as_ref().is_some_and(|(_, now)| now.is_public());
    let changed = current.as_ref().map(|(_, now)| wanted.differences(now));
    if request.dry_run {
        log.step(&match &changed {
            None => format!(
                "would create a function URL on alias {alias} (AuthType {})",
                wanted.auth_type
            ),
            Some(keys) if keys.is_empty() => format!("the function URL of alias {alias} is as the file says"),
            Some(keys) => format!(
                "would update the function URL of alias {alias}: {}",
                keys.join(", ")
            ),
        });
        report.function_url = current.map(|(url, _)| url).unwrap_or_default();
        return Ok(report);
    }
    let url = match (current, changed) {
        (Some((url, _)), Some(keys)) if keys.is_empty() => {
            log.step(&format!(
                "function URL of alias {alias} is as the file says: {url}"
            ));
            url
        }
        (Some(_), Some(keys)) => {
            log.step(&format!(
                "updating the function URL of alias {alias}: {}",
                keys.join(", ")
            ));
            lambda.put_url(function, alias, wanted, true).await?
        }
        _ => {
            let url = lambda.put_url(function, alias, wanted, false).await?;
            log.step(&format!("created a function URL on alias {alias}: {url}"));
            url
        }
    };
    if wanted.is_public() {
        let added = lambda.ensure_public_url_permissions(function, alias).await?;
        if !added.is_empty() {
            log.step(&format!(
                "added the public permissions a URL with AuthType NONE needs on alias {alias}: {}",
                added.join(", ")
            ));
        }
    } else if was_public {
        let removed = lambda.remove_public_url_permissions(function, alias).await?;
        if !removed.is_empty() {
            log.step(&format!(
                "the URL of alias {alias} is no longer public: removed the public permissions this tool had added: {}",
                removed.join(", ")
            ));
        }
    }
    report.function_url = url;
    Ok(report)
}

/// `--keep-versions N`: after a successful deploy (never after a rollback or
/// a stop), delete old versions but the N newest besides the protected ones.
/// On every platform; `keep`: the function, N, `--dry-run`.
pub async fn prune_after<P: Platform>(
    platform: &P,
    (function, keep_versions, dry_run): (&str, Option<usize>, bool),
    mut report: AliasReport,
    log: &Log,
) -> Result<AliasReport> {
    let Some(newest) = keep_versions else {
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
    // The deploy stands whatever the prune does: its failure is reported
    // with the deploy, not instead of it.
    match prune_function(platform, log, function, keep, dry_run).await {
        Ok(pruned) => report.pruned = pruned.pruned,
        Err(err) => report.prune_error = err.to_string(),
    }
    Ok(report)
}

/// Build or read the zip; refuse one over the direct-upload limit without S3.
/// `log`: narrate it (one function; a manifest run does not).
fn package_checked(
    code: &manifest::Code,
    excludes: &[String],
    s3: bool,
    log: Option<&Log>,
) -> Result<Package> {
    let package = match code {
        manifest::Code::Source(dir) => package::build(dir, excludes)?,
        manifest::Code::Zip(zip) => package::load_zip(zip)?,
        manifest::Code::Image(_) => return Err(Error::usage("a container image is not packaged")),
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

/// The job's code: an image resolved to its digest through ECR, or the
/// package built off the thread that drives the requests (CPU work).
async fn code_of(clients: &Clients, job: &DeployJob) -> Result<Code> {
    if let manifest::Code::Image(image) = &job.code {
        return image_code(clients, image).await;
    }
    let (code, excludes, s3) = (job.code.clone(), job.excludes.clone(), job.request.s3.is_some());
    let package = tokio::task::spawn_blocking(move || package_checked(&code, &excludes, s3, None))
        .await
        .map_err(|e| Error::failed(format!("packaging stopped: {e}")))??;
    Ok(Code::Zip(package))
}

/// The packages a manifest run has built, by what they were built from.
#[derive(Default)]
struct Packaged {
    built: std::sync::Mutex<HashMap<String, Arc<tokio::sync::OnceCell<Result<Package>>>>>,
}

impl Packaged {
    /// Every target's package, built (once per source or zip) before the
    /// first request of a manifest run: a source with a link out of its
    /// tree, a corrupt zip or one too large without a bucket stops the run
    /// (exit 2) naming every target that ships it, before anything is
    /// written anywhere.
    fn build_all(&self, jobs: &[DeployJob], log: &Log) -> Result<()> {
        let mut problems = Vec::new();
        for job in jobs
            .iter()
            .filter(|j| !matches!(j.code, manifest::Code::Image(_)))
        {
            let key = Self::key(job);
            let known = self
                .built
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&key)
                .cloned();
            let built = match known {
                Some(cell) => cell
                    .get()
                    .cloned()
                    .unwrap_or_else(|| Err(Error::failed("not built"))),
                None => {
                    let built = package_checked(&job.code, &job.excludes, job.request.s3.is_some(), None);
                    if let Ok(package) = &built {
                        narrate_shared(job, package, log);
                    }
                    let cell = Arc::new(tokio::sync::OnceCell::new_with(Some(built.clone())));
                    self.built
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(key, cell);
                    built
                }
            };
            if let Err(err) = built {
                problems.push(format!(
                    "{}:{} in {}: {err}",
                    job.request.function, job.request.alias, job.place
                ));
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(Error::usage(format!(
            "preflight found {} problem{} before any write, so nothing was written anywhere:\n  - {}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            problems.join("\n  - ")
        )))
    }

    /// The CodeSha256 of the job's package, once built (zips only).
    fn identity(&self, job: &DeployJob) -> Option<String> {
        let built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        let cell = built.get(&Self::key(job))?;
        cell.get()?.as_ref().ok().map(|p| p.code_sha256.clone())
    }

    fn key(job: &DeployJob) -> String {
        format!("{:?}|{:?}|{}", job.code, job.excludes, job.request.s3.is_some())
    }

    /// The job's code, packaged once for every job that names the same
    /// source or zip with the same excludes (images are resolved per region).
    async fn code_of(&self, clients: &Clients, job: &DeployJob, log: &Log) -> Result<Code> {
        if matches!(job.code, manifest::Code::Image(_)) {
            return code_of(clients, job).await;
        }
        let key = Self::key(job);
        let cell = Arc::clone(
            self.built
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .entry(key)
                .or_default(),
        );
        let package = cell
            .get_or_init(|| async {
                match code_of(clients, job).await {
                    Ok(Code::Zip(package)) => {
                        narrate_shared(job, &package, log);
                        Ok(package)
                    }
                    Ok(Code::Image { .. }) => Err(Error::failed("an image is not packaged")),
                    Err(err) => Err(err),
                }
            })
            .await;
        package.clone().map(Code::Zip)
    }
}

/// The package a manifest's targets share, built.
fn narrate_shared(job: &DeployJob, package: &Package, log: &Log) {
    log.step(&format!(
        "package {}: {}, {} zipped, CodeSha256 {} (once, for every target that ships it)",
        job.code,
        plural(package.files, "file"),
        package::human_bytes(package.zip.len() as u64),
        package.code_sha256
    ));
}

/// An image release: the image as ECR names it now, by digest.
pub async fn image_code(clients: &Clients, image: &ImageRef) -> Result<Code> {
    let digest = clients.ecr.digest(image).await?;
    Ok(Code::Image {
        uri: image.by_digest(&digest),
        digest: digest.trim_start_matches("sha256:").to_string(),
    })
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
    if routes_weighted(request, observed, plan) {
        return Err(Error::usage(weighted_route_refused(
            &request.function,
            &request.alias,
            &provisioned,
        )));
    }
    Ok(true)
}

/// Whether the plan puts the new release beside another version at a
/// weight: a canary below 100 % (the default weight included), a staged
/// rollout with a step below 100 %, or a CodeDeploy hand-off that is not
/// all at once.
fn routes_weighted(request: &DeployRequest, observed: &Observed, plan: &Plan) -> bool {
    if plan::rollout_target(observed, plan).is_none() {
        return plan.routing.canary.is_some();
    }
    staged_routes_weighted(request).unwrap_or_else(|| plan.routing.canary.is_some())
}

/// Whether the engine the request hands the new version to routes it at a
/// weight: a CodeDeploy hand-off that is not all at once, or a staged
/// rollout with a step below 100 %. `None` without either (one weight).
fn staged_routes_weighted(request: &DeployRequest) -> Option<bool> {
    match (&request.handoff, &request.rollout) {
        (Some(handoff), _) => Some(!handoff.config_name.contains("AllAtOnce")),
        (None, Some(rollout)) => Some(rollout.steps.iter().any(|s| s.weight < 1.0 - 1e-9)),
        (None, None) => None,
    }
}

/// A release that changes the role or the dead-letter target cannot share
/// a weighted alias with the version it replaces: refused before any write.
fn refuse_unshareable(request: &DeployRequest, code: &Code, observed: &Observed, plan: &Plan) -> Result<()> {
    let wanted = wanted(request, code);
    let differences = plan::unshareable(observed, &wanted, plan);
    if !differences.is_empty() && routes_weighted(request, observed, plan) {
        return Err(Error::usage(plan::unshareable_refused(
            &request.function,
            &request.alias,
            &differences,
        )));
    }
    Ok(())
}

/// A canary of new code or configuration is weighted on the alias only:
/// what invokes the unqualified function runs `$LATEST`, which the upload
/// makes the new release at 100 %. Such a deploy is refused before the
/// upload (unless `--allow-latest-triggers`); entry points pinned to a
/// version or on another alias are warnings. Reads only, and only when the
/// deploy would publish and route weighted.
async fn refuse_bypassed_canary(
    clients: &Clients,
    request: &DeployRequest,
    observed: &Observed,
    plan: &Plan,
    log: &Log,
) -> Result<Vec<String>> {
    if observed.function_missing || plan.code == CodeStep::None || !routes_weighted(request, observed, plan) {
        return Ok(Vec::new());
    }
    alias::refuse_bypassed(
        &clients.lambda,
        log,
        (&request.function, &request.alias),
        &observed.function_arn,
        request.allow_latest_triggers,
    )
    .await
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

/// A zip for an image function (or an image for a zip function) is refused,
/// as is creating a function without the keys creating needs.
fn fits_the_function(request: &DeployRequest, code: &Code, observed: &Observed) -> Result<()> {
    let function = &request.function;
    let kind = if code.is_image() {
        "a container image"
    } else {
        "a zip"
    };
    let wrong = request
        .config
        .as_ref()
        .map(|config| wrong_for_package(config, code.is_image()))
        .unwrap_or_default();
    if !wrong.is_empty() {
        return Err(Error::usage(format!(
            "--function-config names {} for {function}, whose code is {kind}: {}",
            wrong.join(", "),
            if code.is_image() {
                "an image brings its own runtime, handler and dependencies; remove those keys"
            } else {
                "ImageConfig is for image functions; remove it"
            }
        )));
    }
    if observed.function_missing {
        let (needs, missing) = match &request.config {
            None => (None, Vec::new()),
            Some(config) => (Some(config), missing_for_create(config, code.is_image())),
        };
        let keys = if code.is_image() {
            "Role"
        } else {
            "Role, Runtime and Handler"
        };
        let absent = format!("function {function} does not exist (or is in another region or account)");
        return match needs {
            None => Err(Error::failed(format!(
                "{absent}: create it first, or give --function-config naming its {keys} so that deploy creates it"
            ))),
            Some(_) if !missing.is_empty() => Err(Error::usage(format!(
                "{absent}: to create it, --function-config must name {keys} (missing: {})",
                missing.join(", ")
            ))),
            Some(_) => Ok(()),
        };
    }
    match observed.latest.as_ref().map(|l| l.image) {
        Some(true) if !code.is_image() => Err(Error::usage(format!(
            "function {function} runs a container image (package type Image): deploy it with --image-uri, not a zip"
        ))),
        Some(false) if code.is_image() => Err(Error::usage(format!(
            "function {function} runs a zip (package type Zip): --image-uri is for image functions; deploy it with --source or --zip-file"
        ))),
        _ => Ok(()),
    }
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

/// Carry out the plan. Returns the version this run published, if any, and
/// the ARN of the alias it created.
async fn apply(
    clients: &Clients,
    request: &DeployRequest,
    code: &Code,
    observed: &Observed,
    plan: &Plan,
    log: &Log,
) -> Result<(Option<String>, Option<String>)> {
    let (lambda, function) = (&clients.lambda, request.function.as_str());
    let deploy = Deploy {
        clients,
        request,
        code,
        log,
    };
    let mut created = None;
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
            created = Some(alias::create(lambda, log, function, &request.alias, &primary).await?);
            log.step(&format!("alias {} created: {}", request.alias, route.text()));
        }
        (AliasStep::Update { .. }, Some(before)) => {
            let record = plan::promotion_record(before, &primary);
            let found = AliasNow::of(before);
            alias::update(lambda, log, function, (before, &found), route, record.as_ref()).await?;
        }
        _ => log.step(&format!("alias {} unchanged: {}", request.alias, route.text())),
    }
    Ok((published, created))
}

fn narrate_plan(plan: &Plan, request: &DeployRequest, log: &Log) {
    let function = &request.function;
    let configure = configure_text(plan);
    let configured = configure
        .as_ref()
        .map(|changes| format!(", update its configuration ({changes})"))
        .unwrap_or_default();
    match plan.code {
        CodeStep::None => log.step("would upload nothing, configure nothing and publish nothing"),
        CodeStep::PublishLatest => log.step(&format!(
            "would take the code already in $LATEST (no upload){configured} and publish it"
        )),
        CodeStep::UploadAndPublish => log.step(&format!(
            "would upload the code to {function}{configured} and publish it"
        )),
        CodeStep::Create => log.step(&format!(
            "would create function {function}{} and publish version 1",
            configure
                .map(|changes| format!(" with {changes}"))
                .unwrap_or_default()
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
