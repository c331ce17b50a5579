//! What a command tells people and later workflow steps: narration on stderr,
//! the result on stdout (text or JSON), `$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`
//! and workflow-command annotations. One struct per result implements both
//! `Display` and `Serialize`, and the GitHub outputs are derived from the JSON,
//! so the three can never disagree.

use std::fmt;
use std::fs::OpenOptions;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::plan::Outcome;
use crate::rollout::RolloutResult;
use crate::values::percent;

/// Progress narration on stderr: one line per step, AWS requests with `--verbose`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Log {
    pub verbose: bool,
    pub dry_run: bool,
    /// Running in GitHub Actions: warnings and errors become annotations.
    pub github: bool,
}

impl Log {
    pub fn step(&self, message: &str) {
        let mark = if self.dry_run { "[dry-run] " } else { "" };
        eprintln!("{mark}{message}");
    }

    pub fn detail(&self, message: &str) {
        if self.verbose {
            let mark = if self.dry_run { "[dry-run] " } else { "" };
            eprintln!("{mark}  aws: {message}");
        }
    }

    pub fn warn(&self, message: &str) {
        if self.github {
            eprintln!("::warning title=lambda-rollout::{}", escape_command(message));
        } else {
            eprintln!("warning: {message}");
        }
    }

    pub fn error(&self, message: &str) {
        if self.github {
            eprintln!("::error title=lambda-rollout::{}", escape_command(message));
        }
        eprintln!("error: {message}");
    }
}

/// Escaping for workflow-command messages (`%`, CR and LF).
fn escape_command(message: &str) -> String {
    message
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// What `deploy`, `promote` or `rollback` did (or, with `--dry-run`, would do).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct AliasReport {
    pub function_arn: String,
    pub alias_arn: String,
    /// The version receiving the new code's traffic ("" when a dry run would publish it).
    pub version: String,
    /// The stable version the rest of the traffic goes to, or the primary this run replaced.
    pub previous_version: String,
    pub code_sha256: String,
    pub skipped: bool,
    /// Share of the alias's traffic that `version` receives after the run (0–1).
    pub canary_weight: f64,
    pub result: Outcome,
    pub dry_run: bool,
    /// Why a rollout put the alias back on the stable version (empty otherwise).
    pub rollback_reason: String,
    /// The CodeDeploy deployment shifting the traffic (`--engine codedeploy`).
    pub deployment_id: String,
    /// `function:alias`, for the text report.
    #[serde(skip)]
    pub target: String,
    /// Why nothing changed (promote, rollback), for the text report.
    #[serde(skip)]
    pub note: Option<String>,
    /// The steps of a staged rollout, for the step summary.
    #[serde(skip)]
    pub timeline: Option<RolloutResult>,
}

impl AliasReport {
    /// A deploy's report with the fields every deploy knows; the caller fills
    /// in the versions and weight.
    pub fn for_deploy(
        observed: &crate::plan::Observed,
        request: &crate::deploy::DeployRequest,
        package: &crate::package::Package,
        result: Outcome,
    ) -> AliasReport {
        AliasReport {
            function_arn: observed.function_arn.clone(),
            alias_arn: observed.alias.as_ref().map_or_else(
                || format!("{}:{}", observed.function_arn, request.alias),
                |a| a.arn.clone(),
            ),
            version: String::new(),
            previous_version: String::new(),
            code_sha256: package.code_sha256.clone(),
            skipped: false,
            canary_weight: 0.0,
            result,
            dry_run: request.dry_run,
            rollback_reason: String::new(),
            deployment_id: String::new(),
            target: format!("{}:{}", request.function, request.alias),
            note: None,
            timeline: None,
        }
    }
}

impl AliasReport {
    fn headline(&self) -> String {
        let would = if self.dry_run { "would be " } else { "" };
        let version = if self.version.is_empty() {
            "a new version".to_string()
        } else {
            format!("version {}", self.version)
        };
        let share = percent(self.canary_weight);
        let rest = if self.previous_version.is_empty() || self.canary_weight >= 1.0 {
            String::new()
        } else {
            format!(
                "; version {} keeps {}",
                self.previous_version,
                percent(1.0 - self.canary_weight)
            )
        };
        let was = match (self.canary_weight >= 1.0, self.previous_version.is_empty()) {
            (true, false) => format!(" (was version {})", self.previous_version),
            _ => String::new(),
        };
        match self.result {
            Outcome::Skipped if self.note.is_some() => {
                format!("{}: {}", self.target, self.note.as_deref().unwrap_or_default())
            }
            Outcome::RolledBack => format!(
                "{}: {would}rolled back{}, {version} serves 100%{}",
                self.target,
                if self.rollback_reason.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", self.rollback_reason)
                },
                if self.previous_version.is_empty() {
                    String::new()
                } else {
                    format!("; version {} takes no more traffic", self.previous_version)
                }
            ),
            Outcome::Skipped => format!(
                "{}: unchanged, {version} already serves this code at {share}{rest}; nothing uploaded or published",
                self.target
            ),
            Outcome::CanaryDropped => format!(
                "{}: canary {would}removed, {version} serves this code at 100%",
                self.target
            ),
            Outcome::Reweighted => format!("{}: canary {version} {would}set to {share}{rest}", self.target),
            Outcome::Promoted => format!("{}: {version} {would}promoted to 100%{was}", self.target),
            Outcome::HandedOff => format!(
                "{}: new code {would}published as {version}; CodeDeploy deployment {} shifts the traffic from version {}",
                self.target,
                if self.deployment_id.is_empty() {
                    "(new)"
                } else {
                    &self.deployment_id
                },
                self.previous_version
            ),
            Outcome::Published | Outcome::Reused => {
                let how = if self.result == Outcome::Reused {
                    "published from code already in $LATEST"
                } else {
                    "uploaded and published"
                };
                format!(
                    "{}: new code {would}{how} as {version} at {share}{rest}{was}",
                    self.target
                )
            }
        }
    }
}

