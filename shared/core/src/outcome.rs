//! Attempt outcome codes of the contract, and how a destination's answer maps onto them.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    Delivered,
    RejectedClientError,
    RejectedServerError,
    RateLimited,
    AuthFailed,
    Timeout,
    NetworkError,
    MappingError,
    InternalError,
}

impl Outcome {
    pub const ALL: [Outcome; 9] = [
        Self::Delivered,
        Self::RejectedClientError,
        Self::RejectedServerError,
        Self::RateLimited,
        Self::AuthFailed,
        Self::Timeout,
        Self::NetworkError,
        Self::MappingError,
        Self::InternalError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::RejectedClientError => "rejected_client_error",
            Self::RejectedServerError => "rejected_server_error",
            Self::RateLimited => "rate_limited",
            Self::AuthFailed => "auth_failed",
            Self::Timeout => "timeout",
            Self::NetworkError => "network_error",
            Self::MappingError => "mapping_error",
            Self::InternalError => "internal_error",
        }
    }

    /// Classifies an HTTP answer. The contract counts 2xx and 3xx as success (redirects are
    /// never followed, so a 3xx is the destination's final word).
    pub fn from_http_status(status: u16) -> Self {
        match status {
            200..=399 => Self::Delivered,
            401 | 403 => Self::AuthFailed,
            429 => Self::RateLimited,
            408 => Self::Timeout,
            400..=499 => Self::RejectedClientError,
            _ => Self::RejectedServerError,
        }
    }

    /// Whether trying again later can change the answer. A plain 4xx (bad request, not found,
    /// gone …) will not: such a delivery fails at once rather than burning the schedule.
    pub fn is_retryable(self, status: Option<u16>) -> bool {
        match self {
            Self::Delivered | Self::MappingError => false,
            Self::RejectedClientError => matches!(status, Some(409 | 425)),
            _ => true,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL.into_iter().find(|o| o.as_str() == s).ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_is_2xx_and_3xx() {
        assert_eq!(Outcome::from_http_status(200), Outcome::Delivered);
        assert_eq!(Outcome::from_http_status(204), Outcome::Delivered);
        assert_eq!(Outcome::from_http_status(302), Outcome::Delivered);
        assert_eq!(Outcome::from_http_status(500), Outcome::RejectedServerError);
        assert_eq!(Outcome::from_http_status(404), Outcome::RejectedClientError);
        assert_eq!(Outcome::from_http_status(401), Outcome::AuthFailed);
        assert_eq!(Outcome::from_http_status(429), Outcome::RateLimited);
    }

    #[test]
    fn plain_client_errors_are_not_retried() {
        assert!(!Outcome::RejectedClientError.is_retryable(Some(400)));
        assert!(Outcome::RejectedClientError.is_retryable(Some(409)));
        assert!(Outcome::RejectedServerError.is_retryable(Some(503)));
        assert!(Outcome::Timeout.is_retryable(None));
    }

    #[test]
    fn codes_round_trip() {
        for o in Outcome::ALL {
            assert_eq!(o.as_str().parse::<Outcome>(), Ok(o));
        }
    }
}
