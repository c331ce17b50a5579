//! The AWS layer: the only code that imports the AWS SDK. One configuration
//! and one set of clients per run ([`Clients`]), built by the command and
//! passed down; one error classifier ([`error`]); one file per service.

pub mod cloudwatch;
pub mod codedeploy;
pub mod config;
pub mod ecr;
pub mod entry_points;
pub mod error;
pub mod lambda;
pub mod platform;
pub mod s3;
pub mod ssm;

use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_lambda::config::ProvideCredentials;

use crate::core::fleet::{Place, Role, session_name};
use crate::core::values::{S3Target, parse_region, region_of_arn};
use crate::error::{Error, Result};
use crate::log::Log;

pub use cloudwatch::Monitor;
pub use codedeploy::CodeDeploy;
pub use ecr::Registry;
pub use lambda::{Lambda, NewCode};
pub use s3::Store;
pub use ssm::Parameters;

/// Every AWS client a command may use, built once from one configuration.
/// Building a client sends no request; only the ones a run needs are used.
pub struct Clients {
    /// The region every client sends to.
    pub region: String,
    pub lambda: Lambda,
    pub s3: Store,
    pub cloudwatch: Monitor,
    pub codedeploy: CodeDeploy,
    pub ecr: Registry,
    pub ssm: Parameters,
    /// The narrator for this account-region's targets.
    pub log: Log,
    /// The account these clients act in, once known: the assumed role's,
    /// or read (`sts:GetCallerIdentity`) the first time it is needed.
    pub account: tokio::sync::OnceCell<String>,
    /// The configuration the clients were built from (for a client built
    /// only when needed, such as STS's).
    pub config: SdkConfig,
}

impl Clients {
    /// Load the configuration (checking region and credentials), then build
    /// the clients. A `Fleet` run paces its Lambda calls at `per_second`.
    pub async fn connect(region: Option<&str>, calls: Calls, log: Log) -> Result<Clients> {
        Clients::connect_at(&Place::default(), region, calls, log, None).await
    }

    /// [`Clients::connect`] for one place of a fleet: its region (else
    /// `region`), and, when it names a role, credentials from assuming that
    /// role once with the run's own (refreshed by the SDK before they
    /// expire). The role is assumed here, so a role that cannot be assumed
    /// fails before any target is read.
    /// `assumed`: the place's role, assumed once for the run and shared by
    /// every region it reaches (see [`assume_once`]); a place with a role
    /// and none given assumes it here.
    pub async fn connect_at(
        place: &Place,
        region: Option<&str>,
        calls: Calls,
        log: Log,
        assumed: Option<&Assumed>,
    ) -> Result<Clients> {
        let mut config = load_config(place.region.as_deref().or(region), calls, log).await?;
        if let Some(role) = &place.role {
            let own;
            let assumed = match assumed {
                Some(assumed) => assumed,
                None => {
                    own = assume_once(&config, role, log).await?;
                    &own
                }
            };
            config = assumed.configure(&config);
        }
        let clients = Clients::new(&config, log);
        if let Some(role) = &place.role {
            let _ = clients.account.set(role.account().to_string());
        }
        Ok(match calls {
            Calls::One => clients,
            Calls::Fleet { per_second } => clients.paced(per_second),
        })
    }

    /// The clients for a configuration already loaded (tests build one from
    /// mocked SDK clients instead).
    pub fn new(config: &SdkConfig, log: Log) -> Clients {
        Clients {
            region: config.region().map(|r| r.to_string()).unwrap_or_default(),
            lambda: Lambda::new(lambda_client(config), log),
            s3: Store::new(aws_sdk_s3::Client::new(config), log),
            cloudwatch: Monitor::new(aws_sdk_cloudwatch::Client::new(config), log),
            codedeploy: CodeDeploy::new(aws_sdk_codedeploy::Client::new(config), log),
            ecr: Registry::new(aws_sdk_ecr::Client::new(config), log),
            ssm: Parameters::new(aws_sdk_ssm::Client::new(config), log),
            log,
            account: tokio::sync::OnceCell::new(),
            config: config.clone(),
        }
    }

