//! `deploy --platform scf`: package, skip what the alias already serves,
//! upload and publish, then route the new version by weight or by rule —
//! for one function, or every target of a manifest through the shared
//! runner (waves, bake, tolerance, `--wave`, `--on-wave-failure`).

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::cli::manifest::Code;
use crate::cli::settings::{DeployJob, DeploySettings};
use crate::commands::alias::judge_bypasses;
use crate::commands::deploy::{exit_status, prune_after, serving_checked};
use crate::commands::runner::per_function;
use crate::commands::scf::guard::{about, guarded_write};
use crate::commands::scf::place::ScfPlace;
use crate::commands::scf::rollout;
use crate::commands::scf::target::ScfRun;
use crate::core::config::differences_text;
use crate::core::fleet::Intent;
use crate::core::observed::AliasNow;
use crate::core::plan::{
    self, AliasStep, CodeStep, Outcome, Plan, Request, RolloutTarget, Version, configure_text,
};
use crate::core::record::Record;
use crate::core::route::{self, CanaryRoute};
use crate::core::values::HeaderRule;
use crate::error::{Error, Result};
use crate::package::{self, Package};
use crate::report::AliasReport;
use crate::scf::Scf;
use crate::scf::observe::{self, Look, version_description};

/// Largest zip SCF takes in the request itself (`ZipFile`).
pub const ZIP_FILE_LIMIT: usize = 20 * 1024 * 1024;

pub async fn run(settings: DeploySettings) -> Result<()> {
    let DeploySettings { run, jobs } = &settings;
    // Every target's package, built once per source or zip and checked
    // against SCF's limit before any request.
    let packages = Packages::build(jobs, run.fleet.is_none().then_some(&run.log))?;
    let check = async |place: &ScfPlace, job: &DeployJob| {
        let target = ScfRun::at(place, job);
        decide(&place.scf, &target, job, packages.of(job))
            .await
            .map(|_| ())
    };
    let report = per_function(
        run,
        jobs,
        (Intent::Release, check),
        async |place: &ScfPlace, job| {
            let target = ScfRun::at(place, job);
            let package = packages.of(job);
            if job.check_only {
                let decided = decide(&place.scf, &target, job, package).await?;
                serving_checked(&decided.look.observed, &decided.plan, job)?;
                return Ok(report_for(
                    &target,
                    &decided.look,
                    &package.1,
                    &decided.plan,
                    None,
                    Outcome::Skipped,
                ));
            }
            let report = release(&place.scf, &target, job, package).await?;
            let keep = (
                target.function.as_str(),
                job.request.keep_versions,
                target.dry_run,
            );
            prune_after(&place.scf, keep, report, &place.log).await
        },
    )
    .await?;
    exit_status(report)
}

/// The packages of a run, by what they were built from: the zip and its
/// SHA-256 in hex (as each version's description records it).
struct Packages(HashMap<String, (Package, String)>);

impl Packages {
    /// Every job's zip, once per source or zip file; a problem with any
    /// stops the run naming every target that ships it. `log`: narrate
    /// (one function).
    fn build(jobs: &[DeployJob], log: Option<&crate::log::Log>) -> Result<Packages> {
        let mut built: HashMap<String, (Package, String)> = HashMap::new();
        let mut problems = Vec::new();
        for job in jobs {
            let key = Self::key(job);
            if built.contains_key(&key) {
                continue;
            }
            match package_checked(&job.code, &job.excludes) {
                Ok(package) => {
                    let hash = hex_sha256(&package.zip);
                    if let Some(log) = log {
                        log.step(&format!(
                            "package: {} zipped, SHA-256 {hash}",
                            package::human_bytes(package.zip.len() as u64)
                        ));
                    }
                    built.insert(key, (package, hash));
                }
                Err(err) if log.is_some() => return Err(err),
                Err(err) => problems.push(format!(
                    "{}:{} in {}: {err}",
                    job.request.function, job.request.alias, job.place
                )),
            }
        }
        if problems.is_empty() {
            return Ok(Packages(built));
        }
        Err(Error::usage(format!(
            "preflight found {} problem{} before any write, so nothing was written anywhere:\n  - {}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            problems.join("\n  - ")
        )))
    }

    fn key(job: &DeployJob) -> String {
        format!("{:?}|{:?}", job.code, job.excludes)
    }

    fn of(&self, job: &DeployJob) -> &(Package, String) {
        &self.0[&Self::key(job)]
    }
}

/// How the request routes a new canary: by header rule, or by weight.
fn route_of(job: &DeployJob) -> Option<CanaryRoute> {
    match (&job.request.header_rule, job.request.weight) {
        (Some(rule), _) => Some(CanaryRoute::Rule(rule.clone())),
        (None, Some(weight)) => Some(CanaryRoute::Weight(weight)),
        (None, None) => None,
    }
}

/// What a release decided from its reads, before any write: the function
/// and alias as observed, the plan, and the entry points that bypass a
/// canary (judged: one on `$LATEST` is refused unless allowed). A
/// manifest's preflight runs it for every target before the first write.
struct Decided {
    look: Look,
    plan: Plan,
    bypasses: Vec<String>,
}

