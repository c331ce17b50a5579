//! Tencent Cloud's Serverless Cloud Function (SCF): the provider layer for
//! it, beside `aws/` for Lambda. Its API is JSON over HTTPS, signed with
//! TC3-HMAC-SHA256 (API version 2018-04-16). There is no official Rust SDK:
//! [`sign`] signs requests as Tencent's own SDKs do, checked against
//! signatures the official Python SDK produced for fixed inputs
//! (`tests/scf/tc3_vectors.json`).

pub mod sign;
