//! Properties over generated condition trees and events. The vocabularies are small on purpose
//! so that generated conditions often match generated events and both outcomes get exercised.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

use super::tests::event_with;
use super::*;

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-3i64..300).prop_map(Value::from),
        // Halves, so `1.0`-style floats meet integers of the same value.
        (-6i32..600).prop_map(|n| json!(f64::from(n) / 2.0)),
        select(vec![
            "pro",
            "free",
            "DE",
            "FR",
            "a@test.com",
            "ada@example.com",
            "A-1",
            "B-2"
        ])
        .prop_map(Value::from),
    ]
}

fn word() -> impl Strategy<Value = &'static str> {
    select(vec![
        "p",
        "pro",
        "fr",
        "DE",
        "@test.com",
        ".com",
        "A-",
        "-2",
        "user.",
        "usr_",
        "1",
    ])
}

fn path() -> impl Strategy<Value = &'static str> {
    select(vec![
        "event",
        "resource",
        "resource_id",
        "payload",
        "payload.plan",
        "payload.amount",
        "payload.country",
        "payload.email",
        "payload.items",
        "payload.items.0.sku",
        "payload.items.1.sku",
        "payload.missing",
        "payload.plan.deep",
    ])
}

/// A numeric range that is never empty: at least one bound, the upper above the lower.
fn range() -> impl Strategy<Value = Map<String, Value>> {
    (
        -10i64..300,
        1i64..200,
        any::<bool>(),
        any::<bool>(),
        0..3u8,
        any::<bool>(),
    )
        .prop_map(|(lo, width, lo_incl, hi_incl, sides, float)| {
            let number = |n: i64| {
                if float {
                    json!(n as f64 + 0.5)
                } else {
                    json!(n)
                }
            };
            let mut map = Map::new();
            if sides != 1 {
                let op = if lo_incl { "gte" } else { "gt" };
                map.insert(op.into(), number(lo));
            }
            if sides != 0 {
                let op = if hi_incl { "lte" } else { "lt" };
                map.insert(op.into(), number(lo + width));
            }
            map
        })
}

fn one(key: &str, value: Value) -> Map<String, Value> {
    Map::from_iter([(key.to_owned(), value)])
}

fn operators() -> impl Strategy<Value = Map<String, Value>> {
    prop_oneof![
        scalar().prop_map(|v| one("equals", v)),
        vec(scalar(), 1..4).prop_map(|vs| one("in", Value::Array(vs))),
        word().prop_map(|w| one("prefix", w.into())),
        word().prop_map(|w| one("suffix", w.into())),
        (word(), word()).prop_map(|(p, s)| {
            let mut map = one("prefix", p.into());
            map.insert("suffix".into(), s.into());
            map
        }),
        any::<bool>().prop_map(|b| one("exists", b.into())),
        word().prop_map(|w| {
            let mut map = one("exists", true.into());
            map.insert("prefix".into(), w.into());
            map
        }),
        range(),
        (scalar(), range()).prop_map(|(v, mut map)| {
            map.insert("equals".into(), v);
            map
        }),
    ]
}

fn test() -> impl Strategy<Value = Value> {
    (path(), operators()).prop_map(|(path, mut map)| {
        map.insert("path".into(), path.into());
        Value::Object(map)
    })
}

/// Trees at most 5 deep, so wrapping one in `not` stays within [`MAX_DEPTH`].
fn tree() -> impl Strategy<Value = Value> {
    test().prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 1..5).prop_map(|v| json!({"all": v})),
            vec(inner.clone(), 1..5).prop_map(|v| json!({"any": v})),
            inner.prop_map(|c| json!({"not": c})),
        ]
    })
}

fn tests_in(value: &Value) -> usize {
    match value {
        Value::Object(map) if map.contains_key("path") => 1,
        Value::Object(map) => map.values().map(tests_in).sum(),
        Value::Array(items) => items.iter().map(tests_in).sum(),
        _ => 0,
    }
}

fn event() -> impl Strategy<Value = Event> {
    let items = vec(option::of(scalar()), 0..3).prop_map(|skus| {
        let items = skus.into_iter().map(|sku| match sku {
            Some(sku) => json!({"sku": sku}),
            None => json!({}),
        });
        Value::Array(items.collect())
    });
    (
        select(vec!["user.signup", "invoice.paid"]),
        select(vec!["user", "invoice"]),
        option::of(select(vec!["usr_1", "inv_9"])),
        vec(
            (select(vec!["plan", "amount", "country", "email"]), scalar()),
            0..5,
        ),
        option::of(items),
    )
        .prop_map(|(name, resource, resource_id, fields, items)| {
            let mut payload: Map<String, Value> =
                fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            if let Some(items) = items {
                payload.insert("items".into(), items);
            }
            let mut event = event_with(resource_id, Value::Object(payload));
            event.event = name.into();
            event.resource = resource.into();
            event
        })
}

/// Arbitrary JSON drawn from the grammar's own words, so the parser meets near-misses.
fn near_miss() -> impl Strategy<Value = Value> {
    let key = select(vec![
        "all", "any", "not", "path", "equals", "in", "prefix", "suffix", "exists", "gt", "gte",
        "lt", "lte", "like",
    ]);
    let leaf = prop_oneof![scalar(), path().prop_map(Value::from)];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec((key.clone(), inner), 0..4).prop_map(|kvs| {
                Value::Object(kvs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #[test]
    fn parse_serialize_parse_is_identity(json in tree()) {
        prop_assume!(tests_in(&json) <= MAX_TESTS);
        let parsed = Conditions::parse(&json);
        prop_assert!(parsed.is_ok(), "{json} was refused: {parsed:?}");
        let conditions = parsed.unwrap();
        let written = serde_json::to_value(&conditions).unwrap();
        prop_assert_eq!(&written, &json);
        prop_assert_eq!(Conditions::parse(&written), Ok(conditions));
    }

    #[test]
    fn not_is_the_negation(json in tree(), event in event()) {
        prop_assume!(tests_in(&json) <= MAX_TESTS);
        let c = Conditions::parse(&json).unwrap();
        let not_c = Conditions::parse(&json!({"not": json})).unwrap();
        prop_assert_eq!(not_c.matches(&event), !c.matches(&event));
    }

    #[test]
    fn de_morgan_holds(a in tree(), b in tree(), event in event()) {
        prop_assume!(tests_in(&a) + tests_in(&b) <= MAX_TESTS);
        let lhs = Conditions::parse(&json!({"not": {"all": [a.clone(), b.clone()]}})).unwrap();
        let rhs = Conditions::parse(&json!({"any": [{"not": a}, {"not": b}]})).unwrap();
        prop_assert_eq!(lhs.matches(&event), rhs.matches(&event));
    }

    #[test]
    fn parse_never_panics_and_locates_every_error(json in near_miss()) {
        if let Err(errors) = Conditions::parse(&json) {
            prop_assert!(!errors.is_empty());
            for e in &errors.0 {
                prop_assert!(e.param.starts_with("conditions"), "{e:?}");
                prop_assert!(!e.msg.is_empty());
            }
        }
    }
}
