use serde_json::{Value, json};
use time::OffsetDateTime;

use super::*;
use crate::{EventId, OrgId, WorkspaceId};

pub(super) fn event_with(resource_id: Option<&str>, payload: Value) -> Event {
    Event {
        id: EventId::new(),
        org: OrgId::new(),
        workspace: WorkspaceId::new(),
        event: "user.signup".into(),
        resource: "user".into(),
        resource_id: resource_id.map(Into::into),
        payload,
        created_by: "test".into(),
        created_at: OffsetDateTime::UNIX_EPOCH,
        trace_id: None,
    }
}

fn event(payload: Value) -> Event {
    event_with(Some("usr_1"), payload)
}

fn parse(value: Value) -> Conditions {
    Conditions::parse(&value).unwrap_or_else(|e| panic!("{value} should parse: {e:?}"))
}

/// Whether a single test (or tree) matches the payload.
fn holds(condition: Value, payload: Value) -> bool {
    parse(condition).matches(&event(payload))
}

/// The (param, msg) pairs of a refused condition.
fn errors(value: Value) -> Vec<(String, String)> {
    match Conditions::parse(&value) {
        Ok(c) => panic!("{value} should be refused, parsed as {c:?}"),
        Err(e) => e.0.into_iter().map(|e| (e.param, e.msg)).collect(),
    }
}

fn params(value: Value) -> Vec<String> {
    errors(value).into_iter().map(|(p, _)| p).collect()
}

fn doc_example() -> Value {
    json!({"all": [
        {"path": "payload.plan", "equals": "pro"},
        {"any": [
            {"path": "payload.country", "in": ["DE", "FR"]},
            {"not": {"path": "payload.email", "suffix": "@test.com"}}
        ]},
        {"path": "payload.amount", "gte": 100, "lt": 1000},
        {"path": "resource_id", "exists": true}
    ]})
}

// Evaluation.

#[test]
fn doc_example_matches_only_the_events_it_describes() {
    let c = parse(doc_example());
    let base = json!({"plan": "pro", "country": "US", "email": "ada@example.com", "amount": 250});
    assert!(c.matches(&event(base.clone())));

    let mut test_address = base.clone();
    test_address["email"] = json!("qa@test.com");
    assert!(!c.matches(&event(test_address.clone())));
    test_address["country"] = json!("FR");
    assert!(c.matches(&event(test_address)));

    let mut free = base.clone();
    free["plan"] = json!("free");
    assert!(!c.matches(&event(free)));

    let mut big = base.clone();
    big["amount"] = json!(1000);
    assert!(!c.matches(&event(big)));

    assert!(!c.matches(&event_with(None, base)));
}

#[test]
fn equals_compares_type_and_value() {
    let one = json!({"path": "payload.n", "equals": 1});
    assert!(holds(one.clone(), json!({"n": 1})));
    assert!(!holds(one.clone(), json!({"n": "1"})));
    assert!(!holds(one, json!({"n": true})));
    assert!(!holds(
        json!({"path": "payload.b", "equals": true}),
        json!({"b": "true"})
    ));
    assert!(holds(
        json!({"path": "payload.x", "equals": null}),
        json!({"x": null})
    ));
    assert!(!holds(
        json!({"path": "payload.x", "equals": null}),
        json!({})
    ));
}

#[test]
fn equals_treats_json_numbers_by_value() {
    assert!(holds(
        json!({"path": "payload.n", "equals": 100}),
        json!({"n": 100.0})
    ));
    assert!(holds(
        json!({"path": "payload.n", "equals": 0.5}),
        json!({"n": 0.5})
    ));
    assert!(!holds(
        json!({"path": "payload.n", "equals": u64::MAX}),
        json!({"n": u64::MAX - 1})
    ));
    assert!(holds(
        json!({"path": "payload.n", "equals": -3}),
        json!({"n": -3})
    ));
}

#[test]
fn equals_compares_arrays_and_objects_deeply() {
    let c = json!({"path": "payload.tags", "equals": ["a", {"n": 1}]});
    assert!(holds(c.clone(), json!({"tags": ["a", {"n": 1.0}]})));
    assert!(!holds(c.clone(), json!({"tags": [{"n": 1}, "a"]})));
    assert!(!holds(c.clone(), json!({"tags": ["a", {"n": 1, "m": 2}]})));
    assert!(!holds(c, json!({"tags": ["a"]})));
}

