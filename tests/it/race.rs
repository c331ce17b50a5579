//! Two deploys of different code to the same alias at once, against the
//! emulator. moto does not enforce `RevisionId` (ARCHITECTURE.md, "Where the emulator differs from AWS"), so
//! the refusal of the second write is covered with aws-smithy-mocks in
//! tests/sdk_mocks.rs (`an_alias_that_keeps_changing_fails_with_a_clear_conflict_and_no_third_write`
//! and `a_stale_alias_revision_is_observed_again_and_planned_once_more`); here
//! the real race shows what the emulator can: the alias ends in one of the two
//! intended states, never a mix, and a run that fails says why.

use crate::common::*;

#[tokio::test]
async fn two_deploys_at_once_leave_the_alias_in_one_of_the_two_intended_states() {
    let emulator = Emulator::start();
    for round in 0..4 {
        let function = format!("race-{round}");
        create_function(&emulator, &function).await;
        let stable = source_dir("stable = 1\n");
        deploy(
            &emulator,
            &function,
            "live",
            stable.path(),
            &["--canary-weight", "100%"],
        )
        .assert_ok();
        let stable_hash = served(&emulator, &function).await.0;

        let sources = [
            source_dir(&format!("def handler(event, context):\n    return 'a{round}'\n")),
            source_dir(&format!("def handler(event, context):\n    return 'b{round}'\n")),
        ];
        let children: Vec<_> = sources
            .iter()
            .map(|dir| {
                binary(Some(&emulator))
                    .for_alias("deploy", &function, "live")
                    .args(["--canary-weight", "10%"])
                    .arg("--source")
                    .arg(dir.path())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let runs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let intended: Vec<Served> = sources
            .iter()
            .map(|dir| {
                let hash = code_hash(dir.path());
                (stable_hash.clone(), Some((hash, 0.1)))
            })
            .collect();
        let after = served(&emulator, &function).await;
        assert!(
            intended.contains(&after),
            "round {round}: the alias serves {after:?}, neither intended state {intended:?}"
        );
        for run in &runs {
            let stderr = String::from_utf8_lossy(&run.stderr);
            match run.status.code() {
                Some(0) => {}
                Some(1) => assert!(
                    stderr.contains("changed concurrently"),
                    "round {round}: a failed run must say the function or alias changed under it:\n{stderr}"
                ),
                other => panic!("round {round}: exit {other:?}\n{stderr}"),
            }
        }
    }
}
