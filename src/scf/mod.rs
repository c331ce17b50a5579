//! Tencent Cloud's Serverless Cloud Function (SCF): the provider layer for
//! it, beside `aws/` for Lambda. Its API is JSON over HTTPS, signed with
//! TC3-HMAC-SHA256 (API version 2018-04-16). There is no official Rust SDK:
//! [`sign`] signs requests as Tencent's own SDKs do, checked against
//! signatures the official Python SDK produced for fixed inputs
//! (`tests/scf/tc3_vectors.json`); [`client`] sends one signed call and
//! retries what SCF says to retry; [`api`] is the handful of actions the
//! commands use, [`release`] a release's code step, and [`observe`] turns what they read into the core's
//! plain types, so the decisions stay the same for both platforms.

pub mod api;
pub mod client;
pub mod limits;
pub mod monitor;
pub mod observe;
pub mod platform;
pub mod release;
pub mod sign;

pub use api::Scf;
