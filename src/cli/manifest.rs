//! `--manifest FILE`: many functions in one run. A TOML file with optional
//! `[defaults]` and one `[[functions]]` table per function (or the same keys
//! in YAML, `defaults:` and a `functions:` list, when the file is named
//! `*.yaml` or `*.yml`):
//!
//! ```toml
//! [defaults]
//! alias = "live"
//! canary-weight = "10%"
//! exclude = ["tests/"]
//!
//! [[functions]]
//! name = "orders"
//! source = "functions/orders"   # relative to the manifest
//! strategy = "canary:10%:5m"
//! ```
//!
//! Every entry is checked here, before any request; `settings` turns the
//! entries into the same checked settings a single function gets.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::cli::{function_config, function_url};
use crate::core::config::FunctionConfig;
use crate::core::fleet::{Place, Role, parse_role_arn};
use crate::core::strategy::{Step, parse_interval, parse_strategy};
use crate::core::url::UrlConfig;
use crate::core::values::{
    ImageRef, Weight, account_of_arn, function_name_of, parse_alias, parse_function_name, parse_image_uri,
    parse_region, parse_weight, region_of_arn, same_function,
};
use crate::core::waves::{TargetKey, Tolerance, Wave, assign, parse_tolerance};
use crate::error::{Error, Result};

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawEntry {
    name: Option<String>,
    alias: Option<String>,
    source: Option<PathBuf>,
    zip_file: Option<PathBuf>,
    image_uri: Option<String>,
    function_config: Option<PathBuf>,
    /// The function URL to keep on the alias (a JSON file).
    function_url: Option<PathBuf>,
    canary_weight: Option<String>,
    strategy: Option<String>,
    step_interval: Option<String>,
    #[serde(default)]
    exclude: Vec<String>,
    keep_versions: Option<usize>,
    /// One region, or several (one target per region).
    region: Option<String>,
    regions: Option<Vec<String>>,
    /// A role to assume: it names the target's account.
    role_arn: Option<String>,
    external_id: Option<String>,
    /// `lambda` (the default) or `scf`.
    platform: Option<String>,
    /// SCF's namespace (`default` when none is named).
    namespace: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    #[serde(default)]
    defaults: RawEntry,
    #[serde(default)]
    functions: Vec<RawEntry>,
    #[serde(default)]
    waves: Vec<RawWave>,
}

/// `[[waves]]`: an ordered group of targets.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawWave {
    name: String,
    regions: Option<Vec<String>>,
    accounts: Option<Vec<String>>,
    functions: Option<Vec<String>>,
    bake: Option<String>,
    failure_tolerance: Option<serde_json::Value>,
    /// CloudWatch alarms watched in each of the wave's account-regions
    /// while it bakes.
    alarms: Option<Vec<String>>,
}

/// The wave a target belongs to. Without `[[waves]]`, every target is in
/// one wave whose failures never stop the others.
#[derive(Debug, Clone, PartialEq)]
pub struct WaveOf {
    pub index: usize,
    /// Empty without `[[waves]]`.
    pub name: String,
    pub bake: Duration,
    pub tolerance: Tolerance,
    /// Alarms watched in the target's account-region while the wave bakes.
    pub alarms: Vec<String>,
}

impl WaveOf {
    /// Wave `index` of `waves`, as a target carries it.
    pub fn of(waves: &[Wave], index: usize) -> WaveOf {
        let wave = &waves[index];
        WaveOf {
            index,
            name: wave.name.clone(),
            bake: wave.bake,
            tolerance: wave.tolerance,
            alarms: wave.alarms.clone(),
        }
    }
}

impl Default for WaveOf {
    fn default() -> Self {
        WaveOf {
            index: 0,
            name: String::new(),
            bake: Duration::ZERO,
            tolerance: Tolerance::Count(usize::MAX),
            alarms: Vec::new(),
        }
    }
}

