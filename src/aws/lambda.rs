//! Lambda: each method is one API step, narrated through the [`Log`], and
//! turns AWS errors into messages that say what failed to happen while keeping
//! the AWS error code and message.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::operation::get_function::GetFunctionError;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    AliasRoutingConfiguration, FunctionCode, FunctionCodeLocation, FunctionConfiguration, LastUpdateStatus,
    PackageType,
};

use crate::aws::config::{is_image, reported, with_config};
use crate::aws::error::{AwsError, Kind, classify, wait_failed};
use crate::core::config::FunctionConfig;
use crate::core::entry::EntryPoints;
use crate::core::observed::{
    AliasNow, AliasState, Canary, Latest, Moved, Observed, Provisioned, Split, VersionDetails, VersionState,
};
use crate::core::prune::{AliasRoutes, Published, parse_last_modified};
use crate::error::{Error, Result};
use crate::log::Log;

/// How often a wait for provisioned concurrency reads it.
const PROVISIONED_POLL: Duration = Duration::from_secs(5);

/// Upper bound for Lambda to finish a code update or activate a version.
const WAIT_LIMIT: Duration = Duration::from_secs(300);

pub struct Lambda {
    pub(super) client: Client,
    pub(super) log: Log,
    /// Client-side pacing of control-plane calls (many functions in one run).
    pacer: Option<std::sync::Arc<governor::DefaultDirectRateLimiter>>,
    /// Pacing of `GetFunction` reads, which AWS counts against a quota of their own.
    read_pacer: Option<std::sync::Arc<governor::DefaultDirectRateLimiter>>,
    /// Pacing of `GetPolicy` reads: AWS gives them their own quota (15 per
    /// second per account and region), apart from the control plane's.
    policy_pacer: Option<std::sync::Arc<governor::DefaultDirectRateLimiter>>,
    /// Every alias this client wrote in the run: what it found, what it
    /// last sent (see [`Lambda::moved`]).
    moved: std::sync::Arc<std::sync::Mutex<HashMap<(String, String), Moved>>>,
    /// Preflight's reads of what invokes each function, kept for its deploy.
    kept_entry_points: KeptEntryPoints,
}

type KeptEntryPoints =
    std::sync::Arc<std::sync::Mutex<HashMap<(String, String), (std::time::Instant, EntryPoints)>>>;

/// How long preflight's read of what invokes a function stands for its
/// deploy: the first wave's targets use it; a target that runs later (after
/// a bake) reads again, so a trigger added meanwhile is seen.
const ENTRY_POINTS_FRESH: Duration = Duration::from_secs(120);

/// What an alias's primary serves, read with `GetFunction` on the alias.
#[derive(Debug, Clone)]
pub struct AliasPrimary {
    pub version: String,
    /// The code's identity (a zip's CodeSha256, an image's digest).
    pub code_sha256: String,
    /// The function's unqualified ARN.
    pub function_arn: String,
}

/// `GetFunction` reads per second at most in a paced run: AWS allows 100,
/// apart from the control-plane quota.
const READS_PER_SECOND: u32 = 80;

/// How often a change refused with ResourceConflictException (another
/// update of the function in progress) is tried again after waiting.
const CONFLICT_TRIES: usize = 3;

impl Lambda {
    pub fn new(client: Client, log: Log) -> Lambda {
        Lambda {
            client,
            log,
            pacer: None,
            read_pacer: None,
            policy_pacer: None,
            moved: Default::default(),
            kept_entry_points: Default::default(),
        }
    }

    /// Keep a read of what invokes `function` (preflight's) for the deploy
    /// of `function:alias` that follows it soon: used once, and only while
    /// [`ENTRY_POINTS_FRESH`]; a deploy later than that reads again.
    pub fn keep_entry_points(&self, function: &str, alias: &str, points: EntryPoints) {
        let mut kept = self.kept_entry_points.lock().unwrap_or_else(|e| e.into_inner());
        kept.insert(
            (function.to_string(), alias.to_string()),
            (std::time::Instant::now(), points),
        );
    }

    /// The read kept by [`Lambda::keep_entry_points`], if still fresh.
    pub(crate) fn kept_entry_points(&self, function: &str, alias: &str) -> Option<EntryPoints> {
        let mut kept = self.kept_entry_points.lock().unwrap_or_else(|e| e.into_inner());
        kept.remove(&(function.to_string(), alias.to_string()))
            .filter(|(at, _)| at.elapsed() < ENTRY_POINTS_FRESH)
            .map(|(_, points)| points)
    }

