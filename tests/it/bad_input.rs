//! Bad input gets a clear error naming the input and the accepted form, a
//! documented exit status (2: input or configuration, 1: AWS refused), and the
//! emulator sees no mutating request. One table across deploy, promote,
//! rollback and status: flags, environment values, weights, durations,
//! versions, aliases, S3 names, paths and zip contents.

use std::fs;

use crate::common::*;

struct Case {
    name: &'static str,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    /// Environment variables to remove from the standard test environment.
    unset: Vec<&'static str>,
    status: i32,
    message: &'static str,
}

fn case<S: AsRef<str>>(
    name: &'static str,
    args: impl IntoIterator<Item = S>,
    status: i32,
    message: &'static str,
) -> Case {
    Case {
        name,
        args: args.into_iter().map(|a| a.as_ref().to_string()).collect(),
        env: Vec::new(),
        unset: Vec::new(),
        status,
        message,
    }
}

#[tokio::test(flavor = "current_thread")]
async fn bad_input_is_refused_with_a_clear_message_and_changes_nothing() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    let files = tempfile::tempdir().unwrap();
    let dir = |name: &str| files.path().join(name).display().to_string();
    let good = dir("good");
    fs::create_dir(&good).unwrap();
    fs::write(format!("{good}/index.py"), "def handler(e, c): return 1\n").unwrap();
    let empty = dir("empty");
    fs::create_dir(&empty).unwrap();
    let corrupt = dir("corrupt.zip");
    fs::write(&corrupt, b"PK\x03\x04 this is not really a zip").unwrap();
    let empty_zip = dir("empty.zip");
    zip::ZipWriter::new(fs::File::create(&empty_zip).unwrap())
        .finish()
        .unwrap();
    // A zip holding index.py and one entry named `entry`.
    let zip_with = |file: &str, entry: &str| {
        let path = dir(file);
        let mut writer = zip::ZipWriter::new(fs::File::create(&path).unwrap());
        for name in ["index.py", entry] {
            let options = zip::write::SimpleFileOptions::default();
            writer.start_file(name, options).unwrap();
            std::io::Write::write_all(&mut writer, b"x").unwrap();
        }
        writer.finish().unwrap();
        path
    };
    let escaping_zip = zip_with("escaping.zip", "../../etc/cron.d/evil");
    let absolute_zip = zip_with("absolute.zip", "/etc/cron.d/evil");
    let drive_zip = zip_with("drive.zip", "C:/Windows/evil.dll");
    let backslash_zip = zip_with("backslash.zip", "..\\..\\evil.py");
    let linked_out = dir("linked-out");
    fs::create_dir(&linked_out).unwrap();
    fs::write(format!("{linked_out}/index.py"), "").unwrap();
    std::os::unix::fs::symlink("/etc/hostname", format!("{linked_out}/host")).unwrap();

    // Over Lambda's 250 MiB unzipped limit (a sparse file: no disk needed).
    let huge = dir("huge");
    fs::create_dir(&huge).unwrap();
    fs::write(format!("{huge}/index.py"), "").unwrap();
    fs::File::create(format!("{huge}/model.bin"))
        .unwrap()
        .set_len(251 * 1024 * 1024)
        .unwrap();
    // Over the 50 MiB direct-upload limit once zipped (incompressible bytes).
    let large = dir("large");
    fs::create_dir(&large).unwrap();
    fs::write(format!("{large}/index.py"), "").unwrap();
    let mut noise = vec![0u8; 51 * 1024 * 1024];
    fastrand::Rng::with_seed(7).fill(&mut noise);
    fs::write(format!("{large}/weights.bin"), noise).unwrap();
    // A named pipe: nothing that can be read as a file's content.
    let with_pipe = dir("with-pipe");
    fs::create_dir(&with_pipe).unwrap();
    fs::write(format!("{with_pipe}/index.py"), "").unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(format!("{with_pipe}/queue"))
            .status()
            .unwrap()
            .success()
    );

    let base = |extra: &[&str]| -> Vec<String> {
        ["deploy", "--function-name", "orders", "--alias", "live"]
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
    };
    let mut cases = vec![
        case(
            "missing source dir",
            base(&["--source", "/nonexistent/code"]),
            2,
            "--source '/nonexistent/code' does not exist",
        ),
        case(
            "source is a file",
            base(&["--source", &corrupt]),
            2,
            "is a file, expected a directory",
        ),
        case(
            "empty source",
            base(&["--source", &empty]),
            2,
            "holds no files to package",
        ),
        case(
            "both source and zip",
            base(&["--source", &good, "--zip-file", &corrupt]),
            2,
            "cannot be used with",
        ),
        case(
            "neither source nor zip",
            base(&[]),
            2,
            "give --source DIR, --zip-file FILE or --image-uri URI",
        ),
        case(
            "corrupt zip",
            base(&["--zip-file", &corrupt]),
            2,
            "is not a valid zip archive",
        ),
        case(
            "missing zip",
            base(&["--zip-file", "/nonexistent.zip"]),
            2,
            "--zip-file '/nonexistent.zip' cannot be read",
        ),
        case(
            "empty zip",
            base(&["--zip-file", &empty_zip]),
            2,
            "holds no files",
        ),
        case(
            "zip escaping its root",
            base(&["--zip-file", &escaping_zip]),
            2,
            "leaves the archive's root",
        ),
        case(
            "exclude with a zip",
            base(&["--zip-file", &empty_zip, "--exclude", "*.md"]),
            2,
            "--exclude applies to --source only",
        ),
        case(
            "link out of the tree",
            base(&["--source", &linked_out]),
            2,
            "symlink 'host' points outside",
        ),
        case(
            "weight above 1",
            base(&["--source", &good, "--canary-weight", "1.5"]),
            2,
            "'1.5' is not a weight",
        ),
        case(
            "zip entry with an absolute name",
            base(&["--zip-file", &absolute_zip]),
            2,
            "has an entry '/etc/cron.d/evil' that is an absolute path",
        ),
        case(
            "zip entry naming a drive",
            base(&["--zip-file", &drive_zip]),
            2,
            "has an entry 'C:/Windows/evil.dll' that names a drive",
        ),
        case(
            "zip entry with backslashes",
            base(&["--zip-file", &backslash_zip]),
            2,
            "that has a backslash: entry names must be relative paths",
        ),
        case(
            "negative weight",
            base(&["--source", &good, "--canary-weight=-1"]),
            2,
            "'-1' is not a weight",
        ),
        case(
            "weight not a number",
            base(&["--source", &good, "--canary-weight", "abc"]),
            2,
            "'abc' is not a weight",
        ),
        case(
            "weight NaN",
            base(&["--source", &good, "--canary-weight", "NaN"]),
            2,
            "such as 10%",
        ),
        case(
            "weight over 100%",
            base(&["--source", &good, "--canary-weight", "150%"]),
            2,
            "'150%' is not a weight",
        ),
        case(
            "empty function name",
            [
                "deploy",
                "--function-name",
                "",
                "--alias",
                "live",
                "--source",
                &good,
            ],
            2,
            "the function name is empty",
        ),
        case(
            "function name with a qualifier",
            [
                "deploy",
                "--function-name",
                "orders:3",
                "--alias",
                "live",
                "--source",
                &good,
            ],
            2,
            "without a version or alias suffix",
        ),
        case(
            "alias like a version number",
            [
                "deploy",
                "--function-name",
                "orders",
                "--alias",
                "42",
                "--source",
                &good,
            ],
            2,
            "'42' looks like a version number",
        ),
        case(
            "alias $LATEST",
            [
                "deploy",
                "--function-name",
                "orders",
                "--alias",
                "$LATEST",
                "--source",
                &good,
            ],
            2,
            "not an alias name",
        ),
        case(
            "description too long",
            base(&["--source", &good, "--description", &"d".repeat(300)]),
            2,
            "at most 256",
        ),
        case(
            "unknown output format",
            base(&["--source", &good, "--output", "yaml"]),
            2,
            "[possible values: text, json]",
        ),
        case(
            "function that does not exist",
            [
                "deploy",
                "--function-name",
                "ghost",
                "--alias",
                "live",
                "--source",
                &good,
            ],
            1,
            "function ghost does not exist",
        ),
        case(
            "unzipped tree over 250 MiB",
            base(&["--source", &huge]),
            2,
            "over Lambda's limit of 250.0 MiB",
        ),
        case(
            "zip over 50 MiB without --s3-bucket",
            base(&["--source", &large]),
            2,
            "direct-upload limit: set --s3-bucket",
        ),
        case(
            "a pipe in the tree",
            base(&["--source", &with_pipe]),
            2,
            "'queue' is not a regular file",
        ),
        case(
            "bucket name with capitals",
            base(&["--source", &good, "--s3-bucket", "My_Bucket"]),
            2,
            "'My_Bucket' is not an S3 bucket name",
        ),
        case(
            "bucket as a URL",
            base(&["--source", &good, "--s3-bucket", "s3://artifacts"]),
            2,
            "not an s3:// URL",
        ),
        case(
            "absolute key prefix",
            base(&[
                "--source",
                &good,
                "--s3-bucket",
                "artifacts",
                "--s3-key-prefix",
                "/abs",
            ]),
            2,
            "'/abs' is not a usable S3 key prefix",
        ),
        case(
            "key prefix climbing out",
            base(&[
                "--source",
                &good,
                "--s3-bucket",
                "artifacts",
                "--s3-key-prefix",
                "a/../b",
            ]),
            2,
            "'a/../b' is not a usable S3 key prefix",
        ),
        case(
            "key prefix without a bucket",
            base(&["--source", &good, "--s3-key-prefix", "packages"]),
            2,
            "--s3-bucket <BUCKET>",
        ),
        case(
            "zero-length canary step",
            base(&["--source", &good, "--strategy", "canary:10%:0m"]),
            2,
            "'0m' is zero",
        ),
        case(
            "step interval not a duration",
            base(&[
                "--source",
                &good,
                "--strategy",
                "10%,100%",
                "--step-interval",
                "soon",
            ]),
            2,
            "'soon' is not a duration",
        ),
        case(
            "promote weight above 1",
            [
                "promote",
                "--function-name",
                "orders",
                "--alias",
                "live",
                "--weight",
                "2",
            ],
            2,
            "'2' is not a weight",
        ),
        case(
            "promote to $LATEST",
            [
                "promote",
                "--function-name",
                "orders",
                "--alias",
                "live",
                "--version",
                "$LATEST",
            ],
            2,
            "'$LATEST' is not a published version number",
        ),
        case(
            "promote with both a version and a weight",
            [
                "promote",
                "--function-name",
                "orders",
                "--alias",
                "live",
                "--version",
                "3",
                "--weight",
                "50%",
            ],
            2,
            "cannot be used with",
        ),
        case(
            "promote from a non-alias",
            [
                "promote",
                "--function-name",
                "orders",
                "--alias",
                "live",
                "--from-alias",
                "$LATEST",
            ],
            2,
            "'$LATEST' is not an alias name",
        ),
        case(
            "rollback to a word",
            [
                "rollback",
                "--function-name",
                "orders",
                "--alias",
                "live",
                "--to-version",
                "abc",
            ],
            2,
            "'abc' is not a published version number",
        ),
        case(
            "rollback to version 0",
            [
                "rollback",
                "--function-name",
                "orders",
                "--alias",
                "live",
                "--to-version",
                "0",
            ],
            2,
            "'0' is not a published version number",
        ),
        case(
            "status of a manifest that is not there",
            ["status", "--manifest", "functions.toml"],
            2,
            "--manifest 'functions.toml' cannot be read",
        ),
    ];
    let mut env_bucket = case(
        "bad bucket from the environment",
        base(&["--source", &good]),
        2,
        "'Bad Bucket' is not an S3 bucket name",
    );
    env_bucket.env = vec![("LAMBDA_ROLLOUT_S3_BUCKET", "Bad Bucket".to_string())];
    cases.push(env_bucket);
    let mut no_region = case(
        "no region",
        base(&["--source", &good]),
        2,
        "no AWS region configured",
    );
    no_region.unset = vec!["AWS_REGION"];
    cases.push(no_region);
    let mut no_credentials = case(
        "no credentials",
        base(&["--source", &good]),
        2,
        "no AWS credentials found",
    );
    no_credentials.unset = vec!["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];
    cases.push(no_credentials);
    let mut yes_bool = case(
        "boolean not in YAML form",
        base(&["--source", &good]),
        2,
        "'yes' is not a boolean",
    );
    yes_bool.env = vec![("LAMBDA_ROLLOUT_DRY_RUN", "yes".to_string())];
    cases.push(yes_bool);
    let mut env_weight = case(
        "bad weight from the environment",
        base(&["--source", &good]),
        2,
        "'ten' is not a weight",
    );
    env_weight.env = vec![("LAMBDA_ROLLOUT_CANARY_WEIGHT", "ten".to_string())];
    cases.push(env_weight);
    let mut env_both = case(
        "both code inputs from the environment",
        base(&[]),
        2,
        "cannot be used with",
    );
    env_both.env = vec![
        ("LAMBDA_ROLLOUT_SOURCE", good.clone()),
        ("LAMBDA_ROLLOUT_ZIP_FILE", empty_zip.clone()),
    ];
    cases.push(env_both);
    cases.extend([
        case(
            "negative weight as a separate word",
            base(&["--source", &good, "--canary-weight", "-1"]),
            2,
            "invalid value '-1' for '--canary-weight",
        ),
        case(
            "boolean flag with its value as a separate word",
            base(&["--source", &good, "--dry-run", "true"]),
            2,
            "--dry-run takes its value after '=', not as a separate word",
        ),
        case(
            "misspelt flag",
            base(&["--source", &good, "--canary-wieght", "10%"]),
            2,
            "a similar argument exists: '--canary-weight'",
        ),
        case(
            "misspelt command",
            ["deplyo", "--function-name", "orders"],
            2,
            "a similar subcommand exists: 'deploy'",
        ),
        case(
            "a wave failure to roll back on a rollback",
            [
                "rollback",
                "--function-name",
                "orders",
                "--alias",
                "live",
                "--on-wave-failure",
                "rollback",
            ],
            2,
            "--on-wave-failure rollback applies to deploy: rollback --manifest acts on every target at once",
        ),
        case(
            "a flag where a value belongs",
            ["deploy", "--function-name", "orders", "--alias", "--source", good.as_str()],
            2,
            "a value is required for '--alias <ALIAS>'",
        ),
        case(
            "region with underscores",
            base(&["--source", &good, "--region", "eu_west_1"]),
            2,
            "invalid value 'eu_west_1' for '--region <REGION>': 'eu_west_1' is not a region: expected an AWS region code such as us-east-1",
        ),
        case(
            "empty region",
            base(&["--source", &good, "--region", ""]),
            2,
            "for '--region <REGION>'",
        ),
        case(
            "function ARN in another region",
            [
                "deploy",
                "--function-name",
                "arn:aws:lambda:eu-west-1:123456789012:function:orders",
                "--alias",
                "live",
                "--source",
                good.as_str(),
            ],
            2,
            "is in eu-west-1, but the region is us-east-1: pass --region eu-west-1",
        ),
    ]);
    let mut spaced_region = case(
        "region from the environment with a trailing space",
        base(&["--source", &good]),
        2,
        "the AWS region from AWS_REGION (or the AWS profile) is not usable: 'us-east-1 ' is not an AWS region",
    );
    spaced_region.env = vec![("AWS_REGION", "us-east-1 ".to_string())];
    cases.push(spaced_region);

    let mut failures = Vec::new();
    for case in &cases {
        aws.start_recording();
        let mut command = binary(Some(&aws));
        command.args(&case.args);
        for (key, value) in &case.env {
            command.env(key, value);
        }
        for key in &case.unset {
            command.env_remove(key);
        }
        let result = run(&mut command);
        let mutating = aws.mutating();
        if result.status != case.status || !result.stderr.contains(case.message) || !mutating.is_empty() {
            failures.push(format!(
                "{}: status {} (expected {}), mutating requests {mutating:?}, stderr:\n{}",
                case.name, result.status, case.status, result.stderr
            ));
        }
    }
    assert!(cases.len() >= 30, "{} cases", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(alias_state_missing(&aws).await, "the alias was never created");
    assert!(
        versions(&aws, "orders").await.is_empty(),
        "no version was published"
    );
}

async fn alias_state_missing(aws: &Emulator) -> bool {
    aws.lambda()
        .get_alias()
        .function_name("orders")
        .name("live")
        .send()
        .await
        .is_err()
}

#[tokio::test(flavor = "current_thread")]
async fn errors_are_one_readable_line_and_json_with_output_json() {
    let code = source_dir("def handler(e, c): return 1\n");
    // Nothing listens on port 9: a network failure after the retries.
    let mut unreachable = binary(None);
    unreachable
        .args([
            "status",
            "--function-name",
            "orders",
            "--alias",
            "live",
            "--output",
            "json",
        ])
        .envs([
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
            ("AWS_REGION", REGION),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
            ("AWS_MAX_ATTEMPTS", "1"),
        ]);
    let mut no_credentials = binary(None);
    no_credentials
        .for_alias("deploy", "orders", "live")
        .args(["--region", REGION, "--output", "json", "--source"])
        .arg(code.path());
    for (what, mut command, status, said) in [
        (
            "network failure",
            unreachable,
            1,
            "tcp connect error: Connection refused",
        ),
        ("no credentials", no_credentials, 2, "no AWS credentials found"),
    ] {
        let result = run(&mut command);
        assert_eq!(result.status, status, "{what}: {}", result.stderr);
        let line = result.stderr.lines().find(|l| l.starts_with("error: ")).unwrap();
        assert!(line.contains(said), "{what}: {line}");
        for debug in [
            "DispatchFailure(",
            "ConnectorError {",
            "CredentialsNotLoaded(",
            "ProviderError {",
        ] {
            assert!(
                !result.stderr.contains(debug),
                "{what}: SDK internals in {}",
                result.stderr
            );
        }
        let json = result.json();
        assert_eq!(json["exit-status"], status, "{what}");
        assert!(json["error"].as_str().unwrap().contains(said), "{what}: {json}");
    }
    // A flag that does not parse is reported as JSON too.
    let refused = run(binary(None).args(["promote", "--output", "json", "--weight", "2"]));
    assert_eq!(refused.status, 2);
    assert_eq!(refused.json()["exit-status"], 2);
    assert!(
        refused.json()["error"]
            .as_str()
            .unwrap()
            .contains("'2' is not a weight")
    );
}
