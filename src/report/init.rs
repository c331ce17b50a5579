//! The result of `init`: where the release file went, which variables it
//! leaves to the environment, and where the code was unpacked.

use std::fmt;

use serde::Serialize;

use crate::report::output::{Report, write_fields};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct InitReport {
    pub function_arn: String,
    /// The version read: the one the alias serves, or `$LATEST`.
    pub version: String,
    pub code_sha256: String,
    /// The file written (empty when it went to standard output).
    pub release_file: String,
    /// The variables whose values the file takes from the environment
    /// (`FromEnvironment`): names only.
    pub secrets: Vec<String>,
    /// Where the code was unpacked (`--download`), if anywhere.
    pub downloaded: String,
    /// Where the version's zip was saved as Lambda holds it (`--download-zip`).
    pub downloaded_zip: String,
    /// What deploys this version again with the file and changes nothing:
    /// `source` (the unpacked tree re-packs to the live CodeSha256), `zip`
    /// (it does not, and the saved zip does), `neither` (it does not, and
    /// no zip was saved: run again with --download-zip); empty without a
    /// download.
    pub round_trip: String,
}

impl InitReport {
    fn headline(&self) -> String {
        format!(
            "wrote {} from version {} of {}",
            self.release_file, self.version, self.function_arn
        )
    }
}

impl fmt::Display for InitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.headline())?;
        write_fields(f, self, |_, value| !value.is_empty() && value != "[]")
    }
}

impl Report for InitReport {
    fn title(&self) -> String {
        "init".to_string()
    }
    fn summary_line(&self) -> String {
        self.headline()
    }
}
