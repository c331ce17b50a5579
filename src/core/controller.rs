//! The rollout controller: step through the schedule, watch the gates during
//! each step, and put the alias back on the stable version when a gate fails
//! or the run is cancelled. Generic over the clock, the traffic mover and the
//! gates, so the stepping and time arithmetic are tested without sleeping.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::core::gates::OnNoData;
use crate::core::strategy::Step;
use crate::core::values::percent;
use crate::error::{Error, Result};
use crate::log::Log;

/// Time since the rollout started, and a way to wait.
pub trait Clock {
    fn now(&self) -> Duration;
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()>;
}

/// The real clock.
pub struct SystemClock(Instant);

impl SystemClock {
    pub fn start() -> SystemClock {
        SystemClock(Instant::now())
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.0.elapsed()
    }
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> {
        tokio::time::sleep(duration)
    }
}

/// Moves the alias's traffic.
pub trait Traffic {
    /// Give the new version `weight` of the traffic (1.0: make it the primary).
    fn shift(&mut self, weight: f64) -> impl Future<Output = Result<()>>;
    /// Put all traffic back on the stable version.
    fn restore(&mut self, reason: &str) -> impl Future<Output = Result<()>>;
}

/// A gate reading during a step.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    Pass(String),
    /// A metric reading over a threshold: counts toward `Watch::max_failed_checks`.
    Fail(String),
    /// An alarm in ALARM: rolls back at once, unless `Watch::alarms_counted`.
    Alarm(String),
    NoData(String),
    /// A verdict certain before the step's time is up (the statistical
    /// judge's): the step ends now and the rollout goes on.
    Done(String),
}

/// Why a gate failed, in words for the report (a hook's exit, a smoke
/// invoke's function error, an alarm's reason).
#[derive(Debug, Clone, PartialEq)]
pub struct GateFailed(pub String);

impl std::fmt::Display for GateFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for GateFailed {
    fn from(reason: String) -> Self {
        GateFailed(reason)
    }
}

impl From<&str> for GateFailed {
    fn from(reason: &str) -> Self {
        GateFailed(reason.to_string())
    }
}

/// A gate that passed, or why it failed.
pub type GateResult = std::result::Result<(), GateFailed>;

/// The health checks around and during the rollout.
pub trait Gates {
    /// Before any traffic moves (smoke invoke, pre-traffic hook).
    fn before_traffic(&mut self) -> impl Future<Output = GateResult>;
    /// A step with the new version at `weight` (below 100 %) begins, before
    /// its first reading: the gates may say what it needs.
    fn step_begins(&mut self, _weight: f64) -> impl Future<Output = ()> {
        std::future::ready(())
    }
    /// During a step that started at clock time `since` with the new version at `weight`.
    fn check(&mut self, weight: f64, since: Duration) -> impl Future<Output = Reading>;
    /// After the new version has all the traffic (post-traffic hook).
    fn after_traffic(&mut self) -> impl Future<Output = GateResult>;
}

/// How the controller watches a step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Watch {
    /// How often the gates are read during a step.
    pub poll: Duration,
    pub on_no_data: OnNoData,
    /// How long a step may be extended waiting for data (`--on-no-data extend`).
    pub max_extension: Duration,
    /// Failing readings within one step that roll back (`--max-failed-checks`,
    /// at least 1). A passing reading does not reset the count: a gate that
    /// fails, recovers and fails again within a step has failed twice.
    pub max_failed_checks: u32,
    /// An alarm in ALARM counts as one failing reading instead of rolling
    /// back at once (`--alarms-count-as-failed-checks`).
    pub alarms_counted: bool,
}

/// One step as it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRecord {
    pub weight: f64,
    pub started: Duration,
    pub ended: Duration,
    /// The last gate reading of the step.
    pub verdict: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RolloutResult {
    pub steps: Vec<StepRecord>,
    /// Why the alias was put back on the stable version; `None` when the rollout completed.
    pub rollback_reason: Option<String>,
    /// What someone else changed on the alias, when the rollout stopped
    /// without writing (a step, or the rollback) because of it.
    pub interfered: Option<String>,
    /// Total time.
    pub elapsed: Duration,
}

enum StepsEnd {
    Completed,
    Failed(String),
}

