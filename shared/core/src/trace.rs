//! W3C Trace Context (`traceparent`): one trace per event, from ingest through the router and
//! the delivery to the destination call. Parsing and formatting only; spans are the handlers'.
//!
//! `traceparent: 00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>`. A header that is
//! not valid by the specification is ignored (a new trace starts), never an error.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A trace id: 16 bytes, never all zero.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceId([u8; 16]);

/// A span id: 8 bytes, never all zero.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpanId([u8; 8]);

/// Where a span sits: its trace, the span that is its parent, and the trace flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TraceParent {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    /// Bit 0: sampled. Carried on unchanged.
    pub flags: u8,
}

impl TraceId {
    /// A fresh random trace id.
    pub fn random() -> Self {
        loop {
            let bytes: [u8; 16] = rand::random();
            if let Some(id) = Self::from_bytes(bytes) {
                return id;
            }
        }
    }

    /// A fresh trace id whose first 4 bytes are `epoch_secs` (big-endian), the rest random:
    /// still a W3C id, and the shape AWS X-Ray's own ids have, so X-Ray takes it as it is.
    pub fn starting_at(epoch_secs: u64) -> Self {
        let mut bytes = Self::random().0;
        bytes[..4].copy_from_slice(&(epoch_secs as u32).to_be_bytes());
        Self(bytes)
    }

    /// `None` for the all-zero id, which the specification reserves as invalid.
    pub fn from_bytes(bytes: [u8; 16]) -> Option<Self> {
        (bytes != [0; 16]).then_some(Self(bytes))
    }

    pub fn to_bytes(self) -> [u8; 16] {
        self.0
    }
}

impl SpanId {
    /// A fresh random span id.
    pub fn random() -> Self {
        loop {
            let bytes: [u8; 8] = rand::random();
            if let Some(id) = Self::from_bytes(bytes) {
                return id;
            }
        }
    }

    /// `None` for the all-zero id, which the specification reserves as invalid.
    pub fn from_bytes(bytes: [u8; 8]) -> Option<Self> {
        (bytes != [0; 8]).then_some(Self(bytes))
    }

    pub fn to_bytes(self) -> [u8; 8] {
        self.0
    }
}

impl TraceParent {
    /// The sampled flag, set on traces Switchyard starts itself.
    pub const SAMPLED: u8 = 0x01;

    /// A new trace (started at `epoch_secs`) whose first span is `span_id`.
    pub fn new_root(span_id: SpanId, epoch_secs: u64) -> Self {
        Self {
            trace_id: TraceId::starting_at(epoch_secs),
            span_id,
            flags: Self::SAMPLED,
        }
    }

    /// The same trace, with `span_id` as the parent its receiver sees.
    pub fn child(self, span_id: SpanId) -> Self {
        Self { span_id, ..self }
    }

    /// Reads a `traceparent` header value. Version `00` must be exactly four fields; a later
    /// version may append fields after a `-` (read as version 00, as the specification says);
    /// version `ff`, upper-case hex and all-zero ids are invalid.
    pub fn parse(header: &str) -> Option<Self> {
        let header = header.trim_matches([' ', '\t']);
        let bytes = header.as_bytes();
        if bytes.len() < 55 || !bytes[..55].is_ascii() || (bytes.len() > 55 && bytes[55] != b'-') {
            return None;
        }
        let version = hex::<1>(&header[0..2])?[0];
        if version == 0xff || (version == 0 && bytes.len() != 55) {
            return None;
        }
        if bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
            return None;
        }
        Some(Self {
            trace_id: TraceId::from_bytes(hex(&header[3..35])?)?,
            span_id: SpanId::from_bytes(hex(&header[36..52])?)?,
            flags: hex::<1>(&header[53..55])?[0],
        })
    }
}

/// Lower-case hex into exactly `N` bytes.
fn hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.as_bytes();
    if s.len() != 2 * N {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        out[i] = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

/// One write of the whole id (at most 16 bytes): a `write!` per byte was most of the cost of
/// putting an id in a log line, a queue message or a stored row.
fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    let mut buf = [0u8; 32];
    let out = &mut buf[..2 * bytes.len()];
    hex::encode_to_slice(bytes, out).map_err(|_| fmt::Error)?;
    f.write_str(std::str::from_utf8(out).map_err(|_| fmt::Error)?)
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The header value, version `00`.
impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{}-{}-{:02x}",
            self.trace_id, self.span_id, self.flags
        )
    }
}

