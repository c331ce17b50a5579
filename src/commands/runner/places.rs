//! Connecting every place of a manifest once, and the read-only runs
//! across places (`status`, `prune`) with their combined report.

use super::*;

/// How a platform's runs connect: the run's one place, or every place of a
/// fleet once (each resolved to where its calls land, its quota's bucket),
/// and the reads every run makes of each target before its first write.
#[allow(async_fn_in_trait)]
pub trait Connect: Connection + Sized {
    /// The run's one place (no manifest).
    async fn connect_one(run: &Run, calls: Calls) -> Result<Self>;

    /// Every place once, connected and resolved; the places that could not
    /// be, named.
    async fn connect_places(
        run: &Run,
        places: Vec<&Place>,
        calls: Calls,
    ) -> (Vec<(Place, Self, AccountRegion)>, Vec<String>);

    /// A target this place cannot act on, refused by name.
    fn refuse_target(&self, _function: &str) -> Result<()> {
        Ok(())
    }

    /// Whether the function exists here.
    async fn exists(&self, function: &str) -> Result<bool>;

    /// Why a release cannot act on a function that does not exist here.
    fn missing_function(&self, function: &str) -> String {
        format!(
            "function {function} does not exist (a deploy creates it only from a --function-config naming its Role)"
        )
    }

    /// This place with its control-plane requests kept under `per_second`
    /// in every second, where the platform's quota asks for it.
    fn paced(self, _per_second: u32) -> Self {
        self
    }

    /// The region a one-function report names (SCF's reports say where
    /// they acted; Lambda's single-function reports do not).
    fn region_shown(&self) -> Option<&str> {
        None
    }

    /// The account (or scope) and region a fleet's report names for a
    /// target of this place.
    fn place_shown(&self) -> (String, String);

    /// The Parameter Store values a fleet's targets read, read once here
    /// (a platform without them: nothing to read).
    async fn read_parameters(&self, _names: &[String]) -> Result<()> {
        Ok(())
    }
}

impl Connect for Clients {
    async fn connect_one(run: &Run, calls: Calls) -> Result<Clients> {
        Clients::connect(run.region.as_deref(), calls, run.log).await
    }

    async fn connect_places(
        run: &Run,
        places: Vec<&Place>,
        calls: Calls,
    ) -> (Vec<(Place, Clients, AccountRegion)>, Vec<String>) {
        connect_lambda_places(run, places.into_iter(), calls).await
    }

    fn refuse_target(&self, function: &str) -> Result<()> {
        self.refuse_other_region(function)
    }

    fn paced(self, per_second: u32) -> Clients {
        Clients::paced(self, per_second)
    }

    async fn exists(&self, function: &str) -> Result<bool> {
        Ok(self.lambda.latest_if_exists(function).await?.is_some())
    }

    fn place_shown(&self) -> (String, String) {
        (
            self.account.get().cloned().unwrap_or_default(),
            self.region.clone(),
        )
    }

    async fn read_parameters(&self, names: &[String]) -> Result<()> {
        self.ssm.values(names).await.map(|_| ())
    }
}

/// Each place once, connected (its role assumed) and resolved to the
/// account-region its calls land in, and the places that could not be,
/// named. The run's own credentials' account is read once
/// (`sts:GetCallerIdentity`, which needs no permission) when a place has no
/// role. Places that land in one account-region (spelled differently, or
/// two roles of one account) share one pacer: Lambda's quota is the
/// account-region's, however many roles reach it.
async fn connect_lambda_places<'p>(
    run: &Run,
    of_targets: impl Iterator<Item = &'p Place>,
    calls: Calls,
) -> (Vec<(Place, Clients, AccountRegion)>, Vec<String>) {
    let mut places: Vec<&Place> = Vec::new();
    for place in of_targets {
        if !places.contains(&place) {
            places.push(place);
        }
    }
    let mut problems = Vec::new();
    // The run's own configuration, loaded once: its default region and, for
    // places without a role, its account; the base every role is assumed from.
    let own = match Clients::connect(run.region.as_deref(), Calls::One, run.log).await {
        Ok(own) => own,
        Err(err) => return (Vec::new(), vec![err.to_string()]),
    };
    let own_region = own.region.clone();
    let mut own_account = None;
    if places.iter().any(|p| p.role.is_none()) {
        match own.account().await {
            Ok(account) => own_account = Some(account),
            Err(err) => return (Vec::new(), vec![err.to_string()]),
        }
    }
    let lands_of = |place: &Place| AccountRegion {
        account: place
            .account()
            .map(str::to_string)
            .or_else(|| own_account.clone())
            .unwrap_or_default(),
        region: place.region.clone().unwrap_or_else(|| own_region.clone()),
    };
    let mut buckets: Vec<AccountRegion> = places.iter().map(|p| lands_of(p)).collect();
    buckets.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
    buckets.dedup();
    let several = buckets.len() > 1;
    // Each role assumed once, however many regions its targets are in.
    let mut roles: Vec<(&Role, crate::aws::Assumed)> = Vec::new();
    for role in places.iter().filter_map(|p| p.role.as_ref()) {
        if roles.iter().any(|(known, _)| *known == role) {
            continue;
        }
        match assume_once(&own.config, role, run.log).await {
            Ok(assumed) => roles.push((role, assumed)),
            Err(err) => problems.push(err.to_string()),
        }
    }
    if !problems.is_empty() {
        return (Vec::new(), problems);
    }
    let mut connected: Vec<(Place, Clients, AccountRegion)> = Vec::new();
    for place in places {
        let lands = lands_of(place);
        // Several account-regions: each line of narration names its own.
        let log = if several {
            run.log.at(lands.to_string())
        } else {
            run.log
        };
        let assumed = place
            .role
            .as_ref()
            .and_then(|role| roles.iter().find(|(known, _)| *known == role))
            .map(|(_, assumed)| assumed);
        match Clients::connect_at(place, run.region.as_deref(), calls, log, assumed).await {
            Ok(mut clients) => {
                if let Some(account) = &own_account
                    && place.role.is_none()
                {
                    let _ = clients.account.set(account.clone());
                }
                if let Some((_, first, _)) = connected.iter().find(|(_, _, l)| *l == lands) {
                    clients.lambda = clients.lambda.paced_like(&first.lambda);
                    clients.cloudwatch = clients.cloudwatch.paced_like(&first.cloudwatch);
                }
                connected.push((place.clone(), clients, lands));
            }
            Err(err) => problems.push(format!("{place}: {err}")),
        }
    }
    (connected, problems)
}