    /// What this run did to `function:alias`, if it wrote it: the routing
    /// found before the first write and the last one sent. A fleet's wave
    /// rollback and a cancelled run restore what was found.
    pub fn moved(&self, function: &str, alias: &str) -> Option<Moved> {
        let moved = self.moved.lock().unwrap_or_else(|e| e.into_inner());
        moved.get(&(function.to_string(), alias.to_string())).cloned()
    }

    /// Keep this client's control-plane calls (GetAlias, the listings and
    /// every write) under `per_second` requests in every second (Lambda
    /// allows 15 per account and region), its `GetPolicy` reads under as
    /// many again (their own quota of 15), and its `GetFunction` reads under
    /// [`READS_PER_SECOND`]. Calls are spaced evenly, one every
    /// 1/`per_second` s, with no burst: a limiter that let a full second's
    /// calls go at once would send twice the rate in the first second.
    pub fn paced(self, per_second: u32) -> Lambda {
        let limiter = |n: u32| {
            let period = Duration::from_secs(1) / n.max(1);
            let quota = governor::Quota::with_period(period)?.allow_burst(std::num::NonZeroU32::MIN);
            Some(std::sync::Arc::new(governor::RateLimiter::direct(quota)))
        };
        Lambda {
            pacer: limiter(per_second),
            read_pacer: limiter(READS_PER_SECOND.max(per_second)),
            policy_pacer: limiter(per_second),
            ..self
        }
    }

    /// This client, paced by `other`'s pacers: two places (spellings,
    /// roles) that land in one account-region share its quota.
    pub fn paced_like(self, other: &Lambda) -> Lambda {
        Lambda {
            pacer: other.pacer.clone(),
            read_pacer: other.read_pacer.clone(),
            policy_pacer: other.policy_pacer.clone(),
            ..self
        }
    }

    pub(super) async fn pace(&self) {
        if let Some(pacer) = &self.pacer {
            pacer.until_ready().await;
        }
    }

    /// Wait for a `GetPolicy` read's turn (its own quota).
    pub(super) async fn pace_policy(&self) {
        if let Some(pacer) = &self.policy_pacer {
            pacer.until_ready().await;
        }
    }

