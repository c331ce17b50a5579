//! How any report leaves the process: printed as text or JSON, written as
//! GitHub outputs and a step summary; and `package`'s own report.

use std::fmt;
use std::fs::OpenOptions;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

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
            "packaged {} into {} ({})",
            plural(self.files, "file"),
            self.zip_file,
            crate::package::human_bytes(self.size_bytes)
        )
    }
}

impl fmt::Display for PackageReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.headline())?;
        write_fields(f, self, |_, _| true)
    }
}

/// "1 file", "2 files".
pub fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// The report's fields for a person, those `shown` keeps (the GitHub outputs
/// and JSON always have every field).
pub(crate) fn write_fields(
    f: &mut fmt::Formatter<'_>,
    report: &impl Serialize,
    shown: impl Fn(&str, &str) -> bool,
) -> fmt::Result {
    let fields: Vec<(String, String)> = outputs(report)
        .into_iter()
        .filter(|(key, value)| shown(key, value))
        .collect();
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

impl Report for PackageReport {
    fn title(&self) -> String {
        "package".to_string()
    }
    fn summary_line(&self) -> String {
        self.headline()
    }
}

/// `results`, `failed`, `not-started` and `serving` as a manifest run sets
/// them, for one function (`serving` belongs to `status --manifest`).
pub fn one_function_results(report: &impl Serialize) -> Vec<(String, String)> {
    let results = serde_json::to_string(&[report]).unwrap_or_default();
    vec![
        ("results".to_string(), results),
        ("failed".to_string(), String::new()),
        ("not-started".to_string(), String::new()),
        ("serving".to_string(), String::new()),
    ]
}

/// The outputs a `deploy`, `promote`, `rollback` or `status` of one function
/// writes; a manifest run writes them all too, those of one function empty.
pub const ALIAS_OUTPUTS: [&str; 18] = [
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
    "deployment-id",
    "pruned",
    "prune-error",
    "function-url",
    "bypasses",
    "configuration",
    "tags",
    "canary-rule",
];

/// Print several reports of one kind (a manifest run without per-alias
/// results): a JSON array, or each as text; GitHub outputs `results` and,
/// when `gathered` names an output, that output as one JSON object of each
/// report's entry (`pruned`: function → versions deleted; `serving`:
/// target → version → share).
pub fn emit_many<R: Report>(
    reports: &[R],
    json: bool,
    gathered: Option<(&str, impl Fn(&R) -> (String, serde_json::Value))>,
) -> Result<()> {
    if json {
        let text = serde_json::to_string_pretty(reports).map_err(|e| Error::failed(e.to_string()))?;
        println!("{text}");
    } else {
        for report in reports {
            print!("{report}");
        }
    }
    let mut fields = vec![
        (
            "results".to_string(),
            serde_json::to_string(reports).unwrap_or_default(),
        ),
        ("failed".to_string(), String::new()),
        ("not-started".to_string(), String::new()),
    ];
    if let Some((output, of)) = gathered {
        let each: serde_json::Map<String, serde_json::Value> = reports.iter().map(of).collect();
        fields.push((output.to_string(), serde_json::Value::Object(each).to_string()));
    }
    let summary: String = reports.iter().map(markdown).collect();
    // Printed already: a failure to write the files is a line on stderr and
    // exit 1, never a second JSON document.
    write_github_files(&fields, &summary).map_err(|e| Error::Reported(Box::new(e)))
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
/// The files are written first, so that the one document printed says both
/// what the command did and, when they could not be written, why
/// (`github-files-error`); that failure then exits 1 with no second document.
pub fn emit(report: &impl Report, json: bool) -> Result<()> {
    let mut fields = outputs(report);
    fields.extend(report.extra_outputs());
    let written = write_github_files(&fields, &markdown(report));
    if json {
        let mut document = serde_json::to_value(report).map_err(|e| Error::failed(e.to_string()))?;
        if let (Err(why), Some(object)) = (&written, document.as_object_mut()) {
            object.insert("github-files-error".into(), why.to_string().into());
        }
        let text = serde_json::to_string_pretty(&document).map_err(|e| Error::failed(e.to_string()))?;
        println!("{text}");
    } else {
        print!("{report}");
    }
    written.map_err(|e| Error::Reported(Box::new(e)))
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
        markdown_text(&report.summary_line())
    );
    for (key, value) in outputs(report) {
        let value = if value.is_empty() {
            "—".to_string()
        } else {
            markdown_code(&value)
        };
        text.push_str(&format!("| {key} | {value} |\n"));
    }
    text.push('\n');
    text.push_str(&report.details());
    text
}

/// Text for the step summary, shown as typed: markdown's own characters
/// (a hook command in backticks, a `|` that would split a table cell) are
/// escaped, and a line break becomes a space.
pub fn markdown_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '|' | '<' | '>' | '[' | ']' | '#' | '~' => {
                escaped.push('\\');
                escaped.push(c);
            }
            '\n' | '\r' => escaped.push(' '),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// A value as code in a table cell, whatever it holds: a code span when
/// nothing in it could end the span or the cell, else HTML `<code>` with
/// those characters written as entities.
pub fn markdown_code(value: &str) -> String {
    if !value.contains(['`', '|', '\n', '\r', '<', '>', '&']) {
        return format!("`{value}`");
    }
    let mut escaped = String::from("<code>");
    for c in value.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '|' => escaped.push_str("&#124;"),
            '`' => escaped.push_str("&#96;"),
            '\n' | '\r' => escaped.push_str("<br>"),
            _ => escaped.push(c),
        }
    }
    escaped.push_str("</code>");
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    #[serde(rename_all = "kebab-case")]
    struct Quoting {
        rollback_reason: String,
    }

    impl fmt::Display for Quoting {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&self.rollback_reason)
        }
    }

    impl Report for Quoting {
        fn title(&self) -> String {
            "test".into()
        }
        fn summary_line(&self) -> String {
            format!("rolled back ({})", self.rollback_reason)
        }
    }

    #[test]
    fn text_quoting_a_hook_command_keeps_the_summary_table_whole() {
        let report = Quoting {
            rollback_reason: "the post-traffic hook `curl -s $URL | jq -e .ok` failed\nexit 1 <html>".into(),
        };
        let summary = markdown(&report);
        let row = summary
            .lines()
            .find(|l| l.starts_with("| rollback-reason |"))
            .unwrap();
        // Two cells: three pipes, none of them inside the value.
        assert_eq!(row.matches('|').count(), 3, "{row}");
        assert_eq!(
            row,
            "| rollback-reason | <code>the post-traffic hook &#96;curl -s $URL &#124; jq -e .ok&#96; failed<br>exit 1 &lt;html&gt;</code> |"
        );
        let headline = summary.lines().nth(2).unwrap();
        assert_eq!(
            headline,
            "rolled back (the post-traffic hook \\`curl -s $URL \\| jq -e .ok\\` failed exit 1 \\<html\\>)"
        );
    }
}
