//! Version shims: what a body needs before a destination of a given version accepts it,
//! as one table of data.
//!
//! Each [`VersionShim`] row names a resource kind, a JSON path, the version that
//! introduced or started requiring the field, what to do, why, and where that fact comes
//! from. [`prepare_create`] and [`prepare_update`] apply the rows to a body and return
//! what they changed, so a plan can show every shim it relied on.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::resource::ResourceKind;
use crate::version::OctopusVersion;

/// One step of a shim's JSON path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathSeg {
    /// An object key.
    Key(&'static str),
    /// Every element of an array.
    Each,
}

/// What a shim does when its row applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShimAction {
    /// The field exists from `since`: a create for an older destination drops it; for a
    /// destination that has it, `default` (if any) is added when the field is missing.
    Introduced(Option<ShimDefault>),
    /// From `since` (or always) the field is required: add the default when it is missing
    /// or `null`, on create and update.
    AddIfMissing(ShimDefault),
    /// Never sent on create (the server rejects it).
    RemoveOnCreate,
    /// Sent as `[]` instead of `null`.
    NullToEmptyArray,
    /// Entries whose value is `null` are removed from the object at the path.
    RemoveNullEntries,
}

/// The value a shim adds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShimDefault {
    /// A JSON literal.
    Json(&'static str),
    /// A slug made from the body's `Name`.
    SlugOfName,
    /// A retention `Strategy` inferred from `ShouldKeepForever` / `QuantityToKeep` the way
    /// servers before 2025.3 read them.
    RetentionStrategy,
    /// `Tenanted` when `TenantIds` or `TenantTags` are set, else `Untenanted`.
    TenantedParticipation,
    /// `Specified` when `Environments` is non-empty, else `All`.
    RunbookEnvironmentScope,
}

/// One row of the shim table.
#[derive(Clone, Copy, Debug)]
pub struct VersionShim {
    /// A short stable name for the row.
    pub id: &'static str,
    /// The kinds it applies to.
    pub kinds: &'static [ResourceKind],
    /// The path of the field, from the document root.
    pub path: &'static [PathSeg],
    /// What to do.
    pub action: ShimAction,
    /// The `(major, minor)` the row's version condition refers to; `None` = every version.
    pub since: Option<(u32, u32)>,
    /// Why the row exists.
    pub why: &'static str,
    /// Where the fact comes from.
    pub source: &'static str,
}

/// A shim that changed a body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedShim {
    /// The row's id.
    pub shim: String,
    /// The concrete path that changed (`Steps[0].Actions[1].Properties`).
    pub path: String,
    /// What was done (`added "StaticWorkerPool"`, `dropped`, …).
    pub effect: String,
    /// Why.
    pub why: String,
}

impl fmt::Display for AppliedShim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} ({}: {})",
            self.path, self.effect, self.shim, self.why
        )
    }
}

/// Whether a body is for a create or an update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    Create,
    Update,
}

use PathSeg::{Each, Key};
use ResourceKind as K;

const PROCESSES: &[ResourceKind] = &[K::DeploymentProcess, K::RunbookProcess];

macro_rules! path {
    ($($seg:expr),* $(,)?) => { &[$($seg),*] };
}

