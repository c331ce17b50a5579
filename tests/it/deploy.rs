//! `deploy` against the local AWS emulator (moto): each row of the deploy
//! decision table, asserting the alias, the versions, the outputs and which
//! requests were sent.

use crate::common::*;
use std::path::Path;

const V1: &str = "def handler(event, context):\n    return 1\n";
const V2: &str = "def handler(event, context):\n    return 2\n";
const V3: &str = "def handler(event, context):\n    return 3\n";

fn is_code_upload((method, path): &(String, String)) -> bool {
    method == "PUT" && path.ends_with("/code")
}

fn is_publish((method, path): &(String, String)) -> bool {
    method == "POST" && path.ends_with("/versions")
}

#[tokio::test(flavor = "current_thread")]
async fn first_deploy_creates_the_alias_and_an_unchanged_rerun_sends_no_mutating_request() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    let source = source_dir(V1);

    aws.start_recording();
    let first = deploy(&aws, "orders", "live", source.path(), &["--canary-weight", "10%"]);
    first.assert_ok();
    let latest_reads = aws
        .recorded()
        .iter()
        .filter(|(method, path)| method == "GET" && path == "/2015-03-31/functions/orders")
        .count();
    assert_eq!(latest_reads, 1, "$LATEST is read once, beside the missing alias");
    let out = first.json();
    assert_eq!(out["result"], "published");
    assert_eq!(out["version"], "1");
    assert_eq!(out["previous-version"], "");
    assert_eq!(
        out["canary-weight"], 1.0,
        "no stable version to canary against: all traffic"
    );
    assert_eq!(out["skipped"], false);
    assert_eq!(
        out["alias-arn"],
        "arn:aws:lambda:us-east-1:123456789012:function:orders:live"
    );
    assert!(
        first.stderr.contains("no published stable version"),
        "{}",
        first.stderr
    );
    assert_eq!(alias_state(&aws, "orders", "live").await, ("1".to_string(), None));

    aws.start_recording();
    let second = deploy(&aws, "orders", "live", source.path(), &[]);
    second.assert_ok();
    // Three reads and nothing else: the alias, its primary's configuration,
    // and $LATEST's (one more than before releases carried configuration:
    // it tells whether $LATEST's configuration drifted from the alias's).
    let mut sent = aws.recorded();
    sent.sort();
    assert_eq!(
        sent,
        [
            ("GET".to_string(), "/2015-03-31/functions/orders".to_string()),
            (
                "GET".to_string(),
                "/2015-03-31/functions/orders/aliases/live".to_string()
            ),
            (
                "GET".to_string(),
                "/2015-03-31/functions/orders?Qualifier=live".to_string()
            ),
        ],
        "a skip sends no mutating request and no read the plan does not need"
    );
    let out = second.json();
    assert_eq!(out["result"], "skipped");
    assert_eq!(out["skipped"], true);
    assert_eq!(out["version"], "1");
    assert_eq!(versions(&aws, "orders").await, ["1"]);
    assert_eq!(alias_state(&aws, "orders", "live").await, ("1".to_string(), None));
}