/// Where one function's code comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Code {
    Source(PathBuf),
    Zip(PathBuf),
    /// A container image in Amazon ECR, by tag or digest.
    Image(ImageRef),
}

impl std::fmt::Display for Code {
    /// The source directory, the zip file or the image, as given.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Code::Source(dir) => write!(f, "{}", dir.display()),
            Code::Zip(zip) => write!(f, "{}", zip.display()),
            Code::Image(image) => f.write_str(&image.text()),
        }
    }
}

/// One function of the manifest, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub name: String,
    pub alias: String,
    pub code: Option<Code>,
    /// `function-config`: the release's configuration.
    pub config: Option<FunctionConfig>,
    /// `function-url`: the URL to keep on the alias.
    pub function_url: Option<UrlConfig>,
    pub excludes: Vec<String>,
    pub weight: Option<Weight>,
    pub steps: Option<Vec<Step>>,
    /// `keep-versions`: prune after a successful deploy.
    pub keep_versions: Option<usize>,
    /// The region and role its calls go to.
    pub place: Place,
    /// Its wave.
    pub wave: WaveOf,
    /// `deploy --wave`: a target of an earlier wave, checked but not written.
    pub check_only: bool,
    /// `platform = "scf"`: a Tencent Cloud SCF function.
    pub scf: bool,
}

/// Read and check the manifest. `needs_code`: deploy needs a source or zip per function.
pub fn load(path: &Path, needs_code: bool) -> Result<Vec<Function>> {
    load_at(path, needs_code, None)
}

/// [`load`], with the run's `--region`: a wave's `regions` selector sees an
/// entry without `region` in the run's region (`--region`, else `AWS_REGION`
/// or `AWS_DEFAULT_REGION`).
pub fn load_at(path: &Path, needs_code: bool, run_region: Option<&str>) -> Result<Vec<Function>> {
    load_with_waves(path, needs_code, run_region).map(|(functions, _)| functions)
}

/// [`load_at`], and the manifest's `[[waves]]` as checked (for a run that
/// assigns them again once every target's account and region is known).
pub fn load_with_waves(
    path: &Path,
    needs_code: bool,
    run_region: Option<&str>,
) -> Result<(Vec<Function>, Vec<Wave>)> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::usage(format!("--manifest '{shown}' cannot be read: {e}")))?;
    let yaml = matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
    let raw: RawManifest = if yaml {
        serde_saphyr::from_str(&text)
            .map_err(|e| Error::usage(format!("--manifest '{shown}' is not a valid YAML manifest: {e}")))?
    } else {
        toml::from_str(&text).map_err(|e| {
            Error::usage(format!(
                "--manifest '{shown}' is not a valid TOML manifest (name a YAML one *.yaml or *.yml): {e}"
            ))
        })?
    };
    if raw.functions.is_empty() {
        return Err(Error::usage(format!(
            "--manifest '{shown}' lists no functions ({})",
            if yaml {
                "a `functions:` list"
            } else {
                "[[functions]] tables"
            }
        )));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let mut functions: Vec<Function> = Vec::new();
    // Each (function name, alias, place) seen, with the targets that have it:
    // a duplicate is found in one look-up, so checking stays linear.
    let mut seen: HashMap<(String, String, Place), Vec<usize>> = HashMap::new();
    for (index, entry) in raw.functions.iter().enumerate() {
        let label = format!(
            "--manifest '{shown}', functions[{index}]{}",
            entry
                .name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        );
        let function = check(&raw.defaults, entry, base, needs_code)
            .map_err(|why| Error::usage(format!("{label}: {why}")))?;
        let places = places(&raw.defaults, entry, &function.name, function.scf)
            .map_err(|why| Error::usage(format!("{label}: {why}")))?;
        for place in places {
            let target = Function {
                place,
                ..function.clone()
            };
            // By the function named, not the text: `f1` and its ARN are one
            // function; and the same name in another account or region is another.
            let key = (
                function_name_of(&target.name).to_string(),
                target.alias.clone(),
                target.place.clone(),
            );
            let same_key = seen.entry(key).or_default();
            if same_key
                .iter()
                .any(|f| same_function(&functions[*f].name, &target.name))
            {
                return Err(Error::usage(format!(
                    "{label}: {}:{} appears twice{}",
                    target.name,
                    target.alias,
                    if target.place == Place::default() {
                        String::new()
                    } else {
                        format!(" in {}", target.place)
                    }
                )));
            }
            same_key.push(functions.len());
            functions.push(target);
        }
    }
    let run_region = run_region
        .map(str::to_string)
        .or_else(|| std::env::var("AWS_REGION").ok().filter(|r| !r.is_empty()))
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok().filter(|r| !r.is_empty()))
        .unwrap_or_default();
    let waves = assign_waves(&raw.waves, &mut functions, &run_region)
        .map_err(|why| Error::usage(format!("--manifest '{shown}': {why}")))?;
    Ok((functions, waves))
}

