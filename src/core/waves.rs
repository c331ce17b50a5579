//! Waves: a fleet's targets in ordered groups. Which wave takes which
//! target, and whether a wave failed beyond its tolerance, are decided here;
//! the runner runs each wave's targets together and bakes between waves.

use std::time::Duration;

use globset::{Glob, GlobMatcher};

/// How many of a wave's targets may fail before later waves are not started.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tolerance {
    Count(usize),
    /// A share of the wave's targets, 0–1.
    Share(f64),
}

impl Tolerance {
    /// Whether `failed` of `total` targets is within the tolerance.
    pub fn allows(self, failed: usize, total: usize) -> bool {
        match self {
            Tolerance::Count(count) => failed <= count,
            Tolerance::Share(share) => (failed as f64) <= share * total as f64 + 1e-9,
        }
    }
}

/// `failure-tolerance`: a count (`2`) or a percentage of the wave (`10%`).
pub fn parse_tolerance(input: &str) -> Result<Tolerance, String> {
    let form =
        "expected a count of targets (such as 2) or a percentage of the wave from 0% to 100% (such as 10%)";
    let text = input.trim();
    match text.strip_suffix('%') {
        Some(number) => match number.trim().parse::<f64>() {
            Ok(p) if (0.0..=100.0).contains(&p) => Ok(Tolerance::Share(p / 100.0)),
            _ => Err(format!("'{input}' is not a failure tolerance: {form}")),
        },
        None => text
            .parse::<usize>()
            .map(Tolerance::Count)
            .map_err(|_| format!("'{input}' is not a failure tolerance: {form}")),
    }
}

/// One wave as the manifest gives it, checked.
#[derive(Debug, Clone)]
pub struct Wave {
    pub name: String,
    /// Globs over the targets' regions, accounts and function names; a wave
    /// with none takes every target no earlier wave took.
    pub regions: Vec<String>,
    pub accounts: Vec<String>,
    pub functions: Vec<String>,
    /// After the wave succeeded: how long to wait before the next one.
    pub bake: Duration,
    pub tolerance: Tolerance,
    /// Alarms that, in ALARM while the wave bakes, fail it.
    pub alarms: Vec<String>,
}

impl Wave {
    fn selects_anything(&self) -> bool {
        !(self.regions.is_empty() && self.accounts.is_empty() && self.functions.is_empty())
    }
}

/// What a wave's selectors look at for one target.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetKey {
    pub region: String,
    pub account: String,
    pub function: String,
    /// Reached with the run's own credentials (no role): an `accounts`
    /// selector `default` takes it too, whatever its account id.
    pub own_credentials: bool,
}

fn matchers(globs: &[String], what: &str, wave: &str) -> Result<Vec<GlobMatcher>, String> {
    globs
        .iter()
        .map(|g| {
            Glob::new(g)
                .map(|glob| glob.compile_matcher())
                .map_err(|e| format!("wave {wave}: {what} '{g}' is not a glob: {e}"))
        })
        .collect()
}

