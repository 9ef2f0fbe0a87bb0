//! What a real server does around a write: default fields, nested ids, the documents a
//! create brings with it (a project's process, variable set and "Default" channel; a
//! runbook's process; a library variable set's variable set, all as
//! [`octopus_model::owned`] says; a space's built-ins) and what a delete takes with it.

use octopus_model::{owned, ResourceKind};
use serde_json::{json, Map, Value};

use crate::collections::{docs, docs_mut, stamp, Place};
use crate::context::Ctx;
use crate::reply::ApiError;
use crate::spec::{spec_of, CollectionSpec, SPACE_COLLECTIONS};
use crate::store::{object_mut, text, SpaceData};

/// A fresh GUID for nested objects.
pub(crate) fn guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn default(map: &mut Map<String, Value>, field: &str, value: Value) {
    match map.get(field) {
        None | Some(Value::Null) => {
            map.insert(field.to_owned(), value);
        }
        Some(_) => {}
    }
}

fn retention(quantity: u64) -> Value {
    json!({"Unit": "Days", "QuantityToKeep": quantity, "ShouldKeepForever": quantity == 0})
}

/// Fills the fields a real server adds to a new document, and refuses what it refuses
/// on create.
pub(crate) fn defaults(
    ctx: &Ctx<'_>,
    place: &Place,
    spec: &CollectionSpec,
    doc: &mut Value,
) -> Result<(), ApiError> {
    let count = docs(ctx, place, spec.key).map_or(0, |d| d.len());
    let version = &ctx.settings.version;
    let map = object_mut(doc);
    default(map, "Description", json!(""));
    match spec.key {
        "environments" => {
            default(map, "SortOrder", json!(count));
            default(map, "UseGuidedFailure", json!(false));
            default(map, "AllowDynamicInfrastructure", json!(false));
            default(map, "ExtensionSettings", json!([]));
        }
        "projectgroups" => {
            default(map, "EnvironmentIds", json!([]));
            default(map, "RetentionPolicyId", Value::Null);
        }
        "projects" => {
            if map.contains_key("PersistenceSettings") {
                return Err(ApiError::bad_request(
                    "PersistenceSettings cannot be set when a project is created; convert the project to version control afterwards.",
                    vec!["The PersistenceSettings field is not allowed on create.".into()],
                ));
            }
            default(map, "IsDisabled", json!(false));
            default(map, "IncludedLibraryVariableSetIds", json!([]));
            default(map, "TenantedDeploymentMode", json!("Untenanted"));
            default(map, "DefaultGuidedFailureMode", json!("EnvironmentDefault"));
            default(map, "DiscreteChannelRelease", json!(false));
            default(map, "AutoCreateRelease", json!(false));
            default(map, "DefaultToSkipIfAlreadyInstalled", json!(false));
            default(map, "ForcePackageDownload", json!(false));
            default(map, "Templates", json!([]));
            default(map, "ReleaseNotesTemplate", Value::Null);
            default(
                map,
                "ProjectConnectivityPolicy",
                json!({
                    "SkipMachineBehavior": "None", "TargetRoles": [],
                    "AllowDeploymentsToNoTargets": false, "ExcludeUnhealthyTargets": false
                }),
            );
            default(
                map,
                "VersioningStrategy",
                json!({
                    "Template": "#{Octopus.Version.LastMajor}.#{Octopus.Version.LastMinor}.#{Octopus.Version.NextPatch}",
                    "DonorPackage": null, "DonorPackageStepId": null
                }),
            );
            default(
                map,
                "ReleaseCreationStrategy",
                json!({
                    "ChannelId": null, "ReleaseCreationPackage": null, "ReleaseCreationPackageStepId": null
                }),
            );
            default(map, "IsVersionControlled", json!(false));
            if version.at_least(2021, 1) {
                map.insert("PersistenceSettings".into(), json!({"Type": "Database"}));
            }
        }
        "lifecycles" => {
            default(map, "Phases", json!([]));
            default(map, "ReleaseRetentionPolicy", retention(30));
            default(map, "TentacleRetentionPolicy", retention(30));
        }
        "channels" => {
            default(map, "IsDefault", json!(false));
            default(map, "LifecycleId", Value::Null);
            default(map, "Rules", json!([]));
            default(map, "TenantTags", json!([]));
        }
        "runbooks" => {
            default(map, "MultiTenancyMode", json!("Untenanted"));
            default(map, "EnvironmentScope", json!("All"));
            default(map, "Environments", json!([]));
            default(map, "DefaultGuidedFailureMode", json!("EnvironmentDefault"));
            default(
                map,
                "ConnectivityPolicy",
                json!({
                    "SkipMachineBehavior": "None", "TargetRoles": [],
                    "AllowDeploymentsToNoTargets": true, "ExcludeUnhealthyTargets": false
                }),
            );
            default(
                map,
                "RunRetentionPolicy",
                json!({"QuantityToKeep": 100, "ShouldKeepForever": false}),
            );
            default(map, "PublishedRunbookSnapshotId", Value::Null);
        }
        "libraryvariablesets" => {
            default(map, "ContentType", json!("Variables"));
            default(map, "Templates", json!([]));
        }
        "tagsets" => {
            default(map, "Tags", json!([]));
            default(map, "SortOrder", json!(count));
        }
        "tenants" => {
            default(map, "TenantTags", json!([]));
            default(map, "ProjectEnvironments", json!({}));
        }
        "feeds" => {
            let kind = map.get("FeedType").and_then(Value::as_str).unwrap_or("");
            if kind == "BuiltIn" || kind == "OctopusProject" {
                return Err(ApiError::bad_request(
                    format!("A {kind} feed is built in and cannot be created."),
                    vec![],
                ));
            }
            default(
                map,
                "PackageAcquisitionLocationOptions",
                json!(["Server", "ExecutionTarget"]),
            );
        }
        "accounts" | "certificates" => {
            default(map, "EnvironmentIds", json!([]));
            default(map, "TenantIds", json!([]));
            default(map, "TenantTags", json!([]));
            default(map, "TenantedDeploymentParticipation", json!("Untenanted"));
        }
        "workerpools" => {
            default(map, "IsDefault", json!(false));
            default(map, "SortOrder", json!(count + 1));
            default(map, "CanAddWorkers", json!(true));
            if version.at_least(2020, 1) {
                default(map, "WorkerPoolType", json!("StaticWorkerPool"));
            }
        }
        "machinepolicies" => default(map, "IsDefault", json!(false)),
        "actiontemplates" => {
            map.insert("Version".into(), json!(0));
            default(map, "Properties", json!({}));
            default(map, "Parameters", json!([]));
            default(map, "Packages", json!([]));
            default(map, "CommunityActionTemplateId", Value::Null);
        }
        "teams" => {
            default(map, "MemberUserIds", json!([]));
            default(map, "ExternalSecurityGroups", json!([]));
            for f in [
                "CanBeDeleted",
                "CanBeRenamed",
                "CanChangeRoles",
                "CanChangeMembers",
            ] {
                map.insert(f.into(), json!(true));
            }
        }
        "scopeduserroles" => {
            for f in [
                "ProjectIds",
                "EnvironmentIds",
                "TenantIds",
                "ProjectGroupIds",
            ] {
                default(map, f, json!([]));
            }
        }
        "spaces" => {
            map.insert("IsDefault".into(), json!(count == 0));
            default(map, "TaskQueueStopped", json!(false));
            default(map, "SpaceManagersTeams", json!([]));
            default(map, "SpaceManagersTeamMembers", json!([]));
            let needs_slug = version.at_least(2022, 4);
            if needs_slug
                && map
                    .get("Slug")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
            {
                return Err(ApiError::validation(vec![
                    "The Slug field is required.".into()
                ]));
            }
        }
        "users" => {
            let username = map.get("Username").cloned().unwrap_or(Value::Null);
            default(map, "DisplayName", username);
            default(map, "IsActive", json!(true));
            default(map, "IsService", json!(false));
        }
        "userroles" => {
            default(map, "GrantedSpacePermissions", json!([]));
            default(map, "GrantedSystemPermissions", json!([]));
        }
        _ => {}
    }
    Ok(())
}

