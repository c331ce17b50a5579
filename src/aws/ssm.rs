//! Parameter Store: the values a release file names with
//! `{"FromParameter": NAME}`, read with `GetParameters` (ten names a call,
//! decrypted, paced). A value is a secret: it is held for masking as soon as
//! it is read and never narrated.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_ssm::Client;

use crate::aws::error::{Kind, classify};
use crate::error::{Error, Result};
use crate::log::Log;

/// `GetParameters` takes at most ten names.
const BATCH: usize = 10;

/// One read every 100 ms at most: Parameter Store's default throughput
/// (40 per second) is shared with the functions themselves.
const PACE: Duration = Duration::from_millis(100);

pub struct Parameters {
    client: Client,
    log: Log,
}

impl Parameters {
    pub fn new(client: Client, log: Log) -> Parameters {
        Parameters { client, log }
    }

    /// The value of each parameter named, decrypted. A parameter that does
    /// not exist, or that this caller may not read, is an error naming it
    /// (never a value), exit 2.
    ///
    /// `GetParameters` answers `/p:1` and `/p:blue` under the plain name
    /// `/p` (with the selector in a field of its own, which not every
    /// implementation fills in), so no call asks for one parameter twice:
    /// each answer is matched to the one name of its call it can be, and
    /// `/p`, `/p:1` and a label each get their own value.
    pub async fn values(&self, names: &[String]) -> Result<BTreeMap<String, String>> {
        let mut values = BTreeMap::new();
        let mut missing = Vec::new();
        for (n, batch) in batches(names).iter().enumerate() {
            if n > 0 {
                tokio::time::sleep(PACE).await;
            }
            self.log.detail(&format!("GetParameters {}", batch.join(", ")));
            let read = self
                .client
                .get_parameters()
                .set_names(Some(batch.to_vec()))
                .with_decryption(true)
                .send()
                .await
                .map_err(|e| {
                    let err = classify(&e);
                    let text = format!(
                        "cannot read the parameters {} (ssm:GetParameters, and kms:Decrypt for a SecureString under a key of your own): {err}",
                        batch.join(", ")
                    );
                    // Denied is the file's (or the role's) to fix: exit 2.
                    if err.kind == Kind::Denied {
                        Error::usage(text)
                    } else {
                        Error::failed(text)
                    }
                })?;
            let mut found = BTreeMap::new();
            for parameter in read.parameters() {
                if let (Some(name), Some(value)) = (parameter.name(), parameter.value()) {
                    crate::secrets::hold(value);
                    found.insert(name.to_string(), value.to_string());
                }
            }
            missing.extend(read.invalid_parameters().iter().cloned());
            // Asked by ARN or with a selector (`name:3`), a parameter comes
            // back under its plain name: within one call, that is one ask.
            for name in batch {
                match found.get(name).or_else(|| found.get(&plain_name(name))) {
                    Some(value) => {
                        values.insert(name.clone(), value.clone());
                    }
                    None if !missing.contains(name) => missing.push(name.clone()),
                    None => {}
                }
            }
        }
        if !missing.is_empty() {
            missing.sort();
            missing.dedup();
            return Err(Error::usage(format!(
                "Parameter Store has no parameter {} that this caller may read (FromParameter)",
                missing.join(", ")
            )));
        }
        Ok(values)
    }
}

/// The calls to make: at most [`BATCH`] names each, and never one parameter
/// twice in a call (`/p` and `/p:1` go in different calls).
fn batches(names: &[String]) -> Vec<Vec<String>> {
    let mut batches: Vec<Vec<String>> = Vec::new();
    for name in names {
        let plain = plain_name(name);
        match batches
            .iter_mut()
            .find(|b| b.len() < BATCH && !b.iter().any(|other| plain_name(other) == plain))
        {
            Some(batch) => batch.push(name.clone()),
            None => batches.push(vec![name.clone()]),
        }
    }
    batches
}

/// A parameter's name as `GetParameters` returns it: without an ARN's
/// prefix or a `:version` / `:label` selector.
fn plain_name(asked: &str) -> String {
    let name = match asked.split_once(":parameter") {
        Some((_, rest)) if asked.starts_with("arn:") => rest,
        _ => asked,
    };
    name.split(':').next().unwrap_or(name).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_parameter_is_never_asked_twice_in_one_call() {
        let names: Vec<String> = ["/p", "/p:1", "/p:blue", "/q"]
            .into_iter()
            .map(str::to_string)
            .collect();
        assert_eq!(batches(&names), [vec!["/p", "/q"], vec!["/p:1"], vec!["/p:blue"]]);
        let many: Vec<String> = (0..25).map(|n| format!("/n{n}")).collect();
        let sizes: Vec<usize> = batches(&many).iter().map(Vec::len).collect();
        assert_eq!(sizes, [10, 10, 5]);
    }

    #[test]
    fn asked_names_are_matched_to_the_names_returned() {
        assert_eq!(plain_name("/orders/prod/db-url"), "/orders/prod/db-url");
        assert_eq!(plain_name("/orders/prod/db-url:3"), "/orders/prod/db-url");
        assert_eq!(
            plain_name("arn:aws:ssm:eu-west-1:123456789012:parameter/orders/prod/db-url"),
            "/orders/prod/db-url"
        );
        assert_eq!(plain_name("token"), "token");
    }
}
