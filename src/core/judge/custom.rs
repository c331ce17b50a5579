//! `--metrics-file`: the metrics a function emits per version (Embedded
//! Metric Format with an `ExecutedVersion` dimension, say), each read for
//! the canary and the stable version over the same window and compared as
//! the file says. The platform answers one aggregate per version, not the
//! samples, so these are compared as read (no test): the reading shows both
//! values beside the limit.
//!
//! ```toml
//! [[metric]]
//! name = "checkout latency"        # how readings name it
//! namespace = "Shop"
//! metric = "CheckoutLatency"
//! dimensions = { Service = "{function}", ExecutedVersion = "{version}" }
//! stat = "Average"                 # any CloudWatch statistic
//! max-increase = "10%"             # or max-decrease, max, min (one)
//! ```

use serde::Deserialize;

use super::{Latency, Window};
use crate::core::values::percent;

/// How a metric's canary value is bounded.
#[derive(Debug, Clone, PartialEq)]
pub enum Limit {
    /// Lower is better: at most this fraction above the stable version's.
    MaxIncrease(f64),
    /// Higher is better: at most this fraction below the stable version's.
    MaxDecrease(f64),
    /// At most this value.
    Max(f64),
    /// At least this value.
    Min(f64),
}

/// One metric of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomMetric {
    pub name: String,
    pub namespace: String,
    pub metric: String,
    /// Dimension names and values, with `{function}`, `{alias}` and
    /// `{version}` still in them.
    pub dimensions: Vec<(String, String)>,
    pub stat: String,
    pub limit: Limit,
}

