//! What the user typed: the flags ([`flags`], clap definitions only), the
//! manifest file format ([`manifest`]), and the one resolver ([`settings`])
//! that turns both, with the environment, into checked settings before any
//! request is sent.

pub mod capabilities;
pub mod flags;
pub mod function_config;
pub mod function_url;
pub mod manifest;
pub mod platform;
pub mod settings;

pub use flags::{Cli, Command, asked_for_json, parse_from};
