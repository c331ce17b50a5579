//! A fleet: targets across accounts and regions. A target is (account,
//! region, function, alias); its [`Place`] — the region, and the role that
//! names the account — decides which credentials and which quota bucket its
//! calls use. Lambda's quotas are per account and region, so each place is
//! paced on its own and N places run N times as fast as one.

use std::fmt;

use std::collections::HashMap;

use crate::core::plan::Outcome;
use crate::core::values::{account_of_arn, function_name_of};

/// A role to assume for a target's account (`role-arn`, `external-id`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Role {
    pub arn: String,
    pub external_id: Option<String>,
}

impl Role {
    /// The account the role belongs to (`arn:aws:iam::ACCOUNT:role/NAME`).
    pub fn account(&self) -> &str {
        self.arn.split(':').nth(4).unwrap_or_default()
    }
}

/// `role-arn`: `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`.
pub fn parse_role_arn(input: &str) -> Result<String, String> {
    let form = "expected arn:aws:iam::ACCOUNT:role/NAME (a 12-digit account)";
    let parts: Vec<&str> = input.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "iam", "", account, resource]
            if partition.starts_with("aws")
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource
                    .strip_prefix("role/")
                    .is_some_and(|name| !name.is_empty()) =>
        {
            Ok(input.to_string())
        }
        _ => Err(format!("'{input}' is not an IAM role ARN: {form}")),
    }
}

/// Where a target's calls go: its region (`None`: the run's), the role
/// that names its account (`None`: the run's own credentials), and, where
/// the platform has one, the scope within the region (SCF's namespace;
/// `None`: the run's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Place {
    pub region: Option<String>,
    pub role: Option<Role>,
    pub namespace: Option<String>,
}

impl Place {
    /// The account, when a role names it.
    pub fn account(&self) -> Option<&str> {
        self.role.as_ref().map(Role::account)
    }
}

impl fmt::Display for Place {
    /// `ACCOUNT/REGION` (`NAMESPACE/REGION` on SCF), with `default` for
    /// what the run's own settings give.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            self.namespace.as_deref().or(self.account()).unwrap_or("default"),
            self.region.as_deref().unwrap_or("default")
        )
    }
}

/// Where a target's calls land once its place is connected: the account its
/// credentials act in and the region. It is Lambda's quota bucket, and with
/// the function and alias it is what makes two targets one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountRegion {
    pub account: String,
    pub region: String,
}

impl fmt::Display for AccountRegion {
    /// `ACCOUNT/REGION`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.account, self.region)
    }
}

/// One target as preflight resolved it: how the manifest spelled it (its
/// function as written, its place) and where it lands.
#[derive(Debug, Clone)]
pub struct Resolved<'a> {
    pub function: &'a str,
    pub alias: &'a str,
    pub spelled: &'a Place,
    pub lands: &'a AccountRegion,
}