#[tokio::test(flavor = "current_thread")]
async fn changed_code_becomes_a_canary_with_the_commit_in_its_description() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    deploy(&aws, "orders", "live", source_dir(V1).path(), &[]).assert_ok();

    let new_code = source_dir(V2);
    let mut command = binary(Some(&aws));
    command
        .for_alias("deploy", "orders", "live")
        .args(["--output", "json", "--canary-weight", "0.25"])
        .arg("--source")
        .arg(new_code.path())
        .env("GITHUB_SHA", "0123456789abcdef")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_REPOSITORY", "acme/orders")
        .env("GITHUB_RUN_ID", "77");
    let run = run(&mut command);
    run.assert_ok();
    let out = run.json();
    assert_eq!(out["result"], "published");
    assert_eq!(out["version"], "2");
    assert_eq!(out["previous-version"], "1");
    assert_eq!(out["canary-weight"], 0.25);
    assert_eq!(
        alias_state(&aws, "orders", "live").await,
        ("1".to_string(), Some(("2".to_string(), 0.25)))
    );

    let version = aws
        .lambda()
        .get_function_configuration()
        .function_name("orders")
        .qualifier("2")
        .send()
        .await
        .unwrap();
    assert_eq!(
        version.description(),
        Some("commit 0123456789abcdef run https://github.com/acme/orders/actions/runs/77")
    );
    assert_eq!(
        version.code_sha256(),
        out["code-sha256"].as_str(),
        "the hash we report is Lambda's CodeSha256"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn redeploying_the_canary_code_only_reweights_and_uploads_nothing() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    deploy(&aws, "orders", "live", source_dir(V1).path(), &[]).assert_ok();
    let canary_code = source_dir(V2);
    deploy(
        &aws,
        "orders",
        "live",
        canary_code.path(),
        &["--canary-weight", "10%"],
    )
    .assert_ok();

    aws.start_recording();
    let run = deploy(
        &aws,
        "orders",
        "live",
        canary_code.path(),
        &["--canary-weight", "50%"],
    );
    run.assert_ok();
    let sent = aws.mutating();
    assert_eq!(
        sent,
        [(
            "PUT".to_string(),
            "/2015-03-31/functions/orders/aliases/live".to_string()
        )],
        "only the alias changes"
    );
    assert_eq!(run.json()["result"], "reweighted");
    assert_eq!(
        alias_state(&aws, "orders", "live").await,
        ("1".to_string(), Some(("2".to_string(), 0.5)))
    );

    // Without a weight, the canary keeps the one it has: nothing to do.
    aws.start_recording();
    let run = deploy(&aws, "orders", "live", canary_code.path(), &[]);
    assert!(aws.mutating().is_empty());
    assert_eq!(run.json()["result"], "skipped");
    assert_eq!(run.json()["canary-weight"], 0.5);

    // At 100 % the canary becomes the primary.
    let run = deploy(
        &aws,
        "orders",
        "live",
        canary_code.path(),
        &["--canary-weight", "100%"],
    );
    assert_eq!(run.json()["result"], "promoted");
    assert_eq!(run.json()["previous-version"], "1");
    assert_eq!(alias_state(&aws, "orders", "live").await, ("2".to_string(), None));
    assert_eq!(versions(&aws, "orders").await, ["1", "2"]);
}

#[tokio::test(flavor = "current_thread")]
async fn deploying_the_stable_code_again_drops_the_canary() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    let stable = source_dir(V1);
    deploy(&aws, "orders", "live", stable.path(), &[]).assert_ok();
    deploy(&aws, "orders", "live", source_dir(V2).path(), &[]).assert_ok();
    assert_eq!(
        alias_state(&aws, "orders", "live").await,
        ("1".to_string(), Some(("2".to_string(), 0.1)))
    );

    aws.start_recording();
    let run = deploy(&aws, "orders", "live", stable.path(), &[]);
    run.assert_ok();
    assert!(
        !aws.mutating().iter().any(|r| is_code_upload(r) || is_publish(r)),
        "no upload, no publish"
    );
    assert_eq!(run.json()["result"], "canary-dropped");
    assert_eq!(run.json()["version"], "1");
    assert_eq!(alias_state(&aws, "orders", "live").await, ("1".to_string(), None));
}

