//! The inline engine's health gates: [`LiveGates`] runs the smoke invoke, the
//! hooks, the alarm checks and the metric comparison for the rollout
//! controller.

use std::process::Stdio;
use std::time::{Duration, SystemTime};

use crate::commands::deploy::release::Release;
use crate::core::controller::{GateFailed, GateResult, Gates, Reading};
use crate::core::gates::{GateConfig, Verdict, judge};
use crate::core::judge::custom;
use crate::core::judge::latency::{self, Side};
use crate::core::judge::{Analysis, Judged, StepJudge, Window, count};
use crate::core::values::percent;
use crate::error::Result;
use crate::log::Log;
use crate::platform::{Connection, Platform};

/// The function, alias and the two versions a rollout moves between.
#[derive(Debug, Clone)]
pub struct Shift {
    pub function: String,
    pub alias: String,
    pub stable: String,
    pub new: String,
}

/// The gates of one rollout, read through the connection of its place.
pub struct LiveGates<'a, C> {
    /// The smoke invoke; the alarms and metrics where the platform's are read.
    conn: &'a C,
    log: Log,
    shift: Shift,
    config: &'a GateConfig,
    /// Wall-clock time at the rollout clock's zero, for metric windows.
    origin: SystemTime,
    /// Alarms already in ALARM before the rollout, ignored on request.
    ignored_alarms: Vec<String>,
    /// The new version's share now (for the hooks' `ROLLOUT_WEIGHT`).
    weight: f64,
    /// The statistical judge of the step in progress (by its start).
    step: Option<(Duration, StepJudge)>,
    /// What the step in progress needs was said before it began.
    needs_said: bool,
    /// Every judged reading, for the report's `analysis`.
    pub analysis: Vec<Analysis>,
}

impl<'a, C: Release> LiveGates<'a, C> {
    /// Gates for `shift`, starting now, ignoring `ignored_alarms`.
    pub fn new(
        conn: &'a C,
        log: Log,
        shift: Shift,
        config: &'a GateConfig,
        ignored_alarms: Vec<String>,
    ) -> Self {
        LiveGates {
            conn,
            log,
            shift,
            config,
            origin: SystemTime::now(),
            ignored_alarms,
            weight: 0.0,
            step: None,
            needs_said: false,
            analysis: Vec::new(),
        }
    }
}

impl<C: Release> LiveGates<'_, C> {
    /// A metric the platform does not read (`cli` refuses its gates first).
    fn not_read(&self, what: &str) -> String {
        let name = self.conn.platform().capabilities().name;
        format!("{name}'s {what} are not read")
    }

    async fn alarms(&self) -> std::result::Result<Option<String>, String> {
        if self.config.alarms.is_empty() {
            return Ok(None);
        }
        let firing = self
            .conn
            .alarms_firing(&self.config.alarms)
            .await
            .map_err(|e| e.to_string())?;
        Ok(firing
            .into_iter()
            .find(|(name, _)| !self.ignored_alarms.contains(name))
            .map(|(name, reason)| format!("alarm {name} is in ALARM ({reason})")))
    }

    async fn hook(&self, phase: &str, command: &str) -> std::result::Result<(), String> {
        let hook = Hook {
            shift: &self.shift,
            weight: self.weight,
            timeout: self.config.hook_timeout,
        };
        hook.run(&self.log, phase, command).await
    }

    async fn smoke(&self, payload: &[u8]) -> std::result::Result<(), String> {
        let Shift { function, new, .. } = &self.shift;
        self.log
            .step(&format!("smoke test: invoking version {new} directly"));
        self.conn.smoke(function, new, payload).await
    }
}

impl<C: Release> LiveGates<'_, C> {
    /// How many canary invocations a verdict needs given the stable
    /// version's rate in `window`, and how long that takes at `per_minute`
    /// canary invocations (`basis`: where that traffic comes from). Said
    /// once a step.
    fn narrate_needs(&self, window: &Window, weight: f64, per_minute: f64, basis: &str) {
        let Some(design) = self.config.judge.as_ref() else {
            return;
        };
        let needs = StepJudge::new(design.clone()).needs(window, weight);
        let at = if per_minute >= 1.0 && needs.is_finite() {
            format!(
                ": ≈{} at {}/min{basis}",
                humantime::format_duration(Duration::from_secs((needs / per_minute * 60.0).ceil() as u64)),
                count(per_minute)
            )
        } else {
            String::new()
        };
        self.log.step(&format!(
            "the judge needs ≈{} canary invocations to detect an error-rate increase of {} at {} confidence with 80% power{at}",
            count(needs.ceil()),
            percent(design.max_increase),
            percent(design.confidence)
        ));
    }
}

/// The traffic a step's needs are estimated from before it begins: the
/// function's last quarter of an hour.
const RECENT: Duration = Duration::from_secs(15 * 60);

