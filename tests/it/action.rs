//! The GitHub Action: `action.yml` and the workflows validate against the
//! SchemaStore schemas and pass zizmor; the installer downloads, verifies and
//! caches the release binary (a local directory stands in for the release);
//! and the Action's own steps, run as the runner runs them, deploy to the
//! emulator and fill `$GITHUB_OUTPUT` with every output `action.yml` declares.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tool(name: &str) -> PathBuf {
    let path = root().join(".venv/bin").join(name);
    assert!(
        path.exists(),
        "{} missing: run scripts/setup-tools (scripts/test does)",
        path.display()
    );
    path
}

fn workflows() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in [".github/workflows", "examples/workflows"] {
        for entry in fs::read_dir(root().join(dir)).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    files.sort();
    assert!(files.len() >= 5, "ci, release and three examples: {files:?}");
    files
}

/// `action.yml` as JSON (read with the PyYAML that the tools' venv has).
fn action() -> Value {
    let output = Command::new(tool("python"))
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(root().join("action.yml"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn action_and_workflows_match_the_schemastore_schemas() {
    let action = run(Command::new(tool("check-jsonschema"))
        .args(["--builtin-schema", "vendor.github-actions"])
        .arg(root().join("action.yml")));
    assert_eq!(action.status, 0, "{}{}", action.stdout, action.stderr);
    let workflows = run(Command::new(tool("check-jsonschema"))
        .args(["--builtin-schema", "vendor.github-workflows"])
        .args(workflows()));
    assert_eq!(workflows.status, 0, "{}{}", workflows.stdout, workflows.stderr);
}

#[test]
fn zizmor_finds_nothing_in_the_action_or_the_workflows() {
    let result = run(Command::new(tool("zizmor"))
        .args(["--offline", "--config"])
        .arg(root().join(".github/zizmor.yml"))
        .arg(root().join("action.yml"))
        .args(workflows()));
    assert_eq!(result.status, 0, "{}{}", result.stdout, result.stderr);
    assert!(
        result.stdout.contains("No findings to report"),
        "{}",
        result.stdout
    );
}

#[test]
fn every_input_reaches_the_binary_through_env_never_through_run() {
    let action = action();
    let inputs: Vec<&String> = action["inputs"].as_object().unwrap().keys().collect();
    let steps = action["runs"]["steps"].as_array().unwrap();
    for step in steps {
        let script = step["run"].as_str().unwrap_or_default();
        assert!(
            !script.contains("${{"),
            "no expressions inside run: (script injection): {script}"
        );
    }
    let run_step = steps.iter().find(|s| s["id"] == "run").unwrap();
    let env = run_step["env"].as_object().unwrap();
    let mapped: BTreeMap<String, String> = env
        .iter()
        .filter_map(|(key, value)| {
            let input = value.as_str()?.strip_prefix("${{ inputs.")?.strip_suffix(" }}")?;
            Some((input.to_string(), key.clone()))
        })
        .collect();
    for input in &inputs {
        assert!(
            mapped.contains_key(*input),
            "input {input} is not passed to the binary"
        );
    }
    // Every variable (but the command itself) is one the binary reads.
    let help: String = ["deploy", "promote", "rollback", "status", "package"]
        .iter()
        .map(|command| run(binary(None).args([command, "--help"])).stdout)
        .collect();
    for (input, variable) in &mapped {
        if variable != "LAMBDA_ROLLOUT_COMMAND" {
            assert!(
                help.contains(&format!("[env: {variable}=")),
                "{input} → {variable}, which no command reads"
            );
        }
    }
    // And every variable a command reads has an input.
    let read: std::collections::BTreeSet<&str> = help
        .split("[env: ")
        .skip(1)
        .filter_map(|rest| rest.split('=').next())
        .collect();
    for variable in read {
        assert!(
            mapped.values().any(|v| v == variable),
            "{variable} is read by the binary but no input sets it"
        );
    }
    // Outputs mirror the README's list.
    let outputs: Vec<&String> = action["outputs"].as_object().unwrap().keys().collect();
    for key in [
        "function-arn",
        "alias-arn",
        "version",
        "previous-version",
        "code-sha256",
        "skipped",
        "canary-weight",
        "result",
    ] {
        assert!(outputs.iter().any(|o| *o == key), "output {key} missing");
    }
}

/// A directory laid out like the release downloads: `<tag>/<asset>` and `<asset>.sha256`.
fn fake_release(tag: &str, asset: &str, tamper: bool) -> tempfile::TempDir {
    let release = tempfile::tempdir().unwrap();
    let dir = release.path().join(tag);
    fs::create_dir_all(&dir).unwrap();
    let binary = fs::read(env!("CARGO_BIN_EXE_lambda-rollout")).unwrap();
    fs::write(dir.join(asset), &binary).unwrap();
    let digest = sha256_hex(&binary);
    let recorded = if tamper { "0".repeat(64) } else { digest };
    fs::write(
        dir.join(format!("{asset}.sha256")),
        format!("{recorded}  {asset}\n"),
    )
    .unwrap();
    release
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn installer(release: &Path, cache: &Path, tag: &str) -> Command {
    let mut command = Command::new("bash");
    command
        .arg(root().join("scripts/install-action"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("HOME", std::env::var_os("HOME").unwrap_or_default())
        .env("LAMBDA_ROLLOUT_REF", tag)
        .env("LAMBDA_ROLLOUT_REPOSITORY", "lambda-rollout/lambda-rollout")
        .env(
            "LAMBDA_ROLLOUT_RELEASE_URL",
            format!("file://{}", release.display()),
        )
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("RUNNER_TOOL_CACHE", cache);
    command
}

#[test]
fn installer_downloads_verifies_and_caches_the_release_binary() {
    let release = fake_release("v9.9.9", "lambda-rollout-x86_64-unknown-linux-musl", false);
    let cache = tempfile::tempdir().unwrap();
    let first = run(&mut installer(release.path(), cache.path(), "v9.9.9"));
    assert_eq!(first.status, 0, "{}", first.stderr);
    assert!(
        first.stderr.contains("SHA-256") && first.stderr.contains("verified"),
        "{}",
        first.stderr
    );
    let bin = PathBuf::from(first.stdout.trim());
    assert!(bin.starts_with(cache.path()), "{bin:?}");
    let version = run(Command::new(&bin).arg("--version"));
    assert!(
        version.stdout.starts_with("lambda-rollout "),
        "{}",
        version.stdout
    );

    // The next job on the runner reuses the cached copy: no download needed.
    fs::remove_dir_all(release.path().join("v9.9.9")).unwrap();
    let second = run(&mut installer(release.path(), cache.path(), "v9.9.9"));
    assert_eq!(second.status, 0, "{}", second.stderr);
    assert_eq!(second.stdout.trim(), bin.to_str().unwrap());
    assert!(!second.stderr.contains("downloaded"), "{}", second.stderr);
}

#[test]
fn installer_refuses_a_binary_whose_checksum_does_not_match() {
    let release = fake_release("v9.9.9", "lambda-rollout-x86_64-unknown-linux-musl", true);
    let cache = tempfile::tempdir().unwrap();
    let result = run(&mut installer(release.path(), cache.path(), "v9.9.9"));
    assert_eq!(result.status, 1);
    assert!(result.stderr.contains("checksum mismatch"), "{}", result.stderr);
    assert!(result.stdout.is_empty(), "no binary path is handed on");
    assert!(
        !result.stderr.contains("building from source"),
        "a bad checksum is not papered over"
    );
}

/// A `cargo` that stands in for the real one: it records its arguments and
/// "installs" the binary this test run already built into `--root`. The real
/// build from source is the test suite's own build; building the tool a
/// second time here would only prove cargo works.
fn stub_cargo(dir: &Path) -> PathBuf {
    let calls = dir.join("cargo-calls");
    let script = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$*\" >>'{calls}'\nroot=''\nwhile [ $# -gt 0 ]; do [ \"$1\" = --root ] && root=\"$2\"; shift; done\nmkdir -p \"$root/bin\" && cp '{binary}' \"$root/bin/lambda-rollout\"\n",
        calls = calls.display(),
        binary = env!("CARGO_BIN_EXE_lambda-rollout"),
    );
    let cargo = dir.join("cargo");
    fs::write(&cargo, script).unwrap();
    fs::set_permissions(&cargo, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    calls
}

#[test]
fn installer_builds_from_source_when_no_release_exists_for_the_ref() {
    // The action used at a commit with no release: `cargo install --locked`
    // from the action's own source (a stub cargo, see `stub_cargo`).
    let release = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let tools = tempfile::tempdir().unwrap();
    let calls = stub_cargo(tools.path());
    let mut command = installer(
        release.path(),
        cache.path(),
        "0123456789abcdef0123456789abcdef01234567",
    );
    let path = format!("{}:{}", tools.path().display(), std::env::var("PATH").unwrap());
    command.env("PATH", path);
    let result = run(&mut command);
    assert_eq!(result.status, 0, "{}", result.stderr);
    assert!(
        result
            .stderr
            .contains("building from source with cargo install --locked"),
        "{}",
        result.stderr
    );
    let called = fs::read_to_string(&calls).unwrap();
    assert!(
        called.starts_with("install --locked") && called.contains(&format!("--path {}", root().display())),
        "{called}"
    );
    let version = run(Command::new(result.stdout.trim()).arg("--version"));
    assert!(
        version.stdout.starts_with("lambda-rollout "),
        "{}",
        version.stdout
    );
}

/// Replace `${{ inputs.x }}` and `${{ steps.install.outputs.bin }}` as the runner does.
fn render(value: &str, inputs: &BTreeMap<String, String>, bin: &str) -> String {
    if let Some(name) = value
        .strip_prefix("${{ inputs.")
        .and_then(|v| v.strip_suffix(" }}"))
    {
        return inputs[name].clone();
    }
    if value == "${{ steps.install.outputs.bin }}" {
        return bin.to_string();
    }
    value.to_string()
}

fn github_outputs(path: &Path) -> BTreeMap<String, String> {
    parse_github_output(&fs::read_to_string(path).unwrap_or_default())
}

#[tokio::test(flavor = "current_thread")]
async fn the_actions_own_steps_deploy_and_set_every_declared_output() {
    let aws = Emulator::start();
    create_function(&aws, "orders").await;
    let source = source_dir("def handler(event, context):\n    return 1\n");
    let release = fake_release("v9.9.9", "lambda-rollout-x86_64-unknown-linux-musl", false);
    let runner = tempfile::tempdir().unwrap();
    let action = action();

    // The workflow's `with:`; everything else takes action.yml's defaults ("" for unset).
    let mut inputs: BTreeMap<String, String> = action["inputs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, spec)| {
            (
                name.clone(),
                spec["default"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    inputs.insert("function-name".into(), "orders".into());
    inputs.insert("alias".into(), "live".into());
    inputs.insert("source".into(), source.path().display().to_string());
    inputs.insert("canary-weight".into(), "10%".into());

    let mut bin = String::new();
    let mut step_outputs = BTreeMap::new();
    for (index, step) in action["runs"]["steps"].as_array().unwrap().iter().enumerate() {
        let output_file = runner.path().join(format!("output-{index}"));
        // `shell: bash` runs the step's script with `bash -c`.
        let mut command = clean_command("bash", Some(&aws));
        command
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_ACTION_PATH", root())
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_STEP_SUMMARY", runner.path().join("summary"))
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("RUNNER_TOOL_CACHE", runner.path().join("tool-cache"))
            .env(
                "LAMBDA_ROLLOUT_RELEASE_URL",
                format!("file://{}", release.path().display()),
            );
        for (key, value) in step["env"].as_object().unwrap() {
            let value = match value.as_str().unwrap() {
                "${{ github.action_ref }}" => "v9.9.9".to_string(),
                "${{ github.action_repository }}" => "lambda-rollout/lambda-rollout".to_string(),
                other => render(other, &inputs, &bin),
            };
            command.env(key, value);
        }
        let script = step["run"].as_str().unwrap();
        let result = run(command.args(["-c", script]));
        assert_eq!(
            result.status, 0,
            "step {}: {}\n{}",
            step["name"], result.stdout, result.stderr
        );
        let outputs = github_outputs(&output_file);
        if step["id"] == "install" {
            bin = outputs["bin"].clone();
        } else {
            step_outputs = outputs;
        }
    }

    for (name, spec) in action["outputs"].as_object().unwrap() {
        let source = spec["value"].as_str().unwrap();
        let key = source
            .strip_prefix("${{ steps.run.outputs.")
            .and_then(|s| s.strip_suffix(" }}"))
            .unwrap();
        assert!(
            step_outputs.contains_key(key),
            "output {name} ← {key} was not set: {step_outputs:?}"
        );
    }
    assert_eq!(step_outputs["result"], "published");
    assert_eq!(step_outputs["version"], "1");
    assert_eq!(step_outputs["skipped"], "false");
    assert_eq!(alias_state(&aws, "orders", "live").await, ("1".into(), None));
    let summary = fs::read_to_string(runner.path().join("summary")).unwrap();
    assert!(summary.contains("`orders:live` — published"), "{summary}");
}
