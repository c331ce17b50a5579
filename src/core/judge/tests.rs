use super::*;

fn design() -> Design {
    Design {
        confidence: 0.95,
        max_increase: 0.01,
        judged_steps: 1,
        check_share: true,
        latency: vec![
            LatencyLimit::Increase(Statistic("p99".into()), 0.15),
            LatencyLimit::Ceiling(Statistic("p99".into()), 800.0),
        ],
        custom: Vec::new(),
        min_count: 100.0,
    }
}

fn counts(invocations: f64, errors: f64) -> Counts {
    Counts {
        invocations,
        errors,
        throttles: 0.0,
    }
}

fn window(canary: Counts, stable: Counts) -> Window {
    Window {
        canary,
        stable,
        ..Window::default()
    }
}

fn p99(value: f64) -> Latency {
    Latency {
        values: vec![("p99".into(), value)],
    }
}

#[test]
fn a_clear_regression_fails_at_the_first_reading() {
    let mut judge = StepJudge::new(design());
    // 6 % errors against 1 %, 2,000 canary invocations.
    let verdict = judge.judge(&window(counts(2000.0, 120.0), counts(18000.0, 180.0)), 0.1);
    let Judged::Worse(why) = verdict else {
        panic!("{verdict:?}")
    };
    assert_eq!(
        why,
        "errors 6% (n=2,000) vs 1% (n=18,000): higher at 95% confidence (p=<0.001, normal test)"
    );
}

#[test]
fn equal_rates_with_the_planned_sample_are_certain_not_worse() {
    let mut judge = StepJudge::new(design());
    let equal = window(counts(3000.0, 30.0), counts(27000.0, 270.0));
    assert!(judge.needs(&equal, 0.1) < 3000.0);
    let verdict = judge.judge(&equal, 0.1);
    assert!(
        matches!(&verdict, Judged::NotWorse(why) if why.contains("no increase at 95%")),
        "{verdict:?}"
    );
}

#[test]
fn too_little_traffic_says_what_it_needs() {
    let mut judge = StepJudge::new(design());
    let verdict = judge.judge(&window(counts(15.0, 0.0), counts(135.0, 1.0)), 0.1);
    let Judged::Undecided(why) = verdict else {
        panic!("{verdict:?}")
    };
    assert!(why.starts_with("errors 0% (n=15) vs 0.74% (n=135)"), "{why}");
    assert!(why.contains("needs ≈"), "{why}");
    assert!(why.ends_with("canary invocations for a verdict, has 15"), "{why}");
}

/// Two errors in 150 calls against a stable 0.4 % is noise, not a verdict
/// (a threshold gate at 1 % would roll it back).
#[test]
fn a_few_errors_at_low_traffic_are_not_a_verdict() {
    let mut judge = StepJudge::new(design());
    let verdict = judge.judge(&window(counts(150.0, 2.0), counts(1350.0, 5.0)), 0.1);
    assert!(
        matches!(&verdict, Judged::Undecided(why) if why.contains("p=0.15")),
        "{verdict:?}"
    );
}

#[test]
fn a_canary_that_gets_far_less_than_its_weight_is_not_being_tested() {
    let mut judge = StepJudge::new(design());
    let verdict = judge.judge(&window(counts(24.0, 0.0), counts(2376.0, 10.0)), 0.1);
    let Judged::Worse(why) = verdict else {
        panic!("{verdict:?}")
    };
    assert!(why.contains("the canary got 1% of the invocations"), "{why}");
    assert!(why.contains("but is routed 10%"), "{why}");
    // Routed 10 % and seen at 9 %: plausible.
    let fine = judge.judge(&window(counts(216.0, 0.0), counts(2184.0, 10.0)), 0.1);
    assert!(!matches!(fine, Judged::Worse(_)), "{fine:?}");
}

/// Fill in what a reading asks the platform for: each statistic and
/// bound at `canary` and `stable` (the percentile's own value, whatever
/// bound is asked).
fn read_latency(judge: &StepJudge, w: &mut Window, weight: f64, canary: f64, stable: f64) {
    for query in judge.latency_queries(w, weight) {
        let (value, into) = match (query.side, query.bound) {
            (latency::Side::Canary, false) => (canary, &mut w.canary_latency),
            (latency::Side::Stable, false) => (stable, &mut w.stable_latency),
            (latency::Side::Canary, true) => (canary, &mut w.canary_bounds),
            (latency::Side::Stable, true) => (stable, &mut w.stable_bounds),
        };
        into.values.push((query.statistic, value));
    }
}

#[test]
fn latency_is_compared_by_its_confidence_bounds() {
    let mut judge = StepJudge::new(design());
    // 3,000 canary durations: enough for a p99 (30 beyond it).
    let mut slow = window(counts(3000.0, 30.0), counts(27000.0, 270.0));
    let queries = judge.latency_queries(&slow, 0.1);
    let bounds: Vec<(latency::Side, &str)> = queries
        .iter()
        .filter(|q| q.bound)
        .map(|q| (q.side, q.statistic.as_str()))
        .collect();
    assert_eq!(
        bounds.len(),
        2,
        "the canary's lower bound (shared by both p99 limits) and the stable's upper: {queries:?}"
    );
    assert!(bounds.iter().all(|(_, s)| s.starts_with("p9")), "{bounds:?}");
    read_latency(&judge, &mut slow, 0.1, 480.0, 400.0);
    let Judged::Worse(why) = judge.judge(&slow, 0.1) else {
        panic!()
    };
    assert_eq!(
        why,
        "canary p99 at least 480 ms (p99 at 95% confidence) vs stable at most 400 ms (+20%, limit 15%; n=3,000 vs 27,000)"
    );
    let mut judge = StepJudge::new(design());
    let mut over = window(counts(3000.0, 30.0), counts(27000.0, 270.0));
    read_latency(&judge, &mut over, 0.1, 900.0, 880.0);
    let Judged::Worse(why) = judge.judge(&over, 0.1) else {
        panic!()
    };
    assert_eq!(
        why,
        "canary p99 at least 900 ms (p99 at 95% confidence) exceeds --max-latency p99=800 ms (n=3,000)"
    );
    // 500 durations hold 5 beyond a p99: too few to read one.
    let mut judge = StepJudge::new(design());
    let mut few = window(counts(500.0, 5.0), counts(4500.0, 45.0));
    read_latency(&judge, &mut few, 0.1, 2000.0, 400.0);
    let verdict = judge.judge(&few, 0.1);
    assert!(!matches!(verdict, Judged::Worse(_)), "{verdict:?}");
}

