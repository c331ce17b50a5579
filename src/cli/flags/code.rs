//! Where a release's code comes from (a directory, a zip, an image, S3),
//! what packaging leaves out, and `package` and `init`.

use super::*;

/// Where the code comes from: one of a directory or a zip (or, with
/// --manifest, each function's own).
#[derive(Debug, Args)]
#[group(multiple = false)]
pub struct CodeArgs {
    /// Directory to package deterministically.
    #[arg(long, value_name = "DIR", conflicts_with = "manifest")]
    pub source: Option<PathBuf>,

    /// A zip built elsewhere, deployed byte for byte.
    #[arg(long, value_name = "FILE", conflicts_with = "manifest")]
    pub zip_file: Option<PathBuf>,

    /// A container image in Amazon ECR, by tag or digest (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG),
    /// for a function whose package type is Image. A tag is resolved to its digest.
    #[arg(long, value_name = "URI", value_parser = parse_image_uri, conflicts_with_all = ["manifest", "s3_bucket", "globs"])]
    pub image_uri: Option<ImageRef>,
}

/// Where large packages go before Lambda takes them.
#[derive(Debug, Args)]
pub struct S3Args {
    /// Upload the zip to this S3 bucket (same region) and update the code from there; needed over
    /// Lambda's 50 MiB direct-upload limit. The key is PREFIX/FUNCTION/SHA256.zip, uploaded once.
    /// {region} and {account} in the name stand for each target's (one bucket per region of a fleet).
    #[arg(long, value_name = "BUCKET", value_parser = parse_bucket)]
    pub s3_bucket: Option<String>,

    /// Key prefix for --s3-bucket (such as lambda/packages).
    #[arg(long, value_name = "PREFIX", value_parser = parse_key_prefix,
          requires = "s3_bucket")]
    pub s3_key_prefix: Option<String>,
}

impl S3Args {
    pub fn target(&self) -> Option<S3Target> {
        self.s3_bucket.as_ref().map(|bucket| S3Target {
            bucket: bucket.clone(),
            prefix: self.s3_key_prefix.clone().unwrap_or_default(),
        })
    }
}

#[derive(Debug, Args)]
pub struct ExcludeArgs {
    /// Leave out files matching this gitignore-style glob (repeatable; one per line in the variable).
    #[arg(long = "exclude", value_name = "GLOB", value_delimiter = '\n', action = ArgAction::Append)]
    pub globs: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PackageArgs {
    /// Directory to package.
    #[arg(long, value_name = "DIR")]
    pub source: PathBuf,

    /// Where to write the zip.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    #[command(flatten)]
    pub excludes: ExcludeArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Function name or ARN.
    #[arg(long, value_parser = parse_function_name)]
    pub function_name: String,

    /// Read the version this alias serves (default: $LATEST).
    #[arg(long, value_parser = parse_alias)]
    pub alias: Option<String>,

    /// AWS region, such as eu-west-1 (default: the standard AWS configuration, such as AWS_REGION).
    #[arg(long, value_parser = parse_region)]
    pub region: Option<String>,

    /// Write the release file here: YAML if named *.yaml or *.yml, else JSON (default: standard output).
    /// An existing file is not overwritten.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Also unpack the code that version runs into this directory (new or empty), to check that a
    /// deploy of that tree and the file changes nothing.
    #[arg(long, value_name = "DIR")]
    pub download: Option<PathBuf>,

    /// Also save the version's zip here exactly as Lambda holds it (a new file): `deploy --zip-file FILE`
    /// with the release file then changes nothing, whatever tool built the zip.
    #[arg(long, value_name = "FILE")]
    pub download_zip: Option<PathBuf>,

    #[command(flatten)]
    pub common: CommonArgs,
}
