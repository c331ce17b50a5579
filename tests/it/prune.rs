//! `prune` and `deploy --keep-versions` against the local AWS emulator: what
//! any alias routes to or records, and what an event source mapping names,
//! is never deleted; `--keep` and `--older-than` spare the rest as asked.
//! (Provisioned concurrency is not served by the emulator: see sdk_mocks.)

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::AliasRoutingConfiguration;

use crate::common::*;

const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:orders";

fn code(n: u32) -> tempfile::TempDir {
    source_dir(&format!("def handler(event, context):\n    return {n}\n"))
}

/// orders with versions 1..=7 (each its own code); live → 5 with canary 6
/// and the record "rollback to 3"; staging → 1; an SQS mapping on version 2.
async fn seven_versions(aws: &Emulator) {
    create_function(aws, "orders").await;
    let lambda = aws.lambda();
    for n in 1..=7 {
        let code = Blob::new(zip_of(&format!("version = {n}")));
        lambda
            .update_function_code()
            .function_name("orders")
            .zip_file(code)
            .send()
            .await
            .unwrap();
        lambda
            .publish_version()
            .function_name("orders")
            .send()
            .await
            .unwrap();
    }
    let routing = AliasRoutingConfiguration::builder()
        .additional_version_weights("6", 0.1)
        .build();
    let live = lambda
        .create_alias()
        .function_name("orders")
        .name("live")
        .function_version("5");
    live.routing_config(routing)
        .description("orders [lambda-rollout rollback-to=3 promoted=5]")
        .send()
        .await
        .unwrap();
    let staging = lambda.create_alias().function_name("orders").name("staging");
    staging.function_version("1").send().await.unwrap();
    let queue = aws.create_queue("orders-events");
    let mapping = lambda.create_event_source_mapping().event_source_arn(queue);
    mapping.function_name(format!("{ARN}:2")).send().await.unwrap();
}

fn prune(aws: &Emulator, extra: &[&str]) -> Run {
    let mut command = binary(Some(aws));
    command
        .args(["prune", "--function-name", "orders", "--output", "json"])
        .args(extra);
    run(&mut command)
}

