//! `rollback`: drop the canary; with none, return to the version that was live
//! before the last promotion (read from the alias's rollback record); or go to
//! `--to-version N`. A re-run finds nothing left to do. With `--manifest`,
//! every function of the manifest.

use crate::alias;
use crate::aws::{self, Lambda};
use crate::cli::{OutputFormat, RollbackArgs};
use crate::error::{Error, Result};
use crate::manifest;
use crate::plan;
use crate::record::Record;
use crate::report::{self, AliasReport, Log};

pub async fn run(args: RollbackArgs, github: bool) -> Result<()> {
    let dry_run = args.dry_run.dry_run;
    let log = Log {
        verbose: args.common.verbose,
        dry_run,
        github,
    };
    let json = args.common.output == OutputFormat::Json;
    let target = &args.target;
    let to_version = args.to_version.as_deref();
    if let Some(path) = &target.manifest {
        let functions = manifest::load(path, false)?;
        let lambda = aws::connect(target.region.as_deref(), aws::Calls::Fleet, log)
            .await?
            .paced(target.max_requests_per_second);
        let results = manifest::run_all(
            &functions,
            target.concurrency.into(),
            target.fail_fast,
            async |f| rollback_one(&lambda, &log, (&f.name, &f.alias), to_version, dry_run).await,
        )
        .await;
        return manifest::emit(&results, json);
    }
    let lambda = aws::connect(target.region.as_deref(), aws::Calls::One, log).await?;
    let report = rollback_one(&lambda, &log, target.single(), to_version, dry_run).await?;
    report::emit(&report, json)
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
