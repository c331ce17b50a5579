//! `promote`, `rollback` and `status` against the local AWS emulator, for each
//! state: canary present or not, rollback target recorded or not, versions
//! deleted in between. Each test asserts the alias afterwards.

use crate::common::*;

fn code(n: u32) -> tempfile::TempDir {
    source_dir(&format!("def handler(event, context):\n    return {n}\n"))
}

/// `lambda-rollout <command> --function-name orders --alias <alias> --output json <extra>`
fn command(aws: &Emulator, name: &str, alias: &str, extra: &[&str]) -> Run {
    let mut command = binary(Some(aws));
    command
        .for_alias(name, "orders", alias)
        .args(["--output", "json"])
        .args(extra);
    run(&mut command)
}

/// orders:live on version 1, with version 2 as a 10 % canary.
async fn with_canary(aws: &Emulator) {
    create_function(aws, "orders").await;
    deploy(aws, "orders", "live", code(1).path(), &[]).assert_ok();
    deploy(aws, "orders", "live", code(2).path(), &["--canary-weight", "10%"]).assert_ok();
    assert_eq!(
        alias_state(aws, "orders", "live").await,
        ("1".into(), Some(("2".into(), 0.1)))
    );
}

#[tokio::test(flavor = "current_thread")]
async fn promote_steps_the_canary_then_makes_it_primary_and_a_rerun_changes_nothing() {
    let aws = Emulator::start();
    with_canary(&aws).await;

    let half = command(&aws, "promote", "live", &["--weight", "50%"]);
    assert_eq!(half.assert_ok().json()["result"], "reweighted");
    assert_eq!(
        alias_state(&aws, "orders", "live").await,
        ("1".into(), Some(("2".into(), 0.5)))
    );

    let full = command(&aws, "promote", "live", &[]);
    let out = full.assert_ok().json();
    assert_eq!(out["result"], "promoted");
    assert_eq!(out["version"], "2");
    assert_eq!(out["previous-version"], "1");
    assert_eq!(alias_state(&aws, "orders", "live").await, ("2".into(), None));

    aws.start_recording();
    let again = command(&aws, "promote", "live", &[]);
    assert!(aws.mutating().is_empty(), "nothing to promote: no write");
    assert_eq!(again.assert_ok().json()["skipped"], true);
    assert!(again.stderr.contains("nothing to promote"), "{}", again.stderr);
}

#[tokio::test(flavor = "current_thread")]
async fn rollback_drops_the_canary_and_a_rerun_of_the_same_job_does_not_go_further() {
    let aws = Emulator::start();
    with_canary(&aws).await;
    // Promote 2 over 1 (recorded), then deploy a new canary 3.
    command(&aws, "promote", "live", &[]).assert_ok();
    deploy(
        &aws,
        "orders",
        "live",
        code(3).path(),
        &["--canary-weight", "20%"],
    )
    .assert_ok();
    assert_eq!(
        alias_state(&aws, "orders", "live").await,
        ("2".into(), Some(("3".into(), 0.2)))
    );

    let first = command(&aws, "rollback", "live", &[]);
    let out = first.assert_ok().json();
    assert_eq!(out["result"], "rolled-back");
    assert_eq!(out["version"], "2");
    assert_eq!(out["previous-version"], "3");
    assert_eq!(alias_state(&aws, "orders", "live").await, ("2".into(), None));

    aws.start_recording();
    let rerun = command(&aws, "rollback", "live", &[]);
    assert!(
        aws.mutating().is_empty(),
        "a re-run must not also undo the promotion of 2"
    );
    assert_eq!(rerun.assert_ok().json()["result"], "skipped");
    assert!(rerun.stderr.contains("use --to-version 1"), "{}", rerun.stderr);
    assert_eq!(alias_state(&aws, "orders", "live").await, ("2".into(), None));
}

