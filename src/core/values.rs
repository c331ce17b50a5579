//! Parsing and validation of the values users type: weights, booleans, alias and
//! function names. Each parser's error names the accepted form, because clap puts
//! it next to the flag that was given.

use std::fmt;

/// Share of an alias's traffic, from 0.0 to 1.0 inclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weight(f64);

const WEIGHT_FORM: &str =
    "expected a weight from 0 to 1 (such as 0.1) or a percentage from 0% to 100% (such as 10%)";

impl Weight {
    pub const FULL: Weight = Weight(1.0);

    pub fn new(fraction: f64) -> Option<Weight> {
        // `+ 0.0` makes -0 (as typed, `-0` or `-0%`) plain 0.
        (fraction.is_finite() && (0.0..=1.0).contains(&fraction)).then_some(Weight(fraction + 0.0))
    }

    pub fn fraction(self) -> f64 {
        self.0
    }

    pub fn is_full(self) -> bool {
        self.same_as(1.0)
    }

    /// Weights read back from AWS are doubles; compare them with a tolerance far
    /// below anything a user can type.
    pub fn same_as(self, other: f64) -> bool {
        (self.0 - other).abs() < 1e-9
    }
}

impl fmt::Display for Weight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", percent(self.0))
    }
}

/// `0.125` → `12.5%`: at most two decimals, no trailing zeros; a share too
/// small for two decimals keeps its first significant digits (`0.0001%`),
/// so a weight that is not zero never reads `0%`.
pub fn percent(fraction: f64) -> String {
    let share = fraction * 100.0 + 0.0;
    let decimals = if share != 0.0 && share.abs() < 0.005 {
        (-share.abs().log10().floor()) as usize + 1
    } else {
        2
    };
    let text = format!("{share:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    format!("{text}%")
}

pub fn parse_weight(input: &str) -> Result<Weight, String> {
    let text = input.trim();
    // 33.3 / 100 is 0.33299999999999996 in binary: round to 12 decimals
    // (far below a weight anyone types) so that 33.3% is sent as 0.333.
    let fraction = match text.strip_suffix('%') {
        Some(number) => number.trim().parse::<f64>().map(|p| (p * 1e10).round() / 1e12),
        None => text.parse::<f64>(),
    };
    fraction
        .ok()
        .and_then(Weight::new)
        .ok_or_else(|| format!("'{input}' is not a weight: {WEIGHT_FORM}"))
}

/// Booleans in the YAML 1.2 core schema forms, which is what GitHub passes for
/// action inputs.
pub fn parse_bool(input: &str) -> Result<bool, String> {
    match input {
        "true" | "True" | "TRUE" => Ok(true),
        "false" | "False" | "FALSE" => Ok(false),
        _ => Err(format!(
            "'{input}' is not a boolean: expected true/True/TRUE or false/False/FALSE"
        )),
    }
}

/// Alias names: 1–128 of `A-Z a-z 0-9 - _`, and not all digits (that would read
/// as a version number).
pub fn parse_alias(input: &str) -> Result<String, String> {
    const FORM: &str =
        "expected 1 to 128 letters, digits, '-' or '_', not only digits (such as live or prod)";
    if input.is_empty() || input.len() > 128 {
        return Err(format!("'{input}' is not an alias name: {FORM}"));
    }
    if input.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "'{input}' looks like a version number, not an alias name: {FORM}"
        ));
    }
    if input.starts_with("--") {
        return Err(format!(
            "'{input}' looks like a flag, not an alias name (a value is missing?): {FORM}"
        ));
    }
    if !input
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(format!("'{input}' is not an alias name: {FORM}"));
    }
    Ok(input.to_string())
}

