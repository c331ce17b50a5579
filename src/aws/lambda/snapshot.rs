//! What `init` reads of a live function: its configuration, code and tags;
//! and the function's tags.

use super::*;

impl Lambda {
    /// What `init` reads of a function (or of the version an alias serves):
    /// the version, its configuration, whether it is an image, the
    /// function's tags and where its code can be downloaded. Read-only.
    pub async fn snapshot(&self, function: &str, qualifier: Option<&str>) -> Result<Snapshot> {
        let what = match qualifier {
            Some(alias) => format!("alias {function}:{alias}"),
            None => format!("function {function}"),
        };
        self.log.detail(&format!(
            "GetFunction {function}{}",
            qualifier.map(|q| format!(":{q}")).unwrap_or_default()
        ));
        let read = self
            .configuration(function, qualifier)
            .await
            .map_err(|e| match classify(&e) {
                e if e.kind == Kind::NotFound => Error::usage(format!("{what} does not exist")),
                e => e.failed(&format!("read {what}")),
            })?;
        let config = &read.config;
        Ok(Snapshot {
            function_arn: config.function_arn().unwrap_or_default().to_string(),
            version: config.version().unwrap_or_default().to_string(),
            code_sha256: config.code_sha256().unwrap_or_default().to_string(),
            image: crate::aws::config::is_image(config),
            config: crate::aws::config::reported(config),
            tags: read.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            code_location: read
                .code
                .as_ref()
                .and_then(|c| c.location())
                .unwrap_or_default()
                .to_string(),
        })
    }

    /// The function's tags (`ListTags`).
    pub async fn tags(&self, function_arn: &str) -> Result<std::collections::BTreeMap<String, String>> {
        self.pace().await;
        self.log.detail(&format!("ListTags {function_arn}"));
        let listed = self
            .client
            .list_tags()
            .resource(function_arn)
            .send()
            .await
            .map_err(|e| classify(&e).failed(&format!("read the tags of {function_arn}")))?;
        Ok(listed
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default())
    }

    /// Make the function's tags `changes` say: add or change, then remove.
    pub async fn retag(&self, function_arn: &str, changes: &crate::core::tags::TagChanges) -> Result<()> {
        if !changes.set.is_empty() {
            self.pace().await;
            self.log.detail(&format!("TagResource {function_arn}"));
            self.client
                .tag_resource()
                .resource(function_arn)
                .set_tags(Some(changes.set.clone().into_iter().collect()))
                .send()
                .await
                .map_err(|e| classify(&e).failed(&format!("tag {function_arn}")))?;
        }
        if !changes.remove.is_empty() {
            self.pace().await;
            self.log.detail(&format!("UntagResource {function_arn}"));
            self.client
                .untag_resource()
                .resource(function_arn)
                .set_tag_keys(Some(changes.remove.clone()))
                .send()
                .await
                .map_err(|e| classify(&e).failed(&format!("untag {function_arn}")))?;
        }
        Ok(())
    }
}
