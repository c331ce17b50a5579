//! A staged rollout never undoes what someone else did to its alias. While
//! `deploy --strategy` holds its first canary step, another party acts on the
//! alias — an operator's rollback or promote, a hand edit of the weight,
//! another deploy — and the rollout must stop without writing, exit 1 with
//! the result `stopped`, say what changed, and leave the alias as they left it.

use std::process::Child;

use crate::common::*;

const V1: &str = "def handler(event, context):\n    return 1\n";
const V2: &str = "def handler(event, context):\n    return 2\n";
const V3: &str = "def handler(event, context):\n    return 3\n";

/// orders:live on version 1, then a rollout of version 2 in three steps,
/// running in the background; returns once version 2 has its 10 %.
async fn rollout_holding_a_canary(aws: &Emulator, code: &std::path::Path) -> Child {
    create_function(aws, "orders").await;
    deploy(aws, "orders", "live", source_dir(V1).path(), &[]).assert_ok();
    let mut command = binary(Some(aws));
    command
        .for_alias("deploy", "orders", "live")
        .args(["--output", "json", "--strategy", "10%,50%,100%"])
        .args(["--step-interval", "6s", "--poll-interval", "1s", "--source"])
        .arg(code);
    let child = rollout_in_background(aws, &mut command).await;
    assert_eq!(
        alias_state(aws, "orders", "live").await,
        ("1".into(), Some(("2".into(), 0.1))),
        "the rollout's first step"
    );
    child
}

/// Wait for the rollout; it must have stopped on `change`, leaving `left`.
async fn assert_stopped(aws: &Emulator, child: Child, change: &str, left: (String, Option<(String, f64)>)) {
    let rollout = wait_for(child);
    assert_eq!(rollout.status, 1, "{}", rollout.stderr);
    let report = rollout.json();
    assert_eq!(report["result"], "stopped", "{report}");
    let reason = report["rollback-reason"].as_str().unwrap();
    assert!(reason.contains(change), "{reason}");
    assert!(
        rollout.stderr.contains("changed by someone else"),
        "{}",
        rollout.stderr
    );
    assert_eq!(
        alias_state(aws, "orders", "live").await,
        left,
        "the alias is as they left it"
    );
    // The outputs describe the alias as they left it, not the rollout's last step.
    let (primary, canary) = &left;
    match canary {
        Some((version, weight)) => {
            assert_eq!(report["version"], version.as_str(), "{report}");
            assert_eq!(report["previous-version"], primary.as_str(), "{report}");
            assert_eq!(report["canary-weight"], *weight, "{report}");
        }
        None => {
            assert_eq!(report["version"], primary.as_str(), "{report}");
            assert_eq!(report["canary-weight"], 1.0, "{report}");
        }
    }
}

fn operator(aws: &Emulator, command: &str) -> Run {
    run(binary(Some(aws)).for_alias(command, "orders", "live"))
}

#[tokio::test(flavor = "current_thread")]
async fn an_operators_rollback_is_not_undone_by_the_rollout() {
    let aws = Emulator::start();
    let code = source_dir(V2);
    let child = rollout_holding_a_canary(&aws, code.path()).await;
    operator(&aws, "rollback").assert_ok();
    let left = ("1".to_string(), None);
    assert_stopped(&aws, child, "canary version 2 (10%) was removed", left).await;
}

#[tokio::test(flavor = "current_thread")]
async fn an_operators_promote_is_not_undone_by_the_rollout() {
    let aws = Emulator::start();
    let code = source_dir(V2);
    let child = rollout_holding_a_canary(&aws, code.path()).await;
    operator(&aws, "promote").assert_ok();
    let left = ("2".to_string(), None);
    assert_stopped(&aws, child, "the primary went from version 1 to 2", left).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_weight_edited_by_hand_is_not_undone_by_the_rollout() {
    let aws = Emulator::start();
    let code = source_dir(V2);
    let child = rollout_holding_a_canary(&aws, code.path()).await;
    let routing = aws_sdk_lambda::types::AliasRoutingConfiguration::builder()
        .additional_version_weights("2", 0.3)
        .build();
    let lambda = aws.lambda();
    let edit = lambda.update_alias().function_name("orders").name("live");
    edit.function_version("1")
        .routing_config(routing)
        .send()
        .await
        .unwrap();
    let left = ("1".to_string(), Some(("2".to_string(), 0.3)));
    assert_stopped(&aws, child, "canary version 2 went from 10% to 30%", left).await;
}

#[tokio::test(flavor = "current_thread")]
async fn another_deploy_is_not_undone_by_the_rollout() {
    let aws = Emulator::start();
    let code = source_dir(V2);
    let child = rollout_holding_a_canary(&aws, code.path()).await;
    let other = source_dir(V3);
    deploy(&aws, "orders", "live", other.path(), &["--canary-weight", "20%"]).assert_ok();
    let (primary, canary) = alias_state(&aws, "orders", "live").await;
    let (version, weight) = canary.clone().unwrap();
    assert_eq!((primary.as_str(), weight), ("1", 0.2));
    let change = format!("canary version 2 was replaced by {version} (20%)");
    assert_stopped(&aws, child, &change, ("1".to_string(), canary)).await;
}
