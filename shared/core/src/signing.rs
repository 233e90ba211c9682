//! Signing outbound webhooks, so a receiver can tell a request came from us and was not altered.
//!
//! Two schemes, both HMAC over the exact body bytes sent:
//!
//! - **Standard Webhooks** (on by default): `webhook-id`, `webhook-timestamp` (Unix seconds of
//!   this attempt) and `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`,
//!   keyed by the base64 part of a `whsec_…` secret. The id is the delivery id, the same on every
//!   retry and redrive, so receivers can drop duplicates; the timestamp is per attempt, so they
//!   can refuse replays. During a secret rotation the header carries one signature per secret in
//!   force, space-separated: receivers holding either secret verify.
//! - **Meshes-style HMAC**, when a connection asks for it: lower-case hex HMAC-SHA256 or -SHA512
//!   of the body alone, in `X-Meshes-Signature` (or the connection's own header name), keyed by
//!   the secret string exactly as the user holds it (for a `whsec_` secret, the whole string).
//!   It carries the current secret's signature only: one hex value is what such receivers compare.
//!
//! A connection's signing secrets live in its sealed secrets under [`SIGNING_SECRET`],
//! [`PREVIOUS_SIGNING_SECRET`] and [`PREVIOUS_SIGNING_SECRET_EXPIRES_AT`];
//! [`rotate_signing_secret`] is the only writer of the last two.

use base64::Engine;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde_json::{Map, Value};
use sha2::{Sha256, Sha512};
use time::OffsetDateTime;

use crate::ValidationErrors;
use crate::clock::{epoch_millis, from_epoch_millis};
use crate::secret::Secret;

pub const WEBHOOK_ID: &str = "webhook-id";
pub const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
pub const WEBHOOK_SIGNATURE: &str = "webhook-signature";
/// Where the Meshes-style HMAC goes unless the connection names another header.
pub const DEFAULT_HMAC_HEADER: &str = "X-Meshes-Signature";

/// Metadata key of the secret in force (sealed).
pub const SIGNING_SECRET: &str = "signing_secret";
/// Metadata key of the secret replaced by the last rotation (sealed).
pub const PREVIOUS_SIGNING_SECRET: &str = "previous_signing_secret";
/// Epoch milliseconds until which the previous secret still signs (sealed with it).
pub const PREVIOUS_SIGNING_SECRET_EXPIRES_AT: &str = "previous_signing_secret_expires_at";

/// How long a replaced secret keeps signing, so receivers can switch at their own pace.
pub const ROTATION_GRACE: time::Duration = time::Duration::hours(24);

const WHSEC_PREFIX: &str = "whsec_";
/// The Standard Webhooks spec asks for keys of 24 to 64 bytes.
const KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;
/// Bytes of randomness in a generated secret.
const GENERATED_KEY_BYTES: usize = 32;

/// Accepts padded and unpadded base64, as the reference verifiers do.
const LENIENT_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A connection's signing secret. `Debug` never shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningSecret {
    text: Secret,
    /// The decoded key of a `whsec_` secret; `None` for a plain secret, which can only key the
    /// Meshes-style HMAC (Standard Webhooks verifiers base64-decode the secret).
    standard_key: Option<Vec<u8>>,
}

impl SigningSecret {
    /// A fresh `whsec_` secret of 32 random bytes.
    pub fn generate() -> Self {
        let mut key = vec![0u8; GENERATED_KEY_BYTES];
        rand::rng().fill_bytes(&mut key);
        Self {
            text: Secret::new(format!("{WHSEC_PREFIX}{}", STANDARD.encode(&key))),
            standard_key: Some(key),
        }
    }

