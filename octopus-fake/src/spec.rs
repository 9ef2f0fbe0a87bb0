//! What the fake knows about each collection it serves: its path segment, id prefix,
//! item type, whether it can be created directly and which fields a create requires.

use octopus_model::ResourceKind;

/// Where names must be unique.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NameScope {
    /// Unique in the space (or the instance, for system collections).
    Space,
    /// Unique among the items of one project (channels, runbooks).
    Project,
    /// Not named, or names may repeat.
    None,
}

/// One collection the fake serves.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CollectionSpec {
    /// The lower-case path segment and snapshot file stem (`runbookprocesses`).
    pub key: &'static str,
    /// The model's kind, for shims and strict checks.
    pub kind: ResourceKind,
    /// The prefix of ids the server assigns (`Projects` → `Projects-12`); `None` for
    /// documents created as side effects only.
    pub id_prefix: Option<&'static str>,
    /// The envelope's `ItemType`.
    pub item_type: &'static str,
    /// Fields a create must carry.
    pub required: &'static [&'static str],
    /// Required references: field and the collection it points into.
    pub references: &'static [(&'static str, &'static str)],
    /// Where names are unique.
    pub name_scope: NameScope,
    /// The field that keys the document (`Id`, or `TenantId` for tenant variables).
    pub id_field: &'static str,
    /// Whether the collection has slugs (from 2022.1).
    pub has_slug: bool,
}

const fn spec(
    key: &'static str,
    kind: ResourceKind,
    id_prefix: Option<&'static str>,
    item_type: &'static str,
    required: &'static [&'static str],
) -> CollectionSpec {
    CollectionSpec {
        key,
        kind,
        id_prefix,
        item_type,
        required,
        references: &[],
        name_scope: if id_prefix.is_some() {
            NameScope::Space
        } else {
            NameScope::None
        },
        id_field: "Id",
        has_slug: false,
    }
}

const fn slugged(mut s: CollectionSpec) -> CollectionSpec {
    s.has_slug = true;
    s
}

const fn per_project(mut s: CollectionSpec) -> CollectionSpec {
    s.name_scope = NameScope::Project;
    s
}

const fn refs(
    mut s: CollectionSpec,
    references: &'static [(&'static str, &'static str)],
) -> CollectionSpec {
    s.references = references;
    s
}

use ResourceKind as K;

/// Every space-scoped collection, in the dependency order a snapshot is loaded in.
pub(crate) const SPACE_COLLECTIONS: &[CollectionSpec] = &[
    // Served from 2025.4 only (see `routes::served_at`). The id prefix is this fake's:
    // the clients do not show the real one, and nothing may rely on it.
    slugged(spec(
        "parentenvironments",
        K::ParentEnvironment,
        Some("ParentEnvironments"),
        "ParentEnvironment",
        &["Name"],
    )),
    slugged(spec(
        "environments",
        K::Environment,
        Some("Environments"),
        "Environment",
        &["Name"],
    )),
    slugged(spec(
        "lifecycles",
        K::Lifecycle,
        Some("Lifecycles"),
        "Lifecycle",
        &["Name"],
    )),
    slugged(spec(
        "projectgroups",
        K::ProjectGroup,
        Some("ProjectGroups"),
        "ProjectGroup",
        &["Name"],
    )),
    slugged(spec(
        "tagsets",
        K::TagSet,
        Some("TagSets"),
        "TagSet",
        &["Name"],
    )),
    slugged(spec(
        "feeds",
        K::Feed,
        Some("Feeds"),
        "Feed",
        &["Name", "FeedType"],
    )),
    slugged(spec(
        "accounts",
        K::Account,
        Some("Accounts"),
        "Account",
        &["Name", "AccountType"],
    )),
    slugged(spec(
        "certificates",
        K::Certificate,
        Some("Certificates"),
        "Certificate",
        &["Name", "CertificateData"],
    )),
    slugged(spec(
        "workerpools",
        K::WorkerPool,
        Some("WorkerPools"),
        "WorkerPool",
        &["Name"],
    )),
    slugged(spec(
        "machinepolicies",
        K::MachinePolicy,
        Some("MachinePolicies"),
        "MachinePolicy",
        &["Name"],
    )),
    slugged(refs(
        spec(
            "machines",
            K::Machine,
            Some("Machines"),
            "DeploymentTarget",
            &["Name"],
        ),
        &[("MachinePolicyId", "machinepolicies")],
    )),
    slugged(spec(
        "libraryvariablesets",
        K::LibraryVariableSet,
        Some("LibraryVariableSets"),
        "LibraryVariableSet",
        &["Name"],
    )),
    slugged(spec(
        "actiontemplates",
        K::ActionTemplate,
        Some("ActionTemplates"),
        "ActionTemplate",
        &["Name", "ActionType"],
    )),
    slugged(refs(
        spec(
            "projects",
            K::Project,
            Some("Projects"),
            "Project",
            &["Name", "ProjectGroupId", "LifecycleId"],
        ),
        &[
            ("ProjectGroupId", "projectgroups"),
            ("LifecycleId", "lifecycles"),
        ],
    )),
    slugged(per_project(refs(
        spec(
            "channels",
            K::Channel,
            Some("Channels"),
            "Channel",
            &["Name", "ProjectId"],
        ),
        &[("ProjectId", "projects"), ("LifecycleId", "lifecycles")],
    ))),
    spec(
        "deploymentprocesses",
        K::DeploymentProcess,
        None,
        "DeploymentProcess",
        &[],
    ),
    slugged(per_project(refs(
        spec(
            "runbooks",
            K::Runbook,
            Some("Runbooks"),
            "Runbook",
            &["Name", "ProjectId"],
        ),
        &[("ProjectId", "projects")],
    ))),
    spec(
        "runbookprocesses",
        K::RunbookProcess,
        None,
        "RunbookProcess",
        &[],
    ),
    spec("variables", K::VariableSet, None, "VariableSet", &[]),
    slugged(spec(
        "tenants",
        K::Tenant,
        Some("Tenants"),
        "Tenant",
        &["Name"],
    )),
    CollectionSpec {
        id_field: "TenantId",
        ..spec(
            "tenantvariables",
            K::TenantVariables,
            None,
            "TenantVariable",
            &[],
        )
    },
    spec("teams", K::Team, Some("Teams"), "Team", &["Name"]),
    CollectionSpec {
        name_scope: NameScope::None,
        ..refs(
            spec(
                "scopeduserroles",
                K::ScopedUserRole,
                Some("ScopedUserRoles"),
                "ScopedUserRole",
                &["TeamId", "UserRoleId"],
            ),
            &[("TeamId", "teams")],
        )
    },
];

