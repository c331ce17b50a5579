//! The least-privilege IAM policies in `docs/iam/` (the README shows them)
//! are enough: every Lambda request each command sends in these runs maps
//! to an action and the resource ARN AWS authorises it against (and, for a
//! configuration write, to what its keys make AWS check against the
//! caller's own permissions; for CloudWatch, to the alarms it reads), and
//! the command's policy must allow that action on that resource. A Lambda
//! request the map does not know fails the test, so a new call cannot go
//! undocumented.
//! The runs are recorded by the emulator; moto does not enforce IAM on its
//! own (ARCHITECTURE.md), so the policy is evaluated here: `Allow`
//! statements, actions by name, resources as ARN globs.

use std::path::Path;

use crate::common::*;

/// A policy file, with its example region in ours.
fn policy(name: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/iam").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text.replace("eu-west-1", REGION)).unwrap()
}

/// `*` in an ARN pattern matches any run of characters.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            text.starts_with(head)
                && (0..=text.len() - head.len()).any(|skip| glob(rest, &text[head.len() + skip..]))
        }
    }
}

fn as_list(value: &serde_json::Value) -> Vec<&str> {
    match value {
        serde_json::Value::String(one) => vec![one.as_str()],
        serde_json::Value::Array(many) => many.iter().filter_map(|v| v.as_str()).collect(),
        _ => Vec::new(),
    }
}

/// Whether any of `policies` allows `action` on `resource`.
fn allows(policies: &[serde_json::Value], action: &str, resource: &str) -> bool {
    policies
        .iter()
        .flat_map(|p| p["Statement"].as_array().unwrap())
        .filter(|s| s["Effect"] == "Allow")
        .any(|s| {
            as_list(&s["Action"]).iter().any(|a| glob(a, action))
                && as_list(&s["Resource"]).iter().any(|r| glob(r, resource))
        })
}

