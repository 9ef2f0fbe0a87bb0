//! Helpers the end-to-end tests share: a client of an in-process instance, a document
//! by name, and a process's output as text.

#![allow(dead_code)]

use octopus_client::{ApiKey, OctopusHttpClient, OctopusRead};
use octopus_fake::FakeServer;
use octopus_model::ResourceKind;
use serde_json::Value;

/// A client of `server`'s "Default" space, with the server's own key.
pub fn client(server: &FakeServer) -> OctopusHttpClient {
    OctopusHttpClient::builder(server.url(), ApiKey::new(server.api_key()))
        .space_name("Default")
        .build()
        .unwrap()
}

/// What a process wrote, as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The document of `kind` named `name`; panics naming both when there is none.
pub async fn by_name(c: &OctopusHttpClient, kind: ResourceKind, name: &str) -> Value {
    c.list_raw(kind)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d["Name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name:?}"))
}

/// The demo config's destination ("staging-production", space "Default") reached through
/// `client`, under `rules`.
pub fn demo_destination(
    client: &OctopusHttpClient,
    rules: sync_core::SyncRules,
) -> octosync::runner::Destination<'_> {
    octosync::runner::Destination::live("staging-production", "Default", client, rules)
}

/// One run of `mode` from the demo's source ("dev-test", space "Default") to `dest`.
pub async fn run_once(
    source: &OctopusHttpClient,
    dest: &octosync::runner::Destination<'_>,
    mode: &octosync::runner::Mode,
) -> octosync::runner::DestinationRun {
    octosync::runner::run_instances(
        &octosync::runner::Source::live("dev-test", "Default", source),
        std::slice::from_ref(dest),
        mode,
    )
    .await
    .unwrap()
    .pop()
    .expect("one run per destination")
}
