//! Deterministic zip packaging and Lambda's CodeSha256. No AWS here.
//!
//! The same file tree gives the same bytes on any machine: entries sorted by
//! path, a fixed timestamp, modes normalised to 0644 or 0755, no directory
//! entries and no extra fields carrying the host, owner or time.

use std::fs::{self, File};
use std::io::{self, Cursor, Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use ignore::WalkBuilder;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use crate::error::{Error, Result};

/// Largest zip Lambda accepts as a direct upload.
pub const DIRECT_UPLOAD_LIMIT: u64 = 50 * 1024 * 1024;
/// Largest unzipped size of a function's code.
pub const UNZIPPED_LIMIT: u64 = 250 * 1024 * 1024;
/// Deflate level of every entry. Changing it changes every package's
/// CodeSha256 (and so makes every function look changed once).
const DEFLATE_LEVEL: i64 = 6;
/// Per-directory file of exclusions, in gitignore syntax.
pub const IGNORE_FILE: &str = ".lambdaignore";

/// A zip ready to upload, with the hash Lambda will report for it.
#[derive(Debug)]
pub struct Package {
    pub zip: Vec<u8>,
    pub code_sha256: String,
    pub files: usize,
    pub unzipped_bytes: u64,
}

impl Package {
    fn new(zip: Vec<u8>, files: usize, unzipped_bytes: u64) -> Package {
        let code_sha256 = code_sha256(&zip);
        Package {
            zip,
            code_sha256,
            files,
            unzipped_bytes,
        }
    }

    pub fn exceeds_direct_upload(&self) -> bool {
        self.zip.len() as u64 > DIRECT_UPLOAD_LIMIT
    }
}

/// Lambda's CodeSha256: base64 of the SHA-256 of the zip bytes.
pub fn code_sha256(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

/// One file to store: its name inside the zip and where to read it.
struct Entry {
    name: String,
    path: PathBuf,
    size: u64,
    executable: bool,
}

/// Zip the tree under `source`, leaving out what `excludes` (gitignore globs)
/// and `.lambdaignore` files name.
pub fn build(source: &Path, excludes: &[String]) -> Result<Package> {
    let root = source_root(source)?;
    let entries = collect(&root, &exclusions(&root, excludes)?)?;
    if entries.is_empty() {
        return Err(Error::usage(format!(
            "--source '{}' holds no files to package (after --exclude and {IGNORE_FILE}): Lambda needs at least one file",
            source.display()
        )));
    }
    let unzipped_bytes: u64 = entries.iter().map(|e| e.size).sum();
    if unzipped_bytes > UNZIPPED_LIMIT {
        return Err(Error::usage(format!(
            "--source '{}' holds {} unzipped, over Lambda's limit of {}: exclude what the function does not need",
            source.display(),
            human_bytes(unzipped_bytes),
            human_bytes(UNZIPPED_LIMIT)
        )));
    }
    let zip = write_zip(&entries)?;
    Ok(Package::new(zip, entries.len(), unzipped_bytes))
}

fn source_root(source: &Path) -> Result<PathBuf> {
    let shown = source.display();
    match fs::metadata(source) {
        Ok(meta) if meta.is_dir() => fs::canonicalize(source)
            .map_err(|e| Error::usage(format!("--source '{shown}' cannot be read: {e}"))),
        Ok(_) => Err(Error::usage(format!(
            "--source '{shown}' is a file, expected a directory (use --zip-file for a zip built elsewhere)"
        ))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::usage(format!(
            "--source '{shown}' does not exist: expected the directory holding the function's code"
        ))),
        Err(e) => Err(Error::usage(format!("--source '{shown}' cannot be read: {e}"))),
    }
}

fn exclusions(root: &Path, excludes: &[String]) -> Result<Gitignore> {
    let mut builder = GitignoreBuilder::new(root);
    for glob in excludes.iter().map(|g| g.trim()).filter(|g| !g.is_empty()) {
        builder.add_line(None, glob).map_err(|e| {
            Error::usage(format!(
                "--exclude '{glob}' is not a valid glob ({e}): expected gitignore syntax such as '*.test.js' or 'tests/'"
            ))
        })?;
    }
    builder
        .build()
        .map_err(|e| Error::usage(format!("--exclude: {e}")))
}

/// Walk the tree (following links that stay inside it) and list the files to
/// store, sorted by their name in the zip.
fn collect(root: &Path, excluded: &Gitignore) -> Result<Vec<Entry>> {
    let excluded = excluded.clone();
    let walker = WalkBuilder::new(root)
        .standard_filters(false)
        .follow_links(true)
        .add_custom_ignore_filename(IGNORE_FILE)
        .filter_entry(move |entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            !excluded.matched(entry.path(), is_dir).is_ignore()
        })
        .build();

    let mut entries = Vec::new();
    for item in walker {
        let item = item.map_err(|e| Error::usage(format!("cannot read the source tree: {e}")))?;
        if item.depth() == 0 {
            continue;
        }
        let path = item.path();
        let name = zip_name(root, path)?;
        if item.path_is_symlink() {
            check_link_inside(root, path, &name)?;
        }
        let meta = fs::metadata(path).map_err(|e| Error::usage(format!("cannot read '{name}': {e}")))?;
        if meta.is_dir() || name == IGNORE_FILE {
            continue;
        }
        if !meta.is_file() {
            return Err(Error::usage(format!(
                "'{name}' is not a regular file (a socket, pipe or device cannot be packaged): exclude it with --exclude"
            )));
        }
        entries.push(Entry {
            name,
            path: path.to_path_buf(),
            size: meta.len(),
            executable: is_executable(&meta),
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

fn zip_name(root: &Path, path: &Path) -> Result<String> {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let parts: Option<Vec<&str>> = relative.components().map(|c| c.as_os_str().to_str()).collect();
    parts.map(|p| p.join("/")).ok_or_else(|| {
        Error::usage(format!(
            "'{}' has a name that is not valid UTF-8: zip entry names must be UTF-8",
            relative.display()
        ))
    })
}

fn check_link_inside(root: &Path, path: &Path, name: &str) -> Result<()> {
    let target = fs::canonicalize(path).map_err(|e| {
        Error::usage(format!(
            "symlink '{name}' cannot be followed ({e}): remove it or point it at a file inside the source"
        ))
    })?;
    if target.starts_with(root) {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "symlink '{name}' points outside the source directory (to '{}'): only links to files inside --source are packaged; copy the file in or exclude the link",
            target.display()
        )))
    }
}

#[cfg(unix)]
fn is_executable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &fs::Metadata) -> bool {
    false
}

/// How far the compressing threads may run ahead of the writer: bounds
/// memory on large trees (one larger file is always allowed).
const AHEAD_BYTES: u64 = 64 * 1024 * 1024;
const AHEAD_FILES: usize = 1024;

/// Compress the entries on every core while appending them in name order.
/// Each entry is compressed on its own, so the bytes do not depend on the
/// number of threads: the result is the single-threaded one.
fn write_zip(entries: &[Entry]) -> Result<Vec<u8>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    write_zip_with(entries, threads)
}