    /// Reads a secret as given. A `whsec_` secret must carry 24–64 bytes of base64; any other
    /// string of 16–256 visible ASCII characters is a plain secret (e.g. one already used with
    /// Meshes). The error never repeats the value.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        if let Some(b64) = text.strip_prefix(WHSEC_PREFIX) {
            let key = LENIENT_B64
                .decode(b64)
                .map_err(|_| "must be whsec_ followed by base64")?;
            if !KEY_BYTES.contains(&key.len()) {
                return Err("must encode a key of 24 to 64 bytes after whsec_");
            }
            return Ok(Self {
                text: Secret::new(text),
                standard_key: Some(key),
            });
        }
        if !(16..=256).contains(&text.len()) || !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("must be a whsec_ secret, or 16 to 256 visible ASCII characters");
        }
        Ok(Self {
            text: Secret::new(text),
            standard_key: None,
        })
    }

    /// Whether Standard Webhooks signatures can be made with it.
    pub fn is_standard(&self) -> bool {
        self.standard_key.is_some()
    }

    /// The secret as the user holds it: only for sealing it or showing it once on create.
    pub fn expose(&self) -> &str {
        self.text.expose()
    }
}

/// A fresh `whsec_…` secret for a new webhook connection.
///
/// What the connection-create handler does with it: when a webhook connection's metadata has
/// no `signing_secret`, insert `new_signing_secret()` under that key *before* validating and
/// splitting the metadata (so it is sealed with the other secrets), and return it once in the
/// create response (e.g. `connection.signing_secret`). It is never shown again: `GET` omits it,
/// and losing it means rotating.
pub fn new_signing_secret() -> String {
    SigningSecret::generate().expose().to_owned()
}

/// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`: one Standard Webhooks signature.
pub fn standard_signature(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The three Standard Webhooks headers of one attempt, in header order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StandardHeaders {
    pub id: String,
    pub timestamp: String,
    /// Absent when no `whsec_` secret is in force: the id and timestamp still let receivers
    /// deduplicate and order.
    pub signature: Option<String>,
}

/// Signs one attempt with every secret in force (newest first), space-separated.
pub fn sign_standard(
    secrets: &[&SigningSecret],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> StandardHeaders {
    let signatures: Vec<String> = secrets
        .iter()
        .filter_map(|s| s.standard_key.as_deref())
        .map(|key| standard_signature(key, id, timestamp, body))
        .collect();
    StandardHeaders {
        id: id.to_owned(),
        timestamp: timestamp.to_string(),
        signature: (!signatures.is_empty()).then(|| signatures.join(" ")),
    }
}

/// The digest of the Meshes-style HMAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HmacAlgorithm {
    Sha256,
    Sha512,
}

impl HmacAlgorithm {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sha256" => Some(Self::Sha256),
            "sha512" => Some(Self::Sha512),
            _ => None,
        }
    }
}

/// Lower-case hex HMAC of `body` under `key`.
pub fn hmac_hex(algorithm: HmacAlgorithm, key: &[u8], body: &[u8]) -> String {
    let digest = match algorithm {
        HmacAlgorithm::Sha256 => {
            let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
            mac.update(body);
            mac.finalize().into_bytes().to_vec()
        }
        HmacAlgorithm::Sha512 => {
            let mut mac = Hmac::<Sha512>::new_from_slice(key).expect("any key length");
            mac.update(body);
            mac.finalize().into_bytes().to_vec()
        }
    };
    hex::encode(digest)
}

/// The Meshes-style signature of `body` under the connection's current secret.
pub fn meshes_signature(algorithm: HmacAlgorithm, secret: &SigningSecret, body: &[u8]) -> String {
    hmac_hex(algorithm, secret.expose().as_bytes(), body)
}

/// A replaced secret that still signs until `expires_at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviousSecret {
    pub secret: SigningSecret,
    pub expires_at: OffsetDateTime,
}

/// A connection's signing secrets: the current one and, for a day after a rotation, the one
/// it replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningKeys {
    pub current: SigningSecret,
    pub previous: Option<PreviousSecret>,
}

impl SigningKeys {
    /// The secrets that sign an attempt made at `now`, newest first.
    pub fn in_force(&self, now: OffsetDateTime) -> Vec<&SigningSecret> {
        let mut keys = vec![&self.current];
        if let Some(previous) = &self.previous
            && now < previous.expires_at
        {
            keys.push(&previous.secret);
        }
        keys
    }