/// Every shim octosync knows. The fake server reads the `Introduced` rows to decide which
/// fields an emulated version knows.
pub const VERSION_SHIMS: &[VersionShim] = &[
    VersionShim {
        id: "worker-pool-type",
        kinds: &[K::WorkerPool],
        path: path![Key("WorkerPoolType")],
        action: ShimAction::Introduced(Some(ShimDefault::Json("\"StaticWorkerPool\""))),
        since: Some((2020, 1)),
        why: "older servers have no pool types; newer ones need one, and a pool without it is static",
        source: "reference/spacecloner.md §c (Add-PropertyIfMissing WorkerPoolType); octopus-api.md §3 (absent in the 2019.6.7 spec)",
    },
    VersionShim {
        id: "step-template-control-type",
        kinds: &[K::ActionTemplate],
        path: path![Key("Parameters"), Each, Key("DisplaySettings"), Key("Octopus.ControlType")],
        action: ShimAction::AddIfMissing(ShimDefault::Json("\"SingleLineText\"")),
        since: Some((2021, 1)),
        why: "servers since 2021 refuse to save a parameter without a control type",
        source: "reference/spacecloner.md §c (SpaceCloner issue #23)",
    },
    VersionShim {
        id: "project-template-control-type",
        kinds: &[K::Project, K::LibraryVariableSet],
        path: path![Key("Templates"), Each, Key("DisplaySettings"), Key("Octopus.ControlType")],
        action: ShimAction::AddIfMissing(ShimDefault::Json("\"SingleLineText\"")),
        since: Some((2021, 1)),
        why: "variable templates share the step-template parameter shape and its 2021 rule",
        source: "reference/octopus-api.md §2 (ActionTemplateParameter is used for project and library templates)",
    },
    VersionShim {
        id: "space-slug-known",
        kinds: &[K::Space],
        path: path![Key("Slug")],
        action: ShimAction::Introduced(None),
        since: Some((2022, 1)),
        why: "slugs arrived in 2022.1",
        source: "reference/octopus-api.md §3 (slugs: client 2022-02)",
    },
    VersionShim {
        id: "space-slug-required",
        kinds: &[K::Space],
        path: path![Key("Slug")],
        action: ShimAction::AddIfMissing(ShimDefault::SlugOfName),
        since: Some((2022, 4)),
        why: "creating a space without a slug is refused from 2022.4",
        source: "reference/octopus-api.md §1 (GO commit 8fde6de3, OctopusDeploy/Issues#7750)",
    },
    VersionShim {
        id: "space-managers-arrays",
        kinds: &[K::Space],
        path: path![Key("SpaceManagersTeams")],
        action: ShimAction::AddIfMissing(ShimDefault::Json("[]")),
        since: None,
        why: "the server expects both manager arrays, empty rather than null",
        source: "reference/octopus-api.md §1 (GO always sends the two manager arrays)",
    },
    VersionShim {
        id: "space-manager-members-array",
        kinds: &[K::Space],
        path: path![Key("SpaceManagersTeamMembers")],
        action: ShimAction::AddIfMissing(ShimDefault::Json("[]")),
        since: None,
        why: "the server expects both manager arrays, empty rather than null",
        source: "reference/octopus-api.md §1 (GO always sends the two manager arrays)",
    },
    VersionShim {
        id: "empty-slug",
        kinds: &[K::Environment, K::ProjectGroup],
        path: path![Key("Slug")],
        action: ShimAction::Introduced(Some(ShimDefault::Json("\"\""))),
        since: Some((2022, 1)),
        why: "an empty slug asks the server to generate one",
        source: "reference/octopus-api.md §2 (GO sends \"Slug\": \"\" on Environment and ProjectGroup)",
    },
    VersionShim {
        id: "runbook-environment-scope",
        kinds: &[K::Runbook],
        path: path![Key("EnvironmentScope")],
        action: ShimAction::Introduced(Some(ShimDefault::RunbookEnvironmentScope)),
        since: Some((2020, 3)),
        why: "runbook environment scoping arrived in 2020.3; newer servers need the scope kind",
        source: "reference/octopus-api.md §3 (Runbook EnvironmentScope/Environments 2020.3)",
    },
    VersionShim {
        id: "runbook-run-retention-strategy",
        kinds: &[K::Runbook],
        path: path![Key("RunRetentionPolicy"), Key("Strategy")],
        action: ShimAction::Introduced(Some(ShimDefault::RetentionStrategy)),
        since: Some((2025, 3)),
        why: "retention strategies arrived in 2025.3; older servers infer them",
        source: "reference/octopus-api.md §3 (Lifecycle retention Strategy 2025.3)",
    },
    VersionShim {
        id: "lifecycle-release-retention-strategy",
        kinds: &[K::Lifecycle],
        path: path![Key("ReleaseRetentionPolicy"), Key("Strategy")],
        action: ShimAction::Introduced(Some(ShimDefault::RetentionStrategy)),
        since: Some((2025, 3)),
        why: "retention strategies arrived in 2025.3; older servers infer them",
        source: "reference/octopus-api.md §3 (Lifecycle retention Strategy 2025.3)",
    },
    VersionShim {
        id: "lifecycle-tentacle-retention-strategy",
        kinds: &[K::Lifecycle],
        path: path![Key("TentacleRetentionPolicy"), Key("Strategy")],
        action: ShimAction::Introduced(Some(ShimDefault::RetentionStrategy)),
        since: Some((2025, 3)),
        why: "retention strategies arrived in 2025.3; older servers infer them",
        source: "reference/octopus-api.md §3 (Lifecycle retention Strategy 2025.3)",
    },
    VersionShim {
        id: "phase-release-retention-strategy",
        kinds: &[K::Lifecycle],
        path: path![Key("Phases"), Each, Key("ReleaseRetentionPolicy"), Key("Strategy")],
        action: ShimAction::Introduced(Some(ShimDefault::RetentionStrategy)),
        since: Some((2025, 3)),
        why: "retention strategies arrived in 2025.3; a phase policy of null still inherits",
        source: "reference/octopus-api.md §3 (Lifecycle retention Strategy 2025.3)",
    },
    VersionShim {
        id: "phase-tentacle-retention-strategy",
        kinds: &[K::Lifecycle],
        path: path![Key("Phases"), Each, Key("TentacleRetentionPolicy"), Key("Strategy")],
        action: ShimAction::Introduced(Some(ShimDefault::RetentionStrategy)),
        since: Some((2025, 3)),
        why: "retention strategies arrived in 2025.3; a phase policy of null still inherits",
        source: "reference/octopus-api.md §3 (Lifecycle retention Strategy 2025.3)",
    },
    VersionShim {
        id: "phase-is-priority",
        kinds: &[K::Lifecycle],
        path: path![Key("Phases"), Each, Key("IsPriorityPhase")],
        action: ShimAction::Introduced(None),
        since: Some((2024, 2)),
        why: "priority phases arrived in 2024.2",
        source: "reference/octopus-api.md §3 (IsPriorityPhase client 2024-05/06)",
    },
    VersionShim {
        id: "tenanted-participation",
        kinds: &[K::Account, K::Certificate],
        path: path![Key("TenantedDeploymentParticipation")],
        action: ShimAction::AddIfMissing(ShimDefault::TenantedParticipation),
        since: None,
        why: "old servers omit it; the API rejects a tenanted item with no tenants",
        source: "reference/octopus-api.md §2 (Account: infer Tenanted when tenants/tags set); reference/spacecloner.md §c",
    },
    VersionShim {
        id: "project-persistence-settings",
        kinds: &[K::Project],
        path: path![Key("PersistenceSettings")],
        action: ShimAction::RemoveOnCreate,
        since: None,
        why: "sending PersistenceSettings when creating a project is an error",
        source: "reference/octopus-api.md §1 (GO projects.Add strips it)",
    },
    VersionShim {
        id: "project-tags",
        kinds: &[K::Project],
        path: path![Key("ProjectTags")],
        action: ShimAction::Introduced(None),
        since: Some((2025, 4)),
        why: "project tags arrived in 2025.4",
        source: "reference/octopus-api.md §3 (EnvironmentTags, ProjectTags 2025.4.3897)",
    },
    VersionShim {
        id: "environment-tags",
        kinds: &[K::Environment],
        path: path![Key("EnvironmentTags")],
        action: ShimAction::Introduced(None),
        since: Some((2025, 4)),
        why: "environment tags arrived in 2025.4",
        source: "reference/octopus-api.md §3 (EnvironmentTags, ProjectTags 2025.4.3897)",
    },
    VersionShim {
        id: "environment-type",
        kinds: &[K::Environment],
        path: path![Key("Type")],
        action: ShimAction::Introduced(None),
        since: Some((2025, 4)),
        why: "environment types (static, ephemeral) arrived with parent environments in 2025.4",
        source: "go-octopusdeploy pkg/environments/v2/environments/environment.go",
    },
    VersionShim {
        id: "environment-parent",
        kinds: &[K::Environment],
        path: path![Key("ParentEnvironmentId")],
        action: ShimAction::Introduced(None),
        since: Some((2025, 4)),
        why: "ephemeral environments name their parent environment from 2025.4",
        source: "go-octopusdeploy pkg/environments/v2/environments/environment.go",
    },
    VersionShim {
        id: "deployment-freeze-owner",
        kinds: &[K::DeploymentFreeze],
        path: path![Key("OwnerId")],
        action: ShimAction::Introduced(None),
        since: Some((2025, 2)),
        why: "per-project deployment freezes (OwnerId) arrived in 2025.2",
        source: "Octopus docs deployments/deployment-freezes/project-deployment-freezes; go-octopusdeploy pkg/deploymentfreezes/deploymentfreeze.go",
    },
    VersionShim {
        id: "tag-set-type",
        kinds: &[K::TagSet],
        path: path![Key("Type")],
        action: ShimAction::Introduced(None),
        since: Some((2025, 4)),
        why: "tag set types arrived in 2025.4",
        source: "reference/octopus-api.md §3 (Tag set Type/Scopes 2025.4.3897)",
    },
    VersionShim {
        id: "tag-set-scopes",
        kinds: &[K::TagSet],
        path: path![Key("Scopes")],
        action: ShimAction::Introduced(None),
        since: Some((2025, 4)),
        why: "tag set scopes arrived in 2025.4",
        source: "reference/octopus-api.md §3 (Tag set Type/Scopes 2025.4.3897)",
    },
    VersionShim {
        id: "tenant-is-disabled",
        kinds: &[K::Tenant],
        path: path![Key("IsDisabled")],
        action: ShimAction::Introduced(None),
        since: Some((2025, 1)),
        why: "disabling tenants arrived around 2025.1",
        source: "reference/octopus-api.md §3 (Tenant IsDisabled client 2024-11/12)",
    },
    VersionShim {
        id: "channel-git-reference-rules",
        kinds: &[K::Channel],
        path: path![Key("GitReferenceRules")],
        action: ShimAction::Introduced(None),
        since: Some((2024, 2)),
        why: "git reference rules arrived in 2024.2",
        source: "reference/octopus-api.md §3 (channel GitReferenceRules client 2024-05/06)",
    },
    VersionShim {
        id: "runbook-tags",
        kinds: &[K::Runbook],
        path: path![Key("RunbookTags")],
        action: ShimAction::Introduced(None),
        since: Some((2026, 1)),
        why: "runbook tags arrived in 2026",
        source: "reference/octopus-api.md §3 (RunbookTags client 2026)",
    },
    VersionShim {
        id: "action-container",
        kinds: PROCESSES,
        path: path![Key("Steps"), Each, Key("Actions"), Each, Key("Container")],
        action: ShimAction::Introduced(None),
        since: Some((2020, 3)),
        why: "execution containers arrived in 2020",
        source: "reference/octopus-api.md §3 (Action Container, client 2020-06, in the 2020.5 spec)",
    },
    VersionShim {
        id: "action-git-dependencies",
        kinds: PROCESSES,
        path: path![Key("Steps"), Each, Key("Actions"), Each, Key("GitDependencies")],
        action: ShimAction::Introduced(None),
        since: Some((2023, 3)),
        why: "git dependencies arrived in 2023",
        source: "reference/octopus-api.md §3 (Action GitDependencies client 2023-08)",
    },
    VersionShim {
        id: "action-worker-pool-variable",
        kinds: PROCESSES,
        path: path![Key("Steps"), Each, Key("Actions"), Each, Key("WorkerPoolVariable")],
        action: ShimAction::Introduced(None),
        since: Some((2020, 1)),
        why: "worker pool variables arrived in 2020.1",
        source: "reference/octopus-api.md §3 (WorkerPoolVariable 2020.1)",
    },
    VersionShim {
        id: "action-properties-no-null",
        kinds: PROCESSES,
        path: path![Key("Steps"), Each, Key("Actions"), Each, Key("Properties")],
        action: ShimAction::RemoveNullEntries,
        since: None,
        why: "a null value inside action Properties is a Bad Request",
        source: "reference/octopus-api.md §1 (OctopusDeploy/OctopusDeploy-Api#108)",
    },
    VersionShim {
        id: "step-properties-no-null",
        kinds: PROCESSES,
        path: path![Key("Steps"), Each, Key("Properties")],
        action: ShimAction::RemoveNullEntries,
        since: None,
        why: "a null value inside step Properties is a Bad Request",
        source: "reference/octopus-api.md §1 (OctopusDeploy/OctopusDeploy-Api#108)",
    },
    VersionShim {
        id: "step-template-properties-no-null",
        kinds: &[K::ActionTemplate],
        path: path![Key("Properties")],
        action: ShimAction::RemoveNullEntries,
        since: None,
        why: "a null value inside template Properties is a Bad Request",
        source: "reference/octopus-api.md §1 (OctopusDeploy/OctopusDeploy-Api#108)",
    },
    null_to_empty("action-environments", PROCESSES, &[Key("Steps"), Each, Key("Actions"), Each, Key("Environments")]),
    null_to_empty("action-excluded-environments", PROCESSES, &[Key("Steps"), Each, Key("Actions"), Each, Key("ExcludedEnvironments")]),
    null_to_empty("action-channels", PROCESSES, &[Key("Steps"), Each, Key("Actions"), Each, Key("Channels")]),
    null_to_empty("action-tenant-tags", PROCESSES, &[Key("Steps"), Each, Key("Actions"), Each, Key("TenantTags")]),
    null_to_empty("action-packages", PROCESSES, &[Key("Steps"), Each, Key("Actions"), Each, Key("Packages")]),
    null_to_empty("project-included-library-variable-sets", &[K::Project], &[Key("IncludedLibraryVariableSetIds")]),
    null_to_empty("tenant-tenant-tags", &[K::Tenant], &[Key("TenantTags")]),
    null_to_empty("channel-rules", &[K::Channel], &[Key("Rules")]),
    null_to_empty("channel-tenant-tags", &[K::Channel], &[Key("TenantTags")]),
    null_to_empty("lifecycle-phases", &[K::Lifecycle], &[Key("Phases")]),
    null_to_empty("phase-automatic-targets", &[K::Lifecycle], &[Key("Phases"), Each, Key("AutomaticDeploymentTargets")]),
    null_to_empty("phase-optional-targets", &[K::Lifecycle], &[Key("Phases"), Each, Key("OptionalDeploymentTargets")]),
    null_to_empty("account-environments", &[K::Account, K::Certificate], &[Key("EnvironmentIds")]),
    null_to_empty("account-tenants", &[K::Account, K::Certificate], &[Key("TenantIds")]),
    null_to_empty("account-tenant-tags", &[K::Account, K::Certificate], &[Key("TenantTags")]),
    null_to_empty("team-external-groups", &[K::Team], &[Key("ExternalSecurityGroups")]),
    null_to_empty("team-members", &[K::Team], &[Key("MemberUserIds")]),
];

