//! `deploy --strategy` with the inline engine: publish as usual, then step the
//! alias through the schedule with the rollout controller, watched by the
//! health gates, and put it back on the stable version on a failed gate or a
//! signal.

use crate::cli::settings::RolloutSettings;
use crate::commands::deploy::gates::{LiveGates, Shift, alarms_at_start};
use crate::commands::deploy::release::{Handover, Release};
use crate::core::controller::{self, SystemClock, Traffic};
use crate::core::observed::{AliasNow, Route, Serving, Split};
use crate::core::plan::{Outcome, RolloutTarget};
use crate::core::record::Record;
use crate::core::strategy;
use crate::error::{Error, Result};
use crate::log::Log;
use crate::platform::Platform;
use crate::report::AliasReport;

/// Publish (for new code), then run the rollout and describe what happened.
pub async fn run<C: Release>(handover: Handover<'_, C>, rollout: &RolloutSettings) -> Result<AliasReport> {
    let deploy = handover.deploy;
    let (conn, request, log) = (deploy.conn, deploy.request, deploy.log);
    let stable = handover.stable();
    let (from, outcome) = match &handover.target {
        RolloutTarget::New => (0.0, handover.plan.outcome),
        RolloutTarget::Resume { weight, .. } => (*weight, Outcome::Promoted),
    };
    let steps = strategy::resume_from(&rollout.steps, from);
    let schedule = strategy::schedule_text(&steps);
    let mut report = handover.report(outcome);
    if request.dry_run {
        log.step(&format!(
            "would publish the new release, then step the alias from version {stable}: {schedule}"
        ));
        report.previous_version = stable;
        report.canary_weight = steps.last().map_or(from, |s| s.weight);
        return Ok(report);
    }
    // The gates' alarms are read before anything is uploaded or published:
    // one that does not exist is bad input (exit 2, nothing sent).
    let ignored_alarms = alarms_at_start(conn, &rollout.gates, log).await?;
    let new = handover.new_version().await?;
    let (shift, mut traffic) = AliasTraffic::begin(
        conn.platform(),
        *log,
        (&request.function, &request.alias, &stable, &new),
        &schedule,
        (handover.serving_before(), handover.recorded_before()),
        handover.provisioned,
    );
    let mut gates = LiveGates::new(conn, *log, shift, &rollout.gates, ignored_alarms);
    let result = controller::drive(
        &steps,
        rollout.watch,
        &SystemClock::start(),
        &mut traffic,
        &mut gates,
        cancelled(),
        log,
    )
    .await?;
    // The alias as this run last read or wrote it: what the report describes.
    let serving = traffic.expected.clone();
    let mut report = report.after_rollout(&stable, &new, result, &serving);
    report.analysis = std::mem::take(&mut gates.analysis);
    Ok(report)
}

/// SIGINT or SIGTERM (a cancelled workflow run), or a fleet run cancelled
/// before this rollout listened ([`cancel_all`]). The signals are listened
/// for from the moment this is called (not first polled), so a signal that
/// comes while the first alias write is in flight is caught too; once
/// listened for, further signals are caught as well, so a second one cannot
/// cut the rollback short.
pub fn cancelled() -> impl std::future::Future<Output = String> {
    use tokio::signal::unix::{SignalKind, signal};
    let listening = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()));
    async move {
        let (Ok(mut term), Ok(mut int)) = listening else {
            return std::future::pending().await;
        };
        let run_cancelled = async {
            loop {
                if let Some(why) = CANCELLED.get() {
                    return why.to_string();
                }
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        };
        tokio::select! {
            _ = term.recv() => "the run was cancelled (SIGTERM)".to_string(),
            _ = int.recv() => "the run was cancelled (SIGINT)".to_string(),
            why = run_cancelled => why,
        }
    }
}

/// Why the whole run was cancelled, once a fleet's listener heard a signal.
static CANCELLED: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// Cancel every rollout of the run, including one that starts listening
/// only after the signal came (a target still publishing when it came).
pub fn cancel_all(why: &'static str) {
    let _ = CANCELLED.set(why);
}

/// Moves the alias's weight, on any platform. Before each write it reads
/// the alias and compares its routing (primary, canary, weight) with what
/// this run last saw or wrote: any difference means someone else acted (a
/// rollback, a promote, another rollout, a hand edit), and the run stops
/// without writing. The write itself is the platform's guarded one.
pub struct AliasTraffic<'a, P: Platform> {
    pub platform: &'a P,
    pub log: Log,
    pub shift: Shift,
    /// What the alias serves as far as this run knows.
    pub expected: Serving,
    /// The rollback record when the run began: what a rollout that is
    /// undone leaves behind (with its canary marked removed), even after
    /// its last step recorded a promotion.
    pub recorded_before: Record,
    /// The alias has provisioned concurrency: the switch to 100 % is done
    /// only once it is ready on the new version.
    pub provisioned: bool,
    /// A write sent whose answer never came (lost, or failed after its
    /// retries): the next read recognises it as this run's own if it landed.
    pub sent: Option<Serving>,
}

