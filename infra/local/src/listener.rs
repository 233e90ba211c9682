//! The API's HTTP listener: hyper's HTTP/1 server with the limits `axum::serve` leaves out, so
//! idle or slow clients cannot hold the process's memory or file descriptors:
//! - a deadline for each request head, from connecting or from the previous response (hyper's
//!   `header_read_timeout`, which therefore also closes idle keep-alive connections);
//! - a deadline between two reads of a request body;
//! - a cap on open connections. At the cap a new connection makes room by closing the
//!   longest-open connection with no request in progress (at once when idle, after a short
//!   grace when in the middle of a request head); when every connection is busy it waits
//!   briefly for one to end, then is closed.
//!
//! Graceful shutdown: stop accepting, let requests in progress finish, close idle connections.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::bail;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore, watch};
use tower::{Layer, ServiceExt};
use tower_http::timeout::RequestBodyTimeoutLayer;

/// File descriptors the process needs besides API connections: SQLite and its WAL, outbound
/// webhook and provider connections, the AWS SDK's pool, stdio.
const FD_RESERVE: u64 = 256;
/// Connections over the cap that may wait for room at once; beyond, accepting pauses.
const ADMISSION_QUEUE: usize = 64;
/// How long a connection over the cap waits for room before it is closed.
const ADMISSION_WAIT: Duration = Duration::from_secs(3);
/// How long an evicted connection with a partial request head may still complete it.
const EVICTION_GRACE: Duration = Duration::from_millis(200);
/// After an accept error (out of descriptors), a pause before the next accept, so the loop
/// does not spin while connections drain.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// Request header fields hyper parses; above our own limit (`api::head_limits`), so our JSON
/// 431 answers first.
const HYPER_MAX_HEADERS: usize = 512;

/// The listener's limits (`switchyard serve` options).
#[derive(clap::Args, Debug, Clone)]
pub struct ListenerArgs {
    /// Seconds a client has to send a complete request head, counted from connecting or from
    /// its previous response: slow and idle connections are closed after it.
    #[arg(long, env = "SWITCHYARD_HEADER_TIMEOUT", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout: u64,
    /// Seconds a request body may stall between two reads before the request fails.
    #[arg(long, env = "SWITCHYARD_BODY_TIMEOUT", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_timeout: u64,
    /// Open API connections at most; at the cap, idle connections are closed to make room.
    #[arg(long, env = "SWITCHYARD_MAX_CONNECTIONS", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,
}

/// Makes room for `wanted` connections in the process's file-descriptor limit: raises the soft
/// limit towards the hard one if needed. Returns the cap that fits, lowered (with a warning)
/// when the hard limit is too small; refuses to start when not even the reserve fits.
pub fn fit_descriptors(wanted: u64) -> anyhow::Result<u64> {
    let needed = wanted.saturating_add(FD_RESERVE);
    let soft = rlimit::increase_nofile_limit(needed)?;
    if soft >= needed {
        return Ok(wanted);
    }
    if soft <= FD_RESERVE {
        bail!(
            "the file-descriptor limit ({soft}) leaves no room for API connections; raise it \
             (ulimit -n) above {FD_RESERVE}"
        );
    }
    let fits = soft - FD_RESERVE;
    tracing::warn!(
        wanted,
        fits,
        limit = soft,
        "--max-connections lowered to fit the file-descriptor limit (raise ulimit -n to keep it)"
    );
    Ok(fits)
}

/// One open connection, as the cap sees it.
struct Tracked {
    /// Requests being handled on it now.
    in_flight: AtomicUsize,
    /// Asked to close (by the cap or shutdown): not chosen again.
    closing: AtomicBool,
    close: Notify,
}

/// The open connections, oldest first.
#[derive(Default)]
struct Registry {
    next_id: u64,
    open: BTreeMap<u64, Arc<Tracked>>,
}

impl Registry {
    fn add(&mut self) -> (u64, Arc<Tracked>) {
        let id = self.next_id;
        self.next_id += 1;
        let tracked = Arc::new(Tracked {
            in_flight: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
            close: Notify::new(),
        });
        self.open.insert(id, tracked.clone());
        (id, tracked)
    }

    /// Asks the longest-open connection with no request in progress to close; `false` when
    /// every connection is busy.
    fn close_oldest_idle(&self) -> bool {
        let idle = self.open.values().find(|t| {
            t.in_flight.load(Ordering::Acquire) == 0 && !t.closing.load(Ordering::Acquire)
        });
        match idle {
            Some(t) => {
                t.closing.store(true, Ordering::Release);
                t.close.notify_one();
                true
            }
            None => false,
        }
    }
}

/// A new connection's place: a connection permit now, or a place among those waiting for one.
enum Admission {
    Now(tokio::sync::OwnedSemaphorePermit),
    Wait(tokio::sync::OwnedSemaphorePermit),
}

