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
    let help: String = [
        "deploy", "promote", "rollback", "status", "prune", "package", "init",
    ]
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
    // Every output the binary writes is an output of the action, read from
    // the run step.
    let outputs = action["outputs"].as_object().unwrap();
    let written =
        lambda_rollout::report::output::ALIAS_OUTPUTS
            .into_iter()
            .chain(["results", "failed", "not-started"]);
    for key in written {
        let value = outputs.get(key).map(|o| o["value"].as_str().unwrap_or_default());
        assert_eq!(
            value,
            Some(format!("${{{{ steps.run.outputs.{key} }}}}").as_str()),
            "output {key} of action.yml"
        );
    }
}

const VERSION: &str = "9.9.9";
const ASSET: &str = "lambda-rollout-v9.9.9-x86_64-unknown-linux-musl";
/// A ref pinned to a full commit SHA, as the README and zizmor recommend.
const PINNED: &str = "0123456789abcdef0123456789abcdef01234567";

/// A directory laid out like the release downloads: `v<version>/<asset>`,
/// holding this test run's binary (`tamper`: with one byte changed), and
/// beside it a `.sha256` of what it holds, which must never be trusted.
fn fake_release(tamper: bool) -> tempfile::TempDir {
    let release = tempfile::tempdir().unwrap();
    let dir = release.path().join(format!("v{VERSION}"));
    fs::create_dir_all(&dir).unwrap();
    let mut binary = fs::read(env!("CARGO_BIN_EXE_lambda-rollout")).unwrap();
    if tamper {
        binary.extend_from_slice(b"tampered");
    }
    fs::write(dir.join(ASSET), &binary).unwrap();
    fs::write(
        dir.join(format!("{ASSET}.sha256")),
        format!("{}  {ASSET}\n", sha256_hex(&binary)),
    )
    .unwrap();
    release
}

/// The action's checkout at a commit: its installer, a Cargo.toml of
/// version 9.9.9, and the SHA256SUMS the release workflow writes, made by
/// `scripts/release-checksums` itself for the assets given (none: no file).
fn action_checkout(assets: &[(&str, &[u8])]) -> tempfile::TempDir {
    let checkout = tempfile::tempdir().unwrap();
    fs::create_dir(checkout.path().join("scripts")).unwrap();
    for script in ["install-action", "release-checksums"] {
        fs::copy(
            root().join("scripts").join(script),
            checkout.path().join("scripts").join(script),
        )
        .unwrap();
    }
    let manifest = format!(
        "[package]\nname = \"lambda-rollout\"\nversion = \"{VERSION}\"\n\n[dependencies]\nserde = {{ version = \"1.0.0\" }}\n"
    );
    fs::write(checkout.path().join("Cargo.toml"), manifest).unwrap();
    if !assets.is_empty() {
        let dist = tempfile::tempdir().unwrap();
        for (name, bytes) in assets {
            fs::write(dist.path().join(name), bytes).unwrap();
        }
        let result = run(Command::new(checkout.path().join("scripts/release-checksums")).arg(dist.path()));
        assert_eq!(result.status, 0, "{}", result.stderr);
    }
    checkout
}

