//! What a deploy refuses of a plan, and where a staged rollout goes.

use super::*;

/// The keys (`Role`, `DeadLetterConfig`) in which the version this plan
/// publishes would differ from the alias's primary. Lambda routes a weighted
/// alias only between versions sharing both, so such a release cannot be a
/// canary.
pub fn unshareable(observed: &Observed, request: &Request, plan: &Plan) -> Vec<Difference> {
    let Some(alias) = observed.alias.as_ref().filter(|a| a.primary.version != "$LATEST") else {
        return Vec::new();
    };
    if !matches!(plan.code, CodeStep::PublishLatest | CodeStep::UploadAndPublish) {
        return Vec::new();
    }
    let base = observed
        .latest
        .as_ref()
        .map_or(&alias.primary.config, |l| &l.config);
    let new = match &request.config {
        Some(wanted) => base.with(wanted),
        None => base.clone(),
    };
    let shared = FunctionConfig {
        role: new.role,
        dead_letter_config: new.dead_letter_config,
        ..FunctionConfig::default()
    };
    shared.differences(&alias.primary.config)
}

/// Why a release that changes the role or dead-letter target cannot go out
/// as a canary, and how to ship it.
pub fn unshareable_refused(function: &str, alias: &str, differences: &[Difference]) -> String {
    format!(
        "this release changes {} of {function}: Lambda routes a weighted alias only between versions with the same execution role and dead-letter configuration, so it cannot be a canary beside what alias {alias} serves now. Ship it all at once (--canary-weight 100%, or --strategy AllAtOnce), or change those keys in a release of their own",
        differences_text(differences)
    )
}

/// Which version a staged rollout or a CodeDeploy hand-off moves traffic to.
#[derive(Debug, Clone, PartialEq)]
pub enum RolloutTarget {
    /// The version this run publishes.
    New,
    /// An existing canary with this code, resumed above its current weight.
    Resume { version: String, weight: f64 },
}

/// Whether the plan calls for a staged rollout: new code (published or
/// reused) against a published stable version, or a canary of this code.
pub fn rollout_target(observed: &Observed, plan: &Plan) -> Option<RolloutTarget> {
    let alias = observed
        .alias
        .as_ref()
        .filter(|a| a.primary.version != "$LATEST")?;
    match (plan.outcome, &plan.routing.canary) {
        (Outcome::Published | Outcome::Reused, _) => Some(RolloutTarget::New),
        (Outcome::Skipped, Some((Version::Existing(version), weight))) if alias.canary.is_some() => {
            Some(RolloutTarget::Resume {
                version: version.clone(),
                weight: *weight,
            })
        }
        _ => None,
    }
}

/// An alias that serves `$LATEST` runs every upload at once, before anything
/// is published, gated or recorded: a deploy to it is refused until it is
/// pointed at a published version.
pub fn latest_alias_refused(function: &str, alias_name: &str, observed: &Observed) -> Option<String> {
    let alias = observed.alias.as_ref()?;
    serving_latest_refused(function, alias_name, &alias.primary.version)
}

/// [`latest_alias_refused`], from the alias's primary version alone (what a
/// fleet's preflight reads of every target before the first write).
pub fn serving_latest_refused(function: &str, alias_name: &str, primary: &str) -> Option<String> {
    (primary == "$LATEST").then(|| {
        format!(
            "alias {function}:{alias_name} serves $LATEST, so uploading the release would move all of its traffic at once, before any version is published or any canary weight applies: point the alias at a published version first (`lambda-rollout promote --function-name {function} --alias {alias_name} --version N`, N from `aws lambda list-versions-by-function`), then deploy"
        )
    })
}
