//! A fleet across accounts and regions against the emulator: moto keeps one
//! backend per account and region, and credentials from `sts:AssumeRole`
//! into another account id act in that account. Each target is read back
//! with the SDK in its own account and region.

use aws_config::Region;
use aws_sdk_lambda::config::ProvideCredentials;

use crate::common::proxy::FaultProxy;
use crate::common::*;

const OTHER_ACCOUNT: &str = "111111111111";
const ROLE: &str = "arn:aws:iam::111111111111:role/deployer";
const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];

/// A Lambda client in `region` of the test account, or of the other one
/// (through `sts:AssumeRole`, as the tool does).
async fn lambda_in(aws: &Emulator, other_account: bool, region: &str) -> aws_sdk_lambda::Client {
    // The SDK's defaults bring the clock and sleep that assuming a role needs.
    let base = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(&aws.endpoint)
        .credentials_provider(aws_sdk_lambda::config::Credentials::new(
            ACCESS_KEY, SECRET_KEY, None, None, "tests",
        ))
        .http_client(http_client())
        .load()
        .await;
    if !other_account {
        return aws_sdk_lambda::Client::new(&base);
    }
    let provider = aws_config::sts::AssumeRoleProvider::builder(ROLE)
        .session_name("tests")
        .configure(&base)
        .build()
        .await;
    let credentials = provider.provide_credentials().await.expect("assume the role");
    if region == REGIONS[0] {
        aws.create_role_as("orders-role", credentials.access_key_id());
    }
    let config = base
        .to_builder()
        .credentials_provider(aws_sdk_lambda::config::SharedCredentialsProvider::new(provider))
        .build();
    aws_sdk_lambda::Client::new(&config)
}

async fn create_orders(lambda: &aws_sdk_lambda::Client, account: &str) {
    create_function_with(
        lambda,
        "orders",
        &format!("arn:aws:iam::{account}:role/orders-role"),
    )
    .await;
}

/// `orders` in each of [`REGIONS`] of the test account; a client for each.
async fn orders_in_three_regions(aws: &Emulator) -> Vec<(&'static str, aws_sdk_lambda::Client)> {
    aws.create_role("orders-role");
    let mut clients = Vec::new();
    for region in REGIONS {
        let lambda = lambda_in(aws, false, region).await;
        create_orders(&lambda, "123456789012").await;
        clients.push((region, lambda));
    }
    clients
}

/// Two text fields of each element of a `results` array.
fn pairs(results: &serde_json::Value, a: &str, b: &str) -> Vec<(String, String)> {
    results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[a].as_str().unwrap().to_string(),
                r[b].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn serving(lambda: &aws_sdk_lambda::Client) -> Option<String> {
    let alias = lambda
        .get_alias()
        .function_name("orders")
        .name("live")
        .send()
        .await
        .ok()?;
    alias.function_version().map(str::to_string)
}

fn manifest(repo: &std::path::Path, body: &str) -> std::path::PathBuf {
    manifest_with(repo, body, "")
}

/// [`manifest`], with more `[defaults]` lines.
fn manifest_with(repo: &std::path::Path, body: &str, defaults: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(repo.join("fns/orders")).unwrap();
    std::fs::write(repo.join("fns/orders/index.py"), body).unwrap();
    let path = repo.join("lambda-rollout.toml");
    let text = format!(
        r#"
[defaults]
alias = "live"
regions = {REGIONS:?}
{defaults}

[[functions]]
name = "orders"
source = "fns/orders"

[[functions]]
name = "orders"
source = "fns/orders"
role-arn = "{ROLE}"
"#
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// `fns/orders` holding version 1's code, beside the manifest's path.
fn fleet_repo(repo: &std::path::Path) -> std::path::PathBuf {
    std::fs::create_dir_all(repo.join("fns/orders")).unwrap();
    std::fs::write(repo.join("fns/orders/index.py"), "def handler(e, c): return 1\n").unwrap();
    repo.join("lambda-rollout.toml")
}

/// orders in every region at 100 %, in two waves: `first` (us-east-1,
/// with `first_wave` lines such as its bake) and `rest`. A deploy of `body`
/// with `extra` flags, as the returned closure does it.
fn two_waves<'a>(
    aws: &'a Emulator,
    repo: &'a std::path::Path,
    first_wave: &str,
    extra: &'a [&'a str],
) -> impl Fn(&str) -> Run + 'a {
    std::fs::create_dir_all(repo.join("fns/orders")).unwrap();
    let path = repo.join("lambda-rollout.toml");
    let text = format!(
        r#"
[defaults]
alias = "live"
canary-weight = "100%"
regions = {REGIONS:?}

[[functions]]
name = "orders"
source = "fns/orders"

[[waves]]
name = "first"
regions = ["us-east-1"]
{first_wave}

[[waves]]
name = "rest"
"#
    );
    std::fs::write(&path, text).unwrap();
    move |body: &str| {
        std::fs::write(repo.join("fns/orders/index.py"), body).unwrap();
        let mut command = binary(Some(aws));
        run(command
            .args(["deploy", "--output", "json"])
            .args(extra)
            .arg("--manifest")
            .arg(&path))
    }
}

/// One manifest, two accounts × three regions: six targets, each deployed in
/// its own account and region and named by them in the results; then a
/// target gone missing is found by preflight, and nothing is written anywhere.
#[tokio::test(flavor = "current_thread")]
async fn a_manifest_deploys_across_accounts_and_regions_after_a_preflight() {
    let aws = Emulator::start();
    aws.create_role("orders-role");
    let mut clients = Vec::new();
    for other in [false, true] {
        for region in REGIONS {
            let lambda = lambda_in(&aws, other, region).await;
            create_orders(&lambda, if other { OTHER_ACCOUNT } else { "123456789012" }).await;
            clients.push(((other, region), lambda));
        }
    }
    let repo = tempfile::tempdir().unwrap();
    let path = manifest(repo.path(), "def handler(e, c): return 1\n");
    let mut command = binary(Some(&aws));
    command
        .args(["deploy", "--output", "json", "--manifest"])
        .arg(&path);
    let result = run(&mut command);
    result.assert_ok();
    let results = result.json();
    let mut places = pairs(&results, "account", "region");
    places.sort();
    let mut expected: Vec<(String, String)> = ["123456789012", OTHER_ACCOUNT]
        .iter()
        .flat_map(|a| REGIONS.iter().map(move |r| (a.to_string(), r.to_string())))
        .collect();
    expected.sort();
    assert_eq!(places, expected);
    for ((other, region), lambda) in &clients {
        assert_eq!(serving(lambda).await.as_deref(), Some("1"), "{other} {region}");
    }
    let code_hashes: Vec<&str> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code-sha256"].as_str().unwrap())
        .collect();
    assert!(
        code_hashes.iter().all(|h| *h == code_hashes[0]),
        "the same bytes everywhere"
    );
    assert_eq!(
        result
            .stderr
            .matches("(once, for every target that ships it)")
            .count(),
        1,
        "packaged once for six targets: {}",
        result.stderr
    );

    // orders is deleted in the other account's eu-west-1: preflight names
    // it, and no target anywhere gets the new code.
    let (_, gone) = clients
        .iter()
        .find(|((other, region), _)| *other && *region == "eu-west-1")
        .unwrap();
    gone.delete_function()
        .function_name("orders")
        .send()
        .await
        .unwrap();
    let path = manifest(repo.path(), "def handler(e, c): return 2\n");
    let mut again = binary(Some(&aws));
    again
        .args(["deploy", "--output", "json", "--manifest"])
        .arg(&path);
    let refused = run(&mut again);
    assert_eq!(refused.status, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("preflight found 1 problem before any write")
            && refused
                .stderr
                .contains("111111111111/eu-west-1/orders:live: function orders does not exist"),
        "{}",
        refused.stderr
    );
    for ((other, region), lambda) in &clients {
        if *other && *region == "eu-west-1" {
            continue;
        }
        assert_eq!(
            serving(lambda).await.as_deref(),
            Some("1"),
            "{other} {region}: nothing written"
        );
        let versions = lambda
            .list_versions_by_function()
            .function_name("orders")
            .send()
            .await
            .unwrap();
        assert_eq!(
            versions.versions().len(),
            2,
            "$LATEST and 1 only, in {other} {region}"
        );
    }
}

