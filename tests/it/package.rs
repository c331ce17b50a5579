//! Deterministic packaging: the same tree gives the same bytes (and so the same
//! CodeSha256) whatever the file times, permissions beyond the execute bit, or
//! the order the filesystem lists entries in.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::common::{binary, run};
use lambda_rollout::package::{build, code_sha256};

/// A small tree like a real function's: nested modules, a data file, an
/// executable bootstrap, a dotfile.
fn write_tree(root: &Path, file_mode: u32, exec_mode: u32, mtime: SystemTime) {
    let files: &[(&str, &str, bool)] = &[
        (
            "index.py",
            "from lib import util\n\ndef handler(e, c):\n    return util.answer()\n",
            false,
        ),
        ("lib/__init__.py", "", false),
        ("lib/util.py", "def answer():\n    return 42\n", false),
        ("lib/data/words.txt", &"lambda rollout ".repeat(500), false),
        ("bootstrap", "#!/bin/sh\nexec python3 index.py\n", true),
        (".env.defaults", "MODE=prod\n", false),
    ];
    for (name, body, executable) in files {
        let path = root.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, body).unwrap();
        fs::set_permissions(
            &path,
            fs::Permissions::from_mode(if *executable { exec_mode } else { file_mode }),
        )
        .unwrap();
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
    }
}

fn names_in<R: std::io::Read + std::io::Seek>(archive: &zip::ZipArchive<R>) -> Vec<String> {
    archive.file_names().map(|n| n.unwrap().into_owned()).collect()
}

#[test]
fn the_same_tree_gives_the_same_bytes_whatever_the_times_and_permissions() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    write_tree(
        a.path(),
        0o644,
        0o755,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000),
    );
    // Other mtimes, a umask of 077 and group-only execute: the same package.
    write_tree(b.path(), 0o600, 0o710, SystemTime::now());
    let first = build(a.path(), &[]).unwrap();
    let second = build(b.path(), &[]).unwrap();
    assert_eq!(first.zip, second.zip);
    assert_eq!(first.code_sha256, second.code_sha256);
    assert_eq!(first.code_sha256, code_sha256(&first.zip));
    assert_eq!(first.files, 6);
}

#[test]
fn the_hash_of_a_fixed_tree_does_not_change_between_releases() {
    // A golden value: if a dependency upgrade changes the bytes we produce,
    // every user's next deploy would publish a new version of unchanged code.
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), 0o644, 0o755, SystemTime::now());
    assert_eq!(build(dir.path(), &[]).unwrap().code_sha256, GOLDEN_HASH);
}

const GOLDEN_HASH: &str = "RyHkHbbUOhDiV9ciiJ0OtvH6DVJLnWhD35hnOCCwTBc=";

#[test]
fn entries_are_sorted_files_with_fixed_time_normalised_modes_and_no_extra_fields() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), 0o640, 0o750, SystemTime::now());
    let package = build(dir.path(), &[]).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(package.zip)).unwrap();
    let names: Vec<String> = names_in(&archive);
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(
        names,
        [
            ".env.defaults",
            "bootstrap",
            "index.py",
            "lib/__init__.py",
            "lib/data/words.txt",
            "lib/util.py"
        ]
    );
    for index in 0..archive.len() {
        let entry = archive.by_index(index).unwrap();
        assert!(!entry.is_dir());
        let name = entry.name().unwrap().into_owned();
        let expected = if name == "bootstrap" { 0o100755 } else { 0o100644 };
        assert_eq!(entry.unix_mode(), Some(expected), "{name}");
        assert_eq!(
            entry.last_modified().map(|t| (t.year(), t.month(), t.day())),
            Some((1980, 1, 1))
        );
        assert_eq!(
            entry.extra_data().map_or(0, |e| e.len()),
            0,
            "no extra fields on {name}"
        );
        assert_eq!(entry.compression(), zip::CompressionMethod::Deflated);
    }
}

