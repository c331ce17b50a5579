//! `deploy --engine codedeploy`: for rollouts too long to hold a CI runner,
//! publish as usual, then hand the traffic shift to AWS CodeDeploy with a
//! Lambda AppSpec, and optionally wait for it.

use crate::commands::deploy::publish::{Deploy, new_version, stable_version};
use crate::core::appspec::{HandoffSettings, appspec};
use crate::core::observed::Observed;
use crate::core::plan::{Outcome, Plan, RolloutTarget};
use crate::error::Result;
use crate::report::{About, AliasReport};

/// Publish (for new code), create the CodeDeploy deployment, and wait if asked.
pub async fn run(
    deploy: Deploy<'_>,
    observed: &Observed,
    plan: &Plan,
    handoff: &HandoffSettings,
    target: RolloutTarget,
) -> Result<AliasReport> {
    let Deploy {
        clients,
        request,
        package,
        log,
    } = deploy;
    let stable = stable_version(observed);
    let about = About {
        function: &request.function,
        alias: &request.alias,
        dry_run: request.dry_run,
    };
    let mut report = AliasReport::new(about, observed, &package.code_sha256, Outcome::HandedOff);
    report.previous_version = stable.clone();
    if request.dry_run {
        log.step(&format!(
            "would publish the new code and create a CodeDeploy deployment ({}) in {}/{} shifting {} from version {stable}",
            handoff.config_name, handoff.application, handoff.deployment_group, request.alias
        ));
        return Ok(report);
    }
    let new = new_version(deploy, observed, plan, target).await?;
    let content = appspec(&request.function, &request.alias, &stable, &new, handoff);
    let id = clients
        .codedeploy
        .create(handoff, content, &request.description)
        .await?;
    log.step(&format!(
        "CodeDeploy deployment {id} shifts {} from version {stable} to {new} ({})",
        request.alias, handoff.config_name
    ));
    report.version = new;
    report.deployment_id = id.clone();
    if let Some(limit) = handoff.wait {
        clients.codedeploy.wait(&id, limit).await?;
        report.result = Outcome::Published;
        report.canary_weight = 1.0;
    }
    Ok(report)
}