/// A function name, partial ARN or full ARN, without a qualifier: the tool
/// chooses which version or alias each request addresses.
pub fn parse_function_name(input: &str) -> Result<String, String> {
    const FORM: &str = "expected a function name (such as my-function) or its ARN (arn:aws:lambda:REGION:ACCOUNT:function:my-function), without a version or alias suffix";
    if input.trim().is_empty() {
        return Err(format!("the function name is empty: {FORM}"));
    }
    if input.starts_with("--") {
        return Err(format!(
            "'{input}' looks like a flag, not a function name (a value is missing?): {FORM}"
        ));
    }
    let name = match input.rsplit_once("function:") {
        Some((_, name)) => name,
        None => input,
    };
    let valid_chars = input
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_:".contains(&b));
    if name.is_empty() || name.len() > 64 || name.contains(':') || !valid_chars || input.len() > 170 {
        return Err(format!("'{input}' is not a function name: {FORM}"));
    }
    Ok(input.to_string())
}

/// An AWS region code: lowercase words joined by '-', ending in a number
/// (us-east-1, eu-central-2, us-gov-west-1).
pub fn parse_region(input: &str) -> Result<String, String> {
    let parts: Vec<&str> = input.split('-').collect();
    let (last, words) = parts.split_last().unwrap_or((&"", &[]));
    let valid = parts.len() >= 3
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && !last.is_empty()
        && last.bytes().all(|b| b.is_ascii_digit());
    if valid {
        Ok(input.to_string())
    } else {
        Err(format!(
            "'{input}' is not an AWS region: expected a region code such as us-east-1 or eu-west-1"
        ))
    }
}

/// A canary routed by rule instead of by weight (SCF's
/// `AddtionVersionMatchs`): requests whose header matches go to the canary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderRule {
    pub header: String,
    pub matcher: HeaderMatch,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderMatch {
    /// The header's value is exactly this text.
    Exact(String),
    /// The header's value is an integer from the first to the second, both included.
    Range(u64, u64),
}

impl fmt::Display for HeaderRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.matcher {
            HeaderMatch::Exact(value) => write!(f, "header {} = {value}", self.header),
            HeaderMatch::Range(low, high) => write!(f, "header {} in {low}-{high}", self.header),
        }
    }
}

const HEADER_FORM: &str = "a header name is letters, digits and - _ . (such as x-canary)";

fn header_name(name: &str, flag: &str, input: &str) -> Result<String, String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if valid {
        Ok(name.to_string())
    } else {
        Err(format!("{flag} '{input}': {HEADER_FORM}"))
    }
}

/// `--canary-header KEY=VALUE`: requests whose header KEY is exactly VALUE.
pub fn parse_header_exact(input: &str) -> Result<HeaderRule, String> {
    let flag = "--canary-header";
    let Some((name, value)) = input.split_once('=') else {
        return Err(format!(
            "{flag} '{input}' is not KEY=VALUE: expected a header and the value that picks the canary, such as x-canary=tester"
        ));
    };
    let value_ok = !value.is_empty() && value.len() <= 256 && !value.chars().any(char::is_control);
    if !value_ok {
        return Err(format!(
            "{flag} '{input}': the value must be 1 to 256 characters, without control characters"
        ));
    }
    // HTTP trims the whitespace around a header's value, so no request could
    // ever carry this one: the canary would get no traffic.
    if value.trim() != value {
        return Err(format!(
            "{flag} '{input}': the value '{value}' starts or ends with whitespace, which HTTP trims from every header's value, so no request could reach the canary: give it without (such as {name}={})",
            value.trim()
        ));
    }
    Ok(HeaderRule {
        header: header_name(name, flag, input)?,
        matcher: HeaderMatch::Exact(value.to_string()),
    })
}