const fn null_to_empty(
    id: &'static str,
    kinds: &'static [ResourceKind],
    path: &'static [PathSeg],
) -> VersionShim {
    VersionShim {
        id,
        kinds,
        path,
        action: ShimAction::NullToEmptyArray,
        since: None,
        why: "servers reject null where they expect a list; send [] instead",
        source: "reference/octopus-api.md §1 (OctopusDeploy/Issues#7011; practical rule: empty arrays, never null)",
    }
}

/// The oldest server version octosync supports.
pub const OLDEST_SUPPORTED: OctopusVersion = OctopusVersion::new(2020, 1, 0);

impl VersionShim {
    /// Whether the row's version condition holds for `version`.
    fn version_holds(&self, version: &OctopusVersion) -> bool {
        self.since
            .is_none_or(|(major, minor)| version.at_least(major, minor))
    }

    /// The path as text, `Steps[*].Actions[*].Properties`.
    pub fn path_text(&self) -> String {
        let mut out = String::new();
        for seg in self.path {
            push_seg(&mut out, *seg, None);
        }
        out
    }
}

fn push_seg(out: &mut String, seg: PathSeg, index: Option<usize>) {
    match seg {
        Key(k) if k.contains('.') => out.push_str(&format!("[{k:?}]")),
        Key(k) => {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(k);
        }
        Each => match index {
            Some(i) => out.push_str(&format!("[{i}]")),
            None => out.push_str("[*]"),
        },
    }
}

