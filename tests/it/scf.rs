//! `--platform scf` against the SCF contract double (`tests/scf/double.py`):
//! SCF has no emulator, so these tests run the binary against a double whose
//! protocol Tencent's official Python SDK checks (the first test here).
//! What they assert is what a user checks: each version's code and
//! description, the alias's routing, the outputs, the exit status.

use std::process::Command;

use serde_json::json;

use crate::common::scf_double::{self, ScfDouble};
use crate::common::{parse_github_output, source_dir};

const F: &str = "orders";
const A: &str = "live";

/// `deploy` of `dir` to orders:live, with `extra` flags, as JSON.
fn deploy(scf: &ScfDouble, dir: &std::path::Path, extra: &[&str]) -> crate::common::Run {
    let mut args = vec![
        "deploy",
        "--function-name",
        F,
        "--alias",
        A,
        "--source",
        dir.to_str().unwrap(),
        "--output",
        "json",
    ];
    args.extend_from_slice(extra);
    scf.run(&args)
}

fn on_alias<'a>(command: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![command, "--function-name", F, "--alias", A, "--output", "json"];
    args.extend_from_slice(extra);
    args
}

/// A source directory whose handler returns `value`: each value is a release.
fn release(value: &str) -> tempfile::TempDir {
    source_dir(&format!(
        "def main_handler(event, context):\n    return {value}\n"
    ))
}

/// A staged rollout in three one-second steps: 10 %, 50 %, 100 %.
const STEPPED: &[&str] = &[
    "--strategy",
    "10%,50%,100%",
    "--step-interval",
    "1s",
    "--poll-interval",
    "1s",
];

/// A double holding orders, whose alias live serves version 1 alone.
fn live_on_version_1() -> ScfDouble {
    let scf = ScfDouble::start(&[F]);
    deploy(&scf, release("1").path(), &[]).assert_ok();
    scf
}

