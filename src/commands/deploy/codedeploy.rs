//! `deploy --engine codedeploy`: for rollouts too long to hold a CI runner,
//! publish as usual, then hand the traffic shift to AWS CodeDeploy with a
//! Lambda AppSpec, and optionally wait for it.

use crate::aws::Clients;
use crate::commands::deploy::release::Handover;
use crate::core::appspec::{HandoffSettings, appspec};
use crate::core::plan::Outcome;
use crate::error::Result;
use crate::report::AliasReport;

/// Publish (for new code), create the CodeDeploy deployment, and wait if asked.
pub async fn run(handover: Handover<'_, Clients>, handoff: &HandoffSettings) -> Result<AliasReport> {
    let deploy = handover.deploy;
    let (clients, request, log) = (deploy.conn, deploy.request, deploy.log);
    let stable = handover.stable();
    let mut report = handover.report(Outcome::HandedOff);
    report.previous_version = stable.clone();
    if request.dry_run {
        log.step(&format!(
            "would publish the new release and create a CodeDeploy deployment ({}) in {}/{} shifting {} from version {stable}",
            handoff.config_name, handoff.application, handoff.deployment_group, request.alias
        ));
        return Ok(report);
    }
    let new = handover.new_version().await?;
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