/// Prepares a create body for a destination of `version`: drops fields it does not know,
/// adds the defaults it requires, removes what must not be sent on create, and replaces
/// `null` lists and property values. Returns what changed.
///
/// ```
/// use octopus_model::{shims, OctopusVersion, ResourceKind};
/// use serde_json::json;
///
/// let mut body = json!({"Name": "Ubuntu Worker Pool"});
/// let applied = shims::prepare_create(ResourceKind::WorkerPool, &mut body, &"2024.1.0".parse()?);
/// assert_eq!(body["WorkerPoolType"], "StaticWorkerPool");
/// assert_eq!(applied[0].shim, "worker-pool-type");
/// # Ok::<(), octopus_model::ParseVersionError>(())
/// ```
pub fn prepare_create(
    kind: ResourceKind,
    body: &mut Value,
    version: &OctopusVersion,
) -> Vec<AppliedShim> {
    apply(kind, body, version, Purpose::Create)
}

/// Prepares an update body (the destination's own document with managed fields laid
/// over it): only adds what the destination's version requires and is missing, and
/// replaces `null` lists and property values. Nothing the destination sent is dropped.
pub fn prepare_update(
    kind: ResourceKind,
    body: &mut Value,
    version: &OctopusVersion,
) -> Vec<AppliedShim> {
    apply(kind, body, version, Purpose::Update)
}

