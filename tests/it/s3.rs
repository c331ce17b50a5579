//! Packages through S3 (`--s3-bucket`), against the emulator: the
//! content-addressed key, no second upload of the same package, multipart
//! above 16 MiB, zips over Lambda's 50 MiB direct-upload limit, and clear
//! errors for a missing bucket.

use std::io::Write;

use crate::common::*;

const BUCKET: &str = "deploy-artifacts";

/// The hex SHA-256 of a CodeSha256 (base64).
fn hex(code_sha256: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(code_sha256)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A source tree holding `megabytes` of incompressible bytes (a fixed
/// pseudo-random sequence: deflate cannot shrink it, so the zip is as large).
fn incompressible_source(megabytes: usize) -> tempfile::TempDir {
    let dir = source_dir("def handler(event, context):\n    return 'big'\n");
    let mut file = std::io::BufWriter::new(std::fs::File::create(dir.path().join("model.bin")).unwrap());
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut block = vec![0u8; 1024 * 1024];
    for _ in 0..megabytes {
        for chunk in block.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
        }
        file.write_all(&block).unwrap();
    }
    file.flush().unwrap();
    dir
}

/// The `sha256` metadata of the object at `key`, which must exist.
async fn stored(emulator: &Emulator, key: &str) -> String {
    let head = emulator
        .s3()
        .head_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("no object at {key}: {e:?}"));
    head.metadata()
        .and_then(|m| m.get("sha256"))
        .cloned()
        .unwrap_or_default()
}

/// Deploy `dir` to orders:live at 100 % through the bucket, under `prefix`.
fn deploy_via_s3(emulator: &Emulator, dir: &std::path::Path, prefix: &str) -> Run {
    deploy(
        emulator,
        "orders",
        "live",
        dir,
        &[
            "--canary-weight",
            "100%",
            "--s3-bucket",
            BUCKET,
            "--s3-key-prefix",
            prefix,
        ],
    )
}

#[tokio::test]
async fn the_zip_goes_to_a_content_addressed_key_and_is_uploaded_once() {
    let emulator = Emulator::start();
    create_function(&emulator, "orders").await;
    emulator.create_bucket(BUCKET).await;
    let first = source_dir("def handler(event, context):\n    return 1\n");
    // A trailing slash on the prefix is dropped.
    let deployed = deploy_via_s3(&emulator, first.path(), "lambda/packages/");
    deployed.assert_ok();
    let report = deployed.json();
    let code_sha256 = report["code-sha256"].as_str().unwrap().to_string();
    let key = format!("lambda/packages/orders/{}.zip", hex(&code_sha256));
    assert_eq!(stored(&emulator, &key).await, hex(&code_sha256));
    let version = report["version"].as_str().unwrap();
    assert_eq!(
        alias_state(&emulator, "orders", "live").await,
        (version.to_string(), None)
    );
    assert_eq!(hash_of(&emulator, "orders", version).await, code_sha256);

    // Other code goes out, then the first code again: its object is already
    // there, so the second deploy of it sends no PutObject, only the update.
    let second = source_dir("def handler(event, context):\n    return 2\n");
    deploy_via_s3(&emulator, second.path(), "lambda/packages").assert_ok();
    emulator.start_recording();
    let again = deploy_via_s3(&emulator, first.path(), "lambda/packages");
    again.assert_ok();
    let mutating = emulator.mutating();
    assert!(
        !mutating
            .iter()
            .any(|(method, path)| method != "HEAD" && path.contains(BUCKET)),
        "the object was uploaded again: {mutating:?}"
    );
    assert!(again.stderr.contains("already there"), "{}", again.stderr);
    let version = again.json()["version"].as_str().unwrap().to_string();
    assert_eq!(alias_state(&emulator, "orders", "live").await.0, version);
    assert_eq!(hash_of(&emulator, "orders", &version).await, code_sha256);
}

