//! Promote's and rollback's decisions: the alias change each asks for,
//! and the rollback record a promotion keeps.

use super::*;

/// The record to write when `before`'s primary is replaced by `primary`:
/// remember the old primary so `rollback` can return to it.
pub fn promotion_record(before: &AliasState, primary: &str) -> Option<Record> {
    Record::promotion(&before.primary.version, primary)
}

/// A change to an existing alias alone (promote, rollback): no code step.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasChange {
    /// Routing after the change; only existing versions.
    pub primary: String,
    pub canary: Option<(String, f64)>,
    /// The rollback record to write into the description; `None` leaves it.
    pub record: Option<Record>,
    pub outcome: Outcome,
    /// The primary before the change.
    pub previous_primary: String,
    /// Why nothing changes, or what the user should know.
    pub note: Option<String>,
}

impl AliasChange {
    /// Nothing to do: the alias stays as it is.
    pub(super) fn unchanged(alias: &AliasState, note: String) -> AliasChange {
        AliasChange {
            primary: alias.primary.version.clone(),
            canary: alias
                .canary
                .as_ref()
                .map(|c| (c.version.version.clone(), c.weight)),
            record: None,
            outcome: Outcome::Skipped,
            previous_primary: alias.primary.version.clone(),
            note: Some(note),
        }
    }

    pub(super) fn to(
        alias: &AliasState,
        primary: &str,
        canary: Option<(String, f64)>,
        outcome: Outcome,
    ) -> AliasChange {
        AliasChange {
            primary: primary.to_string(),
            canary,
            record: None,
            outcome,
            previous_primary: alias.primary.version.clone(),
            note: None,
        }
    }

    pub fn changes_anything(&self) -> bool {
        self.outcome != Outcome::Skipped
    }
}

/// What `promote` was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Promotion {
    /// The canary becomes the primary at 100 %.
    Canary,
    /// The canary gets this share (100 % is the same as [`Promotion::Canary`]).
    Weight(Weight),
    /// This published version becomes the primary at 100 % (from `--version` or `--from-alias`).
    Version(String),
}

/// The promote decision. `Err` is a request that does not fit the alias.
pub fn promote(alias: &AliasState, promotion: &Promotion) -> Result<AliasChange, String> {
    let primary = &alias.primary.version;
    let canary = alias.canary.as_ref();
    match promotion {
        Promotion::Weight(weight) if !weight.is_full() => {
            let Some(canary) = canary else {
                return Err(format!(
                    "--weight needs a canary, but the alias serves version {primary} alone: deploy a canary first, or use --version"
                ));
            };
            if weight.same_as(canary.weight) {
                return Ok(AliasChange::unchanged(
                    alias,
                    format!("canary version {} already has {weight}", canary.version.version),
                ));
            }
            let routing = Some((canary.version.version.clone(), weight.fraction()));
            Ok(AliasChange::to(alias, primary, routing, Outcome::Reweighted))
        }
        Promotion::Canary | Promotion::Weight(_) => match canary {
            None => Ok(AliasChange::unchanged(
                alias,
                format!("nothing to promote: the alias has no canary and serves version {primary} alone"),
            )),
            Some(canary) => Ok(make_primary(alias, &canary.version.version)),
        },
        Promotion::Version(version) if version == primary => match canary {
            None => Ok(AliasChange::unchanged(
                alias,
                format!("the alias already serves version {version} alone"),
            )),
            Some(_) => Ok(AliasChange::to(alias, primary, None, Outcome::CanaryDropped)),
        },
        Promotion::Version(version) => Ok(make_primary(alias, version)),
    }
}

pub(super) fn make_primary(alias: &AliasState, version: &str) -> AliasChange {
    AliasChange {
        record: Record::promotion(&alias.primary.version, version),
        ..AliasChange::to(alias, version, None, Outcome::Promoted)
    }
}

/// The rollback decision. `to_version` is an explicit target; without one, a
/// canary is dropped, or else the last promotion is undone. A re-run finds
/// nothing left to do. `Err` is a request that does not fit the alias.
pub fn rollback(alias: &AliasState, to_version: Option<&str>) -> Result<AliasChange, String> {
    let primary = &alias.primary.version;
    let record = Record::parse(&alias.description);
    if let Some(target) = to_version {
        if target == primary && alias.canary.is_none() {
            return Ok(AliasChange::unchanged(
                alias,
                format!("the alias already serves version {target} alone"),
            ));
        }
        return Ok(AliasChange {
            record: Some(Record::default()),
            ..AliasChange::to(alias, target, None, Outcome::RolledBack)
        });
    }
    if let Some(canary) = &alias.canary {
        return Ok(AliasChange {
            record: Some(record.with_canary_removed(&canary.version.version)),
            ..AliasChange::to(alias, primary, None, Outcome::RolledBack)
        });
    }
    let hint = |target: &str| {
        format!("to return to version {target}, live before the last promotion, use --to-version {target}")
    };
    if record.rollback_to.as_deref() == Some("$LATEST") {
        return Err(
            "the alias description records $LATEST as the version to return to, which is not a release (it holds whatever was uploaded last): pass --to-version to choose a published version"
                .to_string(),
        );
    }
    match (&record.rollback_to, &record.promoted, &record.canary_removed) {
        (target, _, Some(removed)) => Ok(AliasChange::unchanged(
            alias,
            format!(
                "nothing to roll back: the failed release, canary version {removed}, was already taken out (by a rollback, or by its own rollout rolling back), and version {primary}, the release before it, serves alone{}",
                target
                    .as_deref()
                    .filter(|t| *t != primary)
                    .map(|t| format!("; to go back further, {}", hint(t)))
                    .unwrap_or_default()
            ),
        )),
        (Some(target), Some(promoted), None) if promoted == primary => Ok(AliasChange {
            record: Some(Record::default()),
            ..AliasChange::to(alias, target, None, Outcome::RolledBack)
        }),
        (Some(_), Some(promoted), None) => Err(format!(
            "the alias was moved outside lambda-rollout since the last promotion (that promotion made version {promoted} primary; it now serves {primary}): pass --to-version to choose the version"
        )),
        _ => Ok(AliasChange::unchanged(
            alias,
            format!(
                "nothing to roll back: no canary and no recorded previous version (version {primary} serves alone); use --to-version to choose one"
            ),
        )),
    }
}
