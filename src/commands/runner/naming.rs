//! How a fleet's targets are named and put in their waves once their
//! account and region are known.

use super::*;

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
pub(super) struct InWave<'j, J> {
    pub(super) job: &'j J,
    pub(super) wave: WaveOf,
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
pub(super) fn in_resolved_waves<'j, J: Named>(
    run: &Run,
    jobs: &'j [J],
    naming: &Naming,
) -> Result<Vec<InWave<'j, J>>> {
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
pub(super) struct Naming {
    pub(super) several_places: bool,
    /// Each place's account-region, as preflight resolved it.
    pub(super) lands: Vec<(Place, AccountRegion)>,
}

impl Naming {
    pub(super) fn of<C>(connected: &[(Place, C, AccountRegion)]) -> Naming {
        let lands: Vec<(Place, AccountRegion)> =
            connected.iter().map(|(p, _, l)| (p.clone(), l.clone())).collect();
        let several_places = lands.iter().any(|(_, l)| *l != lands[0].1);
        Naming {
            several_places,
            lands,
        }
    }

    pub(super) fn lands<J: Named>(&self, job: &J) -> Option<&AccountRegion> {
        self.lands
            .iter()
            .find(|(place, _)| place == job.place())
            .map(|(_, lands)| lands)
    }

    pub(super) fn target<J: Named>(&self, job: &J) -> String {
        let (function, alias) = job.names();
        match self.lands(job).filter(|_| self.several_places) {
            Some(lands) => format!("{lands}/{function}:{alias}"),
            None => target_name(job.place(), function, alias, self.several_places),
        }
    }

    pub(super) fn account_region<J: Named>(&self, job: &J) -> (String, String) {
        match self.lands(job).filter(|_| self.several_places) {
            Some(lands) => (lands.account.clone(), lands.region.clone()),
            None => (String::new(), String::new()),
        }
    }

    /// The quota bucket a job's calls count against (its account-region;
    /// its place before preflight resolved it).
    pub(super) fn bucket<J: Named>(&self, job: &J) -> String {
        match self.lands(job) {
            Some(lands) => lands.to_string(),
            None => job.place().to_string(),
        }
    }
}

/// A target the run never got to.
pub(super) fn not_started<J: Named>(job: &J, naming: &Naming, why: &str) -> FunctionResult {
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
