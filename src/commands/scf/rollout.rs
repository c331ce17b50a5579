//! `deploy --platform scf --strategy`: the rollout controller (the same one
//! Lambda's rollouts run) stepping an SCF alias's weight, watched by the
//! smoke invoke and the pre- and post-traffic hooks, and putting the alias
//! back on the stable version when one fails or the run is cancelled.

use std::time::Duration;

use crate::cli::settings::RolloutSettings;
use crate::commands::deploy::gates::{Hook, Shift};
use crate::commands::deploy::inline::{AliasTraffic, cancelled};
use crate::commands::scf::target::ScfRun;
use crate::core::controller::{self, GateFailed, GateResult, Gates, Reading, SystemClock};
use crate::core::gates::GateConfig;
use crate::core::observed::AliasNow;
use crate::core::plan::RolloutTarget;
use crate::core::record::Record;
use crate::core::strategy;
use crate::error::Result;
use crate::log::Log;
use crate::report::AliasReport;
use crate::scf::Scf;

/// What a rollout starts from: the alias as observed, and the version to
/// move traffic to (published by the caller, or the canary resumed).
pub struct Start<'a> {
    pub before: &'a AliasNow,
    pub target: &'a RolloutTarget,
    pub new: String,
}

/// Step the alias to `start.new` through the schedule; `report` is the
/// deploy's report, completed with what the rollout did.
pub async fn run(
    scf: &Scf,
    run: &ScfRun,
    rollout: &RolloutSettings,
    start: Start<'_>,
    report: AliasReport,
) -> Result<AliasReport> {
    let stable = start.before.primary.clone();
    let from = match start.target {
        RolloutTarget::New => 0.0,
        RolloutTarget::Resume { weight, .. } => *weight,
    };
    let steps = strategy::resume_from(&rollout.steps, from);
    let schedule = strategy::schedule_text(&steps);
    if run.dry_run {
        run.log
            .step(&format!("would step the alias from version {stable}: {schedule}"));
        return Ok(report);
    }
    let new = start.new;
    let (shift, mut traffic) = AliasTraffic::begin(
        scf,
        run.log,
        (&run.function, &run.alias, &stable, &new),
        &schedule,
        (start.before.serving(), Record::parse(&start.before.description)),
        false,
    );
    let mut gates = HookGates {
        scf,
        config: &rollout.gates,
        log: run.log,
        shift,
        weight: 0.0,
    };
    let result = controller::drive(
        &steps,
        rollout.watch,
        &SystemClock::start(),
        &mut traffic,
        &mut gates,
        cancelled(),
        &run.log,
    )
    .await?;
    // The alias as this run last read or wrote it (a rule routes no share:
    // its version is shown at 0 %).
    let serving = traffic.expected.clone();
    Ok(report.after_rollout(&stable, &new, result, &serving))
}

/// The gates of an SCF rollout: the smoke invoke and the hooks. Between
/// them each step waits its time; there is no metric to read.
struct HookGates<'a> {
    scf: &'a Scf,
    /// The smoke payload, the hooks and their time limit (SCF's rollouts
    /// take no other gate).
    config: &'a GateConfig,
    log: Log,
    shift: Shift,
    weight: f64,
}

impl HookGates<'_> {
    /// Invoke the new version directly with the smoke payload: a function
    /// error (or a failed invoke) fails the gate.
    async fn smoke(&self, payload: &[u8]) -> GateResult {
        let Shift { function, new, .. } = &self.shift;
        self.log
            .step(&format!("smoke test: invoking version {new} directly"));
        let event = String::from_utf8_lossy(payload);
        match self.scf.invoke(function, new, &event).await {
            Ok(invoked) => match invoked.error {
                None => Ok(()),
                Some(error) => Err(GateFailed(format!(
                    "the smoke invoke of version {new} returned a function error: {}",
                    error.chars().take(300).collect::<String>()
                ))),
            },
            Err(e) => Err(GateFailed(e.to_string())),
        }
    }

    async fn hook(&self, phase: &str, command: Option<&str>) -> GateResult {
        let Some(command) = command else {
            return Ok(());
        };
        let hook = Hook {
            shift: &self.shift,
            weight: self.weight,
            timeout: self.config.hook_timeout,
        };
        hook.run(&self.log, phase, command).await.map_err(GateFailed)
    }
}

impl Gates for HookGates<'_> {
    async fn before_traffic(&mut self) -> GateResult {
        if let Some(payload) = &self.config.smoke_payload {
            self.smoke(payload).await?;
        }
        self.hook("pre-traffic", self.config.pre_traffic_hook.as_deref())
            .await
    }

    async fn check(&mut self, weight: f64, _since: Duration) -> Reading {
        self.weight = weight;
        Reading::Pass("waiting".into())
    }

    async fn after_traffic(&mut self) -> GateResult {
        self.weight = 1.0;
        self.hook("post-traffic", self.config.post_traffic_hook.as_deref())
            .await
    }
}