#[test]
fn lambdaignore_and_exclude_leave_files_out() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), 0o644, 0o755, SystemTime::now());
    fs::write(
        dir.path().join(".lambdaignore"),
        "# test data\nlib/data/\n*.defaults\n",
    )
    .unwrap();
    fs::write(dir.path().join("lib/.lambdaignore"), "*_test.py\n").unwrap();
    fs::write(dir.path().join("lib/util_test.py"), "").unwrap();
    fs::write(dir.path().join("README.md"), "docs").unwrap();
    fs::create_dir(dir.path().join("tests")).unwrap();
    fs::write(dir.path().join("tests/test_index.py"), "").unwrap();
    let package = build(dir.path(), &["*.md".into(), "tests/".into(), "  ".into()]).unwrap();
    let archive = zip::ZipArchive::new(std::io::Cursor::new(package.zip)).unwrap();
    let names = names_in(&archive);
    assert_eq!(names, ["bootstrap", "index.py", "lib/__init__.py", "lib/util.py"]);
}

#[test]
fn a_link_inside_the_tree_stores_the_target_content() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("real.py"), "x = 1\n").unwrap();
    symlink("real.py", dir.path().join("alias.py")).unwrap();
    fs::create_dir(dir.path().join("pkg")).unwrap();
    fs::write(dir.path().join("pkg/mod.py"), "y = 2\n").unwrap();
    symlink("pkg", dir.path().join("pkg_link")).unwrap();
    let package = build(dir.path(), &[]).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(package.zip)).unwrap();
    let names: Vec<String> = names_in(&archive);
    assert_eq!(names, ["alias.py", "pkg/mod.py", "pkg_link/mod.py", "real.py"]);
    let mut content = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("alias.py").unwrap(), &mut content).unwrap();
    assert_eq!(content, "x = 1\n");
    assert_eq!(
        archive.by_name("alias.py").unwrap().unix_mode(),
        Some(0o100644),
        "stored as a file, not a link"
    );
}

#[test]
fn a_link_out_of_the_tree_is_refused_by_name() {
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret.txt"), "do not ship").unwrap();
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("index.py"), "").unwrap();
    symlink(outside.path().join("secret.txt"), dir.path().join("config.txt")).unwrap();
    let err = build(dir.path(), &[]).unwrap_err().to_string();
    assert!(
        err.contains("symlink 'config.txt' points outside the source directory"),
        "{err}"
    );
    assert_eq!(build(dir.path(), &[]).unwrap_err().exit_code(), 2);
    // Excluding the link is the way out.
    assert!(build(dir.path(), &["config.txt".into()]).is_ok());
}

#[test]
fn a_broken_link_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("index.py"), "").unwrap();
    symlink("missing.py", dir.path().join("gone.py")).unwrap();
    let err = build(dir.path(), &[]).unwrap_err().to_string();
    assert!(err.contains("gone.py"), "{err}");
}

#[test]
fn what_exclude_or_lambdaignore_leaves_out_is_never_read() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("index.py"), "").unwrap();
    symlink("missing.py", dir.path().join("gone.py")).unwrap();
    symlink("missing.txt", dir.path().join("stale.txt")).unwrap();
    fs::write(dir.path().join(".lambdaignore"), "stale.txt\n").unwrap();
    let package = build(dir.path(), &["gone.py".into()]).unwrap();
    assert_eq!(package.files, 1);
    // Not left out: still refused by name.
    let err = build(dir.path(), &[]).unwrap_err().to_string();
    assert!(err.contains("gone.py"), "{err}");
}

#[test]
fn an_empty_package_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("empty-subdir")).unwrap();
    let err = build(dir.path(), &[]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("holds no files to package"), "{err}");
    fs::write(dir.path().join("notes.md"), "").unwrap();
    let err = build(dir.path(), &["*.md".into()]).unwrap_err();
    assert!(err.to_string().contains("holds no files to package"), "{err}");
}

