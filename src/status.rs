//! `status`: what the alias serves now — versions, weights, code hashes,
//! descriptions, last changes, and the recorded rollback target. Read-only.

use std::fmt;

use serde::Serialize;

use crate::alias::{self, Route, routing_text};
use crate::aws::{self, VersionDetails};
use crate::cli::{OutputFormat, StatusArgs};
use crate::error::Result;
use crate::record::Record;
use crate::report::{self, Log, Report};
use crate::values::percent;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct StatusReport {
    pub function_arn: String,
    pub alias_arn: String,
    /// The canary if there is one, else the primary (as in `deploy`'s outputs).
    pub version: String,
    /// The primary when there is a canary, else empty.
    pub previous_version: String,
    pub code_sha256: String,
    pub canary_weight: f64,
    pub result: &'static str,
    pub primary: VersionDetails,
    pub canary: Option<CanaryDetails>,
    /// The version `rollback` (without a canary) would return to, if recorded.
    pub rollback_to: String,
    #[serde(skip)]
    pub target: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CanaryDetails {
    #[serde(flatten)]
    pub version: VersionDetails,
    pub weight: f64,
}

pub async fn run(args: StatusArgs, github: bool) -> Result<()> {
    let log = Log {
        verbose: args.common.verbose,
        dry_run: false,
        github,
    };
    if args.target.manifest.is_some() {
        return Err(crate::error::Error::usage(
            "status takes one function: give --function-name and --alias instead of --manifest",
        ));
    }
    let (function, alias) = args.target.single();
    let lambda = aws::connect(args.target.region.as_deref(), aws::Calls::One, log).await?;
    let (observed, state) = alias::observe_existing(&lambda, function, alias).await?;
    let canary_version = state.canary.as_ref().map(|c| c.version.version.clone());
    let (primary, canary) = tokio::join!(lambda.version(function, &state.primary.version), async {
        match &canary_version {
            Some(version) => Some(lambda.version(function, version).await),
            None => None,
        }
    });
    let primary = primary?;
    let canary = match (canary, &state.canary) {
        (Some(details), Some(c)) => Some(CanaryDetails {
            version: details?,
            weight: c.weight,
        }),
        _ => None,
    };
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
        record.canary_removed,
        record.promoted,
        record.rollback_to,
    ) {
        (Some(_), ..) => primary.version.clone(),
        (None, None, Some(promoted), Some(target)) if promoted == primary.version => target,
        _ => String::new(),
    };
    let report = StatusReport {
        function_arn: observed.function_arn,
        alias_arn: state.arn.clone(),
        version,
        previous_version,
        code_sha256,
        canary_weight,
        result: "status",
        primary,
        canary,
        rollback_to,
        target: format!("{function}:{alias}"),
    };
    report::emit(&report, args.common.output == OutputFormat::Json)
}

impl StatusReport {
    fn headline(&self) -> String {
        let route = Route {
            primary: &self.primary.version,
            canary: self
                .canary
                .as_ref()
                .map(|c| (c.version.version.as_str(), c.weight)),
        };
        format!("{} serves {}", self.target, routing_text(route))
    }
}

fn version_line(f: &mut fmt::Formatter<'_>, role: &str, share: f64, v: &VersionDetails) -> fmt::Result {
    writeln!(f, "  {role:7}  version {} at {}", v.version, percent(share))?;
    writeln!(f, "           CodeSha256   {}", v.code_sha256)?;
    writeln!(f, "           modified     {}", v.last_modified)?;
    writeln!(f, "           description  {}", v.description)
}

impl fmt::Display for StatusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.headline())?;
        version_line(
            f,
            "primary",
            1.0 - self.canary.as_ref().map_or(0.0, |c| c.weight),
            &self.primary,
        )?;
        if let Some(canary) = &self.canary {
            version_line(f, "canary", canary.weight, &canary.version)?;
        }
        match self.rollback_to.as_str() {
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
        format!("`{}` — status", self.target)
    }
    fn summary_line(&self) -> String {
        self.headline()
    }
}
