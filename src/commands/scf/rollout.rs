//! `deploy --platform scf --strategy`: the rollout controller (the same one
//! Lambda's rollouts run) stepping an SCF alias's weight, watched by the
//! smoke invoke and the pre- and post-traffic hooks, and putting the alias
//! back on the stable version when one fails or the run is cancelled.

use std::time::Duration;

use crate::cli::scf::ScfRun;
use crate::cli::settings::RolloutSettings;
use crate::commands::deploy::gates::{Hook, Shift};
use crate::commands::deploy::inline::cancelled;
use crate::core::controller::{self, GateFailed, GateResult, Gates, Reading, SystemClock, Traffic};
use crate::core::gates::GateConfig;
use crate::core::observed::Serving;
use crate::core::observed::{AliasNow, Split};
use crate::core::plan::RolloutTarget;
use crate::core::record::Record;
use crate::core::strategy;
use crate::error::{Error, Result};
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
    run.log.step(&format!(
        "rolling out version {new} over version {stable}: {schedule}"
    ));
    let shift = Shift {
        function: run.function.clone(),
        alias: run.alias.clone(),
        stable: stable.clone(),
        new: new.clone(),
    };
    let mut traffic = AliasTraffic {
        scf,
        log: run.log,
        shift: shift.clone(),
        expected: start.before.clone(),
        recorded_before: Record::parse(&start.before.description),
    };
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
    let serving = Serving {
        primary: traffic.expected.primary.clone(),
        canary: traffic
            .expected
            .canary
            .as_ref()
            .map(|(version, split)| (version.clone(), split.weight())),
    };
    Ok(report.after_rollout(&stable, &new, result, &serving))
}

/// Moves the alias's weight. SCF's alias writes carry no revision, so each
/// write is preceded by a read compared with what this run last saw or
/// wrote: any difference means someone else acted, and the run stops
/// without writing.
struct AliasTraffic<'a> {
    scf: &'a Scf,
    log: Log,
    shift: Shift,
    expected: AliasNow,
    recorded_before: Record,
}

impl AliasTraffic<'_> {
    async fn write(
        &mut self,
        primary: &str,
        canary: Option<(&str, f64)>,
        record: Option<Record>,
    ) -> Result<()> {
        let Shift { function, alias, .. } = &self.shift;
        let now = self.scf.alias(function, alias).await?.ok_or_else(|| {
            Error::Interfered(format!("alias {function}:{alias} was deleted during the rollout"))
        })?;
        if now != self.expected {
            return Err(Error::Interfered(format!(
                "alias {function}:{alias} was changed by someone else during the rollout (it serves {} now, not {}); stopping without writing, so as not to undo it",
                &now.text(),
                &self.expected.text()
            )));
        }
        let description = Record::description_for(&now.description, record.as_ref(), canary.map(|(v, _)| v))
            .unwrap_or_else(|| now.description.clone());
        let to = AliasNow {
            primary: primary.to_string(),
            canary: canary.map(|(version, weight)| (version.to_string(), Split::Weight(weight))),
            revision_id: None,
            description,
        };
        if to == now {
            return Ok(());
        }
        self.scf.write_alias(function, alias, &to, false).await?;
        self.log
            .step(&format!("alias {alias}: {} → {}", &now.text(), &to.text()));
        self.expected = to;
        Ok(())
    }
}

impl Traffic for AliasTraffic<'_> {
    async fn shift(&mut self, weight: f64) -> Result<()> {
        let Shift { stable, new, .. } = self.shift.clone();
        if weight >= 1.0 {
            self.write(&new, None, Record::promotion(&stable, &new)).await
        } else {
            self.write(&stable, Some((&new, weight)), None).await
        }
    }

    async fn restore(&mut self, _reason: &str) -> Result<()> {
        let Shift { stable, new, .. } = self.shift.clone();
        let restored = self.recorded_before.clone().with_canary_removed(&new);
        self.write(&stable, None, Some(restored)).await
    }
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
