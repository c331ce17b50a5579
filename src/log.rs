//! The one narrator every layer may use: progress on stderr, one line per
//! step; AWS requests with `--verbose`; warnings and errors as workflow-command
//! annotations when running in GitHub Actions. Standard output is left to the
//! report.

/// Progress narration on stderr: one line per step, AWS requests with `--verbose`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Log {
    pub verbose: bool,
    pub dry_run: bool,
    /// Running in GitHub Actions: warnings and errors become annotations.
    pub github: bool,
    /// In a run over several account-regions: the one these lines are
    /// about (`ACCOUNT/REGION`), put before each.
    pub place: Option<&'static str>,
}

impl Log {
    /// The narrator for a run: annotations when `GITHUB_ACTIONS` is `true`.
    pub fn from_env() -> Log {
        Log {
            github: std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"),
            ..Log::default()
        }
    }

    /// This narrator for one command: `--verbose` and `--dry-run` as asked.
    /// `--verbose` also makes every AWS error carry the SDK's whole detail
    /// ([`verbose_errors`]).
    pub fn with(self, verbose: bool, dry_run: bool) -> Log {
        if verbose {
            VERBOSE_ERRORS.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        Log {
            verbose,
            dry_run,
            ..self
        }
    }

    /// This narrator for the calls of one account-region of a fleet: each
    /// line starts with `place`. (The text lives for the rest of the run:
    /// one short string per account-region.)
    pub fn at(self, place: String) -> Log {
        Log {
            place: Some(Box::leak(place.into_boxed_str())),
            ..self
        }
    }

    pub fn step(&self, message: &str) {
        eprintln!("{}{message}", self.mark());
    }

    pub fn detail(&self, message: &str) {
        if self.verbose {
            eprintln!("{}  aws: {message}", self.mark());
        }
    }

    pub fn warn(&self, message: &str) {
        let place = self.place.map(|p| format!("{p}: ")).unwrap_or_default();
        if self.github {
            eprintln!(
                "::warning title=lambda-rollout::{}",
                escape_command(&format!("{place}{message}"))
            );
        } else {
            eprintln!("warning: {place}{message}");
        }
    }

    pub fn error(&self, message: &str) {
        let place = self.place.map(|p| format!("{p}: ")).unwrap_or_default();
        if self.github {
            eprintln!(
                "::error title=lambda-rollout::{}",
                escape_command(&format!("{place}{message}"))
            );
        }
        eprintln!("error: {place}{message}");
    }

    fn mark(&self) -> String {
        format!(
            "{}{}",
            if self.dry_run { "[dry-run] " } else { "" },
            self.place.map(|p| format!("{p}: ")).unwrap_or_default()
        )
    }
}

static VERBOSE_ERRORS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether this run was asked for `--verbose`: errors then carry all the
/// detail the SDK has (AWS's raw answer included), not only AWS's code and
/// message.
pub fn verbose_errors() -> bool {
    VERBOSE_ERRORS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Escaping for workflow-command messages (`%`, CR and LF).
fn escape_command(message: &str) -> String {
    message
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_escape_newlines_and_percent() {
        assert_eq!(escape_command("50% done\nnext"), "50%25 done%0Anext");
    }
}
