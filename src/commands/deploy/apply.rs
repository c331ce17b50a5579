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

/// Carry out the plan here (no engine): publish, then create, update or
/// leave the alias — its canary split by `rule` where one routes it. With
/// `--dry-run`, say what would be done. `provisioned`: the alias has
/// provisioned concurrency, ready again before this returns.
pub(super) async fn apply<C: Release>(
    deploy: Deploy<'_, C>,
    decided: &Decided,
    rule: Option<&HeaderRule>,
    provisioned: bool,
) -> Result<AliasReport> {
    let Deploy {
        conn, request, log, ..
    } = deploy;
    let Decided { look, plan, .. } = decided;
    let (observed, function) = (&look.observed, request.function.as_str());
    let platform = conn.platform();
    // The core compares weights; where aliases route by rule, a rule that
    // changes is a change of routing too.
    let rule_changes = platform.capabilities().header_routing
        && plan.code == CodeStep::None
        && look.alias.as_ref().is_some_and(|now| {
            let canary = plan.routing.canary.as_ref();
            let planned = canary.map(|(_, weight)| route::split_of(rule, *weight));
            now.canary.as_ref().map(|(_, split)| split) != planned.as_ref()
        });
    let report = |published: Option<&str>| {
        let identity = deploy.code.identity();
        let mut report = AliasReport::for_plan(deploy.about(), observed, identity, plan, published);
        if rule_changes && report.result == Outcome::Skipped {
            report.result = Outcome::Reweighted;
            report.skipped = false;
        }
        if let Some(rule) = rule.filter(|_| report.canary_weight < 1.0) {
            report.canary_rule = rule.to_string();
        }
        report
    };
    if request.dry_run {
        narrate_plan(plan, request, rule_changes, log);
        return Ok(report(None));
    }
    let published = conn.publish_code(deploy, observed, plan).await?;
    let resolve = |v: &Version| v.resolve(published.as_deref()).unwrap_or_default();
    let primary = resolve(&plan.routing.primary);
    let canary = plan.routing.canary.as_ref().map(|(v, w)| (resolve(v), *w));
    let route = Route {
        primary: &primary,
        canary: canary.as_ref().map(|(v, w)| (v.as_str(), *w)),
    };
    let mut created = None;
    match (&plan.alias, &observed.alias) {
        (AliasStep::Create, _) => {
            created = Some(alias::create(platform, log, function, &request.alias, &primary).await?);
            log.step(&format!("alias {} created: {}", request.alias, route.text()));
        }
        (AliasStep::Update { .. }, Some(before)) => {
            let record = plan::promotion_record(before, &primary);
            let found = look.alias.clone().unwrap_or_else(|| AliasNow::of(before));
            alias::update(
                platform,
                log,
                function,
                (before, &found),
                (route, rule),
                record.as_ref(),
            )
            .await?;
        }
        (_, Some(before)) if rule_changes => {
            let found = look.alias.clone().unwrap_or_else(|| AliasNow::of(before));
            alias::update(platform, log, function, (before, &found), (route, rule), None).await?;
        }
        _ => log.step(&format!("alias {} unchanged: {}", request.alias, route.text())),
    }
    if provisioned && plan.alias != AliasStep::None {
        platform.wait_provisioned(function, &request.alias).await?;
    }
    let mut report = report(published.as_deref());
    if let Some(alias_arn) = created.filter(|_| observed.function_arn.is_empty()) {
        report.function_arn = alias_arn
            .strip_suffix(&format!(":{}", request.alias))
            .unwrap_or_default()
            .to_string();
        report.alias_arn = alias_arn;
    }
    Ok(report)
}

pub(super) fn narrate_plan(plan: &Plan, request: &DeployRequest, rule_changes: bool, log: &Log) {
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
        AliasStep::None if rule_changes => log.step(&format!(
            "would change how alias {alias} routes its canary ({target})"
        )),
        AliasStep::None => log.step(&format!("would leave alias {alias} as it is ({target})")),
        AliasStep::Create => log.step(&format!("would create alias {alias}: {target}")),
        AliasStep::Update { .. } => log.step(&format!("would point alias {alias} at {target}")),
    }
}
