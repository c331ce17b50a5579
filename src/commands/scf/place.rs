//! SCF at the run's region and namespace, as the shared runner connects a
//! place: one set of credentials (`TENCENTCLOUD_*`), no roles.

use crate::aws::Calls;
use crate::cli::scf::{DEFAULT_NAMESPACE, region};
use crate::cli::settings::Run;
use crate::commands::runner::Connect;
use crate::core::fleet::{AccountRegion, Place};
use crate::error::Result;
use crate::log::Log;
use crate::platform::Connection;
use crate::scf::Scf;
use crate::scf::client::Client;

/// SCF's API in one region and namespace.
pub struct ScfPlace {
    pub scf: Scf,
    pub log: Log,
    pub region: String,
}

impl Connection for ScfPlace {
    type P = Scf;

    fn platform(&self) -> &Scf {
        &self.scf
    }

    fn log(&self) -> &Log {
        &self.log
    }
}

impl Connect for ScfPlace {
    async fn connect_one(run: &Run, _calls: Calls) -> Result<ScfPlace> {
        let region = region(run.region.as_deref())?;
        let client = Client::from_env(&region, run.log)?;
        let namespace = run.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE);
        Ok(ScfPlace {
            scf: Scf::new(client, namespace, run.log),
            log: run.log,
            region,
        })
    }

    /// Each region and namespace once, with the run's one set of
    /// credentials. Its account-region is the namespace and the region:
    /// what a report names, and what a fleet's concurrency is counted in.
    /// A fleet's requests are paced per region (its namespaces share the
    /// region's pace, as they share its request quota).
    async fn connect_places(
        run: &Run,
        places: Vec<&Place>,
        calls: Calls,
    ) -> (Vec<(Place, ScfPlace, AccountRegion)>, Vec<String>) {
        let mut connected: Vec<(Place, ScfPlace, AccountRegion)> = Vec::new();
        let mut problems = Vec::new();
        for place in places {
            let region = match place.region.clone() {
                Some(region) => region,
                None => match region(run.region.as_deref()) {
                    Ok(region) => region,
                    Err(err) => {
                        problems.push(err.to_string());
                        continue;
                    }
                },
            };
            let namespace = place
                .namespace
                .clone()
                .or(run.namespace.clone())
                .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string());
            let lands = AccountRegion {
                account: namespace.clone(),
                region: region.clone(),
            };
            let log = run.log.at(lands.to_string());
            let paced = |client: Client| {
                let same_region = connected.iter().find(|(_, p, _)| p.region == region);
                match (same_region, calls) {
                    (Some((_, other, _)), _) => client.paced_like(other.scf.client()),
                    (None, Calls::Fleet { per_second }) => client.paced(per_second),
                    (None, Calls::One) => client,
                }
            };
            match Client::from_env(&region, log).map(paced) {
                Ok(client) => connected.push((
                    place.clone(),
                    ScfPlace {
                        scf: Scf::new(client, &namespace, log),
                        log,
                        region,
                    },
                    lands,
                )),
                Err(err) => problems.push(err.to_string()),
            }
        }
        problems.dedup();
        (connected, problems)
    }

    fn missing_function(&self, function: &str) -> String {
        format!(
            "SCF function {function} does not exist in namespace {} of {}: create it first (in the console, with tccli or the Serverless Framework); deploy then ships its code",
            self.scf.namespace, self.region
        )
    }

    async fn exists(&self, function: &str) -> Result<bool> {
        Ok(self.scf.function(function, None).await?.is_some())
    }

    fn region_shown(&self) -> Option<&str> {
        Some(&self.region)
    }

    fn place_shown(&self) -> (String, String) {
        (self.scf.namespace.clone(), self.region.clone())
    }
}
