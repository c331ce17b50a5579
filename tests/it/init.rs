//! `init` against the emulator: the release file of a live function holds
//! no variable's value, and a deploy of the same tree with that file sends
//! no write. `--download` is shown with SDK mocks (the emulator's
//! `Code.Location` is not a URL a test can fetch): the zip is served from a
//! local HTTP server.

use std::io::{Read, Write};
use std::net::TcpListener;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
use aws_sdk_lambda::types::{FunctionCodeLocation, FunctionConfiguration};
use aws_smithy_mocks::{RuleMode, mock, mock_client};

use crate::common::*;

const V1: &str = "def handler(event, context):\n    return 1\n";
const VALUES: [&str; 2] = ["value-STAGE-prd7", "value-TOKEN-x9q2"];

/// `init` of orders:live into `out`, its outputs in GitHub's files.
fn init(aws: &Emulator, out: &std::path::Path) -> (Run, String) {
    let files = tempfile::tempdir().unwrap();
    let output = files.path().join("output");
    let mut command = binary(Some(aws));
    command
        .for_alias("init", "orders", "live")
        .args(["--output", "json", "--out"])
        .arg(out)
        .env("GITHUB_OUTPUT", &output);
    (
        run(&mut command),
        std::fs::read_to_string(output).unwrap_or_default(),
    )
}

#[tokio::test(flavor = "current_thread")]
async fn init_writes_no_value_and_a_deploy_of_its_file_sends_no_write() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    let files = tempfile::tempdir().unwrap();
    let source = source_dir(V1);
    let live_config = files.path().join("live.json");
    std::fs::write(
        &live_config,
        r#"{"MemorySize": 256, "Timeout": 15,
            "Environment": {"Variables": {"STAGE": {"FromEnvironment": "STAGE"}, "TOKEN": {"FromEnvironment": "TOKEN"}}},
            "Tags": {"team": "orders", "cost-center": "0042"}}"#,
    )
    .unwrap();
    let deploy = |config: &std::path::Path| {
        let mut command = binary(Some(&aws));
        command
            .for_alias("deploy", "orders", "live")
            .args(["--output", "json", "--source"])
            .arg(source.path())
            .arg("--function-config")
            .arg(config)
            .env("STAGE", VALUES[0])
            .env("TOKEN", VALUES[1]);
        run(&mut command)
    };
    deploy(&live_config).assert_ok();

    for name in ["release.yaml", "release.json"] {
        let out = files.path().join(name);
        let (made, github) = init(&aws, &out);
        made.assert_ok();
        let text = std::fs::read_to_string(&out).unwrap();
        for value in VALUES {
            for (what, shown) in [
                ("the file", &text),
                ("stdout", &made.stdout),
                ("stderr", &made.stderr),
                ("the GitHub outputs", &github),
            ] {
                assert!(!shown.contains(value), "{value} in {what}:\n{shown}");
            }
        }
        assert_eq!(made.json()["secrets"], serde_json::json!(["STAGE", "TOKEN"]));
        assert_eq!(made.json()["version"], "1");
        assert!(
            made.stderr
                .contains("set STAGE, TOKEN as secrets of the job that deploys"),
            "{}",
            made.stderr
        );
        assert!(
            text.contains("FromEnvironment") && text.contains("MemorySize"),
            "{text}"
        );
        assert!(
            !text.contains("EphemeralStorage"),
            "Lambda's defaults are left out:\n{text}"
        );

        // The same tree and the file: skipped, and not one write.
        aws.start_recording();
        let again = deploy(&out);
        again.assert_ok();
        assert_eq!(again.json()["result"], "skipped", "{}", again.stderr);
        let writes: Vec<(String, String)> = aws
            .recorded()
            .into_iter()
            .filter(|(method, _)| method != "GET" && method != "HEAD")
            .collect();
        assert_eq!(writes, [], "{name}: a deploy of init's file writes nothing");
    }

    // An existing file is never written over.
    let out = files.path().join("release.json");
    let (refused, _) = init(&aws, &out);
    assert_eq!(refused.status, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("init never writes over a file"),
        "{}",
        refused.stderr
    );
}

/// Serve `body` once over HTTP on 127.0.0.1; the URL to fetch it.
fn serve_once(body: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/snapshots/orders-1.zip?X-Amz-Signature=secret-signature",
        listener.local_addr().unwrap()
    );
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request);
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&body).unwrap();
    });
    url
}

#[tokio::test]
async fn init_download_unpacks_the_code_the_alias_serves() {
    use lambda_rollout::cli::flags::{CommonArgs, InitArgs, OutputFormat};
    use lambda_rollout::log::Log;

    let served = zip_of("served = 7");
    let hash = lambda_rollout::package::code_sha256(&served);
    let url = serve_once(served);
    let rules = [mock!(Client::get_function)
        .match_requests(|r| r.qualifier() == Some("live"))
        .then_output(move || {
            GetFunctionOutput::builder()
                .configuration(
                    FunctionConfiguration::builder()
                        .function_arn("arn:aws:lambda:us-east-1:123456789012:function:orders:3")
                        .version("3")
                        .handler("index.handler")
                        .code_sha256(hash.clone())
                        .build(),
                )
                .code(FunctionCodeLocation::builder().location(url.clone()).build())
                .build()
        })];
    let clients = offline_clients(mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &rules));
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("code");
    let args = InitArgs {
        function_name: "orders".into(),
        alias: Some("live".into()),
        region: None,
        out: Some(dir.path().join("release.json")),
        download: Some(code.clone()),
        download_zip: None,
        common: CommonArgs {
            output: OutputFormat::Json,
            verbose: false,
        },
    };

    let report = lambda_rollout::commands::init::init(&clients, &args, &Log::default())
        .await
        .unwrap();

    assert_eq!(report.version, "3");
    assert_eq!(report.downloaded, code.display().to_string());
    assert_eq!(
        std::fs::read_to_string(code.join("index.py")).unwrap(),
        "served = 7",
        "the zip the alias's version runs, unpacked"
    );
    let file = std::fs::read_to_string(dir.path().join("release.json")).unwrap();
    assert!(file.contains("\"Handler\": \"index.handler\""), "{file}");
}

