//! The step every deploy path shares: turn the plan's code step into a
//! published version (wait for an update in progress, upload directly,
//! through S3 or as an image, write the configuration, publish guarded by the
//! code hash and `RevisionId`; or create the function).

use crate::aws::{Clients, NewCode};
use crate::cli::settings::DeployRequest;
use crate::core::config::FunctionConfig;
use crate::core::observed::{Observed, Serving};
use crate::core::plan::{CodeStep, Outcome, Plan, RolloutTarget, configure_text};
use crate::core::record::Record;
use crate::error::Result;
use crate::log::Log;
use crate::package::{self, Package};
use crate::report::{About, AliasReport};

/// The code a release ships: a zip, or a container image by digest.
pub enum Code {
    Zip(Package),
    Image {
        /// The image by digest (`…/REPO@sha256:…`): what the version gets.
        uri: String,
        /// The digest's hex digits: the code's identity, as Lambda reports
        /// it in `CodeSha256` for an image.
        digest: String,
    },
}

impl Code {
    /// What "unchanged" compares: a zip's CodeSha256, an image's digest.
    pub fn identity(&self) -> &str {
        match self {
            Code::Zip(package) => &package.code_sha256,
            Code::Image { digest, .. } => digest,
        }
    }

    pub fn is_image(&self) -> bool {
        matches!(self, Code::Image { .. })
    }
}

/// What one deploy works with, passed to each step and engine.
#[derive(Clone, Copy)]
pub struct Deploy<'a> {
    pub clients: &'a Clients,
    pub request: &'a DeployRequest,
    pub code: &'a Code,
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

    /// Send the code where Lambda takes it from: the zip itself, the zip
    /// through S3 (uploaded now), or the image.
    async fn new_code(&self) -> Result<NewCode<'_>> {
        let function = self.request.function.as_str();
        match (self.code, &self.request.s3) {
            (Code::Image { uri, .. }, _) => Ok(NewCode::Image(uri)),
            (Code::Zip(package), None) => Ok(NewCode::Zip(package.zip.clone())),
            (Code::Zip(package), Some(target)) => {
                let target = self.clients.s3_target(target).await?;
                let stored = self.clients.s3.put(&target, function, package).await?;
                Ok(NewCode::S3 {
                    bucket: stored.bucket,
                    key: stored.key,
                })
            }
        }
    }

    /// "12.3 KiB through S3", "image …@sha256:…".
    fn code_text(&self) -> String {
        match self.code {
            Code::Image { uri, .. } => format!("image {uri}"),
            Code::Zip(package) => format!(
                "{}{}",
                package::human_bytes(package.zip.len() as u64),
                if self.request.s3.is_some() {
                    " through S3"
                } else {
                    ""
                }
            ),
        }
    }
}

/// Carry out the plan's code step. Returns the version this run published, if any.
pub async fn publish_code(deploy: Deploy<'_>, observed: &Observed, plan: &Plan) -> Result<Option<String>> {
    let (request, log) = (deploy.request, deploy.log);
    let (lambda, function) = (&deploy.clients.lambda, request.function.as_str());
    let unnamed = FunctionConfig::default();
    let config = request.config.as_ref().unwrap_or(&unnamed);
    if plan.code == CodeStep::Create {
        log.step(&format!(
            "creating function {function} with {} and {}",
            deploy.code_text(),
            match config.named_keys().as_slice() {
                [] => "Lambda's default configuration".to_string(),
                keys => keys.join(", "),
            }
        ));
        let code = deploy.new_code().await?;
        return Ok(Some(
            lambda
                .create_function(function, code, config, &request.description)
                .await?,
        ));
    }
    if plan.wait_for_update {
        lambda.wait_for_update(function).await?;
    }
    let mut revision = observed
        .latest
        .as_ref()
        .and_then(|latest| latest.revision_id.clone());
    if matches!(plan.code, CodeStep::None | CodeStep::Create) {
        return Ok(None);
    }
    // The configuration first: when Lambda refuses it, $LATEST still holds
    // what it held (an upload first would leave the new code there).
    if let Some(changes) = configure_text(plan) {
        log.step(&format!("updating the configuration of {function}: {changes}"));
        revision = lambda.configure(function, config, revision.as_deref()).await?;
    }
    if plan.code == CodeStep::UploadAndPublish {
        log.step(&format!("uploading {} to {function}", deploy.code_text()));
        let code = deploy.new_code().await?;
        revision = lambda.upload(function, code, config, revision.as_deref()).await?;
    } else {
        log.step("$LATEST already holds the code (no upload needed)");
    }
    // An image's CodeSha256 is Lambda's to report: the publish is guarded by
    // the RevisionId alone.
    let guard = match deploy.code {
        Code::Zip(package) => Some(package.code_sha256.as_str()),
        Code::Image { .. } => None,
    };
    let version = lambda
        .publish(function, guard, &request.description, revision.as_deref())
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
    /// A report on this deploy with the fields every engine knows: what the
    /// release brings and the configuration keys it writes, as planned.
    pub fn report(&self, outcome: Outcome) -> AliasReport {
        let (about, identity) = (self.deploy.about(), self.deploy.code.identity());
        let planned = AliasReport::for_plan(about, self.observed, identity, self.plan, None);
        AliasReport {
            configuration: planned.configuration,
            release: planned.release,
            ..AliasReport::new(about, self.observed, identity, outcome)
        }
    }

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

    /// The rollback record the alias's description held when observed.
    pub fn recorded_before(&self) -> Record {
        self.observed
            .alias
            .as_ref()
            .map(|a| Record::parse(&a.description))
            .unwrap_or_default()
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