async fn decide(
    scf: &Scf,
    run: &ScfRun,
    job: &DeployJob,
    (_, code_sha256): &(Package, String),
) -> Result<Decided> {
    let look = observe::look(scf, &run.function, &run.alias, true).await?;
    if look.observed.function_missing {
        return Err(Error::usage(format!(
            "SCF function {} does not exist in namespace {} of {}: create it first (in the console, with tccli or the Serverless Framework); deploy then ships its code",
            run.function, run.namespace, run.region
        )));
    }
    if look.alias.as_ref().is_some_and(|a| a.primary == "$LATEST") {
        return Err(Error::usage(format!(
            "alias {}:{} serves $LATEST, so uploading the release would move all of its traffic at once: point the alias at a published version first (`lambda-rollout promote --platform scf ... --version N`), then deploy",
            run.function, run.alias
        )));
    }
    let route = route_of(job);
    if let Some(refusal) =
        route::foreign_rule_refusal(route.as_ref(), look.alias.as_ref(), (&run.function, &run.alias))
    {
        return Err(Error::usage(refusal));
    }
    let plan = plan::deploy(
        &look.observed,
        &Request {
            code_sha256: code_sha256.clone(),
            config: job.request.config.clone(),
            weight: route::planned_weight(route.as_ref()),
        },
    );
    let staged = job.request.rollout.is_some()
        && look.alias.is_some()
        && plan::rollout_target(&look.observed, &plan).is_some();
    let bypasses = if plan.code != CodeStep::None && (plan.routing.canary.is_some() || staged) {
        let triggers = scf.triggers(&run.function).await?;
        judge_bypasses(
            &run.log,
            (&run.function, &run.alias),
            &triggers,
            job.request.allow_latest_triggers,
        )?
    } else {
        Vec::new()
    };
    Ok(Decided { look, plan, bypasses })
}

/// The release, up to its report.
async fn release(
    scf: &Scf,
    run: &ScfRun,
    job: &DeployJob,
    package: &(Package, String),
) -> Result<AliasReport> {
    let Decided { look, plan, bypasses } = decide(scf, run, job, package).await?;
    let code_sha256 = &package.1;
    for note in &plan.notes {
        run.log.warn(note);
    }
    // A staged rollout: the schedule, where it starts, and the alias as read.
    let staged = job
        .request
        .rollout
        .as_ref()
        .zip(plan::rollout_target(&look.observed, &plan))
        .zip(look.alias.as_ref());
    if let Some(((rollout, target), before)) = staged {
        let outcome = match target {
            RolloutTarget::New => plan.outcome,
            RolloutTarget::Resume { .. } => Outcome::Promoted,
        };
        let mut report = report_for(run, &look, code_sha256, &plan, None, outcome);
        report.bypasses = bypasses;
        let new = match (&target, run.dry_run) {
            (_, true) => String::new(),
            (RolloutTarget::New, false) => publish(scf, run, job, package, &plan).await?,
            (RolloutTarget::Resume { version, .. }, false) => version.clone(),
        };
        let start = rollout::Start {
            before,
            target: &target,
            new,
        };
        return rollout::run(scf, run, rollout, start, report)
            .await
            .map_err(Error::settled);
    }
    let rule = route::wanted_rule(route_of(job).as_ref(), look.alias.as_ref());
    let mut report = apply(scf, run, job, package, &look, &plan, rule.as_ref()).await?;
    report.bypasses = bypasses;
    report.canary_rule = match (&rule, report.canary_weight < 1.0) {
        (Some(rule), true) => rule.to_string(),
        _ => String::new(),
    };
    Ok(report)
}

/// Build (or read) the zip, and refuse what SCF would refuse, before any request.
fn package_checked(code: &Code, excludes: &[String]) -> Result<Package> {
    let package = match code {
        Code::Source(dir) => package::build(dir, excludes)?,
        Code::Zip(zip) => package::load_zip(zip)?,
        Code::Image(_) => {
            return Err(Error::usage(
                "with --platform scf, give --source DIR or --zip-file FILE",
            ));
        }
    };
    if package.zip.len() > ZIP_FILE_LIMIT {
        return Err(Error::usage(format!(
            "the package is {}: SCF takes at most {} in the request; make it smaller (--exclude what the function does not need)",
            package::human_bytes(package.zip.len() as u64),
            package::human_bytes(ZIP_FILE_LIMIT as u64)
        )));
    }
    Ok(package)
}

/// The zip's SHA-256 in hex, as recorded in each version's description.
pub fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What the alias should be after the run, in SCF's terms.
fn target_alias(
    plan: &Plan,
    published: Option<&str>,
    rule: Option<&HeaderRule>,
    description: String,
) -> AliasNow {
    let resolve = |v: &Version| v.resolve(published).unwrap_or_else(|| "(new)".to_string());
    AliasNow {
        primary: resolve(&plan.routing.primary),
        canary: plan
            .routing
            .canary
            .as_ref()
            .map(|(version, weight)| (resolve(version), route::split_of(rule, *weight))),
        revision_id: None,
        description,
    }
}

