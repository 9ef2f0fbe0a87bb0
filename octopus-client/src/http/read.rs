//! `OctopusRead` over HTTP.

use async_trait::async_trait;
use futures::future::try_join_all;
use octopus_model::{
    Channel, Collection, DeploymentProcess, ProjectId, Resource, ResourceKind, RootDocument,
    Runbook, ScopedUserRole, Space, TeamId, TenantId, TenantScopedVariables, TenantVariables,
    VariableSet,
};
use serde_json::Value;

use super::OctopusHttpClient;
use crate::error::{Error, Result};
use crate::paging::PageCollector;
use crate::request::{self, ApiRequest, TenantVariablesShape};
use crate::traits::{decode_items, OctopusRead};

/// The kinds whose collection has an `/all` route (reference/octopus-api.md §1). Others
/// are paged; a kind listed here whose `/all` answers 404 is paged from then on.
fn has_all_endpoint(kind: ResourceKind) -> bool {
    use ResourceKind::*;
    matches!(
        kind,
        Space
            | Environment
            | ProjectGroup
            | Project
            | Lifecycle
            | Channel
            | Runbook
            | VariableSet
            | LibraryVariableSet
            | TagSet
            | Tenant
            | TenantVariables
            | Feed
            | Account
            | Certificate
            | WorkerPool
            | MachinePolicy
            | Machine
            | ActionTemplate
            | Team
    )
}

/// Ids per `?ids=` request, and the longest id list sent in one URL.
const IDS_PER_REQUEST: usize = 100;
const MAX_IDS_CHARS: usize = 1500;

