//! `OctopusRead` and `OctopusWrite`: everything a sync reads from an instance and writes
//! to one.
//!
//! The traits are object safe and free of generic methods, so mockall can mock them:
//! the typed reads are one method per kind (`list_projects`, `get_project`, …) and the
//! writes take the [`ResourceKind`] and a JSON body. The typed reads have default bodies
//! on top of the kind-erased [`OctopusRead::list_raw`], [`OctopusRead::get_raw`] and
//! [`OctopusRead::list_by_ids_raw`], so an implementation provides those, the root
//! document, spaces and the per-owner documents; the typed writes live in
//! [`OctopusWriteExt`], which every [`OctopusWrite`] gets for free.

use async_trait::async_trait;
use octopus_model::{
    decode_value, name_key, owned, Account, ActionTemplate, Certificate, CertificateId, Channel,
    ChannelId, CommunityActionTemplate, CommunityActionTemplateId, DeploymentProcess,
    DeploymentProcessId, Environment, EnvironmentId, Feed, FeedId, LibraryVariableSet,
    LibraryVariableSetId, Lifecycle, LifecycleId, Machine, MachineId, MachinePolicy,
    MachinePolicyId, OctopusVersion, Project, ProjectGroup, ProjectGroupId, ProjectId, Resource,
    ResourceKind, RootDocument, Runbook, RunbookId, RunbookProcess, RunbookProcessId,
    ScopedUserRole, ScopedUserRoleId, Space, TagSet, TagSetId, Team, TeamId, Tenant, TenantId,
    TenantScopedVariables, TenantVariables, User, UserId, UserRole, UserRoleId, VariableSet,
    VariableSetId, WorkerPool, WorkerPoolId,
};
use octopus_model::{AccountId, ActionTemplateId};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};

/// Decodes one document read from `source` (asked only on failure, for the message).
pub(crate) fn decode_doc<T: DeserializeOwned>(
    value: Value,
    source: impl FnOnce() -> String,
) -> Result<T> {
    decode_value(value).map_err(|e| Error::Decode {
        url: source(),
        path: e.path,
        message: e.message,
    })
}

/// Decodes every item of a list, naming the index of the one that fails (`[31].Name`).
pub(crate) fn decode_items<T: DeserializeOwned>(
    items: Vec<Value>,
    source: impl FnOnce() -> String,
) -> Result<Vec<T>> {
    let mut source = Some(source);
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            decode_value(item).map_err(|e| Error::Decode {
                url: source.take().map(|f| f()).unwrap_or_default(),
                path: if e.path == "." {
                    format!("[{index}]")
                } else {
                    format!("[{index}].{}", e.path)
                },
                message: e.message,
            })
        })
        .collect()
}

/// Calls `$m!` with whatever it was given followed by the table of kinds that get a
/// typed `list_…` and `get_…` method: list method, get method, model, id, what the docs
/// call one.
macro_rules! with_typed_kinds {
    ($m:ident ! { $($given:tt)* }) => {
        $m! { $($given)*
            list_environments, get_environment, Environment, EnvironmentId, "environment of the space";
            list_project_groups, get_project_group, ProjectGroup, ProjectGroupId, "project group of the space";
            list_projects, get_project, Project, ProjectId, "project of the space";
            list_lifecycles, get_lifecycle, Lifecycle, LifecycleId, "lifecycle of the space";
            list_channels, get_channel, Channel, ChannelId, "channel of every project in the space";
            list_runbooks, get_runbook, Runbook, RunbookId, "runbook of every project in the space";
            list_library_variable_sets, get_library_variable_set, LibraryVariableSet, LibraryVariableSetId, "library variable set and script module of the space";
            list_tag_sets, get_tag_set, TagSet, TagSetId, "tag set of the space";
            list_tenants, get_tenant, Tenant, TenantId, "tenant of the space";
            list_feeds, get_feed, Feed, FeedId, "feed of the space";
            list_accounts, get_account, Account, AccountId, "account of the space";
            list_certificates, get_certificate, Certificate, CertificateId, "certificate of the space";
            list_worker_pools, get_worker_pool, WorkerPool, WorkerPoolId, "worker pool of the space";
            list_machine_policies, get_machine_policy, MachinePolicy, MachinePolicyId, "machine policy of the space";
            list_machines, get_machine, Machine, MachineId, "deployment target of the space";
            list_action_templates, get_action_template, ActionTemplate, ActionTemplateId, "step template of the space";
            list_community_action_templates, get_community_action_template, CommunityActionTemplate, CommunityActionTemplateId, "step template of the community library";
            list_teams, get_team, Team, TeamId, "team of the space";
            list_scoped_user_roles, get_scoped_user_role, ScopedUserRole, ScopedUserRoleId, "scoped user role of the space";
            list_user_roles, get_user_role, UserRole, UserRoleId, "user role of the instance";
            list_users, get_user, User, UserId, "user of the instance";
        }
    };
}
#[cfg(feature = "mock")]
pub(crate) use with_typed_kinds;