#[tokio::test(flavor = "current_thread")]
async fn rollback_returns_to_the_real_previous_version_not_n_minus_one() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    deploy(&aws, "orders", "live", code(1).path(), &[]).assert_ok();
    // Versions 2 and 3 are published for another alias in between.
    deploy(&aws, "orders", "staging", code(2).path(), &[]).assert_ok();
    deploy(
        &aws,
        "orders",
        "staging",
        code(3).path(),
        &["--canary-weight", "100%"],
    )
    .assert_ok();
    // live switches at once from 1 to new code (version 4).
    let switched = deploy(
        &aws,
        "orders",
        "live",
        code(4).path(),
        &["--canary-weight", "100%"],
    );
    assert_eq!(switched.assert_ok().json()["version"], "4");

    let status = command(&aws, "status", "live", &[]);
    assert_eq!(status.assert_ok().json()["rollback-to"], "1");

    let back = command(&aws, "rollback", "live", &[]);
    assert_eq!(back.assert_ok().json()["version"], "1");
    assert_eq!(back.json()["previous-version"], "4");
    assert_eq!(alias_state(&aws, "orders", "live").await, ("1".into(), None));

    aws.start_recording();
    let rerun = command(&aws, "rollback", "live", &[]);
    assert!(aws.mutating().is_empty());
    assert!(rerun.stderr.contains("nothing to roll back"), "{}", rerun.stderr);
}

#[tokio::test(flavor = "current_thread")]
async fn rollback_to_a_deleted_recorded_version_is_refused_and_to_version_works() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    deploy(&aws, "orders", "live", code(1).path(), &[]).assert_ok();
    deploy(
        &aws,
        "orders",
        "live",
        code(2).path(),
        &["--canary-weight", "100%"],
    )
    .assert_ok();
    deploy(
        &aws,
        "orders",
        "live",
        code(3).path(),
        &["--canary-weight", "100%"],
    )
    .assert_ok();
    // The recorded target (2) is deleted.
    aws.lambda()
        .delete_function()
        .function_name("orders")
        .qualifier("2")
        .send()
        .await
        .unwrap();

    aws.start_recording();
    let refused = command(&aws, "rollback", "live", &[]);
    assert_eq!(refused.status, 1, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("version 2, recorded as the version live before the last promotion"),
        "{}",
        refused.stderr
    );
    assert!(aws.mutating().is_empty());
    assert_eq!(alias_state(&aws, "orders", "live").await, ("3".into(), None));

    let explicit = command(&aws, "rollback", "live", &["--to-version", "1"]);
    assert_eq!(explicit.assert_ok().json()["version"], "1");
    assert_eq!(alias_state(&aws, "orders", "live").await, ("1".into(), None));
}

#[tokio::test(flavor = "current_thread")]
async fn promote_from_alias_copies_what_staging_serves_into_prod() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    deploy(&aws, "orders", "prod", code(1).path(), &[]).assert_ok();
    deploy(&aws, "orders", "staging", code(2).path(), &[]).assert_ok();

    let promoted = command(&aws, "promote", "prod", &["--from-alias", "staging"]);
    let out = promoted.assert_ok().json();
    assert_eq!(out["result"], "promoted");
    assert_eq!(out["version"], "2");
    assert_eq!(out["previous-version"], "1");
    assert_eq!(alias_state(&aws, "orders", "prod").await, ("2".into(), None));
    assert_eq!(command(&aws, "status", "prod", &[]).json()["rollback-to"], "1");

    let explicit = command(&aws, "promote", "prod", &["--version", "1"]);
    assert_eq!(explicit.assert_ok().json()["version"], "1");
    assert_eq!(alias_state(&aws, "orders", "prod").await, ("1".into(), None));
}

#[tokio::test(flavor = "current_thread")]
async fn status_shows_versions_weights_hashes_and_descriptions() {
    let aws = Emulator::start();
    with_canary(&aws).await;
    let status = command(&aws, "status", "live", &[]);
    let out = status.assert_ok().json();
    assert_eq!(out["primary"]["version"], "1");
    assert_eq!(out["canary"]["version"], "2");
    assert_eq!(out["canary"]["weight"], 0.1);
    assert_eq!(out["rollback-to"], "1");
    let v2 = aws
        .lambda()
        .get_function_configuration()
        .function_name("orders")
        .qualifier("2")
        .send()
        .await
        .unwrap();
    assert_eq!(out["canary"]["code-sha256"], v2.code_sha256().unwrap());
    assert_eq!(out["canary"]["description"], "deployed by lambda-rollout");
    assert_eq!(out["version"], "2");
    assert_eq!(out["previous-version"], "1");

    let mut text = binary(Some(&aws));
    text.args(["status", "--function-name", "orders", "--alias", "live"]);
    let text = run(&mut text);
    assert!(
        text.assert_ok()
            .stdout
            .starts_with("orders:live serves 1 (90%) + 2 (10%)"),
        "{}",
        text.stdout
    );
}