/// `status` and `prune` take the same manifest: each target read, or
/// pruned, in its own account and region, and named by them.
#[tokio::test(flavor = "current_thread")]
async fn status_and_prune_act_in_every_account_and_region() {
    let aws = Emulator::start();
    aws.create_role("orders-role");
    let mut clients = Vec::new();
    for other in [false, true] {
        for region in REGIONS {
            let lambda = lambda_in(&aws, other, region).await;
            create_orders(&lambda, if other { OTHER_ACCOUNT } else { "123456789012" }).await;
            clients.push(lambda);
        }
    }
    let repo = tempfile::tempdir().unwrap();
    for round in 1..=3 {
        let path = manifest_with(
            repo.path(),
            &format!("def handler(e, c): return {round}\n"),
            r#"canary-weight = "100%""#,
        );
        let mut deploy = binary(Some(&aws));
        run(deploy.args(["deploy", "--manifest"]).arg(&path)).assert_ok();
    }
    let path = repo.path().join("lambda-rollout.toml");
    let mut status = binary(Some(&aws));
    let status = run(status
        .args(["status", "--output", "json", "--manifest"])
        .arg(&path));
    status.assert_ok();
    let read = status.json();
    let mut served: Vec<(String, String)> = read
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let place = format!(
                "{}/{}",
                r["account"].as_str().unwrap(),
                r["region"].as_str().unwrap()
            );
            (place, r["primary"]["version"].as_str().unwrap().to_string())
        })
        .collect();
    served.sort();
    let mut expected: Vec<(String, String)> = ["123456789012", OTHER_ACCOUNT]
        .iter()
        .flat_map(|a| REGIONS.iter().map(move |r| (format!("{a}/{r}"), "3".to_string())))
        .collect();
    expected.sort();
    assert_eq!(served, expected);
    assert!(
        status.stdout.contains("\"rollback-to\": \"2\""),
        "{}",
        status.stdout
    );

    // Version 1 is neither served nor the recorded rollback target: prune
    // deletes it in every account and region, and nothing else.
    let mut prune = binary(Some(&aws));
    let pruned = run(prune
        .args(["prune", "--keep", "0", "--output", "json", "--manifest"])
        .arg(&path));
    pruned.assert_ok();
    let mut names: Vec<String> = pruned
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["pruned"], serde_json::json!(["1"]), "{r}");
            r["function-arn"].as_str().unwrap().to_string()
        })
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 6, "six functions pruned: {names:?}");
    assert!(
        pruned
            .stderr
            .contains("111111111111/eu-west-1: deleted version 1 of orders"),
        "each line names its account-region: {}",
        pruned.stderr
    );
    for lambda in &clients {
        let versions = lambda
            .list_versions_by_function()
            .function_name("orders")
            .send()
            .await
            .unwrap();
        let mut numbers: Vec<&str> = versions.versions().iter().filter_map(|v| v.version()).collect();
        numbers.sort();
        assert_eq!(numbers, ["$LATEST", "2", "3"]);
    }
}

/// Bad fleet input exits 2 before any request.
#[tokio::test(flavor = "current_thread")]
async fn bad_fleet_input_is_refused_before_any_request() {
    let aws = Emulator::start();
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join("fns/orders")).unwrap();
    std::fs::write(repo.path().join("fns/orders/index.py"), "x = 1\n").unwrap();
    let cases = [
        ("regions = [\"mars-1\"]", "'mars-1' is not an AWS region"),
        ("regions = []", "regions is empty"),
        (
            "region = \"us-east-1\"\nregions = [\"eu-west-1\"]",
            "give region or regions, not both",
        ),
        ("role-arn = \"arn:aws:iam::42:role/x\"", "is not an IAM role ARN"),
        ("external-id = \"x\"", "external-id goes with a role-arn"),
        (
            "region = \"us-east-1\"\n[[waves]]\nname = \"a\"\nregions = [\"us-*\"]\n[[waves]]\nname = \"b\"\nregions = [\"us-east-1\"]",
            "waves a and b both select default/us-east-1/orders",
        ),
        (
            "[[waves]]\nname = \"a\"\nregions = []",
            "wave a: regions is empty",
        ),
        (
            "[[waves]]\nname = \"a\"\nfailure-tolerance = \"150%\"",
            "wave a: '150%' is not a failure tolerance",
        ),
        (
            "region = \"eu-west-1\"\n[[waves]]\nname = \"a\"\nregions = [\"us-*\"]",
            "no wave takes default/eu-west-1/orders",
        ),
    ];
    aws.start_recording();
    for (keys, message) in cases {
        let path = repo.path().join("lambda-rollout.toml");
        let text =
            format!("[[functions]]\nname = \"orders\"\nalias = \"live\"\nsource = \"fns/orders\"\n{keys}\n");
        std::fs::write(&path, text).unwrap();
        let mut command = binary(Some(&aws));
        let result = run(command.args(["deploy", "--manifest"]).arg(&path));
        assert_eq!(result.status, 2, "{keys}: {}", result.stderr);
        assert!(result.stderr.contains(message), "{keys}: {}", result.stderr);
    }
    let arn = repo.path().join("arn.toml");
    std::fs::write(
        &arn,
        "[[functions]]\nname = \"arn:aws:lambda:eu-west-1:123456789012:function:orders\"\nalias = \"live\"\nsource = \"fns/orders\"\nregions = [\"us-east-1\"]\n",
    )
    .unwrap();
    let mut command = binary(Some(&aws));
    let result = run(command.args(["deploy", "--manifest"]).arg(&arn));
    assert_eq!(result.status, 2);
    assert!(
        result
            .stderr
            .contains("is in eu-west-1, but the entry deploys it to us-east-1"),
        "{}",
        result.stderr
    );
    assert!(aws.recorded().is_empty(), "no request at all");
}

/// `[[waves]]`: us-east-1 first, baking before the rest. When the first wave
/// fails beyond its tolerance (its alias write is denied), the later wave is
/// never started and its targets keep serving what they served.
#[tokio::test(flavor = "current_thread")]
async fn a_failed_first_wave_starts_no_later_wave() {
    let aws = Emulator::start();
    let clients = orders_in_three_regions(&aws).await;
    let repo = tempfile::tempdir().unwrap();
    let deploy_fleet = two_waves(&aws, repo.path(), "bake = \"1s\"", &[]);

    let first = deploy_fleet("def handler(e, c): return 1\n");
    first.assert_ok();
    let waves = pairs(&first.json(), "region", "wave");
    assert_eq!(
        waves,
        [
            ("us-east-1", "first"),
            ("eu-west-1", "rest"),
            ("ap-southeast-2", "rest")
        ]
        .map(|(r, w)| (r.to_string(), w.to_string()))
    );
    assert!(
        first
            .stderr
            .contains("wave first succeeded: baking for 1s before the next wave"),
        "{}",
        first.stderr
    );

    // us-east-1's alias write is denied: the first wave fails and the rest
    // never starts.
    let proxy = FaultProxy::start(&aws.endpoint);
    proxy.deny_in(
        "us-east-1",
        "PUT",
        "/functions/orders/aliases/live",
        "lambda:UpdateAlias",
    );
    let second = fleet_command_at(
        &aws,
        Some(&proxy.endpoint),
        repo.path(),
        &repo.path().join("lambda-rollout.toml"),
        "deploy",
        "def handler(e, c): return 2\n",
        &[],
    );
    assert_ne!(second.status, 0, "{}", second.stderr);
    assert!(
        second.stderr.contains(
            "wave first failed beyond its tolerance (1 of 1 targets failed): no later wave is started"
        ),
        "{}",
        second.stderr
    );
    let results = second.json();
    for later in &results.as_array().unwrap()[1..] {
        assert!(
            later["error"]
                .as_str()
                .unwrap()
                .starts_with("not started: wave first failed"),
            "{later}"
        );
    }
    for (region, lambda) in &clients[1..] {
        assert_eq!(
            serving(lambda).await.as_deref(),
            Some("1"),
            "{region} kept what it served"
        );
    }
}