#[tokio::test(flavor = "current_thread")]
async fn code_left_unpublished_in_latest_by_an_earlier_run_is_published_without_reupload() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    deploy(&aws, "orders", "live", source_dir(V1).path(), &[]).assert_ok();

    // An earlier run uploaded the new code, then stopped before publishing.
    let new_code = source_dir(V2);
    let zip = tempfile::NamedTempFile::new().unwrap();
    let mut package = binary(None);
    package
        .args(["package", "--source"])
        .arg(new_code.path())
        .arg("--out")
        .arg(zip.path());
    run(&mut package).assert_ok();
    aws.lambda()
        .update_function_code()
        .function_name("orders")
        .zip_file(aws_sdk_lambda::primitives::Blob::new(
            std::fs::read(zip.path()).unwrap(),
        ))
        .send()
        .await
        .unwrap();

    aws.start_recording();
    let run = deploy(
        &aws,
        "orders",
        "live",
        new_code.path(),
        &["--canary-weight", "20%"],
    );
    run.assert_ok();
    let sent = aws.mutating();
    assert!(!sent.iter().any(is_code_upload), "no second upload: {sent:?}");
    assert_eq!(sent.iter().filter(|r| is_publish(r)).count(), 1, "{sent:?}");
    assert_eq!(run.json()["result"], "reused");
    assert_eq!(
        alias_state(&aws, "orders", "live").await,
        ("1".to_string(), Some(("2".to_string(), 0.2)))
    );
}

#[tokio::test(flavor = "current_thread")]
async fn new_code_replaces_an_older_canary_and_full_weight_switches_at_once() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    deploy(&aws, "orders", "live", source_dir(V1).path(), &[]).assert_ok();
    deploy(
        &aws,
        "orders",
        "live",
        source_dir(V2).path(),
        &["--canary-weight", "30%"],
    )
    .assert_ok();

    let run = deploy(
        &aws,
        "orders",
        "live",
        source_dir(V3).path(),
        &["--canary-weight", "5%"],
    );
    run.assert_ok();
    assert!(
        run.stderr.contains("replacing the older canary version 2 (30%)"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json()["version"], "3");
    assert_eq!(
        alias_state(&aws, "orders", "live").await,
        ("1".to_string(), Some(("3".to_string(), 0.05)))
    );

    let run = deploy(
        &aws,
        "orders",
        "live",
        source_dir("def handler(e, c): return 4\n").path(),
        &["--canary-weight", "100%"],
    );
    assert_eq!(run.json()["result"], "published");
    assert_eq!(run.json()["version"], "4");
    assert_eq!(run.json()["previous-version"], "1");
    assert_eq!(alias_state(&aws, "orders", "live").await, ("4".to_string(), None));
}

#[tokio::test(flavor = "current_thread")]
async fn zero_weight_publishes_a_dark_canary() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    deploy(&aws, "orders", "live", source_dir(V1).path(), &[]).assert_ok();
    let run = deploy(
        &aws,
        "orders",
        "live",
        source_dir(V2).path(),
        &["--canary-weight", "0"],
    );
    assert_eq!(run.json()["canary-weight"], 0.0);
    assert_eq!(
        alias_state(&aws, "orders", "live").await,
        ("1".to_string(), Some(("2".to_string(), 0.0)))
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_zip_built_by_package_deploys_byte_for_byte_with_the_printed_hash() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    let out = tempfile::tempdir().unwrap();
    let zip = out.path().join("orders.zip");
    let code = source_dir(V1);
    let mut package = binary(None);
    package
        .args(["package", "--output", "json", "--source"])
        .arg(code.path())
        .arg("--out")
        .arg(&zip);
    let packaged = run(&mut package);
    packaged.assert_ok();
    let printed = packaged.json()["code-sha256"].as_str().unwrap().to_string();

    let mut command = binary(Some(&aws));
    command
        .for_alias("deploy", "orders", "staging")
        .args(["--output", "json", "--zip-file"])
        .arg(&zip);
    let deployed = run(&mut command);
    deployed.assert_ok();
    assert_eq!(deployed.json()["code-sha256"], printed.as_str());
    let version = aws
        .lambda()
        .get_function_configuration()
        .function_name("orders")
        .qualifier("1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        version.code_sha256(),
        Some(printed.as_str()),
        "Lambda reports the hash `package` printed"
    );

    // The same zip to a second stage: already published, so nothing is uploaded.
    aws.start_recording();
    let mut command = binary(Some(&aws));
    command
        .for_alias("deploy", "orders", "prod")
        .args(["--output", "json", "--zip-file"])
        .arg(&zip);
    let prod = run(&mut command);
    prod.assert_ok();
    assert!(!aws.mutating().iter().any(is_code_upload));
    assert_eq!(prod.json()["result"], "reused");
    // AWS answers this PublishVersion with the existing version 1; moto 5.2.5
    // publishes once more right after a function's first version (its
    // "changed" flag is only reset when versions already exist), so the check
    // is on the code the alias serves rather than on the number.
    let (prod_version, canary) = alias_state(&aws, "orders", "prod").await;
    assert_eq!(canary, None);
    assert_eq!(prod.json()["version"], prod_version.as_str());
    let served = aws
        .lambda()
        .get_function_configuration()
        .function_name("orders")
        .qualifier(&prod_version)
        .send()
        .await
        .unwrap();
    assert_eq!(served.code_sha256(), Some(printed.as_str()));
}

