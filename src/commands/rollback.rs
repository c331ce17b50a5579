//! `rollback`: drop the canary; with none, return to the version that was live
//! before the last promotion (read from the alias's rollback record); or go to
//! `--to-version N`. A re-run finds nothing left to do. With `--manifest`,
//! every function of the manifest.

use std::collections::HashMap;

use crate::cli::settings::RollbackSettings;
use crate::commands::runner::{self, Connect};
use crate::core::fleet::Intent;
use crate::core::observed::AliasState;
use crate::core::plan::{self, AliasChange};
use crate::core::record::Record;
use crate::error::{Error, Result};
use crate::platform::Platform;

pub async fn run<C: Connect>(settings: RollbackSettings) -> Result<()> {
    let RollbackSettings {
        run,
        targets,
        dry_run,
        to_version,
    } = &settings;
    let to_version = to_version.as_deref();
    runner::each_alias::<C>(
        run,
        targets,
        Intent::Rollback,
        *dry_run,
        async |lambda, function, before, hashes| decide(lambda, function, to_version, before, hashes).await,
    )
    .await
}

/// The rollback of the alias `before`. A target that is neither its primary
/// nor its canary is read first (versions can be deleted), and its code hash
/// goes into `hashes`.
pub async fn decide<P: Platform>(
    platform: &P,
    function: &str,
    to_version: Option<&str>,
    before: &AliasState,
    hashes: &mut HashMap<String, String>,
) -> Result<AliasChange> {
    let change = plan::rollback(before, to_version).map_err(Error::usage)?;
    if change.changes_anything() && !hashes.contains_key(&change.primary) {
        let details = platform.named_version(function, &change.primary).await.map_err(|err| {
            match (to_version, Record::parse(&before.description).rollback_to) {
                (None, Some(target)) => Error::failed(format!(
                    "version {target}, recorded as the version live before the last promotion, cannot be read ({err}): pass --to-version to choose another"
                )),
                _ => err,
            }
        })?;
        hashes.insert(details.version, details.code_sha256);
    }
    Ok(change)
}
