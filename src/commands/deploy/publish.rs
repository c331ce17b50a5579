//! The step every deploy path shares: turn the plan's code step into a
//! published version (wait for an update in progress, upload directly or
//! through S3, publish guarded by the code hash and `RevisionId`).

use crate::aws::{Clients, NewCode};
use crate::cli::settings::DeployRequest;
use crate::core::observed::Observed;
use crate::core::plan::{CodeStep, Plan, RolloutTarget};
use crate::error::Result;
use crate::log::Log;
use crate::package::{self, Package};

/// What one deploy works with, passed to each step and engine.
#[derive(Clone, Copy)]
pub struct Deploy<'a> {
    pub clients: &'a Clients,
    pub request: &'a DeployRequest,
    pub package: &'a Package,
    pub log: &'a Log,
}

/// Carry out the plan's code step. Returns the version this run published, if any.
pub async fn publish_code(deploy: Deploy<'_>, observed: &Observed, plan: &Plan) -> Result<Option<String>> {
    let Deploy {
        clients,
        request,
        package,
        log,
    } = deploy;
    let (lambda, function) = (&clients.lambda, request.function.as_str());
    if plan.wait_for_update {
        lambda.wait_for_update(function).await?;
    }
    let latest_revision = observed
        .latest
        .as_ref()
        .and_then(|latest| latest.revision_id.clone());
    let revision = match plan.code {
        CodeStep::None => return Ok(None),
        CodeStep::PublishLatest => {
            log.step("publishing the code already in $LATEST (no upload needed)");
            latest_revision
        }
        CodeStep::UploadAndPublish => {
            log.step(&format!(
                "uploading {} to {function}{}",
                package::human_bytes(package.zip.len() as u64),
                if request.s3.is_some() { " through S3" } else { "" }
            ));
            let revision = latest_revision.as_deref();
            match &request.s3 {
                None => {
                    lambda
                        .upload(function, NewCode::Zip(package.zip.clone()), revision)
                        .await?
                }
                Some(target) => {
                    let stored = clients.s3.put(target, function, package).await?;
                    let code = NewCode::S3 {
                        bucket: &stored.bucket,
                        key: &stored.key,
                    };
                    lambda.upload(function, code, revision).await?
                }
            }
        }
    };
    let version = lambda
        .publish(
            function,
            &package.code_sha256,
            &request.description,
            revision.as_deref(),
        )
        .await?;
    Ok(Some(version))
}

/// The alias's primary version before the run: what traffic returns to.
pub fn stable_version(observed: &Observed) -> String {
    observed
        .alias
        .as_ref()
        .map(|a| a.primary.version.clone())
        .unwrap_or_default()
}

/// The version an engine moves traffic to: published now, or the canary resumed.
pub async fn new_version(
    deploy: Deploy<'_>,
    observed: &Observed,
    plan: &Plan,
    target: RolloutTarget,
) -> Result<String> {
    match target {
        RolloutTarget::New => Ok(publish_code(deploy, observed, plan).await?.unwrap_or_default()),
        RolloutTarget::Resume { version, .. } => Ok(version),
    }
}