#[derive(Debug, thiserror::Error)]
#[error("not a valid {0}")]
pub struct ParseTraceError(&'static str);

impl FromStr for TraceId {
    type Err = ParseTraceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        hex(s)
            .and_then(Self::from_bytes)
            .ok_or(ParseTraceError("trace id"))
    }
}

impl FromStr for SpanId {
    type Err = ParseTraceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        hex(s)
            .and_then(Self::from_bytes)
            .ok_or(ParseTraceError("span id"))
    }
}

impl FromStr for TraceParent {
    type Err = ParseTraceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or(ParseTraceError("traceparent"))
    }
}

macro_rules! serde_as_string {
    ($($ty:ty),*) => {$(
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}
serde_as_string!(TraceId, SpanId, TraceParent);

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const EXAMPLE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn reads_the_specification_example() {
        let tp = TraceParent::parse(EXAMPLE).unwrap();
        assert_eq!(tp.trace_id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(tp.span_id.to_string(), "00f067aa0ba902b7");
        assert_eq!(tp.flags, 1);
        assert_eq!(tp.to_string(), EXAMPLE);
    }

    #[test]
    fn refuses_what_the_specification_calls_invalid() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
            "é0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_later_version_may_append_fields() {
        let later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes";
        let tp = TraceParent::parse(later).unwrap();
        assert_eq!(tp.to_string(), EXAMPLE);
        assert_eq!(
            TraceParent::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"),
            None
        );
    }

    #[test]
    fn a_new_trace_starts_with_its_time() {
        let tp = TraceParent::new_root(SpanId::random(), 1_700_000_000);
        assert!(tp.trace_id.to_string().starts_with("6553f100"));
        assert_ne!(TraceId::starting_at(1), TraceId::starting_at(1));
    }

    #[test]
    fn a_child_keeps_the_trace_and_flags() {
        let tp = TraceParent::parse(EXAMPLE).unwrap();
        let child = tp.child(SpanId::random());
        assert_eq!((child.trace_id, child.flags), (tp.trace_id, tp.flags));
        assert_ne!(child.span_id, tp.span_id);
    }

    #[test]
    fn serialises_as_the_header_value() {
        let tp = TraceParent::parse(EXAMPLE).unwrap();
        let json = serde_json::to_string(&tp).unwrap();
        assert_eq!(json, format!("\"{EXAMPLE}\""));
        assert_eq!(serde_json::from_str::<TraceParent>(&json).unwrap(), tp);
        assert!(serde_json::from_str::<TraceParent>("\"00-zz\"").is_err());
    }

    proptest! {
        #[test]
        fn format_then_parse_is_the_identity(
            trace in any::<[u8; 16]>(), span in any::<[u8; 8]>(), flags in any::<u8>()
        ) {
            let (Some(trace_id), Some(span_id)) = (TraceId::from_bytes(trace), SpanId::from_bytes(span)) else {
                return Ok(());
            };
            let tp = TraceParent { trace_id, span_id, flags };
            let header = tp.to_string();
            prop_assert_eq!(header.len(), 55);
            prop_assert_eq!(TraceParent::parse(&header), Some(tp));
            prop_assert_eq!(trace_id.to_string().parse::<TraceId>().unwrap(), trace_id);
            prop_assert_eq!(span_id.to_string().parse::<SpanId>().unwrap(), span_id);
        }

        #[test]
        fn any_string_parses_or_is_refused_without_panicking(s in "\\PC{0,80}") {
            if let Some(tp) = TraceParent::parse(&s) {
                prop_assert_eq!(&tp.to_string()[2..], &s.trim_matches([' ', '\t'])[2..55]);
            }
        }

        #[test]
        fn any_hex_shaped_header_round_trips(
            s in "00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}"
        ) {
            match TraceParent::parse(&s) {
                Some(tp) => prop_assert_eq!(tp.to_string(), s),
                None => prop_assert!(s[3..35].bytes().all(|b| b == b'0') || s[36..52].bytes().all(|b| b == b'0')),
            }
        }
    }
}
