//! `--function-url FILE`: the function URL a release keeps on its alias, in
//! Lambda's own key names. The URL goes through the alias (its `Qualifier`),
//! so its traffic is weighted like the alias's; a URL on the function itself
//! would run `$LATEST` and bypass every canary.

use serde::Deserialize;

/// The URL's configuration as the file gives it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct UrlConfig {
    /// `NONE` (public; Lambda then needs the public permissions on the
    /// alias) or `AWS_IAM`.
    pub auth_type: String,
    #[serde(default)]
    pub cors: Option<Cors>,
    /// `BUFFERED` (Lambda's default) or `RESPONSE_STREAM`.
    #[serde(default)]
    pub invoke_mode: Option<String>,
}

/// `Cors`, as Lambda names its keys; lists compared as sets.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Cors {
    #[serde(default)]
    pub allow_credentials: Option<bool>,
    #[serde(default)]
    pub allow_headers: Option<Vec<String>>,
    #[serde(default)]
    pub allow_methods: Option<Vec<String>>,
    #[serde(default)]
    pub allow_origins: Option<Vec<String>>,
    #[serde(default)]
    pub expose_headers: Option<Vec<String>>,
    #[serde(default)]
    pub max_age: Option<i32>,
}

impl Cors {
    /// Lists sorted, so that order never reads as a change.
    fn normalised(&self) -> Cors {
        let sorted = |list: &Option<Vec<String>>| {
            list.clone().map(|mut l| {
                l.sort();
                l
            })
        };
        Cors {
            allow_credentials: self.allow_credentials,
            allow_headers: sorted(&self.allow_headers),
            allow_methods: sorted(&self.allow_methods),
            allow_origins: sorted(&self.allow_origins),
            expose_headers: sorted(&self.expose_headers),
            max_age: self.max_age,
        }
    }
}

impl UrlConfig {
    /// Checked: the values Lambda accepts.
    pub fn check(&self) -> Result<(), String> {
        if !matches!(self.auth_type.as_str(), "NONE" | "AWS_IAM") {
            return Err(format!("AuthType '{}': expected NONE or AWS_IAM", self.auth_type));
        }
        if let Some(mode) = self
            .invoke_mode
            .as_deref()
            .filter(|m| !matches!(*m, "BUFFERED" | "RESPONSE_STREAM"))
        {
            return Err(format!(
                "InvokeMode '{mode}': expected BUFFERED or RESPONSE_STREAM"
            ));
        }
        Ok(())
    }

    /// The keys of this file that `current` (what the alias's URL has) does
    /// not match; a key the file does not name is left as it is.
    pub fn differences(&self, current: &UrlConfig) -> Vec<&'static str> {
        let mut keys = Vec::new();
        if self.auth_type != current.auth_type {
            keys.push("AuthType");
        }
        let cors = |c: &Option<Cors>| c.as_ref().map(Cors::normalised).unwrap_or_default();
        if self.cors.is_some() && cors(&self.cors) != cors(&current.cors) {
            keys.push("Cors");
        }
        let mode = |m: &Option<String>| m.clone().unwrap_or_else(|| "BUFFERED".into());
        if self.invoke_mode.is_some() && mode(&self.invoke_mode) != mode(&current.invoke_mode) {
            keys.push("InvokeMode");
        }
        keys
    }

    pub fn is_public(&self) -> bool {
        self.auth_type == "NONE"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(auth: &str, origins: &[&str], mode: Option<&str>) -> UrlConfig {
        UrlConfig {
            auth_type: auth.into(),
            cors: (!origins.is_empty()).then(|| Cors {
                allow_origins: Some(origins.iter().map(|o| o.to_string()).collect()),
                ..Cors::default()
            }),
            invoke_mode: mode.map(str::to_string),
        }
    }

    #[test]
    fn only_the_keys_the_file_names_are_compared_and_order_is_no_change() {
        let wanted = url("NONE", &["https://a.example", "https://b.example"], None);
        let current = url(
            "NONE",
            &["https://b.example", "https://a.example"],
            Some("BUFFERED"),
        );
        assert!(wanted.differences(&current).is_empty());
        let current = url("AWS_IAM", &["https://a.example"], Some("RESPONSE_STREAM"));
        assert_eq!(wanted.differences(&current), ["AuthType", "Cors"]);
        assert_eq!(
            url("NONE", &[], Some("RESPONSE_STREAM")).differences(&url("NONE", &[], None)),
            ["InvokeMode"]
        );
    }

    #[test]
    fn values_lambda_refuses_are_refused() {
        assert!(
            url("PUBLIC", &[], None)
                .check()
                .unwrap_err()
                .contains("expected NONE or AWS_IAM")
        );
        assert!(url("NONE", &[], Some("STREAM")).check().is_err());
        assert!(url("AWS_IAM", &[], Some("RESPONSE_STREAM")).check().is_ok());
    }
}
