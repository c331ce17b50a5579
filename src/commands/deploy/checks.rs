//! What a deploy refuses before it writes: a release that does not fit
//! the function, a weighted route the alias cannot carry, a canary that
//! entry points would bypass.

use super::*;

/// Whether the alias has provisioned concurrency, read only when this deploy
/// would write the alias's routing (an unchanged deploy reads nothing more).
/// A weighted route on such an alias is refused before any write, as Lambda
/// would refuse it after the publish.
pub(super) async fn provisioned_in_the_way<C: Release>(
    conn: &C,
    request: &DeployRequest,
    observed: &Observed,
    plan: &Plan,
) -> Result<bool> {
    let staged = request.rollout.is_some() && plan::rollout_target(observed, plan).is_some();
    if observed.alias.is_none() || (plan.alias == AliasStep::None && !staged) || request.handoff.is_some() {
        return Ok(false);
    }
    let Some(provisioned) = conn
        .platform()
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

/// [`plan::routes_weighted`] of this request's engine.
pub(super) fn routes_weighted(request: &DeployRequest, observed: &Observed, plan: &Plan) -> bool {
    plan::routes_weighted(staged_routes_weighted(request), observed, plan)
}

/// [`plan::staged_routes_weighted`] of this request's engine.
pub(super) fn staged_routes_weighted(request: &DeployRequest) -> Option<bool> {
    let weights: Option<Vec<f64>> = request
        .rollout
        .as_ref()
        .map(|rollout| rollout.steps.iter().map(|s| s.weight).collect());
    plan::staged_routes_weighted(
        request.handoff.as_ref().map(|h| h.config_name.as_str()),
        weights.as_deref(),
    )
}

/// A release that changes the role or the dead-letter target cannot share
/// a weighted alias with the version it replaces: refused before any write.
pub(super) fn refuse_unshareable(
    request: &DeployRequest,
    code: &Code,
    observed: &Observed,
    plan: &Plan,
) -> Result<()> {
    let wanted = wanted(request, code.identity());
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
pub(super) async fn refuse_bypassed_canary<C: Release>(
    conn: &C,
    request: &DeployRequest,
    observed: &Observed,
    plan: &Plan,
    log: &Log,
) -> Result<Vec<String>> {
    if observed.function_missing || plan.code == CodeStep::None || !routes_weighted(request, observed, plan) {
        return Ok(Vec::new());
    }
    alias::refuse_bypassed(
        conn.platform(),
        log,
        (&request.function, &request.alias),
        &observed.function_arn,
        request.allow_latest_triggers,
    )
    .await
}

/// [`plan::fits_the_function`], as the command's error.
pub(super) fn fits_the_function(request: &DeployRequest, image: bool, observed: &Observed) -> Result<()> {
    plan::fits_the_function(&request.function, image, request.config.as_ref(), observed).map_err(|unfit| {
        match unfit {
            plan::Unfit::Usage(why) => Error::usage(why),
            plan::Unfit::Missing(why) => Error::failed(why),
        }
    })
}

/// A manifest target's checks from one full look, as its deploy will make
/// them (for a platform whose cheaper reads would not tell): the release
/// fits the function, no rule on the alias this tool does not write, and
/// a canary of new code leaves no entry point on `$LATEST` (unless
/// allowed). `identity`: the target's zip's. Reads only.
pub async fn preflight_by_look<C: Release>(conn: &C, job: &DeployJob, identity: &str) -> Result<()> {
    let request = &job.request;
    let image = matches!(job.code, manifest::Code::Image(_));
    let Decided { look, plan, .. } = decide(conn, request, (identity, image)).await?;
    if job.check_only || request.allow_latest_triggers {
        return Ok(());
    }
    refuse_bypassed_canary(conn, request, &look.observed, &plan, conn.log()).await?;
    Ok(())
}
