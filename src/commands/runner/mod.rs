//! How a command runs: for one function, or for every function of a
//! manifest (a few at once, in the manifest's order), and once more after a
//! concurrent change.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;

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
use crate::platform::{Connection, Platform};
use crate::report::{self, AliasReport, FunctionResult};

mod naming;
mod places;
mod run_all;
pub mod scf;
mod waves;

pub use naming::*;
pub use places::*;
use run_all::*;
use waves::*;

/// Every place of the fleet connected (roles assumed), then every target
/// read — and `check`ed, the command's own reads — before the first write
/// anywhere. Problems are all named at once.
async fn preflight<J: Named, C: Connect>(
    run: &Run,
    jobs: &[J],
    calls: Calls,
    intent: Intent,
    check: &impl AsyncFn(&C, &J) -> Result<()>,
) -> Result<(Vec<(Place, C, AccountRegion)>, Naming)> {
    let mut places: Vec<&Place> = Vec::new();
    for place in jobs.iter().map(Named::place) {
        if !places.contains(&place) {
            places.push(place);
        }
    }
    let (connected, mut problems) = C::connect_places(run, places, calls).await;
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
                    clients.refuse_target(function)?;
                    match clients.exists(function).await? {
                        false if !job.may_be_missing() => {
                            Err(Error::failed(clients.missing_function(function)))
                        }
                        false => Ok(()),
                        true => check(clients, job).await,
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
                if let Err(err) = clients.alarms_firing(&names).await {
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
            if let Err(err) = clients.read_parameters(&names).await {
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
pub async fn per_function<J: Named, C: Connect>(
    run: &Run,
    jobs: &[J],
    (intent, check): (Intent, impl AsyncFn(&C, &J) -> Result<()>),
    job: impl AsyncFn(&C, &J) -> Result<AliasReport>,
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
    let clients = C::connect_one(run, calls).await?;
    for job in jobs {
        clients.refuse_target(job.names().0)?;
    }
    // Without a manifest the settings hold exactly one function.
    let one = jobs
        .first()
        .ok_or_else(|| Error::usage("no function to act on"))?;
    let mut report = job(&clients, one).await?;
    if let Some(region) = clients.region_shown() {
        report.region = region.to_string();
    }
    report::emit(&report, run.json)?;
    Ok(Some(report))
}

/// The preflight check of a command that reads nothing more than every
/// command does.
pub async fn nothing_more<C, J>(_: &C, _: &J) -> Result<()> {
    Ok(())
}

/// Promote's and rollback's run: for the one alias, or every alias of the
/// manifest, observe it and apply the change `decide` makes of it.
/// `decide` gets the client, the function, the alias as observed, and the
/// code hashes known so far (to add any version it reads).
pub async fn each_alias<C: Connect>(
    run: &Run,
    targets: &[Target],
    intent: Intent,
    dry_run: bool,
    decide: impl AsyncFn(&C::P, &str, &AliasState, &mut HashMap<String, String>) -> Result<AliasChange>,
) -> Result<()> {
    per_function(run, targets, (intent, nothing_more), async |place: &C, target| {
        let platform = place.platform();
        crate::commands::alias::observe_decide_apply(
            platform,
            place.log(),
            target.names(),
            dry_run,
            async |before, hashes| decide(platform, target.names().0, before, hashes).await,
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
            target: name.into(),
            ..AliasReport::sample(Outcome::Skipped, "1", "", 1.0)
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
                    ..Place::default()
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
        let one_place = Naming {
            several_places: false,
            lands: Vec::new(),
        };
        let all = run_all(&functions, fleet(2, false), &one_place, &Cancel::never(), job).await;
        let names: Vec<String> = all.iter().map(name_of).collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
        assert!(matches!(&all[1], FunctionResult::Failed { error, .. } if error == "boom"));
        assert!(
            matches!(&all[3], FunctionResult::Done(_)),
            "one failure does not stop the others"
        );

        let fast = run_all(&functions, fleet(1, true), &one_place, &Cancel::never(), job).await;
        assert!(matches!(&fast[0], FunctionResult::Done(_)));
        assert!(matches!(&fast[2], FunctionResult::Failed { error, .. } if error.contains("--fail-fast")));
    }
}
