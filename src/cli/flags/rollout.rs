//! The flags of a staged rollout and its health gates, and of the
//! CodeDeploy hand-off.

use super::*;

/// A progressive rollout and its health gates (all optional).
#[derive(Debug, Args)]
pub struct RolloutArgs {
    /// Staged rollout: Canary10Percent5Minutes (any of CodeDeploy's nine, with or without the
    /// CodeDeployDefault.Lambda prefix), canary:10%:5m, linear:10%:1m, or steps 5%,25%,50%,100%.
    #[arg(long, value_parser = parse_strategy, help_heading = "Rollout")]
    pub strategy: Option<Strategy>,

    /// Wait after each explicit step (such as 2m); with --strategy 5%,25%,100%.
    #[arg(long, value_parser = parse_interval, help_heading = "Rollout")]
    pub step_interval: Option<Duration>,

    /// How often the gates are read during a step.
    #[arg(long, value_parser = parse_interval, default_value = "30s", help_heading = "Rollout")]
    pub poll_interval: Duration,

    /// CloudWatch alarm whose ALARM state fails the rollout (repeatable; one per line in the variable).
    #[arg(long = "alarm", value_name = "NAME", value_delimiter = '\n', action = ArgAction::Append, help_heading = "Health gates")]
    pub alarms: Vec<String>,

    /// Ignore the alarms that are already in ALARM when the rollout starts.
    #[arg(long, value_name = "BOOL", default_value = "false", value_parser = parse_bool, action = ArgAction::Set, help_heading = "Health gates")]
    pub ignore_alarms_already_firing: bool,

    /// Fail when the canary's error rate (Errors / Invocations) exceeds this (such as 5% or 0.05).
    #[arg(long, value_parser = parse_weight, help_heading = "Health gates")]
    pub max_error_rate: Option<Weight>,

    /// Fail when the canary's error or throttle rate exceeds the stable version's by more than this.
    #[arg(long, value_parser = parse_weight, help_heading = "Health gates")]
    pub max_error_rate_increase: Option<Weight>,

    /// Judge the canary like an experiment at this confidence (such as 95%): the error- and
    /// throttle-rate comparison becomes a one-sided test read under an error budget, each step
    /// says how many invocations a verdict needs and ends early once it is certain.
    /// Needs --max-error-rate-increase (the smallest increase worth detecting).
    #[arg(long, value_name = "PERCENT", value_parser = crate::core::judge::parse_confidence, help_heading = "Health gates")]
    pub confidence: Option<f64>,

    /// With --confidence: fail a step whose canary gets a share of the invocations implausible
    /// for its routed weight (the weight is not being applied).
    #[arg(long, value_name = "BOOL", default_value = "true", value_parser = parse_bool, action = ArgAction::Set, help_heading = "Health gates")]
    pub check_traffic_share: bool,

    /// Fail when the canary's latency statistic exceeds the stable version's by more than this:
    /// STATISTIC=PERCENT, such as p99=15% (p50, p90, p95, p99, p99.9 or avg; repeatable).
    #[arg(long, value_name = "STAT=PERCENT", value_parser = crate::core::judge::parse_latency_increase, value_delimiter = '\n', action = ArgAction::Append, help_heading = "Health gates")]
    pub max_latency_increase: Vec<LatencyLimit>,

    /// Fail when the canary's latency statistic exceeds this: STATISTIC=DURATION, such as
    /// p99=800ms (repeatable).
    #[arg(long, value_name = "STAT=DURATION", value_parser = crate::core::judge::parse_latency_ceiling, value_delimiter = '\n', action = ArgAction::Append, help_heading = "Health gates")]
    pub max_latency: Vec<LatencyLimit>,

    /// A TOML file of the function's own CloudWatch metrics, each read for the canary and the
    /// stable version ({function}, {alias}, {version} in its dimensions) and compared by its
    /// max-increase, max-decrease, max or min.
    #[arg(long, value_name = "FILE", help_heading = "Health gates")]
    pub metrics_file: Option<PathBuf>,

    /// Failing gate readings within one step that roll back (1: the first one does). A passing
    /// reading does not reset the count; each step starts again at 0.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100), help_heading = "Health gates")]
    pub max_failed_checks: u32,

    /// An alarm in ALARM counts as one failing reading toward --max-failed-checks instead of rolling back at once.
    #[arg(long, value_name = "BOOL", default_value = "false", value_parser = parse_bool, action = ArgAction::Set, help_heading = "Health gates")]
    pub alarms_count_as_failed_checks: bool,

    /// Invocations the canary needs before its error rate is judged (and each version before its
    /// latency is compared).
    #[arg(long, default_value_t = 100, help_heading = "Health gates")]
    pub min_invocations: u64,

    /// When the canary has too few invocations at the end of a step: pass, fail, or extend the step (by at most one interval) and then fail.
    #[arg(long, default_value = "extend", help_heading = "Health gates",
          value_parser = PossibleValuesParser::new(OnNoData::NAMES).map(|name| OnNoData::from_name(&name)))]
    pub on_no_data: OnNoData,

    /// Shell command run before any traffic moves; non-zero exit fails the rollout.
    /// It gets ROLLOUT_FUNCTION, ROLLOUT_ALIAS, ROLLOUT_NEW_VERSION, ROLLOUT_STABLE_VERSION, ROLLOUT_WEIGHT.
    #[arg(long, value_name = "CMD", help_heading = "Health gates")]
    pub pre_traffic_hook: Option<String>,

    /// Shell command run after the new version has all the traffic; non-zero exit rolls back.
    #[arg(long, value_name = "CMD", help_heading = "Health gates")]
    pub post_traffic_hook: Option<String>,

    /// Time limit for each hook.
    #[arg(long, value_parser = parse_interval, default_value = "5m", help_heading = "Health gates")]
    pub hook_timeout: Duration,

    /// JSON payload to invoke the new version with before shifting traffic; a function error fails the rollout.
    #[arg(long, value_name = "FILE", help_heading = "Health gates")]
    pub smoke_payload: Option<PathBuf>,

    /// Who shifts the traffic: inline (this process, watching the gates) or codedeploy (AWS CodeDeploy).
    #[arg(long, value_enum, default_value_t = Engine::Inline, help_heading = "Rollout")]
    pub engine: Engine,

    /// CodeDeploy application (compute platform Lambda) for --engine codedeploy.
    #[arg(long, value_name = "NAME", help_heading = "CodeDeploy")]
    pub codedeploy_application: Option<String>,

    /// CodeDeploy deployment group for --engine codedeploy.
    #[arg(long, value_name = "NAME", help_heading = "CodeDeploy")]
    pub codedeploy_deployment_group: Option<String>,

    /// Lambda function CodeDeploy runs as the BeforeAllowTraffic hook.
    #[arg(long, value_name = "FUNCTION", help_heading = "CodeDeploy")]
    pub codedeploy_before_allow_traffic: Option<String>,

    /// Lambda function CodeDeploy runs as the AfterAllowTraffic hook.
    #[arg(long, value_name = "FUNCTION", help_heading = "CodeDeploy")]
    pub codedeploy_after_allow_traffic: Option<String>,

    /// Wait for the CodeDeploy deployment to succeed, at most this long (default: do not wait).
    #[arg(long, value_name = "DURATION", value_parser = parse_interval, help_heading = "CodeDeploy")]
    pub codedeploy_wait: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    Inline,
    Codedeploy,
}
