//! Embed sessions: a customer's user acting inside one workspace, with a role, a type and
//! scopes. The permission matrix lives here, in one function, so every route asks the same
//! question the same way.

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;

use crate::{OrgId, SessionId, WorkspaceId};

/// The only scope there is: lets a session read event payloads (admin or owner only).
pub const PAYLOAD_READ_SCOPE: &str = "events.payload:read";

macro_rules! word_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $word:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($word => Ok($name::$variant),)*
                    _ => Err(format!("unknown {}: {s}", stringify!($name))),
                }
            }
        }
    };
}

word_enum!(
    /// What the session's user may do: members read; admins and owners also write.
    SessionRole { Member = "member", Admin = "admin", Owner = "owner" }
);

word_enum!(
    /// How far the session reaches: the workspace, one resource's history, or a read-only
    /// dashboard.
    SessionType { Workspace = "workspace", Resource = "resource", Dashboard = "dashboard" }
);

word_enum!(
    /// The embed page the launch URL opens first.
    LaunchPage { Dashboard = "dashboard", Connections = "connections", Rules = "rules", Events = "events" }
);

/// What a route needs of its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// See the workspace's configuration and history (payloads excepted).
    Read,
    /// Create, edit or delete connections, mappings and rules; retry and cancel deliveries.
    Write,
    /// See event payloads.
    ReadPayload,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub id: SessionId,
    pub org: OrgId,
    pub workspace: WorkspaceId,
    pub session_type: SessionType,
    pub role: SessionRole,
    /// Set for a resource session (both are, then).
    pub resource: Option<String>,
    pub resource_id: Option<String>,
    pub external_user_id: Option<String>,
    pub scopes: Vec<String>,
    pub launch_page: Option<LaunchPage>,
    /// Origins the embed may run under (and that may exchange the launch token).
    pub allowed_origins: Vec<String>,
    /// SHA-256 (hex) of the current access token; the token itself is never stored.
    pub token_hash: String,
    /// When the current access token stops working (a refresh moves it).
    pub expires_at: OffsetDateTime,
    /// The access token's lifetime, kept for refreshes.
    pub ttl_seconds: u32,
    /// SHA-256 (hex) of the single-use launch token.
    pub launch_hash: String,
    pub launch_expires_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    /// How the embed looks inside the host product (none: Switchyard's own look).
    pub branding: Option<super::Branding>,
}

impl Session {
    /// The permission matrix. A dashboard session reads only, whatever its role; members
    /// read; admins and owners also write; payloads need the scope.
    pub fn permits(&self, access: Access) -> bool {
        match access {
            Access::Read => true,
            Access::Write => {
                self.session_type != SessionType::Dashboard && self.role != SessionRole::Member
            }
            Access::ReadPayload => self.scopes.iter().any(|s| s == PAYLOAD_READ_SCOPE),
        }
    }

    /// Whether an event (or its deliveries) of `resource`/`resource_id` is within reach: a
    /// resource session sees its own resource's only.
    pub fn sees_resource(&self, resource: &str, resource_id: Option<&str>) -> bool {
        if self.session_type != SessionType::Resource {
            return true;
        }
        self.resource.as_deref() == Some(resource) && self.resource_id.as_deref() == resource_id
    }

    /// Active: neither revoked nor past its access token's expiry.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(session_type: SessionType, role: SessionRole, scopes: &[&str]) -> Session {
        let now = OffsetDateTime::now_utc();
        Session {
            id: SessionId::new(),
            org: OrgId::new(),
            workspace: WorkspaceId::new(),
            session_type,
            role,
            resource: (session_type == SessionType::Resource).then(|| "user".into()),
            resource_id: (session_type == SessionType::Resource).then(|| "u1".into()),
            external_user_id: None,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            launch_page: None,
            allowed_origins: vec![],
            token_hash: String::new(),
            expires_at: now,
            ttl_seconds: 1800,
            launch_hash: String::new(),
            launch_expires_at: now,
            created_at: now,
            revoked_at: None,
            branding: None,
        }
    }

    #[test]
    fn the_matrix() {
        use SessionRole::*;
        use SessionType::*;
        for t in SessionType::ALL {
            for r in SessionRole::ALL {
                let s = session(*t, *r, &[]);
                assert!(s.permits(Access::Read));
                assert_eq!(s.permits(Access::Write), *t != Dashboard && *r != Member);
                assert!(!s.permits(Access::ReadPayload));
            }
        }
        assert!(session(Dashboard, Owner, &[PAYLOAD_READ_SCOPE]).permits(Access::ReadPayload));
        assert!(!session(Dashboard, Owner, &[PAYLOAD_READ_SCOPE]).permits(Access::Write));
    }

    #[test]
    fn a_resource_session_sees_its_resource_only() {
        let s = session(SessionType::Resource, SessionRole::Admin, &[]);
        assert!(s.sees_resource("user", Some("u1")));
        assert!(!s.sees_resource("user", Some("u2")));
        assert!(!s.sees_resource("order", Some("u1")));
        assert!(!s.sees_resource("user", None));
        let w = session(SessionType::Workspace, SessionRole::Admin, &[]);
        assert!(w.sees_resource("anything", None));
    }
}
