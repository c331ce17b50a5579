//! `--manifest`: several functions in one run against the local emulator.

use std::path::Path;

use crate::common::*;

fn write(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
}

/// A monorepo: three functions' sources and a manifest beside them.
fn monorepo(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["orders", "users", "billing"] {
        write(
            &dir.path().join(format!("fns/{name}/index.py")),
            &format!("def handler(e, c): return '{name} 1'\n"),
        );
    }
    let manifest = format!(
        r#"
[defaults]
alias = "live"
exclude = ["*.md"]

[[functions]]
name = "orders"
source = "fns/orders"

[[functions]]
name = "users"
source = "fns/users"
canary-weight = "50%"

[[functions]]
name = "billing"
source = "fns/billing"
{extra}
"#
    );
    write(&dir.path().join("lambda-rollout.toml"), &manifest);
    dir
}

fn manifest_command(aws: &Emulator, repo: &Path, command: &str, extra: &[&str]) -> Run {
    let mut cmd = binary(Some(aws));
    cmd.args([command, "--output", "json", "--manifest"])
        .arg(repo.join("lambda-rollout.toml"))
        .args(extra);
    run(&mut cmd)
}

#[tokio::test(flavor = "current_thread")]
async fn a_manifest_deploys_promotes_and_rolls_back_every_function() {
    let aws = Emulator::start();
    for name in ["orders", "users", "billing"] {
        create_function(&aws, name).await;
    }
    let repo = monorepo("");
    let first = manifest_command(&aws, repo.path(), "deploy", &[]);
    first.assert_ok();
    let results = first.json();
    assert_eq!(results.as_array().unwrap().len(), 3);
    for name in ["orders", "users", "billing"] {
        assert_eq!(
            alias_state(&aws, name, "live").await,
            ("1".into(), None),
            "{name}"
        );
    }

    // Change two of them: orders gets the default 10 %, users its 50 %; billing is skipped.
    write(
        &repo.path().join("fns/orders/index.py"),
        "def handler(e, c): return 'orders 2'\n",
    );
    write(
        &repo.path().join("fns/users/index.py"),
        "def handler(e, c): return 'users 2'\n",
    );
    let output = tempfile::NamedTempFile::new().unwrap();
    let mut second = binary(Some(&aws));
    second
        .args(["deploy", "--output", "json", "--manifest"])
        .arg(repo.path().join("lambda-rollout.toml"))
        .env("GITHUB_OUTPUT", output.path());
    let second = run(&mut second);
    second.assert_ok();
    let results: Vec<String> = second
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        results,
        ["published", "published", "skipped"],
        "in manifest order"
    );
    assert_eq!(
        alias_state(&aws, "orders", "live").await,
        ("1".into(), Some(("2".into(), 0.1)))
    );
    assert_eq!(
        alias_state(&aws, "users", "live").await,
        ("1".into(), Some(("2".into(), 0.5)))
    );
    let outputs = parse_github_output(&std::fs::read_to_string(output.path()).unwrap());
    let array: serde_json::Value = serde_json::from_str(&outputs["results"]).unwrap();
    assert_eq!(array[2]["skipped"], true);
    assert_eq!(outputs["failed"], "");

    let promoted = manifest_command(&aws, repo.path(), "promote", &[]);
    let results: Vec<String> = promoted
        .assert_ok()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(results, ["promoted", "promoted", "skipped"]);
    assert_eq!(alias_state(&aws, "users", "live").await, ("2".into(), None));

    let rolled = manifest_command(&aws, repo.path(), "rollback", &[]);
    rolled.assert_ok();
    assert_eq!(alias_state(&aws, "orders", "live").await, ("1".into(), None));
    assert_eq!(alias_state(&aws, "users", "live").await, ("1".into(), None));
    assert_eq!(alias_state(&aws, "billing", "live").await, ("1".into(), None));
}

