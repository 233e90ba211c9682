//! `switchyard bench`: the server as a child process, a receiver and a load generator in this
//! one, all bounded in count and time. See docs/benchmarks.md for the method.

mod api;
mod baseline;
mod growth;
mod instructions;
mod load;
mod plot;
mod receiver;
mod report;
mod server;
mod slow;
mod stats;
mod verify;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use self::load::{await_webhooks, closed_loop, open_loop};
use self::receiver::Receiver;
use self::report::{FanOut, LatencyPoint, Machine, Report};
use self::server::Server;
use self::verify::Expected;

#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// A small run (well under a minute), for tests and a first look.
    #[arg(long)]
    pub quick: bool,
    /// Where bench.md, bench.json and latency.svg are written.
    #[arg(long, default_value = "target/bench")]
    pub out: PathBuf,
    /// The growth phase: for each number, a server with that many events (each with its
    /// delivery and attempt) already stored, e.g. `--seed-events 0,1000000,5000000`.
    #[arg(long, value_delimiter = ',')]
    pub seed_events: Vec<u64>,
    /// Deliveries to count instructions over, under Valgrind's callgrind (0: skip; skipped
    /// too when valgrind is not installed). Default: 300, or 0 with `--quick`.
    #[arg(long)]
    pub instructions: Option<usize>,
    /// The `switchyard` binary to measure (default: this one), e.g. an older build for an
    /// A/B comparison under the same load generator.
    #[arg(long)]
    pub server: Option<PathBuf>,
    /// Open-loop rates (events/s) for the latency phase in place of fractions of the
    /// capacity just measured, e.g. `--latency-rates 600,1200,2000`: both sides of an A/B
    /// pair are then offered the same load, whatever their burst capacities.
    #[arg(long, value_delimiter = ',')]
    pub latency_rates: Vec<f64>,
}

/// How much of everything: a run is bounded by these counts and durations.
struct Plan {
    raw_seconds: f64,
    ingest_events: usize,
    fan_outs: [(usize, usize); 3],
    low_rate: f64,
    load_fractions: &'static [f64],
    phase_seconds: f64,
    /// Events/s offered to each destination of the slow destination phase.
    slow_rate: f64,
    /// Longest wait for a phase's deliveries.
    drain: Duration,
    /// Events delivered at each level of the growth phase, and events past retention seeded
    /// beside them for the purge.
    growth: (usize, u64),
}

const FULL: Plan = Plan {
    raw_seconds: 5.0,
    ingest_events: 3000,
    fan_outs: [(1, 3000), (3, 1500), (10, 500)],
    low_rate: 50.0,
    load_fractions: &[0.25, 0.5, 0.8],
    phase_seconds: 10.0,
    slow_rate: 50.0,
    drain: Duration::from_secs(180),
    growth: (2000, 100_000),
};

const QUICK: Plan = Plan {
    raw_seconds: 1.0,
    ingest_events: 200,
    fan_outs: [(1, 300), (3, 120), (10, 40)],
    low_rate: 20.0,
    load_fractions: &[0.8],
    phase_seconds: 2.0,
    slow_rate: 20.0,
    drain: Duration::from_secs(60),
    growth: (200, 1000),
};

/// Concurrent ingest senders in the closed-loop phases.
pub(crate) const SENDERS: usize = 16;
/// The delivery side's concurrency (the runtime's 64 attempt slots), matched by the baseline.
const DELIVERY_CONCURRENCY: usize = 64;
/// The most destinations any rule set uses.
const DESTINATIONS: u16 = 10;

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench(args))
}

async fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let plan = if args.quick { &QUICK } else { &FULL };
    anyhow::ensure!(
        args.latency_rates.iter().all(|r| r.is_finite() && *r > 0.0),
        "--latency-rates: each rate must be a positive number of events per second"
    );
    let binary = match args.server.clone() {
        Some(server) => server,
        None => std::env::current_exe().context("cannot find the switchyard binary")?,
    };
    let receiver = Receiver::start().await?;
    let server = Server::start(&binary)?;
    let result = measure(plan, &args.latency_rates, &binary, &server, &receiver).await;
    let usage = server.usage();
    server.stop();
    let mut report = result?;
    let usage = usage?;
    report.quick = args.quick;
    report.server_peak_rss_bytes = usage.peak_rss_bytes;
    report.server_cpu_seconds = usage.cpu_seconds;
    // Each on servers of their own, after the main run's server has stopped.
    if !args.seed_events.is_empty() {
        report.growth = growth::measure(&binary, &receiver, &args.seed_events, plan.growth).await?;
    }
    let counted = args
        .instructions
        .unwrap_or(if args.quick { 0 } else { 300 });
    if counted > 0 {
        if instructions::available() {
            report.instructions_per_delivery =
                Some(instructions::per_delivery(&binary, &receiver, counted).await?);
        } else {
            eprintln!("valgrind is not installed: instructions per delivery not measured");
        }
    }

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let md = report.markdown();
    print!("{md}");
    std::fs::write(args.out.join("bench.md"), &md)?;
    std::fs::write(
        args.out.join("bench.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    std::fs::write(
        args.out.join("latency.svg"),
        plot::latency_svg(&report.latency),
    )?;
    eprintln!("written to {}", args.out.display());
    anyhow::ensure!(
        report.delivery.lost == 0 && report.delivery.unexplained_duplicates == 0,
        "deliveries lost or duplicated: {:?}",
        report.delivery
    );
    Ok(())
}

pub(crate) fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:>28} [{bar:30}] {pos}/{len} {per_sec} {elapsed}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

