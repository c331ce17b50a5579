//! The flags: clap definitions only. Every flag also reads
//! `LAMBDA_ROLLOUT_<FLAG>`; an empty variable counts as unset, because GitHub
//! passes unset action inputs as "". What the values mean together is checked
//! in `settings`, not here.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{ArgAction, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::core::gates::OnNoData;
use crate::core::judge::LatencyLimit;
use crate::core::strategy::{Strategy, parse_interval, parse_strategy};
use crate::core::values::{
    HeaderRule, ImageRef, S3Target, Weight, parse_alias, parse_any_region, parse_bool, parse_bucket,
    parse_function_name, parse_header_exact, parse_header_range, parse_image_uri, parse_key_prefix,
    parse_namespace, parse_region, parse_version, parse_weight,
};

mod code;
mod rollout;
pub use code::*;
pub use rollout::*;

#[derive(Debug, Parser)]
#[command(
    name = "lambda-rollout",
    version,
    about = "Ship AWS Lambda code safely: package, publish only what changed, shift an alias's traffic.",
    after_help = "Exit status: 0 done (including nothing to do), 1 AWS refused or a step failed, 2 bad input or configuration (nothing was sent)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Usage lines that name the flags each form of a command requires.
const DEPLOY_USAGE: &str = "lambda-rollout deploy --function-name NAME --alias ALIAS (--source DIR | --zip-file FILE | --image-uri URI) [OPTIONS]\n       lambda-rollout deploy --manifest FILE [OPTIONS]";
const PROMOTE_USAGE: &str = "lambda-rollout promote --function-name NAME --alias ALIAS [--weight W | --version N | --from-alias OTHER] [OPTIONS]\n       lambda-rollout promote --manifest FILE [OPTIONS]";
const ROLLBACK_USAGE: &str = "lambda-rollout rollback --function-name NAME --alias ALIAS [--to-version N] [OPTIONS]\n       lambda-rollout rollback --manifest FILE [OPTIONS]";
const PRUNE_USAGE: &str = "lambda-rollout prune --function-name NAME (--keep N | --older-than DURATION) [OPTIONS]\n       lambda-rollout prune --manifest FILE (--keep N | --older-than DURATION) [OPTIONS]";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Package (or take a zip), skip if unchanged, publish, and point the alias at it.
    #[command(override_usage = DEPLOY_USAGE)]
    Deploy(Box<DeployArgs>),
    /// Move the alias's canary to 100 % (or to --weight), or point it at a version or another alias's version.
    #[command(override_usage = PROMOTE_USAGE)]
    Promote(PromoteArgs),
    /// Drop the canary; or return to the version live before the last promotion; or to --to-version.
    #[command(override_usage = ROLLBACK_USAGE)]
    Rollback(RollbackArgs),
    /// Show what the alias serves: versions, weights, code hashes, descriptions, rollback target.
    // Reads only: --concurrency, --fail-fast and --on-wave-failure do not apply.
    #[command(
        override_usage = "lambda-rollout status --function-name NAME --alias ALIAS [OPTIONS]\n       lambda-rollout status --manifest FILE [OPTIONS]",
        mut_arg("concurrency", |arg| arg.hide(true)),
        mut_arg("fail_fast", |arg| arg.hide(true)),
        mut_arg("on_wave_failure", |arg| arg.hide(true))
    )]
    Status(StatusArgs),
    /// Delete old versions that nothing routes to, records, keeps warm or maps events to.
    #[command(override_usage = PRUNE_USAGE)]
    Prune(PruneArgs),
    /// Write a release file from a live function (the version its alias serves), never a variable's value.
    #[command(
        override_usage = "lambda-rollout init --function-name NAME [--alias ALIAS] [--out FILE] [--download DIR] [OPTIONS]"
    )]
    Init(InitArgs),
    /// Build the deterministic zip only and print its CodeSha256; works offline.
    #[command(
        override_usage = "lambda-rollout package --source DIR --out FILE [OPTIONS]",
        mut_arg("verbose", |arg| arg.help("Narrate each step"))
    )]
    Package(PackageArgs),
}