/// `--canary-header-range KEY=LOW-HIGH`: requests whose header KEY is an
/// integer from LOW to HIGH (both included), such as a user's hash bucket.
pub fn parse_header_range(input: &str) -> Result<HeaderRule, String> {
    let flag = "--canary-header-range";
    let form = || {
        format!(
            "{flag} '{input}' is not KEY=LOW-HIGH: expected a header and two whole numbers, LOW not above HIGH, such as x-user-bucket=0-9"
        )
    };
    let (name, range) = input.split_once('=').ok_or_else(form)?;
    let (low, high) = range.split_once('-').ok_or_else(form)?;
    let number = |text: &str| {
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse::<u64>().ok())
            .flatten()
    };
    match (number(low), number(high)) {
        (Some(low), Some(high)) if low <= high => Ok(HeaderRule {
            header: header_name(name, flag, input)?,
            matcher: HeaderMatch::Range(low, high),
        }),
        _ => Err(form()),
    }
}

/// `--region` before the platform is known: an AWS region (`us-east-1`) or a
/// Tencent Cloud one (`ap-guangzhou`, `ap-shanghai-fsi`): lower-case words
/// and numbers joined by hyphens. Each platform checks its own form.
pub fn parse_any_region(input: &str) -> Result<String, String> {
    let parts: Vec<&str> = input.split('-').collect();
    let valid = parts.len() >= 2
        && input.len() <= 32
        && parts
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    if valid {
        Ok(input.to_string())
    } else {
        Err(format!(
            "'{input}' is not a region: expected an AWS region code such as us-east-1, or with --platform scf a Tencent Cloud region such as ap-guangzhou"
        ))
    }
}

/// `--namespace`: an SCF namespace, letters, digits, `-` and `_`, 1 to 30
/// characters, starting with a letter.
pub fn parse_namespace(input: &str) -> Result<String, String> {
    let valid = (1..=30).contains(&input.len())
        && input.starts_with(|c: char| c.is_ascii_alphabetic())
        && input
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(input.to_string())
    } else {
        Err(format!(
            "'{input}' is not an SCF namespace: expected 1 to 30 letters, digits, - or _, starting with a letter (such as default)"
        ))
    }
}

/// An Amazon ECR image, by tag or by digest:
/// `ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY[:TAG|@sha256:DIGEST]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub account: String,
    pub region: String,
    pub repository: String,
    pub reference: ImageReference,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageReference {
    Tag(String),
    /// `sha256:` followed by 64 hex digits.
    Digest(String),
}

impl ImageRef {
    /// The registry host, `ACCOUNT.dkr.ecr.REGION.amazonaws.com`.
    pub fn registry(&self) -> String {
        format!("{}.dkr.ecr.{}.amazonaws.com", self.account, self.region)
    }

    /// The same image named by `digest`: what a version is given, so it
    /// holds exactly the image that was compared.
    pub fn by_digest(&self, digest: &str) -> String {
        format!("{}/{}@{digest}", self.registry(), self.repository)
    }

    /// As given.
    pub fn text(&self) -> String {
        match &self.reference {
            ImageReference::Tag(tag) => format!("{}/{}:{tag}", self.registry(), self.repository),
            ImageReference::Digest(digest) => self.by_digest(digest),
        }
    }
}