/// The IAM action and resource of one recorded Lambda request, as AWS
/// authorises it (a qualifier in the path or query makes the resource the
/// qualified ARN). `None` for a request to another service.
fn lambda_action(method: &str, url: &str) -> Option<(String, String)> {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let qualifier = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("Qualifier="))
        .map(str::to_string);
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let function_arn = |name: &str| format!("arn:aws:lambda:{REGION}:123456789012:function:{name}");
    let qualified = |name: &str, qualifier: &Option<String>| match qualifier {
        Some(q) => format!("{}:{q}", function_arn(name)),
        None => function_arn(name),
    };
    let action = |name: &str| format!("lambda:{name}");
    // Tags name their resource by ARN, percent-encoded in the path.
    let tagged = || {
        percent_encoding::percent_decode_str(parts.get(2).copied().unwrap_or_default())
            .decode_utf8_lossy()
            .to_string()
    };
    let found = match (method, parts.as_slice()) {
        ("GET", [_, "tags", _]) => (action("ListTags"), tagged()),
        ("POST", [_, "tags", _]) => (action("TagResource"), tagged()),
        ("DELETE", [_, "tags", _]) => (action("UntagResource"), tagged()),
        ("GET", [_, "event-source-mappings"]) => (action("ListEventSourceMappings"), "*".to_string()),
        ("POST", [_, "functions"]) => (action("CreateFunction"), function_arn("orders")),
        ("GET", [_, "functions", f]) => (action("GetFunction"), qualified(f, &qualifier)),
        ("DELETE", [_, "functions", f]) => (action("DeleteFunction"), qualified(f, &qualifier)),
        ("GET", [_, "functions", f, "configuration"]) => {
            (action("GetFunctionConfiguration"), qualified(f, &qualifier))
        }
        ("PUT", [_, "functions", f, "configuration"]) => {
            (action("UpdateFunctionConfiguration"), function_arn(f))
        }
        ("PUT", [_, "functions", f, "code"]) => (action("UpdateFunctionCode"), function_arn(f)),
        ("POST", [_, "functions", f, "versions"]) => (action("PublishVersion"), function_arn(f)),
        ("GET", [_, "functions", f, "versions"]) => (action("ListVersionsByFunction"), function_arn(f)),
        ("POST", [_, "functions", f, "aliases"]) => (action("CreateAlias"), function_arn(f)),
        ("GET", [_, "functions", f, "aliases"]) => (action("ListAliases"), function_arn(f)),
        ("GET", [_, "functions", f, "aliases", a]) => {
            (action("GetAlias"), format!("{}:{a}", function_arn(f)))
        }
        ("PUT", [_, "functions", f, "aliases", a]) => {
            (action("UpdateAlias"), format!("{}:{a}", function_arn(f)))
        }
        ("GET", [_, "functions", f, "policy"]) => (action("GetPolicy"), qualified(f, &qualifier)),
        ("GET", [_, "functions", f, "url"]) => (action("GetFunctionUrlConfig"), qualified(f, &qualifier)),
        ("POST", [_, "functions", f, "url"]) => (action("CreateFunctionUrlConfig"), qualified(f, &qualifier)),
        ("PUT", [_, "functions", f, "url"]) => (action("UpdateFunctionUrlConfig"), qualified(f, &qualifier)),
        ("POST", [_, "functions", f, "policy"]) => (action("AddPermission"), qualified(f, &qualifier)),
        ("DELETE", [_, "functions", f, "policy", _]) => {
            (action("RemovePermission"), qualified(f, &qualifier))
        }
        ("POST", [_, "functions", f, "invocations"]) => (action("InvokeFunction"), qualified(f, &qualifier)),
        ("GET", [_, "functions", f, "provisioned-concurrency"]) if query.contains("List=ALL") => {
            (action("ListProvisionedConcurrencyConfigs"), function_arn(f))
        }
        ("GET", [_, "functions", f, "provisioned-concurrency"]) => (
            action("GetProvisionedConcurrencyConfig"),
            qualified(f, &qualifier),
        ),
        _ if parts.first().is_some_and(|p| p.starts_with("20")) => {
            panic!("a Lambda request this test does not know: {method} {url} (map it to its IAM action)")
        }
        _ => return None,
    };
    Some(found)
}

/// What AWS checks against the caller's own permissions when a function's
/// configuration is written (CreateFunction, UpdateFunctionConfiguration),
/// by the keys of the request's body: each layer version it names, the VPC's
/// subnets and security groups, a customer managed key, file systems.
fn configuration_checks(body: &str) -> Vec<(String, String)> {
    let Ok(body) = serde_json::from_str::<serde_json::Value>(body) else {
        return Vec::new();
    };
    let mut checks: Vec<(String, String)> = as_list(&body["Layers"])
        .into_iter()
        .map(|layer| ("lambda:GetLayerVersion".to_string(), layer.to_string()))
        .collect();
    let vpc = &body["VpcConfig"];
    if !as_list(&vpc["SubnetIds"]).is_empty() || !as_list(&vpc["SecurityGroupIds"]).is_empty() {
        for action in [
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcs",
        ] {
            checks.push((action.to_string(), "*".to_string()));
        }
    }
    if let Some(key) = body["KMSKeyArn"].as_str().filter(|k| !k.is_empty()) {
        for action in ["kms:Encrypt", "kms:Decrypt", "kms:CreateGrant"] {
            checks.push((action.to_string(), key.to_string()));
        }
    }
    for mount in body["FileSystemConfigs"].as_array().into_iter().flatten() {
        // An access point's ARN; AWS checks its file system's mount targets.
        let arn = mount["Arn"].as_str().unwrap_or_default();
        let file_systems = arn
            .split_once(":access-point/")
            .map_or(arn.to_string(), |(head, _)| format!("{head}:file-system/*"));
        checks.push(("elasticfilesystem:DescribeMountTargets".to_string(), file_systems));
    }
    checks
}

