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

    /// The record after promoting `promoted` over `rollback_to`.
    pub fn promotion(rollback_to: &str, promoted: &str) -> Record {
        Record {
            rollback_to: Some(rollback_to.to_string()),
            promoted: Some(promoted.to_string()),
            canary_removed: None,
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Record::default()
    }

    /// `description` with its record replaced by this one, within Lambda's
    /// length limit (the user's text is shortened, never the record).
    pub fn apply_to(&self, description: &str) -> String {
        let user_text = match description.rfind(OPEN) {
            Some(start) => description[..start].trim_end(),
            None => description.trim_end(),
        };
        if self.is_empty() {
            return user_text.to_string();
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
        let record = Record::promotion("7", "8");
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
            Record::promotion("1", "2").apply_to(""),
            "[lambda-rollout rollback-to=1 promoted=2]"
        );
    }

    #[test]
    fn stays_within_lambdas_description_limit() {
        let long = "x".repeat(300);
        let description = Record::promotion("123", "124").apply_to(&long);
        assert_eq!(description.chars().count(), DESCRIPTION_LIMIT);
        assert!(description.ends_with("[lambda-rollout rollback-to=123 promoted=124]"));
        assert_eq!(Record::parse(&description).rollback_to.as_deref(), Some("123"));
    }
}
