//! `prune`: delete old published versions that nothing needs any more, so
//! they stop counting against the account's code-storage quota. What stays,
//! and why, is decided by `core::prune`; each delete is re-checked just
//! before it is sent, paced, and a version already gone is passed over.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::aws::Calls;
use crate::cli::settings::{PruneOptions, PruneSettings, PruneTarget};
use crate::commands::runner::{Connect, TargetName, across_places, report_across};
use crate::core::fleet::AccountRegion;
use crate::core::prune::{self, Keep, Verdict};
use crate::error::{Error, Result};
use crate::log::Log;
use crate::platform::Platform;
use crate::report::{self, PruneReport};

pub async fn run<C: Connect>(settings: PruneSettings) -> Result<()> {
    let PruneSettings {
        run,
        functions,
        options,
    } = settings;
    let PruneOptions {
        keep,
        dry_run,
        per_second,
    } = options;
    if run.fleet.is_none() {
        let place = C::connect_one(&run, Calls::One).await?;
        let function = &functions
            .first()
            .ok_or_else(|| Error::usage("no function to prune"))?
            .function;
        place.refuse_target(function)?;
        let place = place.paced(per_second);
        return report::emit(
            &prune_function(place.platform(), &run.log, function, keep, dry_run).await?,
            run.json,
        );
    }
    // Every account-region at its own pace (`per_second` in each), one
    // function at a time in each.
    let results = across_places(
        &run,
        &functions,
        |f| &f.place,
        Calls::Fleet { per_second },
        async |place: &C, target| {
            prune_function(place.platform(), place.log(), &target.function, keep, dry_run).await
        },
    )
    .await?;
    report_across(
        results,
        run.json,
        |report: &mut PruneReport, name| report.function = name,
        Some(("pruned", |r: &PruneReport| {
            (r.function.clone(), serde_json::json!(r.pruned))
        })),
    )
}

impl TargetName for PruneTarget {
    fn function(&self) -> &str {
        &self.function
    }
    fn name_at(&self, lands: &AccountRegion, several_places: bool) -> String {
        if several_places {
            format!("{lands}/{}", self.function)
        } else {
            self.function.clone()
        }
    }
}

/// Observe the function's versions and what protects them, decide, and
/// delete (or, in a dry run, say what would go). On every platform.
pub async fn prune_function<P: Platform>(
    platform: &P,
    log: &Log,
    function: &str,
    keep: Keep,
    dry_run: bool,
) -> Result<PruneReport> {
    log.step(&format!("listing the versions of {function} and what uses them"));
    let function_arn = platform.function_id(function).await?;
    let versions = platform.list_versions(function).await?;
    let aliases = platform.list_aliases(function).await?;
    let mut protected = prune::alias_protections(&aliases);
    for (version, why) in platform.holds(function, &function_arn).await? {
        protected.entry(version).or_default().push(why);
    }
    let plan = prune::plan(&versions, &protected, keep, SystemTime::now());
    for verdict in &plan.protected {
        log.step(&format!("version {} stays: {}", verdict.version, verdict.reason));
    }
    let mut report = PruneReport {
        function_arn,
        pruned: Vec::new(),
        result: "nothing-to-prune",
        dry_run,
        protected: plan.protected,
        kept: plan.kept,
        left: Vec::new(),
        function: function.to_string(),
    };
    for verdict in &plan.delete {
        if dry_run {
            log.step(&format!(
                "would delete version {} ({})",
                verdict.version, verdict.reason
            ));
            report.pruned.push(verdict.version.clone());
            continue;
        }
        match delete_unless_protected(platform, log, function, &verdict.version).await {
            Ok(None) => report.pruned.push(verdict.version.clone()),
            Ok(Some(left)) => report.left.push(left),
            Err(err) => {
                return Err(Error::failed(prune::failed_after(&err, &report.pruned)));
            }
        }
    }
    if !report.pruned.is_empty() {
        report.result = "pruned";
    }
    Ok(report)
}

/// Delete `version` unless an alias has moved to it (or recorded it) since
/// the plan was made. `Some` says why it was left.
async fn delete_unless_protected<P: Platform>(
    platform: &P,
    log: &Log,
    function: &str,
    version: &str,
) -> Result<Option<Verdict>> {
    let now: BTreeMap<String, Vec<String>> =
        prune::alias_protections(&platform.list_aliases(function).await?);
    if let Some(reasons) = now.get(version) {
        let reason = format!("became protected before its delete: {}", reasons.join("; "));
        log.warn(&format!("version {version} of {function} {reason}: not deleted"));
        return Ok(Some(Verdict {
            version: version.to_string(),
            reason,
        }));
    }
    if platform.delete_version(function, version).await? {
        log.step(&format!("deleted version {version} of {function}"));
        Ok(None)
    } else {
        log.step(&format!("version {version} of {function} was already gone"));
        Ok(Some(Verdict {
            version: version.to_string(),
            reason: "already gone".to_string(),
        }))
    }
}
