//! Progressive rollout strategies: parsing (`Canary10Percent5Minutes`,
//! `canary:10%:5m`, `linear:10%:1m`, `5%,25%,50%,100%`) and the step schedule
//! they make. Pure code.

use std::time::Duration;

use crate::core::values::{Weight, parse_weight, percent};

/// A strategy as written, before `--step-interval` is applied.
#[derive(Debug, Clone, PartialEq)]
pub enum Strategy {
    /// One canary step, then everything.
    Canary { weight: Weight, interval: Duration },
    /// Add `increment` every `interval` until 100 %.
    Linear { increment: Weight, interval: Duration },
    /// Straight to 100 % (gates still run after it).
    AllAtOnce,
    /// Explicit weights, waiting `--step-interval` after each.
    Steps(Vec<Weight>),
}

/// One step of a rollout: set the weight, then watch the gates for `wait`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub weight: f64,
    pub wait: Duration,
}

/// A schedule in words: `10% (5m) → 100% (0s)`.
pub fn schedule_text(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|s| format!("{} ({})", percent(s.weight), humantime::format_duration(s.wait)))
        .collect::<Vec<_>>()
        .join(" → ")
}

/// The schedule left for a rollout resumed with the canary at `weight` (a
/// run that was killed mid-step): the step the alias is at is watched again
/// for its whole interval before any later step, since the interrupted
/// watch may have been cut short. A weight that is no step of the schedule
/// is watched as long as the next step. `weight` 0 is a fresh start.
pub fn resume_from(steps: &[Step], weight: f64) -> Vec<Step> {
    let later: Vec<Step> = steps
        .iter()
        .copied()
        .filter(|s| s.weight > weight + 1e-9)
        .collect();
    if weight <= 1e-9 {
        return later;
    }
    let wait = steps
        .iter()
        .find(|s| (s.weight - weight).abs() < 1e-9)
        .or(later.first())
        .or(steps.last())
        .map_or(Duration::ZERO, |s| s.wait);
    std::iter::once(Step { weight, wait }).chain(later).collect()
}

const FORMS: &str = "expected a CodeDeploy name (Canary10Percent5Minutes, Linear10PercentEvery1Minute, AllAtOnce, …), canary:10%:5m, linear:10%:1m, or increasing weights such as 5%,25%,50%,100%";

/// CodeDeploy's predefined Lambda configurations.
const CODEDEPLOY: [(&str, u64, u64, bool); 9] = [
    ("Canary10Percent5Minutes", 10, 5, false),
    ("Canary10Percent10Minutes", 10, 10, false),
    ("Canary10Percent15Minutes", 10, 15, false),
    ("Canary10Percent30Minutes", 10, 30, false),
    ("Linear10PercentEvery1Minute", 10, 1, true),
    ("Linear10PercentEvery2Minutes", 10, 2, true),
    ("Linear10PercentEvery3Minutes", 10, 3, true),
    ("Linear10PercentEvery10Minutes", 10, 10, true),
    ("AllAtOnce", 100, 0, false),
];

/// Parse `--strategy`.
pub fn parse_strategy(input: &str) -> Result<Strategy, String> {
    let text = input.trim();
    let name = text.strip_prefix("CodeDeployDefault.Lambda").unwrap_or(text);
    if let Some(&(_, percent, minutes, linear)) = CODEDEPLOY.iter().find(|(n, ..)| *n == name) {
        let weight = Weight::new(percent as f64 / 100.0).expect("a predefined weight");
        let interval = Duration::from_secs(minutes * 60);
        return Ok(match (percent, linear) {
            (100, _) => Strategy::AllAtOnce,
            (_, true) => Strategy::Linear {
                increment: weight,
                interval,
            },
            (_, false) => Strategy::Canary { weight, interval },
        });
    }
    let bad = |why: String| format!("'{input}' is not a strategy ({why}): {FORMS}");
    let parts: Vec<&str> = text.split(':').collect();
    match parts.as_slice() {
        [kind @ ("canary" | "linear"), weight, interval] => {
            let weight = parse_weight(weight).map_err(bad)?;
            let interval = parse_interval(interval).map_err(bad)?;
            if weight.fraction() <= 0.0 || weight.is_full() {
                return Err(bad(format!("the {kind} weight must be above 0% and below 100%")));
            }
            Ok(if *kind == "canary" {
                Strategy::Canary { weight, interval }
            } else {
                Strategy::Linear {
                    increment: weight,
                    interval,
                }
            })
        }
        [list] if list.contains(',') || list.ends_with('%') || list.parse::<f64>().is_ok() => {
            let weights = list
                .split(',')
                .map(parse_weight)
                .collect::<Result<Vec<_>, _>>()
                .map_err(bad)?;
            check_increasing(&weights).map_err(bad)?;
            Ok(Strategy::Steps(weights))
        }
        _ => Err(bad("unknown form".to_string())),
    }
}

