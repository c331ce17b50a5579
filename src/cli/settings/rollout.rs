//! A staged rollout's settings: its schedule, gates, hooks, smoke
//! payload, or the CodeDeploy hand-off.

use super::*;
use crate::core::judge::{Design, LatencyLimit};

/// A staged rollout as asked for: its schedule, how steps are watched, and the gates.
#[derive(Debug, Clone)]
pub struct RolloutSettings {
    pub steps: Vec<Step>,
    pub watch: Watch,
    pub gates: GateConfig,
}

/// With `--engine codedeploy`: check its flags.
pub(super) fn codedeploy_settings(args: &RolloutArgs) -> Result<Option<HandoffSettings>> {
    let codedeploy_flags = args.codedeploy_application.is_some()
        || args.codedeploy_deployment_group.is_some()
        || args.codedeploy_before_allow_traffic.is_some()
        || args.codedeploy_after_allow_traffic.is_some()
        || args.codedeploy_wait.is_some();
    if args.engine == Engine::Inline {
        if codedeploy_flags {
            return Err(Error::usage("the --codedeploy-* flags need --engine codedeploy"));
        }
        return Ok(None);
    }
    let Some(strategy) = &args.strategy else {
        return Err(Error::usage(
            "--engine codedeploy needs --strategy with a CodeDeploy configuration, such as Canary10Percent5Minutes",
        ));
    };
    let Some(config_name) = strategy.codedeploy_config() else {
        return Err(Error::usage(
            "--strategy has no predefined CodeDeploy configuration: with --engine codedeploy use one of CodeDeploy's nine (Canary10Percent5Minutes, Linear10PercentEvery1Minute, AllAtOnce, …), or the inline engine",
        ));
    };
    let inline_only = !args.alarms.is_empty()
        || args.confidence.is_some()
        || args.metrics_file.is_some()
        || !args.max_latency_increase.is_empty()
        || !args.max_latency.is_empty()
        || args.max_error_rate.is_some()
        || args.max_error_rate_increase.is_some()
        || args.pre_traffic_hook.is_some()
        || args.post_traffic_hook.is_some()
        || args.smoke_payload.is_some()
        || args.step_interval.is_some()
        || args.max_failed_checks != 1
        || args.alarms_count_as_failed_checks;
    if inline_only {
        return Err(Error::usage(
            "--engine codedeploy takes its gates from the deployment group (alarms) and --codedeploy-before/after-allow-traffic (hook functions): --alarm, --max-error-rate*, --confidence, --max-latency*, --max-failed-checks, the shell hooks, --smoke-payload and --step-interval belong to the inline engine",
        ));
    }
    let (Some(application), Some(deployment_group)) =
        (&args.codedeploy_application, &args.codedeploy_deployment_group)
    else {
        return Err(Error::usage(
            "--engine codedeploy needs --codedeploy-application and --codedeploy-deployment-group",
        ));
    };
    Ok(Some(HandoffSettings {
        application: application.clone(),
        deployment_group: deployment_group.clone(),
        config_name,
        before_allow_traffic: args.codedeploy_before_allow_traffic.clone(),
        after_allow_traffic: args.codedeploy_after_allow_traffic.clone(),
        wait: args.codedeploy_wait,
    }))
}

