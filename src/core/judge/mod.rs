//! The canary judged like an experiment (`--confidence`): each reading
//! compares the canary with the stable version over the same window — its
//! error and throttle rates by a one-sided test read sequentially under an
//! alpha-spending budget, its share of the traffic against the routed
//! weight, its latency against limits — and says how much data a reliable
//! verdict needs. Pure code: the readings come from the platform's metrics.
//!
//! The error budget: a rollout's false-rollback probability is at most
//! 1 − confidence. It is split evenly between the steps that carry canary
//! traffic (a step at 100 % has no stable traffic to compare with) and,
//! within a step, between the error and the throttle test; each test spends
//! its share over the step's readings with Lan and DeMets' Pocock-like
//! function of the information gathered (the canary's invocations against
//! the sample size the test needs): the levels of all readings add up to
//! the share, so reading often costs nothing, a blatant failure is caught
//! at the first readings, and a subtle one once the data can show it.

pub mod custom;
pub mod latency;
pub mod stats;

use std::fmt::Write as _;

use crate::core::values::percent;
use stats::{Method, Rate};

/// Sums of `AWS/Lambda` metrics for one `ExecutedVersion` over a window.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    pub invocations: f64,
    pub errors: f64,
    pub throttles: f64,
}

impl Counts {
    pub fn error_rate(&self) -> f64 {
        if self.invocations > 0.0 {
            self.errors / self.invocations
        } else {
            0.0
        }
    }

    /// Throttled requests are not counted as invocations.
    pub fn throttle_rate(&self) -> f64 {
        let requests = self.invocations + self.throttles;
        if requests > 0.0 {
            self.throttles / requests
        } else {
            0.0
        }
    }
}

/// The power the sample size is planned for.
pub const POWER: f64 = 0.8;

/// A latency statistic: a percentile (`p50` … `p99.9`) or the average.
#[derive(Debug, Clone, PartialEq)]
pub struct Statistic(pub String);

impl Statistic {
    /// `p50`, `p90`, `p95`, `p99`, `p99.9` or `avg`.
    pub fn parse(text: &str) -> Option<Statistic> {
        match text {
            "p50" | "p90" | "p95" | "p99" | "p99.9" | "avg" => Some(Statistic(text.to_string())),
            _ => None,
        }
    }

    /// The statistic CloudWatch computes (`p99`, `Average`).
    /// (`p99.9` is CloudWatch's spelling too.)
    pub fn cloudwatch(&self) -> &str {
        match self.0.as_str() {
            "avg" => "Average",
            other => other,
        }
    }
}

/// A latency limit: the canary's statistic at most `increase` above the
/// stable version's (a fraction), or at most `ceiling_ms`.
#[derive(Debug, Clone, PartialEq)]
pub enum LatencyLimit {
    Increase(Statistic, f64),
    Ceiling(Statistic, f64),
}

impl LatencyLimit {
    pub fn statistic(&self) -> &Statistic {
        match self {
            LatencyLimit::Increase(s, _) | LatencyLimit::Ceiling(s, _) => s,
        }
    }
}

const STATISTICS: &str = "p50, p90, p95, p99, p99.9 or avg";

/// `--confidence`: such as 95% or 0.95, above 50% and below 100%.
pub fn parse_confidence(input: &str) -> Result<f64, String> {
    crate::core::values::parse_weight(input)
        .ok()
        .map(|w| w.fraction())
        .filter(|c| *c > 0.5 && *c < 1.0)
        .ok_or_else(|| format!("'{input}' is not a confidence: expected a share above 50% and below 100%, such as 95% or 0.99"))
}

fn statistic_and_value(input: &str, form: &str) -> Result<(Statistic, String), String> {
    let (name, value) = input
        .split_once('=')
        .ok_or_else(|| format!("'{input}' is not a latency limit: expected {form}"))?;
    let statistic = Statistic::parse(name.trim()).ok_or_else(|| {
        format!(
            "'{input}': {} is not a latency statistic: expected {STATISTICS}",
            name.trim()
        )
    })?;
    Ok((statistic, value.trim().to_string()))
}

/// `--max-latency-increase p99=15%`.
pub fn parse_latency_increase(input: &str) -> Result<LatencyLimit, String> {
    let form = "STATISTIC=PERCENT, such as p99=15%";
    let (statistic, value) = statistic_and_value(input, form)?;
    let increase = value
        .strip_suffix('%')
        .and_then(|n| n.trim().parse::<f64>().ok())
        .filter(|n| n.is_finite() && *n >= 0.0)
        .ok_or_else(|| format!("'{input}' is not a latency limit: expected {form}"))?;
    Ok(LatencyLimit::Increase(statistic, increase / 100.0))
}

