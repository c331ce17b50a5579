//! The statistics of the canary judge, each a textbook method on counts:
//! the one-sided tests of an increase in a rate, the confidence interval of
//! a share, the sample size of a test, and the alpha spending that lets a
//! test be read many times. The distributions are `statrs`'s.

use statrs::distribution::{Beta, ContinuousCDF, DiscreteCDF, Hypergeometric, Normal};

/// Events (errors, throttles) among trials (invocations, requests).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub events: u64,
    pub trials: u64,
}

impl Rate {
    pub fn new(events: f64, trials: f64) -> Rate {
        let trials = trials.max(0.0).round() as u64;
        Rate {
            events: (events.max(0.0).round() as u64).min(trials),
            trials,
        }
    }

    pub fn value(&self) -> f64 {
        if self.trials == 0 {
            0.0
        } else {
            self.events as f64 / self.trials as f64
        }
    }
}

/// How a p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Fisher's exact test (small counts).
    Exact,
    /// The score test's normal approximation (every expected count ≥ 5).
    Normal,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Exact => "exact",
            Method::Normal => "normal",
        }
    }
}

fn normal() -> Normal {
    Normal::standard()
}

/// The smallest expected count in each cell for which the normal
/// approximation of a two-proportion test is used.
const EXPECTED_COUNT: f64 = 5.0;

/// Whether every expected count of the 2×2 table (events and non-events of
/// each version, at the stable version's rate) is at least
/// [`EXPECTED_COUNT`]. The stable rate decides, not the canary's, so that
/// the method does not change as the canary's errors grow.
pub fn normal_holds(canary: Rate, stable: Rate) -> bool {
    if canary.trials == 0 || stable.trials == 0 {
        return false;
    }
    let expected = stable.value();
    [canary.trials, stable.trials].iter().all(|&trials| {
        let trials = trials as f64;
        trials * expected >= EXPECTED_COUNT && trials * (1.0 - expected) >= EXPECTED_COUNT
    })
}

/// One-sided p-value of "the canary's rate is higher than the stable's"
/// (H0: not higher): Fisher's exact test when counts are small, the pooled
/// score (z) test where its normal approximation holds.
pub fn increase_p_value(canary: Rate, stable: Rate) -> (f64, Method) {
    if canary.trials == 0 || stable.trials == 0 {
        return (1.0, Method::Exact);
    }
    if !normal_holds(canary, stable) {
        return (fisher_greater(canary, stable), Method::Exact);
    }
    let (nc, ns) = (canary.trials as f64, stable.trials as f64);
    let pooled = (canary.events + stable.events) as f64 / (nc + ns);
    let se = (pooled * (1.0 - pooled) * (1.0 / nc + 1.0 / ns)).sqrt();
    if se == 0.0 {
        return (1.0, Method::Normal);
    }
    let z = (canary.value() - stable.value()) / se;
    (normal().sf(z), Method::Normal)
}

/// Fisher's exact test, one-sided: P(the canary has at least its errors)
/// given both versions' totals, under equal rates.
pub fn fisher_greater(canary: Rate, stable: Rate) -> f64 {
    let population = canary.trials + stable.trials;
    let events = canary.events + stable.events;
    match Hypergeometric::new(population, events, canary.trials) {
        Ok(_) if canary.events == 0 => 1.0,
        Ok(h) => h.sf(canary.events - 1).clamp(0.0, 1.0),
        Err(_) => 1.0,
    }
}

/// One-sided p-value of "the canary's rate is below the stable's plus
/// `margin`" (H0: it exceeds it by `margin` or more): the Farrington–Manning
/// score test of a risk difference. `None` where its normal approximation
/// does not hold (then no early verdict is drawn from it).
pub fn below_margin_p_value(canary: Rate, stable: Rate, margin: f64) -> Option<f64> {
    if !normal_holds(canary, stable) {
        return None;
    }
    let (pc, ps) = restricted_mle(canary, stable, margin);
    let (nc, ns) = (canary.trials as f64, stable.trials as f64);
    let se = (pc * (1.0 - pc) / nc + ps * (1.0 - ps) / ns).sqrt();
    if se == 0.0 || !se.is_finite() {
        return None;
    }
    let z = (canary.value() - stable.value() - margin) / se;
    Some(normal().cdf(z))
}

