//! SCF's function metrics per version, from Tencent Cloud Observability:
//! `GetMonitorData` in namespace `QCE/SCF_V2`, one metric per call with
//! both versions as its two instances (dimensions `functionName`,
//! `namespace`, `version`), at one-minute periods. SCF publishes
//! `Invocation`, `Error`, `Throttle` (sums) and `Duration` (the mean of
//! each period) — no percentiles, so a latency gate on SCF compares means.

use std::time::SystemTime;

use serde_json::{Value, json};

use crate::core::judge::Counts;
use crate::error::Result;
use crate::scf::Scf;

/// The namespace of SCF's function metrics.
pub const NAMESPACE: &str = "QCE/SCF_V2";

/// One metric's points of one version: (timestamp, value), a minute each.
type Series = Vec<(f64, f64)>;

/// One metric's points of the canary, then of the stable version.
type Points = (Series, Series);

impl Scf {
    /// Invocations, errors and throttles of `canary` and `stable` since
    /// `since`: three `GetMonitorData` calls, both versions in each.
    pub async fn counts(
        &self,
        function: &str,
        versions: (&str, &str),
        since: SystemTime,
    ) -> Result<(Counts, Counts)> {
        let invocations = self.points(function, "Invocation", versions, since).await?;
        let errors = self.points(function, "Error", versions, since).await?;
        let throttles = self.points(function, "Throttle", versions, since).await?;
        let sum = |series: &Series| series.iter().map(|(_, value)| value).sum::<f64>();
        let counts = |pick: fn(&Points) -> &Series| Counts {
            invocations: sum(pick(&invocations)),
            errors: sum(pick(&errors)),
            throttles: sum(pick(&throttles)),
        };
        Ok((counts(|p| &p.0), counts(|p| &p.1)))
    }

    /// The mean duration (ms) of each version since `since`: each minute's
    /// mean weighted by that minute's invocations; `None` for a version
    /// without any.
    pub async fn mean_duration(
        &self,
        function: &str,
        versions: (&str, &str),
        since: SystemTime,
    ) -> Result<(Option<f64>, Option<f64>)> {
        let durations = self.points(function, "Duration", versions, since).await?;
        let invocations = self.points(function, "Invocation", versions, since).await?;
        let mean = |durations: &Series, invocations: &Series| {
            let (mut calls, mut total) = (0.0, 0.0);
            for (at, duration) in durations {
                let n = invocations
                    .iter()
                    .find(|(when, _)| when == at)
                    .map_or(0.0, |(_, n)| *n);
                calls += n;
                total += duration * n;
            }
            (calls > 0.0).then(|| total / calls)
        };
        Ok((
            mean(&durations.0, &invocations.0),
            mean(&durations.1, &invocations.1),
        ))
    }

    /// One metric of both versions, per minute since `since`.
    async fn points(
        &self,
        function: &str,
        metric: &str,
        (canary, stable): (&str, &str),
        since: SystemTime,
    ) -> Result<Points> {
        let instance = |version: &str| {
            json!({"Dimensions": [
                {"Name": "functionName", "Value": function},
                {"Name": "namespace", "Value": self.namespace},
                {"Name": "version", "Value": version},
            ]})
        };
        let params = json!({
            "Namespace": NAMESPACE,
            "MetricName": metric,
            "Instances": [instance(canary), instance(stable)],
            "Period": 60,
            "StartTime": rfc3339(since),
            "EndTime": rfc3339(SystemTime::now()),
        });
        let answer = self
            .client()
            .call_monitor("GetMonitorData", params)
            .await
            .map_err(|e| {
                e.failed(&format!(
                    "read the {metric} metric of {function} (monitor:GetMonitorData)"
                ))
            })?;
        Ok((series_of(&answer, canary), series_of(&answer, stable)))
    }
}

/// The points of the instance whose `version` dimension is `version`: a
/// version without data (its instance absent, or its lists empty) has none.
fn series_of(answer: &Value, version: &str) -> Series {
    let point = answer
        .get("DataPoints")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|p| {
            p.get("Dimensions").and_then(Value::as_array).is_some_and(|dims| {
                dims.iter().any(|d| {
                    d.get("Name").and_then(Value::as_str) == Some("version")
                        && d.get("Value").and_then(Value::as_str) == Some(version)
                })
            })
        });
    let list = |key: &str| {
        point
            .and_then(|p| p.get(key))
            .and_then(Value::as_array)
            .map(|values| values.iter().filter_map(Value::as_f64).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    list("Timestamps").into_iter().zip(list("Values")).collect()
}

/// `2026-12-08T01:02:03+00:00`, as Tencent's API takes a time.
fn rfc3339(at: SystemTime) -> String {
    let text = humantime::format_rfc3339_seconds(at).to_string();
    match text.strip_suffix('Z') {
        Some(utc) => format!("{utc}+00:00"),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_versions_points_are_found_by_its_dimension() {
        let answer = json!({"DataPoints": [
            {"Dimensions": [{"Name": "functionName", "Value": "f"}, {"Name": "version", "Value": "3"}],
             "Timestamps": [1.0, 2.0], "Values": [4.0, 6.0]},
            {"Dimensions": [{"Name": "version", "Value": "2"}], "Timestamps": [], "Values": []},
        ]});
        assert_eq!(series_of(&answer, "3"), vec![(1.0, 4.0), (2.0, 6.0)]);
        assert_eq!(series_of(&answer, "2"), vec![]);
        assert_eq!(series_of(&answer, "9"), vec![]);
    }

    #[test]
    fn times_are_rfc3339_with_an_offset() {
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_765_155_723);
        assert_eq!(rfc3339(at), "2025-12-08T01:02:03+00:00");
    }
}
