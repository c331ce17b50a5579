//! What invokes a function, and whether it goes through the alias a canary
//! is weighted on. A canary weight applies only to invocations of the
//! alias: an entry point on the unqualified function runs `$LATEST` (new
//! code the moment it is uploaded, at 100 %), and one on a version number
//! runs that version forever. These rules decide, from what was read, how
//! each entry point reaches the function and whether a deploy may route a
//! canary at all.

use std::fmt;

use serde::Serialize;

/// What kind of entry point it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// An event source mapping (SQS, Kinesis, DynamoDB, Kafka, MQ).
    Mapping,
    /// A function URL.
    Url,
    /// A resource-policy statement (API Gateway, S3, SNS, EventBridge, …).
    Permission,
    /// An SCF trigger (timer, API Gateway, COS, CKafka, …), bound to an
    /// alias, a version or `$LATEST`.
    Trigger,
}

/// How an entry point reaches the function, by the qualifier it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "via", content = "name")]
pub enum Via {
    /// The unqualified function or `$LATEST`.
    Latest,
    /// A version number.
    Version(String),
    Alias(String),
    /// The function and everything under it (`…:function:f*`, `…:f:*`).
    Any,
}

/// One entry point as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct EntryPoint {
    pub kind: Kind,
    /// What it is: the mapping's source ARN, the URL, the statement's
    /// principal and source ARN.
    pub what: String,
    #[serde(flatten)]
    pub via: Via,
}

/// How an entry point relates to the alias being deployed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Through,
    ThroughOther(String),
    RunsLatest,
    Pinned(String),
}

impl EntryPoint {
    pub fn verdict(&self, alias: &str) -> Verdict {
        match &self.via {
            Via::Alias(name) if name == alias => Verdict::Through,
            Via::Alias(name) => Verdict::ThroughOther(name.clone()),
            Via::Latest | Via::Any => Verdict::RunsLatest,
            Via::Version(version) => Verdict::Pinned(version.clone()),
        }
    }

    /// "through alias live", "bypasses live: runs $LATEST", …
    pub fn marked(&self, alias: &str) -> String {
        match self.verdict(alias) {
            Verdict::Through => format!("through alias {alias}"),
            Verdict::ThroughOther(other) => format!("through alias {other}"),
            Verdict::RunsLatest => format!("bypasses {alias}: runs $LATEST"),
            Verdict::Pinned(version) => format!("bypasses {alias}: pinned to version {version}"),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Mapping => "event source mapping",
            Kind::Url => "function URL",
            Kind::Permission => "permission",
            Kind::Trigger => "trigger",
        })
    }
}

/// How `arn` (a mapping's `FunctionArn`, a statement's `Resource`) reaches
/// `function_arn` (unqualified); `None` when it names another function.
pub fn via_of(function_arn: &str, arn: &str) -> Option<Via> {
    if arn == "*" {
        return Some(Via::Any);
    }
    let rest = arn.strip_prefix(function_arn)?;
    match rest {
        "" | ":$LATEST" => Some(Via::Latest),
        "*" | ":*" => Some(Via::Any),
        _ => {
            let qualifier = rest.strip_prefix(':')?;
            if qualifier.is_empty() || qualifier.contains(':') {
                None
            } else if qualifier.bytes().all(|b| b.is_ascii_digit()) {
                Some(Via::Version(qualifier.to_string()))
            } else {
                Some(Via::Alias(qualifier.to_string()))
            }
        }
    }
}

/// The entry points read, and what could not be read (one line each).
#[derive(Debug, Clone, Default)]
pub struct EntryPoints {
    pub found: Vec<EntryPoint>,
    pub unreadable: Vec<String>,
}

/// Why a deploy that would route new code as a canary on `alias` is
/// refused: entry points that run `$LATEST` would run the new code at
/// 100 % the moment it is uploaded. `None` when there are none.
pub fn latest_refusal(function: &str, alias: &str, entries: &[EntryPoint]) -> Option<String> {
    let bypassing: Vec<String> = entries
        .iter()
        .filter(|e| e.verdict(alias) == Verdict::RunsLatest)
        .map(|e| format!("{} {}", e.kind, e.what))
        .collect();
    (!bypassing.is_empty()).then(|| {
        format!(
            "a canary on {function}:{alias} would not be one: {} invoke{} the unqualified function ($LATEST), which runs the new code at 100% the moment it is uploaded, before any weight or gate applies ({}). Point {} at the alias ({function}:{alias}), or pass --allow-latest-triggers if you accept it",
            bypassing.len(),
            if bypassing.len() == 1 { "s" } else { "" },
            bypassing.join("; "),
            if bypassing.len() == 1 { "it" } else { "them" },
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: &str = "arn:aws:lambda:us-east-1:123456789012:function:orders";

    fn entry(kind: Kind, via: Via) -> EntryPoint {
        EntryPoint {
            kind,
            what: "arn:aws:sqs:us-east-1:123456789012:q".into(),
            via,
        }
    }

    #[test]
    fn the_qualifier_in_an_arn_says_how_it_reaches_the_function() {
        assert_eq!(via_of(F, F), Some(Via::Latest));
        assert_eq!(via_of(F, &format!("{F}:$LATEST")), Some(Via::Latest));
        assert_eq!(via_of(F, &format!("{F}:live")), Some(Via::Alias("live".into())));
        assert_eq!(via_of(F, &format!("{F}:7")), Some(Via::Version("7".into())));
        assert_eq!(via_of(F, &format!("{F}:*")), Some(Via::Any));
        assert_eq!(via_of(F, "*"), Some(Via::Any));
        assert_eq!(via_of(F, &format!("{F}-other")), None);
        assert_eq!(via_of(F, &format!("{F}-other:live")), None);
    }

    #[test]
    fn each_entry_point_is_marked_against_the_alias() {
        assert_eq!(
            entry(Kind::Mapping, Via::Alias("live".into())).marked("live"),
            "through alias live"
        );
        assert_eq!(
            entry(Kind::Mapping, Via::Alias("beta".into())).marked("live"),
            "through alias beta"
        );
        assert_eq!(
            entry(Kind::Url, Via::Latest).marked("live"),
            "bypasses live: runs $LATEST"
        );
        assert_eq!(
            entry(Kind::Permission, Via::Version("3".into())).marked("live"),
            "bypasses live: pinned to version 3"
        );
    }

    #[test]
    fn only_entry_points_on_latest_refuse_a_canary() {
        let pinned = entry(Kind::Mapping, Via::Version("3".into()));
        let through = entry(Kind::Url, Via::Alias("live".into()));
        assert_eq!(
            latest_refusal("orders", "live", &[pinned.clone(), through.clone()]),
            None
        );
        let latest = entry(Kind::Mapping, Via::Latest);
        let refusal = latest_refusal("orders", "live", &[pinned, latest, through]).unwrap();
        assert!(
            refusal
                .starts_with("a canary on orders:live would not be one: 1 invokes the unqualified function"),
            "{refusal}"
        );
        assert!(
            refusal.contains("event source mapping arn:aws:sqs:us-east-1:123456789012:q"),
            "{refusal}"
        );
        assert!(refusal.contains("--allow-latest-triggers"), "{refusal}");
    }
}