/// One CI job per wave: `--wave rest` refuses to run ahead of the first
/// wave (exit 1, naming the target behind, nothing written in the rest),
/// runs once the first wave serves the release, and converges on re-run.
#[tokio::test(flavor = "current_thread")]
async fn one_wave_per_job_never_runs_ahead_and_converges() {
    let aws = Emulator::start();
    let clients = orders_in_three_regions(&aws).await;
    let repo = tempfile::tempdir().unwrap();
    let path = fleet_repo(repo.path());
    let text = format!(
        "[defaults]\nalias = \"live\"\nregions = {REGIONS:?}\n\n[[functions]]\nname = \"orders\"\nsource = \"fns/orders\"\n\n[[waves]]\nname = \"first\"\nregions = [\"us-east-1\"]\n\n[[waves]]\nname = \"rest\"\n"
    );
    std::fs::write(&path, text).unwrap();
    let wave = |name: &str| {
        let mut command = binary(Some(&aws));
        run(command
            .args(["deploy", "--output", "json", "--wave", name, "--manifest"])
            .arg(&path))
    };

    let ahead = wave("rest");
    assert_eq!(ahead.status, 1, "{}", ahead.stderr);
    assert!(
        ahead.stderr.contains("us-east-1/orders:live")
            && ahead.json()[0]["error"]
                .as_str()
                .unwrap()
                .contains("does not serve this release yet"),
        "{}",
        ahead.stdout
    );
    for (region, lambda) in &clients {
        assert_eq!(serving(lambda).await, None, "{region}: nothing written");
    }

    wave("first").assert_ok();
    assert_eq!(serving(&clients[0].1).await.as_deref(), Some("1"));
    assert_eq!(serving(&clients[1].1).await, None, "the first wave only");

    let rest = wave("rest");
    rest.assert_ok();
    for (region, lambda) in &clients {
        assert_eq!(serving(lambda).await.as_deref(), Some("1"), "{region}");
    }
    let again = wave("rest");
    let results = again.assert_ok().json();
    assert!(
        results
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["result"] == "skipped"),
        "{results}"
    );

    let unknown = wave("nope");
    assert_eq!(unknown.status, 2);
    assert!(
        unknown
            .stderr
            .contains("--wave nope: no such wave; the manifest's waves are first, rest"),
        "{}",
        unknown.stderr
    );
}

/// `--on-wave-failure rollback`: the second wave fails beyond its tolerance
/// (one of its alias writes is denied), and every target this run moved —
/// in the first wave and the part of the second that succeeded — goes back
/// to what it served before.
#[tokio::test(flavor = "current_thread")]
async fn a_failed_wave_with_rollback_returns_the_earlier_waves() {
    let aws = Emulator::start();
    let clients = orders_in_three_regions(&aws).await;
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join("fns/orders")).unwrap();
    let path = repo.path().join("lambda-rollout.toml");
    let text = format!(
        "[defaults]\nalias = \"live\"\nregions = {REGIONS:?}\n\n[[functions]]\nname = \"orders\"\nsource = \"fns/orders\"\n\n[[waves]]\nname = \"first\"\nregions = [\"us-east-1\"]\n\n[[waves]]\nname = \"rest\"\n"
    );
    std::fs::write(&path, text).unwrap();
    let deploy_fleet = |body: &str, extra: &[&str]| {
        std::fs::write(repo.path().join("fns/orders/index.py"), body).unwrap();
        let mut command = binary(Some(&aws));
        run(command
            .args(["deploy", "--output", "json", "--manifest"])
            .arg(&path)
            .args(extra))
    };
    deploy_fleet("def handler(e, c): return 1\n", &[]).assert_ok();

    // ap-southeast-2's alias write is denied.
    let proxy = FaultProxy::start(&aws.endpoint);
    proxy.deny_in(
        "ap-southeast-2",
        "PUT",
        "/functions/orders/aliases/live",
        "lambda:UpdateAlias",
    );
    let failed = fleet_command_at(
        &aws,
        Some(&proxy.endpoint),
        repo.path(),
        &path,
        "deploy",
        "def handler(e, c): return 2\n",
        &["--on-wave-failure", "rollback"],
    );
    assert_ne!(failed.status, 0, "{}", failed.stderr);
    let results = failed.json();
    for index in [0, 1] {
        assert_eq!(results[index]["result"], "rolled-back", "{results}");
        assert_eq!(
            results[index]["rollback-reason"],
            "wave rest failed beyond its tolerance (1 of 2 targets failed)",
            "{results}"
        );
    }
    for (region, lambda) in &clients[..2] {
        let alias = lambda
            .get_alias()
            .function_name("orders")
            .name("live")
            .send()
            .await
            .unwrap();
        assert_eq!(alias.function_version(), Some("1"), "{region}");
        assert!(
            alias
                .routing_config()
                .is_none_or(|r| r.additional_version_weights().is_none_or(|w| w.is_empty())),
            "{region}: the canary is gone"
        );
    }
}

/// One account-region throttled (every control-plane call answered 429, as
/// Lambda answers an account-region over its quota) slows only its own
/// targets: the proxy lets us-east-1 through only once eu-west-1's aliases
/// have been written, so the run succeeds only if eu-west-1 went ahead
/// alone, even with one target at a time (`--concurrency 1` holds in each
/// account-region) and us-east-1 first in the manifest.
#[tokio::test(flavor = "current_thread")]
async fn a_throttled_account_region_slows_alone() {
    let aws = Emulator::start();
    let clients = orders_in_three_regions(&aws).await;
    let repo = tempfile::tempdir().unwrap();
    let path = fleet_repo(repo.path());
    std::fs::write(
        &path,
        r#"
[defaults]
alias = "live"

[[functions]]
name = "orders"
source = "fns/orders"
region = "us-east-1"

[[functions]]
name = "orders"
source = "fns/orders"
region = "eu-west-1"
"#,
    )
    .unwrap();
    let proxy = crate::common::proxy::FaultProxy::start(&aws.endpoint);
    proxy.throttle_region_until("us-east-1", "eu-west-1", 1);
    let mut command = binary(Some(&aws));
    command
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .args(["deploy", "--output", "json", "--concurrency", "1", "--manifest"])
        .arg(&path);
    let result = run(&mut command);
    result.assert_ok();
    let (throttled, written) = proxy.hold_seen();
    assert!(throttled >= 1, "us-east-1 was throttled");
    assert_eq!(written, 1, "eu-west-1's alias was written while us-east-1 waited");
    for (region, lambda) in &clients[..2] {
        assert_eq!(serving(lambda).await.as_deref(), Some("1"), "{region}");
    }
    assert_eq!(
        pairs(&result.json(), "region", "result"),
        [
            ("us-east-1".to_string(), "published".to_string()),
            ("eu-west-1".to_string(), "published".to_string())
        ]
    );
}

