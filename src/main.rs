//! lambda-rollout's story: parse the command line, run the one command asked
//! for (it reports what it did), and map the outcome to a documented exit
//! status (0 done, 1 AWS refused or a step failed, 2 bad input; see `error.rs`).

use std::process::ExitCode;

use lambda_rollout::error::{EXIT_USAGE, Error};
use lambda_rollout::log::Log;
use lambda_rollout::{cli, commands};

fn main() -> ExitCode {
    let log = Log::from_env();
    let args: Vec<_> = std::env::args_os().collect();
    let cli = match cli::parse_from(&args) {
        Ok(cli) => cli,
        Err(err) => {
            let usage_error = err.use_stderr();
            let first_line = err.to_string().lines().next().unwrap_or_default().to_string();
            if usage_error && log.github {
                log.error(&first_line);
            }
            let _ = err.print();
            if usage_error && cli::asked_for_json(&args) {
                let message = first_line.trim_start_matches("error: ").to_string();
                println!("{}", Error::usage(message).to_json());
            }
            return ExitCode::from(if usage_error { EXIT_USAGE } else { 0 });
        }
    };
    let json = cli.command.json();
    match commands::run(cli.command, log) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            log.error(&err.to_string());
            if json && !matches!(err, Error::Reported(_)) {
                println!("{}", err.to_json());
            }
            ExitCode::from(err.exit_code())
        }
    }
}
