//! The results: `bench.json` (everything, for machines and the test), `bench.md` and stdout (a
//! Markdown table for people).

use std::fmt::Write;

use serde::Serialize;

use super::growth::GrowthPoint;
use super::slow::SlowDestination;
use super::stats::Percentiles;
use super::verify::Verdict;

#[derive(Serialize, Debug, Clone)]
pub struct Machine {
    pub cores: usize,
    pub cpu: String,
}

#[derive(Serialize, Debug, Clone)]
pub struct FanOut {
    pub fan_out: usize,
    pub events: usize,
    pub delivered_attempts: u64,
    pub delivered_per_sec: f64,
    /// Delivered/s as a fraction of raw loopback POST/s.
    pub fraction_of_raw: f64,
    pub server_cpu_seconds_per_1000: f64,
}

#[derive(Serialize, Debug, Clone)]
pub struct LatencyPoint {
    pub label: String,
    pub offered_per_sec: f64,
    pub achieved_per_sec: f64,
    pub latency: Percentiles,
}

#[derive(Serialize, Debug, Clone)]
pub struct Report {
    pub quick: bool,
    pub machine: Machine,
    pub raw_http_posts_per_sec: f64,
    pub ingest_events_per_sec: f64,
    pub fan_out: Vec<FanOut>,
    pub latency: Vec<LatencyPoint>,
    pub slow_destination: SlowDestination,
    pub server_peak_rss_bytes: u64,
    pub server_cpu_seconds: f64,
    pub delivery: Verdict,
    /// The growth phase (`--seed-events`), one point per level.
    pub growth: Vec<GrowthPoint>,
    /// Server instructions per delivered webhook at fan-out 1 (callgrind), when measured.
    pub instructions_per_delivery: Option<f64>,
}

impl Machine {
    pub fn this() -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find_map(|l| l.strip_prefix("model name"))
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
            .unwrap_or_else(|| "unknown".to_owned());
        Self {
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            cpu,
        }
    }
}

impl Report {
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(
            md,
            "## switchyard bench{}\n\nMachine: {} cores, {}. Server: `switchyard serve` (embedded, SQLite), one child process.\n",
            if self.quick { " --quick" } else { "" },
            self.machine.cores,
            self.machine.cpu
        );
        let _ = writeln!(md, "| measure | value |\n| --- | --- |");
        let _ = writeln!(
            md,
            "| raw loopback HTTP POST/s (baseline) | {:.0} |",
            self.raw_http_posts_per_sec
        );
        let _ = writeln!(
            md,
            "| ingest events/s | {:.0} |",
            self.ingest_events_per_sec
        );
        for f in &self.fan_out {
            let _ = writeln!(
                md,
                "| delivered attempts/s, fan-out {} (signed webhooks) | {:.0} ({:.1} % of raw) |",
                f.fan_out,
                f.delivered_per_sec,
                f.fraction_of_raw * 100.0
            );
        }
        for f in &self.fan_out {
            let _ = writeln!(
                md,
                "| server CPU s per 1,000 deliveries, fan-out {} | {:.3} |",
                f.fan_out, f.server_cpu_seconds_per_1000
            );
        }
        for p in &self.latency {
            let _ = writeln!(
                md,
                "| ingest→receipt p50 / p95 / p99 ms, {} ({:.0}/s offered) | {:.1} / {:.1} / {:.1} |",
                p.label, p.offered_per_sec, p.latency.p50_ms, p.latency.p95_ms, p.latency.p99_ms
            );
        }
        let s = &self.slow_destination;
        for (whose, p) in [
            ("another workspace", &s.other_workspace),
            ("another organization", &s.other_organization),
        ] {
            let _ = writeln!(
                md,
                "| ingest→receipt p50 / p95 / p99 ms, {whose}, beside a destination that never answers ({:.0}/s each, {} requests held) | {:.1} / {:.1} / {:.1} |",
                s.offered_per_sec, s.hung_requests, p.p50_ms, p.p95_ms, p.p99_ms
            );
        }
        let _ = writeln!(
            md,
            "| server peak RSS | {:.1} MiB |",
            self.server_peak_rss_bytes as f64 / (1024.0 * 1024.0)
        );
        let d = &self.delivery;
        let _ = writeln!(
            md,
            "| deliveries expected / lost / duplicates (explained, unexplained) / unexpected | {} / {} / {}, {} / {} |",
            d.expected, d.lost, d.explained_duplicates, d.unexplained_duplicates, d.unexpected
        );
        if let Some(n) = self.instructions_per_delivery {
            let _ = writeln!(
                md,
                "| server instructions per delivery, fan-out 1 (callgrind) | {:.0} k |",
                n / 1000.0
            );
        }
        if let [f1, f3, f10] = &self.fan_out[..] {
            let _ = writeln!(
                md,
                "\nFan-out ratios (delivered/s ÷ raw HTTP POST/s): 1 → {:.1} %, 3 → {:.1} %, 10 → {:.1} %.",
                f1.fraction_of_raw * 100.0,
                f3.fraction_of_raw * 100.0,
                f10.fraction_of_raw * 100.0
            );
        }
        if !self.growth.is_empty() {
            let _ = writeln!(
                md,
                "\n| events stored | delivered/s, fan-out 1 | `GET /events` p50 / p99 ms | purge s per 100 k expired | seeding s |\n| --- | --- | --- | --- | --- |"
            );
            for g in &self.growth {
                let _ = writeln!(
                    md,
                    "| {} | {:.0} | {:.1} / {:.1} | {:.2} | {:.0} |",
                    g.stored_events,
                    g.delivered_per_sec,
                    g.list_events.p50_ms,
                    g.list_events.p99_ms,
                    g.purge_seconds_per_100k,
                    g.seed_seconds
                );
            }
        }
        md
    }
}