impl fmt::Display for AliasReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.headline())?;
        write_fields(f, self)
    }
}

/// What `package` built.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PackageReport {
    pub zip_file: String,
    pub code_sha256: String,
    pub files: usize,
    pub size_bytes: u64,
}

impl PackageReport {
    fn headline(&self) -> String {
        format!(
            "packaged {} files into {} ({})",
            self.files,
            self.zip_file,
            crate::package::human_bytes(self.size_bytes)
        )
    }
}

impl fmt::Display for PackageReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.headline())?;
        write_fields(f, self)
    }
}

fn write_fields(f: &mut fmt::Formatter<'_>, report: &impl Serialize) -> fmt::Result {
    let fields = outputs(report);
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (key, value) in fields {
        writeln!(f, "  {key:width$}  {value}")?;
    }
    Ok(())
}

/// The report's fields as `(key, value)` strings: the GitHub outputs.
pub fn outputs(report: &impl Serialize) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(report) else {
        return Vec::new();
    };
    fields
        .into_iter()
        .map(|(key, value)| {
            let text = match value {
                serde_json::Value::String(s) => s,
                // 1.0 → "1": whole weights read as users write them.
                serde_json::Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => {
                    format!("{}", n.as_f64().unwrap_or_default())
                }
                other => other.to_string(),
            };
            (key, text)
        })
        .collect()
}

/// A report that can print itself for a person, as JSON, and as a step summary.
pub trait Report: Serialize + fmt::Display {
    fn title(&self) -> String;
    fn summary_line(&self) -> String;
    /// More markdown for the step summary, after the outputs table.
    fn details(&self) -> String {
        String::new()
    }
    /// More GitHub outputs than the report's own fields.
    fn extra_outputs(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

impl Report for AliasReport {
    fn title(&self) -> String {
        format!("`{}` — {}", self.target, self.result.as_str())
    }
    fn summary_line(&self) -> String {
        self.headline()
    }
    fn details(&self) -> String {
        self.timeline.as_ref().map(timeline_markdown).unwrap_or_default()
    }
    /// `results` and `failed` as a manifest run sets them, for one function.
    fn extra_outputs(&self) -> Vec<(String, String)> {
        let results = serde_json::to_string(&[self]).unwrap_or_default();
        vec![
            ("results".to_string(), results),
            ("failed".to_string(), String::new()),
        ]
    }
}

/// The steps of a rollout as a table, and the weight over time as a chart.
pub fn timeline_markdown(timeline: &RolloutResult) -> String {
    let minutes = |d: std::time::Duration| d.as_secs_f64() / 60.0;
    let mut text =
        String::from("| step | weight | started (min) | lasted (min) | verdict |\n|---|---|---|---|---|\n");
    for (index, step) in timeline.steps.iter().enumerate() {
        text.push_str(&format!(
            "| {} | {} | {:.1} | {:.1} | {} |\n",
            index + 1,
            percent(step.weight),
            minutes(step.started),
            minutes(step.ended.saturating_sub(step.started)),
            step.verdict.replace('|', "\\|")
        ));
    }
    // The weight over time: each step's weight from its start, and 0 after a rollback.
    let mut points: Vec<(f64, f64)> = timeline
        .steps
        .iter()
        .map(|s| (minutes(s.started), s.weight * 100.0))
        .collect();
    if timeline.rollback_reason.is_some() {
        points.push((minutes(timeline.elapsed), 0.0));
    }
    let xs: Vec<String> = points.iter().map(|(x, _)| format!("\"{x:.1}\"")).collect();
    let ys: Vec<String> = points.iter().map(|(_, y)| format!("{y:.0}")).collect();
    text.push_str(&format!(
        "\n```mermaid\nxychart-beta\n    title \"new version's share of traffic\"\n    x-axis \"minutes\" [{}]\n    y-axis \"weight %\" 0 --> 100\n    line [{}]\n```\n\n",
        xs.join(", "),
        ys.join(", ")
    ));
    text
}

impl Report for PackageReport {
    fn title(&self) -> String {
        "package".to_string()
    }
    fn summary_line(&self) -> String {
        self.headline()
    }
}

/// When GitHub provides the files: write the step's outputs and append to
/// its summary.
pub fn write_github_files(fields: &[(String, String)], summary: &str) -> Result<()> {
    if let Some(path) = env_path("GITHUB_OUTPUT") {
        append(&path, &github_outputs(fields))?;
    }
    if let Some(path) = env_path("GITHUB_STEP_SUMMARY") {
        append(&path, summary)?;
    }
    Ok(())
}

/// Print the report and, when GitHub provides the files, write the step's
/// outputs and summary.
pub fn emit(report: &impl Report, json: bool) -> Result<()> {
    if json {
        let text = serde_json::to_string_pretty(report).map_err(|e| Error::failed(e.to_string()))?;
        println!("{text}");
    } else {
        print!("{report}");
    }
    let mut fields = outputs(report);
    fields.extend(report.extra_outputs());
    write_github_files(&fields, &markdown(report))
}

fn env_path(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|p| !p.is_empty())
}

fn append(path: &str, text: &str) -> Result<()> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|e| Error::failed(format!("cannot write {path}: {e}")))
}