#[test]
fn in_matches_any_listed_value_with_equals_semantics() {
    let c = json!({"path": "payload.country", "in": ["DE", "FR", 49]});
    assert!(holds(c.clone(), json!({"country": "FR"})));
    assert!(holds(c.clone(), json!({"country": 49.0})));
    assert!(!holds(c.clone(), json!({"country": "49"})));
    assert!(!holds(c.clone(), json!({"country": "de"})));
    assert!(!holds(c, json!({})));
}

#[test]
fn prefix_and_suffix_hold_only_on_strings() {
    let p = json!({"path": "payload.sku", "prefix": "12"});
    assert!(holds(p.clone(), json!({"sku": "123"})));
    assert!(!holds(p.clone(), json!({"sku": 123})));
    assert!(!holds(p.clone(), json!({"sku": ["123"]})));
    assert!(!holds(p, json!({"sku": "Ab12"})));
    let s = json!({"path": "payload.email", "suffix": "@Test.com"});
    assert!(holds(s.clone(), json!({"email": "a@Test.com"})));
    assert!(!holds(s, json!({"email": "a@test.com"})), "case-sensitive");
    let both = json!({"path": "payload.id", "prefix": "ord_", "suffix": "_eu"});
    assert!(holds(both.clone(), json!({"id": "ord_1_eu"})));
    assert!(!holds(both, json!({"id": "ord_1_us"})));
}

#[test]
fn exists_sees_null_as_present() {
    let yes = json!({"path": "payload.coupon", "exists": true});
    let no = json!({"path": "payload.coupon", "exists": false});
    assert!(holds(yes.clone(), json!({"coupon": null})));
    assert!(holds(yes.clone(), json!({"coupon": ""})));
    assert!(!holds(yes, json!({})));
    assert!(holds(no.clone(), json!({})));
    assert!(!holds(no, json!({"coupon": null})));
}

#[test]
fn exists_true_combines_with_other_operators() {
    let c = json!({"path": "payload.plan", "exists": true, "prefix": "pro"});
    assert!(holds(c.clone(), json!({"plan": "pro_yearly"})));
    assert!(!holds(c.clone(), json!({"plan": "free"})));
    assert!(!holds(c, json!({})));
}

#[test]
fn numeric_bounds_combine_into_a_range() {
    let c = json!({"path": "payload.amount", "gte": 100, "lt": 1000});
    assert!(holds(c.clone(), json!({"amount": 100})));
    assert!(holds(c.clone(), json!({"amount": 999.99})));
    assert!(!holds(c.clone(), json!({"amount": 99.99})));
    assert!(!holds(c.clone(), json!({"amount": 1000})));
    let open = json!({"path": "payload.amount", "gt": 0.5, "lte": 2});
    assert!(!holds(open.clone(), json!({"amount": 0.5})));
    assert!(holds(open.clone(), json!({"amount": 2.0})));
    assert!(!holds(open, json!({"amount": 2.0001})));
    assert!(holds(
        json!({"path": "payload.t", "lt": 0}),
        json!({"t": -40})
    ));
    assert!(holds(
        json!({"path": "payload.n", "gte": 5, "lte": 5}),
        json!({"n": 5})
    ));
}

#[test]
fn numeric_operators_on_non_numbers_are_false() {
    for value in [
        json!("150"),
        json!(null),
        json!(true),
        json!([150]),
        json!({}),
    ] {
        assert!(!holds(
            json!({"path": "payload.amount", "gt": 100}),
            json!({"amount": value})
        ));
    }
    assert!(!holds(json!({"path": "event", "gte": 0}), json!({})));
}

#[test]
fn large_integers_compare_exactly() {
    let big = u64::MAX;
    assert!(holds(
        json!({"path": "payload.id", "gt": big - 1}),
        json!({"id": big})
    ));
    assert!(!holds(
        json!({"path": "payload.id", "gt": big}),
        json!({"id": big})
    ));
    assert!(holds(
        json!({"path": "payload.id", "lt": -9_007_199_254_740_992i64}),
        json!({"id": i64::MIN})
    ));
}

