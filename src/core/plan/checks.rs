//! What a deploy refuses of a plan, where a staged rollout goes, whether
//! a release fits the function, and whether a plan routes at a weight.

use super::*;
use crate::core::config::{missing_for_create, wrong_for_package};

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

/// Whether the plan puts the new release beside another version at a
/// weight: a canary below 100 % (the default weight included), or, when the
/// new version is handed to a staged engine, what that engine does
/// (`staged`: [`staged_routes_weighted`]).
pub fn routes_weighted(staged: Option<bool>, observed: &Observed, plan: &Plan) -> bool {
    if rollout_target(observed, plan).is_none() {
        return plan.routing.canary.is_some();
    }
    staged.unwrap_or_else(|| plan.routing.canary.is_some())
}

/// Whether the engine a release is handed to routes it at a weight: a
/// CodeDeploy hand-off that is not all at once (`handoff`: its
/// configuration's name), or a staged rollout with a step below 100 %
/// (`steps`' weights). `None` without either (one weight).
pub fn staged_routes_weighted(handoff: Option<&str>, steps: Option<&[f64]>) -> Option<bool> {
    match (handoff, steps) {
        (Some(config_name), _) => Some(!config_name.contains("AllAtOnce")),
        (None, Some(weights)) => Some(weights.iter().any(|w| *w < 1.0 - 1e-9)),
        (None, None) => None,
    }
}

/// Why a release does not fit the function: bad input (exit 2), or a
/// function that does not exist and that nothing creates (exit 1).
#[derive(Debug, Clone, PartialEq)]
pub enum Unfit {
    Usage(String),
    Missing(String),
}

/// A zip for an image function (or an image for a zip function) does not
/// fit, nor does creating a function without the keys creating needs.
pub fn fits_the_function(
    function: &str,
    image: bool,
    config: Option<&FunctionConfig>,
    observed: &Observed,
) -> Result<(), Unfit> {
    let kind = if image { "a container image" } else { "a zip" };
    let wrong = config
        .map(|config| wrong_for_package(config, image))
        .unwrap_or_default();
    if !wrong.is_empty() {
        return Err(Unfit::Usage(format!(
            "--function-config names {} for {function}, whose code is {kind}: {}",
            wrong.join(", "),
            if image {
                "an image brings its own runtime, handler and dependencies; remove those keys"
            } else {
                "ImageConfig is for image functions; remove it"
            }
        )));
    }
    if observed.function_missing {
        let keys = if image {
            "Role"
        } else {
            "Role, Runtime and Handler"
        };
        let absent = format!("function {function} does not exist (or is in another region or account)");
        return match config.map(|config| missing_for_create(config, image)) {
            None => Err(Unfit::Missing(format!(
                "{absent}: create it first, or give --function-config naming its {keys} so that deploy creates it"
            ))),
            Some(missing) if !missing.is_empty() => Err(Unfit::Usage(format!(
                "{absent}: to create it, --function-config must name {keys} (missing: {})",
                missing.join(", ")
            ))),
            Some(_) => Ok(()),
        };
    }
    match observed.latest.as_ref().map(|l| l.image) {
        Some(true) if !image => Err(Unfit::Usage(format!(
            "function {function} runs a container image (package type Image): deploy it with --image-uri, not a zip"
        ))),
        Some(false) if image => Err(Unfit::Usage(format!(
            "function {function} runs a zip (package type Zip): --image-uri is for image functions; deploy it with --source or --zip-file"
        ))),
        _ => Ok(()),
    }
}
