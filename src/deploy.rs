//! `deploy`: observe the alias, decide with [`plan::deploy`], apply the steps,
//! report. A conflicting concurrent write makes it observe and plan once more.

use crate::alias::{self, Route, routing_text};
use crate::aws::{self, Lambda};
use crate::cli::{DeployArgs, OutputFormat};
use crate::error::{Error, Result};
use crate::package::{self, Package};
use crate::plan::{self, AliasStep, CodeStep, Observed, Plan, Version};
use crate::report::{self, AliasReport, Log};
use crate::values::Weight;

/// Longest version description Lambda accepts.
const DESCRIPTION_LIMIT: usize = 256;

/// What one deploy asks for, after parsing.
#[derive(Debug, Clone)]
pub struct DeployRequest {
    pub function: String,
    pub alias: String,
    pub weight: Option<Weight>,
    pub description: String,
    pub dry_run: bool,
}

/// The `deploy` command: package, connect, deploy, report.
pub async fn run(args: DeployArgs, github: bool) -> Result<()> {
    let log = Log {
        verbose: args.common.verbose,
        dry_run: args.dry_run.dry_run,
        github,
    };
    let description = match args.description {
        Some(text) if text.chars().count() > DESCRIPTION_LIMIT => {
            return Err(Error::usage(format!(
                "--description is {} characters long: Lambda accepts at most {DESCRIPTION_LIMIT}",
                text.chars().count()
            )));
        }
        Some(text) => text,
        None => default_description(|name| std::env::var(name).ok().filter(|v| !v.is_empty())),
    };
    let package = load_code(&args.code, &args.excludes.globs, &log)?;
    let request = DeployRequest {
        function: args.target.function_name,
        alias: args.target.alias,
        weight: args.canary_weight,
        description,
        dry_run: args.dry_run.dry_run,
    };
    let lambda = aws::connect(args.target.region.as_deref(), log).await?;
    let report = deploy(&lambda, &request, &package, log).await?;
    report::emit(&report, args.common.output == OutputFormat::Json)
}

/// Build or read the zip, before any request is sent.
fn load_code(code: &crate::cli::CodeArgs, excludes: &[String], log: &Log) -> Result<Package> {
    let package = match (&code.source, &code.zip_file) {
        (Some(source), _) => package::build(source, excludes)?,
        (None, Some(zip)) => {
            if !excludes.is_empty() {
                return Err(Error::usage(
                    "--exclude applies to --source only: a --zip-file is deployed byte for byte",
                ));
            }
            package::load_zip(zip)?
        }
        (None, None) => return Err(Error::usage("give --source DIR or --zip-file FILE")),
    };
    log.step(&format!(
        "package: {} files, {} zipped, CodeSha256 {}",
        package.files,
        package::human_bytes(package.zip.len() as u64),
        package.code_sha256
    ));
    if package.exceeds_direct_upload() {
        log.warn(&format!(
            "the zip is {}, over Lambda's {} direct-upload limit: the upload will be refused unless the code is already in the function",
            package::human_bytes(package.zip.len() as u64),
            package::human_bytes(package::DIRECT_UPLOAD_LIMIT)
        ));
    }
    Ok(package)
}

/// "commit <sha> run <url>" from GitHub's variables, or a plain marker.
pub fn default_description(var: impl Fn(&str) -> Option<String>) -> String {
    let commit = var("GITHUB_SHA").map(|sha| format!("commit {sha}"));
    let run = match (
        var("GITHUB_SERVER_URL"),
        var("GITHUB_REPOSITORY"),
        var("GITHUB_RUN_ID"),
    ) {
        (Some(server), Some(repo), Some(id)) => Some(format!("run {server}/{repo}/actions/runs/{id}")),
        _ => None,
    };
    let parts: Vec<String> = commit.into_iter().chain(run).collect();
    let text = if parts.is_empty() {
        "deployed by lambda-rollout".to_string()
    } else {
        parts.join(" ")
    };
    text.chars().take(DESCRIPTION_LIMIT).collect()
}

/// Observe, plan and apply one deploy; with `dry_run`, observe and plan only.
pub async fn deploy(
    lambda: &Lambda,
    request: &DeployRequest,
    package: &Package,
    log: Log,
) -> Result<AliasReport> {
    let wanted = plan::Request {
        code_sha256: package.code_sha256.clone(),
        weight: request.weight,
    };
    let mut replanned = false;
    loop {
        log.step(&format!("observing {}:{}", request.function, request.alias));
        let observed = lambda.observe(&request.function, &request.alias).await?;
        let plan = plan::deploy(&observed, &wanted);
        for note in &plan.notes {
            log.warn(note);
        }
        if request.dry_run {
            narrate_plan(&plan, request, &log);
            return Ok(report(request, package, &observed, &plan, None));
        }
        match apply(lambda, request, package, &observed, &plan, &log).await {
            Ok(published) => return Ok(report(request, package, &observed, &plan, published.as_deref())),
            Err(Error::Conflict(message)) if !replanned => {
                log.warn(&format!("{message}; observing again and planning once more"));
                replanned = true;
            }
            Err(Error::Conflict(message)) => {
                return Err(Error::Conflict(format!(
                    "alias {}:{} changed concurrently while deploying ({message}): another run is deploying to it; re-run once it has finished",
                    request.function, request.alias
                )));
            }
            Err(other) => return Err(other),
        }
    }
}