/// A read or a per-function job (`status`, `prune`) over a manifest's
/// targets: every place is connected first (a role that cannot be assumed
/// stops the run, exit 2, before any request to a function), then `job`
/// runs for each target — the places at once, one target at a time in
/// each, at each place's own pace. The results keep the manifest's order,
/// each with the target's name (`ACCOUNT/REGION/function` when the run
/// spans several places).
pub async fn across_places<T, R, C: Connect>(
    run: &Run,
    targets: &[T],
    place_of: impl Fn(&T) -> &Place,
    calls: Calls,
    job: impl AsyncFn(&C, &T) -> Result<R>,
) -> Result<Vec<(String, Result<R>)>>
where
    T: TargetName,
{
    let (connected, problems) = C::connect_places(run, targets.iter().map(&place_of).collect(), calls).await;
    if !problems.is_empty() {
        return Err(Error::usage(format!(
            "could not connect, so nothing was read or written:\n  - {}",
            problems.join("\n  - ")
        )));
    }
    let several_places = connected.iter().any(|(_, _, l)| *l != connected[0].2);
    let per_place = connected.iter().map(|(place, clients, lands)| {
        let (job, place_of) = (&job, &place_of);
        async move {
            let mut done = Vec::new();
            for (index, target) in targets.iter().enumerate().filter(|(_, t)| place_of(t) == place) {
                clients.refuse_target(target.function())?;
                done.push((
                    index,
                    target.name_at(lands, several_places),
                    job(clients, target).await,
                ));
            }
            Ok::<_, Error>(done)
        }
    });
    let mut results = Vec::new();
    for done in futures_util::future::join_all(per_place).await {
        results.extend(done?);
    }
    results.sort_by_key(|(index, _, _)| *index);
    Ok(results
        .into_iter()
        .map(|(_, name, result)| (name, result))
        .collect())
}

/// How [`across_places`] names a target in reports.
pub trait TargetName {
    fn function(&self) -> &str;
    /// Its name, with the account-region it lands in when the run spans several.
    fn name_at(&self, lands: &AccountRegion, several_places: bool) -> String;
}

impl TargetName for Target {
    fn function(&self) -> &str {
        &self.function
    }
    fn name_at(&self, lands: &AccountRegion, several_places: bool) -> String {
        if several_places {
            format!("{lands}/{}:{}", self.function, self.alias)
        } else {
            format!("{}:{}", self.function, self.alias)
        }
    }
}

/// Report what [`across_places`] gave: each report named for its target
/// (`name_into`), the ones that worked printed (with one output `gathered`
/// from each when given), then the ones that failed named in one error.
pub fn report_across<R: report::Report>(
    results: Vec<(String, Result<R>)>,
    json: bool,
    name_into: impl Fn(&mut R, String),
    gathered: Option<(&str, impl Fn(&R) -> (String, serde_json::Value))>,
) -> Result<()> {
    let named = results
        .into_iter()
        .map(|(name, result)| {
            let result = result.map(|mut report| {
                name_into(&mut report, name.clone());
                report
            });
            (name, result)
        })
        .collect();
    let (reports, failed) = split_failures(named);
    report::output::emit_many(&reports, json, gathered)?;
    match failed {
        Some(err) => Err(Error::Reported(Box::new(err))),
        None => Ok(()),
    }
}

/// The results of [`across_places`] that worked, and an error naming each
/// target that failed (for after the others are reported: exit 2 if one
/// failed on its input, such as a function that does not exist, else 1).
pub(super) fn split_failures<R>(results: Vec<(String, Result<R>)>) -> (Vec<R>, Option<Error>) {
    let total = results.len();
    let mut done = Vec::new();
    let mut failed = Vec::new();
    let mut usage = false;
    for (name, result) in results {
        match result {
            Ok(report) => done.push(report),
            Err(err) => {
                usage |= matches!(err, Error::Usage(_));
                failed.push(format!("{name}: {err}"));
            }
        }
    }
    if failed.is_empty() {
        return (done, None);
    }
    let message = format!(
        "{} of {total} targets failed:\n  - {}",
        failed.len(),
        failed.join("\n  - ")
    );
    (
        done,
        Some(if usage {
            Error::Usage(message)
        } else {
            Error::Failed(message)
        }),
    )
}
