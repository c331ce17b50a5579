//! The deploy decision: observed alias state + request → what to do.
//! Pure functions only, so every row of the decision table is a unit test
//! (see ARCHITECTURE.md for why the core stays pure).

use serde::Serialize;

use crate::core::config::{Difference, FunctionConfig, differences_text};
use crate::core::observed::{AliasState, Observed, VersionState};
use crate::core::record::Record;
use crate::core::values::{Weight, percent};

mod change;
mod checks;
pub use change::*;
pub use checks::*;

/// The weight a new canary gets when none was asked for.
pub const DEFAULT_CANARY_WEIGHT: f64 = 0.1;

/// What the user asked `deploy` for.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub code_sha256: String,
    /// The keys a configuration file names; `None`: no file, so the
    /// configuration is not part of the comparison.
    pub config: Option<FunctionConfig>,
    /// `None`: keep an existing canary's weight, or use the default for a new one.
    pub weight: Option<Weight>,
}

impl Request {
    /// Does `version` hold this release: the same code and, for each key
    /// the configuration file names, the same (normalised) value?
    pub fn held_by(&self, version: &VersionState) -> bool {
        version.code_sha256 == self.code_sha256
            && self
                .config
                .as_ref()
                .is_none_or(|wanted| wanted.differences(&version.config).is_empty())
    }
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
    /// The function does not exist: create it with the code and
    /// configuration, publishing version 1.
    Create,
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
    /// Nothing changed: the release is already live as asked.
    Skipped,
    /// New code was uploaded and published.
    Published,
    /// Code already in `$LATEST` was published without a new upload.
    Reused,
    /// The existing canary's weight was changed.
    Reweighted,
    /// The stable code is live again: the canary was removed.
    CanaryDropped,
    /// The canary (or a chosen version) became the primary version at 100 %.
    Promoted,
    /// Traffic went back to the stable or an earlier version.
    RolledBack,
    /// Published; AWS CodeDeploy shifts the traffic (`--engine codedeploy`).
    HandedOff,
    /// Something did not exist and was created: the function (with version
    /// 1 and the alias, by `deploy`), or the alias (by `promote`).
    Created,
    /// `status`: nothing changed, what the alias serves was read.
    Status,
    /// Someone else changed the alias during the run: it stopped without
    /// writing, leaving their change in place. Not a success.
    Stopped,
    /// A signal (a cancelled workflow run) interrupted it; the alias serves
    /// what the report says. Not a success.
    Cancelled,
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
            Outcome::RolledBack => "rolled-back",
            Outcome::HandedOff => "handed-off",
            Outcome::Stopped => "stopped",
            Outcome::Cancelled => "cancelled",
            Outcome::Created => "created",
            Outcome::Status => "status",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Wait for an update already in progress on `$LATEST` before touching code.
    pub wait_for_update: bool,
    pub code: CodeStep,
    /// Configuration keys to write to `$LATEST` before publishing (its
    /// `RevisionId` guards the write); empty: none.
    pub configure: Vec<Difference>,
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

/// A plan's configuration writes in words (keys only, never an environment value).
/// The configuration update this plan writes, if any: every planned
/// difference but `Architectures`, which goes with the code upload.
pub fn configure_text(plan: &Plan) -> Option<String> {
    let written: Vec<Difference> = plan
        .configure
        .iter()
        .filter(|d| d.key != "Architectures")
        .cloned()
        .collect();
    (!written.is_empty()).then(|| differences_text(&written))
}

/// The deploy decision table (README, "deploy"): one unit test per row.
pub fn deploy(observed: &Observed, request: &Request) -> Plan {
    if observed.function_missing {
        return create_function(request);
    }
    let mut plan = decide(observed, request);
    plan.notes.extend(drift_note(observed, request, &plan));
    plan
}

fn decide(observed: &Observed, request: &Request) -> Plan {
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
        configure: Vec::new(),
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

    if let Some(canary) = alias.canary.as_ref().filter(|c| request.held_by(&c.version)) {
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
    if request.held_by(&alias.primary) {
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
            "replacing the older canary version {} ({}) with the new release",
            old.version.version,
            percent(old.weight)
        ));
    }
    let (code_step, configure, outcome) = publish_step(observed, request);
    Plan {
        wait_for_update: update_in_progress(observed) && code_step != CodeStep::None,
        code: code_step,
        configure,
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
    let (code, configure, outcome) = publish_step(observed, request);
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
        wait_for_update: update_in_progress(observed) && code != CodeStep::None,
        code,
        configure,
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

fn update_in_progress(observed: &Observed) -> bool {
    observed
        .latest
        .as_ref()
        .is_some_and(|latest| latest.update_in_progress)
}

/// The function does not exist: create it (code, configuration, version 1)
/// and the alias on version 1.
fn create_function(request: &Request) -> Plan {
    let mut notes = Vec::new();
    if request.weight.is_some_and(|w| !w.is_full()) {
        notes.push(
            "the function does not exist yet: its first version gets 100% of the alias's traffic".to_string(),
        );
    }
    Plan {
        wait_for_update: false,
        code: CodeStep::Create,
        configure: request
            .config
            .as_ref()
            .map(|c| c.differences(&FunctionConfig::default()))
            .unwrap_or_default(),
        alias: AliasStep::Create,
        routing: Routing {
            primary: Version::New,
            canary: None,
        },
        previous_primary: None,
        outcome: Outcome::Created,
        notes,
    }
}

/// Publish what `$LATEST` holds when it already has the code; else upload.
/// Configuration keys `$LATEST` lacks are written first. Nothing written
/// before the publish: the release is reused.
fn publish_step(observed: &Observed, request: &Request) -> (CodeStep, Vec<Difference>, Outcome) {
    let latest = observed.latest.as_ref();
    let configure = match (latest, &request.config) {
        (Some(latest), Some(wanted)) => wanted.differences(&latest.config),
        _ => Vec::new(),
    };
    // A new architecture travels with the code: the zip is sent again.
    let new_architecture = configure.iter().any(|d| d.key == "Architectures");
    let code = if latest.is_some_and(|latest| latest.code_sha256 == request.code_sha256) && !new_architecture
    {
        CodeStep::PublishLatest
    } else {
        CodeStep::UploadAndPublish
    };
    let outcome = if code == CodeStep::PublishLatest && configure.is_empty() {
        Outcome::Reused
    } else {
        Outcome::Published
    };
    (code, configure, outcome)
}

/// What the plan should say when `$LATEST`'s configuration differs from the
/// primary's in keys the file does not name: another tool changed it. A new
/// version takes those values; an unchanged release leaves them unpublished.
fn drift_note(observed: &Observed, request: &Request, plan: &Plan) -> Option<String> {
    let (Some(latest), Some(alias)) = (&observed.latest, &observed.alias) else {
        return None;
    };
    if alias.primary.version == "$LATEST" {
        return None;
    }
    let unnamed = FunctionConfig::default();
    let drift = alias
        .primary
        .config
        .drift(&latest.config, request.config.as_ref().unwrap_or(&unnamed));
    if drift.is_empty() {
        return None;
    }
    let primary = &alias.primary.version;
    Some(if plan.code == CodeStep::None {
        format!(
            "$LATEST's configuration differs from version {primary}'s in {}: not published, as the release did not change. To publish it, name those keys in --function-config (`aws lambda get-function-configuration` prints a file to start from)",
            differences_text(&drift)
        )
    } else {
        format!(
            "the new version also takes $LATEST's configuration where it differs from version {primary}'s: {} (name those keys in --function-config to choose them)",
            differences_text(&drift)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::observed::{Canary, Latest, VersionState};

    const OLD: &str = "old-hash";
    const CANARY: &str = "canary-hash";
    const NEW: &str = "new-hash";

    fn version(number: &str, hash: &str) -> VersionState {
        VersionState {
            version: number.into(),
            code_sha256: hash.into(),
            config: FunctionConfig::default(),
        }
    }

    fn observed(latest: &str, alias: Option<AliasState>) -> Observed {
        Observed {
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
            latest: Some(Latest {
                code_sha256: latest.into(),
                config: FunctionConfig::default(),
                image: false,
                revision_id: Some("rev-latest".into()),
                update_in_progress: false,
            }),
            alias,
            function_missing: false,
        }
    }

    fn alias(primary: VersionState, canary: Option<(VersionState, f64)>) -> Option<AliasState> {
        Some(AliasState {
            arn: "arn:aws:lambda:us-east-1:123456789012:function:f:live".into(),
            revision_id: Some("rev-alias".into()),
            description: String::new(),
            primary,
            canary: canary.map(|(version, weight)| Canary { version, weight }),
        })
    }

    fn request(hash: &str, weight: Option<f64>) -> Request {
        Request {
            code_sha256: hash.into(),
            config: None,
            weight: weight.map(|w| Weight::new(w).unwrap()),
        }
    }

    #[test]
    fn a_plan_routes_at_a_weight_by_its_canary_or_by_its_staged_engine() {
        // A new release as a 10 % canary over version 3.
        let over_3 = observed(OLD, alias(version("3", OLD), None));
        let canary = deploy(&over_3, &request(NEW, Some(0.1)));
        assert!(routes_weighted(None, &over_3, &canary));
        let all = deploy(&over_3, &request(NEW, Some(1.0)));
        assert!(!routes_weighted(None, &over_3, &all));
        // Handed to a staged engine, the engine says.
        assert!(!routes_weighted(Some(false), &over_3, &canary));
        assert!(routes_weighted(Some(true), &over_3, &all));
        assert_eq!(
            staged_routes_weighted(Some("CodeDeployDefault.LambdaAllAtOnce"), None),
            Some(false)
        );
        assert_eq!(
            staged_routes_weighted(Some("LambdaCanary10Percent5Minutes"), None),
            Some(true)
        );
        assert_eq!(staged_routes_weighted(None, Some(&[0.1, 1.0])), Some(true));
        assert_eq!(staged_routes_weighted(None, Some(&[1.0])), Some(false));
        assert_eq!(staged_routes_weighted(None, None), None);
    }

    #[test]
    fn a_release_fits_its_function_or_says_why_not() {
        let zip_function = observed(OLD, None);
        assert_eq!(fits_the_function("f", false, None, &zip_function), Ok(()));
        let Err(Unfit::Usage(why)) = fits_the_function("f", true, None, &zip_function) else {
            panic!("an image for a zip function fits")
        };
        assert!(why.contains("runs a zip (package type Zip)"), "{why}");
        let missing = Observed {
            function_missing: true,
            latest: None,
            ..zip_function.clone()
        };
        let Err(Unfit::Missing(why)) = fits_the_function("f", false, None, &missing) else {
            panic!("a missing function with nothing to create it fits")
        };
        assert!(why.contains("create it first"), "{why}");
        let partial = FunctionConfig {
            role: Some("arn:aws:iam::123456789012:role/r".into()),
            ..FunctionConfig::default()
        };
        let Err(Unfit::Usage(why)) = fits_the_function("f", false, Some(&partial), &missing) else {
            panic!("creating without Runtime and Handler fits")
        };
        assert!(why.contains("missing: Runtime, Handler"), "{why}");
        assert_eq!(fits_the_function("f", true, Some(&partial), &missing), Ok(()));
    }

    fn existing(v: &str) -> Version {
        Version::Existing(v.into())
    }

    fn routing(primary: Version, canary: Option<(Version, f64)>) -> Routing {
        Routing { primary, canary }
    }

    /// Primary 3 (the old code) with canary 4 (the canary code) at `weight`.
    fn with_canary(weight: f64) -> Observed {
        observed(
            CANARY,
            alias(version("3", OLD), Some((version("4", CANARY), weight))),
        )
    }

    /// Primary 3 alone, serving the old code.
    fn stable_only() -> Observed {
        observed(OLD, alias(version("3", OLD), None))
    }

    fn assert_note(plan: &Plan, text: &str) {
        assert!(plan.notes[0].contains(text), "{:?}", plan.notes);
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
        assert_eq!(plan.routing, routing(Version::New, None));
        assert_eq!(plan.outcome, Outcome::Published);
        assert_eq!(plan.previous_primary, None);
        assert_note(&plan, "no published stable version");
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
        let plan = deploy(&stable_only(), &request(OLD, Some(0.2)));
        assert_eq!((plan.outcome, plan.code), (Outcome::Skipped, CodeStep::None));
        assert_eq!(plan.alias, AliasStep::None);
        assert!(!plan.changes_anything());
        assert_eq!(plan.routing, routing(existing("3"), None));
    }

    #[test]
    fn same_code_as_canary_without_weight_changes_nothing() {
        let state = with_canary(0.1);
        let plan = deploy(&state, &request(CANARY, None));
        assert_eq!(plan.outcome, Outcome::Skipped);
        assert!(!plan.changes_anything());
        assert_eq!(plan.routing.canary, Some((existing("4"), 0.1)));
    }

    #[test]
    fn same_code_as_canary_with_same_weight_changes_nothing() {
        let state = with_canary(0.1);
        let plan = deploy(&state, &request(CANARY, Some(0.1)));
        assert_eq!(plan.outcome, Outcome::Skipped);
        assert!(!plan.changes_anything());
    }

    #[test]
    fn same_code_as_canary_with_another_weight_only_reweights() {
        let state = with_canary(0.1);
        let plan = deploy(&state, &request(CANARY, Some(0.5)));
        assert_eq!((plan.outcome, plan.code), (Outcome::Reweighted, CodeStep::None));
        assert_eq!(plan.alias, update());
        assert_eq!(plan.routing, routing(existing("3"), Some((existing("4"), 0.5))));
    }

    #[test]
    fn same_code_as_canary_at_full_weight_promotes_it() {
        let state = with_canary(0.1);
        let plan = deploy(&state, &request(CANARY, Some(1.0)));
        assert_eq!((plan.outcome, plan.code), (Outcome::Promoted, CodeStep::None));
        assert_eq!(plan.routing, routing(existing("4"), None));
        assert_eq!(plan.previous_primary.as_deref(), Some("3"));
    }

    #[test]
    fn same_code_as_primary_with_canary_drops_the_canary() {
        let state = with_canary(0.1);
        let plan = deploy(&state, &request(OLD, None));
        assert_eq!(
            (plan.outcome, plan.code),
            (Outcome::CanaryDropped, CodeStep::None)
        );
        assert_eq!(plan.alias, update());
        assert_eq!(plan.routing, routing(existing("3"), None));
    }

    #[test]
    fn code_in_latest_but_unpublished_is_published_without_upload_then_routed() {
        let plan = deploy(
            &observed(NEW, alias(version("3", OLD), None)),
            &request(NEW, Some(0.25)),
        );
        assert_eq!(
            (plan.outcome, plan.code),
            (Outcome::Reused, CodeStep::PublishLatest)
        );
        assert_eq!(plan.alias, update());
        assert_eq!(plan.routing, routing(existing("3"), Some((Version::New, 0.25))));
    }

    #[test]
    fn new_code_is_uploaded_and_gets_the_default_canary_weight() {
        let plan = deploy(&stable_only(), &request(NEW, None));
        assert_eq!(
            (plan.outcome, plan.code),
            (Outcome::Published, CodeStep::UploadAndPublish)
        );
        assert_eq!(plan.alias, update());
        assert_eq!(
            plan.routing,
            routing(existing("3"), Some((Version::New, DEFAULT_CANARY_WEIGHT)))
        );
        assert_eq!(plan.previous_primary.as_deref(), Some("3"));
    }

    #[test]
    fn new_code_replaces_an_older_canary() {
        let state = with_canary(0.3);
        let plan = deploy(&state, &request(NEW, Some(0.05)));
        assert_eq!(plan.code, CodeStep::UploadAndPublish);
        assert_eq!(plan.routing, routing(existing("3"), Some((Version::New, 0.05))));
        assert_note(&plan, "older canary version 4 (30%)");
    }

    #[test]
    fn new_code_at_full_weight_switches_at_once() {
        let plan = deploy(&stable_only(), &request(NEW, Some(1.0)));
        assert_eq!(plan.routing, routing(Version::New, None));
        assert_eq!(plan.previous_primary.as_deref(), Some("3"));
        assert_eq!(plan.outcome, Outcome::Published);
    }

    #[test]
    fn zero_weight_is_a_dark_canary() {
        let plan = deploy(&stable_only(), &request(NEW, Some(0.0)));
        assert_eq!(plan.routing, routing(existing("3"), Some((Version::New, 0.0))));
    }

    #[test]
    fn an_update_in_progress_is_waited_for_before_new_code() {
        let mut state = stable_only();
        state.latest.as_mut().unwrap().update_in_progress = true;
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
        assert_eq!(plan.routing, routing(Version::New, None));
        assert_eq!(plan.alias, update());
    }

    /// A configuration naming only `MemorySize`.
    fn memory(mb: i32) -> FunctionConfig {
        FunctionConfig {
            memory_size: Some(mb),
            ..FunctionConfig::default()
        }
    }

    /// Version `number` with code `hash` and `config`.
    fn configured(number: &str, hash: &str, config: FunctionConfig) -> VersionState {
        VersionState {
            config,
            ..version(number, hash)
        }
    }

    fn with_config(hash: &str, config: FunctionConfig, weight: Option<f64>) -> Request {
        Request {
            config: Some(config),
            ..request(hash, weight)
        }
    }

    /// Primary 3 (old code, 128 MB); `$LATEST` holds the old code with `latest_mb`.
    fn stable_at(latest_mb: i32) -> Observed {
        let mut state = observed(OLD, alias(configured("3", OLD, memory(128)), None));
        state.latest.as_mut().unwrap().config = memory(latest_mb);
        state
    }

    #[test]
    fn a_configuration_only_change_is_written_published_and_canaried() {
        let plan = deploy(&stable_at(128), &with_config(OLD, memory(256), None));
        assert_eq!(
            (plan.outcome, plan.code),
            (Outcome::Published, CodeStep::PublishLatest)
        );
        assert_eq!(configure_text(&plan).as_deref(), Some("MemorySize (128 → 256)"));
        assert_eq!(
            plan.routing,
            routing(existing("3"), Some((Version::New, DEFAULT_CANARY_WEIGHT)))
        );
        assert_eq!(plan.alias, update());
    }

    #[test]
    fn a_new_architecture_sends_the_same_code_again_and_is_canaried() {
        let arm = FunctionConfig {
            architectures: Some(vec!["arm64".into()]),
            ..FunctionConfig::default()
        };
        let plan = deploy(&stable_at(128), &with_config(OLD, arm.clone(), None));
        assert_eq!(
            (plan.outcome, plan.code),
            (Outcome::Published, CodeStep::UploadAndPublish),
            "Architectures go with UpdateFunctionCode: the zip is sent again"
        );
        assert_eq!(
            differences_text(&plan.configure),
            "Architectures (x86_64 → arm64)"
        );
        assert_eq!(configure_text(&plan), None, "no configuration update for it");
        assert_eq!(
            plan.routing,
            routing(existing("3"), Some((Version::New, DEFAULT_CANARY_WEIGHT)))
        );
        // The alias's version already runs on arm64: nothing to do.
        let mut on_arm = observed(OLD, alias(configured("3", OLD, arm.clone()), None));
        on_arm.latest.as_mut().unwrap().config = arm.clone();
        let plan = deploy(&on_arm, &with_config(OLD, arm, None));
        assert_eq!((plan.outcome, plan.code), (Outcome::Skipped, CodeStep::None));
    }

    #[test]
    fn a_file_restating_the_deployed_configuration_is_skipped() {
        let plan = deploy(&stable_at(128), &with_config(OLD, memory(128), Some(0.2)));
        assert_eq!((plan.outcome, plan.code), (Outcome::Skipped, CodeStep::None));
        assert!(plan.configure.is_empty() && !plan.changes_anything());
    }

    #[test]
    fn new_code_and_new_configuration_make_one_version() {
        let plan = deploy(&stable_at(128), &with_config(NEW, memory(256), Some(0.1)));
        assert_eq!(
            (plan.outcome, plan.code),
            (Outcome::Published, CodeStep::UploadAndPublish)
        );
        assert_eq!(plan.configure.len(), 1);
        assert_eq!(plan.routing, routing(existing("3"), Some((Version::New, 0.1))));
    }

    #[test]
    fn configuration_already_on_latest_but_unpublished_is_published_without_writing() {
        let plan = deploy(&stable_at(256), &with_config(OLD, memory(256), None));
        assert_eq!(
            (plan.outcome, plan.code),
            (Outcome::Reused, CodeStep::PublishLatest)
        );
        assert!(plan.configure.is_empty());
    }

    #[test]
    fn a_configuration_change_replaces_an_older_canary_and_reverting_drops_it() {
        let mut state = observed(
            OLD,
            alias(
                configured("3", OLD, memory(128)),
                Some((configured("4", OLD, memory(256)), 0.1)),
            ),
        );
        state.latest.as_mut().unwrap().config = memory(256);
        let newer = deploy(&state, &with_config(OLD, memory(512), None));
        assert_eq!(newer.code, CodeStep::PublishLatest);
        assert_eq!(newer.routing, routing(existing("3"), Some((Version::New, 0.1))));
        assert_note(&newer, "older canary version 4 (10%)");
        let same_as_canary = deploy(&state, &with_config(OLD, memory(256), Some(0.5)));
        assert_eq!(same_as_canary.outcome, Outcome::Reweighted);
        let reverted = deploy(&state, &with_config(OLD, memory(128), None));
        assert_eq!(
            (reverted.outcome, reverted.code),
            (Outcome::CanaryDropped, CodeStep::None)
        );
        assert_eq!(reverted.routing, routing(existing("3"), None));
    }

    #[test]
    fn without_a_file_drift_on_latest_is_named_and_not_published() {
        let plan = deploy(&stable_at(512), &request(OLD, None));
        assert_eq!(plan.outcome, Outcome::Skipped);
        assert_note(
            &plan,
            "$LATEST's configuration differs from version 3's in MemorySize (128 → 512): not published",
        );
        let with_code = deploy(&stable_at(512), &request(NEW, None));
        assert_note(
            &with_code,
            "the new version also takes $LATEST's configuration where it differs from version 3's: MemorySize (128 → 512)",
        );
        let named = deploy(&stable_at(512), &with_config(NEW, memory(128), None));
        assert!(named.notes.is_empty(), "{:?}", named.notes);
    }

    #[test]
    fn a_missing_function_is_created_with_version_one_at_full_weight() {
        let mut state = observed(OLD, None);
        state.latest = None;
        state.function_missing = true;
        let plan = deploy(&state, &with_config(NEW, memory(256), Some(0.1)));
        assert_eq!(
            (plan.outcome, plan.code, plan.alias.clone()),
            (Outcome::Created, CodeStep::Create, AliasStep::Create)
        );
        assert_eq!(plan.routing, routing(Version::New, None));
        assert_note(&plan, "first version gets 100%");
    }

    #[test]
    fn a_role_or_dead_letter_change_cannot_share_a_weighted_alias() {
        let role = |arn: &str| FunctionConfig {
            role: Some(arn.into()),
            ..FunctionConfig::default()
        };
        let mut state = observed(OLD, alias(configured("3", OLD, role("arn:role/a")), None));
        state.latest.as_mut().unwrap().config = role("arn:role/a");
        let changed = with_config(NEW, role("arn:role/b"), None);
        let plan = deploy(&state, &changed);
        assert_eq!(
            differences_text(&unshareable(&state, &changed, &plan)),
            "Role (arn:role/a → arn:role/b)"
        );
        // $LATEST changed by someone else counts too, without a file.
        state.latest.as_mut().unwrap().config = role("arn:role/c");
        let plain = request(NEW, None);
        assert_eq!(unshareable(&state, &plain, &deploy(&state, &plain)).len(), 1);
        // A dead-letter target added counts the same.
        state.latest.as_mut().unwrap().config = role("arn:role/a");
        let dead_letter = with_config(
            NEW,
            FunctionConfig {
                dead_letter_config: Some(crate::core::config::DeadLetterConfig {
                    target_arn: "arn:sqs:dlq".into(),
                }),
                ..FunctionConfig::default()
            },
            None,
        );
        assert_eq!(
            differences_text(&unshareable(&state, &dead_letter, &deploy(&state, &dead_letter))),
            "DeadLetterConfig (none → arn:sqs:dlq)"
        );
        // Nothing published, nothing to refuse.
        let skip = with_config(OLD, role("arn:role/a"), None);
        assert!(unshareable(&state, &skip, &deploy(&state, &skip)).is_empty());
    }

    fn live(primary: &str, canary: Option<(&str, f64)>, description: &str) -> AliasState {
        let mut state = alias(
            version(primary, OLD),
            canary.map(|(v, w)| (version(v, CANARY), w)),
        )
        .unwrap();
        state.description = description.to_string();
        state
    }

    #[test]
    fn promote_makes_the_canary_primary_and_records_the_previous_version() {
        let change = promote(&live("3", Some(("4", 0.1)), "team-a"), &Promotion::Canary).unwrap();
        assert_eq!((change.primary.as_str(), change.canary.clone()), ("4", None));
        assert_eq!(change.outcome, Outcome::Promoted);
        assert_eq!(change.record, Record::promotion("3", "4"));
        assert_eq!(change.previous_primary, "3");
    }

    #[test]
    fn promote_without_a_canary_changes_nothing_and_says_so() {
        let change = promote(&live("3", None, ""), &Promotion::Canary).unwrap();
        assert!(!change.changes_anything());
        assert!(change.note.unwrap().contains("nothing to promote"));
    }

    #[test]
    fn promote_weight_steps_the_canary_and_needs_one() {
        let change = promote(
            &live("3", Some(("4", 0.1)), ""),
            &Promotion::Weight(Weight::new(0.5).unwrap()),
        )
        .unwrap();
        assert_eq!(change.canary, Some(("4".to_string(), 0.5)));
        assert_eq!(change.outcome, Outcome::Reweighted);
        assert_eq!(change.record, None);
        let same = promote(
            &live("3", Some(("4", 0.5)), ""),
            &Promotion::Weight(Weight::new(0.5).unwrap()),
        )
        .unwrap();
        assert!(!same.changes_anything());
        let full = promote(&live("3", Some(("4", 0.5)), ""), &Promotion::Weight(Weight::FULL)).unwrap();
        assert_eq!(full.primary, "4");
        let err = promote(
            &live("3", None, ""),
            &Promotion::Weight(Weight::new(0.5).unwrap()),
        )
        .unwrap_err();
        assert!(err.contains("--weight needs a canary"), "{err}");
    }

    #[test]
    fn promote_a_version_points_the_alias_at_it() {
        let change = promote(&live("3", Some(("4", 0.1)), ""), &Promotion::Version("2".into())).unwrap();
        assert_eq!((change.primary.as_str(), change.canary.clone()), ("2", None));
        assert_eq!(change.record, Record::promotion("3", "2"));
        assert!(
            !promote(&live("3", None, ""), &Promotion::Version("3".into()))
                .unwrap()
                .changes_anything()
        );
        let drop = promote(&live("3", Some(("4", 0.1)), ""), &Promotion::Version("3".into())).unwrap();
        assert_eq!((drop.outcome, drop.canary), (Outcome::CanaryDropped, None));
    }

    #[test]
    fn rollback_drops_the_canary_first_and_a_rerun_does_nothing() {
        let promoted = Record::promotion("2", "3").unwrap().apply_to("");
        let change = rollback(&live("3", Some(("4", 0.1)), &promoted), None).unwrap();
        assert_eq!((change.primary.as_str(), change.canary.clone()), ("3", None));
        assert_eq!(change.outcome, Outcome::RolledBack);
        let record = change.record.clone().unwrap();
        assert_eq!(record.canary_removed.as_deref(), Some("4"));

        let rerun = rollback(&live("3", None, &record.apply_to(&promoted)), None).unwrap();
        assert!(!rerun.changes_anything());
        assert!(rerun.note.unwrap().contains("use --to-version 2"));
    }

    #[test]
    fn rollback_without_canary_returns_to_the_version_before_the_last_promotion() {
        let description = Record::promotion("5", "9").unwrap().apply_to("orders");
        let change = rollback(&live("9", None, &description), None).unwrap();
        assert_eq!((change.primary.as_str(), change.canary.clone()), ("5", None));
        assert_eq!(change.record, Some(Record::default()));
        // The record is cleared: the re-run finds nothing to do.
        let after = Record::default().apply_to(&description);
        assert!(
            !rollback(&live("5", None, &after), None)
                .unwrap()
                .changes_anything()
        );
    }

    #[test]
    fn rollback_refuses_when_the_alias_moved_outside_the_tool() {
        let description = Record::promotion("5", "9").unwrap().apply_to("");
        let err = rollback(&live("10", None, &description), None).unwrap_err();
        assert!(err.contains("moved outside lambda-rollout"), "{err}");
        assert!(err.contains("--to-version"), "{err}");
    }

    #[test]
    fn rollback_with_nothing_recorded_changes_nothing() {
        let change = rollback(&live("3", None, "plain text"), None).unwrap();
        assert!(!change.changes_anything());
        assert!(change.note.unwrap().contains("no recorded previous version"));
    }

    #[test]
    fn rollback_to_an_explicit_version() {
        let change = rollback(&live("9", Some(("10", 0.2)), ""), Some("4")).unwrap();
        assert_eq!((change.primary.as_str(), change.canary.clone()), ("4", None));
        assert_eq!(change.outcome, Outcome::RolledBack);
        assert!(
            !rollback(&live("4", None, ""), Some("4"))
                .unwrap()
                .changes_anything()
        );
    }
}
