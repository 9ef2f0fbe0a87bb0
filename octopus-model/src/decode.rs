//! Decoding with errors that say where in the document the problem is.

use serde::de::DeserializeOwned;

/// A document that could not be decoded, with the JSON path of the offending value.
#[derive(Debug, thiserror::Error)]
#[error("cannot decode {what} at `{path}`: {message}")]
pub struct DecodeError {
    /// What was being decoded (a type name, or a caller's description such as a URL).
    pub what: String,
    /// The JSON path of the value that failed (`Steps[2].Actions[0].Properties`), or `.`
    /// for the document itself.
    pub path: String,
    /// What serde said.
    pub message: String,
}

/// Decodes `T` from JSON text, naming the JSON path on failure.
///
/// ```
/// use octopus_model::{decode, Project};
///
/// let err = decode::<Project>(br#"{"Name": "OctoFX", "IsDisabled": "maybe"}"#).unwrap_err();
/// assert_eq!(err.path, "IsDisabled");
/// ```
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| error::<T>(e))
}

/// Decodes `T` from a JSON value, naming the JSON path on failure.
pub fn decode_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(value).map_err(|e| error::<T>(e))
}

fn error<T>(e: serde_path_to_error::Error<serde_json::Error>) -> DecodeError {
    let path = e.path().to_string();
    DecodeError {
        what: short_type_name::<T>().to_owned(),
        path,
        message: e.into_inner().to_string(),
    }
}

fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    // `alloc::vec::Vec<octopus_model::Project>` reads better as `Vec<Project>`; keep the
    // last path segment of the outer type only.
    let outer = full.split('<').next().unwrap_or(full);
    outer.rsplit("::").next().unwrap_or(outer)
}

impl DecodeError {
    /// Replaces the description of what was decoded (a URL, a file name).
    pub fn with_what(mut self, what: impl Into<String>) -> Self {
        self.what = what.into();
        self
    }
}