    /// Reads the signing secrets from (merged) connection metadata. `Ok(None)` when the
    /// connection has no signing secret. Errors name the `metadata.*` param, never the value.
    pub fn from_metadata(
        metadata: &Map<String, Value>,
        errors: &mut ValidationErrors,
    ) -> Option<Self> {
        let current = read_secret(metadata, SIGNING_SECRET, errors)?;
        let previous =
            read_secret(metadata, PREVIOUS_SIGNING_SECRET, errors).and_then(
                |secret| match metadata
                    .get(PREVIOUS_SIGNING_SECRET_EXPIRES_AT)
                    .and_then(Value::as_i64)
                {
                    Some(ms) => Some(PreviousSecret {
                        secret,
                        expires_at: from_epoch_millis(ms),
                    }),
                    None => {
                        errors.push(
                            format!("metadata.{PREVIOUS_SIGNING_SECRET_EXPIRES_AT}"),
                            "must be epoch milliseconds",
                        );
                        None
                    }
                },
            );
        Some(Self { current, previous })
    }
}

fn read_secret(
    metadata: &Map<String, Value>,
    key: &str,
    errors: &mut ValidationErrors,
) -> Option<SigningSecret> {
    match metadata.get(key)? {
        Value::String(s) => match SigningSecret::parse(s) {
            Ok(secret) => Some(secret),
            Err(msg) => {
                errors.push(format!("metadata.{key}"), msg);
                None
            }
        },
        _ => {
            errors.push(format!("metadata.{key}"), "must be a string");
            None
        }
    }
}

