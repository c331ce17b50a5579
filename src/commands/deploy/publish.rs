//! The step every deploy path shares: turn the plan's code step into a
//! published version (wait for an update in progress, upload directly or
//! through S3, publish guarded by the code hash and `RevisionId`).

use crate::aws::{Clients, NewCode};
use crate::cli::settings::DeployRequest;
use crate::core::observed::{Observed, Serving};
use crate::core::plan::{CodeStep, Outcome, Plan, RolloutTarget};
use crate::error::Result;
use crate::log::Log;
use crate::package::{self, Package};
use crate::report::{About, AliasReport};

/// What one deploy works with, passed to each step and engine.
#[derive(Clone, Copy)]
pub struct Deploy<'a> {
    pub clients: &'a Clients,
    pub request: &'a DeployRequest,
    pub package: &'a Package,
    pub log: &'a Log,
}

impl Deploy<'_> {
    /// What this deploy's reports are about.
    pub fn about(&self) -> About<'_> {
        About {
            function: &self.request.function,
            alias: &self.request.alias,
            dry_run: self.request.dry_run,
        }
    }

    /// A report on this deploy with the fields every deploy knows.
    pub fn report(&self, observed: &Observed, outcome: Outcome) -> AliasReport {
        AliasReport::new(self.about(), observed, &self.package.code_sha256, outcome)
    }
}

/// Carry out the plan's code step. Returns the version this run published, if any.
pub async fn publish_code(deploy: Deploy<'_>, observed: &Observed, plan: &Plan) -> Result<Option<String>> {
    let (clients, request, package, log) = (deploy.clients, deploy.request, deploy.package, deploy.log);
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

/// A deploy handed to an engine: what was observed and planned, and which
/// version the traffic goes to.
pub struct Handover<'a> {
    pub deploy: Deploy<'a>,
    pub observed: &'a Observed,
    pub plan: &'a Plan,
    pub target: RolloutTarget,
    /// The alias has provisioned concurrency: after the switch to the new
    /// version, wait until Lambda has it ready.
    pub provisioned: bool,
}

impl Handover<'_> {
    /// The alias's primary version before the run: what traffic returns to.
    pub fn stable(&self) -> String {
        self.observed
            .alias
            .as_ref()
            .map(|a| a.primary.version.clone())
            .unwrap_or_default()
    }

    /// What the alias served when this run observed it.
    pub fn serving_before(&self) -> Serving {
        self.observed
            .alias
            .as_ref()
            .map(Serving::of)
            .unwrap_or_else(|| Serving {
                primary: self.stable(),
                canary: None,
            })
    }

    /// The version the engine moves traffic to: published now, or the canary resumed.
    pub async fn new_version(&self) -> Result<String> {
        match &self.target {
            RolloutTarget::New => Ok(publish_code(self.deploy, self.observed, self.plan)
                .await?
                .unwrap_or_default()),
            RolloutTarget::Resume { version, .. } => Ok(version.clone()),
        }
    }
}