/// The wave (index into `waves`) of each target. Every wave must take at
/// least one target, no target may match the selectors of two waves, and
/// every target must be taken.
pub fn assign(waves: &[Wave], targets: &[TargetKey]) -> Result<Vec<usize>, String> {
    let compiled: Vec<[Vec<GlobMatcher>; 3]> = waves
        .iter()
        .map(|w| {
            Ok([
                matchers(&w.regions, "region", &w.name)?,
                matchers(&w.accounts, "account", &w.name)?,
                matchers(&w.functions, "function", &w.name)?,
            ])
        })
        .collect::<Result<_, String>>()?;
    let selects = |index: usize, target: &TargetKey| {
        let [regions, accounts, functions] = &compiled[index];
        let any =
            |set: &Vec<GlobMatcher>, value: &str| set.is_empty() || set.iter().any(|m| m.is_match(value));
        let own = target.own_credentials && accounts.iter().any(|m| m.is_match("default"));
        waves[index].selects_anything()
            && any(regions, &target.region)
            && (own || any(accounts, &target.account))
            && any(functions, &target.function)
    };
    let mut assigned = Vec::with_capacity(targets.len());
    for target in targets {
        let matched: Vec<usize> = (0..waves.len()).filter(|i| selects(*i, target)).collect();
        let wave = match matched.as_slice() {
            [one] => *one,
            [first, second, ..] => {
                return Err(format!(
                    "waves {} and {} both select {}/{}/{}: a target belongs to one wave",
                    waves[*first].name, waves[*second].name, target.account, target.region, target.function
                ));
            }
            [] => match waves.iter().position(|w| !w.selects_anything()) {
                Some(catch_all) => catch_all,
                None => {
                    return Err(format!(
                        "no wave takes {}/{}/{}: add a wave without selectors to take every target the others leave",
                        target.account, target.region, target.function
                    ));
                }
            },
        };
        assigned.push(wave);
    }
    if let Some(empty) = (0..waves.len()).find(|i| !assigned.contains(i)) {
        return Err(format!("wave {} takes no target", waves[empty].name));
    }
    Ok(assigned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wave(name: &str, regions: &[&str]) -> Wave {
        Wave {
            name: name.into(),
            regions: regions.iter().map(|r| r.to_string()).collect(),
            accounts: Vec::new(),
            functions: Vec::new(),
            bake: Duration::ZERO,
            tolerance: Tolerance::Count(0),
            alarms: Vec::new(),
        }
    }

    fn target(region: &str, function: &str) -> TargetKey {
        TargetKey {
            region: region.into(),
            account: "default".into(),
            function: function.into(),
            own_credentials: true,
        }
    }

    #[test]
    fn the_first_wave_takes_its_region_and_the_last_takes_the_rest() {
        let waves = [wave("canary", &["us-east-1"]), wave("rest", &[])];
        let targets = [
            target("eu-west-1", "orders"),
            target("us-east-1", "orders"),
            target("ap-southeast-2", "users"),
        ];
        assert_eq!(assign(&waves, &targets).unwrap(), [1, 0, 1]);
    }

    #[test]
    fn overlapping_empty_or_missing_waves_are_refused() {
        let overlap = [wave("a", &["us-*"]), wave("b", &["us-east-1"])];
        let err = assign(&overlap, &[target("us-east-1", "f")]).unwrap_err();
        assert!(err.contains("waves a and b both select"), "{err}");
        let none = [wave("a", &["us-east-1"])];
        let err = assign(&none, &[target("eu-west-1", "f")]).unwrap_err();
        assert!(err.contains("no wave takes default/eu-west-1/f"), "{err}");
        let empty = [wave("a", &["us-east-1"]), wave("b", &["ap-*"]), wave("rest", &[])];
        let err = assign(&empty, &[target("us-east-1", "f")]).unwrap_err();
        assert!(err.contains("wave b takes no target"), "{err}");
    }

    #[test]
    fn accounts_select_the_resolved_account_and_default_the_runs_own() {
        let by_account = |accounts: &[&str]| Wave {
            accounts: accounts.iter().map(|a| a.to_string()).collect(),
            ..wave("own", &[])
        };
        let own = TargetKey {
            account: "123456789012".into(),
            ..target("us-east-1", "orders")
        };
        let other = TargetKey {
            account: "111111111111".into(),
            own_credentials: false,
            ..target("us-east-1", "orders")
        };
        let waves = [by_account(&["123456789012"]), wave("rest", &[])];
        assert_eq!(assign(&waves, &[own.clone(), other.clone()]).unwrap(), [0, 1]);
        let waves = [by_account(&["default"]), wave("rest", &[])];
        assert_eq!(assign(&waves, &[own, other]).unwrap(), [0, 1]);
    }

    #[test]
    fn a_tolerance_is_a_count_or_a_share_of_the_wave() {
        assert!(parse_tolerance("1").unwrap().allows(1, 10));
        assert!(!parse_tolerance("1").unwrap().allows(2, 10));
        assert!(parse_tolerance("20%").unwrap().allows(2, 10));
        assert!(!parse_tolerance("20%").unwrap().allows(3, 10));
        assert!(!parse_tolerance("0").unwrap().allows(1, 3));
        for bad in ["150%", "-1", "x", "1.5"] {
            assert!(parse_tolerance(bad).is_err(), "{bad}");
        }
    }
}
