//! The deploy decision: observed alias state + request → what to do.
//! Pure functions only, so every row of the decision table is a unit test.

use serde::Serialize;

use crate::values::Weight;

/// The weight a new canary gets when none was asked for.
pub const DEFAULT_CANARY_WEIGHT: f64 = 0.1;

/// What the function and alias look like before the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub function_arn: String,
    /// `$LATEST`: the one mutable version, where uploaded code lands first.
    pub latest: Latest,
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

/// What the user asked `deploy` for.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub code_sha256: String,
    /// `None`: keep an existing canary's weight, or use the default for a new one.
    pub weight: Option<Weight>,
}

/// How the new code becomes a published version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeStep {
    /// The code is already published where the alias points: nothing to do.
    None,
    /// `$LATEST` already holds the code (an earlier run stopped half-way): publish it.
    PublishLatest,
    /// Upload the zip to `$LATEST`, wait for the update, publish.
    UploadAndPublish,
}

/// A version as the plan knows it: an existing number, or the one this run publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    Existing(String),
    New,
}

impl Version {
    /// The number, once the new version (if any) is known.
    pub fn resolve(&self, published: Option<&str>) -> Option<String> {
        match self {
            Version::Existing(v) => Some(v.clone()),
            Version::New => published.map(str::to_string),
        }
    }
}

/// Where the alias sends traffic after the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    pub primary: Version,
    pub canary: Option<(Version, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AliasStep {
    None,
    Create,
    /// Update, guarded by the `RevisionId` the plan was made from.
    Update {
        revision_id: Option<String>,
    },
}

/// The one-word result reported as the `result` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Nothing changed: the code is already live as asked.
    Skipped,
    /// New code was uploaded and published.
    Published,
    /// Code already in `$LATEST` was published without a new upload.
    Reused,
    /// The existing canary's weight was changed.
    Reweighted,
    /// The stable code is live again: the canary was removed.
    CanaryDropped,
    /// The canary became the primary version at 100 %.
    Promoted,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Skipped => "skipped",
            Outcome::Published => "published",
            Outcome::Reused => "reused",
            Outcome::Reweighted => "reweighted",
            Outcome::CanaryDropped => "canary-dropped",
            Outcome::Promoted => "promoted",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Wait for an update already in progress on `$LATEST` before touching code.
    pub wait_for_update: bool,
    pub code: CodeStep,
    pub alias: AliasStep,
    /// The alias's routing after the run (equal to today's when nothing changes).
    pub routing: Routing,
    /// The version that was the alias's primary before the run, if any.
    pub previous_primary: Option<String>,
    pub outcome: Outcome,
    /// Things the user should know about the decision (printed as warnings).
    pub notes: Vec<String>,
}

impl Plan {
    pub fn changes_anything(&self) -> bool {
        self.code != CodeStep::None || self.alias != AliasStep::None
    }
}

