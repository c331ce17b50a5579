//! Test support: a moto server (the local AWS emulator, installed by
//! `scripts/setup-tools`) to each test alone, wiped between tests, functions created in it through the
//! official SDK, the binary run the way a CI step runs it, and moto's request
//! recorder as an independent witness of which requests the binary sent.
#![allow(dead_code)]

pub mod proxy;
pub mod scf_double;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_lambda::Client;
use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::Runtime;

pub const REGION: &str = "us-east-1";
pub const ACCESS_KEY: &str = "AKIATESTFAKEKEY12345";
pub const SECRET_KEY: &str = "fake/Secret+Key/ForTests0123456789abcdef";

/// Plain HTTP to the emulator for the tests' own SDK clients (the SDKs bring
/// no default client: the tool configures its HTTPS client itself).
pub fn http_client() -> aws_sdk_lambda::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new().build_http()
}

/// A moto server on 127.0.0.1 for one test at a time. When the test ends
/// its state is wiped (`/moto-api/reset`, the recording too) and the server
/// waits in [`IDLE`] for the next test, so the suite starts a handful of
/// servers rather than one per test (a start costs about a CPU-second); a
/// test that panicked kills its server instead.
pub struct Emulator {
    server: Option<Server>,
    pub endpoint: String,
}

/// A running `moto_server` process and its working directory.
struct Server {
    child: Child,
    endpoint: String,
    _workdir: tempfile::TempDir,
}

/// Servers whose last test ended cleanly, wiped, ready for the next.
static IDLE: std::sync::Mutex<Vec<Server>> = std::sync::Mutex::new(Vec::new());

