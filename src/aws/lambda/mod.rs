//! Lambda: each method is one API step, narrated through the [`Log`], and
//! turns AWS errors into messages that say what failed to happen while keeping
//! the AWS error code and message.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::operation::get_function::GetFunctionError;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    AliasRoutingConfiguration, FunctionCode, FunctionCodeLocation, FunctionConfiguration, LastUpdateStatus,
    PackageType,
};

use crate::aws::config::{is_image, reported, with_config};
use crate::aws::error::{AwsError, Kind, classify, wait_failed};
use crate::core::config::FunctionConfig;
use crate::core::entry::EntryPoints;
use crate::core::observed::{
    AliasNow, AliasState, Canary, Latest, Moved, Observed, Provisioned, Split, VersionDetails, VersionState,
};
use crate::core::prune::{AliasRoutes, Published, parse_last_modified};
use crate::error::{Error, Result};
use crate::log::Log;
use crate::pace::Pace;

mod aliases;
mod observe;
mod release;
mod snapshot;
mod versions;

/// How often a wait for provisioned concurrency reads it.
const PROVISIONED_POLL: Duration = Duration::from_secs(5);

/// Upper bound for Lambda to finish a code update or activate a version.
const WAIT_LIMIT: Duration = Duration::from_secs(300);

pub struct Lambda {
    pub(super) client: Client,
    pub(super) log: Log,
    /// Client-side pacing of control-plane calls (many functions in one run).
    pacer: Pace,
    /// Pacing of `GetFunction` reads, which AWS counts against a quota of their own.
    pub(super) read_pacer: Pace,
    /// Pacing of `GetPolicy` reads: AWS gives them their own quota (15 per
    /// second per account and region), apart from the control plane's.
    policy_pacer: Pace,
    /// Every alias this client wrote in the run: what it found, what it
    /// last sent (see [`Lambda::moved`]).
    moved: std::sync::Arc<std::sync::Mutex<HashMap<(String, String), Moved>>>,
    /// Preflight's reads of what invokes each function, kept for its deploy.
    kept_entry_points: KeptEntryPoints,
}

type KeptEntryPoints =
    std::sync::Arc<std::sync::Mutex<HashMap<(String, String), (std::time::Instant, EntryPoints)>>>;

/// How long preflight's read of what invokes a function stands for its
/// deploy: the first wave's targets use it; a target that runs later (after
/// a bake) reads again, so a trigger added meanwhile is seen.
const ENTRY_POINTS_FRESH: Duration = Duration::from_secs(120);

/// What an alias's primary serves, read with `GetFunction` on the alias.
#[derive(Debug, Clone)]
pub struct AliasPrimary {
    pub version: String,
    /// The code's identity (a zip's CodeSha256, an image's digest).
    pub code_sha256: String,
    /// The function's unqualified ARN.
    pub function_arn: String,
}

/// `GetFunction` reads per second at most in a paced run: AWS allows 100,
/// apart from the control-plane quota.
const READS_PER_SECOND: u32 = 80;

/// How often a change refused with ResourceConflictException (another
/// update of the function in progress) is tried again after waiting.
const CONFLICT_TRIES: usize = 3;

impl Lambda {
    pub fn new(client: Client, log: Log) -> Lambda {
        Lambda {
            client,
            log,
            pacer: Pace::default(),
            read_pacer: Pace::default(),
            policy_pacer: Pace::default(),
            moved: Default::default(),
            kept_entry_points: Default::default(),
        }
    }

    /// Keep a read of what invokes `function` (preflight's) for the deploy
    /// of `function:alias` that follows it soon: used once, and only while
    /// [`ENTRY_POINTS_FRESH`]; a deploy later than that reads again.
    pub fn keep_entry_points(&self, function: &str, alias: &str, points: EntryPoints) {
        let mut kept = self.kept_entry_points.lock().unwrap_or_else(|e| e.into_inner());
        kept.insert(
            (function.to_string(), alias.to_string()),
            (std::time::Instant::now(), points),
        );
    }

