//! The platform seam: the single API steps every command is written over,
//! one trait a provider (`aws`, `scf`) implements, and what each platform
//! can do, as data. Orchestration (observe → plan → apply, prune's
//! re-checks, reports) lives above it and is written once; a provider adds
//! its requests, its error classifier and its words, nothing more.
//!
//! Each method has one contract on every platform:
//! - a read of something that does not exist answers `None` (or `false`),
//!   not an error, where the caller can go on without it;
//! - a guarded write takes the state it was planned from and sends nothing
//!   when the platform says (or a fresh read shows) that it changed since:
//!   `Error::Conflict` (a revision was stale) or `Error::Interfered`
//!   (someone else's change, read back);
//! - every error names the function and what was being done, with the
//!   provider's own text masked against the secrets the run holds.

use crate::core::entry::EntryPoints;
use crate::core::judge::Counts;
use crate::core::judge::custom::CustomMetric;
use crate::core::judge::latency::{Query, Side};
use crate::core::observed::{AliasNow, Moved, Observed, Provisioned, VersionDetails};
use crate::core::prune::{AliasRoutes, Published};
use crate::error::{Error, Result};
use crate::log::Log;

/// How a platform keeps an alias write from landing on someone else's change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AliasGuard {
    /// The write carries the revision it was planned from; the platform
    /// refuses a stale one (Lambda's `RevisionId`).
    Revision,
    /// The platform has no revision: the alias is read again just before
    /// the write and compared with what the plan was made from (SCF).
    ReRead,
}

/// Whether a platform has an optional service; without it, why a flag that
/// needs it is refused (said after the flag, before any request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Supported,
    Unsupported(&'static str),
}

/// What a platform can do, as data: commands and `cli` read it instead of
/// asking which platform they are on.
#[derive(Debug, Clone, PartialEq)]
pub struct Capabilities {
    /// The platform's name in messages (`Lambda`, `SCF`).
    pub name: &'static str,
    /// Its `--platform` value.
    pub flag: &'static str,
    /// Container images (`--image-uri`).
    pub images: Service,
    /// A zip staged in object storage (`--s3-bucket`).
    pub staging_uploads: Service,
    /// A function URL kept on the alias (`--function-url`).
    pub function_urls: Service,
    /// Per-version invocations, errors, throttles and mean duration, which
    /// the threshold gates, the judge and `status --metrics` read.
    pub metrics: Service,
    /// Alarms a rollout or a wave watches.
    pub alarms: Service,
    /// Latency percentiles per version (`p99=…`); without them, only the
    /// mean (`avg`) is compared.
    pub percentiles: Service,
    /// Metrics of the user's own, named in a `--metrics-file`.
    pub custom_metrics: Service,
    /// A hand-off of the traffic shift to a deployment service.
    pub handoff: Service,
    pub alias_guard: AliasGuard,
    /// Aliases route a canary by a header rule as well as by weight.
    pub header_routing: bool,
}

/// One look at a function and its alias: the core's view (what the
/// decisions read) and the alias as the platform holds it (its split, the
/// revision that guards a write). `alias` is `None` when it does not exist.
#[derive(Debug, Clone)]
pub struct Look {
    pub observed: Observed,
    pub alias: Option<AliasNow>,
}

/// One platform's API steps on functions, aliases and versions, in the
/// core's types. Static dispatch: commands are generic over it.
#[allow(async_fn_in_trait)]
pub trait Platform {
    /// What this platform can do.
    fn capabilities(&self) -> &'static Capabilities;

    /// The function's identifier in reports (Lambda's ARN, SCF's
    /// `qcs::scf:…`); an error naming it when it does not exist.
    async fn function_id(&self, function: &str) -> Result<String>;

    /// The function and the alias (not `$LATEST`). A function that does
    /// not exist is refused by name.
    async fn look(&self, function: &str, alias: &str) -> Result<Look>;

    /// One published version's details (status); a missing one is an error.
    async fn version(&self, function: &str, version: &str) -> Result<VersionDetails>;

    /// A version the user named (`--version`, `--to-version`, a recorded
    /// one): missing is bad input (exit 2), named.
    async fn named_version(&self, function: &str, version: &str) -> Result<VersionDetails>;

