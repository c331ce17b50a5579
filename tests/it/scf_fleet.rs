//! SCF fleets: `deploy --manifest --platform scf` through the shared runner
//! (waves across regions with a bake, `--on-wave-failure rollback`,
//! `--wave`, `--keep-versions` per entry, each region's requests paced),
//! against the SCF contract double, which keeps each region's functions
//! apart as SCF does.

use serde_json::{Value, json};

use crate::common::scf_double::{REGION, ScfDouble};
use crate::common::source_dir;

const SHANGHAI: &str = "ap-shanghai";

fn release(value: &str) -> tempfile::TempDir {
    source_dir(&format!(
        "def main_handler(event, context):\n    return {value}\n"
    ))
}

/// orders in ap-guangzhou and ap-shanghai, alias live serving version 1 in each.
fn orders_in_two_regions() -> ScfDouble {
    let scf = ScfDouble::start(&["orders", "ap-shanghai/default/orders"]);
    let one = release("1");
    for region in [REGION, SHANGHAI] {
        scf.run(&[
            "deploy",
            "--function-name",
            "orders",
            "--alias",
            "live",
            "--source",
            one.path().to_str().unwrap(),
            "--region",
            region,
        ])
        .assert_ok();
    }
    scf
}

/// orders as the double holds it in `region`.
fn orders_in(scf: &ScfDouble, region: &str) -> Value {
    let key = match region {
        REGION => "default/orders".to_string(),
        other => format!("{other}/default/orders"),
    };
    scf.get_state()[key].clone()
}

/// The alias live in `region`: its version and canary weights.
fn live_in(scf: &ScfDouble, region: &str) -> (String, Value) {
    let alias = &orders_in(scf, region)["aliases"]["live"];
    (
        alias["FunctionVersion"].as_str().unwrap().to_string(),
        alias["RoutingConfig"]["AdditionalVersionWeights"].clone(),
    )
}

/// A manifest shipping `source` to orders in both regions, in two waves
/// (ap-guangzhou first, baked one second), with `entry` added to each entry.
fn fleet_manifest(dir: &std::path::Path, source: &std::path::Path, entry: &str) -> std::path::PathBuf {
    let path = dir.join("fleet.toml");
    std::fs::write(
        &path,
        format!(
            "[defaults]\nplatform = \"scf\"\nalias = \"live\"\ncanary-weight = \"10%\"\n\n[[functions]]\nname = \"orders\"\nregion = \"{REGION}\"\nsource = {source:?}\n{entry}\n[[functions]]\nname = \"orders\"\nregion = \"{SHANGHAI}\"\nsource = {source:?}\n{entry}\n[[waves]]\nname = \"first\"\nregions = [\"{REGION}\"]\nbake = \"1s\"\n\n[[waves]]\nname = \"rest\"\n"
        ),
    )
    .unwrap();
    path
}

/// A release goes out wave by wave to both regions; the next one fails in
/// the second wave (its publish is refused in ap-shanghai) and, with
/// `--on-wave-failure rollback`, the first wave's alias goes back to
/// exactly what it served before — its older canary at its weight — while
/// the failed target's alias, never written, is untouched.
#[test]
fn a_manifest_deploys_in_waves_and_a_failed_wave_puts_back_what_it_moved() {
    let scf = orders_in_two_regions();
    let files = tempfile::tempdir().unwrap();
    let two = release("2");
    let path = fleet_manifest(files.path(), two.path(), "");
    let manifest = path.to_str().unwrap();

    let shipped = scf.run(&["deploy", "--manifest", manifest, "--output", "json"]);
    shipped.assert_ok();
    let results = shipped.json();
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), 2, "{results:?}");
    for (result, (region, wave)) in results.iter().zip([(REGION, "first"), (SHANGHAI, "rest")]) {
        assert_eq!(result["result"], "published", "{result}");
        assert_eq!(result["region"], region, "{result}");
        assert_eq!(result["wave"], wave, "{result}");
        assert_eq!(result["account"], "default", "the namespace: {result}");
    }
    for region in [REGION, SHANGHAI] {
        assert_eq!(
            live_in(&scf, region),
            ("1".to_string(), json!([{"Version": "2", "Weight": 0.1}])),
            "{region}"
        );
    }
    assert!(
        shipped.stderr.contains("wave first"),
        "the waves are narrated: {}",
        shipped.stderr
    );

    // The next release: ap-shanghai refuses its publish.
    let three = release("3");
    let path = fleet_manifest(files.path(), three.path(), "");
    scf.fail_in(SHANGHAI, "PublishVersion", "FailedOperation.PublishVersion", 1);
    let failed = scf.run(&[
        "deploy",
        "--manifest",
        path.to_str().unwrap(),
        "--output",
        "json",
        "--on-wave-failure",
        "rollback",
    ]);
    assert_eq!(failed.status, 1, "{}", failed.stderr);
    let results = failed.json();
    assert_eq!(results[0]["result"], "rolled-back", "{results}");
    assert_eq!(
        results[0]["rollback-reason"], "wave rest failed beyond its tolerance (1 of 1 targets failed)",
        "{results}"
    );
    assert!(
        results[1]["error"]
            .as_str()
            .unwrap()
            .contains("FailedOperation.PublishVersion"),
        "{results}"
    );
    // Exactly what each alias served before this run.
    for region in [REGION, SHANGHAI] {
        assert_eq!(
            live_in(&scf, region),
            ("1".to_string(), json!([{"Version": "2", "Weight": 0.1}])),
            "{region}"
        );
    }
    // ap-guangzhou published version 3 (then put its alias back); nothing
    // was published in ap-shanghai.
    assert!(orders_in(&scf, REGION)["versions"].get("3").is_some());
    assert!(orders_in(&scf, SHANGHAI)["versions"].get("3").is_none());
}

