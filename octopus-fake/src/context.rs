//! What every handler works with: the store, the emulated version and the settings.

use std::collections::HashMap;

use octopus_model::OctopusVersion;
use serde_json::Value;

use crate::store::Store;

/// The HTTP methods the fake distinguishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verb {
    Get,
    Post,
    Put,
    Delete,
    Other,
}

/// One request, parsed.
#[derive(Debug)]
pub(crate) struct ApiRequest {
    pub verb: Verb,
    /// The path segments after `/api`, percent-decoded.
    pub segments: Vec<String>,
    /// Query parameters by lower-case name.
    pub query: HashMap<String, String>,
    /// The JSON body, when one was sent.
    pub body: Option<Value>,
}

impl ApiRequest {
    /// A query parameter by (case-insensitive) name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.get(&name.to_lowercase()).map(String::as_str)
    }
}

/// Settings fixed at start.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub version: OctopusVersion,
    pub strict: bool,
    /// The path prefix every link starts with (`""` or `/octopus`).
    pub prefix: String,
    pub installation_id: String,
}

/// A handler's view of the server.
pub(crate) struct Ctx<'a> {
    pub store: &'a mut Store,
    pub settings: &'a Settings,
}

impl Ctx<'_> {
    /// `{prefix}/api/...`.
    pub fn link(&self, rest: &str) -> String {
        format!("{}/api/{rest}", self.settings.prefix)
    }
}