/// The fields of a body that a server of `version` does not know, as paths. A strict
/// server refuses such a body.
pub fn unknown_fields(kind: ResourceKind, body: &Value, version: &OctopusVersion) -> Vec<String> {
    let mut found = Vec::new();
    for row in rows_for(kind) {
        if let ShimAction::Introduced(_) = row.action {
            if !row.version_holds(version) {
                let mut copy = body.clone();
                walk(&mut copy, row.path, &mut |parent, key, path| {
                    if parent.contains_key(key) {
                        found.push(path.render());
                    }
                });
            }
        }
    }
    found
}

/// Drops the fields a server of `version` does not know from a body, as such a server
/// does when it stores it (it is typed: what it has no property for is not kept).
/// Returns the paths dropped.
///
/// ```
/// use octopus_model::{shims, OctopusVersion, ResourceKind};
/// use serde_json::json;
///
/// let mut body = json!({"Name": "Acme", "IsDisabled": false});
/// let dropped = shims::drop_unknown_fields(ResourceKind::Tenant, &mut body, &"2023.1.0".parse()?);
/// assert_eq!(body, json!({"Name": "Acme"}));
/// assert_eq!(dropped, ["IsDisabled"]);
/// # Ok::<(), octopus_model::ParseVersionError>(())
/// ```
pub fn drop_unknown_fields(
    kind: ResourceKind,
    body: &mut Value,
    version: &OctopusVersion,
) -> Vec<String> {
    let mut dropped = Vec::new();
    for row in rows_for(kind) {
        if let ShimAction::Introduced(_) = row.action {
            if !row.version_holds(version) {
                walk(body, row.path, &mut |parent, key, path| {
                    if parent.remove(key).is_some() {
                        dropped.push(path.render());
                    }
                });
            }
        }
    }
    dropped
}

