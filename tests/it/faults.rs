//! Faults between the binary and AWS, through the seeded fault-injecting proxy
//! in front of the emulator (tests/common/proxy.rs): throttling, 5xx answers,
//! connection resets before and after the request was carried out, slow
//! answers; and crashes (SIGKILL at each mutating request) followed by a
//! re-run. Nothing may leave an alias serving something nobody chose.

use std::process::Stdio;
use std::time::Duration;

use crate::common::proxy::{Crash, FaultProxy};
use crate::common::*;

/// Deploy `body` straight to the emulator at 100 %: the stable version.
fn deploy_stable(emulator: &Emulator, function: &str, body: &str) -> String {
    let dir = source_dir(body);
    let run = deploy(
        emulator,
        function,
        "live",
        dir.path(),
        &["--canary-weight", "100%"],
    );
    run.assert_ok();
    run.json()["code-sha256"].as_str().unwrap().to_string()
}

/// The binary pointed at the proxy instead of the emulator.
fn through(proxy: &FaultProxy, emulator: &Emulator) -> std::process::Command {
    let mut command = binary(Some(emulator));
    command.env("AWS_ENDPOINT_URL", &proxy.endpoint);
    command
}

/// How the seeded runs ended.
#[derive(Default)]
struct Tally {
    succeeded: usize,
    failed_on_stable: usize,
    answer_lost: usize,
    injected: usize,
}

/// Deploy new code to `function` once per seed through `proxy`, putting the
/// stable version back in front before each, and check how each run ended.
async fn seeded_deploys(
    emulator: &Emulator,
    proxy: &FaultProxy,
    function: &str,
    stable: &str,
    seeds: impl Iterator<Item = u64>,
) -> Tally {
    let mut tally = Tally::default();
    for seed in seeds {
        // Back to the stable version alone (straight to the emulator).
        if served(emulator, function).await != (stable.to_string(), None) {
            let mut back = None;
            for version in versions(emulator, function).await {
                if hash_of(emulator, function, &version).await == stable {
                    back = Some(version);
                }
            }
            emulator
                .lambda()
                .update_alias()
                .function_name(function)
                .name("live")
                .function_version(back.expect("the stable version is still published"))
                .routing_config(aws_sdk_lambda::types::AliasRoutingConfiguration::builder().build())
                .send()
                .await
                .unwrap();
        }
        let before = served(emulator, function).await;
        assert_eq!(before, (stable.to_string(), None));

        let dir = source_dir(&format!("def handler(event, context):\n    return {seed}\n"));
        let new_hash = code_hash(dir.path());
        let weight = if seed % 3 == 0 { "100%" } else { "10%" };
        let intended: Served = if weight == "100%" {
            (new_hash.clone(), None)
        } else {
            (stable.to_string(), Some((new_hash.clone(), 0.1)))
        };
        // Most seeds meet a fault on a quarter of their requests; the last
        // dozen on most of them, so that some runs run out of retries.
        let rate = if seed < 40 { 0.25 } else { 0.65 };
        proxy.arm(seed, rate, None);
        let mut command = through(proxy, emulator);
        command
            .for_alias("deploy", function, "live")
            .args(["--canary-weight", weight])
            .arg("--source")
            .arg(dir.path());
        let run = tokio::task::spawn_blocking(move || run(&mut command))
            .await
            .unwrap();
        tally.injected += proxy.injected().values().sum::<usize>();
        let after = served(emulator, function).await;
        match run.status {
            0 => {
                assert_eq!(
                    after, intended,
                    "seed {seed}: exit 0 but the alias is not as intended\n{}",
                    run.stderr
                );
                tally.succeeded += 1;
            }
            1 => {
                assert!(run.stderr.contains("error:"), "seed {seed}: {}", run.stderr);
                if after == before {
                    tally.failed_on_stable += 1;
                } else {
                    // Only possible when the alias write itself landed and
                    // its answer, and the read-back after it, were both lost.
                    assert_eq!(
                        after, intended,
                        "seed {seed}: a failed run left the alias on something nobody chose\n{}",
                        run.stderr
                    );
                    tally.answer_lost += 1;
                }
            }
            other => panic!("seed {seed}: exit status {other}\n{}", run.stderr),
        }
    }
    tally
}

