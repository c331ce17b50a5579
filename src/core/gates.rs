//! The health verdict of the built-in metric comparison: the canary's error
//! and throttle rates against thresholds and against the stable version over
//! the same window. Pure code.

use std::time::Duration;

use crate::core::values::percent;

pub use crate::core::judge::Counts;

/// What to do when the canary has too few invocations to judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnNoData {
    Pass,
    Fail,
    /// Keep watching (up to a bound) until there is enough data.
    Extend,
}

impl OnNoData {
    /// The names the flag accepts, in the order help lists them.
    pub const NAMES: [&str; 3] = ["pass", "fail", "extend"];

    /// `pass`, `fail` or `extend` (already checked against [`OnNoData::NAMES`]).
    pub fn from_name(name: &str) -> OnNoData {
        match name {
            "pass" => OnNoData::Pass,
            "fail" => OnNoData::Fail,
            _ => OnNoData::Extend,
        }
    }
}

/// The gates a deploy asked for, checked before any request.
#[derive(Debug, Clone, Default)]
pub struct GateConfig {
    pub alarms: Vec<String>,
    pub ignore_alarms_already_firing: bool,
    pub thresholds: Option<Thresholds>,
    pub pre_traffic_hook: Option<String>,
    pub post_traffic_hook: Option<String>,
    pub hook_timeout: Duration,
    pub smoke_payload: Option<Vec<u8>>,
    /// `--confidence` (the statistical judge) and the latency limits:
    /// `judged_steps` is filled in from the rollout's schedule.
    pub judge: Option<crate::core::judge::Design>,
}

impl GateConfig {
    /// Whether any gate was asked for.
    pub fn any(&self) -> bool {
        !self.alarms.is_empty()
            || self.thresholds.is_some()
            || self.pre_traffic_hook.is_some()
            || self.post_traffic_hook.is_some()
            || self.smoke_payload.is_some()
            || self.judge.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Absolute ceiling on the canary's error rate.
    pub max_error_rate: Option<f64>,
    /// Ceiling on how much the canary's error (and throttle) rate may exceed the stable's.
    pub max_error_rate_increase: Option<f64>,
    pub min_invocations: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Healthy(String),
    Unhealthy(String),
    NoData(String),
}

fn rate(count: f64, total: f64, value: f64) -> String {
    format!("{} ({count}/{total})", percent(value))
}

/// Judge the canary against the thresholds and the stable version.
pub fn judge(canary: Counts, stable: Counts, thresholds: &Thresholds) -> Verdict {
    if canary.invocations < thresholds.min_invocations {
        return Verdict::NoData(format!(
            "no data: the canary had {} invocations, fewer than --min-invocations {}",
            canary.invocations, thresholds.min_invocations
        ));
    }
    let canary_errors = rate(canary.errors, canary.invocations, canary.error_rate());
    let stable_errors = rate(stable.errors, stable.invocations, stable.error_rate());
    if let Some(max) = thresholds.max_error_rate
        && canary.error_rate() > max
    {
        return Verdict::Unhealthy(format!(
            "canary error rate {canary_errors} exceeds --max-error-rate {}",
            percent(max)
        ));
    }
    if let Some(increase) = thresholds.max_error_rate_increase {
        if canary.error_rate() > stable.error_rate() + increase {
            return Verdict::Unhealthy(format!(
                "canary error rate {canary_errors} exceeds the stable version's {stable_errors} by more than --max-error-rate-increase {}",
                percent(increase)
            ));
        }
        if canary.throttle_rate() > stable.throttle_rate() + increase {
            return Verdict::Unhealthy(format!(
                "canary throttle rate {} exceeds the stable version's {} by more than {}",
                rate(
                    canary.throttles,
                    canary.invocations + canary.throttles,
                    canary.throttle_rate()
                ),
                rate(
                    stable.throttles,
                    stable.invocations + stable.throttles,
                    stable.throttle_rate()
                ),
                percent(increase)
            ));
        }
    }
    Verdict::Healthy(format!(
        "canary error rate {canary_errors}, stable {stable_errors}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(invocations: f64, errors: f64, throttles: f64) -> Counts {
        Counts {
            invocations,
            errors,
            throttles,
        }
    }

    fn thresholds(max: Option<f64>, increase: Option<f64>) -> Thresholds {
        Thresholds {
            max_error_rate: max,
            max_error_rate_increase: increase,
            min_invocations: 10.0,
        }
    }

    #[test]
    fn too_few_invocations_is_no_data_said_explicitly() {
        let verdict = judge(
            counts(9.0, 9.0, 0.0),
            counts(100.0, 0.0, 0.0),
            &thresholds(Some(0.01), None),
        );
        assert_eq!(
            verdict,
            Verdict::NoData("no data: the canary had 9 invocations, fewer than --min-invocations 10".into())
        );
    }

    #[test]
    fn absolute_error_rate_ceiling() {
        let t = thresholds(Some(0.05), None);
        assert!(matches!(
            judge(counts(100.0, 5.0, 0.0), Counts::default(), &t),
            Verdict::Healthy(_)
        ));
        let Verdict::Unhealthy(why) = judge(counts(100.0, 6.0, 0.0), Counts::default(), &t) else {
            panic!()
        };
        assert_eq!(why, "canary error rate 6% (6/100) exceeds --max-error-rate 5%");
    }

    #[test]
    fn relative_to_the_stable_version() {
        let t = thresholds(None, Some(0.02));
        // Both versions fail at 10 %: the canary is not worse, so it passes.
        assert!(matches!(
            judge(counts(100.0, 11.0, 0.0), counts(1000.0, 100.0, 0.0), &t),
            Verdict::Healthy(_)
        ));
        let Verdict::Unhealthy(why) = judge(counts(100.0, 13.0, 0.0), counts(1000.0, 100.0, 0.0), &t) else {
            panic!()
        };
        assert!(
            why.contains("exceeds the stable version's 10% (100/1000)"),
            "{why}"
        );
    }

    #[test]
    fn throttles_compared_with_the_stable_version() {
        let t = thresholds(None, Some(0.05));
        let Verdict::Unhealthy(why) = judge(counts(80.0, 0.0, 20.0), counts(1000.0, 0.0, 0.0), &t) else {
            panic!()
        };
        assert!(why.starts_with("canary throttle rate 20% (20/100)"), "{why}");
    }
}