/// Rotates a connection's signing secret inside its (opened) secrets: `new` becomes current,
/// the current one keeps signing for [`ROTATION_GRACE`] from `now`. A secret replaced earlier
/// and still in its grace period is dropped: only one previous secret is kept.
///
/// For the connection-update handler: open the secrets, call this with the user's new secret
/// (or [`SigningSecret::generate`]), seal the map again, and show a generated secret once.
pub fn rotate_signing_secret(
    secrets: &mut Map<String, Value>,
    new: &SigningSecret,
    now: OffsetDateTime,
) {
    match secrets.insert(SIGNING_SECRET.into(), Value::from(new.expose())) {
        Some(old @ Value::String(_)) => {
            secrets.insert(PREVIOUS_SIGNING_SECRET.into(), old);
            secrets.insert(
                PREVIOUS_SIGNING_SECRET_EXPIRES_AT.into(),
                Value::from(epoch_millis(now + ROTATION_GRACE)),
            );
        }
        _ => {
            secrets.remove(PREVIOUS_SIGNING_SECRET);
            secrets.remove(PREVIOUS_SIGNING_SECRET_EXPIRES_AT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The example of the Standard Webhooks specification.
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TIMESTAMP: i64 = 1614265330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn at(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(secs).unwrap()
    }

    #[test]
    fn standard_signature_matches_the_specification_example() {
        let secret = SigningSecret::parse(SPEC_SECRET).unwrap();
        let headers = sign_standard(&[&secret], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY);
        assert_eq!(headers.id, SPEC_ID);
        assert_eq!(headers.timestamp, "1614265330");
        assert_eq!(headers.signature.as_deref(), Some(SPEC_SIGNATURE));
    }

    #[test]
    fn rotation_signs_with_both_secrets_newest_first() {
        let new = SigningSecret::generate();
        let old = SigningSecret::parse(SPEC_SECRET).unwrap();
        let headers = sign_standard(&[&new, &old], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY);
        let signature = headers.signature.unwrap();
        let parts: Vec<&str> = signature.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_ne!(parts[0], SPEC_SIGNATURE);
        assert_eq!(parts[1], SPEC_SIGNATURE);
    }

    #[test]
    fn meshes_hmac_matches_rfc_4231_vectors() {
        // RFC 4231 test case 2.
        let (key, data) = (
            b"Jefe".as_slice(),
            b"what do ya want for nothing?".as_slice(),
        );
        assert_eq!(
            hmac_hex(HmacAlgorithm::Sha256, key, data),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hmac_hex(HmacAlgorithm::Sha512, key, data),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
    }

    #[test]
    fn meshes_hmac_is_keyed_by_the_secret_string_as_held() {
        let secret = SigningSecret::parse(SPEC_SECRET).unwrap();
        assert_eq!(
            meshes_signature(HmacAlgorithm::Sha256, &secret, SPEC_BODY),
            hmac_hex(HmacAlgorithm::Sha256, SPEC_SECRET.as_bytes(), SPEC_BODY)
        );
    }

    #[test]
    fn generated_secrets_are_fresh_standard_secrets() {
        let a = new_signing_secret();
        let b = new_signing_secret();
        assert_ne!(a, b);
        let parsed = SigningSecret::parse(&a).unwrap();
        assert!(parsed.is_standard());
        assert!(a.starts_with("whsec_"));
    }

    #[test]
    fn secrets_are_checked_without_echoing_them() {
        let short = format!("whsec_{}", STANDARD.encode([7u8; 8]));
        let err = SigningSecret::parse(&short).unwrap_err();
        assert!(!err.contains(&short));
        assert!(SigningSecret::parse("whsec_not base64!").is_err());
        assert!(SigningSecret::parse("short").is_err());
        let plain = SigningSecret::parse("a-meshes-secret-of-some-length").unwrap();
        assert!(!plain.is_standard());
        // Unpadded base64 is accepted, as the reference verifiers accept it.
        let unpadded = format!("whsec_{}", STANDARD.encode([1u8; 32]).trim_end_matches('='));
        assert!(SigningSecret::parse(&unpadded).unwrap().is_standard());
        assert!(!format!("{plain:?}").contains("meshes-secret"));
    }

    #[test]
    fn a_plain_secret_makes_no_standard_signature() {
        let plain = SigningSecret::parse("a-meshes-secret-of-some-length").unwrap();
        let headers = sign_standard(&[&plain], "id", 1, b"{}");
        assert_eq!(headers.signature, None);
        assert_eq!(headers.timestamp, "1");
    }

    #[test]
    fn the_previous_secret_signs_for_a_day_after_rotation() {
        let mut secrets = Map::new();
        secrets.insert(SIGNING_SECRET.into(), json!(SPEC_SECRET));
        let new = SigningSecret::generate();
        let rotated_at = at(1_700_000_000);
        rotate_signing_secret(&mut secrets, &new, rotated_at);

        let mut errors = ValidationErrors::default();
        let keys = SigningKeys::from_metadata(&secrets, &mut errors).unwrap();
        assert!(errors.is_empty());
        assert_eq!(keys.current, new);
        let old = SigningSecret::parse(SPEC_SECRET).unwrap();
        assert_eq!(keys.in_force(rotated_at), vec![&new, &old]);
        let almost = rotated_at + ROTATION_GRACE - time::Duration::seconds(1);
        assert_eq!(keys.in_force(almost).len(), 2);
        assert_eq!(keys.in_force(rotated_at + ROTATION_GRACE), vec![&new]);
    }

    #[test]
    fn rotating_without_a_current_secret_keeps_no_previous() {
        let mut secrets = Map::new();
        secrets.insert(PREVIOUS_SIGNING_SECRET.into(), json!(SPEC_SECRET));
        secrets.insert(PREVIOUS_SIGNING_SECRET_EXPIRES_AT.into(), json!(1));
        rotate_signing_secret(&mut secrets, &SigningSecret::generate(), at(0));
        assert_eq!(secrets.len(), 1);
    }

    #[test]
    fn malformed_secrets_name_the_param() {
        let metadata =
            json!({"signing_secret": "whsec_???", "previous_signing_secret": SPEC_SECRET});
        let mut errors = ValidationErrors::default();
        assert_eq!(
            SigningKeys::from_metadata(metadata.as_object().unwrap(), &mut errors),
            None
        );
        assert_eq!(errors.0[0].param, "metadata.signing_secret");
        assert!(!errors.0[0].msg.contains("???"));
    }
}