macro_rules! declare_read_trait {
    ($($list:ident, $get:ident, $ty:ident, $id:ident, $what:literal;)*) => {
/// Everything a sync reads from an Octopus instance, in the space the implementation is
/// bound to.
///
/// The source of a sync only ever gets an `OctopusRead`, so writing to it does not
/// compile (see the crate documentation).
///
/// Lists are complete: an implementation never returns one page of a collection as the
/// whole of it.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait OctopusRead: Send + Sync {
    /// `GET /api`: what the server is.
    async fn root(&self) -> Result<RootDocument>;

    /// The server version, from the root document.
    async fn version(&self) -> Result<OctopusVersion> {
        Ok(self.root().await?.version()?)
    }

    /// Every space of the instance.
    async fn spaces(&self) -> Result<Vec<Space>>;

    /// The space with this name (trimmed, case-insensitive), if there is one.
    async fn space_by_name(&self, name: &str) -> Result<Option<Space>> {
        let key = name_key(name);
        Ok(self
            .spaces()
            .await?
            .into_iter()
            .find(|space| name_key(&space.name) == key))
    }

    /// Every item of a collection, as JSON: `/all` where the server has it, otherwise
    /// every page.
    async fn list_raw(&self, kind: ResourceKind) -> Result<Vec<Value>>;

    /// One item by id, as JSON.
    async fn get_raw(&self, kind: ResourceKind, id: &str) -> Result<Value>;

    /// The items of a collection with these ids, as JSON, in as few requests as the URL
    /// length allows (`?ids=a,b,…`). Ids the server does not know are left out.
    async fn list_by_ids_raw(&self, kind: ResourceKind, ids: &[String]) -> Result<Vec<Value>>;

    /// Where items of `kind` are read from (a URL for the HTTP client), named in
    /// [`Error::Decode`] when a typed read cannot decode what was read.
    fn source_of(&self, kind: ResourceKind) -> String {
        kind.collection().to_owned()
    }

    /// Deployment processes by id, space-wide, in bulk.
    async fn deployment_processes(
        &self,
        ids: &[DeploymentProcessId],
    ) -> Result<Vec<DeploymentProcess>> {
        let ids: Vec<String> = ids.iter().map(|id| id.as_str().to_owned()).collect();
        decode_items(
            self.list_by_ids_raw(ResourceKind::DeploymentProcess, &ids).await?,
            || self.source_of(ResourceKind::DeploymentProcess),
        )
    }

    /// Runbook processes by id, space-wide, in bulk.
    async fn runbook_processes(&self, ids: &[RunbookProcessId]) -> Result<Vec<RunbookProcess>> {
        let ids: Vec<String> = ids.iter().map(|id| id.as_str().to_owned()).collect();
        decode_items(
            self.list_by_ids_raw(ResourceKind::RunbookProcess, &ids).await?,
            || self.source_of(ResourceKind::RunbookProcess),
        )
    }

    /// Variable sets (of projects and library variable sets) by id, in bulk.
    async fn variable_sets(&self, ids: &[VariableSetId]) -> Result<Vec<VariableSet>> {
        let ids: Vec<String> = ids.iter().map(|id| id.as_str().to_owned()).collect();
        decode_items(
            self.list_by_ids_raw(ResourceKind::VariableSet, &ids).await?,
            || self.source_of(ResourceKind::VariableSet),
        )
    }

    /// Every variable set of the space (`variables/all`).
    async fn all_variable_sets(&self) -> Result<Vec<VariableSet>> {
        decode_items(
            self.list_raw(ResourceKind::VariableSet).await?,
            || self.source_of(ResourceKind::VariableSet),
        )
    }

    /// Every tenant's variables (`tenantvariables/all`).
    async fn all_tenant_variables(&self) -> Result<Vec<TenantVariables>> {
        decode_items(
            self.list_raw(ResourceKind::TenantVariables).await?,
            || self.source_of(ResourceKind::TenantVariables),
        )
    }

    /// A deployment process by id.
    async fn get_deployment_process(&self, id: &DeploymentProcessId) -> Result<DeploymentProcess> {
        decode_doc(
            self.get_raw(ResourceKind::DeploymentProcess, id.as_str()).await?,
            || self.source_of(ResourceKind::DeploymentProcess),
        )
    }

    /// A runbook process by id.
    async fn get_runbook_process(&self, id: &RunbookProcessId) -> Result<RunbookProcess> {
        decode_doc(
            self.get_raw(ResourceKind::RunbookProcess, id.as_str()).await?,
            || self.source_of(ResourceKind::RunbookProcess),
        )
    }

    /// A variable set by id.
    async fn get_variable_set(&self, id: &VariableSetId) -> Result<VariableSet> {
        decode_doc(
            self.get_raw(ResourceKind::VariableSet, id.as_str()).await?,
            || self.source_of(ResourceKind::VariableSet),
        )
    }

    /// A project's deployment process.
    async fn project_deployment_process(&self, project: &ProjectId) -> Result<DeploymentProcess>;

    /// A project's variable set.
    async fn project_variables(&self, project: &ProjectId) -> Result<VariableSet>;

    /// A project's channels.
    async fn project_channels(&self, project: &ProjectId) -> Result<Vec<Channel>>;

    /// A project's runbooks.
    async fn project_runbooks(&self, project: &ProjectId) -> Result<Vec<Runbook>>;

    /// A runbook's process.
    async fn runbook_process(&self, runbook: &Runbook) -> Result<RunbookProcess> {
        let id = match (runbook.runbook_process_id.get(), runbook.id.get()) {
            (Some(id), _) => id.clone(),
            // The id is derived from the runbook's, as the server assigns it.
            (None, Some(runbook)) => {
                RunbookProcessId::new(owned::RUNBOOK_PROCESS.derive(&runbook.to_string()))
            }
            (None, None) => {
                return Err(Error::Config(format!(
                    "runbook `{}` has neither an id nor a process id",
                    runbook.name
                )))
            }
        };
        self.get_runbook_process(&id).await
    }

    /// A tenant's variables in the shape every version has (`/tenants/{id}/variables`).
    async fn tenant_variables(&self, tenant: &TenantId) -> Result<TenantVariables>;

    /// A tenant's library variable set values (`/tenants/{id}/commonvariables`, 2025.1+),
    /// templates without a value included.
    async fn tenant_common_variables(&self, tenant: &TenantId) -> Result<TenantScopedVariables>;

    /// A tenant's project template values (`/tenants/{id}/projectvariables`, 2025.1+),
    /// templates without a value included.
    async fn tenant_project_variables(&self, tenant: &TenantId) -> Result<TenantScopedVariables>;

    /// The user roles granted to a team, with their scopes.
    async fn team_scoped_user_roles(&self, team: &TeamId) -> Result<Vec<ScopedUserRole>>;

    /// The space's environments of one type from the 2025.4 list
    /// (`/environments/v2?type=`, every page): `Ephemeral` ones carry their
    /// `ParentEnvironmentId`; `Parent` lists the parent environments.
    async fn environments_of_type(&self, environment_type: &str) -> Result<Vec<Value>>;

    /// The space's audit-log events (and the instance-wide ones) with an `AutoId` of at
    /// least `from_auto_id`, oldest first; `None` from a reader that keeps no log (the
    /// default). What reading only what changed starts from.
    async fn audit_events_from(&self, _from_auto_id: u64) -> Result<Option<Vec<Value>>> {
        Ok(None)
    }

    /// The `AutoId` of the newest audit-log event of the space (`Some(0)` for an empty
    /// log); `None` from a reader that keeps no log (the default).
    async fn audit_log_position(&self) -> Result<Option<u64>> {
        Ok(None)
    }

    $(
        #[doc = concat!("Every ", $what, ".")]
        async fn $list(&self) -> Result<Vec<$ty>> {
            let kind = <$ty as Resource>::KIND;
            decode_items(self.list_raw(kind).await?, || self.source_of(kind))
        }

        #[doc = concat!("One ", $what, ", by id.")]
        async fn $get(&self, id: &$id) -> Result<$ty> {
            let kind = <$ty as Resource>::KIND;
            decode_doc(self.get_raw(kind, id.as_str()).await?, || self.source_of(kind))
        }
    )*
}
    };
}

