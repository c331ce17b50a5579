//! SCF behind the platform seam. SCF's alias writes carry no revision, so
//! the guarded write reads the alias again just before it and compares.

use std::time::SystemTime;

use crate::core::entry::{EntryPoints, Via};
use crate::core::observed::{AliasNow, Moved, VersionDetails};
use crate::core::prune::{AliasRoutes, Published};
use crate::error::{Error, Result};
use crate::platform::{AliasGuard, Capabilities, Look, Platform, Service};
use crate::scf::Scf;
use crate::scf::api::FunctionState;
use crate::scf::observe::{self, function_id, recorded_hash};

const ZIP_ONLY: &str = "SCF functions take a zip from --source or --zip-file here";

pub const SCF: Capabilities = Capabilities {
    name: "SCF",
    flag: "scf",
    images: Service::Unsupported(ZIP_ONLY),
    staging_uploads: Service::Unsupported(ZIP_ONLY),
    function_urls: Service::Unsupported("function URLs are Lambda's"),
    metrics: Service::Supported,
    alarms: Service::Unsupported(
        "SCF's alarm policies are not read; gate an SCF rollout on its metrics (--max-error-rate, --confidence), --smoke-payload or a hook",
    ),
    percentiles: Service::Unsupported(
        "SCF publishes each version's mean duration, not percentiles: compare avg (such as avg=15%)",
    ),
    custom_metrics: Service::Unsupported(
        "--metrics-file names CloudWatch metrics, which SCF runs do not read",
    ),
    handoff: Service::Unsupported("CodeDeploy shifts Lambda aliases only; SCF rollouts run inline"),
    alias_guard: AliasGuard::ReRead,
    header_routing: true,
};

impl Platform for Scf {
    fn capabilities(&self) -> &'static Capabilities {
        &SCF
    }

    async fn function_id(&self, function: &str) -> Result<String> {
        if self.function(function, None).await?.is_none() {
            return Err(missing_function(self, function));
        }
        Ok(function_id(self, function))
    }

    async fn look(&self, function: &str, alias: &str) -> Result<Look> {
        let look = observe::look(self, function, alias, false).await?;
        if look.observed.function_missing {
            return Err(missing_function(self, function));
        }
        Ok(Look {
            observed: look.observed,
            alias: look.alias,
        })
    }

    async fn version(&self, function: &str, version: &str) -> Result<VersionDetails> {
        Ok(details(&Scf::version(self, function, version).await?))
    }

    async fn named_version(&self, function: &str, version: &str) -> Result<VersionDetails> {
        Ok(details(&Scf::named_version(self, function, version).await?))
    }

    async fn named_alias(&self, function: &str, alias: &str) -> Result<AliasNow> {
        self.alias(function, alias).await?.ok_or_else(|| {
            Error::usage(format!(
                "--from-alias {alias}: alias {function}:{alias} does not exist (namespace {})",
                self.namespace
            ))
        })
    }

    fn missing_alias(&self, function: &str, alias: &str) -> Error {
        Error::usage(format!(
            "alias {function}:{alias} does not exist (namespace {}): deploy creates it, or promote --version N",
            self.namespace
        ))
    }

    async fn create_alias(&self, function: &str, alias: &str, version: &str) -> Result<String> {
        let to = AliasNow {
            primary: version.to_string(),
            canary: None,
            revision_id: None,
            description: String::new(),
        };
        self.write_alias(function, alias, &to, true).await?;
        Ok(String::new())
    }

    async fn entry_points(&self, function: &str, _function_id: &str, _alias: &str) -> Result<EntryPoints> {
        Ok(EntryPoints {
            found: self.triggers(function).await?,
            unreadable: Vec::new(),
        })
    }

    async fn alias_now(&self, function: &str, alias: &str) -> Result<Option<AliasNow>> {
        self.alias(function, alias).await
    }

    async fn update_alias(&self, function: &str, alias: &str, to: &AliasNow, found: &AliasNow) -> Result<()> {
        self.guarded_write(function, alias, Some(found), to).await
    }

    async fn list_aliases(&self, function: &str) -> Result<Vec<AliasRoutes>> {
        Ok(self
            .aliases(function)
            .await?
            .into_iter()
            .map(|(name, alias)| AliasRoutes {
                name,
                primary: alias.primary,
                canary: alias.canary.map(|(version, _)| version),
                description: alias.description,
            })
            .collect())
    }

    async fn list_versions(&self, function: &str) -> Result<Vec<Published>> {
        Ok(self
            .versions(function)
            .await?
            .into_iter()
            .map(|v| Published {
                published: added_at(&v.add_time),
                version: v.version,
            })
            .collect())
    }

    async fn holds(&self, function: &str, _function_id: &str) -> Result<Vec<(String, String)>> {
        Ok(self
            .triggers(function)
            .await?
            .into_iter()
            .filter_map(|trigger| match &trigger.via {
                Via::Version(version) => Some((
                    version.clone(),
                    format!("{} {} is bound to it", trigger.kind, trigger.what),
                )),
                _ => None,
            })
            .collect())
    }

    async fn delete_version(&self, function: &str, version: &str) -> Result<bool> {
        Scf::delete_version(self, function, version).await
    }

    fn moved(&self, function: &str, alias: &str) -> Option<Moved> {
        let moved = self.moved.lock().unwrap_or_else(|e| e.into_inner());
        moved.get(&(function.to_string(), alias.to_string())).cloned()
    }
}

