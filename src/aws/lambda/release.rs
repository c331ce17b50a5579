//! Writing a release: wait for an update, upload the code, write the
//! configuration, publish, create the function, invoke a version.

use super::*;

impl Lambda {
    /// Wait until `$LATEST` has no update in progress.
    pub async fn wait_for_update(&self, function: &str) -> Result<()> {
        self.log.step(&format!(
            "waiting (at most {}s) for the update in progress on {function} to finish",
            WAIT_LIMIT.as_secs()
        ));
        self.client
            .wait_until_function_updated_v2()
            .function_name(function)
            .wait(WAIT_LIMIT)
            .await
            .map(|_| ())
            .map_err(wait_failed(format!("{function} did not finish updating")))
    }

    /// Send a change to the function; while Lambda refuses it because another
    /// update is in progress (ResourceConflictException), wait for that update
    /// (bounded) and try again, at most [`CONFLICT_TRIES`] times.
    pub(super) async fn while_updating<T, E, Fut>(
        &self,
        function: &str,
        what: &str,
        mut send: impl FnMut() -> Fut,
    ) -> Result<T>
    where
        Fut: std::future::Future<Output = std::result::Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let mut tries = 1;
        loop {
            match send().await {
                Ok(out) => return Ok(out),
                Err(e) if classify(&e).kind == Kind::Conflict && tries < CONFLICT_TRIES => {
                    self.log.warn(&format!(
                        "{what}: Lambda says another update of {function} is in progress ({})",
                        classify(&e)
                    ));
                    self.wait_for_update(function).await?;
                    tries += 1;
                    self.pace().await;
                }
                Err(e) => return Err(classify(&e).writing(what)),
            }
        }
    }

    /// Upload the zip to `$LATEST` and wait until Lambda has taken it.
    /// Returns the `RevisionId` after the update, for the publish that follows.
    /// `config`'s `Architectures`, when it names them, go with the code (the
    /// configuration update has no such key).
    pub async fn upload(
        &self,
        function: &str,
        code: NewCode<'_>,
        config: &FunctionConfig,
        revision_id: Option<&str>,
    ) -> Result<Option<String>> {
        self.pace().await;
        if let Some(architectures) = &config.architectures {
            self.log.detail(&format!(
                "Architectures {} with the code",
                architectures.join(", ")
            ));
        }
        let request = self
            .client
            .update_function_code()
            .function_name(function)
            .set_architectures(crate::aws::config::architectures(config))
            .set_revision_id(revision_id.map(str::to_string));
        let request = match code {
            NewCode::Zip(zip) => {
                self.log
                    .detail(&format!("UpdateFunctionCode {function} ({} bytes)", zip.len()));
                request.zip_file(Blob::new(zip))
            }
            NewCode::S3 { bucket, key } => {
                self.log
                    .detail(&format!("UpdateFunctionCode {function} from s3://{bucket}/{key}"));
                request.s3_bucket(bucket).s3_key(key)
            }
            NewCode::Image(uri) => {
                self.log
                    .detail(&format!("UpdateFunctionCode {function} ImageUri={uri}"));
                request.image_uri(uri)
            }
        };
        let updated = self
            .while_updating(function, &format!("upload code to {function}"), || {
                request.clone().send()
            })
            .await?;
        self.log.step(&format!(
            "uploaded: $LATEST of {function} now has CodeSha256 {}",
            updated.code_sha256().unwrap_or("?")
        ));
        if updated.last_update_status() == Some(&LastUpdateStatus::Successful) {
            return Ok(updated.revision_id().map(str::to_string));
        }
        self.updated(function, "the code update").await
    }

    /// Publish `$LATEST` as a version, guarded by its code hash, and wait until
    /// the version is active. Returns the version number.
    pub async fn publish(
        &self,
        function: &str,
        code_sha256: Option<&str>,
        description: &str,
        revision_id: Option<&str>,
    ) -> Result<String> {
        self.pace().await;
        self.log.detail(&format!(
            "PublishVersion {function} CodeSha256={}",
            code_sha256.unwrap_or("(not checked)")
        ));
        let request = self
            .client
            .publish_version()
            .function_name(function)
            .set_code_sha256(code_sha256.map(str::to_string))
            .description(description)
            .set_revision_id(revision_id.map(str::to_string));
        let published = self
            .while_updating(function, &format!("publish a version of {function}"), || {
                request.clone().send()
            })
            .await?;
        let version = published
            .version()
            .ok_or_else(|| Error::failed(format!("publishing {function} returned no version number")))?
            .to_string();
        if let Some(code_sha256) =
            code_sha256.filter(|wanted| published.code_sha256().is_some_and(|hash| hash != *wanted))
        {
            // AWS refuses such a publish (CodeSha256 guard); an emulator may
            // not. Either way another upload replaced $LATEST meanwhile.
            return Err(Error::Conflict(format!(
                "publish a version of {function}: $LATEST changed concurrently (version {version} has CodeSha256 {}, expected {code_sha256})",
                published.code_sha256().unwrap_or_default()
            )));
        }
        self.log
            .step(&format!("published version {version} of {function}"));
        self.active(function, &version, published.state()).await?;
        Ok(version)
    }

    /// Write `config`'s named keys to `$LATEST`, guarded by `revision_id`,
    /// and wait until Lambda has taken them. Returns the new `RevisionId`.
    pub async fn configure(
        &self,
        function: &str,
        config: &FunctionConfig,
        revision_id: Option<&str>,
    ) -> Result<Option<String>> {
        self.pace().await;
        self.log.detail(&format!(
            "UpdateFunctionConfiguration {function} ({})",
            config.named_keys().join(", ")
        ));
        let request = with_config!(
            self.client
                .update_function_configuration()
                .function_name(function),
            config
        )
        .set_revision_id(revision_id.map(str::to_string));
        let updated = self
            .while_updating(
                function,
                &format!("update the configuration of {function}"),
                || request.clone().send(),
            )
            .await?;
        if updated.last_update_status() == Some(&LastUpdateStatus::Successful) {
            return Ok(updated.revision_id().map(str::to_string));
        }
        self.updated(function, "the configuration update").await
    }

    /// Wait until the update in progress on `$LATEST` is done; its `RevisionId`.
    pub(super) async fn updated(&self, function: &str, what: &str) -> Result<Option<String>> {
        self.log.step(&format!(
            "waiting (at most {}s) for Lambda to finish {what} of {function}",
            WAIT_LIMIT.as_secs()
        ));
        let waited = self
            .client
            .wait_until_function_updated_v2()
            .function_name(function)
            .wait(WAIT_LIMIT)
            .await
            .map_err(wait_failed(format!("{what} of {function} did not complete")))?;
        Ok(waited.into_result().ok().and_then(|out| {
            out.configuration()
                .and_then(|c| c.revision_id())
                .map(str::to_string)
        }))
    }

    /// Create the function with its code and configuration, publishing
    /// version 1, and wait until that version is active. Returns its number.
    pub async fn create_function(
        &self,
        function: &str,
        code: NewCode<'_>,
        config: &FunctionConfig,
        description: &str,
    ) -> Result<String> {
        self.pace().await;
        self.log.detail(&format!(
            "CreateFunction {function} ({}) Publish=true",
            config.named_keys().join(", ")
        ));
        let (package_type, code) = match code {
            NewCode::Zip(zip) => (PackageType::Zip, FunctionCode::builder().zip_file(Blob::new(zip))),
            NewCode::S3 { bucket, key } => (
                PackageType::Zip,
                FunctionCode::builder().s3_bucket(bucket).s3_key(key),
            ),
            NewCode::Image(uri) => (PackageType::Image, FunctionCode::builder().image_uri(uri)),
        };
        let request = with_config!(
            self.client
                .create_function()
                .function_name(function)
                .package_type(package_type)
                .code(code.build())
                .description(description)
                .publish(true)
                .set_architectures(crate::aws::config::architectures(config))
                .set_tags(config.tags.clone().map(|t| t.into_iter().collect())),
            config
        );
        let created = request.send().await.map_err(|e| {
            let raced = |err| {
                Error::Conflict(format!(
                    "create function {function}: another run created it meanwhile ({err})"
                ))
            };
            classify(&e).unless(Kind::Conflict, raced, &format!("create function {function}"))
        })?;
        let version = created
            .version()
            .filter(|v| *v != "$LATEST")
            .ok_or_else(|| Error::failed(format!("creating {function} published no version")))?
            .to_string();
        self.log
            .step(&format!("created function {function} with version {version}"));
        self.active(function, &version, created.state()).await?;
        Ok(version)
    }

    /// Wait until a published version is active, unless `state` says it is.
    pub(super) async fn active(
        &self,
        function: &str,
        version: &str,
        state: Option<&aws_sdk_lambda::types::State>,
    ) -> Result<()> {
        if state == Some(&aws_sdk_lambda::types::State::Active) {
            return Ok(());
        }
        self.log.step(&format!(
            "waiting (at most {}s) for version {version} of {function} to become active",
            WAIT_LIMIT.as_secs()
        ));
        // GetFunction (its own 100/s quota, and in every command's policy),
        // not the GetFunctionConfiguration that the older waiter polls.
        self.client
            .wait_until_function_active_v2()
            .function_name(function)
            .qualifier(version)
            .wait(WAIT_LIMIT)
            .await
            .map(|_| ())
            .map_err(wait_failed(format!(
                "version {version} of {function} did not become active"
            )))
    }

    /// Invoke one version with a payload. Returns the function error (if
    /// the function failed) and the response payload.
    pub async fn invoke(
        &self,
        function: &str,
        version: &str,
        payload: Vec<u8>,
    ) -> Result<(Option<String>, String)> {
        self.pace().await;
        self.log.detail(&format!("Invoke {function}:{version}"));
        let out = self
            .client
            .invoke()
            .function_name(function)
            .qualifier(version)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| classify(&e).failed(&format!("invoke version {version} of {function}")))?;
        let body = out
            .payload()
            .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned())
            .unwrap_or_default();
        Ok((out.function_error().map(str::to_string), body))
    }
}
