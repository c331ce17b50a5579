//! A function's tags as the release file sets them. Tags belong to the
//! function, not to a version: they are made exactly the file's after a
//! deploy that succeeded, never canaried or rolled back. Tags whose key
//! starts with `aws:` are AWS's own and never touched; a file without `Tags`
//! leaves them all alone.

use std::collections::BTreeMap;

/// Lambda's limits on tags (those of AWS resource tags).
const MAX_TAGS: usize = 50;
const MAX_KEY: usize = 128;
const MAX_VALUE: usize = 256;

/// What AWS refuses in the file's `Tags`, in words naming the key: an
/// `aws:` key, a key or value too long or with characters tags may not
/// hold, more than 50 tags.
pub fn check(tags: &BTreeMap<String, String>) -> Result<(), String> {
    if tags.len() > MAX_TAGS {
        return Err(format!(
            "Tags: {} tags, over AWS's limit of {MAX_TAGS}",
            tags.len()
        ));
    }
    let allowed = |c: char| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c);
    for (key, value) in tags {
        if aws_owned(key) {
            return Err(format!(
                "Tags: `{key}`: keys starting with aws: are AWS's own and cannot be set"
            ));
        }
        if key.is_empty() || key.chars().count() > MAX_KEY || !key.chars().all(allowed) {
            return Err(format!(
                "Tags: `{key}` is not a tag key: 1-{MAX_KEY} letters, digits, spaces and _ . : / = + - @"
            ));
        }
        if value.chars().count() > MAX_VALUE || !value.chars().all(allowed) {
            return Err(format!(
                "Tags: the value of `{key}` is not a tag value: at most {MAX_VALUE} letters, digits, spaces and _ . : / = + - @"
            ));
        }
    }
    Ok(())
}

fn aws_owned(key: &str) -> bool {
    key.get(..4)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("aws:"))
}

/// How the function's tags become the file's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagChanges {
    /// Tags to add or change (`TagResource`).
    pub set: BTreeMap<String, String>,
    /// Keys to remove (`UntagResource`).
    pub remove: Vec<String>,
    /// Each change in words (tag values are not secret): `added team=orders`,
    /// `changed tier: gold → silver`, `removed owner`.
    pub lines: Vec<String>,
}

impl TagChanges {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }
}

/// The changes that make `current` (the function's tags) exactly `wanted`,
/// `aws:` tags left as they are.
pub fn changes(current: &BTreeMap<String, String>, wanted: &BTreeMap<String, String>) -> TagChanges {
    let mut found = TagChanges::default();
    for (key, value) in wanted {
        match current.get(key) {
            Some(now) if now == value => {}
            Some(now) => {
                found.lines.push(format!("changed {key}: {now} → {value}"));
                found.set.insert(key.clone(), value.clone());
            }
            None => {
                found.lines.push(format!("added {key}={value}"));
                found.set.insert(key.clone(), value.clone());
            }
        }
    }
    for key in current.keys() {
        if !wanted.contains_key(key) && !aws_owned(key) {
            found.lines.push(format!("removed {key}"));
            found.remove.push(key.clone());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_tags_become_the_files_and_aws_tags_stay() {
        let current = map(&[
            ("team", "orders"),
            ("tier", "gold"),
            ("owner", "ann"),
            ("aws:cloudformation:stack-name", "app"),
        ]);
        let wanted = map(&[("team", "orders"), ("tier", "silver"), ("cost-center", "42")]);
        let found = changes(&current, &wanted);
        assert_eq!(found.set, map(&[("tier", "silver"), ("cost-center", "42")]));
        assert_eq!(found.remove, ["owner"]);
        assert_eq!(
            found.lines,
            [
                "added cost-center=42",
                "changed tier: gold → silver",
                "removed owner"
            ]
        );
        assert!(changes(&current, &current).is_empty());
        // `{}` removes every tag but AWS's own.
        assert_eq!(
            changes(&current, &BTreeMap::new()).remove,
            ["owner", "team", "tier"]
        );
    }

    #[test]
    fn what_aws_refuses_is_refused_naming_the_key() {
        assert!(check(&map(&[("team", "orders"), ("path", "a/b:c=d+e-f@g.h i")])).is_ok());
        let why = check(&map(&[("AWS:owner", "x")])).unwrap_err();
        assert!(why.contains("`AWS:owner`: keys starting with aws:"), "{why}");
        let why = check(&map(&[("team", "a,b")])).unwrap_err();
        assert!(why.contains("the value of `team`"), "{why}");
        assert!(check(&map(&[(&"k".repeat(129), "v")])).is_err());
        let many: BTreeMap<String, String> = (0..51).map(|n| (format!("k{n}"), String::new())).collect();
        assert!(check(&many).unwrap_err().contains("51 tags"));
    }
}
