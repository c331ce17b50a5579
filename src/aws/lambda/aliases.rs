//! Reading and writing an alias: create, the guarded update (recorded
//! before it is sent), the alias as it is now.

use super::*;

impl Lambda {
    /// Create the alias on one version. Returns its ARN.
    pub async fn create_alias(&self, function: &str, alias: &str, version: &str) -> Result<String> {
        self.pace().await;
        self.log
            .detail(&format!("CreateAlias {function}:{alias} → {version}"));
        let created = self
            .client
            .create_alias()
            .function_name(function)
            .name(alias)
            .function_version(version)
            .send()
            .await
            .map_err(|e| {
                let raced = |err| {
                    Error::Conflict(format!(
                        "create alias {function}:{alias}: another run created it meanwhile ({err})"
                    ))
                };
                classify(&e).unless(Kind::Conflict, raced, &format!("create alias {function}:{alias}"))
            })?;
        Ok(created.alias_arn().unwrap_or_default().to_string())
    }

    /// Point the alias at `primary`, plus `canary` at a weight (or no canary),
    /// guarded by the `RevisionId` of `found`, the alias as the change was
    /// planned from it. The write is recorded before it is sent.
    pub async fn update_alias(
        &self,
        function: &str,
        alias: &str,
        primary: &str,
        canary: Option<(&str, f64)>,
        description: Option<&str>,
        found: &AliasNow,
    ) -> Result<Option<String>> {
        let revision_id = found.revision_id.as_deref();
        {
            let sent = AliasNow {
                primary: primary.to_string(),
                canary: canary.map(|(v, w)| (v.to_string(), Split::Weight(w))),
                revision_id: None,
                description: description.unwrap_or(&found.description).to_string(),
            };
            let mut moved = self.moved.lock().unwrap_or_else(|e| e.into_inner());
            moved
                .entry((function.to_string(), alias.to_string()))
                .and_modify(|m| m.sent = sent.clone())
                .or_insert_with(|| Moved {
                    found: found.clone(),
                    sent,
                });
        }
        self.pace().await;
        self.log
            .detail(&format!("UpdateAlias {function}:{alias} → {primary} {canary:?}"));
        let weights: HashMap<String, f64> = canary.map(|(v, w)| (v.to_string(), w)).into_iter().collect();
        let updated = self
            .client
            .update_alias()
            .function_name(function)
            .name(alias)
            .function_version(primary)
            .routing_config(
                AliasRoutingConfiguration::builder()
                    .set_additional_version_weights(Some(weights))
                    .build(),
            )
            .set_description(description.map(str::to_string))
            .set_revision_id(revision_id.map(str::to_string))
            .send()
            .await
            .map_err(|e| classify(&e).writing(&format!("update alias {function}:{alias}")))?;
        Ok(updated.revision_id().map(str::to_string))
    }

    /// The alias as it is now: routing, revision and description (for a
    /// write that must not undo someone else's, or `promote --from-alias`).
    pub async fn alias_now(&self, function: &str, alias: &str) -> Result<AliasNow> {
        self.alias_read(function, alias, AwsError::reading).await
    }

    /// One paced, narrated `GetAlias`, its error as the SDK gave it.
    async fn get_alias(
        &self,
        function: &str,
        alias: &str,
    ) -> std::result::Result<
        aws_sdk_lambda::operation::get_alias::GetAliasOutput,
        SdkError<aws_sdk_lambda::operation::get_alias::GetAliasError, HttpResponse>,
    > {
        self.pace().await;
        self.log.detail(&format!("GetAlias {function}:{alias}"));
        self.client
            .get_alias()
            .function_name(function)
            .name(alias)
            .send()
            .await
    }

    /// The alias as it is now, or `None` when it does not exist.
    pub async fn alias_if_exists(&self, function: &str, alias: &str) -> Result<Option<AliasNow>> {
        match self.get_alias(function, alias).await {
            Ok(found) => Ok(Some(alias_now_of(&found))),
            Err(e) if classify(&e).kind == Kind::NotFound => Ok(None),
            Err(e) => Err(classify(&e).reading(&format!("alias {function}:{alias}"))),
        }
    }

    /// An alias the user named (`--from-alias`): one that does not exist is
    /// bad input (exit 2).
    pub async fn named_alias(&self, function: &str, alias: &str) -> Result<AliasNow> {
        self.alias_read(function, alias, AwsError::reading_named).await
    }

    /// The version the alias's primary serves (`$LATEST` included), or
    /// `None` when the alias does not exist. Read with `GetFunction` on the
    /// alias, so a fleet's preflight spends none of the 15/s control-plane
    /// quota its writes need.
    pub async fn alias_primary(&self, function: &str, alias: &str) -> Result<Option<AliasPrimary>> {
        self.log.detail(&format!("GetFunction {function}:{alias}"));
        match self.configuration(function, Some(alias)).await {
            Ok(read) => {
                let arn = read.config.function_arn().unwrap_or_default();
                // `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`
                let function_arn = arn.splitn(8, ':').take(7).collect::<Vec<_>>().join(":");
                Ok(Some(AliasPrimary {
                    version: read.config.version().unwrap_or_default().to_string(),
                    code_sha256: read.identity(),
                    function_arn,
                }))
            }
            Err(e) if classify(&e).kind == Kind::NotFound => Ok(None),
            Err(e) => Err(classify(&e).reading(&format!("alias {function}:{alias}"))),
        }
    }

    pub(super) async fn alias_read(
        &self,
        function: &str,
        alias: &str,
        failed: fn(AwsError, &str) -> Error,
    ) -> Result<AliasNow> {
        let found = self
            .get_alias(function, alias)
            .await
            .map_err(|e| failed(classify(&e), &format!("alias {function}:{alias}")))?;
        Ok(alias_now_of(&found))
    }
}

/// An alias as `GetAlias` answers it.
fn alias_now_of(found: &aws_sdk_lambda::operation::get_alias::GetAliasOutput) -> AliasNow {
    AliasNow {
        primary: found.function_version().unwrap_or_default().to_string(),
        canary: found
            .routing_config()
            .and_then(|r| r.additional_version_weights())
            .and_then(|w| w.iter().next().map(|(v, w)| (v.clone(), Split::Weight(*w)))),
        revision_id: found.revision_id().map(str::to_string),
        description: found.description().unwrap_or_default().to_string(),
    }
}