/// `--max-latency p99=800ms`.
pub fn parse_latency_ceiling(input: &str) -> Result<LatencyLimit, String> {
    let form = "STATISTIC=DURATION, such as p99=800ms";
    let (statistic, value) = statistic_and_value(input, form)?;
    let ceiling = humantime::parse_duration(&value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("'{input}' is not a latency limit: expected {form}"))?;
    Ok(LatencyLimit::Ceiling(statistic, ceiling.as_secs_f64() * 1000.0))
}

/// What the judge was asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// 0.95 for `--confidence 95%`.
    pub confidence: f64,
    /// The increase of the error (and throttle) rate worth detecting
    /// (`--max-error-rate-increase`), in rate points.
    pub max_increase: f64,
    /// Steps of the rollout that carry canary traffic beside stable traffic.
    pub judged_steps: usize,
    /// `--check-traffic-share`.
    pub check_share: bool,
    pub latency: Vec<LatencyLimit>,
    /// `--metrics-file`: the function's own metrics, compared as read.
    pub custom: Vec<custom::CustomMetric>,
    /// Invocations each version needs before its latency is compared.
    pub min_count: f64,
}

impl Design {
    /// The level of one test in one step: the budget split between the
    /// judged steps, and within a step between the error test, the throttle
    /// test and (with limits) the latency comparison.
    pub fn alpha(&self) -> f64 {
        let tests = if self.latency.is_empty() { 2.0 } else { 3.0 };
        (1.0 - self.confidence) / (tests * self.judged_steps.max(1) as f64)
    }
}

/// A latency reading of one version: its statistics in milliseconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Latency {
    pub values: Vec<(String, f64)>,
}

impl Latency {
    /// The value of a statistic by CloudWatch's name (`p99`, `Average`, `p96.75`).
    pub fn get(&self, name: &str) -> Option<f64> {
        self.values.iter().find(|(s, _)| s == name).map(|(_, v)| *v)
    }
}

/// Both versions over one window: the counts and the latency statistics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Window {
    pub canary: Counts,
    pub stable: Counts,
    pub canary_latency: Latency,
    pub stable_latency: Latency,
    /// The confidence bounds the latency limits compare (see
    /// [`latency::queries`]), by CloudWatch statistic.
    pub canary_bounds: Latency,
    pub stable_bounds: Latency,
    /// `--metrics-file`: each metric's value, by its name.
    pub canary_custom: Latency,
    pub stable_custom: Latency,
}

/// One judged reading, as the JSON output's `analysis` and the step
/// summary show it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Analysis {
    /// Minutes since the rollout began.
    pub minute: f64,
    /// The canary's routed weight.
    pub weight: f64,
    /// The canary's observed share of the window's invocations.
    pub share: f64,
    pub canary: VersionReading,
    pub stable: VersionReading,
    /// `worse`, `not-worse`, `undecided` or `nothing-to-compare`.
    pub verdict: &'static str,
    pub detail: String,
}

/// One version's numbers in a window.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct VersionReading {
    pub invocations: f64,
    pub errors: f64,
    pub throttles: f64,
    pub error_rate: f64,
    /// Latency statistics in milliseconds (`p99`, `avg`, …).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub latency_ms: std::collections::BTreeMap<String, f64>,
}

impl Analysis {
    /// The record of a reading of `window` at `weight`, `minute` into the
    /// rollout, judged `judged`.
    pub fn of(minute: f64, weight: f64, window: &Window, judged: &Judged) -> Analysis {
        let version = |counts: &Counts, latency: &Latency| VersionReading {
            invocations: counts.invocations,
            errors: counts.errors,
            throttles: counts.throttles,
            error_rate: counts.error_rate(),
            latency_ms: latency.values.iter().cloned().collect(),
        };
        let total = window.canary.invocations + window.stable.invocations;
        let (verdict, detail) = match judged {
            Judged::Worse(d) => ("worse", d),
            Judged::NotWorse(d) => ("not-worse", d),
            Judged::Undecided(d) => ("undecided", d),
            Judged::Nothing(d) => ("nothing-to-compare", d),
        };
        Analysis {
            minute,
            weight,
            share: if total > 0.0 {
                window.canary.invocations / total
            } else {
                0.0
            },
            canary: version(&window.canary, &window.canary_latency),
            stable: version(&window.stable, &window.stable_latency),
            verdict,
            detail: detail.clone(),
        }
    }
}

/// A reading's verdict.
#[derive(Debug, Clone, PartialEq)]
pub enum Judged {
    /// The canary is worse: fail the step.
    Worse(String),
    /// Certain that it is not worse: the step may end now.
    NotWorse(String),
    /// Not certain yet: the detail says what it needs.
    Undecided(String),
    /// Nothing to compare (no stable traffic at this weight).
    Nothing(String),
}

