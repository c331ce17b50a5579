//! What the SCF commands share: the connection, the alias in words, and
//! the guarded alias write (a fresh read just before it, since SCF's alias
//! writes carry no revision).

use crate::cli::scf::ScfRun;
use crate::error::{Error, Result};
use crate::report::About;
use crate::scf::client::Client;
use crate::scf::{AliasNow, ExtraRoute, Scf};

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

/// An alias in words: `version 3`, `version 3, version 4 at 10%`,
/// `version 3, version 4 for header x-canary = tester`.
pub fn alias_text(alias: &AliasNow) -> String {
    let extra = match &alias.extra {
        None => String::new(),
        Some(extra) => match &extra.route {
            ExtraRoute::Weight(weight) => format!(
                ", version {} at {}",
                extra.version,
                crate::core::values::percent(*weight)
            ),
            ExtraRoute::Rule(rule) => format!(", version {} for {rule}", extra.version),
            ExtraRoute::Other(rule) => format!(", version {} for rule {rule}", extra.version),
        },
    };
    format!("version {}{extra}", alias.primary)
}

/// The rule of an alias routed by rule, in words (`""` otherwise).
pub fn rule_text(alias: &AliasNow) -> String {
    match alias.extra.as_ref().map(|e| &e.route) {
        Some(ExtraRoute::Rule(rule)) => rule.to_string(),
        Some(ExtraRoute::Other(rule)) => format!("rule {rule}"),
        _ => String::new(),
    }
}

/// Write `to` on the alias, unless it changed since it read as `before`
/// (`None`: it did not exist). SCF has no revision to send with the write,
/// so the alias is read again just before it.
pub async fn guarded_write(scf: &Scf, run: &ScfRun, before: Option<&AliasNow>, to: &AliasNow) -> Result<()> {
    let (function, name) = (run.function.as_str(), run.alias.as_str());
    let now = scf.alias(function, name).await?;
    if now.as_ref() != before {
        let said = |a: Option<&AliasNow>| a.map_or("no alias".to_string(), alias_text);
        return Err(Error::Interfered(format!(
            "alias {function}:{name} changed since this run read it ({} → {}); nothing was written, so the other change stays: read `lambda-rollout status --platform scf` and run again",
            said(before),
            said(now.as_ref())
        )));
    }
    scf.write_alias(function, name, to, before.is_none()).await?;
    run.log.step(&format!(
        "alias {name}: {} → {}",
        before.map_or("(none)".to_string(), alias_text),
        alias_text(to)
    ));
    Ok(())
}
