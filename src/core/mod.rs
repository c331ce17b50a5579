//! The pure core: every rule of the product as plain functions over plain
//! data. Nothing here performs I/O or knows of clap or the AWS SDK, so each
//! rule is a unit test (ARCHITECTURE.md explains the layers).
//!
//! - [`config`]: a function's configuration, normalised, and how two differ.
//! - [`init`]: a release file from a live function's configuration.
//! - [`observed`]: what a run saw in AWS before deciding.
//! - [`entry`]: what invokes a function, and whether it goes through the alias.
//! - [`fleet`]: targets across accounts and regions: where each one's calls go.
//! - [`plan`]: the deploy decision table, promote and rollback decisions.
//! - [`strategy`]: rollout schedules (`canary:10%:5m`, CodeDeploy names, steps).
//! - [`gates`]: the health verdict of a metric comparison, and the gate settings.
//! - [`controller`]: the staged rollout, generic over clock, traffic and gates.
//! - [`prune`]: which old versions may be deleted, and why the others stay.
//! - [`route`]: a canary routed by weight or by header rule.
//! - [`record`]: the rollback record kept in an alias's description.
//! - [`tags`]: how a function's tags become the release file's.
//! - [`appspec`]: the CodeDeploy hand-off's settings and its Lambda AppSpec.
//! - [`url`]: the function URL a release keeps on its alias.
//! - [`values`]: parsing and checking what users type.
//! - [`waves`]: which wave of a fleet takes which target, and failure tolerance.

pub mod appspec;
pub mod config;
pub mod controller;
pub mod entry;
pub mod fleet;
pub mod gates;
pub mod init;
pub mod judge;
pub mod observed;
pub mod plan;
pub mod prune;
pub mod record;
pub mod route;
pub mod strategy;
pub mod tags;
pub mod url;
pub mod values;
pub mod waves;