#[test]
fn an_invalid_exclude_glob_names_the_glob() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("index.py"), "").unwrap();
    let err = build(dir.path(), &["src/{a,b".into()]).unwrap_err().to_string();
    assert!(err.contains("--exclude 'src/{a,b'"), "{err}");
}

#[test]
fn package_command_writes_the_zip_and_prints_lambdas_hash() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), 0o644, 0o755, SystemTime::now());
    let out = tempfile::tempdir().unwrap();
    let zip = out.path().join("fn.zip");
    let mut command = binary(None);
    command
        .args(["package", "--source"])
        .arg(dir.path())
        .arg("--out")
        .arg(&zip);
    let result = run(&mut command);
    result.assert_ok();
    let bytes = fs::read(&zip).unwrap();
    let hash = code_sha256(&bytes);
    assert!(
        result.stdout.contains(&format!("code-sha256  {hash}")),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.starts_with("packaged 6 files into"),
        "{}",
        result.stdout
    );
    assert_eq!(hash, GOLDEN_HASH);
}

#[test]
fn package_command_refuses_bad_sources_with_status_2() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let out = tempfile::tempdir().unwrap();
    for (source, expected) in [
        (
            Path::new("/nonexistent/src"),
            "--source '/nonexistent/src' does not exist",
        ),
        (file.path(), "is a file, expected a directory"),
    ] {
        let mut command = binary(None);
        command
            .args(["package", "--source"])
            .arg(source)
            .arg("--out")
            .arg(out.path().join("x.zip"));
        let result = run(&mut command);
        assert_eq!(result.status, 2, "{}", result.stderr);
        assert!(result.stderr.contains(expected), "{}", result.stderr);
        assert!(!out.path().join("x.zip").exists(), "nothing written");
    }
}

/// `package --source . --out fn.zip` inside the tree: the zip it wrote the
/// first time is not packed the second time (same files, same hash).
#[test]
fn the_output_zip_inside_the_source_is_never_packaged() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), 0o644, 0o755, SystemTime::now());
    let mut outputs = Vec::new();
    for _ in 0..3 {
        let mut command = binary(None);
        command
            .current_dir(dir.path())
            .args(["package", "--source", ".", "--out", "fn.zip", "--output", "json"]);
        let result = run(&mut command);
        let report = result.assert_ok().json();
        outputs.push((report["files"].clone(), report["code-sha256"].clone()));
    }
    assert_eq!(outputs[0], (serde_json::json!(6), serde_json::json!(GOLDEN_HASH)));
    assert!(outputs.iter().all(|o| *o == outputs[0]), "{outputs:?}");
}

/// One rule for names: a file `package` would store under a name
/// `deploy --zip-file` refuses (`C:drive.txt`, a backslash) is refused when
/// packaging, by name, so build-once-deploy-everywhere never breaks later.
#[test]
fn names_a_zip_file_would_refuse_are_refused_when_packaging() {
    for (name, why) in [("C:drive.txt", "names a drive"), ("a\\b.txt", "has a backslash")] {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("index.py"), "x = 1\n").unwrap();
        fs::write(dir.path().join(name), "y\n").unwrap();
        let out = tempfile::tempdir().unwrap();
        let mut command = binary(None);
        command
            .args(["package", "--source"])
            .arg(dir.path())
            .arg("--out")
            .arg(out.path().join("fn.zip"));
        let result = run(&mut command);
        assert_eq!(result.status, 2, "{name}: {}", result.stderr);
        assert!(
            result
                .stderr
                .contains(&format!("'{name}' cannot be packaged: its name {why}")),
            "{}",
            result.stderr
        );
        let mut excluded = binary(None);
        excluded
            .args(["package", "--source"])
            .arg(dir.path())
            .args(["--exclude", name.replace('\\', "\\\\").as_str(), "--out"])
            .arg(out.path().join("fn.zip"));
        let built = run(&mut excluded);
        built.assert_ok();
        let read = lambda_rollout::package::load_zip(&out.path().join("fn.zip"));
        assert!(read.is_ok(), "what package built, --zip-file reads");
    }
}
