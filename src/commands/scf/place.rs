//! SCF at the run's region and namespace, as the shared runner connects a
//! place: one set of credentials (`TENCENTCLOUD_*`), no roles.

use crate::aws::Calls;
use crate::cli::scf::{DEFAULT_NAMESPACE, manifest_refused, region};
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

    async fn connect_places(
        _run: &Run,
        _places: Vec<&Place>,
        _calls: Calls,
    ) -> (Vec<(Place, ScfPlace, AccountRegion)>, Vec<String>) {
        (Vec::new(), vec![manifest_refused().to_string()])
    }

    async fn exists(&self, function: &str) -> Result<bool> {
        Ok(self.scf.function(function, None).await?.is_some())
    }

    fn region_shown(&self) -> Option<&str> {
        Some(&self.region)
    }

    async fn place_shown(&self) -> (String, String) {
        (self.scf.namespace.clone(), self.region.clone())
    }
}