/// `--image-uri`: an ECR image URI with a tag or a digest.
pub fn parse_image_uri(input: &str) -> Result<ImageRef, String> {
    let refused = |why: &str| {
        format!(
            "'{input}' is not an Amazon ECR image URI ({why}): expected ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG or …/REPOSITORY@sha256:DIGEST (Lambda runs images from ECR only)"
        )
    };
    let (host, path) = input.split_once('/').ok_or_else(|| refused("no repository"))?;
    let mut labels = host.splitn(4, '.');
    let (account, dkr, ecr, rest) = (labels.next(), labels.next(), labels.next(), labels.next());
    let (Some(account), Some("dkr"), Some("ecr"), Some(rest)) = (account, dkr, ecr, rest) else {
        return Err(refused(
            "the registry is not ACCOUNT.dkr.ecr.REGION.amazonaws.com",
        ));
    };
    let region = rest
        .strip_suffix(".amazonaws.com")
        .or_else(|| rest.strip_suffix(".amazonaws.com.cn"))
        .ok_or_else(|| refused("the registry is not ACCOUNT.dkr.ecr.REGION.amazonaws.com"))?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refused("the account is not 12 digits"));
    }
    parse_region(region).map_err(|_| refused("no region in the registry name"))?;
    let (repository, reference) = if let Some((repository, digest)) = path.split_once('@') {
        let hex = digest.strip_prefix("sha256:").unwrap_or_default();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(refused("a digest is sha256: and 64 hex digits"));
        }
        (repository, ImageReference::Digest(digest.to_ascii_lowercase()))
    } else {
        match path.rsplit_once(':') {
            Some((repository, tag)) if !tag.is_empty() && !tag.contains('/') => {
                (repository, ImageReference::Tag(tag.to_string()))
            }
            _ => return Err(refused("no :TAG or @sha256:DIGEST")),
        }
    };
    let valid_repository = !repository.is_empty()
        && repository.split('/').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        });
    if !valid_repository {
        return Err(refused(
            "the repository name is lowercase letters, digits, . _ - and /",
        ));
    }
    Ok(ImageRef {
        account: account.to_string(),
        region: region.to_string(),
        repository: repository.to_string(),
        reference,
    })
}

/// The region of a function ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`).
pub fn region_of_arn(function: &str) -> Option<&str> {
    function
        .strip_prefix("arn:")
        .and_then(|rest| rest.split(':').nth(2))
        .filter(|region| !region.is_empty())
}

/// The function's name from a name or an ARN: metric dimensions, S3 keys and
/// AppSpecs never use the ARN.
pub fn function_name_of(function: &str) -> &str {
    function
        .rsplit_once("function:")
        .map_or(function, |(_, name)| name)
}

/// The account a function ARN or partial ARN (`ACCOUNT:function:NAME`) names.
pub fn account_of_arn(function: &str) -> Option<&str> {
    let (head, _) = function.rsplit_once("function:")?;
    let account = head.trim_end_matches(':').rsplit(':').next()?;
    (!account.is_empty() && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

/// Whether two ways of naming a function (name, partial ARN, ARN) can name
/// the same function: the same name, and no account or region that differs
/// where both say one.
pub fn same_function(a: &str, b: &str) -> bool {
    let agree = |x: Option<&str>, y: Option<&str>| x.is_none() || y.is_none() || x == y;
    function_name_of(a) == function_name_of(b)
        && agree(account_of_arn(a), account_of_arn(b))
        && agree(region_of_arn(a), region_of_arn(b))
}

/// `--s3-bucket` and `--s3-key-prefix`: where packages are stored.
#[derive(Debug, Clone, PartialEq)]
pub struct S3Target {
    pub bucket: String,
    pub prefix: String,
}

impl S3Target {
    /// Whether the bucket differs by region (`{region}` in its name).
    pub fn per_region(&self) -> bool {
        self.bucket.contains("{region}")
    }

    /// Whether the bucket's name needs the account (`{account}`).
    pub fn needs_account(&self) -> bool {
        self.bucket.contains("{account}")
    }

    /// The bucket of a target in `region` of `account`.
    pub fn at(&self, region: &str, account: &str) -> S3Target {
        S3Target {
            bucket: self
                .bucket
                .replace("{region}", region)
                .replace("{account}", account),
            prefix: self.prefix.clone(),
        }
    }

    /// `PREFIX/FUNCTION/SHA256-HEX.zip` (the function's name, also when given as an ARN).
    pub fn key(&self, function: &str, sha256_hex: &str) -> String {
        let name = function_name_of(function);
        if self.prefix.is_empty() {
            format!("{name}/{sha256_hex}.zip")
        } else {
            format!("{}/{name}/{sha256_hex}.zip", self.prefix)
        }
    }
}

/// An S3 bucket name, by S3's naming rules (3–63 characters; lowercase
/// letters, digits, dots and hyphens; a letter or digit at each end).
pub fn parse_bucket(input: &str) -> Result<String, String> {
    // A place's region and account (12 digits) fill the placeholders; the
    // name is checked with the longest region name there is, so that every
    // place's bucket name is valid.
    check_bucket(
        &input
            .replace("{region}", "ap-southeast-2")
            .replace("{account}", "123456789012"),
    )
    .map(|()| input.to_string())
    .map_err(|form| format!("'{input}' is not an S3 bucket name: {form}"))
}

/// Whether `name` is an S3 bucket name (else the form expected).
fn check_bucket(name: &str) -> Result<(), &'static str> {
    const FORM: &str = "expected an S3 bucket name such as my-deploy-artifacts (3-63 characters: lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit; a name, not an s3:// URL or ARN; {region} and {account} stand for each target's)";
    let bytes = name.as_bytes();
    let valid = (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(b))
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && !name.contains("..");
    if valid { Ok(()) } else { Err(FORM) }
}

/// The key prefix under which packages are stored: path segments of
/// printable characters, without a leading slash (a trailing one is dropped).
pub fn parse_key_prefix(input: &str) -> Result<String, String> {
    const FORM: &str = "expected a key prefix such as lambda/packages (no leading '/', no empty, '.' or '..' segments, printable characters only, at most 512 bytes)";
    let prefix = input.strip_suffix('/').unwrap_or(input);
    let valid = prefix.is_empty()
        || (prefix.len() <= 512
            && prefix.chars().all(|c| !c.is_control())
            && prefix
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != ".."));
    if valid {
        Ok(prefix.to_string())
    } else {
        Err(format!("'{input}' is not a usable S3 key prefix: {FORM}"))
    }
}

