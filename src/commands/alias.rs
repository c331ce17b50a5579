//! Steps on an alias that several commands share, on every platform: the
//! guarded write (planned from what was read, the rollback record replaced
//! when the primary changes, a lost answer read back), and promote's and
//! rollback's observe → decide → apply.

use std::collections::HashMap;

use crate::commands::replan::replan_once;
use crate::core::entry::{self, Verdict};
use crate::core::observed::{AliasNow, AliasState, Observed, Route, weighted_route_refused};
use crate::core::plan::AliasChange;
use crate::core::record::Record;
use crate::core::route;
use crate::core::values::HeaderRule;
use crate::error::{Error, Result};
use crate::log::Log;
use crate::platform::Platform;
use crate::report::{About, AliasReport};

/// Point the existing alias `before` at `route`, replacing the rollback record
/// in its description when `record` is given. `found` is the alias as the
/// platform held it when `before` was observed: the write's guard.
pub async fn update<P: Platform>(
    platform: &P,
    log: &Log,
    function: &str,
    (before, found): (&AliasState, &AliasNow),
    (route, rule): (Route<'_>, Option<&HeaderRule>),
    record: Option<&Record>,
) -> Result<()> {
    let name = before.arn.rsplit(':').next().unwrap_or_default();
    let canary = route.canary.map(|(version, _)| version);
    let description = Record::description_for(&before.description, record, canary);
    let to = AliasNow {
        primary: route.primary.to_string(),
        canary: route
            .canary
            .map(|(v, w)| (v.to_string(), route::split_of(rule, w))),
        revision_id: None,
        description: description.clone().unwrap_or_else(|| before.description.clone()),
    };
    let written = platform.update_alias(function, name, &to, found).await;
    if let Err(Error::Failed(message)) = written {
        // The write may have landed and only its answer been lost (a dropped
        // connection after the retries ran out): one read tells.
        match platform.alias_now(function, name).await {
            Ok(Some(now)) if now.lands_on(route, description.as_deref()) || now.same_as(&to) => log.warn(&format!(
                "the answer to the alias update was lost ({message}), but alias {name} reads back as intended"
            )),
            _ => return Err(Error::Failed(message)),
        }
    } else {
        written?;
    }
    log.step(&format!(
        "alias {name}: {} → {}",
        found.route().text(),
        route.text()
    ));
    Ok(())
}

/// Create `alias` on `version` (all its traffic). Returns its ARN. When
/// Lambda says it exists already, it is read: if it serves exactly that
/// version, it is this run's own write whose answer was lost and retried,
/// and the run goes on; otherwise another run created it (a conflict).
pub async fn create<P: Platform>(
    platform: &P,
    log: &Log,
    function: &str,
    alias: &str,
    version: &str,
) -> Result<String> {
    match platform.create_alias(function, alias, version).await {
        Err(Error::Conflict(message)) => {
            let now = platform.alias_now(function, alias).await?;
            let intended = Route {
                primary: version,
                canary: None,
            };
            if now.is_some_and(|now| now.lands_on(intended, None)) {
                log.warn(&format!(
                    "alias {alias} already serves version {version} alone ({message}): an earlier attempt of this request landed"
                ));
                Ok(String::new())
            } else {
                Err(Error::Conflict(message))
            }
        }
        other => other,
    }
}

/// Observe an alias that must already exist (promote, rollback, status):
/// the core's view, its state, and the alias as the platform holds it.
pub async fn observe_existing<P: Platform>(
    platform: &P,
    function: &str,
    alias: &str,
) -> Result<(Observed, AliasState, AliasNow)> {
    let look = platform.look(function, alias).await?;
    match (look.observed.alias.clone(), look.alias) {
        (Some(state), Some(now)) => Ok((look.observed, state, now)),
        _ => Err(platform.missing_alias(function, alias)),
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
pub async fn apply_change<P: Platform>(
    platform: &P,
    log: &Log,
    observed: &Observed,
    (before, found): (&AliasState, &AliasNow),
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
        let provisioned = platform
            .alias_provisioned(context.function, context.alias)
            .await?;
        if let (Some(provisioned), Some(_)) = (&provisioned, &change.canary) {
            return Err(Error::usage(weighted_route_refused(
                context.function,
                context.alias,
                provisioned,
            )));
        }
        if context.dry_run {
            log.step(&format!(
                "would point alias {}: {} → {}",
                context.alias,
                Route::of(before).text(),
                route.text()
            ));
        } else {
            update(
                platform,
                log,
                context.function,
                (before, found),
                (route, None),
                change.record.as_ref(),
            )
            .await?;
            if provisioned.is_some() && change.primary != before.primary.version {
                platform.wait_provisioned(context.function, context.alias).await?;
            }
        }
    }
    let about = About {
        function: context.function,
        alias: context.alias,
        dry_run: context.dry_run,
    };
    Ok(AliasReport::for_change(
        about,
        observed,
        before,
        change,
        context.hashes,
    ))
}

/// What a promote or rollback is about.
pub struct ChangeContext<'a> {
    pub function: &'a str,
    pub alias: &'a str,
    pub dry_run: bool,
    /// Code hashes by version, for the `code-sha256` output.
    pub hashes: &'a HashMap<String, String>,
}

/// Observe the alias, decide the change with `decide`, apply it; a concurrent
/// change makes it observe and decide once more (see `runner::replan_once`).
pub async fn observe_decide_apply<P: Platform>(
    platform: &P,
    log: &Log,
    target: (&str, &str),
    dry_run: bool,
    decide: impl AsyncFn(&AliasState, &mut HashMap<String, String>) -> Result<AliasChange>,
) -> Result<AliasReport> {
    let (function, alias) = target;
    replan_once(log, target, "changing it", async |look| {
        log.step(&format!("observing {function}:{alias}"));
        let (observed, before, now) = observe_existing(platform, function, alias).await?;
        look.check(target, Some(&before))?;
        let mut hashes = known_hashes(&before);
        let change = decide(&before, &mut hashes).await?;
        let context = ChangeContext {
            function,
            alias,
            dry_run,
            hashes: &hashes,
        };
        let mut report = apply_change(platform, log, &observed, (&before, &now), &change, &context).await?;
        if !change.changes_anything() {
            // Nothing written: a rule the canary is routed by still stands.
            report.canary_rule = now.rule_text();
        }
        Ok(report)
    })
    .await
}

/// A canary is weighted on the alias only: what invokes the unqualified
/// function runs `$LATEST`. Read what invokes the function; refuse (exit 2)
/// while anything runs `$LATEST`, unless `allow` (`--allow-latest-triggers`);
/// warn about entry points pinned to a version or on another alias, and
/// about any read the caller may not make. Reads only. Returns the entry
/// points that do not go through the alias, one line each (the `bypasses`
/// output).
pub async fn refuse_bypassed<P: Platform>(
    platform: &P,
    log: &Log,
    (function, alias): (&str, &str),
    function_arn: &str,
    allow: bool,
) -> Result<Vec<String>> {
    let points = platform.entry_points(function, function_arn, alias).await?;
    for why in &points.unreadable {
        log.warn(&format!(
            "{why}; an entry point that bypasses alias {alias} may go unseen"
        ));
    }
    judge_bypasses(log, (function, alias), &points.found, allow)
}

/// Whether a canary on `alias` may be routed, given what invokes the
/// function (`found`, on either platform): entry points on `$LATEST` refuse
/// it unless `allow`; the `bypasses` lines of every entry point that does
/// not go through the alias.
pub fn judge_bypasses(
    log: &Log,
    (function, alias): (&str, &str),
    found: &[entry::EntryPoint],
    allow: bool,
) -> Result<Vec<String>> {
    let mut bypasses = Vec::new();
    for point in found {
        let line = format!("{} {}: {}", point.kind, point.what, point.marked(alias));
        match point.verdict(alias) {
            Verdict::Pinned(_) | Verdict::ThroughOther(_) => {
                log.warn(&line);
                bypasses.push(line);
            }
            Verdict::RunsLatest => bypasses.push(line),
            Verdict::Through => {}
        }
    }
    match entry::latest_refusal(function, alias, found) {
        Some(refusal) if !allow => Err(Error::usage(refusal)),
        Some(refusal) => {
            log.warn(&format!("{refusal} (going ahead: --allow-latest-triggers)"));
            Ok(bypasses)
        }
        None => Ok(bypasses),
    }
}
