//! The result of `prune`: which versions were deleted (or would be), and why
//! every other one stays.

use std::fmt;

use serde::Serialize;

use crate::core::prune::Verdict;
use crate::report::output::{Report, markdown_text, write_fields};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PruneReport {
    pub function_arn: String,
    /// The versions deleted (in a dry run: that would be deleted), newest first.
    pub pruned: Vec<String>,
    /// `pruned`, or `nothing-to-prune`.
    pub result: &'static str,
    pub dry_run: bool,
    /// Versions never deleted, each with every reason.
    pub protected: Vec<Verdict>,
    /// Versions spared by --keep or --older-than.
    pub kept: Vec<Verdict>,
    /// Versions planned for deletion but left: gone meanwhile, or protected
    /// by the time of the delete.
    pub left: Vec<Verdict>,
    #[serde(skip)]
    pub function: String,
}

impl PruneReport {
    fn headline(&self) -> String {
        let would = if self.dry_run { "would delete" } else { "deleted" };
        let versions = match self.pruned.as_slice() {
            [] => "no version".to_string(),
            [one] => format!("version {one}"),
            many => format!("versions {}", many.join(", ")),
        };
        format!(
            "{}: {would} {versions}; {} protected, {} kept",
            self.function,
            self.protected.len(),
            self.kept.len()
        )
    }
}

impl fmt::Display for PruneReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.headline())?;
        for (what, verdicts) in [
            ("protected", &self.protected),
            ("kept", &self.kept),
            ("left", &self.left),
        ] {
            for verdict in verdicts {
                writeln!(f, "  {what:9}  version {}: {}", verdict.version, verdict.reason)?;
            }
        }
        write_fields(f, self, |key, value| {
            !matches!(key, "protected" | "kept" | "left") && !value.is_empty()
        })
    }
}

impl Report for PruneReport {
    fn title(&self) -> String {
        format!("`{}` — prune", self.function)
    }
    fn summary_line(&self) -> String {
        self.headline()
    }
    fn details(&self) -> String {
        let mut text = String::from("| version | stays because |\n|---|---|\n");
        for verdict in self.protected.iter().chain(&self.kept) {
            text.push_str(&format!(
                "| {} | {} |\n",
                verdict.version,
                markdown_text(&verdict.reason)
            ));
        }
        text.push('\n');
        text
    }
}
