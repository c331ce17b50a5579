//! `--platform scf`: deploy, promote, rollback, status and prune on Tencent
//! Cloud SCF. The decisions are the core's (`core::plan`, `core::prune`),
//! fed by `scf::observe`; this module applies them through `scf::api`.
//!
//! SCF's alias writes carry no revision to guard them, so every alias write
//! goes through `guard`: a fresh read compared with what the plan was made
//! from, and any difference stops the run without writing
//! (`Error::Interfered`), leaving the other writer's change in place.

mod alias;
mod deploy;
mod guard;
mod rollout;

use crate::cli::scf::ScfCommand;
use crate::error::Result;

pub async fn run(command: ScfCommand) -> Result<()> {
    match command {
        ScfCommand::Deploy(run, request) => deploy::run(&run, &request).await,
        ScfCommand::Promote(run, to, allow) => alias::promote(&run, &to, allow).await,
        ScfCommand::Rollback(run, to_version) => alias::rollback(&run, to_version.as_deref()).await,
        ScfCommand::Status(run) => alias::status(&run).await,
        ScfCommand::Prune(run, keep) => {
            let scf = guard::connect(&run)?;
            let report =
                crate::commands::prune::prune_function(&scf, &run.log, &run.function, keep, run.dry_run)
                    .await?;
            crate::report::emit(&report, run.json)
        }
    }
}
