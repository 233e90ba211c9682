use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn apply_one(transforms: Value, input: Value) -> Result<Value, MappingFailure> {
    FieldMapping::parse(&json!({"schema_version": 1, "fields": [
        {"dest": "out", "source": {"type": "path", "value": "in"}, "transforms": transforms}
    ]}))
    .expect("valid")
    .apply(&json!({ "in": input }))
    .map(|m| m.fields["out"].clone())
}

proptest! {
    /// Any epoch in milliseconds between 1973 and 9999 comes back as itself through
    /// `to_datetime`, whichever way it arrives (number or digit string).
    #[test]
    fn epoch_millis_round_trip_through_to_datetime(ms in 100_000_000_000_i64..253_402_300_799_000) {
        let out = apply_one(json!([{"type": "to_datetime"}]), json!(ms)).unwrap();
        let text = out.as_str().unwrap();
        let parsed = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap();
        prop_assert_eq!(parsed.unix_timestamp_nanos(), i128::from(ms) * 1_000_000);
        prop_assert_eq!(apply_one(json!([{"type": "to_datetime"}]), json!(ms.to_string())).unwrap(), out.clone());
        // `to_date` is the date part of the same instant.
        let date = apply_one(json!([{"type": "to_date"}]), json!(ms)).unwrap();
        prop_assert_eq!(date.as_str().unwrap(), &text[..10]);
    }

    /// Integers survive `to_string` then `to_number` exactly.
    #[test]
    fn integers_round_trip_through_strings(n in any::<i64>()) {
        let out = apply_one(json!([{"type": "to_string"}, {"type": "to_number"}]), json!(n)).unwrap();
        prop_assert_eq!(out, json!(n));
    }

    /// `substring` never panics, counts characters, and never gives more than asked.
    #[test]
    fn substring_is_total_over_unicode(s in "\\PC{0,40}", start in 0u64..50, length in proptest::option::of(0u64..50)) {
        let mut t = json!({"type": "substring", "start": start});
        if let Some(l) = length { t["length"] = json!(l); }
        let out = apply_one(json!([t]), json!(s.clone())).unwrap();
        let expected: String = s.chars().skip(start as usize).take(length.map_or(usize::MAX, |l| l as usize)).collect();
        prop_assert_eq!(out, json!(expected));
    }

    /// Whatever the payload, applying a valid mapping never panics; `skip_field` mappings
    /// never fail and never warn.
    #[test]
    fn skip_field_mappings_never_fail(input in arbitrary_json(), names in proptest::collection::vec(0usize..10, 0..10)) {
        let transforms: Vec<Value> = names.iter().map(|&i| match Transform::NAMES[i] {
            "default" => json!({"type": "default", "value": "d"}),
            "substring" => json!({"type": "substring", "start": 1, "length": 3}),
            name => json!({"type": name}),
        }).collect();
        let mapping = FieldMapping::parse(&json!({"schema_version": 1, "fields": [
            {"dest": "out", "source": {"type": "path", "value": "in"}, "transforms": transforms, "on_error": "skip_field"}
        ]})).unwrap();
        let mapped = mapping.apply(&json!({ "in": input })).unwrap();
        prop_assert!(mapped.warnings.is_empty());
    }
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e15f64..1e15).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        Just(json!("2026-04-17T15:06:00Z")),
        Just(json!(" YES ")),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            proptest::collection::btree_map("[a-z]{1,3}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A valid field rule, built from its parts.
fn field_rule() -> impl Strategy<Value = Value> {
    let source = prop_oneof![
        "[a-z]{1,6}(\\.[a-z0-9]{1,4}){0,3}".prop_map(|p| json!({"type": "path", "value": p})),
        arbitrary_json()
            .prop_filter("literals are not null", |v| !v.is_null())
            .prop_map(|v| json!({"type": "literal", "value": v})),
    ];
    let transform = prop_oneof![
        (0usize..10)
            .prop_filter("plain", |&i| !matches!(
                Transform::NAMES[i],
                "default" | "substring"
            ))
            .prop_map(|i| json!({"type": Transform::NAMES[i]})),
        arbitrary_json()
            .prop_filter("not null", |v| !v.is_null())
            .prop_map(|v| json!({"type": "default", "value": v})),
        (0u64..20, proptest::option::of(0u64..20)).prop_map(|(start, length)| match length {
            Some(l) => json!({"type": "substring", "start": start, "length": l}),
            None => json!({"type": "substring", "start": start}),
        }),
    ];
    (
        source,
        proptest::collection::vec(transform, 0..=MAX_TRANSFORMS),
        0usize..3,
    )
        .prop_map(|(source, transforms, on_error)| {
            json!({"source": source, "transforms": transforms,
                   "on_error": OnError::ALL[on_error].as_str()})
        })
}

proptest! {
    /// Validation is total: any JSON body gets an answer, never a panic.
    #[test]
    fn parse_never_panics(body in arbitrary_json()) {
        let _ = FieldMapping::parse(&body);
        let _ = FieldMapping::parse(&json!({"schema_version": 1, "fields": [body]}));
    }

    /// What is stored is what was written, and reads back as the same mapping.
    #[test]
    fn valid_mappings_round_trip_through_their_stored_form(rules in proptest::collection::vec(field_rule(), 0..20)) {
        let fields: Vec<Value> = rules
            .into_iter()
            .enumerate()
            .map(|(i, mut rule)| { rule["dest"] = json!(format!("f{i}")); rule })
            .collect();
        let body = json!({"schema_version": 1, "fields": fields});
        let mapping = FieldMapping::parse(&body).unwrap();
        let stored = serde_json::to_value(&mapping).unwrap();
        prop_assert_eq!(&stored, &body);
        prop_assert_eq!(serde_json::from_value::<FieldMapping>(stored).unwrap(), mapping);
    }
}
