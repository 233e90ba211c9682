//! The server under test: `switchyard serve` as a child process with its own temporary data
//! directory, so its memory and CPU time are its own and read from /proc.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;

use crate::credentials_file::{self, Credentials};

pub struct Server {
    child: Child,
    pub creds: Credentials,
    // Dropped (deleted) after the child is stopped.
    _data_dir: tempfile::TempDir,
}

impl Server {
    /// Starts `binary serve` on a free loopback port, loopback webhooks allowed, and waits
    /// until it listens. Its stdout (which shows the new credentials once) is read, never shown.
    pub fn start(binary: &Path) -> anyhow::Result<Self> {
        let data_dir = tempfile::tempdir()?;
        let mut child = wrapped(binary)
            .args(["serve", "--listen", "127.0.0.1:0", "--allow-loopback-http"])
            .arg("--data-dir")
            .arg(data_dir.path())
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
        if rx.recv_timeout(Duration::from_secs(30)).is_err() {
            let _ = child.kill();
            anyhow::bail!("the server did not start listening within 30 s");
        }
        let creds = credentials_file::read(data_dir.path())?;
        Ok(Self {
            child,
            creds,
            _data_dir: data_dir,
        })
    }

    pub fn data_dir(&self) -> &Path {
        self._data_dir.path()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the kernel counted for the process so far.
    pub fn usage(&self) -> anyhow::Result<ProcessUsage> {
        ProcessUsage::read(self.pid())
    }

    /// SIGTERM (a graceful stop), then SIGKILL if it has not exited within 10 s.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
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

/// `binary`, or — for profiling — `$SWITCHYARD_BENCH_WRAPPER binary` (e.g.
/// `valgrind --tool=callgrind`): the wrapper is split on whitespace.
fn wrapped(binary: &Path) -> Command {
    match std::env::var("SWITCHYARD_BENCH_WRAPPER") {
        Ok(wrapper) if !wrapper.trim().is_empty() => {
            let mut words = wrapper.split_whitespace();
            let mut command = Command::new(words.next().expect("not empty"));
            command.args(words).arg(binary);
            command
        }
        _ => Command::new(binary),
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
