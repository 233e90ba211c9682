//! A string that must never be shown: auth credentials, signing secrets, custom header values.
//!
//! Wrapping them in one type makes the rule mechanical: `Debug` prints a placeholder, there is
//! no `Display`, and reading the value takes an explicit [`Secret::expose`] at the one place it
//! is put on the wire. A config struct holding secrets can then derive `Debug` safely.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself: only for putting it on the wire or sealing it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert_eq!(s.expose(), "hunter2");
    }
}
