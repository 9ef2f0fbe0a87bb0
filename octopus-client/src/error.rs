//! What can go wrong talking to an Octopus server, and how an error response becomes one
//! of these.

use std::time::Duration;

use serde::Deserialize;

/// A result whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error from the Octopus API or from getting to it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 404: the resource does not exist (or the space does not).
    #[error("not found: {method} {url}: {message}")]
    NotFound {
        /// The HTTP method.
        method: String,
        /// The URL requested.
        url: String,
        /// The server's `ErrorMessage`.
        message: String,
    },
    /// 401 or 403: the API key is missing, wrong or lacks a permission.
    #[error("unauthorized ({status}): {method} {url}: {message}")]
    Unauthorized {
        /// 401 or 403.
        status: u16,
        /// The HTTP method.
        method: String,
        /// The URL requested.
        url: String,
        /// The server's `ErrorMessage`.
        message: String,
    },
    /// 400, 409 or 422: the server refused the body.
    #[error("validation failed ({status}): {method} {url}: {message}{}", errors_suffix(.errors))]
    Validation {
        /// The status code.
        status: u16,
        /// The HTTP method.
        method: String,
        /// The URL requested.
        url: String,
        /// The server's `ErrorMessage`.
        message: String,
        /// The server's `Errors`, one per problem.
        errors: Vec<String>,
    },
    /// The document changed on the server since it was read (a stale `Version` or
    /// `ConcurrencyToken`): read it again and reapply the change.
    #[error("stale version ({status}): {method} {url}: {message}")]
    StaleVersion {
        /// The status code (400 or 409).
        status: u16,
        /// The HTTP method.
        method: String,
        /// The URL requested.
        url: String,
        /// The server's `ErrorMessage`.
        message: String,
    },
    /// 429 after every retry was spent.
    #[error("rate limited: {method} {url} (retry after {retry_after:?})")]
    RateLimited {
        /// The HTTP method.
        method: String,
        /// The URL requested.
        url: String,
        /// What the last `Retry-After` asked for.
        retry_after: Option<Duration>,
    },
    /// Any other error status (5xx, 405, an unexpected 3xx).
    #[error("server error {status}: {method} {url}: {message}")]
    Server {
        /// The status code.
        status: u16,
        /// The HTTP method.
        method: String,
        /// The URL requested.
        url: String,
        /// The server's `ErrorMessage`, or the start of a body that was not JSON (a
        /// proxy's HTML page).
        message: String,
    },
    /// A successful response whose body is not the document expected.
    #[error("cannot decode the answer of {url} at `{path}`: {message}")]
    Decode {
        /// The URL requested.
        url: String,
        /// The JSON path of the value that failed (`[31].Steps[0].Name`), `.` for the
        /// document itself.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// A paged collection could not be read completely: the server's pages loop back or
    /// hold fewer items than it reported. Nothing is returned rather than a partial list.
    #[error("incomplete list from {url}: {message}")]
    Paging {
        /// The URL of the first page.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The request did not complete: connection refused or reset, timeout, TLS.
    #[error("transport error: {method} {url}: {message}")]
    Transport {
        /// The HTTP method.
        method: String,
        /// The URL requested.
        url: String,
        /// What happened.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<reqwest::Error>,
    },
    /// A create (`POST`) may or may not have been applied: it was sent but no answer came
    /// back. It is not retried blindly; look the item up by name before trying again.
    #[error("outcome unknown: {method} {url} was sent but not answered ({reason}); look the item up before retrying")]
    OutcomeUnknown {
        /// The HTTP method.
        method: String,
        /// The URL requested.
        url: String,
        /// Why the answer is missing.
        reason: String,
    },
    /// The client is configured wrongly (a bad URL, http to a remote host, …).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The space named in the configuration does not exist on the server.
    #[error("space `{0}` not found")]
    SpaceNotFound(String),
    /// The server sent a version that does not parse.
    #[error("cannot parse the server version: {0}")]
    Version(#[from] octopus_model::ParseVersionError),
}

fn errors_suffix(errors: &[String]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!(" ({})", errors.join("; "))
    }
}

impl Error {
    /// Whether this is [`Error::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// Whether this is [`Error::OutcomeUnknown`].
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Error::OutcomeUnknown { .. })
    }

    /// The HTTP status the server answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::NotFound { .. } => Some(404),
            Error::Unauthorized { status, .. }
            | Error::Server { status, .. }
            | Error::Validation { status, .. }
            | Error::StaleVersion { status, .. } => Some(*status),
            Error::RateLimited { .. } => Some(429),
            _ => None,
        }
    }
}

/// The body Octopus sends with every error status.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorBody {
    #[serde(default)]
    error_message: Option<String>,
    #[serde(default)]
    errors: Option<Vec<String>>,
    /// Some proxies and old plugins wrap the Octopus body in `details`.
    #[serde(default, rename = "details")]
    details: Option<Box<ErrorBody>>,
}

