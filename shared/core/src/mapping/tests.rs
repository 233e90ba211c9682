use serde_json::{Value, json};

use super::*;

fn run(transform: Value, input: Option<Value>) -> Result<Value, String> {
    let mapping = FieldMapping::parse(&json!({"schema_version": 1, "fields": [
        {"dest": "out", "source": {"type": "path", "value": "in"}, "transforms": [transform]}
    ]}))
    .expect("valid mapping");
    let payload = match input {
        Some(v) => json!({ "in": v }),
        None => json!({}),
    };
    match mapping.apply(&payload) {
        Ok(mapped) => Ok(mapped.fields["out"].clone()),
        Err(failure) => Err(failure.to_string()),
    }
}

fn ok(transform: Value, input: Value) -> Value {
    run(transform.clone(), Some(input.clone()))
        .unwrap_or_else(|e| panic!("{transform} on {input}: {e}"))
}

fn fails(transform: Value, input: Value) -> String {
    match run(transform.clone(), Some(input.clone())) {
        Err(e) => e,
        Ok(v) => panic!("{transform} on {input} gave {v}"),
    }
}

fn params(body: Value) -> Vec<(String, String)> {
    FieldMapping::parse(&body)
        .expect_err("invalid")
        .0
        .into_iter()
        .map(|e| (e.param, e.msg))
        .collect()
}

fn param_names(body: Value) -> Vec<String> {
    params(body).into_iter().map(|(p, _)| p).collect()
}

