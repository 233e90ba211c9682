//! Property-based test of the API against its own OpenAPI document: schemathesis (PyPI,
//! pinned in infra/dev/requirements.txt) generates valid and invalid requests for every
//! operation of the served document and sends them to the real `switchyard serve` on
//! 127.0.0.1. It fails on any 5xx, any status the document does not list, and any response
//! body that breaks its schema.
//!
//! Machine JWTs live at most 60 s, so the operations run in batches (one per tag), each with a
//! freshly minted token and a hard deadline well inside its lifetime.
//!
//! So that generated requests reach past "404 unknown id" and real resources' responses are
//! checked against their schemas, a workspace, a connection (to a receiver on 127.0.0.1), a
//! rule, an event and its attempt are made first and offered to schemathesis as likely values
//! of ids — for reads, delivery retry/cancel and rule creation only. Never for writes that could
//! point the seeded connection at another address (`PUT /connections/{id}`) or make a
//! connection that is probed (`POST /connections` with a real workspace): every request this
//! test causes stays on 127.0.0.1.
//!
//! `SWITCHYARD_FUZZ_BATCH=<part of a batch name>` runs only the matching batches.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use switchyard_tests::{Api, Receiver, all_deliveries, event_when};

/// Test cases per operation and phase: enough to find odd-input failures, small enough for
/// every batch to end long before its token expires.
const MAX_EXAMPLES: &str = "25";
/// A token lives 60 s (the contract's maximum); a batch must be done well before.
const TOKEN_LIFETIME_SECS: i64 = 60;
const BATCH_DEADLINE: Duration = Duration::from_secs(50);
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance";
/// How often a seeded id is offered instead of a generated one.
const SEEDED_ID_PROBABILITY: f64 = 0.7;
/// The longest part of schemathesis' output a failure message repeats (the full log is kept in
/// the test's temporary directory while it runs).
const MAX_REPORT_CHARS: usize = 20_000;

/// The pinned schemathesis of the project venv, or a failure saying how to install it.
fn schemathesis() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let bin = root.join(".venv/bin/schemathesis");
    assert!(
        bin.exists(),
        "{} not found: run infra/dev/setup-venv.sh (`make test` does) to install the pinned \
         test tools of infra/dev/requirements*.txt, schemathesis among them, into .venv",
        bin.display()
    );
    bin
}

