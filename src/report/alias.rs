//! The result of `deploy`, `promote` and `rollback`: one struct that prints
//! itself for a person, as JSON, as GitHub outputs and as a step summary.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

use crate::core::controller::RolloutResult;
use crate::core::judge::Analysis;
use crate::core::observed::{AliasState, Observed, Serving};
use crate::core::plan::{AliasChange, CodeStep, Outcome, Plan, Version};
use crate::core::values::percent;
use crate::report::output::{Report, markdown_text, one_function_results, write_fields};

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
    /// `deploy --keep-versions`: the old versions deleted after the deploy
    /// (none otherwise), as `prune` reports them.
    pub pruned: Vec<String>,
    /// `deploy --keep-versions`: why the prune after a successful deploy
    /// failed (the deploy stands; the run exits 1). Empty otherwise.
    pub prune_error: String,
    /// `deploy --function-url`: the alias's function URL (empty otherwise).
    pub function_url: String,
    /// `deploy` of a canary: the entry points that do not go through the
    /// alias ("event source mapping …: bypasses live: pinned to version 3").
    pub bypasses: Vec<String>,
    /// `deploy`: the configuration keys this release wrote (or, in a dry
    /// run, would write) before publishing; names only, never values.
    pub configuration: Vec<String>,
    /// `deploy`: how the function's tags changed (`added team=orders`,
    /// `changed tier: gold → silver`, `removed owner`); tags are not secret.
    pub tags: Vec<String>,
    /// `--platform scf`: the rule that sends requests to `version` instead
    /// of a share of all of them (`header x-canary = tester`); empty otherwise.
    pub canary_rule: String,
    /// The target's account and region, in a run over several (absent
    /// otherwise).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub account: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub region: String,
    /// Its wave, when a manifest has `[[waves]]` (absent otherwise).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub wave: String,
    /// `function:alias` (with its place in a run over several), for the
    /// text report.
    #[serde(skip)]
    pub target: String,
    /// Why nothing changed (promote, rollback), for the text report.
    #[serde(skip)]
    pub note: Option<String>,
    /// The steps of a staged rollout, for the step summary.
    #[serde(skip)]
    pub timeline: Option<RolloutResult>,
    /// The statistical judge's readings (`--confidence`, latency limits).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub analysis: Vec<Analysis>,
    /// What a deploy's new version brings against the alias's primary
    /// ("new code", "new configuration", "new code and configuration") and
    /// how it was made ("uploaded and published", "published", "published
    /// from what $LATEST already holds"); and whether it created the function.
    #[serde(skip)]
    pub release: (&'static str, &'static str),
    #[serde(skip)]
    pub created_function: bool,
}

/// What a report is about: the function and alias, and whether this is a dry run.
#[derive(Debug, Clone, Copy)]
pub struct About<'a> {
    pub function: &'a str,
    pub alias: &'a str,
    pub dry_run: bool,
}

impl AliasReport {
    /// A report with the fields every run on `about` knows; the caller fills
    /// in the versions and weight.
    pub fn new(about: About<'_>, observed: &Observed, code_sha256: &str, result: Outcome) -> AliasReport {
        AliasReport {
            function_arn: observed.function_arn.clone(),
            alias_arn: observed.alias.as_ref().map_or_else(
                || format!("{}:{}", observed.function_arn, about.alias),
                |a| a.arn.clone(),
            ),
            version: String::new(),
            previous_version: String::new(),
            code_sha256: code_sha256.to_string(),
            skipped: false,
            canary_weight: 0.0,
            result,
            dry_run: about.dry_run,
            rollback_reason: String::new(),
            deployment_id: String::new(),
            pruned: Vec::new(),
            prune_error: String::new(),
            function_url: String::new(),
            bypasses: Vec::new(),
            configuration: Vec::new(),
            tags: Vec::new(),
            canary_rule: String::new(),
            account: String::new(),
            region: String::new(),
            wave: String::new(),
            target: format!("{}:{}", about.function, about.alias),
            note: None,
            timeline: None,
            analysis: Vec::new(),
            release: ("new code", "uploaded and published"),
            created_function: false,
        }
    }

