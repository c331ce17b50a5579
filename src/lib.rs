//! lambda-rollout: ship AWS Lambda code safely. The layers, each a folder,
//! with imports that only point down (ARCHITECTURE.md tells the whole story):
//!
//! - [`commands`]: one file per command — resolve settings, build the AWS
//!   clients once, observe → plan → apply, report.
//! - [`cli`]: flags, the manifest format, and the one settings resolver.
//!   [`report`]: text, JSON, GitHub outputs and step summary.
//! - [`aws`]: the only code that imports the AWS SDK.
//! - [`scf`]: Tencent Cloud SCF's API (its request signature so far).
//! - [`core`]: the pure rules — decisions, strategies, gate verdicts, the
//!   rollout controller, the rollback record, value parsing.
//! - [`log`], [`error`], [`secrets`] and [`package`] may be used from any layer.
//!
//! The modules are public so the test suite can drive them with SDK-level mocks.

pub mod aws;
pub mod cli;
pub mod commands;
pub mod core;
pub mod error;
pub mod log;
pub mod pace;
pub mod package;
pub mod platform;
pub mod report;
pub mod scf;
pub mod secrets;