impl Command {
    /// Whether the report (and so an error) goes to standard output as JSON.
    pub fn json(&self) -> bool {
        let common = match self {
            Command::Deploy(args) => &args.common,
            Command::Promote(args) => &args.common,
            Command::Rollback(args) => &args.common,
            Command::Status(args) => &args.common,
            Command::Prune(args) => &args.common,
            Command::Package(args) => &args.common,
            Command::Init(args) => &args.common,
        };
        common.output == OutputFormat::Json
    }
}

/// Whether a command line that did not parse asked for JSON output
/// (`--output json`, `--output=json`, or `LAMBDA_ROLLOUT_OUTPUT=json`).
pub fn asked_for_json(args: &[OsString]) -> bool {
    let words: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
    words.windows(2).any(|pair| pair == ["--output", "json"])
        || words.contains(&"--output=json")
        || std::env::var("LAMBDA_ROLLOUT_OUTPUT").is_ok_and(|v| v == "json")
}

/// The function and alias a command acts on (or a manifest of them), and the region.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Function name or ARN.
    #[arg(long, value_parser = parse_function_name,
          required_unless_present = "manifest", conflicts_with = "manifest")]
    pub function_name: Option<String>,

    /// Alias that serves the function's traffic (such as live or prod).
    #[arg(long, value_parser = parse_alias,
          required_unless_present = "manifest", conflicts_with = "manifest")]
    pub alias: Option<String>,

    /// Region, such as eu-west-1 (default: the standard AWS configuration, such as AWS_REGION); with
    /// --platform scf, a Tencent Cloud region such as ap-guangzhou (default: TENCENTCLOUD_REGION).
    #[arg(long, value_parser = parse_any_region)]
    pub region: Option<String>,

    #[command(flatten)]
    pub platform: PlatformArgs,

    /// Run for every function of this manifest (TOML, or YAML if named *.yaml/*.yml; see the README) instead of one.
    #[arg(long, value_name = "FILE", help_heading = "Many functions")]
    pub manifest: Option<PathBuf>,

    /// With --manifest: functions handled at once in each account-region.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64), help_heading = "Many functions")]
    pub concurrency: u16,

    /// With --manifest: control-plane requests (GetAlias and writes) per second at most (Lambda allows 15 per account).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100), help_heading = "Many functions")]
    pub max_requests_per_second: u32,

    /// With --manifest: after a function fails, start no more.
    #[arg(long, value_name = "BOOL", default_value = "false", value_parser = parse_bool, action = ArgAction::Set, help_heading = "Many functions")]
    pub fail_fast: bool,

    /// With [[waves]]: when a wave fails beyond its tolerance, stop (leave the finished waves as they are) or also roll back every target this run moved.
    #[arg(long, value_enum, default_value_t = OnWaveFailure::Stop, help_heading = "Many functions")]
    pub on_wave_failure: OnWaveFailure,
}

/// Which platform a command acts on, and SCF's namespace.
#[derive(Debug, Args)]
pub struct PlatformArgs {
    /// lambda (AWS Lambda) or scf (Tencent Cloud Serverless Cloud Function; credentials from
    /// TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY and TENCENTCLOUD_SESSION_TOKEN).
    #[arg(long, value_enum, default_value_t = Platform::Lambda, help_heading = "Platform")]
    pub platform: Platform,

    /// With --platform scf: the function's namespace.
    #[arg(long, value_parser = parse_namespace, help_heading = "Platform")]
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Platform {
    Lambda,
    Scf,
}

/// `--on-wave-failure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnWaveFailure {
    Stop,
    Rollback,
}

impl TargetArgs {
    /// The one function and alias (clap guarantees both without --manifest).
    pub fn single(&self) -> (&str, &str) {
        (
            self.function_name.as_deref().unwrap_or_default(),
            self.alias.as_deref().unwrap_or_default(),
        )
    }
}

#[derive(Debug, Args)]
pub struct DryRunArgs {
    /// Observe and print the plan; send no request that changes anything.
    #[arg(long, value_name = "BOOL", default_value = "false", value_parser = parse_bool, action = ArgAction::Set)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct PromoteArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    #[command(flatten)]
    pub to: PromoteTo,