#[test]
fn top_level_fields_are_strings() {
    assert!(holds(
        json!({"path": "event", "prefix": "user."}),
        json!({})
    ));
    assert!(holds(
        json!({"path": "resource", "in": ["user", "account"]}),
        json!({})
    ));
    assert!(holds(
        json!({"path": "resource_id", "equals": "usr_1"}),
        json!({})
    ));
    assert!(!holds(
        json!({"path": "event", "equals": ["user.signup"]}),
        json!({})
    ));
}

#[test]
fn absent_resource_id_is_missing() {
    let e = event_with(None, json!({}));
    assert!(parse(json!({"path": "resource_id", "exists": false})).matches(&e));
    assert!(!parse(json!({"path": "resource_id", "prefix": "u"})).matches(&e));
    assert!(parse(json!({"not": {"path": "resource_id", "equals": "usr_1"}})).matches(&e));
}

#[test]
fn whole_payload_is_addressable() {
    assert!(holds(
        json!({"path": "payload", "equals": {"a": 1}}),
        json!({"a": 1})
    ));
    assert!(holds(
        json!({"path": "payload", "exists": true}),
        json!(null)
    ));
}

#[test]
fn digit_segments_index_arrays_and_name_object_keys() {
    let payload =
        json!({"items": [{"sku": "A-1"}, {"sku": "B-2"}], "by_id": {"0": "zero", "007": "bond"}});
    assert!(holds(
        json!({"path": "payload.items.0.sku", "equals": "A-1"}),
        payload.clone()
    ));
    assert!(holds(
        json!({"path": "payload.items.1.sku", "prefix": "B"}),
        payload.clone()
    ));
    assert!(holds(
        json!({"path": "payload.items.2.sku", "exists": false}),
        payload.clone()
    ));
    assert!(holds(
        json!({"path": "payload.by_id.0", "equals": "zero"}),
        payload.clone()
    ));
    assert!(holds(
        json!({"path": "payload.by_id.007", "equals": "bond"}),
        payload.clone()
    ));
    assert!(
        holds(
            json!({"path": "payload.items.00.sku", "exists": false}),
            payload.clone()
        ),
        "a non-canonical index is a key, and arrays have no keys"
    );
    assert!(holds(
        json!({"path": "payload.items.sku", "exists": false}),
        payload
    ));
}

#[test]
fn a_path_through_a_scalar_finds_nothing() {
    let payload = json!({"plan": "pro", "n": 3});
    assert!(holds(
        json!({"path": "payload.plan.name", "exists": false}),
        payload.clone()
    ));
    assert!(holds(
        json!({"path": "payload.n.0", "exists": false}),
        payload.clone()
    ));
    assert!(!holds(
        json!({"not": {"path": "payload.plan.length", "exists": false}}),
        payload
    ));
}

#[test]
fn groups_combine_as_all_any_not() {
    let pro = json!({"path": "payload.plan", "equals": "pro"});
    let de = json!({"path": "payload.country", "equals": "DE"});
    let cases = [
        (json!({"plan": "pro", "country": "DE"}), [true, true, false]),
        (
            json!({"plan": "pro", "country": "FR"}),
            [false, true, false],
        ),
        (
            json!({"plan": "free", "country": "FR"}),
            [false, false, true],
        ),
    ];
    for (payload, [all, any, neither]) in cases {
        let e = event(payload);
        assert_eq!(
            parse(json!({"all": [pro.clone(), de.clone()]})).matches(&e),
            all
        );
        assert_eq!(
            parse(json!({"any": [pro.clone(), de.clone()]})).matches(&e),
            any
        );
        assert_eq!(
            parse(json!({"not": {"any": [pro.clone(), de.clone()]}})).matches(&e),
            neither
        );
        assert_eq!(
            parse(json!({"not": {"not": pro.clone()}})).matches(&e),
            parse(pro.clone()).matches(&e)
        );
    }
}

// Serialization.