/// What preflight refuses of the resolved targets (exit 2, before any
/// write): two spellings of one function:alias in one account-region (an
/// entry without `region` and one naming the run's region, the run's
/// credentials and a role of the same account, two roles of one account, a
/// name and an ARN), each pair named; and a function ARN of another account
/// than the one the target's credentials act in. Linear in the targets.
pub fn refused_targets(targets: &[Resolved<'_>]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut first: HashMap<(&str, &str, &AccountRegion), usize> = HashMap::new();
    for (index, target) in targets.iter().enumerate() {
        let name = function_name_of(target.function);
        if let Some(account) = account_of_arn(target.function)
            && account != target.lands.account
        {
            problems.push(format!(
                "{} is in account {account}, but its credentials act in account {} ({}): give the role of account {account} (role-arn), or the function's name",
                target.function,
                target.lands.account,
                target.spelled
            ));
            continue;
        }
        match first.get(&(name, target.alias, target.lands)) {
            Some(earlier) => {
                let earlier = &targets[*earlier];
                problems.push(format!(
                    "{name}:{} in {} is listed twice: as {}:{} in {} and as {}:{} in {}: a target is one function:alias in one account-region",
                    target.alias,
                    target.lands,
                    earlier.function,
                    earlier.alias,
                    spelling(earlier.spelled),
                    target.function,
                    target.alias,
                    spelling(target.spelled)
                ));
            }
            None => {
                first.insert((name, target.alias, target.lands), index);
            }
        }
    }
    problems
}

/// How an entry spelled its place, for a refusal: `region us-east-1, role
/// ARN`, or "the run's region and credentials".
fn spelling(place: &Place) -> String {
    let region = place
        .region
        .as_deref()
        .map_or("the run's region".to_string(), |r| format!("region {r}"));
    let role = place
        .role
        .as_ref()
        .map_or("the run's credentials".to_string(), |r| format!("role {}", r.arn));
    format!("{region} with {role}")
}

/// How a target is named in reports: `function:alias`, or
/// `ACCOUNT/REGION/function:alias` when the run spans several places.
pub fn target_name(place: &Place, function: &str, alias: &str, several_places: bool) -> String {
    if several_places {
        format!("{place}/{function}:{alias}")
    } else {
        format!("{function}:{alias}")
    }
}

/// The session name a role is assumed with, so CloudTrail shows which run
/// did what: `lambda-rollout-<run id>-<attempt>` in GitHub Actions, else
/// `lambda-rollout-<unix seconds>`. At most 64 characters of `[\w+=,.@-]`.
pub fn session_name(run_id: Option<&str>, attempt: Option<&str>, unix_seconds: u64) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c))
            .collect()
    };
    let name = match run_id.map(clean).filter(|id| !id.is_empty()) {
        Some(id) => format!(
            "lambda-rollout-{id}-{}",
            attempt
                .map(clean)
                .filter(|a| !a.is_empty())
                .unwrap_or_else(|| "1".into())
        ),
        None => format!("lambda-rollout-{unix_seconds}"),
    };
    name.chars().take(64).collect()
}

/// What a fleet command means to do to every target's alias. It decides how
/// the waves run and which endings are successes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// `deploy`: wave after wave, each gated by its tolerance and alarms and
    /// baked before the next.
    Release,
    /// `promote`: the operator's decision, so no bake and no wave gate:
    /// every target at once, within its account-region's pace.
    Promote,
    /// `rollback`: the emergency path, the same as `promote`: no bake, no
    /// wave gate, no alarm read.
    Rollback,
    /// `status`, `prune`: reads, or deletes nothing routed.
    Read,
}

impl Intent {
    /// Whether the targets run wave by wave, gated and baked.
    pub fn in_waves(self) -> bool {
        self == Intent::Release
    }
}

/// How one target of a fleet run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Its alias ends where the run meant it to.
    Succeeded,
    /// It did not: an error, a rollout rolled back or stopped, a signal.
    Failed,
    /// The run never got to it (an earlier wave failed, --fail-fast, a signal).
    NotStarted,
}