    /// With --weight: set the canary's share even though something invokes the unqualified function ($LATEST), which that share does not govern.
    #[arg(long, value_name = "BOOL", default_value = "false", value_parser = parse_bool, action = ArgAction::Set)]
    pub allow_latest_triggers: bool,

    #[command(flatten)]
    pub dry_run: DryRunArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// At most one of: a canary weight, a version, another alias.
#[derive(Debug, Args)]
#[group(required = false, multiple = false)]
pub struct PromoteTo {
    /// Set the canary's share instead of promoting it fully (0.5 or 50%); 100% promotes it.
    #[arg(long, value_parser = parse_weight)]
    pub weight: Option<Weight>,

    /// Point the alias at this published version (all traffic).
    #[arg(long, value_parser = parse_version)]
    pub version: Option<String>,

    /// Point the alias at the version this other alias serves (such as staging).
    #[arg(long, value_parser = parse_alias)]
    pub from_alias: Option<String>,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// Return the alias to this published version (all traffic).
    #[arg(long, value_parser = parse_version)]
    pub to_version: Option<String>,

    #[command(flatten)]
    pub dry_run: DryRunArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// Compare a live canary with the stable version over the last WINDOW (default 15m): each
    /// version's error rate with its count and the one-sided test of an increase at 95%, and
    /// the canary's share of the invocations against its weight.
    #[arg(long, value_name = "WINDOW", num_args = 0..=1, default_missing_value = "15m", value_parser = parse_interval)]
    pub metrics: Option<Duration>,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    #[command(flatten)]
    pub code: CodeArgs,

    #[command(flatten)]
    pub excludes: ExcludeArgs,

    #[command(flatten)]
    pub s3: S3Args,

    /// Traffic share for the new version: 0.1 or 10%. 100% switches at once; 0 publishes a dark canary.
    /// Default: 10% for new code; an existing canary keeps its weight.
    #[arg(long, value_parser = parse_weight, conflicts_with = "strategy")]
    pub canary_weight: Option<Weight>,

    /// With --platform scf: route to the new version the requests whose header KEY is exactly VALUE
    /// (such as x-canary=tester), instead of a share of all requests.
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_header_exact,
          conflicts_with_all = ["canary_weight", "strategy", "canary_header_range"], help_heading = "Platform")]
    pub canary_header: Option<HeaderRule>,

    /// With --platform scf: route to the new version the requests whose header KEY is a whole number
    /// from LOW to HIGH (such as x-user-bucket=0-9), instead of a share of all requests.
    #[arg(long, value_name = "KEY=LOW-HIGH", value_parser = parse_header_range,
          conflicts_with_all = ["canary_weight", "strategy"], help_heading = "Platform")]
    pub canary_header_range: Option<HeaderRule>,

    #[command(flatten)]
    pub rollout: RolloutArgs,

    /// After a successful deploy, delete old versions but the N newest besides the protected ones (see prune).
    #[arg(long, value_name = "N")]
    pub keep_versions: Option<usize>,

    /// A JSON file with the function URL to keep on the alias (AuthType, Cors, InvokeMode as Lambda names them): created, updated or left alone.
    #[arg(long, value_name = "FILE")]
    pub function_url: Option<PathBuf>,

    /// With --manifest and [[waves]]: deploy this wave only, after checking that every target of the earlier waves already serves this release.
    #[arg(long, value_name = "NAME", requires = "manifest")]
    pub wave: Option<String>,

    /// Route a canary even though something invokes the unqualified function ($LATEST), which runs new code at 100% the moment it is uploaded.
    #[arg(long, value_name = "BOOL", default_value = "false", value_parser = parse_bool, action = ArgAction::Set)]
    pub allow_latest_triggers: bool,

    /// Description of the published version. Default: the commit and run, when GitHub provides them.
    #[arg(long)]
    pub description: Option<String>,

    /// The release's configuration: a JSON (or *.yaml) file with Lambda's own keys (MemorySize,
    /// Environment, ...). Keys it does not name are left as they are.
    #[arg(long, value_name = "FILE", conflicts_with = "manifest")]
    pub function_config: Option<PathBuf>,

    #[command(flatten)]
    pub dry_run: DryRunArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Function name or ARN.
    #[arg(long, value_parser = parse_function_name, required_unless_present = "manifest", conflicts_with = "manifest")]
    pub function_name: Option<String>,

    /// Region, such as eu-west-1 (default: the standard AWS configuration, such as AWS_REGION); with
    /// --platform scf, a Tencent Cloud region such as ap-guangzhou (default: TENCENTCLOUD_REGION).
    #[arg(long, value_parser = parse_any_region)]
    pub region: Option<String>,

    #[command(flatten)]
    pub platform: PlatformArgs,

    /// Prune every function of this manifest, in each account and region it names.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,

    /// Keep the N newest versions besides the protected ones (0: delete every unprotected version).
    #[arg(long, value_name = "N", required_unless_present = "older_than")]
    pub keep: Option<usize>,

    /// Spare versions published less than this long ago (such as 30d, 12h).
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    pub older_than: Option<Duration>,

    /// Control-plane requests (listings and deletes) per second at most, in each account-region (Lambda allows 15 per account and region).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_requests_per_second: u32,

    #[command(flatten)]
    pub dry_run: DryRunArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Report format on standard output.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Narrate every AWS request as it is made.
    #[arg(long, value_name = "BOOL", default_value = "false", value_parser = parse_bool, action = ArgAction::Set)]
    pub verbose: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

