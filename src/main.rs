//! lambda-rollout's story: parse the command line, run the one command asked
//! for (it reports what it did), and map the outcome to a documented exit
//! status (0 done, 1 AWS refused or a step failed, 2 bad input; see `error.rs`).

use std::process::ExitCode;

use lambda_rollout::error::EXIT_USAGE;
use lambda_rollout::log::Log;
use lambda_rollout::{cli, commands};

fn main() -> ExitCode {
    let log = Log::from_env();
    let cli = match cli::parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        Err(err) => {
            let usage_error = err.use_stderr();
            if usage_error && log.github {
                log.error(err.to_string().lines().next().unwrap_or_default());
            }
            let _ = err.print();
            return ExitCode::from(if usage_error { EXIT_USAGE } else { 0 });
        }
    };
    match commands::run(cli.command, log) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            log.error(&err.to_string());
            ExitCode::from(err.exit_code())
        }
    }
}