/// `--wave rest` ships only the later wave, after checking that the first
/// wave's targets serve this release already: while they do not, nothing
/// is written; once they do, the run writes only ap-shanghai.
#[test]
fn one_wave_per_job_checks_the_earlier_waves_first() {
    let scf = orders_in_two_regions();
    let files = tempfile::tempdir().unwrap();
    let two = release("2");
    let path = fleet_manifest(files.path(), two.path(), "canary-weight = \"100%\"\n");
    let manifest = path.to_str().unwrap();
    let before = scf.requests();

    let early = scf.run(&["deploy", "--manifest", manifest, "--wave", "rest"]);
    assert_eq!(early.status, 1, "{}", early.stderr);
    assert!(
        early
            .stdout
            .contains("does not serve this release yet, and wave first runs before this one"),
        "{}",
        early.stdout
    );
    let writes = |requests: &[String]| {
        requests
            .iter()
            .filter(|a| !a.starts_with("Get") && !a.starts_with("List"))
            .count()
    };
    assert_eq!(writes(&scf.requests()[before.len()..]), 0, "nothing written");

    scf.run(&["deploy", "--manifest", manifest, "--wave", "first"])
        .assert_ok();
    assert_eq!(live_in(&scf, REGION), ("2".to_string(), json!([])));
    assert_eq!(live_in(&scf, SHANGHAI).0, "1", "the later wave waits");

    let rest = scf.run(&[
        "deploy",
        "--manifest",
        manifest,
        "--wave",
        "rest",
        "--output",
        "json",
    ]);
    rest.assert_ok();
    let results = rest.json();
    assert_eq!(results[0]["result"], "skipped", "{results}");
    assert_eq!(results[1]["result"], "published", "{results}");
    assert_eq!(live_in(&scf, SHANGHAI), ("2".to_string(), json!([])));
}

/// A fleet's requests keep to `--max-requests-per-second` in each region,
/// in every second (not on average): four functions in one region, each
/// released.
#[test]
fn a_fleet_keeps_each_regions_pace_in_every_second() {
    let names = ["fa", "fb", "fc", "fd"];
    let held: Vec<String> = names.iter().map(|n| format!("default/{n}")).collect();
    let held: Vec<&str> = held.iter().map(String::as_str).collect();
    let scf = ScfDouble::start(&held);
    let files = tempfile::tempdir().unwrap();
    let one = release("1");
    let mut text = "[defaults]\nplatform = \"scf\"\nalias = \"live\"\n".to_string();
    for name in names {
        text.push_str(&format!(
            "\n[[functions]]\nname = \"{name}\"\nsource = {:?}\n",
            one.path()
        ));
    }
    let path = files.path().join("fleet.toml");
    std::fs::write(&path, text).unwrap();
    let per_second = 5;
    scf.run(&[
        "deploy",
        "--manifest",
        path.to_str().unwrap(),
        "--max-requests-per-second",
        &per_second.to_string(),
    ])
    .assert_ok();
    let at: Vec<f64> = scf.requests_at().into_iter().map(|(_, at)| at).collect();
    assert!(
        at.len() > 4 * 5,
        "every function was read and written: {}",
        at.len()
    );
    // Requests the pace releases 1/5 s apart may arrive a little closer
    // together; a window just under a second holds at most five either way.
    let most = at
        .iter()
        .map(|start| at.iter().filter(|t| **t >= *start && **t < start + 0.95).count())
        .max()
        .unwrap();
    assert!(most <= per_second, "{most} requests within one second");
}