/// Check `[[waves]]` and put each target in its wave.
fn assign_waves(
    raw: &[RawWave],
    functions: &mut [Function],
    run_region: &str,
) -> std::result::Result<Vec<Wave>, String> {
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    let mut waves = Vec::new();
    for wave in raw {
        let label = format!("wave {}", wave.name);
        if wave.name.trim().is_empty() || waves.iter().any(|w: &Wave| w.name == wave.name) {
            return Err(format!("waves need distinct names ('{}')", wave.name));
        }
        let list = |globs: &Option<Vec<String>>, what: &str| match globs {
            Some(globs) if globs.is_empty() => Err(format!(
                "{label}: {what} is empty: list at least one, or leave it out"
            )),
            Some(globs) => Ok(globs.clone()),
            None => Ok(Vec::new()),
        };
        let tolerance = match &wave.failure_tolerance {
            None => Tolerance::Count(0),
            Some(serde_json::Value::String(text)) => {
                parse_tolerance(text).map_err(|e| format!("{label}: {e}"))?
            }
            Some(other) => parse_tolerance(&other.to_string()).map_err(|e| format!("{label}: {e}"))?,
        };
        let alarms = list(&wave.alarms, "alarms")?;
        if let Some(bad) = alarms
            .iter()
            .find(|a| a.trim().is_empty() || a.chars().count() > 255)
        {
            return Err(format!(
                "{label}: alarms: '{bad}' is not a CloudWatch alarm name (1-255 characters)"
            ));
        }
        waves.push(Wave {
            alarms,
            name: wave.name.clone(),
            regions: list(&wave.regions, "regions")?,
            accounts: list(&wave.accounts, "accounts")?,
            functions: list(&wave.functions, "functions")?,
            bake: wave
                .bake
                .as_deref()
                .map(parse_interval)
                .transpose()
                .map_err(|e| format!("{label}: bake: {e}"))?
                .unwrap_or(Duration::ZERO),
            tolerance,
        });
    }
    let keys: Vec<TargetKey> = functions
        .iter()
        .map(|f| TargetKey {
            region: f.place.region.clone().unwrap_or_else(|| run_region.to_string()),
            account: f.place.account().unwrap_or("default").to_string(),
            function: function_name_of(&f.name).to_string(),
            own_credentials: f.place.role.is_none(),
        })
        .collect();
    // The run's own account is known only once it connects: waves that
    // select accounts over targets without a role are assigned then (a
    // deploy's run assigns every wave again with what it resolved).
    let deferred = waves.iter().any(|w| !w.accounts.is_empty()) && keys.iter().any(|k| k.own_credentials);
    let assigned = match assign(&waves, &keys) {
        Err(_) if deferred => return Ok(waves),
        other => other?,
    };
    for (function, index) in functions.iter_mut().zip(assigned) {
        function.wave = WaveOf::of(&waves, index);
    }
    Ok(waves)
}

