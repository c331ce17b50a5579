//! `deploy --strategy` against the local AWS emulator: synthetic `AWS/Lambda`
//! metrics for the canary and stable `ExecutedVersion`s, CloudWatch alarms,
//! hooks, a smoke invoke and a signal, each checked by where the alias ends.

use std::time::{Duration, SystemTime};

use crate::common::*;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StateValue};

const V1: &str = "def handler(event, context):\n    return 1\n";
pub(crate) const V2: &str = "def handler(event, context):\n    return 2\n";
const V3: &str = "def handler(event, context):\n    return 3\n";

fn cloudwatch(aws: &Emulator) -> aws_sdk_cloudwatch::Client {
    aws_sdk_cloudwatch::Client::new(&aws.sdk_config())
}

/// Push `AWS/Lambda` sums for one executed version behind orders:live, as
/// Lambda would (stamped a little ahead so they fall inside the step's window).
pub(crate) async fn push_metrics(aws: &Emulator, version: &str, invocations: f64, errors: f64) {
    let dimensions = vec![
        Dimension::builder().name("FunctionName").value("orders").build(),
        Dimension::builder().name("Resource").value("orders:live").build(),
        Dimension::builder()
            .name("ExecutedVersion")
            .value(version)
            .build(),
    ];
    let at = DateTime::from(SystemTime::now() + Duration::from_secs(20));
    let data = [
        ("Invocations", invocations),
        ("Errors", errors),
        ("Throttles", 0.0),
    ]
    .into_iter()
    .map(|(name, value)| {
        MetricDatum::builder()
            .metric_name(name)
            .set_dimensions(Some(dimensions.clone()))
            .value(value)
            .timestamp(at)
            .build()
    })
    .collect();
    cloudwatch(aws)
        .put_metric_data()
        .namespace("AWS/Lambda")
        .set_metric_data(Some(data))
        .send()
        .await
        .unwrap();
}

/// orders:live on version 1 (stable); the next deploy publishes version 2.
pub(crate) async fn stable_alias(aws: &Emulator) {
    create_function(aws, "orders").await;
    deploy(aws, "orders", "live", source_dir(V1).path(), &[]).assert_ok();
}

const FAST: [&str; 4] = ["--step-interval", "2s", "--poll-interval", "1s"];

#[tokio::test(flavor = "current_thread")]
async fn a_healthy_canary_reaches_full_traffic_and_the_summary_charts_it() {
    let aws = Emulator::start();
    stable_alias(&aws).await;
    push_metrics(&aws, "2", 500.0, 1.0).await;
    push_metrics(&aws, "1", 5000.0, 10.0).await;
    let summary = tempfile::NamedTempFile::new().unwrap();
    let code = source_dir(V2);
    let mut command = binary(Some(&aws));
    command
        .for_alias("deploy", "orders", "live")
        .args(["--output", "json", "--strategy", "20%,60%,100%"])
        .args(FAST)
        .args([
            "--max-error-rate",
            "5%",
            "--max-error-rate-increase",
            "1%",
            "--min-invocations",
            "100",
        ])
        .arg("--source")
        .arg(code.path())
        .env("GITHUB_STEP_SUMMARY", summary.path());
    let result = run(&mut command);
    result.assert_ok();
    let out = result.json();
    assert_eq!(
        (out["result"].as_str(), out["version"].as_str()),
        (Some("published"), Some("2"))
    );
    assert_eq!(out["previous-version"], "1");
    assert_eq!(out["rollback-reason"], "");
    assert_eq!(alias_state(&aws, "orders", "live").await, ("2".into(), None));
    assert!(
        result
            .stderr
            .contains("step 2/3: canary error rate 0.2% (1/500), stable 0.2% (10/5000)"),
        "{}",
        result.stderr
    );
    let summary = std::fs::read_to_string(summary.path()).unwrap();
    assert!(
        summary.contains("| 1 | 20% |") && summary.contains("| 3 | 100% |"),
        "{summary}"
    );
    assert!(summary.contains("```mermaid\nxychart-beta"), "{summary}");
    assert!(summary.contains("line [20, 60, 100]"), "{summary}");
}

