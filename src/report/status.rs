//! The result of `status`: what the alias serves now, each version's code
//! hash, description and last change, and where `rollback` would go.

use std::fmt;

use serde::Serialize;

use crate::core::entry::EntryPoint;
use crate::core::observed::{AliasState, Observed, Provisioned, Route, VersionDetails};
use crate::core::plan::Outcome;
use crate::core::record::Record;
use crate::core::values::percent;
use crate::report::alias::{About, AliasReport};
use crate::report::output::{Report, markdown_text, one_function_results};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct StatusReport {
    /// The outputs every command writes: `version` is the canary if there is
    /// one, else the primary (as in `deploy`'s); `skipped` is always true.
    #[serde(flatten)]
    pub outputs: AliasReport,
    pub primary: VersionDetails,
    pub canary: Option<CanaryDetails>,
    /// The version `rollback` (without a canary) would return to, if recorded.
    pub rollback_to: String,
    /// The version the record names as live before the last promotion, even
    /// when a plain `rollback` would not return to it (a rollback already
    /// removed a canary since): `--to-version` reaches it.
    pub recorded_rollback_to: String,
    /// The canary a rollback removed since the last promotion, if recorded.
    pub canary_removed: String,
    /// What invokes the function, each marked against the alias ("through
    /// alias live", "bypasses live: runs $LATEST", …).
    pub entry_points: Vec<EntryPointLine>,
    /// Entry-point reads the caller may not make (the permission named):
    /// the list above may then be incomplete.
    pub entry_points_unread: Vec<String>,
    /// Provisioned concurrency on the alias, when it has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioned_concurrency: Option<Provisioned>,
    /// `--metrics`: the canary against the stable version over the window.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub metrics: String,
}

/// One entry point and how it reaches the function against the alias.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct EntryPointLine {
    #[serde(flatten)]
    pub point: EntryPoint,
    pub marked: String,
}

impl StatusReport {
    /// Add what invokes the function (as read), marked against the alias.
    pub fn with_entry_points(
        mut self,
        alias: &str,
        found: Vec<EntryPoint>,
        unread: Vec<String>,
    ) -> StatusReport {
        self.entry_points = found
            .into_iter()
            .map(|point| EntryPointLine {
                marked: point.marked(alias),
                point,
            })
            .collect();
        self.entry_points_unread = unread;
        self
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CanaryDetails {
    #[serde(flatten)]
    pub version: VersionDetails,
    pub weight: f64,
}

impl StatusReport {
    /// The report for `state` (the alias `about` names, as observed), given
    /// the details of the versions it serves.
    pub fn new(
        about: About<'_>,
        observed: &Observed,
        state: &AliasState,
        primary: VersionDetails,
        canary: Option<VersionDetails>,
    ) -> StatusReport {
        let canary = canary
            .zip(state.canary.as_ref())
            .map(|(details, c)| CanaryDetails {
                version: details,
                weight: c.weight,
            });
        let (version, previous_version, code_sha256, canary_weight) = match &canary {
            Some(c) => (
                c.version.version.clone(),
                primary.version.clone(),
                c.version.code_sha256.clone(),
                c.weight,
            ),
            None => (
                primary.version.clone(),
                String::new(),
                primary.code_sha256.clone(),
                1.0,
            ),
        };
        let record = Record::parse(&state.description);
        let rollback_to = match (
            &canary,
            &record.canary_removed,
            &record.promoted,
            &record.rollback_to,
        ) {
            (Some(_), ..) => primary.version.clone(),
            (None, None, Some(promoted), Some(target)) if *promoted == primary.version => target.clone(),
            _ => String::new(),
        };
        StatusReport {
            outputs: AliasReport {
                version,
                previous_version,
                skipped: true,
                canary_weight,
                ..AliasReport::new(about, observed, &code_sha256, Outcome::Status)
            },
            primary,
            canary,
            rollback_to,
            recorded_rollback_to: record.rollback_to.unwrap_or_default(),
            canary_removed: record.canary_removed.unwrap_or_default(),
            entry_points: Vec::new(),
            entry_points_unread: Vec::new(),
            provisioned_concurrency: None,
            metrics: String::new(),
        }
    }

    fn headline(&self) -> String {
        let route = Route {
            primary: &self.primary.version,
            canary: self
                .canary
                .as_ref()
                .map(|c| (c.version.version.as_str(), c.weight)),
        };
        match (&self.canary, self.outputs.canary_rule.as_str()) {
            (Some(canary), rule) if !rule.is_empty() => format!(
                "{} serves version {}, and version {} to the requests whose {rule}",
                self.outputs.target, self.primary.version, canary.version.version
            ),
            _ => format!("{} serves {}", self.outputs.target, route.text()),
        }
    }
}

fn version_line(f: &mut fmt::Formatter<'_>, role: &str, share: &str, v: &VersionDetails) -> fmt::Result {
    writeln!(f, "  {role:7}  version {} {share}", v.version)?;
    writeln!(f, "           CodeSha256   {}", v.code_sha256)?;
    writeln!(f, "           modified     {}", v.last_modified)?;
    if !v.image_uri.is_empty() {
        writeln!(f, "           image        {}", v.image_uri)?;
    }
    let number = |n: Option<i32>, unit: &str| n.map_or("?".to_string(), |n| format!("{n} {unit}"));
    let runtime = if v.runtime.is_empty() {
        "(image)"
    } else {
        &v.runtime
    };
    // SCF reports no architecture: nothing is shown for it.
    let architecture = if v.architecture.is_empty() {
        String::new()
    } else {
        format!("{}, ", v.architecture)
    };
    writeln!(
        f,
        "           runtime      {runtime}, {architecture}memory {}, timeout {}",
        number(v.memory_size, "MB"),
        number(v.timeout, "s")
    )?;
    writeln!(
        f,
        "           environment  {}",
        if v.environment_keys.is_empty() {
            "no variables".to_string()
        } else {
            v.environment_keys.join(", ")
        }
    )?;
    writeln!(f, "           description  {}", v.description)
}

impl fmt::Display for StatusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.headline())?;
        let rule = &self.outputs.canary_rule;
        let primary_share = match &self.canary {
            Some(_) if !rule.is_empty() => "for every other request".to_string(),
            canary => format!("at {}", percent(1.0 - canary.as_ref().map_or(0.0, |c| c.weight))),
        };
        version_line(f, "primary", &primary_share, &self.primary)?;
        if let Some(canary) = &self.canary {
            let share = if rule.is_empty() {
                format!("at {}", percent(canary.weight))
            } else {
                format!("for the requests whose {rule}")
            };
            version_line(f, "canary", &share, &canary.version)?;
        }
        for line in &self.entry_points {
            writeln!(
                f,
                "  entry    {} {}: {}",
                line.point.kind, line.point.what, line.marked
            )?;
        }
        for why in &self.entry_points_unread {
            writeln!(f, "  entry    {why}")?;
        }
        if !self.metrics.is_empty() {
            writeln!(f, "  metrics  {}", self.metrics)?;
        }
        if let Some(p) = &self.provisioned_concurrency {
            writeln!(
                f,
                "  provisioned concurrency: {} requested, {} allocated ({}){}",
                p.requested,
                p.allocated,
                p.status,
                if p.reason.is_empty() {
                    String::new()
                } else {
                    format!(": {}", p.reason)
                }
            )?;
        }
        match self.rollback_to.as_str() {
            "" if !self.canary_removed.is_empty() => writeln!(
                f,
                "  rollback: nothing to roll back: the failed release, canary version {}, was already taken out (by a rollback, or by its own rollout rolling back), and version {}, the release before it, serves alone{}",
                self.canary_removed,
                self.primary.version,
                if self.recorded_rollback_to.is_empty() || self.recorded_rollback_to == self.primary.version {
                    String::new()
                } else {
                    format!(
                        "; --to-version {} goes back further, to the version live before the last promotion",
                        self.recorded_rollback_to
                    )
                }
            ),
            "" => writeln!(f, "  rollback: nothing recorded (use --to-version)"),
            target if self.canary.is_some() => {
                writeln!(f, "  rollback: drops the canary, back to version {target}")
            }
            target => writeln!(
                f,
                "  rollback: back to version {target}, live before the last promotion"
            ),
        }
    }
}