#[tokio::test(flavor = "current_thread")]
async fn dry_run_prints_the_plan_and_changes_nothing() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    deploy(&aws, "orders", "live", source_dir(V1).path(), &[]).assert_ok();

    aws.start_recording();
    let run = deploy(
        &aws,
        "orders",
        "live",
        source_dir(V2).path(),
        &["--dry-run", "--canary-weight", "10%"],
    );
    run.assert_ok();
    assert_eq!(aws.mutating(), Vec::<(String, String)>::new());
    assert!(
        run.stderr
            .contains("[dry-run] would upload the code to orders and publish it"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("[dry-run] would point alias live at 1 (90%) + new (10%)"),
        "{}",
        run.stderr
    );
    let out = run.json();
    assert_eq!(out["dry-run"], true);
    assert_eq!(out["result"], "published");
    assert_eq!(out["previous-version"], "1");
    assert_eq!(versions(&aws, "orders").await, ["1"]);
    assert_eq!(alias_state(&aws, "orders", "live").await, ("1".to_string(), None));
}

#[tokio::test(flavor = "current_thread")]
async fn in_github_actions_outputs_summary_and_error_annotations_are_written() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    let files = tempfile::tempdir().unwrap();
    let output_file = files.path().join("output");
    let summary_file = files.path().join("summary");

    // Inputs arrive as environment variables; unset inputs arrive as "".
    let source = source_dir(V1);
    let mut command = binary(Some(&aws));
    command
        .arg("deploy")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output_file)
        .env("GITHUB_STEP_SUMMARY", &summary_file)
        .env("LAMBDA_ROLLOUT_FUNCTION_NAME", "orders")
        .env("LAMBDA_ROLLOUT_ALIAS", "live")
        .env("LAMBDA_ROLLOUT_SOURCE", source.path())
        .env("LAMBDA_ROLLOUT_ZIP_FILE", "")
        .env("LAMBDA_ROLLOUT_CANARY_WEIGHT", "")
        .env("LAMBDA_ROLLOUT_DRY_RUN", "False")
        .env("LAMBDA_ROLLOUT_EXCLUDE", "*.md\n\ntests/");
    let first = run(&mut command);
    first.assert_ok();

    let outputs = std::fs::read_to_string(&output_file).unwrap();
    let parsed = parse_github_output(&outputs);
    for key in [
        "function-arn",
        "alias-arn",
        "version",
        "previous-version",
        "code-sha256",
        "skipped",
        "canary-weight",
        "result",
    ] {
        assert!(
            parsed.contains_key(key),
            "{key} missing from GITHUB_OUTPUT:\n{outputs}"
        );
    }
    assert_eq!(parsed["version"], "1");
    assert_eq!(parsed["skipped"], "false");
    assert_eq!(parsed["canary-weight"], "1");
    assert_eq!(parsed["result"], "published");
    let summary = std::fs::read_to_string(&summary_file).unwrap();
    assert!(
        summary.contains("### lambda-rollout `orders:live` — published"),
        "{summary}"
    );
    assert!(summary.contains("| version | `1` |"), "{summary}");

    // A failure becomes an error annotation.
    let mut failing = binary(Some(&aws));
    failing
        .for_alias("deploy", "missing-fn", "live")
        .args(["--source"])
        .arg(source.path())
        .env("GITHUB_ACTIONS", "true");
    let failed = run(&mut failing);
    assert_eq!(failed.status, 1);
    assert!(
        failed
            .stderr
            .contains("::error title=lambda-rollout::function missing-fn does not exist"),
        "{}",
        failed.stderr
    );
}