/// The one rule for a target that ran: it succeeded only when its alias ends
/// where the run meant it to. A rollout rolled back by its gates, by a failed
/// wave or by a signal, one stopped by someone else's change, and any error
/// after its alias was written (`later_error`: tags, URL, prune) fail it;
/// a rollback succeeds by rolling back.
pub fn ending(intent: Intent, outcome: Outcome, later_error: bool) -> Ending {
    if later_error {
        return Ending::Failed;
    }
    match outcome {
        Outcome::Stopped | Outcome::Cancelled => Ending::Failed,
        Outcome::RolledBack if intent != Intent::Rollback => Ending::Failed,
        _ => Ending::Succeeded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_succeeds_only_where_the_run_meant_its_alias_to_end() {
        for outcome in [
            Outcome::Published,
            Outcome::Reused,
            Outcome::Reweighted,
            Outcome::Promoted,
            Outcome::Skipped,
            Outcome::CanaryDropped,
            Outcome::Created,
            Outcome::HandedOff,
        ] {
            assert_eq!(
                ending(Intent::Release, outcome, false),
                Ending::Succeeded,
                "{outcome:?}"
            );
            assert_eq!(
                ending(Intent::Release, outcome, true),
                Ending::Failed,
                "{outcome:?}"
            );
        }
        for outcome in [Outcome::RolledBack, Outcome::Stopped, Outcome::Cancelled] {
            assert_eq!(
                ending(Intent::Release, outcome, false),
                Ending::Failed,
                "{outcome:?}"
            );
            assert_eq!(
                ending(Intent::Promote, outcome, false),
                Ending::Failed,
                "{outcome:?}"
            );
        }
        assert_eq!(
            ending(Intent::Rollback, Outcome::RolledBack, false),
            Ending::Succeeded
        );
        assert_eq!(
            ending(Intent::Rollback, Outcome::Skipped, false),
            Ending::Succeeded
        );
        assert_eq!(ending(Intent::Rollback, Outcome::Stopped, false), Ending::Failed);
        assert!(Intent::Release.in_waves());
        assert!(!Intent::Rollback.in_waves() && !Intent::Promote.in_waves());
    }

    #[test]
    fn a_role_arn_names_its_account() {
        let arn = parse_role_arn("arn:aws:iam::111111111111:role/deployer").unwrap();
        let role = Role {
            arn,
            external_id: None,
        };
        assert_eq!(role.account(), "111111111111");
        for bad in [
            "arn:aws:iam::1111:role/deployer",
            "arn:aws:iam::111111111111:user/deployer",
            "arn:aws:iam::111111111111:role/",
            "deployer",
        ] {
            assert!(parse_role_arn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn targets_are_named_by_place_only_when_the_run_has_several() {
        let place = Place {
            region: Some("eu-west-1".into()),
            role: Some(Role {
                arn: "arn:aws:iam::111111111111:role/deployer".into(),
                external_id: None,
            }),
            namespace: None,
        };
        assert_eq!(
            target_name(&place, "orders", "live", true),
            "111111111111/eu-west-1/orders:live"
        );
        assert_eq!(target_name(&place, "orders", "live", false), "orders:live");
        assert_eq!(
            target_name(&Place::default(), "orders", "live", true),
            "default/default/orders:live"
        );
    }

    #[test]
    fn one_function_alias_in_one_account_region_is_one_target_however_spelled() {
        let east = AccountRegion {
            account: "123456789012".into(),
            region: "us-east-1".into(),
        };
        let other = AccountRegion {
            account: "111111111111".into(),
            region: "us-east-1".into(),
        };
        let no_region = Place::default();
        let named_region = Place {
            region: Some("us-east-1".into()),
            ..Place::default()
        };
        let target = |function, spelled, lands| Resolved {
            function,
            alias: "live",
            spelled,
            lands,
        };
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:orders";
        let problems = refused_targets(&[
            target("orders", &no_region, &east),
            target("orders", &named_region, &east),
            target(arn, &named_region, &east),
            target("orders", &no_region, &other),
        ]);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("orders:live in 123456789012/us-east-1 is listed twice: as orders:live in the run's region with the run's credentials and as orders:live in region us-east-1 with the run's credentials"),
            "{problems:?}"
        );
        assert!(
            problems[1].contains(&format!("as {arn}:live in region us-east-1")),
            "{problems:?}"
        );
        let foreign = refused_targets(&[target(arn, &no_region, &other)]);
        assert!(
            foreign[0]
                .contains("is in account 123456789012, but its credentials act in account 111111111111"),
            "{foreign:?}"
        );
        // Linear: 60,000 targets are checked at once.
        let many: Vec<String> = (0..60_000).map(|n| format!("f{n}")).collect();
        let all: Vec<Resolved> = many.iter().map(|f| target(f, &no_region, &east)).collect();
        assert!(refused_targets(&all).is_empty());
    }

    #[test]
    fn the_session_name_names_the_run() {
        assert_eq!(session_name(Some("123"), Some("2"), 9), "lambda-rollout-123-2");
        assert_eq!(session_name(None, None, 1764633600), "lambda-rollout-1764633600");
        assert!(session_name(Some(&"9".repeat(100)), None, 0).len() <= 64);
    }
}