/// CloudWatch's `DescribeAlarms` (a query-protocol POST): one check per
/// alarm it names, against the alarm's ARN; `GetMetricData`, which takes no
/// resource, against `*`.
fn cloudwatch_actions(body: &str) -> Vec<(String, String)> {
    let form: Vec<(String, String)> = body
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| {
            let decode = |t: &str| {
                percent_encoding::percent_decode_str(&t.replace('+', " "))
                    .decode_utf8_lossy()
                    .to_string()
            };
            (decode(k), decode(v))
        })
        .collect();
    if form.iter().any(|(k, v)| k == "Action" && v == "GetMetricData") {
        return vec![("cloudwatch:GetMetricData".to_string(), "*".to_string())];
    }
    if !form.iter().any(|(k, v)| k == "Action" && v == "DescribeAlarms") {
        return Vec::new();
    }
    let alarm = |name: &str| format!("arn:aws:cloudwatch:{REGION}:123456789012:alarm:{name}");
    let names: Vec<String> = form
        .iter()
        .filter(|(k, _)| k.starts_with("AlarmNames.member."))
        .map(|(_, name)| alarm(name))
        .collect();
    let resources = if names.is_empty() { vec![alarm("*")] } else { names };
    resources
        .into_iter()
        .map(|resource| ("cloudwatch:DescribeAlarms".to_string(), resource))
        .collect()
}

/// Every IAM check one recorded request meets: its Lambda action, what its
/// configuration keys need besides, CloudWatch's alarm reads.
fn checks(method: &str, url: &str, body: &str) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = lambda_action(method, url).into_iter().collect();
    let writes_configuration = found.iter().any(|(action, _)| {
        action == "lambda:CreateFunction" || action == "lambda:UpdateFunctionConfiguration"
    });
    if writes_configuration {
        found.extend(configuration_checks(body));
    }
    if method == "POST" && url == "/" {
        found.extend(cloudwatch_actions(body));
    }
    found
}

/// Every request recorded since `start_recording` that `policies` do not
/// allow, as "action on resource".
fn denied(aws: &Emulator, policies: &[serde_json::Value]) -> Vec<String> {
    aws.recorded_with_bodies()
        .iter()
        .flat_map(|(method, url, body)| checks(method, url, body))
        .filter(|(action, resource)| !allows(policies, action, resource))
        .map(|(action, resource)| format!("{action} on {resource}"))
        .collect()
}

fn code(n: u32) -> tempfile::TempDir {
    source_dir(&format!("def handler(event, context):\n    return {n}\n"))
}

fn command(aws: &Emulator, args: &[&str]) -> Run {
    let mut command = binary(Some(aws));
    run(command.args(args).args(["--output", "json"]))
}

#[test]
fn the_policies_evaluate_as_aws_reads_them() {
    let prune = [policy("prune.json")];
    let function = format!("arn:aws:lambda:{REGION}:123456789012:function:orders");
    assert!(allows(&prune, "lambda:ListVersionsByFunction", &function));
    assert!(allows(&prune, "lambda:DeleteFunction", &format!("{function}:3")));
    assert!(
        !allows(&prune, "lambda:DeleteFunction", &function),
        "never the function itself"
    );
    assert!(!allows(&prune, "lambda:UpdateAlias", &format!("{function}:live")));
    assert_eq!(
        lambda_action("GET", "/2015-03-31/functions/orders/versions?MaxItems=50"),
        Some(("lambda:ListVersionsByFunction".into(), function.clone()))
    );
    assert_eq!(
        lambda_action("GET", "/2015-03-31/functions/orders?Qualifier=live"),
        Some(("lambda:GetFunction".into(), format!("{function}:live")))
    );
}

