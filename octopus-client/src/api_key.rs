//! The API key, held so that it never reaches a log.

use std::fmt;

/// An Octopus API key (`API-…`), sent as the `X-Octopus-ApiKey` header.
///
/// `Debug` and `Display` print `API-****`, so the key cannot leak through a log line, an
/// error message or a panic.
///
/// ```
/// use octopus_client::ApiKey;
///
/// let key = ApiKey::new("API-ABCDEF0123456789");
/// assert_eq!(format!("{key:?}"), "API-****");
/// assert_eq!(key.to_string(), "API-****");
/// assert_eq!(key.expose(), "API-ABCDEF0123456789");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

/// What `Debug` and `Display` print instead of the key.
pub const MASKED_API_KEY: &str = "API-****";

impl ApiKey {
    /// Wraps a key. Surrounding whitespace (a trailing newline from a file or an
    /// environment variable) is removed.
    pub fn new(key: impl Into<String>) -> Self {
        let key = key.into();
        let trimmed = key.trim();
        if trimmed.len() == key.len() {
            Self(key)
        } else {
            Self(trimmed.to_owned())
        }
    }

    /// The key itself. Only the HTTP layer should need this.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for ApiKey {
    fn from(key: String) -> Self {
        Self::new(key)
    }
}

impl From<&str> for ApiKey {
    fn from(key: &str) -> Self {
        Self::new(key)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASKED_API_KEY)
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASKED_API_KEY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_trimmed_and_never_formatted() {
        let key = ApiKey::new("  API-SECRET123\n");
        assert_eq!(key.expose(), "API-SECRET123");
        let shown = format!("{key} {key:?} {:?}", Some(&key));
        assert!(!shown.contains("SECRET123"), "{shown}");
    }
}
