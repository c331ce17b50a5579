//! `--function-url FILE` (or a manifest's `function-url`): the function URL
//! to keep on the alias, as a JSON object of Lambda's own keys, checked
//! before any request.

use std::path::Path;

use crate::core::url::UrlConfig;
use crate::error::{Error, Result};

/// `--function-url FILE`: a JSON object of Lambda's URL keys, checked.
pub fn load(path: &Path) -> Result<UrlConfig> {
    let refuse = |why: String| Error::usage(format!("--function-url '{}': {why}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| refuse(format!("cannot be read: {e}")))?;
    let config: UrlConfig = serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|e| refuse(format!("expected {{\"AuthType\": \"NONE\" or \"AWS_IAM\", \"Cors\": {{…}}, \"InvokeMode\": \"BUFFERED\"}}: {e}")))?;
    config.check().map_err(refuse)?;
    Ok(config)
}
