//! The one place AWS errors are told apart. Every client in this layer turns
//! an SDK error into an [`AwsError`] with a [`Kind`]; code above this layer
//! matches on kinds, never on AWS error-code strings.

use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::error::Error;
use crate::secrets;

/// What an AWS error means for the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The function, version, alias, bucket or object does not exist.
    NotFound,
    /// A write guarded by a `RevisionId` (or `CodeSha256`) met a newer state.
    StaleRevision,
    /// Another change is in progress, or the thing was created meanwhile.
    Conflict,
    /// AWS throttled the request (after the SDK's own retries).
    Throttled,
    /// The credentials may not do this.
    Denied,
    /// Anything else: a refusal, a timeout, a connection failure.
    Other,
}

/// An AWS error, classified once, with the text that keeps AWS's code and message.
#[derive(Debug, Clone)]
pub struct AwsError {
    pub kind: Kind,
    /// "Code: message" for AWS's answers; the whole error chain otherwise.
    pub detail: String,
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

impl AwsError {
    /// A failed read: "<thing> does not exist: …" when AWS says so, else
    /// "failed to read <thing>: …".
    pub fn reading(self, thing: &str) -> Error {
        match self.kind {
            Kind::NotFound => Error::failed(format!("{thing} does not exist: {self}")),
            _ => Error::failed(format!("failed to read {thing}: {self}")),
        }
    }

    /// A failed read of something the user named (`--version`,
    /// `--to-version`, `--from-alias`): one that does not exist is bad input
    /// (exit 2); anything else as [`AwsError::reading`].
    pub fn reading_named(self, thing: &str) -> Error {
        match self.kind {
            Kind::NotFound => Error::usage(format!("{thing} does not exist: {self}")),
            _ => self.reading(thing),
        }
    }

    /// A failed write: a stale `RevisionId` is a conflict (re-plan), anything
    /// else "failed to <what>: …".
    pub fn writing(self, what: &str) -> Error {
        match self.kind {
            Kind::StaleRevision => Error::Conflict(format!("{what}: it changed concurrently ({self})")),
            _ => self.failed(what),
        }
    }

    /// `special(self)` when the error is of `kind`, else "failed to <what>: …".
    pub fn unless(self, kind: Kind, special: impl FnOnce(AwsError) -> Error, what: &str) -> Error {
        if self.kind == kind {
            special(self)
        } else {
            self.failed(what)
        }
    }

    /// "failed to <what>: …".
    pub fn failed(self, what: &str) -> Error {
        Error::failed(format!("failed to {what}: {self}"))
    }
}

/// Classify an SDK error of any of the AWS clients.
pub fn classify<E>(err: &SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = err.as_service_error().and_then(ProvideErrorMetadata::code);
    let status = err.raw_response().map(|response| response.status().as_u16());
    let kind = match (code, status) {
        (
            Some(
                "ResourceNotFoundException"
                | "ProvisionedConcurrencyConfigNotFoundException"
                | "ImageNotFoundException"
                | "RepositoryNotFoundException"
                | "NoSuchBucket"
                | "NoSuchKey"
                | "NotFound",
            ),
            _,
        )
        | (_, Some(404)) => Kind::NotFound,
        (Some("PreconditionFailedException"), _) => Kind::StaleRevision,
        (Some("ResourceConflictException" | "ConflictException"), _) => Kind::Conflict,
        (Some("TooManyRequestsException" | "ThrottlingException" | "Throttling"), _) | (_, Some(429)) => {
            Kind::Throttled
        }
        (Some("AccessDenied" | "AccessDeniedException"), _) | (_, Some(403)) => Kind::Denied,
        _ => Kind::Other,
    };
    let mut detail = describe(err);
    if crate::log::verbose_errors() {
        // The error chain and the HTTP status, never the SDK's debug dump of
        // the raw answer: it quotes AWS's text again, escaped once more.
        let status = err
            .raw_response()
            .map(|r| format!("HTTP {}; ", r.status().as_u16()))
            .unwrap_or_default();
        detail = format!("{detail} [SDK detail: {status}{}]", chain(err));
    }
    AwsError {
        kind,
        detail: secrets::redact(&detail),
    }
}

/// "code: message" for AWS's answers; the whole error chain otherwise
/// (timeouts, connection failures).
fn describe<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err.as_service_error() {
        Some(service) if service.code().is_none() => {
            // No AWS error code (a proxy's or load balancer's answer, an
            // internal error): say what came back instead of "unhandled error".
            let status = err.raw_response().map_or("an answer".to_string(), |r| {
                format!("HTTP {}", r.status().as_u16())
            });
            let body = err
                .raw_response()
                .and_then(|r| r.body().bytes())
                .map(|bytes| {
                    String::from_utf8_lossy(bytes)
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            let excerpt: String = body.chars().take(200).collect();
            match excerpt.as_str() {
                "" => format!("{status} without an AWS error code or message"),
                _ => format!("{status} without an AWS error code: {excerpt}"),
            }
        }
        Some(service) => {
            let code = service.code().unwrap_or("UnknownError");
            match service.message() {
                Some(message) => format!("{code}: {message}"),
                // Modeled errors also carry their message in their Display.
                None => {
                    format!("{code}: {service}").replace(&format!("{code}: {code}: "), &format!("{code}: "))
                }
            }
        }
        None => chain(err),
    }
}

/// An error and its causes as one readable line ("dispatch failure: io error:
/// tcp connect error: Connection refused (os error 111)"): each cause's own
/// message once, never the SDK's debug structures. `--verbose` narrates the
/// whole detail where the error happens.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(err) = next {
        // One line: an SDK message that lists attempts line by line is folded.
        let text = err.to_string().replace("\n  ", "; ").replace('\n', " ");
        let seen = parts.last().is_some_and(|last| last.contains(&text));
        if !text.is_empty() && !seen {
            parts.push(text);
        }
        next = err.source();
    }
    secrets::redact(&parts.join(": "))
}

/// Everything the SDK knows about an error, for `--verbose`.
pub fn detail(err: &(dyn std::error::Error + 'static)) -> String {
    secrets::redact(&DisplayErrorContext(err).to_string())
}

/// A waiter that gave up or failed, with its whole error chain.
pub fn describe_wait(err: impl std::error::Error + 'static) -> String {
    chain(&err)
}

/// For `map_err` on a waiter: "<what>: <why the wait ended>".
pub fn wait_failed<E: std::error::Error + 'static>(what: String) -> impl FnOnce(E) -> Error {
    move |err| Error::failed(format!("{what}: {}", describe_wait(err)))
}