fn check_increasing(weights: &[Weight]) -> Result<(), String> {
    if weights.is_empty() {
        return Err("no steps".to_string());
    }
    if weights[0].fraction() <= 0.0 {
        return Err("the first step must be above 0%".to_string());
    }
    match weights
        .windows(2)
        .find(|pair| pair[1].fraction() <= pair[0].fraction())
    {
        Some(pair) => Err(format!(
            "steps must increase, but {} follows {}",
            pair[1], pair[0]
        )),
        None => Ok(()),
    }
}

/// Parse a duration such as `90s`, `5m` or `1h`; zero is refused.
pub fn parse_interval(input: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(input.trim()).map_err(|e| {
        format!("'{input}' is not a duration ({e}): expected a positive duration such as 90s, 5m or 1h")
    })?;
    if duration.is_zero() {
        return Err(format!(
            "'{input}' is zero: expected a positive duration such as 90s, 5m or 1h"
        ));
    }
    Ok(duration)
}

impl Strategy {
    /// The steps to run. `step_interval` is required by explicit steps and
    /// refused by the forms that carry their own interval.
    pub fn schedule(&self, step_interval: Option<Duration>) -> Result<Vec<Step>, String> {
        let full = |wait| Step { weight: 1.0, wait };
        match (self, step_interval) {
            (Strategy::Steps(weights), Some(interval)) => Ok(weights
                .iter()
                .map(|w| Step {
                    weight: w.fraction(),
                    wait: if w.is_full() { Duration::ZERO } else { interval },
                })
                .collect()),
            (Strategy::Steps(_), None) => Err(
                "--step-interval is required with explicit steps (such as --step-interval 2m)".to_string(),
            ),
            (_, Some(_)) => Err(
                "--step-interval applies to explicit steps only: this strategy carries its own interval"
                    .to_string(),
            ),
            (Strategy::AllAtOnce, None) => Ok(vec![full(Duration::ZERO)]),
            (Strategy::Canary { weight, interval }, None) => Ok(vec![
                Step {
                    weight: weight.fraction(),
                    wait: *interval,
                },
                full(Duration::ZERO),
            ]),
            (Strategy::Linear { increment, interval }, None) => {
                // Integer steps of a millionth keep 10 % × 9 from drifting past 90 %.
                let unit = (increment.fraction() * 1e6).round() as u64;
                let mut steps: Vec<Step> = (1..)
                    .map(|k| k * unit)
                    .take_while(|share| *share < 1_000_000)
                    .map(|share| Step {
                        weight: share as f64 / 1e6,
                        wait: *interval,
                    })
                    .collect();
                steps.push(full(Duration::ZERO));
                Ok(steps)
            }
        }
    }
}

impl Strategy {
    /// CodeDeploy's predefined configuration for this strategy, if it has one.
    pub fn codedeploy_config(&self) -> Option<String> {
        let (percent, minutes, linear) = match self {
            Strategy::AllAtOnce => return Some("CodeDeployDefault.LambdaAllAtOnce".to_string()),
            Strategy::Canary { weight, interval } => (weight.fraction(), interval.as_secs(), false),
            Strategy::Linear { increment, interval } => (increment.fraction(), interval.as_secs(), true),
            Strategy::Steps(_) => return None,
        };
        CODEDEPLOY
            .iter()
            .find(|(_, p, m, l)| {
                (*p as f64 / 100.0 - percent).abs() < 1e-9 && m * 60 == minutes && *l == linear
            })
            .map(|(name, ..)| format!("CodeDeployDefault.Lambda{name}"))
    }
}

