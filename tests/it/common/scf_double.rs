//! The SCF contract double (`tests/scf/double.py`, run with the project's
//! virtualenv Python): one per test, killed when dropped. SCF has no
//! emulator; the double's protocol is checked against Tencent's official
//! SDK by `scf::the_double_conforms_to_the_official_sdk`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use super::{Run, binary, run};

pub const SECRET_ID: &str = "AKIDscfTestSecretId000001";
pub const SECRET_KEY: &str = "scfTestSecretKey/never+printed42";
pub const TOKEN: &str = "scfTestSessionToken-never-printed-7d6c";
pub const REGION: &str = "ap-guangzhou";

pub struct ScfDouble {
    child: Child,
    pub endpoint: String,
}

/// The project's virtualenv Python (it has Tencent's SDK for the conformance test).
pub fn python() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        path.exists(),
        "the project's virtualenv is not installed at {}: run scripts/test (or scripts/setup-tools) first; these tests never skip",
        path.display()
    );
    path
}

impl ScfDouble {
    /// A double holding these functions (`NAME` in namespace default, or `NS/NAME`).
    pub fn start(functions: &[&str]) -> ScfDouble {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scf/double.py");
        let mut command = Command::new(python());
        command
            .arg(script)
            .args([SECRET_ID, SECRET_KEY, "--token", TOKEN]);
        for function in functions {
            let qualified = if function.contains('/') {
                function.to_string()
            } else {
                format!("default/{function}")
            };
            command.args(["--function", &qualified]);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cannot start the SCF double");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("the SCF double printed no port");
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("not a port: {line:?}"));
        ScfDouble {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    fn get(&self, path: &str) -> Value {
        let text = ureq::get(&format!("{}{path}", self.endpoint))
            .call()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
            .body_mut()
            .read_to_string()
            .unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn post(&self, path: &str, body: Value) {
        ureq::post(&format!("{}{path}", self.endpoint))
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    }

    /// A function as the double holds it: `versions` (`$LATEST`, "1", …,
    /// each with Description, CodeSize, CodeSha256) and `aliases`.
    pub fn function(&self, name: &str) -> Value {
        let state = self.get("/__test/state");
        state[format!("default/{name}")].clone()
    }

    /// Every function as the double holds it, by `NAMESPACE/NAME`.
    pub fn get_state(&self) -> Value {
        self.get("/__test/state")
    }

    pub fn alias(&self, function: &str, alias: &str) -> Value {
        self.function(function)["aliases"][alias].clone()
    }

    /// Published version numbers, oldest first.
    pub fn versions(&self, function: &str) -> Vec<String> {
        let mut versions: Vec<String> = self.function(function)["versions"]
            .as_object()
            .unwrap()
            .keys()
            .filter(|v| *v != "$LATEST")
            .cloned()
            .collect();
        versions.sort_by_key(|v| v.parse::<u64>().unwrap());
        versions
    }

    /// Every API request the double received (action names).
    pub fn requests(&self) -> Vec<String> {
        self.get("/__test/requests")
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["action"].as_str().unwrap().to_string())
            .collect()
    }

    /// Right after the next successful `action`, another writer sends `then` with `params`.
    pub fn after(&self, action: &str, then: &str, params: Value) {
        self.post(
            "/__test/after",
            json!({"action": action, "then": {"action": then, "params": params}}),
        );
    }

    /// Another writer's request `action` with `params`, now. Panics on an error.
    pub fn call(&self, action: &str, params: Value) {
        let text = ureq::post(&format!("{}/__test/call", self.endpoint))
            .header("Content-Type", "application/json")
            .send(json!({"action": action, "params": params}).to_string())
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        assert!(!text.contains("\"Error\""), "{action}: {text}");
    }

    /// Answer the next `times` requests of `action` with error `code` and `message`.
    pub fn fail(&self, action: &str, code: &str, message: &str, times: u32) {
        self.post(
            "/__test/fail",
            json!({"action": action, "code": code, "message": message, "times": times}),
        );
    }

    /// Answer the next `times` requests of `action` in `region` with error `code`.
    pub fn fail_in(&self, region: &str, action: &str, code: &str, times: u32) {
        self.post(
            "/__test/fail",
            json!({"action": action, "code": code, "message": "injected by the test", "times": times, "region": region}),
        );
    }

    /// Every API request the double received: its region, and when (in
    /// seconds of the double's monotonic clock).
    pub fn requests_at(&self) -> Vec<(String, f64)> {
        self.get("/__test/requests")
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["region"].as_str().unwrap().to_string(),
                    r["at"].as_f64().unwrap(),
                )
            })
            .collect()
    }

    /// Apply the next `times` requests of `action`, then answer each with
    /// error `code`: the request lands, its answer is lost.
    pub fn lose(&self, action: &str, code: &str, times: u32) {
        self.post(
            "/__test/fail",
            json!({"action": action, "code": code, "message": "the answer was lost", "times": times, "lose": true}),
        );
    }

    /// The binary with Tencent credentials and this double as the endpoint.
    pub fn command(&self) -> Command {
        let mut command = binary(None);
        command
            .env("TENCENTCLOUD_SECRET_ID", SECRET_ID)
            .env("TENCENTCLOUD_SECRET_KEY", SECRET_KEY)
            .env("TENCENTCLOUD_SESSION_TOKEN", TOKEN)
            .env("TENCENTCLOUD_REGION", REGION)
            .env("TENCENTCLOUD_ENDPOINT_URL", &self.endpoint)
            .env("TENCENTCLOUD_MONITOR_ENDPOINT_URL", &self.endpoint);
        command
    }

    /// A data point of SCF's `metric` (`Invocation`, `Error`, `Throttle`,
    /// `Duration`) of `function`'s `version` in this minute, as Tencent
    /// Cloud Observability would hold it.
    pub fn put_metric(&self, function: &str, version: &str, metric: &str, value: f64) {
        self.post(
            "/__test/metrics",
            json!({"function": function, "version": version, "metric": metric, "value": value}),
        );
    }

    /// Run `args` (after `--platform scf`) and check that no secret was printed.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut command = self.command();
        command.args(args).args(["--platform", "scf"]);
        let result = run(&mut command);
        for secret in [SECRET_KEY, TOKEN] {
            assert!(
                !result.stdout.contains(secret) && !result.stderr.contains(secret),
                "a secret was printed:\n{}\n{}",
                result.stdout,
                result.stderr
            );
        }
        assert!(
            !result.stdout.contains("TestHookFailed"),
            "the test's other writer could not write:\n{}",
            result.stdout
        );
        result
    }
}

impl Drop for ScfDouble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