impl<C: Release> Gates for LiveGates<'_, C> {
    /// With the judge: before the step's first reading, what a verdict needs
    /// at this weight, from the stable version's rate and the function's
    /// traffic over the last quarter of an hour (one metrics read). Without
    /// that traffic, it is said at the first reading instead.
    async fn step_begins(&mut self, weight: f64) {
        if self.config.judge.as_ref().is_none_or(|d| d.confidence <= 0.0) {
            return;
        }
        let shift = &self.shift;
        let recent = self
            .conn
            .counts(
                (&shift.function, &shift.alias),
                (&shift.new, &shift.stable),
                SystemTime::now() - RECENT,
            )
            .await;
        let Ok(Some((canary, stable))) = recent else {
            return;
        };
        if stable.invocations <= 0.0 {
            return;
        }
        let window = Window {
            canary,
            stable,
            ..Window::default()
        };
        let minutes = RECENT.as_secs_f64() / 60.0;
        let per_minute = (canary.invocations + stable.invocations) / minutes * weight;
        let basis = format!(" (the last {minutes} minutes' traffic at {})", percent(weight));
        self.narrate_needs(&window, weight, per_minute, &basis);
        self.needs_said = true;
    }

    async fn before_traffic(&mut self) -> GateResult {
        if let Some(payload) = &self.config.smoke_payload {
            self.smoke(payload).await?;
        }
        if let Some(command) = &self.config.pre_traffic_hook {
            self.hook("pre-traffic", command).await?;
        }
        match self.alarms().await? {
            Some(firing) => Err(GateFailed(format!(
                "{firing} before any traffic moved (--ignore-alarms-already-firing ignores alarms firing at the start)"
            ))),
            None => Ok(()),
        }
    }

    async fn check(&mut self, weight: f64, since: Duration) -> Reading {
        self.weight = weight;
        match self.alarms().await {
            Err(e) => return Reading::Fail(e),
            Ok(Some(firing)) => return Reading::Alarm(firing),
            Ok(None) => {}
        }
        let design = self.config.judge.as_ref();
        if self.config.thresholds.is_none() && design.is_none() {
            return Reading::Pass(if self.config.alarms.is_empty() {
                "waiting".into()
            } else {
                "no alarm firing".into()
            });
        }
        let shift = &self.shift;
        let window_start = self.origin + since;
        let (canary, stable) = match self
            .conn
            .counts(
                (&shift.function, &shift.alias),
                (&shift.new, &shift.stable),
                window_start,
            )
            .await
        {
            Ok(Some(counts)) => counts,
            Ok(None) => return Reading::Fail(self.not_read("metrics")),
            Err(e) => return Reading::Fail(e.to_string()),
        };
        let threshold = self
            .config
            .thresholds
            .as_ref()
            .map(|thresholds| judge(canary, stable, thresholds));
        if let Some(Verdict::Unhealthy(detail)) = &threshold {
            return Reading::Fail(detail.clone());
        }
        let Some(design) = design else {
            return match threshold {
                Some(Verdict::NoData(detail)) => Reading::NoData(detail),
                Some(Verdict::Healthy(detail)) => Reading::Pass(detail),
                _ => Reading::Pass("waiting".into()),
            };
        };
        let mut window = Window {
            canary,
            stable,
            ..Window::default()
        };
        let judging = design.confidence > 0.0;
        if judging && self.step.as_ref().is_none_or(|(start, _)| *start != since) {
            if !self.needs_said {
                // Nothing was read before the step: the traffic seen so far.
                let elapsed = SystemTime::now()
                    .duration_since(window_start)
                    .unwrap_or_default()
                    .as_secs_f64()
                    .max(1.0);
                self.narrate_needs(&window, weight, window.canary.invocations / elapsed * 60.0, "");
            }
            self.needs_said = false;
            self.step = Some((since, StepJudge::new(design.clone())));
        }
        if !design.latency.is_empty() {
            let queries = match self.step.as_ref().filter(|_| judging) {
                Some((_, judge)) => judge.latency_queries(&window, weight),
                None => latency::queries(design, None, canary.invocations, stable.invocations),
            };
            match self
                .conn
                .latency(
                    (&shift.function, &shift.alias),
                    (&shift.new, &shift.stable),
                    window_start,
                    &queries,
                )
                .await
            {
                Ok(None) => return Reading::Fail(self.not_read("latency metrics")),
                Ok(Some(read)) => {
                    for (query, value) in read {
                        let into = match (query.side, query.bound) {
                            (Side::Canary, false) => &mut window.canary_latency,
                            (Side::Stable, false) => &mut window.stable_latency,
                            (Side::Canary, true) => &mut window.canary_bounds,
                            (Side::Stable, true) => &mut window.stable_bounds,
                        };
                        into.values.push((query.statistic, value));
                    }
                }
                Err(e) => return Reading::Fail(e.to_string()),
            }
        }
        if !design.custom.is_empty() {
            match self
                .conn
                .custom(
                    (&shift.function, &shift.alias),
                    (&shift.new, &shift.stable),
                    window_start,
                    &design.custom,
                )
                .await
            {
                Ok(None) => return Reading::Fail(self.not_read("custom metrics")),
                Ok(Some(read)) => {
                    for (i, side, value) in read {
                        let into = match side {
                            Side::Canary => &mut window.canary_custom,
                            Side::Stable => &mut window.stable_custom,
                        };
                        into.values.push((design.custom[i].name.clone(), value));
                    }
                }
                Err(e) => return Reading::Fail(e.to_string()),
            }
        }
        if !judging {
            // Latency limits and the function's own metrics, without the test.
            let worse =
                latency::worse(&window, design, None).or_else(|| custom::worse(&window, &design.custom));
            return match worse {
                Some(worse) => Reading::Fail(worse),
                None => {
                    let own = custom::text(&window, &design.custom);
                    Reading::Pass(format!(
                        "within the limits (n={} vs {}){}{own}",
                        count(canary.invocations),
                        count(stable.invocations),
                        if own.is_empty() { "" } else { ": " }
                    ))
                }
            };
        }
        let Some((_, judge)) = self.step.as_mut() else {
            return Reading::Pass("waiting".into());
        };
        let judged = judge.judge(&window, weight);
        let minute = SystemTime::now()
            .duration_since(self.origin)
            .unwrap_or_default()
            .as_secs_f64()
            / 60.0;
        self.analysis.push(Analysis::of(minute, weight, &window, &judged));
        match judged {
            Judged::Worse(why) => Reading::Fail(why),
            Judged::NotWorse(why) => Reading::Done(why),
            Judged::Undecided(why) => Reading::NoData(why),
            Judged::Nothing(why) => Reading::Pass(why),
        }
    }

    async fn after_traffic(&mut self) -> GateResult {
        self.weight = 1.0;
        match &self.config.post_traffic_hook {
            Some(command) => Ok(self.hook("post-traffic", command).await?),
            None => Ok(()),
        }
    }
}

