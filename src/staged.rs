//! `deploy --strategy`: publish as usual, then step the alias through the
//! schedule with [`rollout::drive`], watched by the health gates, and put it
//! back on the stable version on a failed gate or a signal.

use std::time::SystemTime;

use crate::aws::Lambda;
use crate::deploy::{DeployRequest, publish_code};
use crate::error::Result;
use crate::health::{AliasTraffic, GateConfig, LiveGates, Shift, alarms_at_start};
use crate::monitor::Monitor;
use crate::package::Package;
use crate::plan::{Observed, Outcome, Plan, Version};
use crate::report::{AliasReport, Log};
use crate::rollout::{self, RolloutResult, SystemClock, Watch};
use crate::strategy::Step;
use crate::values::percent;

/// A staged rollout as asked for: its schedule, how steps are watched, and the gates.
pub struct Rollout {
    pub steps: Vec<Step>,
    pub watch: Watch,
    pub gates: GateConfig,
    pub monitor: Monitor,
}

impl std::fmt::Debug for Rollout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rollout")
            .field("steps", &self.steps)
            .field("watch", &self.watch)
            .finish_non_exhaustive()
    }
}

/// Which version a rollout moves traffic to.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// The version this run publishes.
    New,
    /// An existing canary with this code, resumed above its current weight.
    Resume { version: String, weight: f64 },
}

/// Whether the plan calls for a staged rollout: new code (published or
/// reused) against a published stable version, or a canary of this code.
pub fn target(observed: &Observed, plan: &Plan) -> Option<Target> {
    let alias = observed
        .alias
        .as_ref()
        .filter(|a| a.primary.version != "$LATEST")?;
    match (plan.outcome, &plan.routing.canary) {
        (Outcome::Published | Outcome::Reused, _) => Some(Target::New),
        (Outcome::Skipped, Some((Version::Existing(version), weight))) if alias.canary.is_some() => {
            Some(Target::Resume {
                version: version.clone(),
                weight: *weight,
            })
        }
        _ => None,
    }
}

/// SIGINT or SIGTERM (a cancelled workflow run). Once listened for, further
/// signals are caught too, so a second one cannot cut the rollback short.
async fn cancelled() -> String {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "the run was cancelled (SIGTERM)".to_string(),
        _ = int.recv() => "the run was cancelled (SIGINT)".to_string(),
    }
}

/// Publish (for new code), then run the rollout and describe what happened.
pub async fn run(
    deploy: (&Lambda, &DeployRequest, &Package),
    observed: &Observed,
    plan: &Plan,
    rollout: &Rollout,
    target: Target,
    log: &Log,
) -> Result<AliasReport> {
    let (lambda, request, package) = deploy;
    let stable = observed
        .alias
        .as_ref()
        .map(|a| a.primary.version.clone())
        .unwrap_or_default();
    let (from, outcome) = match &target {
        Target::New => (0.0, plan.outcome),
        Target::Resume { weight, .. } => (*weight, Outcome::Promoted),
    };
    let steps: Vec<Step> = rollout
        .steps
        .iter()
        .copied()
        .filter(|s| s.weight > from + 1e-9)
        .collect();
    let schedule = steps
        .iter()
        .map(|s| format!("{} ({})", percent(s.weight), humantime::format_duration(s.wait)))
        .collect::<Vec<_>>()
        .join(" → ");
    let mut report = AliasReport::for_deploy(observed, request, package, outcome);
    if request.dry_run {
        log.step(&format!(
            "would publish the new code, then step the alias from version {stable}: {schedule}"
        ));
        report.previous_version = stable;
        report.canary_weight = steps.last().map_or(from, |s| s.weight);
        return Ok(report);
    }
    let new = match target {
        Target::New => publish_code(lambda, request, package, observed, plan, log)
            .await?
            .unwrap_or_default(),
        Target::Resume { version, .. } => version,
    };
    log.step(&format!(
        "rolling out version {new} over version {stable}: {schedule}"
    ));
    let ignored_alarms = alarms_at_start(&rollout.monitor, &rollout.gates, log).await?;
    let shift = Shift {
        function: request.function.clone(),
        alias: request.alias.clone(),
        stable: stable.clone(),
        new: new.clone(),
    };
    let mut traffic = AliasTraffic {
        lambda,
        log: *log,
        shift: shift.clone(),
    };
    let clock = SystemClock::start();
    let mut gates = LiveGates {
        lambda,
        monitor: &rollout.monitor,
        log: *log,
        shift,
        config: &rollout.gates,
        origin: SystemTime::now(),
        ignored_alarms,
        weight: 0.0,
    };
    let result = rollout::drive(
        &steps,
        rollout.watch,
        &clock,
        &mut traffic,
        &mut gates,
        cancelled(),
        log,
    )
    .await?;
    Ok(finish(report, &stable, &new, result))
}

fn finish(mut report: AliasReport, stable: &str, new: &str, result: RolloutResult) -> AliasReport {
    match &result.rollback_reason {
        Some(reason) => {
            report.result = Outcome::RolledBack;
            report.version = stable.to_string();
            report.previous_version = new.to_string();
            report.canary_weight = 1.0;
            report.rollback_reason = reason.clone();
        }
        None => {
            report.version = new.to_string();
            report.previous_version = stable.to_string();
            report.canary_weight = result.steps.last().map_or(1.0, |s| s.weight);
        }
    }
    report.timeline = Some(result);
    report
}