#[test]
fn to_string_writes_scalars_and_json() {
    let t = json!({"type": "to_string"});
    assert_eq!(ok(t.clone(), json!("a")), json!("a"));
    assert_eq!(ok(t.clone(), json!(42)), json!("42"));
    assert_eq!(ok(t.clone(), json!(4.5)), json!("4.5"));
    assert_eq!(ok(t.clone(), json!(true)), json!("true"));
    assert_eq!(ok(t.clone(), json!({"a": [1]})), json!(r#"{"a":[1]}"#));
    assert!(fails(t, Value::Null).contains("null"));
}

#[test]
fn to_number_reads_decimal_strings_and_keeps_integers_integral() {
    let t = json!({"type": "to_number"});
    assert_eq!(ok(t.clone(), json!(" 42 ")), json!(42));
    assert_eq!(ok(t.clone(), json!("-7")), json!(-7));
    assert_eq!(ok(t.clone(), json!("4.5")), json!(4.5));
    assert_eq!(ok(t.clone(), json!("1e3")), json!(1000.0));
    assert_eq!(
        ok(t.clone(), json!("18446744073709551615")),
        json!(u64::MAX)
    );
    assert_eq!(ok(t.clone(), json!(3)), json!(3));
    for bad in [
        json!("abc"),
        json!(""),
        json!("NaN"),
        json!("inf"),
        json!(true),
        json!([1]),
    ] {
        assert!(fails(t.clone(), bad.clone()).contains("to_number"), "{bad}");
    }
}

#[test]
fn to_boolean_reads_words_and_zero_or_one() {
    let t = json!({"type": "to_boolean"});
    for yes in [
        json!(true),
        json!("TRUE"),
        json!(" yes "),
        json!("y"),
        json!("on"),
        json!("1"),
        json!(1),
    ] {
        assert_eq!(ok(t.clone(), yes.clone()), json!(true), "{yes}");
    }
    for no in [
        json!(false),
        json!("False"),
        json!("no"),
        json!("n"),
        json!("off"),
        json!("0"),
        json!(0),
    ] {
        assert_eq!(ok(t.clone(), no.clone()), json!(false), "{no}");
    }
    for bad in [json!("maybe"), json!(2), json!({}), json!("")] {
        fails(t.clone(), bad);
    }
}

#[test]
fn to_date_gives_the_utc_date_of_epochs_and_strings() {
    let t = json!({"type": "to_date"});
    // The seed's envelope time, in milliseconds and in seconds.
    assert_eq!(ok(t.clone(), json!(1774137600000_i64)), json!("2026-03-22"));
    assert_eq!(ok(t.clone(), json!(1774137600)), json!("2026-03-22"));
    assert_eq!(ok(t.clone(), json!("1774137600000")), json!("2026-03-22"));
    assert_eq!(
        ok(t.clone(), json!("2026-04-17T15:06:00Z")),
        json!("2026-04-17")
    );
    // Late evening west of UTC is the next day in UTC.
    assert_eq!(
        ok(t.clone(), json!("2026-04-17T23:30:00-05:00")),
        json!("2026-04-18")
    );
    assert_eq!(ok(t.clone(), json!("2026-04-17")), json!("2026-04-17"));
    for bad in [
        json!("yesterday"),
        json!("2026-13-01"),
        json!(true),
        json!("17/04/2026"),
    ] {
        fails(t.clone(), bad);
    }
}

#[test]
fn to_datetime_gives_rfc3339_in_utc() {
    let t = json!({"type": "to_datetime"});
    assert_eq!(
        ok(t.clone(), json!(1774137600500_i64)),
        json!("2026-03-22T00:00:00.5Z")
    );
    assert_eq!(
        ok(t.clone(), json!(1774137600)),
        json!("2026-03-22T00:00:00Z")
    );
    assert_eq!(
        ok(t.clone(), json!(1774137600.25)),
        json!("2026-03-22T00:00:00.25Z")
    );
    assert_eq!(ok(t.clone(), json!(0)), json!("1970-01-01T00:00:00Z"));
    assert_eq!(
        ok(t.clone(), json!("2026-04-17T17:06:00+02:00")),
        json!("2026-04-17T15:06:00Z")
    );
    assert_eq!(
        ok(t.clone(), json!("2026-04-17")),
        json!("2026-04-17T00:00:00Z")
    );
    for bad in [
        json!("soon"),
        json!(1e300),
        json!(null),
        json!(["2026-04-17"]),
    ] {
        fails(t.clone(), bad);
    }
}

#[test]
fn default_fills_missing_and_null_only() {
    let t = json!({"type": "default", "value": "n/a"});
    assert_eq!(run(t.clone(), None), Ok(json!("n/a")));
    assert_eq!(ok(t.clone(), Value::Null), json!("n/a"));
    assert_eq!(ok(t.clone(), json!("")), json!(""));
    assert_eq!(ok(t, json!(0)), json!(0));
}

#[test]
fn string_transforms_need_strings() {
    assert_eq!(ok(json!({"type": "trim"}), json!("  a b \n")), json!("a b"));
    assert_eq!(
        ok(json!({"type": "lower"}), json!("Luke@Rebellion.DEV")),
        json!("luke@rebellion.dev")
    );
    assert_eq!(
        ok(json!({"type": "upper"}), json!("straße")),
        json!("STRASSE")
    );
    for t in ["trim", "lower", "upper"] {
        let e = fails(json!({"type": t}), json!(12));
        assert!(e.contains("expects a string, got a number"), "{e}");
    }
}

#[test]
fn substring_counts_characters() {
    let sub = |start: u64, length: Option<u64>| match length {
        Some(l) => json!({"type": "substring", "start": start, "length": l}),
        None => json!({"type": "substring", "start": start}),
    };
    assert_eq!(
        ok(sub(0, Some(10)), json!("2026-04-17T15:06:00Z")),
        json!("2026-04-17")
    );
    assert_eq!(ok(sub(1, Some(2)), json!("héllo")), json!("él"));
    assert_eq!(ok(sub(3, None), json!("héllo")), json!("lo"));
    assert_eq!(ok(sub(9, Some(3)), json!("short")), json!(""));
    assert_eq!(ok(json!({"type": "substring"}), json!("abc")), json!("abc"));
    fails(sub(0, Some(1)), json!(12345));
}

#[test]
fn transforms_chain_in_order_and_name_the_failing_step() {
    let mapping = FieldMapping::parse(&json!({"schema_version": 1, "fields": [
        {"dest": "day", "source": {"type": "path", "value": "at"},
         "transforms": [{"type": "trim"}, {"type": "to_date"}]},
        {"dest": "n", "source": {"type": "path", "value": "n"},
         "transforms": [{"type": "default", "value": "0"}, {"type": "to_number"}]}
    ]}))
    .unwrap();
    let mapped = mapping
        .apply(&json!({"at": " 2026-04-17T15:06:00Z "}))
        .unwrap();
    assert_eq!(mapped.fields["day"], json!("2026-04-17"));
    assert_eq!(mapped.fields["n"], json!(0));
    let failure = mapping.apply(&json!({"at": 5})).unwrap_err();
    assert_eq!(
        failure.to_string(),
        "fields[0] (day): transforms[0] (trim): expects a string, got a number"
    );
}

/// Seed 004's "Field mapping view": email → the Slack message body, environment → a header,
/// account_id → a reference, created_at → a timestamp.
#[test]
fn the_seed_mapping_view_maps_a_user_created_event() {
    let mapping = FieldMapping::parse(&json!({"schema_version": 1, "fields": [
        {"dest": "text", "source": {"type": "path", "value": "email"}, "on_error": "fail_action"},
        {"dest": "environment", "source": {"type": "path", "value": "environment"},
         "transforms": [{"type": "default", "value": "production"}, {"type": "upper"}],
         "on_error": "warn_action"},
        {"dest": "reference", "source": {"type": "path", "value": "account_id"},
         "on_error": "skip_field"},
        {"dest": "timestamp", "source": {"type": "path", "value": "created_at"},
         "transforms": [{"type": "to_datetime"}], "on_error": "warn_action"}
    ]}))
    .unwrap();
    let mapped = mapping
        .apply(&json!({
            "email": "luke@rebellion.dev", "environment": "staging",
            "account_id": "acc_rebellion", "created_at": 1774137600000_i64
        }))
        .unwrap();
    assert_eq!(
        Value::Object(mapped.fields),
        json!({"text": "luke@rebellion.dev", "environment": "STAGING",
               "reference": "acc_rebellion", "timestamp": "2026-03-22T00:00:00Z"})
    );
    assert!(mapped.warnings.is_empty());
}

#[test]
fn on_error_skips_warns_or_fails() {
    let mapping = |on_error: &str| {
        FieldMapping::parse(&json!({"schema_version": 1, "fields": [
            {"dest": "email", "source": {"type": "path", "value": "email"}},
            {"dest": "amount", "source": {"type": "path", "value": "amount"},
             "transforms": [{"type": "to_number"}], "on_error": on_error}
        ]}))
        .unwrap()
    };
    let payload = json!({"email": "a@b.c", "amount": "lots"});

    let skipped = mapping("skip_field").apply(&payload).unwrap();
    assert_eq!(Value::Object(skipped.fields), json!({"email": "a@b.c"}));
    assert!(skipped.warnings.is_empty());

    let warned = mapping("warn_action").apply(&payload).unwrap();
    assert_eq!(Value::Object(warned.fields), json!({"email": "a@b.c"}));
    assert_eq!(
        warned.warnings,
        ["fields[1] (amount): transforms[0] (to_number): the string is not a number"]
    );

    let failed = mapping("fail_action").apply(&payload).unwrap_err();
    assert_eq!(failed.field, 1);
    assert_eq!(failed.dest, "amount");
    // The payload's value is not repeated in the message.
    assert!(!failed.to_string().contains("lots"));
}

#[test]
fn a_missing_source_is_an_error_unless_defaulted_and_fail_action_is_the_default() {
    let mapping = FieldMapping::parse(&json!({"schema_version": 1, "fields": [
        {"dest": "email", "source": {"type": "path", "value": "user.email"}}
    ]}))
    .unwrap();
    assert_eq!(mapping.fields[0].on_error, OnError::FailAction);
    let failure = mapping.apply(&json!({"user": {}})).unwrap_err();
    assert_eq!(
        failure.to_string(),
        r#"fields[0] (email): no value at "user.email""#
    );
    let e = run(json!({"type": "lower"}), None).unwrap_err();
    assert!(
        e.contains(r#"transforms[0] (lower): no value at "in""#),
        "{e}"
    );
}

#[test]
fn paths_walk_objects_and_arrays_and_literals_are_constant() {
    let mapping = FieldMapping::parse(&json!({"schema_version": 1, "fields": [
        {"dest": "sku", "source": {"type": "path", "value": "items.1.sku"}},
        {"dest": "odd", "source": {"type": "path", "value": "codes.007"}},
        {"dest": "source", "source": {"type": "literal", "value": {"app": "switchyard"}}},
        {"dest": "nothing", "source": {"type": "path", "value": "phone"}}
    ]}))
    .unwrap();
    let mapped = mapping
        .apply(&json!({"items": [{"sku": "A"}, {"sku": "B"}], "codes": {"007": "bond"}, "phone": null}))
        .unwrap();
    assert_eq!(
        Value::Object(mapped.fields),
        json!({"sku": "B", "odd": "bond", "source": {"app": "switchyard"}, "nothing": null})
    );
}

#[test]
fn validation_names_every_problem_by_its_field() {
    let body = json!({"schema_version": 2, "extra": 1, "fields": [
        {"dest": "ok", "source": {"type": "path", "value": "a"}},
        {"dest": "", "source": {"type": "column", "value": "a"}, "on_error": "explode"},
        {"dest": "x", "source": {"type": "path", "value": "a..b"},
         "transforms": [{"type": "titlecase"}, {"type": "substring", "start": -1},
                        {"type": "default"}, {"type": "trim", "chars": " "}]},
        {"dest": "ok", "source": {"type": "literal", "value": null}}
    ]});
    assert_eq!(
        param_names(body),
        [
            "extra",
            "schema_version",
            "fields[1].dest",
            "fields[1].source.type",
            "fields[1].on_error",
            "fields[2].source.value",
            "fields[2].transforms[0].type",
            "fields[2].transforms[1].start",
            "fields[2].transforms[2].value",
            "fields[2].transforms[3].chars",
            "fields[3].source.value",
        ]
    );
}

#[test]
fn limits_are_250_fields_and_10_transforms() {
    let field = |i: usize, transforms: usize| {
        json!({"dest": format!("f{i}"), "source": {"type": "path", "value": "a"},
               "transforms": vec![json!({"type": "trim"}); transforms]})
    };
    let fields: Vec<Value> = (0..MAX_FIELDS).map(|i| field(i, MAX_TRANSFORMS)).collect();
    assert!(FieldMapping::parse(&json!({"schema_version": 1, "fields": fields})).is_ok());

    let fields: Vec<Value> = (0..=MAX_FIELDS).map(|i| field(i, 0)).collect();
    assert_eq!(
        params(json!({"schema_version": 1, "fields": fields})),
        [(
            "fields".to_owned(),
            "must have at most 250 fields".to_owned()
        )]
    );
    assert_eq!(
        params(json!({"schema_version": 1, "fields": [field(0, MAX_TRANSFORMS + 1)]})),
        [(
            "fields[0].transforms".to_owned(),
            "must have at most 10 transforms".to_owned()
        )]
    );
}

#[test]
fn duplicate_dests_and_wrong_shapes_are_refused() {
    assert_eq!(
        params(json!({"schema_version": 1, "fields": [
            {"dest": "a", "source": {"type": "literal", "value": 1}},
            {"dest": "a", "source": {"type": "literal", "value": 2}}
        ]})),
        [(
            "fields[1].dest".to_owned(),
            "duplicates fields[0].dest".to_owned()
        )]
    );
    assert_eq!(param_names(json!([])), ["body"]);
    assert_eq!(param_names(json!({"schema_version": 1})), ["fields"]);
    assert_eq!(param_names(json!({"fields": []})), ["schema_version"]);
    assert_eq!(
        param_names(json!({"schema_version": 1, "fields": [3, {"dest": "b"}]})),
        ["fields[0]", "fields[1].source"]
    );
    assert_eq!(
        param_names(json!({"schema_version": 1, "fields": [
            {"dest": "a", "source": {"type": "path"}, "transforms": {}}
        ]})),
        ["fields[0].source.value", "fields[0].transforms"]
    );
}

#[test]
fn a_mapping_reads_back_from_its_stored_json() {
    let body = json!({"schema_version": 1, "fields": [
        {"dest": "email", "source": {"type": "path", "value": "user.email"},
         "transforms": [{"type": "trim"}, {"type": "substring", "start": 0, "length": 10},
                        {"type": "default", "value": {"n": 1.5}}],
         "on_error": "warn_action"},
        {"dest": "kind", "source": {"type": "literal", "value": "signup"},
         "transforms": [], "on_error": "fail_action"}
    ]});
    let mapping = FieldMapping::parse(&body).unwrap();
    let stored = serde_json::to_value(&mapping).unwrap();
    assert_eq!(stored, body);
    assert_eq!(
        serde_json::from_value::<FieldMapping>(stored).unwrap(),
        mapping
    );
    assert!(serde_json::from_value::<FieldMapping>(json!({"fields": 1})).is_err());
}

#[test]
fn meta_and_notes_round_trip_and_are_bounded() {
    let body = json!({"schema_version": 1, "meta": {"name": "Signups", "notes": "for the CRM"},
        "fields": [{"dest": "email", "source": {"type": "path", "value": "email"},
                    "notes": "lower-cased by the CRM"}]});
    let mapping = FieldMapping::parse(&body).expect("valid mapping");
    assert_eq!(
        mapping.meta.as_ref().unwrap().name.as_deref(),
        Some("Signups")
    );
    let stored = serde_json::to_value(&mapping).unwrap();
    assert_eq!(stored["meta"], body["meta"]);
    assert_eq!(stored["fields"][0]["notes"], "lower-cased by the CRM");
    assert_eq!(FieldMapping::parse(&stored).unwrap(), mapping);

    assert_eq!(
        params(
            json!({"schema_version": 1, "fields": [], "meta": {"name": "x".repeat(129),
            "colour": "red"}})
        ),
        vec![
            ("meta.colour".to_owned(), "is not a known field".to_owned()),
            (
                "meta.name".to_owned(),
                "must be at most 128 characters".to_owned()
            ),
        ]
    );
}
