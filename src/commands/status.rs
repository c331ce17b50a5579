//! `status`: what the alias serves now — versions, weights, code hashes,
//! descriptions, last changes, and the recorded rollback target. Read-only.
//! With a manifest, every target's, each account-region at its own pace.

use crate::aws::Calls;
use crate::cli::settings::StatusSettings;
use crate::commands::alias;
use crate::commands::runner::{Connect, Named, across_places, report_across};
use crate::error::{Error, Result};
use crate::platform::Platform;
use crate::report::{self, About, StatusReport};

pub async fn run<C: Connect>(settings: StatusSettings) -> Result<()> {
    let StatusSettings {
        run,
        targets,
        metrics,
    } = settings;
    let Some(fleet) = run.fleet else {
        let place = C::connect_one(&run, Calls::One).await?;
        let target = targets.first().ok_or_else(|| Error::usage("no alias to read"))?;
        place.refuse_target(&target.function)?;
        let mut report = status_of(place.platform(), target.names()).await?;
        if let Some(window) = metrics {
            report.metrics = canary_metrics(&place, target.names(), &report, window).await?;
        }
        if let Some(region) = place.region_shown() {
            report.outputs.region = region.to_string();
        }
        return report::emit(&report, run.json);
    };
    let calls = Calls::Fleet {
        per_second: fleet.per_second,
    };
    let several_places = targets.iter().any(|t| t.place != targets[0].place);
    let results = across_places(
        &run,
        &targets,
        |t| &t.place,
        calls,
        async |place: &C, target| {
            let mut report = status_of(place.platform(), target.names()).await?;
            if let Some(window) = metrics {
                report.metrics = canary_metrics(place, target.names(), &report, window).await?;
            }
            if several_places {
                (report.outputs.account, report.outputs.region) = place.place_shown();
            }
            Ok(report)
        },
    )
    .await?;
    report_across(
        results,
        run.json,
        |report: &mut StatusReport, name| report.outputs.target = name,
        Some(("serving", |r: &StatusReport| {
            let mut shares = serde_json::Map::new();
            let canary = r.canary.as_ref().map_or(0.0, |c| c.weight);
            shares.insert(
                r.primary.version.clone(),
                serde_json::json!(((1.0 - canary) * 1e6).round() / 1e6),
            );
            if let Some(c) = &r.canary {
                shares.insert(c.version.version.clone(), serde_json::json!(c.weight));
            }
            (r.outputs.target.clone(), serde_json::Value::Object(shares))
        })),
    )
}

/// `--metrics`: a live canary against the stable version over the last
/// `window` ("no canary" when the alias routes none, or routes by rule).
async fn canary_metrics<C: Connect>(
    place: &C,
    (function, alias): (&str, &str),
    report: &StatusReport,
    window: std::time::Duration,
) -> Result<String> {
    let Some(canary) = report
        .canary
        .as_ref()
        .filter(|_| report.outputs.canary_rule.is_empty())
    else {
        return Ok("no canary: nothing to compare".to_string());
    };
    let since = std::time::SystemTime::now() - window;
    let versions = (canary.version.version.as_str(), report.primary.version.as_str());
    let Some((canary_counts, stable_counts)) = place.counts((function, alias), versions, since).await? else {
        return Ok(String::new());
    };
    let read = crate::core::judge::Window {
        canary: canary_counts,
        stable: stable_counts,
        ..Default::default()
    };
    Ok(format!(
        "last {}: {}",
        humantime::format_duration(window),
        crate::core::judge::snapshot(&read, canary.weight, 0.95)
    ))
}

/// One alias's status, on any platform: what it serves, each version's
/// details, its provisioned concurrency and its entry points.
pub async fn status_of<P: Platform>(platform: &P, (function, alias): (&str, &str)) -> Result<StatusReport> {
    let (observed, state, now) = alias::observe_existing(platform, function, alias).await?;
    let (primary, canary, provisioned, entry_points) = tokio::join!(
        platform.version(function, &state.primary.version),
        async {
            match &state.canary {
                Some(canary) => Some(platform.version(function, &canary.version.version).await),
                None => None,
            }
        },
        platform.alias_provisioned(function, alias),
        platform.entry_points(function, &observed.function_arn, alias)
    );
    let about = About {
        function,
        alias,
        dry_run: false,
    };
    let entry_points = entry_points?;
    let mut report = StatusReport::new(about, &observed, &state, primary?, canary.transpose()?)
        .with_entry_points(alias, entry_points.found, entry_points.unreadable);
    report.provisioned_concurrency = provisioned?;
    report.outputs.canary_rule = now.rule_text();
    Ok(report)
}