/// The deploy decision table of DESIGN.md.
pub fn deploy(observed: &Observed, request: &Request) -> Plan {
    let code = &request.code_sha256;
    let Some(alias) = observed.alias.as_ref().filter(|a| a.primary.version != "$LATEST") else {
        return first_deploy(observed, request);
    };
    let keep = Routing {
        primary: Version::Existing(alias.primary.version.clone()),
        canary: alias
            .canary
            .as_ref()
            .map(|c| (Version::Existing(c.version.version.clone()), c.weight)),
    };
    let previous_primary = Some(alias.primary.version.clone());
    let update = AliasStep::Update {
        revision_id: alias.revision_id.clone(),
    };
    let unchanged = |routing: Routing, outcome| Plan {
        wait_for_update: false,
        code: CodeStep::None,
        alias: if routing == keep {
            AliasStep::None
        } else {
            update.clone()
        },
        routing,
        previous_primary: previous_primary.clone(),
        outcome,
        notes: Vec::new(),
    };

    if let Some(canary) = alias.canary.as_ref().filter(|c| &c.version.code_sha256 == code) {
        let canary_version = Version::Existing(canary.version.version.clone());
        return match request.weight {
            Some(w) if w.is_full() => unchanged(
                Routing {
                    primary: canary_version,
                    canary: None,
                },
                Outcome::Promoted,
            ),
            Some(w) if !w.same_as(canary.weight) => unchanged(
                Routing {
                    primary: keep.primary.clone(),
                    canary: Some((canary_version, w.fraction())),
                },
                Outcome::Reweighted,
            ),
            _ => unchanged(keep.clone(), Outcome::Skipped),
        };
    }
    if &alias.primary.code_sha256 == code {
        let primary_only = Routing {
            primary: keep.primary.clone(),
            canary: None,
        };
        return match alias.canary {
            None => unchanged(primary_only, Outcome::Skipped),
            Some(_) => unchanged(primary_only, Outcome::CanaryDropped),
        };
    }

    let weight = request.weight.map_or(DEFAULT_CANARY_WEIGHT, Weight::fraction);
    let routing = if request.weight.is_some_and(Weight::is_full) {
        Routing {
            primary: Version::New,
            canary: None,
        }
    } else {
        Routing {
            primary: keep.primary.clone(),
            canary: Some((Version::New, weight)),
        }
    };
    let mut notes = Vec::new();
    if let Some(old) = &alias.canary {
        notes.push(format!(
            "replacing the older canary version {} ({}) with the new code",
            old.version.version,
            crate::values::percent(old.weight)
        ));
    }
    let (code_step, outcome) = publish_step(observed, request);
    Plan {
        wait_for_update: observed.latest.update_in_progress && code_step != CodeStep::None,
        code: code_step,
        alias: update,
        routing,
        previous_primary,
        outcome,
        notes,
    }
}

/// Alias missing (or pointing at `$LATEST`): there is no stable version to
/// canary against, so the new version takes all the traffic.
fn first_deploy(observed: &Observed, request: &Request) -> Plan {
    let mut notes = Vec::new();
    if request.weight.is_some_and(|w| !w.is_full()) {
        notes.push(
            "the alias has no published stable version to canary against: the new version gets 100% of its traffic"
                .to_string(),
        );
    }
    let (code, outcome) = publish_step(observed, request);
    let (alias, previous_primary) = match &observed.alias {
        None => (AliasStep::Create, None),
        Some(existing) => (
            AliasStep::Update {
                revision_id: existing.revision_id.clone(),
            },
            Some(existing.primary.version.clone()),
        ),
    };
    Plan {
        wait_for_update: observed.latest.update_in_progress && code != CodeStep::None,
        code,
        alias,
        routing: Routing {
            primary: Version::New,
            canary: None,
        },
        previous_primary,
        outcome,
        notes,
    }
}