impl Report for StatusReport {
    fn title(&self) -> String {
        format!("`{}` — status", self.outputs.target)
    }
    fn summary_line(&self) -> String {
        self.headline()
    }
    fn extra_outputs(&self) -> Vec<(String, String)> {
        one_function_results(self)
    }
    fn details(&self) -> String {
        if self.entry_points.is_empty() && self.entry_points_unread.is_empty() {
            return String::new();
        }
        let mut text = "| entry point | what | how it reaches the function |\n|---|---|---|\n".to_string();
        for line in &self.entry_points {
            text.push_str(&format!(
                "| {} | {} | {} |\n",
                line.point.kind,
                markdown_text(&line.point.what),
                markdown_text(&line.marked)
            ));
        }
        for why in &self.entry_points_unread {
            text.push_str(&format!("| ? | {} | |\n", markdown_text(why)));
        }
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::observed::VersionState;

    #[test]
    fn status_reports_the_alias_provisioned_concurrency() {
        let state = AliasState {
            arn: "arn:aws:lambda:us-east-1:123456789012:function:f:live".into(),
            revision_id: None,
            description: String::new(),
            primary: VersionState {
                version: "7".into(),
                code_sha256: "h=".into(),
                config: Default::default(),
            },
            canary: None,
        };
        let observed = Observed {
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
            latest: None,
            alias: Some(state.clone()),
            function_missing: false,
        };
        let details = VersionDetails {
            version: "7".into(),
            code_sha256: "h=".into(),
            description: String::new(),
            last_modified: String::new(),
            runtime: "python3.12".into(),
            memory_size: Some(256),
            timeout: Some(30),
            architecture: "arm64".into(),
            environment_keys: vec!["STAGE".into(), "TOKEN".into()],
            image_uri: String::new(),
        };
        let about = About {
            function: "f",
            alias: "live",
            dry_run: false,
        };
        let mut report = StatusReport::new(about, &observed, &state, details, None);
        assert!(!serde_json::to_string(&report).unwrap().contains("provisioned"));
        report.provisioned_concurrency = Some(Provisioned {
            requested: 10,
            allocated: 4,
            status: "IN_PROGRESS".into(),
            reason: String::new(),
        });
        let text = report.to_string();
        assert!(
            text.contains(
                "runtime      python3.12, arm64, memory 256 MB, timeout 30 s\n           environment  STAGE, TOKEN\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("  provisioned concurrency: 10 requested, 4 allocated (IN_PROGRESS)\n"),
            "{text}"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["provisioned-concurrency"]["allocated"], 4);
        assert_eq!(
            json["primary"]["environment-keys"],
            serde_json::json!(["STAGE", "TOKEN"])
        );
    }
}
