//! What a run observed in AWS before deciding anything: the alias, the
//! versions it serves and `$LATEST`; and how routing is written for people.
//! Plain data, filled in by the AWS layer and read by the decisions.

use serde::Serialize;

use crate::core::config::FunctionConfig;
use crate::core::values::{HeaderRule, percent};

/// What the function and alias look like before the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub function_arn: String,
    /// `$LATEST`: the one mutable version, where uploaded code lands first.
    /// `deploy` reads it beside the alias (its code and configuration decide
    /// whether a release can be published without writing); promote,
    /// rollback and status do not.
    pub latest: Option<Latest>,
    pub alias: Option<AliasState>,
    /// The function does not exist (a deploy may create it).
    pub function_missing: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Latest {
    /// The code's identity: a zip's CodeSha256, or an image's digest (hex).
    pub code_sha256: String,
    pub config: FunctionConfig,
    /// `PackageType` is `Image`: the code is a container image.
    pub image: bool,
    pub revision_id: Option<String>,
    /// `LastUpdateStatus` is `InProgress`: wait before changing the code again.
    pub update_in_progress: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AliasState {
    pub arn: String,
    pub revision_id: Option<String>,
    /// The alias description, which carries the rollback [`Record`].
    pub description: String,
    pub primary: VersionState,
    pub canary: Option<Canary>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VersionState {
    pub version: String,
    /// A zip's CodeSha256, or an image's digest (hex).
    pub code_sha256: String,
    /// The configuration this version froze, as Lambda reports it.
    pub config: FunctionConfig,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Canary {
    pub version: VersionState,
    pub weight: f64,
}

/// Where an alias sends traffic: a primary version and maybe a weighted canary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Route<'a> {
    pub primary: &'a str,
    pub canary: Option<(&'a str, f64)>,
}

impl Route<'_> {
    pub fn of(alias: &AliasState) -> Route<'_> {
        Route {
            primary: &alias.primary.version,
            canary: alias
                .canary
                .as_ref()
                .map(|c| (c.version.version.as_str(), c.weight)),
        }
    }

    pub fn serving(self) -> Serving {
        Serving {
            primary: self.primary.to_string(),
            canary: self.canary.map(|(v, w)| (v.to_string(), w)),
        }
    }

    /// "7 (90%) + 8 (10%)", or "7 (100%)".
    pub fn text(self) -> String {
        match self.canary {
            Some((version, weight)) => format!(
                "{} ({}) + {version} ({})",
                self.primary,
                percent(1.0 - weight),
                percent(weight)
            ),
            None => format!("{} (100%)", self.primary),
        }
    }
}

/// What an alias serves, owned: a primary and maybe a canary at a weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Serving {
    pub primary: String,
    pub canary: Option<(String, f64)>,
}

impl Serving {
    pub fn of(alias: &AliasState) -> Serving {
        Route::of(alias).serving()
    }

    pub fn route(&self) -> Route<'_> {
        Route {
            primary: &self.primary,
            canary: self.canary.as_ref().map(|(v, w)| (v.as_str(), *w)),
        }
    }

    /// How `now` differs from this (what a run expects), in words; `None`
    /// when it serves the same versions at the same weights.
    pub fn changed_to(&self, now: &Serving) -> Option<String> {
        let same_weight = |a: f64, b: f64| (a - b).abs() < 1e-9;
        let mut changes = Vec::new();
        if self.primary != now.primary {
            changes.push(format!(
                "the primary went from version {} to {}",
                self.primary, now.primary
            ));
        }
        match (&self.canary, &now.canary) {
            (None, None) => {}
            (Some((v, w)), None) => changes.push(format!("canary version {v} ({}) was removed", percent(*w))),
            (None, Some((v, w))) => changes.push(format!("canary version {v} ({}) was added", percent(*w))),
            (Some((old, _)), Some((new, w))) if old != new => changes.push(format!(
                "canary version {old} was replaced by {new} ({})",
                percent(*w)
            )),
            (Some((v, old)), Some((_, new))) if !same_weight(*old, *new) => changes.push(format!(
                "canary version {v} went from {} to {}",
                percent(*old),
                percent(*new)
            )),
            _ => {}
        }
        (!changes.is_empty()).then(|| changes.join(" and "))
    }
}

/// How an alias sends requests to its canary version.
#[derive(Debug, Clone, PartialEq)]
pub enum Split {
    /// This share of all requests (Lambda's and SCF's routing weights).
    Weight(f64),
    /// The requests whose header matches (an SCF routing rule).
    Header(HeaderRule),
    /// A rule this tool does not write (on SCF: a key outside
    /// `invoke.headers.`, an open range, another method), as the platform
    /// holds it: shown, compared, never written back.
    Foreign(String),
}

