//! Lifecycles and their phases, channels, and runbooks.

use crate::field::{Dict, Field, List};
use crate::ids::{ChannelId, EnvironmentId, LifecycleId, ProjectId, RunbookId, SpaceId};
use crate::resource::named_resource;
use crate::resources::project::{
    GuidedFailureMode, ProjectConnectivityPolicy, TenantedDeploymentMode,
};

model! {
    /// How long releases or files are kept.
    pub struct RetentionPeriod {
        /// How many to keep (0 with no `Strategy` means forever on older servers).
        pub quantity_to_keep: Field<i64>,
        /// Keep forever.
        pub should_keep_forever: Field<bool>,
        /// `Days` or `Items`.
        pub unit: Field<String>,
        /// `Default`, `Count` or `Forever` (2025.3+).
        pub strategy: Field<String>,
    }
}

model! {
    /// A phase of a lifecycle.
    pub struct Phase {
        /// GUID.
        pub id: Field<String>,
        /// The name, unique in the lifecycle.
        pub name: String,
        /// Environments deployed to automatically.
        pub automatic_deployment_targets: List<EnvironmentId>,
        /// Environments deployed to by hand.
        pub optional_deployment_targets: List<EnvironmentId>,
        /// How many environments must be deployed before promotion (0 = all).
        pub minimum_environments_before_promotion: Field<i64>,
        /// Whether the phase can be skipped.
        pub is_optional_phase: Field<bool>,
        /// Whether deployments in it get priority (2024+).
        pub is_priority_phase: Field<bool>,
        /// Release retention; `null` inherits the lifecycle's.
        pub release_retention_policy: Field<RetentionPeriod>,
        /// File retention on targets; `null` inherits the lifecycle's.
        pub tentacle_retention_policy: Field<RetentionPeriod>,
    }
}

model! {
    /// A lifecycle: `/api/{spaceId}/lifecycles/{id}`. No phases means every environment.
    pub struct Lifecycle {
        /// `Lifecycles-1`.
        pub id: Field<LifecycleId>,
        /// The name.
        pub name: String,
        /// Free text.
        pub description: Field<String>,
        /// Release retention.
        pub release_retention_policy: Field<RetentionPeriod>,
        /// File retention on targets.
        pub tentacle_retention_policy: Field<RetentionPeriod>,
        /// The phases, in order.
        pub phases: List<Phase>,
        /// The space.
        pub space_id: Field<SpaceId>,
        /// URL-friendly name.
        pub slug: Field<String>,
        /// Links.
        pub links: Dict<String>,
    }
}

model! {
    /// A package of an action that a channel rule applies to.
    pub struct ChannelActionPackage {
        /// The action's name.
        pub deployment_action: Field<String>,
        /// The package reference's name.
        pub package_reference: Field<String>,
    }
}

model! {
    /// A channel's version rule.
    pub struct ChannelVersionRule {
        /// GUID.
        pub id: Field<String>,
        /// A NuGet or Maven version range.
        pub version_range: Field<String>,
        /// A pre-release tag regex.
        pub tag: Field<String>,
        /// The packages the rule applies to, by action and package-reference name.
        pub action_packages: List<ChannelActionPackage>,
        /// Pre-2018.9 form: action names.
        pub actions: List<String>,
    }
}

model! {
    /// A channel of a project: `/api/{spaceId}/channels/{id}`.
    pub struct Channel {
        /// `Channels-1`.
        pub id: Field<ChannelId>,
        /// The name, unique in the project.
        pub name: String,
        /// Free text.
        pub description: Field<String>,
        /// The project (create only).
        pub project_id: Field<ProjectId>,
        /// The lifecycle; `null` uses the project's.
        pub lifecycle_id: Field<LifecycleId>,
        /// Whether this is the project's default channel.
        pub is_default: Field<bool>,
        /// Tenant tags (`Set/Tag`).
        pub tenant_tags: List<String>,
        /// Version rules.
        pub rules: List<ChannelVersionRule>,
        /// Git reference rules (2024+).
        pub git_reference_rules: List<String>,
        /// The space.
        pub space_id: Field<SpaceId>,
        /// URL-friendly name.
        pub slug: Field<String>,
        /// Links.
        pub links: Dict<String>,
    }
}

model! {
    /// A runbook of a project: `/api/{spaceId}/runbooks/{id}`.
    pub struct Runbook {
        /// `Runbooks-1`.
        pub id: Field<RunbookId>,
        /// The name, unique in the project.
        pub name: String,
        /// Free text.
        pub description: Field<String>,
        /// The project.
        pub project_id: Field<ProjectId>,
        /// Read only: its process.
        pub runbook_process_id: Field<crate::ids::RunbookProcessId>,
        /// Refers to a snapshot; never synced.
        pub published_runbook_snapshot_id: Field<String>,
        /// Whether runs are tenanted.
        pub multi_tenancy_mode: Field<TenantedDeploymentMode>,
        /// Which targets a run needs.
        pub connectivity_policy: Field<ProjectConnectivityPolicy>,
        /// `All`, `Specified` or `FromProjectLifecycles` (2020.3+).
        pub environment_scope: Field<String>,
        /// The environments, when `Specified`.
        pub environments: List<EnvironmentId>,
        /// Guided failure default.
        pub default_guided_failure_mode: Field<GuidedFailureMode>,
        /// How many runs are kept.
        pub run_retention_policy: Field<RetentionPeriod>,
        /// Re-download packages.
        pub force_package_download: Field<bool>,
        /// Runbook tags (2026).
        pub runbook_tags: List<String>,
        /// The space.
        pub space_id: Field<SpaceId>,
        /// URL-friendly name.
        pub slug: Field<String>,
        /// Links.
        pub links: Dict<String>,
    }
}

named_resource! {
    Lifecycle => LifecycleId, Lifecycle;
    Channel => ChannelId, Channel;
    Runbook => RunbookId, Runbook;
}
