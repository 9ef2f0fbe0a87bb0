//! `OctopusWrite` over HTTP.

use async_trait::async_trait;
use octopus_model::{
    ActionTemplate, CommunityActionTemplateId, ResourceKind, TenantId, TenantScopedVariables,
    TenantVariables,
};
use serde::Serialize;
use serde_json::Value;

use super::OctopusHttpClient;
use crate::error::{Error, Result};
use crate::request::{self, TenantVariablesShape};
use crate::traits::OctopusWrite;

fn to_body<T: Serialize>(value: &T, what: &str) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::Decode {
        url: what.to_owned(),
        path: ".".to_owned(),
        message: format!("cannot encode the body: {e}"),
    })
}

impl OctopusHttpClient {
    async fn write_tenant_scoped(
        &self,
        tenant: &TenantId,
        shape: TenantVariablesShape,
        variables: &TenantScopedVariables,
    ) -> Result<TenantScopedVariables> {
        let space = self.space_id().await?;
        let body = to_body(variables, "tenant variables")?;
        let answer = self
            .fetch_json(&request::set_tenant_variables(
                space.as_ref(),
                tenant.as_str(),
                shape,
                body,
            ))
            .await?;
        crate::traits::decode_doc(answer, || "tenant variables".to_owned())
    }
}

/// Refuses an operation the API has no route for, before anything is sent.
fn routed(kind: ResourceKind, operation: request::Operation) -> Result<()> {
    if request::has_route(kind, operation) {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "the Octopus API has no route to {} a {kind}",
            match operation {
                request::Operation::Create => "create",
                request::Operation::Delete => "delete",
                request::Operation::Update => "update",
                _ => "read",
            }
        )))
    }
}

#[async_trait]
impl OctopusWrite for OctopusHttpClient {
    async fn create(&self, kind: ResourceKind, body: Value) -> Result<Value> {
        routed(kind, request::Operation::Create)?;
        let space = self.space_for(kind).await?;
        self.fetch_json(&request::create(space.as_ref(), kind, body))
            .await
    }

    async fn update(&self, kind: ResourceKind, id: &str, body: Value) -> Result<Value> {
        routed(kind, request::Operation::Update)?;
        let space = self.space_for(kind).await?;
        self.fetch_json(&request::update(space.as_ref(), kind, id, body))
            .await
    }

    async fn delete(&self, kind: ResourceKind, id: &str) -> Result<()> {
        routed(kind, request::Operation::Delete)?;
        let space = self.space_for(kind).await?;
        match self
            .execute(&request::delete(space.as_ref(), kind, id))
            .await
        {
            // Already gone is what was asked for (and what a retried delete sees).
            Ok(_) | Err(Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn set_tenant_variables(&self, variables: &TenantVariables) -> Result<TenantVariables> {
        let tenant = variables.tenant_id.get().ok_or_else(|| {
            Error::Config("tenant variables without a TenantId cannot be written".into())
        })?;
        let space = self.space_id().await?;
        let body = to_body(variables, "tenant variables")?;
        let answer = self
            .fetch_json(&request::set_tenant_variables(
                space.as_ref(),
                tenant.as_str(),
                TenantVariablesShape::Whole,
                body,
            ))
            .await?;
        crate::traits::decode_doc(answer, || "tenant variables".to_owned())
    }

    async fn set_tenant_common_variables(
        &self,
        tenant: &TenantId,
        variables: &TenantScopedVariables,
    ) -> Result<TenantScopedVariables> {
        self.write_tenant_scoped(tenant, TenantVariablesShape::Common, variables)
            .await
    }

    async fn set_tenant_project_variables(
        &self,
        tenant: &TenantId,
        variables: &TenantScopedVariables,
    ) -> Result<TenantScopedVariables> {
        self.write_tenant_scoped(tenant, TenantVariablesShape::Project, variables)
            .await
    }

    async fn install_community_step_template(
        &self,
        template: &CommunityActionTemplateId,
    ) -> Result<ActionTemplate> {
        let space = self.space_id().await?;
        self.fetch(&request::install_community_step_template(
            space.as_ref(),
            template.as_str(),
        ))
        .await
    }
}