/// Which operations a batch covers, and with which credential.
struct Batch {
    name: &'static str,
    filter: [&'static str; 2],
    credential: Credential,
}

enum Credential {
    Machine,
    Publishable,
}

const BATCHES: [Batch; 12] = [
    Batch {
        name: "workspaces",
        filter: ["--include-tag", "workspaces"],
        credential: Credential::Machine,
    },
    Batch {
        name: "connections",
        filter: ["--include-tag", "connections"],
        credential: Credential::Machine,
    },
    Batch {
        name: "rules",
        filter: ["--include-tag", "rules"],
        credential: Credential::Machine,
    },
    Batch {
        name: "events (machine key)",
        filter: ["--include-tag", "events"],
        credential: Credential::Machine,
    },
    Batch {
        name: "events (publishable key)",
        filter: ["--include-operation-id-regex", "^createEvent"],
        credential: Credential::Publishable,
    },
    Batch {
        name: "deliveries",
        filter: ["--include-tag", "deliveries"],
        credential: Credential::Machine,
    },
    Batch {
        name: "catalog",
        filter: ["--include-tag", "catalog"],
        credential: Credential::Machine,
    },
    Batch {
        name: "credentials",
        filter: ["--include-tag", "credentials"],
        credential: Credential::Machine,
    },
    Batch {
        name: "meta",
        filter: ["--include-tag", "meta"],
        credential: Credential::Machine,
    },
    Batch {
        name: "usage",
        filter: ["--include-tag", "usage"],
        credential: Credential::Machine,
    },
    Batch {
        name: "operations",
        filter: ["--include-tag", "operations"],
        credential: Credential::Machine,
    },
    Batch {
        name: "sessions",
        filter: ["--include-tag", "sessions"],
        credential: Credential::Machine,
    },
];

/// A tag added to the document without a batch would go unfuzzed: every tag has one.
#[test]
fn every_tag_of_the_document_has_a_batch() {
    let document: serde_json::Value =
        serde_json::from_str(&switchyard_handlers::api::openapi::document_json())
            .expect("the document is JSON");
    for tag in document["tags"].as_array().expect("tags") {
        let name = tag["name"].as_str().expect("tag name");
        assert!(
            BATCHES.iter().any(|b| b.filter == ["--include-tag", name]),
            "no schemathesis batch for tag {name}"
        );
    }
}

/// Real resources, made before the run.
struct Seed {
    workspace: String,
    connection: String,
    rule: String,
    event: String,
    attempt: String,
}

/// A webhook connection to `receiver`, a rule, and one event delivered through it.
async fn seed(api: &Api, receiver: &Receiver) -> Seed {
    let (connection, rule) = api
        .webhook_rule(&receiver.url("/hook"), "fuzz.seeded")
        .await;
    let event = api
        .send_event(
            json!({"event": "fuzz.seeded", "resource": "user", "resource_id": "u_1",
            "payload": {"plan": "pro"}}),
        )
        .await["id"]
        .as_str()
        .expect("event id")
        .to_owned();
    event_when(api, &event, "the seeded event delivered", |e| {
        all_deliveries(e, "completed")
    })
    .await;
    let attempts = api
        .get(&format!("/events/{event}/rules/{rule}/attempts"))
        .await;
    let attempt = attempts["records"][0]["id"]
        .as_str()
        .expect("attempt id")
        .to_owned();
    Seed {
        workspace: api.workspace_id.clone(),
        connection,
        rule,
        event,
        attempt,
    }
}

/// schemathesis' configuration: the seeded ids as dictionaries, bound to the operations whose
/// parameters they fit.
fn config(seed: &Seed) -> String {
    let p = SEEDED_ID_PROBABILITY;
    let bind = |param: &str, dictionary: &str| {
        format!("\"{param}\" = {{ dictionary = \"{dictionary}\", probability = {p} }}")
    };
    // One filter each: schemathesis joins several filters of one entry with "or".
    let operations = [
        // Reads of one workspace and its sub-lists.
        (
            r"^GET /api/v1/workspaces/\{id\}($|/(connections|rules|events|event-types|resources)$)",
            vec![bind("path.id", "workspace")],
        ),
        (
            r"^GET /api/v1/connections/\{id\}",
            vec![bind("path.id", "connection")],
        ),
        (r"^GET /api/v1/rules/\{id\}$", vec![bind("path.id", "rule")]),
        (
            r"^(GET|POST) /api/v1/events/\{id\}",
            vec![bind("path.id", "event")],
        ),
        (
            r"^(GET|POST) /api/v1/events/\{event\}/rules/\{rule\}",
            vec![
                bind("path.event", "event"),
                bind("path.rule", "rule"),
                bind("path.attempt", "attempt"),
            ],
        ),
        (
            r"^POST /api/v1/rules$",
            vec![
                bind("body.workspace", "workspace"),
                bind("body.connection", "connection"),
            ],
        ),
        (
            r"^POST /api/v1/events(/bulk)?$",
            vec![bind("body.workspace", "workspace")],
        ),
    ];
    // Ids are offered only as above: schemathesis must not reuse ids it reads in responses
    // (it would, say, repoint the seeded connection or revoke the key the run signs with).
    let mut toml = String::from(
        "[phases.coverage.extra-data-sources]\nresponses = false\n\n\
         [phases.fuzzing.extra-data-sources]\nresponses = false\n\n",
    );
    for (name, value) in [
        ("workspace", &seed.workspace),
        ("connection", &seed.connection),
        ("rule", &seed.rule),
        ("event", &seed.event),
        ("attempt", &seed.attempt),
    ] {
        toml.push_str(&format!(
            "[dictionaries.{name}]\nvalues = [\"{value}\"]\n\n"
        ));
    }
    for (name, bindings) in operations {
        toml.push_str(&format!(
            "[[operations]]\ninclude-name-regex = '{name}'\nparameters = {{ {} }}\n\n",
            bindings.join(", ")
        ));
    }
    toml
}

/// Runs one batch to completion or to its deadline; the combined output.
fn run_batch(bin: &Path, work: &Path, api: &Api, batch: &Batch) -> String {
    let header = match batch.credential {
        Credential::Machine => format!(
            "Authorization: Bearer {}",
            api.jwt_with(0, TOKEN_LIFETIME_SECS, &api.secret_key)
        ),
        Credential::Publishable => format!("X-Meshes-Publishable-Key: {}", api.publishable_key),
    };
    let out = work.join(format!("{}.log", batch.name.replace([' ', '(', ')'], "_")));
    let log = std::fs::File::create(&out).expect("log file");
    let started = Instant::now();
    let mut child = Command::new(bin)
        .arg("--config-file")
        .arg(work.join("schemathesis.toml"))
        .arg("run")
        .arg(work.join("openapi.json"))
        .args(["--url", &api.base])
        .args(batch.filter)
        .args(["--header", &header])
        .args(["--checks", CHECKS])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", MAX_EXAMPLES])
        .args(["--seed", "20260523"])
        // One worker: two cores are shared with the server, and with two, hypothesis once
        // failed inside CPython's `ast` ("recursion depth mismatch") describing a strategy.
        .args(["--workers", "1"])
        .args(["--request-timeout", "10"])
        .args(["--generation-database", "none"])
        .args(["--suppress-health-check", "all"])
        .arg("--no-color")
        .current_dir(work)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start schemathesis");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for schemathesis") {
            break status;
        }
        if started.elapsed() > BATCH_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "schemathesis batch {:?} ran past {BATCH_DEADLINE:?} (its token expires at \
                 {TOKEN_LIFETIME_SECS} s); lower MAX_EXAMPLES or split the batch. Output:\n{}",
                batch.name,
                report(&std::fs::read_to_string(&out).unwrap_or_default())
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(
        status.success(),
        "schemathesis found problems in batch {:?} ({status}):\n{}",
        batch.name,
        report(&output)
    );
    eprintln!(
        "batch {:?}: passed in {:.1} s\n{}",
        batch.name,
        started.elapsed().as_secs_f64(),
        summary(&output)
    );
    output
}

