//! A release's code step on SCF: configure `$LATEST` when the release's
//! configuration differs, upload the zip, publish it with its hash in the
//! version's description, and check by reading `$LATEST` again that nobody
//! changed it in between — SCF has no revision to guard the publish with.

use sha2::{Digest, Sha256};

use crate::core::config::{FunctionConfig, differences_text};
use crate::core::plan::{CodeStep, Plan};
use crate::error::{Error, Result};
use crate::package::{self, Package};
use crate::scf::Scf;
use crate::scf::observe::version_description;

/// Largest zip SCF takes in the request itself (`ZipFile`).
pub const ZIP_FILE_LIMIT: usize = 20 * 1024 * 1024;

/// A zip SCF takes: at most [`ZIP_FILE_LIMIT`].
pub fn check_zip(package: &Package) -> Result<()> {
    if package.zip.len() > ZIP_FILE_LIMIT {
        return Err(Error::usage(format!(
            "the package is {}: SCF takes at most {} in the request; make it smaller (--exclude what the function does not need)",
            package::human_bytes(package.zip.len() as u64),
            package::human_bytes(ZIP_FILE_LIMIT as u64)
        )));
    }
    Ok(())
}

/// The zip's SHA-256 in hex, as recorded in each version's description.
pub fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What a release's code step on SCF writes.
pub struct Release<'a> {
    pub function: &'a str,
    pub plan: &'a Plan,
    /// The release file's keys, when it has one.
    pub config: Option<&'a FunctionConfig>,
    pub package: &'a Package,
    /// The user's description of the version (`--description`).
    pub description: &'a str,
}

impl Scf {
    /// Carry out the plan's code step; the version published, if any.
    /// Waits for an update in progress first (SCF takes no write until it
    /// ends); a `$LATEST` changed by someone else between the upload and
    /// the publish is `Error::Interfered`: that version may hold their
    /// code, so no traffic must go to it.
    pub async fn publish_release(&self, release: Release<'_>) -> Result<Option<String>> {
        let Release {
            function,
            plan,
            config,
            package,
            description,
        } = release;
        match plan.code {
            CodeStep::None => return Ok(None),
            CodeStep::Create => {
                return Err(Error::failed(format!(
                    "SCF function {function} does not exist: this tool does not create SCF functions"
                )));
            }
            CodeStep::UploadAndPublish | CodeStep::PublishLatest => {}
        }
        if plan.wait_for_update {
            self.wait_active(function).await?;
        }
        let configure = plan.configure.as_slice();
        if let Some(config) = config.filter(|_| configure.iter().any(|d| d.key != "Handler")) {
            self.update_configuration(function, config, &differences_text(configure))
                .await?;
            self.wait_active(function).await?;
        }
        // SCF reports no hash of `$LATEST`: the zip is always uploaded.
        let handler = config.and_then(|c| c.handler.as_deref());
        self.update_code(function, &package.zip, handler).await?;
        let uploaded = self.wait_active(function).await?;
        let version = self
            .publish(
                function,
                &version_description(Some(description), &package.code_sha256),
            )
            .await?;
        let latest = self.function(function, None).await?;
        // Another upload or configuration change since: `$LATEST` is updating
        // again, or was modified at another time.
        let changed = latest.as_ref().is_none_or(|l| {
            l.mod_time != uploaded.mod_time || matches!(l.status.as_str(), "Updating" | "UpdateFailed")
        });
        if changed {
            return Err(Error::Interfered(format!(
                "the code of {function} $LATEST changed while this run uploaded and published it: version {version} may hold someone else's code, so no traffic was moved to it; run again"
            )));
        }
        Ok(Some(version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_lower_case_hex() {
        assert_eq!(
            hex_sha256(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
