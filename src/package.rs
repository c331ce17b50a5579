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
#[derive(Debug, Clone)]
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
    let (zip, files, unzipped_bytes) = zip_tree(source, excludes, None)?;
    Ok(Package::new(zip, files, unzipped_bytes))
}

/// [`build`], writing the zip to `out` while it is hashed.
/// The zip `out` is never packed into itself, wherever it lies.
pub fn build_to(source: &Path, excludes: &[String], out: &Path) -> Result<Package> {
    let (zip, files, unzipped_bytes) = zip_tree(source, excludes, Some(out))?;
    let (written, code_sha256) = std::thread::scope(|scope| {
        let writing = scope.spawn(|| write_file(&zip, out));
        let hash = code_sha256(&zip);
        let written = writing
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (written, hash)
    });
    written?;
    Ok(Package {
        zip,
        code_sha256,
        files,
        unzipped_bytes,
    })
}

/// The zip's bytes, its number of files and their unzipped size.
fn zip_tree(source: &Path, excludes: &[String], out: Option<&Path>) -> Result<(Vec<u8>, usize, u64)> {
    let root = source_root(source)?;
    let mut entries = collect(&root, &exclusions(&root, excludes)?)?;
    if let Some(out) = out.and_then(|out| fs::canonicalize(out).ok()) {
        entries.retain(|entry| fs::canonicalize(&entry.path).map_or(true, |path| path != out));
    }
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
    Ok((write_zip(&entries)?, entries.len(), unzipped_bytes))
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

/// Walk the tree (following links that stay inside it) on every core and
/// list the files to store, sorted by their name in the zip. When several
/// paths cannot be packaged, the error names the first of them by name, so
/// the message does not depend on the order the walk met them.
fn collect(root: &Path, excluded: &Gitignore) -> Result<Vec<Entry>> {
    use std::sync::Mutex;
    let excluded_too = excluded.clone();
    let excluded = excluded.clone();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let walker = WalkBuilder::new(root)
        .standard_filters(false)
        .follow_links(true)
        .add_custom_ignore_filename(IGNORE_FILE)
        .threads(threads)
        .filter_entry(move |entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            !excluded.matched(entry.path(), is_dir).is_ignore()
        })
        .build_parallel();

    let found: Mutex<Vec<(String, Result<Entry>)>> = Mutex::new(Vec::new());
    walker.run(|| {
        let (found, excluded_too) = (&found, &excluded_too);
        Box::new(move |item| {
            let (key, result) = match item {
                Ok(item) if item.depth() == 0 => return ignore::WalkState::Continue,
                Ok(item) => match entry_of(root, item.path(), item.path_is_symlink()) {
                    Ok(None) => return ignore::WalkState::Continue,
                    Ok(Some(entry)) => (entry.name.clone(), Ok(entry)),
                    Err(err) => (item.path().display().to_string(), Err(err)),
                },
                // A path left out is never read: an excluded broken link
                // fails here, before the walker's filters see it.
                Err(err) if error_path(&err).is_some_and(|path| left_out(root, excluded_too, path)) => {
                    return ignore::WalkState::Continue;
                }
                Err(err) => (
                    String::new(),
                    Err(Error::usage(format!("cannot read the source tree: {err}"))),
                ),
            };
            found
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push((key, result));
            ignore::WalkState::Continue
        })
    });
    let mut found = found
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found.into_iter().map(|(_, entry)| entry).collect()
}

/// The path a walk error is about, if it names one.
fn error_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => error_path(err),
        _ => None,
    }
}

/// Whether `--exclude` or a `.lambdaignore` (the nearest one that has a say)
/// leaves `path` out.
fn left_out(root: &Path, excluded: &Gitignore, path: &Path) -> bool {
    if excluded.matched_path_or_any_parents(path, false).is_ignore() {
        return true;
    }
    let mut dir = path.parent();
    while let Some(here) = dir.filter(|d| d.starts_with(root)) {
        let (rules, _) = Gitignore::new(here.join(IGNORE_FILE));
        let verdict = rules.matched_path_or_any_parents(path, false);
        if !verdict.is_none() {
            return verdict.is_ignore();
        }
        dir = here.parent();
    }
    false
}

/// What to store for one path the walk found: nothing for a directory or an
/// ignore file.
fn entry_of(root: &Path, path: &Path, is_symlink: bool) -> Result<Option<Entry>> {
    let name = zip_name(root, path)?;
    if is_symlink {
        check_link_inside(root, path, &name)?;
    }
    let meta = fs::metadata(path).map_err(|e| Error::usage(format!("cannot read '{name}': {e}")))?;
    if meta.is_dir() || path.file_name().is_some_and(|file| file == IGNORE_FILE) {
        return Ok(None);
    }
    if !meta.is_file() {
        return Err(Error::usage(format!(
            "'{name}' is not a regular file (a socket, pipe or device cannot be packaged): exclude it with --exclude"
        )));
    }
    Ok(Some(Entry {
        name,
        path: path.to_path_buf(),
        size: meta.len(),
        executable: is_executable(&meta),
    }))
}