/// One test's sequential state within a step.
#[derive(Debug, Clone, Copy, Default)]
struct Sequence {
    /// Information fraction at the previous reading.
    information: f64,
}

/// The judge of one step: its readings share the step's error budget.
#[derive(Debug, Clone)]
pub struct StepJudge {
    design: Design,
    errors: Sequence,
    throttles: Sequence,
    latency: Sequence,
}

/// A test's outcome at one reading.
struct Look {
    worse: bool,
    not_worse: bool,
    p: f64,
    method: Method,
    needs: f64,
}

impl StepJudge {
    pub fn new(design: Design) -> StepJudge {
        StepJudge {
            design,
            errors: Sequence::default(),
            throttles: Sequence::default(),
            latency: Sequence::default(),
        }
    }

    /// The information gathered by `window`: the canary's invocations
    /// against what the error test needs (the one clock of the step's
    /// tests).
    fn information(&self, window: &Window, weight: f64) -> f64 {
        (window.canary.invocations / self.needs(window, weight)).min(1.0)
    }

    /// The level the latency comparison may spend at a reading of
    /// `window` (0: none yet).
    pub fn latency_level(&self, window: &Window, weight: f64) -> f64 {
        let alpha = self.design.alpha();
        let t = self.information(window, weight);
        (stats::alpha_spent(alpha, t) - stats::alpha_spent(alpha, self.latency.information)).max(0.0)
    }

    /// The latency statistics a reading of `window` needs from the platform.
    pub fn latency_queries(&self, window: &Window, weight: f64) -> Vec<latency::Query> {
        let level = self.latency_level(window, weight);
        latency::queries(
            &self.design,
            Some(level),
            window.canary.invocations,
            window.stable.invocations,
        )
    }

    /// Canary invocations the error test needs at `weight`, given the
    /// stable version's rate in `window`.
    pub fn needs(&self, window: &Window, weight: f64) -> f64 {
        let ratio = ratio_of(window, weight);
        stats::sample_size(
            window.stable.error_rate(),
            self.design.max_increase,
            self.design.alpha(),
            POWER,
            ratio,
        )
    }

    /// Judge one reading of the step, the window since the step began, at
    /// the routed `weight`.
    pub fn judge(&mut self, window: &Window, weight: f64) -> Judged {
        let design = self.design.clone();
        let confidence = percent(design.confidence);
        if window.stable.invocations + window.stable.throttles <= 0.0 && weight >= 1.0 - 1e-9 {
            return Judged::Nothing(
                "the stable version serves no traffic at 100%: nothing to compare".into(),
            );
        }
        let mut line = latency::text(window, &design);
        let level = self.latency_level(window, weight);
        self.latency.information = self.latency.information.max(self.information(window, weight));
        if let Some(worse) = latency::worse(window, &design, Some(level)) {
            return Judged::Worse(worse);
        }
        if let Some(worse) = custom::worse(window, &design.custom) {
            return Judged::Worse(worse);
        }
        let own = custom::text(window, &design.custom);
        if !own.is_empty() {
            if !line.is_empty() {
                line.push_str(" · ");
            }
            line.push_str(&own);
        }
        let ratio = ratio_of(window, weight);
        let canary = Rate::new(window.canary.errors, window.canary.invocations);
        let stable = Rate::new(window.stable.errors, window.stable.invocations);
        let errors = look(&mut self.errors, canary, stable, ratio, &design);
        let requests = |c: &Counts| c.invocations + c.throttles;
        let canary_t = Rate::new(window.canary.throttles, requests(&window.canary));
        let stable_t = Rate::new(window.stable.throttles, requests(&window.stable));
        let throttles = look(&mut self.throttles, canary_t, stable_t, ratio, &design);
        if !line.is_empty() {
            line.push_str(" · ");
        }
        let _ = write!(
            line,
            "errors {} (n={}) vs {} (n={})",
            rate_text(canary),
            count(canary.trials as f64),
            rate_text(stable),
            count(stable.trials as f64)
        );
        if errors.worse {
            return Judged::Worse(format!(
                "{line}: higher at {confidence} confidence (p={}, {} test)",
                p_text(errors.p),
                errors.method.name()
            ));
        }
        if throttles.worse {
            return Judged::Worse(format!(
                "{line} · throttles {} vs {}: higher at {confidence} confidence (p={}, {} test)",
                rate_text(canary_t),
                rate_text(stable_t),
                p_text(throttles.p),
                throttles.method.name()
            ));
        }
        if design.check_share
            && let Some(why) = share_implausible(window, weight, design.confidence)
        {
            return Judged::Worse(format!("{line} · {why}"));
        }
        let verdict = format!("no increase at {confidence} (p={})", p_text(errors.p));
        if errors.not_worse && throttles.not_worse {
            return Judged::NotWorse(format!(
                "{line}: {verdict}; certain: not worse by {} or more",
                percent(design.max_increase)
            ));
        }
        let needed = errors.needs.max(throttles.needs);
        Judged::Undecided(format!(
            "{line}: {verdict}; needs ≈{} canary invocations for a verdict, has {}",
            count(needed.ceil()),
            count(canary.trials as f64)
        ))
    }
}

