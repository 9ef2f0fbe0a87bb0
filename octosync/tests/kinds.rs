//! The kinds table against the test server: the collections the server writes to a
//! snapshot directory (its own list of what a space holds) are the ones the engine's
//! table says a snapshot holds, so `octopus-fake --seed DIR`, `octosync export` and the
//! planner agree on what a space is made of.

use std::collections::BTreeSet;

use octopus_fake::{FakeConfig, FakeServer, Seed};
use octopus_model::{OctopusVersion, ResourceKind, ResourceScope};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_and_the_kinds_table_hold_the_same_space_collections() {
    let server = FakeServer::start(
        FakeConfig::seeded(Seed::DevTest).with_version(OctopusVersion::new(2025, 4, 1)),
    )
    .await
    .expect("fake starts");
    let exported = server.snapshot();
    let space = exported.spaces.first().expect("the seed has a space");
    let served: BTreeSet<&str> = space.collections.keys().map(String::as_str).collect();
    // Space-scoped kinds a snapshot holds. (`tenantcommonvariables`, not a kind, is
    // written by exports of servers that list common values apart; this server keeps
    // them inside `tenantvariables`.)
    let table: BTreeSet<&str> = sync_core::KINDS
        .iter()
        .filter(|r| r.kind.scope() == ResourceScope::Space && r.kind != ResourceKind::Space)
        .filter_map(|r| r.snapshot)
        .collect();
    assert_eq!(served, table);
}
