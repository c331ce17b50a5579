//! `init`: start from a live function. Reads the version the alias serves
//! (or `$LATEST`) and writes it as a release file — never a variable's value:
//! each becomes `{"FromEnvironment": NAME}`, and the names to set as CI
//! secrets are listed. With `--download`, also unpacks the code that
//! version runs. Reads only; nothing in AWS changes.

use std::io::Read;
use std::path::Path;

use crate::aws::lambda::Snapshot;
use crate::aws::{Calls, Clients};
use crate::cli::flags::{InitArgs, OutputFormat};
use crate::core::init::{Live, ReleaseFile, release_file};
use crate::error::{Error, Result};
use crate::log::Log;
use crate::package;
use crate::report::{self, InitReport};

/// The largest zip `--download` takes: Lambda's limit for a function's
/// code, unzipped, is 250 MB, and a zip is never larger than what it holds.
const DOWNLOAD_LIMIT: u64 = 250 * 1024 * 1024;

pub async fn run(args: &InitArgs, log: Log) -> Result<()> {
    let log = log.with(args.common.verbose, false);
    let json = args.common.output == OutputFormat::Json;
    // Checked before any request: nothing is written over, nothing unpacked
    // into a directory that holds something.
    for (flag, path) in [("--out", &args.out), ("--download-zip", &args.download_zip)] {
        if let Some(path) = path.as_ref().filter(|path| path.exists()) {
            return Err(exists(flag, path));
        }
    }
    if let Some(dir) = &args.download {
        refuse_non_empty(dir)?;
    }
    let clients = Clients::connect(args.region.as_deref(), Calls::One, log).await?;
    let report = init(&clients, args, &log).await?;
    // Without --out the release file is on standard output: the report is
    // left to the GitHub outputs (and the narration).
    if args.out.is_none() {
        return report::write_github_files(&report::outputs(&report), "");
    }
    report::emit(&report, json)
}

/// Read the function through `clients`, write the file (or print it), and
/// unpack the code when asked.
pub async fn init(clients: &Clients, args: &InitArgs, log: &Log) -> Result<InitReport> {
    clients.refuse_other_region(&args.function_name)?;
    let function = args.function_name.as_str();
    let snapshot = clients.lambda.snapshot(function, args.alias.as_deref()).await?;
    // Values stay in memory; should any text quote one, it is masked.
    if let Some(environment) = &snapshot.config.environment {
        environment
            .variables
            .0
            .values()
            .for_each(|v| crate::secrets::hold(v));
    }
    let file = release_file(&Live {
        function,
        config: &snapshot.config,
        image: snapshot.image,
        tags: &snapshot.tags,
    });
    let text = render(&file, args.out.as_deref())?;
    // The code first, the release file last: a failed download leaves no
    // file behind to refuse the re-run, and a file that cannot be written
    // takes back what was downloaded — both or neither.
    let (downloaded, downloaded_zip, round_trip) = if args.download.is_some() || args.download_zip.is_some() {
        get_code(&snapshot, args, log).await?
    } else {
        (String::new(), String::new(), String::new())
    };
    let written = match &args.out {
        Some(out) => match write_new("--out", out, text.as_bytes()) {
            Ok(()) => {
                log.step(&format!(
                    "wrote {} from version {} of {function}",
                    out.display(),
                    snapshot.version
                ));
                out.display().to_string()
            }
            Err(err) => {
                take_back(args);
                return Err(err);
            }
        },
        None => {
            print!("{text}");
            String::new()
        }
    };
    if !file.secrets.is_empty() {
        log.step(&format!(
            "no value was written: set {} as secrets of the job that deploys (each is read with FromEnvironment)",
            file.secrets.join(", ")
        ));
    }
    Ok(InitReport {
        function_arn: snapshot.function_arn,
        version: snapshot.version,
        code_sha256: snapshot.code_sha256,
        release_file: written,
        secrets: file.secrets,
        downloaded,
        downloaded_zip,
        round_trip,
    })
}

/// Write `bytes` to `path` (what `flag` names), a file created here (never
/// opened over one made since the check).
fn write_new(flag: &str, path: &Path, bytes: &[u8]) -> Result<()> {
    let cannot =
        |e: std::io::Error| Error::failed(format!("{flag} '{}' cannot be written: {e}", path.display()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => exists(flag, path),
            _ => cannot(e),
        })?;
    std::io::Write::write_all(&mut file, bytes).map_err(cannot)
}

/// Remove what `get_code` wrote (the release file could not be written).
fn take_back(args: &InitArgs) {
    if let Some(zip) = &args.download_zip {
        let _ = std::fs::remove_file(zip);
    }
    if let Some(dir) = &args.download {
        // It was new or empty before: empty it again.
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                let _ = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
            }
        }
    }
}

