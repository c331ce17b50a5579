//! CloudWatch reads for the health gates: alarm states, and the `AWS/Lambda`
//! metrics of two `ExecutedVersion`s behind one alias.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, StateValue};

use crate::aws::error::classify;
use crate::core::judge::Counts;
use crate::core::judge::custom::CustomMetric;
use crate::core::judge::latency::{Query, Side};
use crate::core::values::function_name_of;
use crate::error::{Error, Result};
use crate::log::Log;

pub struct Monitor {
    client: Client,
    log: Log,
}

/// CloudWatch stores metrics per minute: a window starts on a minute boundary.
fn floor_to_minute(time: SystemTime) -> SystemTime {
    let seconds = time.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    UNIX_EPOCH + Duration::from_secs(seconds - seconds % 60)
}

impl Monitor {
    pub fn new(client: Client, log: Log) -> Monitor {
        Monitor { client, log }
    }

    /// The alarms among `names` that are in ALARM, with their reason. An
    /// alarm that does not exist is an error: a gate on nothing guards nothing.
    pub async fn alarms_firing(&self, names: &[String]) -> Result<Vec<(String, String)>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        self.log.detail(&format!("DescribeAlarms {names:?}"));
        let found = self
            .client
            .describe_alarms()
            .set_alarm_names(Some(names.to_vec()))
            .send()
            .await
            .map_err(|e| classify(&e).failed(&format!("read the alarms {names:?}")))?;
        let mut states = Vec::new();
        for alarm in found.metric_alarms() {
            states.push((alarm.alarm_name(), alarm.state_value(), alarm.state_reason()));
        }
        for alarm in found.composite_alarms() {
            states.push((alarm.alarm_name(), alarm.state_value(), alarm.state_reason()));
        }
        let missing: Vec<&String> = names
            .iter()
            .filter(|n| !states.iter().any(|(found, ..)| *found == Some(n.as_str())))
            .collect();
        if !missing.is_empty() {
            // Bad input, found by a read before the first write.
            return Err(Error::usage(format!(
                "alarms that do not exist are named (--alarm, or a wave's alarms): {missing:?}: a gate on nothing guards nothing"
            )));
        }
        Ok(states
            .into_iter()
            .filter(|(_, state, _)| *state == Some(&StateValue::Alarm))
            .map(|(name, _, reason)| {
                (
                    name.unwrap_or_default().to_string(),
                    reason.unwrap_or_default().to_string(),
                )
            })
            .collect())
    }

    /// Invocations, Errors and Throttles of `canary` and `stable` through
    /// `function:alias` since `since` (one GetMetricData call).
    pub async fn counts(
        &self,
        function: &str,
        alias: &str,
        canary: &str,
        stable: &str,
        since: SystemTime,
    ) -> Result<(Counts, Counts)> {
        let name = function_name_of(function);
        let resource = format!("{name}:{alias}");
        let metrics = ["Invocations", "Errors", "Throttles"];
        let mut queries = Vec::new();
        for (v, version) in [canary, stable].iter().enumerate() {
            for (m, metric) in metrics.iter().enumerate() {
                let dimensions = [
                    ("FunctionName", name),
                    ("Resource", resource.as_str()),
                    ("ExecutedVersion", version),
                ]
                .into_iter()
                .map(|(k, value)| Dimension::builder().name(k).value(value).build())
                .collect();
                let stat = MetricStat::builder()
                    .metric(
                        Metric::builder()
                            .namespace("AWS/Lambda")
                            .metric_name(*metric)
                            .set_dimensions(Some(dimensions))
                            .build(),
                    )
                    .period(60)
                    .stat("Sum")
                    .build();
                queries.push(
                    MetricDataQuery::builder()
                        .id(format!("m{v}{m}"))
                        .metric_stat(stat)
                        .return_data(true)
                        .build(),
                );
            }
        }
        let start = floor_to_minute(since);
        // Include the minute in progress: its data points may still arrive late,
        // and later readings of the same step see them.
        let end = SystemTime::now() + Duration::from_secs(60);
        self.log.detail(&format!(
            "GetMetricData {resource} versions {canary} and {stable}"
        ));
        let result = self
            .client
            .get_metric_data()
            .set_metric_data_queries(Some(queries))
            .start_time(DateTime::from(start))
            .end_time(DateTime::from(end))
            .send()
            .await
            .map_err(|e| classify(&e).failed(&format!("read the AWS/Lambda metrics of {resource}")))?;
        let mut sums = [[0.0f64; 3]; 2];
        for series in result.metric_data_results() {
            let id = series.id().unwrap_or_default().as_bytes();
            if let [b'm', v, m] = id {
                // An empty sum of floats is -0.0; adding 0.0 makes it read as 0.
                sums[(v - b'0') as usize][(m - b'0') as usize] = series.values().iter().sum::<f64>() + 0.0;
            }
        }
        let counts = |s: [f64; 3]| Counts {
            invocations: s[0],
            errors: s[1],
            throttles: s[2],
        };
        Ok((counts(sums[0]), counts(sums[1])))
    }

    /// The `Duration` statistics (milliseconds) `queries` name, of the
    /// canary or the stable version through `function:alias` since
    /// `since`, each over the whole window (one period from its first
    /// minute to now; one GetMetricData call). A statistic CloudWatch has
    /// no value for is left out.
    pub async fn latency(
        &self,
        (function, alias): (&str, &str),
        (canary, stable): (&str, &str),
        since: SystemTime,
        queries: &[Query],
    ) -> Result<Vec<(Query, f64)>> {
        let name = function_name_of(function);
        let resource = format!("{name}:{alias}");
        let start = floor_to_minute(since);
        // Through the end of the next minute: data stamped a little ahead
        // (late, or by a clock running ahead) is in the window too.
        let end = floor_to_minute(SystemTime::now()) + Duration::from_secs(120);
        let period = end.duration_since(start).unwrap_or_default().as_secs().max(60);
        let dimensions = |version: &str| -> Vec<Dimension> {
            [
                ("FunctionName", name),
                ("Resource", resource.as_str()),
                ("ExecutedVersion", version),
            ]
            .into_iter()
            .map(|(k, value)| Dimension::builder().name(k).value(value).build())
            .collect()
        };
        let requests: Vec<MetricDataQuery> = queries
            .iter()
            .enumerate()
            .map(|(i, query)| {
                let version = match query.side {
                    Side::Canary => canary,
                    Side::Stable => stable,
                };
                let stat = MetricStat::builder()
                    .metric(
                        Metric::builder()
                            .namespace("AWS/Lambda")
                            .metric_name("Duration")
                            .set_dimensions(Some(dimensions(version)))
                            .build(),
                    )
                    .period(period as i32)
                    .stat(&query.statistic)
                    .build();
                MetricDataQuery::builder()
                    .id(format!("l{i}"))
                    .metric_stat(stat)
                    .return_data(true)
                    .build()
            })
            .collect();
        self.log.detail(&format!(
            "GetMetricData Duration {resource} versions {canary} and {stable}"
        ));
        let result = self
            .client
            .get_metric_data()
            .set_metric_data_queries(Some(requests))
            .start_time(DateTime::from(start))
            .end_time(DateTime::from(end))
            .send()
            .await
            .map_err(|e| classify(&e).failed(&format!("read the Duration of {resource}")))?;
        Ok(result
            .metric_data_results()
            .iter()
            .filter_map(|series| {
                let i = series.id()?.strip_prefix('l')?.parse::<usize>().ok()?;
                Some((queries.get(i)?.clone(), *series.values().first()?))
            })
            .collect())
    }

    /// The `--metrics-file` metrics of the canary and the stable version,
    /// each its statistic over the whole window since `since`, in one
    /// GetMetricData call: `(metric index, version, value)`, a metric
    /// CloudWatch has no value for left out.
    pub async fn custom(
        &self,
        (function, alias): (&str, &str),
        (canary, stable): (&str, &str),
        since: SystemTime,
        metrics: &[CustomMetric],
    ) -> Result<Vec<(usize, Side, f64)>> {
        let start = floor_to_minute(since);
        // Through the end of the next minute: data stamped a little ahead
        // (late, or by a clock running ahead) is in the window too.
        let end = floor_to_minute(SystemTime::now()) + Duration::from_secs(120);
        let period = end.duration_since(start).unwrap_or_default().as_secs().max(60);
        let mut queries = Vec::new();
        for (i, metric) in metrics.iter().enumerate() {
            for (side, version) in [(Side::Canary, canary), (Side::Stable, stable)] {
                let dimensions = metric
                    .dimensions_for(function_name_of(function), alias, version)
                    .into_iter()
                    .map(|(name, value)| Dimension::builder().name(name).value(value).build())
                    .collect();
                let stat = MetricStat::builder()
                    .metric(
                        Metric::builder()
                            .namespace(&metric.namespace)
                            .metric_name(&metric.metric)
                            .set_dimensions(Some(dimensions))
                            .build(),
                    )
                    .period(period as i32)
                    .stat(&metric.stat)
                    .build();
                let v = if side == Side::Canary { 0 } else { 1 };
                queries.push(
                    MetricDataQuery::builder()
                        .id(format!("c{i}_{v}"))
                        .metric_stat(stat)
                        .return_data(true)
                        .build(),
                );
            }
        }
        self.log.detail(&format!(
            "GetMetricData --metrics-file ({} metrics) versions {canary} and {stable}",
            metrics.len()
        ));
        let result = self
            .client
            .get_metric_data()
            .set_metric_data_queries(Some(queries))
            .start_time(DateTime::from(start))
            .end_time(DateTime::from(end))
            .send()
            .await
            .map_err(|e| classify(&e).failed("read the --metrics-file metrics"))?;
        Ok(result
            .metric_data_results()
            .iter()
            .filter_map(|series| {
                let (i, v) = series.id()?.strip_prefix('c')?.split_once('_')?;
                let side = if v == "0" { Side::Canary } else { Side::Stable };
                Some((i.parse().ok()?, side, *series.values().first()?))
            })
            .collect())
    }
}