/// Parse the command line, treating empty `LAMBDA_ROLLOUT_*` variables as unset.
pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let mut command = command();
    let matches = command
        .try_get_matches_from_mut(&args)
        .map_err(|err| explain_bool_value(err, &args, &mut command))?;
    Cli::from_arg_matches(&matches)
}

/// `--dry-run true` (a BOOL flag, then its value as a separate word) is an
/// "unexpected argument" to clap: say how BOOL flags take a value instead.
fn explain_bool_value(err: clap::Error, args: &[OsString], command: &mut clap::Command) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let Some(ContextValue::String(unexpected)) = err.get(ContextKind::InvalidArg) else {
        return err;
    };
    let flag = args.windows(2).find_map(|pair| {
        let flag = pair[0].to_str()?.strip_prefix("--")?;
        (pair[1].to_str() == Some(unexpected.as_str()) && is_bool_flag(command, flag)).then_some(flag)
    });
    match flag {
        Some(flag) if err.kind() == ErrorKind::UnknownArgument => command.error(
            ErrorKind::InvalidValue,
            format!(
                "--{flag} takes its value after '=', not as a separate word: --{flag} alone means true, --{flag}=false turns it off (true/True/TRUE/false/False/FALSE); '{unexpected}' was read as another argument"
            ),
        ),
        _ => err,
    }
}

/// Whether `--flag` is a BOOL flag of any command.
fn is_bool_flag(command: &clap::Command, flag: &str) -> bool {
    let here = command.get_arguments().any(|arg| {
        arg.get_long() == Some(flag)
            && arg
                .get_value_names()
                .is_some_and(|names| names.iter().any(|name| name == "BOOL"))
    });
    here || command.get_subcommands().any(|sub| is_bool_flag(sub, flag))
}

/// The command definition, with what every flag shares applied once.
fn command() -> clap::Command {
    shared_rules(Cli::command())
}

