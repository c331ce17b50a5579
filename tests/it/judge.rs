//! `deploy --strategy --confidence` against the local AWS emulator: the
//! canary judged like an experiment from `AWS/Lambda` sums put per
//! `ExecutedVersion` (moto answers `GetMetricData` for `Sum`; its
//! percentiles answer HTTP 500, so latency statistics are tested at the SDK
//! level in `sdk_mocks.rs`).

use crate::common::*;
use crate::rollout::{V2, push_metrics, stable_alias};

/// One canary step at 10 %, then all traffic; the judge at 95 % looking
/// for an error-rate increase of 1 point.
pub fn judged(step: &str) -> Vec<String> {
    [
        "--strategy",
        "10%,100%",
        "--step-interval",
        step,
        "--poll-interval",
        "1s",
        "--confidence",
        "95%",
        "--max-error-rate-increase",
        "1%",
    ]
    .map(String::from)
    .to_vec()
}

fn judged_deploy(aws: &Emulator, step: &str) -> Run {
    judged_deploy_with_summary(aws, step).0
}

/// The deploy, and the step summary it wrote.
fn judged_deploy_with_summary(aws: &Emulator, step: &str) -> (Run, String) {
    let code = source_dir(V2);
    let summary = tempfile::NamedTempFile::new().unwrap();
    let mut command = binary(Some(aws));
    command
        .for_alias("deploy", "orders", "live")
        .args(["--output", "json", "--source"])
        .arg(code.path())
        .args(judged(step))
        .env("GITHUB_STEP_SUMMARY", summary.path());
    let result = run(&mut command);
    (result, std::fs::read_to_string(summary.path()).unwrap())
}

/// orders:live on version 1, and the emulator holding `(invocations,
/// errors)` for the canary (version 2) and the stable version.
async fn with_metrics(canary: (f64, f64), stable: (f64, f64)) -> Emulator {
    let aws = Emulator::start();
    stable_alias(&aws).await;
    push_metrics(&aws, "2", canary.0, canary.1).await;
    push_metrics(&aws, "1", stable.0, stable.1).await;
    aws
}

/// The run failed and put the alias back on version 1: its reason.
async fn rolled_back(aws: &Emulator, result: &Run) -> String {
    assert_eq!(result.status, 1, "{}", result.stderr);
    let out = result.json();
    assert_eq!(out["result"], "rolled-back", "{out}");
    assert_eq!(alias_state(aws, "orders", "live").await, ("1".into(), None));
    out["rollback-reason"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "current_thread")]
async fn a_canary_whose_errors_rise_fails_its_step_and_rolls_back() {
    let aws = with_metrics((2000.0, 120.0), (18000.0, 180.0)).await;
    let reason = rolled_back(&aws, &judged_deploy(&aws, "10m")).await;
    assert!(
        reason.contains("errors 6% (n=2,000) vs 1% (n=18,000): higher at 95% confidence"),
        "{reason}"
    );
}

