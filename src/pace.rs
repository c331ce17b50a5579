//! Client-side pacing of API calls against a quota counted per second: one
//! call every 1/n s, with no burst — a limiter that let a full second's
//! calls go at once would send twice the rate in the first second. Clones
//! share one pace (two places that land in one account-region, or one
//! region's namespaces, share its quota); the default paces nothing (a run
//! of one function).

use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Default)]
pub struct Pace(Option<Arc<governor::DefaultDirectRateLimiter>>);

impl Pace {
    /// At most `per_second` calls in every second, evenly spaced.
    pub fn per_second(per_second: u32) -> Pace {
        let period = Duration::from_secs(1) / per_second.max(1);
        Pace(governor::Quota::with_period(period).map(|quota| {
            Arc::new(governor::RateLimiter::direct(
                quota.allow_burst(std::num::NonZeroU32::MIN),
            ))
        }))
    }

    /// Wait for the next call's turn.
    pub async fn wait(&self) {
        if let Some(limiter) = &self.0 {
            limiter.until_ready().await;
        }
    }
}
