//! Latency limits judged without samples: the platform reports percentiles
//! of each version's window, not the durations, so a limit compares
//! confidence bounds read as percentiles themselves. The q-quantile of n
//! durations lies, with probability 1 − level, above the empirical
//! quantile at q − z·√(q(1 − q)/n) (the binomial distribution of the count
//! below it, in its normal approximation): the canary breaks
//! `--max-latency-increase p99=15%` only when its lower bound exceeds the
//! stable version's upper bound by more than 15 %, and `--max-latency` only
//! when its lower bound exceeds the ceiling. Without `--confidence` (or for
//! `avg`, which has no such bound) the statistics themselves are compared,
//! once each version has at least ten durations beyond the percentile (and
//! `--min-invocations`).

use statrs::distribution::{ContinuousCDF, Normal};

use super::{Design, LatencyLimit, Statistic, Window, count, ms};
use crate::core::values::percent;

/// Which version a statistic is read for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Canary,
    Stable,
}

/// One statistic to read: for the reading's line (`bound` false), or a
/// confidence bound a limit compares (`bound` true).
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub side: Side,
    /// CloudWatch's name: `p99`, `p96.75`, `Average`.
    pub statistic: String,
    pub bound: bool,
}

/// The fraction a percentile statistic names (`p99.9` → 0.999); `None`
/// for the average.
fn quantile(statistic: &Statistic) -> Option<f64> {
    statistic
        .0
        .strip_prefix('p')?
        .parse::<f64>()
        .ok()
        .map(|p| p / 100.0)
}

/// Whether `n` durations are enough to read `statistic`: `--min-invocations`,
/// and ten beyond a percentile.
fn enough(statistic: &Statistic, n: f64, design: &Design) -> bool {
    n >= design.min_count && quantile(statistic).is_none_or(|q| n * (1.0 - q) >= 10.0)
}

/// The percentile below (`lower`) or above the q-quantile of `n`
/// durations that bounds it at `level`, in CloudWatch's form (two decimals,
/// rounded away from q; p0 is the least duration, p100 the most).
fn bound(q: f64, n: f64, level: f64, lower: bool) -> String {
    let z = Normal::standard().inverse_cdf(1.0 - level.clamp(1e-12, 0.5));
    let spread = z * (q * (1.0 - q) / n.max(1.0)).sqrt();
    let at = if lower {
        (((q - spread) * 10000.0).floor() / 100.0).max(0.0)
    } else {
        (((q + spread) * 10000.0).ceil() / 100.0).min(100.0)
    };
    format!("p{}", (at * 100.0).round() / 100.0)
}

/// The statistics a reading needs: each limit's statistic for both versions
/// (shown), and — with a level to spend — the bounds a limit compares.
pub fn queries(design: &Design, level: Option<f64>, canary: f64, stable: f64) -> Vec<Query> {
    let mut wanted = Vec::new();
    let mut add = |side, statistic: String, bound| {
        let query = Query {
            side,
            statistic,
            bound,
        };
        if !wanted.contains(&query) {
            wanted.push(query);
        }
    };
    let per_limit = level.map(|l| l / design.latency.len().max(1) as f64);
    for limit in &design.latency {
        let statistic = limit.statistic();
        add(Side::Canary, statistic.cloudwatch().to_string(), false);
        add(Side::Stable, statistic.cloudwatch().to_string(), false);
        let (Some(q), Some(level)) = (quantile(statistic), per_limit.filter(|l| *l > 0.0)) else {
            continue;
        };
        if design.confidence > 0.0 {
            add(Side::Canary, bound(q, canary, level, true), true);
            if matches!(limit, LatencyLimit::Increase(..)) {
                add(Side::Stable, bound(q, stable, level, false), true);
            }
        }
    }
    wanted
}