#[tokio::test]
async fn fifty_seeded_deploys_through_faults_end_as_intended_or_fail_on_the_stable_version() {
    let emulator = Emulator::start();
    let functions = ["orders", "billing", "search", "users"];
    let mut stable = Vec::new();
    for function in functions {
        create_function(&emulator, function).await;
        stable.push(deploy_stable(
            &emulator,
            function,
            &format!("stable = '{function}'\n"),
        ));
    }
    // One proxy per function, so the four functions' runs go at once.
    let proxies: Vec<FaultProxy> = functions
        .iter()
        .map(|_| FaultProxy::start(&emulator.endpoint))
        .collect();
    let runs = functions.iter().enumerate().map(|(index, function)| {
        let seeds = (0..52u64).filter(move |seed| *seed as usize % functions.len() == index);
        seeded_deploys(&emulator, &proxies[index], function, &stable[index], seeds)
    });
    let tallies = futures_util::future::join_all(runs).await;
    let total = |field: fn(&Tally) -> usize| tallies.iter().map(field).sum::<usize>();
    let (succeeded, failed_on_stable, answer_lost, injected) = (
        total(|t| t.succeeded),
        total(|t| t.failed_on_stable),
        total(|t| t.answer_lost),
        total(|t| t.injected),
    );
    eprintln!(
        "52 seeded deploys: {succeeded} as intended, {failed_on_stable} failed on the stable version, {answer_lost} failed after the alias write landed; {injected} faults injected"
    );
    assert_eq!(succeeded + failed_on_stable + answer_lost, 52);
    assert!(succeeded >= 30, "most runs get through the faults with retries");
    assert!(failed_on_stable >= 1, "some runs must run out of retries");
    assert!(injected >= 100, "the proxy injected faults");
}

