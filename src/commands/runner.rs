//! How a command runs: for one function, or for every function of a
//! manifest (a few at once, in the manifest's order), and once more after a
//! concurrent change.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;

use crate::aws::Lambda;
use crate::aws::{Calls, Clients, assume_once};
use crate::cli::manifest::WaveOf;
use crate::cli::settings::{DeployJob, Fleet, Run, Target};
use crate::core::fleet::{
    AccountRegion, Ending, Intent, Place, Resolved, Role, refused_targets, target_name,
};
use crate::core::observed::{AliasState, Standing};
use crate::core::plan::AliasChange;
use crate::core::plan::Outcome;
use crate::core::values::function_name_of;
use crate::core::waves::{TargetKey, Tolerance, assign};
use crate::error::{Error, Result};
use crate::log::Log;
use crate::report::{self, AliasReport, FunctionResult};

/// A job that names the function and alias it acts on, and where its calls
/// go (for the fleet's clients, preflight and report).
pub trait Named {
    fn names(&self) -> (&str, &str);
    fn place(&self) -> &Place;
    fn wave(&self) -> &WaveOf;
    /// Whether a missing function is fine (a deploy that creates it).
    fn may_be_missing(&self) -> bool {
        false
    }
    /// The alarms its own rollout's gates watch.
    fn gate_alarms(&self) -> Vec<String> {
        Vec::new()
    }
    /// The alarms watched in its account-region after its wave's traffic
    /// moved and while it bakes: the wave's, and its rollout's gate alarms.
    fn bake_alarms(&self) -> Vec<String> {
        let mut alarms = self.wave().alarms.clone();
        for alarm in self.gate_alarms() {
            if !alarms.contains(&alarm) {
                alarms.push(alarm);
            }
        }
        alarms
    }
    /// The Parameter Store names its release reads (`FromParameter`).
    fn parameters(&self) -> Vec<String> {
        Vec::new()
    }
}

impl Named for Target {
    fn names(&self) -> (&str, &str) {
        (&self.function, &self.alias)
    }
    fn place(&self) -> &Place {
        &self.place
    }
    fn wave(&self) -> &WaveOf {
        &self.wave
    }
}

impl<T: Named> Named for &T {
    fn names(&self) -> (&str, &str) {
        (**self).names()
    }
    fn place(&self) -> &Place {
        (**self).place()
    }
    fn wave(&self) -> &WaveOf {
        (**self).wave()
    }
    fn may_be_missing(&self) -> bool {
        (**self).may_be_missing()
    }
    fn gate_alarms(&self) -> Vec<String> {
        (**self).gate_alarms()
    }
    fn parameters(&self) -> Vec<String> {
        (**self).parameters()
    }
}

impl Named for DeployJob {
    fn names(&self) -> (&str, &str) {
        (&self.request.function, &self.request.alias)
    }
    fn place(&self) -> &Place {
        &self.place
    }
    fn wave(&self) -> &WaveOf {
        &self.wave
    }
    fn may_be_missing(&self) -> bool {
        self.request.config.as_ref().is_some_and(|c| c.role.is_some())
    }
    fn gate_alarms(&self) -> Vec<String> {
        self.request
            .rollout
            .iter()
            .flat_map(|r| r.gates.alarms.clone())
            .collect()
    }
    fn parameters(&self) -> Vec<String> {
        self.request
            .config
            .iter()
            .flat_map(|c| &c.environment)
            .flat_map(|e| e.parameters.values().cloned())
            .collect()
    }
}

/// A job in the wave it runs in: the manifest's `[[waves]]` assigned again
/// once preflight knows every target's account and region (a wave's
/// `accounts` selector sees the account the run's own credentials act in,
/// its `regions` the region an entry without one lands in).
struct InWave<'j, J> {
    job: &'j J,
    wave: WaveOf,
}

impl<J: Named> Named for InWave<'_, J> {
    fn names(&self) -> (&str, &str) {
        self.job.names()
    }
    fn place(&self) -> &Place {
        self.job.place()
    }
    fn wave(&self) -> &WaveOf {
        &self.wave
    }
    fn may_be_missing(&self) -> bool {
        self.job.may_be_missing()
    }
    fn gate_alarms(&self) -> Vec<String> {
        self.job.gate_alarms()
    }
    fn parameters(&self) -> Vec<String> {
        self.job.parameters()
    }
}

