//! What a run observed in AWS before deciding anything: the alias, the
//! versions it serves and `$LATEST`; and how routing is written for people.
//! Plain data, filled in by the AWS layer and read by the decisions.

use serde::Serialize;

use crate::core::config::FunctionConfig;
use crate::core::values::percent;

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

/// An alias read just before writing it.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasNow {
    pub primary: String,
    pub canary: Option<(String, f64)>,
    pub revision_id: Option<String>,
    pub description: String,
}

impl AliasNow {
    pub fn serving(&self) -> Serving {
        self.route().serving()
    }

    pub fn route(&self) -> Route<'_> {
        Route {
            primary: &self.primary,
            canary: self.canary.as_ref().map(|(v, w)| (v.as_str(), *w)),
        }
    }

    /// Does the alias serve `route` (and carry `description`, when one was written)?
    pub fn lands_on(&self, route: Route<'_>, description: Option<&str>) -> bool {
        let canary_matches = match (&self.canary, route.canary) {
            (None, None) => true,
            (Some((version, weight)), Some((wanted, wanted_weight))) => {
                version == wanted && (weight - wanted_weight).abs() < 1e-9
            }
            // A weight of 0 on no version is the same as no canary.
            (Some((_, weight)), None) => *weight == 0.0,
            (None, Some(_)) => false,
        };
        self.primary == route.primary && canary_matches && description.is_none_or(|d| d == self.description)
    }
}

impl AliasNow {
    /// What `state` held when it was observed.
    pub fn of(state: &AliasState) -> AliasNow {
        AliasNow {
            primary: state.primary.version.clone(),
            canary: state
                .canary
                .as_ref()
                .map(|c| (c.version.version.clone(), c.weight)),
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
