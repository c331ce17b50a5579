//! The result of a `--manifest` run: one row per function, in the manifest's
//! order, a `results` JSON array and a `failed` list as GitHub outputs, and an
//! exit status that is the worst of the functions'.

use serde::Serialize;

use crate::error::{Error, Result};
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
    },
}

/// Print the results, write the GitHub outputs (`results` as a JSON array,
/// `failed`) and a summary row per function; the exit status is the worst one.
pub fn emit_fleet(results: &[FunctionResult], json: bool) -> Result<()> {
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
    let failed: Vec<String> = results
        .iter()
        .filter_map(|r| match r {
            FunctionResult::Failed { target, .. } => Some(target.clone()),
            FunctionResult::Done(_) => None,
        })
        .collect();
    // Every output a single function writes is set, so a workflow that reads
    // one gets "" rather than an undefined value; each function's are in `results`.
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
    ]);
    let mut summary = format!(
        "### lambda-rollout: {} functions, {} failed\n\n| function:alias | result | version | previous | weight |\n|---|---|---|---|---|\n",
        results.len(),
        failed.len()
    );
    for result in results {
        summary.push_str(&match result {
            FunctionResult::Done(r) => format!(
                "| {} | {} | {} | {} | {} |\n",
                r.target,
                r.result.as_str(),
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
    // A deploy whose prune failed afterwards stands, but fails the run.
    let worst = results
        .iter()
        .filter_map(|r| match r {
            FunctionResult::Failed {
                exit_status, error, ..
            } => Some((*exit_status, error)),
            FunctionResult::Done(report) if !report.prune_error.is_empty() => {
                Some((crate::error::EXIT_FAILED, &report.prune_error))
            }
            FunctionResult::Done(_) => None,
        })
        .max_by_key(|(status, _)| *status);
    match worst {
        None => Ok(()),
        Some((status, _)) => {
            let unpruned: Vec<&str> = results
                .iter()
                .filter_map(|r| match r {
                    FunctionResult::Done(report) if !report.prune_error.is_empty() => {
                        Some(report.target.as_str())
                    }
                    _ => None,
                })
                .collect();
            let mut message = format!(
                "{} of {} functions failed: {}",
                failed.len(),
                results.len(),
                failed.join(", ")
            );
            if !unpruned.is_empty() {
                message.push_str(&format!(
                    "; deployed, but pruning failed: {}",
                    unpruned.join(", ")
                ));
            }
            Err(Error::Reported(Box::new(if status == crate::error::EXIT_USAGE {
                Error::usage(message)
            } else {
                Error::failed(message)
            })))
        }
    }
}