/// The checkout a release commit has: SHA256SUMS names this test run's binary.
fn released_checkout() -> tempfile::TempDir {
    let binary = fs::read(env!("CARGO_BIN_EXE_lambda-rollout")).unwrap();
    action_checkout(&[
        (ASSET, &binary),
        ("lambda-rollout-v9.9.9-aarch64-apple-darwin", b"other"),
    ])
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A PATH with the usual tools and no cargo: a runner without Rust.
fn path_without_cargo() -> String {
    let path = "/usr/local/bin:/usr/bin:/bin";
    assert!(
        !path.split(':').any(|dir| Path::new(dir).join("cargo").exists()),
        "cargo is on {path}"
    );
    path.to_string()
}

/// The installer as the action runs it, pinned to a commit SHA, with no cargo.
fn installer(checkout: &Path, release: &Path, cache: &Path) -> Command {
    let mut command = Command::new("bash");
    command
        .arg(checkout.join("scripts/install-action"))
        .env_clear()
        .env("PATH", path_without_cargo())
        .env("HOME", std::env::var_os("HOME").unwrap_or_default())
        .env("GITHUB_ACTION_PATH", checkout)
        .env("LAMBDA_ROLLOUT_REF", PINNED)
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
fn pinned_to_a_commit_the_installer_downloads_and_verifies_against_the_committed_sha256sums() {
    let (checkout, release, cache) = (
        released_checkout(),
        fake_release(false),
        tempfile::tempdir().unwrap(),
    );
    let first = run(&mut installer(checkout.path(), release.path(), cache.path()));
    assert_eq!(first.status, 0, "{}", first.stderr);
    assert!(
        first.stderr.contains(&format!("downloaded {ASSET}"))
            && first.stderr.contains("verified against SHA256SUMS"),
        "{}",
        first.stderr
    );
    assert!(!first.stderr.contains("building from source"), "{}", first.stderr);
    let bin = PathBuf::from(first.stdout.trim());
    let hash = sha256_hex(&fs::read(env!("CARGO_BIN_EXE_lambda-rollout")).unwrap());
    assert!(
        bin.starts_with(cache.path().join("lambda-rollout").join(VERSION).join(&hash)),
        "{bin:?}"
    );
    let version = run(Command::new(&bin).arg("--version"));
    assert!(
        version.stdout.starts_with("lambda-rollout "),
        "{}",
        version.stdout
    );

    // A warm tool cache needs no network: the release is gone, the copy is used.
    fs::remove_dir_all(release.path().join(format!("v{VERSION}"))).unwrap();
    let second = run(&mut installer(checkout.path(), release.path(), cache.path()));
    assert_eq!(second.status, 0, "{}", second.stderr);
    assert_eq!(second.stdout.trim(), bin.to_str().unwrap());
    assert!(second.stderr.contains("nothing downloaded"), "{}", second.stderr);

    // The cached copy is verified before each use: a changed one is not run.
    fs::write(&bin, b"#!/bin/sh\necho swapped\n").unwrap();
    let third = run(&mut installer(checkout.path(), release.path(), cache.path()));
    assert_eq!(third.status, 1, "{}", third.stderr);
    assert!(
        third.stderr.contains("no longer has the SHA-256"),
        "{}",
        third.stderr
    );
    assert!(third.stdout.is_empty());
}

#[test]
fn a_binary_that_does_not_match_the_committed_sha256sums_is_refused() {
    // The release holds a changed binary and a .sha256 that matches it: only
    // the SHA256SUMS committed at the pinned commit is trusted.
    let (checkout, release, cache) = (
        released_checkout(),
        fake_release(true),
        tempfile::tempdir().unwrap(),
    );
    let result = run(&mut installer(checkout.path(), release.path(), cache.path()));
    assert_eq!(result.status, 1);
    assert!(result.stderr.contains("checksum mismatch"), "{}", result.stderr);
    assert!(result.stdout.is_empty(), "no binary path is handed on");
    assert!(
        !result.stderr.contains("building from source"),
        "a bad checksum is not papered over"
    );
    // Nor is a download that fails.
    fs::remove_dir_all(release.path().join(format!("v{VERSION}"))).unwrap();
    let missing = run(&mut installer(checkout.path(), release.path(), cache.path()));
    assert_eq!(missing.status, 1);
    assert!(
        missing.stderr.contains("not building from source instead"),
        "{}",
        missing.stderr
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
fn a_commit_without_a_sha256sums_line_for_the_platform_builds_from_source_and_says_why() {
    // Between releases: SHA256SUMS names only other platforms' assets.
    let checkout = action_checkout(&[("lambda-rollout-v9.9.9-aarch64-apple-darwin", b"other")]);
    let (release, cache, tools) = (
        fake_release(false),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let calls = stub_cargo(tools.path());
    let mut command = installer(checkout.path(), release.path(), cache.path());
    command.env(
        "PATH",
        format!("{}:{}", tools.path().display(), path_without_cargo()),
    );
    let result = run(&mut command);
    assert_eq!(result.status, 0, "{}", result.stderr);
    assert!(
        result.stderr.contains(&format!(
            "SHA256SUMS at this commit ({PINNED}) has no line for {ASSET}"
        )) && result
            .stderr
            .contains("building from source with cargo install --locked (about 5 minutes"),
        "{}",
        result.stderr
    );
    let called = fs::read_to_string(&calls).unwrap();
    assert!(
        called.starts_with("install --locked")
            && called.contains(&format!("--path {}", checkout.path().display())),
        "{called}"
    );
    let version = run(Command::new(result.stdout.trim()).arg("--version"));
    assert!(
        version.stdout.starts_with("lambda-rollout "),
        "{}",
        version.stdout
    );
    // The same commit again: the build is reused (it still has its SHA-256).
    let again = run(&mut command);
    assert_eq!(again.status, 0, "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains("using the build from source cached for this commit"),
        "{}",
        again.stderr
    );
    assert_eq!(
        fs::read_to_string(&calls).unwrap().lines().count(),
        1,
        "built once"
    );
    // Without cargo, the message says what to do.
    let no_cargo = run(&mut installer(
        checkout.path(),
        release.path(),
        tempfile::tempdir().unwrap().path(),
    ));
    assert_eq!(no_cargo.status, 1);
    assert!(
        no_cargo.stderr.contains("cargo is not installed"),
        "{}",
        no_cargo.stderr
    );
}

#[test]
fn release_checksums_names_every_asset_of_this_version_and_refuses_others() {
    let checkout = action_checkout(&[
        (ASSET, b"linux"),
        ("lambda-rollout-v9.9.9-aarch64-apple-darwin", b"mac"),
    ]);
    let sums = fs::read_to_string(checkout.path().join("SHA256SUMS")).unwrap();
    assert_eq!(
        sums,
        format!(
            "{}  lambda-rollout-v9.9.9-aarch64-apple-darwin\n{}  {ASSET}\n",
            sha256_hex(b"mac"),
            sha256_hex(b"linux")
        )
    );
    // `sha256sum -c` reads it as written.
    let dist = tempfile::tempdir().unwrap();
    fs::write(
        dist.path()
            .join("lambda-rollout-v1.0.0-x86_64-unknown-linux-musl"),
        b"old",
    )
    .unwrap();
    let refused = run(Command::new(checkout.path().join("scripts/release-checksums")).arg(dist.path()));
    assert_eq!(refused.status, 1);
    assert!(
        refused
            .stderr
            .contains("is not named lambda-rollout-v9.9.9-<target>"),
        "{}",
        refused.stderr
    );
    let version = run(Command::new(root().join("scripts/release-checksums")).arg("--version"));
    let cargo_toml = fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(
        cargo_toml.contains(&format!("version = \"{}\"", version.stdout.trim())),
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
    let (checkout, release) = (released_checkout(), fake_release(false));
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
            .env("GITHUB_ACTION_PATH", checkout.path())
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
                "${{ github.action_ref }}" => PINNED.to_string(),
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