/// A pre- or post-traffic hook of one rollout: a shell command told the
/// function, alias, versions and weight in `ROLLOUT_*` variables, ended with
/// everything it started when it exits or runs out of time. It needs no
/// platform, so SCF's rollouts run the same hooks.
pub struct Hook<'a> {
    pub shift: &'a Shift,
    /// The new version's share now (`ROLLOUT_WEIGHT`).
    pub weight: f64,
    pub timeout: Duration,
}

impl Hook<'_> {
    pub async fn run(&self, log: &Log, phase: &str, command: &str) -> std::result::Result<(), String> {
        let shift = self.shift;
        log.step(&format!("running the {phase} hook: {command}"));
        let mut child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .env("ROLLOUT_PHASE", phase)
            .env("ROLLOUT_FUNCTION", &shift.function)
            .env("ROLLOUT_ALIAS", &shift.alias)
            .env("ROLLOUT_NEW_VERSION", &shift.new)
            .env("ROLLOUT_STABLE_VERSION", &shift.stable)
            .env("ROLLOUT_WEIGHT", self.weight.to_string())
            // The hook's output is narration: keep stdout free for the report.
            .stdout(Stdio::from(std::io::stderr()))
            .stderr(Stdio::inherit())
            // Its own process group, so that what it starts can be ended with it.
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("the {phase} hook could not start: {e}"))?;
        // Ends the whole group however this returns: on time, at the limit,
        // or dropped with the run (a signal).
        let _group = child.id().map(HookGroup);
        match tokio::time::timeout(self.timeout, child.wait()).await {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => Err(format!("the {phase} hook `{command}` failed ({status})")),
            Ok(Err(e)) => Err(format!(
                "the {phase} hook `{command}` could not be waited for: {e}"
            )),
            Err(_) => Err(format!(
                "the {phase} hook `{command}` did not finish within {}; it was stopped with everything it started",
                humantime::format_duration(self.timeout)
            )),
        }
    }
}

/// A hook's process group (its id is the hook's pid). Dropping it kills every
/// process still in the group: a hook's background children (a hung `curl`, a
/// `sleep &`) never outlive the hook, and never hold the run's output open.
struct HookGroup(u32);

impl Drop for HookGroup {
    fn drop(&mut self) {
        let Ok(group) = libc::pid_t::try_from(self.0) else {
            return;
        };
        // SAFETY: killpg only sends a signal; the group was created for this
        // hook by `process_group(0)`, and a group with no process left
        // (ESRCH) is fine.
        unsafe {
            libc::killpg(group, libc::SIGKILL);
        }
    }
}

/// Record which of the gate alarms already fire (to ignore them) or refuse.
pub async fn alarms_at_start<C: Connection>(conn: &C, config: &GateConfig, log: &Log) -> Result<Vec<String>> {
    let firing = conn.alarms_firing(&config.alarms).await?;
    if config.ignore_alarms_already_firing {
        for (name, _) in &firing {
            log.warn(&format!(
                "alarm {name} is already in ALARM: ignored for this rollout"
            ));
        }
        return Ok(firing.into_iter().map(|(name, _)| name).collect());
    }
    Ok(Vec::new())
}
