//! TC3-HMAC-SHA256, the signature of Tencent Cloud API 3.0 requests.
//!
//! The canonical request is `POST`, `/`, an empty query, the signed
//! headers (lower-case `name:value` lines), their names, and the SHA-256 of
//! the body; the string to sign names the algorithm, the timestamp and the
//! scope (`DATE/SERVICE/tc3_request`, the date in UTC); the key is derived
//! from `"TC3" + SecretKey` by HMAC over the date, the service and
//! `tc3_request`. Secrets never leave this module but as a signature.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "TC3-HMAC-SHA256";

/// What signs a request: `TENCENTCLOUD_SECRET_ID`, `TENCENTCLOUD_SECRET_KEY`
/// and, for temporary credentials, `TENCENTCLOUD_SESSION_TOKEN`.
#[derive(Clone)]
pub struct Credentials {
    pub secret_id: String,
    pub secret_key: String,
    pub token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    /// The id only: the key and the token are never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &self.secret_id)
            .finish_non_exhaustive()
    }
}

/// One API request to sign.
pub struct Request<'a> {
    /// `scf.tencentcloudapi.com`, or the endpoint a test points at.
    pub host: &'a str,
    /// The service in the scope: `scf`.
    pub service: &'a str,
    /// `GetFunction`, `PublishVersion`, …
    pub action: &'a str,
    /// `2018-04-16`.
    pub version: &'a str,
    pub region: &'a str,
    /// Unix seconds; the date of the scope is this instant's UTC date.
    pub timestamp: u64,
    /// The JSON body, exactly as sent.
    pub body: &'a [u8],
}

/// The headers signed by default: the content type, the host and the
/// action (so that a signed body cannot be replayed as another action).
pub const SIGNED_HEADERS: [&str; 3] = ["content-type", "host", "x-tc-action"];

pub const CONTENT_TYPE: &str = "application/json";

/// The request's headers, `Authorization` last, signing `signed` (names of
/// headers among those returned, lower-case, in order).
pub fn headers(credentials: &Credentials, request: &Request, signed: &[&str]) -> Vec<(String, String)> {
    let mut headers = vec![
        ("Content-Type".to_string(), CONTENT_TYPE.to_string()),
        ("Host".to_string(), request.host.to_string()),
        ("X-TC-Action".to_string(), request.action.to_string()),
        ("X-TC-Timestamp".to_string(), request.timestamp.to_string()),
        ("X-TC-Version".to_string(), request.version.to_string()),
        ("X-TC-Region".to_string(), request.region.to_string()),
    ];
    if let Some(token) = &credentials.token {
        headers.push(("X-TC-Token".to_string(), token.clone()));
    }
    let authorization = authorization(credentials, request, &headers, signed);
    headers.push(("Authorization".to_string(), authorization));
    headers
}

/// The `Authorization` header for a request with `headers`, signing the
/// headers named in `signed`.
pub fn authorization(
    credentials: &Credentials,
    request: &Request,
    headers: &[(String, String)],
    signed: &[&str],
) -> String {
    let date = utc_date(request.timestamp);
    let scope = format!("{date}/{}/tc3_request", request.service);
    let signature = signature(&credentials.secret_key, request, headers, signed);
    format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
        credentials.secret_id,
        signed.join(";")
    )
}

/// The hex signature of a request with `headers` (any case), signing the
/// headers named in `signed`. `x-tc-action` is signed lower-case, as the API
/// expects.
pub fn signature(
    secret_key: &str,
    request: &Request,
    headers: &[(String, String)],
    signed: &[&str],
) -> String {
    let canonical_headers: String = signed
        .iter()
        .map(|name| {
            let value = headers
                .iter()
                .find(|(header, _)| header.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.trim())
                .unwrap_or_default();
            let value = if *name == "x-tc-action" {
                value.to_ascii_lowercase()
            } else {
                value.to_string()
            };
            format!("{name}:{value}\n")
        })
        .collect();
    let canonical = format!(
        "POST\n/\n\n{canonical_headers}\n{}\n{}",
        signed.join(";"),
        hex::encode(Sha256::digest(request.body))
    );
    let date = utc_date(request.timestamp);
    let to_sign = format!(
        "{ALGORITHM}\n{}\n{date}/{}/tc3_request\n{}",
        request.timestamp,
        request.service,
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = hmac(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let key = hmac(&key, request.service.as_bytes());
    let key = hmac(&key, b"tc3_request");
    hex::encode(hmac(&key, to_sign.as_bytes()))
}

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// `YYYY-MM-DD` of a Unix time, in UTC.
fn utc_date(timestamp: u64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(timestamp);
    humantime::format_rfc3339_seconds(at).to_string()[..10].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Signatures Tencent's official Python SDK produced for fixed inputs
    /// (`tests/scf/record_vectors.py`): each must come out the same.
    #[test]
    fn signatures_match_the_official_sdk() {
        let recorded: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/scf/tc3_vectors.json")).unwrap();
        let cases = recorded["cases"].as_array().unwrap();
        assert!(cases.len() >= 6);
        for case in cases {
            let text = |key: &str| case[key].as_str().unwrap_or_default().to_string();
            let credentials = Credentials {
                secret_id: text("secret_id"),
                secret_key: text("secret_key"),
                token: case["token"].as_str().map(str::to_string),
            };
            let (action, region, body) = (text("action"), text("region"), text("body"));
            let request = Request {
                host: "scf.tencentcloudapi.com",
                service: "scf",
                action: &action,
                version: "2018-04-16",
                region: &region,
                timestamp: case["timestamp"].as_u64().unwrap(),
                body: body.as_bytes(),
            };
            let expected = case["headers"]["Authorization"].as_str().unwrap();
            let signed: Vec<&str> = expected
                .split("SignedHeaders=")
                .nth(1)
                .and_then(|rest| rest.split(',').next())
                .unwrap()
                .split(';')
                .collect();
            let made = headers(&credentials, &request, &signed);
            assert_eq!(
                made.last().unwrap().1,
                expected,
                "{action} at {}",
                request.timestamp
            );
            // Every header the SDK sends but its language preference is sent.
            for (name, value) in case["headers"].as_object().unwrap() {
                if name != "X-TC-Language" {
                    assert!(
                        made.iter()
                            .any(|(n, v)| n == name && v == value.as_str().unwrap()),
                        "{action}: {name}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_key_never_shows_in_debug() {
        let credentials = Credentials {
            secret_id: "AKIDexample".into(),
            secret_key: "key-SECRET".into(),
            token: Some("token-SECRET".into()),
        };
        let shown = format!("{credentials:?}");
        assert!(
            shown.contains("AKIDexample") && !shown.contains("SECRET"),
            "{shown}"
        );
    }
}