/// The SHA-256 (hex) the double computed of a version's code.
fn code_of(scf: &ScfDouble, version: &str) -> String {
    scf.function(F)["versions"][version]["CodeSha256"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn the_double_conforms_to_the_official_sdk() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scf/conformance.py");
    let output = Command::new(scf_double::python())
        .arg(script)
        .output()
        .expect("cannot run the conformance test");
    assert!(
        output.status.success(),
        "Tencent's SDK and the double disagree:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_release_is_published_with_its_hash_and_shipped_as_a_weighted_canary() {
    let scf = ScfDouble::start(&[F]);
    let v1 = release("1");
    let first = deploy(&scf, v1.path(), &[]);
    first.assert_ok();
    assert_eq!(first.json()["result"], "published");
    assert_eq!(scf.versions(F), ["1"]);
    let alias = scf.alias(F, A);
    assert_eq!(alias["FunctionVersion"], "1");
    // The version carries the zip's SHA-256, since SCF reports no code hash.
    let hash = code_of(&scf, "1");
    let description = scf.function(F)["versions"]["1"]["Description"].clone();
    assert_eq!(description, format!("deployed by lambda-rollout sha256:{hash}"));
    assert_eq!(first.json()["code-sha256"], hash.as_str());

    let v2 = release("2");
    let second = deploy(
        &scf,
        v2.path(),
        &["--canary-weight", "20%", "--description", "commit 2b"],
    );
    second.assert_ok();
    let report = second.json();
    assert_eq!(report["result"], "published");
    assert_eq!(report["version"], "2");
    assert_eq!(report["previous-version"], "1");
    assert_eq!(report["canary-weight"], 0.2);
    assert_eq!(report["region"], scf_double::REGION);
    assert_eq!(
        scf.alias(F, A)["RoutingConfig"],
        json!({"AdditionalVersionWeights": [{"Version": "2", "Weight": 0.2}], "AddtionVersionMatchs": []})
    );
    assert_eq!(scf.alias(F, A)["FunctionVersion"], "1");
    assert!(
        scf.function(F)["versions"]["2"]["Description"]
            .as_str()
            .unwrap()
            .starts_with("commit 2b sha256:")
    );
    assert_ne!(code_of(&scf, "2"), hash);

    // The same release again: nothing uploaded, nothing published.
    let before = scf.requests().len();
    let again = deploy(&scf, v2.path(), &["--canary-weight", "20%"]);
    again.assert_ok();
    assert_eq!(again.json()["result"], "skipped");
    assert_eq!(scf.versions(F), ["1", "2"]);
    let sent = &scf.requests()[before..];
    assert!(
        sent.iter().all(|a| a.starts_with("Get") || a.starts_with("List")),
        "a skipped release wrote: {sent:?}"
    );
}

#[test]
fn a_canary_routed_by_header_shows_its_rule_and_promote_and_rollback_clear_it() {
    let scf = live_on_version_1();
    let v2 = release("2");
    let out = tempfile::tempdir().unwrap();
    let github = out.path().join("output");
    std::fs::write(&github, "").unwrap();
    let mut command = scf.command();
    command
        .args(on_alias("deploy", &["--source", v2.path().to_str().unwrap()]))
        .args(["--canary-header", "x-canary=tester", "--platform", "scf"])
        .env("GITHUB_OUTPUT", &github);
    let by_header = crate::common::run(&mut command);
    by_header.assert_ok();
    assert_eq!(by_header.json()["canary-rule"], "header x-canary = tester");
    let outputs = parse_github_output(&std::fs::read_to_string(&github).unwrap());
    assert_eq!(outputs["canary-rule"], "header x-canary = tester");
    assert_eq!(outputs["version"], "2");
    let alias = scf.alias(F, A);
    assert_eq!(alias["FunctionVersion"], "1");
    assert_eq!(
        alias["RoutingConfig"],
        json!({"AdditionalVersionWeights": [], "AddtionVersionMatchs": [
            {"Version": "2", "Key": "invoke.headers.x-canary", "Method": "exact", "Expression": "tester"}
        ]})
    );

    // status shows the rule, in text and in JSON.
    let text = scf.run(&["status", "--function-name", F, "--alias", A]);
    text.assert_ok();
    assert!(
        text.stdout
            .contains("serves version 1, and version 2 to the requests whose header x-canary = tester"),
        "{}",
        text.stdout
    );
    // SCF reports no architecture, and its times in China Standard Time.
    assert!(
        text.stdout.contains("runtime      Python3.9, memory 128 MB"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("+08:00"), "{}", text.stdout);
    let status = scf.run(&on_alias("status", &[]));
    assert_eq!(status.json()["canary-rule"], "header x-canary = tester");
    assert_eq!(status.json()["canary"]["version"], "2");

    // The same code with a hash range: no new version, the rule changes.
    let ranged = deploy(&scf, v2.path(), &["--canary-header-range", "x-user-bucket=0-9"]);
    ranged.assert_ok();
    assert_eq!(ranged.json()["result"], "reweighted");
    assert_eq!(ranged.json()["canary-rule"], "header x-user-bucket in 0-9");
    assert_eq!(scf.versions(F), ["1", "2"]);
    assert_eq!(
        scf.alias(F, A)["RoutingConfig"]["AddtionVersionMatchs"],
        json!([{"Version": "2", "Key": "invoke.headers.x-user-bucket", "Method": "range", "Expression": "[0,9]"}])
    );

    // promote: version 2 alone, the rule gone, version 1 recorded.
    let promoted = scf.run(&on_alias("promote", &[]));
    promoted.assert_ok();
    assert_eq!(promoted.json()["result"], "promoted");
    let alias = scf.alias(F, A);
    assert_eq!(alias["FunctionVersion"], "2");
    assert_eq!(
        alias["RoutingConfig"],
        json!({"AdditionalVersionWeights": [], "AddtionVersionMatchs": []})
    );

    // rollback: back to version 1, the version live before the promotion.
    let rolled = scf.run(&on_alias("rollback", &[]));
    rolled.assert_ok();
    assert_eq!(rolled.json()["result"], "rolled-back");
    assert_eq!(rolled.json()["version"], "1");
    assert_eq!(scf.alias(F, A)["FunctionVersion"], "1");
    // A second rollback finds nothing left to do.
    let again = scf.run(&on_alias("rollback", &[]));
    again.assert_ok();
    assert_eq!(again.json()["result"], "skipped");
    assert_eq!(scf.alias(F, A)["FunctionVersion"], "1");
}

#[test]
fn rollback_drops_a_canary_and_promote_takes_a_version_or_a_weight() {
    let scf = ScfDouble::start(&[F]);
    for body in ["1", "2", "3"] {
        let dir = release(body);
        deploy(&scf, dir.path(), &["--canary-weight", "10%"]).assert_ok();
    }
    // 1 alone, then 2 at 10%, then 3 replaced 2 as the canary.
    assert_eq!(
        scf.alias(F, A)["RoutingConfig"]["AdditionalVersionWeights"],
        json!([{"Version": "3", "Weight": 0.1}])
    );
    let weighted = scf.run(&on_alias("promote", &["--weight", "50%"]));
    weighted.assert_ok();
    assert_eq!(weighted.json()["result"], "reweighted");
    assert_eq!(
        scf.alias(F, A)["RoutingConfig"]["AdditionalVersionWeights"],
        json!([{"Version": "3", "Weight": 0.5}])
    );
    let dropped = scf.run(&on_alias("rollback", &[]));
    dropped.assert_ok();
    assert_eq!(dropped.json()["result"], "rolled-back");
    assert_eq!(scf.alias(F, A)["FunctionVersion"], "1");
    assert_eq!(
        scf.alias(F, A)["RoutingConfig"]["AdditionalVersionWeights"],
        json!([])
    );
    let chosen = scf.run(&on_alias("promote", &["--version", "2"]));
    chosen.assert_ok();
    assert_eq!(chosen.json()["result"], "promoted");
    assert_eq!(scf.alias(F, A)["FunctionVersion"], "2");
    // A version that does not exist is bad input, and nothing is written.
    let before = scf.requests().len();
    let missing = scf.run(&on_alias("promote", &["--version", "9"]));
    assert_eq!(missing.status, 2, "{}", missing.stderr);
    assert!(
        missing.stdout.contains("version 9 of SCF function orders"),
        "{}",
        missing.stdout
    );
    assert!(
        scf.requests()[before..]
            .iter()
            .all(|a| a.starts_with("Get") || a.starts_with("List"))
    );
    assert_eq!(scf.alias(F, A)["FunctionVersion"], "2");
}

/// A rollback to the version the alias records reports that version's code
/// hash (read from its description), as on Lambda.
#[test]
fn rollback_to_the_recorded_version_reports_its_code_hash() {
    let scf = ScfDouble::start(&[F]);
    for body in ["1", "2"] {
        let dir = release(body);
        deploy(&scf, dir.path(), &["--canary-weight", "100%"]).assert_ok();
    }
    // live: 2, recording 1.
    let rolled = scf.run(&on_alias("rollback", &[]));
    rolled.assert_ok();
    assert_eq!(rolled.json()["result"], "rolled-back");
    assert_eq!(scf.alias(F, A)["FunctionVersion"], "1");
    assert_eq!(rolled.json()["version"], "1");
    assert_eq!(rolled.json()["code-sha256"], code_of(&scf, "1"));
    assert!(!code_of(&scf, "1").is_empty());
}

/// An alias write whose answer is lost every time (it landed; the retries
/// ran out) is read back: it serves what was sent, so the run goes on.
#[test]
fn a_lost_answer_to_an_alias_write_is_read_back() {
    let scf = ScfDouble::start(&[F]);
    for body in ["1", "2"] {
        let dir = release(body);
        deploy(&scf, dir.path(), &["--canary-weight", "10%"]).assert_ok();
    }
    scf.lose("UpdateAlias", "InternalError", 5);
    let promoted = scf.run(&on_alias("promote", &[]));
    promoted.assert_ok();
    assert_eq!(promoted.json()["result"], "promoted");
    assert_eq!(scf.alias(F, A)["FunctionVersion"], "2");
    assert!(
        promoted
            .stderr
            .contains("the answer to the alias update was lost"),
        "{}",
        promoted.stderr
    );
}

#[test]
fn another_writer_during_the_run_stops_it_and_keeps_their_change() {
    let scf = live_on_version_1();
    // Right after this run publishes, someone points the alias elsewhere.
    scf.after(
        "PublishVersion",
        "UpdateAlias",
        json!({"FunctionName": F, "Name": A, "FunctionVersion": "1", "Description": "pinned by hand"}),
    );
    let v2 = release("2");
    let stopped = deploy(&scf, v2.path(), &[]);
    assert_eq!(stopped.status, 1, "{}\n{}", stopped.stdout, stopped.stderr);
    assert!(
        stopped.stdout.contains("changed since this run read it"),
        "{}",
        stopped.stdout
    );
    let alias = scf.alias(F, A);
    assert_eq!(alias["Description"], "pinned by hand");
    assert_eq!(alias["RoutingConfig"]["AdditionalVersionWeights"], json!([]));
    // (The other writer's update is the double's own: this run sent none.)
    assert!(
        !scf.requests().iter().any(|a| a == "UpdateAlias"),
        "{:?}",
        scf.requests()
    );

    // Someone uploads other code as this run publishes: the version may hold
    // their code, so no traffic moves to it.
    scf.after(
        "PublishVersion",
        "UpdateFunctionCode",
        json!({"FunctionName": F, "ZipFile": base64_zip()}),
    );
    let v3 = release("3");
    let raced = deploy(&scf, v3.path(), &[]);
    assert_eq!(raced.status, 1, "{}\n{}", raced.stdout, raced.stderr);
    assert!(
        raced
            .stdout
            .contains("changed while this run uploaded and published it"),
        "{}",
        raced.stdout
    );
    let alias = scf.alias(F, A);
    assert_eq!(alias["Description"], "pinned by hand");
    assert_eq!(alias["FunctionVersion"], "1");
    assert_eq!(alias["RoutingConfig"]["AdditionalVersionWeights"], json!([]));
}

/// A small zip, base64, as another writer would upload it.
fn base64_zip() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .encode(crate::common::zip_of("def main_handler(e, c):\n    return 0\n"))
}

#[test]
fn bad_input_exits_2_and_sends_nothing() {
    let scf = ScfDouble::start(&[F]);
    let dir = release("1");
    let source = dir.path().to_str().unwrap();
    let deploy_args = |extra: &[&'static str]| {
        let mut args: Vec<String> = ["deploy", "--function-name", F, "--alias", A, "--source", source]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (deploy_args(&["--canary-header", "x-canary"]), "KEY=VALUE"),
        (
            deploy_args(&["--canary-header-range", "x-bucket=9-1"]),
            "--canary-header-range",
        ),
        (
            deploy_args(&["--strategy", "linear:10%:1m", "--alarm", "errors"]),
            "--alarm is not supported with --platform scf",
        ),
        (
            deploy_args(&["--strategy", "linear:10%:1m", "--max-latency-increase", "p99=15%"]),
            "a latency percentile (--max-latency-increase, --max-latency) is not supported with --platform scf: SCF publishes each version's mean duration",
        ),
        (
            deploy_args(&["--engine", "codedeploy", "--strategy", "Canary10Percent5Minutes"]),
            "--engine codedeploy",
        ),
        (
            deploy_args(&["--s3-bucket", "code"]),
            "--s3-bucket is not supported with --platform scf",
        ),
        (
            deploy_args(&["--strategy", "linear:10%:1m", "--metrics-file", "metrics.toml"]),
            "--metrics-file is not supported with --platform scf",
        ),
        (
            deploy_args(&["--namespace", "bad namespace"]),
            "not an SCF namespace",
        ),
        (deploy_args(&["--region", "Guangzhou"]), "not a region"),
        (
            vec![
                "status".into(),
                "--function-name".into(),
                "arn:aws:lambda:us-east-1:1:function:f".into(),
                "--alias".into(),
                A.into(),
            ],
            "not an SCF function name",
        ),
    ];
    for (args, says) in cases {
        let mut command = scf.command();
        command.args(&args).args(["--platform", "scf"]);
        let result = crate::common::run(&mut command);
        assert_eq!(result.status, 2, "{args:?}: {}\n{}", result.stdout, result.stderr);
        assert!(
            result.stderr.contains(says) || result.stdout.contains(says),
            "{args:?} should say {says:?}:\n{}",
            result.stderr
        );
    }
    // Without credentials, or without a region.
    for unset in ["TENCENTCLOUD_SECRET_KEY", "TENCENTCLOUD_REGION"] {
        let mut command = scf.command();
        command
            .env_remove(unset)
            .args(deploy_args(&[]))
            .args(["--platform", "scf"]);
        let result = crate::common::run(&mut command);
        assert_eq!(result.status, 2, "{unset}: {}", result.stderr);
        assert!(
            result.stderr.contains(if unset.ends_with("KEY") {
                "TENCENTCLOUD_SECRET_KEY"
            } else {
                "--region"
            }),
            "{}",
            result.stderr
        );
    }
    // SCF's flags (and regions) on Lambda are refused, not ignored.
    for extra in [
        ["--canary-header", "x-canary=tester"],
        ["--namespace", "prod"],
        ["--region", "ap-guangzhou"],
    ] {
        let mut command = scf.command();
        command.args(deploy_args(&extra));
        let result = crate::common::run(&mut command);
        assert_eq!(result.status, 2, "{extra:?}: {}", result.stderr);
        assert!(result.stderr.contains("--platform scf"), "{}", result.stderr);
    }
    assert_eq!(scf.requests(), Vec::<String>::new());
    assert_eq!(scf.versions(F), Vec::<String>::new());
}

#[test]
fn a_function_that_does_not_exist_is_named_and_nothing_is_written() {
    let scf = ScfDouble::start(&["other"]);
    let dir = release("1");
    let result = deploy(&scf, dir.path(), &[]);
    assert_eq!(result.status, 2, "{}", result.stderr);
    assert!(
        result
            .stdout
            .contains("SCF function orders does not exist in namespace default of ap-guangzhou"),
        "{}",
        result.stdout
    );
    assert!(scf.requests().iter().all(|a| a.starts_with("Get")));
}

#[test]
fn what_scf_answers_is_shown_without_the_secrets_it_quotes() {
    let scf = ScfDouble::start(&[F]);
    let dir = release("1");
    scf.fail(
        "UpdateFunctionCode",
        "InvalidParameterValue.Code",
        &format!(
            "cannot use the credentials {} / {}",
            scf_double::SECRET_KEY,
            scf_double::TOKEN
        ),
        1,
    );
    // `ScfDouble::run` fails the test if either secret is printed.
    let result = deploy(&scf, dir.path(), &["--verbose"]);
    assert_eq!(result.status, 1, "{}", result.stdout);
    assert!(
        result.stdout.contains("InvalidParameterValue.Code"),
        "{}",
        result.stdout
    );
    assert!(scf.function(F)["aliases"].as_object().unwrap().is_empty());
}

#[test]
fn prune_keeps_what_aliases_route_and_record() {
    let scf = ScfDouble::start(&[F]);
    for body in ["1", "2", "3", "4"] {
        let dir = release(body);
        deploy(&scf, dir.path(), &["--canary-weight", "100%"]).assert_ok();
    }
    let dir = release("5");
    deploy(&scf, dir.path(), &["--canary-weight", "10%"]).assert_ok();
    // live: 4 with canary 5; its description records 3 (live before 4).
    let dry = scf.run(&[
        "prune",
        "--function-name",
        F,
        "--keep",
        "0",
        "--dry-run",
        "--output",
        "json",
    ]);
    dry.assert_ok();
    assert_eq!(dry.json()["pruned"], json!(["2", "1"]));
    assert_eq!(scf.versions(F), ["1", "2", "3", "4", "5"]);
    let pruned = scf.run(&["prune", "--function-name", F, "--keep", "0", "--output", "json"]);
    pruned.assert_ok();
    assert_eq!(pruned.json()["result"], "pruned");
    assert_eq!(scf.versions(F), ["3", "4", "5"]);
}

/// A version someone else deletes between the list and the delete is
/// passed over as already gone, and the prune goes on.
#[test]
fn prune_passes_over_a_version_already_gone() {
    let scf = ScfDouble::start(&[F]);
    for body in ["1", "2", "3"] {
        let dir = release(body);
        deploy(&scf, dir.path(), &["--canary-weight", "100%"]).assert_ok();
    }
    // live: 3, recording 2. Right after the prune reads the triggers, the
    // other writer deletes version 1.
    scf.after(
        "ListTriggers",
        "DeleteFunction",
        json!({"FunctionName": F, "Qualifier": "1"}),
    );
    let pruned = scf.run(&["prune", "--function-name", F, "--keep", "0", "--output", "json"]);
    pruned.assert_ok();
    assert_eq!(pruned.json()["pruned"], json!([]));
    assert_eq!(pruned.json()["left"][0]["version"], "1");
    assert_eq!(pruned.json()["left"][0]["reason"], "already gone");
    assert!(
        pruned.stderr.contains("version 1 of orders was already gone"),
        "{}",
        pruned.stderr
    );
    assert_eq!(scf.versions(F), ["2", "3"]);
}

/// `deploy --keep-versions N` prunes after a deploy that succeeded, with
/// prune's protections: what the alias routes and records stays.
#[test]
fn deploy_keep_versions_prunes_after_the_release() {
    let scf = ScfDouble::start(&[F]);
    for body in ["1", "2", "3"] {
        let dir = release(body);
        deploy(&scf, dir.path(), &["--canary-weight", "100%"]).assert_ok();
    }
    let dir = release("4");
    let kept = deploy(
        &scf,
        dir.path(),
        &["--canary-weight", "10%", "--keep-versions", "0"],
    );
    kept.assert_ok();
    // live: 3 with canary 4, recording 2; version 1 goes.
    assert_eq!(kept.json()["pruned"], json!(["1"]));
    assert_eq!(scf.versions(F), ["2", "3", "4"]);
}

/// A manifest on SCF (`platform = "scf"`; a place is a region and a
/// namespace): every target's status, then a promotion and a rollback of
/// every target at once, each namespace named in the results.
#[test]
fn a_manifest_promotes_and_rolls_back_every_namespace_at_once() {
    let scf = ScfDouble::start(&[F, "shop/orders"]);
    for namespace in ["default", "shop"] {
        for body in ["1", "2"] {
            let dir = release(body);
            deploy(&scf, dir.path(), &["--namespace", namespace]).assert_ok();
        }
    }
    // In each namespace, live serves version 1 with version 2 at 10%.
    let files = tempfile::tempdir().unwrap();
    let manifest = files.path().join("fleet.toml");
    std::fs::write(
        &manifest,
        "[defaults]\nplatform = \"scf\"\nalias = \"live\"\n\n[[functions]]\nname = \"orders\"\n\n[[functions]]\nname = \"orders\"\nnamespace = \"shop\"\n",
    )
    .unwrap();
    let manifest = manifest.to_str().unwrap();
    let output = tempfile::NamedTempFile::new().unwrap();
    let mut status = scf.command();
    status
        .args(["status", "--platform", "scf", "--manifest", manifest])
        .env("GITHUB_OUTPUT", output.path());
    crate::common::run(&mut status).assert_ok();
    let serving: serde_json::Value = serde_json::from_str(
        &crate::common::parse_github_output(&std::fs::read_to_string(output.path()).unwrap())["serving"],
    )
    .unwrap();
    for namespace in ["default", "shop"] {
        assert_eq!(
            serving[format!("{namespace}/{}/orders:live", scf_double::REGION)],
            json!({"1": 0.9, "2": 0.1}),
            "{serving}"
        );
    }

    let promoted = scf.run(&["promote", "--manifest", manifest, "--output", "json"]);
    promoted.assert_ok();
    let results = promoted.json();
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), 2, "{results:?}");
    for result in results {
        assert_eq!(result["result"], "promoted", "{result}");
        assert_eq!(result["version"], "2", "{result}");
    }
    let state = scf.get_state();
    for namespace in ["default", "shop"] {
        assert_eq!(
            state[format!("{namespace}/orders")]["aliases"][A]["FunctionVersion"],
            "2"
        );
    }

    let back = scf.run(&["rollback", "--manifest", manifest, "--output", "json"]);
    back.assert_ok();
    let state = scf.get_state();
    for namespace in ["default", "shop"] {
        assert_eq!(
            state[format!("{namespace}/orders")]["aliases"][A]["FunctionVersion"],
            "1"
        );
    }
    // prune takes the manifest too: each function once in its namespace;
    // live serves version 1 alone and the rollback recorded nothing to
    // return to, so version 2 goes in each.
    let output = tempfile::NamedTempFile::new().unwrap();
    let mut prune = scf.command();
    prune
        .args([
            "prune",
            "--platform",
            "scf",
            "--manifest",
            manifest,
            "--keep",
            "0",
        ])
        .env("GITHUB_OUTPUT", output.path());
    crate::common::run(&mut prune).assert_ok();
    let pruned: serde_json::Value = serde_json::from_str(
        &crate::common::parse_github_output(&std::fs::read_to_string(output.path()).unwrap())["pruned"],
    )
    .unwrap();
    for namespace in ["default", "shop"] {
        assert_eq!(
            pruned[format!("{namespace}/{}/orders", scf_double::REGION)],
            json!(["2"]),
            "{pruned}"
        );
    }
    let state = scf.get_state();
    for namespace in ["default", "shop"] {
        let versions = state[format!("{namespace}/orders")]["versions"]
            .as_object()
            .unwrap();
        assert!(
            !versions.contains_key("2") && versions.contains_key("1"),
            "{namespace}: {versions:?}"
        );
    }

    // What SCF has no counterpart for, refused by name before any request.
    std::fs::write(
        files.path().join("roles.toml"),
        "[defaults]\nplatform = \"scf\"\nalias = \"live\"\nrole-arn = \"arn:aws:iam::123456789012:role/deployer\"\n\n[[functions]]\nname = \"orders\"\n",
    )
    .unwrap();
    let roles = files.path().join("roles.toml");
    let before = scf.requests().len();
    let refused = scf.run(&["status", "--manifest", roles.to_str().unwrap()]);
    assert_eq!(refused.status, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("role-arn is Lambda's"),
        "{}",
        refused.stderr
    );
    // An SCF manifest run without --platform scf says how to run it.
    let mut lambda = scf.command();
    lambda.args(["status", "--manifest", manifest]);
    let wrong = crate::common::run(&mut lambda);
    assert_eq!(wrong.status, 2, "{}", wrong.stderr);
    assert!(
        wrong.stderr.contains("run the manifest with --platform scf"),
        "{}",
        wrong.stderr
    );
    assert_eq!(scf.requests().len(), before);
}

