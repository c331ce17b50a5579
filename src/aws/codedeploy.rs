//! CodeDeploy, for `deploy --engine codedeploy`: create a Lambda deployment
//! from an AppSpec, and wait for it when asked.

use std::time::Duration;

use aws_sdk_codedeploy::Client;
use aws_sdk_codedeploy::client::Waiters;
use aws_sdk_codedeploy::types::{AppSpecContent, RevisionLocation, RevisionLocationType};
use sha2::{Digest, Sha256};

use crate::aws::error::{classify, wait_failed};
use crate::core::appspec::HandoffSettings;
use crate::error::Result;
use crate::log::Log;

pub struct CodeDeploy {
    client: Client,
    log: Log,
}

impl CodeDeploy {
    pub fn new(client: Client, log: Log) -> CodeDeploy {
        CodeDeploy { client, log }
    }

    /// Create a deployment of `appspec` in the application and group of
    /// `handoff`. Returns the deployment's id.
    pub async fn create(
        &self,
        handoff: &HandoffSettings,
        appspec: String,
        description: &str,
    ) -> Result<String> {
        let sha256: String = Sha256::digest(appspec.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let revision = RevisionLocation::builder()
            .revision_type(RevisionLocationType::AppSpecContent)
            .app_spec_content(AppSpecContent::builder().content(appspec).sha256(sha256).build())
            .build();
        self.log.detail(&format!(
            "CreateDeployment {}/{}",
            handoff.application, handoff.deployment_group
        ));
        let created = self
            .client
            .create_deployment()
            .application_name(&handoff.application)
            .deployment_group_name(&handoff.deployment_group)
            .deployment_config_name(&handoff.config_name)
            .description(description)
            .revision(revision)
            .send()
            .await
            .map_err(|e| {
                let group = format!("{}/{}", handoff.application, handoff.deployment_group);
                classify(&e).failed(&format!("create a CodeDeploy deployment in {group}"))
            })?;
        Ok(created.deployment_id().unwrap_or_default().to_string())
    }

    /// Wait until deployment `id` succeeds, at most `limit`.
    pub async fn wait(&self, id: &str, limit: Duration) -> Result<()> {
        self.log.step(&format!(
            "waiting (at most {}) for deployment {id} to succeed",
            humantime::format_duration(limit)
        ));
        self.client
            .wait_until_deployment_successful()
            .deployment_id(id)
            .wait(limit)
            .await
            .map(|_| ())
            .map_err(wait_failed(format!("CodeDeploy deployment {id} did not succeed")))
    }
}
