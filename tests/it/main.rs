//! The integration tests, compiled as one binary: each module below is one
//! area of the tool, run as a user runs it (the binary against the local AWS
//! emulator) or, where the emulator cannot show an AWS behaviour, through
//! SDK-level mocks (`sdk_mocks`). `common` starts the emulator and builds the
//! command lines.

mod common;

mod action;
mod bad_input;
mod config;
mod conformance;
mod demo;
mod deploy;
mod faults;
mod fleet;
mod iam;
mod init;
mod interference;
mod judge;
mod layers;
mod manifest;
mod package;
mod promote_rollback;
mod prune;
mod race;
mod rollout;
mod s3;
mod scf;
mod scf_fleet;
mod scf_judge;
mod sdk_mocks;