/// `--s3-bucket` with `{account}` and `{region}`: each target's package goes
/// to its own region's bucket (Lambda takes code only from a bucket in the
/// function's region); one bucket for several regions is refused before any
/// request.
#[tokio::test(flavor = "current_thread")]
async fn each_region_uploads_to_its_own_bucket() {
    let aws = Emulator::start();
    let clients = orders_in_three_regions(&aws).await;
    let s3 = aws.s3();
    for region in &REGIONS[..2] {
        let mut create = s3
            .create_bucket()
            .bucket(format!("artifacts-123456789012-{region}"));
        if *region != "us-east-1" {
            create = create.create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(*region))
                    .build(),
            );
        }
        create.send().await.expect("create_bucket");
    }
    let repo = tempfile::tempdir().unwrap();
    let path = fleet_repo(repo.path());
    std::fs::write(
        &path,
        format!(
            r#"
[defaults]
alias = "live"
regions = {:?}

[[functions]]
name = "orders"
source = "fns/orders"
"#,
            &REGIONS[..2]
        ),
    )
    .unwrap();
    let deploy = |bucket: &str| {
        let mut command = binary(Some(&aws));
        run(command
            .args(["deploy", "--output", "json", "--s3-bucket", bucket, "--manifest"])
            .arg(&path))
    };

    let refused = deploy("artifacts");
    assert_eq!(refused.status, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains(
            "--s3-bucket 'artifacts' is one bucket, but the manifest deploys to 2 regions (eu-west-1, us-east-1)"
        ) && refused.stderr.contains("'artifacts-{region}'"),
        "{}",
        refused.stderr
    );
    for (region, lambda) in &clients {
        assert_eq!(serving(lambda).await, None, "{region}: nothing written");
    }

    let shipped = deploy("artifacts-{account}-{region}");
    shipped.assert_ok();
    let code_sha256 = shipped.json()[0]["code-sha256"].as_str().unwrap().to_string();
    let hex: String = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &code_sha256)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    for (region, lambda) in &clients[..2] {
        assert_eq!(serving(lambda).await.as_deref(), Some("1"), "{region}");
        let head = s3
            .head_object()
            .bucket(format!("artifacts-123456789012-{region}"))
            .key(format!("orders/{hex}.zip"))
            .send()
            .await;
        assert!(head.is_ok(), "{region}'s bucket holds the package: {head:?}");
        let stored = lambda
            .get_function()
            .function_name("orders:1")
            .send()
            .await
            .unwrap();
        assert_eq!(
            stored.configuration().and_then(|c| c.code_sha256()),
            Some(code_sha256.as_str()),
            "{region}"
        );
    }
}

/// A wave's `alarms` are watched in its account-regions while it bakes: an
/// alarm in ALARM fails the wave, no later wave starts, and with
/// `--on-wave-failure rollback` the baked wave goes back to what it served.
#[tokio::test(flavor = "current_thread")]
async fn an_alarm_during_the_bake_stops_the_waves_and_rolls_back() {
    use aws_sdk_cloudwatch::types::StateValue;
    let aws = Emulator::start();
    let clients = orders_in_three_regions(&aws).await;
    // The alarm lives in us-east-1, the first wave's region.
    aws.create_alarm("orders-errors").await;
    let repo = tempfile::tempdir().unwrap();
    let deploy_fleet = two_waves(
        &aws,
        repo.path(),
        "bake = \"2s\"\nalarms = [\"orders-errors\"]",
        &["--on-wave-failure", "rollback"],
    );

    let quiet = deploy_fleet("def handler(e, c): return 1\n");
    quiet.assert_ok();
    assert!(
        quiet
            .stderr
            .contains("watching 1 alarm in 1 account-region while the wave bakes"),
        "{}",
        quiet.stderr
    );
    for (region, lambda) in &clients {
        assert_eq!(serving(lambda).await.as_deref(), Some("1"), "{region}");
    }

    aws.set_alarm("orders-errors", StateValue::Alarm, "errors after the deploy")
        .await;
    let alarmed = deploy_fleet("def handler(e, c): return 2\n");
    assert_eq!(alarmed.status, 1, "{}", alarmed.stderr);
    assert!(
        alarmed.stderr.contains(
            "wave first failed while baking: alarm orders-errors is in ALARM in 123456789012/us-east-1 (errors after the deploy): no later wave is started"
        ),
        "{}",
        alarmed.stderr
    );
    let results = alarmed.json();
    assert_eq!(results[0]["result"], "rolled-back", "{results}");
    assert!(
        results[0]["rollback-reason"]
            .as_str()
            .unwrap()
            .starts_with("wave first failed while baking: alarm orders-errors is in ALARM"),
        "{results}"
    );
    for later in &results.as_array().unwrap()[1..] {
        assert!(
            later["error"]
                .as_str()
                .unwrap()
                .starts_with("not started: wave first failed while baking"),
            "{later}"
        );
        assert_eq!(later["account"], "123456789012", "{later}");
    }
    assert!(
        alarmed.stderr.contains(
            "1 of 3 targets failed, 2 not started (wave first failed while baking: alarm orders-errors is in ALARM in 123456789012/us-east-1 (errors after the deploy)); failed: 123456789012/us-east-1/orders:live; not started: 123456789012/eu-west-1/orders:live, 123456789012/ap-southeast-2/orders:live"
        ),
        "not-started targets are named with their place: {}",
        alarmed.stderr
    );
    for (region, lambda) in &clients {
        assert_eq!(
            serving(lambda).await.as_deref(),
            Some("1"),
            "{region}: the first wave is back, the rest never moved"
        );
    }
}

