//! One signed SCF API call: JSON over HTTPS, TC3-HMAC-SHA256, retried when
//! Tencent Cloud says to try again. The only code that sends SCF requests.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::error::Error;
use crate::log::Log;
use crate::pace::Pace;
use crate::scf::sign::{self, Credentials, SIGNED_HEADERS};
use crate::secrets;

pub const API_VERSION: &str = "2018-04-16";
pub const DEFAULT_ENDPOINT: &str = "https://scf.tencentcloudapi.com";
/// Tencent Cloud Observability's API, where SCF's function metrics are read.
pub const MONITOR_API_VERSION: &str = "2018-07-24";
pub const DEFAULT_MONITOR_ENDPOINT: &str = "https://monitor.tencentcloudapi.com";

/// One of the two APIs a run calls: SCF's, or Tencent Cloud
/// Observability's (`monitor`).
#[derive(Debug, Clone)]
struct Api {
    service: &'static str,
    version: &'static str,
    url: String,
    host: String,
}

impl Api {
    fn at(service: &'static str, version: &'static str, url: &str, variable: &str) -> Result<Api, Error> {
        let host = endpoint_host(url).ok_or_else(|| {
            Error::usage(format!(
                "{variable} '{url}' is not an endpoint: expected http(s)://HOST[:PORT], such as {}",
                if service == "scf" {
                    DEFAULT_ENDPOINT
                } else {
                    DEFAULT_MONITOR_ENDPOINT
                }
            ))
        })?;
        Ok(Api {
            service,
            version,
            url: url.trim_end_matches('/').to_string(),
            host,
        })
    }
}

/// Attempts per call when the answer says to try again (request limit,
/// internal error) or the connection failed.
const ATTEMPTS: u32 = 5;

/// An SCF error: Tencent's code (`ResourceNotFound.Alias`, …) and message,
/// or `Network` for a request that got no answer.
#[derive(Debug, Clone)]
pub struct ScfError {
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for ScfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // SCF may quote what it was sent: every held value is masked.
        write!(f, "{}: {}", self.code, secrets::redact(&self.message))
    }
}

impl ScfError {
    /// `ResourceNotFound` or one of its sub-codes.
    pub fn not_found(&self) -> bool {
        self.code == "ResourceNotFound" || self.code.starts_with("ResourceNotFound.")
    }

    fn retryable(&self) -> bool {
        self.code == "Network"
            || self.code.starts_with("RequestLimitExceeded")
            || self.code.starts_with("InternalError")
            || self.code == "ResourceUnavailable"
    }

    /// "failed to <what>: CODE: message".
    pub fn failed(self, what: &str) -> Error {
        Error::failed(format!("failed to {what}: {self}"))
    }

    /// A read of something the user named: missing is bad input (exit 2).
    pub fn reading_named(self, thing: &str) -> Error {
        if self.not_found() {
            Error::usage(format!("{thing} does not exist: {self}"))
        } else {
            Error::failed(format!("failed to read {thing}: {self}"))
        }
    }
}

/// Where requests go and who signs them.
pub struct Client {
    /// `https://scf.tencentcloudapi.com`, or `TENCENTCLOUD_ENDPOINT_URL`.
    scf: Api,
    /// `https://monitor.tencentcloudapi.com`, or
    /// `TENCENTCLOUD_MONITOR_ENDPOINT_URL`.
    monitor: Api,
    pub region: String,
    credentials: Credentials,
    agent: ureq::Agent,
    log: Log,
    /// A fleet run's pace in this region (shared by its namespaces).
    pacer: Pace,
}