impl Split {
    /// The share of all requests it takes: a rule takes none of the others.
    pub fn weight(&self) -> f64 {
        match self {
            Split::Weight(weight) => *weight,
            Split::Header(_) | Split::Foreign(_) => 0.0,
        }
    }

    /// The rule in words (`""` for a weight): `x-canary = tester`, `rule …`.
    pub fn rule_text(&self) -> String {
        match self {
            Split::Weight(_) => String::new(),
            Split::Header(rule) => rule.to_string(),
            Split::Foreign(rule) => format!("rule {rule}"),
        }
    }

    fn same_as(&self, other: &Split) -> bool {
        match (self, other) {
            (Split::Weight(a), Split::Weight(b)) => (a - b).abs() < 1e-9,
            (a, b) => a == b,
        }
    }
}

/// An alias read just before writing it: its routing, the revision that
/// guards a write where the platform has one, and its description.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasNow {
    pub primary: String,
    pub canary: Option<(String, Split)>,
    pub revision_id: Option<String>,
    pub description: String,
}

impl AliasNow {
    pub fn serving(&self) -> Serving {
        self.route().serving()
    }

    /// Its routing by weight (a canary routed by rule at weight 0).
    pub fn route(&self) -> Route<'_> {
        Route {
            primary: &self.primary,
            canary: self
                .canary
                .as_ref()
                .map(|(v, split)| (v.as_str(), split.weight())),
        }
    }

    /// Does the alias serve `route` (and carry `description`, when one was written)?
    pub fn lands_on(&self, route: Route<'_>, description: Option<&str>) -> bool {
        let canary_matches = match (&self.canary, route.canary) {
            (None, None) => true,
            (Some((version, Split::Weight(weight))), Some((wanted, wanted_weight))) => {
                version == wanted && (weight - wanted_weight).abs() < 1e-9
            }
            (Some(_), Some(_)) => false,
            // A weight of 0 on no version is the same as no canary.
            (Some((_, split)), None) => *split == Split::Weight(0.0),
            (None, Some(_)) => false,
        };
        self.primary == route.primary && canary_matches && description.is_none_or(|d| d == self.description)
    }

    /// The same versions, split the same way, with the same description
    /// (the revision aside): what a guard by re-reading compares.
    pub fn same_as(&self, other: &AliasNow) -> bool {
        let canaries = match (&self.canary, &other.canary) {
            (None, None) => true,
            (Some((a, x)), Some((b, y))) => a == b && x.same_as(y),
            _ => false,
        };
        self.primary == other.primary && canaries && self.description == other.description
    }

    /// The alias in words: `version 3`, `version 3, version 4 at 10%`,
    /// `version 3, version 4 for x-canary = tester`.
    pub fn text(&self) -> String {
        let canary = match &self.canary {
            None => String::new(),
            Some((version, Split::Weight(weight))) => format!(", version {version} at {}", percent(*weight)),
            Some((version, Split::Header(rule))) => format!(", version {version} for {rule}"),
            Some((version, Split::Foreign(rule))) => format!(", version {version} for rule {rule}"),
        };
        format!("version {}{canary}", self.primary)
    }

    /// The rule of an alias routed by rule, in words (`""` otherwise).
    pub fn rule_text(&self) -> String {
        self.canary
            .as_ref()
            .map(|(_, split)| split.rule_text())
            .unwrap_or_default()
    }

    /// What `state` held when it was observed.
    pub fn of(state: &AliasState) -> AliasNow {
        AliasNow {
            primary: state.primary.version.clone(),
            canary: state
                .canary
                .as_ref()
                .map(|c| (c.version.version.clone(), Split::Weight(c.weight))),
            revision_id: state.revision_id.clone(),
            description: state.description.clone(),
        }
    }
}

/// What a run did to one alias: the routing and description it found before
/// its first write, and the last ones it sent (recorded before sending, so
/// a write whose answer was lost or interrupted is still known as its own).
#[derive(Debug, Clone, PartialEq)]
pub struct Moved {
    pub found: AliasNow,
    pub sent: AliasNow,
}

impl Moved {
    /// Where the alias stands against this run's writes, from a fresh read.
    pub fn standing(&self, now: &AliasNow) -> Standing {
        let same = |a: &AliasNow, b: &AliasNow| {
            a.lands_on(b.route(), None) && (b.description.is_empty() || a.description == b.description)
        };
        if same(now, &self.found) {
            Standing::AsFound
        } else if now.lands_on(self.sent.route(), None) {
            Standing::AsSent
        } else {
            Standing::ChangedSince
        }
    }
}

