//! The result of a `--manifest` run: one row per target, a `results` JSON
//! array, the `failed` and `not-started` lists as GitHub outputs, and an
//! exit status, all read from one rule ([`crate::core::fleet::ending`]).

use serde::Serialize;

use crate::core::fleet::{Ending, Intent, ending};
use crate::core::plan::Outcome;
use crate::error::{EXIT_USAGE, Error, Result};
use crate::report::alias::AliasReport;

/// One function's result, in the manifest's order.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum FunctionResult {
    Done(Box<AliasReport>),
    Failed {
        #[serde(rename = "function-name")]
        function_name: String,
        alias: String,
        error: String,
        #[serde(rename = "exit-status")]
        exit_status: u8,
        /// The target's account and region, in a run over several.
        #[serde(skip_serializing_if = "String::is_empty")]
        account: String,
        #[serde(skip_serializing_if = "String::is_empty")]
        region: String,
        /// Its wave, when the manifest has `[[waves]]`.
        #[serde(skip_serializing_if = "String::is_empty")]
        wave: String,
        /// How reports name it (`function:alias`, or with its place).
        #[serde(skip)]
        target: String,
        /// The run never got to it (its `error` says why).
        #[serde(skip)]
        not_started: bool,
    },
}

impl FunctionResult {
    /// How the target ended, by the one rule.
    pub fn ending(&self, intent: Intent) -> Ending {
        match self {
            FunctionResult::Failed {
                not_started: true, ..
            } => Ending::NotStarted,
            FunctionResult::Failed { .. } => Ending::Failed,
            FunctionResult::Done(report) => ending(intent, report.result, !report.prune_error.is_empty()),
        }
    }

    /// How reports name the target.
    pub fn target(&self) -> &str {
        match self {
            FunctionResult::Done(report) => &report.target,
            FunctionResult::Failed { target, .. } => target,
        }
    }

    /// Whether the run wrote anything for it (so exit 2, "nothing was
    /// sent", no longer holds for the run).
    fn wrote(&self) -> bool {
        matches!(self, FunctionResult::Done(report)
            if !report.dry_run && !matches!(report.result, Outcome::Skipped | Outcome::Status))
    }
}

/// Print the results, write the GitHub outputs (`results` as a JSON array,
/// `failed`, `not-started`) and a summary row per target. The run fails
/// (exit 1) when any target failed or was not started, or when `stopped`
/// says why the run stopped (a wave's alarm in ALARM fails the run though
/// each of its targets ended as meant); exit 2 only when a target's input
/// was refused and nothing was written anywhere.
pub fn emit_fleet(
    results: &[FunctionResult],
    json: bool,
    intent: Intent,
    stopped: Option<&str>,
) -> Result<()> {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(results).map_err(|e| Error::failed(e.to_string()))?
        );
    } else {
        for result in results {
            match result {
                FunctionResult::Done(report) => print!("{report}"),
                FunctionResult::Failed { target, error, .. } => println!("{target}: failed: {error}"),
            }
        }
    }
    let named = |wanted: Ending| -> Vec<String> {
        results
            .iter()
            .filter(|r| r.ending(intent) == wanted)
            .map(|r| r.target().to_string())
            .collect()
    };
    let (failed, not_started) = (named(Ending::Failed), named(Ending::NotStarted));
    // Every output a single function writes is set, so a workflow that reads
    // one gets "" rather than an undefined value; each target's are in `results`.
    let mut outputs: Vec<(String, String)> = crate::report::output::ALIAS_OUTPUTS
        .iter()
        .map(|key| (key.to_string(), String::new()))
        .collect();
    outputs.extend([
        (
            "results".to_string(),
            serde_json::to_string(results).map_err(|e| Error::failed(e.to_string()))?,
        ),
        ("failed".to_string(), failed.join(" ")),
        ("not-started".to_string(), not_started.join(" ")),
        ("serving".to_string(), String::new()),
    ]);
    let mut counts = counts_text(results.len(), &failed, &not_started);
    if let Some(why) = stopped {
        counts.push_str(&format!(" ({why})"));
    }
    let mut summary = format!(
        "### lambda-rollout: {}\n\n| target | result | version | previous | weight |\n|---|---|---|---|---|\n",
        crate::report::output::markdown_text(&counts)
    );
    for result in results {
        summary.push_str(&match result {
            FunctionResult::Done(r) => format!(
                "| {} | {}{} | {} | {} | {} |\n",
                r.target,
                r.result.as_str(),
                if r.rollback_reason.is_empty() {
                    String::new()
                } else {
                    format!(": {}", crate::report::output::markdown_text(&r.rollback_reason))
                },
                r.version,
                r.previous_version,
                crate::core::values::percent(r.canary_weight)
            ),
            FunctionResult::Failed { target, error, .. } => {
                format!(
                    "| {target} | failed: {} | | | |\n",
                    crate::report::output::markdown_text(error)
                )
            }
        });
    }
    // The results are printed: a failure to write the files is a line on
    // stderr and exit 1, never a second JSON document.
    crate::report::output::write_github_files(&outputs, &summary)
        .map_err(|e| Error::Reported(Box::new(e)))?;
    if failed.is_empty() && not_started.is_empty() && stopped.is_none() {
        return Ok(());
    }
    let usage_only = !results.iter().any(FunctionResult::wrote)
        && results.iter().any(|r| {
            matches!(r, FunctionResult::Failed { exit_status, not_started: false, .. } if *exit_status == EXIT_USAGE)
        });
    let mut message = counts;
    if !failed.is_empty() {
        message.push_str(&format!("; failed: {}", failed.join(", ")));
    }
    if !not_started.is_empty() {
        message.push_str(&format!("; not started: {}", not_started.join(", ")));
    }
    let unpruned: Vec<&str> = results
        .iter()
        .filter_map(|r| match r {
            FunctionResult::Done(report) if !report.prune_error.is_empty() => Some(report.target.as_str()),
            _ => None,
        })
        .collect();
    if !unpruned.is_empty() {
        message.push_str(&format!(
            "; deployed, but pruning failed: {}",
            unpruned.join(", ")
        ));
    }
    Err(Error::Reported(Box::new(if usage_only {
        Error::usage(message)
    } else {
        Error::failed(message)
    })))
}

/// "1 of 3 targets failed, 2 not started".
fn counts_text(total: usize, failed: &[String], not_started: &[String]) -> String {
    let mut text = format!(
        "{} of {total} target{} failed",
        failed.len(),
        if total == 1 { "" } else { "s" },
    );
    if !not_started.is_empty() {
        text.push_str(&format!(", {} not started", not_started.len()));
    }
    text
}
