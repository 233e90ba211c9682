//! Starting, killing and restarting the real `switchyard serve` process.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// The `switchyard` binary built next to this test (`make test` builds it first), or
/// `$SWITCHYARD_BIN`.
pub fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("SWITCHYARD_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/switchyard
    let path = exe
        .parent()
        .and_then(Path::parent)
        .expect("target directory")
        .join("switchyard");
    assert!(
        path.exists(),
        "{} not found: build it first (`cargo build -p switchyard`, as `make test` does)",
        path.display()
    );
    path
}

/// The backend the end-to-end suites run on: the embedded default, or — with
/// `SWITCHYARD_E2E_BACKEND=aws`, as `make test` runs them a second time — the AWS adapters on
/// the moto server in `SWITCHYARD_TEST_MOTO`. The tests themselves are the same.
pub enum E2eBackend {
    Embedded,
    Aws(crate::Moto),
}

impl E2eBackend {
    pub fn from_env() -> Self {
        match std::env::var("SWITCHYARD_E2E_BACKEND").as_deref() {
            Ok("aws") => {
                Self::Aws(crate::Moto::from_env().expect(
                    "SWITCHYARD_E2E_BACKEND=aws needs a moto server in SWITCHYARD_TEST_MOTO",
                ))
            }
            Ok("embedded") | Err(_) => Self::Embedded,
            Ok(other) => panic!("unknown SWITCHYARD_E2E_BACKEND {other}"),
        }
    }

    /// `serve` flags: on AWS, resources under a prefix of the data directory's own, so a
    /// restart on the same directory finds its data and no two tests share queues.
    fn serve_args(&self, data_dir: &Path) -> Vec<String> {
        match self {
            Self::Embedded => Vec::new(),
            Self::Aws(_) => {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                data_dir.hash(&mut h);
                vec![
                    "--backend".into(),
                    "aws".into(),
                    "--aws-bootstrap".into(),
                    "--aws-prefix".into(),
                    format!("e{:016x}", h.finish()),
                ]
            }
        }
    }

    /// The environment the process (and the CLI commands a test runs) needs for the backend.
    pub fn env(&self) -> Vec<(String, String)> {
        match self {
            Self::Embedded => Vec::new(),
            Self::Aws(moto) => moto.env(),
        }
    }
}

/// A running `switchyard serve`, killed when dropped.
pub struct Switchyard {
    child: Child,
    pub api_url: String,
    pub data_dir: PathBuf,
    /// Everything the process printed on stdout up to "listening on".
    pub banner: String,
}

impl Switchyard {
    /// Starts the server on a free loopback port with `--allow-loopback-http`, and waits until
    /// it listens.
    pub fn start(data_dir: &Path) -> Self {
        Self::start_with(data_dir, &["--allow-loopback-http"])
    }

    pub fn start_with(data_dir: &Path, extra: &[&str]) -> Self {
        Self::start_with_env(data_dir, extra, &[])
    }

    /// As [`Self::start_with`], with extra environment variables for the process.
    pub fn start_with_env(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data_dir.with_extension("log"))
            .expect("log file");
        let backend = E2eBackend::from_env();
        let mut child = Command::new(binary())
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .args(backend.serve_args(data_dir))
            .envs(backend.env())
            .envs(env.iter().copied())
            // `SWITCHYARD_TEST_LOG=debug` (say) for more while chasing a failure.
            .env(
                "RUST_LOG",
                std::env::var("SWITCHYARD_TEST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn switchyard");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        // Keeps draining stdout so the process never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut banner = String::new();
        let api_url = loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    banner.push_str(&line);
                    banner.push('\n');
                    if let Some(url) = line.strip_prefix("listening on ") {
                        break url.trim().to_owned();
                    }
                }
                Err(e) => {
                    let _ = child.kill();
                    panic!("switchyard did not start ({e}); stdout so far:\n{banner}");
                }
            }
        };
        Self {
            child,
            api_url,
            data_dir: data_dir.to_owned(),
            banner,
        }
    }

    /// The credentials.json the server wrote.
    pub fn credentials(&self) -> Value {
        let text = std::fs::read_to_string(self.data_dir.join("credentials.json"))
            .expect("credentials.json");
        serde_json::from_str(&text).expect("credentials.json is JSON")
    }

    /// `kill -9`: no chance to clean up.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether the process has exited (a failpoint's abort, say), without waiting.
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// SIGTERM, then waits for a clean exit; returns whether it exited successfully.
    pub fn stop(mut self) -> bool {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        self.child.wait().map(|s| s.success()).unwrap_or(false)
    }
}

impl Drop for Switchyard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            self.print_log_tail();
        }
    }
}

impl Switchyard {
    /// The end of what the server logged, beside a failing test's panic: on CI the log file
    /// goes with the test's temporary directory.
    fn print_log_tail(&self) {
        const LINES: usize = 60;
        let Ok(log) = std::fs::read_to_string(self.data_dir.with_extension("log")) else {
            return;
        };
        let lines: Vec<&str> = log.lines().collect();
        let tail = &lines[lines.len().saturating_sub(LINES)..];
        eprintln!("--- the server's last {} log lines ---", tail.len());
        for line in tail {
            eprintln!("{line}");
        }
    }
}
