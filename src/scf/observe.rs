//! What an SCF function and alias look like, in the core's plain types
//! (`core::observed`), so that the decision table, promote and rollback
//! decide for SCF exactly as for Lambda.
//!
//! SCF reports no code hash. Each version this tool publishes carries the
//! SHA-256 of its zip at the end of its description (`sha256:HEX`); a
//! version without one (published by hand or by another tool) has no known
//! code, so a release is never taken as already served by it.

use futures_util::future::try_join;

use crate::core::config::{Environment, FunctionConfig};
use crate::core::observed::{AliasNow, AliasState, Canary, Latest, Observed, VersionState};
use crate::error::Result;
use crate::scf::api::{FunctionState, Scf};

const HASH_MARK: &str = "sha256:";

/// The description of a version this tool publishes: the user's text, then
/// the zip's SHA-256.
pub fn version_description(user: Option<&str>, code_sha256: &str) -> String {
    match user.map(str::trim).filter(|d| !d.is_empty()) {
        Some(text) => format!("{text} {HASH_MARK}{code_sha256}"),
        None => format!("{HASH_MARK}{code_sha256}"),
    }
}

/// The SHA-256 a version's description records, or `""`.
pub fn recorded_hash(description: &str) -> String {
    description
        .rsplit(' ')
        .next()
        .and_then(|word| word.strip_prefix(HASH_MARK))
        .filter(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_default()
        .to_string()
}

/// A version as the core knows it: its number, recorded code hash and
/// configuration.
pub fn version_state(state: &FunctionState) -> VersionState {
    VersionState {
        version: state.version.clone(),
        code_sha256: recorded_hash(&state.description),
        config: config_of(state),
    }
}

/// The configuration keys SCF reports and a release file may name.
pub fn config_of(state: &FunctionState) -> FunctionConfig {
    let text = |value: &str| Some(value.to_string()).filter(|v| !v.is_empty());
    FunctionConfig {
        runtime: text(&state.runtime),
        handler: text(&state.handler),
        memory_size: state.memory_size,
        timeout: state.timeout,
        environment: Some(Environment {
            variables: state.environment.clone(),
            ..Environment::default()
        }),
        ..FunctionConfig::default()
    }
}

/// What one look at a function and alias saw, both ways: the core's view
/// and SCF's own (the alias as SCF holds it, rule included).
pub struct Look {
    pub observed: Observed,
    pub alias: Option<AliasNow>,
    /// The versions the alias routes to, as read: its primary, then its
    /// canary when it has one (empty without an alias).
    pub routed: Vec<FunctionState>,
}

/// The function's identifier in reports: `qcs::scf:REGION::namespace/NS/function/NAME`.
pub fn function_id(scf: &Scf, function: &str) -> String {
    format!(
        "qcs::scf:{}::namespace/{}/function/{function}",
        scf.region(),
        scf.namespace
    )
}

/// Read `$LATEST` (`latest`: into the core's view too) and the alias, then
/// the versions the alias routes to.
pub async fn look(scf: &Scf, function: &str, alias: &str, latest: bool) -> Result<Look> {
    let (state, now) = try_join(scf.function(function, None), scf.alias(function, alias)).await?;
    let function_arn = function_id(scf, function);
    let Some(state) = state else {
        return Ok(Look {
            observed: Observed {
                function_arn,
                latest: None,
                alias: None,
                function_missing: true,
            },
            alias: None,
            routed: Vec::new(),
        });
    };
    let (alias_state, routed) = match &now {
        Some(now) => {
            let (state, routed) = alias_state(scf, function, alias, &function_arn, now).await?;
            (Some(state), routed)
        }
        None => (None, Vec::new()),
    };
    Ok(Look {
        observed: Observed {
            latest: latest.then(|| Latest {
                // Unknown: SCF reports no hash of `$LATEST`, so a release is
                // always uploaded before it is published.
                code_sha256: String::new(),
                config: config_of(&state),
                image: false,
                revision_id: None,
                update_in_progress: state.status != "Active",
            }),
            alias: alias_state,
            function_missing: false,
            function_arn,
        },
        alias: now,
        routed,
    })
}

async fn alias_state(
    scf: &Scf,
    function: &str,
    alias: &str,
    function_arn: &str,
    now: &AliasNow,
) -> Result<(AliasState, Vec<FunctionState>)> {
    let primary = scf.version(function, &now.primary);
    let canary = async {
        match &now.canary {
            Some((version, _)) => scf.version(function, version).await.map(Some),
            None => Ok(None),
        }
    };
    let (primary, canary) = try_join(primary, canary).await?;
    let state = AliasState {
        arn: format!("{function_arn}:{alias}"),
        revision_id: None,
        description: now.description.clone(),
        primary: version_state(&primary),
        canary: canary
            .as_ref()
            .zip(now.canary.as_ref())
            .map(|(state, (_, split))| Canary {
                version: version_state(state),
                // A canary routed by rule takes no share of the other requests.
                weight: split.weight(),
            }),
    };
    Ok((state, [Some(primary), canary].into_iter().flatten().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_hash_rides_at_the_end_of_the_description() {
        let hex = "ab".repeat(32);
        let described = version_description(Some("commit 1a2b"), &hex);
        assert_eq!(described, format!("commit 1a2b sha256:{hex}"));
        assert_eq!(recorded_hash(&described), hex);
        assert_eq!(recorded_hash(&version_description(None, &hex)), hex);
        assert_eq!(recorded_hash("published by hand"), "");
        assert_eq!(recorded_hash("sha256:abc"), "");
    }
}