/// Work shared by the compressing threads and the writer.
#[derive(Default)]
struct Pipeline {
    /// Next entry to compress; entries the writer has appended; bytes in between.
    next: usize,
    appended: usize,
    bytes_ahead: u64,
    /// Compressed entries waiting for the writer, by index.
    done: std::collections::HashMap<usize, Result<Vec<u8>>>,
}

fn write_zip_with(entries: &[Entry], threads: usize) -> Result<Vec<u8>> {
    use std::sync::{Condvar, Mutex};
    let shared = Mutex::new(Pipeline::default());
    let (ready, room) = (Condvar::new(), Condvar::new());
    let lock = || shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let worker = || loop {
        let mut state = lock();
        let index = loop {
            let full = state.next >= state.appended + AHEAD_FILES
                || (state.bytes_ahead >= AHEAD_BYTES && state.next > state.appended);
            if state.next >= entries.len() || !full {
                break state.next;
            }
            state = room.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
        };
        let Some(entry) = entries.get(index) else { break };
        state.next += 1;
        state.bytes_ahead += entry.size;
        drop(state);
        let compressed = compress_one(entry);
        lock().done.insert(index, compressed);
        ready.notify_all();
    };
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, entries.len().max(1)) {
            scope.spawn(worker);
        }
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        for (index, entry) in entries.iter().enumerate() {
            let mut state = lock();
            let compressed = loop {
                if let Some(compressed) = state.done.remove(&index) {
                    break compressed;
                }
                state = ready.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
            };
            state.appended = index + 1;
            state.bytes_ahead -= entry.size;
            drop(state);
            room.notify_all();
            if let Err(err) = compressed.and_then(|bytes| append(&mut writer, entry, bytes)) {
                // Stop the workers: nothing more will be appended.
                lock().next = entries.len();
                room.notify_all();
                return Err(err);
            }
        }
        let cursor = writer
            .finish()
            .map_err(|e| Error::failed(format!("cannot finish the zip: {e}")))?;
        Ok(cursor.into_inner())
    })
}

