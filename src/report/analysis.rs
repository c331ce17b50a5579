//! The statistical judge's readings in the step summary: a table of every
//! verdict with its numbers, and Mermaid `xychart-beta` charts (which GitHub
//! draws) of the canary's traffic share and of each judged metric per
//! version over the rollout.

use crate::core::judge::Analysis;
use crate::core::values::percent;
use crate::report::output::markdown_text;

/// The readings as markdown; nothing when there are none.
pub fn markdown(analysis: &[Analysis]) -> String {
    if analysis.is_empty() {
        return String::new();
    }
    let mut text = String::from(
        "| minute | routed | share | canary errors | stable errors | verdict |\n|---|---|---|---|---|---|\n",
    );
    for reading in analysis {
        text.push_str(&format!(
            "| {:.1} | {} | {} | {} (n={}) | {} (n={}) | {}: {} |\n",
            reading.minute,
            percent(reading.weight),
            percent(reading.share),
            percent(reading.canary.error_rate),
            crate::core::judge::count(reading.canary.invocations),
            percent(reading.stable.error_rate),
            crate::core::judge::count(reading.stable.invocations),
            reading.verdict,
            markdown_text(&reading.detail)
        ));
    }
    let minutes: Vec<String> = analysis.iter().map(|r| format!("\"{:.1}\"", r.minute)).collect();
    let series = |values: Vec<f64>| {
        let shown: Vec<String> = values
            .iter()
            .map(|v| format!("{}", (v * 100.0).round() / 100.0))
            .collect();
        format!("[{}]", shown.join(", "))
    };
    text.push('\n');
    text.push_str(&chart(
        "canary's share of invocations: routed (orange), observed (blue)",
        &minutes,
        ("share %", 100.0),
        &[
            series(analysis.iter().map(|r| r.weight * 100.0).collect()),
            series(analysis.iter().map(|r| r.share * 100.0).collect()),
        ],
    ));
    let errors = |r: &Analysis| (r.canary.error_rate * 100.0, r.stable.error_rate * 100.0);
    let top = analysis
        .iter()
        .map(|r| errors(r).0.max(errors(r).1))
        .fold(1.0f64, f64::max);
    text.push_str(&chart(
        "error rate: canary (orange), stable (blue)",
        &minutes,
        ("errors %", (top * 1.2 * 100.0).ceil() / 100.0),
        &[
            series(analysis.iter().map(|r| errors(r).0).collect()),
            series(analysis.iter().map(|r| errors(r).1).collect()),
        ],
    ));
    let statistics: Vec<&String> = analysis[0].canary.latency_ms.keys().collect();
    for statistic in statistics {
        let value = |v: &std::collections::BTreeMap<String, f64>| v.get(statistic).copied().unwrap_or(0.0);
        let top = analysis
            .iter()
            .map(|r| value(&r.canary.latency_ms).max(value(&r.stable.latency_ms)))
            .fold(1.0f64, f64::max);
        text.push_str(&chart(
            &format!("latency {statistic}: canary (orange), stable (blue)"),
            &minutes,
            ("ms", (top * 1.2).ceil()),
            &[
                series(analysis.iter().map(|r| value(&r.canary.latency_ms)).collect()),
                series(analysis.iter().map(|r| value(&r.stable.latency_ms)).collect()),
            ],
        ));
    }
    text
}