/// The id of a new document.
pub(crate) fn new_id(
    ctx: &mut Ctx<'_>,
    _place: &Place,
    _spec: &CollectionSpec,
    prefix: &str,
) -> String {
    ctx.store.next_id(prefix)
}

/// Gives nested objects sent without an `Id` a fresh one.
fn assign_ids(items: Option<&mut Value>) {
    if let Some(Value::Array(items)) = items {
        for item in items {
            if let Value::Object(m) = item {
                if m.get("Id")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    m.insert("Id".into(), json!(guid()));
                }
            }
        }
    }
}

/// Nested ids and derived fields, on create and update.
fn nested(spec: &CollectionSpec, doc: &mut Value) {
    let id = text(doc, "Id").to_owned();
    let set_name = text(doc, "Name").to_owned();
    let map = object_mut(doc);
    match spec.key {
        "lifecycles" => assign_ids(map.get_mut("Phases")),
        "channels" => assign_ids(map.get_mut("Rules")),
        "projects" | "libraryvariablesets" => assign_ids(map.get_mut("Templates")),
        "actiontemplates" => {
            assign_ids(map.get_mut("Parameters"));
            assign_ids(map.get_mut("Packages"));
        }
        "tagsets" => {
            if let Some(Value::Array(tags)) = map.get_mut("Tags") {
                let mut next = tags.len();
                for (i, tag) in tags.iter_mut().enumerate() {
                    let t = object_mut(tag);
                    if t.get("Id")
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                    {
                        next += 1;
                        t.insert("Id".into(), json!(format!("{id}-{next}")));
                    }
                    let name = t
                        .get("Name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned();
                    t.insert(
                        "CanonicalTagName".into(),
                        json!(format!("{set_name}/{name}")),
                    );
                    default(t, "Color", json!("#333333"));
                    default(t, "Description", json!(""));
                    t.insert("SortOrder".into(), json!(i));
                }
            }
        }
        _ => {}
    }
}

/// The kind of the documents a collection holds, by its path segment (the spec's kind is
/// the model's, which runbook snapshots share with runbooks).
fn owner_kind(spec: &CollectionSpec) -> Option<ResourceKind> {
    ResourceKind::from_collection(spec.key)
}

/// Before a new document is stored (its `Id` is set).
pub(crate) fn before_insert(
    _ctx: &mut Ctx<'_>,
    _place: &Place,
    spec: &CollectionSpec,
    doc: &mut Value,
) -> Result<(), ApiError> {
    nested(spec, doc);
    if let Some(kind) = owner_kind(spec) {
        owned::assign_ids(kind, doc);
    }
    Ok(())
}

/// Before an update is stored.
pub(crate) fn before_update(
    _ctx: &mut Ctx<'_>,
    _place: &Place,
    spec: &CollectionSpec,
    previous: &Value,
    doc: &mut Value,
) -> Result<(), ApiError> {
    nested(spec, doc);
    let map = object_mut(doc);
    match spec.key {
        "actiontemplates" => {
            let v = previous.get("Version").and_then(Value::as_i64).unwrap_or(0);
            map.insert("Version".into(), json!(v + 1));
        }
        "spaces" => {
            map.insert(
                "IsDefault".into(),
                previous.get("IsDefault").cloned().unwrap_or(json!(false)),
            );
        }
        _ => {}
    }
    Ok(())
}

/// Stores a server-made document in a space collection.
pub(crate) fn insert(
    ctx: &mut Ctx<'_>,
    space: &str,
    key: &str,
    mut doc: Value,
) -> Result<Value, ApiError> {
    let spec = spec_of(key);
    let place = Place::Space(space.to_owned());
    stamp(ctx, &place, spec, &mut doc);
    let id = text(&doc, spec.id_field).to_owned();
    docs_mut(ctx, &place, spec)?.upsert(&id, doc.clone());
    Ok(doc)
}

/// After a new document is stored: the documents it brings with it.
pub(crate) fn after_insert(
    ctx: &mut Ctx<'_>,
    place: &Place,
    spec: &CollectionSpec,
    doc: &Value,
) -> Result<(), ApiError> {
    let id = text(doc, "Id").to_owned();
    match (spec.key, place) {
        (_, Place::Space(space)) => {
            let Some(kind) = owner_kind(spec) else {
                return Ok(());
            };
            let made = owned::documents(kind, doc, || ctx.store.next_id("Channels"));
            for (kind, made) in made {
                let Some(owned_spec) = SPACE_COLLECTIONS.iter().find(|s| s.kind == kind) else {
                    continue;
                };
                insert(ctx, space, owned_spec.key, made)?;
            }
        }
        ("spaces", Place::System) => {
            ctx.store
                .spaces
                .insert(id.to_lowercase(), SpaceData::default());
            let team = space_builtins(ctx, &id)?;
            if let Some(space) = ctx.store.system_docs_mut(spec_of("spaces")).get_mut(&id) {
                object_mut(space).insert("SpaceManagersTeams".into(), json!([team]));
            }
        }
        _ => {}
    }
    Ok(())
}

/// The built-ins every new space gets; returns the id of its "Space Managers" team.
pub(crate) fn space_builtins(ctx: &mut Ctx<'_>, space: &str) -> Result<String, ApiError> {
    let id = |ctx: &mut Ctx<'_>, prefix: &str| ctx.store.next_id(prefix);
    let lifecycle = id(ctx, "Lifecycles");
    insert(
        ctx,
        space,
        "lifecycles",
        json!({
            "Id": lifecycle, "Name": "Default Lifecycle", "Slug": "default-lifecycle", "Description": "",
            "Phases": [], "ReleaseRetentionPolicy": retention(30), "TentacleRetentionPolicy": retention(30),
        }),
    )?;
    let group = id(ctx, "ProjectGroups");
    insert(
        ctx,
        space,
        "projectgroups",
        json!({
            "Id": group, "Name": "Default Project Group", "Slug": "default-project-group",
            "Description": "", "EnvironmentIds": [], "RetentionPolicyId": null,
        }),
    )?;
    let pool = id(ctx, "WorkerPools");
    let mut pool_doc = json!({
        "Id": pool, "Name": "Default Worker Pool", "Slug": "default-worker-pool", "Description": "",
        "IsDefault": true, "SortOrder": 1, "CanAddWorkers": true,
    });
    if ctx.settings.version.at_least(2020, 1) {
        object_mut(&mut pool_doc).insert("WorkerPoolType".into(), json!("StaticWorkerPool"));
    }
    insert(ctx, space, "workerpools", pool_doc)?;
    let policy = id(ctx, "MachinePolicies");
    insert(
        ctx,
        space,
        "machinepolicies",
        default_machine_policy(&policy),
    )?;
    let builtin = id(ctx, "Feeds");
    insert(
        ctx,
        space,
        "feeds",
        json!({
            "Id": builtin, "Name": "Octopus Server (built-in)", "Slug": "octopus-server-built-in",
            "FeedType": "BuiltIn", "DeleteUnreleasedPackagesAfterDays": 30, "IsBuiltInRepoSyncEnabled": false,
            "PackageAcquisitionLocationOptions": ["Server", "ExecutionTarget"],
        }),
    )?;
    let releases = id(ctx, "Feeds");
    insert(
        ctx,
        space,
        "feeds",
        json!({
            "Id": releases, "Name": "Octopus Server Releases", "Slug": "octopus-server-releases",
            "FeedType": "OctopusProject", "PackageAcquisitionLocationOptions": ["NotAcquired"],
        }),
    )?;
    let team = format!("teams-spacemanagers-{space}");
    insert(
        ctx,
        space,
        "teams",
        json!({
            "Id": team, "Name": "Space Managers", "Description": "Members of this team can manage this space.",
            "MemberUserIds": [], "ExternalSecurityGroups": [],
            "CanBeDeleted": false, "CanBeRenamed": false, "CanChangeRoles": false, "CanChangeMembers": true,
        }),
    )?;
    let role = id(ctx, "ScopedUserRoles");
    insert(
        ctx,
        space,
        "scopeduserroles",
        json!({
            "Id": role, "TeamId": team, "UserRoleId": "userroles-spacemanager",
            "ProjectIds": [], "EnvironmentIds": [], "TenantIds": [], "ProjectGroupIds": [],
        }),
    )?;
    Ok(team)
}

fn default_machine_policy(id: &str) -> Value {
    json!({
        "Id": id, "Name": "Default Machine Policy", "Slug": "default-machine-policy",
        "Description": "", "IsDefault": true,
        "MachineHealthCheckPolicy": {
            "HealthCheckType": "RunScript", "HealthCheckInterval": "1.00:00:00",
            "HealthCheckCron": null, "HealthCheckCronTimezone": "UTC",
            "PowerShellHealthCheckPolicy": {"RunType": "Inline", "ScriptBody": ""},
            "BashHealthCheckPolicy": {"RunType": "Inline", "ScriptBody": ""}
        },
        "MachineConnectivityPolicy": {"MachineConnectivityBehavior": "ExpectedToBeOnline"},
        "MachineCleanupPolicy": {"DeleteMachinesBehavior": "DoNotDelete", "DeleteMachinesElapsedTimeSpan": "1.00:00:00"},
        "MachineUpdatePolicy": {"CalamariUpdateBehavior": "UpdateOnDeployment", "TentacleUpdateBehavior": "NeverUpdate", "TentacleUpdateAccountId": null},
        "ConnectionRetrySleepInterval": "00:00:01", "ConnectionRetryCountLimit": 5,
        "ConnectionRetryTimeLimit": "00:05:00", "ConnectionConnectTimeout": "00:01:00",
        "PollingRequestQueueTimeout": "00:02:00",
    })
}

/// A new default channel (per project) or default worker pool (per space) takes the
/// flag from the previous one, as on the real server.
pub(crate) fn only_one_default(
    ctx: &mut Ctx<'_>,
    place: &Place,
    spec: &CollectionSpec,
    doc: &Value,
) {
    if !matches!(spec.key, "channels" | "workerpools") || doc["IsDefault"] != Value::Bool(true) {
        return;
    }
    let id = text(doc, "Id").to_lowercase();
    let project = text(doc, "ProjectId").to_lowercase();
    let others: Vec<String> = docs(ctx, place, spec.key)
        .map(|d| {
            d.items()
                .iter()
                .filter(|o| {
                    o["IsDefault"] == Value::Bool(true)
                        && text(o, "Id").to_lowercase() != id
                        && (spec.key == "workerpools"
                            || text(o, "ProjectId").to_lowercase() == project)
                })
                .map(|o| text(o, "Id").to_owned())
                .collect()
        })
        .unwrap_or_default();
    let Ok(all) = docs_mut(ctx, place, spec_of(spec.key)) else {
        return;
    };
    for other in others {
        if let Some(o) = all.get_mut(&other) {
            object_mut(o).insert("IsDefault".into(), json!(false));
        }
    }
}

/// Built-ins the API refuses to delete.
pub(crate) fn is_read_only(spec: &CollectionSpec, doc: &Value) -> bool {
    match spec.key {
        "feeds" => matches!(text(doc, "FeedType"), "BuiltIn" | "OctopusProject"),
        "teams" => doc.get("CanBeDeleted") == Some(&Value::Bool(false)),
        "userroles" => text(doc, "Id").starts_with("userroles-"),
        _ => false,
    }
}

fn remove(ctx: &mut Ctx<'_>, space: &str, key: &str, id: &str) {
    if let Some(data) = ctx.store.space_mut(space) {
        data.docs_mut(spec_of(key)).remove(id);
    }
    ctx.store.forget_secrets(id);
}

fn ids_where(
    ctx: &Ctx<'_>,
    place: &Place,
    key: &str,
    field: &str,
    value: &str,
) -> Vec<(String, Value)> {
    docs(ctx, place, key)
        .map(|d| {
            d.items()
                .iter()
                .filter(|x| text(x, field).eq_ignore_ascii_case(value))
                .map(|x| (text(x, "Id").to_owned(), x.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// After a delete: what the document took with it.
pub(crate) fn after_delete(ctx: &mut Ctx<'_>, place: &Place, spec: &CollectionSpec, doc: &Value) {
    let id = text(doc, "Id").to_owned();
    match (spec.key, place) {
        ("projects", Place::Space(space)) => {
            remove(
                ctx,
                space,
                "deploymentprocesses",
                text(doc, "DeploymentProcessId"),
            );
            remove(ctx, space, "variables", text(doc, "VariableSetId"));
            for (channel, _) in ids_where(ctx, place, "channels", "ProjectId", &id) {
                remove(ctx, space, "channels", &channel);
            }
            for (runbook, r) in ids_where(ctx, place, "runbooks", "ProjectId", &id) {
                remove(ctx, space, "runbookprocesses", text(&r, "RunbookProcessId"));
                remove(ctx, space, "runbooks", &runbook);
            }
        }
        ("runbooks", Place::Space(space)) => remove(
            ctx,
            space,
            "runbookprocesses",
            text(doc, "RunbookProcessId"),
        ),
        ("libraryvariablesets", Place::Space(space)) => {
            remove(ctx, space, "variables", text(doc, "VariableSetId"))
        }
        ("tenants", Place::Space(space)) => remove(ctx, space, "tenantvariables", &id),
        ("spaces", Place::System) => {
            ctx.store.spaces.remove(&id.to_lowercase());
        }
        _ => {}
    }
}