/// The maximum-likelihood rates of canary and stable under the constraint
/// canary − stable = `margin` (Miettinen and Nurminen's closed form of the
/// cubic's root, 1985).
fn restricted_mle(canary: Rate, stable: Rate, margin: f64) -> (f64, f64) {
    let (n1, n0) = (canary.trials as f64, stable.trials as f64);
    let (x0, n) = (stable.events as f64, n1 + n0);
    let count = (canary.events + stable.events) as f64;
    let d = margin;
    let t2 = (n1 + 2.0 * n0) * d - n - count;
    let t1 = (x0 * d - n - 2.0 * x0) * d + count;
    let t0 = x0 * d * (1.0 - d);
    let q = (t2 / (3.0 * n)).powi(3) - t1 * t2 / (6.0 * n * n) + t0 / (2.0 * n);
    let p = q.signum() * ((t2 / (3.0 * n)).powi(2) - t1 / (3.0 * n)).max(0.0).sqrt();
    let ratio = if p == 0.0 {
        0.0
    } else {
        (q / p.powi(3)).clamp(-1.0, 1.0)
    };
    let a = (std::f64::consts::PI + ratio.acos()) / 3.0;
    let stable_rate = (2.0 * p * a.cos() - t2 / (3.0 * n)).clamp(0.0, 1.0);
    ((stable_rate + d).clamp(0.0, 1.0), stable_rate)
}

/// The canary trials a one-sided test at `alpha` needs to detect an
/// increase of `increase` over the stable rate `stable` with probability
/// `power`, when the stable version gets `ratio` times the canary's trials
/// (normal approximation, pooled variance under the null).
pub fn sample_size(stable: f64, increase: f64, alpha: f64, power: f64, ratio: f64) -> f64 {
    let (p2, p1) = (stable, (stable + increase).min(1.0));
    let diff = p1 - p2;
    if diff <= 0.0 || ratio <= 0.0 {
        return f64::INFINITY;
    }
    let pooled = (p1 + p2 * ratio) / (1.0 + ratio);
    let spread = |a: f64, b: f64| (a * (1.0 - a) + b * (1.0 - b) / ratio).sqrt();
    let (null, alternative) = (spread(pooled, pooled), spread(p1, p2));
    let z_alpha = normal().inverse_cdf(1.0 - alpha);
    let z_power = normal().inverse_cdf(power);
    ((z_alpha * null + z_power * alternative) / diff).powi(2)
}

/// The alpha spent by information fraction `t` (0 to 1) of a one-sided test
/// at level `alpha`: Lan and DeMets' Pocock-like function,
/// `alpha · ln(1 + (e − 1) t)`, which spends early enough that a blatant
/// failure is caught at the first readings, and `alpha` by `t` = 1.
pub fn alpha_spent(alpha: f64, t: f64) -> f64 {
    if t <= 0.0 {
        return 0.0;
    }
    let t = t.min(1.0);
    (alpha * (1.0 + (std::f64::consts::E - 1.0) * t).ln()).min(alpha)
}

