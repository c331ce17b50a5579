//! `deploy --engine codedeploy`: for rollouts too long to hold a CI runner,
//! publish as usual, then hand the traffic shift to AWS CodeDeploy with a
//! Lambda AppSpec, and optionally wait for it.

use std::time::Duration;

use aws_sdk_codedeploy::Client;
use aws_sdk_codedeploy::client::Waiters;
use aws_sdk_codedeploy::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_codedeploy::types::{AppSpecContent, RevisionLocation, RevisionLocationType};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::aws::Lambda;
use crate::deploy::{DeployRequest, publish_code};
use crate::error::{Error, Result};
use crate::monitor::function_name;
use crate::package::Package;
use crate::plan::{Observed, Outcome, Plan};
use crate::report::{AliasReport, Log};
use crate::staged::Target;

/// CodeDeploy, and where and how it runs the shift.
pub struct Handoff {
    pub client: Client,
    pub settings: HandoffSettings,
}

/// Where and how CodeDeploy runs the shift (checked before any request).
#[derive(Debug, Clone, PartialEq)]
pub struct HandoffSettings {
    pub application: String,
    pub deployment_group: String,
    /// Such as `CodeDeployDefault.LambdaCanary10Percent5Minutes`.
    pub config_name: String,
    /// Lambda functions CodeDeploy invokes as hooks.
    pub before_allow_traffic: Option<String>,
    pub after_allow_traffic: Option<String>,
    /// Wait for the deployment to succeed, at most this long.
    pub wait: Option<Duration>,
}

impl std::fmt::Debug for Handoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handoff")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The Lambda AppSpec: shift `alias` of `function` from `current` to `target`.
pub fn appspec(
    function: &str,
    alias: &str,
    current: &str,
    target: &str,
    handoff: &HandoffSettings,
) -> String {
    let name = function_name(function);
    let mut spec = json!({
        "version": 0.0,
        "Resources": [{
            name: {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Name": name,
                    "Alias": alias,
                    "CurrentVersion": current,
                    "TargetVersion": target,
                }
            }
        }]
    });
    let hooks: Vec<serde_json::Value> = [
        ("BeforeAllowTraffic", &handoff.before_allow_traffic),
        ("AfterAllowTraffic", &handoff.after_allow_traffic),
    ]
    .into_iter()
    .filter_map(|(hook, function)| function.as_ref().map(|f| json!({ hook: f })))
    .collect();
    if !hooks.is_empty() {
        spec["Hooks"] = serde_json::Value::Array(hooks);
    }
    spec.to_string()
}

/// Publish (for new code), create the CodeDeploy deployment, and wait if asked.
pub async fn run(
    deploy: (&Lambda, &DeployRequest, &Package),
    observed: &Observed,
    plan: &Plan,
    handoff: &Handoff,
    target: Target,
    log: &Log,
) -> Result<AliasReport> {
    let (lambda, request, package) = deploy;
    let (client, handoff) = (&handoff.client, &handoff.settings);
    let stable = observed
        .alias
        .as_ref()
        .map(|a| a.primary.version.clone())
        .unwrap_or_default();
    let mut report = AliasReport::for_deploy(observed, request, package, Outcome::HandedOff);
    report.previous_version = stable.clone();
    if request.dry_run {
        log.step(&format!(
            "would publish the new code and create a CodeDeploy deployment ({}) in {}/{} shifting {} from version {stable}",
            handoff.config_name, handoff.application, handoff.deployment_group, request.alias
        ));
        return Ok(report);
    }
    let new = match target {
        Target::New => publish_code(lambda, request, package, observed, plan, log)
            .await?
            .unwrap_or_default(),
        Target::Resume { version, .. } => version,
    };
    let content = appspec(&request.function, &request.alias, &stable, &new, handoff);
    let sha256: String = Sha256::digest(content.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let revision = RevisionLocation::builder()
        .revision_type(RevisionLocationType::AppSpecContent)
        .app_spec_content(AppSpecContent::builder().content(content).sha256(sha256).build())
        .build();
    log.detail(&format!(
        "CreateDeployment {}/{}",
        handoff.application, handoff.deployment_group
    ));
    let created = client
        .create_deployment()
        .application_name(&handoff.application)
        .deployment_group_name(&handoff.deployment_group)
        .deployment_config_name(&handoff.config_name)
        .description(&request.description)
        .revision(revision)
        .send()
        .await
        .map_err(|e| {
            let detail = match e.as_service_error() {
                Some(s) => format!(
                    "{}: {}",
                    s.code().unwrap_or("UnknownError"),
                    s.message().unwrap_or_default()
                ),
                None => DisplayErrorContext(&e).to_string(),
            };
            Error::failed(format!(
                "failed to create a CodeDeploy deployment in {}/{}: {detail}",
                handoff.application, handoff.deployment_group
            ))
        })?;
    let id = created.deployment_id().unwrap_or_default().to_string();
    log.step(&format!(
        "CodeDeploy deployment {id} shifts {} from version {stable} to {new} ({})",
        request.alias, handoff.config_name
    ));
    report.version = new;
    report.deployment_id = id.clone();
    if let Some(limit) = handoff.wait {
        log.step(&format!(
            "waiting (at most {}) for deployment {id} to succeed",
            humantime::format_duration(limit)
        ));
        client
            .wait_until_deployment_successful()
            .deployment_id(&id)
            .wait(limit)
            .await
            .map_err(|e| {
                Error::failed(format!(
                    "CodeDeploy deployment {id} did not succeed: {}",
                    DisplayErrorContext(e)
                ))
            })?;
        report.result = Outcome::Published;
        report.canary_weight = 1.0;
    }
    Ok(report)
}