#[test]
fn a_reading_names_every_number_with_its_sample_size() {
    let mut judge = StepJudge::new(design());
    let mut w = window(counts(2410.0, 7.0), counts(21700.0, 61.0));
    w.canary_latency = p99(412.0);
    w.stable_latency = p99(398.0);
    let verdict = judge.judge(&w, 0.1);
    let (Judged::NotWorse(line) | Judged::Undecided(line)) = verdict else {
        panic!("{verdict:?}")
    };
    assert!(
        line.starts_with(
            "p99 412 ms vs 398 ms (+3.52%, limit +15%) · p99 412 ms vs 398 ms (+3.52%, limit 800 ms) · errors 0.29% (n=2,410) vs 0.28% (n=21,700): no increase at 95% (p=0.47)"
        ),
        "{line}"
    );
}

#[test]
fn at_full_weight_there_is_nothing_to_compare() {
    let mut judge = StepJudge::new(design());
    let verdict = judge.judge(&window(counts(500.0, 50.0), Counts::default()), 1.0);
    assert!(matches!(verdict, Judged::Nothing(_)), "{verdict:?}");
}

/// The verdict never improves when the canary's errors grow, everything
/// else equal (Worse < Undecided < NotWorse), over a grid of traffic.
#[test]
fn more_canary_errors_never_improve_the_verdict() {
    let rank = |j: &Judged| match j {
        Judged::Worse(_) => 0,
        Judged::Undecided(_) | Judged::Nothing(_) => 1,
        Judged::NotWorse(_) => 2,
    };
    for (canary, stable, stable_errors) in [
        (30.0, 270.0, 1.0),
        (150.0, 1350.0, 5.0),
        (2000.0, 18000.0, 50.0),
        (20000.0, 180000.0, 500.0),
    ] {
        let mut last = 2;
        let step = (canary / 100.0f64).max(1.0);
        let mut errors = 0.0;
        while errors <= canary / 4.0 {
            let mut judge = StepJudge::new(design());
            let verdict = judge.judge(
                &window(counts(canary, errors), counts(stable, stable_errors)),
                0.1,
            );
            let now = rank(&verdict);
            assert!(now <= last, "{errors}/{canary}: {verdict:?}");
            last = now;
            errors += step;
        }
        assert_eq!(last, 0, "a canary failing a quarter of its calls is worse");
    }
}

/// Reading often spends no more of the budget than reading once: the
/// levels of a step's readings add up to at most the test's alpha.
#[test]
fn the_readings_of_a_step_share_one_error_budget() {
    let design = design();
    let alpha = design.alpha();
    let mut spent = 0.0;
    let mut before = 0.0;
    for reading in 1..=40 {
        let information = (reading as f64 / 20.0).min(1.0);
        spent += stats::alpha_spent(alpha, information) - stats::alpha_spent(alpha, before);
        before = information;
    }
    assert!(spent <= alpha + 1e-12, "{spent} > {alpha}");
}

#[test]
fn counts_are_grouped_by_thousands() {
    assert_eq!(count(21700.0), "21,700");
    assert_eq!(count(1234567.0), "1,234,567");
    assert_eq!(count(15.0), "15");
}

#[test]
fn limits_parse_or_name_the_accepted_form() {
    assert_eq!(
        parse_latency_increase("p99=15%"),
        Ok(LatencyLimit::Increase(Statistic("p99".into()), 0.15))
    );
    assert_eq!(
        parse_latency_ceiling("p99.9=1.5s"),
        Ok(LatencyLimit::Ceiling(Statistic("p99.9".into()), 1500.0))
    );
    assert_eq!(
        parse_latency_increase("p42=15%").unwrap_err(),
        "'p42=15%': p42 is not a latency statistic: expected p50, p90, p95, p99, p99.9 or avg"
    );
    assert_eq!(
        parse_latency_ceiling("p99=fast").unwrap_err(),
        "'p99=fast' is not a latency limit: expected STATISTIC=DURATION, such as p99=800ms"
    );
    assert_eq!(parse_confidence("95%"), Ok(0.95));
    assert!(parse_confidence("100%").is_err());
    assert!(parse_confidence("40%").is_err());
}

#[test]
fn a_live_canary_is_compared_once_with_its_counts() {
    let line = snapshot(&window(counts(2410.0, 7.0), counts(21700.0, 61.0)), 0.1, 0.95);
    assert_eq!(
        line,
        "errors 0.29% (n=2,410) vs 0.28% (n=21,700): no increase at 95% (p=0.47, normal test) · share 10% (9.62%–10.38%) of the invocations, routed 10%"
    );
    assert_eq!(
        snapshot(&window(Counts::default(), counts(900.0, 1.0)), 0.1, 0.95),
        "no canary invocations in the window (stable: 900)"
    );
}