/// The rows that apply to a kind.
pub fn rows_for(kind: ResourceKind) -> impl Iterator<Item = &'static VersionShim> {
    VERSION_SHIMS
        .iter()
        .filter(move |r| r.kinds.contains(&kind))
}

fn apply(
    kind: ResourceKind,
    body: &mut Value,
    version: &OctopusVersion,
    purpose: Purpose,
) -> Vec<AppliedShim> {
    let name = body
        .get("Name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    // Rows whose paths lead to the same objects (every action of a process) are applied
    // in one walk: each object is reached once, and there every row is applied in the
    // table's order, as one walk per row would. A row changes only its own field of
    // the object, so what each row finds is the same either way; what each changed is
    // gathered per row and listed row by row, in the order a walk per row lists it.
    let rows: Vec<(&VersionShim, &str)> = rows_for(kind)
        .filter_map(|row| match row.path.last() {
            Some(Key(last)) if acts(row, version, purpose) => Some((row, *last)),
            // A row that cannot change this body (or whose path ends nowhere) is not
            // walked at all.
            _ => None,
        })
        .collect();
    let mut applied: Vec<Vec<AppliedShim>> = vec![Vec::new(); rows.len()];
    let mut first = 0;
    while first < rows.len() {
        let prefix = &rows[first].0.path[..rows[first].0.path.len() - 1];
        let end = first
            + rows[first..]
                .iter()
                .take_while(|(row, _)| &row.path[..row.path.len() - 1] == prefix)
                .count();
        let group = first..end;
        walk_parents(body, prefix, &mut Vec::new(), &mut |parent, indices| {
            for r in group.clone() {
                let (row, key) = rows[r];
                let path = ConcretePath {
                    segs: row.path,
                    indices,
                };
                apply_row(
                    row,
                    parent,
                    key,
                    &path,
                    version,
                    purpose,
                    &name,
                    &mut applied[r],
                );
            }
        });
        first = end;
    }
    applied.into_iter().flatten().collect()
}

/// Whether a row can change a body for this version and purpose: one that cannot is
/// not walked.
fn acts(row: &VersionShim, version: &OctopusVersion, purpose: Purpose) -> bool {
    let holds = row.version_holds(version);
    match row.action {
        ShimAction::Introduced(default) => {
            if holds {
                default.is_some()
            } else {
                purpose == Purpose::Create
            }
        }
        ShimAction::AddIfMissing(_) => holds,
        ShimAction::RemoveOnCreate => purpose == Purpose::Create,
        ShimAction::NullToEmptyArray | ShimAction::RemoveNullEntries => true,
    }
}

/// Applies one row to the object its path's last key lives in.
#[allow(clippy::too_many_arguments)]
fn apply_row(
    row: &VersionShim,
    parent: &mut Map<String, Value>,
    key: &str,
    path: &ConcretePath<'_>,
    version: &OctopusVersion,
    purpose: Purpose,
    name: &str,
    applied: &mut Vec<AppliedShim>,
) {
    let holds = row.version_holds(version);
    let mut record = |effect: String| {
        applied.push(AppliedShim {
            shim: row.id.to_owned(),
            path: path.render(),
            effect,
            why: row.why.to_owned(),
        })
    };
    let missing = |parent: &Map<String, Value>| parent.get(key).is_none_or(Value::is_null);
    match row.action {
        ShimAction::Introduced(default) => {
            if !holds {
                if purpose == Purpose::Create && parent.remove(key).is_some() {
                    record(format!(
                        "dropped: the destination's version {version} predates it"
                    ));
                }
            } else if let (Some(default), true) = (default, missing(parent)) {
                let value = default_value(default, parent, name);
                record(format!("added {value}"));
                parent.insert(key.to_owned(), value);
            }
        }
        ShimAction::AddIfMissing(default) => {
            if holds && missing(parent) {
                let value = default_value(default, parent, name);
                record(format!("added {value}"));
                parent.insert(key.to_owned(), value);
            }
        }
        ShimAction::RemoveOnCreate => {
            if purpose == Purpose::Create && parent.remove(key).is_some() {
                record("removed: not accepted on create".to_owned());
            }
        }
        ShimAction::NullToEmptyArray => {
            if parent.get(key).is_some_and(Value::is_null) {
                parent.insert(key.to_owned(), Value::Array(Vec::new()));
                record("null replaced by []".to_owned());
            }
        }
        ShimAction::RemoveNullEntries => {
            if let Some(Value::Object(map)) = parent.get_mut(key) {
                let nulls: Vec<String> = map
                    .iter()
                    .filter(|(_, v)| v.is_null())
                    .map(|(k, _)| k.clone())
                    .collect();
                for k in &nulls {
                    map.remove(k);
                }
                if !nulls.is_empty() {
                    record(format!("removed null entries {}", nulls.join(", ")));
                }
            }
        }
    }
}

/// Called with an object a row's path leads to and the indices taken on the way.
type ParentVisitor<'a> = dyn FnMut(&mut Map<String, Value>, &[usize]) + 'a;

/// Calls `f(object, indices)` for every object `prefix` leads to (the objects the last
/// key of a row's path lives in), with the index taken at each `[*]`.
fn walk_parents(
    value: &mut Value,
    prefix: &[PathSeg],
    indices: &mut Vec<usize>,
    f: &mut ParentVisitor<'_>,
) {
    match prefix {
        [] => {
            if let Value::Object(map) = value {
                f(map, indices);
            }
        }
        [Key(k), rest @ ..] => {
            if let Some(child) = value.get_mut(*k) {
                walk_parents(child, rest, indices, f);
            }
        }
        [Each, rest @ ..] => {
            if let Value::Array(items) = value {
                for (i, item) in items.iter_mut().enumerate() {
                    indices.push(i);
                    walk_parents(item, rest, indices, f);
                    indices.pop();
                }
            }
        }
    }
}

/// A field a row's path reached: the row's path with the index of each `[*]` taken.
/// Rendered only when a shim changes something: most visits change nothing.
struct ConcretePath<'p> {
    segs: &'p [PathSeg],
    indices: &'p [usize],
}