/// Counts a request in progress on its connection while alive.
struct InFlight(Arc<Tracked>);

impl InFlight {
    fn new(tracked: &Arc<Tracked>) -> Self {
        tracked.in_flight.fetch_add(1, Ordering::AcqRel);
        Self(tracked.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then finishes requests in progress.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &ListenerArgs,
    max_connections: u64,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let service = RequestBodyTimeoutLayer::new(Duration::from_secs(limits.body_timeout)).layer(app);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_timeout))
        .max_headers(HYPER_MAX_HEADERS);
    let http = Arc::new(http);
    let cap = usize::try_from(max_connections).unwrap_or(usize::MAX);
    let permits = Arc::new(Semaphore::new(cap));
    let waiting = Arc::new(Semaphore::new(ADMISSION_QUEUE));
    let registry = Arc::new(Mutex::new(Registry::default()));
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);

    loop {
        let stream = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept an API connection");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        // At the cap a new connection makes room and waits for it in its own task, so the
        // accept loop goes on while evicted connections close. How many may wait is bounded:
        // with that many waiting the loop pauses until one is admitted or gives up, and newer
        // clients wait in the kernel's backlog — a burst is admitted in order, none dropped.
        let place = match permits.clone().try_acquire_owned() {
            Ok(permit) => Admission::Now(permit),
            Err(_) => {
                let place = tokio::select! {
                    biased;
                    () = &mut shutdown => break,
                    place = waiting.clone().acquire_owned() => {
                        place.expect("the admission queue is never closed")
                    }
                };
                lock(&registry).close_oldest_idle();
                Admission::Wait(place)
            }
        };
        let (http, service, registry, permits, mut stop) = (
            http.clone(),
            service.clone(),
            registry.clone(),
            permits.clone(),
            stop_rx.clone(),
        );
        tokio::spawn(async move {
            let permit = match place {
                Admission::Now(permit) => permit,
                Admission::Wait(place) => {
                    let permit =
                        tokio::time::timeout(ADMISSION_WAIT, admit(&permits, &registry)).await;
                    drop(place);
                    match permit {
                        Ok(Some(permit)) => permit,
                        _ => {
                            tracing::warn!(
                                max_connections,
                                "connection cap reached and every connection busy: closing a new one"
                            );
                            return;
                        }
                    }
                }
            };
            let (id, tracked) = lock(&registry).add();
            let requests = {
                let tracked = tracked.clone();
                hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                    let in_flight = InFlight::new(&tracked);
                    let service = service.clone();
                    async move {
                        let response = service.oneshot(request).await;
                        drop(in_flight);
                        response
                    }
                })
            };
            let connection = http.serve_connection(TokioIo::new(stream), requests);
            tokio::pin!(connection);
            // After an eviction: hyper closes an idle connection at once, but one in the middle
            // of a request head only at its header timeout; past the grace, with still no
            // request in progress, it is dropped.
            let grace = tokio::time::sleep(Duration::ZERO);
            tokio::pin!(grace);
            let (mut closing, mut evicted) = (false, false);
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(error = %e, "API connection ended");
                        }
                        break;
                    }
                    () = tracked.close.notified(), if !closing => {
                        closing = true;
                        evicted = true;
                        connection.as_mut().graceful_shutdown();
                        grace.as_mut().reset(tokio::time::Instant::now() + EVICTION_GRACE);
                    }
                    _ = stop.changed(), if !closing => {
                        closing = true;
                        connection.as_mut().graceful_shutdown();
                    }
                    () = &mut grace, if evicted => {
                        evicted = false;
                        if tracked.in_flight.load(Ordering::Acquire) == 0 {
                            break;
                        }
                        // A request arrived meanwhile: it finishes, then hyper closes.
                    }
                }
            }
            lock(&registry).open.remove(&id);
            drop(permit);
        });
    }

    // Stop accepting; idle connections close now, busy ones after their request.
    drop(listener);
    let _ = stop_tx.send(true);
    let _ = permits
        .acquire_many(u32::try_from(cap).unwrap_or(u32::MAX))
        .await;
    Ok(())
}

/// Waits for a connection permit, asking for room again every [`EVICTION_GRACE`]: the
/// connections evicted for this one may have been taken by others waiting before it.
async fn admit(
    permits: &Arc<Semaphore>,
    registry: &Mutex<Registry>,
) -> Option<tokio::sync::OwnedSemaphorePermit> {
    let acquire = permits.clone().acquire_owned();
    tokio::pin!(acquire);
    loop {
        tokio::select! {
            permit = &mut acquire => return permit.ok(),
            () = tokio::time::sleep(EVICTION_GRACE) => {
                lock(registry).close_oldest_idle();
            }
        }
    }
}

fn lock(registry: &Mutex<Registry>) -> std::sync::MutexGuard<'_, Registry> {
    registry.lock().unwrap_or_else(|p| p.into_inner())
}