    /// A deploy that applied (or, in a dry run, would apply) `plan`;
    /// `published` is the version this run published, if any.
    pub fn for_plan(
        about: About<'_>,
        observed: &Observed,
        code_sha256: &str,
        plan: &Plan,
        published: Option<&str>,
    ) -> AliasReport {
        let resolve = |v: &Version| v.resolve(published).unwrap_or_default();
        let primary = resolve(&plan.routing.primary);
        let (version, previous_version, canary_weight) = match &plan.routing.canary {
            Some((canary, weight)) => (resolve(canary), primary, *weight),
            None => {
                let replaced = plan.previous_primary.clone().filter(|p| *p != primary);
                (primary, replaced.unwrap_or_default(), 1.0)
            }
        };
        let new_code = observed
            .alias
            .as_ref()
            .is_none_or(|a| a.primary.code_sha256 != code_sha256);
        let configured = !plan.configure.is_empty();
        let noun = match (new_code, configured) {
            (true, true) => "new code and configuration",
            (false, true) => "new configuration",
            _ => "new code",
        };
        let how = match (plan.code, configured) {
            (CodeStep::UploadAndPublish | CodeStep::Create, _) => "uploaded and published",
            (_, true) => "published",
            _ => "published from what $LATEST already holds",
        };
        AliasReport {
            version,
            previous_version,
            skipped: plan.outcome == Outcome::Skipped,
            canary_weight,
            release: (noun, how),
            configuration: plan.configure.iter().map(|d| d.key.to_string()).collect(),
            tags: Vec::new(),
            created_function: plan.code == CodeStep::Create,
            ..AliasReport::new(about, observed, code_sha256, plan.outcome)
        }
    }

    /// A promote or rollback that applied (or would apply) `change` to `before`;
    /// `hashes` gives the code hash of each version the command read.
    pub fn for_change(
        about: About<'_>,
        observed: &Observed,
        before: &AliasState,
        change: &AliasChange,
        hashes: &HashMap<String, String>,
    ) -> AliasReport {
        let (version, previous_version, canary_weight) = match &change.canary {
            Some((canary, weight)) => (canary.clone(), change.primary.clone(), *weight),
            None => {
                let taken_out = match change.outcome {
                    Outcome::RolledBack if before.primary.version == change.primary => {
                        before.canary.as_ref().map(|c| c.version.version.clone())
                    }
                    Outcome::RolledBack | Outcome::Promoted => Some(before.primary.version.clone()),
                    _ => None,
                };
                (change.primary.clone(), taken_out.unwrap_or_default(), 1.0)
            }
        };
        let code_sha256 = hashes.get(&version).cloned().unwrap_or_default();
        AliasReport {
            alias_arn: before.arn.clone(),
            version,
            previous_version,
            skipped: !change.changes_anything(),
            canary_weight,
            note: change.note.clone(),
            ..AliasReport::new(about, observed, &code_sha256, change.outcome)
        }
    }

    /// The report after a staged rollout, however it ended (done, rolled
    /// back, stopped by someone else's change, cancelled): `version`,
    /// `previous-version` and `canary-weight` describe `serving`, the alias
    /// as the run last read or wrote it — as it is when the run exits — and
    /// the note says what the run meant where that differs.
    pub fn after_rollout(
        mut self,
        stable: &str,
        new: &str,
        result: RolloutResult,
        serving: &Serving,
    ) -> AliasReport {
        (self.version, self.previous_version, self.canary_weight) = match &serving.canary {
            Some((canary, weight)) => (canary.clone(), serving.primary.clone(), *weight),
            None if serving.primary == new => (new.to_string(), stable.to_string(), 1.0),
            None => (serving.primary.clone(), new.to_string(), 1.0),
        };
        match (&result.interfered, &result.rollback_reason) {
            (Some(change), _) => {
                self.result = Outcome::Stopped;
                self.rollback_reason = change.clone();
            }
            (None, Some(reason)) => {
                self.result = Outcome::RolledBack;
                self.rollback_reason = reason.clone();
                if result.steps.is_empty() && serving.primary != new {
                    self.note = Some(format!(
                        "the rollout failed before it moved any traffic: the alias serves what it served before this run ({}), and version {new} takes no traffic",
                        serving.route().text()
                    ));
                }
            }
            (None, None) => {}
        }
        self.timeline = Some(result);
        self
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
        let by_rule = !self.canary_rule.is_empty();
        let share = if by_rule {
            format!("the requests whose {}", self.canary_rule)
        } else {
            percent(self.canary_weight)
        };
        let (at, set_to) = if by_rule {
            (format!("for {share}"), format!("set to serve {share}"))
        } else {
            (format!("at {share}"), format!("set to {share}"))
        };
        let rest = if self.previous_version.is_empty() || self.canary_weight >= 1.0 {
            String::new()
        } else if by_rule {
            format!("; version {} serves the others", self.previous_version)
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
            Outcome::Status => format!("{}: {version} serves {share}", self.target),
            Outcome::Created if self.created_function => format!(
                "{}: function {would}created with {version}, which serves 100%",
                self.target
            ),
            Outcome::Created => format!("{}: alias {would}created, {version} serves 100%", self.target),
            Outcome::Stopped => format!(
                "{}: stopped, the alias was left as someone else set it ({}); {version} serves {share}{rest}",
                self.target, self.rollback_reason
            ),
            Outcome::RolledBack if self.note.is_some() => format!(
                "{}: {} ({})",
                self.target,
                self.note.as_deref().unwrap_or_default(),
                self.rollback_reason
            ),
            Outcome::RolledBack if self.canary_weight < 1.0 => format!(
                "{}: {would}rolled back{}; version {} serves {} and canary version {} {}",
                self.target,
                if self.rollback_reason.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", self.rollback_reason)
                },
                self.previous_version,
                percent(1.0 - self.canary_weight),
                self.version,
                percent(self.canary_weight)
            ),
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
                "{}: unchanged, {version} already serves this code {at}{rest}; nothing uploaded or published",
                self.target
            ),
            Outcome::CanaryDropped => format!(
                "{}: canary {would}removed, {version} serves this code at 100%",
                self.target
            ),
            Outcome::Reweighted => format!("{}: canary {version} {would}{set_to}{rest}", self.target),
            Outcome::Promoted => format!("{}: {version} {would}promoted to 100%{was}", self.target),
            Outcome::Cancelled => format!(
                "{}: cancelled ({}); {version} serves {share}{rest}",
                self.target, self.rollback_reason
            ),
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
                let (noun, how) = self.release;
                format!(
                    "{}: {noun} {would}{how} as {version} {at}{rest}{was}",
                    self.target
                )
            }
        }
    }
}

