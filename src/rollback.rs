//! `rollback`: drop the canary; with none, return to the version that was live
//! before the last promotion (read from the alias's rollback record); or go to
//! `--to-version N`. A re-run finds nothing left to do.

use crate::alias;
use crate::aws;
use crate::cli::{OutputFormat, RollbackArgs};
use crate::error::{Error, Result};
use crate::plan;
use crate::record::Record;
use crate::report::{self, Log};

pub async fn run(args: RollbackArgs, github: bool) -> Result<()> {
    let dry_run = args.dry_run.dry_run;
    let log = Log {
        verbose: args.common.verbose,
        dry_run,
        github,
    };
    let function = args.target.function_name.as_str();
    let alias = args.target.alias.as_str();
    let to_version = args.to_version.as_deref();
    let lambda = aws::connect(args.target.region.as_deref(), log).await?;
    let report = alias::observe_decide_apply(&lambda, &log, (function, alias), dry_run, async |before, hashes| {
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
    .await?;
    report::emit(&report, args.common.output == OutputFormat::Json)
}
