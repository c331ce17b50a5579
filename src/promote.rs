//! `promote`: the canary becomes the primary (or gets `--weight`), or the alias
//! is pointed at `--version N` or at the version `--from-alias B` serves.

use crate::alias;
use crate::aws::{self, Lambda};
use crate::cli::{OutputFormat, PromoteArgs, PromoteTo};
use crate::error::{Error, Result};
use crate::plan::{self, Promotion};
use crate::report::{self, Log};

pub async fn run(args: PromoteArgs, github: bool) -> Result<()> {
    let dry_run = args.dry_run.dry_run;
    let log = Log {
        verbose: args.common.verbose,
        dry_run,
        github,
    };
    let function = args.target.function_name.as_str();
    let alias = args.target.alias.as_str();
    if args.to.from_alias.as_deref() == Some(alias) {
        return Err(Error::usage(format!(
            "--from-alias {alias} is the alias being promoted: name the alias to copy from (such as staging)"
        )));
    }
    let lambda = aws::connect(args.target.region.as_deref(), log).await?;
    let report = alias::observe_decide_apply(
        &lambda,
        &log,
        (function, alias),
        dry_run,
        async |before, hashes| {
            let promotion = match target_version(&lambda, &log, function, &args.to).await? {
                Some(version) => {
                    let details = lambda.version(function, &version).await?;
                    hashes.insert(details.version, details.code_sha256);
                    Promotion::Version(version)
                }
                None => args.to.weight.map_or(Promotion::Canary, Promotion::Weight),
            };
            plan::promote(before, &promotion).map_err(Error::usage)
        },
    )
    .await?;
    report::emit(&report, args.common.output == OutputFormat::Json)
}

/// The version `--version` names, or the one `--from-alias` serves.
async fn target_version(
    lambda: &Lambda,
    log: &Log,
    function: &str,
    to: &PromoteTo,
) -> Result<Option<String>> {
    let source = match (&to.version, &to.from_alias) {
        (Some(version), _) => return Ok(Some(version.clone())),
        (None, Some(source)) => source,
        (None, None) => return Ok(None),
    };
    let (version, canary) = lambda.alias_versions(function, source).await?;
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
