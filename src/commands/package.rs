//! `package`: build the deterministic zip only and print its CodeSha256. No
//! AWS request.

use crate::cli::flags::{OutputFormat, PackageArgs};
use crate::error::Result;
use crate::log::Log;
use crate::package;
use crate::report::{self, PackageReport};

pub fn run(args: &PackageArgs, log: Log) -> Result<()> {
    let built = package::build_to(&args.source, &args.excludes.globs, &args.out)?;
    let summary = PackageReport {
        zip_file: args.out.display().to_string(),
        code_sha256: built.code_sha256.clone(),
        files: built.files,
        size_bytes: built.zip.len() as u64,
    };
    if built.exceeds_direct_upload() {
        log.warn("the zip is over Lambda's 50 MiB direct-upload limit");
    }
    report::emit(&summary, args.common.output == OutputFormat::Json)
}
