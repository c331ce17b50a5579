//! Listings (versions, aliases, what holds a version), provisioned
//! concurrency, and the delete of a version.

use super::*;

impl Lambda {
    /// Every item of a listing, one paced request a page (narrated as
    /// `call`): `page(marker)` returns a page's items and the next marker.
    pub(in crate::aws) async fn all_pages<T, Fut>(
        &self,
        call: &str,
        mut page: impl FnMut(Option<String>) -> Fut,
    ) -> Result<Vec<T>>
    where
        Fut: std::future::Future<Output = Result<(Vec<T>, Option<String>)>>,
    {
        let mut found = Vec::new();
        let mut marker = None;
        loop {
            self.pace().await;
            self.log.detail(call);
            let (items, next) = page(marker).await?;
            found.extend(items);
            match next {
                Some(next) => marker = Some(next),
                None => return Ok(found),
            }
        }
    }

    /// Every published version of the function (not `$LATEST`), with the
    /// date each was published. Read-only.
    pub async fn list_versions(&self, function: &str) -> Result<Vec<Published>> {
        self.all_pages(
            &format!("ListVersionsByFunction {function}"),
            |marker| async move {
                let request = self.client.list_versions_by_function().function_name(function);
                let page = request
                    .set_marker(marker)
                    .max_items(50)
                    .send()
                    .await
                    .map_err(|e| classify(&e).reading(&format!("the versions of {function}")))?;
                let versions = page.versions().iter().filter(|v| v.version() != Some("$LATEST"));
                let items = versions
                    .map(|v| Published {
                        version: v.version().unwrap_or_default().to_string(),
                        published: v.last_modified().and_then(parse_last_modified),
                    })
                    .collect();
                Ok((items, page.next_marker().map(str::to_string)))
            },
        )
        .await
    }

    /// Every alias of the function: what it routes to, and its description.
    pub async fn list_aliases(&self, function: &str) -> Result<Vec<AliasRoutes>> {
        self.all_pages(&format!("ListAliases {function}"), |marker| async move {
            let request = self
                .client
                .list_aliases()
                .function_name(function)
                .set_marker(marker);
            let page = request
                .send()
                .await
                .map_err(|e| classify(&e).reading(&format!("the aliases of {function}")))?;
            let items = page
                .aliases()
                .iter()
                .map(|alias| AliasRoutes {
                    name: alias.name().unwrap_or_default().to_string(),
                    primary: alias.function_version().unwrap_or_default().to_string(),
                    canary: alias
                        .routing_config()
                        .and_then(|r| r.additional_version_weights())
                        .and_then(|w| w.keys().next().cloned()),
                    description: alias.description().unwrap_or_default().to_string(),
                })
                .collect();
            Ok((items, page.next_marker().map(str::to_string)))
        })
        .await
    }

    /// The versions that carry a provisioned-concurrency configuration of
    /// their own (an alias's configuration protects the versions it routes
    /// to already). A function without any is an empty list; an emulator that
    /// does not serve the call answers "not found", read the same way.
    pub async fn provisioned_versions(&self, function: &str) -> Result<Vec<String>> {
        self.all_pages(
            &format!("ListProvisionedConcurrencyConfigs {function}"),
            |marker| async move {
                let request = self
                    .client
                    .list_provisioned_concurrency_configs()
                    .function_name(function);
                let page = match request.set_marker(marker).send().await {
                    Ok(page) => page,
                    Err(e) if classify(&e).kind == Kind::NotFound => return Ok((Vec::new(), None)),
                    Err(e) => {
                        let what = format!("the provisioned-concurrency configurations of {function}");
                        return Err(classify(&e).reading(&what));
                    }
                };
                let qualifiers = page
                    .provisioned_concurrency_configs()
                    .iter()
                    .filter_map(|config| config.function_arn()?.rsplit(':').next().map(str::to_string));
                let items = qualifiers
                    .filter(|q| q.bytes().all(|b| b.is_ascii_digit()))
                    .collect();
                Ok((items, page.next_marker().map(str::to_string)))
            },
        )
        .await
    }