/// Carry out the plan. Returns the version this run published, if any.
async fn apply(
    lambda: &Lambda,
    request: &DeployRequest,
    package: &Package,
    observed: &Observed,
    plan: &Plan,
    log: &Log,
) -> Result<Option<String>> {
    let function = request.function.as_str();
    if plan.wait_for_update {
        lambda.wait_for_update(function).await?;
    }
    let latest_revision = observed.latest.revision_id.as_deref();
    let published = match plan.code {
        CodeStep::None => None,
        CodeStep::PublishLatest => {
            log.step("publishing the code already in $LATEST (no upload needed)");
            Some(
                lambda
                    .publish(
                        function,
                        &package.code_sha256,
                        &request.description,
                        latest_revision,
                    )
                    .await?,
            )
        }
        CodeStep::UploadAndPublish => {
            log.step(&format!(
                "uploading {} to {function}",
                package::human_bytes(package.zip.len() as u64)
            ));
            let revision = lambda
                .upload(function, package.zip.clone(), latest_revision)
                .await?;
            Some(
                lambda
                    .publish(
                        function,
                        &package.code_sha256,
                        &request.description,
                        revision.as_deref(),
                    )
                    .await?,
            )
        }
    };
    let resolve = |v: &Version| v.resolve(published.as_deref()).unwrap_or_default();
    let primary = resolve(&plan.routing.primary);
    let canary = plan.routing.canary.as_ref().map(|(v, w)| (resolve(v), *w));
    let canary_ref = canary.as_ref().map(|(v, w)| (v.as_str(), *w));
    let route = Route {
        primary: &primary,
        canary: canary_ref,
    };
    match (&plan.alias, &observed.alias) {
        (AliasStep::Create, _) => {
            lambda.create_alias(function, &request.alias, &primary).await?;
            log.step(&format!(
                "alias {} created: {}",
                request.alias,
                routing_text(route)
            ));
        }
        (AliasStep::Update { .. }, Some(before)) => {
            let record = alias::promotion_record(before, &primary);
            alias::update(lambda, log, function, before, route, record.as_ref()).await?;
        }
        _ => log.step(&format!(
            "alias {} unchanged: {}",
            request.alias,
            routing_text(route)
        )),
    }
    Ok(published)
}

fn narrate_plan(plan: &Plan, request: &DeployRequest, log: &Log) {
    match plan.code {
        CodeStep::None => log.step("would upload nothing and publish nothing"),
        CodeStep::PublishLatest => log.step("would publish the code already in $LATEST (no upload)"),
        CodeStep::UploadAndPublish => log.step(&format!(
            "would upload the zip to {} and publish it",
            request.function
        )),
    }
    let name = |v: &Version| match v {
        Version::Existing(n) => n.clone(),
        Version::New => "new".to_string(),
    };
    let primary = name(&plan.routing.primary);
    let canary = plan.routing.canary.as_ref().map(|(v, w)| (name(v), *w));
    let target = routing_text(Route {
        primary: &primary,
        canary: canary.as_ref().map(|(v, w)| (v.as_str(), *w)),
    });
    match plan.alias {
        AliasStep::None => log.step(&format!(
            "would leave alias {} as it is ({target})",
            request.alias
        )),
        AliasStep::Create => log.step(&format!("would create alias {}: {target}", request.alias)),
        AliasStep::Update { .. } => log.step(&format!("would point alias {} at {target}", request.alias)),
    }
}

fn report(
    request: &DeployRequest,
    package: &Package,
    observed: &Observed,
    plan: &Plan,
    published: Option<&str>,
) -> AliasReport {
    let resolve = |v: &Version| v.resolve(published).unwrap_or_default();
    let primary = resolve(&plan.routing.primary);
    let (version, previous_version, canary_weight) = match &plan.routing.canary {
        Some((canary, weight)) => (resolve(canary), primary, *weight),
        None => {
            let replaced = plan.previous_primary.clone().filter(|p| *p != primary);
            (primary, replaced.unwrap_or_default(), 1.0)
        }
    };
    AliasReport {
        alias_arn: observed.alias.as_ref().map_or_else(
            || format!("{}:{}", observed.function_arn, request.alias),
            |a| a.arn.clone(),
        ),
        function_arn: observed.function_arn.clone(),
        version,
        previous_version,
        code_sha256: package.code_sha256.clone(),
        skipped: plan.outcome == plan::Outcome::Skipped,
        canary_weight,
        result: plan.outcome,
        dry_run: request.dry_run,
        target: format!("{}:{}", request.function, request.alias),
        note: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_description_names_the_commit_and_run() {
        let github = |name: &str| {
            Some(
                match name {
                    "GITHUB_SHA" => "0123abcd",
                    "GITHUB_SERVER_URL" => "https://github.com",
                    "GITHUB_REPOSITORY" => "acme/api",
                    "GITHUB_RUN_ID" => "42",
                    _ => return None,
                }
                .to_string(),
            )
        };
        assert_eq!(
            default_description(github),
            "commit 0123abcd run https://github.com/acme/api/actions/runs/42"
        );
        assert_eq!(default_description(|_| None), "deployed by lambda-rollout");
    }
}
