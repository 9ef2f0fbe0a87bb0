//! The kinds table against the test server: the collections the server writes to a
//! snapshot directory (its own list of what a space holds) are the ones the engine's
//! table says a snapshot holds, so `octopus-fake --seed DIR`, `octosync export` and the
//! planner agree on what a space is made of.

use std::collections::BTreeSet;

use octopus_fake::{FakeConfig, FakeServer, Seed};
use octopus_model::{OctopusVersion, ResourceKind, ResourceScope};
use sync_core::SyncRules;

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

/// What the loader read before the kinds table had a `reads` column, kept as the
/// oracle that moving the lists into the table changed nothing that is read.
fn listed_by_hand(rules: &SyncRules) -> BTreeSet<ResourceKind> {
    use ResourceKind as K;
    let s = &rules.select;
    let mut kinds = BTreeSet::from([K::Environment]);
    let mut add = |selected: bool, more: &[ResourceKind]| {
        if selected {
            kinds.extend(more.iter().copied());
        }
    };
    add(!s.environments.is_empty(), &[K::Environment]);
    add(!s.project_groups.is_empty(), &[K::ProjectGroup]);
    add(!s.lifecycles.is_empty(), &[K::Lifecycle]);
    add(!s.tenant_tags.is_empty(), &[K::TagSet]);
    add(!s.feeds.is_empty(), &[K::Feed]);
    add(!s.worker_pools.is_empty(), &[K::WorkerPool]);
    add(
        !s.machine_policies.is_empty(),
        &[K::MachinePolicy, K::Account],
    );
    add(
        !s.accounts.is_empty() || !s.certificates.is_empty(),
        &[K::Account, K::Certificate, K::Tenant, K::TagSet],
    );
    add(
        !s.library_variable_sets.is_empty() || !s.script_modules.is_empty(),
        &[
            K::LibraryVariableSet,
            K::VariableSet,
            K::Account,
            K::Certificate,
            K::WorkerPool,
            K::Machine,
            K::TagSet,
        ],
    );
    add(
        !s.step_templates.is_empty(),
        &[
            K::ActionTemplate,
            K::Feed,
            K::Account,
            K::Certificate,
            K::WorkerPool,
        ],
    );
    add(
        !s.projects.is_empty(),
        &[
            K::ProjectGroup,
            K::Project,
            K::Lifecycle,
            K::Channel,
            K::Runbook,
            K::DeploymentProcess,
            K::RunbookProcess,
            K::VariableSet,
            K::LibraryVariableSet,
            K::TagSet,
            K::Tenant,
            K::Feed,
            K::Account,
            K::Certificate,
            K::WorkerPool,
            K::Machine,
            K::ActionTemplate,
            K::Team,
        ],
    );
    add(
        !s.tenants.is_empty(),
        &[
            K::Tenant,
            K::TagSet,
            K::Project,
            K::LibraryVariableSet,
            K::TenantVariables,
        ],
    );
    add(
        !s.teams.is_empty(),
        &[
            K::Team,
            K::ScopedUserRole,
            K::UserRole,
            K::User,
            K::Project,
            K::ProjectGroup,
            K::Tenant,
        ],
    );
    add(!s.user_roles.is_empty(), &[K::UserRole]);
    // Environment scopes may name parent environments, so they are read whenever
    // environments are (on servers that have them; see `load_snapshot_with`).
    add(true, &[K::ParentEnvironment]);
    add(
        !s.deployment_freezes.is_empty(),
        &[K::DeploymentFreeze, K::Project, K::Tenant],
    );
    kinds
}

#[test]
fn what_a_selection_reads_comes_from_the_kinds_table_and_is_what_it_was() {
    let keys: Vec<&str> = sync_core::KINDS
        .iter()
        .flat_map(|r| r.select.iter().copied())
        .collect();
    let rules = |keys: &[&str]| {
        let table: String = keys.iter().map(|k| format!("{k} = [\"all\"]\n")).collect();
        SyncRules::from_toml_str(&format!("[select]\n{table}")).expect("rules parse")
    };
    let mut cases: Vec<Vec<&str>> = keys.iter().map(|k| vec![*k]).collect();
    cases.push(Vec::new());
    cases.push(keys.clone());
    cases.push(vec!["projects", "tenants"]);
    for case in cases {
        let rules = rules(&case);
        assert_eq!(
            octosync::load::kinds_to_read(&rules),
            listed_by_hand(&rules),
            "{case:?}"
        );
    }
}
