//! The rollback record, kept in the alias's description so the next run (on
//! any machine) can read it: which version was live before the last promotion,
//! which version that promotion made primary, and whether a rollback has since
//! removed a canary. The user's own description text is kept around it.
//!
//! Form: `<user text> [lambda-rollout rollback-to=7 promoted=8 canary-removed=9]`

use std::fmt;

const OPEN: &str = "[lambda-rollout ";
/// Longest alias description Lambda accepts.
pub const DESCRIPTION_LIMIT: usize = 256;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// The primary version before the last promotion.
    pub rollback_to: Option<String>,
    /// The version the last promotion made primary.
    pub promoted: Option<String>,
    /// A canary a rollback removed since then: a re-run of that rollback must
    /// not also undo the promotion.
    pub canary_removed: Option<String>,
}

impl Record {
    /// Read the record from an alias description (an empty record if none).
    pub fn parse(description: &str) -> Record {
        let Some(start) = description.rfind(OPEN) else {
            return Record::default();
        };
        let body = &description[start + OPEN.len()..];
        let body = body.split(']').next().unwrap_or_default();
        let mut record = Record::default();
        for field in body.split_whitespace() {
            match field.split_once('=') {
                Some(("rollback-to", v)) => record.rollback_to = Some(v.to_string()),
                Some(("promoted", v)) => record.promoted = Some(v.to_string()),
                Some(("canary-removed", v)) => record.canary_removed = Some(v.to_string()),
                _ => {}
            }
        }
        record
    }

    /// The record after promoting `promoted` over `rollback_to`; none when
    /// the alias served `$LATEST` (not a release anyone could return to).
    pub fn promotion(rollback_to: &str, promoted: &str) -> Option<Record> {
        (rollback_to != LATEST && rollback_to != promoted).then(|| Record {
            rollback_to: Some(rollback_to.to_string()),
            promoted: Some(promoted.to_string()),
            canary_removed: None,
        })
    }

    /// This record once a rollback removed canary `version`: the promotion
    /// it holds is kept.
    pub fn with_canary_removed(self, version: &str) -> Record {
        Record {
            canary_removed: Some(version.to_string()),
            ..self
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Record::default()
    }

    /// `description` with its record replaced by this one, within Lambda's
    /// length limit (the user's text is shortened, never the record). The
    /// user's text before and after the record is kept.
    pub fn apply_to(&self, description: &str) -> String {
        let user_text = user_text(description);
        if self.is_empty() {
            return user_text;
        }
        let record = self.to_string();
        let room = DESCRIPTION_LIMIT.saturating_sub(record.chars().count() + 1);
        let user_text: String = user_text.chars().take(room).collect();
        if user_text.is_empty() {
            record
        } else {
            format!("{user_text} {record}")
        }
    }

    /// The description to write with a route whose canary is `canary`:
    /// `change` applied when given; otherwise a `canary-removed` mark is
    /// dropped once a canary is routed again (the mark only keeps a re-run
    /// of the rollback that removed a canary from also undoing the
    /// promotion). `None` leaves the description as it is.
    pub fn description_for(
        description: &str,
        change: Option<&Record>,
        canary: Option<&str>,
    ) -> Option<String> {
        if let Some(change) = change {
            return Some(change.apply_to(description));
        }
        let recorded = Record::parse(description);
        (canary.is_some() && recorded.canary_removed.is_some()).then(|| {
            Record {
                canary_removed: None,
                ..recorded
            }
            .apply_to(description)
        })
    }
}

/// `$LATEST`: never a rollback target.
const LATEST: &str = "$LATEST";

/// The user's part of a description: the text around the record.
fn user_text(description: &str) -> String {
    let Some(start) = description.rfind(OPEN) else {
        return description.trim_end().to_string();
    };
    let before = description[..start].trim_end();
    let after = description[start..]
        .split_once(']')
        .map_or("", |(_, after)| after.trim());
    match (before.is_empty(), after.is_empty()) {
        (_, true) => before.to_string(),
        (true, false) => after.to_string(),
        (false, false) => format!("{before} {after}"),
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(OPEN.trim_end())?;
        for (key, value) in [
            ("rollback-to", &self.rollback_to),
            ("promoted", &self.promoted),
            ("canary-removed", &self.canary_removed),
        ] {
            if let Some(value) = value {
                write!(f, " {key}={value}")?;
            }
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_a_description_keeping_the_users_text() {
        let record = Record::promotion("7", "8").unwrap();
        let description = record.apply_to("orders API, owned by team-a");
        assert_eq!(
            description,
            "orders API, owned by team-a [lambda-rollout rollback-to=7 promoted=8]"
        );
        assert_eq!(Record::parse(&description), record);

        let removed = Record {
            canary_removed: Some("9".into()),
            ..record
        };
        let again = removed.apply_to(&description);
        assert_eq!(
            again,
            "orders API, owned by team-a [lambda-rollout rollback-to=7 promoted=8 canary-removed=9]"
        );
        assert_eq!(Record::parse(&again), removed);
        assert_eq!(Record::default().apply_to(&again), "orders API, owned by team-a");
    }

    #[test]
    fn no_record_reads_as_empty() {
        assert!(Record::parse("").is_empty());
        assert!(Record::parse("just a description").is_empty());
        assert_eq!(
            Record::promotion("1", "2").unwrap().apply_to(""),
            "[lambda-rollout rollback-to=1 promoted=2]"
        );
    }

    #[test]
    fn stays_within_lambdas_description_limit() {
        let long = "x".repeat(300);
        let description = Record::promotion("123", "124").unwrap().apply_to(&long);
        assert_eq!(description.chars().count(), DESCRIPTION_LIMIT);
        assert!(description.ends_with("[lambda-rollout rollback-to=123 promoted=124]"));
        assert_eq!(Record::parse(&description).rollback_to.as_deref(), Some("123"));
    }

    #[test]
    fn the_users_text_after_the_record_is_kept() {
        let description = "orders API [lambda-rollout rollback-to=7 promoted=8] owned by team-a";
        let again = Record::promotion("8", "9").unwrap().apply_to(description);
        assert_eq!(
            again,
            "orders API owned by team-a [lambda-rollout rollback-to=8 promoted=9]"
        );
        assert_eq!(
            Record::default().apply_to(description),
            "orders API owned by team-a"
        );
    }

    #[test]
    fn latest_is_never_recorded() {
        assert_eq!(Record::promotion("$LATEST", "3"), None);
        assert_eq!(Record::promotion("3", "3"), None);
    }

    #[test]
    fn a_canary_routed_again_drops_the_canary_removed_mark_only() {
        let marked = Record::promotion("1", "2").unwrap().with_canary_removed("3");
        let description = marked.apply_to("team-a");
        assert_eq!(
            Record::description_for(&description, None, Some("4")).as_deref(),
            Some("team-a [lambda-rollout rollback-to=1 promoted=2]")
        );
        assert_eq!(Record::description_for(&description, None, None), None);
        let unmarked = Record::promotion("1", "2").unwrap().apply_to("team-a");
        assert_eq!(Record::description_for(&unmarked, None, Some("4")), None);
    }
}
