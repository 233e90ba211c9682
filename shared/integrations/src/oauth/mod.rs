//! OAuth 2.0 token endpoints (RFC 6749 §4.1.3 and §6), through the one [`OutboundClient`] so
//! the SSRF guard covers them too. Hand-rolled rather than the `oauth2` crate: two form POSTs,
//! and the providers' answers (Slack's `200 {"ok": false}`) need our own reading anyway.

mod token;

pub use token::OAuthClient;