#[tokio::test(flavor = "current_thread")]
async fn requests_that_do_not_fit_the_alias_are_refused_and_change_nothing() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    deploy(&aws, "orders", "live", code(1).path(), &[]).assert_ok();
    aws.start_recording();
    let cases: &[(&str, &[&str], i32, &str)] = &[
        ("promote", &["--weight", "50%"], 2, "--weight needs a canary"),
        (
            "promote",
            &["--version", "9"],
            2,
            "version 9 of orders does not exist",
        ),
        (
            "promote",
            &["--version", "$LATEST"],
            2,
            "'$LATEST' is not a published version number",
        ),
        (
            "promote",
            &["--from-alias", "live"],
            2,
            "--from-alias live is the alias being promoted",
        ),
        (
            "promote",
            &["--from-alias", "nope"],
            2,
            "alias orders:nope does not exist",
        ),
        (
            "rollback",
            &["--to-version", "7"],
            2,
            "version 7 of orders does not exist",
        ),
        (
            "rollback",
            &["--to-version", "abc"],
            2,
            "'abc' is not a published version number",
        ),
    ];
    for (name, extra, status, message) in cases {
        let result = command(&aws, name, "live", extra);
        assert_eq!(result.status, *status, "{name} {extra:?}: {}", result.stderr);
        assert!(
            result.stderr.contains(message),
            "{name} {extra:?}: {}",
            result.stderr
        );
    }
    let missing = command(&aws, "rollback", "ghost-alias", &[]);
    assert_eq!(missing.status, 1);
    assert!(
        missing.stderr.contains("alias orders:ghost-alias does not exist"),
        "{}",
        missing.stderr
    );
    assert!(aws.mutating().is_empty());
    assert_eq!(alias_state(&aws, "orders", "live").await, ("1".into(), None));
}

#[tokio::test(flavor = "current_thread")]
async fn dry_run_promote_and_rollback_change_nothing() {
    let aws = Emulator::start();
    with_canary(&aws).await;
    aws.start_recording();
    for name in ["promote", "rollback"] {
        let result = command(&aws, name, "live", &["--dry-run"]);
        assert!(
            result
                .assert_ok()
                .stderr
                .contains("[dry-run] would point alias live"),
            "{}",
            result.stderr
        );
        assert_eq!(result.json()["dry-run"], true);
    }
    assert!(aws.mutating().is_empty());
    assert_eq!(
        alias_state(&aws, "orders", "live").await,
        ("1".into(), Some(("2".into(), 0.1)))
    );
}

