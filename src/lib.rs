//! lambda-rollout: ship AWS Lambda code safely. The binary in `main.rs` parses
//! the command line and calls one module per command; the modules are public so
//! the test suite can drive them with SDK-level mocks.

pub mod alias;
pub mod aws;
pub mod cli;
pub mod deploy;
pub mod error;
pub mod gates;
pub mod handoff;
pub mod health;
pub mod manifest;
pub mod monitor;
pub mod package;
pub mod plan;
pub mod promote;
pub mod record;
pub mod report;
pub mod rollback;
pub mod rollout;
pub mod s3;
pub mod staged;
pub mod status;
pub mod strategy;
pub mod values;
