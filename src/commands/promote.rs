//! `promote`: the canary becomes the primary (or gets `--weight`), or the alias
//! is pointed at `--version N` or at the version `--from-alias B` serves — and
//! created on it, the first time a release reaches that stage. With
//! `--manifest`, every function of the manifest.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::cli::settings::{PromoteSettings, PromoteTo};
use crate::commands::alias;
use crate::commands::runner::{Connect, Named, nothing_more, per_function};
use crate::core::fleet::Intent;
use crate::core::observed::{AliasState, Observed};
use crate::core::plan::{self, AliasChange, Outcome, Promotion};
use crate::error::{Error, Result};
use crate::log::Log;
use crate::platform::Platform;
use crate::report::{About, AliasReport};

pub async fn run<C: Connect>(settings: PromoteSettings) -> Result<()> {
    let PromoteSettings {
        run,
        targets,
        dry_run,
        to,
        allow_latest_triggers,
    } = &settings;
    per_function(
        run,
        targets,
        (Intent::Promote, nothing_more),
        async |place: &C, target| {
            let options = (to, *dry_run, *allow_latest_triggers);
            promote_one(place.platform(), place.log(), target.names(), options).await
        },
    )
    .await?;
    Ok(())
}

/// Promote one alias, on any platform. `options`: where to, `--dry-run`,
/// `--allow-latest-triggers`.
pub async fn promote_one<P: Platform>(
    platform: &P,
    log: &Log,
    (function, alias): (&str, &str),
    (to, dry_run, allow_latest_triggers): (&PromoteTo, bool, bool),
) -> Result<AliasReport> {
    if !matches!(to, PromoteTo::Canary(_)) {
        let look = platform.look(function, alias).await?;
        if look.observed.alias.is_none() {
            return create(platform, log, &look.observed, (function, alias), to, dry_run).await;
        }
    }
    let bypasses = RefCell::new(Vec::new());
    let mut report = alias::observe_decide_apply(
        platform,
        log,
        (function, alias),
        dry_run,
        async |before, hashes| {
            let change = decide(platform, log, function, to, before, hashes).await?;
            // A canary share below 100 % is weighted on the alias only.
            if change.outcome == Outcome::Reweighted {
                let function_arn = before.arn.strip_suffix(&format!(":{alias}")).unwrap_or(function);
                *bypasses.borrow_mut() = alias::refuse_bypassed(
                    platform,
                    log,
                    (function, alias),
                    function_arn,
                    allow_latest_triggers,
                )
                .await?;
            }
            Ok(change)
        },
    )
    .await?;
    report.bypasses = bypasses.into_inner();
    Ok(report)
}

/// The first promotion into a stage: the alias does not exist yet, so create
/// it on the version `--version` names or `--from-alias` serves.
async fn create<P: Platform>(
    platform: &P,
    log: &Log,
    observed: &Observed,
    (function, alias): (&str, &str),
    to: &PromoteTo,
    dry_run: bool,
) -> Result<AliasReport> {
    let version = target_version(platform, log, function, to)
        .await?
        .unwrap_or_default();
    let details = platform.named_version(function, &version).await?;
    let about = About {
        function,
        alias,
        dry_run,
    };
    let mut report = AliasReport::new(about, observed, &details.code_sha256, Outcome::Created);
    if dry_run {
        log.step(&format!("would create alias {alias} on version {version} (100%)"));
    } else {
        let arn = alias::create(platform, log, function, alias, &version).await?;
        if !arn.is_empty() {
            report.alias_arn = arn;
        }
        log.step(&format!("alias {alias} created: {version} (100%)"));
    }
    report.version = version;
    report.canary_weight = 1.0;
    Ok(report)
}

/// The change `to` asks of the alias `before`; the code hash of a version
/// read on the way goes into `hashes`.
async fn decide<P: Platform>(
    platform: &P,
    log: &Log,
    function: &str,
    to: &PromoteTo,
    before: &AliasState,
    hashes: &mut HashMap<String, String>,
) -> Result<AliasChange> {
    let promotion = match target_version(platform, log, function, to).await? {
        Some(version) => {
            let details = platform.named_version(function, &version).await?;
            hashes.insert(details.version, details.code_sha256);
            Promotion::Version(version)
        }
        None => match to {
            PromoteTo::Canary(Some(weight)) => Promotion::Weight(*weight),
            _ => Promotion::Canary,
        },
    };
    plan::promote(before, &promotion).map_err(Error::usage)
}

/// The version `--version` names, or the one `--from-alias` serves.
async fn target_version<P: Platform>(
    platform: &P,
    log: &Log,
    function: &str,
    to: &PromoteTo,
) -> Result<Option<String>> {
    let source = match to {
        PromoteTo::Version(version) => return Ok(Some(version.clone())),
        PromoteTo::FromAlias(source) => source,
        PromoteTo::Canary(_) => return Ok(None),
    };
    let now = platform.named_alias(function, source).await?;
    let (version, canary) = (now.primary, now.canary.map(|(version, _)| version));
    if version == "$LATEST" {
        return Err(Error::usage(format!(
            "alias {function}:{source} serves $LATEST, which is not a published version: publish it (deploy) first"
        )));
    }
    if let Some(canary) = canary {
        log.warn(&format!(
            "alias {source} also routes a share to canary version {canary}: promoting its primary version {version} only"
        ));
    }
    log.step(&format!("alias {source} serves version {version}"));
    Ok(Some(version))
}
