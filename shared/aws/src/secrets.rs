//! The master keys on AWS: one Secrets Manager secret, read once per cold start (one secret per
//! connection would cost $0.40 a month each; the key ring seals every credential under it).
//!
//! The secret is a JSON object: `"current"` names the key new seals use, every other member is a
//! key id with its key material, e.g. `{"current": "k2", "k1": "…", "k2": "…"}`. That flat shape
//! is what CloudFormation's `GenerateSecretString` produces at deploy (`GenerateStringKey: k1`),
//! and rotating is adding a member and moving `"current"`; old ciphertexts keep opening because
//! their key id is inside them. Material is any string of at least 32 characters (a generated
//! password, or `openssl rand -base64 32`); the AEAD key is its SHA-256, so every shape of
//! material gives a uniform 256-bit key.
//!
//! Errors name the secret and the key id, never the material.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use switchyard_core::keyring::MasterKeyRing;

/// The least material accepted for one key, in characters.
const MIN_MATERIAL: usize = 32;

/// A parsed master-key secret. Its `Debug` shows key ids only.
pub struct MasterKeySecret {
    current: String,
    keys: BTreeMap<String, [u8; 32]>,
}

impl std::fmt::Debug for MasterKeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKeySecret")
            .field("current", &self.current)
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl MasterKeySecret {
    /// Parses the secret string. The error says what is wrong without quoting the value.
    pub fn parse(secret: &str) -> Result<Self, String> {
        let value: serde_json::Value = serde_json::from_str(secret)
            .map_err(|_| "the master-key secret is not JSON".to_owned())?;
        let object = value
            .as_object()
            .ok_or("the master-key secret must be a JSON object")?;
        let current = object
            .get("current")
            .and_then(|c| c.as_str())
            .ok_or("the master-key secret has no \"current\" key id")?
            .to_owned();
        let mut keys = BTreeMap::new();
        for (id, material) in object.iter().filter(|(k, _)| *k != "current") {
            let material = material
                .as_str()
                .ok_or(format!("master key {id} must be a string"))?;
            if material.chars().count() < MIN_MATERIAL {
                return Err(format!(
                    "master key {id} is shorter than {MIN_MATERIAL} characters"
                ));
            }
            keys.insert(id.clone(), Sha256::digest(material.as_bytes()).into());
        }
        if !keys.contains_key(&current) {
            return Err(format!("current master key {current} is not in the secret"));
        }
        Ok(Self { current, keys })
    }

    /// A fresh secret string with one random key `k1`, as the template's generated secret looks
    /// (used by `switchyard aws bootstrap` on moto).
    pub fn generate() -> String {
        use base64::Engine;
        let material =
            base64::engine::general_purpose::STANDARD.encode(MasterKeyRing::generate_key());
        serde_json::json!({"current": "k1", "k1": material}).to_string()
    }

    pub fn into_key_ring(self) -> MasterKeyRing {
        MasterKeyRing::new(&self.current, self.keys)
    }
}

/// A secret's string value (`None` when it holds only binary), read once; `what` names it in
/// the error (`master-key`, `OAuth`).
pub(crate) async fn secret_string(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
    what: &str,
) -> Result<Option<String>, String> {
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot read the {what} secret {secret_id}: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
            )
        })?;
    Ok(out.secret_string().map(str::to_owned))
}

/// Reads the secret once and builds the key ring.
pub async fn load_key_ring(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<MasterKeyRing, String> {
    let text = secret_string(client, secret_id, "master-key")
        .await?
        .ok_or(format!(
            "the master-key secret {secret_id} has no string value"
        ))?;
    Ok(MasterKeySecret::parse(&text)
        .map_err(|e| format!("{secret_id}: {e}"))?
        .into_key_ring())
}

#[cfg(test)]
mod tests {
    use switchyard_core::keyring::KeyRing;

    use super::*;

    const K1: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const K2: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn rotation_keeps_old_ciphertexts_open() {
        let old = MasterKeySecret::parse(&format!(r#"{{"current":"k1","k1":"{K1}"}}"#))
            .unwrap()
            .into_key_ring();
        let sealed = old.seal_str("hunter2");
        let rotated =
            MasterKeySecret::parse(&format!(r#"{{"current":"k2","k1":"{K1}","k2":"{K2}"}}"#))
                .unwrap()
                .into_key_ring();
        assert_eq!(rotated.open_string(&sealed).unwrap(), "hunter2");
        assert!(rotated.seal_str("x").0.starts_with("v1.k2."));
        let generated = MasterKeySecret::parse(&MasterKeySecret::generate()).unwrap();
        assert_eq!(
            format!("{generated:?}"),
            r#"MasterKeySecret { current: "k1", key_ids: ["k1"] }"#
        );
    }

    #[test]
    fn errors_never_quote_the_material() {
        for bad in [
            "not json".to_owned(),
            r#"{"k1":"x"}"#.to_owned(),
            r#"{"current":"k1","k1":"short-secret-material"}"#.to_owned(),
            format!(r#"{{"current":"k9","k1":"{K1}"}}"#),
        ] {
            let err = MasterKeySecret::parse(&bad).unwrap_err();
            assert!(!err.contains("short-secret") && !err.contains(K1), "{err}");
        }
    }
}