fn chart(title: &str, minutes: &[String], (axis, top): (&str, f64), lines: &[String]) -> String {
    // The first line orange, the second blue (the default palette draws
    // the first one too pale to read).
    let mut text = format!(
        "```mermaid\n---\nconfig:\n  themeVariables:\n    xyChart:\n      plotColorPalette: \"#e8590c, #1971c2\"\n---\nxychart-beta\n    title \"{title}\"\n    x-axis \"minutes\" [{}]\n    y-axis \"{axis}\" 0 --> {top}\n",
        minutes.join(", ")
    );
    for line in lines {
        text.push_str(&format!("    line {line}\n"));
    }
    text.push_str("```\n\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::judge::Counts;
    use crate::core::judge::{Judged, Latency, Window};

    #[test]
    fn the_summary_tables_each_reading_and_charts_share_errors_and_latency() {
        let window = Window {
            canary: Counts {
                invocations: 2410.0,
                errors: 7.0,
                throttles: 0.0,
            },
            stable: Counts {
                invocations: 21700.0,
                errors: 61.0,
                throttles: 0.0,
            },
            canary_latency: Latency {
                values: vec![("p99".into(), 412.0)],
            },
            stable_latency: Latency {
                values: vec![("p99".into(), 398.0)],
            },
            ..Window::default()
        };
        let reading = Analysis::of(1.5, 0.1, &window, &Judged::Undecided("needs more".into()));
        let text = markdown(&[reading]);
        assert!(
            text.contains("| 1.5 | 10% | 10% | 0.29% (n=2,410) | 0.28% (n=21,700) | undecided: needs more |"),
            "{text}"
        );
        assert!(
            text.contains("title \"canary's share of invocations: routed (orange), observed (blue)\""),
            "{text}"
        );
        assert!(text.contains("    line [10]\n    line [10]\n"), "{text}");
        assert!(
            text.contains("title \"latency p99: canary (orange), stable (blue)\""),
            "{text}"
        );
        assert!(text.contains("y-axis \"ms\" 0 --> 495"), "{text}");
        assert_eq!(text.matches("---\nxychart-beta").count(), 3);
        assert!(markdown(&[]).is_empty());
    }

    /// A rollout's readings as the step summary shows them.
    fn sample() -> String {
        let reading = |minute: f64, canary: (f64, f64, f64), stable: (f64, f64, f64), judged: Judged| {
            let window = Window {
                canary: Counts {
                    invocations: canary.0,
                    errors: canary.1,
                    throttles: 0.0,
                },
                stable: Counts {
                    invocations: stable.0,
                    errors: stable.1,
                    throttles: 0.0,
                },
                canary_latency: Latency {
                    values: vec![("p99".into(), canary.2)],
                },
                stable_latency: Latency {
                    values: vec![("p99".into(), stable.2)],
                },
                ..Window::default()
            };
            Analysis::of(minute, 0.1, &window, &judged)
        };
        let undecided = || Judged::Undecided("needs ≈1,225 canary invocations for a verdict".into());
        markdown(&[
            reading(1.0, (196.0, 2.0, 431.0), (1804.0, 17.0, 402.0), undecided()),
            reading(2.0, (405.0, 5.0, 425.0), (3595.0, 35.0, 399.0), undecided()),
            reading(3.0, (610.0, 9.0, 447.0), (5390.0, 52.0, 404.0), undecided()),
            reading(
                4.0,
                (820.0, 21.0, 452.0),
                (7180.0, 70.0, 401.0),
                Judged::Worse("errors 2.56% (n=820) vs 0.97% (n=7,180): higher at 95% confidence".into()),
            ),
        ])
    }

    /// `docs/judge-chart.md` is what the code draws (`scripts/check-charts`
    /// renders it with Mermaid in headless Chromium into
    /// `docs/judge-chart.png`). `UPDATE_CHART_SAMPLE=1` writes it anew.
    #[test]
    fn the_sample_in_the_docs_is_what_the_summary_draws() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/judge-chart.md");
        let drawn = format!(
            "# A sample of the judge's step summary\n\nWhat `--confidence` writes to the step summary of a rollout whose canary failed at its fourth reading (drawn by `report/analysis.rs`; `scripts/check-charts` renders it into `judge-chart.png`).\n\n{}",
            sample()
        );
        if std::env::var_os("UPDATE_CHART_SAMPLE").is_some() {
            std::fs::write(path, &drawn).unwrap();
        }
        let kept = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            kept == drawn,
            "docs/judge-chart.md is not what the summary draws: run UPDATE_CHART_SAMPLE=1 cargo test the_sample_in_the_docs, then scripts/check-charts"
        );
    }
}