fn listed(report: &serde_json::Value, key: &str) -> Vec<String> {
    let entries = report[key].as_array().unwrap();
    entries
        .iter()
        .map(|e| {
            e.as_str()
                .map_or_else(|| e["version"].as_str().unwrap().to_string(), str::to_string)
        })
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn prune_deletes_only_what_nothing_needs() {
    let aws = Emulator::start();
    seven_versions(&aws).await;

    aws.start_recording();
    let planned = prune(&aws, &["--keep", "1", "--dry-run"]);
    planned.assert_ok();
    let plan = planned.json();
    assert_eq!(listed(&plan, "pruned"), ["4"], "{plan}");
    assert_eq!(listed(&plan, "protected"), ["6", "5", "3", "2", "1"], "{plan}");
    assert_eq!(listed(&plan, "kept"), ["7"], "{plan}");
    let reasons: Vec<&str> = plan["protected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons[0], "alias live routes to it (canary)");
    assert_eq!(reasons[2], "alias live records it as its rollback target");
    assert!(reasons[3].starts_with("event source mapping "), "{reasons:?}");
    assert_eq!(reasons[4], "alias staging routes to it (primary)");
    assert!(aws.mutating().is_empty(), "a dry run deletes nothing");
    assert!(
        planned.stderr.contains("would delete version 4"),
        "{}",
        planned.stderr
    );

    let outputs_file = tempfile::NamedTempFile::new().unwrap();
    let mut command = binary(Some(&aws));
    command
        .args(["prune", "--function-name", "orders", "--keep", "1"])
        .env("GITHUB_OUTPUT", outputs_file.path());
    let pruned = run(&mut command);
    pruned.assert_ok();
    assert!(
        pruned
            .stdout
            .starts_with("orders: deleted version 4; 5 protected, 1 kept"),
        "{}",
        pruned.stdout
    );
    let outputs = parse_github_output(&std::fs::read_to_string(outputs_file.path()).unwrap());
    assert_eq!(outputs["pruned"], r#"["4"]"#);
    assert_eq!(versions(&aws, "orders").await, ["1", "2", "3", "5", "6", "7"]);

    // Everything is younger than an hour: --older-than spares it all.
    let young = prune(&aws, &["--older-than", "1h"]);
    young.assert_ok();
    assert_eq!(young.json()["result"], "nothing-to-prune");
    assert_eq!(versions(&aws, "orders").await, ["1", "2", "3", "5", "6", "7"]);

    // Neither option: refused before any request.
    aws.start_recording();
    let refused = prune(&aws, &[]);
    assert_eq!(refused.status, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("--keep"), "{}", refused.stderr);
    assert!(aws.mutating().is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn deploy_keep_versions_prunes_after_a_successful_deploy_only() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    for n in 1..=4 {
        deploy(
            &aws,
            "orders",
            "live",
            code(n).path(),
            &["--canary-weight", "100%"],
        )
        .assert_ok();
    }
    // A rollout that rolls back (its post-traffic hook fails) prunes nothing.
    let failed = deploy(
        &aws,
        "orders",
        "live",
        code(5).path(),
        &[
            "--strategy",
            "AllAtOnce",
            "--post-traffic-hook",
            "exit 1",
            "--keep-versions",
            "0",
        ],
    );
    assert_eq!(failed.status, 1, "{}", failed.stderr);
    assert_eq!(versions(&aws, "orders").await, ["1", "2", "3", "4", "5"]);
    // Version 6 goes live; 4 is its rollback target; of 5, 3, 2, 1 one is kept.
    let shipped = deploy(
        &aws,
        "orders",
        "live",
        code(6).path(),
        &["--canary-weight", "100%", "--keep-versions", "1"],
    );
    shipped.assert_ok();
    let report = shipped.json();
    assert_eq!(report["version"], "6");
    assert_eq!(listed(&report, "pruned"), ["3", "2", "1"], "{report}");
    assert_eq!(versions(&aws, "orders").await, ["4", "5", "6"]);
}

#[tokio::test(flavor = "current_thread")]
async fn prune_runs_over_every_function_of_a_manifest() {
    let aws = Emulator::start();
    seven_versions(&aws).await;
    create_function(&aws, "users").await;
    deploy(&aws, "users", "live", code(1).path(), &[]).assert_ok();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("lambda-rollout.toml");
    std::fs::write(
        &manifest,
        "[defaults]\nalias = \"live\"\n[[functions]]\nname = \"orders\"\n[[functions]]\nname = \"users\"\n",
    )
    .unwrap();
    let outputs_file = tempfile::NamedTempFile::new().unwrap();
    let mut command = binary(Some(&aws));
    command
        .args([
            "prune",
            "--output",
            "json",
            "--keep",
            "1",
            "--dry-run",
            "--manifest",
        ])
        .arg(&manifest)
        .env("GITHUB_OUTPUT", outputs_file.path());
    let result = run(&mut command);
    result.assert_ok();
    let reports = result.json();
    let pruned: Vec<Vec<String>> = reports
        .as_array()
        .unwrap()
        .iter()
        .map(|r| listed(r, "pruned"))
        .collect();
    assert_eq!(pruned, [vec!["4".to_string()], vec![]], "{reports}");
    let outputs = parse_github_output(&std::fs::read_to_string(outputs_file.path()).unwrap());
    assert_eq!(outputs["pruned"], r#"{"orders":["4"],"users":[]}"#);
    assert_eq!(
        versions(&aws, "orders").await.len(),
        7,
        "a dry run deletes nothing"
    );
}

/// `deploy --keep-versions` whose prune is denied (the policy lacks
/// `lambda:ListVersionsByFunction`): the deploy stands and is reported, the
/// prune's failure is reported with it, one JSON document, exit 1.
#[tokio::test(flavor = "current_thread")]
async fn a_denied_prune_after_a_deploy_reports_the_deploy_and_then_the_prune() {
    use crate::common::proxy::FaultProxy;

    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    deploy(&aws, "orders", "live", code(1).path(), &[]).assert_ok();
    let proxy = FaultProxy::start(&aws.endpoint);
    proxy.deny(
        "GET",
        "/functions/orders/versions",
        "lambda:ListVersionsByFunction",
    );
    let files = tempfile::tempdir().unwrap();
    let output = files.path().join("output");
    let source = code(2);
    let mut command = binary(Some(&aws));
    command
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .env("GITHUB_OUTPUT", &output)
        .for_alias("deploy", "orders", "live")
        .args([
            "--output",
            "json",
            "--canary-weight",
            "100%",
            "--keep-versions",
            "1",
            "--source",
        ])
        .arg(source.path());
    let result = run(&mut command);
    assert_eq!(result.status, 1, "{}", result.stderr);
    let report = result.json();
    assert_eq!(report["result"], "published");
    assert_eq!(report["version"], "2");
    assert!(
        report["prune-error"]
            .as_str()
            .unwrap()
            .contains("lambda:ListVersionsByFunction"),
        "{report}"
    );
    assert!(
        result
            .stderr
            .contains("the deploy succeeded (published), but pruning old versions failed"),
        "{}",
        result.stderr
    );
    let outputs = parse_github_output(&std::fs::read_to_string(&output).unwrap());
    assert_eq!(outputs["version"], "2");
    assert_eq!(alias_state(&aws, "orders", "live").await, ("2".into(), None));
}

/// `prune --keep 0` paces every call, the re-check of the aliases before
/// each delete included: behind a proxy enforcing Lambda's 15 calls per
/// second, no second carries more than the pace (10/s) and nothing is
/// throttled.
#[tokio::test(flavor = "current_thread")]
async fn prune_keeps_under_the_quota_in_every_second() {
    use crate::common::proxy::FaultProxy;

    let aws = Emulator::start();
    seven_versions(&aws).await;
    let proxy = FaultProxy::start(&aws.endpoint);
    proxy.enforce_quota(15);
    let mut command = binary(Some(&aws));
    command.env("AWS_ENDPOINT_URL", &proxy.endpoint).args([
        "prune",
        "--function-name",
        "orders",
        "--keep",
        "0",
        "--output",
        "json",
    ]);
    let report = run(&mut command);
    report.assert_ok();
    assert!(!listed(&report.json(), "pruned").is_empty());
    let (throttled, busiest) = proxy.quota_seen();
    assert_eq!(throttled, 0);
    assert!(
        busiest <= 11,
        "{busiest} calls within one second at a pace of 10/s"
    );
}
