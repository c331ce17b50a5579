//! The re-plan after a concurrent change: observe and plan once more, but
//! only while the alias still serves what the first look saw.

use crate::core::observed::{AliasState, Serving};
use crate::error::{Error, Result};
use crate::log::Log;

/// What a run's first look saw of the alias. A re-plan that finds the alias
/// serving anything else stops: someone else acted, and planning again from
/// what they left would undo it.
#[derive(Debug, Default)]
pub struct FirstLook {
    seen: Option<Option<Serving>>,
}

impl FirstLook {
    /// Record the first look at `alias` (`None`: it does not exist); on a
    /// later look, refuse any change to what it serves.
    pub fn check(&mut self, (function, alias): (&str, &str), now: Option<&AliasState>) -> Result<()> {
        let now = now.map(Serving::of);
        let Some(first) = &self.seen else {
            self.seen = Some(now);
            return Ok(());
        };
        let change = match (first, &now) {
            (Some(first), Some(now)) => first.changed_to(now),
            (None, Some(now)) => Some(format!("it was created, serving {}", now.route().text())),
            (Some(_), None) => Some("it was deleted".to_string()),
            (None, None) => None,
        };
        match change {
            None => Ok(()),
            Some(change) => Err(Error::Interfered(format!(
                "alias {function}:{alias} changed concurrently: someone else acted while this run was planning ({change}); stopping without writing, so as not to undo it"
            ))),
        }
    }
}

/// Observe, plan and apply with `attempt`. A write that meets a concurrent
/// change (stale `RevisionId`) makes it observe and plan once more, but only
/// while the alias still serves what the first look saw ([`FirstLook`]); a
/// second conflict stops with an error that names the alias and what to do.
pub async fn replan_once<T>(
    log: &Log,
    (function, alias): (&str, &str),
    other_run: &str,
    mut attempt: impl AsyncFnMut(&mut FirstLook) -> Result<T>,
) -> Result<T> {
    let mut look = FirstLook::default();
    match attempt(&mut look).await {
        Err(Error::Conflict(message)) => {
            log.warn(&format!("{message}; observing again and planning once more"));
            attempt(&mut look).await.map_err(|err| match err {
                Error::Conflict(message) => Error::Conflict(format!(
                    "alias {function}:{alias} changed concurrently ({message}): another run is {other_run}; re-run once it has finished"
                )),
                other => other,
            })
        }
        other => other,
    }
}