#[tokio::test(flavor = "current_thread")]
async fn an_unhealthy_canary_is_rolled_back_at_the_first_step() {
    let aws = Emulator::start();
    stable_alias(&aws).await;
    push_metrics(&aws, "2", 200.0, 30.0).await;
    push_metrics(&aws, "1", 5000.0, 10.0).await;
    let code = source_dir(V2);
    let result = deploy(
        &aws,
        "orders",
        "live",
        code.path(),
        &[
            "--strategy",
            "10%,50%,100%",
            "--step-interval",
            "2s",
            "--poll-interval",
            "1s",
            "--max-error-rate-increase",
            "2%",
        ],
    );
    assert_eq!(result.status, 1, "{}", result.stderr);
    let out = result.json();
    assert_eq!(out["result"], "rolled-back");
    assert_eq!(
        (out["version"].as_str(), out["previous-version"].as_str()),
        (Some("1"), Some("2"))
    );
    let reason = out["rollback-reason"].as_str().unwrap();
    assert!(
        reason.starts_with("step 1/3 at 10%: canary error rate 15% (30/200) exceeds the stable version's"),
        "{reason}"
    );
    assert_eq!(alias_state(&aws, "orders", "live").await, ("1".into(), None));
    assert!(
        result.stderr.contains("error: rolled back: step 1/3"),
        "{}",
        result.stderr
    );

    // A rollback right after finds nothing left to undo.
    let mut rollback = binary(Some(&aws));
    rollback.args(["rollback", "--function-name", "orders", "--alias", "live"]);
    let again = run(&mut rollback);
    assert!(
        again.assert_ok().stdout.contains("nothing to roll back"),
        "{}",
        again.stdout
    );
    // It says plainly why, and so does status.
    assert!(
        again.stdout.contains(
            "the failed release, canary version 2, was already taken out (by a rollback, or by its own rollout rolling back), and version 1, the release before it, serves alone"
        ),
        "{}",
        again.stdout
    );
    let status = run(binary(Some(&aws)).for_alias("status", "orders", "live"));
    assert!(
        status.assert_ok().stdout.contains(
            "rollback: nothing to roll back: the failed release, canary version 2, was already taken out"
        ),
        "{}",
        status.stdout
    );
}

#[tokio::test(flavor = "current_thread")]
async fn no_metrics_at_all_fails_the_step_after_extending_it() {
    let aws = Emulator::start();
    stable_alias(&aws).await;
    let code = source_dir(V2);
    let result = deploy(
        &aws,
        "orders",
        "live",
        code.path(),
        &[
            "--strategy",
            "10%,100%",
            "--step-interval",
            "2s",
            "--poll-interval",
            "1s",
            "--max-error-rate",
            "5%",
        ],
    );
    assert_eq!(result.status, 1, "{}", result.stderr);
    let reason = result.json()["rollback-reason"].as_str().unwrap().to_string();
    assert!(
        reason.contains("no data: the canary had 0 invocations")
            && reason.contains("after extending the step"),
        "{reason}"
    );
    assert_eq!(alias_state(&aws, "orders", "live").await, ("1".into(), None));
}

#[tokio::test(flavor = "current_thread")]
async fn an_alarm_going_off_mid_rollout_rolls_back_but_one_already_firing_can_be_ignored() {
    let aws = Emulator::start();
    stable_alias(&aws).await;
    aws.create_alarm("orders-errors").await;
    aws.create_alarm("orders-old-noise").await;
    aws.set_alarm("orders-old-noise", StateValue::Alarm, "test").await;

    let code = source_dir(V2);
    let mut command = binary(Some(&aws));
    command
        .for_alias("deploy", "orders", "live")
        .args(["--output", "json", "--strategy", "canary:10%:30s"])
        .args([
            "--poll-interval",
            "1s",
            "--alarm",
            "orders-errors",
            "--alarm",
            "orders-old-noise",
            "--ignore-alarms-already-firing",
        ])
        .arg("--source")
        .arg(code.path());
    let child = rollout_in_background(&aws, &mut command).await;
    aws.set_alarm("orders-errors", StateValue::Alarm, "test").await;
    let rollout = wait_for(child);
    assert_eq!(rollout.status, 1, "{}", rollout.stderr);
    assert!(
        rollout
            .stderr
            .contains("alarm orders-old-noise is already in ALARM: ignored"),
        "{}",
        rollout.stderr
    );
    let out = rollout.json();
    assert!(
        out["rollback-reason"]
            .as_str()
            .unwrap()
            .contains("alarm orders-errors is in ALARM"),
        "{out}"
    );
    assert_eq!(alias_state(&aws, "orders", "live").await, ("1".into(), None));
}

