//! What a command tells people and later workflow steps: the result on stdout
//! (text or JSON), `$GITHUB_OUTPUT` and `$GITHUB_STEP_SUMMARY`. One struct per
//! result implements both `Display` and `Serialize`, and the GitHub outputs are
//! derived from the JSON, so the three can never disagree. (Narration on
//! stderr is `crate::log`.)

pub mod alias;
pub mod analysis;
pub mod fleet;
pub mod init;
pub mod output;
pub mod prune;
pub mod status;

pub use alias::{About, AliasReport, timeline_markdown};
pub use fleet::{FunctionResult, emit_fleet};
pub use init::InitReport;
pub use output::{PackageReport, Report, emit, github_outputs, outputs, write_github_files};
pub use prune::PruneReport;
pub use status::{CanaryDetails, StatusReport};