/// The two-sided Clopper–Pearson interval of a proportion at `confidence`.
pub fn share_interval(rate: Rate, confidence: f64) -> (f64, f64) {
    if rate.trials == 0 {
        return (0.0, 1.0);
    }
    let tail = (1.0 - confidence) / 2.0;
    let (x, n) = (rate.events as f64, rate.trials as f64);
    let low = match Beta::new(x, n - x + 1.0) {
        Ok(beta) if rate.events > 0 => beta.inverse_cdf(tail),
        _ => 0.0,
    };
    let high = match Beta::new(x + 1.0, n - x) {
        Ok(beta) if rate.events < rate.trials => beta.inverse_cdf(1.0 - tail),
        _ => 1.0,
    };
    (low, high)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(events: u64, trials: u64) -> Rate {
        Rate { events, trials }
    }

    fn close(got: f64, want: f64, tolerance: f64) {
        assert!(
            (got - want).abs() <= tolerance * want.abs().max(1e-300),
            "got {got}, want {want}"
        );
    }

    /// Reference: SciPy 1.x, `scipy.stats.fisher_exact([[xc, nc-xc], [xs, ns-xs]], alternative="greater")`.
    #[test]
    fn fisher_matches_scipy() {
        for (xc, nc, xs, ns, want) in [
            (2, 150, 5, 1350, 0.1493619464500671),
            (5, 100, 3, 900, 0.0003986635044342289),
            (0, 50, 1, 450, 1.0),
            (10, 200, 10, 1800, 6.073508038562672e-06),
        ] {
            close(fisher_greater(rate(xc, nc), rate(xs, ns)), want, 1e-9);
        }
    }

    /// Reference: statsmodels 0.14, `test_proportions_2indep(xc, nc, xs, ns,
    /// value=0, method="score", compare="diff", alternative="larger",
    /// correction=False).pvalue`.
    #[test]
    fn the_score_test_matches_statsmodels() {
        for (xc, nc, xs, ns, want) in [
            (7, 2410, 61, 21700, 0.46727711939596434),
            (40, 2000, 200, 18000, 0.00026660270083885733),
            (120, 5000, 400, 45000, 8.253580536829041e-24),
        ] {
            let (p, method) = increase_p_value(rate(xc, nc), rate(xs, ns));
            assert_eq!(method, Method::Normal);
            close(p, want, 1e-6);
        }
        // Small counts take the exact test.
        assert_eq!(increase_p_value(rate(2, 150), rate(5, 1350)).1, Method::Exact);
    }

    /// Reference: statsmodels 0.14, `test_proportions_2indep(xc, nc, xs, ns,
    /// value=margin, method="score", compare="diff", alternative="smaller",
    /// correction=False).pvalue` (Farrington–Manning).
    #[test]
    fn the_margin_test_matches_statsmodels() {
        for (xc, nc, xs, ns, margin, want) in [
            (7, 2410, 61, 21700, 0.01, 7.935662538074316e-06),
            (40, 2000, 200, 18000, 0.005, 0.9066021845804024),
            (12, 3000, 100, 27000, 0.002, 0.11325760343837638),
        ] {
            close(
                below_margin_p_value(rate(xc, nc), rate(xs, ns), margin).unwrap(),
                want,
                1e-6,
            );
        }
    }

    /// Reference: statsmodels 0.14, `samplesize_proportions_2indep_onetail(
    /// increase, stable, power, ratio=ratio, alpha=alpha, alternative="larger")`.
    #[test]
    fn sample_sizes_match_statsmodels() {
        for (stable, increase, alpha, power, ratio, want) in [
            (0.0028, 0.005, 0.05, 0.8, 9.0, 1224.2344237514894),
            (0.01, 0.01, 0.025, 0.8, 9.0, 1132.8295490559194),
            (0.0, 0.01, 0.05, 0.8, 9.0, 191.93688638175172),
            (0.05, 0.025, 0.0125, 0.8, 1.0, 1780.8963908658848),
        ] {
            close(sample_size(stable, increase, alpha, power, ratio), want, 1e-6);
        }
    }

    /// Reference: NumPy, `0.05 * np.log(1 + (np.e - 1) * t)`.
    #[test]
    fn alpha_spending_matches_numpy() {
        for (t, want) in [
            (0.04, 0.0033236109452798633),
            (0.25, 0.01786870097543942),
            (0.5, 0.031005725347913876),
            (0.75, 0.04139944696214349),
            (1.0, 0.05),
        ] {
            close(alpha_spent(0.05, t), want, 1e-6);
        }
        assert_eq!(alpha_spent(0.05, 0.0), 0.0);
        assert!(alpha_spent(0.05, 3.0) <= 0.05);
    }

    /// Reference: statsmodels 0.14, `proportion_confint(x, n, alpha=0.05, method="beta")`.
    #[test]
    fn share_intervals_match_statsmodels() {
        for (x, n, low, high) in [
            (9, 1000, 0.004123395660342472, 0.01701578306989459),
            (0, 50, 0.0, 0.07112173646419767),
            (100, 1000, 0.08210533435558001, 0.12028793651869264),
        ] {
            let (l, h) = share_interval(rate(x, n), 0.95);
            close(l, low, 1e-6);
            close(h, high, 1e-6);
        }
    }

    /// A p-value of "the canary is worse" never grows when the canary's
    /// errors grow (everything else equal): more errors never look better.
    #[test]
    fn more_canary_errors_never_look_better() {
        for stable_errors in [0, 3, 30, 300] {
            for trials in [20, 150, 1000, 5000] {
                let stable = rate(stable_errors, 9000);
                let mut last = 1.0f64;
                for errors in 0..=trials.min(200) {
                    let (p, _) = increase_p_value(rate(errors, trials), stable);
                    assert!(
                        p <= last + 1e-12,
                        "{errors}/{trials} vs {stable_errors}/9000: p {p} after {last}"
                    );
                    last = p;
                }
            }
        }
    }
}