#[test]
fn a_staged_rollout_steps_the_weight_and_runs_the_hooks() {
    let scf = live_on_version_1();
    let seen = tempfile::tempdir().unwrap();
    let hook_file = seen.path().join("pre");
    let hook = format!("env | grep ^ROLLOUT_ | sort > {}", hook_file.display());
    let smoke = seen.path().join("event.json");
    std::fs::write(&smoke, r#"{"n": 1}"#).unwrap();
    let v2 = release("2");
    let before = scf.requests().len();
    let rolled = deploy(
        &scf,
        v2.path(),
        &[
            STEPPED,
            &[
                "--pre-traffic-hook",
                &hook,
                "--smoke-payload",
                smoke.to_str().unwrap(),
            ],
        ]
        .concat(),
    );
    rolled.assert_ok();
    let report = rolled.json();
    assert_eq!(report["result"], "published");
    assert_eq!(report["version"], "2");
    assert_eq!(report["canary-weight"], 1.0);
    let alias = scf.alias(F, A);
    assert_eq!(alias["FunctionVersion"], "2");
    assert_eq!(alias["RoutingConfig"]["AdditionalVersionWeights"], json!([]));
    // Three steps, three alias writes: 10%, 50%, then version 2 alone.
    let writes = scf.requests()[before..]
        .iter()
        .filter(|a| *a == "UpdateAlias")
        .count();
    assert_eq!(writes, 3);
    let env = std::fs::read_to_string(&hook_file).unwrap();
    for line in [
        "ROLLOUT_FUNCTION=orders",
        "ROLLOUT_ALIAS=live",
        "ROLLOUT_NEW_VERSION=2",
        "ROLLOUT_STABLE_VERSION=1",
        "ROLLOUT_PHASE=pre-traffic",
    ] {
        assert!(env.lines().any(|l| l == line), "{line} not in:\n{env}");
    }
    // The promotion is recorded: a rollback returns to version 1.
    let back = scf.run(&on_alias("rollback", &[]));
    back.assert_ok();
    assert_eq!(scf.alias(F, A)["FunctionVersion"], "1");
}

/// During a staged rollout the run guards the alias's routing, as on
/// Lambda: someone editing only its description does not stop it, and the
/// edit is kept.
#[test]
fn a_description_edited_during_a_rollout_is_kept_and_the_rollout_goes_on() {
    let scf = live_on_version_1();
    // Right after the first step (version 2 at 10%), someone rewrites the
    // description and leaves the routing as it is.
    scf.after(
        "UpdateAlias",
        "UpdateAlias",
        json!({
            "FunctionName": F, "Name": A, "FunctionVersion": "1",
            "RoutingConfig": {"AdditionalVersionWeights": [{"Version": "2", "Weight": 0.1}]},
            "Description": "reviewed by hand"
        }),
    );
    let v2 = release("2");
    let rolled = deploy(&scf, v2.path(), STEPPED);
    rolled.assert_ok();
    assert_eq!(rolled.json()["result"], "published");
    let alias = scf.alias(F, A);
    assert_eq!(alias["FunctionVersion"], "2");
    assert!(
        alias["Description"]
            .as_str()
            .unwrap()
            .contains("reviewed by hand"),
        "{alias}"
    );
}

#[test]
fn a_failing_post_traffic_hook_rolls_the_rollout_back() {
    let scf = live_on_version_1();
    let v2 = release("2");
    let failed = deploy(
        &scf,
        v2.path(),
        &[
            "--strategy",
            "50%,100%",
            "--step-interval",
            "1s",
            "--poll-interval",
            "1s",
            "--post-traffic-hook",
            "exit 3",
        ],
    );
    assert_eq!(failed.status, 1, "{}\n{}", failed.stdout, failed.stderr);
    let report = failed.json();
    assert_eq!(report["result"], "rolled-back");
    assert!(
        report["rollback-reason"]
            .as_str()
            .unwrap()
            .contains("post-traffic hook `exit 3` failed"),
        "{report}"
    );
    let alias = scf.alias(F, A);
    assert_eq!(alias["FunctionVersion"], "1");
    assert_eq!(alias["RoutingConfig"]["AdditionalVersionWeights"], json!([]));
    assert_eq!(scf.versions(F), ["1", "2"]);
}

#[test]
fn a_rule_the_tool_does_not_write_is_shown_and_only_replaced_when_asked() {
    let scf = ScfDouble::start(&[F]);
    for body in ["1", "2"] {
        let dir = release(body);
        deploy(&scf, dir.path(), &[]).assert_ok();
    }
    // Someone routes version 2 by an open range, which the tool does not write.
    let foreign =
        json!({"Version": "2", "Key": "invoke.headers.x-user", "Method": "range", "Expression": "(0,9)"});
    scf.call(
        "UpdateAlias",
        json!({"FunctionName": F, "Name": A, "FunctionVersion": "1",
               "RoutingConfig": {"AddtionVersionMatchs": [foreign.clone()]}}),
    );
    let status = scf.run(&on_alias("status", &[]));
    status.assert_ok();
    assert_eq!(
        status.json()["canary-rule"],
        "rule invoke.headers.x-user range (0,9)"
    );
    let v3 = release("3");
    let refused = deploy(&scf, v3.path(), &[]);
    assert_eq!(refused.status, 2, "{}", refused.stdout);
    assert!(
        refused.stdout.contains("by a rule this tool does not write"),
        "{}",
        refused.stdout
    );
    assert_eq!(scf.versions(F), ["1", "2"]);
    assert_eq!(
        scf.alias(F, A)["RoutingConfig"]["AddtionVersionMatchs"],
        json!([foreign])
    );
    let replaced = deploy(&scf, v3.path(), &["--canary-header", "x-user=7"]);
    replaced.assert_ok();
    assert_eq!(
        scf.alias(F, A)["RoutingConfig"]["AddtionVersionMatchs"],
        json!([{"Version": "3", "Key": "invoke.headers.x-user", "Method": "exact", "Expression": "7"}])
    );
}

#[test]
fn a_failing_smoke_invoke_moves_no_traffic() {
    let scf = live_on_version_1();
    let v2 = source_dir("def main_handler(event, context):\n    raise RuntimeError('broken release')\n");
    let event = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(event.path(), r#"{"path": "/health"}"#).unwrap();
    let before = scf.requests().len();
    let failed = deploy(
        &scf,
        v2.path(),
        &[
            "--strategy",
            "50%,100%",
            "--step-interval",
            "1s",
            "--smoke-payload",
            event.path().to_str().unwrap(),
        ],
    );
    assert_eq!(failed.status, 1, "{}\n{}", failed.stdout, failed.stderr);
    let report = failed.json();
    assert_eq!(report["result"], "rolled-back");
    let reason = report["rollback-reason"].as_str().unwrap();
    assert!(
        reason.contains("the smoke invoke of version 2 returned a function error"),
        "{reason}"
    );
    assert!(reason.contains("broken release"), "{reason}");
    let sent = &scf.requests()[before..];
    assert!(sent.iter().any(|a| a == "InvokeFunction"), "{sent:?}");
    assert!(
        !sent.iter().any(|a| a == "UpdateAlias"),
        "traffic moved: {sent:?}"
    );
    assert_eq!(scf.alias(F, A)["FunctionVersion"], "1");
    assert_eq!(
        scf.alias(F, A)["RoutingConfig"]["AdditionalVersionWeights"],
        json!([])
    );
}

#[test]
fn a_release_file_configures_each_version_and_a_change_of_it_alone_is_a_release() {
    let scf = ScfDouble::start(&[F]);
    let dir = release("1");
    let files = tempfile::tempdir().unwrap();
    let write_config = |memory: u32| {
        let path = files.path().join(format!("function-{memory}.json"));
        let text = format!(
            r#"{{"MemorySize": {memory}, "Timeout": 10, "Handler": "index.main_handler",
                "Environment": {{"Variables": {{"STAGE": "prod", "TOKEN": {{"FromEnvironment": "ORDERS_TOKEN"}}}}}}}}"#
        );
        std::fs::write(&path, text).unwrap();
        path
    };
    let secret = "s3cr3t-0rders-t0ken";
    let deploy_with = |config: &std::path::Path| {
        let mut command = scf.command();
        command
            .args(on_alias("deploy", &["--source", dir.path().to_str().unwrap()]))
            .args([
                "--function-config",
                config.to_str().unwrap(),
                "--platform",
                "scf",
                "--verbose",
            ])
            .env("ORDERS_TOKEN", secret);
        let result = crate::common::run(&mut command);
        assert!(
            !result.stdout.contains(secret) && !result.stderr.contains(secret),
            "a variable's value was printed:\n{}\n{}",
            result.stdout,
            result.stderr
        );
        result
    };
    let first = deploy_with(&write_config(256));
    first.assert_ok();
    let version = &scf.function(F)["versions"]["1"];
    assert_eq!(version["MemorySize"], 256);
    assert_eq!(version["Timeout"], 10);
    assert_eq!(
        version["Environment"]["Variables"],
        json!([{"Key": "STAGE", "Value": "prod"}, {"Key": "TOKEN", "Value": secret}])
    );
    let configured = first.json()["configuration"].clone();
    assert!(
        configured.as_array().unwrap().contains(&json!("MemorySize")),
        "{configured}"
    );

    // The same code and configuration: skipped.
    let again = deploy_with(&write_config(256));
    again.assert_ok();
    assert_eq!(again.json()["result"], "skipped");
    assert_eq!(scf.versions(F), ["1"]);

    // The same code with more memory is a new release.
    let more = deploy_with(&write_config(512));
    more.assert_ok();
    assert_eq!(more.json()["result"], "published");
    assert_eq!(more.json()["configuration"], json!(["MemorySize"]));
    assert_eq!(scf.function(F)["versions"]["2"]["MemorySize"], 512);
    assert_eq!(scf.function(F)["versions"]["1"]["MemorySize"], 256);
    assert_eq!(code_of(&scf, "2"), code_of(&scf, "1"));

    // What SCF would refuse is refused first, and nothing is sent.
    let before = scf.requests().len();
    let odd = deploy_with(&write_config(200));
    assert_eq!(odd.status, 2, "{}", odd.stderr);
    assert!(
        odd.stderr.contains("MemorySize 200 is not one SCF takes"),
        "{}",
        odd.stderr
    );
    let layered = files.path().join("layers.json");
    std::fs::write(
        &layered,
        r#"{"Layers": ["arn:aws:lambda:us-east-1:1:layer:x:1"]}"#,
    )
    .unwrap();
    let refused = deploy_with(&layered);
    assert_eq!(refused.status, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("Layers is not supported with --platform scf"),
        "{}",
        refused.stderr
    );
    assert_eq!(scf.requests().len(), before);
}