#[tokio::test(flavor = "current_thread")]
async fn hooks_get_the_versions_and_a_failing_one_rolls_back() {
    let aws = Emulator::start();
    stable_alias(&aws).await;
    let seen = tempfile::NamedTempFile::new().unwrap();
    let record = format!(
        "echo \"$ROLLOUT_PHASE $ROLLOUT_FUNCTION $ROLLOUT_ALIAS $ROLLOUT_STABLE_VERSION $ROLLOUT_NEW_VERSION $ROLLOUT_WEIGHT\" >> {}",
        seen.path().display()
    );
    let code = source_dir(V2);
    let failing_post = format!("{record}; exit 3");
    let result = deploy(
        &aws,
        "orders",
        "live",
        code.path(),
        &[
            "--strategy",
            "AllAtOnce",
            "--pre-traffic-hook",
            &record,
            "--post-traffic-hook",
            &failing_post,
        ],
    );
    assert_eq!(result.status, 1, "{}", result.stderr);
    let hooks = std::fs::read_to_string(seen.path()).unwrap();
    assert_eq!(
        hooks,
        "pre-traffic orders live 1 2 0\npost-traffic orders live 1 2 1\n"
    );
    let reason = result.json()["rollback-reason"].as_str().unwrap().to_string();
    assert!(
        reason.starts_with("post-traffic check failed: the post-traffic hook"),
        "{reason}"
    );
    assert_eq!(
        alias_state(&aws, "orders", "live").await,
        ("1".into(), None),
        "back on the stable version"
    );

    // A failing pre-traffic hook stops before any traffic moves.
    aws.start_recording();
    let next = source_dir("def handler(event, context):\n    return 3\n");
    let result = deploy(
        &aws,
        "orders",
        "live",
        next.path(),
        &["--strategy", "AllAtOnce", "--pre-traffic-hook", "exit 1"],
    );
    assert_eq!(result.status, 1);
    assert!(
        result.json()["rollback-reason"]
            .as_str()
            .unwrap()
            .starts_with("pre-traffic check failed"),
        "{}",
        result.stdout
    );
    let alias_writes = aws
        .mutating()
        .into_iter()
        .filter(|(_, path)| path.contains("/aliases/"))
        .count();
    assert_eq!(
        alias_writes, 0,
        "the new version never got traffic, so the alias is not written"
    );
    assert_eq!(alias_state(&aws, "orders", "live").await, ("1".into(), None));
}