/// `FromParameter` in a fleet: preflight reads each account-region's
/// parameters, so one missing in eu-west-1 stops the run (exit 2, naming the
/// place and the parameter) before us-east-1 is written either.
#[tokio::test(flavor = "current_thread")]
async fn a_parameter_missing_in_one_region_stops_the_fleet_in_preflight() {
    let aws = Emulator::start();
    let clients = orders_in_three_regions(&aws).await;
    aws_sdk_ssm::Client::new(&aws.sdk_config())
        .put_parameter()
        .name("/orders/db-url")
        .value("postgres://fleet-SECRET")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let repo = tempfile::tempdir().unwrap();
    let path = fleet_repo(repo.path());
    std::fs::write(
        repo.path().join("function.yaml"),
        "Environment:\n  Variables:\n    DB_URL: {FromParameter: /orders/db-url}\n",
    )
    .unwrap();
    std::fs::write(
        &path,
        r#"
[defaults]
alias = "live"
regions = ["us-east-1", "eu-west-1"]

[[functions]]
name = "orders"
source = "fns/orders"
function-config = "function.yaml"
"#,
    )
    .unwrap();
    let mut command = binary(Some(&aws));
    let refused = run(command
        .args(["deploy", "--output", "json", "--manifest"])
        .arg(&path));
    assert_eq!(refused.status, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("preflight found 1 problem")
            && refused
                .stderr
                .contains("123456789012/eu-west-1: Parameter Store has no parameter /orders/db-url"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains("fleet-SECRET") && !refused.stdout.contains("fleet-SECRET"));
    for (region, lambda) in &clients[..2] {
        assert_eq!(serving(lambda).await, None, "{region}: nothing written");
    }
}

/// orders in every region in two waves, `first` (us-east-1, with
/// `first_wave` lines) and `rest`, with `defaults` lines in `[defaults]` and
/// `entry` lines in the one entry. Returns the manifest's path.
fn waves_manifest(
    repo: &std::path::Path,
    defaults: &str,
    entry: &str,
    first_wave: &str,
) -> std::path::PathBuf {
    let path = fleet_repo(repo);
    let text = format!(
        "[defaults]\nalias = \"live\"\nregions = {REGIONS:?}\n{defaults}\n\n[[functions]]\nname = \"orders\"\nsource = \"fns/orders\"\n{entry}\n\n[[waves]]\nname = \"first\"\nregions = [\"us-east-1\"]\n{first_wave}\n\n[[waves]]\nname = \"rest\"\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// `command --output json --manifest PATH extra…` with `body` as the code.
fn fleet_command(
    aws: &Emulator,
    repo: &std::path::Path,
    path: &std::path::Path,
    command: &str,
    body: &str,
    extra: &[&str],
) -> Run {
    fleet_command_at(aws, None, repo, path, command, body, extra)
}

/// [`fleet_command`], through `endpoint` (a fault proxy) when given.
fn fleet_command_at(
    aws: &Emulator,
    endpoint: Option<&str>,
    repo: &std::path::Path,
    path: &std::path::Path,
    command: &str,
    body: &str,
    extra: &[&str],
) -> Run {
    std::fs::write(repo.join("fns/orders/index.py"), body).unwrap();
    let mut binary = binary(Some(aws));
    if let Some(endpoint) = endpoint {
        binary.env("AWS_ENDPOINT_URL", endpoint);
    }
    run(binary
        .args([command, "--output", "json", "--manifest"])
        .arg(path)
        .args(extra))
}

/// A target whose staged rollout its post-traffic hook rolled back did not
/// end where the run meant: it fails its wave (tolerance 0), no later wave
/// starts, and the run exits 1, counting it failed and the rest not started.
#[tokio::test(flavor = "current_thread")]
async fn a_rolled_back_target_fails_its_wave() {
    let aws = Emulator::start();
    let repo = tempfile::tempdir().unwrap();
    let clients = on_version_1(&aws, repo.path()).await;

    let staged = waves_manifest(repo.path(), "strategy = \"AllAtOnce\"", "", "");
    let failed = fleet_command(
        &aws,
        repo.path(),
        &staged,
        "deploy",
        "def handler(e, c): return 2\n",
        &["--post-traffic-hook", "exit 3"],
    );
    assert_eq!(failed.status, 1, "{}", failed.stderr);
    let results = failed.json();
    assert_eq!(results[0]["result"], "rolled-back", "{results}");
    for later in &results.as_array().unwrap()[1..] {
        assert!(
            later["error"]
                .as_str()
                .unwrap()
                .starts_with("not started: wave first failed beyond its tolerance (1 of 1 targets failed)"),
            "{later}"
        );
    }
    assert!(
        failed.stderr.contains(
            "1 of 3 targets failed, 2 not started (wave first failed beyond its tolerance (1 of 1 targets failed)); failed: 123456789012/us-east-1/orders:live; not started: 123456789012/eu-west-1/orders:live, 123456789012/ap-southeast-2/orders:live"
        ),
        "{}",
        failed.stderr
    );
    for (region, lambda) in &clients {
        assert_eq!(serving(lambda).await.as_deref(), Some("1"), "{region}");
    }
}

/// A wave's alarms are read once its traffic has moved even without a bake,
/// and after the last wave: an alarm in ALARM fails the run (exit 1).
/// `--on-wave-failure rollback` without `[[waves]]` treats the targets as
/// one wave: a failure rolls every moved target back.
#[tokio::test(flavor = "current_thread")]
async fn wave_alarms_are_read_without_a_bake_and_on_the_last_wave() {
    use aws_sdk_cloudwatch::types::StateValue;
    let aws = Emulator::start();
    aws.create_alarm("orders-errors").await;
    let repo = tempfile::tempdir().unwrap();
    let clients = on_version_1(&aws, repo.path()).await;
    let path = waves_manifest(repo.path(), "canary-weight = \"100%\"", "", "");

    // The alarm lives in us-east-1 and is watched by the last wave only:
    // a single wave of the one region.
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "[[waves]]\nname = \"rest\"\n",
        "[[waves]]\nname = \"rest\"\nalarms = [\"orders-errors\"]\n",
    );
    let only_east = text
        .replace(
            &format!("regions = {REGIONS:?}"),
            "regions = [\"us-east-1\", \"eu-west-1\"]",
        )
        .replace("regions = [\"us-east-1\"]\n", "regions = [\"eu-west-1\"]\n");
    std::fs::write(&path, only_east).unwrap();
    aws.set_alarm("orders-errors", StateValue::Alarm, "errors after the deploy")
        .await;
    let alarmed = fleet_command(
        &aws,
        repo.path(),
        &path,
        "deploy",
        "def handler(e, c): return 2\n",
        &[],
    );
    assert_eq!(alarmed.status, 1, "{}", alarmed.stderr);
    assert!(
        alarmed.stderr.contains(
            "wave rest failed: alarm orders-errors is in ALARM in 123456789012/us-east-1 (errors after the deploy)"
        ),
        "{}",
        alarmed.stderr
    );

    // No [[waves]]: with --on-wave-failure rollback, ap-southeast-2's
    // failure (its alias write is denied) rolls the
    // two regions that moved back to exactly what they served.
    let no_waves = repo.path().join("flat.toml");
    std::fs::write(
        &no_waves,
        format!("[defaults]\nalias = \"live\"\nregions = {REGIONS:?}\ncanary-weight = \"10%\"\n\n[[functions]]\nname = \"orders\"\nsource = \"fns/orders\"\n"),
    )
    .unwrap();
    let proxy = FaultProxy::start(&aws.endpoint);
    proxy.deny_in(
        "ap-southeast-2",
        "PUT",
        "/functions/orders/aliases/live",
        "lambda:UpdateAlias",
    );
    let before: Vec<_> = futures_util::future::join_all(clients[..2].iter().map(|(_, l)| routing(l))).await;
    let failed = fleet_command_at(
        &aws,
        Some(&proxy.endpoint),
        repo.path(),
        &no_waves,
        "deploy",
        "def handler(e, c): return 3\n",
        &["--on-wave-failure", "rollback"],
    );
    assert_eq!(failed.status, 1, "{}", failed.stderr);
    let results = failed.json();
    for index in [0, 1] {
        assert_eq!(results[index]["result"], "rolled-back", "{results}");
    }
    for ((region, lambda), before) in clients[..2].iter().zip(before) {
        assert_eq!(
            routing(lambda).await,
            before,
            "{region}: back to exactly what it served"
        );
    }
}

/// The alias's primary version, canary and description.
async fn routing(lambda: &aws_sdk_lambda::Client) -> (String, Option<(String, f64)>, String) {
    let alias = lambda
        .get_alias()
        .function_name("orders")
        .name("live")
        .send()
        .await
        .unwrap();
    let canary = alias
        .routing_config()
        .and_then(|r| r.additional_version_weights())
        .and_then(|w| w.iter().next().map(|(v, w)| (v.clone(), *w)));
    (
        alias.function_version().unwrap_or_default().to_string(),
        canary,
        alias.description().unwrap_or_default().to_string(),
    )
}

/// `--on-wave-failure rollback` gives a target this run only re-weighted
/// exactly the canary it served before the run (version 2 at 20 %, and its
/// rollback record), not the stable version alone.
#[tokio::test(flavor = "current_thread")]
async fn a_wave_rollback_restores_an_older_canary_exactly() {
    let aws = Emulator::start();
    let repo = tempfile::tempdir().unwrap();
    let clients = on_version_1(&aws, repo.path()).await;
    let twenty = waves_manifest(repo.path(), "canary-weight = \"20%\"", "", "");
    fleet_command(
        &aws,
        repo.path(),
        &twenty,
        "deploy",
        "def handler(e, c): return 2\n",
        &[],
    )
    .assert_ok();
    let (_, east) = &clients[0];
    let before = routing(east).await;
    assert_eq!(before.1, Some(("2".to_string(), 0.2)));

    // The same code at 50 %: us-east-1 is only re-weighted; then wave rest
    // fails (ap-southeast-2's alias write is denied).
    let proxy = FaultProxy::start(&aws.endpoint);
    proxy.deny_in(
        "ap-southeast-2",
        "PUT",
        "/functions/orders/aliases/live",
        "lambda:UpdateAlias",
    );
    let fifty = waves_manifest(repo.path(), "canary-weight = \"50%\"", "", "");
    let failed = fleet_command_at(
        &aws,
        Some(&proxy.endpoint),
        repo.path(),
        &fifty,
        "deploy",
        "def handler(e, c): return 2\n",
        &["--on-wave-failure", "rollback"],
    );
    assert_eq!(failed.status, 1, "{}", failed.stderr);
    let results = failed.json();
    assert_eq!(results[0]["result"], "rolled-back", "{results}");
    assert_eq!(results[0]["version"], "2", "{results}");
    assert_eq!(results[0]["canary-weight"], 0.2, "{results}");
    assert_eq!(
        routing(east).await,
        before,
        "us-east-1 serves its older canary again"
    );
}

/// `rollback --manifest` is the emergency path: with the first wave baking
/// an hour and its alarm in ALARM — the very reason to roll back — every
/// target goes back at once within seconds, the last wave first in the
/// results, and the deploy's secrets (`FromEnvironment`) need not be set.
#[tokio::test(flavor = "current_thread")]
async fn a_fleet_rollback_is_an_emergency_path() {
    use aws_sdk_cloudwatch::types::StateValue;
    let aws = Emulator::start();
    aws.create_alarm("orders-errors").await;
    let repo = tempfile::tempdir().unwrap();
    let clients = on_version_1(&aws, repo.path()).await;
    let plain = waves_manifest(repo.path(), "", "", "");
    fleet_command(
        &aws,
        repo.path(),
        &plain,
        "deploy",
        "def handler(e, c): return 2\n",
        &[],
    )
    .assert_ok();
    for (region, lambda) in &clients {
        assert_eq!(
            routing(lambda).await.1.map(|c| c.0),
            Some("2".to_string()),
            "{region}"
        );
    }
    std::fs::write(
        repo.path().join("config.json"),
        r#"{"Environment": {"Variables": {"ORDERS_KEY": {"FromEnvironment": "ORDERS_KEY_NOT_SET"}}}}"#,
    )
    .unwrap();
    let baking = waves_manifest(
        repo.path(),
        "",
        "function-config = \"config.json\"",
        "bake = \"1h\"\nalarms = [\"orders-errors\"]",
    );
    aws.set_alarm("orders-errors", StateValue::Alarm, "errors after the deploy")
        .await;
    let started = std::time::Instant::now();
    let back = fleet_command(
        &aws,
        repo.path(),
        &baking,
        "rollback",
        "def handler(e, c): return 2\n",
        &[],
    );
    back.assert_ok();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(120),
        "no bake: {:?}",
        started.elapsed()
    );
    let results = back.json();
    let waves: Vec<&str> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["wave"].as_str().unwrap())
        .collect();
    assert_eq!(waves, ["rest", "rest", "first"], "the last wave first");
    for result in results.as_array().unwrap() {
        assert_eq!(result["result"], "rolled-back", "{result}");
    }
    for (region, lambda) in &clients {
        let (primary, canary, _) = routing(lambda).await;
        assert_eq!((primary.as_str(), canary), ("1", None), "{region}");
    }

    // A read-only status job needs no deploy secret either, and writes
    // `serving`: each target's versions and shares.
    let output = tempfile::NamedTempFile::new().unwrap();
    let mut status = binary(Some(&aws));
    status
        .args(["status", "--manifest"])
        .arg(&baking)
        .env("GITHUB_OUTPUT", output.path());
    run(&mut status).assert_ok();
    let serving: serde_json::Value = serde_json::from_str(
        &parse_github_output(&std::fs::read_to_string(output.path()).unwrap())["serving"],
    )
    .unwrap();
    for region in REGIONS {
        assert_eq!(
            serving[format!("123456789012/{region}/orders:live")],
            serde_json::json!({"1": 1.0}),
            "{serving}"
        );
    }
}

