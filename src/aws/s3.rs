//! Packages through S3: Lambda takes at most 50 MiB in the request itself, so
//! larger zips go to a content-addressed key first. The key names the zip's
//! SHA-256, so an object that is already there with that hash and size is the
//! same package and is not uploaded again (a re-run after a crash, a second
//! stage, another region's pipeline sharing the bucket).

use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use base64::Engine as _;
use futures_util::{StreamExt, TryStreamExt};

use crate::aws::error::{Kind, classify};
use crate::core::values::S3Target;
use crate::error::{Error, Result};
use crate::log::Log;
use crate::package::{self, Package};

/// Zips up to this size go in one PutObject; larger ones in parts of this size.
pub const PART_SIZE: usize = 16 * 1024 * 1024;
/// Parts in flight at once.
const PARTS_AT_ONCE: usize = 4;
/// The object metadata that records the zip's SHA-256 (hex).
const SHA256_METADATA: &str = "sha256";

/// Where one package was stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub bucket: String,
    pub key: String,
    /// False when the object was already there.
    pub uploaded: bool,
}

/// The zip's SHA-256 in hex (Lambda's CodeSha256 is the same hash in base64).
pub fn sha256_hex(package: &Package) -> String {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&package.code_sha256)
        .unwrap_or_default();
    raw.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug)]
pub struct Store {
    client: Client,
    log: Log,
}

/// A failed write to the bucket, said in the user's terms.
fn write_error<E>(err: SdkError<E, HttpResponse>, bucket: &str, key: &str) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let err = classify(&err);
    Error::failed(match err.kind {
        Kind::NotFound => format!(
            "S3 bucket {bucket} does not exist (or is not visible to these credentials): create it in the function's region or fix --s3-bucket ({err})"
        ),
        Kind::Denied => format!(
            "access denied writing s3://{bucket}/{key}: the role needs s3:PutObject on it (and s3:GetObject for Lambda to read it) ({err})"
        ),
        _ => format!("failed to upload s3://{bucket}/{key}: {err}"),
    })
}

impl Store {
    pub fn new(client: Client, log: Log) -> Store {
        Store { client, log }
    }

    /// Make sure the package is at its content-addressed key: skip the upload
    /// when an object with the same SHA-256 and size is there already.
    pub async fn put(&self, target: &S3Target, function: &str, package: &Package) -> Result<Stored> {
        let hex = sha256_hex(package);
        let key = target.key(function, &hex);
        let bucket = target.bucket.as_str();
        let stored = |uploaded| Stored {
            bucket: bucket.to_string(),
            key: key.clone(),
            uploaded,
        };
        if self.present(bucket, &key, &hex, package.zip.len()).await? {
            self.log.step(&format!(
                "s3://{bucket}/{key} is already there (same SHA-256 and size): not uploading it again"
            ));
            return Ok(stored(false));
        }
        self.log.step(&format!(
            "uploading {} to s3://{bucket}/{key}",
            package::human_bytes(package.zip.len() as u64)
        ));
        if package.zip.len() <= PART_SIZE {
            self.log.detail(&format!("PutObject s3://{bucket}/{key}"));
            self.client
                .put_object()
                .bucket(bucket)
                .key(&key)
                .metadata(SHA256_METADATA, &hex)
                .content_type("application/zip")
                .checksum_algorithm(ChecksumAlgorithm::Sha256)
                .body(ByteStream::from(package.zip.clone()))
                .send()
                .await
                .map_err(|e| write_error(e, bucket, &key))?;
        } else {
            self.multipart(bucket, &key, &hex, &package.zip).await?;
        }
        Ok(stored(true))
    }

