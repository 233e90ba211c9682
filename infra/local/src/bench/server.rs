//! The server under test: `switchyard serve` as a child process with its own temporary data
//! directory, so its memory and CPU time are its own and read from /proc.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;

use crate::credentials_file::{self, Credentials};

pub struct Server {
    child: Child,
    pub creds: Credentials,
    data_dir: PathBuf,
    /// A temporary data directory of its own, dropped (deleted) after the child is stopped.
    _temporary: Option<tempfile::TempDir>,
    /// How long a graceful stop may take (a profiler writes its output on the way out).
    stop_within: Duration,
}

impl Server {
    /// Starts `binary serve` on a free loopback port, loopback webhooks allowed, and waits
    /// until it listens. Its stdout (which shows the new credentials once) is read, never shown.
    pub fn start(binary: &Path) -> anyhow::Result<Self> {
        let data_dir = tempfile::tempdir()?;
        let mut server = Self::start_in(binary, data_dir.path(), &wrapper_from_env())?;
        server._temporary = Some(data_dir);
        Ok(server)
    }

    /// As [`Self::start`], over `data_dir` (kept), its command line prefixed by `wrapper`
    /// (a profiler), if any.
    pub fn start_in(binary: &Path, data_dir: &Path, wrapper: &[String]) -> anyhow::Result<Self> {
        let mut child = wrapped(binary, wrapper)
            .args(["serve", "--listen", "127.0.0.1:0", "--allow-loopback-http"])
            .arg("--data-dir")
            .arg(data_dir)
            // One info line per attempt would be a large part of the work measured.
            .env("RUST_LOG", "error")
            .env_remove("SWITCHYARD_BACKEND")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("listening on ") {
                    let _ = tx.send(());
                }
            }
        });
        // Under a profiler start-up is tens of times slower.
        let patience = if wrapper.is_empty() { 30 } else { 300 };
        if rx.recv_timeout(Duration::from_secs(patience)).is_err() {
            let _ = child.kill();
            anyhow::bail!("the server did not start listening within {patience} s");
        }
        let creds = credentials_file::read(data_dir)?;
        Ok(Self {
            child,
            creds,
            data_dir: data_dir.to_owned(),
            _temporary: None,
            stop_within: Duration::from_secs(if wrapper.is_empty() { 10 } else { 120 }),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the kernel counted for the process so far.
    pub fn usage(&self) -> anyhow::Result<ProcessUsage> {
        ProcessUsage::read(self.pid())
    }

    /// SIGTERM (a graceful stop), then SIGKILL if it has not exited within 10 s (2 min under
    /// a profiler).
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = std::time::Instant::now() + self.stop_within;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `$SWITCHYARD_BENCH_WRAPPER` split on whitespace (e.g. `valgrind --tool=callgrind`), to
/// profile the server of a whole run.
fn wrapper_from_env() -> Vec<String> {
    std::env::var("SWITCHYARD_BENCH_WRAPPER")
        .map(|w| w.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// `binary`, or `wrapper… binary`.
fn wrapped(binary: &Path, wrapper: &[String]) -> Command {
    match wrapper.split_first() {
        Some((program, args)) => {
            let mut command = Command::new(program);
            command.args(args).arg(binary);
            command
        }
        None => Command::new(binary),
    }
}

/// Peak resident memory and CPU time of a process, from /proc.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessUsage {
    pub peak_rss_bytes: u64,
    pub cpu_seconds: f64,
}

/// Linux reports utime/stime in USER_HZ, which is 100 on every architecture it supports.
const CLOCK_TICKS_PER_SEC: f64 = 100.0;

impl ProcessUsage {
    pub fn read(pid: u32) -> anyhow::Result<Self> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let peak_kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmHWM in /proc/PID/status")?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
        let after_name = stat.rsplit_once(')').context("malformed /proc/PID/stat")?.1;
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let ticks: u64 = fields
            .get(11..13)
            .context("short /proc/PID/stat")?
            .iter()
            .map(|f| f.parse::<u64>().unwrap_or(0))
            .sum();
        Ok(Self {
            peak_rss_bytes: peak_kib * 1024,
            cpu_seconds: ticks as f64 / CLOCK_TICKS_PER_SEC,
        })
    }
}