/// A published version number: digits only. `$LATEST` is mutable, so it is
/// never a promotion or rollback target.
pub fn parse_version(input: &str) -> Result<String, String> {
    let text = input.trim();
    if !text.is_empty() && text.len() <= 10 && text.bytes().all(|b| b.is_ascii_digit()) && text != "0" {
        Ok(text.trim_start_matches('0').to_string())
    } else {
        Err(format!(
            "'{input}' is not a published version number: expected a number such as 7 ($LATEST and alias names are not accepted here)"
        ))
    }
}

/// An SCF function name: 2 to 60 letters, digits, `-` and `_`, starting with
/// a letter and ending with a letter or digit. An ARN is Lambda's.
pub fn check_scf_function_name(name: &str) -> Result<(), String> {
    let valid = (2..=60).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "--function-name '{name}' is not an SCF function name: expected 2 to 60 letters, digits, - or _, starting with a letter and ending with a letter or digit"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_name_may_hold_the_region_and_the_account() {
        let bucket = parse_bucket("artifacts-{account}-{region}").unwrap();
        let target = S3Target {
            bucket,
            prefix: String::new(),
        };
        assert!(target.per_region() && target.needs_account());
        assert_eq!(
            target.at("eu-west-1", "111111111111").bucket,
            "artifacts-111111111111-eu-west-1"
        );
        // Checked with the longest region name and a 12-digit account.
        assert!(parse_bucket("{account}-{region}-abcdefghijklmnopqrstuvwxyz-01234567").is_ok());
        assert!(parse_bucket("{account}-{region}-abcdefghijklmnopqrstuvwxyz-012345678").is_err());
        let wrong = parse_bucket("artifacts-{Region}").unwrap_err();
        assert!(
            wrong.contains("{region} and {account} stand for each target's"),
            "{wrong}"
        );
    }

    #[test]
    fn weights_accept_fractions_and_percentages() {
        assert_eq!(parse_weight("0.1").unwrap().fraction(), 0.1);
        assert_eq!(parse_weight("10%").unwrap().fraction(), 0.1);
        assert_eq!(parse_weight("100%").unwrap(), Weight::FULL);
        assert_eq!(parse_weight("0").unwrap().fraction(), 0.0);
        assert_eq!(parse_weight(" 2.5 % ").unwrap().fraction(), 0.025);
        assert_eq!(parse_weight("1").unwrap(), Weight::FULL);
    }

    #[test]
    fn weights_outside_zero_to_one_are_refused_with_the_accepted_form() {
        for bad in ["1.5", "-1", "abc", "NaN", "inf", "", "101%", "-5%", "10%%", "0x1"] {
            let err = parse_weight(bad).unwrap_err();
            assert!(err.contains(&format!("'{bad}'")), "{err}");
            assert!(err.contains("such as 10%"), "{err}");
        }
    }

    #[test]
    fn a_percentage_is_sent_as_the_decimal_it_names() {
        let weight = parse_weight("33.3%").unwrap().fraction();
        assert_eq!(weight.to_string(), "0.333");
        assert_eq!(parse_weight("12.5%").unwrap().fraction(), 0.125);
        assert_eq!(parse_weight("0.07%").unwrap().fraction().to_string(), "0.0007");
    }

    #[test]
    fn regions_are_checked_before_any_request() {
        for good in ["us-east-1", "eu-central-2", "us-gov-west-1", "ap-southeast-7"] {
            assert_eq!(parse_region(good).as_deref(), Ok(good));
        }
        for bad in ["eu_west_1", "us-east-1 ", "", "us-east", "US-EAST-1", "east-1"] {
            let err = parse_region(bad).unwrap_err();
            assert!(err.contains("such as us-east-1"), "{bad}: {err}");
        }
        let arn = "arn:aws:lambda:eu-west-1:123456789012:function:orders";
        assert_eq!(region_of_arn(arn), Some("eu-west-1"));
        assert_eq!(region_of_arn("orders"), None);
    }

    #[test]
    fn weights_print_as_percentages() {
        assert_eq!(Weight::new(0.1).unwrap().to_string(), "10%");
        assert_eq!(Weight::new(0.125).unwrap().to_string(), "12.5%");
        assert_eq!(Weight::new(0.0).unwrap().to_string(), "0%");
        assert_eq!(Weight::FULL.to_string(), "100%");
    }

    #[test]
    fn booleans_accept_yaml_forms_only() {
        for yes in ["true", "True", "TRUE"] {
            assert_eq!(parse_bool(yes), Ok(true));
        }
        for no in ["false", "False", "FALSE"] {
            assert_eq!(parse_bool(no), Ok(false));
        }
        for bad in ["yes", "1", "tRUE", "on", ""] {
            assert!(parse_bool(bad).unwrap_err().contains("true/True/TRUE"));
        }
    }

    #[test]
    fn version_numbers() {
        assert_eq!(parse_version("7").unwrap(), "7");
        assert_eq!(parse_version("007").unwrap(), "7");
        for bad in ["$LATEST", "live", "-1", "1.5", "", "0", "12345678901"] {
            assert!(
                parse_version(bad)
                    .unwrap_err()
                    .contains("published version number"),
                "{bad}"
            );
        }
    }

    #[test]
    fn alias_names() {
        assert_eq!(parse_alias("live").unwrap(), "live");
        assert_eq!(parse_alias("pre-release_2").unwrap(), "pre-release_2");
        assert!(parse_alias("12").unwrap_err().contains("version number"));
        assert!(parse_alias("").is_err());
        assert!(parse_alias("$LATEST").is_err());
        assert!(parse_alias("a/b").is_err());
        assert!(parse_alias(&"a".repeat(129)).is_err());
    }

    #[test]
    fn function_names_and_arns() {
        assert!(parse_function_name("my-fn").is_ok());
        assert!(parse_function_name("arn:aws:lambda:eu-west-1:123456789012:function:my-fn").is_ok());
        assert!(parse_function_name("123456789012:function:my-fn").is_ok());
        assert!(parse_function_name("").unwrap_err().contains("empty"));
        assert!(parse_function_name("   ").unwrap_err().contains("empty"));
        assert!(parse_function_name("my-fn:live").is_err());
        assert!(parse_function_name("arn:aws:lambda:eu-west-1:123456789012:function:my-fn:3").is_err());
        assert!(parse_function_name("my fn").is_err());
        assert!(parse_function_name(&"f".repeat(65)).is_err());
    }

    #[test]
    fn image_uris_are_ecr_by_tag_or_digest() {
        let by_tag = parse_image_uri("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:v1.2").unwrap();
        assert_eq!(by_tag.repository, "team/app");
        assert_eq!(by_tag.region, "eu-west-1");
        assert_eq!(by_tag.reference, ImageReference::Tag("v1.2".into()));
        let digest = format!("sha256:{}", "ab".repeat(32));
        let by_digest = parse_image_uri(&format!(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@{digest}"
        ))
        .unwrap();
        assert_eq!(by_digest.reference, ImageReference::Digest(digest.clone()));
        assert_eq!(
            by_tag.by_digest(&digest),
            format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app@{digest}")
        );
        for bad in [
            "docker.io/library/python:3.12",
            "python:3.12",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app@sha256:abc",
            "12345.dkr.ecr.eu-west-1.amazonaws.com/app:v1",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/App:v1",
        ] {
            let err = parse_image_uri(bad).unwrap_err();
            assert!(err.contains("not an Amazon ECR image URI"), "{bad}: {err}");
        }
    }

    #[test]
    fn one_function_named_three_ways_is_the_same_function() {
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:f1";
        assert!(same_function("f1", arn));
        assert!(same_function("123456789012:function:f1", arn));
        assert!(!same_function("f2", arn));
        assert!(!same_function(
            arn,
            "arn:aws:lambda:eu-west-1:123456789012:function:f1"
        ));
        assert!(!same_function("111111111111:function:f1", arn));
        assert_eq!(account_of_arn(arn), Some("123456789012"));
        assert_eq!(account_of_arn("f1"), None);
    }

    #[test]
    fn a_small_weight_never_reads_zero_and_minus_zero_is_zero() {
        assert_eq!(percent(0.00004), "0.004%");
        assert_eq!(percent(0.0000001), "0.00001%");
        assert_eq!(percent(0.001), "0.1%");
        assert_eq!(percent(0.125), "12.5%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(-0.0), "0%");
        assert_eq!(parse_weight("-0").unwrap().to_string(), "0%");
        assert_eq!(parse_weight("-0%").unwrap().to_string(), "0%");
        assert!(parse_weight("-0").unwrap().fraction().is_sign_positive());
    }

    #[test]
    fn header_rules_parse_or_name_the_accepted_form() {
        assert_eq!(
            parse_header_exact("x-canary=tester").unwrap(),
            HeaderRule {
                header: "x-canary".into(),
                matcher: HeaderMatch::Exact("tester".into())
            }
        );
        assert_eq!(
            parse_header_exact("x-canary=a=b").unwrap().matcher,
            HeaderMatch::Exact("a=b".into())
        );
        assert_eq!(
            parse_header_range("x-user-bucket=0-9").unwrap().to_string(),
            "header x-user-bucket in 0-9"
        );
        let err = parse_header_exact("x-canary= tester ").unwrap_err();
        assert!(err.contains("starts or ends with whitespace"), "{err}");
        assert!(err.contains("such as x-canary=tester"), "{err}");
        for bad in [
            "x-canary",
            "=tester",
            "x canary=1",
            "x-canary=",
            "x-canary=\ttester",
        ] {
            let err = parse_header_exact(bad).unwrap_err();
            assert!(err.starts_with("--canary-header '"), "{err}");
        }
        for bad in ["x=9-0", "x=1", "x=a-b", "x=-1-5", "=0-9", "x=0-"] {
            let err = parse_header_range(bad).unwrap_err();
            assert!(err.contains("--canary-header-range"), "{bad}: {err}");
        }
    }
}
