//! `deploy --platform scf`: package, skip what the alias already serves,
//! upload and publish, then route the new version by weight or by rule.

use sha2::{Digest, Sha256};

use crate::cli::manifest::Code;
use crate::cli::scf::{ScfDeploy, ScfRun};
use crate::commands::alias::judge_bypasses;
use crate::commands::scf::guard::{about, connect, guarded_write};
use crate::commands::scf::rollout;
use crate::core::config::differences_text;
use crate::core::observed::AliasNow;
use crate::core::plan::{
    self, AliasStep, CodeStep, Outcome, Plan, Request, RolloutTarget, Version, configure_text,
};
use crate::core::record::Record;
use crate::core::route;
use crate::core::values::HeaderRule;
use crate::error::{Error, Result};
use crate::package::{self, Package};
use crate::report::{self, AliasReport};
use crate::scf::Scf;
use crate::scf::observe::{self, Look, version_description};

/// Largest zip SCF takes in the request itself (`ZipFile`).
pub const ZIP_FILE_LIMIT: usize = 20 * 1024 * 1024;

pub async fn run(run: &ScfRun, request: &ScfDeploy) -> Result<()> {
    let (scf, report) = release(run, request).await?;
    let keep = (run.function.as_str(), request.keep_versions, run.dry_run);
    let report = crate::commands::deploy::prune_after(&scf, keep, report, &run.log).await?;
    finish(report, run.json)
}

/// The release, up to its report (printed by `run`, after `--keep-versions`).
async fn release(run: &ScfRun, request: &ScfDeploy) -> Result<(Scf, AliasReport)> {
    let package = package_checked(request)?;
    let code_sha256 = hex_sha256(&package.zip);
    run.log.step(&format!(
        "package: {} zipped, SHA-256 {code_sha256}",
        package::human_bytes(package.zip.len() as u64)
    ));
    let scf = connect(run)?;
    let look = observe::look(&scf, &run.function, &run.alias, true).await?;
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
    if let Some(refusal) = route::foreign_rule_refusal(
        request.route.as_ref(),
        look.alias.as_ref(),
        (&run.function, &run.alias),
    ) {
        return Err(Error::usage(refusal));
    }
    let weight = route::planned_weight(request.route.as_ref());
    let plan = plan::deploy(
        &look.observed,
        &Request {
            code_sha256: code_sha256.clone(),
            config: request.config.clone(),
            weight,
        },
    );
    for note in &plan.notes {
        run.log.warn(note);
    }
    // A staged rollout: the schedule, where it starts, and the alias as read.
    let staged = request
        .rollout
        .as_ref()
        .zip(plan::rollout_target(&look.observed, &plan))
        .zip(look.alias.as_ref());
    let bypasses = if plan.code != CodeStep::None && (plan.routing.canary.is_some() || staged.is_some()) {
        let triggers = scf.triggers(&run.function).await?;
        judge_bypasses(
            &run.log,
            (&run.function, &run.alias),
            &triggers,
            request.allow_latest_triggers,
        )?
    } else {
        Vec::new()
    };
    if let Some(((rollout, target), before)) = staged {
        let outcome = match target {
            RolloutTarget::New => plan.outcome,
            RolloutTarget::Resume { .. } => Outcome::Promoted,
        };
        let mut report = report_for(run, &look, &code_sha256, &plan, None, outcome);
        report.bypasses = bypasses;
        let new = match (&target, run.dry_run) {
            (_, true) => String::new(),
            (RolloutTarget::New, false) => publish(&scf, run, request, &package, &code_sha256, &plan).await?,
            (RolloutTarget::Resume { version, .. }, false) => version.clone(),
        };
        let start = rollout::Start {
            before,
            target: &target,
            new,
        };
        let report = rollout::run(&scf, run, rollout, start, report)
            .await
            .map_err(Error::settled)?;
        return Ok((scf, report));
    }
    let rule = route::wanted_rule(request.route.as_ref(), look.alias.as_ref());
    let mut report = apply(
        &scf,
        run,
        request,
        &package,
        &code_sha256,
        &look,
        &plan,
        rule.as_ref(),
    )
    .await?;
    report.bypasses = bypasses;
    report.canary_rule = match (&rule, report.canary_weight < 1.0) {
        (Some(rule), true) => rule.to_string(),
        _ => String::new(),
    };
    Ok((scf, report))
}

/// Print the report; a rollout that rolled back or stopped is a failure
/// the report already shows.
fn finish(report: AliasReport, json: bool) -> Result<()> {
    report::emit(&report, json)?;
    match report.result {
        Outcome::RolledBack => Err(Error::Reported(Box::new(Error::failed(format!(
            "rolled back: {}",
            report.rollback_reason
        ))))),
        Outcome::Stopped => Err(Error::Reported(Box::new(Error::Interfered(
            report.rollback_reason,
        )))),
        _ => Ok(()),
    }
}

/// Build (or read) the zip, and refuse what SCF would refuse, before any request.
fn package_checked(request: &ScfDeploy) -> Result<Package> {
    let package = match &request.code {
        Code::Source(dir) => package::build(dir, &request.excludes)?,
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

#[allow(clippy::too_many_arguments)]
async fn apply(
    scf: &Scf,
    run: &ScfRun,
    request: &ScfDeploy,
    package: &Package,
    code_sha256: &str,
    look: &Look,
    plan: &Plan,
    rule: Option<&HeaderRule>,
) -> Result<AliasReport> {
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
            Some(publish(scf, run, request, package, code_sha256, plan).await?)
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
    request: &ScfDeploy,
    package: &Package,
    code_sha256: &str,
    plan: &Plan,
) -> Result<String> {
    let function = run.function.as_str();
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