/// Runbook snapshots: served, but not one of the collections a space snapshot holds
/// (they are run history, which a sync never copies).
pub(crate) const RUNBOOK_SNAPSHOTS: CollectionSpec = CollectionSpec {
    name_scope: NameScope::None,
    ..spec(
        "runbooksnapshots",
        K::Runbook,
        Some("RunbookSnapshots"),
        "RunbookSnapshot",
        &["Name", "RunbookId"],
    )
};

/// Every instance-wide collection.
pub(crate) const SYSTEM_COLLECTIONS: &[CollectionSpec] = &[
    slugged(spec("spaces", K::Space, Some("Spaces"), "Space", &["Name"])),
    CollectionSpec {
        name_scope: NameScope::None,
        ..spec("users", K::User, Some("Users"), "User", &["Username"])
    },
    spec(
        "userroles",
        K::UserRole,
        Some("UserRoles"),
        "UserRole",
        &["Name"],
    ),
    spec(
        "communityactiontemplates",
        K::CommunityActionTemplate,
        None,
        "CommunityActionTemplate",
        &[],
    ),
    // Served from 2025.1 only (see `routes::served_at`); listed in its own envelope.
    spec(
        "deploymentfreezes",
        K::DeploymentFreeze,
        Some("DeploymentFreezes"),
        "DeploymentFreeze",
        &["Name", "Start", "End"],
    ),
];

impl CollectionSpec {
    /// Whether the real server has `GET …/<collection>/all` (the 2020.5 swagger spec's
    /// list, plus spaces); elsewhere `all` is read as an id and answers 404.
    pub fn has_all(&self) -> bool {
        !matches!(
            self.key,
            "users"
                | "userroles"
                | "scopeduserroles"
                | "communityactiontemplates"
                | "deploymentprocesses"
                | "runbookprocesses"
                | "parentenvironments"
                | "deploymentfreezes"
        )
    }

    /// The name of the collection's link in the root and space documents
    /// (`ProjectGroups`).
    pub fn link_name(&self) -> &'static str {
        match self.key {
            "deploymentprocesses" => "DeploymentProcesses",
            "runbookprocesses" => "RunbookProcesses",
            "variables" => "Variables",
            "tenantvariables" => "TenantVariables",
            "communityactiontemplates" => "CommunityActionTemplates",
            _ => self.id_prefix.unwrap_or(self.item_type),
        }
    }
}

/// The space-scoped collection whose segment is `segment` (case-insensitive).
pub(crate) fn space_collection(segment: &str) -> Option<&'static CollectionSpec> {
    SPACE_COLLECTIONS
        .iter()
        .find(|s| s.key.eq_ignore_ascii_case(segment))
}

/// The system collection whose segment is `segment` (case-insensitive).
pub(crate) fn system_collection(segment: &str) -> Option<&'static CollectionSpec> {
    SYSTEM_COLLECTIONS
        .iter()
        .find(|s| s.key.eq_ignore_ascii_case(segment))
}

/// The space-scoped spec for a key that is known to exist.
pub(crate) fn spec_of(key: &str) -> &'static CollectionSpec {
    space_collection(key)
        .or_else(|| system_collection(key))
        // Only called with keys from the tables above; a miss is a programming error
        // caught by the `every_key_resolves` test.
        .unwrap_or(&SPACE_COLLECTIONS[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_resolves_to_its_own_spec() {
        for s in SPACE_COLLECTIONS.iter().chain(SYSTEM_COLLECTIONS) {
            assert_eq!(spec_of(s.key).key, s.key);
            assert_eq!(s.kind.collection().to_lowercase(), s.key);
        }
        assert_eq!(
            space_collection("runbookProcesses").map(|s| s.key),
            Some("runbookprocesses")
        );
    }
}
