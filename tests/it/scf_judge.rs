//! The canary judge on SCF, against the contract double: each version's
//! `Invocation`, `Error` and `Duration` are read from Tencent Cloud
//! Observability (`GetMonitorData`, `QCE/SCF_V2`, which the double serves
//! as the official monitor SDK checks in `tests/scf/conformance.py`), and
//! judged by the same code as Lambda's (`core::judge`).

use serde_json::json;

use crate::common::scf_double::ScfDouble;
use crate::common::{Run, source_dir};

const F: &str = "orders";
const A: &str = "live";

fn release(value: &str) -> tempfile::TempDir {
    source_dir(&format!(
        "def main_handler(event, context):\n    return {value}\n"
    ))
}

/// `deploy` of release `value` with `extra` flags, as JSON.
fn deploy(scf: &ScfDouble, value: &str, extra: &[&str]) -> Run {
    let dir = release(value);
    let mut args = vec![
        "deploy",
        "--function-name",
        F,
        "--alias",
        A,
        "--source",
        dir.path().to_str().unwrap(),
        "--output",
        "json",
    ];
    args.extend_from_slice(extra);
    scf.run(&args)
}

/// orders:live on version 1 alone, and the metrics of the canary to come
/// (version 2) and of version 1: `(invocations, errors, mean duration)`.
/// SCF's points are a minute each and a step reads the minutes from its
/// start: the points are put early enough in a minute for the step to
/// start in that same minute.
fn with_metrics(canary: (f64, f64, f64), stable: (f64, f64, f64)) -> ScfDouble {
    let scf = ScfDouble::start(&[F]);
    deploy(&scf, "1", &[]).assert_ok();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if now % 60 > 40 {
        std::thread::sleep(std::time::Duration::from_secs(61 - now % 60));
    }
    for (version, (calls, errors, duration)) in [("2", canary), ("1", stable)] {
        scf.put_metric(F, version, "Invocation", calls);
        scf.put_metric(F, version, "Error", errors);
        scf.put_metric(F, version, "Duration", duration);
    }
    scf
}

/// Lambda's judged rollout (one canary step at 10 %, a long one the judge
/// ends, at 95 % for an error-rate increase of 1 point), with a mean
/// duration up to 20 % longer.
fn judged() -> Vec<String> {
    let mut args = crate::judge::judged("10m");
    args.extend(["--max-latency-increase".into(), "avg=20%".into()]);
    args
}

/// [`deploy`] of release 2, judged.
fn judged_deploy(scf: &ScfDouble) -> Run {
    let args = judged();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    deploy(scf, "2", &args)
}

/// The run failed and put the alias back on version 1 alone: its reason.
fn rolled_back(scf: &ScfDouble, result: &Run) -> String {
    assert_eq!(result.status, 1, "{}\n{}", result.stdout, result.stderr);
    let out = result.json();
    assert_eq!(out["result"], "rolled-back", "{out}");
    let alias = scf.alias(F, A);
    assert_eq!(alias["FunctionVersion"], "1", "{alias}");
    assert_eq!(
        alias["RoutingConfig"]["AdditionalVersionWeights"],
        json!([]),
        "{alias}"
    );
    out["rollback-reason"].as_str().unwrap().to_string()
}

#[test]
fn an_scf_canary_whose_errors_rise_fails_its_step_and_rolls_back() {
    let scf = with_metrics((2000.0, 120.0, 100.0), (18000.0, 180.0, 100.0));
    let reason = rolled_back(&scf, &judged_deploy(&scf));
    assert!(
        reason.contains("errors 6% (n=2,000) vs 1% (n=18,000): higher at 95% confidence"),
        "{reason}"
    );
    assert!(
        scf.requests().iter().any(|a| a == "GetMonitorData"),
        "{:?}",
        scf.requests()
    );
}

/// SCF publishes each version's mean duration: a canary three times
/// slower than the stable version fails `avg=20%` with equal error rates.
#[test]
fn an_scf_canary_slower_on_average_fails_its_step() {
    let scf = with_metrics((3000.0, 30.0, 300.0), (27000.0, 270.0, 100.0));
    let reason = rolled_back(&scf, &judged_deploy(&scf));
    assert!(
        reason.contains("canary avg 300 ms vs stable 100 ms (+200%, limit 20%"),
        "{reason}"
    );
}

/// An equal canary with the data a verdict needs passes its step at the
/// first reading, and the release is promoted.
#[test]
fn an_equal_scf_canary_passes_its_step_early() {
    let scf = with_metrics((3000.0, 30.0, 104.0), (27000.0, 270.0, 100.0));
    let started = std::time::Instant::now();
    let result = judged_deploy(&scf);
    result.assert_ok();
    assert!(started.elapsed() < std::time::Duration::from_secs(300));
    let out = result.json();
    assert_eq!(out["result"], "published", "{out}");
    assert_eq!(out["analysis"][0]["verdict"], "not-worse", "{out}");
    assert_eq!(out["analysis"][0]["canary"]["invocations"], 3000.0, "{out}");
    assert_eq!(scf.alias(F, A)["FunctionVersion"], "2");
    assert!(
        result.stderr.contains("avg 104 ms vs 100 ms (+4%, limit +20%)"),
        "{}",
        result.stderr
    );
}

/// `status --metrics` on SCF: a live canary against the stable version.
#[test]
fn status_metrics_compares_a_live_scf_canary() {
    let scf = with_metrics((2410.0, 7.0, 100.0), (21700.0, 61.0, 100.0));
    deploy(&scf, "2", &["--canary-weight", "10%"]).assert_ok();
    let shown = scf.run(&[
        "status",
        "--function-name",
        F,
        "--alias",
        A,
        "--metrics",
        "--output",
        "json",
    ]);
    shown.assert_ok();
    assert_eq!(
        shown.json()["metrics"],
        "last 15m: errors 0.29% (n=2,410) vs 0.28% (n=21,700): no increase at 95% (p=0.47, normal test) · share 10% (9.62%–10.38%) of the invocations, routed 10%"
    );
}
