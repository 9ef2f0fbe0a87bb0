//! Deployment processes, runbook processes, and their steps and actions.

use crate::field::{Dict, Field, List};
use crate::ids::{
    ChannelId, DeploymentProcessId, EnvironmentId, FeedId, GitCredentialId, ProjectId, RunbookId,
    RunbookProcessId, SpaceId, WorkerPoolId,
};
use crate::resource::{Resource, ResourceKind};
use crate::secret::PropertyValue;

/// A property map: `Properties` of steps, actions and templates.
pub type Properties = Dict<PropertyValue>;

model! {
    /// A package an action uses.
    pub struct PackageReference {
        /// GUID, unique in the process.
        pub id: Field<String>,
        /// The reference's name; `""` for the primary package.
        pub name: Field<String>,
        /// The package id in the feed (for deploy-a-release: the project id).
        pub package_id: Field<String>,
        /// The feed; may be an `#{expression}`.
        pub feed_id: Field<FeedId>,
        /// `Server`, `ExecutionTarget`, `NotAcquired` or an expression.
        pub acquisition_location: Field<String>,
        /// Extra settings (`Extract`, `SelectionMode`, …).
        pub properties: Dict<serde_json::Value>,
    }
}

model! {
    /// The container an action runs in.
    pub struct ActionContainer {
        /// The image.
        pub image: Field<String>,
        /// The feed the image comes from.
        pub feed_id: Field<FeedId>,
        /// A repository to build from.
        pub git_url: Field<String>,
        /// A Dockerfile to build.
        pub dockerfile: Field<String>,
    }
}

model! {
    /// A git repository an action checks out (2023+).
    pub struct GitDependency {
        /// The dependency's name within the action.
        pub name: Field<String>,
        /// The repository.
        pub repository_uri: Field<String>,
        /// Its default branch.
        pub default_branch: Field<String>,
        /// `Anonymous`, `Library`, ….
        pub git_credential_type: Field<String>,
        /// The git credential used.
        pub git_credential_id: Field<GitCredentialId>,
        /// Path filters.
        pub file_path_filters: List<String>,
    }
}

model! {
    /// An action of a step: what actually runs.
    pub struct Action {
        /// GUID, unique in the process; variable `Action` scopes refer to it.
        pub id: Field<String>,
        /// The name, unique in the process.
        pub name: String,
        /// URL-friendly name.
        pub slug: Field<String>,
        /// `Octopus.Script`, `Octopus.TentaclePackage`, `Octopus.Manual`, ….
        pub action_type: Field<String>,
        /// Notes.
        pub notes: Field<String>,
        /// Whether the action is disabled.
        pub is_disabled: Field<bool>,
        /// Whether the action can be skipped.
        pub is_required: Field<bool>,
        /// Whether its packages can version releases.
        pub can_be_used_for_project_versioning: Field<bool>,
        /// `Success` or `Variable`.
        pub condition: Field<String>,
        /// Environments the action runs in; empty = all.
        pub environments: List<EnvironmentId>,
        /// Environments the action never runs in.
        pub excluded_environments: List<EnvironmentId>,
        /// Channels the action runs in; empty = all.
        pub channels: List<ChannelId>,
        /// Tenant tags (`Set/Tag`).
        pub tenant_tags: List<String>,
        /// The worker pool.
        pub worker_pool_id: Field<WorkerPoolId>,
        /// A variable naming the worker pool (2020.1+).
        pub worker_pool_variable: Field<String>,
        /// The execution container.
        pub container: Field<ActionContainer>,
        /// Packages.
        pub packages: List<PackageReference>,
        /// Git dependencies (2023+).
        pub git_dependencies: List<GitDependency>,
        /// Settings; some carry ids (template, feeds, accounts, teams, projects).
        pub properties: Properties,
    }
}

model! {
    /// A step of a process: a trigger, a condition and one or more actions.
    pub struct Step {
        /// GUID, unique in the process.
        pub id: Field<String>,
        /// The name, unique in the process.
        pub name: String,
        /// URL-friendly name.
        pub slug: Field<String>,
        /// `LetOctopusDecide`, `BeforePackageAcquisition`, `AfterPackageAcquisition`.
        pub package_requirement: Field<String>,
        /// `Success`, `Failure`, `Always`, `Variable`.
        pub condition: Field<String>,
        /// `StartAfterPrevious`, `StartWithPrevious`.
        pub start_trigger: Field<String>,
        /// Settings (`Octopus.Action.TargetRoles`, …).
        pub properties: Properties,
        /// The actions.
        pub actions: List<Action>,
    }
}

model! {
    /// A project's deployment process: `/api/{spaceId}/deploymentprocesses/{id}`.
    pub struct DeploymentProcess {
        /// `deploymentprocess-Projects-1`.
        pub id: Field<DeploymentProcessId>,
        /// The project.
        pub project_id: Field<ProjectId>,
        /// The space.
        pub space_id: Field<SpaceId>,
        /// Optimistic concurrency: send back the value read.
        pub version: Field<i64>,
        /// The last release snapshot.
        pub last_snapshot_id: Field<String>,
        /// The steps, in order.
        pub steps: List<Step>,
        /// Links.
        pub links: Dict<String>,
    }
}

model! {
    /// A runbook's process: `/api/{spaceId}/runbookProcesses/{id}`.
    pub struct RunbookProcess {
        /// `RunbookProcess-Runbooks-1`.
        pub id: Field<RunbookProcessId>,
        /// The runbook.
        pub runbook_id: Field<RunbookId>,
        /// The project.
        pub project_id: Field<ProjectId>,
        /// The space.
        pub space_id: Field<SpaceId>,
        /// Optimistic concurrency.
        pub version: Field<i64>,
        /// The last snapshot.
        pub last_snapshot_id: Field<String>,
        /// The steps, in order.
        pub steps: List<Step>,
        /// Links.
        pub links: Dict<String>,
    }
}

impl Resource for DeploymentProcess {
    type Id = DeploymentProcessId;
    const KIND: ResourceKind = ResourceKind::DeploymentProcess;
    fn id(&self) -> Option<&Self::Id> {
        self.id.get()
    }
    fn set_id(&mut self, id: Self::Id) {
        self.id.set(id);
    }
    /// A deployment process is named after its project's id.
    fn name(&self) -> &str {
        self.project_id.get().map(|p| p.as_str()).unwrap_or("")
    }
}

impl Resource for RunbookProcess {
    type Id = RunbookProcessId;
    const KIND: ResourceKind = ResourceKind::RunbookProcess;
    fn id(&self) -> Option<&Self::Id> {
        self.id.get()
    }
    fn set_id(&mut self, id: Self::Id) {
        self.id.set(id);
    }
    /// A runbook process is named after its runbook's id.
    fn name(&self) -> &str {
        self.runbook_id.get().map(|p| p.as_str()).unwrap_or("")
    }
}

impl Step {
    /// Every action of the step.
    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.actions.iter()
    }
}

impl Action {
    /// A property's text, if it is a plain string.
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties.get(key).and_then(PropertyValue::as_text)
    }
}
