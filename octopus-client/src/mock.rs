//! mockall mocks of [`OctopusRead`] and [`OctopusWrite`] (feature `mock`).
//!
//! [`MockOctopusRead`] is generated from `OctopusRead` itself. [`MockOctopusWrite`]
//! mocks both traits, so one mock stands for a destination: `expect_list_projects` and
//! `expect_create` on the same value.

#![allow(missing_docs)]

use async_trait::async_trait;
use octopus_model::*;
use serde_json::Value;

use crate::error::Result;
use crate::traits::{with_typed_kinds, OctopusRead, OctopusWrite};

pub use crate::traits::MockOctopusRead;

macro_rules! write_mock {
    ($($list:ident, $get:ident, $ty:ident, $id:ident, $what:literal;)*) => {
        mockall::mock! {
            /// A mock destination: every read of [`OctopusRead`] and every write of
            /// [`OctopusWrite`].
            pub OctopusWrite {}

            #[async_trait]
            impl OctopusRead for OctopusWrite {
                async fn root(&self) -> Result<RootDocument>;
                async fn version(&self) -> Result<OctopusVersion>;
                async fn spaces(&self) -> Result<Vec<Space>>;
                async fn space_by_name(&self, name: &str) -> Result<Option<Space>>;
                async fn list_raw(&self, kind: ResourceKind) -> Result<Vec<Value>>;
                async fn get_raw(&self, kind: ResourceKind, id: &str) -> Result<Value>;
                async fn list_by_ids_raw(&self, kind: ResourceKind, ids: &[String]) -> Result<Vec<Value>>;
                fn source_of(&self, kind: ResourceKind) -> String;
                async fn deployment_processes(&self, ids: &[DeploymentProcessId]) -> Result<Vec<DeploymentProcess>>;
                async fn runbook_processes(&self, ids: &[RunbookProcessId]) -> Result<Vec<RunbookProcess>>;
                async fn variable_sets(&self, ids: &[VariableSetId]) -> Result<Vec<VariableSet>>;
                async fn all_variable_sets(&self) -> Result<Vec<VariableSet>>;
                async fn all_tenant_variables(&self) -> Result<Vec<TenantVariables>>;
                async fn get_deployment_process(&self, id: &DeploymentProcessId) -> Result<DeploymentProcess>;
                async fn get_runbook_process(&self, id: &RunbookProcessId) -> Result<RunbookProcess>;
                async fn get_variable_set(&self, id: &VariableSetId) -> Result<VariableSet>;
                async fn project_deployment_process(&self, project: &ProjectId) -> Result<DeploymentProcess>;
                async fn project_variables(&self, project: &ProjectId) -> Result<VariableSet>;
                async fn project_channels(&self, project: &ProjectId) -> Result<Vec<Channel>>;
                async fn project_runbooks(&self, project: &ProjectId) -> Result<Vec<Runbook>>;
                async fn runbook_process(&self, runbook: &Runbook) -> Result<RunbookProcess>;
                async fn tenant_variables(&self, tenant: &TenantId) -> Result<TenantVariables>;
                async fn tenant_common_variables(&self, tenant: &TenantId) -> Result<TenantScopedVariables>;
                async fn tenant_project_variables(&self, tenant: &TenantId) -> Result<TenantScopedVariables>;
                async fn team_scoped_user_roles(&self, team: &TeamId) -> Result<Vec<ScopedUserRole>>;
                async fn environments_of_type(&self, environment_type: &str) -> Result<Vec<Value>>;
                async fn audit_events_from(&self, from_auto_id: u64) -> Result<Option<Vec<Value>>>;
                async fn audit_log_position(&self) -> Result<Option<u64>>;
                $(
                    async fn $list(&self) -> Result<Vec<$ty>>;
                    async fn $get(&self, id: &$id) -> Result<$ty>;
                )*
            }

            #[async_trait]
            impl OctopusWrite for OctopusWrite {
                async fn create(&self, kind: ResourceKind, body: Value) -> Result<Value>;
                async fn update(&self, kind: ResourceKind, id: &str, body: Value) -> Result<Value>;
                async fn delete(&self, kind: ResourceKind, id: &str) -> Result<()>;
                async fn set_tenant_variables(&self, variables: &TenantVariables) -> Result<TenantVariables>;
                async fn set_tenant_common_variables(&self, tenant: &TenantId, variables: &TenantScopedVariables) -> Result<TenantScopedVariables>;
                async fn set_tenant_project_variables(&self, tenant: &TenantId, variables: &TenantScopedVariables) -> Result<TenantScopedVariables>;
                async fn install_community_step_template(&self, template: &CommunityActionTemplateId) -> Result<ActionTemplate>;
            }
        }
    };
}

with_typed_kinds!(write_mock! {});