#[tokio::test(flavor = "current_thread")]
async fn every_command_writes_every_output() {
    let aws = Emulator::start();
    with_canary(&aws).await;
    let manifest = tempfile::tempdir().unwrap();
    let manifest_file = manifest.path().join("lambda-rollout.toml");
    std::fs::write(
        &manifest_file,
        "[[functions]]\nname = \"orders\"\nalias = \"live\"\n",
    )
    .unwrap();
    let expected = [
        "function-arn",
        "alias-arn",
        "version",
        "previous-version",
        "code-sha256",
        "skipped",
        "canary-weight",
        "result",
        "dry-run",
        "rollback-reason",
        "deployment-id",
        "pruned",
        "prune-error",
        "function-url",
        "bypasses",
        "configuration",
        "results",
        "failed",
    ];
    let new_code = code(3);
    let runs: [(&str, Vec<String>); 5] = [
        ("status", vec![]),
        ("promote", vec!["--weight".into(), "50%".into()]),
        ("rollback", vec![]),
        (
            "deploy",
            vec!["--source".into(), new_code.path().display().to_string()],
        ),
        ("rollback --manifest", vec![]),
    ];
    for (name, extra) in runs {
        let outputs_file = tempfile::NamedTempFile::new().unwrap();
        let mut command = binary(Some(&aws));
        match name.split_once(' ') {
            Some((command_name, _)) => command.args([command_name, "--manifest"]).arg(&manifest_file),
            None => command.for_alias(name, "orders", "live"),
        };
        command.args(extra).env("GITHUB_OUTPUT", outputs_file.path());
        run(&mut command).assert_ok();
        let outputs = parse_github_output(&std::fs::read_to_string(outputs_file.path()).unwrap());
        let keys: Vec<&str> = outputs.keys().map(String::as_str).collect();
        for key in expected {
            assert!(keys.contains(&key), "{name} does not write {key}: {keys:?}");
        }
        let results: serde_json::Value = serde_json::from_str(&outputs["results"]).unwrap();
        assert_eq!(results.as_array().map(Vec::len), Some(1), "{name}: {results}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn promote_into_a_stage_that_does_not_exist_yet_creates_it() {
    let aws = Emulator::start();
    with_canary(&aws).await;
    // staging → prod, the first time: prod is created on what live serves.
    aws.start_recording();
    let planned = command(&aws, "promote", "prod", &["--from-alias", "live", "--dry-run"]);
    planned.assert_ok();
    assert_eq!(planned.json()["result"], "created");
    assert!(
        planned.stderr.contains("would create alias prod on version 1"),
        "{}",
        planned.stderr
    );
    assert!(aws.mutating().is_empty(), "a dry run creates nothing");
    let created = command(&aws, "promote", "prod", &["--from-alias", "live"]);
    created.assert_ok();
    let report = created.json();
    assert_eq!(
        (
            report["result"].as_str(),
            report["version"].as_str(),
            report["canary-weight"].as_f64()
        ),
        (Some("created"), Some("1"), Some(1.0))
    );
    assert!(
        report["alias-arn"].as_str().unwrap().ends_with(":prod"),
        "{report}"
    );
    assert_eq!(alias_state(&aws, "orders", "prod").await, ("1".into(), None));
    // --version creates one too; a rerun promotes the existing alias as usual.
    command(&aws, "promote", "qa", &["--version", "2"]).assert_ok();
    assert_eq!(alias_state(&aws, "orders", "qa").await, ("2".into(), None));
    let again = command(&aws, "promote", "qa", &["--version", "2"]).json();
    assert_eq!(again["skipped"], true, "{again}");
    // Nothing was live before qa: rollback says there is nothing to return to.
    let rollback = command(&aws, "rollback", "qa", &[]);
    rollback.assert_ok();
    assert!(
        rollback.stderr.contains("nothing to roll back"),
        "{}",
        rollback.stderr
    );
    assert_eq!(rollback.json()["result"], "skipped");
    assert_eq!(alias_state(&aws, "orders", "qa").await, ("2".into(), None));
    // Without a version to create it on, promote still refuses a missing alias.
    let canary_only = command(&aws, "promote", "stage", &[]);
    assert_eq!(canary_only.status, 1);
    assert!(
        canary_only.stderr.contains("promote --version N"),
        "{}",
        canary_only.stderr
    );
}

/// The alias's description as the SDK reads it.
async fn description(aws: &Emulator, alias: &str) -> String {
    aws.lambda()
        .get_alias()
        .function_name("orders")
        .name(alias)
        .send()
        .await
        .unwrap()
        .description()
        .unwrap_or_default()
        .to_string()
}

/// A staged rollout that is undone leaves the record of the promotion before
/// it (rollback target, status, prune's protection); the `canary-removed`
/// mark it leaves is dropped once a later canary is routed, so that canary
/// coming and going does not block returning to the recorded version; and
/// the user's own text around the record survives every rewrite.
#[tokio::test(flavor = "current_thread")]
async fn an_undone_rollout_keeps_the_record_and_a_later_canary_clears_its_mark() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    deploy(&aws, "orders", "live", code(1).path(), &[]).assert_ok();
    deploy(
        &aws,
        "orders",
        "live",
        code(2).path(),
        &["--canary-weight", "100%"],
    )
    .assert_ok();
    aws.lambda()
        .update_alias()
        .function_name("orders")
        .name("live")
        .description("orders API [lambda-rollout rollback-to=1 promoted=2] on-call: team-a")
        .send()
        .await
        .unwrap();

    // Version 3 goes all the way to 100 %, then its post-traffic hook fails.
    let undone = deploy(
        &aws,
        "orders",
        "live",
        code(3).path(),
        &["--strategy", "AllAtOnce", "--post-traffic-hook", "exit 3"],
    );
    assert_eq!(undone.status, 1, "{}", undone.stderr);
    assert_eq!(undone.json()["result"], "rolled-back");
    assert_eq!(alias_state(&aws, "orders", "live").await, ("2".into(), None));
    assert_eq!(
        description(&aws, "live").await,
        "orders API on-call: team-a [lambda-rollout rollback-to=1 promoted=2 canary-removed=3]"
    );
    let status = command(&aws, "status", "live", &[]);
    let out = status.assert_ok().json();
    assert_eq!(
        (&out["recorded-rollback-to"], &out["canary-removed"]),
        (&serde_json::json!("1"), &serde_json::json!("3"))
    );
    let mut text = binary(Some(&aws));
    text.for_alias("status", "orders", "live");
    let text = run(&mut text);
    assert!(
        text.assert_ok()
            .stdout
            .contains("the failed release, canary version 3, was already taken out (by a rollback, or by its own rollout rolling back), and version 2, the release before it, serves alone; --to-version 1 goes back further, to the version live before the last promotion"),
        "{}",
        text.stdout
    );
    let mut prune = binary(Some(&aws));
    prune.args([
        "prune",
        "--function-name",
        "orders",
        "--keep",
        "0",
        "--output",
        "json",
    ]);
    run(&mut prune).assert_ok();
    let left = versions(&aws, "orders").await;
    assert!(
        left.contains(&"1".to_string()),
        "the recorded version stays: {left:?}"
    );

    // A rollback re-run after the undone rollout does not undo the promotion…
    let again = command(&aws, "rollback", "live", &[]);
    assert_eq!(again.assert_ok().json()["result"], "skipped");
    assert!(again.stderr.contains("use --to-version 1"), "{}", again.stderr);

    // …but once a later canary came and went, rollback returns to version 1.
    deploy(
        &aws,
        "orders",
        "live",
        code(4).path(),
        &["--canary-weight", "10%"],
    )
    .assert_ok();
    assert_eq!(
        description(&aws, "live").await,
        "orders API on-call: team-a [lambda-rollout rollback-to=1 promoted=2]"
    );
    let dropped = deploy(&aws, "orders", "live", code(2).path(), &[]);
    assert_eq!(dropped.assert_ok().json()["result"], "canary-dropped");
    let rolled = command(&aws, "rollback", "live", &[]);
    assert_eq!(
        rolled.assert_ok().json()["result"],
        "rolled-back",
        "{}",
        rolled.stderr
    );
    assert_eq!(alias_state(&aws, "orders", "live").await, ("1".into(), None));
    assert_eq!(description(&aws, "live").await, "orders API on-call: team-a");
}

/// An alias that serves `$LATEST` takes every upload at once: a deploy to it
/// is refused before any write and says how to move it; `promote --version`
/// moves it without recording `$LATEST` as a rollback target; and a record
/// naming `$LATEST` is refused by `rollback`.
#[tokio::test(flavor = "current_thread")]
async fn an_alias_serving_latest_is_refused_and_latest_is_never_recorded() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    deploy(&aws, "orders", "live", code(1).path(), &[]).assert_ok();
    aws.lambda()
        .create_alias()
        .function_name("orders")
        .name("edge")
        .function_version("$LATEST")
        .send()
        .await
        .unwrap();
    aws.start_recording();
    for extra in [&[][..], &["--strategy", "canary:10%:1s"][..], &["--dry-run"][..]] {
        let refused = deploy(&aws, "orders", "edge", code(2).path(), extra);
        assert_eq!(refused.status, 2, "{extra:?}: {}", refused.stderr);
        assert!(
            refused.stderr.contains("alias orders:edge serves $LATEST")
                && refused.stderr.contains("--alias edge --version N"),
            "{}",
            refused.stderr
        );
    }
    assert_eq!(aws.mutating(), Vec::<(String, String)>::new());
    assert_eq!(
        hash_of(&aws, "orders", "$LATEST").await,
        hash_of(&aws, "orders", "1").await
    );

    let moved = command(&aws, "promote", "edge", &["--version", "1"]);
    assert_eq!(moved.assert_ok().json()["result"], "promoted");
    assert_eq!(alias_state(&aws, "orders", "edge").await, ("1".into(), None));
    assert!(!description(&aws, "edge").await.contains("$LATEST"));

    aws.lambda()
        .update_alias()
        .function_name("orders")
        .name("edge")
        .description("[lambda-rollout rollback-to=$LATEST promoted=1]")
        .send()
        .await
        .unwrap();
    let refused = command(&aws, "rollback", "edge", &[]);
    assert_eq!(refused.status, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("records $LATEST"), "{}", refused.stderr);
    assert_eq!(alias_state(&aws, "orders", "edge").await, ("1".into(), None));
}