/// Splits ids into groups that keep a URL short.
pub(crate) fn id_chunks(ids: &[String]) -> Vec<Vec<&str>> {
    let mut chunks: Vec<Vec<&str>> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut chars = 0;
    for id in ids {
        if !current.is_empty()
            && (current.len() >= IDS_PER_REQUEST || chars + id.len() + 1 > MAX_IDS_CHARS)
        {
            chunks.push(std::mem::take(&mut current));
            chars = 0;
        }
        chars += id.len() + 1;
        current.push(id);
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

impl OctopusHttpClient {
    /// Reads every page starting at `first`, following `Page.Next`.
    pub(crate) async fn read_pages(&self, first: ApiRequest) -> Result<Vec<Value>> {
        let first_url = first.url(&self.inner.base).to_string();
        let mut collector = PageCollector::start(link_key(&first));
        let mut request = first;
        loop {
            let page: Collection<Value> = self.fetch(&request).await?;
            let next = collector.add(page).map_err(|e| Error::Paging {
                url: first_url.clone(),
                message: e.to_string(),
            })?;
            match next {
                Some(link) => request = self.inner.base.request_for_link(&link)?,
                None => break,
            }
        }
        collector.finish().map_err(|e| Error::Paging {
            url: first_url,
            message: e.to_string(),
        })
    }

    /// Every item of a collection read page by page (`Page.Next`), even where the server
    /// has `/all`: for servers whose `/all` is slow or capped, and for measuring.
    pub async fn list_paged(&self, kind: ResourceKind) -> Result<Vec<Value>> {
        if !request::has_route(kind, request::Operation::ListPage) {
            return Err(Error::Config(format!(
                "the Octopus API has no paged list of {kind}"
            )));
        }
        let space = self.space_for(kind).await?;
        self.read_pages(request::list_page(
            space.as_ref(),
            kind,
            0,
            self.inner.page_size,
        ))
        .await
    }

    fn all_endpoint_known_missing(&self, kind: ResourceKind) -> bool {
        self.inner
            .no_all_endpoint
            .lock()
            .map(|set| set.contains(&kind))
            .unwrap_or(false)
    }

    fn remember_no_all_endpoint(&self, kind: ResourceKind) {
        if let Ok(mut set) = self.inner.no_all_endpoint.lock() {
            set.insert(kind);
        }
    }

    /// Every deployment freeze of the instance, page by page: the list answers
    /// `{"DeploymentFreezes": [...], "Count": n}` rather than the `Items` envelope.
    async fn deployment_freezes(&self) -> Result<Vec<Value>> {
        let take = self.inner.page_size;
        let mut out: Vec<Value> = Vec::new();
        loop {
            let request = request::deployment_freezes(out.len() as u64, take);
            let page = self.fetch_json(&request).await?;
            let items = match page.get("DeploymentFreezes") {
                Some(Value::Array(items)) => items.clone(),
                _ => {
                    return Err(Error::Paging {
                        url: request.url(&self.inner.base).to_string(),
                        message: "the answer has no DeploymentFreezes array".to_owned(),
                    })
                }
            };
            let count = page.get("Count").and_then(Value::as_u64).unwrap_or(0);
            let got = items.len();
            out.extend(items);
            if got == 0 || out.len() as u64 >= count {
                return Ok(out);
            }
        }
    }

    async fn paged<T: Resource>(&self, first: ApiRequest) -> Result<Vec<T>> {
        let source = first.url(&self.inner.base).to_string();
        decode_items(self.read_pages(first).await?, || source)
    }
}

/// How a page link is remembered: the form servers use in `Page.Next`.
fn link_key(request: &ApiRequest) -> String {
    let query: Vec<String> = request
        .query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!("{}?{}", request.path(), query.join("&"))
}

#[async_trait]
impl OctopusRead for OctopusHttpClient {
    async fn root(&self) -> Result<RootDocument> {
        self.fetch(&request::root()).await
    }

    async fn spaces(&self) -> Result<Vec<Space>> {
        let source = request::list_all(None, ResourceKind::Space)
            .url(&self.inner.base)
            .to_string();
        decode_items(self.list_raw(ResourceKind::Space).await?, || source)
    }

    async fn list_raw(&self, kind: ResourceKind) -> Result<Vec<Value>> {
        let space = self.space_for(kind).await?;
        match kind {
            ResourceKind::ParentEnvironment => return self.environments_of_type("Parent").await,
            ResourceKind::DeploymentFreeze => return self.deployment_freezes().await,
            _ => {}
        }
        if has_all_endpoint(kind) && !self.all_endpoint_known_missing(kind) {
            match self.fetch(&request::list_all(space.as_ref(), kind)).await {
                Ok(items) => return Ok(items),
                Err(Error::NotFound { .. }) if kind != ResourceKind::TenantVariables => {
                    tracing::debug!(collection = kind.collection(), "no /all route; paging");
                    self.remember_no_all_endpoint(kind);
                }
                Err(e) => return Err(e),
            }
        }
        self.list_paged(kind).await
    }

    fn source_of(&self, kind: ResourceKind) -> String {
        let space = match kind.scope() {
            octopus_model::ResourceScope::Space => self.inner.space_id.get().cloned().flatten(),
            octopus_model::ResourceScope::System => None,
        };
        request::list_all(space.as_ref(), kind)
            .url(&self.inner.base)
            .to_string()
            .trim_end_matches("/all")
            .to_owned()
    }

    async fn get_raw(&self, kind: ResourceKind, id: &str) -> Result<Value> {
        let space = self.space_for(kind).await?;
        self.fetch_json(&request::get(space.as_ref(), kind, id))
            .await
    }

    async fn list_by_ids_raw(&self, kind: ResourceKind, ids: &[String]) -> Result<Vec<Value>> {
        let space = self.space_for(kind).await?;
        let reads = id_chunks(ids)
            .into_iter()
            .map(|chunk| self.read_pages(request::list_by_ids(space.as_ref(), kind, &chunk)));
        Ok(try_join_all(reads).await?.into_iter().flatten().collect())
    }

    async fn project_deployment_process(&self, project: &ProjectId) -> Result<DeploymentProcess> {
        let space = self.space_id().await?;
        let route = request::project_child(space.as_ref(), project.as_str(), "deploymentprocesses");
        match self.fetch(&route).await {
            Err(Error::NotFound { .. }) => {
                // Servers before the project route: go through the project's process id.
                let project = self.get_project(project).await?;
                let id = project
                    .deployment_process_id
                    .get()
                    .cloned()
                    .ok_or_else(|| {
                        Error::Config(format!(
                            "project `{}` has no deployment process id",
                            project.name
                        ))
                    })?;
                self.get_deployment_process(&id).await
            }
            other => other,
        }
    }

    async fn project_variables(&self, project: &ProjectId) -> Result<VariableSet> {
        let space = self.space_id().await?;
        let route = request::project_child(space.as_ref(), project.as_str(), "variables");
        match self.fetch(&route).await {
            Err(Error::NotFound { .. }) => {
                // Servers before the project route: go through the project's set id.
                let project = self.get_project(project).await?;
                let id = project.variable_set_id.get().cloned().ok_or_else(|| {
                    Error::Config(format!("project `{}` has no variable set id", project.name))
                })?;
                self.get_variable_set(&id).await
            }
            other => other,
        }
    }

    async fn project_channels(&self, project: &ProjectId) -> Result<Vec<Channel>> {
        let space = self.space_id().await?;
        let mut first = request::project_child(space.as_ref(), project.as_str(), "channels");
        first.query = paging_query(self.inner.page_size);
        self.paged(first).await
    }

    async fn project_runbooks(&self, project: &ProjectId) -> Result<Vec<Runbook>> {
        let space = self.space_id().await?;
        let mut first = request::project_child(space.as_ref(), project.as_str(), "runbooks");
        first.query = paging_query(self.inner.page_size);
        self.paged(first).await
    }

    async fn tenant_variables(&self, tenant: &TenantId) -> Result<TenantVariables> {
        let space = self.space_id().await?;
        self.fetch(&request::tenant_variables(
            space.as_ref(),
            tenant.as_str(),
            TenantVariablesShape::Whole,
        ))
        .await
    }

    async fn tenant_common_variables(&self, tenant: &TenantId) -> Result<TenantScopedVariables> {
        let space = self.space_id().await?;
        self.fetch(&request::tenant_variables(
            space.as_ref(),
            tenant.as_str(),
            TenantVariablesShape::Common,
        ))
        .await
    }

    async fn tenant_project_variables(&self, tenant: &TenantId) -> Result<TenantScopedVariables> {
        let space = self.space_id().await?;
        self.fetch(&request::tenant_variables(
            space.as_ref(),
            tenant.as_str(),
            TenantVariablesShape::Project,
        ))
        .await
    }

    async fn team_scoped_user_roles(&self, team: &TeamId) -> Result<Vec<ScopedUserRole>> {
        let space = self.space_id().await?;
        let mut first = request::team_scoped_user_roles(space.as_ref(), team.as_str());
        first.query = paging_query(self.inner.page_size);
        match self.paged(first).await {
            Err(Error::NotFound { .. }) => {
                // Servers without the team route: the space's roles, filtered.
                let all: Vec<ScopedUserRole> = self.list_scoped_user_roles().await?;
                Ok(all
                    .into_iter()
                    .filter(|role| role.team_id.get() == Some(team))
                    .collect())
            }
            other => other,
        }
    }

    async fn audit_events_from(&self, from_auto_id: u64) -> Result<Option<Vec<Value>>> {
        self.events_from(from_auto_id).await.map(Some)
    }

    async fn audit_log_position(&self) -> Result<Option<u64>> {
        Ok(Some(self.latest_event_auto_id().await?.unwrap_or(0)))
    }

    async fn environments_of_type(&self, environment_type: &str) -> Result<Vec<Value>> {
        let space = self.space_id().await?;
        self.read_pages(request::environments_v2(
            space.as_ref(),
            Some(environment_type),
            0,
            self.inner.page_size,
        ))
        .await
    }
}

fn paging_query(take: u64) -> Vec<(String, String)> {
    vec![
        ("skip".to_owned(), "0".to_owned()),
        ("take".to_owned(), take.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_split_to_keep_urls_short() {
        let ids: Vec<String> = (0..250)
            .map(|i| format!("deploymentprocess-Projects-{i}"))
            .collect();
        let chunks = id_chunks(&ids);
        let flat: Vec<&str> = chunks.iter().flatten().copied().collect();
        assert_eq!(flat, ids.iter().map(String::as_str).collect::<Vec<_>>());
        for chunk in &chunks {
            assert!(chunk.len() <= IDS_PER_REQUEST);
            assert!(chunk.iter().map(|id| id.len() + 1).sum::<usize>() <= MAX_IDS_CHARS);
        }
        assert!(id_chunks(&[]).is_empty());
        assert_eq!(id_chunks(&["a".to_owned()]), vec![vec!["a"]]);
    }
}