    /// A fleet run's clients: Lambda's control plane and CloudWatch's reads
    /// each kept under `per_second` in every second (each its own quota).
    pub fn paced(self, per_second: u32) -> Clients {
        Clients {
            lambda: self.lambda.paced(per_second),
            cloudwatch: self.cloudwatch.paced(per_second),
            ..self
        }
    }
}

impl Clients {
    /// Where this place's packages go: `--s3-bucket` with `{region}` and
    /// `{account}` filled in.
    pub async fn s3_target(&self, target: &S3Target) -> Result<S3Target> {
        let account = if target.needs_account() {
            self.account().await?
        } else {
            String::new()
        };
        Ok(target.at(&self.region, &account))
    }

    /// The account these clients act in. `sts:GetCallerIdentity` needs no
    /// permission.
    pub async fn account(&self) -> Result<String> {
        self.account
            .get_or_try_init(|| async {
                let sts = aws_sdk_sts::Client::new(&self.config);
                self.log
                    .detail("GetCallerIdentity (the account the credentials act in)");
                let identity = sts.get_caller_identity().send().await.map_err(|e| {
                    Error::failed(format!(
                        "cannot read the account the credentials act in (sts:GetCallerIdentity): {}",
                        error::chain(&e)
                    ))
                })?;
                Ok(identity.account().unwrap_or_default().to_string())
            })
            .await
            .cloned()
    }

    /// A function given as an ARN of another region than the clients' is
    /// refused before any request: Lambda would answer "not found", and a
    /// deploy would have run against the wrong region's aliases.
    pub fn refuse_other_region(&self, function: &str) -> Result<()> {
        match region_of_arn(function) {
            Some(region) if region != self.region => Err(Error::usage(format!(
                "function {function} is in {region}, but the region is {}: pass --region {region} (or set AWS_REGION), or give the function's name",
                self.region
            ))),
            _ => Ok(()),
        }
    }
}

/// A role assumed once for the run: its credentials provider and one
/// credentials cache that every client of every region using the role
/// shares, so the role is assumed once however many regions and services
/// its targets reach (the SDK refreshes it before it expires).
#[derive(Clone)]
pub struct Assumed {
    credentials: aws_sdk_lambda::config::SharedCredentialsProvider,
    cache: aws_sdk_lambda::config::SharedIdentityCache,
}

impl Assumed {
    /// `config` acting as the role.
    fn configure(&self, config: &SdkConfig) -> SdkConfig {
        config
            .to_builder()
            .credentials_provider(self.credentials.clone())
            .identity_cache(self.cache.clone())
            .build()
    }
}

/// Assume `role` with `config`'s credentials (its session named after the
/// run, so CloudTrail shows which run did what), now — through the shared
/// cache, with one `sts:GetCallerIdentity` — so that a role that cannot be
/// assumed fails before any target is read. Nothing about the credentials
/// is ever printed.
pub async fn assume_once(config: &SdkConfig, role: &Role, log: Log) -> Result<Assumed> {
    let unix_seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let session = session_name(
        std::env::var("GITHUB_RUN_ID").ok().as_deref(),
        std::env::var("GITHUB_RUN_ATTEMPT").ok().as_deref(),
        unix_seconds,
    );
    log.detail(&format!("AssumeRole {} as session {session}", role.arn));
    let mut builder = aws_config::sts::AssumeRoleProvider::builder(role.arn.clone())
        .session_name(session)
        .configure(config);
    if let Some(id) = &role.external_id {
        builder = builder.external_id(id.clone());
    }
    let assumed = Assumed {
        credentials: aws_sdk_lambda::config::SharedCredentialsProvider::new(builder.build().await),
        cache: aws_config::identity::IdentityCache::lazy().build(),
    };
    aws_sdk_sts::Client::new(&assumed.configure(config))
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| {
            Error::failed(format!(
                "cannot assume role {} (sts:AssumeRole, and the role's trust policy must allow this caller): {}",
                role.arn,
                error::chain(&e)
            ))
        })?;
    Ok(assumed)
}