#[test]
fn serializes_to_the_json_it_was_parsed_from() {
    for value in [
        doc_example(),
        json!({"path": "payload.n", "equals": 1.0}),
        json!({"path": "payload.n", "gt": 1, "lte": 2.5}),
        json!({"path": "payload.x", "exists": false}),
        json!({"not": {"all": [{"path": "event", "in": ["a", 1, null, {"k": [true]}]}]}}),
        json!({"path": "payload.s", "prefix": "a", "suffix": "z", "exists": true}),
    ] {
        let c = parse(value.clone());
        assert_eq!(c.to_value(), value);
        assert_eq!(serde_json::to_value(&c).unwrap(), value);
        assert_eq!(Conditions::parse(&c.to_value()), Ok(c));
    }
}

// Refusals.

#[test]
fn unknown_operator_names_its_param() {
    let errs = errors(json!({"all": [
        {"path": "event", "equals": "a"},
        {"any": [{"path": "payload.plan", "contains": "pro"}]}
    ]}));
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].0, "conditions.all[1].any[0].contains");
    assert!(
        errs[0].1.contains("unknown operator \"contains\""),
        "{errs:?}"
    );
    assert!(errs[0].1.contains("equals, in, prefix"), "{errs:?}");
}

#[test]
fn wrong_operand_types_are_refused_at_their_operator() {
    let cases = [
        (json!({"path": "payload.a", "in": "DE"}), "conditions.in"),
        (json!({"path": "payload.a", "in": []}), "conditions.in"),
        (
            json!({"path": "payload.a", "prefix": 1}),
            "conditions.prefix",
        ),
        (
            json!({"path": "payload.a", "prefix": ""}),
            "conditions.prefix",
        ),
        (
            json!({"path": "payload.a", "suffix": null}),
            "conditions.suffix",
        ),
        (
            json!({"path": "payload.a", "exists": "yes"}),
            "conditions.exists",
        ),
        (json!({"path": "payload.a", "gt": "100"}), "conditions.gt"),
        (json!({"path": "payload.a", "gte": null}), "conditions.gte"),
        (json!({"path": "payload.a", "lt": [1]}), "conditions.lt"),
        (json!({"path": "payload.a", "lte": true}), "conditions.lte"),
        (json!({"path": 7, "equals": 1}), "conditions.path"),
    ];
    for (value, param) in cases {
        assert_eq!(params(value.clone()), vec![param], "{value}");
    }
}

#[test]
fn in_lists_are_bounded() {
    let ok: Vec<u32> = (0..MAX_IN_VALUES as u32).collect();
    parse(json!({"path": "payload.n", "in": ok}));
    let too_many: Vec<u32> = (0..=MAX_IN_VALUES as u32).collect();
    assert_eq!(
        params(json!({"path": "payload.n", "in": too_many})),
        vec!["conditions.in"]
    );
}

#[test]
fn empty_or_malformed_groups_are_refused() {
    assert_eq!(params(json!({"all": []})), vec!["conditions.all"]);
    assert_eq!(params(json!({"any": {}})), vec!["conditions.any"]);
    assert_eq!(
        params(json!({"all": [{"any": []}]})),
        vec!["conditions.all[0].any"]
    );
    assert_eq!(params(json!({"not": []})), vec!["conditions.not"]);
    assert_eq!(params(json!({"not": null})), vec!["conditions.not"]);
}

#[test]
fn a_group_key_must_stand_alone() {
    let errs = errors(json!({"all": [{"path": "event", "exists": true}], "any": []}));
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].0, "conditions");
    let errs = errors(json!({"path": "payload.a", "not": {"equals": 1}}));
    assert_eq!(errs[0].0, "conditions");
    assert!(
        errs[0].1.contains("\"not\" must be the only key"),
        "{errs:?}"
    );
}

#[test]
fn non_objects_and_objects_without_path_are_refused() {
    for value in [json!(null), json!([]), json!("payload.a"), json!(1)] {
        assert_eq!(params(value.clone()), vec!["conditions"], "{value}");
    }
    assert_eq!(
        params(json!({"any": [{"equals": 1}]})),
        vec!["conditions.any[0]"]
    );
    assert_eq!(params(json!({})), vec!["conditions"]);
}

#[test]
fn a_test_needs_an_operator() {
    let errs = errors(json!({"path": "payload.a"}));
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].0, "conditions");
    assert!(errs[0].1.contains("at least one operator"), "{errs:?}");
}

