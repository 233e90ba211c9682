//! A small bounded set of keys this process knows to be stored already — events it marked
//! routed, catalog keys it has seen. Checking it saves a write that would change nothing;
//! forgetting (eviction, a new process) only costs that write again.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

pub struct Memo {
    capacity: usize,
    inner: Mutex<(HashSet<String>, VecDeque<String>)>,
}

impl Memo {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new((HashSet::new(), VecDeque::new())),
        }
    }

    pub fn contains(&self, key: &str) -> bool {
        self.inner.lock().expect("memo lock").0.contains(key)
    }

    pub fn insert(&self, key: String) {
        let mut guard = self.inner.lock().expect("memo lock");
        let (set, order) = &mut *guard;
        if set.insert(key.clone()) {
            order.push_back(key);
            if order.len() > self.capacity
                && let Some(old) = order.pop_front()
            {
                set.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgets_the_oldest_past_capacity() {
        let m = Memo::new(2);
        for k in ["a", "b", "c"] {
            m.insert(k.into());
        }
        assert!(!m.contains("a"));
        assert!(m.contains("b") && m.contains("c"));
    }
}
