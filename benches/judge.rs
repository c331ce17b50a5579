//! `bench/judge`: seeded simulations of canary steps, judged two ways on the
//! same simulated data — the statistical judge (`--confidence 95%
//! --max-error-rate-increase 0.5% --max-latency-increase p99=15%`) and
//! today's threshold gate (`--max-error-rate-increase 0.5%
//! --min-invocations 100`). Traffic at 20, 200 and 2,000 invocations a
//! minute, 10 % of it on the canary for a 15-minute step, read every
//! minute; the stable version fails 1 % of its calls; the canary fails as
//! often, 1.5× or 3× as often, or is as fast or 30 % slower (p99). Both
//! gates pass a step that ends without a verdict (`--on-no-data pass`), so
//! what is counted is what each one decided.
//!
//! `cargo bench --bench judge` runs 400 rollouts per scenario; under
//! `cargo test` it runs a few, as a check that it still runs.

use lambda_rollout::core::gates::{Counts, Thresholds, Verdict, judge};
use lambda_rollout::core::judge::latency::Side;
use lambda_rollout::core::judge::{Design, Judged, LatencyLimit, Statistic, StepJudge, Window};

const WEIGHT: f64 = 0.1;
const STEP_MINUTES: u32 = 15;
const STABLE_ERRORS: f64 = 0.01;
const INCREASE: f64 = 0.005;

#[derive(Clone, Copy)]
struct Scenario {
    per_minute: u32,
    error_ratio: f64,
    latency_ratio: f64,
}

/// How one gate ended a simulated step.
#[derive(Clone, Copy, PartialEq)]
enum End {
    /// Failed the canary at this minute.
    RolledBack(u32),
    /// Passed it at this minute (early, or at the step's end).
    Passed(u32),
}

struct Version {
    counts: Counts,
    latencies: Vec<f64>,
}

impl Version {
    fn new() -> Version {
        Version {
            counts: Counts::default(),
            latencies: Vec::new(),
        }
    }

    /// A minute of `calls` invocations failing at `rate`, latencies
    /// log-normal around 100 ms times `slower`.
    fn minute(&mut self, rng: &mut fastrand::Rng, calls: u32, rate: f64, slower: f64) {
        for _ in 0..calls {
            self.counts.invocations += 1.0;
            if rng.f64() < rate {
                self.counts.errors += 1.0;
            }
            // Box–Muller: a standard normal, then log-normal (sigma 0.5).
            let (u, v) = (rng.f64().max(1e-12), rng.f64());
            let z = (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
            self.latencies.push(100.0 * slower * (0.5 * z).exp());
        }
    }

    /// A percentile statistic (`p99`, `p98.26`) of the durations so far,
    /// as CloudWatch computes one (the nearest rank).
    fn percentile(&self, statistic: &str) -> Option<f64> {
        let q = statistic.strip_prefix('p')?.parse::<f64>().ok()? / 100.0;
        if self.latencies.is_empty() {
            return None;
        }
        let mut sorted = self.latencies.clone();
        let at = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
        let (_, value, _) = sorted.select_nth_unstable_by(at, f64::total_cmp);
        Some(*value)
    }
}

fn design() -> Design {
    Design {
        confidence: 0.95,
        max_increase: INCREASE,
        judged_steps: 1,
        check_share: true,
        latency: vec![LatencyLimit::Increase(Statistic("p99".into()), 0.15)],
        custom: Vec::new(),
        min_count: 100.0,
    }
}

/// One simulated step, judged both ways: (statistical, threshold).
fn simulate(scenario: Scenario, seed: u64) -> (End, End) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let canary_calls = (scenario.per_minute as f64 * WEIGHT).round() as u32;
    let stable_calls = scenario.per_minute - canary_calls;
    let (mut canary, mut stable) = (Version::new(), Version::new());
    let mut step = StepJudge::new(design());
    let thresholds = Thresholds {
        max_error_rate: None,
        max_error_rate_increase: Some(INCREASE),
        min_invocations: 100.0,
    };
    let (mut judged, mut threshold) = (None, None);
    for minute in 1..=STEP_MINUTES {
        let rate = STABLE_ERRORS * scenario.error_ratio;
        canary.minute(&mut rng, canary_calls, rate, scenario.latency_ratio);
        stable.minute(&mut rng, stable_calls, STABLE_ERRORS, 1.0);
        if judged.is_none() {
            let mut window = Window {
                canary: canary.counts,
                stable: stable.counts,
                ..Window::default()
            };
            // What the platform would answer: each statistic and bound the
            // reading asks for, computed from the simulated durations.
            for query in step.latency_queries(&window, WEIGHT) {
                let (version, into) = match (query.side, query.bound) {
                    (Side::Canary, false) => (&canary, &mut window.canary_latency),
                    (Side::Stable, false) => (&stable, &mut window.stable_latency),
                    (Side::Canary, true) => (&canary, &mut window.canary_bounds),
                    (Side::Stable, true) => (&stable, &mut window.stable_bounds),
                };
                if let Some(value) = version.percentile(&query.statistic) {
                    into.values.push((query.statistic, value));
                }
            }
            judged = match step.judge(&window, WEIGHT) {
                Judged::Worse(_) => Some(End::RolledBack(minute)),
                Judged::NotWorse(_) => Some(End::Passed(minute)),
                Judged::Undecided(_) | Judged::Nothing(_) => None,
            };
        }
        if threshold.is_none()
            && matches!(
                judge(canary.counts, stable.counts, &thresholds),
                Verdict::Unhealthy(_)
            )
        {
            threshold = Some(End::RolledBack(minute));
        }
        if judged.is_some() && threshold.is_some() {
            break;
        }
    }
    (
        judged.unwrap_or(End::Passed(STEP_MINUTES)),
        threshold.unwrap_or(End::Passed(STEP_MINUTES)),
    )
}