#[test]
fn path_syntax_is_checked() {
    let bad = [
        "",
        "payload.",
        "payload..a",
        ".payload",
        "payloads.a",
        "body.a",
        "event.name",
        "resource_id.0",
        "payload.a\u{0}b",
    ];
    for path in bad {
        let errs = errors(json!({"path": path, "exists": true}));
        assert_eq!(errs.len(), 1, "{path:?}: {errs:?}");
        assert_eq!(errs[0].0, "conditions.path", "{path:?}");
    }
    let long = format!("payload.{}", "a".repeat(MAX_PATH_BYTES));
    assert_eq!(
        params(json!({"path": long, "exists": true})),
        vec!["conditions.path"]
    );
    let deep = format!("payload{}", ".a".repeat(33));
    assert_eq!(
        params(json!({"path": deep, "exists": true})),
        vec!["conditions.path"]
    );
    let msg = &errors(json!({"path": "body.a", "exists": true}))[0].1;
    assert!(msg.contains("must start with event, resource"), "{msg}");
    for good in [
        "event",
        "resource",
        "resource_id",
        "payload",
        "payload.a b.ü.0",
    ] {
        parse(json!({"path": good, "exists": true}));
    }
}

/// `{"not": {"not": … test}}` nested so the test sits at `depth`.
fn nested(depth: usize) -> Value {
    let mut value = json!({"path": "event", "exists": true});
    for i in 1..depth {
        value = if i % 2 == 0 {
            json!({"not": value})
        } else {
            json!({"all": [value]})
        };
    }
    value
}

#[test]
fn nesting_is_bounded_at_eight_levels() {
    let c = parse(nested(MAX_DEPTH));
    let negations = (1..MAX_DEPTH).filter(|i| i % 2 == 0).count();
    assert_eq!(c.matches(&event(json!({}))), negations % 2 == 0);
    let errs = errors(nested(MAX_DEPTH + 1));
    assert_eq!(errs.len(), 1);
    assert!(errs[0].0.starts_with("conditions.not.all[0]"), "{errs:?}");
    assert!(errs[0].1.contains("deeper than 8"), "{errs:?}");
}

#[test]
fn trees_are_bounded_at_sixty_four_tests() {
    let test = json!({"path": "payload.n", "gte": 1});
    let ok = json!({"any": vec![test.clone(); MAX_TESTS]});
    parse(ok);
    let split = json!({"all": [
        {"any": vec![test.clone(); 40]},
        {"any": vec![test.clone(); 25]}
    ]});
    let errs = errors(split);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].0, "conditions");
    assert!(errs[0].1.contains("at most 64"), "{errs:?}");
    assert_eq!(
        params(json!({"all": vec![test; MAX_TESTS + 1]})),
        vec!["conditions.all"]
    );
}

#[test]
fn contradictory_operators_are_refused() {
    assert_eq!(
        params(json!({"path": "payload.n", "gt": 1, "gte": 1})),
        vec!["conditions.gte"]
    );
    assert_eq!(
        params(json!({"path": "payload.n", "lt": 1, "lte": 1})),
        vec!["conditions.lte"]
    );
    assert_eq!(
        params(json!({"path": "payload.n", "exists": false, "equals": 1})),
        vec!["conditions.exists"]
    );
    for empty in [
        json!({"path": "payload.n", "gt": 5, "lt": 5}),
        json!({"path": "payload.n", "gte": 5, "lt": 5}),
        json!({"path": "payload.n", "gte": 6, "lte": 5.5}),
    ] {
        let errs = errors(empty.clone());
        assert_eq!(errs.len(), 1, "{empty}");
        assert!(errs[0].1.contains("range is empty"), "{errs:?}");
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let errs = params(json!({"all": [
        {"path": "payload..a", "equals": 1},
        {"path": "payload.b", "in": 3, "like": "x"},
        {"any": []},
        {"path": "payload.c", "gt": 1}
    ]}));
    assert_eq!(
        errs,
        vec![
            "conditions.all[0].path",
            "conditions.all[1].in",
            "conditions.all[1].like",
            "conditions.all[2].any",
        ]
    );
}