impl ConcretePath<'_> {
    /// `Steps[2].Actions[0].Properties`.
    fn render(&self) -> String {
        let mut out = String::new();
        let mut indices = self.indices.iter();
        for seg in self.segs {
            match seg {
                Each => push_seg(&mut out, Each, indices.next().copied()),
                key => push_seg(&mut out, *key, None),
            }
        }
        out
    }
}

/// Called with the parent object, the field's key and the concrete path.
type FieldVisitor<'a> = dyn FnMut(&mut Map<String, Value>, &str, &ConcretePath<'_>) + 'a;

/// Calls `f(parent, key, concrete_path)` for every object that the path's last key lives
/// in. Parents that are missing or not objects are skipped.
fn walk(value: &mut Value, path: &[PathSeg], f: &mut FieldVisitor<'_>) {
    walk_from(value, path, path, &mut Vec::new(), f);
}

fn walk_from(
    value: &mut Value,
    full: &[PathSeg],
    rest: &[PathSeg],
    indices: &mut Vec<usize>,
    f: &mut FieldVisitor<'_>,
) {
    match rest {
        [] => {}
        [Key(last)] => {
            if let Value::Object(map) = value {
                f(
                    map,
                    last,
                    &ConcretePath {
                        segs: full,
                        indices,
                    },
                );
            }
        }
        [Key(k), rest @ ..] => {
            if let Some(child) = value.get_mut(*k) {
                walk_from(child, full, rest, indices, f);
            }
        }
        [Each, rest @ ..] => {
            if let Value::Array(items) = value {
                for (i, item) in items.iter_mut().enumerate() {
                    indices.push(i);
                    walk_from(item, full, rest, indices, f);
                    indices.pop();
                }
            }
        }
    }
}