/// The places an entry deploys to: one per region (`region` or `regions`,
/// the entry's own or the defaults'), with its `role-arn`. A function ARN
/// names its own region and account: one that contradicts them is refused.
fn places(
    defaults: &RawEntry,
    entry: &RawEntry,
    function: &str,
    scf: bool,
) -> std::result::Result<Vec<Place>, String> {
    let own = entry.region.is_some() || entry.regions.is_some();
    let from = if own { entry } else { defaults };
    // SCF's regions are Tencent Cloud's (`ap-guangzhou`).
    let region_of = |r: &str| {
        if scf {
            crate::core::values::parse_any_region(r)
        } else {
            parse_region(r)
        }
    };
    let regions: Vec<Option<String>> = match (&from.region, &from.regions) {
        (Some(_), Some(_)) => return Err("give region or regions, not both".into()),
        (Some(region), None) => vec![Some(region_of(region)?)],
        (None, Some(regions)) if regions.is_empty() => {
            return Err("regions is empty: list at least one region, or leave it out".into());
        }
        (None, Some(regions)) => regions
            .iter()
            .map(|r| region_of(r).map(Some))
            .collect::<std::result::Result<_, _>>()?,
        (None, None) => vec![None],
    };
    let namespace = entry.namespace.clone().or(defaults.namespace.clone());
    if scf && (entry.role_arn.is_some() || defaults.role_arn.is_some()) {
        return Err(
            "role-arn is Lambda's: an SCF run acts with one set of credentials (TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY), so an SCF entry names no role".into(),
        );
    }
    if !scf && namespace.is_some() {
        return Err("namespace is SCF's: it needs platform = \"scf\"".into());
    }
    let role = match entry.role_arn.as_ref().or(defaults.role_arn.as_ref()) {
        Some(arn) => Some(Role {
            arn: parse_role_arn(arn)?,
            external_id: entry.external_id.clone().or(defaults.external_id.clone()),
        }),
        None if entry.external_id.is_some() || defaults.external_id.is_some() => {
            return Err("external-id goes with a role-arn".into());
        }
        None => None,
    };
    if let (Some(role), Some(account)) = (&role, account_of_arn(function))
        && role.account() != account
    {
        return Err(format!(
            "{function} is in account {account}, but role-arn {} is in account {}",
            role.arn,
            role.account()
        ));
    }
    if let Some(region) = region_of_arn(function)
        && let Some(other) = regions.iter().flatten().find(|r| *r != region)
    {
        return Err(format!(
            "{function} is in {region}, but the entry deploys it to {other}: give the function's name, or its region"
        ));
    }
    Ok(regions
        .into_iter()
        .map(|region| Place {
            region,
            role: role.clone(),
            namespace: namespace.clone(),
        })
        .collect())
}

