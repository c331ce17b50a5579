//! `promote`, `rollback` and `status` with `--platform scf`: observe, let
//! the core decide (`plan::promote`, `plan::rollback`), write the alias
//! behind a fresh read. A weight or a version clears a rule: promote and
//! rollback leave the alias routed by weight or serving one version.

use std::collections::HashMap;

use crate::cli::scf::ScfRun;
use crate::cli::settings::PromoteTo;
use crate::commands::alias::judge_bypasses;
use crate::commands::scf::guard::{about, connect, guarded_write};
use crate::core::observed::VersionDetails;
use crate::core::observed::{AliasNow, Split};
use crate::core::plan::{self, AliasChange, Outcome, Promotion};
use crate::core::record::Record;
use crate::error::{Error, Result};
use crate::report::{self, AliasReport, StatusReport};
use crate::scf::Scf;
use crate::scf::api::FunctionState;
use crate::scf::observe::{self, Look, recorded_hash};

/// Look at the function and alias; a missing function is named.
async fn look(scf: &Scf, run: &ScfRun) -> Result<Look> {
    let look = observe::look(scf, &run.function, &run.alias, false).await?;
    if look.observed.function_missing {
        return Err(Error::usage(format!(
            "SCF function {} does not exist in namespace {} of {}",
            run.function, run.namespace, run.region
        )));
    }
    Ok(look)
}

fn missing_alias(run: &ScfRun) -> Error {
    Error::usage(format!(
        "alias {}:{} does not exist (namespace {}): deploy creates it, or promote --version N",
        run.function, run.alias, run.namespace
    ))
}

pub async fn promote(run: &ScfRun, to: &PromoteTo, allow_latest_triggers: bool) -> Result<()> {
    let scf = connect(run)?;
    let look = look(&scf, run).await?;
    let mut hashes = HashMap::new();
    let target = match to {
        PromoteTo::Version(version) => Some(version.clone()),
        PromoteTo::FromAlias(source) => Some(source_version(&scf, run, source).await?),
        PromoteTo::Canary(_) => None,
    };
    if let Some(version) = &target {
        let state = scf.named_version(&run.function, version).await?;
        hashes.insert(version.clone(), recorded_hash(&state.description));
    }
    let (Some(before), Some(_)) = (&look.observed.alias, &look.alias) else {
        let Some(version) = target else {
            return Err(missing_alias(run));
        };
        return create_on(&scf, run, &look, &version, &hashes).await;
    };
    let promotion = match (&target, to) {
        (Some(version), _) => Promotion::Version(version.clone()),
        (None, PromoteTo::Canary(Some(weight))) => Promotion::Weight(*weight),
        (None, _) => Promotion::Canary,
    };
    let change = plan::promote(before, &promotion).map_err(Error::usage)?;
    let mut bypasses = Vec::new();
    if change.outcome == Outcome::Reweighted {
        // A share only governs what goes through the alias.
        let triggers = scf.triggers(&run.function).await?;
        bypasses = judge_bypasses(
            &run.log,
            (&run.function, &run.alias),
            &triggers,
            allow_latest_triggers,
        )?;
    }
    apply(&scf, run, &look, &change, hashes, bypasses).await
}

/// The version `--from-alias` serves (its main version).
async fn source_version(scf: &Scf, run: &ScfRun, source: &str) -> Result<String> {
    let now = scf.alias(&run.function, source).await?.ok_or_else(|| {
        Error::usage(format!(
            "--from-alias {source}: alias {}:{source} does not exist (namespace {})",
            run.function, run.namespace
        ))
    })?;
    if now.primary == "$LATEST" {
        return Err(Error::usage(format!(
            "alias {}:{source} serves $LATEST, which is not a published version: deploy first",
            run.function
        )));
    }
    if let Some((version, _)) = &now.canary {
        run.log.warn(&format!(
            "alias {source} also routes requests to version {version}: promoting its main version {} only",
            now.primary
        ));
    }
    Ok(now.primary)
}

/// `promote --version` (or `--from-alias`) on an alias that does not exist yet.
async fn create_on(
    scf: &Scf,
    run: &ScfRun,
    look: &Look,
    version: &str,
    hashes: &HashMap<String, String>,
) -> Result<()> {
    let code = hashes.get(version).cloned().unwrap_or_default();
    let mut report = AliasReport::new(about(run), &look.observed, &code, Outcome::Created);
    let to = AliasNow {
        primary: version.to_string(),
        canary: None,
        revision_id: None,
        description: String::new(),
    };
    if run.dry_run {
        run.log
            .step(&format!("would create alias {} on version {version}", run.alias));
    } else {
        guarded_write(scf, run, None, &to).await?;
    }
    report.version = version.to_string();
    report.canary_weight = 1.0;
    report.region = run.region.clone();
    report::emit(&report, run.json)
}