fn default_value(default: ShimDefault, parent: &Map<String, Value>, name: &str) -> Value {
    match default {
        // The table's literals are checked by a test; fall back to the text on a typo
        // rather than panicking.
        ShimDefault::Json(text) => {
            serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
        }
        ShimDefault::SlugOfName => Value::String(slugify(name)),
        ShimDefault::RetentionStrategy => {
            let forever = parent.get("ShouldKeepForever").and_then(Value::as_bool) == Some(true)
                || parent.get("QuantityToKeep").and_then(Value::as_i64) == Some(0);
            Value::String(if forever { "Forever" } else { "Count" }.to_owned())
        }
        ShimDefault::TenantedParticipation => {
            let non_empty = |k: &str| {
                parent
                    .get(k)
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty())
            };
            let tenanted = non_empty("TenantIds") || non_empty("TenantTags");
            Value::String(if tenanted { "Tenanted" } else { "Untenanted" }.to_owned())
        }
        ShimDefault::RunbookEnvironmentScope => {
            let specified = parent
                .get("Environments")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
            Value::String(if specified { "Specified" } else { "All" }.to_owned())
        }
    }
}

/// The slug Octopus makes of a name: lower case, runs of anything but letters and digits
/// become one `-`, no leading or trailing `-`.
pub fn slugify(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}
