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
use crate::pace::Pace;

pub struct Monitor {
    client: Client,
    log: Log,
    /// A fleet run's pace for CloudWatch's reads in this account-region
    /// (shared by every place that lands there).
    pacer: Pace,
}

/// CloudWatch stores metrics per minute: a window starts on a minute boundary.
fn floor_to_minute(time: SystemTime) -> SystemTime {
    let seconds = time.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    UNIX_EPOCH + Duration::from_secs(seconds - seconds % 60)
}

/// A window from `since`'s minute through the end of the next minute (data
/// stamped a little ahead, late or by a clock running ahead, is in it), and
/// the one period that covers it.
fn whole_window(since: SystemTime) -> ((SystemTime, SystemTime), i32) {
    let start = floor_to_minute(since);
    let end = floor_to_minute(SystemTime::now()) + Duration::from_secs(120);
    let period = end.duration_since(start).unwrap_or_default().as_secs().max(60);
    ((start, end), period as i32)
}

/// One query: `id`, the metric (namespace, name, dimensions), its statistic
/// over `period` seconds.
fn query(
    id: String,
    (namespace, metric): (&str, &str),
    dimensions: impl IntoIterator<Item = (String, String)>,
    (stat, period): (&str, i32),
) -> MetricDataQuery {
    let dimensions = dimensions
        .into_iter()
        .map(|(name, value)| Dimension::builder().name(name).value(value).build())
        .collect();
    let stat = MetricStat::builder()
        .metric(
            Metric::builder()
                .namespace(namespace)
                .metric_name(metric)
                .set_dimensions(Some(dimensions))
                .build(),
        )
        .period(period)
        .stat(stat)
        .build();
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(stat)
        .return_data(true)
        .build()
}

/// The `AWS/Lambda` dimensions of one executed version behind `function:alias`.
fn lambda_dimensions(function: &str, alias: &str, version: &str) -> Vec<(String, String)> {
    let name = function_name_of(function);
    vec![
        ("FunctionName".to_string(), name.to_string()),
        ("Resource".to_string(), format!("{name}:{alias}")),
        ("ExecutedVersion".to_string(), version.to_string()),
    ]
}

impl Monitor {
    pub fn new(client: Client, log: Log) -> Monitor {
        Monitor {
            client,
            log,
            pacer: Pace::default(),
        }
    }

    /// Keep this client's reads under `per_second` in every second, evenly
    /// spaced with no burst: a fleet's rollouts and bakes read CloudWatch in
    /// each account-region at once.
    pub fn paced(self, per_second: u32) -> Monitor {
        Monitor {
            pacer: Pace::per_second(per_second),
            ..self
        }
    }

    /// This client, sharing `other`'s pace (another place of its account-region).
    pub fn paced_like(self, other: &Monitor) -> Monitor {
        Monitor {
            pacer: other.pacer.clone(),
            ..self
        }
    }

    async fn pace(&self) {
        self.pacer.wait().await;
    }

    /// One GetMetricData call over `[start, end)`, paced; each series' id
    /// and values. `what` names the read in an error.
    async fn metric_data(
        &self,
        queries: Vec<MetricDataQuery>,
        (start, end): (SystemTime, SystemTime),
        what: &str,
    ) -> Result<Vec<(String, Vec<f64>)>> {
        self.pace().await;
        self.log.detail(&format!("GetMetricData {what}"));
        let result = self
            .client
            .get_metric_data()
            .set_metric_data_queries(Some(queries))
            .start_time(DateTime::from(start))
            .end_time(DateTime::from(end))
            .send()
            .await
            .map_err(|e| classify(&e).failed(&format!("read {what}")))?;
        Ok(result
            .metric_data_results()
            .iter()
            .map(|series| {
                (
                    series.id().unwrap_or_default().to_string(),
                    series.values().to_vec(),
                )
            })
            .collect())
    }

    /// The alarms among `names` that are in ALARM, with their reason. An
    /// alarm that does not exist is an error: a gate on nothing guards nothing.
    pub async fn alarms_firing(&self, names: &[String]) -> Result<Vec<(String, String)>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        self.pace().await;
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
        (function, alias): (&str, &str),
        (canary, stable): (&str, &str),
        since: SystemTime,
    ) -> Result<(Counts, Counts)> {
        let metrics = ["Invocations", "Errors", "Throttles"];
        let mut queries = Vec::new();
        for (v, version) in [canary, stable].iter().enumerate() {
            for (m, metric) in metrics.iter().enumerate() {
                queries.push(query(
                    format!("m{v}{m}"),
                    ("AWS/Lambda", metric),
                    lambda_dimensions(function, alias, version),
                    ("Sum", 60),
                ));
            }
        }
        let start = floor_to_minute(since);
        // Include the minute in progress: its data points may still arrive late,
        // and later readings of the same step see them.
        let end = SystemTime::now() + Duration::from_secs(60);
        let what = format!(
            "the AWS/Lambda metrics of {}:{alias} (versions {canary} and {stable})",
            function_name_of(function)
        );
        let mut sums = [[0.0f64; 3]; 2];
        for (id, values) in self.metric_data(queries, (start, end), &what).await? {
            if let [b'm', v, m] = id.as_bytes() {
                // An empty sum of floats is -0.0; adding 0.0 makes it read as 0.
                sums[(v - b'0') as usize][(m - b'0') as usize] = values.iter().sum::<f64>() + 0.0;
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
    /// `since`, each over the whole window (one GetMetricData call). A
    /// statistic CloudWatch has no value for is left out.
    pub async fn latency(
        &self,
        (function, alias): (&str, &str),
        (canary, stable): (&str, &str),
        since: SystemTime,
        queries: &[Query],
    ) -> Result<Vec<(Query, f64)>> {
        let (window, period) = whole_window(since);
        let requests = queries
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let version = match q.side {
                    Side::Canary => canary,
                    Side::Stable => stable,
                };
                query(
                    format!("l{i}"),
                    ("AWS/Lambda", "Duration"),
                    lambda_dimensions(function, alias, version),
                    (&q.statistic, period),
                )
            })
            .collect();
        let what = format!(
            "the Duration of {}:{alias} (versions {canary} and {stable})",
            function_name_of(function)
        );
        Ok(self
            .metric_data(requests, window, &what)
            .await?
            .into_iter()
            .filter_map(|(id, values)| {
                let i = id.strip_prefix('l')?.parse::<usize>().ok()?;
                Some((queries.get(i)?.clone(), *values.first()?))
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
        let (window, period) = whole_window(since);
        let mut queries = Vec::new();
        for (i, metric) in metrics.iter().enumerate() {
            for (v, version) in [canary, stable].iter().enumerate() {
                queries.push(query(
                    format!("c{i}_{v}"),
                    (&metric.namespace, &metric.metric),
                    metric.dimensions_for(function_name_of(function), alias, version),
                    (&metric.stat, period),
                ));
            }
        }
        let what = format!("the --metrics-file metrics (versions {canary} and {stable})");
        Ok(self
            .metric_data(queries, window, &what)
            .await?
            .into_iter()
            .filter_map(|(id, values)| {
                let (i, v) = id.strip_prefix('c')?.split_once('_')?;
                let side = if v == "0" { Side::Canary } else { Side::Stable };
                Some((i.parse().ok()?, side, *values.first()?))
            })
            .collect())
    }
}
