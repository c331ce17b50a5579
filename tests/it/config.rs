//! A release is code plus configuration: `--function-config` against the
//! emulator. Each test reads back what a user would check — the alias, and
//! each version's configuration as the SDK reports it — and that no
//! environment value appears in any output.
//!
//! The emulator ignores some keys on UpdateFunctionConfiguration
//! (EphemeralStorage, TracingConfig, DeadLetterConfig, KMSKeyArn, SnapStart,
//! LoggingConfig, ImageConfig, FileSystemConfigs; ARCHITECTURE.md): these
//! tests use the keys it keeps.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

const V1: &str = "def handler(event, context):\n    return 1\n";

/// Secrets given to the runs below: none may appear in any output.
const SECRETS: [&str; 3] = ["tok-SECRET-one", "tok-SECRET-two", "literal-SECRET-three"];

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `deploy` of `source` with `--function-config config`, the secrets in the
/// environment, and GitHub's output files. Returns the run, the `result`
/// output, and what was written to the GitHub output and summary files.
fn deploy_config(
    aws: &Emulator,
    function: &str,
    source: &Path,
    config: &Path,
    extra: &[&str],
) -> (Run, String, String) {
    let files = tempfile::tempdir().unwrap();
    let (output, summary) = (files.path().join("output"), files.path().join("summary"));
    let mut command: Command = binary(Some(aws));
    command
        .for_alias("deploy", function, "live")
        .args(["--output", "json", "--verbose", "--source"])
        .arg(source)
        .arg("--function-config")
        .arg(config)
        .args(extra)
        .env("DEPLOY_TOKEN", SECRETS[0])
        .env("NEXT_TOKEN", SECRETS[1])
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary);
    let result = run(&mut command);
    let [output, summary] = [output, summary].map(|p| std::fs::read_to_string(p).unwrap_or_default());
    let written = format!("{output}\n{summary}");
    for secret in SECRETS {
        for (what, text) in [
            ("stdout", &result.stdout),
            ("stderr", &result.stderr),
            ("GitHub files", &written),
        ] {
            assert!(!text.contains(secret), "{secret} appears in {what}:\n{text}");
        }
    }
    let result_output = parse_github_output(&output)
        .get("result")
        .cloned()
        .unwrap_or_default();
    (result, result_output, written)
}

fn variables(
    config: &aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput,
) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = config
        .environment()
        .and_then(|e| e.variables())
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    pairs.sort();
    pairs
}