impl fmt::Display for AliasReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.headline())?;
        // Only what means something for this result: no empty field, and no
        // weight when the version serves alone.
        write_fields(f, self, |key, value| {
            // The judge's readings were narrated one by one as they came.
            key != "analysis"
                && !value.is_empty()
                && value != "[]"
                && (key != "canary-weight" || (self.canary_weight < 1.0 && self.canary_rule.is_empty()))
        })
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
        let timeline = self.timeline.as_ref().map(timeline_markdown).unwrap_or_default();
        timeline + &crate::report::analysis::markdown(&self.analysis)
    }
    fn extra_outputs(&self) -> Vec<(String, String)> {
        one_function_results(self)
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
            markdown_text(&step.verdict)
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

#[cfg(test)]
impl AliasReport {
    /// A report of `f:live` with these fields, for tests.
    pub(crate) fn sample(result: Outcome, version: &str, previous: &str, weight: f64) -> AliasReport {
        let about = About {
            function: "f",
            alias: "live",
            dry_run: false,
        };
        let observed = Observed {
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
            latest: None,
            alias: None,
            function_missing: false,
        };
        AliasReport {
            version: version.into(),
            previous_version: previous.into(),
            skipped: result == Outcome::Skipped,
            canary_weight: weight,
            release: ("new code", "uploaded and published"),
            ..AliasReport::new(about, &observed, "abc=", result)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::output::{ALIAS_OUTPUTS, github_outputs, outputs};

    fn report(result: Outcome, version: &str, previous: &str, weight: f64) -> AliasReport {
        AliasReport::sample(result, version, previous, weight)
    }

    #[test]
    fn outputs_are_the_json_fields_as_text() {
        let fields = outputs(&report(Outcome::Published, "8", "7", 0.1));
        let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, crate::report::output::ALIAS_OUTPUTS);
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
    fn the_text_report_shows_only_what_means_something() {
        let text = report(Outcome::Skipped, "7", "", 1.0).to_string();
        for absent in [
            "canary-weight",
            "rollback-reason",
            "deployment-id",
            "previous-version",
        ] {
            assert!(!text.contains(absent), "{absent} in:\n{text}");
        }
        let field = |text: &str, key: &str| {
            let line = text
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("{key} ")));
            line.map(|l| l.split_whitespace().last().unwrap_or_default().to_string())
        };
        assert_eq!(field(&text, "version").as_deref(), Some("7"), "{text}");
        let canary = report(Outcome::Published, "8", "7", 0.1).to_string();
        assert_eq!(
            field(&canary, "canary-weight").as_deref(),
            Some("0.1"),
            "{canary}"
        );
        // The outputs keep every key.
        assert_eq!(
            outputs(&report(Outcome::Skipped, "7", "", 1.0)).len(),
            ALIAS_OUTPUTS.len()
        );
    }

    #[test]
    fn headlines_say_what_happened() {
        assert_eq!(
            report(Outcome::Published, "8", "7", 0.1).headline(),
            "f:live: new code uploaded and published as version 8 at 10%; version 7 keeps 90%"
        );
        let mut configuration = report(Outcome::Published, "8", "7", 0.2);
        configuration.release = ("new configuration", "published");
        let mut created = report(Outcome::Created, "1", "", 1.0);
        created.created_function = true;
        for (report, said) in [
            (
                configuration,
                "f:live: new configuration published as version 8 at 20%; version 7 keeps 80%",
            ),
            (
                created,
                "f:live: function created with version 1, which serves 100%",
            ),
        ] {
            assert_eq!(report.headline(), said);
        }
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
}