/// Each job in its wave: `run.waves` (a deploy's `[[waves]]`) assigned over
/// the resolved targets; without them, the wave each job already has.
fn in_resolved_waves<'j, J: Named>(run: &Run, jobs: &'j [J], naming: &Naming) -> Result<Vec<InWave<'j, J>>> {
    if run.waves.is_empty() {
        return Ok(jobs
            .iter()
            .map(|job| InWave {
                job,
                wave: job.wave().clone(),
            })
            .collect());
    }
    let keys: Vec<TargetKey> = jobs
        .iter()
        .map(|job| {
            let lands = naming.lands(job);
            TargetKey {
                region: lands.map(|l| l.region.clone()).unwrap_or_default(),
                account: lands.map(|l| l.account.clone()).unwrap_or_default(),
                function: function_name_of(job.names().0).to_string(),
                own_credentials: job.place().role.is_none(),
            }
        })
        .collect();
    let assigned = assign(&run.waves, &keys).map_err(|why| {
        Error::usage(format!(
            "--manifest: {why} (the waves are assigned by each target's account and region, as the run resolved them), so nothing was written"
        ))
    })?;
    Ok(jobs
        .iter()
        .zip(assigned)
        .map(|(job, index)| InWave {
            job,
            wave: WaveOf::of(&run.waves, index),
        })
        .collect())
}

/// How a fleet's reports name one target, and the account and region they
/// show for it (empty when the run has one account-region).
struct Naming {
    several_places: bool,
    /// Each place's account-region, as preflight resolved it.
    lands: Vec<(Place, AccountRegion)>,
}

impl Naming {
    fn of(connected: &[(Place, Clients, AccountRegion)]) -> Naming {
        let lands: Vec<(Place, AccountRegion)> =
            connected.iter().map(|(p, _, l)| (p.clone(), l.clone())).collect();
        let several_places = lands.iter().any(|(_, l)| *l != lands[0].1);
        Naming {
            several_places,
            lands,
        }
    }

    fn lands<J: Named>(&self, job: &J) -> Option<&AccountRegion> {
        self.lands
            .iter()
            .find(|(place, _)| place == job.place())
            .map(|(_, lands)| lands)
    }

    fn target<J: Named>(&self, job: &J) -> String {
        let (function, alias) = job.names();
        match self.lands(job).filter(|_| self.several_places) {
            Some(lands) => format!("{lands}/{function}:{alias}"),
            None => target_name(job.place(), function, alias, self.several_places),
        }
    }

    fn account_region<J: Named>(&self, job: &J) -> (String, String) {
        match self.lands(job).filter(|_| self.several_places) {
            Some(lands) => (lands.account.clone(), lands.region.clone()),
            None => (String::new(), String::new()),
        }
    }

    /// The quota bucket a job's calls count against (its account-region;
    /// its place before preflight resolved it).
    fn bucket<J: Named>(&self, job: &J) -> String {
        match self.lands(job) {
            Some(lands) => lands.to_string(),
            None => job.place().to_string(),
        }
    }
}

