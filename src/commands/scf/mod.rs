//! `--platform scf`: deploy, promote, rollback, status and prune on Tencent
//! Cloud SCF. The decisions are the core's (`core::plan`, `core::prune`),
//! fed by `scf::observe`; this module applies them through `scf::api`.
//!
//! SCF's alias writes carry no revision to guard them, so every alias write
//! goes through `guard`: a fresh read compared with what the plan was made
//! from, and any difference stops the run without writing
//! (`Error::Interfered`), leaving the other writer's change in place.

mod deploy;
mod guard;
mod rollout;

use crate::cli::scf::{ScfCommand, ScfRun};
use crate::commands::alias;
use crate::commands::promote;
use crate::commands::rollback;
use crate::commands::status;
use crate::error::Result;
use crate::report::{self, AliasReport};

fn names(run: &ScfRun) -> (&str, &str) {
    (&run.function, &run.alias)
}

/// A report of SCF's, with the region it acted in.
fn emit_in(mut report: AliasReport, run: &ScfRun) -> Result<()> {
    report.region = run.region.clone();
    report::emit(&report, run.json)
}

pub async fn run(command: ScfCommand) -> Result<()> {
    match command {
        ScfCommand::Deploy(run, request) => deploy::run(&run, &request).await,
        ScfCommand::Promote(run, to, allow) => {
            let scf = guard::connect(&run)?;
            let options = (&to, run.dry_run, allow);
            let report = promote::promote_one(&scf, &run.log, names(&run), options).await?;
            emit_in(report, &run)
        }
        ScfCommand::Rollback(run, to_version) => {
            let scf = guard::connect(&run)?;
            let to_version = to_version.as_deref();
            let report = alias::observe_decide_apply(
                &scf,
                &run.log,
                names(&run),
                run.dry_run,
                async |before, hashes| {
                    rollback::decide(&scf, &run.function, to_version, before, hashes).await
                },
            )
            .await?;
            emit_in(report, &run)
        }
        ScfCommand::Status(run) => {
            let scf = guard::connect(&run)?;
            let mut report = status::status_of(&scf, names(&run)).await?;
            report.outputs.region = run.region.clone();
            report::emit(&report, run.json)
        }
        ScfCommand::Prune(run, keep) => {
            let scf = guard::connect(&run)?;
            let report =
                crate::commands::prune::prune_function(&scf, &run.log, &run.function, keep, run.dry_run)
                    .await?;
            crate::report::emit(&report, run.json)
        }
    }
}