/// Run `args` through the proxy, SIGKILL the binary when the proxy reaches the
/// crash point. Returns true if the crash point was reached.
fn run_and_crash(proxy: &FaultProxy, emulator: &Emulator, args: &[String], crash: Crash) -> bool {
    proxy.arm(0, 0.0, Some(crash));
    let mut child = through(proxy, emulator)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    loop {
        if proxy.crashes.recv_timeout(Duration::from_millis(20)).is_ok() {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            proxy.killed();
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
    }
}

/// Re-run `args` without faults; returns the mutating requests moto received.
fn rerun(proxy: &FaultProxy, emulator: &Emulator, args: &[String]) -> Vec<(String, String)> {
    proxy.arm(0, 0.0, None);
    let run = run(through(proxy, emulator).args(args));
    assert_eq!(run.status, 0, "the re-run failed:\n{}", run.stderr);
    proxy.forwarded()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// What kind of upload a mutating request is, if it is one.
fn upload_kind((method, path): &(String, String)) -> Option<&'static str> {
    match method.as_str() {
        "PUT" if path.ends_with("/code") => Some("UpdateFunctionCode"),
        "PUT" | "POST" if path.contains(".zip") => Some("S3 upload"),
        _ => None,
    }
}

/// For every mutating request k of `command` (before and after forwarding it):
/// set up with `prepare`, crash at k, re-run, and compare with an uninterrupted
/// run. An upload carried out before the crash is not sent again. Returns the
/// number of mutating requests of the uninterrupted run.
async fn crash_at_every_step(
    emulator: &Emulator,
    proxy: &FaultProxy,
    name: &str,
    prepare: impl AsyncFn(&str),
    command: impl Fn(&str) -> Vec<String>,
) -> usize {
    let reference = format!("{name}-reference");
    prepare(&reference).await;
    proxy.arm(0, 0.0, None);
    let run = run(through(proxy, emulator).args(command(&reference)));
    assert_eq!(run.status, 0, "{}", run.stderr);
    let sequence = proxy.forwarded();
    assert!(!sequence.is_empty());
    let expected = served(emulator, &reference).await;

    for k in 1..=sequence.len() {
        for crash in [Crash::Before(k), Crash::After(k)] {
            let function = format!(
                "{name}-{}{k}",
                if matches!(crash, Crash::Before(_)) {
                    "b"
                } else {
                    "a"
                }
            );
            prepare(&function).await;
            assert!(
                run_and_crash(proxy, emulator, &command(&function), crash),
                "{function}: the run ended before the crash point {crash:?}"
            );
            let killed_at = served(emulator, &function).await;
            let again = rerun(proxy, emulator, &command(&function));
            assert_eq!(
                served(emulator, &function).await,
                expected,
                "{function}: killed at {crash:?} (alias then {killed_at:?}), then re-run: differs from an uninterrupted run"
            );
            let carried_out = match crash {
                Crash::Before(k) => &sequence[..k - 1],
                Crash::After(k) => &sequence[..k],
            };
            for done in carried_out.iter().filter_map(upload_kind) {
                assert!(
                    !again.iter().any(|request| upload_kind(request) == Some(done)),
                    "{function}: {done} was carried out before the crash {crash:?} and sent again: {again:?}"
                );
            }
        }
    }
    sequence.len()
}

#[tokio::test]
async fn a_deploy_killed_at_any_request_converges_on_a_rerun_without_a_second_upload() {
    let emulator = Emulator::start();
    let proxy = FaultProxy::start(&emulator.endpoint);
    emulator.create_bucket("artifacts").await;
    let new_code = source_dir("def handler(event, context):\n    return 'new'\n");
    let prepare = async |function: &str| {
        create_function(&emulator, function).await;
        deploy_stable(&emulator, function, "stable = 1\n");
    };
    for s3 in [false, true] {
        let command = |function: &str| {
            let mut args = strings(&[
                "deploy",
                "--function-name",
                function,
                "--alias",
                "live",
                "--canary-weight",
                "10%",
            ]);
            args.push("--source".into());
            args.push(new_code.path().display().to_string());
            if s3 {
                args.extend(strings(&["--s3-bucket", "artifacts"]));
            }
            args
        };
        let name = if s3 { "through-s3" } else { "direct" };
        let steps = crash_at_every_step(&emulator, &proxy, name, prepare, command).await;
        assert_eq!(
            steps,
            if s3 { 4 } else { 3 },
            "{name}: (PutObject,) UpdateFunctionCode, PublishVersion, UpdateAlias"
        );
    }
}

#[tokio::test]
async fn a_promote_or_rollback_killed_at_its_write_converges_on_a_rerun() {
    let emulator = Emulator::start();
    let proxy = FaultProxy::start(&emulator.endpoint);
    // Stable version at 90 %, a canary at 10 %.
    let prepare = async |function: &str| {
        create_function(&emulator, function).await;
        deploy_stable(&emulator, function, "stable = 1\n");
        let canary = source_dir("def handler(event, context):\n    return 'canary'\n");
        deploy(
            &emulator,
            function,
            "live",
            canary.path(),
            &["--canary-weight", "10%"],
        )
        .assert_ok();
    };
    let target =
        |command: &str, function: &str| strings(&[command, "--function-name", function, "--alias", "live"]);
    let steps = crash_at_every_step(&emulator, &proxy, "promote", prepare, |f| target("promote", f)).await;
    assert_eq!(steps, 1);
    let steps = crash_at_every_step(&emulator, &proxy, "rollback", prepare, |f| target("rollback", f)).await;
    assert_eq!(steps, 1);
    // Rollback after a promotion: back to the version before it.
    let promoted = async |function: &str| {
        prepare(function).await;
        run(binary(Some(&emulator)).args(target("promote", function))).assert_ok();
    };
    let steps = crash_at_every_step(&emulator, &proxy, "undo", promoted, |f| target("rollback", f)).await;
    assert_eq!(steps, 1);
}