impl<'a, P: Platform> AliasTraffic<'a, P> {
    /// Say that the rollout of `new` over `stable` begins, and the shift and
    /// the mover of its alias, which serves `expected` with the rollback
    /// record `recorded_before`.
    pub fn begin(
        platform: &'a P,
        log: Log,
        (function, alias, stable, new): (&str, &str, &str, &str),
        schedule: &str,
        (expected, recorded_before): (Serving, Record),
        provisioned: bool,
    ) -> (Shift, AliasTraffic<'a, P>) {
        log.step(&format!(
            "rolling out version {new} over version {stable}: {schedule}"
        ));
        let shift = Shift {
            function: function.to_string(),
            alias: alias.to_string(),
            stable: stable.to_string(),
            new: new.to_string(),
        };
        let traffic = AliasTraffic {
            platform,
            log,
            shift: shift.clone(),
            expected,
            recorded_before,
            provisioned,
            sent: None,
        };
        (shift, traffic)
    }

    /// Write `route`; `record` makes the rollback record to write of the
    /// one the description holds now (`None` leaves the description, but for
    /// a stale `canary-removed` mark once a canary is routed again).
    async fn write(&mut self, route: Route<'_>, record: impl FnOnce(Record) -> Option<Record>) -> Result<()> {
        let Shift { function, alias, .. } = &self.shift;
        let now = self.platform.alias_now(function, alias).await?.ok_or_else(|| {
            Error::Interfered(format!("alias {function}:{alias} was deleted during the rollout"))
        })?;
        if let Some(sent) = self.sent.take()
            && now.serving() == sent
        {
            self.log.warn(&format!(
                "alias {alias} serves what this run last sent ({}): its earlier write landed",
                now.route().text()
            ));
            self.expected = sent;
        }
        if let Some(change) = self.expected.changed_to(&now.serving()) {
            self.expected = now.serving();
            return Err(Error::Interfered(format!(
                "alias {function}:{alias} was changed by someone else during the rollout: {change} (it serves {} now); stopping without writing, so as not to undo it",
                now.route().text()
            )));
        }
        // A resumed step already in place is watched, not written again.
        if route.serving() == self.expected {
            return Ok(());
        }
        let change = record(Record::parse(&now.description));
        let canary = route.canary.map(|(version, _)| version);
        let description = Record::description_for(&now.description, change.as_ref(), canary);
        self.sent = Some(route.serving());
        let to = AliasNow {
            primary: route.primary.to_string(),
            canary: route.canary.map(|(v, w)| (v.to_string(), Split::Weight(w))),
            revision_id: None,
            description: description.clone().unwrap_or_else(|| now.description.clone()),
        };
        let written = self.platform.update_alias(function, alias, &to, &now).await;
        match written {
            Ok(_) => {}
            // Written between our read and our write: someone acted.
            Err(Error::Conflict(why)) => {
                self.sent = None;
                return Err(Error::Interfered(format!(
                    "alias {function}:{alias} was changed by someone else just before this write ({why}); stopping without writing, so as not to undo it"
                )));
            }
            // The answer may be lost while the write landed: one read tells.
            Err(Error::Failed(why)) => match self.platform.alias_now(function, alias).await {
                Ok(Some(back)) if back.lands_on(route, description.as_deref()) => self.log.warn(&format!(
                    "the answer to the alias update was lost ({why}), but alias {alias} reads back as intended"
                )),
                _ => return Err(Error::Failed(why)),
            },
            Err(other) => return Err(other),
        }
        self.sent = None;
        self.log.step(&format!(
            "alias {alias}: {} → {}",
            now.route().text(),
            route.text()
        ));
        self.expected = route.serving();
        Ok(())
    }
}

impl<P: Platform> Traffic for AliasTraffic<'_, P> {
    async fn shift(&mut self, weight: f64) -> Result<()> {
        let Shift { stable, new, .. } = self.shift.clone();
        if weight >= 1.0 {
            let route = Route {
                primary: &new,
                canary: None,
            };
            self.write(route, |_| Record::promotion(&stable, &new)).await?;
            if self.provisioned {
                let Shift { function, alias, .. } = &self.shift;
                self.platform.wait_provisioned(function, alias).await?;
            }
            Ok(())
        } else {
            let route = Route {
                primary: &stable,
                canary: Some((&new, weight)),
            };
            self.write(route, |_| None).await
        }
    }

    async fn restore(&mut self, _reason: &str) -> Result<()> {
        let Shift { stable, new, .. } = self.shift.clone();
        let route = Route {
            primary: &stable,
            canary: None,
        };
        let restored = self.recorded_before.clone().with_canary_removed(&new);
        self.write(route, |_| Some(restored)).await
    }
}
