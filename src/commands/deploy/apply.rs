//! The plan applied: its narration and the release's writes in order.

use super::*;

/// The routing a plan leads to, with `name` for each version.
pub(super) fn routing_text(plan: &Plan, name: impl Fn(&Version) -> String) -> String {
    let primary = name(&plan.routing.primary);
    let canary = plan.routing.canary.as_ref().map(|(v, w)| (name(v), *w));
    Route {
        primary: &primary,
        canary: canary.as_ref().map(|(v, w)| (v.as_str(), *w)),
    }
    .text()
}

/// Carry out the plan. Returns the version this run published, if any, and
/// the ARN of the alias it created.
pub(super) async fn apply(
    clients: &Clients,
    request: &DeployRequest,
    code: &Code,
    observed: &Observed,
    plan: &Plan,
    log: &Log,
) -> Result<(Option<String>, Option<String>)> {
    let (lambda, function) = (&clients.lambda, request.function.as_str());
    let deploy = Deploy {
        clients,
        request,
        code,
        log,
    };
    let mut created = None;
    let published = publish::publish_code(deploy, observed, plan).await?;
    let resolve = |v: &Version| v.resolve(published.as_deref()).unwrap_or_default();
    let primary = resolve(&plan.routing.primary);
    let canary = plan.routing.canary.as_ref().map(|(v, w)| (resolve(v), *w));
    let route = Route {
        primary: &primary,
        canary: canary.as_ref().map(|(v, w)| (v.as_str(), *w)),
    };
    match (&plan.alias, &observed.alias) {
        (AliasStep::Create, _) => {
            created = Some(alias::create(lambda, log, function, &request.alias, &primary).await?);
            log.step(&format!("alias {} created: {}", request.alias, route.text()));
        }
        (AliasStep::Update { .. }, Some(before)) => {
            let record = plan::promotion_record(before, &primary);
            let found = AliasNow::of(before);
            alias::update(lambda, log, function, (before, &found), route, record.as_ref()).await?;
        }
        _ => log.step(&format!("alias {} unchanged: {}", request.alias, route.text())),
    }
    Ok((published, created))
}

pub(super) fn narrate_plan(plan: &Plan, request: &DeployRequest, log: &Log) {
    let function = &request.function;
    let configure = configure_text(plan);
    let configured = configure
        .as_ref()
        .map(|changes| format!(", update its configuration ({changes})"))
        .unwrap_or_default();
    match plan.code {
        CodeStep::None => log.step("would upload nothing, configure nothing and publish nothing"),
        CodeStep::PublishLatest => log.step(&format!(
            "would take the code already in $LATEST (no upload){configured} and publish it"
        )),
        CodeStep::UploadAndPublish => log.step(&format!(
            "would upload the code to {function}{configured} and publish it"
        )),
        CodeStep::Create => log.step(&format!(
            "would create function {function}{} and publish version 1",
            configure
                .map(|changes| format!(" with {changes}"))
                .unwrap_or_default()
        )),
    }
    let target = routing_text(plan, |v| match v {
        Version::Existing(n) => n.clone(),
        Version::New => "new".to_string(),
    });
    let alias = &request.alias;
    match plan.alias {
        AliasStep::None => log.step(&format!("would leave alias {alias} as it is ({target})")),
        AliasStep::Create => log.step(&format!("would create alias {alias}: {target}")),
        AliasStep::Update { .. } => log.step(&format!("would point alias {alias} at {target}")),
    }
}
