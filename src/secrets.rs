//! The values this run holds that must never be shown: environment values of
//! a release (from the file, the environment or elsewhere). Whoever reads a
//! value registers it with [`hold`]; everything that leaves the process —
//! narration, warnings, errors, annotations, JSON, GitHub outputs and the
//! step summary — goes through [`redact`], and so does every message AWS
//! sends back (which may quote what was sent, such as Lambda's "exceeded the
//! 4KB limit. String measured: {…}").

use std::sync::RwLock;

/// What a value is replaced with.
pub const MASK: &str = "***";

/// Held values, longest first, each also in its JSON-escaped form (AWS
/// quotes what it was sent as JSON).
static HELD: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Remember `value` as a secret for the rest of the run. Empty values are
/// not held (there is nothing to show).
pub fn hold(value: &str) {
    if value.is_empty() {
        return;
    }
    // AWS quotes what it was sent as JSON, and an answer may be quoted again
    // inside another (a message inside a JSON body, a debug dump of it): the
    // value escaped up to three times, as JSON and as Rust's Debug does.
    let mut forms = vec![value.to_string()];
    for escape in [json_escaped as fn(&str) -> String, debug_escaped] {
        let mut form = value.to_string();
        for _ in 0..3 {
            form = escape(&form);
            forms.push(form.clone());
        }
    }
    let mut held = HELD.write().unwrap_or_else(|e| e.into_inner());
    for form in forms {
        if !held.contains(&form) {
            held.push(form);
        }
    }
    held.sort_by_key(|v| std::cmp::Reverse(v.len()));
}

fn json_escaped(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    quoted[1..quoted.len() - 1].to_string()
}

fn debug_escaped(text: &str) -> String {
    let quoted = format!("{text:?}");
    quoted[1..quoted.len() - 1].to_string()
}

/// `text` with every held value replaced by [`MASK`]. A value is masked
/// wherever it occurs, even inside a longer word: a short value may then
/// mask a few characters of ordinary text, which is the safe mistake.
pub fn redact(text: &str) -> String {
    let held = HELD.read().unwrap_or_else(|e| e.into_inner());
    held.iter().fold(text.to_string(), |text, value| {
        if text.contains(value.as_str()) {
            text.replace(value.as_str(), MASK)
        } else {
            text
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_values_are_masked_raw_and_as_json_quotes_them() {
        hold("pa\"ss-3x4mple");
        hold("");
        let aws = r#"InvalidParameterValueException: exceeded the 4KB limit. String measured: {"DB_PW":"pa\"ss-3x4mple"}"#;
        assert_eq!(
            redact(aws),
            r#"InvalidParameterValueException: exceeded the 4KB limit. String measured: {"DB_PW":"***"}"#
        );
        assert_eq!(redact("token pa\"ss-3x4mple!"), "token ***!");
        let quoted_twice = r#"message: Some(\"measured: {\\\"DB_PW\\\":\\\"pa\\\\\\\"ss-3x4mple\\\"}\")"#;
        assert!(
            !redact(quoted_twice).contains("3x4mple"),
            "{}",
            redact(quoted_twice)
        );
        assert_eq!(redact("nothing held here"), "nothing held here");
    }
}