/// SIGTERM while the first wave bakes (a cancelled GitHub job): the bake
/// ends, the later wave is not started, `--on-wave-failure rollback` puts
/// the first wave back, and the report and step outputs are written before
/// the run exits 1.
#[tokio::test(flavor = "current_thread")]
async fn a_signal_during_a_bake_rolls_back_and_reports() {
    let aws = Emulator::start();
    let repo = tempfile::tempdir().unwrap();
    let clients = on_version_1(&aws, repo.path()).await;
    let baking = waves_manifest(repo.path(), "", "", "bake = \"1h\"");
    std::fs::write(
        repo.path().join("fns/orders/index.py"),
        "def handler(e, c): return 2\n",
    )
    .unwrap();
    let output = tempfile::NamedTempFile::new().unwrap();
    let mut command = binary(Some(&aws));
    command
        .args([
            "deploy",
            "--output",
            "json",
            "--on-wave-failure",
            "rollback",
            "--manifest",
        ])
        .arg(&baking)
        .env("GITHUB_OUTPUT", output.path());
    let child = rollout_in_background(&aws, &mut command).await;
    // Give the run a moment to enter its bake.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let cancelled = wait_for(child);
    assert_eq!(cancelled.status, 1, "{}", cancelled.stderr);
    let results = cancelled.json();
    assert_eq!(results[0]["result"], "rolled-back", "{results}");
    assert_eq!(
        results[0]["rollback-reason"], "the run was cancelled (SIGTERM)",
        "{results}"
    );
    for later in &results.as_array().unwrap()[1..] {
        assert_eq!(
            later["error"], "not started: the run was cancelled (SIGTERM)",
            "{later}"
        );
    }
    let outputs = parse_github_output(&std::fs::read_to_string(output.path()).unwrap());
    assert_eq!(outputs["failed"], "123456789012/us-east-1/orders:live");
    assert_eq!(
        outputs["not-started"],
        "123456789012/eu-west-1/orders:live 123456789012/ap-southeast-2/orders:live"
    );
    for (region, lambda) in &clients {
        let (primary, canary, _) = routing(lambda).await;
        assert_eq!((primary.as_str(), canary), ("1", None), "{region}");
    }
}

/// Preflight is complete: a wave-2 target whose source links out of its
/// tree, or whose alias serves `$LATEST`, stops the run (exit 2) before wave
/// 1 is written; an empty `source` is refused rather than shipping the
/// manifest's own folder.
#[tokio::test(flavor = "current_thread")]
async fn a_later_waves_bad_input_stops_the_run_before_any_write() {
    let aws = Emulator::start();
    let repo = tempfile::tempdir().unwrap();
    let clients = on_version_1(&aws, repo.path()).await;

    // eu-west-1 ships its own source, which links out of its tree.
    std::fs::create_dir_all(repo.path().join("fns/linked")).unwrap();
    std::fs::write(
        repo.path().join("fns/linked/index.py"),
        "def handler(e, c): return 2\n",
    )
    .unwrap();
    std::fs::write(repo.path().join("secret.txt"), "not for shipping").unwrap();
    std::os::unix::fs::symlink(
        repo.path().join("secret.txt"),
        repo.path().join("fns/linked/secret.txt"),
    )
    .unwrap();
    let split = repo.path().join("split.toml");
    let write_split = |east_source: &str| {
        std::fs::write(
            &split,
            format!(
                "[defaults]\nalias = \"live\"\ncanary-weight = \"100%\"\n\n[[functions]]\nname = \"orders\"\nregion = \"us-east-1\"\nsource = \"{east_source}\"\n\n[[functions]]\nname = \"orders\"\nregion = \"eu-west-1\"\nsource = \"fns/linked\"\n\n[[waves]]\nname = \"first\"\nregions = [\"us-east-1\"]\n\n[[waves]]\nname = \"rest\"\n"
            ),
        )
        .unwrap();
    };
    // Each deploy of the split manifest is refused (exit 2) in preflight,
    // naming the problem, and writes nothing in us-east-1 (the first wave).
    let refused = async |what: &str, needles: &[&str]| {
        let run = fleet_command(
            &aws,
            repo.path(),
            &split,
            "deploy",
            "def handler(e, c): return 2\n",
            &[],
        );
        assert_eq!(run.status, 2, "{what}: {}", run.stderr);
        for needle in needles {
            assert!(
                run.stderr.contains(needle),
                "{what}: {needle:?} not in {}",
                run.stderr
            );
        }
        for (region, lambda) in &clients {
            assert_eq!(routing(lambda).await.0, "1", "{what}: {region}: nothing written");
        }
    };
    write_split("fns/orders");
    refused(
        "a link out of the tree",
        &[
            "preflight found 1 problem before any write",
            "orders:live in default/eu-west-1",
        ],
    )
    .await;

    // The link gone, eu-west-1's alias serves $LATEST: refused in preflight.
    std::fs::remove_file(repo.path().join("fns/linked/secret.txt")).unwrap();
    let (_, west) = &clients[1];
    let point_west = async |version: &str| {
        west.update_alias()
            .function_name("orders")
            .name("live")
            .function_version(version)
            .send()
            .await
            .unwrap();
    };
    point_west("$LATEST").await;
    let latest = fleet_command(
        &aws,
        repo.path(),
        &split,
        "deploy",
        "def handler(e, c): return 2\n",
        &[],
    );
    assert_eq!(latest.status, 2, "{}", latest.stderr);
    assert!(
        latest.stderr.contains("alias orders:live serves $LATEST"),
        "{}",
        latest.stderr
    );
    assert_eq!(routing(&clients[0].1).await.0, "1", "us-east-1: nothing written");

    // An S3 trigger on eu-west-1's unqualified function runs `$LATEST`: a
    // canary there is refused in preflight, before us-east-1 is written.
    point_west("1").await;
    west.add_permission()
        .function_name("orders")
        .statement_id("uploads")
        .action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com")
        .source_arn("arn:aws:s3:::orders-uploads")
        .send()
        .await
        .unwrap();
    std::fs::write(
        &split,
        std::fs::read_to_string(&split)
            .unwrap()
            .replace("canary-weight = \"100%\"", "canary-weight = \"10%\""),
    )
    .unwrap();
    refused(
        "an S3 trigger on $LATEST",
        &["preflight found 1 problem before any write", "uploads"],
    )
    .await;

    // `source = ""` would ship the manifest's own folder: refused.
    write_split("");
    refused("an empty source", &["source is empty"]).await;
}

