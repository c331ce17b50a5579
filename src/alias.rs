//! Writing an alias, shared by `deploy`, `promote` and `rollback`: one
//! `UpdateAlias` guarded by the `RevisionId` it was planned from, carrying the
//! rollback record when the primary version changes, narrated as
//! "alias live: 7 (90%) + 8 (10%) → 8 (100%)".

use std::collections::HashMap;

use crate::aws::Lambda;
use crate::error::{Error, Result};
use crate::plan::{AliasChange, AliasState, Observed, Outcome};
use crate::record::Record;
use crate::report::{AliasReport, Log};
use crate::values::percent;

/// Where an alias sends traffic: a primary version and maybe a weighted canary.
#[derive(Debug, Clone, Copy)]
pub struct Route<'a> {
    pub primary: &'a str,
    pub canary: Option<(&'a str, f64)>,
}

impl Route<'_> {
    pub fn of(alias: &AliasState) -> Route<'_> {
        Route {
            primary: &alias.primary.version,
            canary: alias
                .canary
                .as_ref()
                .map(|c| (c.version.version.as_str(), c.weight)),
        }
    }
}

/// "7 (90%) + 8 (10%)", or "7 (100%)".
pub fn routing_text(route: Route<'_>) -> String {
    match route.canary {
        Some((version, weight)) => format!(
            "{} ({}) + {version} ({})",
            route.primary,
            percent(1.0 - weight),
            percent(weight)
        ),
        None => format!("{} (100%)", route.primary),
    }
}

/// The record to write when `before`'s primary is replaced by `primary`:
/// remember the old primary so `rollback` can return to it.
pub fn promotion_record(before: &AliasState, primary: &str) -> Option<Record> {
    let old = before.primary.version.as_str();
    (old != primary && old != "$LATEST").then(|| Record::promotion(old, primary))
}

/// Point the existing alias `before` at `route`, replacing the rollback record
/// in its description when `record` is given.
pub async fn update(
    lambda: &Lambda,
    log: &Log,
    function: &str,
    before: &AliasState,
    route: Route<'_>,
    record: Option<&Record>,
) -> Result<()> {
    let name = before.arn.rsplit(':').next().unwrap_or_default();
    let description = record.map(|r| r.apply_to(&before.description));
    let written = lambda
        .update_alias(
            function,
            name,
            route.primary,
            route.canary,
            description.as_deref(),
            before.revision_id.as_deref(),
        )
        .await;
    if let Err(Error::Failed(message)) = written {
        // The write may have landed and only its answer been lost (a dropped
        // connection after the retries ran out): one read tells.
        match lambda.alias_now(function, name).await {
            Ok(now) if lands_on(&now, route, description.as_deref()) => log.warn(&format!(
                "the answer to the alias update was lost ({message}), but alias {name} reads back as intended"
            )),
            _ => return Err(Error::Failed(message)),
        }
    } else {
        written?;
    }
    log.step(&format!(
        "alias {name}: {} → {}",
        routing_text(Route::of(before)),
        routing_text(route)
    ));
    Ok(())
}

/// Does the alias as read now serve `route` (and carry `description`, when one was written)?
fn lands_on(now: &crate::aws::AliasNow, route: Route<'_>, description: Option<&str>) -> bool {
    let canary_matches = match (&now.canary, route.canary) {
        (None, None) => true,
        (Some((version, weight)), Some((wanted, wanted_weight))) => {
            version == wanted && (weight - wanted_weight).abs() < 1e-9
        }
        // A weight of 0 on no version is the same as no canary.
        (Some((_, weight)), None) => *weight == 0.0,
        (None, Some(_)) => false,
    };
    now.primary == route.primary && canary_matches && description.is_none_or(|d| d == now.description)
}

/// Observe an alias that must already exist (promote, rollback, status).
pub async fn observe_existing(
    lambda: &Lambda,
    function: &str,
    alias: &str,
) -> Result<(Observed, AliasState)> {
    let observed = lambda.observe(function, alias).await?;
    match observed.alias.clone() {
        Some(state) => Ok((observed, state)),
        None => Err(Error::failed(format!(
            "alias {function}:{alias} does not exist: `lambda-rollout deploy` creates it on the first deploy"
        ))),
    }
}

