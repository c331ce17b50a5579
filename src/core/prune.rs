//! Which published versions `prune` deletes. A version is never deleted while
//! anything may still need it: `$LATEST`, what any alias routes to (primary or
//! canary), a rollback target recorded in any alias's description, a version
//! with provisioned concurrency, or one an event source mapping names. Of the
//! rest, `--keep N` spares the N newest and `--older-than D` spares those
//! younger than D; with both, a version goes only when both allow it.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::core::record::Record;

/// One published version, as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    pub version: String,
    /// When it was published; `None` when the date could not be read (then
    /// `--older-than` spares it).
    pub published: Option<SystemTime>,
}

/// An alias, as listed: its name, what it routes to, and its description
/// (which may hold a rollback record).
#[derive(Debug, Clone, PartialEq)]
pub struct AliasRoutes {
    pub name: String,
    pub primary: String,
    pub canary: Option<String>,
    pub description: String,
}

/// What `prune` was asked to keep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Keep {
    /// The newest unprotected versions to keep.
    pub newest: Option<usize>,
    /// Spare versions younger than this.
    pub younger_than: Option<Duration>,
}

/// A version and why it stays (or goes).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Verdict {
    pub version: String,
    pub reason: String,
}

/// The decision, version by version, newest first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PrunePlan {
    /// Never deleted, whatever the options: each with every reason.
    pub protected: Vec<Verdict>,
    /// Spared by `--keep` or `--older-than`.
    pub kept: Vec<Verdict>,
    pub delete: Vec<Verdict>,
}

/// Why each version is protected, from what aliases route to and record.
pub fn alias_protections(aliases: &[AliasRoutes]) -> BTreeMap<String, Vec<String>> {
    let mut reasons: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut add = |version: &str, reason: String| {
        if version != "$LATEST" {
            reasons.entry(version.to_string()).or_default().push(reason);
        }
    };
    for alias in aliases {
        add(
            &alias.primary,
            format!("alias {} routes to it (primary)", alias.name),
        );
        if let Some(canary) = &alias.canary {
            add(canary, format!("alias {} routes to it (canary)", alias.name));
        }
        if let Some(target) = Record::parse(&alias.description).rollback_to {
            add(
                &target,
                format!("alias {} records it as its rollback target", alias.name),
            );
        }
    }
    reasons
}

/// Decide. `protected` maps a version to its reasons (aliases, provisioned
/// concurrency, event source mappings); `now` is the time ages count from.
pub fn plan(
    versions: &[Published],
    protected: &BTreeMap<String, Vec<String>>,
    keep: Keep,
    now: SystemTime,
) -> PrunePlan {
    let mut newest_first: Vec<&Published> = versions.iter().filter(|v| v.version != "$LATEST").collect();
    newest_first.sort_by_key(|v| std::cmp::Reverse(v.version.parse::<u64>().unwrap_or(u64::MAX)));
    let mut decided = PrunePlan::default();
    let mut spared_newest = 0;
    for version in newest_first {
        let verdict = |reason: String| Verdict {
            version: version.version.clone(),
            reason,
        };
        if let Some(reasons) = protected.get(&version.version) {
            decided.protected.push(verdict(reasons.join("; ")));
            continue;
        }
        if keep.newest.is_some_and(|n| spared_newest < n) {
            spared_newest += 1;
            decided.kept.push(verdict(format!(
                "one of the {} newest (--keep)",
                keep.newest.unwrap_or_default()
            )));
            continue;
        }
        if let Some(limit) = keep.younger_than {
            let age = version.published.and_then(|at| now.duration_since(at).ok());
            match age {
                Some(age) if age >= limit => {}
                Some(age) => {
                    decided.kept.push(verdict(format!(
                        "published {} ago, younger than --older-than {}",
                        humantime::format_duration(Duration::from_secs(age.as_secs())),
                        humantime::format_duration(limit)
                    )));
                    continue;
                }
                None => {
                    decided
                        .kept
                        .push(verdict("its publication date cannot be read".into()));
                    continue;
                }
            }
        }
        let why = match (keep.newest, keep.younger_than) {
            (Some(n), Some(d)) => format!(
                "older than the {n} newest and than {}",
                humantime::format_duration(d)
            ),
            (Some(n), None) => format!("older than the {n} newest"),
            (None, Some(d)) => format!("older than {}", humantime::format_duration(d)),
            (None, None) => "not protected".to_string(),
        };
        decided.delete.push(verdict(why));
    }
    decided
}

