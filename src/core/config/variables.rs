//! Environment variables: names Lambda accepts and reserves, the size
//! limit, and changes in words that never show a value.

use super::*;

/// Environment variables. Values are secrets: `Debug` shows the keys only.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Variables(pub BTreeMap<String, String>);

/// Names Lambda reserves for the runtime: the keys its API refuses in a
/// function's configuration ("reserved keys that are currently not
/// supported for modification"), as the Lambda developer guide lists them
/// under "Reserved environment variables". `TZ` is not among them: the API
/// accepts it, and the guide has listed it among the unreserved variables
/// that a function may set (with `LANG`, `PATH`, `LD_LIBRARY_PATH`,
/// `NODE_PATH`, `PYTHONPATH`) since late 2022. Refuse only what the API
/// refuses.
pub(super) const RESERVED_VARIABLES: [&str; 18] = [
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// Lambda's limit on a function's variables: their JSON text, in bytes.
pub const VARIABLES_LIMIT: usize = 4096;

impl Variables {
    /// What Lambda would refuse, in words that name variables, never values:
    /// a name outside `[a-zA-Z][a-zA-Z0-9_]+`, a reserved name, or more than
    /// 4 KB in all (measured as Lambda measures it: the variables as JSON).
    pub fn check(&self) -> Result<(), String> {
        let badly_named: Vec<&str> = self
            .0
            .keys()
            .filter(|name| !valid_variable_name(name))
            .map(String::as_str)
            .collect();
        if !badly_named.is_empty() {
            return Err(format!(
                "Environment.Variables: Lambda refuses the name {}: a name is a letter followed by at least one letter, digit or '_'",
                quoted_list(&badly_named)
            ));
        }
        let reserved: Vec<&str> = self
            .0
            .keys()
            .map(String::as_str)
            .filter(|name| RESERVED_VARIABLES.contains(name))
            .collect();
        if !reserved.is_empty() {
            return Err(format!(
                "Environment.Variables: {} reserved by Lambda's runtime and cannot be set",
                match reserved.as_slice() {
                    [one] => format!("`{one}` is"),
                    many => format!("{} are", quoted_list(many)),
                }
            ));
        }
        let size = serde_json::to_string(&self.0).map_or(0, |json| json.len());
        if size > VARIABLES_LIMIT {
            return Err(format!(
                "Environment.Variables: {size} bytes in all (as JSON, the way Lambda measures them), over Lambda's limit of {VARIABLES_LIMIT} bytes"
            ));
        }
        Ok(())
    }
}

pub(super) fn valid_variable_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|first| first.is_ascii_alphabetic())
        && name.len() >= 2
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// "`A`, `B`" ("``" for an empty name).
pub(super) fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Debug for Variables {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// Which variables `wanted` adds, removes and changes against `had`: keys
/// only, never a value. `None` when they are the same.
pub(super) fn variables_change(had: &Variables, wanted: &Variables) -> Option<String> {
    let names = |pick: &dyn Fn(&String) -> bool, from: &Variables| {
        from.0.keys().filter(|k| pick(k)).cloned().collect::<Vec<_>>()
    };
    let added = names(&|k| !had.0.contains_key(k), wanted);
    let removed = names(&|k| !wanted.0.contains_key(k), had);
    let changed = names(
        &|k| had.0.get(k).is_some_and(|v| Some(v) != wanted.0.get(k)),
        wanted,
    );
    let parts: Vec<String> = [("added", added), ("removed", removed), ("changed", changed)]
        .into_iter()
        .filter(|(_, keys)| !keys.is_empty())
        .map(|(what, keys)| format!("{what} {}", keys.join(", ")))
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}