/// Run the schedule. `cancelled` completes (with a reason) on SIGINT/SIGTERM.
/// A signal ends a wait (a hook, a step's watch), never a traffic write in
/// flight: a write that was sent is let finish, so the run knows what it
/// did, and the rollback that follows starts from there. The rollback is
/// not itself cancellable.
pub async fn drive(
    steps: &[Step],
    watch: Watch,
    clock: &impl Clock,
    traffic: &mut impl Traffic,
    gates: &mut impl Gates,
    cancelled: impl Future<Output = String>,
    log: &Log,
) -> Result<RolloutResult> {
    let mut records = Vec::new();
    let mut touched = false;
    tokio::pin!(cancelled);
    let ended = run_steps(
        steps,
        Watching {
            watch,
            clock,
            gates,
            log,
        },
        traffic,
        (&mut records, &mut touched),
        cancelled,
    )
    .await;
    let mut interfered = None;
    let rollback_reason = match ended {
        Ok(StepsEnd::Completed) => None,
        Ok(StepsEnd::Failed(reason)) => Some(reason),
        // Someone else changed the alias: it is theirs now, leave it as it is.
        Err(Error::Interfered(what)) => {
            interfered = Some(what);
            None
        }
        Err(err) => Some(format!("a step failed: {err}")),
    };
    let ended_step = rollback_reason.as_ref().or(interfered.as_ref());
    if let (Some(reason), Some(last)) = (ended_step, records.last_mut()) {
        last.ended = clock.now();
        last.verdict = reason.clone();
    }
    // Before the first write was sent the alias was never touched: nothing
    // to restore. A write that failed may still have landed (its answer
    // lost): the restore reads the alias and recognises it.
    if let Some(reason) = rollback_reason.as_ref().filter(|_| touched) {
        log.warn(&format!("rolling back: {reason}"));
        match traffic.restore(reason).await {
            Err(Error::Interfered(what)) => interfered = Some(what),
            other => other?,
        }
    }
    Ok(RolloutResult {
        steps: records,
        rollback_reason,
        interfered,
        elapsed: clock.now(),
    })
}

/// What watches the steps: the gates, on the clock, narrated.
struct Watching<'w, C, G> {
    watch: Watch,
    clock: &'w C,
    gates: &'w mut G,
    log: &'w Log,
}

/// `wait`, unless the run is cancelled first (then the reason).
async fn unless_cancelled<T>(
    wait: impl Future<Output = T>,
    cancelled: &mut std::pin::Pin<&mut impl Future<Output = String>>,
) -> std::result::Result<T, String> {
    tokio::select! {
        done = wait => Ok(done),
        reason = cancelled.as_mut() => Err(reason),
    }
}

async fn run_steps<C: Clock, G: Gates>(
    steps: &[Step],
    watching: Watching<'_, C, G>,
    traffic: &mut impl Traffic,
    (records, touched): (&mut Vec<StepRecord>, &mut bool),
    mut cancelled: std::pin::Pin<&mut impl Future<Output = String>>,
) -> Result<StepsEnd> {
    let Watching {
        watch,
        clock,
        gates,
        log,
    } = watching;
    match unless_cancelled(gates.before_traffic(), &mut cancelled).await {
        Err(reason) => return Ok(StepsEnd::Failed(reason)),
        Ok(Err(why)) => return Ok(StepsEnd::Failed(format!("pre-traffic check failed: {why}"))),
        Ok(Ok(())) => {}
    }
    let total = steps.len();
    for (index, step) in steps.iter().enumerate() {
        let label = format!("step {}/{total}", index + 1);
        // Not raced against the signal: the write finishes (or fails), so
        // what the alias serves is known before anything else is done.
        *touched = true;
        let shifted = traffic.shift(step.weight).await;
        let started = clock.now();
        if shifted.is_ok() {
            records.push(StepRecord {
                weight: step.weight,
                started,
                ended: started,
                verdict: "passed".into(),
            });
        }
        if let Some(reason) = futures_util::FutureExt::now_or_never(cancelled.as_mut()) {
            return Ok(StepsEnd::Failed(reason));
        }
        shifted?;
        log.step(&format!(
            "{label}: new version at {}, watching for {}",
            percent(step.weight),
            humantime::format_duration(step.wait)
        ));
        if step.weight < 1.0
            && let Err(reason) = unless_cancelled(gates.step_begins(step.weight), &mut cancelled).await
        {
            return Ok(StepsEnd::Failed(reason));
        }
        match unless_cancelled(watch_step(step, watch, clock, gates, &label, log), &mut cancelled).await {
            Err(reason) => return Ok(StepsEnd::Failed(reason)),
            Ok(Some(failure)) => return Ok(StepsEnd::Failed(failure)),
            Ok(None) => {}
        }
        if let Some(record) = records.last_mut() {
            record.ended = clock.now();
        }
    }
    match unless_cancelled(gates.after_traffic(), &mut cancelled).await {
        Err(reason) => Ok(StepsEnd::Failed(reason)),
        Ok(Err(why)) => Ok(StepsEnd::Failed(format!("post-traffic check failed: {why}"))),
        Ok(Ok(())) => Ok(StepsEnd::Completed),
    }
}

