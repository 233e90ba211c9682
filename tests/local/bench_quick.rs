//! `switchyard bench --quick` end to end: it starts its own server, delivers, and its report
//! shows every delivery arrived exactly once (or as often as the server recorded attempts).

use std::process::Command;

use serde_json::Value;
use switchyard_tests::binary;

#[test]
fn quick_bench_loses_nothing_and_writes_its_reports() {
    let out = tempfile::tempdir().expect("tempdir");
    let output = Command::new(binary())
        .args(["bench", "--quick", "--seed-events", "0,3000", "--out"])
        .arg(out.path())
        .env_remove("SWITCHYARD_BACKEND")
        .output()
        .expect("run switchyard bench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "bench failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("| delivered attempts/s, fan-out 3"),
        "{stdout}"
    );

    let report: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("bench.json")).unwrap()).unwrap();
    let delivery = &report["delivery"];
    assert!(delivery["expected"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(delivery["lost"], 0, "{report}");
    assert_eq!(delivery["unexplained_duplicates"], 0, "{report}");
    assert_eq!(delivery["unexpected"], 0, "{report}");
    let fan_outs: Vec<u64> = report["fan_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fan_out"].as_u64().unwrap())
        .collect();
    assert_eq!(fan_outs, [1, 3, 10]);
    for f in report["fan_out"].as_array().unwrap() {
        assert!(f["delivered_per_sec"].as_f64().unwrap() > 0.0, "{f}");
    }
    assert!(report["raw_http_posts_per_sec"].as_f64().unwrap() > 0.0);
    assert!(report["server_peak_rss_bytes"].as_u64().unwrap() > 0);
    assert!(report["latency"][0]["latency"]["samples"].as_u64().unwrap() > 0);
    // Beside a destination that never answers, the other tenants' deliveries all arrived (the
    // delivery check above) and were measured.
    let slow = &report["slow_destination"];
    assert!(slow["hung_requests"].as_u64().unwrap() > 0, "{slow}");
    for whose in ["other_workspace", "other_organization"] {
        assert!(slow[whose]["samples"].as_u64().unwrap() > 0, "{slow}");
    }
    assert!(
        stdout.contains("beside a destination that never answers"),
        "{stdout}"
    );
    // The growth phase: a server with nothing stored, then one with 3,000 events.
    let growth = report["growth"].as_array().unwrap();
    let stored: Vec<u64> = growth
        .iter()
        .map(|g| g["stored_events"].as_u64().unwrap())
        .collect();
    assert_eq!(stored, [0, 3000], "{report}");
    for g in growth {
        assert!(g["delivered_per_sec"].as_f64().unwrap() > 0.0, "{g}");
        assert!(g["list_events"]["samples"].as_u64().unwrap() > 0, "{g}");
        assert!(g["purge_seconds_per_100k"].as_f64().unwrap() > 0.0, "{g}");
    }
    assert!(stdout.contains("| events stored |"), "{stdout}");
    let svg = std::fs::read_to_string(out.path().join("latency.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("p99"));
    assert!(out.path().join("bench.md").exists());
}