#[tokio::test(flavor = "current_thread")]
async fn credentials_never_appear_in_any_output_even_verbose() {
    const TOKEN: &str = "FAKESESSIONTOKENzzzz1234";
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    let code = source_dir(V1);
    // `deploy --verbose` of `source` to `function`'s alias live, plus `extra`,
    // with a session token among the credentials.
    let verbose_deploy = |function: &str, source: &Path, extra: &[&str]| {
        let mut command = binary(Some(&aws));
        command
            .for_alias("deploy", function, "live")
            .args(["--verbose"])
            .args(extra)
            .arg("--source")
            .arg(source)
            .env("AWS_SESSION_TOKEN", TOKEN);
        command
    };
    let ok = run(&mut verbose_deploy("orders", code.path(), &[]));
    ok.assert_ok();
    let failed = run(&mut verbose_deploy("nope", code.path(), &[]));
    assert_eq!(failed.status, 1);
    // S3's errors (XML) and errors after the retries ran out (every request
    // meets a fault on the way) are printed with their whole context.
    let other_code = source_dir("def handler(event, context):\n    return 'other'\n");
    let s3_failed = run(&mut verbose_deploy(
        "orders",
        other_code.path(),
        &["--s3-bucket", "missing-bucket"],
    ));
    assert_eq!(s3_failed.status, 1, "{}", s3_failed.stderr);
    let proxy = crate::common::proxy::FaultProxy::start(&aws.endpoint);
    proxy.arm(1, 1.0, None);
    let mut faulted = verbose_deploy("orders", other_code.path(), &[]);
    faulted.env("AWS_ENDPOINT_URL", &proxy.endpoint);
    let gave_up = run(&mut faulted);
    assert_eq!(gave_up.status, 1, "{}", gave_up.stderr);
    for run in [&ok, &failed, &s3_failed, &gave_up] {
        for secret in [SECRET_KEY, TOKEN, ACCESS_KEY] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "{secret} leaked:\n{}\n{}",
                run.stdout,
                run.stderr
            );
        }
    }
    assert!(
        ok.stderr.contains("aws: UpdateFunctionCode orders"),
        "verbose narrates requests: {}",
        ok.stderr
    );
}

/// `$GITHUB_OUTPUT` that cannot be written: the deploy still happened, and
/// the one JSON document says so and why the outputs are missing (exit 1:
/// later steps would miss them); never a second document.
#[tokio::test(flavor = "current_thread")]
async fn unwritable_github_outputs_give_one_document_that_says_the_deploy_happened() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    let files = tempfile::tempdir().unwrap();
    let source = source_dir(V1);
    let mut command = binary(Some(&aws));
    command
        .for_alias("deploy", "orders", "live")
        .args(["--output", "json", "--source"])
        .arg(source.path())
        .env("GITHUB_OUTPUT", files.path());
    let result = run(&mut command);
    assert_eq!(result.status, 1, "{}", result.stderr);
    let document = result.json();
    assert_eq!(document["result"], "published");
    let why = document["github-files-error"].as_str().unwrap();
    assert!(why.starts_with("cannot write "), "{why}");
    assert!(
        result.stderr.contains("error: cannot write "),
        "{}",
        result.stderr
    );
    assert_eq!(alias_state(&aws, "orders", "live").await, ("1".into(), None));
}
