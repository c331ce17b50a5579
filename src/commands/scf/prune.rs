//! `prune --platform scf`: delete old published versions that no alias
//! routes to or records, with `core::prune`'s protections; each delete is
//! re-checked against the aliases just before it is sent.

use std::time::SystemTime;

use crate::cli::scf::ScfRun;
use crate::commands::scf::guard::connect;
use crate::core::entry::Via;
use crate::core::prune::{self, AliasRoutes, Keep, Published, Verdict};
use crate::error::{Error, Result};
use crate::report::{self, PruneReport};
use crate::scf::Scf;
use crate::scf::observe::function_id;

pub async fn run(run: &ScfRun, keep: Keep) -> Result<()> {
    let scf = connect(run)?;
    let function = run.function.as_str();
    run.log
        .step(&format!("listing the versions of {function} and its aliases"));
    if scf.function(function, None).await?.is_none() {
        return Err(Error::usage(format!(
            "SCF function {function} does not exist in namespace {} of {}",
            run.namespace, run.region
        )));
    }
    let versions: Vec<Published> = scf
        .versions(function)
        .await?
        .into_iter()
        .map(|v| Published {
            published: added_at(&v.add_time),
            version: v.version,
        })
        .collect();
    let mut protected = prune::alias_protections(&routes(&scf, function).await?);
    for trigger in scf.triggers(function).await? {
        if let Via::Version(version) = &trigger.via {
            let reason = format!("{} {} is bound to it", trigger.kind, trigger.what);
            protected.entry(version.clone()).or_default().push(reason);
        }
    }
    let plan = prune::plan(&versions, &protected, keep, SystemTime::now());
    for verdict in &plan.protected {
        run.log
            .step(&format!("version {} stays: {}", verdict.version, verdict.reason));
    }
    let mut report = PruneReport {
        function_arn: function_id(&scf, function),
        pruned: Vec::new(),
        result: "nothing-to-prune",
        dry_run: run.dry_run,
        protected: plan.protected,
        kept: plan.kept,
        left: Vec::new(),
        function: function.to_string(),
    };
    for verdict in &plan.delete {
        if run.dry_run {
            run.log.step(&format!(
                "would delete version {} ({})",
                verdict.version, verdict.reason
            ));
            report.pruned.push(verdict.version.clone());
            continue;
        }
        let now = prune::alias_protections(&routes(&scf, function).await?);
        if let Some(reasons) = now.get(&verdict.version) {
            let reason = format!("became protected before its delete: {}", reasons.join("; "));
            run.log.warn(&format!(
                "version {} of {function} {reason}: not deleted",
                verdict.version
            ));
            report.left.push(Verdict {
                version: verdict.version.clone(),
                reason,
            });
            continue;
        }
        if let Err(err) = scf.delete_version(function, &verdict.version).await {
            return Err(Error::failed(prune::failed_after(&err, &report.pruned)));
        }
        report.pruned.push(verdict.version.clone());
    }
    if !report.pruned.is_empty() {
        report.result = "pruned";
    }
    report::emit(&report, run.json)
}

/// Every alias of the function as `core::prune` reads them.
async fn routes(scf: &Scf, function: &str) -> Result<Vec<AliasRoutes>> {
    Ok(scf
        .aliases(function)
        .await?
        .into_iter()
        .map(|(name, alias)| AliasRoutes {
            name,
            primary: alias.primary,
            canary: alias.canary.map(|(version, _)| version),
            description: alias.description,
        })
        .collect())
}

/// SCF's `AddTime` (`2026-11-24 20:07:01`, China Standard Time, UTC+8);
/// `None` when it does not read (then `--older-than` spares the version).
fn added_at(text: &str) -> Option<SystemTime> {
    let utc8 = humantime::parse_rfc3339(&format!("{}Z", text.get(..19)?.replace(' ', "T"))).ok()?;
    utc8.checked_sub(std::time::Duration::from_secs(8 * 3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_time_is_read_as_china_standard_time() {
        let at = added_at("2026-11-24 20:07:01").unwrap();
        assert_eq!(humantime::format_rfc3339(at).to_string(), "2026-11-24T12:07:01Z");
        assert_eq!(added_at("yesterday"), None);
    }
}