    /// An alias the user named (`--from-alias`): missing is bad input.
    async fn named_alias(&self, function: &str, alias: &str) -> Result<AliasNow>;

    /// Why an alias a command must act on does not exist, and what creates it.
    fn missing_alias(&self, function: &str, alias: &str) -> Error;

    /// Create `alias` on `version` (all of its traffic); its identifier, or
    /// `""`. An alias that exists already is `Error::Conflict`.
    async fn create_alias(&self, function: &str, alias: &str, version: &str) -> Result<String>;

    /// What invokes the function, and whether through the alias.
    async fn entry_points(&self, function: &str, function_id: &str, alias: &str) -> Result<EntryPoints>;

    /// Provisioned concurrency on the alias, where the platform has it.
    async fn alias_provisioned(&self, _function: &str, _alias: &str) -> Result<Option<Provisioned>> {
        Ok(None)
    }

    /// Wait until the alias's provisioned concurrency is ready again.
    async fn wait_provisioned(&self, _function: &str, _alias: &str) -> Result<()> {
        Ok(())
    }

    /// The alias as it is now; `None` when it does not exist.
    async fn alias_now(&self, function: &str, alias: &str) -> Result<Option<AliasNow>>;

    /// Write `to` on the existing alias, guarded by `found` (what the plan
    /// was made from): nothing is sent once it changed since.
    async fn update_alias(&self, function: &str, alias: &str, to: &AliasNow, found: &AliasNow) -> Result<()>;

    /// Every alias of the function, as `core::prune` reads them.
    async fn list_aliases(&self, function: &str) -> Result<Vec<AliasRoutes>>;

    /// Every published version (`$LATEST` left out), oldest first.
    async fn list_versions(&self, function: &str) -> Result<Vec<Published>>;

    /// What else holds a published version so that it must not be deleted
    /// (provisioned concurrency, an event source mapping, a trigger bound
    /// to it): `(version, why)`.
    async fn holds(&self, function: &str, function_id: &str) -> Result<Vec<(String, String)>>;

    /// Delete one published version: `false` when it was already gone.
    async fn delete_version(&self, function: &str, version: &str) -> Result<bool>;

    /// What this run's guarded writes did to the alias (recorded before each
    /// was sent): the routing found before the first, the last one sent.
    /// `None`: this run has not written it (or the platform keeps no record).
    fn moved(&self, _function: &str, _alias: &str) -> Option<Moved> {
        None
    }
}

/// A platform's connection at one place of a run: its API, the narrator of
/// that place, and the optional services a fleet's waves read there.
#[allow(async_fn_in_trait)]
pub trait Connection {
    type P: Platform;

    fn platform(&self) -> &Self::P;

    fn log(&self) -> &Log;

    /// The alarms among `names` in ALARM, with their reasons. A platform
    /// without metrics has none (`cli` refuses alarms on it beforehand).
    async fn alarms_firing(&self, _names: &[String]) -> Result<Vec<(String, String)>> {
        Ok(Vec::new())
    }

    /// Invocations, errors and throttles of the `canary` and `stable`
    /// versions through `function:alias` since `since`; `None` on a
    /// platform whose metrics are not read (`cli` refuses `--metrics` there).
    async fn counts(
        &self,
        _target: (&str, &str),
        _versions: (&str, &str),
        _since: std::time::SystemTime,
    ) -> Result<Option<(Counts, Counts)>> {
        Ok(None)
    }

    /// The latency statistics `queries` ask of the two versions since
    /// `since`; `None` where the platform's are not read. A statistic the
    /// platform does not publish is an error (`cli` refuses it first).
    async fn latency(
        &self,
        _target: (&str, &str),
        _versions: (&str, &str),
        _since: std::time::SystemTime,
        _queries: &[Query],
    ) -> Result<Option<Vec<(Query, f64)>>> {
        Ok(None)
    }

    /// The `--metrics-file` metrics of both versions since `since`: `(index
    /// of the metric, side, value)`; `None` where the platform has none.
    async fn custom(
        &self,
        _target: (&str, &str),
        _versions: (&str, &str),
        _since: std::time::SystemTime,
        _metrics: &[CustomMetric],
    ) -> Result<Option<Vec<(usize, Side, f64)>>> {
        Ok(None)
    }
}