/// One function:alias in one account-region is one target however the
/// manifest spells it: without `region` and with the run's region, with the
/// run's credentials and a role of the same account, with two roles of one
/// account, by name and by ARN — each refused (exit 2) naming both entries,
/// before any write. A function ARN of another account than its
/// credentials' is refused too.
#[tokio::test(flavor = "current_thread")]
async fn one_target_spelled_twice_is_refused() {
    let aws = Emulator::start();
    let clients = orders_in_three_regions(&aws).await;
    let repo = tempfile::tempdir().unwrap();
    let path = fleet_repo(repo.path());
    let own_role = "arn:aws:iam::123456789012:role/deployer";
    let other_role = "arn:aws:iam::111111111111:role/other";
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:orders";
    let entry = |lines: &str| {
        format!("\n[[functions]]\nname = \"orders\"\nalias = \"live\"\nsource = \"fns/orders\"\n{lines}\n")
    };
    let cases = [
        (
            entry("") + &entry("region = \"us-east-1\""),
            "the run's region with the run's credentials",
        ),
        (
            entry("") + &entry(&format!("role-arn = \"{own_role}\"")),
            "with role arn:aws:iam::123456789012:role/deployer",
        ),
        (
            entry(&format!("role-arn = \"{ROLE}\"")) + &entry(&format!("role-arn = \"{other_role}\"")),
            "111111111111/us-east-1 is listed twice",
        ),
        (
            entry("") + &entry("").replace("name = \"orders\"", &format!("name = \"{arn}\"")),
            "arn:aws:lambda:us-east-1:123456789012:function:orders:live appears twice",
        ),
        (
            entry("").replace(
                "name = \"orders\"",
                "name = \"arn:aws:lambda:us-east-1:111111111111:function:orders\"",
            ),
            "is in account 111111111111, but its credentials act in account 123456789012",
        ),
    ];
    aws.start_recording();
    for (text, expected) in cases {
        std::fs::write(&path, &text).unwrap();
        let refused = fleet_command(
            &aws,
            repo.path(),
            &path,
            "deploy",
            "def handler(e, c): return 2\n",
            &[],
        );
        assert_eq!(refused.status, 2, "{text}\n{}", refused.stderr);
        assert!(refused.stderr.contains(expected), "{text}\n{}", refused.stderr);
    }
    // STS calls (POST /) only: nothing written to Lambda.
    let written: Vec<(String, String)> = aws
        .mutating()
        .into_iter()
        .filter(|(_, path)| path != "/")
        .collect();
    assert_eq!(written, Vec::<(String, String)>::new(), "nothing written");
    assert_eq!(serving(&clients[0].1).await, None, "no alias was created");
}

/// Two roles of one account reach one account-region: its targets share one
/// pacer, so the account-region stays under `--max-requests-per-second` in
/// every second (measured by the fault proxy per account-region).
#[tokio::test(flavor = "current_thread")]
async fn two_roles_of_one_account_share_its_pace() {
    let aws = Emulator::start();
    let repo = tempfile::tempdir().unwrap();
    let mut text = String::from("[defaults]\nalias = \"live\"\nregion = \"us-east-1\"\n");
    let other = lambda_in(&aws, true, "us-east-1").await;
    for n in 0..12 {
        let name = format!("fn{n:02}");
        create_function_with(&other, &name, "arn:aws:iam::111111111111:role/orders-role").await;
        std::fs::create_dir_all(repo.path().join(format!("fns/{name}"))).unwrap();
        std::fs::write(
            repo.path().join(format!("fns/{name}/index.py")),
            format!("def handler(e, c): return {n}\n"),
        )
        .unwrap();
        let role = if n % 2 == 0 {
            ROLE.to_string()
        } else {
            ROLE.replace("deployer", "deployer-b")
        };
        text.push_str(&format!(
            "\n[[functions]]\nname = \"{name}\"\nsource = \"fns/{name}\"\nrole-arn = \"{role}\"\n"
        ));
    }
    let path = repo.path().join("lambda-rollout.toml");
    std::fs::write(&path, text).unwrap();
    let proxy = FaultProxy::start(&aws.endpoint);
    proxy.enforce_quota(15);
    let mut command = binary(Some(&aws));
    command
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .args([
            "deploy",
            "--output",
            "json",
            "--concurrency",
            "12",
            "--max-requests-per-second",
            "5",
            "--manifest",
        ])
        .arg(&path);
    let paced = run(&mut command);
    paced.assert_ok();
    let (throttled, busiest) = proxy.quota_seen();
    assert_eq!(throttled, 0, "{}", paced.stderr);
    assert!(
        busiest <= 6,
        "{busiest} calls of one account-region within one second at 5/s"
    );
    for result in paced.json().as_array().unwrap() {
        assert_eq!(result["result"], "published", "{result}");
    }
}

