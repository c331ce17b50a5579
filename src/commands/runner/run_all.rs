//! One wave's targets, bounded and ordered, per account-region.

use super::*;

/// Run `job` for every function, at most `fleet.concurrency` at once in
/// each account-region (each has its own quota, so one account-region's
/// slow or throttled targets never hold another's back), and give the
/// results in the manifest's order. One failure does not stop the others
/// unless `fail_fast`: then functions not yet started are not started.
pub(super) async fn run_all<J: Named>(
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
