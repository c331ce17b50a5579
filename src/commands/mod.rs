//! One file per command. Each resolves its settings (`cli::settings`), builds
//! the AWS clients once, observes → plans → applies, and hands its result to
//! `report`. What several commands share: `runner` (one function or every
//! function of a manifest, in waves), `replan` (the re-plan after a
//! concurrent change) and `alias` (the guarded alias write; promote's and
//! rollback's observe → decide → apply).

pub mod alias;
pub mod deploy;
pub mod init;
pub mod package;
pub mod promote;
pub mod prune;
pub mod replan;
pub mod rollback;
pub mod runner;
pub mod status;

use crate::aws::Clients;
use crate::cli::settings;
use crate::cli::{self, Command};
use crate::commands::runner::scf::ScfPlace;
use crate::error::{Error, Result};
use crate::log::Log;

/// Run one command to completion. `package` needs no AWS and no async runtime.
pub fn run(command: Command, log: Log) -> Result<()> {
    // The one place that names a platform: SCF's connection or Lambda's
    // client set under the shared commands.
    let on_scf = cli::platform::is_scf(&command);
    if on_scf {
        cli::platform::check_names(&command)?;
    } else {
        cli::platform::check_lambda(&command)?;
    }
    match command {
        Command::Deploy(args) if on_scf => block_on(deploy::run::<ScfPlace>(settings::deploy(&args, log)?)),
        Command::Promote(args) if on_scf => {
            block_on(promote::run::<ScfPlace>(settings::promote(&args, log)?))
        }
        Command::Rollback(args) if on_scf => {
            block_on(rollback::run::<ScfPlace>(settings::rollback(&args, log)?))
        }
        Command::Status(args) if on_scf => block_on(status::run::<ScfPlace>(settings::status(&args, log)?)),
        Command::Prune(args) if on_scf => block_on(prune::run::<ScfPlace>(settings::prune(&args, log)?)),
        Command::Deploy(args) => block_on(deploy::run::<Clients>(settings::deploy(&args, log)?)),
        Command::Promote(args) => block_on(promote::run::<Clients>(settings::promote(&args, log)?)),
        Command::Rollback(args) => block_on(rollback::run::<Clients>(settings::rollback(&args, log)?)),
        Command::Status(args) => block_on(status::run::<Clients>(settings::status(&args, log)?)),
        Command::Prune(args) => block_on(prune::run::<Clients>(settings::prune(&args, log)?)),
        Command::Package(args) => package::run(&args, log),
        Command::Init(args) => block_on(init::run(&args, log)),
    }
}

/// Drive one command's future on a single-threaded runtime: the work is a
/// sequence of API calls, not parallel computation.
fn block_on(command: impl std::future::Future<Output = Result<()>>) -> Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::failed(format!("cannot start the async runtime: {e}")))?
        .block_on(command)
}
