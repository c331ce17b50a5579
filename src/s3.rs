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

use crate::aws::describe;
use crate::error::{Error, Result};
use crate::package::{self, Package};
use crate::report::Log;

/// Zips up to this size go in one PutObject; larger ones in parts of this size.
pub const PART_SIZE: usize = 16 * 1024 * 1024;
/// Parts in flight at once.
const PARTS_AT_ONCE: usize = 4;
/// The object metadata that records the zip's SHA-256 (hex).
const SHA256_METADATA: &str = "sha256";

/// `--s3-bucket` and `--s3-key-prefix`.
#[derive(Debug, Clone, PartialEq)]
pub struct S3Target {
    pub bucket: String,
    pub prefix: String,
}

/// Where one package was stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub bucket: String,
    pub key: String,
    /// False when the object was already there.
    pub uploaded: bool,
}

impl S3Target {
    /// `PREFIX/FUNCTION/SHA256-HEX.zip` (the function's name, also when given as an ARN).
    pub fn key(&self, function: &str, sha256_hex: &str) -> String {
        let name = function
            .rsplit_once("function:")
            .map_or(function, |(_, name)| name);
        if self.prefix.is_empty() {
            format!("{name}/{sha256_hex}.zip")
        } else {
            format!("{}/{name}/{sha256_hex}.zip", self.prefix)
        }
    }
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

fn status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|response| response.status().as_u16())
}

/// A failed write to the bucket, said in the user's terms.
fn write_error<E>(err: SdkError<E, HttpResponse>, bucket: &str, key: &str) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = err.as_service_error().and_then(ProvideErrorMetadata::code);
    if code == Some("NoSuchBucket") {
        Error::failed(format!(
            "S3 bucket {bucket} does not exist (or is not visible to these credentials): create it in the function's region or fix --s3-bucket ({})",
            describe(&err)
        ))
    } else if code == Some("AccessDenied") || status(&err) == Some(403) {
        Error::failed(format!(
            "access denied writing s3://{bucket}/{key}: the role needs s3:PutObject on it (and s3:GetObject for Lambda to read it) ({})",
            describe(&err)
        ))
    } else {
        Error::failed(format!(
            "failed to upload s3://{bucket}/{key}: {}",
            describe(&err)
        ))
    }
}

impl Store {
    pub fn new(config: &aws_config::SdkConfig, log: Log) -> Store {
        Store::from_client(Client::new(config), log)
    }

    pub fn from_client(client: Client, log: Log) -> Store {
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
            Err(e) if status(&e) == Some(404) => Ok(false),
            Err(e) if status(&e) == Some(403) => {
                self.log.detail(&format!(
                    "HeadObject s3://{bucket}/{key} was refused (no s3:GetObject?): uploading"
                ));
                Ok(false)
            }
            Err(e) => Err(Error::failed(format!(
                "failed to read s3://{bucket}/{key}: {}",
                describe(&e)
            ))),
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