/// What SCF would refuse in any entry is refused before the first request
/// anywhere (exit 2), naming the entry and what an SCF entry takes.
#[test]
fn an_scf_manifest_entry_scf_cannot_take_is_refused_before_any_request() {
    let scf = ScfDouble::start(&["orders"]);
    let files = tempfile::tempdir().unwrap();
    let one = release("1");
    std::fs::write(
        files.path().join("orders.json"),
        r#"{"MemorySize": 256, "Role": "arn:aws:iam::123456789012:role/r"}"#,
    )
    .unwrap();
    for (entry, says) in [
        (
            "image-uri = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/orders:v2\"\n".to_string(),
            "image-uri is Lambda's: an SCF function ships a zip",
        ),
        (
            format!("source = {:?}\nfunction-config = \"orders.json\"\n", one.path()),
            "Role is not supported with --platform scf",
        ),
        (
            format!(
                "source = {:?}\nrole-arn = \"arn:aws:iam::123456789012:role/d\"\n",
                one.path()
            ),
            "role-arn is Lambda's",
        ),
        (
            format!(
                "source = {:?}\n\n[[waves]]\nname = \"first\"\nalarms = [\"orders-errors\"]\n",
                one.path()
            ),
            "wave first watches alarms, which SCF runs do not read",
        ),
    ] {
        let path = files.path().join("fleet.toml");
        std::fs::write(
            &path,
            format!("[defaults]\nplatform = \"scf\"\nalias = \"live\"\n\n[[functions]]\nname = \"orders\"\n{entry}"),
        )
        .unwrap();
        let refused = scf.run(&["deploy", "--manifest", path.to_str().unwrap()]);
        assert_eq!(refused.status, 2, "{entry}: {}", refused.stderr);
        assert!(refused.stderr.contains(says), "{entry}: {}", refused.stderr);
    }
    assert!(scf.requests().is_empty(), "{:?}", scf.requests());
}

/// A target whose rollout rolled back fails its wave, and no later wave
/// starts: the first wave's post-traffic hook fails, ap-guangzhou goes back
/// to version 1, ap-shanghai is never written and is named not started.
#[test]
fn a_rolled_back_target_stops_the_next_wave() {
    let scf = orders_in_two_regions();
    let files = tempfile::tempdir().unwrap();
    let two = release("2");
    let path = fleet_manifest(
        files.path(),
        two.path(),
        "strategy = \"10%,100%\"\nstep-interval = \"1s\"\n",
    );
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("canary-weight = \"10%\"\n", "");
    std::fs::write(&path, text).unwrap();
    let output = tempfile::NamedTempFile::new().unwrap();
    let mut command = scf.command();
    command
        .args(["deploy", "--platform", "scf", "--output", "json", "--manifest"])
        .arg(&path)
        .args(["--poll-interval", "1s", "--post-traffic-hook", "exit 3"])
        .env("GITHUB_OUTPUT", output.path());
    let failed = crate::common::run(&mut command);
    assert_eq!(failed.status, 1, "{}", failed.stderr);
    let results = failed.json();
    assert_eq!(results[0]["result"], "rolled-back", "{results}");
    assert!(
        results[1]["error"].as_str().unwrap().contains("not started"),
        "{results}"
    );
    let outputs = crate::common::parse_github_output(&std::fs::read_to_string(output.path()).unwrap());
    assert_eq!(outputs["failed"], format!("default/{REGION}/orders:live"));
    assert_eq!(outputs["not-started"], format!("default/{SHANGHAI}/orders:live"));
    for region in [REGION, SHANGHAI] {
        assert_eq!(live_in(&scf, region), ("1".to_string(), json!([])), "{region}");
    }
    assert!(orders_in(&scf, SHANGHAI)["versions"].get("2").is_none());
}