/// Code hashes of the versions a command knows about, by version number.
pub fn known_hashes(alias: &AliasState) -> HashMap<String, String> {
    std::iter::once(&alias.primary)
        .chain(alias.canary.as_ref().map(|c| &c.version))
        .map(|v| (v.version.clone(), v.code_sha256.clone()))
        .collect()
}

/// Apply a promote or rollback decision (or, in a dry run, say what it would
/// do) and describe the result with the same fields as `deploy`.
pub async fn apply_change(
    lambda: &Lambda,
    log: &Log,
    observed: &Observed,
    before: &AliasState,
    change: &AliasChange,
    context: &ChangeContext<'_>,
) -> Result<AliasReport> {
    if let Some(note) = &change.note {
        log.step(note);
    }
    if change.changes_anything() {
        let route = Route {
            primary: &change.primary,
            canary: change.canary.as_ref().map(|(v, w)| (v.as_str(), *w)),
        };
        if context.dry_run {
            log.step(&format!(
                "would point alias {}: {} → {}",
                context.alias,
                routing_text(Route::of(before)),
                routing_text(route)
            ));
        } else {
            update(
                lambda,
                log,
                context.function,
                before,
                route,
                change.record.as_ref(),
            )
            .await?;
        }
    }
    Ok(change_report(observed, before, change, context))
}

/// What a promote or rollback is about.
pub struct ChangeContext<'a> {
    pub function: &'a str,
    pub alias: &'a str,
    pub dry_run: bool,
    /// Code hashes by version, for the `code-sha256` output.
    pub hashes: &'a HashMap<String, String>,
}

fn change_report(
    observed: &Observed,
    before: &AliasState,
    change: &AliasChange,
    context: &ChangeContext<'_>,
) -> AliasReport {
    let (version, previous_version, canary_weight) = match &change.canary {
        Some((canary, weight)) => (canary.clone(), change.primary.clone(), *weight),
        None => {
            let taken_out = match change.outcome {
                Outcome::RolledBack if before.primary.version == change.primary => {
                    before.canary.as_ref().map(|c| c.version.version.clone())
                }
                Outcome::RolledBack | Outcome::Promoted => Some(before.primary.version.clone()),
                _ => None,
            };
            (change.primary.clone(), taken_out.unwrap_or_default(), 1.0)
        }
    };
    AliasReport {
        function_arn: observed.function_arn.clone(),
        alias_arn: before.arn.clone(),
        code_sha256: context.hashes.get(&version).cloned().unwrap_or_default(),
        version,
        previous_version,
        skipped: !change.changes_anything(),
        canary_weight,
        result: change.outcome,
        dry_run: context.dry_run,
        rollback_reason: String::new(),
        deployment_id: String::new(),
        target: format!("{}:{}", context.function, context.alias),
        note: change.note.clone(),
        timeline: None,
    }
}

/// Observe the alias, decide the change with `decide`, apply it. If the alias
/// changed between reading and writing (stale `RevisionId`), observe and
/// decide once more; a second conflict stops with a clear error.
pub async fn observe_decide_apply(
    lambda: &Lambda,
    log: &Log,
    target: (&str, &str),
    dry_run: bool,
    decide: impl AsyncFn(&AliasState, &mut HashMap<String, String>) -> Result<AliasChange>,
) -> Result<AliasReport> {
    let (function, alias) = target;
    let mut replanned = false;
    loop {
        log.step(&format!("observing {function}:{alias}"));
        let (observed, before) = observe_existing(lambda, function, alias).await?;
        let mut hashes = known_hashes(&before);
        let change = decide(&before, &mut hashes).await?;
        let context = ChangeContext {
            function,
            alias,
            dry_run,
            hashes: &hashes,
        };
        match apply_change(lambda, log, &observed, &before, &change, &context).await {
            Err(Error::Conflict(message)) if !replanned => {
                log.warn(&format!("{message}; observing again and deciding once more"));
                replanned = true;
            }
            Err(Error::Conflict(message)) => {
                return Err(Error::Conflict(format!(
                    "alias {function}:{alias} changed concurrently ({message}): another run is changing it; re-run once it has finished"
                )));
            }
            other => return other,
        }
    }
}
