//! What `deploy` asks of a platform's connection beyond the alias and
//! version steps of [`crate::platform::Platform`]: the look with `$LATEST`,
//! the release's code step (configure, upload, publish behind the
//! platform's guard), the smoke invoke, and the optional steps one platform
//! has and another refuses in `cli` (Parameter Store values, the hand-off,
//! the URL and tags). `deploy` is written once over it; each
//! platform's connection implements it (`Clients` in `deploy::lambda`,
//! `ScfPlace` in `runner::scf`). Beside it, what every deploy path
//! shares: the code a release ships, the deploy as each step sees it, and
//! the hand-over to an engine.

use crate::cli::settings::{DeployJob, DeployRequest};
use crate::core::appspec::HandoffSettings;
use crate::core::observed::{Observed, Serving};
use crate::core::plan::{Outcome, Plan, RolloutTarget};
use crate::core::record::Record;
use crate::core::values::ImageRef;
use crate::error::{Error, Result};
use crate::log::Log;
use crate::package::Package;
use crate::platform::{Connection, Look, Platform};
use crate::report::{About, AliasReport};

#[allow(async_fn_in_trait)]
pub trait Release: Connection + Sized {
    /// How the narration names a zip's identity (`CodeSha256`, `SHA-256`).
    const IDENTITY: &'static str;

    /// A zip named as this platform records it (`code_sha256`; Lambda's
    /// `CodeSha256` as built).
    fn identify(package: Package) -> Package {
        package
    }

    /// A zip this platform would refuse, refused (exit 2) — `staged`: it
    /// goes through object storage (`--s3-bucket`).
    fn check_zip(package: &Package, staged: bool) -> Result<()>;

    /// A container image by digest, where the platform runs images (`cli`
    /// refuses `--image-uri` elsewhere).
    async fn image_code(&self, _image: &ImageRef) -> Result<Code> {
        Err(unsupported(self, "container images"))
    }

    /// The function, its alias and `$LATEST` in one look.
    async fn observe_release(&self, function: &str, alias: &str) -> Result<Look>;

    /// What this platform refuses of the release before any write (a
    /// function it does not create, code that does not fit the function).
    /// `image`: the release is a container image.
    fn refuse_unfit(&self, request: &DeployRequest, image: bool, observed: &Observed) -> Result<()>;

    /// A manifest target's checks before the first write anywhere (reads
    /// only); `identity`: its zip's, once built.
    async fn preflight(&self, job: &DeployJob, identity: Option<&str>) -> Result<()>;

    /// The plan's code step: wait for an update in progress, configure,
    /// upload, publish — guarded so that a version holding someone else's
    /// change is never routed (`Error::Conflict`, or `Error::Interfered`
    /// once read back). The version this run published, if any.
    async fn publish_code(
        &self,
        deploy: Deploy<'_, Self>,
        observed: &Observed,
        plan: &Plan,
    ) -> Result<Option<String>>;

    /// Invoke `version` directly with `payload`; `Err` says why the smoke
    /// test failed (a function error, or the invoke's own).
    async fn smoke(&self, function: &str, version: &str, payload: &[u8]) -> std::result::Result<(), String>;

    /// The request with its `{"FromParameter": NAME}` values read; `None`
    /// when it names none.
    async fn with_parameters(&self, _request: &DeployRequest, _log: &Log) -> Result<Option<DeployRequest>> {
        Ok(None)
    }

    /// Hand the traffic shift to the platform's deployment service.
    async fn hand_off(
        &self,
        _handover: Handover<'_, Self>,
        _handoff: &HandoffSettings,
    ) -> Result<AliasReport> {
        Err(unsupported(self, "hand-off of the traffic shift"))
    }

    /// What follows a release that did not roll back or stop: the steps on
    /// the function and alias that are not canaried (URL, tags).
    async fn after(&self, _request: &DeployRequest, report: AliasReport, _log: &Log) -> Result<AliasReport> {
        Ok(report)
    }
}

/// A step this platform does not have (refused earlier by `cli`).
fn unsupported<C: Release>(connection: &C, what: &str) -> Error {
    let name = connection.platform().capabilities().name;
    Error::usage(format!("{name} has no {what}"))
}

/// The code a release ships: a zip, or a container image by digest.
pub enum Code {
    Zip(Package),
    Image {
        /// The image by digest (`…/REPO@sha256:…`): what the version gets.
        uri: String,
        /// The digest's hex digits: the code's identity, as Lambda reports
        /// it in `CodeSha256` for an image.
        digest: String,
    },
}

impl Code {
    /// What "unchanged" compares: a zip's CodeSha256, an image's digest.
    pub fn identity(&self) -> &str {
        match self {
            Code::Zip(package) => &package.code_sha256,
            Code::Image { digest, .. } => digest,
        }
    }

    pub fn is_image(&self) -> bool {
        matches!(self, Code::Image { .. })
    }
}

/// What one deploy works with, passed to each step and engine: the
/// connection of its place, the request, the code and the narrator.
pub struct Deploy<'a, C> {
    pub conn: &'a C,
    pub request: &'a DeployRequest,
    pub code: &'a Code,
    pub log: &'a Log,
}

impl<C> Clone for Deploy<'_, C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C> Copy for Deploy<'_, C> {}

impl<C> Deploy<'_, C> {
    /// What this deploy's reports are about.
    pub fn about(&self) -> About<'_> {
        About {
            function: &self.request.function,
            alias: &self.request.alias,
            dry_run: self.request.dry_run,
        }
    }
}

/// A deploy handed to an engine: what was observed and planned, and which
/// version the traffic goes to.
pub struct Handover<'a, C> {
    pub deploy: Deploy<'a, C>,
    pub observed: &'a Observed,
    pub plan: &'a Plan,
    pub target: RolloutTarget,
    /// The alias has provisioned concurrency: after the switch to the new
    /// version, wait until Lambda has it ready.
    pub provisioned: bool,
}

impl<C: Release> Handover<'_, C> {
    /// A report on this deploy with the fields every engine knows: what the
    /// release brings and the configuration keys it writes, as planned.
    pub fn report(&self, outcome: Outcome) -> AliasReport {
        let (about, identity) = (self.deploy.about(), self.deploy.code.identity());
        let planned = AliasReport::for_plan(about, self.observed, identity, self.plan, None);
        AliasReport {
            configuration: planned.configuration,
            release: planned.release,
            ..AliasReport::new(about, self.observed, identity, outcome)
        }
    }

    /// The alias's primary version before the run: what traffic returns to.
    pub fn stable(&self) -> String {
        self.observed
            .alias
            .as_ref()
            .map(|a| a.primary.version.clone())
            .unwrap_or_default()
    }

    /// What the alias served when this run observed it.
    pub fn serving_before(&self) -> Serving {
        self.observed
            .alias
            .as_ref()
            .map(Serving::of)
            .unwrap_or_else(|| Serving {
                primary: self.stable(),
                canary: None,
            })
    }

    /// The rollback record the alias's description held when observed.
    pub fn recorded_before(&self) -> Record {
        self.observed
            .alias
            .as_ref()
            .map(|a| Record::parse(&a.description))
            .unwrap_or_default()
    }

    /// The version the engine moves traffic to: published now, or the canary resumed.
    pub async fn new_version(&self) -> Result<String> {
        match &self.target {
            RolloutTarget::New => Ok(self
                .deploy
                .conn
                .publish_code(self.deploy, self.observed, self.plan)
                .await?
                .unwrap_or_default()),
            RolloutTarget::Resume { version, .. } => Ok(version.clone()),
        }
    }
}