/// An equal canary with the data a verdict needs passes its step at the
/// first reading instead of waiting out its ten minutes.
#[tokio::test(flavor = "current_thread")]
async fn an_equal_canary_with_enough_data_passes_its_step_early() {
    let aws = with_metrics((3000.0, 30.0), (27000.0, 270.0)).await;
    let started = std::time::Instant::now();
    let (result, summary) = judged_deploy_with_summary(&aws, "10m");
    result.assert_ok();
    // The readings: in the JSON output, and tabled and charted in the summary.
    let analysis = result.json()["analysis"].clone();
    assert_eq!(analysis[0]["verdict"], "not-worse", "{analysis}");
    assert_eq!(analysis[0]["canary"]["invocations"], 3000.0, "{analysis}");
    assert_eq!(analysis[0]["stable"]["errors"], 270.0, "{analysis}");
    assert!(
        summary.contains("| 10% | 10% | 1% (n=3,000) | 1% (n=27,000) | not-worse:"),
        "{summary}"
    );
    assert!(
        summary.contains("title \"canary's share of invocations: routed (orange), observed (blue)\""),
        "{summary}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(300));
    assert_eq!(result.json()["result"], "published");
    assert_eq!(alias_state(&aws, "orders", "live").await, ("2".into(), None));
    // Before the step's first reading: what a verdict needs, from the last
    // quarter of an hour's traffic (30,000 invocations: 200/min at 10 %).
    let needs = result.stderr.find("the judge needs ≈").expect(&result.stderr);
    assert!(
        result.stderr[needs..].starts_with(
            "the judge needs ≈1,133 canary invocations to detect an error-rate increase of 1% at 95% confidence with 80% power: ≈5m 40s at 200/min (the last 15 minutes' traffic at 10%)"
        ),
        "{}",
        result.stderr
    );
    let first_reading = result.stderr.find("certain: not worse").expect(&result.stderr);
    assert!(needs < first_reading, "{}", result.stderr);
    assert!(
        result
            .stderr
            .contains("certain: not worse by 1% or more; ending the step early"),
        "{}",
        result.stderr
    );
}

/// Too little traffic for a verdict: the step is extended, then fails
/// (`--on-no-data extend`, the default), saying what a verdict needs.
#[tokio::test(flavor = "current_thread")]
async fn too_little_traffic_extends_the_step_then_fails() {
    let aws = with_metrics((10.0, 0.0), (90.0, 1.0)).await;
    let reason = rolled_back(&aws, &judged_deploy(&aws, "2s")).await;
    assert!(
        reason.contains("canary invocations for a verdict, has 10")
            && reason.contains("still after extending the step"),
        "{reason}"
    );
}

/// Routed 10 % but seeing 1 % of the invocations: the canary is not being
/// tested, and the step fails saying so.
#[tokio::test(flavor = "current_thread")]
async fn a_canary_seeing_far_less_than_its_weight_fails() {
    let aws = with_metrics((24.0, 0.0), (2376.0, 10.0)).await;
    let reason = rolled_back(&aws, &judged_deploy(&aws, "10m")).await;
    assert!(
        reason.contains("the canary got 1% of the invocations") && reason.contains("but is routed 10%"),
        "{reason}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_judges_flags_are_checked_before_anything_is_sent() {
    let aws = Emulator::start();
    stable_alias(&aws).await;
    let code = source_dir(V2);
    // A staged rollout with `flags` as its gates.
    let staged = |flags: &[&'static str]| {
        let mut args = vec!["--strategy", "10%,100%", "--step-interval", "1m"];
        args.extend_from_slice(flags);
        args
    };
    for (extra, says) in [
        (
            staged(&["--confidence", "95%"]),
            "--confidence needs --max-error-rate-increase",
        ),
        (
            staged(&["--max-latency-increase", "p42=10%"]),
            "p42 is not a latency statistic: expected p50, p90, p95, p99, p99.9 or avg",
        ),
        (
            staged(&["--confidence", "100%", "--max-error-rate-increase", "1%"]),
            "is not a confidence",
        ),
        (
            vec!["--confidence", "95%", "--max-error-rate-increase", "1%"],
            "need --strategy",
        ),
    ] {
        let result = deploy(&aws, "orders", "live", code.path(), &extra);
        assert_eq!(result.status, 2, "{extra:?}: {}", result.stderr);
        assert!(result.stderr.contains(says), "{extra:?}: {}", result.stderr);
    }
    assert_eq!(alias_state(&aws, "orders", "live").await, ("1".into(), None));
}

/// `status --metrics`: a live canary against the stable version over the
/// last window, each rate with its count, in the text and the JSON.
#[tokio::test(flavor = "current_thread")]
async fn status_metrics_compares_a_live_canary_with_its_counts() {
    let aws = with_metrics((2410.0, 7.0), (21700.0, 61.0)).await;
    deploy(
        &aws,
        "orders",
        "live",
        source_dir(V2).path(),
        &["--canary-weight", "10%"],
    )
    .assert_ok();
    let line = "last 15m: errors 0.29% (n=2,410) vs 0.28% (n=21,700): no increase at 95% (p=0.47, normal test) · share 10% (9.62%–10.38%) of the invocations, routed 10%";
    let mut text = binary(Some(&aws));
    text.for_alias("status", "orders", "live").arg("--metrics");
    let shown = run(&mut text);
    shown.assert_ok();
    assert!(
        shown.stdout.contains(&format!("  metrics  {line}")),
        "{}",
        shown.stdout
    );
    let mut json = binary(Some(&aws));
    json.for_alias("status", "orders", "live")
        .args(["--metrics", "15m", "--output", "json"]);
    let read = run(&mut json);
    read.assert_ok();
    assert_eq!(read.json()["metrics"], line);
}

/// `--metrics-file`: a metric the function emits per version (here
/// `Shop/CheckoutLatency` with an `ExecutedVersion` dimension, put as
/// Lambda's Embedded Metric Format would) is read for both versions over
/// the step's window and compared as the file says; the canary's is three
/// times the stable's, so the step fails and the alias goes back.
#[tokio::test(flavor = "current_thread")]
async fn a_metric_the_function_emits_per_version_is_judged_as_the_file_says() {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};

    let aws = with_metrics((3000.0, 30.0), (27000.0, 270.0)).await;
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&aws.sdk_config());
    for (version, latency) in [("2", 300.0), ("1", 100.0)] {
        let datum = MetricDatum::builder()
            .metric_name("CheckoutLatency")
            .dimensions(Dimension::builder().name("Service").value("orders").build())
            .dimensions(
                Dimension::builder()
                    .name("ExecutedVersion")
                    .value(version)
                    .build(),
            )
            .value(latency)
            .timestamp(DateTime::from(
                std::time::SystemTime::now() + std::time::Duration::from_secs(20),
            ))
            .build();
        cloudwatch
            .put_metric_data()
            .namespace("Shop")
            .metric_data(datum)
            .send()
            .await
            .unwrap();
    }
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("metrics.toml");
    std::fs::write(
        &file,
        "[[metric]]\nname = \"checkout latency\"\nnamespace = \"Shop\"\nmetric = \"CheckoutLatency\"\ndimensions = { Service = \"{function}\", ExecutedVersion = \"{version}\" }\nstat = \"Average\"\nmax-increase = \"10%\"\n",
    )
    .unwrap();
    let code = source_dir(V2);
    let mut args = judged("10m");
    args.extend(["--metrics-file".to_string(), file.to_str().unwrap().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = deploy(&aws, "orders", "live", code.path(), &args);
    let reason = rolled_back(&aws, &result).await;
    assert!(
        reason.contains("checkout latency 300 vs 100 (+200%, limit +10%)"),
        "{reason}"
    );

    // A file that cannot compare versions is refused before anything is sent.
    std::fs::write(
        &file,
        "[[metric]]\nname = \"x\"\nnamespace = \"Shop\"\nmetric = \"M\"\nstat = \"Sum\"\nmax = 1.0\n",
    )
    .unwrap();
    let refused = deploy(&aws, "orders", "live", code.path(), &args);
    assert_eq!(refused.status, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("no dimension names {version}"),
        "{}",
        refused.stderr
    );
}