#[tokio::test(flavor = "current_thread")]
async fn a_configuration_change_is_published_canaried_and_rolled_back_like_code() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    let files = tempfile::tempdir().unwrap();
    let source = source_dir(V1);
    let first = write(
        files.path(),
        "function.json",
        r#"{"MemorySize": 128, "Timeout": 10,
            "Environment": {"Variables": {"STAGE": "prod", "TOKEN": {"FromEnvironment": "DEPLOY_TOKEN"}}}}"#,
    );
    let (run1, _, _) = deploy_config(&aws, "orders", source.path(), &first, &[]);
    run1.assert_ok();
    assert_eq!(alias_state(&aws, "orders", "live").await, ("1".to_string(), None));
    let v1 = configuration(&aws, "orders", "1").await;
    assert_eq!((v1.memory_size(), v1.timeout()), (Some(128), Some(10)));
    assert_eq!(
        variables(&v1),
        [
            ("STAGE".into(), "prod".into()),
            ("TOKEN".into(), SECRETS[0].into())
        ]
    );

    // The same release again: skipped, with the same three reads as a
    // deploy without a file (the versions' reads carry their configuration).
    aws.start_recording();
    let (again, _, _) = deploy_config(&aws, "orders", source.path(), &first, &[]);
    again.assert_ok();
    assert_eq!(again.json()["result"], "skipped", "{}", again.stderr);
    let mut sent = aws.recorded();
    sent.sort();
    let get = |path: &str| ("GET".to_string(), path.to_string());
    assert_eq!(
        sent,
        [
            get("/2015-03-31/functions/orders"),
            get("/2015-03-31/functions/orders/aliases/live"),
            get("/2015-03-31/functions/orders?Qualifier=live"),
        ]
    );

    // A file restating what is deployed, keys reordered, with the defaults
    // Lambda reports spelled out: still no change.
    let restated = write(
        files.path(),
        "restated.yaml",
        "Timeout: 10\nLayers: []\nEnvironment:\n  Variables:\n    TOKEN: {FromEnvironment: DEPLOY_TOKEN}\n    STAGE: prod\nMemorySize: 128\nFunctionArn: ignored\nDescription: ignored\n",
    );
    let (same, _, _) = deploy_config(&aws, "orders", source.path(), &restated, &[]);
    assert_eq!(same.json()["result"], "skipped", "{}", same.stderr);
    assert!(
        same.stderr
            .contains("Description is ignored (a version's description is --description's)"),
        "{}",
        same.stderr
    );

    // Configuration only: memory up, TOKEN removed, NEW added; canaried at 20%.
    let second = write(
        files.path(),
        "function.json",
        r#"{"MemorySize": 256, "Timeout": 10,
            "Environment": {"Variables": {"STAGE": "prod", "NEW": {"FromEnvironment": "NEXT_TOKEN"}}}}"#,
    );
    let (dry, _, _) = deploy_config(&aws, "orders", source.path(), &second, &["--dry-run"]);
    dry.assert_ok();
    assert!(
        dry.stderr.contains("would take the code already in $LATEST (no upload), update its configuration (MemorySize (128 → 256), Environment.Variables (added NEW; removed TOKEN)) and publish it"),
        "{}",
        dry.stderr
    );
    assert_eq!(versions(&aws, "orders").await, ["1"]);

    let (canary, outputs, summary) = deploy_config(
        &aws,
        "orders",
        source.path(),
        &second,
        &["--canary-weight", "20%"],
    );
    canary.assert_ok();
    let out = canary.json();
    assert_eq!(
        (out["result"].as_str(), out["version"].as_str()),
        (Some("published"), Some("2"))
    );
    assert_eq!(
        out["configuration"],
        serde_json::json!(["MemorySize", "Environment.Variables"])
    );
    assert_eq!(outputs, "published");
    assert!(
        summary.contains("new configuration published as version 2 at 20%; version 1 keeps 80%"),
        "{summary}"
    );
    assert!(
        canary
            .stderr
            .contains("Environment.Variables (added NEW; removed TOKEN)"),
        "{}",
        canary.stderr
    );
    assert_eq!(
        alias_state(&aws, "orders", "live").await,
        ("1".to_string(), Some(("2".to_string(), 0.2)))
    );
    let v2 = configuration(&aws, "orders", "2").await;
    assert_eq!(v2.memory_size(), Some(256));
    assert_eq!(
        variables(&v2),
        [("NEW".into(), SECRETS[1].into()), ("STAGE".into(), "prod".into())]
    );
    assert_eq!(v2.code_sha256(), v1.code_sha256(), "the code did not change");
    let v1_after = configuration(&aws, "orders", "1").await;
    assert_eq!(
        (v1_after.memory_size(), variables(&v1_after)),
        (v1.memory_size(), variables(&v1))
    );

    // Rollback returns to the version with the old configuration.
    let mut rollback = binary(Some(&aws));
    rollback.for_alias("rollback", "orders", "live");
    run(&mut rollback).assert_ok();
    assert_eq!(alias_state(&aws, "orders", "live").await, ("1".to_string(), None));

    // $LATEST now holds version 2's configuration, which the alias no longer
    // serves: a deploy without a file says which keys differ, publishes nothing.
    let mut plain = binary(Some(&aws));
    plain
        .for_alias("deploy", "orders", "live")
        .args(["--output", "json", "--source"])
        .arg(source.path());
    let plain = run(&mut plain);
    plain.assert_ok();
    assert_eq!(plain.json()["result"], "skipped");
    assert!(
        plain.stderr.contains("$LATEST's configuration differs from version 1's in MemorySize (128 → 256), Environment.Variables (added NEW; removed TOKEN): not published"),
        "{}",
        plain.stderr
    );
    for secret in SECRETS {
        assert!(!plain.stderr.contains(secret) && !plain.stdout.contains(secret));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_first_deploy_creates_the_function_from_its_configuration() {
    let aws = Emulator::start();
    let role = aws.create_role("fresh-role");
    let files = tempfile::tempdir().unwrap();
    let source = source_dir(V1);

    // Without Runtime and Handler, creating is refused by name: nothing sent.
    let partial = write(files.path(), "partial.json", &format!(r#"{{"Role": "{role}"}}"#));
    aws.start_recording();
    let (refused, _, _) = deploy_config(&aws, "fresh", source.path(), &partial, &[]);
    assert_eq!(refused.status, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("function fresh does not exist (or is in another region or account): to create it, --function-config must name Role, Runtime and Handler (missing: Runtime, Handler)"),
        "{}",
        refused.stderr
    );
    assert_eq!(aws.mutating(), Vec::<(String, String)>::new());

    let config = write(
        files.path(),
        "function.yaml",
        &format!(
            "Role: {role}\nRuntime: python3.12\nHandler: index.handler\nMemorySize: 256\nEnvironment:\n  Variables:\n    STAGE: prod\n    API_KEY: literal-SECRET-three\n"
        ),
    );
    let (created, outputs, summary) =
        deploy_config(&aws, "fresh", source.path(), &config, &["--canary-weight", "10%"]);
    created.assert_ok();
    let out = created.json();
    assert_eq!(out["result"], "created");
    assert!(
        summary.contains("function created with version 1, which serves 100%"),
        "{summary}"
    );
    assert_eq!(out["version"], "1");
    assert_eq!(out["canary-weight"], 1.0);
    assert_eq!(
        out["function-arn"],
        "arn:aws:lambda:us-east-1:123456789012:function:fresh"
    );
    assert_eq!(outputs, "created");
    assert_eq!(alias_state(&aws, "fresh", "live").await, ("1".to_string(), None));
    let v1 = configuration(&aws, "fresh", "1").await;
    assert_eq!(v1.runtime().map(|r| r.as_str()), Some("python3.12"));
    assert_eq!(
        (v1.handler(), v1.memory_size()),
        (Some("index.handler"), Some(256))
    );
    assert_eq!(
        variables(&v1),
        [
            ("API_KEY".into(), SECRETS[2].into()),
            ("STAGE".into(), "prod".into())
        ]
    );

    // Running the same job again changes nothing.
    let (again, _, _) = deploy_config(&aws, "fresh", source.path(), &config, &[]);
    assert_eq!(again.json()["result"], "skipped", "{}", again.stderr);
    assert_eq!(versions(&aws, "fresh").await, ["1"]);

    // status: runtime, memory, timeout and the variables' names only.
    let mut status = binary(Some(&aws));
    status.for_alias("status", "fresh", "live");
    let status = run(&mut status);
    status.assert_ok();
    assert!(
        status.stdout.contains(
            "runtime      python3.12, x86_64, memory 256 MB, timeout 3 s\n           environment  API_KEY, STAGE\n"
        ),
        "{}",
        status.stdout
    );
    assert!(!status.stdout.contains(SECRETS[2]));
}

#[tokio::test(flavor = "current_thread")]
async fn bad_configuration_input_exits_2_and_changes_nothing() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    let files = tempfile::tempdir().unwrap();
    let source = source_dir(V1);
    deploy(&aws, "orders", "live", source.path(), &[]).assert_ok();
    let other_role = aws.create_role("other-role");
    let changed = source_dir("def handler(event, context):\n    return 2\n");

    let file = |name: &str, text: &str| write(files.path(), name, text).display().to_string();
    let typo = file("typo.json", r#"{"MemorySzie": 256}"#);
    let wrong_type = file("type.json", r#"{"Timeout": "30s"}"#);
    let missing_var = file(
        "missing.json",
        r#"{"Environment": {"Variables": {"TOKEN": {"FromEnvironment": "NOT_SET_ANYWHERE"}}}}"#,
    );
    let new_role = file("role.json", &format!(r#"{{"Role": "{other_role}"}}"#));
    let image_only = file(
        "image-only.json",
        r#"{"ImageConfig": {"Command": ["app.handler"]}}"#,
    );
    let reserved = file(
        "reserved.json",
        r#"{"Environment": {"Variables": {"AWS_REGION": "eu-west-1"}}}"#,
    );
    let bad_name = file("name.yaml", "Environment:\n  Variables:\n    A-B: x\n");
    let too_big = file(
        "big.json",
        &format!(
            r#"{{"Environment": {{"Variables": {{"BIG": "{}", "TOKEN": {{"FromEnvironment": "DEPLOY_TOKEN"}}}}}}}}"#,
            "x".repeat(4100)
        ),
    );
    let empty_secret = file(
        "empty.json",
        r#"{"Environment": {"Variables": {"DB_PW": {"FromEnvironment": "EMPTY_SECRET"}}}}"#,
    );
    let error_only = file(
        "error.json",
        r#"{"Environment": {"Error": {"ErrorCode": "AccessDeniedException", "Message": "no kms:Decrypt"}}}"#,
    );
    let twice = file("twice.json", r#"{"MemorySize": 256, "MemorySize": 512}"#);
    let cases: Vec<(&str, Vec<String>, &str)> = vec![
        (
            "reserved variable",
            vec!["--function-config".into(), reserved],
            "Environment.Variables: `AWS_REGION` is reserved by Lambda's runtime and cannot be set",
        ),
        (
            "variable name Lambda refuses",
            vec!["--function-config".into(), bad_name],
            "Lambda refuses the name `A-B`",
        ),
        (
            "variables over 4 KB, in a dry run too",
            vec!["--function-config".into(), too_big, "--dry-run".into()],
            "over Lambda's limit of 4096 bytes",
        ),
        (
            "empty secret",
            vec!["--function-config".into(), empty_secret],
            "taken from the environment variable EMPTY_SECRET, which is empty",
        ),
        (
            "environment holding only Error",
            vec!["--function-config".into(), error_only],
            "key `Environment` holds only `Error`",
        ),
        (
            "key given twice",
            vec!["--function-config".into(), twice],
            "the key `MemorySize` appears twice",
        ),
        (
            "key typo",
            vec!["--function-config".into(), typo],
            "unknown key `MemorySzie`: the accepted keys are Runtime, Handler, Role, MemorySize",
        ),
        (
            "wrong type",
            vec!["--function-config".into(), wrong_type],
            "key `Timeout`: invalid type: string \"30s\", expected i32",
        ),
        (
            "missing variable",
            vec!["--function-config".into(), missing_var],
            "Environment.Variables.TOKEN is taken from the environment variable NOT_SET_ANYWHERE, which is not set",
        ),
        (
            "image configuration for a zip",
            vec!["--function-config".into(), image_only],
            "--function-config names ImageConfig for orders, whose code is a zip: ImageConfig is for image functions",
        ),
        (
            "not an ECR image",
            vec!["--image-uri".into(), "docker.io/library/python:3.12".into()],
            "is not an Amazon ECR image URI",
        ),
        (
            "role change at the default canary weight",
            vec!["--function-config".into(), new_role.clone()],
            "this release changes Role (arn:aws:iam::123456789012:role/orders-role → arn:aws:iam::123456789012:role/other-role) of orders: Lambda routes a weighted alias only between versions with the same execution role and dead-letter configuration",
        ),
        (
            "role change in a staged rollout",
            vec![
                "--function-config".into(),
                new_role.clone(),
                "--strategy".into(),
                "canary:10%:1s".into(),
            ],
            "Ship it all at once (--canary-weight 100%, or --strategy AllAtOnce)",
        ),
    ];
    let mut failures = Vec::new();
    for (name, args, message) in &cases {
        aws.start_recording();
        let mut command = binary(Some(&aws));
        command.for_alias("deploy", "orders", "live");
        if !args.contains(&"--image-uri".to_string()) {
            command.arg("--source").arg(changed.path());
        }
        command.env("EMPTY_SECRET", "").env("DEPLOY_TOKEN", SECRETS[0]);
        let result = run(command.args(args));
        let mutating = aws.mutating();
        let shows_a_value = [&result.stdout, &result.stderr]
            .iter()
            .any(|text| SECRETS.iter().any(|secret| text.contains(secret)) || text.contains("xxxxxxxx"));
        if result.status != 2 || !result.stderr.contains(message) || !mutating.is_empty() || shows_a_value {
            failures.push(format!(
                "{name}: status {}, mutating {mutating:?}, stderr:\n{}",
                result.status, result.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(versions(&aws, "orders").await, ["1"]);

    // The same role change all at once is shipped.
    let mut at_once = binary(Some(&aws));
    at_once
        .for_alias("deploy", "orders", "live")
        .args([
            "--output",
            "json",
            "--canary-weight",
            "100%",
            "--function-config",
            &new_role,
            "--source",
        ])
        .arg(changed.path());
    let shipped = run(&mut at_once);
    shipped.assert_ok();
    assert_eq!(alias_state(&aws, "orders", "live").await, ("2".to_string(), None));
    assert_eq!(
        configuration(&aws, "orders", "2").await.role(),
        Some(other_role.as_str())
    );

    // A configuration-only release through a staged rollout, like code.
    let memory = file("memory.json", r#"{"MemorySize": 640}"#);
    let mut staged = binary(Some(&aws));
    staged
        .for_alias("deploy", "orders", "live")
        .args([
            "--output",
            "json",
            "--strategy",
            "AllAtOnce",
            "--function-config",
            &memory,
            "--source",
        ])
        .arg(changed.path());
    let staged = run(&mut staged);
    staged.assert_ok();
    assert_eq!(staged.json()["configuration"], serde_json::json!(["MemorySize"]));
    assert_eq!(alias_state(&aws, "orders", "live").await, ("3".to_string(), None));
    let v3 = configuration(&aws, "orders", "3").await;
    assert_eq!(
        (v3.memory_size(), v3.role()),
        (Some(640), Some(other_role.as_str()))
    );
}

/// An image in the emulator's ECR: repository `app`, `tag`, one layer
/// whose digest is `layer` repeated. Returns the image's digest.
async fn push_image(aws: &Emulator, tag: &str, layer: char) -> String {
    let ecr = aws.ecr();
    let _ = ecr.create_repository().repository_name("app").send().await;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 100,
                   "digest": format!("sha256:{}", "c".repeat(64))},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 1,
                    "digest": format!("sha256:{}", layer.to_string().repeat(64))}]
    });
    ecr.put_image()
        .repository_name("app")
        .image_tag(tag)
        .image_manifest(manifest.to_string())
        .send()
        .await
        .unwrap()
        .image()
        .and_then(|i| i.image_id())
        .and_then(|id| id.image_digest())
        .unwrap()
        .to_string()
}

const REPOSITORY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app";

#[tokio::test(flavor = "current_thread")]
async fn an_image_function_gets_the_image_by_digest_and_refuses_a_zip() {
    let aws = Emulator::start();
    let digest = push_image(&aws, "v1", 'a').await;
    let role = aws.create_role("image-role");
    aws.lambda()
        .create_function()
        .function_name("images")
        .package_type(aws_sdk_lambda::types::PackageType::Image)
        .role(role)
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .image_uri(format!("{REPOSITORY}:v1"))
                .build(),
        )
        .send()
        .await
        .unwrap();
    create_function(&aws, "orders").await;

    let image_deploy = |function: &str, uri: &str| {
        let mut command = binary(Some(&aws));
        command
            .for_alias("deploy", function, "live")
            .args(["--output", "json", "--image-uri", uri]);
        run(&mut command)
    };
    let first = image_deploy("images", &format!("{REPOSITORY}:v1"));
    first.assert_ok();
    let out = first.json();
    assert_eq!(out["version"], "1", "{}", first.stderr);
    assert_eq!(out["code-sha256"], digest.trim_start_matches("sha256:"));
    let v1 = aws
        .lambda()
        .get_function()
        .function_name("images")
        .qualifier("1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        v1.code().and_then(|c| c.image_uri()),
        Some(format!("{REPOSITORY}@{digest}").as_str()),
        "the version holds the image by the digest that was compared"
    );

    let mut status = binary(Some(&aws));
    status.for_alias("status", "images", "live");
    let status = run(&mut status);
    status.assert_ok();
    assert!(
        status.stdout.contains(&format!("image        {REPOSITORY}")),
        "{}",
        status.stdout
    );

    // The wrong kind of code, and a tag ECR does not have: exit 2, no write.
    let zip = source_dir(V1);
    let cases = [
        (
            deploy(&aws, "images", "live", zip.path(), &[]),
            "function images runs a container image (package type Image): deploy it with --image-uri, not a zip",
        ),
        (
            image_deploy("orders", &format!("{REPOSITORY}:v1")),
            "function orders runs a zip (package type Zip): --image-uri is for image functions",
        ),
        (
            image_deploy("images", &format!("{REPOSITORY}:missing")),
            "ECR has no such image",
        ),
    ];
    aws.start_recording();
    for (result, message) in &cases {
        assert_eq!(result.status, 2, "{}", result.stderr);
        assert!(result.stderr.contains(message), "{}", result.stderr);
    }
    assert_eq!(versions(&aws, "images").await, ["1"]);

    // An image function that does not exist yet is created from the image.
    let files = tempfile::tempdir().unwrap();
    let config = write(
        files.path(),
        "image.json",
        &format!(
            r#"{{"Role": "{}", "MemorySize": 1024}}"#,
            aws.create_role("new-image-role")
        ),
    );
    let mut create = binary(Some(&aws));
    create
        .for_alias("deploy", "new-images", "live")
        .args([
            "--output",
            "json",
            "--image-uri",
            &format!("{REPOSITORY}:v1"),
            "--function-config",
        ])
        .arg(&config);
    let created = run(&mut create);
    created.assert_ok();
    assert_eq!(created.json()["result"], "created");
    let v1 = aws
        .lambda()
        .get_function()
        .function_name("new-images")
        .qualifier("1")
        .send()
        .await
        .unwrap();
    let configuration = v1.configuration().unwrap();
    assert_eq!(
        configuration.package_type(),
        Some(&aws_sdk_lambda::types::PackageType::Image)
    );
    assert_eq!(configuration.memory_size(), Some(1024));
    assert_eq!(
        v1.code().and_then(|c| c.image_uri()),
        Some(format!("{REPOSITORY}@{digest}").as_str())
    );
    assert_eq!(
        alias_state(&aws, "new-images", "live").await,
        ("1".to_string(), None)
    );
}

/// AWS's answer may quote what it was sent: Lambda's refusal of variables
/// over 4 KB quotes them all ("String measured: {…}"). The fault proxy
/// answers UpdateFunctionConfiguration that way (the emulator does not
/// enforce the limit, and the tool refuses a file over it before sending).
/// No value may appear in any output, and the refused configuration leaves
/// `$LATEST` as it was: the code is uploaded only after it is accepted.
#[tokio::test(flavor = "current_thread")]
async fn a_value_quoted_in_an_aws_error_is_never_shown_and_latest_keeps_its_code() {
    use crate::common::proxy::FaultProxy;

    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    let source = source_dir(V1);
    deploy(&aws, "orders", "live", source.path(), &[]).assert_ok();
    let latest_before = hash_of(&aws, "orders", "$LATEST").await;
    let files = tempfile::tempdir().unwrap();
    let config = write(
        files.path(),
        "function.json",
        r#"{"Environment": {"Variables": {"STAGE": "prod", "TOKEN": {"FromEnvironment": "DEPLOY_TOKEN"}, "API_KEY": "literal-SECRET-three", "QUOTE": "tok-SECRET-two \"quoted\""}}}"#,
    );
    let proxy = FaultProxy::start(&aws.endpoint);
    proxy.refuse_quoting("/configuration");
    let changed = source_dir("def handler(event, context):\n    return 2\n");
    let (output, summary) = (files.path().join("output"), files.path().join("summary"));
    let mut command = binary(Some(&aws));
    command
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("DEPLOY_TOKEN", SECRETS[0])
        .for_alias("deploy", "orders", "live")
        .args(["--output", "json", "--verbose", "--function-config"])
        .arg(&config)
        .arg("--source")
        .arg(changed.path());
    let result = run(&mut command);
    assert_eq!(result.status, 1, "{}", result.stderr);
    assert!(
        result.stderr.contains("InvalidParameterValueException") && result.stderr.contains("String measured"),
        "the refusal is reported: {}",
        result.stderr
    );
    assert!(
        result.stderr.contains("::error title=lambda-rollout::"),
        "{}",
        result.stderr
    );
    assert!(
        result.json()["error"]
            .as_str()
            .unwrap()
            .contains("String measured")
    );
    let [output, summary] = [output, summary].map(|p| std::fs::read_to_string(p).unwrap_or_default());
    for secret in SECRETS {
        for (what, text) in [
            ("stdout (JSON)", &result.stdout),
            ("stderr (narration and annotations)", &result.stderr),
            ("GITHUB_OUTPUT", &output),
            ("step summary", &summary),
        ] {
            assert!(!text.contains(secret), "{secret} appears in {what}:\n{text}");
        }
    }
    assert_eq!(
        hash_of(&aws, "orders", "$LATEST").await,
        latest_before,
        "a refused configuration leaves $LATEST's code as it was"
    );
    assert_eq!(versions(&aws, "orders").await, ["1"]);
}

/// `Tags` in the file: after the deploy, the function's tags are exactly
/// the file's (added, changed and removed keys listed in the report and the
/// `tags` output); the same file again changes nothing; a file without
/// `Tags` leaves them alone.
#[tokio::test(flavor = "current_thread")]
async fn tags_become_the_files_after_the_deploy() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    let lambda = aws.lambda();
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:orders";
    lambda
        .tag_resource()
        .resource(arn)
        .tags("owner", "ann")
        .tags("tier", "gold")
        .send()
        .await
        .unwrap();
    let tags_now = async || {
        let listed = lambda.list_tags().resource(arn).send().await.unwrap();
        let mut pairs: Vec<(String, String)> = listed
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        pairs.sort();
        pairs
    };
    let dir = tempfile::tempdir().unwrap();
    let source = source_dir(V1);
    let tagged = write(
        dir.path(),
        "function.yaml",
        "MemorySize: 256\nTags:\n  team: orders\n  tier: silver\n",
    );

    let (first, result, summary) = deploy_config(&aws, "orders", source.path(), &tagged, &[]);
    first.assert_ok();
    assert_eq!(result, "published");
    assert_eq!(
        first.json()["tags"],
        serde_json::json!([
            "added team=orders",
            "changed tier: gold → silver",
            "removed owner"
        ])
    );
    assert!(summary.contains("added team=orders"), "{summary}");
    assert!(
        first
            .stderr
            .contains("(the function's, not the version's: neither canaried nor rolled back)"),
        "{}",
        first.stderr
    );
    let wanted = [("team", "orders"), ("tier", "silver")].map(|(k, v)| (k.to_string(), v.to_string()));
    assert_eq!(tags_now().await, wanted);

    let (again, result, _) = deploy_config(&aws, "orders", source.path(), &tagged, &[]);
    again.assert_ok();
    assert_eq!(result, "skipped");
    assert_eq!(again.json()["tags"], serde_json::json!([]));
    assert!(
        again.stderr.contains("the tags of orders are as the file says"),
        "{}",
        again.stderr
    );

    let untagged = write(dir.path(), "plain.yaml", "MemorySize: 256\n");
    let (left, _, _) = deploy_config(&aws, "orders", source.path(), &untagged, &[]);
    left.assert_ok();
    assert_eq!(tags_now().await, wanted, "a file without Tags leaves them alone");

    // Tags that cannot be written: the release stands, and the run says so.
    let proxy = crate::common::proxy::FaultProxy::start(&aws.endpoint);
    proxy.deny("POST", "function%3Aorders", "lambda:TagResource");
    let retagged = write(
        dir.path(),
        "retag.yaml",
        "MemorySize: 512\nTags:\n  team: payments\n",
    );
    let mut denied = binary(Some(&aws));
    denied
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .for_alias("deploy", "orders", "live")
        .args(["--canary-weight", "100%", "--source"])
        .arg(source.path())
        .arg("--function-config")
        .arg(&retagged);
    let denied = run(&mut denied);
    assert_eq!(denied.status, 1, "{}", denied.stderr);
    assert!(
        denied
            .stderr
            .contains("the deploy succeeded (published, version 2), but the tags were not written"),
        "{}",
        denied.stderr
    );
    assert_eq!(tags_now().await, wanted);

    let refused = write(dir.path(), "aws.yaml", "Tags:\n  aws:owner: me\n");
    let (bad, _, _) = deploy_config(&aws, "orders", source.path(), &refused, &[]);
    assert_eq!(bad.status, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("keys starting with aws: are AWS's own"),
        "{}",
        bad.stderr
    );
    assert_eq!(tags_now().await, wanted);
}

/// `{"FromParameter": NAME}`: values read from Parameter Store (a String and
/// a SecureString, decrypted) are deployed and never shown; the same release
/// again is skipped; a parameter that does not exist stops the deploy (exit
/// 2) naming it, before any write.
#[tokio::test(flavor = "current_thread")]
async fn values_from_parameter_store_are_deployed_and_never_shown() {
    use aws_sdk_ssm::types::ParameterType;
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    let ssm = aws_sdk_ssm::Client::new(&aws.sdk_config());
    let values = [
        (
            "/orders/prod/db-url",
            "postgres://param-SECRET-db",
            ParameterType::SecureString,
        ),
        ("/orders/prod/stage", "param-SECRET-stage", ParameterType::String),
    ];
    for (name, value, kind) in &values {
        ssm.put_parameter()
            .name(*name)
            .value(*value)
            .r#type(kind.clone())
            .send()
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let source = source_dir(V1);
    let config = write(
        dir.path(),
        "function.yaml",
        "Environment:\n  Variables:\n    DB_URL: {FromParameter: /orders/prod/db-url}\n    STAGE: {FromParameter: /orders/prod/stage}\n    PLAIN: plain\n",
    );
    let never_shown = |run: &Run, files: &str| {
        for (_, value, _) in &values {
            for text in [&run.stdout, &run.stderr, &files.to_string()] {
                assert!(!text.contains(value), "{value} shown:\n{text}");
            }
        }
    };

    let (first, result, summary) = deploy_config(
        &aws,
        "orders",
        source.path(),
        &config,
        &["--canary-weight", "100%"],
    );
    first.assert_ok();
    assert_eq!(result, "published");
    never_shown(&first, &summary);
    assert!(
        first.stderr.contains("reading 2 parameters from Parameter Store"),
        "{}",
        first.stderr
    );
    let version = aws
        .lambda()
        .get_function_configuration()
        .function_name("orders")
        .qualifier("1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        variables(&version),
        [
            ("DB_URL", "postgres://param-SECRET-db"),
            ("PLAIN", "plain"),
            ("STAGE", "param-SECRET-stage")
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );

    let (again, result, summary) = deploy_config(&aws, "orders", source.path(), &config, &[]);
    again.assert_ok();
    assert_eq!(result, "skipped", "{}", again.stderr);
    never_shown(&again, &summary);

    let missing = write(
        dir.path(),
        "missing.yaml",
        "MemorySize: 512\nEnvironment:\n  Variables:\n    DB_URL: {FromParameter: /orders/prod/db-url}\n    GONE: {FromParameter: /orders/prod/gone}\n",
    );
    let (refused, _, summary) = deploy_config(&aws, "orders", source.path(), &missing, &[]);
    assert_eq!(refused.status, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("Parameter Store has no parameter /orders/prod/gone that this caller may read"),
        "{}",
        refused.stderr
    );
    never_shown(&refused, &summary);
    let latest = aws
        .lambda()
        .get_function_configuration()
        .function_name("orders")
        .send()
        .await
        .unwrap();
    assert_eq!(latest.memory_size(), Some(128), "nothing was written");
}

/// One parameter by version and by label beside its current value, as
/// during a key rotation: `/orders/key` (current, version 2),
/// `/orders/key:1` and `/orders/key:blue` (a label on version 1) each
/// deploy their own value.
#[tokio::test(flavor = "current_thread")]
async fn a_parameter_by_version_and_label_gets_its_own_value() {
    use aws_sdk_ssm::types::ParameterType;
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    let ssm = aws_sdk_ssm::Client::new(&aws.sdk_config());
    for value in ["key-SECRET-one", "key-SECRET-two"] {
        ssm.put_parameter()
            .name("/orders/key")
            .value(value)
            .r#type(ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .unwrap();
    }
    ssm.label_parameter_version()
        .name("/orders/key")
        .parameter_version(1)
        .labels("blue")
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let source = source_dir(V1);
    let config = write(
        dir.path(),
        "function.yaml",
        "Environment:\n  Variables:\n    KEY_CURRENT: {FromParameter: /orders/key}\n    KEY_PREVIOUS: {FromParameter: '/orders/key:1'}\n    KEY_BLUE: {FromParameter: '/orders/key:blue'}\n",
    );
    let (first, result, _) = deploy_config(
        &aws,
        "orders",
        source.path(),
        &config,
        &["--canary-weight", "100%"],
    );
    first.assert_ok();
    assert_eq!(result, "published");
    assert_eq!(
        variables(&configuration(&aws, "orders", "1").await),
        [
            ("KEY_BLUE", "key-SECRET-one"),
            ("KEY_CURRENT", "key-SECRET-two"),
            ("KEY_PREVIOUS", "key-SECRET-one")
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
}
