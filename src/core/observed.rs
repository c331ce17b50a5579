//! What a run observed in AWS before deciding anything: the alias, the
//! versions it serves and `$LATEST`; and how routing is written for people.
//! Plain data, filled in by the AWS layer and read by the decisions.

use serde::Serialize;

use crate::core::values::percent;

/// What the function and alias look like before the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub function_arn: String,
    /// `$LATEST`: the one mutable version, where uploaded code lands first.
    /// Read only when the plan has code to publish (see `plan::needs_latest`).
    pub latest: Option<Latest>,
    pub alias: Option<AliasState>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Latest {
    pub code_sha256: String,
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
    pub code_sha256: String,
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

/// An alias read just before writing it.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasNow {
    pub primary: String,
    pub canary: Option<(String, f64)>,
    pub revision_id: Option<String>,
    pub description: String,
}

impl AliasNow {
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

/// What `status` shows of one version.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct VersionDetails {
    pub version: String,
    pub code_sha256: String,
    pub description: String,
    pub last_modified: String,
}