    /// A function's configuration: `$LATEST`, a version, or what an alias's
    /// primary serves. Read with `GetFunction`, which AWS counts against its
    /// own 100 requests/s quota rather than the 15/s control-plane one.
    async fn configuration(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> std::result::Result<Read, SdkError<GetFunctionError, HttpResponse>> {
        if let Some(pacer) = &self.read_pacer {
            pacer.until_ready().await;
        }
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
    async fn observe_alias(&self, function: &str, alias: &str) -> Result<Option<Observed>> {
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

    async fn version_state(&self, function: &str, version: &str) -> Result<VersionState> {
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
    async fn while_updating<T, E, Fut>(
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
            .set_architectures(super::config::architectures(config))
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

    async fn version_read(
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

    async fn read_version(
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
    async fn updated(&self, function: &str, what: &str) -> Result<Option<String>> {
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
            image: super::config::is_image(config),
            config: super::config::reported(config),
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
                .set_architectures(super::config::architectures(config))
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
    async fn active(
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

    /// The alias as it is now: routing, revision and description (for a
    /// write that must not undo someone else's, or `promote --from-alias`).
    pub async fn alias_now(&self, function: &str, alias: &str) -> Result<AliasNow> {
        self.alias_read(function, alias, AwsError::reading).await
    }

    /// The alias as it is now, or `None` when it does not exist.
    pub async fn alias_if_exists(&self, function: &str, alias: &str) -> Result<Option<AliasNow>> {
        self.pace().await;
        self.log.detail(&format!("GetAlias {function}:{alias}"));
        match self
            .client
            .get_alias()
            .function_name(function)
            .name(alias)
            .send()
            .await
        {
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

    async fn alias_read(
        &self,
        function: &str,
        alias: &str,
        failed: fn(AwsError, &str) -> Error,
    ) -> Result<AliasNow> {
        self.pace().await;
        self.log.detail(&format!("GetAlias {function}:{alias}"));
        let found = self
            .client
            .get_alias()
            .function_name(function)
            .name(alias)
            .send()
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

impl Lambda {
    /// Every item of a listing, one paced request a page (narrated as
    /// `call`): `page(marker)` returns a page's items and the next marker.
    pub(super) async fn all_pages<T, Fut>(
        &self,
        call: &str,
        mut page: impl FnMut(Option<String>) -> Fut,
    ) -> Result<Vec<T>>
    where
        Fut: std::future::Future<Output = Result<(Vec<T>, Option<String>)>>,
    {
        let mut found = Vec::new();
        let mut marker = None;
        loop {
            self.pace().await;
            self.log.detail(call);
            let (items, next) = page(marker).await?;
            found.extend(items);
            match next {
                Some(next) => marker = Some(next),
                None => return Ok(found),
            }
        }
    }

    /// Every published version of the function (not `$LATEST`), with the
    /// date each was published. Read-only.
    pub async fn list_versions(&self, function: &str) -> Result<Vec<Published>> {
        self.all_pages(
            &format!("ListVersionsByFunction {function}"),
            |marker| async move {
                let request = self.client.list_versions_by_function().function_name(function);
                let page = request
                    .set_marker(marker)
                    .max_items(50)
                    .send()
                    .await
                    .map_err(|e| classify(&e).reading(&format!("the versions of {function}")))?;
                let versions = page.versions().iter().filter(|v| v.version() != Some("$LATEST"));
                let items = versions
                    .map(|v| Published {
                        version: v.version().unwrap_or_default().to_string(),
                        published: v.last_modified().and_then(parse_last_modified),
                    })
                    .collect();
                Ok((items, page.next_marker().map(str::to_string)))
            },
        )
        .await
    }

    /// Every alias of the function: what it routes to, and its description.
    pub async fn list_aliases(&self, function: &str) -> Result<Vec<AliasRoutes>> {
        self.all_pages(&format!("ListAliases {function}"), |marker| async move {
            let request = self
                .client
                .list_aliases()
                .function_name(function)
                .set_marker(marker);
            let page = request
                .send()
                .await
                .map_err(|e| classify(&e).reading(&format!("the aliases of {function}")))?;
            let items = page
                .aliases()
                .iter()
                .map(|alias| AliasRoutes {
                    name: alias.name().unwrap_or_default().to_string(),
                    primary: alias.function_version().unwrap_or_default().to_string(),
                    canary: alias
                        .routing_config()
                        .and_then(|r| r.additional_version_weights())
                        .and_then(|w| w.keys().next().cloned()),
                    description: alias.description().unwrap_or_default().to_string(),
                })
                .collect();
            Ok((items, page.next_marker().map(str::to_string)))
        })
        .await
    }

    /// The versions that carry a provisioned-concurrency configuration of
    /// their own (an alias's configuration protects the versions it routes
    /// to already). A function without any is an empty list; an emulator that
    /// does not serve the call answers "not found", read the same way.
    pub async fn provisioned_versions(&self, function: &str) -> Result<Vec<String>> {
        self.all_pages(
            &format!("ListProvisionedConcurrencyConfigs {function}"),
            |marker| async move {
                let request = self
                    .client
                    .list_provisioned_concurrency_configs()
                    .function_name(function);
                let page = match request.set_marker(marker).send().await {
                    Ok(page) => page,
                    Err(e) if classify(&e).kind == Kind::NotFound => return Ok((Vec::new(), None)),
                    Err(e) => {
                        let what = format!("the provisioned-concurrency configurations of {function}");
                        return Err(classify(&e).reading(&what));
                    }
                };
                let qualifiers = page
                    .provisioned_concurrency_configs()
                    .iter()
                    .filter_map(|config| config.function_arn()?.rsplit(':').next().map(str::to_string));
                let items = qualifiers
                    .filter(|q| q.bytes().all(|b| b.is_ascii_digit()))
                    .collect();
                Ok((items, page.next_marker().map(str::to_string)))
            },
        )
        .await
    }

    /// The versions of `function_arn` that an event source mapping names by
    /// version ARN, with the mappings' ids. All mappings are listed (a
    /// listing by function name may leave out those bound to a version).
    pub async fn mapped_versions(&self, function_arn: &str) -> Result<Vec<(String, String)>> {
        let prefix = format!("{function_arn}:");
        let prefix = prefix.as_str();
        self.all_pages("ListEventSourceMappings", |marker| async move {
            let request = self.client.list_event_source_mappings().set_marker(marker);
            let page = request
                .send()
                .await
                .map_err(|e| classify(&e).reading("the event source mappings"))?;
            let mut items = Vec::new();
            for mapping in page.event_source_mappings() {
                let version = mapping.function_arn().and_then(|arn| arn.strip_prefix(prefix));
                if let Some(version) = version.filter(|v| v.bytes().all(|b| b.is_ascii_digit())) {
                    items.push((
                        version.to_string(),
                        mapping.uuid().unwrap_or_default().to_string(),
                    ));
                }
            }
            Ok((items, page.next_marker().map(str::to_string)))
        })
        .await
    }

    /// The provisioned concurrency configured on `alias`, if any. An alias
    /// without one is `None` (as is an emulator that does not serve the call:
    /// it answers "not found").
    pub async fn alias_provisioned(&self, function: &str, alias: &str) -> Result<Option<Provisioned>> {
        self.pace().await;
        self.log
            .detail(&format!("GetProvisionedConcurrencyConfig {function}:{alias}"));
        match self
            .client
            .get_provisioned_concurrency_config()
            .function_name(function)
            .qualifier(alias)
            .send()
            .await
        {
            Ok(config) => Ok(Some(Provisioned {
                requested: config
                    .requested_provisioned_concurrent_executions()
                    .unwrap_or_default(),
                allocated: config
                    .allocated_provisioned_concurrent_executions()
                    .unwrap_or_default(),
                status: config
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                reason: config.status_reason().unwrap_or_default().to_string(),
            })),
            Err(e) if classify(&e).kind == Kind::NotFound => Ok(None),
            Err(e) => {
                let what = format!("the provisioned concurrency of alias {function}:{alias}");
                Err(classify(&e).reading(&what))
            }
        }
    }

    /// Wait until the provisioned concurrency on `alias` is ready (Lambda
    /// moves the alias's traffic to a new version only then), at most
    /// [`WAIT_LIMIT`] twice over. A failed allocation is an error.
    pub async fn wait_provisioned(&self, function: &str, alias: &str) -> Result<()> {
        let limit = 2 * WAIT_LIMIT;
        self.log.step(&format!(
            "waiting (at most {}s) for the provisioned concurrency of alias {alias} to be ready on the new version",
            limit.as_secs()
        ));
        let started = std::time::Instant::now();
        loop {
            let state = self.alias_provisioned(function, alias).await?;
            match state {
                None => return Ok(()),
                Some(p) if p.status == "READY" => {
                    self.log.step(&format!(
                        "provisioned concurrency of alias {alias} ready: {} of {} allocated",
                        p.allocated, p.requested
                    ));
                    return Ok(());
                }
                Some(p) if p.status == "FAILED" => {
                    return Err(Error::failed(format!(
                        "the provisioned concurrency of alias {function}:{alias} could not be allocated on the new version ({}); Lambda keeps serving the old one",
                        p.reason
                    )));
                }
                Some(p) if started.elapsed() >= limit => {
                    return Err(Error::failed(format!(
                        "the provisioned concurrency of alias {function}:{alias} was still {} ({} of {} allocated) after {}s",
                        p.status,
                        p.allocated,
                        p.requested,
                        limit.as_secs()
                    )));
                }
                Some(_) => tokio::time::sleep(PROVISIONED_POLL).await,
            }
        }
    }

    /// Delete one published version. `false` when it was already gone.
    pub async fn delete_version(&self, function: &str, version: &str) -> Result<bool> {
        self.pace().await;
        self.log.detail(&format!("DeleteFunction {function}:{version}"));
        match self
            .client
            .delete_function()
            .function_name(function)
            .qualifier(version)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if classify(&e).kind == Kind::NotFound => Ok(false),
            Err(e) => Err(classify(&e).failed(&format!("delete version {version} of {function}"))),
        }
    }
}

/// The code for `UpdateFunctionCode`: the zip itself, or where it is in S3.
pub enum NewCode<'a> {
    Zip(Vec<u8>),
    /// A zip in S3.
    S3 {
        bucket: String,
        key: String,
    },
    /// A container image, by digest.
    Image(&'a str),
}

/// What `GetFunction` returns of one version: its configuration and where its code is.
struct Read {
    config: FunctionConfiguration,
    code: Option<FunctionCodeLocation>,
    /// The function's tags (returned to a caller that may `ListTags`).
    tags: HashMap<String, String>,
}

impl Read {
    /// The code's identity: an image's digest (from `ResolvedImageUri`,
    /// which names the exact image), else `CodeSha256`.
    fn identity(&self) -> String {
        self.code
            .as_ref()
            .and_then(|c| c.resolved_image_uri())
            .and_then(|uri| uri.rsplit_once("sha256:"))
            .map(|(_, digest)| digest.to_string())
            .unwrap_or_else(|| self.config.code_sha256().unwrap_or_default().to_string())
    }
}

/// A function as `init` reads it ([`Lambda::snapshot`]).
pub struct Snapshot {
    pub function_arn: String,
    /// The version the alias serves (or `$LATEST`).
    pub version: String,
    pub code_sha256: String,
    pub image: bool,
    /// Its whole configuration; environment values included, to be kept in
    /// memory only.
    pub config: FunctionConfig,
    pub tags: std::collections::BTreeMap<String, String>,
    /// A pre-signed URL of the zip (empty for an image).
    pub code_location: String,
}