/// A live canary against the stable version over one window, read once
/// (`status --metrics`): the error rates with their counts and the
/// one-sided test of an increase at `confidence`, and the canary's share of
/// the invocations with its interval against the routed `weight`.
pub fn snapshot(window: &Window, weight: f64, confidence: f64) -> String {
    let canary = Rate::new(window.canary.errors, window.canary.invocations);
    let stable = Rate::new(window.stable.errors, window.stable.invocations);
    if canary.trials == 0 {
        return format!(
            "no canary invocations in the window (stable: {})",
            count(stable.trials as f64)
        );
    }
    let (p, method) = stats::increase_p_value(canary, stable);
    let verdict = if p <= 1.0 - confidence {
        "higher"
    } else {
        "no increase"
    };
    let share = Rate::new(canary.trials as f64, (canary.trials + stable.trials) as f64);
    let (low, high) = stats::share_interval(share, confidence);
    format!(
        "errors {} (n={}) vs {} (n={}): {verdict} at {} (p={}, {} test) · share {} ({}–{}) of the invocations, routed {}",
        rate_text(canary),
        count(canary.trials as f64),
        rate_text(stable),
        count(stable.trials as f64),
        percent(confidence),
        p_text(p),
        method.name(),
        percent(share.value()),
        percent(low),
        percent(high),
        percent(weight)
    )
}

/// The stable version's trials per canary trial: observed, or as routed.
fn ratio_of(window: &Window, weight: f64) -> f64 {
    let (c, s) = (window.canary.invocations, window.stable.invocations);
    if c > 0.0 && s > 0.0 {
        s / c
    } else {
        ((1.0 - weight) / weight.max(1e-9)).max(1e-9)
    }
}

/// One reading of one rate test: fail on evidence of an increase at the
/// level this reading may spend; pass on evidence that the increase is
/// below the margin, or once the planned sample is in without an increase.
fn look(sequence: &mut Sequence, canary: Rate, stable: Rate, ratio: f64, design: &Design) -> Look {
    let alpha = design.alpha();
    let needs = stats::sample_size(stable.value(), design.max_increase, alpha, POWER, ratio);
    let information = (canary.trials as f64 / needs).min(1.0);
    let level = stats::alpha_spent(alpha, information) - stats::alpha_spent(alpha, sequence.information);
    let (p, method) = stats::increase_p_value(canary, stable);
    let spends = level > 0.0;
    let worse = spends && p <= level;
    let below = stats::below_margin_p_value(canary, stable, design.max_increase);
    let not_worse = !worse && (information >= 1.0 || (spends && below.is_some_and(|q| q <= level)));
    sequence.information = sequence.information.max(information);
    Look {
        worse,
        not_worse,
        p,
        method,
        needs,
    }
}

/// The canary's share of the window's invocations, when it is implausible
/// for the routed weight at `confidence`: its interval lies below half the
/// weight, or leaves the stable version less than half of its share.
fn share_implausible(window: &Window, weight: f64, confidence: f64) -> Option<String> {
    let total = window.canary.invocations + window.stable.invocations;
    if total < 20.0 || weight <= 0.0 {
        return None;
    }
    let share = Rate::new(window.canary.invocations, total);
    let (low, high) = stats::share_interval(share, confidence);
    let implausible = high < weight / 2.0 || low > 1.0 - (1.0 - weight) / 2.0;
    implausible.then(|| {
        format!(
            "the canary got {} of the invocations ({}–{} at {}, n={}) but is routed {}: the alias's weight is not being applied as written",
            percent(share.value()),
            percent(low),
            percent(high),
            percent(confidence),
            count(total),
            percent(weight)
        )
    })
}

fn rate_text(rate: Rate) -> String {
    percent(rate.value())
}

fn ms(value: f64) -> String {
    format!("{} ms", (value * 10.0).round() / 10.0)
}

fn p_text(p: f64) -> String {
    if p < 0.001 {
        "<0.001".to_string()
    } else {
        format!("{:.2}", p)
    }
}

/// 21700 as "21,700".
pub fn count(value: f64) -> String {
    let digits = format!("{}", value.max(0.0).round() as u64);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests;