/// Publish what `$LATEST` holds when it is already the new code; else upload.
fn publish_step(observed: &Observed, request: &Request) -> (CodeStep, Outcome) {
    if observed.latest.code_sha256 == request.code_sha256 {
        (CodeStep::PublishLatest, Outcome::Reused)
    } else {
        (CodeStep::UploadAndPublish, Outcome::Published)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "old-hash";
    const CANARY: &str = "canary-hash";
    const NEW: &str = "new-hash";

    fn version(number: &str, hash: &str) -> VersionState {
        VersionState {
            version: number.into(),
            code_sha256: hash.into(),
        }
    }

    fn observed(latest: &str, alias: Option<AliasState>) -> Observed {
        Observed {
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
            latest: Latest {
                code_sha256: latest.into(),
                revision_id: Some("rev-latest".into()),
                update_in_progress: false,
            },
            alias,
        }
    }

    fn alias(primary: VersionState, canary: Option<(VersionState, f64)>) -> Option<AliasState> {
        Some(AliasState {
            arn: "arn:aws:lambda:us-east-1:123456789012:function:f:live".into(),
            revision_id: Some("rev-alias".into()),
            primary,
            canary: canary.map(|(version, weight)| Canary { version, weight }),
        })
    }

    fn request(hash: &str, weight: Option<f64>) -> Request {
        Request {
            code_sha256: hash.into(),
            weight: weight.map(|w| Weight::new(w).unwrap()),
        }
    }

    fn existing(v: &str) -> Version {
        Version::Existing(v.into())
    }

    fn update() -> AliasStep {
        AliasStep::Update {
            revision_id: Some("rev-alias".into()),
        }
    }

    #[test]
    fn alias_missing_uploads_publishes_and_creates_the_alias_at_full_weight() {
        let plan = deploy(&observed(OLD, None), &request(NEW, Some(0.1)));
        assert_eq!(plan.code, CodeStep::UploadAndPublish);
        assert_eq!(plan.alias, AliasStep::Create);
        assert_eq!(
            plan.routing,
            Routing {
                primary: Version::New,
                canary: None
            }
        );
        assert_eq!(plan.outcome, Outcome::Published);
        assert_eq!(plan.previous_primary, None);
        assert!(
            plan.notes[0].contains("no published stable version"),
            "{:?}",
            plan.notes
        );
    }

    #[test]
    fn alias_missing_with_code_already_in_latest_publishes_without_upload() {
        let plan = deploy(&observed(NEW, None), &request(NEW, None));
        assert_eq!(plan.code, CodeStep::PublishLatest);
        assert_eq!(plan.alias, AliasStep::Create);
        assert_eq!(plan.outcome, Outcome::Reused);
        assert!(plan.notes.is_empty());
    }

    #[test]
    fn same_code_as_primary_without_canary_is_skipped_with_no_change() {
        let plan = deploy(
            &observed(OLD, alias(version("3", OLD), None)),
            &request(OLD, Some(0.2)),
        );
        assert_eq!(plan.outcome, Outcome::Skipped);
        assert_eq!(plan.code, CodeStep::None);
        assert_eq!(plan.alias, AliasStep::None);
        assert!(!plan.changes_anything());
        assert_eq!(
            plan.routing,
            Routing {
                primary: existing("3"),
                canary: None
            }
        );
    }

    #[test]
    fn same_code_as_canary_without_weight_changes_nothing() {
        let state = observed(
            CANARY,
            alias(version("3", OLD), Some((version("4", CANARY), 0.1))),
        );
        let plan = deploy(&state, &request(CANARY, None));
        assert_eq!(plan.outcome, Outcome::Skipped);
        assert!(!plan.changes_anything());
        assert_eq!(plan.routing.canary, Some((existing("4"), 0.1)));
    }

    #[test]
    fn same_code_as_canary_with_same_weight_changes_nothing() {
        let state = observed(
            CANARY,
            alias(version("3", OLD), Some((version("4", CANARY), 0.1))),
        );
        let plan = deploy(&state, &request(CANARY, Some(0.1)));
        assert_eq!(plan.outcome, Outcome::Skipped);
        assert!(!plan.changes_anything());
    }

    #[test]
    fn same_code_as_canary_with_another_weight_only_reweights() {
        let state = observed(
            CANARY,
            alias(version("3", OLD), Some((version("4", CANARY), 0.1))),
        );
        let plan = deploy(&state, &request(CANARY, Some(0.5)));
        assert_eq!(plan.outcome, Outcome::Reweighted);
        assert_eq!(plan.code, CodeStep::None);
        assert_eq!(plan.alias, update());
        assert_eq!(
            plan.routing,
            Routing {
                primary: existing("3"),
                canary: Some((existing("4"), 0.5))
            }
        );
    }

    #[test]
    fn same_code_as_canary_at_full_weight_promotes_it() {
        let state = observed(
            CANARY,
            alias(version("3", OLD), Some((version("4", CANARY), 0.1))),
        );
        let plan = deploy(&state, &request(CANARY, Some(1.0)));
        assert_eq!(plan.outcome, Outcome::Promoted);
        assert_eq!(plan.code, CodeStep::None);
        assert_eq!(
            plan.routing,
            Routing {
                primary: existing("4"),
                canary: None
            }
        );
        assert_eq!(plan.previous_primary.as_deref(), Some("3"));
    }

    #[test]
    fn same_code_as_primary_with_canary_drops_the_canary() {
        let state = observed(
            CANARY,
            alias(version("3", OLD), Some((version("4", CANARY), 0.1))),
        );
        let plan = deploy(&state, &request(OLD, None));
        assert_eq!(plan.outcome, Outcome::CanaryDropped);
        assert_eq!(plan.code, CodeStep::None);
        assert_eq!(plan.alias, update());
        assert_eq!(
            plan.routing,
            Routing {
                primary: existing("3"),
                canary: None
            }
        );
    }

    #[test]
    fn code_in_latest_but_unpublished_is_published_without_upload_then_routed() {
        let plan = deploy(
            &observed(NEW, alias(version("3", OLD), None)),
            &request(NEW, Some(0.25)),
        );
        assert_eq!(plan.code, CodeStep::PublishLatest);
        assert_eq!(plan.outcome, Outcome::Reused);
        assert_eq!(plan.alias, update());
        assert_eq!(
            plan.routing,
            Routing {
                primary: existing("3"),
                canary: Some((Version::New, 0.25))
            }
        );
    }

    #[test]
    fn new_code_is_uploaded_and_gets_the_default_canary_weight() {
        let plan = deploy(
            &observed(OLD, alias(version("3", OLD), None)),
            &request(NEW, None),
        );
        assert_eq!(plan.code, CodeStep::UploadAndPublish);
        assert_eq!(plan.outcome, Outcome::Published);
        assert_eq!(plan.alias, update());
        assert_eq!(
            plan.routing,
            Routing {
                primary: existing("3"),
                canary: Some((Version::New, DEFAULT_CANARY_WEIGHT))
            }
        );
        assert_eq!(plan.previous_primary.as_deref(), Some("3"));
    }

    #[test]
    fn new_code_replaces_an_older_canary() {
        let state = observed(
            CANARY,
            alias(version("3", OLD), Some((version("4", CANARY), 0.3))),
        );
        let plan = deploy(&state, &request(NEW, Some(0.05)));
        assert_eq!(plan.code, CodeStep::UploadAndPublish);
        assert_eq!(
            plan.routing,
            Routing {
                primary: existing("3"),
                canary: Some((Version::New, 0.05))
            }
        );
        assert!(
            plan.notes[0].contains("older canary version 4 (30%)"),
            "{:?}",
            plan.notes
        );
    }

    #[test]
    fn new_code_at_full_weight_switches_at_once() {
        let plan = deploy(
            &observed(OLD, alias(version("3", OLD), None)),
            &request(NEW, Some(1.0)),
        );
        assert_eq!(
            plan.routing,
            Routing {
                primary: Version::New,
                canary: None
            }
        );
        assert_eq!(plan.previous_primary.as_deref(), Some("3"));
        assert_eq!(plan.outcome, Outcome::Published);
    }

    #[test]
    fn zero_weight_is_a_dark_canary() {
        let plan = deploy(
            &observed(OLD, alias(version("3", OLD), None)),
            &request(NEW, Some(0.0)),
        );
        assert_eq!(
            plan.routing,
            Routing {
                primary: existing("3"),
                canary: Some((Version::New, 0.0))
            }
        );
    }

    #[test]
    fn an_update_in_progress_is_waited_for_before_new_code() {
        let mut state = observed(OLD, alias(version("3", OLD), None));
        state.latest.update_in_progress = true;
        assert!(deploy(&state, &request(NEW, None)).wait_for_update);
        assert!(
            !deploy(&state, &request(OLD, None)).wait_for_update,
            "a skip waits for nothing"
        );
    }

    #[test]
    fn alias_on_latest_is_pinned_to_a_published_version() {
        let state = observed(OLD, alias(version("$LATEST", OLD), None));
        let plan = deploy(&state, &request(OLD, None));
        assert_eq!(plan.code, CodeStep::PublishLatest);
        assert_eq!(
            plan.routing,
            Routing {
                primary: Version::New,
                canary: None
            }
        );
        assert_eq!(plan.alias, update());
    }
}