/// Each command's runs — a function created by its first deploy, canaries
/// with a configuration change, a staged rollout, a judged one,
/// `--keep-versions`,
/// promotions (one creating an alias), rollbacks, status, prune — send only
/// what that command's policy allows.
#[tokio::test(flavor = "current_thread")]
async fn every_request_each_command_sends_is_allowed_by_its_policy() {
    let aws = Emulator::start();
    let role = aws.create_role("orders");
    let files = tempfile::tempdir().unwrap();
    let config = |memory: u32| {
        let path = files.path().join(format!("function-{memory}.json"));
        let text = format!(
            r#"{{"Role": "{role}", "Runtime": "python3.12", "Handler": "index.handler", "MemorySize": {memory}, "Tags": {{"size": "{memory}"}}}}"#
        );
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let (deploy, promote_rollback, status, prune) = (
        [policy("deploy.json"), policy("prune.json")],
        [policy("promote-rollback.json")],
        [policy("status.json")],
        [policy("prune.json")],
    );
    let mut failures = Vec::new();
    let mut check = |what: &str, run: Run, policies: &[serde_json::Value]| {
        if run.status != 0 {
            failures.push(format!("{what}: exit {}\n{}", run.status, run.stderr));
        }
        let refused = denied(&aws, policies);
        if !refused.is_empty() {
            failures.push(format!("{what}: not allowed by its policy: {refused:?}"));
        }
        aws.start_recording();
    };

    aws.start_recording();
    let (one, two, three) = (code(1), code(2), code(3));
    let path = |dir: &tempfile::TempDir| dir.path().display().to_string();
    let deploys: [(&str, Vec<String>); 4] = [
        (
            "deploy creating the function",
            vec![
                "--source".into(),
                path(&one),
                "--function-config".into(),
                config(128),
            ],
        ),
        (
            "deploy of a canary with a configuration change",
            vec![
                "--source".into(),
                path(&two),
                "--function-config".into(),
                config(256),
            ],
        ),
        (
            "deploy as a staged rollout",
            vec![
                "--source".into(),
                path(&three),
                "--strategy".into(),
                "AllAtOnce".into(),
            ],
        ),
        (
            "deploy with --keep-versions",
            vec![
                "--source".into(),
                path(&one),
                "--canary-weight".into(),
                "100%".into(),
                "--keep-versions".into(),
                "1".into(),
            ],
        ),
    ];
    for (what, extra) in &deploys {
        let mut args = vec!["deploy", "--function-name", "orders", "--alias", "live"];
        args.extend(extra.iter().map(String::as_str));
        check(what, command(&aws, &args), &deploy);
    }
    // A judged rollout reads both versions' metrics as each step begins and
    // at each reading: the deploy's policy with the staged rollout's.
    let judged_code = code(5);
    let mut args: Vec<String> = [
        "deploy",
        "--function-name",
        "orders",
        "--alias",
        "live",
        "--source",
    ]
    .map(String::from)
    .to_vec();
    args.push(path(&judged_code));
    args.extend(crate::judge::judged("2s"));
    args.extend(["--on-no-data".into(), "pass".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let judged = command(&aws, &args);
    let reads = aws
        .recorded_with_bodies()
        .iter()
        .filter(|(_, _, body)| body.contains("Action=GetMetricData"))
        .count();
    assert!(reads >= 2, "the step's beginning and a reading: {reads}");
    let staged = [
        deploy[0].clone(),
        deploy[1].clone(),
        policy("staged-rollout.json"),
    ];
    check("deploy as a judged rollout", judged, &staged);
    let url_file = files.path().join("url.json");
    std::fs::write(&url_file, r#"{"AuthType": "NONE"}"#).unwrap();
    let url_arg = url_file.display().to_string();
    let with_url = [
        "deploy",
        "--function-name",
        "orders",
        "--alias",
        "live",
        "--source",
        &path(&one),
        "--function-url",
        &url_arg,
    ];
    check("deploy with --function-url", command(&aws, &with_url), &deploy);
    let canary = [
        "deploy",
        "--function-name",
        "orders",
        "--alias",
        "live",
        "--source",
        &path(&two),
    ];
    check("deploy of a canary", command(&aws, &canary), &deploy);
    // The URL no longer public: the tool's public statements are removed.
    std::fs::write(&url_file, r#"{"AuthType": "AWS_IAM"}"#).unwrap();
    check("deploy making the URL AWS_IAM", command(&aws, &with_url), &deploy);
    // A fleet: preflight's reads (the alias's primary, what invokes the
    // function), the deploy, and the emergency rollback.
    let manifest = files.path().join("fleet.toml");
    std::fs::write(
        &manifest,
        format!(
            "[defaults]\nalias = \"live\"\n\n[[functions]]\nname = \"orders\"\nsource = \"{}\"\n",
            path(&three)
        ),
    )
    .unwrap();
    let manifest = manifest.display().to_string();
    check(
        "deploy --manifest",
        command(&aws, &["deploy", "--manifest", &manifest]),
        &deploy,
    );
    for (what, args) in [
        (
            "promote --weight",
            &[
                "promote",
                "--function-name",
                "orders",
                "--alias",
                "live",
                "--weight",
                "50%",
            ][..],
        ),
        (
            "promote",
            &["promote", "--function-name", "orders", "--alias", "live"][..],
        ),
        (
            "rollback",
            &["rollback", "--function-name", "orders", "--alias", "live"][..],
        ),
        (
            "promote --version onto a missing alias",
            &[
                "promote",
                "--function-name",
                "orders",
                "--alias",
                "prod",
                "--version",
                "2",
            ][..],
        ),
        (
            "promote --from-alias",
            &[
                "promote",
                "--function-name",
                "orders",
                "--alias",
                "prod",
                "--from-alias",
                "live",
            ][..],
        ),
        (
            "rollback --to-version",
            &[
                "rollback",
                "--function-name",
                "orders",
                "--alias",
                "prod",
                "--to-version",
                "2",
            ][..],
        ),
    ] {
        check(what, command(&aws, args), &promote_rollback);
    }
    check(
        "rollback --manifest",
        command(&aws, &["rollback", "--manifest", &manifest]),
        &promote_rollback,
    );
    check(
        "status",
        command(&aws, &["status", "--function-name", "orders", "--alias", "live"]),
        &status,
    );
    // With a live canary, --metrics reads both versions' metrics.
    let four = code(4);
    command(
        &aws,
        &[
            "deploy",
            "--function-name",
            "orders",
            "--alias",
            "live",
            "--source",
            &path(&four),
        ],
    )
    .assert_ok();
    aws.start_recording();
    let compared = command(
        &aws,
        &[
            "status",
            "--function-name",
            "orders",
            "--alias",
            "live",
            "--metrics",
        ],
    );
    assert!(
        compared.stdout.contains("\"metrics\": \"last 15m:"),
        "{}",
        compared.stdout
    );
    check("status --metrics", compared, &status);
    let release_file = files.path().join("init.json").display().to_string();
    check(
        "init",
        command(
            &aws,
            &[
                "init",
                "--function-name",
                "orders",
                "--alias",
                "live",
                "--out",
                &release_file,
            ],
        ),
        &status,
    );
    check(
        "prune",
        command(&aws, &["prune", "--function-name", "orders", "--keep", "0"]),
        &prune,
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The release-file keys Lambda checks against the caller's own permissions
/// (Layers, VpcConfig, KMSKeyArn, FileSystemConfigs) and the alarms a
/// manifest's waves watch need the statements of release-file-keys.json on
/// top of the deploy policy, and nothing more.
#[tokio::test(flavor = "current_thread")]
async fn release_file_keys_and_wave_alarms_need_their_own_statements() {
    let aws = Emulator::start();
    let role = aws.create_role("orders");
    let layer = aws
        .lambda()
        .publish_layer_version()
        .layer_name("deps")
        .content(
            aws_sdk_lambda::types::LayerVersionContentInput::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(zip_of("x = 1\n")))
                .build(),
        )
        .send()
        .await
        .unwrap()
        .layer_version_arn
        .unwrap();
    aws.create_alarm("orders-errors").await;
    let files = tempfile::tempdir().unwrap();
    let release_file = files.path().join("function.json");
    std::fs::write(
        &release_file,
        serde_json::json!({
            "Role": role,
            "Runtime": "python3.12",
            "Handler": "index.handler",
            "Layers": [layer],
            "VpcConfig": {"SubnetIds": ["subnet-0a1b"], "SecurityGroupIds": ["sg-0a1b"]},
            "KMSKeyArn": format!("arn:aws:kms:{REGION}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
            "FileSystemConfigs": [{
                "Arn": format!("arn:aws:elasticfilesystem:{REGION}:123456789012:access-point/fsap-0a1b"),
                "LocalMountPath": "/mnt/data"
            }]
        })
        .to_string(),
    )
    .unwrap();
    let (one, two) = (code(1), code(2));
    let manifest = files.path().join("fleet.toml");
    std::fs::write(
        &manifest,
        format!(
            "[defaults]\nalias = \"live\"\n\n[[waves]]\nname = \"all\"\nalarms = [\"orders-errors\"]\n\n[[functions]]\nname = \"orders\"\nsource = \"{}\"\nfunction-config = \"{}\"\n",
            two.path().display(),
            release_file.display()
        ),
    )
    .unwrap();
    let deploy_only = [policy("deploy.json"), policy("prune.json")];
    let with_keys = [
        policy("deploy.json"),
        policy("prune.json"),
        policy("release-file-keys.json"),
    ];
    for (what, args) in [
        (
            "deploy creating the function",
            vec![
                "deploy".to_string(),
                "--function-name".into(),
                "orders".into(),
                "--alias".into(),
                "live".into(),
                "--source".into(),
                one.path().display().to_string(),
                "--function-config".into(),
                release_file.display().to_string(),
            ],
        ),
        (
            "deploy --manifest with wave alarms",
            vec![
                "deploy".to_string(),
                "--manifest".into(),
                manifest.display().to_string(),
            ],
        ),
    ] {
        aws.start_recording();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = command(&aws, &args);
        assert_eq!(run.status, 0, "{what}: {}", run.stderr);
        assert_eq!(denied(&aws, &with_keys), Vec::<String>::new(), "{what}");
        let without = denied(&aws, &deploy_only);
        assert!(
            !without.is_empty(),
            "{what}: the deploy policy alone allowed everything"
        );
        let needed: &[&str] = if what.contains("manifest") {
            &["cloudwatch:DescribeAlarms"]
        } else {
            &[
                "lambda:GetLayerVersion",
                "ec2:DescribeSubnets",
                "kms:CreateGrant",
                "elasticfilesystem:DescribeMountTargets",
            ]
        };
        for action in needed {
            assert!(
                without.iter().any(|d| d.starts_with(action)),
                "{what}: {action} not needed? {without:?}"
            );
        }
    }
}

/// docs/iam.md shows each policy file as it is.
#[test]
fn the_docs_show_the_policy_files_as_they_are() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let json_blocks = |doc: &str| -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        text.split("```json\n")
            .skip(1)
            .filter_map(|rest| rest.split_once("\n```").map(|(block, _)| block))
            .filter_map(|block| serde_json::from_str(block).ok())
            .collect()
    };
    let file = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(root.join("docs/iam").join(name)).unwrap()).unwrap()
    };
    let blocks = json_blocks("docs/iam.md");
    for name in [
        "deploy.json",
        "promote-rollback.json",
        "status.json",
        "prune.json",
        "staged-rollout.json",
        "release-file-keys.json",
    ] {
        assert!(
            blocks.contains(&file(name)),
            "docs/iam.md does not show docs/iam/{name} as it is"
        );
    }
}
