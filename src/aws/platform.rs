//! Lambda behind the platform seam: each step is one of `Lambda`'s own
//! requests (paced, classified, recorded as before).

use crate::aws::Clients;
use crate::aws::Lambda;
use crate::core::entry::EntryPoints;
use crate::core::judge::Counts;
use crate::core::judge::custom::CustomMetric;
use crate::core::judge::latency::{Query, Side};
use crate::core::observed::{AliasNow, Moved, Provisioned, Split, VersionDetails};
use crate::core::prune::{AliasRoutes, Published};
use crate::error::{Error, Result};
use crate::log::Log;
use crate::platform::{AliasGuard, Capabilities, Connection, Look, Platform, Service};

pub const LAMBDA: Capabilities = Capabilities {
    name: "Lambda",
    flag: "lambda",
    images: Service::Supported,
    staging_uploads: Service::Supported,
    function_urls: Service::Supported,
    metrics: Service::Supported,
    alarms: Service::Supported,
    percentiles: Service::Supported,
    custom_metrics: Service::Supported,
    handoff: Service::Supported,
    alias_guard: AliasGuard::Revision,
    header_routing: false,
};

impl Platform for Lambda {
    fn capabilities(&self) -> &'static Capabilities {
        &LAMBDA
    }

    async fn function_id(&self, function: &str) -> Result<String> {
        Ok(self.latest(function).await?.0)
    }

    async fn look(&self, function: &str, alias: &str) -> Result<Look> {
        let observed = self.observe(function, alias).await?;
        let alias = observed.alias.as_ref().map(AliasNow::of);
        Ok(Look { observed, alias })
    }

    async fn version(&self, function: &str, version: &str) -> Result<VersionDetails> {
        Lambda::version(self, function, version).await
    }

    async fn named_version(&self, function: &str, version: &str) -> Result<VersionDetails> {
        Lambda::named_version(self, function, version).await
    }

    async fn named_alias(&self, function: &str, alias: &str) -> Result<AliasNow> {
        Lambda::named_alias(self, function, alias).await
    }

    fn missing_alias(&self, function: &str, alias: &str) -> Error {
        Error::failed(format!(
            "alias {function}:{alias} does not exist, so there is nothing to act on yet: `deploy` creates it on the first deploy, and `promote --version N` or `promote --from-alias OTHER` creates it on a published version"
        ))
    }

    async fn create_alias(&self, function: &str, alias: &str, version: &str) -> Result<String> {
        Lambda::create_alias(self, function, alias, version).await
    }

    async fn entry_points(&self, function: &str, function_id: &str, alias: &str) -> Result<EntryPoints> {
        Lambda::entry_points(self, function, function_id, alias).await
    }

    async fn alias_provisioned(&self, function: &str, alias: &str) -> Result<Option<Provisioned>> {
        Lambda::alias_provisioned(self, function, alias).await
    }

    async fn wait_provisioned(&self, function: &str, alias: &str) -> Result<()> {
        Lambda::wait_provisioned(self, function, alias).await
    }

    async fn alias_now(&self, function: &str, alias: &str) -> Result<Option<AliasNow>> {
        self.alias_if_exists(function, alias).await
    }

    async fn update_alias(&self, function: &str, alias: &str, to: &AliasNow, found: &AliasNow) -> Result<()> {
        let canary = match &to.canary {
            None => None,
            Some((version, Split::Weight(weight))) => Some((version.as_str(), *weight)),
            Some((_, split)) => {
                return Err(Error::usage(format!(
                    "alias {function}:{alias}: Lambda aliases route by weight only, not by {}",
                    split.rule_text()
                )));
            }
        };
        let description = (to.description != found.description).then_some(to.description.as_str());
        Lambda::update_alias(self, function, alias, &to.primary, canary, description, found).await?;
        Ok(())
    }

    async fn list_aliases(&self, function: &str) -> Result<Vec<AliasRoutes>> {
        Lambda::list_aliases(self, function).await
    }

    async fn list_versions(&self, function: &str) -> Result<Vec<Published>> {
        Lambda::list_versions(self, function).await
    }

    async fn holds(&self, function: &str, function_id: &str) -> Result<Vec<(String, String)>> {
        let mut holds: Vec<(String, String)> = self
            .provisioned_versions(function)
            .await?
            .into_iter()
            .map(|version| (version, "it has provisioned concurrency".to_string()))
            .collect();
        for (version, mapping) in self.mapped_versions(function_id).await? {
            holds.push((version, format!("event source mapping {mapping} names it")));
        }
        Ok(holds)
    }

    async fn delete_version(&self, function: &str, version: &str) -> Result<bool> {
        Lambda::delete_version(self, function, version).await
    }

    fn moved(&self, function: &str, alias: &str) -> Option<Moved> {
        Lambda::moved(self, function, alias)
    }
}

/// Lambda at one account-region: its client set, alarms read in CloudWatch.
impl Connection for Clients {
    type P = Lambda;

    fn platform(&self) -> &Lambda {
        &self.lambda
    }

    fn log(&self) -> &Log {
        &self.log
    }

    async fn alarms_firing(&self, names: &[String]) -> Result<Vec<(String, String)>> {
        self.cloudwatch.alarms_firing(names).await
    }

    async fn counts(
        &self,
        target: (&str, &str),
        versions: (&str, &str),
        since: std::time::SystemTime,
    ) -> Result<Option<(Counts, Counts)>> {
        Ok(Some(self.cloudwatch.counts(target, versions, since).await?))
    }

    async fn latency(
        &self,
        target: (&str, &str),
        versions: (&str, &str),
        since: std::time::SystemTime,
        queries: &[Query],
    ) -> Result<Option<Vec<(Query, f64)>>> {
        Ok(Some(
            self.cloudwatch.latency(target, versions, since, queries).await?,
        ))
    }

    async fn custom(
        &self,
        target: (&str, &str),
        versions: (&str, &str),
        since: std::time::SystemTime,
        metrics: &[CustomMetric],
    ) -> Result<Option<Vec<(usize, Side, f64)>>> {
        Ok(Some(
            self.cloudwatch.custom(target, versions, since, metrics).await?,
        ))
    }
}
