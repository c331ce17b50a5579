//! One SCF release target: where it acts and how it narrates.

use crate::cli::settings::DeployJob;
use crate::commands::scf::place::ScfPlace;
use crate::log::Log;

/// One release target on SCF: where it acts and how it narrates.
#[derive(Debug, Clone)]
pub struct ScfRun {
    pub region: String,
    pub namespace: String,
    pub function: String,
    pub alias: String,
    pub dry_run: bool,
    pub log: Log,
}

impl ScfRun {
    /// The job's target at `place`.
    pub fn at(place: &ScfPlace, job: &DeployJob) -> ScfRun {
        ScfRun {
            region: place.region.clone(),
            namespace: place.scf.namespace.clone(),
            function: job.request.function.clone(),
            alias: job.request.alias.clone(),
            dry_run: job.request.dry_run,
            log: place.log,
        }
    }
}