/// What a failure message shows of schemathesis' output: from its failures or errors on, with
/// long lines (tracebacks quoting whole source files) cut, and bounded in size.
fn report(output: &str) -> String {
    let start = [" FAILURES ===", " ERRORS ==="]
        .iter()
        .filter_map(|marker| output.find(marker))
        .min()
        .map_or(0, |at| output[..at].rfind('\n').map_or(0, |nl| nl + 1));
    let mut shown = String::new();
    for line in output[start..].lines() {
        let cut: String = line.chars().take(300).collect();
        shown.push_str(&cut);
        if cut.len() < line.len() {
            shown.push_str(" …");
        }
        shown.push('\n');
        if shown.len() > MAX_REPORT_CHARS {
            shown.push_str("… (output cut)\n");
            break;
        }
    }
    shown
}

/// schemathesis' closing summary (operations, phases, test cases), for the test log.
fn summary(output: &str) -> String {
    let from = output.rfind("API Operations:").unwrap_or(output.len());
    output[from..]
        .lines()
        .take_while(|l| !l.starts_with("====="))
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_keeps_its_openapi_document_under_generated_requests() {
    let bin = schemathesis();
    let (dir, _server, api) = switchyard_tests::start();
    assert!(
        api.base.starts_with("http://127.0.0.1:"),
        "fuzzing targets loopback only, not {}",
        api.base
    );
    let receiver = Receiver::start().await;
    let seed = seed(&api, &receiver).await;
    // The document as served: what clients see is what is checked.
    let document = reqwest::get(format!("{}/api/v1/openapi.json", api.base))
        .await
        .expect("GET openapi.json")
        .text()
        .await
        .expect("document");
    let work = dir.path().join("schemathesis");
    std::fs::create_dir_all(&work).expect("work dir");
    std::fs::write(work.join("openapi.json"), document).expect("write document");
    std::fs::write(work.join("schemathesis.toml"), config(&seed)).expect("write config");

    let only = std::env::var("SWITCHYARD_FUZZ_BATCH").unwrap_or_default();
    let runner = api.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        for batch in BATCHES.iter().filter(|b| b.name.contains(&only)) {
            run_batch(&bin, &work, &runner, batch);
        }
    })
    .await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
    // Every connection of the organization still points at the receiver on 127.0.0.1, so every
    // delivery the run caused went there.
    let connections = api.get("/connections?limit=200").await;
    for connection in connections["records"].as_array().expect("records") {
        let url = connection["metadata"]["url"].as_str().unwrap_or_default();
        assert!(
            url.starts_with(&receiver.url("/")),
            "a connection points away from the receiver: {connection}"
        );
    }
    assert!(
        !receiver.requests().is_empty(),
        "the seeded delivery arrived"
    );
}