impl Client {
    /// Credentials from `TENCENTCLOUD_SECRET_ID`, `TENCENTCLOUD_SECRET_KEY`
    /// and `TENCENTCLOUD_SESSION_TOKEN` (optional), as Tencent's SDKs and
    /// `tccli` read them; the endpoint from `TENCENTCLOUD_ENDPOINT_URL`
    /// (`http(s)://HOST[:PORT]`, default the public API), and the metrics'
    /// from `TENCENTCLOUD_MONITOR_ENDPOINT_URL`. The key and the token are
    /// held as secrets: never shown.
    pub fn from_env(region: &str, log: Log) -> Result<Client, Error> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let (Some(secret_id), Some(secret_key)) =
            (var("TENCENTCLOUD_SECRET_ID"), var("TENCENTCLOUD_SECRET_KEY"))
        else {
            return Err(Error::usage(
                "--platform scf needs Tencent Cloud credentials: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (and TENCENTCLOUD_SESSION_TOKEN for temporary credentials)",
            ));
        };
        let token = var("TENCENTCLOUD_SESSION_TOKEN");
        let url = var("TENCENTCLOUD_ENDPOINT_URL").unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        let client = Client::new(&url, region, (secret_id, secret_key, token), log)?;
        match var("TENCENTCLOUD_MONITOR_ENDPOINT_URL") {
            Some(monitor) => client.with_monitor(&monitor),
            None => Ok(client),
        }
    }

    /// This client, reading metrics at `url` rather than the public API.
    pub fn with_monitor(self, url: &str) -> Result<Client, Error> {
        let monitor = Api::at(
            "monitor",
            MONITOR_API_VERSION,
            url,
            "TENCENTCLOUD_MONITOR_ENDPOINT_URL",
        )?;
        Ok(Client { monitor, ..self })
    }

    /// A client of the endpoint `url` with these credentials (secret id,
    /// secret key, session token); the key and the token are held as
    /// secrets from here on.
    pub fn new(
        url: &str,
        region: &str,
        (secret_id, secret_key, token): (String, String, Option<String>),
        log: Log,
    ) -> Result<Client, Error> {
        secrets::hold(&secret_key);
        if let Some(token) = &token {
            secrets::hold(token);
        }
        let scf = Api::at("scf", API_VERSION, url, "TENCENTCLOUD_ENDPOINT_URL")?;
        let monitor = Api::at(
            "monitor",
            MONITOR_API_VERSION,
            DEFAULT_MONITOR_ENDPOINT,
            "TENCENTCLOUD_MONITOR_ENDPOINT_URL",
        )?;
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(120)))
            .http_status_as_error(false)
            .build()
            .new_agent();
        Ok(Client {
            scf,
            monitor,
            region: region.to_string(),
            credentials: Credentials {
                secret_id,
                secret_key,
                token,
            },
            agent,
            log,
            pacer: Pace::default(),
        })
    }

    /// Keep this client's requests (each attempt) under `per_second` in
    /// every second, spaced evenly with no burst, as a fleet run's
    /// `--max-requests-per-second` asks in each region.
    pub fn paced(self, per_second: u32) -> Client {
        Client {
            pacer: Pace::per_second(per_second),
            ..self
        }
    }

    /// This client, sharing `other`'s pace (another namespace of its region).
    pub fn paced_like(self, other: &Client) -> Client {
        Client {
            pacer: other.pacer.clone(),
            ..self
        }
    }

    /// Call `action` with `params`; the answer's `Response` without its
    /// `RequestId`. Retries what SCF says to retry, with a growing pause.
    pub async fn call(&self, action: &str, params: Value) -> Result<Value, ScfError> {
        self.call_api(&self.scf, action, params).await
    }

    /// [`Client::call`] to Tencent Cloud Observability (SCF's metrics).
    pub async fn call_monitor(&self, action: &str, params: Value) -> Result<Value, ScfError> {
        self.call_api(&self.monitor, action, params).await
    }

    async fn call_api(&self, api: &Api, action: &str, params: Value) -> Result<Value, ScfError> {
        self.log.detail(&format!("{} {action}", api.service));
        let body = serde_json::to_vec(&params).unwrap_or_default();
        let mut pause = Duration::from_millis(200);
        for attempt in 1..=ATTEMPTS {
            match self.send(api, action, &body).await {
                Err(e) if e.retryable() && attempt < ATTEMPTS => {
                    self.log.detail(&format!(
                        "{} {action}: {e}; trying again in {pause:?}",
                        api.service
                    ));
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
                other => return other,
            }
        }
        unreachable!("the last attempt returns")
    }

    async fn send(&self, api: &Api, action: &str, body: &[u8]) -> Result<Value, ScfError> {
        self.pacer.wait().await;
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let request = sign::Request {
            host: &api.host,
            service: api.service,
            action,
            version: api.version,
            region: &self.region,
            timestamp,
            body,
        };
        let headers = sign::headers(&self.credentials, &request, &SIGNED_HEADERS);
        let (agent, url, body) = (self.agent.clone(), format!("{}/", api.url), body.to_vec());
        let answer = tokio::task::spawn_blocking(move || {
            let mut post = agent.post(&url);
            for (name, value) in &headers {
                post = post.header(name, value);
            }
            let mut response = post.send(&body[..]).map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            let text = response.body_mut().read_to_string().map_err(|e| e.to_string())?;
            Ok::<_, String>((status, text))
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
        let (status, text) = answer.map_err(|message| ScfError {
            code: "Network".into(),
            message,
        })?;
        let parsed: Value = serde_json::from_str(&text).map_err(|_| ScfError {
            code: if status >= 500 {
                "InternalError"
            } else {
                "InvalidResponse"
            }
            .into(),
            message: format!("HTTP {status}, not an API answer"),
        })?;
        let mut response = parsed.get("Response").cloned().unwrap_or(json!({}));
        if let Some(error) = response.get("Error") {
            let text = |key: &str| {
                error
                    .get(key)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            return Err(ScfError {
                code: text("Code"),
                message: text("Message"),
            });
        }
        if let Some(map) = response.as_object_mut() {
            map.remove("RequestId");
        }
        Ok(response)
    }
}

/// `HOST[:PORT]` of an `http(s)://HOST[:PORT][/]` endpoint.
fn endpoint_host(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?
        .trim_end_matches('/');
    let valid = !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    valid.then(|| rest.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_is_a_scheme_and_a_host() {
        assert_eq!(
            endpoint_host("https://scf.tencentcloudapi.com").as_deref(),
            Some("scf.tencentcloudapi.com")
        );
        assert_eq!(
            endpoint_host("http://127.0.0.1:8080/").as_deref(),
            Some("127.0.0.1:8080")
        );
        for bad in [
            "scf.tencentcloudapi.com",
            "https://",
            "https://host/path",
            "ftp://host",
        ] {
            assert_eq!(endpoint_host(bad), None, "{bad}");
        }
    }
}
