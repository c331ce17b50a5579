//! SCF at one region and namespace, as the shared commands reach it: the
//! runner's connection of a place (one set of credentials,
//! `TENCENTCLOUD_*`; no roles) and `deploy`'s release steps there. Every
//! other step is the provider's (`scf::platform`).

use std::time::SystemTime;

use crate::aws::Calls;
use crate::cli::settings::{DeployJob, DeployRequest, Run};
use crate::commands::deploy::checks::preflight_by_look;
use crate::commands::deploy::release::{Code, Deploy, Release};
use crate::commands::runner::Connect;
use crate::core::fleet::{AccountRegion, Place};
use crate::core::judge::Counts;
use crate::core::judge::latency::{Query, Side};
use crate::core::observed::Observed;
use crate::core::plan::Plan;
use crate::error::{Error, Result};
use crate::log::Log;
use crate::package::Package;
use crate::platform::{Connection, Look};
use crate::scf::Scf;
use crate::scf::client::Client;
use crate::scf::limits::{DEFAULT_NAMESPACE, region};
use crate::scf::{observe, release};

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

    /// Each version's counts, whichever way it was invoked (SCF's metrics
    /// are per version, not per alias).
    async fn counts(
        &self,
        (function, _alias): (&str, &str),
        versions: (&str, &str),
        since: SystemTime,
    ) -> Result<Option<(Counts, Counts)>> {
        Ok(Some(self.scf.counts(function, versions, since).await?))
    }

    /// The mean duration of each version (SCF publishes no percentiles:
    /// `cli` refuses them). A version without invocations has no mean: the
    /// query is left out, as a statistic without data is.
    async fn latency(
        &self,
        (function, _alias): (&str, &str),
        versions: (&str, &str),
        since: SystemTime,
        queries: &[Query],
    ) -> Result<Option<Vec<(Query, f64)>>> {
        if let Some(query) = queries.iter().find(|q| q.statistic != "Average") {
            return Err(Error::usage(format!(
                "SCF publishes no {} of a version's duration, only its mean",
                query.statistic
            )));
        }
        let (canary, stable) = self.scf.mean_duration(function, versions, since).await?;
        Ok(Some(
            queries
                .iter()
                .filter_map(|q| {
                    let mean = match q.side {
                        Side::Canary => canary,
                        Side::Stable => stable,
                    };
                    mean.map(|m| (q.clone(), m))
                })
                .collect(),
        ))
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

impl Release for ScfPlace {
    const IDENTITY: &'static str = "SHA-256";

    fn identify(mut package: Package) -> Package {
        package.code_sha256 = release::hex_sha256(&package.zip);
        package
    }

    fn check_zip(package: &Package, _staged: bool) -> Result<()> {
        release::check_zip(package)
    }

    async fn observe_release(&self, function: &str, alias: &str) -> Result<Look> {
        let look = observe::look(&self.scf, function, alias, true).await?;
        Ok(Look {
            observed: look.observed,
            alias: look.alias,
        })
    }

    fn refuse_unfit(&self, request: &DeployRequest, image: bool, observed: &Observed) -> Result<()> {
        let (function, alias) = (request.function.as_str(), request.alias.as_str());
        if image {
            return Err(Error::usage(
                "with --platform scf, give --source DIR or --zip-file FILE",
            ));
        }
        if observed.function_missing {
            return Err(Error::usage(self.missing_function(function)));
        }
        if observed
            .alias
            .as_ref()
            .is_some_and(|a| a.primary.version == "$LATEST")
        {
            return Err(Error::usage(format!(
                "alias {function}:{alias} serves $LATEST, so uploading the release would move all of its traffic at once: point the alias at a published version first (`lambda-rollout promote --platform scf ... --version N`), then deploy"
            )));
        }
        Ok(())
    }

    async fn preflight(&self, job: &DeployJob, identity: Option<&str>) -> Result<()> {
        preflight_by_look(self, job, identity.unwrap_or_default()).await
    }

    async fn publish_code(
        &self,
        deploy: Deploy<'_, Self>,
        _observed: &Observed,
        plan: &Plan,
    ) -> Result<Option<String>> {
        let Code::Zip(package) = deploy.code else {
            return Err(Error::usage(
                "with --platform scf, give --source DIR or --zip-file FILE",
            ));
        };
        let request = deploy.request;
        self.scf
            .publish_release(release::Release {
                function: &request.function,
                plan,
                config: request.config.as_ref(),
                package,
                description: &request.description,
            })
            .await
    }

    async fn smoke(&self, function: &str, version: &str, payload: &[u8]) -> std::result::Result<(), String> {
        let event = String::from_utf8_lossy(payload);
        match self.scf.invoke(function, version, &event).await {
            Ok(invoked) => match invoked.error {
                None => Ok(()),
                Some(error) => Err(format!(
                    "the smoke invoke of version {version} returned a function error: {}",
                    error.chars().take(300).collect::<String>()
                )),
            },
            Err(e) => Err(e.to_string()),
        }
    }
}