with_typed_kinds!(declare_read_trait! {});

/// Everything a sync writes to a destination. Only destinations get one.
///
/// The writes are kind-erased (a [`ResourceKind`] and a JSON body) so they can be
/// mocked and so a plan's bodies go out as they are; [`OctopusWriteExt`] adds typed
/// versions. Bodies are sent as given: preparing them for the destination's version
/// (`octopus_model::shims`) is the caller's job.
#[async_trait]
pub trait OctopusWrite: OctopusRead {
    /// `POST` a new item; answers the created item, with its id.
    ///
    /// When the request was sent but no answer came, this fails with
    /// [`Error::OutcomeUnknown`]: look the item up by name before trying again.
    async fn create(&self, kind: ResourceKind, body: Value) -> Result<Value>;

    /// `PUT` a whole document; answers the server's copy.
    async fn update(&self, kind: ResourceKind, id: &str, body: Value) -> Result<Value>;

    /// `DELETE` an item. Deleting one that is already gone succeeds.
    async fn delete(&self, kind: ResourceKind, id: &str) -> Result<()>;

    /// Writes a tenant's variables whole (`POST /tenants/{id}/variables`). Servers with
    /// common variable scoping on (2025.2+) refuse it; use the two writes below.
    async fn set_tenant_variables(&self, variables: &TenantVariables) -> Result<TenantVariables>;

