//! What a warm Lambda instance on the hot path (ingest, router, delivery) keeps of the config
//! table: publishable keys, rules and connections, each for at most [`STALENESS`]. An edit or a
//! revocation therefore takes effect within 5 s everywhere, and the reads per event fall to
//! the ones whose answer changes (docs/aws.md, "Caches"). Concurrent misses of one key share
//! one read (the records of one batch often name the same rule, connection and event).
//! Hand-written rather than a caching crate: a bounded map and a `OnceCell` per entry are all
//! it needs, and the bootstrap stays small.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use switchyard_core::StoreError;
use tokio::sync::OnceCell;

/// The longest a cached configuration read is used.
pub(crate) const STALENESS: Duration = Duration::from_secs(5);

type Entry<V> = (Instant, Arc<OnceCell<V>>);

pub(crate) struct Cache<V> {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<String, Entry<V>>>,
}

impl<V: Clone + Send + Sync> Cache<V> {
    pub(crate) fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The value under `key` read at most `ttl` ago, or `load`'s answer, which is kept when
    /// `keep` says so (a failed load keeps nothing). Age counts from before the read, so no
    /// answer is used longer than `ttl` after it was read.
    pub(crate) async fn get_or_load<F, Fut>(
        &self,
        key: String,
        keep: impl Fn(&V) -> bool,
        load: F,
    ) -> Result<V, StoreError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, StoreError>>,
    {
        let cell = {
            let mut entries = self.entries.lock().expect("cache lock");
            let now = Instant::now();
            match entries.get(&key) {
                Some((at, cell)) if now.duration_since(*at) < self.ttl => cell.clone(),
                _ => {
                    let cell = Arc::new(OnceCell::new());
                    self.insert(&mut entries, key.clone(), now, cell.clone());
                    cell
                }
            }
        };
        let value = cell.get_or_try_init(load).await?.clone();
        if !keep(&value) {
            let mut entries = self.entries.lock().expect("cache lock");
            if entries
                .get(&key)
                .is_some_and(|(_, c)| Arc::ptr_eq(c, &cell))
            {
                entries.remove(&key);
            }
        }
        Ok(value)
    }

    /// Keeps `value`, read just now, under `key` in place of what was kept.
    pub(crate) fn put(&self, key: String, value: V) {
        let mut entries = self.entries.lock().expect("cache lock");
        self.insert(
            &mut entries,
            key,
            Instant::now(),
            Arc::new(OnceCell::from(value)),
        );
    }

    fn insert(
        &self,
        entries: &mut HashMap<String, Entry<V>>,
        key: String,
        now: Instant,
        cell: Arc<OnceCell<V>>,
    ) {
        if entries.len() >= self.capacity {
            entries.retain(|_, (at, _)| now.duration_since(*at) < self.ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (now, cell));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn concurrent_misses_share_one_read_and_answers_expire() {
        let cache = Cache::new(Duration::from_millis(50), 8);
        let reads = AtomicUsize::new(0);
        let load = || async {
            reads.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            Ok::<_, StoreError>(7)
        };
        let (a, b) = tokio::join!(
            cache.get_or_load("k".into(), |_| true, load),
            cache.get_or_load("k".into(), |_| true, load)
        );
        assert_eq!((a.unwrap(), b.unwrap()), (7, 7));
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_millis(60)).await;
        cache.get_or_load("k".into(), |_| true, load).await.unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 2, "read again once stale");
    }

    #[tokio::test]
    async fn answers_not_kept_are_read_again() {
        let cache = Cache::new(Duration::from_secs(5), 8);
        let reads = AtomicUsize::new(0);
        for _ in 0..2 {
            cache
                .get_or_load(
                    "k".into(),
                    |v: &Option<u8>| v.is_some(),
                    || async {
                        reads.fetch_add(1, Ordering::SeqCst);
                        Ok(None)
                    },
                )
                .await
                .unwrap();
        }
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }
}