/// Load the standard AWS configuration (env, profile, web identity, instance
/// role; `AWS_ENDPOINT_URL` honoured) and check that a region and credentials
/// are there before any request is made.
pub async fn load_config(region: Option<&str>, calls: Calls, log: Log) -> Result<SdkConfig> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts())
        .http_client(https_client());
    // The user's AWS_RETRY_MODE / AWS_MAX_ATTEMPTS win over ours.
    if std::env::var_os("AWS_RETRY_MODE").is_none() && std::env::var_os("AWS_MAX_ATTEMPTS").is_none() {
        loader = loader.retry_config(retries(calls));
    }
    if let Some(region) = region {
        loader = loader.region(aws_sdk_lambda::config::Region::new(region.to_string()));
    }
    let config = loader.load().await;
    let Some(region) = config.region() else {
        return Err(Error::usage(
            "no AWS region configured: set AWS_REGION (or --region, or a region in the AWS profile)",
        ));
    };
    // From AWS_REGION or a profile: checked here, before any request.
    parse_region(region.as_ref()).map_err(|why| {
        Error::usage(format!(
            "the AWS region from AWS_REGION (or the AWS profile) is not usable: {why}; fix it, or pass --region"
        ))
    })?;
    log.detail(&format!("region {region}"));
    let Some(credentials) = config.credentials_provider() else {
        return Err(no_credentials("no credentials provider"));
    };
    credentials.provide_credentials().await.map_err(|e| {
        log.detail(&error::detail(&e));
        no_credentials(&error::chain(&e))
    })?;
    Ok(config)
}

/// The Lambda client: a throttle is retried after the time Lambda's answer
/// asks for ([`RetryAfter`]).
fn lambda_client(config: &SdkConfig) -> aws_sdk_lambda::Client {
    let config = aws_sdk_lambda::config::Builder::from(config)
        .retry_classifier(RetryAfter)
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

/// Lambda's throttle (HTTP 429 `TooManyRequestsException`) says how long to
/// wait: `retryAfterSeconds` in its body, or a `Retry-After` header. The
/// retry then waits that long (at most the backoff limit) rather than a
/// guessed backoff, so a throttled call is waited out instead of spending
/// its attempts too early.
#[derive(Debug)]
struct RetryAfter;

impl aws_sdk_lambda::config::retry::ClassifyRetry for RetryAfter {
    fn classify_retry(
        &self,
        ctx: &aws_sdk_lambda::config::interceptors::InterceptorContext,
    ) -> aws_sdk_lambda::config::retry::RetryAction {
        use aws_sdk_lambda::config::retry::RetryAction;
        let Some(response) = ctx.response().filter(|r| r.status().as_u16() == 429) else {
            return RetryAction::NoActionIndicated;
        };
        let from_body = response
            .body()
            .bytes()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(bytes).ok())
            .and_then(|body| {
                let wait = body.get("retryAfterSeconds")?;
                wait.as_f64().or_else(|| wait.as_str()?.trim().parse().ok())
            });
        let from_header = || {
            response
                .headers()
                .get("retry-after")
                .and_then(|v| v.trim().parse::<f64>().ok())
        };
        match from_body
            .or_else(from_header)
            .filter(|s| s.is_finite() && *s >= 0.0)
        {
            Some(seconds) => RetryAction::retryable_error_with_explicit_delay(
                aws_smithy_types::retry::ErrorKind::ThrottlingError,
                Duration::from_secs_f64(seconds.min(MAX_BACKOFF.as_secs_f64())),
            ),
            None => RetryAction::throttling_error(),
        }
    }

    fn name(&self) -> &'static str {
        "Lambda retryAfterSeconds"
    }

    fn priority(&self) -> aws_smithy_runtime_api::client::retries::classifiers::RetryClassifierPriority {
        use aws_smithy_runtime_api::client::retries::classifiers::RetryClassifierPriority;
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// The longest wait between two attempts of one call.
const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// Throttling (429), 5xx answers, connection resets and timeouts are retried
/// by the SDK, at most [`MAX_ATTEMPTS`] attempts per call with jittered
/// exponential backoff from 0.5 s up to 20 s.
pub const MAX_ATTEMPTS: u32 = 5;

/// Attempts per call in a manifest run: a throttle there comes from the
/// account-region's shared quota (other jobs, other tools), and is waited
/// out for as long as Lambda asks, within the call's time limit, rather
/// than failing the function.
pub const FLEET_MAX_ATTEMPTS: u32 = 10;

/// How many calls share one client, which decides the retry mode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Calls {
    /// One function: standard mode. The SDK's adaptive mode measures the
    /// client's own sending rate and, after a throttle, holds a client that
    /// sends a handful of calls to a fraction of that: one deploy through two
    /// throttles took 48-84 s instead of 5-10 s in the fault tests.
    One,
    /// A manifest: many functions through one client, paced at `per_second`
    /// control-plane calls, evenly; a throttle is retried after the time
    /// Lambda asks for, up to [`FLEET_MAX_ATTEMPTS`] attempts. (The SDK's
    /// adaptive mode is not used: after a throttle its own limiter would
    /// override both the pacing and the wait Lambda asked for.)
    Fleet { per_second: u32 },
}

