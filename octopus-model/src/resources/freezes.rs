//! Deployment freezes: `/api/deploymentfreezes{/id}`, an instance-wide route (2025.1+;
//! per-project freezes with `OwnerId` 2025.2+).
//!
//! Shapes from go-octopusdeploy `pkg/deploymentfreezes/deploymentfreeze.go` (the
//! resource, `TenantProjectEnvironment`, `RecurringSchedule`) and
//! `pkg/deploymentfreezes/deploymentfreezes_service.go` (the route template
//! `/api/deploymentfreezes{/id}{?skip,take,ids,projectIds,tenantIds,environmentIds,includeComplete,status}`;
//! a list answers `{"DeploymentFreezes": [...], "Count": n}`, not the usual `Items`
//! envelope). Octopus's docs (deployments/deployment-freezes) say a freeze blocks the
//! project and environment pairs, and the tenant, project and environment triples, its
//! scope names; a freeze therefore holds ids of projects, environments and tenants of
//! any space.

use crate::field::{Dict, Field, List};
use crate::ids::{DeploymentFreezeId, EnvironmentId, ProjectId, TenantId};
use crate::resource::named_resource;

model! {
    /// One tenant, project and environment a freeze blocks.
    pub struct TenantProjectEnvironment {
        /// The tenant.
        pub tenant_id: Field<TenantId>,
        /// The project.
        pub project_id: Field<ProjectId>,
        /// The environment.
        pub environment_id: Field<EnvironmentId>,
    }
}

model! {
    /// A deployment freeze: a window (and an optional recurrence) during which the
    /// deployments its scope names are refused.
    pub struct DeploymentFreeze {
        /// `DeploymentFreezes-1`.
        pub id: Field<DeploymentFreezeId>,
        /// The name.
        pub name: String,
        /// When the (first) window starts, an ISO 8601 date and time.
        pub start: Field<String>,
        /// When the (first) window ends.
        pub end: Field<String>,
        /// Project id -> the environment ids frozen for it.
        pub project_environment_scope: Dict<Vec<EnvironmentId>>,
        /// Tenant, project and environment triples frozen.
        pub tenant_project_environment_scope: List<TenantProjectEnvironment>,
        /// `{"Type": "Daily|Weekly|Monthly|Annually", "Unit": n, "EndType": …}`, kept as
        /// received.
        pub recurring_schedule: Field<serde_json::Value>,
        /// The project that owns a per-project freeze (2025.2+); absent for a freeze
        /// managed at the instance level.
        pub owner_id: Field<ProjectId>,
        /// Links.
        pub links: Dict<String>,
    }
}

named_resource! {
    DeploymentFreeze => DeploymentFreezeId, DeploymentFreeze;
}