    /// Is the object there with this hash and size? A missing object (or one
    /// these credentials may not read) is uploaded.
    async fn present(&self, bucket: &str, key: &str, hex: &str, size: usize) -> Result<bool> {
        self.log.detail(&format!("HeadObject s3://{bucket}/{key}"));
        match self.client.head_object().bucket(bucket).key(key).send().await {
            Ok(head) => Ok(head.content_length() == Some(size as i64)
                && head
                    .metadata()
                    .and_then(|m| m.get(SHA256_METADATA))
                    .map(String::as_str)
                    == Some(hex)),
            Err(e) => match classify(&e) {
                err if err.kind == Kind::NotFound => Ok(false),
                err if err.kind == Kind::Denied => {
                    self.log.detail(&format!(
                        "HeadObject s3://{bucket}/{key} was refused (no s3:GetObject?): uploading"
                    ));
                    Ok(false)
                }
                err => Err(err.failed(&format!("read s3://{bucket}/{key}"))),
            },
        }
    }

    /// Upload in parts, a few at once; abort the upload if any part fails so
    /// no half-written parts are left to pay for.
    async fn multipart(&self, bucket: &str, key: &str, hex: &str, zip: &[u8]) -> Result<()> {
        let parts = zip.len().div_ceil(PART_SIZE);
        self.log.detail(&format!(
            "CreateMultipartUpload s3://{bucket}/{key} ({parts} parts)"
        ));
        let created = self
            .client
            .create_multipart_upload()
            .bucket(bucket)
            .key(key)
            .metadata(SHA256_METADATA, hex)
            .content_type("application/zip")
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .send()
            .await
            .map_err(|e| write_error(e, bucket, key))?;
        let upload_id = created.upload_id().unwrap_or_default().to_string();
        let uploaded = futures_util::stream::iter(zip.chunks(PART_SIZE).enumerate())
            .map(|(index, chunk)| {
                let number = index as i32 + 1;
                let upload_id = upload_id.as_str();
                async move {
                    self.log.detail(&format!("UploadPart {number}/{parts}"));
                    let part = self
                        .client
                        .upload_part()
                        .bucket(bucket)
                        .key(key)
                        .upload_id(upload_id)
                        .part_number(number)
                        .checksum_algorithm(ChecksumAlgorithm::Sha256)
                        .body(ByteStream::from(chunk.to_vec()))
                        .send()
                        .await
                        .map_err(|e| write_error(e, bucket, key))?;
                    Ok::<_, Error>(
                        CompletedPart::builder()
                            .part_number(number)
                            .set_e_tag(part.e_tag().map(str::to_string))
                            .set_checksum_sha256(part.checksum_sha256().map(str::to_string))
                            .build(),
                    )
                }
            })
            .buffer_unordered(PARTS_AT_ONCE)
            .try_collect::<Vec<_>>()
            .await;
        let completed = match uploaded {
            Ok(mut completed) => {
                completed.sort_by_key(|part| part.part_number());
                self.log.detail("CompleteMultipartUpload");
                self.client
                    .complete_multipart_upload()
                    .bucket(bucket)
                    .key(key)
                    .upload_id(&upload_id)
                    .multipart_upload(
                        CompletedMultipartUpload::builder()
                            .set_parts(Some(completed))
                            .build(),
                    )
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| write_error(e, bucket, key))
            }
            Err(e) => Err(e),
        };
        if completed.is_err() {
            self.log.detail("AbortMultipartUpload");
            let _ = self
                .client
                .abort_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(&upload_id)
                .send()
                .await;
        }
        completed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_content_addressed_per_function() {
        let target = S3Target {
            bucket: "b".into(),
            prefix: "lambda/packages".into(),
        };
        assert_eq!(target.key("api", "ab12"), "lambda/packages/api/ab12.zip");
        assert_eq!(
            target.key("arn:aws:lambda:eu-west-1:123456789012:function:api", "ab12"),
            "lambda/packages/api/ab12.zip"
        );
        let bare = S3Target {
            bucket: "b".into(),
            prefix: String::new(),
        };
        assert_eq!(bare.key("api", "ab12"), "api/ab12.zip");
    }
}
