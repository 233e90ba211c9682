//! `<data-dir>/credentials.json`: what a local user needs to call the API, mode 0600.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use switchyard_core::OrgId;
use switchyard_core::credentials::is_access_key_shape;

#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct Credentials {
    pub api_url: String,
    pub org_id: String,
    pub access_key: String,
    pub secret_key: String,
    pub workspace_id: String,
    pub publishable_key: String,
}

impl Credentials {
    /// Whether the official clients accept these: a UUID v1–5 organization id and an `mk_`
    /// access key (an older Switchyard wrote UUIDv7 ids and `AK…` keys).
    pub fn is_client_compatible(&self) -> bool {
        self.org_id
            .parse::<OrgId>()
            .is_ok_and(OrgId::is_client_compatible)
            && is_access_key_shape(&self.access_key)
    }
}

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("credentials.json")
}

pub fn read(data_dir: &Path) -> anyhow::Result<Credentials> {
    let path = path(data_dir);
    let text = fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {}; run `switchyard serve` first",
            path.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
}

/// Writes the file atomically (temp file + rename), readable by its owner only.
pub fn write(data_dir: &Path, creds: &Credentials) -> anyhow::Result<()> {
    let path = path(data_dir);
    let tmp = path.with_extension("json.tmp");
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(serde_json::to_string_pretty(creds)?.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    fs::rename(&tmp, &path)?;
    Ok(())
}