impl Scf {
    /// Write `to` on the alias, unless it changed since it read as `before`
    /// (`None`: it did not exist, and is created). SCF has no revision to
    /// send with the write, so the alias is read again just before it.
    pub async fn guarded_write(
        &self,
        function: &str,
        alias: &str,
        before: Option<&AliasNow>,
        to: &AliasNow,
    ) -> Result<()> {
        let now = self.alias(function, alias).await?;
        let unchanged = match (now.as_ref(), before) {
            (None, None) => true,
            (Some(now), Some(before)) => now.same_as(before),
            _ => false,
        };
        if !unchanged {
            let said = |a: Option<&AliasNow>| a.map_or("no alias".to_string(), AliasNow::text);
            return Err(Error::Interfered(format!(
                "alias {function}:{alias} changed since this run read it ({} → {}); nothing was written, so the other change stays: read `lambda-rollout status --platform scf` and run again",
                said(before),
                said(now.as_ref())
            )));
        }
        if let Some(found) = before {
            self.moved
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry((function.to_string(), alias.to_string()))
                .and_modify(|m| m.sent = to.clone())
                .or_insert_with(|| Moved {
                    found: found.clone(),
                    sent: to.clone(),
                });
        }
        self.write_alias(function, alias, to, before.is_none()).await
    }
}

fn missing_function(scf: &Scf, function: &str) -> Error {
    Error::usage(format!(
        "SCF function {function} does not exist in namespace {} of {}",
        scf.namespace,
        scf.region()
    ))
}

/// What `status` shows of a version: SCF has no architecture field to read
/// here, and the code hash is the one recorded in the description.
fn details(state: &FunctionState) -> VersionDetails {
    VersionDetails {
        version: state.version.clone(),
        code_sha256: recorded_hash(&state.description),
        description: state.description.clone(),
        last_modified: china_time(&state.mod_time),
        runtime: state.runtime.clone(),
        memory_size: state.memory_size,
        timeout: state.timeout,
        architecture: String::new(),
        environment_keys: state.environment.0.keys().cloned().collect(),
        image_uri: String::new(),
    }
}

/// SCF's `2026-11-24 20:07:01` (China Standard Time, no zone written) as
/// `2026-11-24T20:07:01+08:00`; anything else as it is.
fn china_time(text: &str) -> String {
    let shaped = text.len() == 19 && text.as_bytes()[10] == b' ';
    if shaped {
        format!("{}+08:00", text.replacen(' ', "T", 1))
    } else {
        text.to_string()
    }
}

/// SCF's `AddTime` (`2026-11-24 20:07:01`, China Standard Time, UTC+8);
/// `None` when it does not read (then `--older-than` spares the version).
fn added_at(text: &str) -> Option<SystemTime> {
    let utc8 = humantime::parse_rfc3339(&format!("{}Z", text.get(..19)?.replace(' ', "T"))).ok()?;
    utc8.checked_sub(std::time::Duration::from_secs(8 * 3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scf_times_get_their_zone() {
        assert_eq!(china_time("2026-11-24 20:07:01"), "2026-11-24T20:07:01+08:00");
        assert_eq!(china_time(""), "");
    }

    #[test]
    fn add_time_is_read_as_china_standard_time() {
        let at = added_at("2026-11-24 20:07:01").unwrap();
        assert_eq!(humantime::format_rfc3339(at).to_string(), "2026-11-24T12:07:01Z");
        assert_eq!(added_at("yesterday"), None);
    }
}
