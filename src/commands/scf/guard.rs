//! What the SCF commands share: the connection, the alias in words, and
//! the guarded alias write (a fresh read just before it, since SCF's alias
//! writes carry no revision).

use crate::cli::scf::ScfRun;
use crate::core::observed::AliasNow;
use crate::error::{Error, Result};
use crate::report::About;
use crate::scf::Scf;
use crate::scf::client::Client;

/// The API of the run's region and namespace (credentials checked here,
/// before any request).
pub fn connect(run: &ScfRun) -> Result<Scf> {
    let client = Client::from_env(&run.region, run.log)?;
    Ok(Scf::new(client, &run.namespace, run.log))
}

pub fn about(run: &ScfRun) -> About<'_> {
    About {
        function: &run.function,
        alias: &run.alias,
        dry_run: run.dry_run,
    }
}

/// Write `to` on the alias, unless it changed since it read as `before`
/// (`None`: it did not exist). SCF has no revision to send with the write,
/// so the alias is read again just before it.
pub async fn guarded_write(scf: &Scf, run: &ScfRun, before: Option<&AliasNow>, to: &AliasNow) -> Result<()> {
    let (function, name) = (run.function.as_str(), run.alias.as_str());
    let now = scf.alias(function, name).await?;
    let unchanged = match (now.as_ref(), before) {
        (None, None) => true,
        (Some(now), Some(before)) => now.same_as(before),
        _ => false,
    };
    if !unchanged {
        let said = |a: Option<&AliasNow>| a.map_or("no alias".to_string(), AliasNow::text);
        return Err(Error::Interfered(format!(
            "alias {function}:{name} changed since this run read it ({} → {}); nothing was written, so the other change stays: read `lambda-rollout status --platform scf` and run again",
            said(before),
            said(now.as_ref())
        )));
    }
    scf.write_alias(function, name, to, before.is_none()).await?;
    run.log.step(&format!(
        "alias {name}: {} → {}",
        before.map_or("(none)".to_string(), AliasNow::text),
        to.text()
    ));
    Ok(())
}