fn check(
    defaults: &RawEntry,
    entry: &RawEntry,
    base: &Path,
    needs_code: bool,
) -> std::result::Result<Function, String> {
    if defaults.name.is_some()
        || defaults.source.is_some()
        || defaults.zip_file.is_some()
        || defaults.image_uri.is_some()
        || defaults.function_config.is_some()
    {
        return Err(
            "name, source, zip-file, image-uri and function-config belong to each function, not to [defaults]".into(),
        );
    }
    let name = parse_function_name(entry.name.as_deref().ok_or("name is missing")?)?;
    let alias = parse_alias(
        entry
            .alias
            .as_ref()
            .or(defaults.alias.as_ref())
            .ok_or("alias is missing (here or in [defaults])")?,
    )?;
    // An empty path would name the manifest's own folder (with its `.env`
    // and everything else beside it): never what was meant.
    let blank = |path: &Option<PathBuf>| {
        path.as_ref()
            .is_some_and(|p| p.to_string_lossy().trim().is_empty())
    };
    for (key, empty) in [
        ("source", blank(&entry.source)),
        ("zip-file", blank(&entry.zip_file)),
        (
            "image-uri",
            entry.image_uri.as_ref().is_some_and(|u| u.trim().is_empty()),
        ),
        ("function-config", blank(&entry.function_config)),
        ("function-url", blank(&entry.function_url)),
    ] {
        if empty {
            return Err(format!(
                "{key} is empty: give a path relative to the manifest (such as fns/orders), or leave {key} out"
            ));
        }
    }
    let code = match (&entry.source, &entry.zip_file, &entry.image_uri) {
        (Some(source), None, None) => Some(Code::Source(base.join(source))),
        (None, Some(zip), None) => Some(Code::Zip(base.join(zip))),
        (None, None, Some(uri)) => Some(Code::Image(parse_image_uri(uri)?)),
        (None, None, None) if needs_code => {
            return Err("give source (a directory), zip-file or image-uri".into());
        }
        (None, None, None) => None,
        _ => return Err("give one of source, zip-file and image-uri".into()),
    };
    let scf = match entry.platform.as_deref().or(defaults.platform.as_deref()) {
        None | Some("lambda") => false,
        Some("scf") => true,
        Some(other) => {
            return Err(format!(
                "platform '{other}' is not one lambda-rollout acts on: lambda (the default) or scf"
            ));
        }
    };
    if scf {
        crate::core::values::check_scf_function_name(&name)
            .map_err(|e| e.replacen("--function-name", "name", 1))?;
    }
    if scf && matches!(code, Some(Code::Image(_))) {
        return Err("image-uri is Lambda's: an SCF function ships a zip (give source or zip-file)".into());
    }
    // What a release ships is read only by a command that ships one: a
    // rollback, promote, status or prune never needs the deploy's secrets
    // (`FromEnvironment`), so an emergency rollback job or a read-only
    // status job runs without them.
    let config = match &entry.function_config {
        Some(path) if needs_code => {
            let path = base.join(path);
            let config = function_config::load(&path, None).map_err(|e| e.to_string())?;
            if scf {
                crate::scf::limits::check_config(&config, &path).map_err(|e| e.to_string())?;
            }
            Some(config)
        }
        _ => None,
    };
    let function_url = match entry.function_url.as_ref().or(defaults.function_url.as_ref()) {
        Some(_) if scf => {
            return Err("function-url is Lambda's: SCF functions have no function URL here".into());
        }
        Some(path) if needs_code => Some(function_url::load(&base.join(path)).map_err(|e| e.to_string())?),
        _ => None,
    };
    match &code {
        Some(Code::Source(dir)) if !dir.is_dir() => {
            return Err(format!("source '{}' is not a directory", dir.display()));
        }
        Some(Code::Zip(zip)) if !zip.is_file() => {
            return Err(format!("zip-file '{}' does not exist", zip.display()));
        }
        _ => {}
    }
    // The entry's own canary-weight or strategy wins over a default of
    // either kind; with neither, the defaults (a strategy over a weight).
    let (weight, strategy) = match (&entry.canary_weight, &entry.strategy) {
        (Some(_), Some(_)) => return Err("give canary-weight or strategy, not both".into()),
        (Some(weight), None) => (Some(weight), None),
        (None, Some(strategy)) => (None, Some(strategy)),
        (None, None) => match &defaults.strategy {
            Some(strategy) => (None, Some(strategy)),
            None => (defaults.canary_weight.as_ref(), None),
        },
    };
    let weight = weight.map(|w| parse_weight(w)).transpose()?;
    let interval: Option<Duration> = entry
        .step_interval
        .as_ref()
        .or(defaults.step_interval.as_ref())
        .map(|i| parse_interval(i))
        .transpose()?;
    let steps = match strategy {
        // The schedule's values live in the manifest: say so where the
        // refusal would name a flag.
        Some(strategy) => Some(parse_strategy(strategy)?.schedule(interval).map_err(|e| {
            e.replace(
                "--step-interval is required",
                "step-interval is required (in the entry or in [defaults])",
            )
            .replace("(such as --step-interval 2m)", "(such as step-interval = \"2m\")")
        })?),
        None => None,
    };
    let excludes = defaults.exclude.iter().chain(&entry.exclude).cloned().collect();
    Ok(Function {
        scf,
        name,
        alias,
        code,
        config,
        excludes,
        weight,
        steps,
        keep_versions: entry.keep_versions.or(defaults.keep_versions),
        place: Place::default(),
        wave: WaveOf::default(),
        check_only: false,
        function_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("fns/orders")).unwrap();
        std::fs::create_dir_all(dir.path().join("fns/users")).unwrap();
        let path = dir.path().join("lambda-rollout.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn an_scf_entry_has_a_namespace_and_its_region_and_no_role() {
        let (_dir, path) = manifest(
            "[defaults]\nplatform = \"scf\"\nalias = \"live\"\n\n[[functions]]\nname = \"orders\"\nregion = \"ap-guangzhou\"\nnamespace = \"shop\"\n",
        );
        let functions = load(&path, false).unwrap();
        assert!(functions[0].scf);
        assert_eq!(functions[0].place.namespace.as_deref(), Some("shop"));
        assert_eq!(functions[0].place.to_string(), "shop/ap-guangzhou");
        for (text, refusal) in [
            (
                "[[functions]]\nname = \"orders\"\nalias = \"live\"\nplatform = \"azure\"\n",
                "platform 'azure' is not one lambda-rollout acts on",
            ),
            (
                "[[functions]]\nname = \"orders\"\nalias = \"live\"\nnamespace = \"shop\"\n",
                "namespace is SCF's",
            ),
            (
                "[[functions]]\nname = \"orders\"\nalias = \"live\"\nplatform = \"scf\"\nrole-arn = \"arn:aws:iam::123456789012:role/d\"\n",
                "role-arn is Lambda's",
            ),
            (
                "[[functions]]\nname = \"arn:aws:lambda:us-east-1:123456789012:function:orders\"\nalias = \"live\"\nplatform = \"scf\"\n",
                "is not an SCF function name",
            ),
        ] {
            let (_dir, path) = manifest(text);
            let err = load(&path, false).unwrap_err().to_string();
            assert!(err.contains(refusal), "{text}: {err}");
        }
    }

    #[test]
    fn defaults_apply_and_paths_are_relative_to_the_manifest() {
        let (dir, path) = manifest(
            r#"
            [defaults]
            alias = "live"
            canary-weight = "10%"
            exclude = ["tests/"]

            [[functions]]
            name = "orders"
            source = "fns/orders"
            exclude = ["*.md"]

            [[functions]]
            name = "users"
            source = "fns/users"
            alias = "prod"
            strategy = "linear:50%:1m"
            "#,
        );
        let functions = load(&path, true).unwrap();
        assert_eq!(functions[0].alias, "live");
        assert_eq!(
            functions[0].code,
            Some(Code::Source(dir.path().join("fns/orders")))
        );
        assert_eq!(functions[0].excludes, ["tests/", "*.md"]);
        assert_eq!(functions[0].weight.unwrap().fraction(), 0.1);
        assert_eq!(functions[1].alias, "prod");
        assert_eq!(
            functions[1].weight, None,
            "a strategy replaces the default weight"
        );
        assert_eq!(functions[1].steps.as_ref().unwrap().len(), 2);
    }

    #[test]
    fn a_yaml_manifest_reads_like_the_toml_one() {
        let (dir, toml_path) = manifest(
            r#"
            [defaults]
            alias = "live"
            exclude = ["tests/"]

            [[functions]]
            name = "orders"
            source = "fns/orders"
            canary-weight = "25%"

            [[functions]]
            name = "users"
            source = "fns/users"
            strategy = "linear:50%:1m"
            "#,
        );
        let yaml_path = dir.path().join("lambda-rollout.yaml");
        std::fs::write(
            &yaml_path,
            "defaults:\n  alias: live\n  exclude: [tests/]\nfunctions:\n  - name: orders\n    source: fns/orders\n    canary-weight: 25%\n  - name: users\n    source: fns/users\n    strategy: linear:50%:1m\n",
        )
        .unwrap();
        assert_eq!(load(&yaml_path, true).unwrap(), load(&toml_path, true).unwrap());

        let bad = dir.path().join("bad.yml");
        std::fs::write(&bad, "functions:\n  - name: orders\n    colour: red\n").unwrap();
        let err = load(&bad, true).unwrap_err().to_string();
        assert!(
            err.contains("not a valid YAML manifest") && err.contains("colour"),
            "{err}"
        );
        std::fs::write(&bad, "defaults:\n  alias: live\n").unwrap();
        let err = load(&bad, true).unwrap_err().to_string();
        assert!(err.contains("lists no functions (a `functions:` list)"), "{err}");
    }

    #[test]
    fn every_entry_is_checked_and_named_in_the_error() {
        let cases = [
            (
                "[[functions]]\nsource = \"fns/orders\"\nalias = \"live\"",
                "functions[0]: name is missing",
            ),
            (
                "[[functions]]\nname = \"orders\"\nsource = \"fns/orders\"",
                "alias is missing",
            ),
            (
                "[[functions]]\nname = \"orders\"\nalias = \"live\"",
                "give source (a directory), zip-file or image-uri",
            ),
            (
                "[[functions]]\nname = \"orders\"\nalias = \"7\"\nsource = \"fns/orders\"",
                "looks like a version number",
            ),
            (
                "[[functions]]\nname = \"orders\"\nalias = \"live\"\nsource = \"fns/nope\"",
                "is not a directory",
            ),
            (
                "[[functions]]\nname = \"orders\"\nalias = \"live\"\nsource = \"fns/orders\"\ncanary-weight = \"2\"",
                "'2' is not a weight",
            ),
            (
                "[[functions]]\nname = \"orders\"\nalias = \"live\"\nsource = \"fns/orders\"\nstrategy = \"5%,1%\"",
                "steps must increase",
            ),
            (
                "[[functions]]\nname = \"orders\"\nalias = \"live\"\nsource = \"fns/orders\"\nstrategy = \"5%,100%\"",
                "step-interval is required (in the entry or in [defaults]) with explicit steps (such as step-interval = \"2m\")",
            ),
            (
                "[[functions]]\nname = \"orders\"\nalias = \"live\"\nsource = \"\"",
                "source is empty",
            ),
            (
                "[[functions]]\nname = \"orders\"\nalias = \"live\"\nsource = \"fns/orders\"\ncolour = \"red\"",
                "unknown field `colour`",
            ),
            (
                "[defaults]\nalias = \"live\"",
                "lists no functions ([[functions]] tables)",
            ),
            (
                "[[functions]]\nname = \"orders\"\nalias = \"live\"\nsource = \"fns/orders\"\n[[functions]]\nname = \"orders\"\nalias = \"live\"\nsource = \"fns/orders\"",
                "orders:live appears twice",
            ),
        ];
        for (text, expected) in cases {
            let (_dir, path) = manifest(text);
            let err = load(&path, true).unwrap_err();
            assert_eq!(err.exit_code(), 2);
            assert!(err.to_string().contains(expected), "{text}: {err}");
            assert!(err.to_string().starts_with("--manifest '"), "{err}");
        }
        // promote and rollback need no code.
        let (_dir, path) = manifest("[[functions]]\nname = \"orders\"\nalias = \"live\"");
        assert_eq!(load(&path, false).unwrap()[0].code, None);
    }

    #[test]
    fn function_config_is_read_relative_to_the_manifest_and_image_uris_are_checked() {
        let (dir, path) = manifest(
            "[[functions]]\nname = \"orders\"\nalias = \"live\"\nsource = \"fns/orders\"\nfunction-config = \"orders.json\"\n\n[[functions]]\nname = \"reports\"\nalias = \"live\"\nimage-uri = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/reports:v2\"",
        );
        std::fs::write(dir.path().join("orders.json"), r#"{"MemorySize": 256}"#).unwrap();
        let functions = load(&path, true).unwrap();
        assert_eq!(
            functions[0].config.as_ref().and_then(|c| c.memory_size),
            Some(256)
        );
        assert!(matches!(&functions[1].code, Some(Code::Image(image)) if image.repository == "reports"));

        std::fs::write(dir.path().join("orders.json"), r#"{"MemorySzie": 256}"#).unwrap();
        let err = load(&path, true).unwrap_err().to_string();
        assert!(err.contains("functions[0] (orders): --function-config"), "{err}");
        assert!(err.contains("unknown key `MemorySzie`"), "{err}");
        let (_dir, bad) = manifest(
            "[[functions]]\nname = \"reports\"\nalias = \"live\"\nimage-uri = \"docker.io/reports:v2\"",
        );
        let err = load(&bad, true).unwrap_err().to_string();
        assert!(err.contains("is not an Amazon ECR image URI"), "{err}");
    }

    #[test]
    fn an_entrys_own_weight_or_strategy_wins_over_a_default_of_the_other_kind() {
        let (_dir, path) = manifest(
            r#"
            [defaults]
            alias = "live"
            strategy = "linear:50%:1m"

            [[functions]]
            name = "orders"
            source = "fns/orders"
            canary-weight = "25%"

            [[functions]]
            name = "users"
            source = "fns/users"
            "#,
        );
        let functions = load(&path, true).unwrap();
        assert_eq!(
            (
                functions[0].weight.map(Weight::fraction),
                functions[0].steps.is_some()
            ),
            (Some(0.25), false),
            "the entry's weight, not the default strategy"
        );
        assert_eq!((functions[1].weight, functions[1].steps.is_some()), (None, true));

        let (_dir, path) = manifest(
            r#"
            [defaults]
            alias = "live"
            canary-weight = "5%"

            [[functions]]
            name = "orders"
            source = "fns/orders"
            strategy = "linear:50%:1m"
            "#,
        );
        let functions = load(&path, true).unwrap();
        assert_eq!(
            (functions[0].weight, functions[0].steps.as_ref().map(Vec::len)),
            (None, Some(2))
        );
    }

    #[test]
    fn one_function_named_by_name_and_by_arn_appears_twice() {
        let (_dir, path) = manifest(
            r#"
            [defaults]
            alias = "live"

            [[functions]]
            name = "orders"
            source = "fns/orders"

            [[functions]]
            name = "arn:aws:lambda:us-east-1:123456789012:function:orders"
            source = "fns/orders"
            "#,
        );
        let message = load(&path, true).unwrap_err().to_string();
        assert!(message.contains("functions[1]"), "{message}");
        assert!(message.contains("appears twice"), "{message}");
    }

    #[test]
    fn each_entry_may_keep_its_own_function_url() {
        let (dir, path) = manifest(
            r#"
            [defaults]
            alias = "live"

            [[functions]]
            name = "orders"
            source = "fns/orders"
            function-url = "orders-url.json"

            [[functions]]
            name = "users"
            source = "fns/users"
            "#,
        );
        std::fs::write(dir.path().join("orders-url.json"), r#"{"AuthType": "AWS_IAM"}"#).unwrap();
        let functions = load(&path, true).unwrap();
        assert_eq!(
            functions[0].function_url.as_ref().map(|u| u.auth_type.as_str()),
            Some("AWS_IAM")
        );
        assert_eq!(functions[1].function_url, None);
        std::fs::write(dir.path().join("orders-url.json"), r#"{"AuthType": "OPEN"}"#).unwrap();
        let message = load(&path, true).unwrap_err().to_string();
        assert!(message.contains("functions[0] (orders)"), "{message}");
        assert!(
            message.contains("AuthType 'OPEN': expected NONE or AWS_IAM"),
            "{message}"
        );
    }
}
