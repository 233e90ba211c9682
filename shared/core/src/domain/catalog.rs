use time::OffsetDateTime;

use crate::{OrgId, WorkspaceId};

/// The two per-workspace catalogs: event types and resources seen or configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CatalogKind {
    EventType,
    Resource,
}

impl CatalogKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EventType => "event_type",
            Self::Resource => "resource",
        }
    }
}

/// One key of a workspace's catalog (`user.signup`, `invoice`), first seen at `created_at`.
#[derive(Clone, Debug, PartialEq)]
pub struct CatalogEntry {
    pub org: OrgId,
    pub workspace: WorkspaceId,
    pub kind: CatalogKind,
    pub key: String,
    pub created_at: OffsetDateTime,
}

impl CatalogEntry {
    /// A stable id for the entry: a name-based UUID (RFC 9562 version 8, from SHA-256) of the
    /// workspace, kind and key, so the same key answers the same id on every read and
    /// backend without one being stored.
    pub fn id(&self) -> uuid::Uuid {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(b"switchyard catalog entry\0")
            .chain_update(self.workspace.0.as_bytes())
            .chain_update(self.kind.as_str())
            .chain_update(b"\0")
            .chain_update(self.key.as_bytes())
            .finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        uuid::Builder::from_custom_bytes(bytes).into_uuid()
    }

    /// The key as people read it: `user.signup` → "User Signup", `order_item` → "Order Item".
    pub fn label(&self) -> String {
        label(&self.key)
    }
}

/// Words split at `.`, `_`, `-`, `:`, `/`, spaces and lower-to-upper case changes
/// (`userSignup`), each capitalised, joined by one space.
pub fn label(key: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in key.chars() {
        if matches!(c, '.' | '_' | '-' | ':' | '/') || c.is_whitespace() {
            words.extend((!word.is_empty()).then(|| std::mem::take(&mut word)));
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower {
            words.push(std::mem::take(&mut word));
        }
        if word.is_empty() {
            word.extend(c.to_uppercase());
        } else {
            word.push(c);
        }
        previous_lower = c.is_lowercase();
    }
    words.extend((!word.is_empty()).then_some(word));
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_like_words() {
        for (key, want) in [
            ("user.signup", "User Signup"),
            ("order_item", "Order Item"),
            ("invoice.payment-failed", "Invoice Payment Failed"),
            ("userSignup", "User Signup"),
            ("API.v2", "API V2"),
            ("été.créé", "Été Créé"),
            ("..", ""),
        ] {
            assert_eq!(label(key), want, "{key}");
        }
    }

    #[test]
    fn ids_are_stable_uuids_distinct_per_workspace_kind_and_key() {
        let entry = |workspace, kind, key: &str| CatalogEntry {
            org: OrgId::new(),
            workspace,
            kind,
            key: key.to_owned(),
            created_at: OffsetDateTime::UNIX_EPOCH,
        };
        let ws = WorkspaceId::new();
        let a = entry(ws, CatalogKind::EventType, "user.signup");
        assert_eq!(
            a.id(),
            entry(ws, CatalogKind::EventType, "user.signup").id()
        );
        assert_eq!(a.id().get_version_num(), 8);
        assert_ne!(a.id(), entry(ws, CatalogKind::Resource, "user.signup").id());
        assert_ne!(
            a.id(),
            entry(ws, CatalogKind::EventType, "user.signin").id()
        );
        assert_ne!(
            a.id(),
            entry(WorkspaceId::new(), CatalogKind::EventType, "user.signup").id()
        );
    }
}
