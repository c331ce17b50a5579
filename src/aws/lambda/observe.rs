//! Reading a function and its alias: `$LATEST`, the alias and the
//! versions it serves, a version's details.

use super::*;

impl Lambda {
    /// A function's configuration: `$LATEST`, a version, or what an alias's
    /// primary serves. Read with `GetFunction`, which AWS counts against its
    /// own 100 requests/s quota rather than the 15/s control-plane one.
    pub(super) async fn configuration(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> std::result::Result<Read, SdkError<GetFunctionError, HttpResponse>> {
        self.read_pacer.wait().await;
        let found = self
            .client
            .get_function()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await?;
        Ok(Read {
            config: found
                .configuration
                .unwrap_or_else(|| FunctionConfiguration::builder().build()),
            code: found.code,
            tags: found.tags.unwrap_or_default(),
        })
    }

    /// Read the alias and the code hash of each version it serves. `$LATEST`
    /// is read only when the alias does not exist; a deploy that has code to
    /// publish reads it with [`Lambda::latest`]. Read-only.
    pub async fn observe(&self, function: &str, alias: &str) -> Result<Observed> {
        match self.observe_alias(function, alias).await? {
            Some(observed) => Ok(observed),
            // A missing alias or a missing function: `$LATEST` tells which.
            None => {
                let (function_arn, latest) = self.latest(function).await?;
                Ok(Observed {
                    function_arn,
                    latest: Some(latest),
                    alias: None,
                    function_missing: false,
                })
            }
        }
    }

    /// [`Lambda::observe`] and `$LATEST`, read at the same time (a deploy
    /// compares both). A function that does not exist is observed as
    /// missing, not refused: a deploy may create it.
    pub async fn observe_with_latest(&self, function: &str, alias: &str) -> Result<Observed> {
        let (observed, latest) = tokio::join!(
            self.observe_alias(function, alias),
            self.latest_if_exists(function)
        );
        let Some((function_arn, latest)) = latest? else {
            return Ok(Observed {
                function_arn: String::new(),
                latest: None,
                alias: None,
                function_missing: true,
            });
        };
        Ok(match observed? {
            Some(observed) => Observed {
                latest: Some(latest),
                ..observed
            },
            None => Observed {
                function_arn,
                latest: Some(latest),
                alias: None,
                function_missing: false,
            },
        })
    }

    /// The alias and the versions it serves; `None` when the alias (or the
    /// function) does not exist.
    pub(super) async fn observe_alias(&self, function: &str, alias: &str) -> Result<Option<Observed>> {
        self.pace().await;
        self.log
            .detail(&format!("GetAlias {alias} + GetFunction {function}:{alias}"));
        let (found_alias, primary_config) = tokio::join!(
            self.client.get_alias().function_name(function).name(alias).send(),
            self.configuration(function, Some(alias)),
        );
        let found_alias = match found_alias {
            Ok(found) => found,
            Err(e) if classify(&e).kind == Kind::NotFound => return Ok(None),
            Err(e) => return Err(classify(&e).reading(&format!("alias {function}:{alias}"))),
        };
        let alias_arn = found_alias.alias_arn().unwrap_or_default().to_string();
        let function_arn = alias_arn
            .strip_suffix(&format!(":{alias}"))
            .unwrap_or(function)
            .to_string();
        let primary = found_alias.function_version().unwrap_or("$LATEST").to_string();
        // The alias-qualified read is the primary's configuration, unless the
        // alias moved between the two reads: then read the primary itself.
        let primary_known = primary_config
            .ok()
            .filter(|read| primary != "$LATEST" && read.config.version() == Some(primary.as_str()))
            .map(|read| VersionState {
                version: primary.clone(),
                code_sha256: read.identity(),
                config: reported(&read.config),
            });
        let canary = found_alias
            .routing_config()
            .and_then(|r| r.additional_version_weights())
            .and_then(|weights| weights.iter().next())
            .map(|(version, weight)| (version.clone(), *weight));
        let (primary, canary_state) = tokio::join!(
            async {
                match primary_known {
                    Some(known) => Ok(known),
                    None => self.version_state(function, &primary).await,
                }
            },
            async {
                match &canary {
                    Some((version, _)) => Some(self.version_state(function, version).await),
                    None => None,
                }
            }
        );
        let canary = match (canary, canary_state) {
            (Some((_, weight)), Some(state)) => Some(Canary {
                version: state?,
                weight,
            }),
            _ => None,
        };
        let alias = AliasState {
            arn: if alias_arn.is_empty() {
                format!("{function_arn}:{alias}")
            } else {
                alias_arn
            },
            revision_id: found_alias.revision_id().map(str::to_string),
            description: found_alias.description().unwrap_or_default().to_string(),
            primary: primary?,
            canary,
        };
        Ok(Some(Observed {
            function_arn,
            latest: None,
            alias: Some(alias),
            function_missing: false,
        }))
    }

    /// `$LATEST`, or `None` when the function does not exist.
    pub async fn latest_if_exists(&self, function: &str) -> Result<Option<(String, Latest)>> {
        self.log.detail(&format!("GetFunction {function}"));
        let read = match self.configuration(function, None).await {
            Ok(read) => read,
            Err(e) if classify(&e).kind == Kind::NotFound => return Ok(None),
            Err(e) => return Err(classify(&e).reading(&format!("function {function}"))),
        };
        let latest = &read.config;
        let function_arn = latest.function_arn().unwrap_or(function);
        let function_arn = function_arn
            .strip_suffix(":$LATEST")
            .unwrap_or(function_arn)
            .to_string();
        Ok(Some((
            function_arn,
            Latest {
                code_sha256: read.identity(),
                config: reported(latest),
                image: is_image(latest),
                revision_id: latest.revision_id().map(str::to_string),
                update_in_progress: latest.last_update_status() == Some(&LastUpdateStatus::InProgress),
            },
        )))
    }

    /// `$LATEST`: the function's ARN, code, configuration, revision and
    /// update status. A function that does not exist is refused by name
    /// (promote, rollback, status and prune act on an existing function;
    /// deploy, which can create one, says how itself).
    pub async fn latest(&self, function: &str) -> Result<(String, Latest)> {
        self.latest_if_exists(function).await?.ok_or_else(|| {
            Error::failed(format!(
                "function {function} does not exist (or is in another region or account): check --function-name and --region, or deploy it first"
            ))
        })
    }

    pub(super) async fn version_state(&self, function: &str, version: &str) -> Result<VersionState> {
        if version == "$LATEST" {
            let (_, latest) = self.latest(function).await?;
            return Ok(VersionState {
                version: version.into(),
                code_sha256: latest.code_sha256,
                config: latest.config,
            });
        }
        let read = self.read_version(function, version, AwsError::reading).await?;
        Ok(VersionState {
            version: version.to_string(),
            code_sha256: read.identity(),
            config: reported(&read.config),
        })
    }

    /// One published version: its code hash, description and last change.
    /// A version that does not exist is refused by name.
    pub async fn version(&self, function: &str, version: &str) -> Result<VersionDetails> {
        self.version_read(function, version, AwsError::reading).await
    }

    /// A version the user named: one that does not exist is bad input (exit 2).
    pub async fn named_version(&self, function: &str, version: &str) -> Result<VersionDetails> {
        self.version_read(function, version, AwsError::reading_named)
            .await
    }

    pub(super) async fn version_read(
        &self,
        function: &str,
        version: &str,
        failed: fn(AwsError, &str) -> Error,
    ) -> Result<VersionDetails> {
        let read = self.read_version(function, version, failed).await?;
        let config = &read.config;
        let mut environment_keys: Vec<String> = config
            .environment()
            .and_then(|e| e.variables())
            .map(|v| v.keys().cloned().collect())
            .unwrap_or_default();
        environment_keys.sort();
        Ok(VersionDetails {
            version: version.to_string(),
            code_sha256: read.identity(),
            description: config.description().unwrap_or_default().to_string(),
            last_modified: config.last_modified().unwrap_or_default().to_string(),
            runtime: config
                .runtime()
                .map(|r| r.as_str().to_string())
                .unwrap_or_default(),
            memory_size: config.memory_size(),
            timeout: config.timeout(),
            architecture: config
                .architectures()
                .first()
                .map_or("x86_64", |a| a.as_str())
                .to_string(),
            environment_keys,
            image_uri: read
                .code
                .as_ref()
                .and_then(|c| c.resolved_image_uri().or(c.image_uri()))
                .unwrap_or_default()
                .to_string(),
        })
    }

    pub(super) async fn read_version(
        &self,
        function: &str,
        version: &str,
        failed: fn(AwsError, &str) -> Error,
    ) -> Result<Read> {
        self.log.detail(&format!("GetFunction {function}:{version}"));
        self.configuration(function, Some(version))
            .await
            .map_err(|e| failed(classify(&e), &format!("version {version} of {function}")))
    }
}