#[tokio::test(flavor = "current_thread")]
async fn a_smoke_invoke_runs_before_traffic_moves() {
    let aws = Emulator::start();
    stable_alias(&aws).await;
    let payload = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(payload.path(), r#"{"ping": true}"#).unwrap();
    aws.start_recording();
    let code = source_dir(V2);
    let result = deploy(
        &aws,
        "orders",
        "live",
        code.path(),
        &[
            "--strategy",
            "AllAtOnce",
            "--smoke-payload",
            payload.path().to_str().unwrap(),
        ],
    );
    result.assert_ok();
    let sent = aws.recorded();
    let invoke = sent
        .iter()
        .position(|(m, p)| m == "POST" && p.contains("/functions/orders/invocations"))
        .expect("an invoke");
    let first_alias_write = sent
        .iter()
        .position(|(m, p)| m == "PUT" && p.contains("/aliases/live"))
        .unwrap();
    assert!(invoke < first_alias_write, "{sent:?}");
    assert_eq!(alias_state(&aws, "orders", "live").await, ("2".into(), None));
}

#[tokio::test(flavor = "current_thread")]
async fn a_signal_mid_rollout_rolls_back_and_a_second_one_does_not_skip_it() {
    let aws = Emulator::start();
    stable_alias(&aws).await;
    let code = source_dir(V2);
    let mut command = binary(Some(&aws));
    command
        .for_alias("deploy", "orders", "live")
        .args([
            "--output",
            "json",
            "--strategy",
            "canary:10%:1h",
            "--poll-interval",
            "1s",
        ])
        .arg("--source")
        .arg(code.path());
    let child = rollout_in_background(&aws, &mut command).await;
    let pid = child.id().to_string();
    for _ in 0..2 {
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
    }
    let rollout = wait_for(child);
    assert_eq!(rollout.status, 1, "{}", rollout.stderr);
    let out = rollout.json();
    assert_eq!(out["result"], "rolled-back");
    assert_eq!(out["rollback-reason"], "the run was cancelled (SIGTERM)");
    assert_eq!(alias_state(&aws, "orders", "live").await, ("1".into(), None));
}

#[tokio::test(flavor = "current_thread")]
async fn rollout_flags_are_checked_before_anything_is_sent() {
    let aws = Emulator::start();
    stable_alias(&aws).await;
    let code = source_dir(V2);
    aws.start_recording();
    let cases: &[(&[&str], &str)] = &[
        (&["--strategy", "50%,25%"], "steps must increase"),
        (&["--strategy", "5%,150%"], "'150%' is not a weight"),
        (&["--strategy", "canary:10%:0s"], "is zero"),
        (&["--strategy", "5%,100%"], "--step-interval is required"),
        (
            &["--strategy", "canary:10%:5m", "--step-interval", "1m"],
            "explicit steps only",
        ),
        (&["--alarm", "x"], "need --strategy"),
        (
            &["--strategy", "AllAtOnce", "--canary-weight", "10%"],
            "cannot be used with",
        ),
        (
            &["--strategy", "AllAtOnce", "--smoke-payload", "/nonexistent.json"],
            "--smoke-payload '/nonexistent.json' cannot be read",
        ),
        (
            &["--strategy", "AllAtOnce", "--on-no-data", "maybe"],
            "[possible values: pass, fail, extend]",
        ),
        (
            &["--strategy", "AllAtOnce", "--hook-timeout=-1m"],
            "is not a duration",
        ),
    ];
    for (extra, message) in cases {
        let result = deploy(&aws, "orders", "live", code.path(), extra);
        assert_eq!(result.status, 2, "{extra:?}: {}", result.stderr);
        assert!(result.stderr.contains(message), "{extra:?}: {}", result.stderr);
    }
    assert!(aws.mutating().is_empty());
    assert_eq!(versions(&aws, "orders").await, ["1"]);
}

fn codedeploy(aws: &Emulator) -> aws_sdk_codedeploy::Client {
    aws_sdk_codedeploy::Client::new(&aws.sdk_config())
}

#[tokio::test(flavor = "current_thread")]
async fn the_codedeploy_engine_hands_the_shift_over_with_a_lambda_appspec() {
    // moto records CodeDeploy deployments but never runs them: this checks the
    // request and its AppSpec, and that the alias is left to CodeDeploy.
    let aws = Emulator::start();
    stable_alias(&aws).await;
    let client = codedeploy(&aws);
    client
        .create_application()
        .application_name("orders-app")
        .compute_platform(aws_sdk_codedeploy::types::ComputePlatform::Lambda)
        .send()
        .await
        .unwrap();
    client
        .create_deployment_group()
        .application_name("orders-app")
        .deployment_group_name("orders-live")
        .service_role_arn("arn:aws:iam::123456789012:role/codedeploy")
        .send()
        .await
        .unwrap();
    let code = source_dir(V2);
    let result = deploy(
        &aws,
        "orders",
        "live",
        code.path(),
        &[
            "--engine",
            "codedeploy",
            "--strategy",
            "Linear10PercentEvery2Minutes",
            "--codedeploy-application",
            "orders-app",
            "--codedeploy-deployment-group",
            "orders-live",
            "--codedeploy-before-allow-traffic",
            "orders-pre-hook",
        ],
    );
    result.assert_ok();
    let out = result.json();
    assert_eq!(out["result"], "handed-off");
    assert_eq!(
        (out["version"].as_str(), out["previous-version"].as_str()),
        (Some("2"), Some("1"))
    );
    let id = out["deployment-id"].as_str().unwrap();
    assert!(!id.is_empty());

    let deployment = client.get_deployment().deployment_id(id).send().await.unwrap();
    let info = deployment.deployment_info().unwrap();
    assert_eq!(
        info.deployment_config_name(),
        Some("CodeDeployDefault.LambdaLinear10PercentEvery2Minutes")
    );
    assert_eq!(info.application_name(), Some("orders-app"));
    let content = info
        .revision()
        .unwrap()
        .app_spec_content()
        .unwrap()
        .content()
        .unwrap();
    let appspec: serde_json::Value = serde_json::from_str(content).unwrap();
    assert_eq!(
        appspec,
        serde_json::json!({
            "version": 0.0,
            "Resources": [{"orders": {"Type": "AWS::Lambda::Function", "Properties": {
                "Name": "orders", "Alias": "live", "CurrentVersion": "1", "TargetVersion": "2"}}}],
            "Hooks": [{"BeforeAllowTraffic": "orders-pre-hook"}]
        })
    );
    assert_eq!(
        alias_state(&aws, "orders", "live").await,
        ("1".into(), None),
        "CodeDeploy moves the alias, not us"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn codedeploy_flags_are_checked_before_anything_is_sent() {
    let aws = Emulator::start();
    stable_alias(&aws).await;
    let code = source_dir(V2);
    aws.start_recording();
    let engine = [
        "--engine",
        "codedeploy",
        "--codedeploy-application",
        "a",
        "--codedeploy-deployment-group",
        "g",
    ];
    let with =
        |extra: &[&'static str]| -> Vec<&'static str> { engine.iter().chain(extra).copied().collect() };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (with(&[]), "needs --strategy"),
        (
            with(&["--strategy", "canary:7%:5m"]),
            "no predefined CodeDeploy configuration",
        ),
        (
            with(&["--strategy", "AllAtOnce", "--alarm", "x"]),
            "belong to the inline engine",
        ),
        (
            vec!["--engine", "codedeploy", "--strategy", "AllAtOnce"],
            "needs --codedeploy-application",
        ),
        (vec!["--codedeploy-application", "a"], "need --engine codedeploy"),
    ];
    for (extra, message) in cases {
        let result = deploy(&aws, "orders", "live", code.path(), &extra);
        assert_eq!(result.status, 2, "{extra:?}: {}", result.stderr);
        assert!(result.stderr.contains(message), "{extra:?}: {}", result.stderr);
    }
    assert!(aws.mutating().is_empty());
}

/// Processes still running whose command line is exactly `command`.
fn running(command: &str) -> usize {
    let wanted = command.replace(' ', "\0") + "\0";
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| std::fs::read(entry.ok()?.path().join("cmdline")).ok())
        .filter(|cmdline| *cmdline == wanted.as_bytes())
        .count()
}

#[tokio::test(flavor = "current_thread")]
async fn a_hook_past_its_time_limit_is_stopped_with_everything_it_started() {
    let aws = Emulator::start();
    stable_alias(&aws).await;
    let code = source_dir(V2);
    // A smoke script whose `curl` hangs: the child outlives its shell's wait.
    let hook = "sleep 41.25 & sleep 41.25";
    let started = std::time::Instant::now();
    let result = deploy(
        &aws,
        "orders",
        "live",
        code.path(),
        &[
            "--strategy",
            "AllAtOnce",
            "--pre-traffic-hook",
            hook,
            "--hook-timeout",
            "1s",
        ],
    );
    assert_eq!(result.status, 1, "{}", result.stderr);
    assert!(
        result.stderr.contains("did not finish within 1s"),
        "{}",
        result.stderr
    );
    // The run did not wait for the hook's children (they sleep 41 s).
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        running("sleep 41.25"),
        0,
        "a process the hook started outlived the run"
    );
    assert_eq!(alias_state(&aws, "orders", "live").await, ("1".into(), None));
}

#[tokio::test(flavor = "current_thread")]
async fn what_a_finished_hook_left_running_is_stopped_with_it() {
    let aws = Emulator::start();
    stable_alias(&aws).await;
    let code = source_dir(V2);
    let hook = "sleep 43.75 & exit 0";
    let result = deploy(
        &aws,
        "orders",
        "live",
        code.path(),
        &["--strategy", "AllAtOnce", "--post-traffic-hook", hook],
    );
    result.assert_ok();
    assert_eq!(
        running("sleep 43.75"),
        0,
        "a process the hook started outlived the run"
    );
    assert_eq!(alias_state(&aws, "orders", "live").await, ("2".into(), None));
}

/// A staged rollout killed (SIGKILL) while it watches its 10 % step, then
/// run again: the re-run watches the step the alias is at for its whole
/// interval before it moves on, without writing the alias for it again.
#[tokio::test(flavor = "current_thread")]
async fn a_rollout_killed_mid_step_watches_that_step_again_in_full_on_rerun() {
    let aws = Emulator::start();
    stable_alias(&aws).await;
    let code = source_dir(V2);
    let rollout = |command: &mut std::process::Command| {
        command
            .for_alias("deploy", "orders", "live")
            .args([
                "--output",
                "json",
                "--strategy",
                "canary:10%:4s",
                "--poll-interval",
                "1s",
            ])
            .arg("--source")
            .arg(code.path());
    };
    let mut first = binary(Some(&aws));
    rollout(&mut first);
    let mut child = rollout_in_background(&aws, &mut first).await;
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(
        alias_state(&aws, "orders", "live").await,
        ("1".into(), Some(("2".into(), 0.1)))
    );

    aws.start_recording();
    let started = std::time::Instant::now();
    let mut again = binary(Some(&aws));
    rollout(&mut again);
    let resumed = run(&mut again);
    resumed.assert_ok();
    assert!(
        resumed
            .stderr
            .contains("step 1/2: new version at 10%, watching for 4s"),
        "{}",
        resumed.stderr
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(4),
        "the 10 % step was watched again"
    );
    let updates: Vec<_> = aws
        .mutating()
        .into_iter()
        .filter(|(method, path)| method == "PUT" && path.contains("/aliases/"))
        .collect();
    assert_eq!(updates.len(), 1, "only the move to 100 % is written: {updates:?}");
    assert_eq!(alias_state(&aws, "orders", "live").await, ("2".into(), None));
}

/// SIGTERM while an alias write of a staged rollout is in flight (the
/// proxy holds it two seconds): the write lands, the run knows it as its
/// own, puts the stable version back, and says so — at the first step and
/// at a later one.
#[tokio::test(flavor = "current_thread")]
async fn a_signal_during_an_alias_write_ends_on_the_stable_version() {
    use crate::common::proxy::FaultProxy;
    for nth in [1, 2] {
        let aws = Emulator::start();
        stable_alias(&aws).await;
        let proxy = FaultProxy::start(&aws.endpoint);
        proxy.delay(
            "PUT",
            "/functions/orders/aliases/live",
            nth,
            Duration::from_secs(2),
        );
        let code = source_dir(V2);
        let mut command = binary(Some(&aws));
        command
            .env("AWS_ENDPOINT_URL", &proxy.endpoint)
            .for_alias("deploy", "orders", "live")
            .args(["--output", "json", "--strategy", "10%,50%,100%"])
            .args(["--step-interval", "2s", "--poll-interval", "1s", "--source"])
            .arg(code.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let child = command.spawn().unwrap();
        let began = std::time::Instant::now();
        while proxy.delays_begun() == 0 && began.elapsed() < Duration::from_secs(60) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(proxy.delays_begun(), 1, "write {nth} was never sent");
        tokio::time::sleep(Duration::from_millis(300)).await;
        std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        let cancelled = wait_for(child);
        assert_eq!(cancelled.status, 1, "write {nth}: {}", cancelled.stderr);
        let out = cancelled.json();
        assert_eq!(out["result"], "rolled-back", "write {nth}: {out}");
        assert_eq!(out["rollback-reason"], "the run was cancelled (SIGTERM)", "{out}");
        assert_eq!(out["version"], "1", "write {nth}: {out}");
        assert_eq!(out["canary-weight"], 1.0, "write {nth}: {out}");
        assert_eq!(
            alias_state(&aws, "orders", "live").await,
            ("1".into(), None),
            "write {nth}: the stable version serves alone"
        );
    }
}

/// Over an older canary (version 2 at 20 %), a staged deploy of version 3
/// whose pre-traffic check fails never writes the alias: the outputs say the
/// alias still serves 1 and 2 at 20 %, not "version 1 serves 100 %".
#[tokio::test(flavor = "current_thread")]
async fn a_rollout_that_fails_before_traffic_reports_the_older_canary() {
    let aws = Emulator::start();
    stable_alias(&aws).await;
    deploy(
        &aws,
        "orders",
        "live",
        source_dir(V2).path(),
        &["--canary-weight", "20%"],
    )
    .assert_ok();
    let v3 = source_dir(V3);
    let failed = deploy(
        &aws,
        "orders",
        "live",
        v3.path(),
        &["--strategy", "canary:10%:1h", "--pre-traffic-hook", "exit 1"],
    );
    assert_eq!(failed.status, 1, "{}", failed.stderr);
    let out = failed.json();
    assert_eq!(out["result"], "rolled-back", "{out}");
    assert_eq!(out["version"], "2", "{out}");
    assert_eq!(out["previous-version"], "1", "{out}");
    assert_eq!(out["canary-weight"], 0.2, "{out}");
    // The text says what happened, in words.
    let mut again = binary(Some(&aws));
    again
        .for_alias("deploy", "orders", "live")
        .args([
            "--strategy",
            "canary:10%:1h",
            "--pre-traffic-hook",
            "exit 1",
            "--source",
        ])
        .arg(v3.path());
    let text = run(&mut again);
    assert_eq!(text.status, 1, "{}", text.stderr);
    assert!(
        text.stdout.contains(
            "the rollout failed before it moved any traffic: the alias serves what it served before this run (1 (80%) + 2 (20%))"
        ),
        "{}",
        text.stdout
    );
    assert_eq!(
        alias_state(&aws, "orders", "live").await,
        ("1".into(), Some(("2".into(), 0.2)))
    );
}

/// `--alarm` naming an alarm that does not exist is bad input found before
/// the first write: exit 2, no upload, no version, the alias untouched. In
/// a fleet, a wave's alarm that exists nowhere is refused the same way.
#[tokio::test(flavor = "current_thread")]
async fn a_missing_alarm_is_refused_before_anything_is_sent() {
    let aws = Emulator::start();
    stable_alias(&aws).await;
    let before = hash_of(&aws, "orders", "$LATEST").await;
    aws.start_recording();
    let refused = deploy(
        &aws,
        "orders",
        "live",
        source_dir(V2).path(),
        &["--strategy", "canary:10%:1h", "--alarm", "no-such-alarm"],
    );
    assert_eq!(refused.status, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("no-such-alarm"), "{}", refused.stderr);
    // CloudWatch's DescribeAlarms is a POST to /; nothing else was sent.
    assert!(
        aws.mutating().iter().all(|(_, path)| path == "/"),
        "nothing written: {:?}",
        aws.mutating()
    );
    assert_eq!(versions(&aws, "orders").await, ["1"]);
    assert_eq!(
        hash_of(&aws, "orders", "$LATEST").await,
        before,
        "nothing uploaded"
    );
    assert_eq!(alias_state(&aws, "orders", "live").await, ("1".into(), None));

    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join("fns/orders")).unwrap();
    std::fs::write(repo.path().join("fns/orders/index.py"), V2).unwrap();
    let path = repo.path().join("lambda-rollout.toml");
    std::fs::write(
        &path,
        "[defaults]\nalias = \"live\"\n\n[[functions]]\nname = \"orders\"\nsource = \"fns/orders\"\n\n[[waves]]\nname = \"all\"\nalarms = [\"no-such-alarm\"]\n",
    )
    .unwrap();
    let fleet = run(binary(Some(&aws)).args(["deploy", "--manifest"]).arg(&path));
    assert_eq!(fleet.status, 2, "{}", fleet.stderr);
    assert!(
        fleet.stderr.contains("preflight found 1 problem"),
        "{}",
        fleet.stderr
    );
    assert!(fleet.stderr.contains("no-such-alarm"), "{}", fleet.stderr);
    assert_eq!(versions(&aws, "orders").await, ["1"]);
}