fn moto_server() -> PathBuf {
    if let Some(path) = std::env::var_os("LAMBDA_ROLLOUT_MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    assert!(
        path.exists(),
        "the AWS emulator is not installed at {}: run scripts/test (or scripts/setup-tools) first; these tests never skip",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Emulator {
    /// A wiped idle server, or a new one.
    pub fn start() -> Emulator {
        let idle = IDLE.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let server = idle.unwrap_or_else(Server::start);
        Emulator {
            endpoint: server.endpoint.clone(),
            server: Some(server),
        }
    }
}

impl Server {
    fn start() -> Server {
        let workdir = tempfile::tempdir().unwrap();
        for _attempt in 0..5 {
            let port = free_port();
            let mut child = Command::new(moto_server())
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .current_dir(workdir.path())
                .env("MOTO_RECORDER_FILEPATH", workdir.path().join("recording"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("cannot start moto_server");
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // exited: the port was taken meanwhile, try another
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    let server = Server {
                        child,
                        endpoint: format!("http://127.0.0.1:{port}"),
                        _workdir: workdir,
                    };
                    server.post("/moto-api/config", r#"{"lambda": {"use_docker": false}}"#);
                    return server;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("moto_server did not start");
    }

    fn post(&self, path: &str, body: &str) -> String {
        ureq::post(&format!("{}{path}", self.endpoint))
            .header("Content-Type", "application/json")
            .send(body)
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
            .body_mut()
            .read_to_string()
            .unwrap()
    }

    /// Wipe every backend and the request recording; `false` when the
    /// server does not answer as it should.
    fn wipe(&self) -> bool {
        let post = |path: &str, body: &str| {
            ureq::post(&format!("{}{path}", self.endpoint))
                .header("Content-Type", "application/json")
                .send(body)
                .is_ok()
        };
        post("/moto-api/recorder/stop-recording", "")
            && post("/moto-api/recorder/reset-recording", "")
            && post("/moto-api/reset", "")
            && post("/moto-api/config", r#"{"lambda": {"use_docker": false}}"#)
    }
}

impl Emulator {
    pub fn post(&self, path: &str, body: &str) -> String {
        self.server.as_ref().expect("a running server").post(path, body)
    }

    /// Wipe all state (`POST /moto-api/reset`).
    pub fn reset(&self) {
        self.post("/moto-api/reset", "");
        self.post("/moto-api/config", r#"{"lambda": {"use_docker": false}}"#);
    }

    /// Create an SQS queue (for event source mappings). Returns its ARN.
    pub fn create_queue(&self, name: &str) -> String {
        ureq::post(&format!("{}/", self.endpoint))
            .header(
                "Authorization",
                &format!("AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20260101/{REGION}/sqs/aws4_request, SignedHeaders=host, Signature=0"),
            )
            .send_form([("Action", "CreateQueue"), ("Version", "2012-11-05"), ("QueueName", name)])
            .expect("CreateQueue");
        format!("arn:aws:sqs:{REGION}:123456789012:{name}")
    }

    /// Create an IAM role Lambda can use (moto checks that the role exists).
    pub fn create_role(&self, name: &str) -> String {
        self.create_role_as(name, ACCESS_KEY);
        format!("arn:aws:iam::123456789012:role/{name}")
    }

    /// [`Emulator::create_role`] in the account whose credentials hold
    /// `access_key` (moto keeps one IAM per account).
    pub fn create_role_as(&self, name: &str, access_key: &str) {
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        ureq::post(&format!("{}/", self.endpoint))
            .header(
                "Authorization",
                &format!("AWS4-HMAC-SHA256 Credential={access_key}/20260101/{REGION}/iam/aws4_request, SignedHeaders=host, Signature=0"),
            )
            .send_form([
                ("Action", "CreateRole"),
                ("Version", "2010-05-08"),
                ("RoleName", name),
                ("AssumeRolePolicyDocument", policy),
            ])
            .expect("CreateRole");
    }

    /// The configuration every test-side SDK client uses: the emulator's
    /// endpoint, the test region and credentials, plain HTTP.
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_lambda::config::SharedCredentialsProvider::new(
                Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "tests"),
            ))
            .http_client(http_client())
            .build()
    }

    pub fn lambda(&self) -> Client {
        Client::new(&self.sdk_config())
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk_config())
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    pub async fn create_bucket(&self, bucket: &str) {
        self.s3()
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .expect("create_bucket");
    }

    /// A CloudWatch alarm on `AWS/Lambda` `Errors` (at least one in a
    /// minute), in the emulator's default account and region.
    pub async fn create_alarm(&self, name: &str) {
        use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
        aws_sdk_cloudwatch::Client::new(&self.sdk_config())
            .put_metric_alarm()
            .alarm_name(name)
            .namespace("AWS/Lambda")
            .metric_name("Errors")
            .statistic(Statistic::Sum)
            .period(60)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
            .send()
            .await
            .unwrap();
    }

    /// Put alarm `name` in `state`, for `reason`.
    pub async fn set_alarm(&self, name: &str, state: aws_sdk_cloudwatch::types::StateValue, reason: &str) {
        aws_sdk_cloudwatch::Client::new(&self.sdk_config())
            .set_alarm_state()
            .alarm_name(name)
            .state_value(state)
            .state_reason(reason)
            .send()
            .await
            .unwrap();
    }

    /// Start recording requests; [`Emulator::recorded`] returns them.
    pub fn start_recording(&self) {
        self.post("/moto-api/recorder/reset-recording", "");
        self.post("/moto-api/recorder/start-recording", "");
    }

    /// `(method, path)` of every request since [`Emulator::start_recording`].
    pub fn recorded(&self) -> Vec<(String, String)> {
        self.recorded_with_bodies()
            .into_iter()
            .map(|(method, path, _)| (method, path))
            .collect()
    }

    /// `(method, path, body)` of every request since
    /// [`Emulator::start_recording`], the body as text.
    pub fn recorded_with_bodies(&self) -> Vec<(String, String, String)> {
        use base64::Engine as _;
        self.post("/moto-api/recorder/stop-recording", "");
        let text = ureq::get(&format!("{}/moto-api/recorder/download-recording", self.endpoint))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let entry: serde_json::Value = serde_json::from_str(line).unwrap();
                let url = entry["url"].as_str().unwrap_or_default();
                let path = url
                    .split_once("//")
                    .map_or(url, |(_, rest)| rest.split_once('/').map_or("", |(_, p)| p));
                // JSON-protocol services (ECR) name the operation in a header.
                let target = entry["headers"]["X-Amz-Target"]
                    .as_str()
                    .map(|t| format!("#{t}"))
                    .unwrap_or_default();
                let raw = entry["body"].as_str().unwrap_or_default();
                let body = if entry["body_encoded"] == true {
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(raw)
                        .unwrap_or_default();
                    String::from_utf8_lossy(&bytes).into_owned()
                } else {
                    raw.to_string()
                };
                (
                    entry["method"].as_str().unwrap_or_default().to_string(),
                    format!("/{path}{target}"),
                    body,
                )
            })
            .filter(|(_, path, _)| !path.starts_with("/moto-api"))
            .collect()
    }

    /// The requests that could change something (anything but GET, and
    /// but ECR's reads, which are POSTs).
    pub fn mutating(&self) -> Vec<(String, String)> {
        self.recorded()
            .into_iter()
            .filter(|(method, path)| method != "GET" && !path.contains(".DescribeImages"))
            .collect()
    }

    pub fn ecr(&self) -> aws_sdk_ecr::Client {
        aws_sdk_ecr::Client::new(&self.sdk_config())
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let Some(mut server) = self.server.take() else {
            return;
        };
        if !std::thread::panicking() && server.wipe() {
            IDLE.lock().unwrap_or_else(|p| p.into_inner()).push(server);
            return;
        }
        let _ = server.child.kill();
        let _ = server.child.wait();
    }
}

/// A zip with one `index.py` holding `body`, for creating functions.
pub fn zip_of(body: &str) -> Vec<u8> {
    use std::io::Write;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer
        .start_file("index.py", zip::write::SimpleFileOptions::default())
        .unwrap();
    writer.write_all(body.as_bytes()).unwrap();
    writer.finish().unwrap().into_inner()
}

/// Create function `name` (with placeholder code) in the emulator.
pub async fn create_function(emulator: &Emulator, name: &str) {
    let role = emulator.create_role(&format!("{name}-role"));
    create_function_with(&emulator.lambda(), name, &role).await;
}

/// Create function `name` (with placeholder code) through `lambda` (any
/// account and region), running as `role`.
pub async fn create_function_with(lambda: &Client, name: &str, role: &str) {
    lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Python312)
        .role(role)
        .handler("index.handler")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(Blob::new(zip_of("placeholder = 1")))
                .build(),
        )
        .send()
        .await
        .expect("create_function");
}

/// A source directory holding `index.py` with `body`.
pub fn source_dir(body: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.py"), body).unwrap();
    dir
}

/// The binary, with a clean environment pointing at the emulator.
pub fn binary(emulator: Option<&Emulator>) -> Command {
    clean_command(env!("CARGO_BIN_EXE_lambda-rollout"), emulator)
}

/// `program` with a clean environment (no AWS or GitHub variables of the
/// machine running the tests), pointing at the emulator when given.
pub fn clean_command(program: impl AsRef<std::ffi::OsStr>, emulator: Option<&Emulator>) -> Command {
    let mut command = Command::new(program);
    command.env_clear();
    let home = std::env::temp_dir().join("lambda-rollout-test-home");
    std::fs::create_dir_all(&home).unwrap();
    command.env("HOME", home).env("AWS_EC2_METADATA_DISABLED", "true");
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    if let Some(emulator) = emulator {
        command
            .env("AWS_ENDPOINT_URL", &emulator.endpoint)
            .env("AWS_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
    }
    command
}

/// The command lines the tests run again and again.
pub trait CommandLine {
    /// `<command> --function-name <function> --alias <alias>`.
    fn for_alias(&mut self, command: &str, function: &str, alias: &str) -> &mut Self;
}

impl CommandLine for Command {
    fn for_alias(&mut self, command: &str, function: &str, alias: &str) -> &mut Self {
        self.args([command, "--function-name", function, "--alias", alias])
    }
}

pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    pub fn assert_ok(&self) -> &Run {
        assert_eq!(
            self.status, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

pub fn run(command: &mut Command) -> Run {
    // A program a test has just written (a script, an installed binary) can
    // be "busy" for a moment: another test thread's fork may still hold it
    // open for writing (Linux's ETXTBSY). Trying again is the usual cure.
    let mut tries = 0;
    loop {
        match command.output() {
            Err(err) if err.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 50 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            output => return finished(output.expect("cannot run lambda-rollout")),
        }
    }
}

fn finished(output: Output) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = output;
    Run {
        status: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// A deploy running in the background (`command`, a rollout of
/// orders:live), returned once the alias carries its canary. A rollout that
/// never gets there is killed and the test fails.
pub async fn rollout_in_background(emulator: &Emulator, command: &mut Command) -> Child {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start lambda-rollout");
    for _ in 0..100 {
        if alias_state(emulator, "orders", "live").await.1.is_some() {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let run = finished(child.wait_with_output().unwrap());
    panic!("the rollout never reached its first step:\n{}", run.stderr);
}

/// Wait for a command started in the background.
pub fn wait_for(child: Child) -> Run {
    finished(child.wait_with_output().expect("cannot wait for lambda-rollout"))
}

/// `deploy --function-name F --alias A --source DIR --output json` plus `extra`.
pub fn deploy(emulator: &Emulator, function: &str, alias: &str, source: &Path, extra: &[&str]) -> Run {
    let mut command = binary(Some(emulator));
    command
        .for_alias("deploy", function, alias)
        .args(["--output", "json", "--source"])
        .arg(source)
        .args(extra);
    run(&mut command)
}

/// The alias as AWS reports it: primary version and `(canary, weight)`.
pub async fn alias_state(
    emulator: &Emulator,
    function: &str,
    alias: &str,
) -> (String, Option<(String, f64)>) {
    let found = emulator
        .lambda()
        .get_alias()
        .function_name(function)
        .name(alias)
        .send()
        .await
        .expect("get_alias");
    let canary = found
        .routing_config()
        .and_then(|r| r.additional_version_weights())
        .and_then(|w| w.iter().next().map(|(v, w)| (v.clone(), *w)));
    (found.function_version().unwrap().to_string(), canary)
}

/// Published version numbers of the function (without `$LATEST`).
pub async fn versions(emulator: &Emulator, function: &str) -> Vec<String> {
    let listed = emulator
        .lambda()
        .list_versions_by_function()
        .function_name(function)
        .send()
        .await
        .unwrap();
    listed
        .versions()
        .iter()
        .filter_map(|v| v.version())
        .filter(|v| *v != "$LATEST")
        .map(str::to_string)
        .collect()
}

/// Parse a `$GITHUB_OUTPUT` file as GitHub does: `key<<DELIMITER` blocks and
/// `key=value` lines.
pub fn parse_github_output(text: &str) -> std::collections::BTreeMap<String, String> {
    let mut fields = std::collections::BTreeMap::new();
    let mut lines = text.lines();
    while let Some(header) = lines.next() {
        match header.split_once("<<") {
            Some((key, delimiter)) => {
                let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
                fields.insert(key.to_string(), value.join("\n"));
            }
            None => {
                let (key, value) = header.split_once('=').expect("key=value or key<<DELIMITER");
                fields.insert(key.to_string(), value.to_string());
            }
        }
    }
    fields
}

/// The alias as routing by code: (primary's code hash, (canary's code hash, weight)).
pub type Served = (String, Option<(String, f64)>);

/// A version's configuration as the SDK reads it.
pub async fn configuration(
    emulator: &Emulator,
    function: &str,
    version: &str,
) -> aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput {
    emulator
        .lambda()
        .get_function_configuration()
        .function_name(function)
        .qualifier(version)
        .send()
        .await
        .unwrap()
}

pub async fn hash_of(emulator: &Emulator, function: &str, version: &str) -> String {
    configuration(emulator, function, version)
        .await
        .code_sha256()
        .unwrap()
        .to_string()
}

pub async fn served(emulator: &Emulator, function: &str) -> Served {
    let (primary, canary) = alias_state(emulator, function, "live").await;
    let canary = match canary {
        Some((version, weight)) => Some((hash_of(emulator, function, &version).await, weight)),
        None => None,
    };
    (hash_of(emulator, function, &primary).await, canary)
}

/// The CodeSha256 that packaging `dir` gives (what a deploy of it publishes).
pub fn code_hash(dir: &Path) -> String {
    lambda_rollout::package::build(dir, &[]).unwrap().code_sha256
}
