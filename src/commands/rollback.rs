//! `rollback`: drop the canary; with none, return to the version that was live
//! before the last promotion (read from the alias's rollback record); or go to
//! `--to-version N`. A re-run finds nothing left to do. With `--manifest`,
//! every function of the manifest.

use crate::aws::Lambda;
use crate::cli::settings::RollbackSettings;
use crate::commands::alias;
use crate::commands::{Named, per_function};
use crate::core::plan;
use crate::core::record::Record;
use crate::error::{Error, Result};
use crate::log::Log;
use crate::report::AliasReport;

pub async fn run(settings: RollbackSettings) -> Result<()> {
    let RollbackSettings {
        run,
        targets,
        dry_run,
        to_version,
    } = &settings;
    per_function(run, targets, async |clients, target| {
        rollback_one(
            &clients.lambda,
            &run.log,
            target.names(),
            to_version.as_deref(),
            *dry_run,
        )
        .await
    })
    .await?;
    Ok(())
}

/// Roll back one function's alias.
async fn rollback_one(
    lambda: &Lambda,
    log: &Log,
    target: (&str, &str),
    to_version: Option<&str>,
    dry_run: bool,
) -> Result<AliasReport> {
    let function = target.0;
    alias::observe_decide_apply(lambda, log, target, dry_run, async |before, hashes| {
        let change = plan::rollback(before, to_version).map_err(Error::usage)?;
        if change.changes_anything() && !hashes.contains_key(&change.primary) {
            // The target is neither primary nor canary: make sure it still
            // exists (versions can be deleted) before pointing the alias at it.
            let details = lambda.version(function, &change.primary).await.map_err(|err| {
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
    })
    .await
}