async fn apply(
    scf: &Scf,
    run: &ScfRun,
    job: &DeployJob,
    package: &(Package, String),
    look: &Look,
    plan: &Plan,
    rule: Option<&HeaderRule>,
) -> Result<AliasReport> {
    let code_sha256 = package.1.as_str();
    let function = run.function.as_str();
    let describe = |published: Option<&str>| {
        let primary = plan.routing.primary.resolve(published).unwrap_or_default();
        let canary = plan
            .routing
            .canary
            .as_ref()
            .and_then(|(v, _)| v.resolve(published));
        let record = look
            .observed
            .alias
            .as_ref()
            .and_then(|before| plan::promotion_record(before, &primary));
        let before = look.alias.as_ref().map_or("", |a| a.description.as_str());
        Record::description_for(before, record.as_ref(), canary.as_deref())
            .unwrap_or_else(|| before.to_string())
    };
    let planned = target_alias(plan, None, rule, describe(None));
    // The core compares weights; a rule that changes is a change too.
    let rule_changes = look
        .alias
        .as_ref()
        .is_some_and(|now| plan.code == CodeStep::None && route::rule_changes(now, &planned));
    let mut outcome = plan.outcome;
    if rule_changes && outcome == Outcome::Skipped {
        outcome = Outcome::Reweighted;
    }
    let writes_alias = plan.alias != AliasStep::None || rule_changes;
    if run.dry_run {
        if let Some(changes) = configure_text(plan) {
            run.log.step(&format!("would configure {function}: {changes}"));
        }
        if plan.code == CodeStep::UploadAndPublish {
            run.log
                .step(&format!("would upload the code to {function} and publish it"));
        }
        if writes_alias {
            run.log
                .step(&format!("would set alias {}: {}", run.alias, &planned.text()));
        }
        return Ok(report_for(run, look, code_sha256, plan, None, outcome));
    }
    let published = match plan.code {
        CodeStep::None => None,
        CodeStep::UploadAndPublish | CodeStep::PublishLatest => {
            Some(publish(scf, run, job, package, plan).await?)
        }
        CodeStep::Create => unreachable!("a missing function is refused before the plan is applied"),
    };
    let to = target_alias(plan, published.as_deref(), rule, describe(published.as_deref()));
    if writes_alias {
        guarded_write(scf, run, look.alias.as_ref(), &to).await?;
    } else {
        run.log
            .step(&format!("alias {} unchanged: {}", run.alias, &to.text()));
    }
    Ok(report_for(
        run,
        look,
        code_sha256,
        plan,
        published.as_deref(),
        outcome,
    ))
}

fn report_for(
    run: &ScfRun,
    look: &Look,
    code_sha256: &str,
    plan: &Plan,
    published: Option<&str>,
    outcome: Outcome,
) -> AliasReport {
    let mut report = AliasReport::for_plan(about(run), &look.observed, code_sha256, plan, published);
    report.result = outcome;
    report.skipped = outcome == Outcome::Skipped;
    report.region = run.region.clone();
    report
}

/// Wait for an update in progress, write the release's configuration when
/// it differs (`plan.configure`), upload
/// the zip to `$LATEST`, wait for SCF to take it, publish it with its hash
/// in the description, and check that nobody changed `$LATEST` in between
/// (SCF has no revision to guard the publish with).
async fn publish(
    scf: &Scf,
    run: &ScfRun,
    job: &DeployJob,
    (package, code_sha256): &(Package, String),
    plan: &Plan,
) -> Result<String> {
    let function = run.function.as_str();
    let request = &job.request;
    let configure = plan.configure.as_slice();
    if plan.wait_for_update {
        // Someone's update is still being applied: SCF takes no write until it ends.
        scf.wait_active(function).await?;
    }
    let config = request.config.as_ref();
    if let Some(config) = config.filter(|_| configure.iter().any(|d| d.key != "Handler")) {
        scf.update_configuration(function, config, &differences_text(configure))
            .await?;
        scf.wait_active(function).await?;
    }
    let handler = config.and_then(|c| c.handler.as_deref());
    scf.update_code(function, &package.zip, handler).await?;
    let uploaded = scf.wait_active(function).await?;
    let version = scf
        .publish(
            function,
            &version_description(Some(&request.description), code_sha256),
        )
        .await?;
    let latest = scf.function(function, None).await?;
    // Another upload or configuration change since: `$LATEST` is updating
    // again, or was modified at another time.
    let changed = latest.as_ref().is_none_or(|l| {
        l.mod_time != uploaded.mod_time || matches!(l.status.as_str(), "Updating" | "UpdateFailed")
    });
    if changed {
        return Err(Error::Interfered(format!(
            "the code of {function} $LATEST changed while this run uploaded and published it: version {version} may hold someone else's code, so no traffic was moved to it; run again"
        )));
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_lower_case_hex() {
        assert_eq!(
            hex_sha256(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