    /// The read kept by [`Lambda::keep_entry_points`], if still fresh.
    pub(crate) fn kept_entry_points(&self, function: &str, alias: &str) -> Option<EntryPoints> {
        let mut kept = self.kept_entry_points.lock().unwrap_or_else(|e| e.into_inner());
        kept.remove(&(function.to_string(), alias.to_string()))
            .filter(|(at, _)| at.elapsed() < ENTRY_POINTS_FRESH)
            .map(|(_, points)| points)
    }

    /// What this run did to `function:alias`, if it wrote it: the routing
    /// found before the first write and the last one sent. A fleet's wave
    /// rollback and a cancelled run restore what was found.
    pub fn moved(&self, function: &str, alias: &str) -> Option<Moved> {
        let moved = self.moved.lock().unwrap_or_else(|e| e.into_inner());
        moved.get(&(function.to_string(), alias.to_string())).cloned()
    }

    /// Keep this client's control-plane calls (GetAlias, the listings and
    /// every write) under `per_second` requests in every second (Lambda
    /// allows 15 per account and region), its `GetPolicy` reads under as
    /// many again (their own quota of 15), and its `GetFunction` reads under
    /// [`READS_PER_SECOND`], each evenly spaced ([`Pace`]).
    pub fn paced(self, per_second: u32) -> Lambda {
        Lambda {
            pacer: Pace::per_second(per_second),
            read_pacer: Pace::per_second(READS_PER_SECOND.max(per_second)),
            policy_pacer: Pace::per_second(per_second),
            ..self
        }
    }

    /// This client, paced by `other`'s pacers: two places (spellings,
    /// roles) that land in one account-region share its quota.
    pub fn paced_like(self, other: &Lambda) -> Lambda {
        Lambda {
            pacer: other.pacer.clone(),
            read_pacer: other.read_pacer.clone(),
            policy_pacer: other.policy_pacer.clone(),
            ..self
        }
    }

    pub(super) async fn pace(&self) {
        self.pacer.wait().await;
    }

    /// Wait for a `GetPolicy` read's turn (its own quota).
    pub(super) async fn pace_policy(&self) {
        self.policy_pacer.wait().await;
    }
}

/// The code for `UpdateFunctionCode`: the zip itself, or where it is in S3.
pub enum NewCode<'a> {
    Zip(Vec<u8>),
    /// A zip in S3.
    S3 {
        bucket: String,
        key: String,
    },
    /// A container image, by digest.
    Image(&'a str),
}

/// What `GetFunction` returns of one version: its configuration and where its code is.
struct Read {
    config: FunctionConfiguration,
    code: Option<FunctionCodeLocation>,
    /// The function's tags (returned to a caller that may `ListTags`).
    tags: HashMap<String, String>,
}

impl Read {
    /// The code's identity: an image's digest (from `ResolvedImageUri`,
    /// which names the exact image), else `CodeSha256`.
    fn identity(&self) -> String {
        self.code
            .as_ref()
            .and_then(|c| c.resolved_image_uri())
            .and_then(|uri| uri.rsplit_once("sha256:"))
            .map(|(_, digest)| digest.to_string())
            .unwrap_or_else(|| self.config.code_sha256().unwrap_or_default().to_string())
    }
}

/// A function as `init` reads it ([`Lambda::snapshot`]).
pub struct Snapshot {
    pub function_arn: String,
    /// The version the alias serves (or `$LATEST`).
    pub version: String,
    pub code_sha256: String,
    pub image: bool,
    /// Its whole configuration; environment values included, to be kept in
    /// memory only.
    pub config: FunctionConfig,
    pub tags: std::collections::BTreeMap<String, String>,
    /// A pre-signed URL of the zip (empty for an image).
    pub code_location: String,
}