/// Every flag `--x-y` also reads `LAMBDA_ROLLOUT_X_Y`, and an empty variable
/// counts as unset; a `BOOL` flag alone means true, and takes a value only as
/// `--flag=false` (so `--dry-run deploy-dir` stays a path).
fn shared_rules(command: clap::Command) -> clap::Command {
    let command = command.mut_args(|arg| {
        let variable = arg
            .get_long()
            .map(|long| format!("LAMBDA_ROLLOUT_{}", long.to_uppercase().replace('-', "_")));
        let empty = variable
            .as_deref()
            .and_then(std::env::var_os)
            .is_some_and(|value| value.is_empty());
        let arg = match variable {
            Some(variable) if !empty => arg.env(variable),
            _ => arg,
        };
        let boolean = arg
            .get_value_names()
            .is_some_and(|names| names.iter().any(|name| name == "BOOL"));
        if boolean {
            arg.num_args(0..=1)
                .require_equals(true)
                .default_missing_value("true")
        } else if arg.get_action().takes_values() {
            // `--canary-weight -1` or `-10%` reaches the value's own check,
            // which names the flag and the accepted form; a flag given where
            // another flag's value belongs stays a flag.
            let weight = arg.get_long().is_some_and(|long| {
                [
                    "canary-weight",
                    "weight",
                    "max-error-rate",
                    "max-error-rate-increase",
                ]
                .contains(&long)
            });
            arg.allow_negative_numbers(true).allow_hyphen_values(weight)
        } else {
            arg
        }
    });
    command.mut_subcommands(shared_rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parse a command line given as words separated by spaces.
    fn parse_words(line: &str) -> Result<Cli, clap::Error> {
        parse_from(std::iter::once("lambda-rollout").chain(line.split(' ')))
    }

    #[test]
    fn the_command_definition_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn deploy_takes_a_source_or_a_zip_but_not_both() {
        let both = parse_words("deploy --function-name f --alias live --source a --zip-file b.zip");
        assert!(both.unwrap_err().to_string().contains("cannot be used with"));
        // Neither is refused by `deploy` itself (a manifest names each function's code).
        let with_manifest = parse_words("deploy --manifest m.toml --source a").unwrap_err();
        assert!(
            with_manifest.to_string().contains("cannot be used with"),
            "{with_manifest}"
        );
        let without_function = parse_words("deploy --alias live --source a").unwrap_err();
        assert!(
            without_function.to_string().contains("--function-name"),
            "{without_function}"
        );
    }

    #[test]
    fn flags_parse_into_typed_values() {
        let cli = parse_words("deploy --function-name f --alias live --source src --canary-weight 25% --dry-run --exclude *.md --exclude tests/")
        .unwrap();
        let Command::Deploy(args) = cli.command else {
            panic!("deploy expected")
        };
        assert_eq!(args.canary_weight.unwrap().fraction(), 0.25);
        assert!(args.dry_run.dry_run);
        assert_eq!(args.excludes.globs, ["*.md", "tests/"]);
    }

    #[test]
    fn promote_takes_at_most_one_target() {
        let err = parse_words("promote --function-name f --alias prod --weight 50% --version 3").unwrap_err();
        assert!(err.to_string().contains("cannot be used with"), "{err}");
        let cli = parse_words("promote --function-name f --alias prod --from-alias staging").unwrap();
        let Command::Promote(args) = cli.command else {
            panic!("promote expected")
        };
        assert_eq!(args.to.from_alias.as_deref(), Some("staging"));
        let err = parse_words("rollback --function-name f --alias prod --to-version $LATEST").unwrap_err();
        assert!(err.to_string().contains("published version number"), "{err}");
    }

    #[test]
    fn bad_values_name_the_flag_and_the_accepted_form() {
        let err = parse_words("deploy --function-name f --alias 7 --source s").unwrap_err();
        assert!(err.to_string().contains("--alias"), "{err}");
        assert!(err.to_string().contains("version number"), "{err}");
        let err = parse_words("deploy --function-name f --alias a --source s --dry-run=yes").unwrap_err();
        assert!(err.to_string().contains("true/True/TRUE"), "{err}");
    }

    fn help(subcommand: &str) -> String {
        let mut command = command();
        command.build();
        let sub = command.find_subcommand_mut(subcommand).unwrap();
        sub.render_long_help().to_string()
    }

    #[test]
    fn help_shows_required_flags_and_only_what_each_command_uses() {
        assert!(help("deploy").contains(
            "Usage: lambda-rollout deploy --function-name NAME --alias ALIAS (--source DIR | --zip-file FILE | --image-uri URI)"
        ));
        assert!(help("status").contains("Usage: lambda-rollout status --function-name NAME --alias ALIAS"));
        assert!(help("package").contains("Usage: lambda-rollout package --source DIR --out FILE"));
        let package = help("package");
        assert!(!package.contains("AWS request"), "{package}");
        let status = help("status");
        assert!(status.contains("--manifest"), "{status}");
        for unused in ["--concurrency", "--fail-fast", "--on-wave-failure", "--dry-run"] {
            assert!(
                !status.contains(unused),
                "status --help offers {unused}:\n{status}"
            );
        }
    }
}