/// The name a file gets in the zip, refused by the same rule `--zip-file`
/// applies to a zip built elsewhere, so whatever `package` builds, `deploy
/// --zip-file` takes.
fn zip_name(root: &Path, path: &Path) -> Result<String> {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let parts: Option<Vec<&str>> = relative.components().map(|c| c.as_os_str().to_str()).collect();
    let name = parts.map(|p| p.join("/")).ok_or_else(|| {
        Error::usage(format!(
            "'{}' has a name that is not valid UTF-8: zip entry names must be UTF-8",
            relative.display()
        ))
    })?;
    match unsafe_entry_name(&name) {
        Some(why) => Err(Error::usage(format!(
            "'{name}' cannot be packaged: its name {why}, which some unzippers read as a path outside the function's directory; rename it or leave it out with --exclude"
        ))),
        None => Ok(name),
    }
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
const AHEAD_BATCHES: usize = 64;
/// Neighbouring small files are compressed as one batch, so the threads meet
/// once per batch rather than once per file.
const BATCH_BYTES: u64 = 1024 * 1024;
const BATCH_FILES: usize = 64;
/// Each thread reads files through one buffer of this size.
const READ_CHUNK: usize = 256 * 1024;
/// The compressor is given a file in pieces of this size. Part of the
/// package's bytes, like `DEFLATE_LEVEL`.
const DEFLATE_PIECE: usize = 8 * 1024;

/// Compress the entries on every core while appending them in name order.
/// Each entry is compressed on its own, so the bytes do not depend on the
/// number of threads: the result is the single-threaded one.
fn write_zip(entries: &[Entry]) -> Result<Vec<u8>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    write_zip_with(entries, threads)
}

/// Runs of neighbouring entries, each up to `BATCH_BYTES` (or one larger
/// file) and `BATCH_FILES`.
fn batches(entries: &[Entry]) -> Vec<std::ops::Range<usize>> {
    let mut batches = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (index, entry) in entries.iter().enumerate() {
        if index > start && (bytes + entry.size > BATCH_BYTES || index - start == BATCH_FILES) {
            batches.push(start..index);
            (start, bytes) = (index, 0);
        }
        bytes += entry.size;
    }
    if start < entries.len() {
        batches.push(start..entries.len());
    }
    batches
}

/// Work shared by the compressing threads and the writer.
#[derive(Default)]
struct Pipeline {
    /// Next batch to compress; batches the writer has appended; their bytes in between.
    next: usize,
    appended: usize,
    bytes_ahead: u64,
    /// Compressed batches waiting for the writer, by index.
    done: std::collections::HashMap<usize, Result<Vec<Vec<u8>>>>,
}

