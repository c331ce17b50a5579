//! `promote`: the canary becomes the primary (or gets `--weight`), or the alias
//! is pointed at `--version N` or at the version `--from-alias B` serves.

use crate::alias::{self, ChangeContext};
use crate::aws;
use crate::cli::{OutputFormat, PromoteArgs};
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
    log.step(&format!("observing {function}:{alias}"));
    let (observed, before) = alias::observe_existing(&lambda, function, alias).await?;
    let mut hashes = alias::known_hashes(&before);

    let target_version = match (&args.to.version, &args.to.from_alias) {
        (Some(version), _) => Some(version.clone()),
        (None, Some(source)) => {
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
            Some(version)
        }
        (None, None) => None,
    };
    let promotion = match (target_version, args.to.weight) {
        (Some(version), _) => {
            let details = lambda.version(function, &version).await?;
            hashes.insert(details.version, details.code_sha256);
            Promotion::Version(version)
        }
        (None, Some(weight)) => Promotion::Weight(weight),
        (None, None) => Promotion::Canary,
    };
    let change = plan::promote(&before, &promotion).map_err(Error::usage)?;
    let context = ChangeContext {
        function,
        alias,
        dry_run,
        hashes: &hashes,
    };
    let report = alias::apply_change(&lambda, &log, &observed, &before, &change, &context).await?;
    report::emit(&report, args.common.output == OutputFormat::Json)
}