/// Fetch the version's zip, check it is the version's (its CodeSha256),
/// save it as it is (`--download-zip`) and unpack it (`--download`), then
/// say which of the two a deploy can use without changing anything: a zip
/// another tool built (its own timestamps and order) re-packs to another
/// CodeSha256, and a `.lambdaignore` inside it leaves out files the
/// running function has.
async fn get_code(snapshot: &Snapshot, args: &InitArgs, log: &Log) -> Result<(String, String, String)> {
    let zip = download(snapshot, log).await?;
    let got = package::code_sha256(&zip);
    if got != snapshot.code_sha256 {
        return Err(Error::failed(format!(
            "the downloaded code has CodeSha256 {got}, not version {}'s {}: download again",
            snapshot.version, snapshot.code_sha256
        )));
    }
    let mut saved_zip = String::new();
    if let Some(path) = &args.download_zip {
        write_new("--download-zip", path, &zip)?;
        log.step(&format!(
            "saved the zip of version {} as Lambda holds it to {}",
            snapshot.version,
            path.display()
        ));
        saved_zip = path.display().to_string();
    }
    let Some(dir) = &args.download else {
        return Ok((String::new(), saved_zip, "zip".into()));
    };
    if let Err(err) = unpack(&zip, dir, log) {
        take_back(args);
        return Err(err);
    }
    let repacked = package::build(dir, &[]).map(|p| p.code_sha256);
    let ignored = dir.join(package::IGNORE_FILE).is_file();
    let round_trip = match (&repacked, saved_zip.is_empty()) {
        (Ok(hash), _) if *hash == snapshot.code_sha256 => "source",
        (_, false) => "zip",
        (_, true) => "neither",
    };
    if round_trip != "source" {
        let why = match (&repacked, ignored) {
            (Err(err), _) => format!("it cannot be packaged as it is ({err})"),
            (Ok(_), true) => format!(
                "it holds a {} that leaves out files the running function has, and",
                package::IGNORE_FILE
            ),
            (Ok(_), false) => {
                "the live zip was not built by lambda-rollout (its own timestamps and order), so".into()
            }
        };
        let hash = repacked.as_ref().map(String::as_str).unwrap_or("?");
        let advice = if saved_zip.is_empty() {
            "to adopt the function without a change, run init again with --download-zip FILE and deploy that zip with --zip-file FILE; the first deploy of the unpacked tree publishes a new version".to_string()
        } else {
            format!(
                "deploy the saved zip with --zip-file {saved_zip} for a deploy that changes nothing; deploying the unpacked tree publishes a new version"
            )
        };
        log.warn(&format!(
            "{}: {why} the tree re-packs to CodeSha256 {hash}, not the live {}: {advice}",
            dir.display(),
            snapshot.code_sha256
        ));
    }
    Ok((dir.display().to_string(), saved_zip, round_trip.into()))
}

/// The file's text: YAML when `out` is named `*.yaml` or `*.yml`, else JSON.
fn render(file: &ReleaseFile, out: Option<&Path>) -> Result<String> {
    let yaml = out
        .and_then(|p| p.extension())
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "yaml" | "yml"));
    if yaml {
        serde_saphyr::to_string(&file.content).map_err(|e| Error::failed(format!("cannot write YAML: {e}")))
    } else {
        serde_json::to_string_pretty(&file.content)
            .map(|text| text + "\n")
            .map_err(|e| Error::failed(format!("cannot write JSON: {e}")))
    }
}

fn exists(flag: &str, path: &Path) -> Error {
    Error::usage(format!(
        "{flag} '{}' exists: init never writes over a file; remove it or choose another",
        path.display()
    ))
}

fn refuse_non_empty(dir: &Path) -> Result<()> {
    match std::fs::read_dir(dir).map(|mut entries| entries.next().is_some()) {
        Ok(true) => Err(Error::usage(format!(
            "--download '{}' is not empty: give a new or empty directory",
            dir.display()
        ))),
        Ok(false) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::usage(format!(
            "--download '{}' cannot be read: {e}",
            dir.display()
        ))),
    }
}

/// Fetch the version's zip from the pre-signed URL Lambda gave (valid for
/// ten minutes).
async fn download(snapshot: &Snapshot, log: &Log) -> Result<Vec<u8>> {
    if snapshot.image || snapshot.code_location.is_empty() {
        return Err(Error::usage(
            "--download: this function runs a container image; pull the image instead",
        ));
    }
    log.step(&format!("downloading the code of version {}", snapshot.version));
    let url = snapshot.code_location.clone();
    tokio::task::spawn_blocking(move || fetch(&url))
        .await
        .map_err(|e| Error::failed(format!("the download stopped: {e}")))?
}

/// Unpack `zip` into `dir`. An entry that would land outside `dir` is refused.
fn unpack(zip: &[u8], dir: &Path, log: &Log) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::failed(format!("--download '{}' cannot be created: {e}", dir.display())))?;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip))
        .map_err(|e| Error::failed(format!("the downloaded code is not a zip: {e}")))?;
    // `extract` refuses entries whose path leaves the directory.
    archive.extract(dir).map_err(|e| {
        Error::failed(format!(
            "the code cannot be unpacked into '{}': {e}",
            dir.display()
        ))
    })?;
    log.step(&format!(
        "unpacked {} entries into {}",
        archive.len(),
        dir.display()
    ));
    Ok(())
}

/// One GET; the URL is pre-signed (its query is a credential: never shown).
fn fetch(url: &str) -> Result<Vec<u8>> {
    let failed = |why: String| Error::failed(format!("cannot download the code: {why}"));
    let response = ureq::get(url)
        .call()
        .map_err(|e| failed(without_query(&e.to_string())))?;
    let mut zip = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(DOWNLOAD_LIMIT + 1)
        .read_to_end(&mut zip)
        .map_err(|e| failed(e.to_string()))?;
    if zip.len() as u64 > DOWNLOAD_LIMIT {
        return Err(failed("it is over Lambda's 250 MB limit".into()));
    }
    Ok(zip)
}

/// An error's text with any URL's query (the pre-signed URL's signature and
/// token) cut off.
fn without_query(text: &str) -> String {
    text.split_whitespace()
        .map(|word| match word.split_once('?') {
            Some((before, _)) if word.contains("://") => format!("{before}?…"),
            _ => word.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}
