//! A release in waves: each wave's gate (tolerance, alarms, bake), a
//! cancelled run, and the exact restore of what this run moved.

use super::*;

/// A fleet run's SIGTERM/SIGINT (a cancelled workflow run): the first stops
/// the run from starting targets and ends any bake, while each running
/// target finishes its own cancellation (a staged rollout puts the stable
/// version back); a second ends the process at once.
pub(super) struct Cancel {
    pub(super) reason: tokio::sync::watch::Receiver<Option<String>>,
}

impl Cancel {
    pub(super) fn listen() -> Cancel {
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
    pub(super) fn never() -> Cancel {
        Cancel {
            reason: tokio::sync::watch::channel(None).1,
        }
    }

    /// Why the run was cancelled, once it was.
    pub(super) fn reason(&self) -> Option<String> {
        self.reason.borrow().clone()
    }

    /// Completes when the run is cancelled, with the reason.
    pub(super) async fn cancelled(&self) -> String {
        let mut reason = self.reason.clone();
        match reason.wait_for(Option::is_some).await {
            Ok(why) => why.clone().unwrap_or_default(),
            Err(_) => std::future::pending().await,
        }
    }
}

/// How [`in_waves`] decides that a wave failed.
pub(super) struct Gating<'c> {
    pub(super) intent: Intent,
    /// `--on-wave-failure rollback`: without `[[waves]]`, all targets are
    /// one wave that tolerates no failure.
    pub(super) rollback_on_failure: bool,
    pub(super) cancel: &'c Cancel,
}

/// Run the targets wave by wave (`run_wave` runs one wave's targets
/// together) and give the results in the manifest's order. A wave fails when
/// more of its targets than it tolerates did not end where the run meant
/// ([`Ending`]), or when an alarm it watches is in ALARM — read once its
/// traffic has moved, all along its bake, and after the last wave too. A
/// failed wave (or a signal) starts no later wave: their targets are
/// reported as not started. Also returns why the run stopped, if it did.
pub(super) async fn in_waves<'j, J: Named>(
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
pub(super) async fn watch_the_bake<'c, J: Named, C: Connection + 'c>(
    wave: &[&J],
    bake: Duration,
    clients_of: &impl Fn(&J) -> &'c C,
    cancel: &Cancel,
    log: &Log,
) -> Option<String> {
    let mut watched: Vec<(&C, Vec<String>)> = Vec::new();
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
            let place = clients
                .log()
                .place
                .map(|p| format!(" in {p}"))
                .unwrap_or_default();
            match clients.alarms_firing(alarms).await {
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
pub(super) const BAKE_POLL: Duration = Duration::from_secs(10);

/// `--on-wave-failure rollback`: every target whose alias this run wrote —
/// whatever happened to it after — goes back to exactly the routing and
/// rollback record it found before its first write (an older canary at its
/// weight included), guarded like every write: only while the alias still
/// serves what this run last sent. A target someone else changed since is
/// left alone, and says so; a target that never wrote is not touched.
pub(super) async fn restore_moved<'c, J: Named, C: Connection + 'c>(
    jobs: &[J],
    results: &mut [FunctionResult],
    clients_of: &impl Fn(&J) -> &'c C,
    log: &Log,
    why: &str,
) {
    for (job, result) in jobs.iter().zip(results.iter_mut()) {
        let (function, alias) = job.names();
        let platform = clients_of(job).platform();
        let Some(moved) = platform.moved(function, alias) else {
            continue;
        };
        let target = result.target().to_string();
        let restored = async {
            let now = platform.alias_now(function, alias).await?.ok_or_else(|| {
                Error::Interfered(format!(
                    "not rolled back: {target} was deleted since this run wrote it"
                ))
            })?;
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
                    platform.update_alias(function, alias, found, &now).await?;
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
