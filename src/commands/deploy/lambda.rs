//! Lambda's side of a release ([`Release`] for the AWS clients of a
//! place): upload directly, through S3 or as an image, publish guarded by
//! the code hash and `RevisionId` (or create the function); values from
//! Parameter Store; the CodeDeploy hand-off; the URL and the tags after.

use super::*;
use crate::aws::NewCode;
use crate::commands::deploy::release::Release;
use crate::core::appspec::HandoffSettings;
use crate::core::config::FunctionConfig;
use crate::platform::Look;

impl Deploy<'_, Clients> {
    /// Send the code where Lambda takes it from: the zip itself, the zip
    /// through S3 (uploaded now), or the image.
    async fn new_code(&self) -> Result<NewCode<'_>> {
        let function = self.request.function.as_str();
        match (self.code, &self.request.s3) {
            (Code::Image { uri, .. }, _) => Ok(NewCode::Image(uri)),
            (Code::Zip(package), None) => Ok(NewCode::Zip(package.zip.clone())),
            (Code::Zip(package), Some(target)) => {
                let target = self.conn.s3_target(target).await?;
                let stored = self.conn.s3.put(&target, function, package).await?;
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

impl Release for Clients {
    const IDENTITY: &'static str = "CodeSha256";

    fn check_zip(package: &Package, staged: bool) -> Result<()> {
        if package.exceeds_direct_upload() && !staged {
            return Err(Error::usage(format!(
                "the zip is {}, over Lambda's {} direct-upload limit: set --s3-bucket (and optionally --s3-key-prefix) to deploy it through S3",
                package::human_bytes(package.zip.len() as u64),
                package::human_bytes(package::DIRECT_UPLOAD_LIMIT)
            )));
        }
        Ok(())
    }

    async fn image_code(&self, image: &ImageRef) -> Result<Code> {
        image_code(self, image).await
    }

    async fn observe_release(&self, function: &str, alias: &str) -> Result<Look> {
        let observed = self.lambda.observe_with_latest(function, alias).await?;
        let alias = observed.alias.as_ref().map(AliasNow::of);
        Ok(Look { observed, alias })
    }

    fn refuse_unfit(&self, request: &DeployRequest, image: bool, observed: &Observed) -> Result<()> {
        if let Some(refusal) = plan::latest_alias_refused(&request.function, &request.alias, observed) {
            return Err(Error::usage(refusal));
        }
        fits_the_function(request, image, observed)
    }

    async fn preflight(&self, job: &DeployJob, identity: Option<&str>) -> Result<()> {
        preflight_check(self, job, identity).await
    }

    /// Carry out the plan's code step. Returns the version this run published, if any.
    async fn publish_code(
        &self,
        deploy: Deploy<'_, Self>,
        observed: &Observed,
        plan: &Plan,
    ) -> Result<Option<String>> {
        let (request, log) = (deploy.request, deploy.log);
        let (lambda, function) = (&self.lambda, request.function.as_str());
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

    async fn smoke(&self, function: &str, version: &str, payload: &[u8]) -> std::result::Result<(), String> {
        match self.lambda.invoke(function, version, payload.to_vec()).await {
            Ok((None, _)) => Ok(()),
            Ok((Some(error), body)) => {
                let body: String = body.chars().take(300).collect();
                Err(format!(
                    "the smoke invoke of version {version} returned a function error ({error}): {body}"
                ))
            }
            Err(e) => Err(e.to_string()),
        }
    }

    async fn with_parameters(&self, request: &DeployRequest, log: &Log) -> Result<Option<DeployRequest>> {
        with_parameters(self, request, log).await
    }

    async fn hand_off(&self, handover: Handover<'_, Self>, handoff: &HandoffSettings) -> Result<AliasReport> {
        codedeploy::run(handover, handoff).await
    }

    async fn after(&self, request: &DeployRequest, report: AliasReport, log: &Log) -> Result<AliasReport> {
        let report = url_after(self, request, report, log).await?;
        tags_after(self, request, report, log).await
    }
}