#[tokio::test(flavor = "current_thread")]
async fn one_failure_does_not_stop_the_others_unless_fail_fast() {
    use crate::common::proxy::FaultProxy;

    // A missing function is found by preflight: nothing is written anywhere.
    let aws = Emulator::start();
    for name in ["orders", "billing"] {
        create_function(&aws, name).await;
    }
    let repo = monorepo("");
    let refused = manifest_command(&aws, repo.path(), "deploy", &[]);
    assert_eq!(refused.status, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("users:live: function users does not exist"),
        "{}",
        refused.stderr
    );
    assert!(
        aws.lambda()
            .get_alias()
            .function_name("orders")
            .name("live")
            .send()
            .await
            .is_err()
    );

    // users' upload is refused by AWS (access denied): the others still deploy.
    create_function(&aws, "users").await;
    let proxy = FaultProxy::start(&aws.endpoint);
    proxy.deny("PUT", "/functions/users/code", "lambda:UpdateFunctionCode");
    let output = tempfile::NamedTempFile::new().unwrap();
    let mut command = binary(Some(&aws));
    command
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .args(["deploy", "--output", "json", "--manifest"])
        .arg(repo.path().join("lambda-rollout.toml"))
        .env("GITHUB_OUTPUT", output.path());
    let result = run(&mut command);
    assert_eq!(result.status, 1, "{}", result.stderr);
    let results = result.json();
    assert_eq!(results[0]["result"], "published");
    assert_eq!(results[1]["function-name"], "users");
    assert!(
        results[1]["error"]
            .as_str()
            .unwrap()
            .contains("lambda:UpdateFunctionCode"),
        "{results}"
    );
    assert_eq!(results[2]["result"], "published", "billing still deployed");
    assert!(
        result
            .stderr
            .contains("1 of 3 targets failed; failed: users:live"),
        "{}",
        result.stderr
    );
    assert_eq!(
        parse_github_output(&std::fs::read_to_string(output.path()).unwrap())["failed"],
        "users:live"
    );

    // --fail-fast, one at a time: billing (after users) is not started.
    let aws = Emulator::start();
    for name in ["orders", "users", "billing"] {
        create_function(&aws, name).await;
    }
    let proxy = FaultProxy::start(&aws.endpoint);
    proxy.deny("PUT", "/functions/users/code", "lambda:UpdateFunctionCode");
    let mut fast = binary(Some(&aws));
    fast.env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .args([
            "deploy",
            "--output",
            "json",
            "--fail-fast",
            "--concurrency",
            "1",
            "--manifest",
        ])
        .arg(repo.path().join("lambda-rollout.toml"));
    let fast = run(&mut fast);
    assert_eq!(fast.status, 1);
    assert!(
        fast.json()[2]["error"].as_str().unwrap().contains("not started"),
        "{}",
        fast.stdout
    );
    assert!(
        aws.lambda()
            .get_alias()
            .function_name("billing")
            .name("live")
            .send()
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "current_thread")]
async fn requests_are_paced_and_a_bad_manifest_sends_nothing() {
    let aws = Emulator::start();
    for name in ["orders", "users", "billing"] {
        create_function(&aws, name).await;
    }
    let repo = monorepo("");
    manifest_command(&aws, repo.path(), "deploy", &[]).assert_ok();
    // Three no-op deploys make 3 control-plane calls (GetAlias) and 3
    // GetFunction reads, which AWS counts apart and are paced separately at
    // 80/s. At 1 control-plane call per second the three GetAlias cannot take
    // less than 2 s.
    let started = std::time::Instant::now();
    manifest_command(
        &aws,
        repo.path(),
        "deploy",
        &["--max-requests-per-second", "1", "--concurrency", "3"],
    )
    .assert_ok();
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(1900),
        "{:?}",
        started.elapsed()
    );

    aws.start_recording();
    let bad = monorepo("canary-weight = \"150%\"");
    let refused = manifest_command(&aws, bad.path(), "deploy", &[]);
    assert_eq!(refused.status, 2);
    assert!(
        refused
            .stderr
            .contains("functions[2] (billing): '150%' is not a weight"),
        "{}",
        refused.stderr
    );
    let mixed = manifest_command(&aws, repo.path(), "deploy", &["--canary-weight", "10%"]);
    assert_eq!(mixed.status, 2);
    assert!(mixed.stderr.contains("go in the manifest"), "{}", mixed.stderr);
    assert!(aws.mutating().is_empty());
}

/// 20 functions behind a proxy that enforces Lambda's control-plane quota
/// (15 calls in any one second per account-region, no burst, 429 with
/// `retryAfterSeconds`): at the default pace no second carries more than the
/// pace allows, nothing is throttled and no function fails; at 15/s, any
/// throttle met is waited out and still no function fails. (How long such a
/// run takes against the quota bound is measured in bench/, not here.)
#[tokio::test(flavor = "current_thread")]
async fn a_manifest_keeps_under_the_quota_in_every_second_and_waits_out_a_throttle() {
    use crate::common::proxy::FaultProxy;

    let aws = Emulator::start();
    let repo = tempfile::tempdir().unwrap();
    let mut manifest = String::from("[defaults]\nalias = \"live\"\n");
    for n in 0..20 {
        let name = format!("fn{n:02}");
        create_function(&aws, &name).await;
        write(
            &repo.path().join(format!("fns/{name}/index.py")),
            &format!("def handler(e, c): return {n}\n"),
        );
        manifest.push_str(&format!(
            "\n[[functions]]\nname = \"{name}\"\nsource = \"fns/{name}\"\n"
        ));
    }
    write(&repo.path().join("lambda-rollout.toml"), &manifest);
    let proxy = FaultProxy::start(&aws.endpoint);
    let through_proxy = |extra: &[&str]| {
        let mut command = binary(Some(&aws));
        command
            .env("AWS_ENDPOINT_URL", &proxy.endpoint)
            .args(["deploy", "--output", "json", "--concurrency", "20", "--manifest"])
            .arg(repo.path().join("lambda-rollout.toml"))
            .args(extra);
        run(&mut command)
    };

    proxy.enforce_quota(15);
    let paced = through_proxy(&[]);
    paced.assert_ok();
    let (throttled, busiest) = proxy.quota_seen();
    assert_eq!(throttled, 0, "at the default 10/s nothing is throttled");
    assert!(
        busiest <= 11,
        "{busiest} calls within one second at a pace of 10/s"
    );
    assert!(
        paced
            .json()
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["result"] == "published")
    );

    // New code for every function, at the quota's own rate.
    for n in 0..20 {
        write(
            &repo.path().join(format!("fns/fn{n:02}/index.py")),
            &format!("def handler(e, c): return {}\n", n + 100),
        );
    }
    proxy.enforce_quota(15);
    let at_quota = through_proxy(&["--max-requests-per-second", "15"]);
    at_quota.assert_ok();
    let (_, busiest) = proxy.quota_seen();
    assert!(busiest <= 15, "{busiest} calls within one second");
    let results = at_quota.json();
    assert!(
        results
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["result"] == "published"),
        "{results}"
    );
    assert_eq!(alias_state(&aws, "fn07", "live").await.1, Some(("2".into(), 0.1)));
}
