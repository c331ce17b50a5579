//! What SCF's release path shares: what a report is about, and the
//! narrated guarded alias write.

use crate::commands::scf::target::ScfRun;
use crate::core::observed::AliasNow;
use crate::error::Result;
use crate::report::About;
use crate::scf::Scf;

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
