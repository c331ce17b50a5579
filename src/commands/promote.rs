//! `promote`: the canary becomes the primary (or gets `--weight`), or the alias
//! is pointed at `--version N` or at the version `--from-alias B` serves. With
//! `--manifest`, every function of the manifest.

use std::collections::HashMap;

use crate::aws::Lambda;
use crate::cli::settings::{PromoteSettings, PromoteTo};
use crate::commands::alias;
use crate::core::observed::AliasState;
use crate::core::plan::{self, AliasChange, Promotion};
use crate::error::{Error, Result};
use crate::log::Log;

pub async fn run(settings: PromoteSettings) -> Result<()> {
    let PromoteSettings {
        run,
        targets,
        dry_run,
        to,
    } = &settings;
    alias::each_alias(
        run,
        targets,
        *dry_run,
        async |lambda, function, before, hashes| decide(lambda, &run.log, function, to, before, hashes).await,
    )
    .await
}

/// The change `to` asks of the alias `before`; the code hash of a version
/// read on the way goes into `hashes`.
async fn decide(
    lambda: &Lambda,
    log: &Log,
    function: &str,
    to: &PromoteTo,
    before: &AliasState,
    hashes: &mut HashMap<String, String>,
) -> Result<AliasChange> {
    let promotion = match target_version(lambda, log, function, to).await? {
        Some(version) => {
            let details = lambda.version(function, &version).await?;
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
async fn target_version(
    lambda: &Lambda,
    log: &Log,
    function: &str,
    to: &PromoteTo,
) -> Result<Option<String>> {
    let source = match to {
        PromoteTo::Version(version) => return Ok(Some(version.clone())),
        PromoteTo::FromAlias(source) => source,
        PromoteTo::Canary(_) => return Ok(None),
    };
    let now = lambda.alias_now(function, source).await?;
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
