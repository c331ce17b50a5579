//! The AWS layer: the only code that imports the AWS SDK. One configuration
//! and one set of clients per run ([`Clients`]), built by the command and
//! passed down; one error classifier ([`error`]); one file per service.

pub mod cloudwatch;
pub mod codedeploy;
pub mod config;
pub mod ecr;
pub mod error;
pub mod lambda;
pub mod s3;

use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_lambda::config::ProvideCredentials;

use crate::core::values::{parse_region, region_of_arn};
use crate::error::{Error, Result};
use crate::log::Log;

pub use cloudwatch::Monitor;
pub use codedeploy::CodeDeploy;
pub use ecr::Registry;
pub use lambda::{Lambda, NewCode};
pub use s3::Store;

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
}

impl Clients {
    /// Load the configuration (checking region and credentials), then build
    /// the clients. A `Fleet` run paces its Lambda calls at `per_second`.
    pub async fn connect(region: Option<&str>, calls: Calls, log: Log) -> Result<Clients> {
        let config = load_config(region, calls, log).await?;
        let clients = Clients::new(&config, log);
        Ok(match calls {
            Calls::One => clients,
            Calls::Fleet { per_second } => Clients {
                lambda: clients.lambda.paced(per_second),
                ..clients
            },
        })
    }

    /// The clients for a configuration already loaded (tests build one from
    /// mocked SDK clients instead).
    pub fn new(config: &SdkConfig, log: Log) -> Clients {
        Clients {
            region: config.region().map(|r| r.to_string()).unwrap_or_default(),
            lambda: Lambda::new(aws_sdk_lambda::Client::new(config), log),
            s3: Store::new(aws_sdk_s3::Client::new(config), log),
            cloudwatch: Monitor::new(aws_sdk_cloudwatch::Client::new(config), log),
            codedeploy: CodeDeploy::new(aws_sdk_codedeploy::Client::new(config), log),
            ecr: Registry::new(aws_sdk_ecr::Client::new(config), log),
        }
    }
}

impl Clients {
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

/// Throttling (429), 5xx answers, connection resets and timeouts are retried
/// by the SDK, at most [`MAX_ATTEMPTS`] attempts per call with jittered
/// exponential backoff from 0.5 s up to 20 s.
pub const MAX_ATTEMPTS: u32 = 5;

/// How many calls share one client, which decides the retry mode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Calls {
    /// One function: standard mode. The SDK's adaptive mode measures the
    /// client's own sending rate and, after a throttle, holds a client that
    /// sends a handful of calls to a fraction of that: one deploy through two
    /// throttles took 48-84 s instead of 5-10 s in the fault tests.
    One,
    /// A manifest: many functions through one client, paced at `per_second`
    /// control-plane calls; adaptive mode slows the whole run down while AWS
    /// throttles it.
    Fleet { per_second: u32 },
}

fn retries(calls: Calls) -> aws_config::retry::RetryConfig {
    let config = match calls {
        Calls::One => aws_config::retry::RetryConfig::standard(),
        Calls::Fleet { .. } => aws_config::retry::RetryConfig::adaptive(),
    };
    config
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(500))
        .with_max_backoff(Duration::from_secs(20))
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
