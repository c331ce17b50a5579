//! What a deploy refuses before it writes: a release that does not fit
//! the function, a weighted route the alias cannot carry, a canary that
//! entry points would bypass.

use super::*;

/// Whether the alias has provisioned concurrency, read only when this deploy
/// would write the alias's routing (an unchanged deploy reads nothing more).
/// A weighted route on such an alias is refused before any write, as Lambda
/// would refuse it after the publish.
pub(super) async fn provisioned_in_the_way(
    clients: &Clients,
    request: &DeployRequest,
    observed: &Observed,
    plan: &Plan,
) -> Result<bool> {
    let staged = request.rollout.is_some() && plan::rollout_target(observed, plan).is_some();
    if observed.alias.is_none() || (plan.alias == AliasStep::None && !staged) || request.handoff.is_some() {
        return Ok(false);
    }
    let Some(provisioned) = clients
        .lambda
        .alias_provisioned(&request.function, &request.alias)
        .await?
    else {
        return Ok(false);
    };
    if routes_weighted(request, observed, plan) {
        return Err(Error::usage(weighted_route_refused(
            &request.function,
            &request.alias,
            &provisioned,
        )));
    }
    Ok(true)
}

/// Whether the plan puts the new release beside another version at a
/// weight: a canary below 100 % (the default weight included), a staged
/// rollout with a step below 100 %, or a CodeDeploy hand-off that is not
/// all at once.
pub(super) fn routes_weighted(request: &DeployRequest, observed: &Observed, plan: &Plan) -> bool {
    if plan::rollout_target(observed, plan).is_none() {
        return plan.routing.canary.is_some();
    }
    staged_routes_weighted(request).unwrap_or_else(|| plan.routing.canary.is_some())
}

/// Whether the engine the request hands the new version to routes it at a
/// weight: a CodeDeploy hand-off that is not all at once, or a staged
/// rollout with a step below 100 %. `None` without either (one weight).
pub(super) fn staged_routes_weighted(request: &DeployRequest) -> Option<bool> {
    match (&request.handoff, &request.rollout) {
        (Some(handoff), _) => Some(!handoff.config_name.contains("AllAtOnce")),
        (None, Some(rollout)) => Some(rollout.steps.iter().any(|s| s.weight < 1.0 - 1e-9)),
        (None, None) => None,
    }
}

/// A release that changes the role or the dead-letter target cannot share
/// a weighted alias with the version it replaces: refused before any write.
pub(super) fn refuse_unshareable(
    request: &DeployRequest,
    code: &Code,
    observed: &Observed,
    plan: &Plan,
) -> Result<()> {
    let wanted = wanted(request, code);
    let differences = plan::unshareable(observed, &wanted, plan);
    if !differences.is_empty() && routes_weighted(request, observed, plan) {
        return Err(Error::usage(plan::unshareable_refused(
            &request.function,
            &request.alias,
            &differences,
        )));
    }
    Ok(())
}

/// A canary of new code or configuration is weighted on the alias only:
/// what invokes the unqualified function runs `$LATEST`, which the upload
/// makes the new release at 100 %. Such a deploy is refused before the
/// upload (unless `--allow-latest-triggers`); entry points pinned to a
/// version or on another alias are warnings. Reads only, and only when the
/// deploy would publish and route weighted.
pub(super) async fn refuse_bypassed_canary(
    clients: &Clients,
    request: &DeployRequest,
    observed: &Observed,
    plan: &Plan,
    log: &Log,
) -> Result<Vec<String>> {
    if observed.function_missing || plan.code == CodeStep::None || !routes_weighted(request, observed, plan) {
        return Ok(Vec::new());
    }
    alias::refuse_bypassed(
        &clients.lambda,
        log,
        (&request.function, &request.alias),
        &observed.function_arn,
        request.allow_latest_triggers,
    )
    .await
}

/// A zip for an image function (or an image for a zip function) is refused,
/// as is creating a function without the keys creating needs.
pub(super) fn fits_the_function(request: &DeployRequest, code: &Code, observed: &Observed) -> Result<()> {
    let function = &request.function;
    let kind = if code.is_image() {
        "a container image"
    } else {
        "a zip"
    };
    let wrong = request
        .config
        .as_ref()
        .map(|config| wrong_for_package(config, code.is_image()))
        .unwrap_or_default();
    if !wrong.is_empty() {
        return Err(Error::usage(format!(
            "--function-config names {} for {function}, whose code is {kind}: {}",
            wrong.join(", "),
            if code.is_image() {
                "an image brings its own runtime, handler and dependencies; remove those keys"
            } else {
                "ImageConfig is for image functions; remove it"
            }
        )));
    }
    if observed.function_missing {
        let (needs, missing) = match &request.config {
            None => (None, Vec::new()),
            Some(config) => (Some(config), missing_for_create(config, code.is_image())),
        };
        let keys = if code.is_image() {
            "Role"
        } else {
            "Role, Runtime and Handler"
        };
        let absent = format!("function {function} does not exist (or is in another region or account)");
        return match needs {
            None => Err(Error::failed(format!(
                "{absent}: create it first, or give --function-config naming its {keys} so that deploy creates it"
            ))),
            Some(_) if !missing.is_empty() => Err(Error::usage(format!(
                "{absent}: to create it, --function-config must name {keys} (missing: {})",
                missing.join(", ")
            ))),
            Some(_) => Ok(()),
        };
    }
    match observed.latest.as_ref().map(|l| l.image) {
        Some(true) if !code.is_image() => Err(Error::usage(format!(
            "function {function} runs a container image (package type Image): deploy it with --image-uri, not a zip"
        ))),
        Some(false) if code.is_image() => Err(Error::usage(format!(
            "function {function} runs a zip (package type Zip): --image-uri is for image functions; deploy it with --source or --zip-file"
        ))),
        _ => Ok(()),
    }
}
