//! The table of kinds: for every [`ResourceKind`], the snapshot collection it is stored
//! under, the `[select]` keys that choose it, the layers its writes go to and the first
//! Octopus version that has it; and the table of planners, in the order they run.
//!
//! These were lists in several places (the snapshot's collection names, the select
//! keys, the call order of the planners) that had to agree by hand, and did not always.
//! The snapshot's collections ([`crate::snapshot::collections`],
//! [`crate::Snapshot::collection_of`]) now come from [`KINDS`], and [`crate::plan()`]
//! runs [`PLANNERS`] in order; the tests below check that every kind has a row, that
//! the table agrees with [`crate::Snapshot`] and [`crate::rules::Select`], and that the
//! planners run in [`LayerName::ALL`] order and write only the layers they declare.
//!
//! Adding a kind: its variant in `octopus_model::ResourceKind` (collection, scope,
//! label), its row here, its field in [`crate::Snapshot`] and its `[select]` key in
//! [`crate::rules::Select`] (the tests name whichever is missing), its layer in
//! [`LayerName`] at its place in the dependency order, and its planner, listed in
//! [`PLANNERS`] at that place.

use std::collections::BTreeSet;

use octopus_model::ResourceKind;

use crate::context::Ctx;
use crate::plan::LayerName;
use crate::planner::{git, infra, library, newer, projects, tenants};

/// What the rest of the engine needs to know about one kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindRow {
    /// The kind.
    pub kind: ResourceKind,
    /// The collection a [`crate::Snapshot`] (and a snapshot directory's file stem) holds
    /// it under; `None` for a kind no snapshot holds.
    pub snapshot: Option<&'static str>,
    /// The `[select]` keys whose name filters choose items of the kind (a library
    /// variable set is a set or a script module); empty when it is not chosen by name
    /// (it follows what names it, or is only read).
    pub select: &'static [&'static str],
    /// The layers its creates and updates go to, in order; empty for a kind that is read
    /// but never written.
    pub layers: &'static [LayerName],
    /// The first Octopus version (major, minor) that has it; `None` for every version
    /// octosync supports.
    pub since: Option<(u32, u32)>,
    /// What a selection of it reads from each instance: its own collection and every
    /// kind its items can name (a project's process, variables, channels and runbooks
    /// name feeds, accounts, worker pools, …). Empty for a kind not chosen by name.
    pub reads: &'static [ResourceKind],
}

const fn row(
    kind: ResourceKind,
    snapshot: Option<&'static str>,
    select: &'static [&'static str],
    layers: &'static [LayerName],
) -> KindRow {
    KindRow {
        kind,
        snapshot,
        select,
        layers,
        since: None,
        reads: &[],
    }
}

const fn reading(mut r: KindRow, reads: &'static [ResourceKind]) -> KindRow {
    r.reads = reads;
    r
}

const fn since(mut r: KindRow, version: (u32, u32)) -> KindRow {
    r.since = Some(version);
    r
}

use LayerName as L;
use ResourceKind as K;

