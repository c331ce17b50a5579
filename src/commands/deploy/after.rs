//! What a deploy does once the alias has moved: the function's tags, the
//! URL on the alias, and `--keep-versions`.

use super::*;

/// `Tags` in the release file: once the deploy did not roll back or stop,
/// the function's tags become exactly the file's (`aws:` tags aside). Tags
/// belong to the function, not to a version: they are not canaried, and a
/// later rollback leaves them as they are.
pub(super) async fn tags_after(
    clients: &Clients,
    request: &DeployRequest,
    mut report: AliasReport,
    log: &Log,
) -> Result<AliasReport> {
    let Some(wanted) = request.config.as_ref().and_then(|c| c.tags.as_ref()) else {
        return Ok(report);
    };
    if matches!(report.result, Outcome::RolledBack | Outcome::Stopped) {
        return Ok(report);
    }
    let function = request.function.as_str();
    // A dry run that would create the function has no tags to read.
    let current = if report.function_arn.is_empty() {
        std::collections::BTreeMap::new()
    } else {
        clients.lambda.tags(&report.function_arn).await?
    };
    let changes = crate::core::tags::changes(&current, wanted);
    if changes.is_empty() {
        log.step(&format!("the tags of {function} are as the file says"));
    } else if request.dry_run {
        log.step(&format!(
            "would change the tags of {function} (the function's, not the version's: neither canaried nor rolled back): {}",
            changes.lines.join("; ")
        ));
    } else {
        log.step(&format!(
            "tags of {function} (the function's, not the version's: neither canaried nor rolled back): {}",
            changes.lines.join("; ")
        ));
        clients.lambda.retag(&report.function_arn, &changes).await.map_err(|err| {
            Error::failed(format!(
                "the deploy succeeded ({}, version {}), but the tags were not written: {err}; a re-run writes them",
                report.result.as_str(),
                report.version
            ))
        })?;
    }
    report.tags = changes.lines;
    Ok(report)
}

/// `--function-url FILE`: after a deploy that did not roll back, the URL on
/// the alias is created when missing, updated when it differs from the
/// file, left alone when equal; a public one (`AuthType` `NONE`) gets the
/// permissions Lambda requires on the alias, each added once.
pub(super) async fn url_after(
    clients: &Clients,
    request: &DeployRequest,
    mut report: AliasReport,
    log: &Log,
) -> Result<AliasReport> {
    let Some(wanted) = &request.function_url else {
        return Ok(report);
    };
    if matches!(report.result, Outcome::RolledBack | Outcome::Stopped) {
        return Ok(report);
    }
    let (lambda, function, alias) = (&clients.lambda, request.function.as_str(), request.alias.as_str());
    let current = lambda.alias_url(function, alias).await?;
    let was_public = current.as_ref().is_some_and(|(_, now)| now.is_public());
    let changed = current.as_ref().map(|(_, now)| wanted.differences(now));
    if request.dry_run {
        log.step(&match &changed {
            None => format!(
                "would create a function URL on alias {alias} (AuthType {})",
                wanted.auth_type
            ),
            Some(keys) if keys.is_empty() => format!("the function URL of alias {alias} is as the file says"),
            Some(keys) => format!(
                "would update the function URL of alias {alias}: {}",
                keys.join(", ")
            ),
        });
        report.function_url = current.map(|(url, _)| url).unwrap_or_default();
        return Ok(report);
    }
    let url = match (current, changed) {
        (Some((url, _)), Some(keys)) if keys.is_empty() => {
            log.step(&format!(
                "function URL of alias {alias} is as the file says: {url}"
            ));
            url
        }
        (Some(_), Some(keys)) => {
            log.step(&format!(
                "updating the function URL of alias {alias}: {}",
                keys.join(", ")
            ));
            lambda.put_url(function, alias, wanted, true).await?
        }
        _ => {
            let url = lambda.put_url(function, alias, wanted, false).await?;
            log.step(&format!("created a function URL on alias {alias}: {url}"));
            url
        }
    };
    if wanted.is_public() {
        let added = lambda.ensure_public_url_permissions(function, alias).await?;
        if !added.is_empty() {
            log.step(&format!(
                "added the public permissions a URL with AuthType NONE needs on alias {alias}: {}",
                added.join(", ")
            ));
        }
    } else if was_public {
        let removed = lambda.remove_public_url_permissions(function, alias).await?;
        if !removed.is_empty() {
            log.step(&format!(
                "the URL of alias {alias} is no longer public: removed the public permissions this tool had added: {}",
                removed.join(", ")
            ));
        }
    }
    report.function_url = url;
    Ok(report)
}

/// `--keep-versions N`: after a successful deploy (never after a rollback or
/// a stop), delete old versions but the N newest besides the protected ones.
/// On every platform; `keep`: the function, N, `--dry-run`.
pub async fn prune_after<P: Platform>(
    platform: &P,
    (function, keep_versions, dry_run): (&str, Option<usize>, bool),
    mut report: AliasReport,
    log: &Log,
) -> Result<AliasReport> {
    let Some(newest) = keep_versions else {
        return Ok(report);
    };
    if matches!(report.result, Outcome::RolledBack | Outcome::Stopped) {
        log.step("not pruning: the deploy did not succeed");
        return Ok(report);
    }
    let keep = Keep {
        newest: Some(newest),
        younger_than: None,
    };
    // The deploy stands whatever the prune does: its failure is reported
    // with the deploy, not instead of it.
    match prune_function(platform, log, function, keep, dry_run).await {
        Ok(pruned) => report.pruned = pruned.pruned,
        Err(err) => report.prune_error = err.to_string(),
    }
    Ok(report)
}