/// A delete that failed part-way, in words: the error, then what was
/// already deleted (`none`, or the versions).
pub fn failed_after(err: &impl std::fmt::Display, deleted: &[String]) -> String {
    let deleted = if deleted.is_empty() {
        "none".to_string()
    } else {
        deleted.join(", ")
    };
    format!("{err}; deleted before this: {deleted}")
}

/// A version's `LastModified` as Lambda (`2026-11-24T20:07:01.000+0000`) or
/// an emulator (`2026-11-24T20:07:01.021435000Z`) writes it; always UTC.
pub fn parse_last_modified(text: &str) -> Option<SystemTime> {
    let seconds = text.get(..19)?;
    let utc = text.ends_with('Z') || text.ends_with("+0000") || text.ends_with("+00:00");
    if !utc {
        return None;
    }
    humantime::parse_rfc3339(&format!("{seconds}Z")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + 1000 * HOUR
    }

    /// Versions 1..=n, version v published (n - v) hours before `now`.
    fn versions(n: u64) -> Vec<Published> {
        (1..=n)
            .map(|v| Published {
                version: v.to_string(),
                published: Some(now() - (n - v) as u32 * HOUR),
            })
            .collect()
    }

    fn numbers(verdicts: &[Verdict]) -> Vec<&str> {
        verdicts.iter().map(|v| v.version.as_str()).collect()
    }

    fn aliases() -> Vec<AliasRoutes> {
        vec![
            AliasRoutes {
                name: "live".into(),
                primary: "8".into(),
                canary: Some("9".into()),
                description: "orders [lambda-rollout rollback-to=5 promoted=8]".into(),
            },
            AliasRoutes {
                name: "staging".into(),
                primary: "2".into(),
                canary: None,
                description: String::new(),
            },
        ]
    }

    #[test]
    fn protected_versions_never_go_and_do_not_count_toward_keep() {
        let mut protected = alias_protections(&aliases());
        protected
            .entry("3".into())
            .or_default()
            .push("provisioned concurrency".into());
        let keep = Keep {
            newest: Some(2),
            younger_than: None,
        };
        let plan = plan(&versions(10), &protected, keep, now());
        assert_eq!(numbers(&plan.protected), ["9", "8", "5", "3", "2"]);
        assert_eq!(plan.protected[0].reason, "alias live routes to it (canary)");
        assert_eq!(
            plan.protected[2].reason,
            "alias live records it as its rollback target"
        );
        assert_eq!(numbers(&plan.kept), ["10", "7"], "the 2 newest unprotected");
        assert_eq!(numbers(&plan.delete), ["6", "4", "1"]);
        // --keep 0 deletes every unprotected version, and never $LATEST.
        let mut with_latest = versions(4);
        with_latest.push(Published {
            version: "$LATEST".into(),
            published: None,
        });
        let none = Keep {
            newest: Some(0),
            younger_than: None,
        };
        let all = super::plan(&with_latest, &BTreeMap::new(), none, now());
        assert_eq!(numbers(&all.delete), ["4", "3", "2", "1"]);
    }

    #[test]
    fn older_than_spares_the_young_and_with_keep_both_must_allow() {
        let young = Keep {
            newest: None,
            younger_than: Some(3 * HOUR),
        };
        let plan_age = plan(&versions(6), &BTreeMap::new(), young, now());
        assert_eq!(numbers(&plan_age.kept), ["6", "5", "4"], "0, 1 and 2 hours old");
        assert_eq!(numbers(&plan_age.delete), ["3", "2", "1"]);
        let both = Keep {
            newest: Some(1),
            younger_than: Some(3 * HOUR),
        };
        let plan_both = plan(&versions(6), &BTreeMap::new(), both, now());
        assert_eq!(numbers(&plan_both.delete), ["3", "2", "1"]);
        assert_eq!(plan_both.kept[0].reason, "one of the 1 newest (--keep)");
        // An unreadable date is never taken for old.
        let mut unknown = versions(2);
        unknown[0].published = None;
        let plan_unknown = plan(&unknown, &BTreeMap::new(), young, now());
        assert_eq!(numbers(&plan_unknown.delete), Vec::<&str>::new());
    }

    #[test]
    fn both_date_forms_are_read() {
        let aws = parse_last_modified("2026-11-24T20:07:01.000+0000").unwrap();
        let emulator = parse_last_modified("2026-11-24T20:07:01.021435000Z").unwrap();
        assert_eq!(aws, emulator);
        assert_eq!(parse_last_modified("yesterday"), None);
        assert_eq!(parse_last_modified("2026-11-24T20:07:01.000+0200"), None);
    }
}
