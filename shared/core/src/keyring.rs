//! Sealing secrets at rest: connection credentials, machine-key secrets, publishable keys.
//!
//! XChaCha20-Poly1305 under a master key; the key id travels in the ciphertext so master keys
//! can rotate (new seals use the newest key, old ciphertexts still open). Where the master key
//! comes from is the adapter's business: a 0600 file locally, one Secrets Manager secret on AWS.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

/// A sealed secret: `v1.<key id>.<base64(nonce ‖ ciphertext)>`. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(pub String);

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealed(…)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyRingError {
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed with unknown key id {0}")]
    UnknownKey(String),
    #[error("sealed value failed authentication")]
    Forged,
}

/// Seals and opens secrets.
pub trait KeyRing: Send + Sync + 'static {
    fn seal(&self, plaintext: &[u8]) -> Sealed;
    fn open(&self, sealed: &Sealed) -> Result<Vec<u8>, KeyRingError>;

    fn seal_str(&self, plaintext: &str) -> Sealed {
        self.seal(plaintext.as_bytes())
    }

    fn open_string(&self, sealed: &Sealed) -> Result<String, KeyRingError> {
        String::from_utf8(self.open(sealed)?).map_err(|_| KeyRingError::Malformed)
    }
}

/// A key ring over 32-byte master keys held in memory.
pub struct MasterKeyRing {
    current: String,
    keys: BTreeMap<String, XChaCha20Poly1305>,
}

impl MasterKeyRing {
    /// `keys` maps key ids to 32-byte keys; `current` names the one new seals use.
    pub fn new(current: &str, keys: impl IntoIterator<Item = (String, [u8; 32])>) -> Self {
        let keys: BTreeMap<_, _> = keys
            .into_iter()
            .map(|(id, k)| (id, XChaCha20Poly1305::new(&k.into())))
            .collect();
        assert!(
            keys.contains_key(current),
            "current key id must be in the ring"
        );
        Self {
            current: current.to_owned(),
            keys,
        }
    }

    /// A fresh random 32-byte master key.
    pub fn generate_key() -> [u8; 32] {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        key
    }
}

impl KeyRing for MasterKeyRing {
    fn seal(&self, plaintext: &[u8]) -> Sealed {
        let cipher = &self.keys[&self.current];
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = cipher
            .encrypt(XNonce::from_slice(&nonce), plaintext)
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory buffers");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        Sealed(format!("v1.{}.{}", self.current, B64.encode(blob)))
    }

    fn open(&self, sealed: &Sealed) -> Result<Vec<u8>, KeyRingError> {
        let mut parts = sealed.0.splitn(3, '.');
        let (Some("v1"), Some(kid), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(KeyRingError::Malformed);
        };
        let cipher = self
            .keys
            .get(kid)
            .ok_or_else(|| KeyRingError::UnknownKey(kid.to_owned()))?;
        let blob = B64.decode(body).map_err(|_| KeyRingError::Malformed)?;
        if blob.len() < 24 {
            return Err(KeyRingError::Malformed);
        }
        let (nonce, ciphertext) = blob.split_at(24);
        cipher
            .decrypt(XNonce::from_slice(nonce), ciphertext)
            .map_err(|_| KeyRingError::Forged)
    }
}

/// A key ring that keeps what it opened, by sealed value: every attempt opens its
/// connection's credentials, and every API call its machine key's secret, which change only by
/// a new seal (a new value, so a new entry). An open costs an XChaCha20-Poly1305 decryption;
/// a lookup, a hash of the sealed text. At most [`Remembering::CAPACITY`] entries, forgotten
/// all at once past that. Opened values stay in memory only, never written anywhere.
pub struct Remembering<R> {
    inner: R,
    opened: Mutex<HashMap<String, Vec<u8>>>,
}

impl<R> Remembering<R> {
    pub const CAPACITY: usize = 4_096;

    pub fn new(inner: R) -> Self {
        Self {
            inner,
            opened: Mutex::new(HashMap::new()),
        }
    }
}

impl<R: KeyRing> KeyRing for Remembering<R> {
    fn seal(&self, plaintext: &[u8]) -> Sealed {
        self.inner.seal(plaintext)
    }

    fn open(&self, sealed: &Sealed) -> Result<Vec<u8>, KeyRingError> {
        let lock = || self.opened.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(opened) = lock().get(&sealed.0) {
            return Ok(opened.clone());
        }
        // Only what opened: a forged or malformed value is refused again each time.
        let opened = self.inner.open(sealed)?;
        let mut kept = lock();
        if kept.len() >= Self::CAPACITY {
            kept.clear();
        }
        kept.insert(sealed.0.clone(), opened.clone());
        Ok(opened)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_across_rotation() {
        let old = MasterKeyRing::new("k1", [("k1".to_string(), [1u8; 32])]);
        let sealed = old.seal_str("hunter2");
        assert!(!sealed.0.contains("hunter2"));
        let rotated = MasterKeyRing::new(
            "k2",
            [("k1".to_string(), [1u8; 32]), ("k2".to_string(), [2u8; 32])],
        );
        assert_eq!(rotated.open_string(&sealed).unwrap(), "hunter2");
        assert!(rotated.seal_str("x").0.starts_with("v1.k2."));
    }

    #[test]
    fn remembering_opens_as_the_ring_does_and_still_refuses_forgeries() {
        let ring = Remembering::new(MasterKeyRing::new("k1", [("k1".to_string(), [1u8; 32])]));
        let sealed = ring.seal_str("hunter2");
        for _ in 0..2 {
            assert_eq!(ring.open_string(&sealed).unwrap(), "hunter2");
        }
        let mut forged = sealed.0.clone();
        let last = forged.pop().unwrap();
        forged.push(if last == 'A' { 'B' } else { 'A' });
        for _ in 0..2 {
            assert_eq!(
                ring.open(&Sealed(forged.clone())),
                Err(KeyRingError::Forged)
            );
        }
    }

    #[test]
    fn tampering_is_detected() {
        let ring = MasterKeyRing::new("k1", [("k1".to_string(), [1u8; 32])]);
        let mut sealed = ring.seal_str("secret").0;
        let last = sealed.pop().unwrap();
        sealed.push(if last == 'A' { 'B' } else { 'A' });
        assert!(ring.open(&Sealed(sealed)).is_err());
        assert_eq!(format!("{:?}", ring.seal_str("secret")), "Sealed(…)");
    }
}