/// One row per [`ResourceKind`], in its declaration order.
pub const KINDS: &[KindRow] = &[
    row(K::Space, Some("space"), &[], &[]),
    reading(
        row(
            K::Environment,
            Some("environments"),
            &["environments"],
            &[L::Environments],
        ),
        &[K::Environment],
    ),
    reading(
        row(
            K::ProjectGroup,
            Some("projectgroups"),
            &["project_groups"],
            &[L::ProjectGroups],
        ),
        &[K::ProjectGroup],
    ),
    reading(
        row(
            K::Project,
            Some("projects"),
            &["projects"],
            &[L::Projects, L::ProjectVersioning],
        ),
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
    ),
    reading(
        row(
            K::Lifecycle,
            Some("lifecycles"),
            &["lifecycles"],
            &[L::Lifecycles],
        ),
        &[K::Lifecycle],
    ),
    row(
        K::Channel,
        Some("channels"),
        &["channels"],
        &[L::Channels, L::ChannelRules],
    ),
    row(
        K::DeploymentProcess,
        Some("deploymentprocesses"),
        &[],
        &[L::DeploymentProcesses],
    ),
    row(K::Runbook, Some("runbooks"), &["runbooks"], &[L::Runbooks]),
    row(
        K::RunbookProcess,
        Some("runbookprocesses"),
        &[],
        &[L::RunbookProcesses],
    ),
    row(K::RunbookSnapshot, None, &[], &[L::RunbookPublishing]),
    row(
        K::VariableSet,
        Some("variables"),
        &[],
        &[L::LibraryVariables, L::ProjectVariables],
    ),
    reading(
        row(
            K::LibraryVariableSet,
            Some("libraryvariablesets"),
            &["library_variable_sets", "script_modules"],
            &[
                L::ScriptModules,
                L::LibraryVariableSets,
                L::LibraryVariables,
            ],
        ),
        &[
            K::LibraryVariableSet,
            K::VariableSet,
            K::Account,
            K::Certificate,
            K::WorkerPool,
            K::Machine,
            K::TagSet,
        ],
    ),
    reading(
        row(K::TagSet, Some("tagsets"), &["tenant_tags"], &[L::TagSets]),
        &[K::TagSet],
    ),
    reading(
        row(
            K::Tenant,
            Some("tenants"),
            &["tenants"],
            &[L::Tenants, L::TenantConnections],
        ),
        &[
            K::Tenant,
            K::TagSet,
            K::Project,
            K::LibraryVariableSet,
            K::TenantVariables,
        ],
    ),
    row(
        K::TenantVariables,
        Some("tenantvariables"),
        &[],
        &[L::TenantVariables],
    ),
    reading(
        row(K::Feed, Some("feeds"), &["feeds"], &[L::Feeds]),
        &[K::Feed],
    ),
    reading(
        row(K::Account, Some("accounts"), &["accounts"], &[L::Accounts]),
        &[K::Account, K::Certificate, K::Tenant, K::TagSet],
    ),
    reading(
        row(
            K::Certificate,
            Some("certificates"),
            &["certificates"],
            &[L::Certificates],
        ),
        &[K::Account, K::Certificate, K::Tenant, K::TagSet],
    ),
    reading(
        row(
            K::WorkerPool,
            Some("workerpools"),
            &["worker_pools"],
            &[L::WorkerPools],
        ),
        &[K::WorkerPool],
    ),
    reading(
        row(
            K::MachinePolicy,
            Some("machinepolicies"),
            &["machine_policies"],
            &[L::MachinePolicies],
        ),
        &[K::MachinePolicy, K::Account],
    ),
    row(K::Machine, Some("machines"), &[], &[]),
    reading(
        row(
            K::ActionTemplate,
            Some("actiontemplates"),
            &["step_templates"],
            &[L::StepTemplates],
        ),
        &[
            K::ActionTemplate,
            K::Feed,
            K::Account,
            K::Certificate,
            K::WorkerPool,
        ],
    ),
    row(K::CommunityActionTemplate, None, &[], &[]),
    reading(
        row(K::Team, Some("teams"), &["teams"], &[L::Teams]),
        &[
            K::Team,
            K::ScopedUserRole,
            K::UserRole,
            K::User,
            K::Project,
            K::ProjectGroup,
            K::Tenant,
        ],
    ),
    row(
        K::ScopedUserRole,
        Some("scopeduserroles"),
        &[],
        &[L::TeamPermissions],
    ),
    reading(
        row(
            K::UserRole,
            Some("userroles"),
            &["user_roles"],
            &[L::UserRoles],
        ),
        &[K::UserRole],
    ),
    row(K::User, Some("users"), &[], &[]),
    reading(
        since(
            row(
                K::ParentEnvironment,
                Some("parentenvironments"),
                &["parent_environments"],
                &[L::ParentEnvironments],
            ),
            newer::PARENT_ENVIRONMENTS_SINCE,
        ),
        &[K::ParentEnvironment],
    ),
    reading(
        since(
            row(
                K::DeploymentFreeze,
                Some("deploymentfreezes"),
                &["deployment_freezes"],
                &[L::DeploymentFreezes],
            ),
            newer::DEPLOYMENT_FREEZES_SINCE,
        ),
        &[K::DeploymentFreeze, K::Project, K::Tenant],
    ),
];

/// Snapshot collections that are not a kind of their own: the common (not per-project)
/// half of tenant variables, read with `tenantvariables`.
pub const EXTRA_COLLECTIONS: &[&str] = &["tenantcommonvariables"];

/// The row of `kind`; every kind has one (a test checks), so `None` only for a kind
/// added to the model without its row.
pub fn row_of(kind: ResourceKind) -> Option<&'static KindRow> {
    KINDS.iter().find(|r| r.kind == kind)
}