/// Share rolled back, median minutes to roll back, median minutes to pass.
fn summarize(ends: &[End]) -> (f64, Option<f64>, Option<f64>) {
    let median = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        (!values.is_empty()).then(|| values[values.len() / 2])
    };
    let back: Vec<f64> = ends
        .iter()
        .filter_map(|e| match e {
            End::RolledBack(m) => Some(*m as f64),
            End::Passed(_) => None,
        })
        .collect();
    let passed: Vec<f64> = ends
        .iter()
        .filter_map(|e| match e {
            End::Passed(m) => Some(*m as f64),
            End::RolledBack(_) => None,
        })
        .collect();
    (
        back.len() as f64 / ends.len() as f64,
        median(back),
        median(passed),
    )
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let runs: u64 = if full { 400 } else { 3 };
    println!(
        "| traffic/min | canary errors | canary p99 | judge: rolled back | judge: minutes to roll back / to pass | threshold gate: rolled back | threshold: minutes to roll back / to pass |"
    );
    println!("|---|---|---|---|---|---|---|");
    for per_minute in [20, 200, 2000] {
        for (error_ratio, latency_ratio) in [(1.0, 1.0), (1.5, 1.0), (3.0, 1.0), (1.0, 1.3)] {
            let scenario = Scenario {
                per_minute,
                error_ratio,
                latency_ratio,
            };
            let (judged, threshold): (Vec<End>, Vec<End>) = (0..runs)
                .map(|seed| simulate(scenario, seed * 7919 + per_minute as u64))
                .unzip();
            let shown = |(share, back, pass): (f64, Option<f64>, Option<f64>)| {
                let m = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.0}"));
                (
                    format!("{:.1} %", share * 100.0),
                    format!("{} / {}", m(back), m(pass)),
                )
            };
            let (j_share, j_times) = shown(summarize(&judged));
            let (t_share, t_times) = shown(summarize(&threshold));
            println!(
                "| {per_minute} | {error_ratio}× | +{:.0} % | {j_share} | {j_times} | {t_share} | {t_times} |",
                (latency_ratio - 1.0) * 100.0
            );
        }
    }
}
