//! The two ways a command fails, and the exit status each one maps to.

use std::fmt;

/// Exit status when the command did what was asked (including "nothing to do").
pub const EXIT_OK: u8 = 0;
/// Exit status when AWS refused or a step failed after the input was accepted.
pub const EXIT_FAILED: u8 = 1;
/// Exit status for bad input or configuration: nothing was sent to AWS.
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The input was wrong (flag, file, credentials, region). Nothing was changed.
    Usage(String),
    /// AWS refused a request or a step did not complete.
    Failed(String),
    /// The alias changed between observing and writing it (stale `RevisionId`).
    Conflict(String),
    /// Someone else changed the alias while this run worked on it: the run
    /// stopped without writing, so as not to undo what they did.
    Interfered(String),
    /// A failure the command's report already shows (a rollout that rolled
    /// back, a manifest run with failed functions): only its exit status and
    /// its line on stderr are left to give.
    Reported(Box<Error>),
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage(message.into())
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Error::Failed(message.into())
    }

    /// A conflict met after traffic may have moved is final: it must not
    /// be re-planned (that could undo what the other run did).
    pub fn settled(self) -> Self {
        match self {
            Error::Conflict(message) => Error::Failed(message),
            other => other,
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => EXIT_USAGE,
            Error::Failed(_) | Error::Conflict(_) | Error::Interfered(_) => EXIT_FAILED,
            Error::Reported(inner) => inner.exit_code(),
        }
    }

    /// The error as `--output json` prints it: `{"error": …, "exit-status": …}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "error": self.to_string(), "exit-status": self.exit_code() }).to_string()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) | Error::Failed(m) | Error::Conflict(m) | Error::Interfered(m) => f.write_str(m),
            Error::Reported(inner) => inner.fmt(f),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