fn write_zip_with(entries: &[Entry], threads: usize) -> Result<Vec<u8>> {
    use std::sync::{Condvar, Mutex};
    let batches = batches(entries);
    let batch_bytes = |index: usize| -> u64 { entries[batches[index].clone()].iter().map(|e| e.size).sum() };
    let shared = Mutex::new(Pipeline::default());
    let (ready, room) = (Condvar::new(), Condvar::new());
    let lock = || shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let worker = || {
        let mut buffer = vec![0; READ_CHUNK];
        loop {
            let mut state = lock();
            let index = loop {
                let full = state.next >= state.appended + AHEAD_BATCHES
                    || (state.bytes_ahead >= AHEAD_BYTES && state.next > state.appended);
                if state.next >= batches.len() || !full {
                    break state.next;
                }
                state = room.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
            };
            let Some(range) = batches.get(index) else { break };
            state.next += 1;
            state.bytes_ahead += batch_bytes(index);
            drop(state);
            let compressed = entries[range.clone()]
                .iter()
                .map(|entry| compress_one(entry, &mut buffer))
                .collect();
            lock().done.insert(index, compressed);
            ready.notify_one();
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, batches.len().max(1)) {
            scope.spawn(worker);
        }
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        for (index, range) in batches.iter().enumerate() {
            let mut state = lock();
            let compressed = loop {
                if let Some(compressed) = state.done.remove(&index) {
                    break compressed;
                }
                state = ready.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
            };
            state.appended = index + 1;
            state.bytes_ahead -= batch_bytes(index);
            drop(state);
            room.notify_all();
            let appended = compressed.and_then(|files| {
                entries[range.clone()]
                    .iter()
                    .zip(files)
                    .try_for_each(|(entry, bytes)| append(&mut writer, entry, bytes))
            });
            if let Err(err) = appended {
                // Stop the workers: nothing more will be appended.
                lock().next = batches.len();
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

/// One file as a one-entry zip: fixed time, normalised mode, deflate level
/// `DEFLATE_LEVEL`. The file is read through `buffer`.
fn compress_one(entry: &Entry, buffer: &mut [u8]) -> Result<Vec<u8>> {
    let file =
        File::open(&entry.path).map_err(|e| Error::usage(format!("cannot package '{}': {e}", entry.name)))?;
    compress_from(entry, file, buffer)
}

fn compress_from(entry: &Entry, mut file: impl Read, buffer: &mut [u8]) -> Result<Vec<u8>> {
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
    // Deflate's output depends on how its input is cut, so it always gets
    // whole `DEFLATE_PIECE`s (but the last), however the file system answers
    // reads.
    loop {
        let filled = fill(&mut file, buffer).map_err(|e| fail(&e))?;
        for piece in buffer[..filled].chunks(DEFLATE_PIECE) {
            writer.write_all(piece).map_err(|e| fail(&e))?;
        }
        if filled < buffer.len() {
            break;
        }
    }
    Ok(writer.finish().map_err(|e| fail(&e))?.into_inner())
}

/// Read into `buffer` until it is full or the file ends; the bytes read.
fn fill(file: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
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
        if let Some(why) =
            unsafe_entry_name(&name).or(entry.enclosed_name().is_none().then_some("leaves the root"))
        {
            return Err(Error::usage(format!(
                "--zip-file '{shown}' has an entry '{name}' that {why}: entry names must be relative paths inside the archive, with '/' between parts (such as lib/util.py)"
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

/// Why a zip entry name could land outside the function's directory when
/// unpacked, if it could: absolute (`/etc/x`), a drive (`C:x`), a backslash
/// (read as a separator by some unzippers), or a `..` part.
fn unsafe_entry_name(name: &str) -> Option<&'static str> {
    let bytes = name.as_bytes();
    if name.starts_with('/') {
        Some("is an absolute path")
    } else if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        Some("names a drive")
    } else if name.contains('\\') {
        Some("has a backslash")
    } else if name.split('/').any(|part| part == "..") {
        Some("leaves the archive's root (a '..' part)")
    } else {
        None
    }
}

/// Write the package where `package --out` asked, creating nothing else.
fn write_file(zip: &[u8], out: &Path) -> Result<()> {
    let mut file = File::create(out)
        .map_err(|e| Error::usage(format!("--out '{}' cannot be written: {e}", out.display())))?;
    file.write_all(zip)
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

    /// 40 files up to 80 KB and 200 small ones: several batches.
    fn tree() -> (tempfile::TempDir, Vec<Entry>) {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..40 {
            let body = format!("{i} ").repeat(i * 500);
            fs::write(dir.path().join(format!("f{i:02}.txt")), body).unwrap();
        }
        fs::create_dir(dir.path().join("small")).unwrap();
        for i in 0..200 {
            fs::write(
                dir.path().join(format!("small/s{i:03}.js")),
                format!("exports.n = {i};\n"),
            )
            .unwrap();
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
    fn batches_cover_every_entry_in_order_within_their_bounds() {
        let (_dir, entries) = tree();
        let batches = batches(&entries);
        assert!(batches.len() > 3, "{batches:?}");
        let mut next = 0;
        for batch in &batches {
            assert_eq!(batch.start, next, "{batches:?}");
            next = batch.end;
            let bytes: u64 = entries[batch.clone()].iter().map(|e| e.size).sum();
            assert!(batch.len() <= BATCH_FILES, "{batch:?}");
            assert!(
                bytes <= BATCH_BYTES || batch.len() == 1,
                "{batch:?} holds {bytes} bytes"
            );
        }
        assert_eq!(next, entries.len());
    }

    /// A reader that answers at most `most` bytes at a time, as a network or
    /// FUSE file system may.
    struct Short<'a> {
        data: &'a [u8],
        most: usize,
    }

    impl Read for Short<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.most).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn short_reads_give_the_same_bytes() {
        // Text-like data over several read buffers, where deflate at this
        // level gives different bytes for differently cut input.
        let mut seed = 7u64;
        let words = [
            "lambda", "alias", "version", "const", "return", "handler", "{", "}", ";\n",
        ];
        let mut data = Vec::new();
        while data.len() < 3 * READ_CHUNK + 1234 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            data.extend_from_slice(words[(seed >> 33) as usize % words.len()].as_bytes());
            data.push(b' ');
        }
        let entry = Entry {
            name: "data.js".into(),
            path: PathBuf::from("data.js"),
            size: data.len() as u64,
            executable: false,
        };
        let mut buffer = vec![0; READ_CHUNK];
        let whole = compress_from(&entry, &data[..], &mut buffer).unwrap();
        for most in [1000, 4096, 100_003] {
            let short = Short { data: &data, most };
            assert!(
                compress_from(&entry, short, &mut buffer).unwrap() == whole,
                "reads of at most {most} bytes changed the zip"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn of_several_paths_that_cannot_be_packaged_the_first_by_name_is_named() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["z.pipe", "m.pipe", "a.pipe"] {
            let made = std::process::Command::new("mkfifo")
                .arg(dir.path().join(name))
                .status()
                .unwrap();
            assert!(made.success());
        }
        fs::write(dir.path().join("index.js"), "exports.handler = 1;\n").unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        for _ in 0..5 {
            let err = collect(&root, &Gitignore::empty()).err().unwrap().to_string();
            assert!(err.starts_with("'a.pipe' is not a regular file"), "{err}");
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