/// A zip another tool built (its own timestamp), as a team adopting the
/// tool has it.
fn zip_by_another_tool(body: &str) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .last_modified_time(zip::DateTime::from_date_and_time(2024, 5, 1, 12, 30, 0).unwrap())
        .unix_permissions(0o600);
    writer.start_file("index.py", options).unwrap();
    writer.write_all(body.as_bytes()).unwrap();
    writer.finish().unwrap().into_inner()
}

/// `init` as a team adopting the tool runs it, with SDK mocks serving the
/// live version (the emulator's code location cannot be fetched): a zip
/// another tool built re-packs to another CodeSha256, so init says so and
/// saves the live zip as it is (`--download-zip`), which a deploy then
/// finds unchanged on the emulator: skipped, no version, no write. A
/// download that fails leaves no release file behind.
#[tokio::test]
async fn init_keeps_a_zip_another_tool_built_and_its_deploy_changes_nothing() {
    use lambda_rollout::cli::flags::{CommonArgs, InitArgs, OutputFormat};
    use lambda_rollout::log::Log;

    let theirs = zip_by_another_tool(V1);
    let hash = lambda_rollout::package::code_sha256(&theirs);
    let url = serve_once(theirs.clone());
    let snapshot_of = |location: String| {
        let hash = hash.clone();
        move || {
            GetFunctionOutput::builder()
                .configuration(
                    FunctionConfiguration::builder()
                        .function_arn("arn:aws:lambda:us-east-1:123456789012:function:orders:1")
                        .version("1")
                        .handler("index.handler")
                        .runtime(aws_sdk_lambda::types::Runtime::Python312)
                        .code_sha256(hash.clone())
                        .build(),
                )
                .code(FunctionCodeLocation::builder().location(location.clone()).build())
                .build()
        }
    };
    let rules = [mock!(Client::get_function).then_output(snapshot_of(url))];
    let clients = offline_clients(mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &rules));
    let dir = tempfile::tempdir().unwrap();
    let args = |name: &str| InitArgs {
        function_name: "orders".into(),
        alias: Some("live".into()),
        region: None,
        out: Some(dir.path().join(format!("{name}.json"))),
        download: Some(dir.path().join(format!("{name}-code"))),
        download_zip: Some(dir.path().join(format!("{name}.zip"))),
        common: CommonArgs {
            output: OutputFormat::Json,
            verbose: false,
        },
    };
    let adopt = args("adopt");
    let report = lambda_rollout::commands::init::init(&clients, &adopt, &Log::default())
        .await
        .unwrap();
    assert_eq!(
        report.round_trip, "zip",
        "the unpacked tree re-packs to another hash"
    );
    let saved = std::fs::read(dir.path().join("adopt.zip")).unwrap();
    assert_eq!(saved, theirs, "the live zip, byte for byte");
    assert!(dir.path().join("adopt.json").is_file());

    // The served URL answered once: a second init's download fails, and
    // leaves neither a release file nor a zip behind.
    let failed = args("again");
    let err = lambda_rollout::commands::init::init(&clients, &failed, &Log::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot download the code"), "{err}");
    assert!(!dir.path().join("again.json").exists(), "no release file");
    assert!(!dir.path().join("again.zip").exists(), "no zip");

    // On the emulator, the function runs that zip: deploying the saved zip
    // with the written file changes nothing.
    let aws = Emulator::start();
    let role = aws.create_role("orders-role");
    let lambda = aws.lambda();
    lambda
        .create_function()
        .function_name("orders")
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .role(role)
        .handler("index.handler")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(theirs.clone()))
                .build(),
        )
        .publish(true)
        .send()
        .await
        .unwrap();
    lambda
        .create_alias()
        .function_name("orders")
        .name("live")
        .function_version("1")
        .send()
        .await
        .unwrap();
    aws.start_recording();
    let mut deploy = binary(Some(&aws));
    deploy
        .for_alias("deploy", "orders", "live")
        .args(["--output", "json", "--zip-file"])
        .arg(dir.path().join("adopt.zip"))
        .arg("--function-config")
        .arg(dir.path().join("adopt.json"));
    let deployed = run(&mut deploy);
    deployed.assert_ok();
    assert_eq!(deployed.json()["result"], "skipped", "{}", deployed.stderr);
    let writes: Vec<(String, String)> = aws
        .recorded()
        .into_iter()
        .filter(|(method, _)| method != "GET" && method != "HEAD")
        .collect();
    assert_eq!(writes, [], "the adopted function's first deploy writes nothing");
}

/// Clients whose Lambda calls `client` answers (SDK mocks), the others
/// never sent.
fn offline_clients(client: Client) -> lambda_rollout::aws::Clients {
    use lambda_rollout::aws::{Clients, Lambda};
    use lambda_rollout::log::Log;
    let offline = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .build();
    Clients {
        lambda: Lambda::new(client, Log::default()),
        ..Clients::new(&offline, Log::default())
    }
}
