//! Optimistic concurrency on processes and variable sets: the `Version` a writer read
//! must still be the stored one.

use serde_json::Value;

use crate::reply::ApiError;

/// 400 unless the body's `Version` is the stored one. A missing `Version` reads as 0, as
/// the server's model binding would.
pub(crate) fn check_version(label: &str, stored: &Value, body: &Value) -> Result<i64, ApiError> {
    let current = stored.get("Version").and_then(Value::as_i64).unwrap_or(0);
    let sent = body.get("Version").and_then(Value::as_i64).unwrap_or(0);
    if sent != current {
        let message = format!(
            "You cannot modify this {label} because another user has made changes to it since you loaded it (version {sent}, now {current}). Please reload it and try again."
        );
        return Err(ApiError::bad_request(message.clone(), vec![message]));
    }
    Ok(current)
}