pub async fn rollback(run: &ScfRun, to_version: Option<&str>) -> Result<()> {
    let scf = connect(run)?;
    let look = look(&scf, run).await?;
    let (Some(before), Some(_)) = (&look.observed.alias, &look.alias) else {
        return Err(missing_alias(run));
    };
    let mut hashes = HashMap::new();
    if let Some(version) = to_version {
        let state = scf.named_version(&run.function, version).await?;
        hashes.insert(version.to_string(), recorded_hash(&state.description));
    }
    let change = plan::rollback(before, to_version).map_err(Error::usage)?;
    apply(&scf, run, &look, &change, hashes, Vec::new()).await
}

/// Write `change` to the alias (unless it changes nothing, or in a dry run)
/// and report it.
async fn apply(
    scf: &Scf,
    run: &ScfRun,
    look: &Look,
    change: &AliasChange,
    mut hashes: HashMap<String, String>,
    bypasses: Vec<String>,
) -> Result<()> {
    let (Some(before), Some(now)) = (&look.observed.alias, &look.alias) else {
        return Err(missing_alias(run));
    };
    hashes.insert(before.primary.version.clone(), before.primary.code_sha256.clone());
    if let Some(canary) = &before.canary {
        hashes.insert(canary.version.version.clone(), canary.version.code_sha256.clone());
    }
    let canary = change.canary.as_ref().map(|(version, _)| version.as_str());
    let to = AliasNow {
        primary: change.primary.clone(),
        canary: change
            .canary
            .as_ref()
            .map(|(version, weight)| (version.clone(), Split::Weight(*weight))),
        revision_id: None,
        description: Record::description_for(&before.description, change.record.as_ref(), canary)
            .unwrap_or_else(|| before.description.clone()),
    };
    if change.changes_anything() {
        if run.dry_run {
            run.log
                .step(&format!("would set alias {}: {}", run.alias, &to.text()));
        } else {
            guarded_write(scf, run, Some(now), &to).await?;
        }
    }
    let mut report = AliasReport::for_change(about(run), &look.observed, before, change, &hashes);
    if !change.changes_anything() {
        report.canary_rule = now.rule_text();
    }
    report.region = run.region.clone();
    report.bypasses = bypasses;
    report::emit(&report, run.json)
}

pub async fn status(run: &ScfRun) -> Result<()> {
    let scf = connect(run)?;
    let look = look(&scf, run).await?;
    let (Some(state), Some(now)) = (&look.observed.alias, &look.alias) else {
        return Err(missing_alias(run));
    };
    // The versions the alias routes to were read by the look: primary first.
    let mut routed = look.routed.iter().map(details);
    let primary = routed.next().ok_or_else(|| missing_alias(run))?;
    let canary = routed.next();
    let triggers = scf.triggers(&run.function).await?;
    let mut report = StatusReport::new(about(run), &look.observed, state, primary, canary).with_entry_points(
        &run.alias,
        triggers,
        Vec::new(),
    );
    report.outputs.canary_rule = now.rule_text();
    report.outputs.region = run.region.clone();
    report::emit(&report, run.json)
}

/// What `status` shows of a version: SCF has no architecture field to read
/// here, and the code hash is the one recorded in the description.
fn details(state: &FunctionState) -> VersionDetails {
    VersionDetails {
        version: state.version.clone(),
        code_sha256: recorded_hash(&state.description),
        description: state.description.clone(),
        last_modified: china_time(&state.mod_time),
        runtime: state.runtime.clone(),
        memory_size: state.memory_size,
        timeout: state.timeout,
        architecture: String::new(),
        environment_keys: state.environment.0.keys().cloned().collect(),
        image_uri: String::new(),
    }
}

/// SCF's `2026-11-24 20:07:01` (China Standard Time, no zone written) as
/// `2026-11-24T20:07:01+08:00`; anything else as it is.
fn china_time(text: &str) -> String {
    let shaped = text.len() == 19 && text.as_bytes()[10] == b' ';
    if shaped {
        format!("{}+08:00", text.replacen(' ', "T", 1))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scf_times_get_their_zone() {
        assert_eq!(china_time("2026-11-24 20:07:01"), "2026-11-24T20:07:01+08:00");
        assert_eq!(china_time(""), "");
    }
}