    /// The versions of `function_arn` that an event source mapping names by
    /// version ARN, with the mappings' ids. All mappings are listed (a
    /// listing by function name may leave out those bound to a version).
    pub async fn mapped_versions(&self, function_arn: &str) -> Result<Vec<(String, String)>> {
        let prefix = format!("{function_arn}:");
        let prefix = prefix.as_str();
        self.all_pages("ListEventSourceMappings", |marker| async move {
            let request = self.client.list_event_source_mappings().set_marker(marker);
            let page = request
                .send()
                .await
                .map_err(|e| classify(&e).reading("the event source mappings"))?;
            let mut items = Vec::new();
            for mapping in page.event_source_mappings() {
                let version = mapping.function_arn().and_then(|arn| arn.strip_prefix(prefix));
                if let Some(version) = version.filter(|v| v.bytes().all(|b| b.is_ascii_digit())) {
                    items.push((
                        version.to_string(),
                        mapping.uuid().unwrap_or_default().to_string(),
                    ));
                }
            }
            Ok((items, page.next_marker().map(str::to_string)))
        })
        .await
    }

    /// The provisioned concurrency configured on `alias`, if any. An alias
    /// without one is `None` (as is an emulator that does not serve the call:
    /// it answers "not found").
    pub async fn alias_provisioned(&self, function: &str, alias: &str) -> Result<Option<Provisioned>> {
        self.pace().await;
        self.log
            .detail(&format!("GetProvisionedConcurrencyConfig {function}:{alias}"));
        match self
            .client
            .get_provisioned_concurrency_config()
            .function_name(function)
            .qualifier(alias)
            .send()
            .await
        {
            Ok(config) => Ok(Some(Provisioned {
                requested: config
                    .requested_provisioned_concurrent_executions()
                    .unwrap_or_default(),
                allocated: config
                    .allocated_provisioned_concurrent_executions()
                    .unwrap_or_default(),
                status: config
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                reason: config.status_reason().unwrap_or_default().to_string(),
            })),
            Err(e) if classify(&e).kind == Kind::NotFound => Ok(None),
            Err(e) => {
                let what = format!("the provisioned concurrency of alias {function}:{alias}");
                Err(classify(&e).reading(&what))
            }
        }
    }

    /// Wait until the provisioned concurrency on `alias` is ready (Lambda
    /// moves the alias's traffic to a new version only then), at most
    /// [`WAIT_LIMIT`] twice over. A failed allocation is an error.
    pub async fn wait_provisioned(&self, function: &str, alias: &str) -> Result<()> {
        let limit = 2 * WAIT_LIMIT;
        self.log.step(&format!(
            "waiting (at most {}s) for the provisioned concurrency of alias {alias} to be ready on the new version",
            limit.as_secs()
        ));
        let started = std::time::Instant::now();
        loop {
            let state = self.alias_provisioned(function, alias).await?;
            match state {
                None => return Ok(()),
                Some(p) if p.status == "READY" => {
                    self.log.step(&format!(
                        "provisioned concurrency of alias {alias} ready: {} of {} allocated",
                        p.allocated, p.requested
                    ));
                    return Ok(());
                }
                Some(p) if p.status == "FAILED" => {
                    return Err(Error::failed(format!(
                        "the provisioned concurrency of alias {function}:{alias} could not be allocated on the new version ({}); Lambda keeps serving the old one",
                        p.reason
                    )));
                }
                Some(p) if started.elapsed() >= limit => {
                    return Err(Error::failed(format!(
                        "the provisioned concurrency of alias {function}:{alias} was still {} ({} of {} allocated) after {}s",
                        p.status,
                        p.allocated,
                        p.requested,
                        limit.as_secs()
                    )));
                }
                Some(_) => tokio::time::sleep(PROVISIONED_POLL).await,
            }
        }
    }

    /// Delete one published version. `false` when it was already gone.
    pub async fn delete_version(&self, function: &str, version: &str) -> Result<bool> {
        self.pace().await;
        self.log.detail(&format!("DeleteFunction {function}:{version}"));
        match self
            .client
            .delete_function()
            .function_name(function)
            .qualifier(version)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if classify(&e).kind == Kind::NotFound => Ok(false),
            Err(e) => Err(classify(&e).failed(&format!("delete version {version} of {function}"))),
        }
    }
}