impl CustomMetric {
    /// The dimensions for one version of `function:alias`.
    pub fn dimensions_for(&self, function: &str, alias: &str, version: &str) -> Vec<(String, String)> {
        let fill = |text: &str| {
            text.replace("{function}", function)
                .replace("{alias}", alias)
                .replace("{version}", version)
        };
        self.dimensions
            .iter()
            .map(|(name, value)| (name.clone(), fill(value)))
            .collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    metric: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Entry {
    name: String,
    namespace: String,
    metric: String,
    #[serde(default)]
    dimensions: std::collections::BTreeMap<String, String>,
    stat: String,
    max_increase: Option<String>,
    max_decrease: Option<String>,
    max: Option<f64>,
    min: Option<f64>,
}

fn fraction(text: &str, key: &str) -> Result<f64, String> {
    text.trim()
        .strip_suffix('%')
        .and_then(|n| n.trim().parse::<f64>().ok())
        .filter(|n| n.is_finite() && *n >= 0.0)
        .map(|n| n / 100.0)
        .ok_or_else(|| format!("{key} '{text}' is not a percentage: expected such as \"10%\""))
}

/// The file's metrics, or what is wrong with it (the accepted form named).
pub fn parse(text: &str) -> Result<Vec<CustomMetric>, String> {
    let file: File = toml::from_str(text).map_err(|e| e.message().to_string())?;
    if file.metric.is_empty() {
        return Err("it names no [[metric]]".into());
    }
    file.metric
        .into_iter()
        .map(|entry| {
            let limits = [
                entry.max_increase.as_ref().map(|t| fraction(t, "max-increase").map(Limit::MaxIncrease)),
                entry.max_decrease.as_ref().map(|t| fraction(t, "max-decrease").map(Limit::MaxDecrease)),
                entry.max.map(|v| Ok(Limit::Max(v))),
                entry.min.map(|v| Ok(Limit::Min(v))),
            ];
            let mut given = limits.into_iter().flatten();
            let (Some(limit), None) = (given.next(), given.next()) else {
                return Err(format!(
                    "metric '{}': give one of max-increase, max-decrease, max and min",
                    entry.name
                ));
            };
            let limit = limit.map_err(|e| format!("metric '{}': {e}", entry.name))?;
            if !entry.dimensions.values().any(|v| v.contains("{version}")) {
                return Err(format!(
                    "metric '{}': no dimension names {{version}}, so the canary and the stable version would read the same data",
                    entry.name
                ));
            }
            Ok(CustomMetric {
                name: entry.name,
                namespace: entry.namespace,
                metric: entry.metric,
                dimensions: entry.dimensions.into_iter().collect(),
                stat: entry.stat,
                limit,
            })
        })
        .collect()
}

fn value(values: &Latency, metric: &CustomMetric) -> Option<f64> {
    values.get(&metric.name)
}

/// The first metric whose canary value breaks its limit in `window`, in words.
pub fn worse(window: &Window, metrics: &[CustomMetric]) -> Option<String> {
    for metric in metrics {
        let Some(canary) = value(&window.canary_custom, metric) else {
            continue;
        };
        let stable = value(&window.stable_custom, metric);
        let broken = match (&metric.limit, stable) {
            (Limit::Max(max), _) => canary > *max,
            (Limit::Min(min), _) => canary < *min,
            (Limit::MaxIncrease(up), Some(stable)) if stable > 0.0 => canary / stable - 1.0 > *up,
            (Limit::MaxDecrease(down), Some(stable)) if stable > 0.0 => 1.0 - canary / stable > *down,
            _ => false,
        };
        if broken {
            return Some(text_of(metric, canary, stable));
        }
    }
    None
}

/// Each metric read in `window`, in words.
pub fn text(window: &Window, metrics: &[CustomMetric]) -> String {
    metrics
        .iter()
        .filter_map(|m| {
            let canary = value(&window.canary_custom, m)?;
            Some(text_of(m, canary, value(&window.stable_custom, m)))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

fn text_of(metric: &CustomMetric, canary: f64, stable: Option<f64>) -> String {
    let shown = |v: f64| format!("{}", (v * 1000.0).round() / 1000.0);
    let limit = match &metric.limit {
        Limit::MaxIncrease(up) => format!("limit +{}", percent(*up)),
        Limit::MaxDecrease(down) => format!("limit −{}", percent(*down)),
        Limit::Max(max) => format!("limit {}", shown(*max)),
        Limit::Min(min) => format!("at least {}", shown(*min)),
    };
    match stable {
        Some(stable) if stable > 0.0 => {
            let change = canary / stable - 1.0;
            format!(
                "{} {} vs {} ({}{}, {limit})",
                metric.name,
                shown(canary),
                shown(stable),
                if change >= 0.0 { "+" } else { "" },
                percent(change)
            )
        }
        _ => format!("{} {} ({limit})", metric.name, shown(canary)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
[[metric]]
name = "checkout latency"
namespace = "Shop"
metric = "CheckoutLatency"
dimensions = { Service = "{function}", ExecutedVersion = "{version}" }
stat = "Average"
max-increase = "10%"

[[metric]]
name = "orders placed"
namespace = "Shop"
metric = "OrdersPlaced"
dimensions = { ExecutedVersion = "{version}" }
stat = "Sum"
max-decrease = "20%"
"#;

    fn values(pairs: &[(&str, f64)]) -> Latency {
        Latency {
            values: pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    #[test]
    fn the_file_reads_into_metrics_with_their_placeholders_filled_per_version() {
        let metrics = parse(FILE).unwrap();
        assert_eq!(metrics.len(), 2);
        assert_eq!(metrics[0].limit, Limit::MaxIncrease(0.1));
        assert_eq!(metrics[1].limit, Limit::MaxDecrease(0.2));
        assert_eq!(
            metrics[0].dimensions_for("orders", "live", "7"),
            [
                ("ExecutedVersion".to_string(), "7".to_string()),
                ("Service".to_string(), "orders".to_string())
            ]
        );
    }

    #[test]
    fn a_file_that_cannot_compare_versions_is_refused_naming_the_form() {
        let no_version = FILE.replace("ExecutedVersion = \"{version}\"", "Stage = \"prod\"");
        assert!(
            parse(&no_version)
                .unwrap_err()
                .contains("no dimension names {version}")
        );
        let two = FILE.replace("max-increase = \"10%\"", "max-increase = \"10%\"\nmax = 5.0");
        assert!(
            parse(&two)
                .unwrap_err()
                .contains("give one of max-increase, max-decrease, max and min")
        );
        assert!(parse("[[metric]]\nname = \"x\"\n").is_err());
        assert_eq!(parse("").unwrap_err(), "it names no [[metric]]");
    }

    #[test]
    fn each_metric_is_compared_as_its_limit_says() {
        let metrics = parse(FILE).unwrap();
        let mut window = Window {
            canary_custom: values(&[("checkout latency", 230.0), ("orders placed", 90.0)]),
            stable_custom: values(&[("checkout latency", 200.0), ("orders placed", 100.0)]),
            ..Window::default()
        };
        assert_eq!(
            worse(&window, &metrics).unwrap(),
            "checkout latency 230 vs 200 (+15%, limit +10%)"
        );
        window.canary_custom = values(&[("checkout latency", 210.0), ("orders placed", 70.0)]);
        assert_eq!(
            worse(&window, &metrics).unwrap(),
            "orders placed 70 vs 100 (-30%, limit −20%)"
        );
        window.canary_custom = values(&[("checkout latency", 210.0), ("orders placed", 95.0)]);
        assert_eq!(worse(&window, &metrics), None);
        assert_eq!(
            text(&window, &metrics),
            "checkout latency 210 vs 200 (+5%, limit +10%) · orders placed 95 vs 100 (-5%, limit −20%)"
        );
    }
}
