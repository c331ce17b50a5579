//! Amazon ECR: which image a tag names now, so that "unchanged" is decided
//! by digest.

use aws_sdk_ecr::Client;
use aws_sdk_ecr::types::ImageIdentifier;

use crate::aws::error::{Kind, classify};
use crate::core::values::{ImageRef, ImageReference};
use crate::error::{Error, Result};
use crate::log::Log;

pub struct Registry {
    client: Client,
    log: Log,
}

impl Registry {
    pub fn new(client: Client, log: Log) -> Registry {
        Registry { client, log }
    }

    /// The image's digest (`sha256:…`), read with `DescribeImages`: a tag's
    /// current image, or a digest checked to exist. An image ECR does not
    /// have is refused by name.
    pub async fn digest(&self, image: &ImageRef) -> Result<String> {
        let shown = image.text();
        self.log.detail(&format!("ECR DescribeImages {shown}"));
        let id = match &image.reference {
            ImageReference::Tag(tag) => ImageIdentifier::builder().image_tag(tag),
            ImageReference::Digest(digest) => ImageIdentifier::builder().image_digest(digest),
        };
        let found = self
            .client
            .describe_images()
            .registry_id(&image.account)
            .repository_name(&image.repository)
            .image_ids(id.build())
            .send()
            .await
            .map_err(|e| {
                let missing = |err| {
                    Error::usage(format!(
                        "--image-uri {shown}: ECR has no such image ({err}): push it first, or check the tag"
                    ))
                };
                classify(&e).unless(Kind::NotFound, missing, &format!("read image {shown} from ECR"))
            })?;
        let digest = found
            .image_details()
            .first()
            .and_then(|d| d.image_digest())
            .ok_or_else(|| Error::usage(format!("--image-uri {shown}: ECR has no such image")))?
            .to_string();
        self.log.step(&format!("image {shown} is {digest}"));
        Ok(digest)
    }
}