#[test]
fn an_update_in_progress_is_waited_for_before_the_upload() {
    let scf = live_on_version_1();
    // Someone's configuration change is still being applied when the run starts.
    scf.call(
        "UpdateFunctionConfiguration",
        json!({"FunctionName": F, "Timeout": 20}),
    );
    assert_eq!(scf.function(F)["versions"]["$LATEST"]["Status"], "Updating");
    let v2 = release("2");
    let waited = deploy(&scf, v2.path(), &[]);
    waited.assert_ok();
    assert_eq!(waited.json()["version"], "2");
    assert_eq!(scf.function(F)["versions"]["2"]["Timeout"], 20);
}

#[test]
fn a_trigger_on_latest_refuses_a_canary_and_a_pinned_one_is_named_and_kept() {
    let scf = live_on_version_1();
    scf.call(
        "CreateTrigger",
        json!({"FunctionName": F, "TriggerName": "nightly", "Type": "timer", "Qualifier": "$LATEST"}),
    );
    let v2 = release("2");
    let before = scf.requests().len();
    let refused = deploy(&scf, v2.path(), &["--canary-weight", "10%"]);
    assert_eq!(refused.status, 2, "{}", refused.stdout);
    assert!(
        refused.stdout.contains("trigger timer nightly"),
        "{}",
        refused.stdout
    );
    assert!(
        refused.stdout.contains("--allow-latest-triggers"),
        "{}",
        refused.stdout
    );
    let sent = &scf.requests()[before..];
    assert!(
        sent.iter().all(|a| a.starts_with("Get") || a.starts_with("List")),
        "{sent:?}"
    );
    assert_eq!(scf.versions(F), ["1"]);

    let allowed = deploy(
        &scf,
        v2.path(),
        &["--canary-weight", "10%", "--allow-latest-triggers"],
    );
    allowed.assert_ok();
    assert_eq!(
        allowed.json()["bypasses"],
        json!(["trigger timer nightly: bypasses live: runs $LATEST"])
    );

    // A trigger pinned to version 1 shows in status, and prune keeps its version.
    scf.call(
        "CreateTrigger",
        json!({"FunctionName": F, "TriggerName": "api", "Type": "apigw", "Qualifier": "1"}),
    );
    let status = scf.run(&["status", "--function-name", F, "--alias", A]);
    status.assert_ok();
    assert!(
        status
            .stdout
            .contains("trigger apigw api: bypasses live: pinned to version 1"),
        "{}",
        status.stdout
    );
    scf.run(&on_alias("promote", &[])).assert_ok();
    let v3 = release("3");
    deploy(&scf, v3.path(), &["--canary-weight", "100%"]).assert_ok();
    // 3 serves, 2 is recorded, 1 is pinned by the trigger: nothing goes.
    let pruned = scf.run(&["prune", "--function-name", F, "--keep", "0", "--output", "json"]);
    pruned.assert_ok();
    assert_eq!(pruned.json()["pruned"], json!([]));
    let protected = pruned.json()["protected"].to_string();
    assert!(
        protected.contains("trigger apigw api is bound to it"),
        "{protected}"
    );
    assert_eq!(scf.versions(F), ["1", "2", "3"]);
}