/// The health gates the flags ask for. With `--confidence`, the increase
/// of the error rate is the statistical judge's, not a threshold.
pub(super) fn gate_config(args: &RolloutArgs) -> Result<GateConfig> {
    let judged = args.confidence.is_some();
    let increase = args.max_error_rate_increase.map(Weight::fraction);
    let threshold_increase = increase.filter(|_| !judged);
    let thresholds = (args.max_error_rate.is_some() || threshold_increase.is_some()).then(|| Thresholds {
        max_error_rate: args.max_error_rate.map(Weight::fraction),
        max_error_rate_increase: threshold_increase,
        min_invocations: args.min_invocations as f64,
    });
    let latency: Vec<LatencyLimit> = args
        .max_latency_increase
        .iter()
        .chain(&args.max_latency)
        .cloned()
        .collect();
    let judge = match (args.confidence, increase) {
        (Some(_), None) => {
            return Err(Error::usage(
                "--confidence needs --max-error-rate-increase: the smallest increase of the error rate worth detecting (such as 1%), which sets how many invocations a verdict needs",
            ));
        }
        (None, _) if latency.is_empty() && args.metrics_file.is_none() => None,
        (confidence, increase) => Some(Design {
            confidence: confidence.unwrap_or(0.0),
            max_increase: increase.unwrap_or(0.0),
            judged_steps: 1,
            check_share: args.check_traffic_share && confidence.is_some(),
            latency,
            custom: match &args.metrics_file {
                Some(path) => metrics_file(path)?,
                None => Vec::new(),
            },
            min_count: args.min_invocations as f64,
        }),
    };
    let smoke_payload = match &args.smoke_payload {
        None => None,
        Some(path) => Some(smoke_payload(path)?),
    };
    let alarms: Vec<String> = args
        .alarms
        .iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    Ok(GateConfig {
        alarms,
        ignore_alarms_already_firing: args.ignore_alarms_already_firing,
        thresholds,
        pre_traffic_hook: args.pre_traffic_hook.clone(),
        post_traffic_hook: args.post_traffic_hook.clone(),
        hook_timeout: args.hook_timeout,
        smoke_payload,
        judge,
    })
}

/// `--metrics-file`: the function's own metrics, read once.
fn metrics_file(path: &Path) -> Result<Vec<crate::core::judge::custom::CustomMetric>> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::usage(format!("--metrics-file '{shown}' cannot be read: {e}")))?;
    crate::core::judge::custom::parse(&text).map_err(|e| {
        Error::usage(format!(
            "--metrics-file '{shown}': {e} (each [[metric]] gives name, namespace, metric, dimensions with {{version}}, stat, and one of max-increase, max-decrease, max, min)"
        ))
    })
}

/// `--smoke-payload`: a JSON file, read once.
pub(super) fn smoke_payload(path: &Path) -> Result<Vec<u8>> {
    let shown = path.display();
    let bytes = std::fs::read(path)
        .map_err(|e| Error::usage(format!("--smoke-payload '{shown}' cannot be read: {e}")))?;
    serde_json::from_slice::<serde_json::Value>(&bytes).map_err(|e| {
        Error::usage(format!(
            "--smoke-payload '{shown}' is not JSON ({e}): Lambda payloads are JSON"
        ))
    })?;
    Ok(bytes)
}

/// A schedule, how to watch it, and the gates. Gate flags without
/// `--strategy` are refused.
pub fn rollout_settings(args: &RolloutArgs) -> Result<Option<RolloutSettings>> {
    let gates = gate_config(args)?;
    let Some(strategy) = &args.strategy else {
        let watching = args.max_failed_checks != 1 || args.alarms_count_as_failed_checks;
        if gates.any() || args.step_interval.is_some() || watching {
            return Err(Error::usage(
                "health gates, --max-failed-checks and --step-interval need --strategy (such as --strategy canary:10%:5m): they watch a staged rollout",
            ));
        }
        return Ok(None);
    };
    let steps = strategy.schedule(args.step_interval).map_err(Error::usage)?;
    let watch = watch_for(&steps, args);
    Ok(Some(RolloutSettings::new(steps, watch, gates)))
}

impl RolloutSettings {
    /// A schedule watched by `gates`; the statistical judge's error budget
    /// is split between the steps that carry canary beside stable traffic.
    pub fn new(steps: Vec<Step>, watch: Watch, mut gates: GateConfig) -> RolloutSettings {
        if let Some(design) = gates.judge.as_mut() {
            design.judged_steps = steps.iter().filter(|s| s.weight < 1.0 - 1e-9).count().max(1);
        }
        RolloutSettings { steps, watch, gates }
    }
}

/// How the controller watches `steps`: late data may extend a step by at
/// most one more interval.
pub(super) fn watch_for(steps: &[Step], args: &RolloutArgs) -> Watch {
    let max_extension = steps.iter().map(|s| s.wait).max().unwrap_or_default();
    Watch {
        poll: args.poll_interval,
        on_no_data: args.on_no_data,
        max_extension,
        max_failed_checks: args.max_failed_checks,
        alarms_counted: args.alarms_count_as_failed_checks,
    }
}
