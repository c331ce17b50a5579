//! `promote`: the canary becomes the primary (or gets `--weight`), or the alias
//! is pointed at `--version N` or at the version `--from-alias B` serves. With
//! `--manifest`, every function of the manifest.

use crate::alias;
use crate::aws::{self, Lambda};
use crate::cli::{OutputFormat, PromoteArgs, PromoteTo};
use crate::error::{Error, Result};
use crate::manifest;
use crate::plan::{self, Promotion};
use crate::report::{self, AliasReport, Log};

pub async fn run(args: PromoteArgs, github: bool) -> Result<()> {
    let dry_run = args.dry_run.dry_run;
    let log = Log {
        verbose: args.common.verbose,
        dry_run,
        github,
    };
    let json = args.common.output == OutputFormat::Json;
    let target = &args.target;
    if let Some(path) = &target.manifest {
        let functions = manifest::load(path, false)?;
        if functions
            .iter()
            .any(|f| args.to.from_alias.as_deref() == Some(f.alias.as_str()))
        {
            return Err(Error::usage(
                "--from-alias names an alias the manifest promotes: name the alias to copy from",
            ));
        }
        let lambda = aws::connect(target.region.as_deref(), aws::Calls::Fleet, log)
            .await?
            .paced(target.max_requests_per_second);
        let results = manifest::run_all(
            &functions,
            target.concurrency.into(),
            target.fail_fast,
            async |f| promote_one(&lambda, &log, (&f.name, &f.alias), &args.to, dry_run).await,
        )
        .await;
        return manifest::emit(&results, json);
    }
    let (function, alias) = target.single();
    if args.to.from_alias.as_deref() == Some(alias) {
        return Err(Error::usage(format!(
            "--from-alias {alias} is the alias being promoted: name the alias to copy from (such as staging)"
        )));
    }
    let lambda = aws::connect(target.region.as_deref(), aws::Calls::One, log).await?;
    let report = promote_one(&lambda, &log, (function, alias), &args.to, dry_run).await?;
    report::emit(&report, json)
}

/// Promote one function's alias.
async fn promote_one(
    lambda: &Lambda,
    log: &Log,
    target: (&str, &str),
    to: &PromoteTo,
    dry_run: bool,
) -> Result<AliasReport> {
    let function = target.0;
    alias::observe_decide_apply(lambda, log, target, dry_run, async |before, hashes| {
        let promotion = match target_version(lambda, log, function, to).await? {
            Some(version) => {
                let details = lambda.version(function, &version).await?;
                hashes.insert(details.version, details.code_sha256);
                Promotion::Version(version)
            }
            None => to.weight.map_or(Promotion::Canary, Promotion::Weight),
        };
        plan::promote(before, &promotion).map_err(Error::usage)
    })
    .await
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