#[tokio::test]
async fn a_zip_over_50_mib_is_refused_without_a_bucket_and_goes_through_s3_in_parts_with_one() {
    let emulator = Emulator::start();
    create_function(&emulator, "reports").await;
    emulator.create_bucket(BUCKET).await;
    let big = incompressible_source(55);

    emulator.start_recording();
    let refused = deploy(&emulator, "reports", "live", big.path(), &[]);
    assert_eq!(refused.status, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("direct-upload limit") && refused.stderr.contains("--s3-bucket"),
        "{}",
        refused.stderr
    );
    assert_eq!(emulator.recorded(), vec![], "a refused deploy sends no request");

    let deployed = deploy(
        &emulator,
        "reports",
        "live",
        big.path(),
        &["--s3-bucket", BUCKET, "--canary-weight", "100%"],
    );
    deployed.assert_ok();
    let report = deployed.json();
    let code_sha256 = report["code-sha256"].as_str().unwrap();
    let key = format!("reports/{}.zip", hex(code_sha256));
    let head = emulator
        .s3()
        .head_object()
        .bucket(BUCKET)
        .key(&key)
        .send()
        .await
        .unwrap();
    assert!(head.content_length().unwrap() > 50 * 1024 * 1024);
    assert!(
        head.e_tag().unwrap().contains("-4"),
        "a 55 MiB zip goes in 4 parts of 16 MiB: ETag {:?}",
        head.e_tag()
    );
    let version = report["version"].as_str().unwrap();
    assert_eq!(alias_state(&emulator, "reports", "live").await.0, version);
    assert_eq!(hash_of(&emulator, "reports", version).await, code_sha256);
}

#[tokio::test]
async fn a_missing_bucket_is_a_clear_error_and_the_alias_stays() {
    let emulator = Emulator::start();
    create_function(&emulator, "orders").await;
    let first = source_dir("def handler(event, context):\n    return 1\n");
    deploy(
        &emulator,
        "orders",
        "live",
        first.path(),
        &["--canary-weight", "100%"],
    )
    .assert_ok();
    let before = alias_state(&emulator, "orders", "live").await;

    let second = source_dir("def handler(event, context):\n    return 2\n");
    let failed = deploy(
        &emulator,
        "orders",
        "live",
        second.path(),
        &["--s3-bucket", "no-such-bucket"],
    );
    assert_eq!(failed.status, 1, "{}", failed.stderr);
    assert!(
        failed.stderr.contains("S3 bucket no-such-bucket does not exist"),
        "{}",
        failed.stderr
    );
    assert_eq!(alias_state(&emulator, "orders", "live").await, before);
}

#[tokio::test]
async fn a_yaml_manifest_sends_every_function_through_the_bucket() {
    let emulator = Emulator::start();
    create_function(&emulator, "orders").await;
    create_function(&emulator, "users").await;
    emulator.create_bucket(BUCKET).await;
    let dir = tempfile::tempdir().unwrap();
    for name in ["orders", "users"] {
        std::fs::create_dir(dir.path().join(name)).unwrap();
        std::fs::write(
            dir.path().join(name).join("index.py"),
            format!("def handler(event, context):\n    return '{name}'\n"),
        )
        .unwrap();
    }
    let manifest = dir.path().join("lambda-rollout.yaml");
    std::fs::write(
        &manifest,
        "defaults:\n  alias: live\n  canary-weight: 100%\nfunctions:\n  - name: orders\n    source: orders\n  - name: users\n    source: users\n",
    )
    .unwrap();

    let run = run(binary(Some(&emulator))
        .args([
            "deploy",
            "--output",
            "json",
            "--s3-bucket",
            BUCKET,
            "--s3-key-prefix",
            "fleet",
            "--manifest",
        ])
        .arg(&manifest));
    run.assert_ok();
    let results = run.json();
    for (name, result) in ["orders", "users"].iter().zip(results.as_array().unwrap()) {
        let code_sha256 = result["code-sha256"].as_str().unwrap();
        let key = format!("fleet/{name}/{}.zip", hex(code_sha256));
        assert_eq!(stored(&emulator, &key).await, hex(code_sha256));
        let version = result["version"].as_str().unwrap();
        assert_eq!(alias_state(&emulator, name, "live").await.0, version);
        assert_eq!(hash_of(&emulator, name, version).await, code_sha256);
    }
}