/// `--on-wave-failure rollback` returns every target whose alias this run
/// wrote, whatever happened after: eu-west-1's tags write is denied after
/// its alias moved (it fails, and its wave with it), and both it and the
/// first wave go back to exactly what they served.
#[tokio::test(flavor = "current_thread")]
async fn a_target_that_failed_after_its_alias_moved_is_rolled_back() {
    let aws = Emulator::start();
    let repo = tempfile::tempdir().unwrap();
    let clients = on_version_1(&aws, repo.path()).await;
    let before: Vec<_> = futures_util::future::join_all(clients.iter().map(|(_, l)| routing(l))).await;
    std::fs::write(repo.path().join("config.json"), r#"{"Tags": {"team": "orders"}}"#).unwrap();
    let tagged = waves_manifest(repo.path(), "", "function-config = \"config.json\"", "");
    let proxy = FaultProxy::start(&aws.endpoint);
    proxy.deny_in("eu-west-1", "POST", "function%3Aorders", "lambda:TagResource");
    let failed = fleet_command_at(
        &aws,
        Some(&proxy.endpoint),
        repo.path(),
        &tagged,
        "deploy",
        "def handler(e, c): return 2\n",
        &["--on-wave-failure", "rollback"],
    );
    assert_eq!(failed.status, 1, "{}", failed.stderr);
    let results = failed.json();
    assert_eq!(results[0]["result"], "rolled-back", "{results}");
    let west = results[1]["error"].as_str().unwrap();
    assert!(west.contains("lambda:TagResource"), "{west}");
    assert!(
        west.contains("; rolled back to what it served before this run"),
        "{west}"
    );
    for ((region, lambda), before) in clients.iter().zip(before) {
        assert_eq!(routing(lambda).await, before, "{region}: exactly what it served");
    }
}

/// A role is assumed once per run, however many regions (and services) its
/// targets reach: one `sts:AssumeRole` for three regions.
#[tokio::test(flavor = "current_thread")]
async fn each_role_is_assumed_once_per_run() {
    let aws = Emulator::start();
    aws.create_role("orders-role");
    for region in REGIONS {
        let other = lambda_in(&aws, true, region).await;
        create_orders(&other, OTHER_ACCOUNT).await;
    }
    let repo = tempfile::tempdir().unwrap();
    let path = fleet_repo(repo.path());
    std::fs::write(
        &path,
        format!(
            "[defaults]\nalias = \"live\"\nregions = {REGIONS:?}\nrole-arn = \"{ROLE}\"\n\n[[functions]]\nname = \"orders\"\nsource = \"fns/orders\"\n"
        ),
    )
    .unwrap();
    let proxy = FaultProxy::start(&aws.endpoint);
    let deployed = fleet_command_at(
        &aws,
        Some(&proxy.endpoint),
        repo.path(),
        &path,
        "deploy",
        "def handler(e, c): return 1\n",
        &[],
    );
    deployed.assert_ok();
    assert_eq!(proxy.assume_role_calls(), 1, "{}", deployed.stderr);
}

/// SIGTERM while a target's staged rollout holds its canary: the rollout
/// puts its stable version back and reports `cancelled`, the targets not
/// started say so, and the run exits 1 with its report.
#[tokio::test(flavor = "current_thread")]
async fn a_signal_during_a_fleet_rollout_cancels_it() {
    let aws = Emulator::start();
    let repo = tempfile::tempdir().unwrap();
    let (clients, child) =
        staged_fleet_in_background(&aws, repo.path(), "strategy = \"canary:10%:1h\"").await;
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let cancelled = wait_for(child);
    assert_eq!(cancelled.status, 1, "{}", cancelled.stderr);
    let results = cancelled.json();
    assert_eq!(results[0]["result"], "cancelled", "{results}");
    assert!(
        cancelled.stderr.contains("1 of 3 targets failed, 2 not started"),
        "the cancelled target counts as failed: {}",
        cancelled.stderr
    );
    assert_eq!(results[0]["version"], "1", "{results}");
    for later in &results.as_array().unwrap()[1..] {
        assert_eq!(
            later["error"], "not started: the run was cancelled (SIGTERM)",
            "{later}"
        );
    }
    for (region, lambda) in &clients {
        let (primary, canary, _) = routing(lambda).await;
        assert_eq!((primary.as_str(), canary), ("1", None), "{region}");
    }
}

/// orders in [`REGIONS`], each alias on version 1 (deployed by a two-wave
/// manifest); a client for each region.
async fn on_version_1(aws: &Emulator, repo: &std::path::Path) -> Vec<(&'static str, aws_sdk_lambda::Client)> {
    let clients = orders_in_three_regions(aws).await;
    let path = waves_manifest(repo, "", "", "");
    fleet_command(aws, repo, &path, "deploy", "def handler(e, c): return 1\n", &[]).assert_ok();
    clients
}

/// A wave's `accounts` selector sees the account the run's own credentials
/// act in (resolved with `sts:GetCallerIdentity`), and its `regions` the
/// region an entry without one lands in: the first wave takes the run's own
/// account in us-east-1 (one entry names no region), the rest everything else.
#[tokio::test(flavor = "current_thread")]
async fn wave_selectors_see_the_resolved_account_and_region() {
    let aws = Emulator::start();
    aws.create_role("orders-role");
    for other in [false, true] {
        for region in REGIONS {
            let lambda = lambda_in(&aws, other, region).await;
            create_orders(&lambda, if other { OTHER_ACCOUNT } else { "123456789012" }).await;
        }
    }
    let repo = tempfile::tempdir().unwrap();
    let path = fleet_repo(repo.path());
    std::fs::write(
        &path,
        format!(
            "[defaults]\nalias = \"live\"\n\n[[functions]]\nname = \"orders\"\nsource = \"fns/orders\"\n\n[[functions]]\nname = \"orders\"\nsource = \"fns/orders\"\nregions = [\"eu-west-1\"]\n\n[[functions]]\nname = \"orders\"\nsource = \"fns/orders\"\nregions = {REGIONS:?}\nrole-arn = \"{ROLE}\"\n\n[[waves]]\nname = \"own-east\"\naccounts = [\"123456789012\"]\nregions = [\"us-east-1\"]\n\n[[waves]]\nname = \"rest\"\n"
        ),
    )
    .unwrap();
    let deployed = fleet_command(
        &aws,
        repo.path(),
        &path,
        "deploy",
        "def handler(e, c): return 1\n",
        &[],
    );
    deployed.assert_ok();
    let mut waves: Vec<(String, String)> = deployed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["target"].as_str().unwrap_or_default().to_string()
                    + r["account"].as_str().unwrap()
                    + "/"
                    + r["region"].as_str().unwrap(),
                r["wave"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    waves.sort();
    let own_east = waves
        .iter()
        .filter(|(_, w)| w == "own-east")
        .map(|(t, _)| t.clone())
        .collect::<Vec<_>>();
    assert_eq!(own_east, ["123456789012/us-east-1"], "{waves:?}");
    assert_eq!(waves.iter().filter(|(_, w)| w == "rest").count(), 4, "{waves:?}");
}

/// A target stopped because someone else changed its alias mid-rollout (an
/// operator's rollback) did not end where the run meant: it fails its wave,
/// the later wave never starts, and the run exits 1 — leaving the alias as
/// the operator left it.
#[tokio::test(flavor = "current_thread")]
async fn a_stopped_target_fails_its_wave() {
    let aws = Emulator::start();
    let repo = tempfile::tempdir().unwrap();
    let (clients, child) = staged_fleet_in_background(
        &aws,
        repo.path(),
        "strategy = \"10%,50%,100%\"\nstep-interval = \"4s\"",
    )
    .await;
    run(binary(Some(&aws)).for_alias("rollback", "orders", "live")).assert_ok();
    let stopped = wait_for(child);
    assert_eq!(stopped.status, 1, "{}", stopped.stderr);
    let results = stopped.json();
    assert_eq!(results[0]["result"], "stopped", "{results}");
    assert!(
        stopped.stderr.contains("1 of 3 targets failed, 2 not started"),
        "the stopped target counts as failed: {}",
        stopped.stderr
    );
    for later in &results.as_array().unwrap()[1..] {
        assert!(
            later["error"]
                .as_str()
                .unwrap()
                .starts_with("not started: wave first failed beyond its tolerance"),
            "{later}"
        );
    }
    for (region, lambda) in &clients {
        let (primary, canary, _) = routing(lambda).await;
        assert_eq!((primary.as_str(), canary), ("1", None), "{region}");
    }
}

/// orders on version 1 in every region, then a staged deploy of version 2
/// (`defaults`: its strategy) running in the background; returns once the
/// first wave's alias (us-east-1) carries the canary.
async fn staged_fleet_in_background(
    aws: &Emulator,
    repo: &std::path::Path,
    defaults: &str,
) -> (Vec<(&'static str, aws_sdk_lambda::Client)>, std::process::Child) {
    let clients = on_version_1(aws, repo).await;
    let staged = waves_manifest(repo, defaults, "", "");
    std::fs::write(repo.join("fns/orders/index.py"), "def handler(e, c): return 2\n").unwrap();
    let mut command = binary(Some(aws));
    command
        .args([
            "deploy",
            "--output",
            "json",
            "--poll-interval",
            "1s",
            "--manifest",
        ])
        .arg(&staged);
    (clients, rollout_in_background(aws, &mut command).await)
}