/// Every kind a plan under `select` reads from each instance: what each selected kind
/// reads ([`KindRow::reads`]), and always environments and parent environments
/// (environment scopes may name parents; servers without them are not asked).
pub fn kinds_to_read(select: &crate::rules::Select) -> BTreeSet<ResourceKind> {
    let mut kinds = BTreeSet::from([K::Environment, K::ParentEnvironment]);
    // The `[select]` table's keys are its fields' names; serializing it names each
    // filter by its key without a second list of them.
    let table = serde_json::to_value(select).unwrap_or_default();
    let chosen = |key: &str| {
        table[key]
            .as_array()
            .is_some_and(|patterns| !patterns.is_empty())
    };
    for row in KINDS {
        if row.select.iter().any(|key| chosen(key)) {
            kinds.extend(row.reads.iter().copied());
        }
    }
    kinds
}

/// The kind a `[select]` key chooses.
pub fn kind_of_select_key(key: &str) -> Option<ResourceKind> {
    KINDS
        .iter()
        .find(|r| r.select.contains(&key))
        .map(|r| r.kind)
}

/// One planner: a function that adds the ops of some kinds to the plan.
#[derive(Clone, Copy, Debug)]
pub struct Planner {
    /// Its name, for test messages.
    pub name: &'static str,
    /// The layers it writes to, in order. Every planner may also add to
    /// [`LayerName::Deletions`] (with `[policy] prune`), the last layer, which is not
    /// listed.
    pub layers: &'static [LayerName],
    /// The planner.
    pub plan: fn(&mut Ctx<'_>),
}

const fn planner(
    name: &'static str,
    layers: &'static [LayerName],
    plan: fn(&mut Ctx<'_>),
) -> Planner {
    Planner { name, layers, plan }
}

/// Every planner, in the order [`crate::plan()`] runs them: the order of the layers
/// they write ([`LayerName::ALL`]), so a planner finds in the context everything an
/// earlier layer plans (a step template's pending version, a tenant created in this
/// run).
pub const PLANNERS: &[Planner] = &[
    planner(
        "parent environments",
        &[L::ParentEnvironments],
        newer::parent_environments,
    ),
    planner(
        "environments and project groups",
        &[L::Environments, L::ProjectGroups],
        infra::environments_and_groups,
    ),
    planner("tag sets", &[L::TagSets], infra::tag_sets),
    planner("feeds", &[L::Feeds], infra::feeds),
    planner("teams", &[L::Teams], infra::teams),
    planner("user roles", &[L::UserRoles], infra::user_roles),
    planner(
        "machine policies and worker pools",
        &[L::MachinePolicies, L::WorkerPools],
        infra::policies_and_pools,
    ),
    planner("tenant names", &[L::Tenants], tenants::tenant_names),
    planner("accounts", &[L::Accounts], infra::accounts),
    planner(
        "step templates",
        &[L::StepTemplates],
        library::step_templates,
    ),
    planner("lifecycles", &[L::Lifecycles], infra::lifecycles),
    planner("certificates", &[L::Certificates], infra::certificates),
    planner(
        "library variable sets and script modules",
        &[
            L::ScriptModules,
            L::LibraryVariableSets,
            L::LibraryVariables,
        ],
        library::library_variable_sets,
    ),
    planner(
        "projects",
        &[
            L::Projects,
            L::Channels,
            L::DeploymentProcesses,
            L::Runbooks,
            L::RunbookProcesses,
            L::ProjectVariables,
            L::RunbookPublishing,
            L::ChannelRules,
            L::ProjectVersioning,
        ],
        projects::projects,
    ),
    // A report only: what version-controlled projects keep in git.
    planner("git settings report", &[], git::git_settings_report),
    planner(
        "tenant connections",
        &[L::TenantConnections],
        tenants::tenant_connections,
    ),
    planner(
        "tenant variables",
        &[L::TenantVariables],
        tenants::tenant_variables,
    ),
    planner(
        "deployment freezes",
        &[L::DeploymentFreezes],
        newer::deployment_freezes,
    ),
    planner(
        "team permissions",
        &[L::TeamPermissions],
        tenants::team_permissions,
    ),
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::rules::{NameFilter, Select, SyncRules};
    use crate::testing::{generate_space, SpaceParams};
    use crate::Snapshot;

    #[test]
    fn every_kind_has_one_row_in_declaration_order() {
        let kinds: Vec<ResourceKind> = KINDS.iter().map(|r| r.kind).collect();
        assert_eq!(kinds, ResourceKind::ALL);
    }

    #[test]
    fn snapshot_collections_are_the_kinds_collections_and_what_a_snapshot_holds() {
        for r in KINDS {
            if let Some(name) = r.snapshot {
                // The file stem is the API's collection segment, lower-cased ("space" is
                // the one space, not the `spaces` list).
                if r.kind != ResourceKind::Space {
                    assert_eq!(name, r.kind.collection().to_ascii_lowercase());
                }
                assert_eq!(Snapshot::collection_of(r.kind), Some(name));
            }
        }
        // A snapshot with its space writes every collection, empty ones included.
        let held: BTreeSet<&str> = Snapshot::from_collections(
            octopus_model::OctopusVersion::new(2024, 1, 0),
            [(
                "space",
                serde_json::json!([{"Id": "Spaces-1", "Name": "Default"}]),
            )],
        )
        .unwrap()
        .to_collections()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
        let listed: BTreeSet<&str> = crate::snapshot::collections().collect();
        assert_eq!(
            held, listed,
            "Snapshot::to_collections and the table disagree"
        );
        for name in listed {
            let docs = match name {
                "space" => serde_json::json!([{"Id": "Spaces-1", "Name": "Default"}]),
                _ => serde_json::json!([]),
            };
            let read = Snapshot::from_collections(
                octopus_model::OctopusVersion::new(2024, 1, 0),
                [(name, docs)],
            );
            assert!(read.is_ok(), "{name}: {read:?}");
        }
    }

    #[test]
    fn select_keys_are_the_select_tables_keys() {
        let serialized = serde_json::to_value(Select::default()).unwrap_or_default();
        let keys: BTreeSet<&str> = serialized
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert!(!keys.is_empty());
        let listed: BTreeSet<&str> = KINDS
            .iter()
            .flat_map(|r| r.select.iter().copied())
            .collect();
        assert_eq!(keys, listed);
        assert_eq!(
            kind_of_select_key("script_modules"),
            Some(ResourceKind::LibraryVariableSet)
        );
        assert_eq!(kind_of_select_key("spaces"), None);
    }

    #[test]
    fn layers_are_in_variant_order_and_every_layer_has_a_planner() {
        let mut sorted = LayerName::ALL.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, LayerName::ALL, "ALL is not in the variants' order");
        let planned: BTreeSet<LayerName> = PLANNERS
            .iter()
            .flat_map(|p| p.layers.iter().copied())
            .chain([LayerName::Deletions])
            .collect();
        let all: BTreeSet<LayerName> = LayerName::ALL.iter().copied().collect();
        assert_eq!(planned, all);
        for r in KINDS {
            for layer in r.layers {
                assert!(all.contains(layer), "{}: {layer:?}", r.kind);
            }
        }
    }

    #[test]
    fn planners_run_in_layer_order() {
        let mut last: Option<(LayerName, &str)> = None;
        for p in PLANNERS {
            assert!(
                p.layers.windows(2).all(|w| w[0] < w[1]),
                "{}: layers out of order",
                p.name
            );
            if let (Some((before, by)), Some(first)) = (last, p.layers.first()) {
                assert!(
                    before < *first,
                    "{} (from {first:?}) runs after {by}, which writes the later {before:?}",
                    p.name
                );
            }
            if let Some(l) = p.layers.last() {
                last = Some((*l, p.name));
            }
        }
    }

    #[test]
    fn each_planner_writes_only_the_layers_it_declares() {
        let everything = NameFilter::new(vec!["all".to_owned()]).unwrap_or_default();
        let mut select = serde_json::to_value(Select::default()).unwrap_or_default();
        if let Some(keys) = select.as_object_mut() {
            for v in keys.values_mut() {
                *v = serde_json::to_value(&everything).unwrap_or_default();
            }
        }
        let select: Select = serde_json::from_value(select).unwrap_or_default();
        assert!(!select.projects.is_empty(), "everything is selected");
        let rules = SyncRules {
            select,
            ..SyncRules::default()
        };
        let mut written = BTreeSet::new();
        for seed in 1..=4 {
            let (source, destination) = generate_space(&SpaceParams {
                seed,
                projects: 6,
                synced_percent: 50,
            });
            let mut ctx = Ctx::new(&source, &destination, &rules);
            for p in PLANNERS {
                let from = ctx.pushed.len();
                (p.plan)(&mut ctx);
                for layer in &ctx.pushed[from..] {
                    assert!(
                        *layer == LayerName::Deletions || p.layers.contains(layer),
                        "{} wrote to {layer:?}, which it does not declare",
                        p.name
                    );
                    written.insert(*layer);
                }
            }
        }
        // The generated spaces exercise the planners that matter most.
        for layer in [
            LayerName::Environments,
            LayerName::Projects,
            LayerName::DeploymentProcesses,
            LayerName::ProjectVariables,
        ] {
            assert!(written.contains(&layer), "nothing written to {layer:?}");
        }
    }
}