/// How many characters of a non-JSON error body are kept.
const SNIPPET_CHARS: usize = 200;

/// What the server said in an error body: its `ErrorMessage` and `Errors`, or, when the
/// body is not an Octopus error document (a proxy's HTML page), a snippet of it.
pub(crate) fn parse_error_body(body: &[u8]) -> (String, Vec<String>) {
    if let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) {
        let inner = match parsed.details {
            Some(details) if parsed.error_message.is_none() => *details,
            _ => parsed,
        };
        if let Some(message) = inner.error_message {
            return (message, inner.errors.unwrap_or_default());
        }
    }
    (snippet(body), Vec::new())
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return "(empty body)".to_owned();
    }
    let mut out: String = collapsed.chars().take(SNIPPET_CHARS).collect();
    if collapsed.chars().count() > SNIPPET_CHARS {
        out.push('…');
    }
    out
}

/// Whether an error message reports an optimistic-concurrency failure.
fn is_stale_message(message: &str, errors: &[String]) -> bool {
    let markers = ["another user has made changes", "concurrency", "stale"];
    std::iter::once(message)
        .chain(errors.iter().map(String::as_str))
        .any(|text| {
            let text = text.to_lowercase();
            markers.iter().any(|m| text.contains(m))
        })
}

/// Maps an error status and body to an [`Error`]. 429 is mapped by the retry loop, which
/// knows the `Retry-After`.
pub(crate) fn error_from_status(status: u16, method: &str, url: &str, body: &[u8]) -> Error {
    let (message, errors) = parse_error_body(body);
    let method = method.to_owned();
    let url = url.to_owned();
    match status {
        404 => Error::NotFound {
            method,
            url,
            message,
        },
        401 | 403 => Error::Unauthorized {
            status,
            method,
            url,
            message,
        },
        400 | 409 if is_stale_message(&message, &errors) => Error::StaleVersion {
            status,
            method,
            url,
            message,
        },
        400 | 409 | 422 => Error::Validation {
            status,
            method,
            url,
            message,
            errors,
        },
        429 => Error::RateLimited {
            method,
            url,
            retry_after: None,
        },
        _ => Error::Server {
            status,
            method,
            url,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_errors_carry_the_servers_messages() {
        let body = br#"{"ErrorMessage": "There was a problem with your request.",
            "Errors": ["The name field is required", "The email address field is required"]}"#;
        match error_from_status(400, "POST", "http://o/api/Spaces-1/projects", body) {
            Error::Validation {
                message, errors, ..
            } => {
                assert_eq!(message, "There was a problem with your request.");
                assert_eq!(errors.len(), 2);
                assert_eq!(errors[1], "The email address field is required");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_wrapped_error_body_is_unwrapped() {
        let body = br#"{"title": "Bad request", "details": {"ErrorMessage": "Inner",
            "Errors": ["one"]}}"#;
        assert_eq!(
            parse_error_body(body),
            ("Inner".to_owned(), vec!["one".to_owned()])
        );
    }

    #[test]
    fn a_stale_version_is_its_own_error() {
        let body = br#"{"ErrorMessage": "The variables could not be saved because another user has made changes to the variables between when you started editing and when you saved your changes."}"#;
        let err = error_from_status(409, "PUT", "u", body);
        assert!(matches!(err, Error::StaleVersion { .. }));
        assert_eq!(err.status(), Some(409));
    }

    #[test]
    fn an_html_error_page_is_reported_with_status_and_snippet() {
        let html = format!(
            "<html>\n<head><title>502 Bad Gateway</title></head><body>{}</body></html>",
            "x".repeat(500)
        );
        let err = error_from_status(502, "GET", "https://o/api", html.as_bytes());
        match &err {
            Error::Server {
                status, message, ..
            } => {
                assert_eq!(*status, 502);
                assert!(message.starts_with("<html> <head><title>502 Bad Gateway"));
                assert!(message.chars().count() <= SNIPPET_CHARS + 1);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(err.status(), Some(502));
    }

    #[test]
    fn statuses_map_to_kinds() {
        let body = br#"{"ErrorMessage": "The resource 'Projects-99' was not found."}"#;
        let err = error_from_status(404, "GET", "u", body);
        assert!(err.is_not_found());
        assert!(err.to_string().contains("Projects-99"));
        assert!(matches!(
            error_from_status(401, "GET", "u", b""),
            Error::Unauthorized { status: 401, .. }
        ));
        assert!(matches!(
            error_from_status(403, "GET", "u", b"{}"),
            Error::Unauthorized { status: 403, .. }
        ));
        match error_from_status(500, "GET", "u", b"") {
            Error::Server { message, .. } => assert_eq!(message, "(empty body)"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