/// How long a schedule takes if every gate passes.
pub fn total_wait(steps: &[Step]) -> Duration {
    steps.iter().map(|s| s.wait).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weights(steps: &[Step]) -> Vec<f64> {
        steps.iter().map(|s| s.weight).collect()
    }

    #[test]
    fn all_nine_codedeploy_names_with_or_without_prefix() {
        for (name, ..) in CODEDEPLOY {
            let bare = parse_strategy(name).unwrap();
            assert_eq!(
                parse_strategy(&format!("CodeDeployDefault.Lambda{name}")).unwrap(),
                bare
            );
            assert!(bare.schedule(None).is_ok(), "{name}");
        }
        let canary = parse_strategy("Canary10Percent30Minutes")
            .unwrap()
            .schedule(None)
            .unwrap();
        assert_eq!(
            canary,
            [
                Step {
                    weight: 0.1,
                    wait: Duration::from_secs(1800)
                },
                Step {
                    weight: 1.0,
                    wait: Duration::ZERO
                }
            ]
        );
        let linear = parse_strategy("CodeDeployDefault.LambdaLinear10PercentEvery3Minutes")
            .unwrap()
            .schedule(None)
            .unwrap();
        assert_eq!(
            weights(&linear),
            [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
        );
        assert_eq!(total_wait(&linear), Duration::from_secs(9 * 180));
        assert_eq!(
            weights(&parse_strategy("AllAtOnce").unwrap().schedule(None).unwrap()),
            [1.0]
        );
    }

    #[test]
    fn short_forms() {
        let canary = parse_strategy("canary:5%:90s").unwrap().schedule(None).unwrap();
        assert_eq!(
            canary[0],
            Step {
                weight: 0.05,
                wait: Duration::from_secs(90)
            }
        );
        let linear = parse_strategy("linear:25%:1m").unwrap().schedule(None).unwrap();
        assert_eq!(weights(&linear), [0.25, 0.5, 0.75, 1.0]);
        assert_eq!(total_wait(&linear), Duration::from_secs(180));
        let thirds = parse_strategy("linear:30%:1h").unwrap().schedule(None).unwrap();
        assert_eq!(weights(&thirds), [0.3, 0.6, 0.9, 1.0]);
    }

    #[test]
    fn explicit_steps_take_the_step_interval() {
        let steps = parse_strategy("5%,25%,50%,100%")
            .unwrap()
            .schedule(Some(Duration::from_secs(120)))
            .unwrap();
        assert_eq!(weights(&steps), [0.05, 0.25, 0.5, 1.0]);
        assert_eq!(total_wait(&steps), Duration::from_secs(360), "no wait after 100%");
        let partial = parse_strategy("0.1,0.5")
            .unwrap()
            .schedule(Some(Duration::from_secs(60)))
            .unwrap();
        assert_eq!(
            total_wait(&partial),
            Duration::from_secs(120),
            "a rollout that stops short still watches its last step"
        );
        let err = parse_strategy("5%,50%").unwrap().schedule(None).unwrap_err();
        assert!(err.contains("--step-interval is required"), "{err}");
        let err = parse_strategy("canary:10%:5m")
            .unwrap()
            .schedule(Some(Duration::from_secs(1)))
            .unwrap_err();
        assert!(err.contains("explicit steps only"), "{err}");
    }

    #[test]
    fn bad_strategies_name_the_problem() {
        let cases = [
            ("50%,25%,100%", "steps must increase, but 25% follows 50%"),
            ("10%,10%", "steps must increase"),
            ("10%,150%", "'150%' is not a weight"),
            ("0%,50%", "first step must be above 0%"),
            ("canary:10%:0s", "is zero"),
            ("canary:10%:-5m", "is not a duration"),
            ("canary:100%:5m", "below 100%"),
            ("linear:0%:1m", "above 0%"),
            ("Canary10Percent7Minutes", "unknown form"),
            ("blue-green", "unknown form"),
        ];
        for (input, expected) in cases {
            let err = parse_strategy(input).unwrap_err();
            assert!(err.contains(expected), "{input}: {err}");
            assert!(
                err.contains(&format!("'{input}' is not a strategy")),
                "{input}: {err}"
            );
        }
    }

    #[test]
    fn codedeploy_configurations() {
        let name = |s: &str| parse_strategy(s).unwrap().codedeploy_config();
        for (strategy, config) in [
            ("Canary10Percent5Minutes", "LambdaCanary10Percent5Minutes"),
            ("canary:10%:15m", "LambdaCanary10Percent15Minutes"),
            ("linear:10%:10m", "LambdaLinear10PercentEvery10Minutes"),
            ("AllAtOnce", "LambdaAllAtOnce"),
        ] {
            assert_eq!(
                name(strategy),
                Some(format!("CodeDeployDefault.{config}")),
                "{strategy}"
            );
        }
        assert_eq!(name("canary:7%:5m"), None);
        assert_eq!(name("10%,100%"), None);
    }

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_interval("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_interval("1h").unwrap(), Duration::from_secs(3600));
        assert!(parse_interval("0m").unwrap_err().contains("zero"));
        assert!(parse_interval("soon").is_err());
    }

    #[test]
    fn a_resumed_rollout_watches_the_step_it_is_at_again_in_full() {
        let min = Duration::from_secs(60);
        let steps = [
            Step {
                weight: 0.1,
                wait: min,
            },
            Step {
                weight: 0.5,
                wait: 2 * min,
            },
            Step {
                weight: 1.0,
                wait: Duration::ZERO,
            },
        ];
        assert_eq!(resume_from(&steps, 0.0), steps);
        assert_eq!(resume_from(&steps, 0.5), steps[1..]);
        assert_eq!(
            resume_from(&steps, 0.3),
            [
                Step {
                    weight: 0.3,
                    wait: 2 * min
                },
                steps[1],
                steps[2]
            ]
        );
    }
}
