//! A fleet: targets across accounts and regions. A target is (account,
//! region, function, alias); its [`Place`] — the region, and the role that
//! names the account — decides which credentials and which quota bucket its
//! calls use. Lambda's quotas are per account and region, so each place is
//! paced on its own and N places run N times as fast as one.

use std::fmt;

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

/// Where a target's calls go: its region (`None`: the run's) and the role
/// that names its account (`None`: the run's own credentials).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Place {
    pub region: Option<String>,
    pub role: Option<Role>,
}

impl Place {
    /// The account, when a role names it.
    pub fn account(&self) -> Option<&str> {
        self.role.as_ref().map(Role::account)
    }
}

impl fmt::Display for Place {
    /// `ACCOUNT/REGION`, with `default` for what the run's own settings give.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            self.account().unwrap_or("default"),
            self.region.as_deref().unwrap_or("default")
        )
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn the_session_name_names_the_run() {
        assert_eq!(session_name(Some("123"), Some("2"), 9), "lambda-rollout-123-2");
        assert_eq!(session_name(None, None, 1764633600), "lambda-rollout-1764633600");
        assert!(session_name(Some(&"9".repeat(100)), None, 0).len() <= 64);
    }
}