/// Append one compressed one-entry zip to the package as it is.
fn append(writer: &mut ZipWriter<Cursor<Vec<u8>>>, entry: &Entry, compressed: Vec<u8>) -> Result<()> {
    let fail = |e: zip::result::ZipError| Error::failed(format!("cannot package '{}': {e}", entry.name));
    let mut one = ZipArchive::new(Cursor::new(compressed)).map_err(fail)?;
    let file = one.by_index_raw(0).map_err(fail)?;
    writer.raw_copy_file(file).map_err(fail)
}

/// One file as a one-entry zip: fixed time, normalised mode, deflate level 6.
fn compress_one(entry: &Entry) -> Result<Vec<u8>> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(DEFLATE_LEVEL))
        .last_modified_time(DateTime::default())
        .unix_permissions(if entry.executable { 0o755 } else { 0o644 });
    let fail = |e: &dyn std::fmt::Display| Error::usage(format!("cannot package '{}': {e}", entry.name));
    let mut writer = ZipWriter::new(Cursor::new(Vec::with_capacity(entry.size as usize / 2 + 256)));
    writer
        .start_file(entry.name.as_str(), options)
        .map_err(|e| fail(&e))?;
    let mut file = File::open(&entry.path).map_err(|e| fail(&e))?;
    io::copy(&mut file, &mut writer).map_err(|e| fail(&e))?;
    Ok(writer.finish().map_err(|e| fail(&e))?.into_inner())
}

/// Read a zip built elsewhere, check that Lambda could unpack it, and hash it
/// byte for byte as it is.
pub fn load_zip(path: &Path) -> Result<Package> {
    let shown = path.display();
    let zip =
        fs::read(path).map_err(|e| Error::usage(format!("--zip-file '{shown}' cannot be read: {e}")))?;
    let corrupt = |detail: &dyn std::fmt::Display| {
        Error::usage(format!(
            "--zip-file '{shown}' is not a valid zip archive: {detail}"
        ))
    };
    let mut archive = ZipArchive::new(Cursor::new(zip.as_slice())).map_err(|e| corrupt(&e))?;
    let mut files = 0;
    let mut unzipped_bytes = 0u64;
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(|e| corrupt(&e))?;
        let name = entry.name().map_err(|e| corrupt(&e))?.to_string();
        if entry.enclosed_name().is_none() {
            return Err(Error::usage(format!(
                "--zip-file '{shown}' has an entry '{name}' that leaves the archive's root (absolute path or '..'): Lambda would refuse it"
            )));
        }
        if entry.is_dir() {
            continue;
        }
        // Reading every entry checks its CRC, so a damaged archive is refused
        // here rather than by Lambda after the upload.
        let read = io::copy(&mut entry.by_ref().take(UNZIPPED_LIMIT + 1), &mut io::sink())
            .map_err(|e| corrupt(&format!("entry '{name}': {e}")))?;
        files += 1;
        unzipped_bytes += read;
        if unzipped_bytes > UNZIPPED_LIMIT {
            return Err(Error::usage(format!(
                "--zip-file '{shown}' unzips to more than Lambda's limit of {}",
                human_bytes(UNZIPPED_LIMIT)
            )));
        }
    }
    if files == 0 {
        return Err(Error::usage(format!(
            "--zip-file '{shown}' holds no files: Lambda needs at least one"
        )));
    }
    Ok(Package::new(zip, files, unzipped_bytes))
}

/// Write the package where `package --out` asked, creating nothing else.
pub fn write_to(package: &Package, out: &Path) -> Result<()> {
    let mut file = File::create(out)
        .map_err(|e| Error::usage(format!("--out '{}' cannot be written: {e}", out.display())))?;
    file.write_all(&package.zip)
        .map_err(|e| Error::failed(format!("cannot write '{}': {e}", out.display())))
}

pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (tempfile::TempDir, Vec<Entry>) {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..40 {
            let body = format!("{i} ").repeat(i * 500);
            fs::write(dir.path().join(format!("f{i:02}.txt")), body).unwrap();
        }
        let root = fs::canonicalize(dir.path()).unwrap();
        let entries = collect(&root, &Gitignore::empty()).unwrap();
        (dir, entries)
    }

    #[test]
    fn the_bytes_do_not_depend_on_the_number_of_threads() {
        let (_dir, entries) = tree();
        let one = write_zip_with(&entries, 1).unwrap();
        for threads in [2, 3, 8] {
            assert_eq!(
                write_zip_with(&entries, threads).unwrap(),
                one,
                "{threads} threads"
            );
        }
    }

    #[test]
    fn an_unreadable_file_stops_the_package_with_its_name() {
        let (dir, mut entries) = tree();
        entries[7].path = dir.path().join("vanished.txt");
        let err = write_zip_with(&entries, 2).unwrap_err().to_string();
        assert!(err.starts_with("cannot package 'f07.txt'"), "{err}");
    }
}