/// `key<<DELIMITER` blocks: safe for any value, including ones with newlines.
pub fn github_outputs(fields: &[(String, String)]) -> String {
    let mut text = String::new();
    for (key, value) in fields {
        let delimiter = delimiter_for(value);
        text.push_str(&format!("{key}<<{delimiter}\n{value}\n{delimiter}\n"));
    }
    text
}

fn delimiter_for(value: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut salt = 0u32;
    loop {
        let seed = format!("{nanos}:{}:{salt}:{value}", std::process::id());
        let digest = Sha256::digest(seed.as_bytes());
        let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
        let delimiter = format!("ghadelimiter_{hex}");
        if !value.contains(&delimiter) {
            return delimiter;
        }
        salt += 1;
    }
}

fn markdown(report: &impl Report) -> String {
    let mut text = format!(
        "### lambda-rollout {}\n\n{}\n\n| output | value |\n|---|---|\n",
        report.title(),
        report.summary_line()
    );
    for (key, value) in outputs(report) {
        let value = if value.is_empty() {
            "—".to_string()
        } else {
            format!("`{}`", value.replace('|', "\\|"))
        };
        text.push_str(&format!("| {key} | {value} |\n"));
    }
    text.push('\n');
    text.push_str(&report.details());
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(result: Outcome, version: &str, previous: &str, weight: f64) -> AliasReport {
        AliasReport {
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
            alias_arn: "arn:aws:lambda:us-east-1:123456789012:function:f:live".into(),
            version: version.into(),
            previous_version: previous.into(),
            code_sha256: "abc=".into(),
            skipped: result == Outcome::Skipped,
            canary_weight: weight,
            result,
            dry_run: false,
            rollback_reason: String::new(),
            deployment_id: String::new(),
            target: "f:live".into(),
            note: None,
            timeline: None,
        }
    }

    #[test]
    fn outputs_are_the_json_fields_as_text() {
        let fields = outputs(&report(Outcome::Published, "8", "7", 0.1));
        let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "function-arn",
                "alias-arn",
                "version",
                "previous-version",
                "code-sha256",
                "skipped",
                "canary-weight",
                "result",
                "dry-run",
                "rollback-reason",
                "deployment-id"
            ]
        );
        assert!(fields.contains(&("canary-weight".into(), "0.1".into())));
        assert!(fields.contains(&("skipped".into(), "false".into())));
        assert!(fields.contains(&("result".into(), "published".into())));
    }

    #[test]
    fn github_outputs_survive_values_with_newlines_and_delimiter_lookalikes() {
        let tricky = "line one\nEOF\nghadelimiter_\nkey<<x".to_string();
        let text = github_outputs(&[("result".into(), tricky.clone())]);
        let mut lines = text.lines();
        let header = lines.next().unwrap();
        let delimiter = header.strip_prefix("result<<").unwrap();
        let body: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
        assert_eq!(body.join("\n"), tricky);
    }

    #[test]
    fn headlines_say_what_happened() {
        assert_eq!(
            report(Outcome::Published, "8", "7", 0.1).headline(),
            "f:live: new code uploaded and published as version 8 at 10%; version 7 keeps 90%"
        );
        assert_eq!(
            report(Outcome::Skipped, "7", "", 1.0).headline(),
            "f:live: unchanged, version 7 already serves this code at 100%; nothing uploaded or published"
        );
        assert_eq!(
            report(Outcome::Promoted, "8", "7", 1.0).headline(),
            "f:live: version 8 promoted to 100% (was version 7)"
        );
        let mut dry = report(Outcome::Published, "", "7", 0.1);
        dry.dry_run = true;
        assert_eq!(
            dry.headline(),
            "f:live: new code would be uploaded and published as a new version at 10%; version 7 keeps 90%"
        );
    }

    #[test]
    fn annotations_escape_newlines_and_percent() {
        assert_eq!(escape_command("50% done\nnext"), "50%25 done%0Anext");
    }
}