    /// Writes a tenant's library variable set values whole (2025.1+); values left out
    /// are deleted.
    async fn set_tenant_common_variables(
        &self,
        tenant: &TenantId,
        variables: &TenantScopedVariables,
    ) -> Result<TenantScopedVariables>;

    /// Writes a tenant's project template values whole (2025.1+); values left out are
    /// deleted.
    async fn set_tenant_project_variables(
        &self,
        tenant: &TenantId,
        variables: &TenantScopedVariables,
    ) -> Result<TenantScopedVariables>;

    /// Installs a step template from the community library into the space; answers the
    /// installed template. Like a create, it is never retried blindly.
    async fn install_community_step_template(
        &self,
        template: &CommunityActionTemplateId,
    ) -> Result<ActionTemplate>;
}

/// Typed writes on top of [`OctopusWrite`], for every writer (mocks included).
#[async_trait]
pub trait OctopusWriteExt: OctopusWrite {
    /// Creates `body` and answers the created resource, with its id.
    async fn create_resource<T: Resource>(&self, body: &T) -> Result<T> {
        let kind = T::KIND;
        let sent = serde_json::to_value(body).map_err(|e| encode_error(kind, e))?;
        decode_doc(self.create(kind, sent).await?, || {
            kind.collection().to_owned()
        })
    }

    /// Updates `body` (which must carry its id) and answers the server's copy. Endpoints
    /// that answer `{}` give back what was sent.
    async fn update_resource<T: Resource>(&self, body: &T) -> Result<T> {
        let kind = T::KIND;
        let id = body.id().ok_or_else(|| {
            Error::Config(format!(
                "cannot update {kind} `{}`: it has no id",
                body.name()
            ))
        })?;
        let sent = serde_json::to_value(body).map_err(|e| encode_error(kind, e))?;
        let answer = self.update(kind, id.as_ref(), sent).await?;
        if answer.as_object().is_some_and(|o| o.is_empty()) || answer.is_null() {
            return Ok(body.clone());
        }
        decode_doc(answer, || kind.collection().to_owned())
    }

    /// Deletes the resource with this id.
    async fn delete_resource<T: Resource>(&self, id: &T::Id) -> Result<()> {
        self.delete(T::KIND, id.as_ref()).await
    }
}

impl<W: OctopusWrite + ?Sized> OctopusWriteExt for W {}

fn encode_error(kind: ResourceKind, e: serde_json::Error) -> Error {
    Error::Decode {
        url: kind.collection().to_owned(),
        path: ".".to_owned(),
        message: format!("cannot encode the {kind}: {e}"),
    }
}
