//! Projects, project groups and their settings objects.

use crate::field::{Dict, Field, List};
use crate::ids::{
    ChannelId, EnvironmentId, LibraryVariableSetId, LifecycleId, ProjectGroupId, ProjectId, SpaceId,
};
use crate::resource::named_resource;
use crate::resources::templates::ActionTemplateParameter;

string_enum! {
    /// Whether deployments of a project are tenanted.
    pub enum TenantedDeploymentMode {
        /// Never tenanted.
        Untenanted = "Untenanted",
        /// Either.
        TenantedOrUntenanted = "TenantedOrUntenanted",
        /// Always tenanted.
        Tenanted = "Tenanted",
    }
}

string_enum! {
    /// Guided failure default of a project or runbook.
    pub enum GuidedFailureMode {
        /// Use the environment's setting.
        EnvironmentDefault = "EnvironmentDefault",
        /// Off.
        Off = "Off",
        /// On.
        On = "On",
    }
}

model! {
    /// A project group.
    pub struct ProjectGroup {
        /// `ProjectGroups-1`.
        pub id: Field<ProjectGroupId>,
        /// The name.
        pub name: String,
        /// Free text.
        pub description: Field<String>,
        /// Legacy environment restriction.
        pub environment_ids: List<EnvironmentId>,
        /// Legacy retention policy.
        pub retention_policy_id: Field<String>,
        /// The space.
        pub space_id: Field<SpaceId>,
        /// URL-friendly name.
        pub slug: Field<String>,
        /// Links.
        pub links: Dict<String>,
    }
}

model! {
    /// A package of an action named by action and package-reference names, as versioning
    /// and release-creation settings refer to it.
    pub struct DeploymentActionPackage {
        /// The action's name.
        pub deployment_action: Field<String>,
        /// The package reference's name (`""` for the primary package).
        pub package_reference: Field<String>,
    }
}

model! {
    /// How release numbers are chosen: a template, or a donor package.
    pub struct VersioningStrategy {
        /// A version template such as `#{Octopus.Version.LastMajor}.#{Octopus.Version.NextMinor}`.
        pub template: Field<String>,
        /// The package whose version becomes the release version.
        pub donor_package: Field<DeploymentActionPackage>,
        /// Pre-2018.9 form: the donor step's id.
        pub donor_package_step_id: Field<String>,
    }
}

model! {
    /// Automatic release creation settings.
    pub struct ReleaseCreationStrategy {
        /// The channel releases are created in.
        pub channel_id: Field<ChannelId>,
        /// The package whose push creates a release.
        pub release_creation_package: Field<DeploymentActionPackage>,
        /// Pre-2018.9 form.
        pub release_creation_package_step_id: Field<String>,
    }
}

model! {
    /// Which targets a deployment needs.
    pub struct ProjectConnectivityPolicy {
        /// `None` or `SkipUnavailableMachines`.
        pub skip_machine_behavior: Field<String>,
        /// Target roles (tags) deployments need.
        pub target_roles: List<String>,
        /// Whether a deployment with no targets is allowed.
        pub allow_deployments_to_no_targets: Field<bool>,
        /// Whether unhealthy targets are left out.
        pub exclude_unhealthy_targets: Field<bool>,
    }
}

model! {
    /// Git credentials of a version-controlled project.
    pub struct GitCredentials {
        /// `Anonymous`, `UsernamePassword`, `Reference` or `GitHub`.
        pub r#type: Field<String>,
        /// The user name (`UsernamePassword`).
        pub username: Field<String>,
        /// The password (`UsernamePassword`).
        pub password: Field<crate::SensitiveValue>,
        /// The git credential or GitHub connection (`Reference`, `GitHub`).
        pub id: Field<String>,
    }
}

model! {
    /// Where a project's process, runbooks and variables live: the database, or git.
    pub struct PersistenceSettings {
        /// `Database` or `VersionControlled`.
        pub r#type: Field<String>,
        /// The repository URL.
        pub url: Field<String>,
        /// The default branch.
        pub default_branch: Field<String>,
        /// The folder of the `.octopus` files.
        pub base_path: Field<String>,
        /// How to authenticate.
        pub credentials: Field<GitCredentials>,
        /// Whether the default branch is protected.
        pub protected_default_branch: Field<bool>,
        /// Protected branch patterns.
        pub protected_branch_name_patterns: List<String>,
    }
}

model! {
    /// A project: `/api/{spaceId}/projects/{id}`.
    pub struct Project {
        /// `Projects-1`.
        pub id: Field<ProjectId>,
        /// The name, unique in the space.
        pub name: String,
        /// Free text.
        pub description: Field<String>,
        /// The space.
        pub space_id: Field<SpaceId>,
        /// URL-friendly name.
        pub slug: Field<String>,
        /// Whether the project is disabled.
        pub is_disabled: Field<bool>,
        /// The project group (required).
        pub project_group_id: Field<ProjectGroupId>,
        /// The lifecycle (required).
        pub lifecycle_id: Field<LifecycleId>,
        /// Read only: the deployment process created with the project.
        pub deployment_process_id: Field<crate::ids::DeploymentProcessId>,
        /// Read only: the variable set created with the project.
        pub variable_set_id: Field<crate::ids::VariableSetId>,
        /// Included library variable sets, in order (earlier wins).
        pub included_library_variable_set_ids: List<LibraryVariableSetId>,
        /// Whether deployments are tenanted.
        pub tenanted_deployment_mode: Field<TenantedDeploymentMode>,
        /// Whether releases are per channel.
        pub discrete_channel_release: Field<bool>,
        /// Automatic release creation.
        pub auto_create_release: Field<bool>,
        /// Skip packages already installed.
        pub default_to_skip_if_already_installed: Field<bool>,
        /// Guided failure default.
        pub default_guided_failure_mode: Field<GuidedFailureMode>,
        /// Release notes template.
        pub release_notes_template: Field<String>,
        /// Deployment changes template.
        pub deployment_changes_template: Field<String>,
        /// Re-download packages.
        pub force_package_download: Field<bool>,
        /// Which targets deployments need.
        pub project_connectivity_policy: Field<ProjectConnectivityPolicy>,
        /// How release numbers are chosen.
        pub versioning_strategy: Field<VersioningStrategy>,
        /// Automatic release creation settings.
        pub release_creation_strategy: Field<ReleaseCreationStrategy>,
        /// Project variable templates for tenants.
        pub templates: List<ActionTemplateParameter>,
        /// Read only: whether the project lives in git (config as code).
        pub is_version_controlled: Field<bool>,
        /// Where the project's documents live; omitted on create.
        pub persistence_settings: Field<PersistenceSettings>,
        /// Project tags (`Set/Tag`, 2025.4+).
        pub project_tags: List<String>,
        /// Release-based overrides; refer to releases, never synced.
        pub auto_deploy_release_overrides: List<serde_json::Value>,
        /// Links.
        pub links: Dict<String>,
    }
}

impl Project {
    /// Whether the project's process, runbooks and non-sensitive variables live in git.
    pub fn is_config_as_code(&self) -> bool {
        self.is_version_controlled.get_or(false)
            || self
                .persistence_settings
                .get()
                .is_some_and(|p| p.r#type.as_str() == "VersionControlled")
    }
}

named_resource! {
    ProjectGroup => ProjectGroupId, ProjectGroup;
    Project => ProjectId, Project;
}
