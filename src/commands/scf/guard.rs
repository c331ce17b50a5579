//! What SCF's release path shares: the connection, what a report is
//! about, and the narrated guarded alias write.

use crate::cli::scf::ScfRun;
use crate::core::observed::AliasNow;
use crate::error::Result;
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

/// Write `to` on the alias behind a fresh read ([`Scf::guarded_write`]),
/// and say so.
pub async fn guarded_write(scf: &Scf, run: &ScfRun, before: Option<&AliasNow>, to: &AliasNow) -> Result<()> {
    let name = run.alias.as_str();
    scf.guarded_write(&run.function, name, before, to).await?;
    run.log.step(&format!(
        "alias {name}: {} → {}",
        before.map_or("(none)".to_string(), AliasNow::text),
        to.text()
    ));
    Ok(())
}
