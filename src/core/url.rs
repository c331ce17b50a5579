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

/// The HTTP methods a function URL's `AllowMethods` takes.
const METHODS: [&str; 7] = ["GET", "PUT", "HEAD", "POST", "PATCH", "DELETE", "*"];

impl Cors {
    /// Lambda's limits: at most 100 headers (each up to 1,024 characters),
    /// 100 origins (1 to 253), 6 methods (GET, PUT, HEAD, POST, PATCH,
    /// DELETE or *), and a `MaxAge` from 0 to 86,400 seconds.
    fn check(&self) -> Result<(), String> {
        let list = |key: &str, items: &Option<Vec<String>>, most: usize, shortest: usize, longest: usize| {
            let items = items.as_deref().unwrap_or_default();
            if items.len() > most {
                return Err(format!(
                    "Cors.{key}: {} entries, over Lambda's limit of {most}",
                    items.len()
                ));
            }
            match items
                .iter()
                .find(|item| item.chars().count() < shortest || item.chars().count() > longest)
            {
                Some(bad) => Err(format!(
                    "Cors.{key}: '{bad}' is {} characters; Lambda takes {shortest} to {longest}",
                    bad.chars().count()
                )),
                None => Ok(()),
            }
        };
        list("AllowHeaders", &self.allow_headers, 100, 0, 1024)?;
        list("ExposeHeaders", &self.expose_headers, 100, 0, 1024)?;
        list("AllowOrigins", &self.allow_origins, 100, 1, 253)?;
        list("AllowMethods", &self.allow_methods, 6, 0, 6)?;
        if let Some(bad) = self
            .allow_methods
            .iter()
            .flatten()
            .find(|m| !METHODS.contains(&m.as_str()))
        {
            return Err(format!(
                "Cors.AllowMethods: '{bad}': expected GET, PUT, HEAD, POST, PATCH, DELETE or *"
            ));
        }
        if let Some(age) = self.max_age.filter(|age| !(0..=86_400).contains(age)) {
            return Err(format!("Cors.MaxAge: {age}: expected 0 to 86400 seconds"));
        }
        Ok(())
    }

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
    /// Checked: the values Lambda accepts (its API reference's limits for
    /// `Cors`), so that nothing it would refuse is sent after a release was
    /// routed.
    pub fn check(&self) -> Result<(), String> {
        if !matches!(self.auth_type.as_str(), "NONE" | "AWS_IAM") {
            return Err(format!("AuthType '{}': expected NONE or AWS_IAM", self.auth_type));
        }
        if let Some(cors) = &self.cors {
            cors.check()?;
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
        let with = |cors: Cors| UrlConfig {
            cors: Some(cors),
            ..url("NONE", &[], None)
        };
        let many = |n: usize, each: &str| Some(vec![each.to_string(); n]);
        for (cors, said) in [
            (
                Cors {
                    max_age: Some(86_401),
                    ..Cors::default()
                },
                "Cors.MaxAge: 86401",
            ),
            (
                Cors {
                    max_age: Some(-1),
                    ..Cors::default()
                },
                "Cors.MaxAge: -1",
            ),
            (
                Cors {
                    allow_origins: many(101, "https://a.example"),
                    ..Cors::default()
                },
                "101 entries",
            ),
            (
                Cors {
                    allow_origins: many(1, &"o".repeat(254)),
                    ..Cors::default()
                },
                "254 characters",
            ),
            (
                Cors {
                    allow_origins: many(1, ""),
                    ..Cors::default()
                },
                "Lambda takes 1 to 253",
            ),
            (
                Cors {
                    allow_headers: many(101, "x-h"),
                    ..Cors::default()
                },
                "Cors.AllowHeaders: 101 entries",
            ),
            (
                Cors {
                    expose_headers: many(1, &"h".repeat(1025)),
                    ..Cors::default()
                },
                "Cors.ExposeHeaders",
            ),
            (
                Cors {
                    allow_methods: many(7, "GET"),
                    ..Cors::default()
                },
                "Cors.AllowMethods: 7 entries",
            ),
            (
                Cors {
                    allow_methods: many(1, "FETCH"),
                    ..Cors::default()
                },
                "'FETCH'",
            ),
        ] {
            let err = with(cors).check().unwrap_err();
            assert!(err.contains(said), "{said}: {err}");
        }
        let fine = Cors {
            allow_origins: many(100, "https://a.example"),
            allow_methods: Some(vec!["GET".into(), "*".into()]),
            max_age: Some(86_400),
            ..Cors::default()
        };
        assert!(with(fine).check().is_ok());
    }
}
