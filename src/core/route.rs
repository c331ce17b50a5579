//! How a release routes its canary: by weight (every platform) or by a
//! header rule (where the platform's aliases route by rule, as SCF's do).
//! The decision table (`plan`) plans in weights; these rules say which
//! split the new canary gets, when the alias's present rule stops a deploy,
//! and when a change of rule alone is a change of routing.

use crate::core::observed::{AliasNow, Split};
use crate::core::values::{HeaderRule, Weight};

/// What a deploy asks for its canary's route.
#[derive(Debug, Clone, PartialEq)]
pub enum CanaryRoute {
    /// This share of all requests.
    Weight(Weight),
    /// The requests whose header matches.
    Rule(HeaderRule),
}

/// The weight the decision table plans with: the one asked for; a canary
/// routed by rule takes no share of the other requests (0); `None` when no
/// route was asked (an existing canary keeps its share, a new one gets the
/// default).
pub fn planned_weight(asked: Option<&CanaryRoute>) -> Option<Weight> {
    match asked {
        Some(CanaryRoute::Weight(weight)) => Some(*weight),
        Some(CanaryRoute::Rule(_)) => Weight::new(0.0),
        None => None,
    }
}

/// The rule the new canary is routed by: the one asked for; when no route
/// was asked for, the one the alias's canary has now; `None`: by weight.
pub fn wanted_rule(asked: Option<&CanaryRoute>, now: Option<&AliasNow>) -> Option<HeaderRule> {
    match asked {
        Some(CanaryRoute::Rule(rule)) => Some(rule.clone()),
        Some(CanaryRoute::Weight(_)) => None,
        None => match now.and_then(|a| a.canary.as_ref()) {
            Some((_, Split::Header(rule))) => Some(rule.clone()),
            _ => None,
        },
    }
}

/// The split a planned canary at `weight` is written with.
pub fn split_of(rule: Option<&HeaderRule>, weight: f64) -> Split {
    match rule {
        Some(rule) => Split::Header(rule.clone()),
        None => Split::Weight(weight),
    }
}

/// A deploy that asks no route, on an alias whose canary is routed by a
/// rule this tool does not write, would have to write that rule back:
/// refused, naming it and what replaces it.
pub fn foreign_rule_refusal(
    asked: Option<&CanaryRoute>,
    now: Option<&AliasNow>,
    (function, alias): (&str, &str),
) -> Option<String> {
    match (asked, now.and_then(|a| a.canary.as_ref())) {
        (None, Some((version, Split::Foreign(rule)))) => Some(format!(
            "alias {function}:{alias} routes version {version} by a rule this tool does not write ({rule}): pass --canary-weight, --canary-header or --canary-header-range to replace it"
        )),
        _ => None,
    }
}

/// The decision table compares weights; when it leaves the code and the
/// versions alone, a canary whose rule (or rule-for-weight) differs from
/// `now`'s is still a change of routing.
pub fn rule_changes(now: &AliasNow, planned: &AliasNow) -> bool {
    let split = |a: &AliasNow| a.canary.as_ref().map(|(_, split)| split.clone());
    split(now) != split(planned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::values::HeaderMatch;

    fn rule(value: &str) -> HeaderRule {
        HeaderRule {
            header: "x-canary".into(),
            matcher: HeaderMatch::Exact(value.into()),
        }
    }

    fn alias(canary: Option<Split>) -> AliasNow {
        AliasNow {
            primary: "3".into(),
            canary: canary.map(|split| ("4".to_string(), split)),
            revision_id: None,
            description: String::new(),
        }
    }

    #[test]
    fn a_rule_plans_as_no_share_and_no_route_keeps_the_present_share() {
        let ten = Weight::new(0.1).unwrap();
        assert_eq!(planned_weight(Some(&CanaryRoute::Weight(ten))), Some(ten));
        assert_eq!(
            planned_weight(Some(&CanaryRoute::Rule(rule("a")))),
            Weight::new(0.0)
        );
        assert_eq!(planned_weight(None), None);
    }

    #[test]
    fn the_rule_asked_for_wins_and_no_route_keeps_the_present_rule() {
        let ruled = alias(Some(Split::Header(rule("a"))));
        let weighted = alias(Some(Split::Weight(0.1)));
        let asked_rule = CanaryRoute::Rule(rule("b"));
        let asked_weight = CanaryRoute::Weight(Weight::new(0.2).unwrap());
        assert_eq!(wanted_rule(Some(&asked_rule), Some(&ruled)), Some(rule("b")));
        assert_eq!(wanted_rule(Some(&asked_weight), Some(&ruled)), None);
        assert_eq!(wanted_rule(None, Some(&ruled)), Some(rule("a")));
        assert_eq!(wanted_rule(None, Some(&weighted)), None);
        assert_eq!(wanted_rule(None, None), None);
        assert_eq!(split_of(Some(&rule("a")), 0.0), Split::Header(rule("a")));
        assert_eq!(split_of(None, 0.25), Split::Weight(0.25));
    }

    #[test]
    fn a_foreign_rule_is_refused_unless_a_route_replaces_it() {
        let foreign = alias(Some(Split::Foreign("invoke.query.user range (0,9)".into())));
        let refusal = foreign_rule_refusal(None, Some(&foreign), ("orders", "live")).unwrap();
        assert!(refusal.contains("version 4") && refusal.contains("invoke.query.user range (0,9)"));
        let asked = CanaryRoute::Weight(Weight::new(0.1).unwrap());
        assert_eq!(
            foreign_rule_refusal(Some(&asked), Some(&foreign), ("orders", "live")),
            None
        );
        let ruled = alias(Some(Split::Header(rule("a"))));
        assert_eq!(foreign_rule_refusal(None, Some(&ruled), ("orders", "live")), None);
        assert_eq!(foreign_rule_refusal(None, None, ("orders", "live")), None);
    }

    #[test]
    fn a_rule_that_changes_is_a_routing_change_even_at_equal_weights() {
        let a = alias(Some(Split::Header(rule("a"))));
        let b = alias(Some(Split::Header(rule("b"))));
        let zero = alias(Some(Split::Weight(0.0)));
        assert!(rule_changes(&a, &b));
        assert!(rule_changes(&a, &zero), "a rule replaced by a weight of 0");
        assert!(!rule_changes(&a, &a.clone()));
        assert!(!rule_changes(&alias(None), &alias(None)));
    }
}