async fn measure(
    plan: &Plan,
    latency_rates: &[f64],
    binary: &Path,
    server: &Server,
    receiver: &Receiver,
) -> anyhow::Result<Report> {
    let api = api::Api::new(&server.creds)?;
    let receipts = &receiver.receipts;
    let mut expected = Vec::new();

    // Rules: `bench.fN` goes to destinations 0..N; `bench.ingest` nowhere.
    let mut rules: Vec<Vec<String>> = Vec::new();
    for &(fan_out, _) in &plan.fan_outs {
        let mut ids = Vec::new();
        for d in 0..fan_out as u16 {
            ids.push(
                api.webhook_rule(
                    &receiver.url(&format!("/d/{d}")),
                    &format!("bench.f{fan_out}"),
                )
                .await?,
            );
        }
        rules.push(ids);
    }
    debug_assert!(
        plan.fan_outs
            .iter()
            .all(|(f, _)| *f <= DESTINATIONS as usize)
    );

    let raw = baseline::raw_posts_per_sec(
        &receiver.url("/raw"),
        receipts,
        DELIVERY_CONCURRENCY,
        Duration::from_secs_f64(plan.raw_seconds),
    )
    .await?;

    let progress = bar(plan.ingest_events as u64, "ingest (no rules)");
    let sent = closed_loop(
        &api,
        receipts,
        "bench.ingest",
        plan.ingest_events,
        SENDERS,
        &progress,
    )
    .await?;
    progress.finish();
    let ingest_per_sec = sent.ids.len() as f64 / sent.elapsed.as_secs_f64();

    let mut fan_out_results = Vec::new();
    for (&(fan_out, events), rule_ids) in plan.fan_outs.iter().zip(&rules) {
        let before = server.usage()?;
        let seen_before = receipts.webhooks.load(std::sync::atomic::Ordering::Relaxed);
        let want = (events * fan_out) as u64;
        let progress = bar(want, &format!("fan-out {fan_out} deliveries"));
        let started_us = receipts.now_us();
        let sent = closed_loop(
            &api,
            receipts,
            &format!("bench.f{fan_out}"),
            events,
            SENDERS,
            &ProgressBar::hidden(),
        )
        .await?;
        let done = await_webhooks(receipts, seen_before + want, plan.drain, &progress).await;
        progress.finish();
        anyhow::ensure!(
            done,
            "fan-out {fan_out}: deliveries did not all arrive in time"
        );
        let elapsed_us = receipts
            .last_receipt_us
            .load(std::sync::atomic::Ordering::Relaxed)
            .saturating_sub(started_us)
            .max(1);
        let after = server.usage()?;
        let delivered_per_sec = want as f64 / (elapsed_us as f64 / 1e6);
        fan_out_results.push(FanOut {
            fan_out,
            events,
            delivered_attempts: want,
            delivered_per_sec,
            fraction_of_raw: delivered_per_sec / raw,
            server_cpu_seconds_per_1000: (after.cpu_seconds - before.cpu_seconds) * 1000.0
                / want as f64,
        });
        for id in sent.ids {
            for (d, rule_id) in rule_ids.iter().enumerate() {
                expected.push(Expected {
                    event_id: id.clone(),
                    destination: d as u16,
                    rule_id: rule_id.clone(),
                    api: None,
                });
            }
        }
    }
    receipts.take_latencies();

    // Latency at fan-out 1: a low fixed rate, then fractions of the capacity just measured
    // (or the rates asked for).
    let capacity = fan_out_results[0].delivered_per_sec;
    let mut offered = vec![("unsaturated".to_owned(), plan.low_rate)];
    if latency_rates.is_empty() {
        for f in plan.load_fractions {
            offered.push((format!("{:.0} % of capacity", f * 100.0), capacity * f));
        }
    } else {
        for &rate in latency_rates {
            let share = rate / capacity * 100.0;
            offered.push((format!("fixed rate, {share:.0} % of capacity"), rate));
        }
    }
    let mut latency = Vec::new();
    for (label, rate) in offered {
        let seen_before = receipts.webhooks.load(std::sync::atomic::Ordering::Relaxed);
        let duration = Duration::from_secs_f64(plan.phase_seconds);
        let progress = bar(
            (rate * plan.phase_seconds).round() as u64,
            &format!("latency, {label}"),
        );
        let sent = open_loop(&api, receipts, "bench.f1", rate, duration).await?;
        let want = sent.ids.len() as u64;
        progress.set_length(want);
        let done = await_webhooks(receipts, seen_before + want, plan.drain, &progress).await;
        progress.finish();
        anyhow::ensure!(
            done,
            "latency at {label}: deliveries did not all arrive in time"
        );
        latency.push(LatencyPoint {
            label,
            offered_per_sec: rate,
            achieved_per_sec: want as f64 / sent.elapsed.as_secs_f64(),
            latency: stats::percentiles(receipts.take_latencies()),
        });
        for id in sent.ids {
            expected.push(Expected {
                event_id: id,
                destination: 0,
                rule_id: rules[0][0].clone(),
                api: None,
            });
        }
    }

    // A destination that never answers, beside another workspace's and organization's.
    let phase = Duration::from_secs_f64(plan.phase_seconds);
    let slow_destination = slow::measure(
        binary,
        server,
        &api,
        receiver,
        (plan.slow_rate, phase, plan.drain),
        &mut expected,
    )
    .await?;

    let delivery = verify::verify(&api, receipts, &expected).await;
    Ok(Report {
        quick: false,
        machine: Machine::this(),
        raw_http_posts_per_sec: raw,
        ingest_events_per_sec: ingest_per_sec,
        fan_out: fan_out_results,
        latency,
        slow_destination,
        server_peak_rss_bytes: 0,
        server_cpu_seconds: 0.0,
        delivery,
        growth: Vec::new(),
        instructions_per_delivery: None,
    })
}