/// `status`, `promote`, `rollback` and `prune` act on a function that
/// exists: a missing one is named, with advice that fits them (not deploy's
/// advice to name a Role in --function-config).
#[tokio::test(flavor = "current_thread")]
async fn commands_other_than_deploy_name_a_missing_function_with_their_own_advice() {
    let aws = Emulator::start();
    for args in [
        &["status", "--function-name", "ghost", "--alias", "live"][..],
        &[
            "promote",
            "--function-name",
            "ghost",
            "--alias",
            "live",
            "--version",
            "1",
        ][..],
        &["rollback", "--function-name", "ghost", "--alias", "live"][..],
        &["prune", "--function-name", "ghost", "--keep", "1"][..],
    ] {
        let mut command = binary(Some(&aws));
        let result = run(command.args(args));
        assert_ne!(result.status, 0, "{args:?}");
        assert!(
            result.stderr.contains("ghost") && result.stderr.contains("does not exist"),
            "{args:?}: {}",
            result.stderr
        );
        assert!(
            !result.stderr.contains("--function-config"),
            "{args:?}: {}",
            result.stderr
        );
    }
    // --verbose adds everything the SDK knows to an AWS error.
    create_function(&aws, "orders").await;
    let mut verbose = binary(Some(&aws));
    let result = run(verbose.args([
        "promote",
        "--function-name",
        "orders",
        "--alias",
        "live",
        "--version",
        "9",
        "--verbose",
    ]));
    assert!(
        result
            .stderr
            .contains("version 9 of orders does not exist: ResourceNotFoundException")
            && result.stderr.contains("[SDK detail: "),
        "{}",
        result.stderr
    );
}