/// [`Moved::standing`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// It serves what the run found: nothing of this run's is left.
    AsFound,
    /// It serves what the run last sent.
    AsSent,
    /// Someone else changed it since.
    ChangedSince,
}

/// Provisioned concurrency configured on an alias, as Lambda reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Provisioned {
    pub requested: i32,
    pub allocated: i32,
    /// `READY`, `IN_PROGRESS` or `FAILED`.
    pub status: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// Why a route with a weighted canary cannot be written on an alias that has
/// provisioned concurrency, and how to ship instead.
pub fn weighted_route_refused(function: &str, alias: &str, provisioned: &Provisioned) -> String {
    format!(
        "alias {function}:{alias} has provisioned concurrency ({} requested): Lambda refuses routing weights on such an alias, so it cannot carry a canary or a staged rollout. Ship all at once (--canary-weight 100%, or --strategy AllAtOnce): Lambda keeps the old version serving until the new one's provisioned concurrency is ready, and lambda-rollout waits for it. Or move the provisioned concurrency from the alias to versions.",
        provisioned.requested
    )
}

/// What `status` shows of one version.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct VersionDetails {
    pub version: String,
    pub code_sha256: String,
    pub description: String,
    pub last_modified: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub runtime: String,
    pub memory_size: Option<i32>,
    pub timeout: Option<i32>,
    /// `x86_64` or `arm64`.
    pub architecture: String,
    /// The environment variables' names; never their values.
    pub environment_keys: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub image_uri: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serving(primary: &str, canary: Option<(&str, f64)>) -> Serving {
        Route { primary, canary }.serving()
    }

    fn alias(canary: Option<Split>) -> AliasNow {
        AliasNow {
            primary: "3".into(),
            canary: canary.map(|split| ("4".to_string(), split)),
            revision_id: Some("r1".into()),
            description: "d".into(),
        }
    }

    #[test]
    fn an_alias_in_words_and_compared_by_its_routing() {
        let rule = HeaderRule {
            header: "x-canary".into(),
            matcher: crate::core::values::HeaderMatch::Exact("tester".into()),
        };
        assert_eq!(alias(None).text(), "version 3");
        assert_eq!(
            alias(Some(Split::Weight(0.1))).text(),
            "version 3, version 4 at 10%"
        );
        let ruled = alias(Some(Split::Header(rule.clone())));
        assert_eq!(ruled.text(), format!("version 3, version 4 for {rule}"));
        assert_eq!(ruled.rule_text(), rule.to_string());
        assert_eq!(
            alias(Some(Split::Foreign("k exact v".into()))).rule_text(),
            "rule k exact v"
        );
        assert_eq!(alias(Some(Split::Weight(0.1))).rule_text(), "");
        // The revision aside; weights within rounding; a rule is not a weight.
        let mut other = alias(Some(Split::Weight(0.1 + 1e-12)));
        other.revision_id = None;
        assert!(alias(Some(Split::Weight(0.1))).same_as(&other));
        assert!(!ruled.same_as(&alias(Some(Split::Weight(0.0)))));
        other.description = "e".into();
        assert!(!alias(Some(Split::Weight(0.1))).same_as(&other));
        // A rule lands on no weighted route.
        assert!(!ruled.lands_on(
            Route {
                primary: "3",
                canary: Some(("4", 0.0))
            },
            None
        ));
        assert!(alias(Some(Split::Weight(0.0))).lands_on(
            Route {
                primary: "3",
                canary: None
            },
            None
        ));
    }

    #[test]
    fn every_kind_of_change_to_an_alias_is_named() {
        let rollout = serving("3", Some(("4", 0.1)));
        assert_eq!(rollout.changed_to(&rollout.clone()), None);
        let cases = [
            (serving("3", None), "canary version 4 (10%) was removed"),
            (
                serving("4", None),
                "the primary went from version 3 to 4 and canary version 4 (10%) was removed",
            ),
            (
                serving("3", Some(("4", 0.5))),
                "canary version 4 went from 10% to 50%",
            ),
            (
                serving("3", Some(("5", 0.1))),
                "canary version 4 was replaced by 5 (10%)",
            ),
            (
                serving("2", Some(("4", 0.1))),
                "the primary went from version 3 to 2",
            ),
        ];
        for (now, said) in cases {
            assert_eq!(rollout.changed_to(&now).as_deref(), Some(said), "{now:?}");
        }
        assert_eq!(
            serving("3", None)
                .changed_to(&serving("3", Some(("9", 0.2))))
                .as_deref(),
            Some("canary version 9 (20%) was added")
        );
    }
}
