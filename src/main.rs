//! lambda-rollout's story: parse the command line, run the one command asked
//! for, report, and map the outcome to a documented exit status
//! (0 done, 1 AWS refused or a step failed, 2 bad input; see `error.rs`).

use std::process::ExitCode;

use lambda_rollout::cli::{self, Command};
use lambda_rollout::error::{EXIT_USAGE, Error, Result};
use lambda_rollout::report::{self, Log, PackageReport};
use lambda_rollout::{deploy, package, promote, rollback, status};

fn main() -> ExitCode {
    let github = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    let log = Log {
        github,
        ..Log::default()
    };
    let cli = match cli::parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        Err(err) => {
            let usage_error = err.use_stderr();
            if usage_error && github {
                log.error(err.to_string().lines().next().unwrap_or_default());
            }
            let _ = err.print();
            return ExitCode::from(if usage_error { EXIT_USAGE } else { 0 });
        }
    };
    match run(cli.command, github) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            log.error(&err.to_string());
            ExitCode::from(err.exit_code())
        }
    }
}

/// Run one command to completion. `package` needs no AWS and no async runtime.
fn run(command: Command, github: bool) -> Result<()> {
    match command {
        Command::Deploy(args) => block_on(deploy::run(*args, github)),
        Command::Promote(args) => block_on(promote::run(args, github)),
        Command::Rollback(args) => block_on(rollback::run(args, github)),
        Command::Status(args) => block_on(status::run(args, github)),
        Command::Package(args) => {
            let built = package::build_to(&args.source, &args.excludes.globs, &args.out)?;
            let summary = PackageReport {
                zip_file: args.out.display().to_string(),
                code_sha256: built.code_sha256.clone(),
                files: built.files,
                size_bytes: built.zip.len() as u64,
            };
            if built.exceeds_direct_upload() {
                Log {
                    github,
                    ..Log::default()
                }
                .warn("the zip is over Lambda's 50 MiB direct-upload limit");
            }
            report::emit(&summary, args.common.output == cli::OutputFormat::Json)
        }
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