/// What invokes the function, against the emulator: an SQS mapping on the
/// unqualified function (runs `$LATEST`), one on version 1 (pinned), a
/// permission and a function URL on the alias. `status` marks each; a
/// canary deploy is refused before any write, naming the mapping on
/// `$LATEST`, unless `--allow-latest-triggers`; all at once is no canary.
#[tokio::test(flavor = "current_thread")]
async fn entry_points_that_bypass_the_alias_are_shown_and_refuse_a_canary() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    deploy(&aws, "orders", "live", code(1).path(), &[]).assert_ok();
    let lambda = aws.lambda();
    let (latest_queue, pinned_queue) = (aws.create_queue("orders-in"), aws.create_queue("orders-old"));
    lambda
        .create_event_source_mapping()
        .function_name("orders")
        .event_source_arn(&latest_queue)
        .send()
        .await
        .unwrap();
    lambda
        .create_event_source_mapping()
        .function_name("orders:1")
        .event_source_arn(&pinned_queue)
        .send()
        .await
        .unwrap();
    lambda
        .add_permission()
        .function_name("orders")
        .qualifier("live")
        .statement_id("uploads")
        .action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com")
        .source_arn("arn:aws:s3:::orders-uploads")
        .send()
        .await
        .unwrap();
    lambda
        .create_function_url_config()
        .function_name("orders")
        .qualifier("live")
        .auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::AwsIam)
        .send()
        .await
        .unwrap();

    let status = command(&aws, "status", "live", &[]);
    let listed: Vec<(String, String)> = status.assert_ok().json()["entry-points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["marked"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for expected in [
        ("mapping", "bypasses live: runs $LATEST"),
        ("mapping", "bypasses live: pinned to version 1"),
        ("permission", "through alias live"),
        ("url", "through alias live"),
    ] {
        assert!(
            listed.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} in {listed:?}"
        );
    }

    aws.start_recording();
    let refused = deploy(&aws, "orders", "live", code(2).path(), &[]);
    assert_eq!(refused.status, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("a canary on orders:live would not be one")
            && refused
                .stderr
                .contains(&format!("event source mapping {latest_queue}"))
            && !refused
                .stderr
                .contains(&format!("event source mapping {pinned_queue};")),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains(&format!(
            "event source mapping {pinned_queue}: bypasses live: pinned to version 1"
        )),
        "{}",
        refused.stderr
    );
    assert_eq!(aws.mutating(), Vec::<(String, String)>::new());
    assert_eq!(
        hash_of(&aws, "orders", "$LATEST").await,
        hash_of(&aws, "orders", "1").await
    );

    let allowed = deploy(
        &aws,
        "orders",
        "live",
        code(2).path(),
        &["--allow-latest-triggers"],
    );
    assert_eq!(allowed.assert_ok().json()["result"], "published");
    assert!(
        allowed.stderr.contains("going ahead: --allow-latest-triggers"),
        "{}",
        allowed.stderr
    );
    assert_eq!(
        allowed.json()["bypasses"],
        serde_json::json!([
            format!("event source mapping {latest_queue}: bypasses live: runs $LATEST"),
            format!("event source mapping {pinned_queue}: bypasses live: pinned to version 1"),
        ]),
        "the bypasses output"
    );
    assert_eq!(
        alias_state(&aws, "orders", "live").await,
        ("1".into(), Some(("2".into(), 0.1)))
    );

    // promote --weight checks the same: the share it sets is not the real one.
    let reweigh = command(&aws, "promote", "live", &["--weight", "50%"]);
    assert_eq!(reweigh.status, 2, "{}", reweigh.stderr);
    assert!(
        reweigh
            .stderr
            .contains("a canary on orders:live would not be one"),
        "{}",
        reweigh.stderr
    );
    assert_eq!(
        alias_state(&aws, "orders", "live").await,
        ("1".into(), Some(("2".into(), 0.1)))
    );
    let allowed = command(
        &aws,
        "promote",
        "live",
        &["--weight", "50%", "--allow-latest-triggers"],
    );
    assert_eq!(allowed.assert_ok().json()["result"], "reweighted");
    assert_eq!(
        allowed.json()["bypasses"],
        serde_json::json!([
            format!("event source mapping {latest_queue}: bypasses live: runs $LATEST"),
            format!("event source mapping {pinned_queue}: bypasses live: pinned to version 1"),
        ]),
        "promote --weight writes the bypasses output, as a canary deploy does"
    );

    let at_once = deploy(
        &aws,
        "orders",
        "live",
        code(3).path(),
        &["--canary-weight", "100%"],
    );
    assert_eq!(
        at_once.assert_ok().json()["result"],
        "published",
        "all at once is no canary"
    );
}