/// The first latency limit the canary breaks in `window`, in words; `level`:
/// what this reading may spend (with `--confidence`).
pub fn worse(window: &Window, design: &Design, level: Option<f64>) -> Option<String> {
    let per_limit = level.map(|l| l / design.latency.len().max(1) as f64);
    let (nc, ns) = (window.canary.invocations, window.stable.invocations);
    for limit in &design.latency {
        let statistic = limit.statistic();
        let name = statistic.cloudwatch();
        let shown_canary = window.canary_latency.get(name);
        let bounded = design.confidence > 0.0 && quantile(statistic).is_some();
        // With a confidence, a percentile's limit compares its bounds (and
        // none while the reading may spend nothing); otherwise the values.
        let (canary, stable) = match (bounded, per_limit, quantile(statistic)) {
            (true, Some(level), Some(q)) if level > 0.0 => (
                window.canary_bounds.get(&bound(q, nc, level, true)),
                window.stable_bounds.get(&bound(q, ns, level, false)),
            ),
            (true, ..) => continue,
            _ => (shown_canary, window.stable_latency.get(name)),
        };
        let Some(canary) = canary else { continue };
        if !enough(statistic, nc, design) {
            continue;
        }
        let what = if bounded {
            format!(
                "at least {} ({} at {} confidence)",
                ms(canary),
                statistic.0,
                percent(design.confidence)
            )
        } else {
            ms(canary)
        };
        match limit {
            LatencyLimit::Ceiling(_, ceiling) if canary > *ceiling => {
                return Some(format!(
                    "canary {} {what} exceeds --max-latency {}={} (n={})",
                    statistic.0,
                    statistic.0,
                    ms(*ceiling),
                    count(nc)
                ));
            }
            LatencyLimit::Increase(_, increase) => {
                let Some(stable) = stable.filter(|s| *s > 0.0) else {
                    continue;
                };
                if !enough(statistic, ns, design) {
                    continue;
                }
                let change = canary / stable - 1.0;
                if change > *increase {
                    let against = if bounded {
                        format!("at most {}", ms(stable))
                    } else {
                        ms(stable)
                    };
                    return Some(format!(
                        "canary {} {what} vs stable {against} (+{}, limit {}; n={} vs {})",
                        statistic.0,
                        percent(change),
                        percent(*increase),
                        count(nc),
                        count(ns)
                    ));
                }
            }
            LatencyLimit::Ceiling(..) => {}
        }
    }
    None
}

/// "p99 412 ms vs 398 ms (+3.52%, limit 15%)" for each statistic judged.
pub fn text(window: &Window, design: &Design) -> String {
    let mut parts = Vec::new();
    for limit in &design.latency {
        let statistic = limit.statistic();
        let name = statistic.cloudwatch();
        let (Some(canary), Some(stable)) = (window.canary_latency.get(name), window.stable_latency.get(name))
        else {
            continue;
        };
        let change = if stable > 0.0 { canary / stable - 1.0 } else { 0.0 };
        let limit = match limit {
            LatencyLimit::Increase(_, increase) => format!("limit +{}", percent(*increase)),
            LatencyLimit::Ceiling(_, ceiling) => format!("limit {}", ms(*ceiling)),
        };
        parts.push(format!(
            "{} {} vs {} ({}{}, {limit})",
            statistic.0,
            ms(canary),
            ms(stable),
            if change >= 0.0 { "+" } else { "" },
            percent(change)
        ));
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: the normal approximation of the binomial bound evaluated
    /// by SciPy, `0.99 - norm.ppf(1 - 0.01) * sqrt(0.99 * 0.01 / 1000)` =
    /// 0.98268 (p98.26, rounded down) and `0.99 + … / 9000` = 0.99244
    /// (p99.25, rounded up).
    #[test]
    fn bounds_are_percentiles_rounded_away_from_the_quantile() {
        assert_eq!(bound(0.99, 1000.0, 0.01, true), "p98.26");
        assert_eq!(bound(0.99, 9000.0, 0.01, false), "p99.25");
        assert_eq!(bound(0.999, 100000.0, 0.0001, false), "p99.94");
        // Few durations: never below the least (p0), nor above the most (p100).
        assert_eq!(bound(0.5, 4.0, 0.01, true), "p0");
        assert_eq!(bound(0.999, 100.0, 0.01, false), "p100");
    }
}
