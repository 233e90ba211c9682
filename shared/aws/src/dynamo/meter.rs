//! Capacity accounting: the read and write request units each store call would be billed on
//! DynamoDB on-demand, computed from the sizes of the items it actually read and wrote (moto
//! answers a constant `ConsumedCapacity`, so it cannot be asked). docs/aws.md's per-event
//! figures come from this meter on a real run.
//!
//! Rules (DynamoDB's): a write is one unit per started KiB of the larger of the old and new
//! item, two in a transaction; a failed conditional write still costs a unit; a strongly
//! consistent read is one unit per started 4 KiB (eventually consistent: half), summed over
//! the items a Query returns and rounded up once.

use std::sync::{Arc, Mutex};

/// Units used so far.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CapacityUse {
    pub read_units: f64,
    pub write_units: f64,
}

#[derive(Clone, Debug, Default)]
pub struct CapacityMeter(Arc<Mutex<CapacityUse>>);

impl CapacityMeter {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn total(&self) -> CapacityUse {
        *self.0.lock().expect("meter lock")
    }

    pub(crate) fn write(&self, item_bytes: usize) {
        self.0.lock().expect("meter lock").write_units += write_units(item_bytes);
    }

    pub(crate) fn transactional_write(&self, item_bytes: usize) {
        self.0.lock().expect("meter lock").write_units += 2.0 * write_units(item_bytes);
    }

    /// One read request over items totalling `bytes` (a GetItem, or a whole Query page).
    pub(crate) fn read(&self, bytes: usize, consistent: bool) {
        let units = bytes.div_ceil(4096).max(1) as f64;
        self.0.lock().expect("meter lock").read_units +=
            if consistent { units } else { units / 2.0 };
    }
}

fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_round_up_per_item_and_request() {
        let m = CapacityMeter::new();
        m.write(10);
        m.write(1025);
        m.transactional_write(100);
        m.read(4097, true);
        m.read(100, false);
        assert_eq!(
            m.total(),
            CapacityUse {
                read_units: 2.5,
                write_units: 1.0 + 2.0 + 2.0
            }
        );
    }
}