/// A permission the caller lacks is not a pass: a canary deploy whose
/// `GetPolicy` is denied warns which permission would let the check run.
#[tokio::test(flavor = "current_thread")]
async fn an_unreadable_policy_warns_instead_of_passing_silently() {
    use crate::common::proxy::FaultProxy;

    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    deploy(&aws, "orders", "live", code(1).path(), &[]).assert_ok();
    let proxy = FaultProxy::start(&aws.endpoint);
    proxy.deny("GET", "/functions/orders/policy", "lambda:GetPolicy");
    let source = code(2);
    let mut command = binary(Some(&aws));
    command
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .for_alias("deploy", "orders", "live")
        .args(["--output", "json", "--source"])
        .arg(source.path());
    let result = run(&mut command);
    assert_eq!(result.assert_ok().json()["result"], "published");
    assert!(
        result
            .stderr
            .contains("warning: could not read the resource policy (lambda:GetPolicy lets the check run)"),
        "{}",
        result.stderr
    );
}

/// `deploy --function-url`: the URL is created on the alias (never on the
/// function), a public one with the permissions Lambda requires on the
/// alias, each added once; an unchanged file leaves it alone, a changed one
/// updates it; `status` marks it as going through the alias.
#[tokio::test(flavor = "current_thread")]
async fn the_function_url_is_kept_on_the_alias() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    let files = tempfile::tempdir().unwrap();
    let url_file = files.path().join("url.json");
    std::fs::write(
        &url_file,
        r#"{"AuthType": "NONE", "Cors": {"AllowOrigins": ["https://shop.example"]}}"#,
    )
    .unwrap();
    let url_arg = url_file.display().to_string();
    aws.start_recording();
    let first = deploy(
        &aws,
        "orders",
        "live",
        code(1).path(),
        &["--function-url", &url_arg],
    );
    let url_writes: Vec<(String, String)> = aws
        .mutating()
        .into_iter()
        .filter(|(_, path)| path.contains("/url") || path.contains("/policy"))
        .collect();
    assert_eq!(url_writes.len(), 3, "{url_writes:?}");
    assert!(
        url_writes
            .iter()
            .all(|(_, path)| path.ends_with("Qualifier=live")),
        "the URL and its permissions are the alias's: {url_writes:?}"
    );
    let url = first.assert_ok().json()["function-url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(url.starts_with("http"), "{url}");
    assert!(
        first.stderr.contains("created a function URL on alias live"),
        "{}",
        first.stderr
    );
    let lambda = aws.lambda();
    let on_alias = lambda
        .get_function_url_config()
        .function_name("orders")
        .qualifier("live")
        .send()
        .await
        .unwrap();
    assert_eq!(on_alias.function_url(), url);
    assert_eq!(
        on_alias.cors().and_then(|c| c.allow_origins.clone()),
        Some(vec!["https://shop.example".to_string()])
    );
    // (The emulator ignores the Qualifier of URL calls, so "none on
    // $LATEST" cannot be read back here; the request carried it, and status
    // below sees one URL, through the alias.)
    let statements = |policy: String| -> Vec<String> {
        let policy: serde_json::Value = serde_json::from_str(&policy).unwrap();
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap().to_string())
            .collect()
    };
    let alias_policy = async || {
        let policy = lambda
            .get_policy()
            .function_name("orders")
            .qualifier("live")
            .send()
            .await
            .unwrap();
        statements(policy.policy().unwrap().to_string())
    };
    assert_eq!(
        alias_policy().await,
        ["lambda-rollout-url-public", "lambda-rollout-url-invoke"]
    );

    aws.start_recording();
    let again = deploy(
        &aws,
        "orders",
        "live",
        code(1).path(),
        &["--function-url", &url_arg],
    );
    assert_eq!(again.assert_ok().json()["function-url"], url.as_str());
    assert!(again.stderr.contains("is as the file says"), "{}", again.stderr);
    assert_eq!(
        aws.mutating(),
        Vec::<(String, String)>::new(),
        "nothing written, no permission added twice"
    );

    // Someone else's statement on the alias, which no change of the URL touches.
    lambda
        .add_permission()
        .function_name("orders")
        .qualifier("live")
        .statement_id("team-invoke")
        .action("lambda:InvokeFunction")
        .principal("events.amazonaws.com")
        .send()
        .await
        .unwrap();
    std::fs::write(&url_file, r#"{"AuthType": "AWS_IAM"}"#).unwrap();
    let changed = deploy(
        &aws,
        "orders",
        "live",
        code(1).path(),
        &["--function-url", &url_arg],
    );
    assert!(
        changed
            .assert_ok()
            .stderr
            .contains("updating the function URL of alias live: AuthType"),
        "{}",
        changed.stderr
    );
    let on_alias = lambda
        .get_function_url_config()
        .function_name("orders")
        .qualifier("live")
        .send()
        .await
        .unwrap();
    assert_eq!(on_alias.auth_type().as_str(), "AWS_IAM");
    // No longer public: the public statements this tool added are gone,
    // the other one stays.
    assert_eq!(alias_policy().await, ["team-invoke"]);
    assert!(
        changed
            .stderr
            .contains("removed the public permissions this tool had added"),
        "{}",
        changed.stderr
    );

    let status = command(&aws, "status", "live", &[]);
    let marks: Vec<String> = status.assert_ok().json()["entry-points"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "url")
        .map(|e| e["marked"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(marks, ["through alias live"]);

    std::fs::write(&url_file, r#"{"AuthType": "PUBLIC"}"#).unwrap();
    let refused = deploy(
        &aws,
        "orders",
        "live",
        code(1).path(),
        &["--function-url", &url_arg],
    );
    assert_eq!(refused.status, 2);
    assert!(
        refused
            .stderr
            .contains("AuthType 'PUBLIC': expected NONE or AWS_IAM"),
        "{}",
        refused.stderr
    );
}
