//! `status`: what the alias serves now — versions, weights, code hashes,
//! descriptions, last changes, and the recorded rollback target. Read-only.

use crate::aws::{Calls, Clients};
use crate::cli::settings::StatusSettings;
use crate::commands::alias;
use crate::error::Result;
use crate::report::{self, About, StatusReport};

pub async fn run(settings: StatusSettings) -> Result<()> {
    let StatusSettings { run, target } = settings;
    let (function, alias) = (target.function.as_str(), target.alias.as_str());
    let clients = Clients::connect(run.region.as_deref(), Calls::One, run.log).await?;
    clients.refuse_other_region(function)?;
    let lambda = &clients.lambda;
    let (observed, state) = alias::observe_existing(lambda, function, alias).await?;
    let (primary, canary, provisioned, entry_points) = tokio::join!(
        lambda.version(function, &state.primary.version),
        async {
            match &state.canary {
                Some(canary) => Some(lambda.version(function, &canary.version.version).await),
                None => None,
            }
        },
        lambda.alias_provisioned(function, alias),
        lambda.entry_points(function, &observed.function_arn, alias)
    );
    let about = About {
        function,
        alias,
        dry_run: false,
    };
    let entry_points = entry_points?;
    let mut report = StatusReport::new(about, &observed, &state, primary?, canary.transpose()?)
        .with_entry_points(alias, entry_points.found, entry_points.unreadable);
    report.provisioned_concurrency = provisioned?;
    report::emit(&report, run.json)
}