/// Each place once, connected (its role assumed) and resolved to the
/// account-region its calls land in, and the places that could not be,
/// named. The run's own credentials' account is read once
/// (`sts:GetCallerIdentity`, which needs no permission) when a place has no
/// role. Places that land in one account-region (spelled differently, or
/// two roles of one account) share one pacer: Lambda's quota is the
/// account-region's, however many roles reach it.
async fn connect_places<'p>(
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
pub async fn across_places<T, R>(
    run: &Run,
    targets: &[T],
    place_of: impl Fn(&T) -> &Place,
    calls: Calls,
    job: impl AsyncFn(&Clients, &T) -> Result<R>,
) -> Result<Vec<(String, Result<R>)>>
where
    T: TargetName,
{
    let (connected, problems) = connect_places(run, targets.iter().map(&place_of), calls).await;
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
                clients.refuse_other_region(target.function())?;
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
fn split_failures<R>(results: Vec<(String, Result<R>)>) -> (Vec<R>, Option<Error>) {
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

/// Every place of the fleet connected (roles assumed), then every target
/// read — and `check`ed, the command's own reads — before the first write
/// anywhere. Problems are all named at once.
async fn preflight<J: Named>(
    run: &Run,
    jobs: &[J],
    calls: Calls,
    intent: Intent,
    check: &impl AsyncFn(&Clients, &J) -> Result<()>,
) -> Result<(Vec<(Place, Clients, AccountRegion)>, Naming)> {
    let (connected, mut problems) = connect_places(run, jobs.iter().map(Named::place), calls).await;
    let naming = Naming::of(&connected);
    if problems.is_empty() {
        let resolved: Vec<Resolved> = jobs
            .iter()
            .filter_map(|job| {
                let (function, alias) = job.names();
                Some(Resolved {
                    function,
                    alias,
                    spelled: job.place(),
                    lands: naming.lands(job)?,
                })
            })
            .collect();
        problems.extend(refused_targets(&resolved));
    }
    if problems.is_empty() {
        let reads = futures_util::stream::iter(jobs)
            .map(|job| {
                let clients = &connected
                    .iter()
                    .find(|(place, _, _)| place == job.place())
                    .expect("every place is connected")
                    .1;
                async move {
                    let function = job.names().0;
                    clients.refuse_other_region(function)?;
                    match clients.lambda.latest_if_exists(function).await? {
                        None if !job.may_be_missing() => Err(Error::failed(format!(
                            "function {function} does not exist (a deploy creates it only from a --function-config naming its Role)"
                        ))),
                        None => Ok(()),
                        Some(_) => check(clients, job).await,
                    }
                }
            })
            .buffered(16)
            .collect::<Vec<Result<()>>>()
            .await;
        for (job, read) in jobs.iter().zip(reads) {
            if let Err(err) = read {
                problems.push(format!("{}: {err}", naming.target(job)));
            }
        }
        // The alarms a release's waves and gates watch: each place reads
        // the ones its targets name, once, so that a name that exists
        // nowhere stops the run before any write (a gate on nothing guards
        // nothing). A promotion or rollback reads no alarm.
        if intent.in_waves() {
            let mut read: Vec<&AccountRegion> = Vec::new();
            for (_, clients, lands) in &connected {
                // Two roles (or spellings) of one account-region: read once.
                if read.contains(&lands) {
                    continue;
                }
                read.push(lands);
                let mut names: Vec<String> = jobs
                    .iter()
                    .filter(|job| naming.lands(*job) == Some(lands))
                    .flat_map(Named::bake_alarms)
                    .collect();
                names.sort();
                names.dedup();
                if let Err(err) = clients.cloudwatch.alarms_firing(&names).await {
                    problems.push(if naming.several_places {
                        format!("{lands}: {err}")
                    } else {
                        err.to_string()
                    });
                }
            }
        }
        // Values from Parameter Store: each place reads the names its
        // targets use, once, so that one missing anywhere stops the run
        // before any place writes. (Each deploy reads them again, for the
        // values it ships.)
        for (place, clients, lands) in &connected {
            let mut names: Vec<String> = jobs
                .iter()
                .filter(|job| job.place() == place)
                .flat_map(Named::parameters)
                .collect();
            names.sort();
            names.dedup();
            if names.is_empty() {
                continue;
            }
            if let Err(err) = clients.ssm.values(&names).await {
                problems.push(if naming.several_places {
                    format!("{lands}: {err}")
                } else {
                    err.to_string()
                });
            }
        }
    }
    if problems.is_empty() {
        return Ok((connected, naming));
    }
    Err(Error::usage(format!(
        "preflight found {} problem{} before any write, so nothing was written anywhere:\n  - {}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        problems.join("\n  - ")
    )))
}

/// Connect once, then run `job` for the one function (and report it), or for
/// every target of a manifest (and report them all) as `intent` says: a
/// release wave by wave, a promotion or rollback every target at once.
/// Returns the one function's report, for a command that maps it to its
/// exit status.
pub async fn per_function<J: Named>(
    run: &Run,
    jobs: &[J],
    (intent, check): (Intent, impl AsyncFn(&Clients, &J) -> Result<()>),
    job: impl AsyncFn(&Clients, &J) -> Result<AliasReport>,
) -> Result<Option<AliasReport>> {
    let calls = match run.fleet {
        Some(fleet) => Calls::Fleet {
            per_second: fleet.per_second,
        },
        None => Calls::One,
    };
    if let Some(fleet) = run.fleet {
        let (connected, naming) = preflight(run, jobs, calls, intent, &check).await?;
        let jobs = in_resolved_waves(run, jobs, &naming)?;
        let jobs = jobs.as_slice();
        let clients_of = |j: &InWave<J>| {
            &connected
                .iter()
                .find(|(place, _, _)| place == j.place())
                .expect("every place is connected")
                .1
        };
        let cancel = Cancel::listen();
        let run_targets = async |targets: &[&InWave<J>]| {
            run_all(targets, fleet, &naming, &cancel, async |j: &&InWave<J>| {
                let clients = clients_of(j);
                let mut report = job(clients, j.job).await?;
                // A rollout the run's signal put back was interrupted: say so.
                if report.result == Outcome::RolledBack
                    && cancel.reason().is_some_and(|why| why == report.rollback_reason)
                {
                    report.result = Outcome::Cancelled;
                }
                (report.account, report.region) = naming.account_region(*j);
                report.target = naming.target(*j);
                report.wave = j.wave().name.clone();
                Ok(report)
            })
            .await
        };
        let (mut results, stopped) = if intent.in_waves() {
            in_waves(
                jobs,
                &run.log,
                &naming,
                Gating {
                    intent,
                    rollback_on_failure: fleet.rollback_on_wave_failure,
                    cancel: &cancel,
                },
                &run_targets,
                async |wave, bake| watch_the_bake(wave, bake, &clients_of, &cancel, &run.log).await,
            )
            .await
        } else {
            // The operator's decision or the emergency path: every target at
            // once within its account-region's pace, no bake, no wave gate.
            let all: Vec<&InWave<J>> = jobs.iter().collect();
            (run_targets(&all).await, cancel.reason())
        };
        if let Some(why) = stopped
            .as_deref()
            .filter(|_| fleet.rollback_on_wave_failure && intent.in_waves())
        {
            restore_moved(jobs, &mut results, &clients_of, &run.log, why).await;
        }
        let results = match intent {
            // The last wave first: the order the fleet rolls back in.
            Intent::Rollback => {
                let mut ordered: Vec<(usize, FunctionResult)> =
                    jobs.iter().map(|j| j.wave().index).zip(results).collect();
                ordered.sort_by_key(|(wave, _)| std::cmp::Reverse(*wave));
                ordered.into_iter().map(|(_, r)| r).collect()
            }
            _ => results,
        };
        report::emit_fleet(&results, run.json, intent, stopped.as_deref())?;
        return Ok(None);
    }
    let clients = Clients::connect(run.region.as_deref(), calls, run.log).await?;
    for job in jobs {
        clients.refuse_other_region(job.names().0)?;
    }
    // Without a manifest the settings hold exactly one function.
    let one = jobs
        .first()
        .ok_or_else(|| Error::usage("no function to act on"))?;
    let report = job(&clients, one).await?;
    report::emit(&report, run.json)?;
    Ok(Some(report))
}

/// A fleet run's SIGTERM/SIGINT (a cancelled workflow run): the first stops
/// the run from starting targets and ends any bake, while each running
/// target finishes its own cancellation (a staged rollout puts the stable
/// version back); a second ends the process at once.
struct Cancel {
    reason: tokio::sync::watch::Receiver<Option<String>>,
}

impl Cancel {
    fn listen() -> Cancel {
        use tokio::signal::unix::{SignalKind, signal};
        let (tell, reason) = tokio::sync::watch::channel(None);
        if let (Ok(mut term), Ok(mut int)) =
            (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
        {
            tokio::spawn(async move {
                let why = tokio::select! {
                    _ = term.recv() => "the run was cancelled (SIGTERM)",
                    _ = int.recv() => "the run was cancelled (SIGINT)",
                };
                crate::commands::deploy::inline::cancel_all(why);
                let _ = tell.send(Some(why.to_string()));
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
                eprintln!("lambda-rollout: a second signal: ending at once");
                std::process::exit(crate::error::EXIT_FAILED.into());
            });
        }
        Cancel { reason }
    }

    /// A run no signal reaches (for tests).
    #[cfg(test)]
    fn never() -> Cancel {
        Cancel {
            reason: tokio::sync::watch::channel(None).1,
        }
    }

    /// Why the run was cancelled, once it was.
    fn reason(&self) -> Option<String> {
        self.reason.borrow().clone()
    }

    /// Completes when the run is cancelled, with the reason.
    async fn cancelled(&self) -> String {
        let mut reason = self.reason.clone();
        match reason.wait_for(Option::is_some).await {
            Ok(why) => why.clone().unwrap_or_default(),
            Err(_) => std::future::pending().await,
        }
    }
}

/// How [`in_waves`] decides that a wave failed.
struct Gating<'c> {
    intent: Intent,
    /// `--on-wave-failure rollback`: without `[[waves]]`, all targets are
    /// one wave that tolerates no failure.
    rollback_on_failure: bool,
    cancel: &'c Cancel,
}

/// Run the targets wave by wave (`run_wave` runs one wave's targets
/// together) and give the results in the manifest's order. A wave fails when
/// more of its targets than it tolerates did not end where the run meant
/// ([`Ending`]), or when an alarm it watches is in ALARM — read once its
/// traffic has moved, all along its bake, and after the last wave too. A
/// failed wave (or a signal) starts no later wave: their targets are
/// reported as not started. Also returns why the run stopped, if it did.
async fn in_waves<'j, J: Named>(
    jobs: &'j [J],
    log: &Log,
    naming: &Naming,
    gating: Gating<'_>,
    run_wave: &impl AsyncFn(&[&'j J]) -> Vec<FunctionResult>,
    bake: impl AsyncFn(&[&'j J], Duration) -> Option<String>,
) -> (Vec<FunctionResult>, Option<String>) {
    let mut results: Vec<Option<FunctionResult>> = jobs.iter().map(|_| None).collect();
    let last = jobs.iter().map(|j| j.wave().index).max().unwrap_or(0);
    let mut stopped: Option<String> = None;
    for index in 0..=last {
        let members: Vec<usize> = (0..jobs.len())
            .filter(|i| jobs[*i].wave().index == index)
            .collect();
        let Some(first) = members.first() else { continue };
        let wave = jobs[*first].wave();
        if stopped.is_none() {
            stopped = gating.cancel.reason();
        }
        if let Some(why) = &stopped {
            for i in &members {
                results[*i] = Some(not_started(&jobs[*i], naming, why));
            }
            continue;
        }
        if !wave.name.is_empty() {
            log.step(&format!(
                "wave {}: {} target{}",
                wave.name,
                members.len(),
                if members.len() == 1 { "" } else { "s" }
            ));
        }
        let wave_jobs: Vec<&J> = members.iter().map(|i| &jobs[*i]).collect();
        let outcome = run_wave(&wave_jobs).await;
        let failed = outcome
            .iter()
            .filter(|r| r.ending(gating.intent) != Ending::Succeeded)
            .count();
        for (i, result) in members.iter().zip(outcome) {
            results[*i] = Some(result);
        }
        let tolerance = if wave.name.is_empty() && gating.rollback_on_failure {
            Tolerance::Count(0)
        } else {
            wave.tolerance
        };
        let called = if wave.name.is_empty() {
            "the run".to_string()
        } else {
            format!("wave {}", wave.name)
        };
        if let Some(why) = gating.cancel.reason() {
            stopped = Some(why);
        } else if !tolerance.allows(failed, members.len()) {
            let why = format!(
                "{called} failed beyond its tolerance ({failed} of {} targets failed)",
                members.len()
            );
            log.warn(&format!("{why}: no later wave is started"));
            stopped = Some(why);
        } else {
            let wait = if index < last { wave.bake } else { Duration::ZERO };
            let watched = wave_jobs.iter().any(|j| !j.bake_alarms().is_empty());
            if !wait.is_zero() {
                log.step(&format!(
                    "{called} succeeded: baking for {} before the next wave",
                    humantime::format_duration(wait)
                ));
            }
            if (!wait.is_zero() || watched)
                && let Some(alarm) = bake(&wave_jobs, wait).await
            {
                let why = match gating.cancel.reason() {
                    Some(cancelled) => cancelled,
                    None if wait.is_zero() => format!("{called} failed: {alarm}"),
                    None => format!("{called} failed while baking: {alarm}"),
                };
                log.warn(&format!("{why}: no later wave is started"));
                stopped = Some(why);
            }
        }
    }
    (results.into_iter().flatten().collect(), stopped)
}

/// A wave's bake: wait `bake`, reading the alarms its targets name (the
/// wave's `alarms`, and their rollouts' gate alarms) in each of their
/// account-regions all along, and at least once (a wave without a bake, or
/// the last). The first alarm in ALARM (or alarms that can no longer be
/// read) ends the bake early and fails the wave: the reason. A signal ends
/// it too.
async fn watch_the_bake<'c, J: Named>(
    wave: &[&J],
    bake: Duration,
    clients_of: &impl Fn(&J) -> &'c Clients,
    cancel: &Cancel,
    log: &Log,
) -> Option<String> {
    let mut watched: Vec<(&Clients, Vec<String>)> = Vec::new();
    for job in wave {
        let alarms = job.bake_alarms();
        if alarms.is_empty() {
            continue;
        }
        let clients = clients_of(job);
        match watched.iter_mut().find(|(c, _)| std::ptr::eq(*c, clients)) {
            Some((_, known)) => known.extend(
                alarms
                    .into_iter()
                    .filter(|a| !known.contains(a))
                    .collect::<Vec<_>>(),
            ),
            None => watched.push((clients, alarms)),
        }
    }
    if watched.is_empty() {
        return tokio::select! {
            _ = tokio::time::sleep(bake) => None,
            why = cancel.cancelled() => Some(why),
        };
    }
    let alarms = watched.iter().map(|(_, a)| a.len()).sum::<usize>();
    log.step(&format!(
        "{} {alarms} alarm{} in {} account-region{}{}",
        if bake.is_zero() { "reading" } else { "watching" },
        if alarms == 1 { "" } else { "s" },
        watched.len(),
        if watched.len() == 1 { "" } else { "s" },
        if bake.is_zero() {
            " now that the wave's traffic has moved"
        } else {
            " while the wave bakes"
        }
    ));
    let end = tokio::time::Instant::now() + bake;
    let poll = BAKE_POLL.min(bake);
    loop {
        for (clients, alarms) in &watched {
            let place = clients.log.place.map(|p| format!(" in {p}")).unwrap_or_default();
            match clients.cloudwatch.alarms_firing(alarms).await {
                Ok(firing) => {
                    if let Some((name, reason)) = firing.first() {
                        return Some(format!("alarm {name} is in ALARM{place} ({reason})"));
                    }
                }
                Err(err) => return Some(format!("the alarms could not be read{place}: {err}")),
            }
        }
        let now = tokio::time::Instant::now();
        if now >= end {
            return None;
        }
        tokio::select! {
            _ = tokio::time::sleep(poll.min(end - now)) => {}
            why = cancel.cancelled() => return Some(why),
        }
    }
}

/// How often a bake reads its alarms.
const BAKE_POLL: Duration = Duration::from_secs(10);

/// `--on-wave-failure rollback`: every target whose alias this run wrote —
/// whatever happened to it after — goes back to exactly the routing and
/// rollback record it found before its first write (an older canary at its
/// weight included), guarded like every write: only while the alias still
/// serves what this run last sent. A target someone else changed since is
/// left alone, and says so; a target that never wrote is not touched.
async fn restore_moved<'c, J: Named>(
    jobs: &[J],
    results: &mut [FunctionResult],
    clients_of: &impl Fn(&J) -> &'c Clients,
    log: &Log,
    why: &str,
) {
    for (job, result) in jobs.iter().zip(results.iter_mut()) {
        let (function, alias) = job.names();
        let lambda = &clients_of(job).lambda;
        let Some(moved) = lambda.moved(function, alias) else {
            continue;
        };
        let target = result.target().to_string();
        let restored = async {
            let now = lambda.alias_now(function, alias).await?;
            match moved.standing(&now) {
                Standing::AsFound => Ok(None),
                Standing::ChangedSince => Err(Error::Interfered(format!(
                    "not rolled back: {target} was changed since this run wrote it (it serves {} now)",
                    now.route().text()
                ))),
                Standing::AsSent => {
                    let found = &moved.found;
                    log.step(&format!(
                        "rolling back {target} to what it served before this run ({}): {why}",
                        found.route().text()
                    ));
                    lambda
                        .update_alias(
                            function,
                            alias,
                            &found.primary,
                            found.route().canary,
                            Some(&found.description),
                            &now,
                        )
                        .await?;
                    Ok(Some(found.clone()))
                }
            }
        }
        .await;
        match (result, restored) {
            (FunctionResult::Done(report), Ok(Some(found))) => {
                let routed = std::mem::take(&mut report.version);
                (report.version, report.previous_version, report.canary_weight) = match found.canary {
                    Some((canary, split)) => (canary, found.primary, split.weight()),
                    None => (found.primary, routed, 1.0),
                };
                report.result = Outcome::RolledBack;
                report.skipped = false;
                report.timeline = None;
                report.rollback_reason = why.to_string();
            }
            (FunctionResult::Failed { error, .. }, Ok(Some(found))) => {
                error.push_str(&format!(
                    "; rolled back to what it served before this run ({}): {why}",
                    found.route().text()
                ));
            }
            (_, Ok(None)) => {}
            (FunctionResult::Done(report), Err(err)) => {
                log.warn(&format!("{target}: {err}"));
                report.rollback_reason = format!("rollback after the failed wave did not happen: {err}");
            }
            (FunctionResult::Failed { error, .. }, Err(err)) => {
                log.warn(&format!("{target}: {err}"));
                error.push_str(&format!("; rollback after the failed wave did not happen: {err}"));
            }
        }
    }
}

/// A target the run never got to.
fn not_started<J: Named>(job: &J, naming: &Naming, why: &str) -> FunctionResult {
    let (function, alias) = job.names();
    let (account, region) = naming.account_region(job);
    FunctionResult::Failed {
        function_name: function.to_string(),
        alias: alias.to_string(),
        error: format!("not started: {why}"),
        exit_status: crate::error::EXIT_FAILED,
        account,
        region,
        wave: job.wave().name.clone(),
        target: naming.target(job),
        not_started: true,
    }
}

/// Run `job` for every function, at most `fleet.concurrency` at once in
/// each account-region (each has its own quota, so one account-region's
/// slow or throttled targets never hold another's back), and give the
/// results in the manifest's order. One failure does not stop the others
/// unless `fail_fast`: then functions not yet started are not started.
async fn run_all<J: Named>(
    jobs: &[J],
    fleet: Fleet,
    naming: &Naming,
    cancel: &Cancel,
    job: impl AsyncFn(&J) -> Result<AliasReport>,
) -> Vec<FunctionResult> {
    let stop = AtomicBool::new(false);
    let run_one = async |index: usize, each: &J| {
        if let Some(why) = cancel.reason() {
            return (index, not_started(each, naming, &why));
        }
        if stop.load(Ordering::SeqCst) {
            return (
                index,
                not_started(each, naming, "an earlier function failed (--fail-fast)"),
            );
        }
        let result = match job(each).await {
            Ok(report) => FunctionResult::Done(Box::new(report)),
            Err(err) => {
                if fleet.fail_fast {
                    stop.store(true, Ordering::SeqCst);
                }
                let (function, alias) = each.names();
                let (account, region) = naming.account_region(each);
                FunctionResult::Failed {
                    function_name: function.to_string(),
                    alias: alias.to_string(),
                    error: err.to_string(),
                    exit_status: err.exit_code(),
                    account,
                    region,
                    wave: each.wave().name.clone(),
                    target: naming.target(each),
                    not_started: false,
                }
            }
        };
        (index, result)
    };
    // One concurrency limit per account-region, however its targets spell it.
    let mut buckets: Vec<String> = Vec::new();
    for each in jobs {
        let bucket = naming.bucket(each);
        if !buckets.contains(&bucket) {
            buckets.push(bucket);
        }
    }
    let per_place = buckets.into_iter().map(|bucket| {
        let run_one = &run_one;
        futures_util::stream::iter(
            jobs.iter()
                .enumerate()
                .filter(move |(_, each)| naming.bucket(*each) == bucket),
        )
        .map(move |(index, each)| run_one(index, each))
        .buffer_unordered(fleet.concurrency.max(1))
        .collect::<Vec<_>>()
    });
    let mut results: Vec<(usize, FunctionResult)> = futures_util::future::join_all(per_place)
        .await
        .into_iter()
        .flatten()
        .collect();
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// The preflight check of a command that reads nothing more than every
/// command does.
pub async fn nothing_more<J>(_: &Clients, _: &J) -> Result<()> {
    Ok(())
}

/// Promote's and rollback's run: for the one alias, or every alias of the
/// manifest, observe it and apply the change `decide` makes of it.
/// `decide` gets the client, the function, the alias as observed, and the
/// code hashes known so far (to add any version it reads).
pub async fn each_alias(
    run: &Run,
    targets: &[Target],
    intent: Intent,
    dry_run: bool,
    decide: impl AsyncFn(&Lambda, &str, &AliasState, &mut HashMap<String, String>) -> Result<AliasChange>,
) -> Result<()> {
    per_function(run, targets, (intent, nothing_more), async |clients, target| {
        let lambda = &clients.lambda;
        crate::commands::alias::observe_decide_apply(
            lambda,
            &clients.log,
            target.names(),
            dry_run,
            async |before, hashes| decide(lambda, target.names().0, before, hashes).await,
        )
        .await
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::core::plan::Outcome;

    fn dummy_report(name: &str) -> AliasReport {
        AliasReport {
            function_arn: String::new(),
            alias_arn: String::new(),
            version: "1".into(),
            previous_version: String::new(),
            code_sha256: String::new(),
            skipped: true,
            canary_weight: 1.0,
            result: Outcome::Skipped,
            dry_run: false,
            rollback_reason: String::new(),
            deployment_id: String::new(),
            pruned: Vec::new(),
            prune_error: String::new(),
            function_url: String::new(),
            bypasses: Vec::new(),
            configuration: Vec::new(),
            tags: Vec::new(),
            canary_rule: String::new(),
            account: String::new(),
            region: String::new(),
            wave: String::new(),
            target: name.into(),
            note: None,
            timeline: None,
            release: ("new code", "uploaded and published"),
            created_function: false,
        }
    }

    fn name_of(result: &FunctionResult) -> String {
        match result {
            FunctionResult::Done(r) => r.target.clone(),
            FunctionResult::Failed { function_name, .. } => function_name.clone(),
        }
    }

    #[tokio::test]
    async fn concurrency_is_per_account_region() {
        use std::sync::atomic::AtomicUsize;
        // Two regions, two targets each, one at a time per region: both
        // regions run at once, never two targets of one region.
        let targets: Vec<Target> = ["us-east-1", "us-east-1", "eu-west-1", "eu-west-1"]
            .into_iter()
            .enumerate()
            .map(|(n, region)| Target {
                place: Place {
                    region: Some(region.into()),
                    role: None,
                },
                wave: WaveOf::default(),
                function: format!("f{n}"),
                alias: "live".into(),
            })
            .collect();
        let in_flight: HashMap<&str, AtomicUsize> = [
            ("us-east-1", AtomicUsize::new(0)),
            ("eu-west-1", AtomicUsize::new(0)),
        ]
        .into();
        let (total, most_total, most_one_region) =
            (AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0));
        let fleet = Fleet {
            concurrency: 1,
            per_second: 10,
            fail_fast: false,
            rollback_on_wave_failure: false,
        };
        let naming = Naming {
            several_places: true,
            lands: Vec::new(),
        };
        let all = run_all(
            &targets,
            fleet,
            &naming,
            &Cancel::never(),
            async |target: &Target| {
                let here = &in_flight[target.place.region.as_deref().unwrap()];
                most_one_region.fetch_max(here.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                most_total.fetch_max(total.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                here.fetch_sub(1, Ordering::SeqCst);
                total.fetch_sub(1, Ordering::SeqCst);
                Ok(dummy_report(&target.function))
            },
        )
        .await;
        let names: Vec<String> = all.iter().map(name_of).collect();
        assert_eq!(names, ["f0", "f1", "f2", "f3"]);
        assert_eq!(
            most_one_region.load(Ordering::SeqCst),
            1,
            "--concurrency holds in each region"
        );
        assert_eq!(
            most_total.load(Ordering::SeqCst),
            2,
            "the two regions run together"
        );
    }

    #[tokio::test]
    async fn results_keep_manifest_order_and_fail_fast_stops_the_rest() {
        let functions: Vec<Target> = ["a", "b", "c", "d"]
            .into_iter()
            .map(|name| Target {
                place: Place::default(),
                wave: WaveOf::default(),
                function: name.into(),
                alias: "live".into(),
            })
            .collect();
        let job = |target: &Target| {
            let name = target.function.clone();
            async move {
                // Finish in reverse order; "b" fails.
                tokio::time::sleep(Duration::from_millis(match name.as_str() {
                    "a" => 30,
                    "b" => 1,
                    _ => 10,
                }))
                .await;
                if name == "b" {
                    Err(Error::failed("boom"))
                } else {
                    Ok(dummy_report(&name))
                }
            }
        };
        let fleet = |concurrency, fail_fast| Fleet {
            concurrency,
            per_second: 10,
            fail_fast,
            rollback_on_wave_failure: false,
        };
        let all = run_all(
            &functions,
            fleet(2, false),
            &Naming {
                several_places: false,
                lands: Vec::new(),
            },
            &Cancel::never(),
            job,
        )
        .await;
        let names: Vec<String> = all.iter().map(name_of).collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
        assert!(matches!(&all[1], FunctionResult::Failed { error, .. } if error == "boom"));
        assert!(
            matches!(&all[3], FunctionResult::Done(_)),
            "one failure does not stop the others"
        );

        let fast = run_all(
            &functions,
            fleet(1, true),
            &Naming {
                several_places: false,
                lands: Vec::new(),
            },
            &Cancel::never(),
            job,
        )
        .await;
        assert!(matches!(&fast[0], FunctionResult::Done(_)));
        assert!(matches!(&fast[2], FunctionResult::Failed { error, .. } if error.contains("--fail-fast")));
    }
}