fn retries(calls: Calls) -> aws_config::retry::RetryConfig {
    let attempts = match calls {
        Calls::One => MAX_ATTEMPTS,
        Calls::Fleet { .. } => FLEET_MAX_ATTEMPTS,
    };
    aws_config::retry::RetryConfig::standard()
        .with_max_attempts(attempts)
        .with_initial_backoff(Duration::from_millis(500))
        .with_max_backoff(MAX_BACKOFF)
}

/// Every call is bounded: 10 s to connect, 2 minutes to the first byte of an
/// answer (an upload of 50 MiB included), 10 minutes for a call with all its retries.
fn timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(120))
        .operation_timeout(Duration::from_secs(600))
        .build()
}

/// HTTPS for every client: rustls with the ring crypto provider.
fn https_client() -> aws_sdk_lambda::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

fn no_credentials(detail: &str) -> Error {
    Error::usage(format!(
        "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or a web identity (OIDC) role ({detail})"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_lambda::config::interceptors::InterceptorContext;
    use aws_sdk_lambda::config::retry::{ClassifyRetry, RetryAction};
    use aws_smithy_runtime_api::client::interceptors::context::Input;
    use aws_smithy_types::retry::ErrorKind;

    fn answer(status: u16, body: &'static str, retry_after: Option<&str>) -> RetryAction {
        let mut ctx = InterceptorContext::new(Input::doesnt_matter());
        let mut response = aws_sdk_lambda::config::http::HttpResponse::new(
            status.try_into().unwrap(),
            aws_sdk_lambda::primitives::SdkBody::from(body),
        );
        if let Some(value) = retry_after {
            response.headers_mut().insert("Retry-After", value.to_string());
        }
        ctx.set_response(response);
        RetryAfter.classify_retry(&ctx)
    }

    #[test]
    fn a_throttle_is_retried_after_the_time_lambda_asks_for() {
        let throttled = |seconds: f64| {
            RetryAction::retryable_error_with_explicit_delay(
                ErrorKind::ThrottlingError,
                Duration::from_secs_f64(seconds),
            )
        };
        let body =
            r#"{"Reason":"CallerRateLimitExceeded","message":"Rate exceeded","retryAfterSeconds":"3"}"#;
        assert_eq!(answer(429, body, None), throttled(3.0));
        assert_eq!(
            answer(429, r#"{"message":"Rate exceeded"}"#, Some("2")),
            throttled(2.0)
        );
        assert_eq!(
            answer(429, r#"{"retryAfterSeconds":"600"}"#, None),
            throttled(20.0)
        );
        assert_eq!(answer(429, "", None), RetryAction::throttling_error());
        assert_eq!(answer(500, body, None), RetryAction::NoActionIndicated);
    }
}