/// Read the gates every `poll` until the step's time is up. Returns why the
/// step failed, if it did.
async fn watch_step(
    step: &Step,
    watch: Watch,
    clock: &impl Clock,
    gates: &mut impl Gates,
    label: &str,
    log: &Log,
) -> Option<String> {
    let started = clock.now();
    let mut deadline = started + step.wait;
    let extension_limit = deadline + watch.max_extension;
    let mut failed = 0;
    while clock.now() < deadline {
        clock.sleep(watch.poll.min(deadline - clock.now())).await;
        let now = clock.now();
        let reading = gates.check(step.weight, started).await;
        let left = humantime::format_duration(Duration::from_secs(
            deadline.saturating_sub(now).as_secs_f64().round() as u64,
        ));
        let at = percent(step.weight);
        let reading = match reading {
            Reading::Alarm(why) if !watch.alarms_counted => return Some(format!("{label} at {at}: {why}")),
            Reading::Alarm(why) => Reading::Fail(why),
            other => other,
        };
        match reading {
            Reading::Fail(why) => {
                failed += 1;
                let allowed = watch.max_failed_checks.max(1);
                if failed >= allowed {
                    let count = if allowed > 1 {
                        format!(" ({failed} failing readings in this step, --max-failed-checks {allowed})")
                    } else {
                        String::new()
                    };
                    return Some(format!("{label} at {at}: {why}{count}"));
                }
                log.warn(&format!(
                    "{label}: {why}; failing reading {failed} of {allowed} allowed in this step, watching on"
                ));
            }
            Reading::Alarm(_) => {}
            Reading::Done(detail) => {
                log.step(&format!(
                    "{label}: {detail}; ending the step early ({left} were left)"
                ));
                return None;
            }
            Reading::Pass(detail) => log.step(&format!("{label}: {detail}; {left} left")),
            Reading::NoData(detail) if now < deadline => log.step(&format!("{label}: {detail}; {left} left")),
            Reading::NoData(detail) => match watch.on_no_data {
                OnNoData::Pass => log.step(&format!("{label}: {detail}; passing (--on-no-data pass)")),
                OnNoData::Fail => return Some(format!("{label}: {detail} (--on-no-data fail)")),
                OnNoData::Extend if now < extension_limit => {
                    deadline = (now + watch.poll).min(extension_limit);
                    log.step(&format!(
                        "{label}: {detail}; extending the step (--on-no-data extend)"
                    ));
                }
                OnNoData::Extend => {
                    return Some(format!(
                        "{label}: {detail}, still after extending the step by {}",
                        humantime::format_duration(watch.max_extension)
                    ));
                }
            },
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    /// A clock that jumps forward instead of sleeping.
    struct FakeClock(Cell<Duration>);

    impl Clock for FakeClock {
        fn now(&self) -> Duration {
            self.0.get()
        }
        fn sleep(&self, duration: Duration) -> impl Future<Output = ()> {
            self.0.set(self.0.get() + duration);
            std::future::ready(())
        }
    }

    #[derive(Default)]
    struct Alias {
        weights: Vec<f64>,
        restored: Option<String>,
        /// Someone else changes the alias before this shift (by its index).
        changed_before_shift: Option<usize>,
        /// Someone else changes the alias before the restoring write.
        changed_before_restore: bool,
    }

    impl Traffic for Alias {
        async fn shift(&mut self, weight: f64) -> Result<()> {
            if self.changed_before_shift == Some(self.weights.len()) {
                return Err(Error::Interfered("canary version 4 (10%) was removed".into()));
            }
            self.weights.push(weight);
            Ok(())
        }
        async fn restore(&mut self, reason: &str) -> Result<()> {
            if self.changed_before_restore {
                return Err(Error::Interfered("the primary went from version 3 to 5".into()));
            }
            self.restored = Some(reason.to_string());
            Ok(())
        }
    }

    /// Gates that read a script: the reading for (weight, minute into the rollout).
    struct Scripted<'a> {
        clock: &'a FakeClock,
        reading: fn(f64, u64) -> Reading,
        checks: Vec<(f64, u64)>,
        /// (weight, minute) of each step's beginning, as the gates heard it.
        begun: Vec<(f64, u64)>,
        post_hook: GateResult,
    }

    impl Gates for Scripted<'_> {
        async fn before_traffic(&mut self) -> GateResult {
            Ok(())
        }
        async fn step_begins(&mut self, weight: f64) {
            self.begun.push((weight, self.clock.now().as_secs() / 60));
        }
        async fn check(&mut self, weight: f64, _since: Duration) -> Reading {
            let minute = self.clock.now().as_secs() / 60;
            self.checks.push((weight, minute));
            (self.reading)(weight, minute)
        }
        async fn after_traffic(&mut self) -> GateResult {
            self.post_hook.clone()
        }
    }

    const MINUTE: Duration = Duration::from_secs(60);

    fn watch(on_no_data: OnNoData) -> Watch {
        Watch {
            poll: MINUTE,
            on_no_data,
            max_extension: 3 * MINUTE,
            max_failed_checks: 1,
            alarms_counted: false,
        }
    }

    fn steps(weights: &[f64], wait: Duration) -> Vec<Step> {
        weights
            .iter()
            .map(|&weight| Step {
                weight,
                wait: if weight >= 1.0 { Duration::ZERO } else { wait },
            })
            .collect()
    }

    fn pass(_: f64, _: u64) -> Reading {
        Reading::Pass("ok".into())
    }

    async fn rollout(
        schedule: &[Step],
        on_no_data: OnNoData,
        reading: fn(f64, u64) -> Reading,
        post_hook: GateResult,
    ) -> (RolloutResult, Alias, Vec<(f64, u64)>) {
        let clock = FakeClock(Cell::new(Duration::ZERO));
        let mut alias = Alias::default();
        let mut gates = Scripted {
            clock: &clock,
            reading,
            checks: Vec::new(),
            begun: Vec::new(),
            post_hook,
        };
        let result = run(
            schedule,
            on_no_data,
            &clock,
            &mut alias,
            &mut gates,
            std::future::pending(),
        )
        .await;
        (result, alias, gates.checks)
    }

    /// `drive` with quiet narration; the rollout must end without an error.
    async fn run(
        schedule: &[Step],
        on_no_data: OnNoData,
        clock: &impl Clock,
        alias: &mut Alias,
        gates: &mut impl Gates,
        cancelled: impl Future<Output = String>,
    ) -> RolloutResult {
        let log = Log::default();
        let result = drive(schedule, watch(on_no_data), clock, alias, gates, cancelled, &log).await;
        result.unwrap()
    }

    /// Gates whose pre-traffic check gives `before` and whose readings all pass.
    struct Fixed {
        before: GateResult,
    }

    impl Gates for Fixed {
        async fn before_traffic(&mut self) -> GateResult {
            self.before.clone()
        }
        async fn check(&mut self, _: f64, _: Duration) -> Reading {
            Reading::Pass("ok".into())
        }
        async fn after_traffic(&mut self) -> GateResult {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_healthy_rollout_reaches_full_weight_on_schedule() {
        let schedule = steps(&[0.1, 0.5, 1.0], 2 * MINUTE);
        let (result, alias, checks) = rollout(&schedule, OnNoData::Fail, pass, Ok(())).await;
        assert_eq!(alias.weights, [0.1, 0.5, 1.0]);
        assert_eq!(alias.restored, None);
        assert_eq!(result.rollback_reason, None);
        assert_eq!(result.elapsed, 4 * MINUTE);
        assert_eq!(
            checks,
            [(0.1, 1), (0.1, 2), (0.5, 3), (0.5, 4)],
            "read every minute of each step"
        );
        let starts: Vec<Duration> = result.steps.iter().map(|s| s.started).collect();
        assert_eq!(starts, [Duration::ZERO, 2 * MINUTE, 4 * MINUTE]);
    }

    /// The gates hear each canary step begin once, after its weight moved and
    /// before its first reading (the judge says there what a verdict
    /// needs); the last step, at 100 %, has no canary to judge.
    #[tokio::test]
    async fn the_gates_hear_each_canary_step_begin_before_its_first_reading() {
        let clock = FakeClock(Cell::new(Duration::ZERO));
        let mut gates = Scripted {
            clock: &clock,
            reading: pass,
            checks: Vec::new(),
            begun: Vec::new(),
            post_hook: Ok(()),
        };
        let schedule = steps(&[0.1, 0.5, 1.0], 2 * MINUTE);
        let mut alias = Alias::default();
        run(
            &schedule,
            OnNoData::Fail,
            &clock,
            &mut alias,
            &mut gates,
            std::future::pending(),
        )
        .await;
        assert_eq!(gates.begun, [(0.1, 0), (0.5, 2)]);
        assert_eq!(gates.checks, [(0.1, 1), (0.1, 2), (0.5, 3), (0.5, 4)]);
    }

    /// A certain verdict ends its step at once: the next step starts then.
    #[tokio::test]
    async fn a_certain_verdict_ends_the_step_early() {
        let schedule = steps(&[0.1, 0.5, 1.0], 10 * MINUTE);
        let certain = |_, minute| {
            if minute >= 2 {
                Reading::Done("no increase, certain".into())
            } else {
                Reading::NoData("needs more".into())
            }
        };
        let (result, alias, checks) = rollout(&schedule, OnNoData::Fail, certain, Ok(())).await;
        assert_eq!(alias.weights, [0.1, 0.5, 1.0]);
        assert_eq!(result.rollback_reason, None);
        assert_eq!(checks, [(0.1, 1), (0.1, 2), (0.5, 3)]);
        assert_eq!(result.elapsed, 3 * MINUTE, "not the 20 minutes scheduled");
    }

    #[tokio::test]
    async fn an_unhealthy_reading_rolls_back_at_that_step() {
        let schedule = steps(&[0.1, 0.5, 1.0], 2 * MINUTE);
        let (result, alias, _) = rollout(
            &schedule,
            OnNoData::Fail,
            |weight, _| {
                if weight > 0.4 {
                    Reading::Fail("error rate 9%".into())
                } else {
                    Reading::Pass("ok".into())
                }
            },
            Ok(()),
        )
        .await;
        assert_eq!(alias.weights, [0.1, 0.5], "never reaches 100%");
        assert_eq!(
            result.rollback_reason.as_deref(),
            Some("step 2/3 at 50%: error rate 9%")
        );
        assert_eq!(alias.restored, result.rollback_reason);
        assert_eq!(result.elapsed, 3 * MINUTE, "the first reading of step 2 fails it");
    }

    #[tokio::test]
    async fn no_data_follows_the_policy() {
        let schedule = steps(&[0.1, 1.0], 2 * MINUTE);
        let no_data = |_, _| Reading::NoData("no data".into());
        let (passed, alias, _) = rollout(&schedule, OnNoData::Pass, no_data, Ok(())).await;
        assert_eq!((passed.rollback_reason, alias.weights), (None, vec![0.1, 1.0]));

        let (failed, _, _) = rollout(&schedule, OnNoData::Fail, no_data, Ok(())).await;
        assert_eq!(
            failed.rollback_reason.as_deref(),
            Some("step 1/2: no data (--on-no-data fail)")
        );
        assert_eq!(
            failed.elapsed,
            2 * MINUTE,
            "no data during the step is not yet a verdict"
        );

        let (extended, _, checks) = rollout(&schedule, OnNoData::Extend, no_data, Ok(())).await;
        assert_eq!(extended.elapsed, 5 * MINUTE, "extended by at most 3 minutes");
        assert_eq!(checks.len(), 5);
        assert!(
            extended
                .rollback_reason
                .unwrap()
                .contains("still after extending the step by 3m")
        );

        // Data that arrives late during the extension passes the step.
        let (late, alias, _) = rollout(
            &schedule,
            OnNoData::Extend,
            |_, minute| {
                if minute < 3 {
                    Reading::NoData("no data".into())
                } else {
                    Reading::Pass("ok".into())
                }
            },
            Ok(()),
        )
        .await;
        assert_eq!((late.rollback_reason, alias.weights), (None, vec![0.1, 1.0]));
        assert_eq!(late.elapsed, 3 * MINUTE);
    }

    #[tokio::test]
    async fn a_failing_post_traffic_check_rolls_back_after_full_weight() {
        let schedule = steps(&[1.0], MINUTE);
        let (result, alias, _) = rollout(&schedule, OnNoData::Fail, pass, Err("exit 3".into())).await;
        assert_eq!(alias.weights, [1.0]);
        assert_eq!(
            result.rollback_reason.as_deref(),
            Some("post-traffic check failed: exit 3")
        );
        assert!(alias.restored.is_some());
    }

    #[tokio::test]
    async fn a_failing_pre_traffic_check_moves_no_traffic_and_restores_nothing() {
        let mut refuse = Fixed {
            before: Err("smoke invoke failed".into()),
        };
        let clock = FakeClock(Cell::new(Duration::ZERO));
        let mut alias = Alias::default();
        let schedule = steps(&[0.1, 1.0], MINUTE);
        let pending = std::future::pending();
        let result = run(
            &schedule,
            OnNoData::Fail,
            &clock,
            &mut alias,
            &mut refuse,
            pending,
        )
        .await;
        assert_eq!(
            result.rollback_reason.as_deref(),
            Some("pre-traffic check failed: smoke invoke failed")
        );
        assert!(alias.weights.is_empty());
        assert_eq!(alias.restored, None);
    }

    #[tokio::test]
    async fn cancellation_rolls_back_with_the_signal_as_reason() {
        // Real time here: the first step waits an hour, the cancel comes at once.
        let clock = SystemClock::start();
        let mut alias = Alias::default();
        let schedule = steps(&[0.1, 1.0], 3600 * Duration::from_secs(1));
        let cancel = async {
            tokio::task::yield_now().await;
            "cancelled by SIGTERM".to_string()
        };
        let mut quiet = Fixed { before: Ok(()) };
        let result = run(&schedule, OnNoData::Fail, &clock, &mut alias, &mut quiet, cancel).await;
        assert_eq!(result.rollback_reason.as_deref(), Some("cancelled by SIGTERM"));
        assert_eq!(alias.weights, [0.1]);
        assert_eq!(alias.restored.as_deref(), Some("cancelled by SIGTERM"));
        assert!(result.elapsed < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_change_by_someone_else_stops_the_rollout_without_writing_again() {
        let clock = FakeClock(Cell::new(Duration::ZERO));
        let schedule = steps(&[0.1, 0.5, 1.0], MINUTE);
        let mut alias = Alias {
            changed_before_shift: Some(1),
            ..Alias::default()
        };
        let mut quiet = Fixed { before: Ok(()) };
        let pending = std::future::pending();
        let result = run(&schedule, OnNoData::Fail, &clock, &mut alias, &mut quiet, pending).await;
        assert_eq!(alias.weights, [0.1], "no step after the change");
        assert_eq!(alias.restored, None, "the other party's alias is not rolled back");
        assert_eq!(result.rollback_reason, None);
        assert_eq!(
            result.interfered.as_deref(),
            Some("canary version 4 (10%) was removed")
        );
        assert_eq!(result.steps[0].verdict, "canary version 4 (10%) was removed");
    }

    #[tokio::test]
    async fn a_change_by_someone_else_before_the_rollback_leaves_their_alias_alone() {
        let clock = FakeClock(Cell::new(Duration::ZERO));
        let schedule = steps(&[0.1, 1.0], MINUTE);
        let mut alias = Alias {
            changed_before_restore: true,
            ..Alias::default()
        };
        let fail = |_, _| Reading::Fail("errors".into());
        let mut gates = Scripted {
            clock: &clock,
            reading: fail,
            checks: Vec::new(),
            begun: Vec::new(),
            post_hook: Ok(()),
        };
        let pending = std::future::pending();
        let result = run(&schedule, OnNoData::Fail, &clock, &mut alias, &mut gates, pending).await;
        assert_eq!(alias.restored, None);
        assert!(result.rollback_reason.is_some());
        assert_eq!(
            result.interfered.as_deref(),
            Some("the primary went from version 3 to 5")
        );
    }

    /// A rollout of 10 % then 100 %, four readings a step, read from `script`
    /// by (weight, minute), watched with `max_failed_checks`.
    async fn noisy(
        script: fn(f64, u64) -> Reading,
        max_failed_checks: u32,
        alarms_counted: bool,
    ) -> (RolloutResult, Vec<(f64, u64)>) {
        let clock = FakeClock(Cell::new(Duration::ZERO));
        let mut alias = Alias::default();
        let mut gates = Scripted {
            clock: &clock,
            reading: script,
            checks: Vec::new(),
            begun: Vec::new(),
            post_hook: Ok(()),
        };
        let schedule = steps(&[0.1, 0.5, 1.0], 4 * MINUTE);
        let watch = Watch {
            max_failed_checks,
            alarms_counted,
            ..watch(OnNoData::Fail)
        };
        let log = Log::default();
        let pending = std::future::pending();
        let result = drive(&schedule, watch, &clock, &mut alias, &mut gates, pending, &log).await;
        (result.unwrap(), gates.checks)
    }

    #[tokio::test]
    async fn failing_readings_roll_back_at_the_nth_in_a_step_and_a_pass_does_not_reset_the_count() {
        // Step one (minutes 1-4): fail, pass, fail, fail.
        let flaky = |weight: f64, minute: u64| match (weight < 0.2, minute) {
            (true, 1 | 3 | 4) => Reading::Fail("error rate 9%".into()),
            _ => Reading::Pass("ok".into()),
        };
        let (once, checks) = noisy(flaky, 1, false).await;
        assert_eq!(
            once.rollback_reason.as_deref(),
            Some("step 1/3 at 10%: error rate 9%")
        );
        assert_eq!(checks.len(), 1, "today's behaviour: the first failing reading");
        let (three, checks) = noisy(flaky, 3, false).await;
        assert_eq!(
            three.rollback_reason.as_deref(),
            Some("step 1/3 at 10%: error rate 9% (3 failing readings in this step, --max-failed-checks 3)")
        );
        assert_eq!(
            checks.last(),
            Some(&(0.1, 4)),
            "the third failing reading, after a pass"
        );
        let (four, _) = noisy(flaky, 4, false).await;
        assert_eq!(four.rollback_reason, None, "three failing readings are within 4");
    }

    #[tokio::test]
    async fn the_count_starts_again_in_each_step() {
        // One failing reading in each of the two watched steps.
        let once_a_step = |_: f64, minute: u64| match minute {
            2 | 6 => Reading::Fail("error rate 9%".into()),
            _ => Reading::Pass("ok".into()),
        };
        let (result, checks) = noisy(once_a_step, 2, false).await;
        assert_eq!(result.rollback_reason, None);
        assert_eq!(checks.len(), 8);
    }

    #[tokio::test]
    async fn an_alarm_rolls_back_at_once_unless_counted() {
        let alarm_at_two = |_: f64, minute: u64| match minute {
            2 => Reading::Alarm("alarm orders-errors is in ALARM".into()),
            _ => Reading::Pass("ok".into()),
        };
        let (at_once, checks) = noisy(alarm_at_two, 3, false).await;
        assert_eq!(
            at_once.rollback_reason.as_deref(),
            Some("step 1/3 at 10%: alarm orders-errors is in ALARM")
        );
        assert_eq!(checks.len(), 2);
        let (counted, _) = noisy(alarm_at_two, 3, true).await;
        assert_eq!(
            counted.rollback_reason, None,
            "one counted reading of three allowed"
        );
    }
}
