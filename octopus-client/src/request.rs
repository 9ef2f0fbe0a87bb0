//! Requests as data: every call the client makes is first built here, as a method, a
//! path under `/api`, a query and a body, by pure functions that tests check without a
//! server. The HTTP layer only executes them.

use std::fmt;

use octopus_model::{ResourceKind, ResourceScope, SpaceId};
use serde_json::Value;
use url::Url;

use crate::error::{Error, Result};

/// An HTTP method the client uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// Read.
    Get,
    /// Create, or a command.
    Post,
    /// Update.
    Put,
    /// Delete.
    Delete,
}

impl Method {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One API call, before it is sent.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiRequest {
    /// The method.
    pub method: Method,
    /// Path segments under `/api` (`["Spaces-1", "projects", "all"]`); empty for the root
    /// document.
    pub segments: Vec<String>,
    /// Query parameters, in order.
    pub query: Vec<(String, String)>,
    /// The JSON body, for POST and PUT.
    pub body: Option<Value>,
    /// Whether sending it twice has the same effect as sending it once, which makes it
    /// safe to retry after a lost answer. GET, PUT and DELETE are; a POST that creates is
    /// not; a POST that writes a whole document (tenant variables) is.
    pub idempotent: bool,
}

impl ApiRequest {
    fn new(method: Method, segments: Vec<String>) -> Self {
        Self {
            method,
            segments,
            query: Vec::new(),
            body: None,
            idempotent: method != Method::Post,
        }
    }

    fn get(segments: Vec<String>) -> Self {
        Self::new(Method::Get, segments)
    }

    fn with_query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_owned(), value.into()));
        self
    }

    fn with_body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// The path as a person reads it: `/api/Spaces-1/projects/all`.
    pub fn path(&self) -> String {
        let mut path = String::from("/api");
        for segment in &self.segments {
            path.push('/');
            path.push_str(segment);
        }
        path
    }

    /// The full URL under `base`.
    pub fn url(&self, base: &ApiBase) -> Url {
        let mut url = base.api_root.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty();
            segments.extend(self.segments.iter().map(String::as_str));
        }
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(self.query.iter());
        }
        url
    }
}

/// The server's API root: `https://host/api` or, behind a reverse proxy with a path
/// prefix, `https://host/octopus/api`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiBase {
    api_root: Url,
}

impl ApiBase {
    /// Parses the server URL the user gives (`https://host`, `https://host/octopus/`, or
    /// either ending in `/api`). http is refused unless the host is a loopback address or
    /// `allow_http` is set.
    pub fn parse(server_url: &str, allow_http: bool) -> Result<Self> {
        let mut url = Url::parse(server_url.trim())
            .map_err(|e| Error::Config(format!("invalid server URL `{server_url}`: {e}")))?;
        match url.scheme() {
            "https" => {}
            "http" if allow_http || is_loopback(&url) => {}
            "http" => {
                return Err(Error::Config(format!(
                    "refusing plain http to `{}`: the API key would travel unencrypted; use https or allow http explicitly",
                    url.host_str().unwrap_or_default()
                )))
            }
            other => return Err(Error::Config(format!("unsupported URL scheme `{other}`"))),
        }
        if url.cannot_be_a_base() {
            return Err(Error::Config(format!("invalid server URL `{server_url}`")));
        }
        url.set_query(None);
        url.set_fragment(None);
        let mut segments: Vec<String> = url
            .path_segments()
            .map(|s| s.filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        if segments
            .last()
            .is_some_and(|s| s.eq_ignore_ascii_case("api"))
        {
            segments.pop();
        }
        segments.push("api".to_owned());
        url.set_path(&format!("/{}", segments.join("/")));
        Ok(Self { api_root: url })
    }

    /// The API root URL.
    pub fn api_root(&self) -> &Url {
        &self.api_root
    }

    /// The path prefix before `/api` (`/octopus`), empty when there is none.
    pub fn prefix(&self) -> &str {
        self.api_root
            .path()
            .strip_suffix("/api")
            .unwrap_or_default()
    }

    /// Turns a link the server sent (`/api/Spaces-1/projects?skip=30&take=30`,
    /// `/octopus/api/…` or an absolute URL) into a request.
    pub fn request_for_link(&self, link: &str) -> Result<ApiRequest> {
        // Links may be URI templates (`…/projects{?skip,take}`); a concrete link has none.
        let link = link.split('{').next().unwrap_or(link);
        let parsed = self
            .api_root
            .join(link)
            .map_err(|e| Error::Config(format!("invalid link `{link}`: {e}")))?;
        let path = parsed.path();
        let rest = path
            .strip_prefix(self.api_root.path())
            .or_else(|| {
                // A server unaware of the proxy's prefix sends `/api/…`.
                path.strip_prefix("/api")
            })
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
            .ok_or_else(|| Error::Config(format!("link `{link}` is outside the API")))?;
        let segments = rest
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        let mut request = ApiRequest::get(segments);
        request.query = parsed.query_pairs().into_owned().collect();
        Ok(request)
    }
}

fn percent_decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The first segments of a path to a collection of `kind`: the space for space-scoped
/// kinds (when there is one; servers before spaces have none), then the collection.
fn collection_segments(space: Option<&SpaceId>, kind: ResourceKind) -> Vec<String> {
    let mut segments = Vec::with_capacity(4);
    if let (ResourceScope::Space, Some(space)) = (kind.scope(), space) {
        if kind == ResourceKind::ParentEnvironment {
            // go-octopusdeploy `pkg/environments/v2/parentenvironments/
            // parent_environment_service.go`: `/api/spaces/{spaceId}/parentEnvironments{/id}`.
            segments.push("spaces".to_owned());
        }
        segments.push(space.as_str().to_owned());
    }
    segments.push(kind.collection().to_owned());
    segments
}

fn owner_segments(
    space: Option<&SpaceId>,
    owner: ResourceKind,
    id: &str,
    child: &str,
) -> Vec<String> {
    let mut segments = collection_segments(space, owner);
    segments.push(id.to_owned());
    segments.push(child.to_owned());
    segments
}

/// An operation on the documents of a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// `GET …/all`.
    ListAll,
    /// `GET …?skip=&take=` (and `?ids=`, `?partialName=`).
    ListPage,
    /// `GET …/{id}`.
    Get,
    /// `POST …`.
    Create,
    /// `PUT …/{id}` (a tenant's variables: `POST /tenants/{id}/variables`).
    Update,
    /// `DELETE …/{id}`.
    Delete,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Operation; 6] = [
        Operation::ListAll,
        Operation::ListPage,
        Operation::Get,
        Operation::Create,
        Operation::Update,
        Operation::Delete,
    ];
}

/// Whether the Octopus API has a route for `operation` on `kind`, as the official
/// clients use it (the route list in `octopus-fake/tests/data/official-routes.json`,
/// which a test holds this table to). Documents a server derives from their owner
/// (processes, variable sets, a tenant's variables) are never created or deleted on
/// their own; runbook processes, runbook snapshots, scoped user roles and the community
/// library have no `/all`; users, spaces and the community library are not written by a sync.
pub fn has_route(kind: ResourceKind, operation: Operation) -> bool {
    use ResourceKind as K;
    let derived = matches!(
        kind,
        K::DeploymentProcess | K::RunbookProcess | K::VariableSet | K::TenantVariables
    );
    let not_written = matches!(kind, K::CommunityActionTemplate | K::Space | K::User);
    match operation {
        Operation::ListAll => !matches!(
            kind,
            K::DeploymentProcess
                | K::RunbookProcess
                | K::ScopedUserRole
                | K::CommunityActionTemplate
                | K::RunbookSnapshot
                | K::ParentEnvironment
                | K::DeploymentFreeze
        ),
        // Parent environments are listed through `environments/v2?type=Parent`
        // ([`environments_v2`]); the clients have no list under their own route.
        Operation::ListPage => !matches!(kind, K::TenantVariables | K::ParentEnvironment),
        Operation::Get => true,
        Operation::Create | Operation::Delete => !derived && !not_written,
        Operation::Update => !not_written,
    }
}

/// `GET /api`: the root document.
pub fn root() -> ApiRequest {
    ApiRequest::get(Vec::new())
}

/// `GET /api/{space}/{collection}/all`: every item, as a bare array.
pub fn list_all(space: Option<&SpaceId>, kind: ResourceKind) -> ApiRequest {
    let mut segments = collection_segments(space, kind);
    segments.push("all".to_owned());
    ApiRequest::get(segments)
}

/// `GET /api/{space}/{collection}?skip=&take=`: one page.
pub fn list_page(space: Option<&SpaceId>, kind: ResourceKind, skip: u64, take: u64) -> ApiRequest {
    ApiRequest::get(collection_segments(space, kind))
        .with_query("skip", skip.to_string())
        .with_query("take", take.to_string())
}

/// `GET /api/{space}/environments/v2?type=&skip=&take=`: one page of the 2025.4
/// environments list, filtered by type (go-octopusdeploy `pkg/environments/v2/route.go`:
/// `/api/{spaceId}/environments/v2{/id}{?name,skip,ids,take,partialName,type}`). The Go
/// client shows the types `Static` and `Ephemeral`; it has no list route for parent
/// environments, which octosync reads here with `type=Parent`, the value this crate
/// infers for them (not shown by the clients).
pub fn environments_v2(
    space: Option<&SpaceId>,
    environment_type: Option<&str>,
    skip: u64,
    take: u64,
) -> ApiRequest {
    let mut segments = collection_segments(space, ResourceKind::Environment);
    segments.push("v2".to_owned());
    let mut request = ApiRequest::get(segments);
    if let Some(t) = environment_type {
        request = request.with_query("type", t);
    }
    request
        .with_query("skip", skip.to_string())
        .with_query("take", take.to_string())
}

/// `GET /api/deploymentfreezes?includeComplete=true&skip=&take=`: one page of the
/// instance's deployment freezes, finished ones included (a sync matches every freeze
/// by name). The answer is `{"DeploymentFreezes": [...], "Count": n}`
/// (go-octopusdeploy `pkg/deploymentfreezes/deploymentfreezes_service.go`).
pub fn deployment_freezes(skip: u64, take: u64) -> ApiRequest {
    ApiRequest::get(collection_segments(None, ResourceKind::DeploymentFreeze))
        .with_query("includeComplete", "true")
        .with_query("skip", skip.to_string())
        .with_query("take", take.to_string())
}

/// `GET /api/{space}/{collection}?partialName=`: the first page of items whose name
/// contains `name`.
pub fn find_by_partial_name(
    space: Option<&SpaceId>,
    kind: ResourceKind,
    name: &str,
    take: u64,
) -> ApiRequest {
    ApiRequest::get(collection_segments(space, kind))
        .with_query("partialName", name)
        .with_query("take", take.to_string())
}

/// `GET /api/{space}/{collection}?ids=a,b&take=n`: the items with these ids.
pub fn list_by_ids(space: Option<&SpaceId>, kind: ResourceKind, ids: &[&str]) -> ApiRequest {
    ApiRequest::get(collection_segments(space, kind))
        .with_query("ids", ids.join(","))
        .with_query("take", ids.len().to_string())
}

/// `GET /api/{space}/{collection}/{id}`. A tenant's variables are read at
/// `/tenants/{id}/variables` (given the tenant's id): the API has no
/// `/tenantvariables/{id}`.
pub fn get(space: Option<&SpaceId>, kind: ResourceKind, id: &str) -> ApiRequest {
    if kind == ResourceKind::TenantVariables {
        return tenant_variables(space, id, TenantVariablesShape::Whole);
    }
    let mut segments = collection_segments(space, kind);
    segments.push(id.to_owned());
    ApiRequest::get(segments)
}

/// `GET /api/events?spaces={space}&fromAutoId={n}&take={take}`: one page of the audit
/// log of `space` (every space and the system when `None`) from the event with
/// `AutoId` `from_auto_id` on, newest first. The system-level route with `spaces=` is
/// the one the root document links (`Events`, go-octopusdeploy
/// `pkg/constants/constants_api_replies.go`; parameters as in
/// `pkg/events/events_query.go`).
pub fn events(space: Option<&SpaceId>, from_auto_id: u64, take: u64) -> ApiRequest {
    let mut request = ApiRequest::get(vec!["events".to_owned()]);
    if let Some(space) = space {
        // With the instance-wide events: deployment freezes, users and user roles are
        // not documents of any space.
        request = request
            .with_query("spaces", space.to_string())
            .with_query("includeSystem", "true");
    }
    request
        .with_query("fromAutoId", from_auto_id.to_string())
        .with_query("skip", "0")
        .with_query("take", take.to_string())
}

/// `POST /api/{space}/{collection}`: create.
pub fn create(space: Option<&SpaceId>, kind: ResourceKind, body: Value) -> ApiRequest {
    ApiRequest::new(Method::Post, collection_segments(space, kind)).with_body(body)
}

/// `PUT /api/{space}/{collection}/{id}`: update, with the whole document. A tenant's
/// variables are saved with `POST /tenants/{id}/variables`, as the official clients do.
pub fn update(space: Option<&SpaceId>, kind: ResourceKind, id: &str, body: Value) -> ApiRequest {
    if kind == ResourceKind::TenantVariables {
        return set_tenant_variables(space, id, TenantVariablesShape::Whole, body);
    }
    let mut request = get(space, kind, id).with_body(body);
    request.method = Method::Put;
    request
}

/// `DELETE /api/{space}/{collection}/{id}`.
pub fn delete(space: Option<&SpaceId>, kind: ResourceKind, id: &str) -> ApiRequest {
    let mut request = get(space, kind, id);
    request.method = Method::Delete;
    request
}

/// `GET /api/{space}/projects/{id}/{child}`: a project's `deploymentprocesses`,
/// `variables`, `channels` or `runbooks`.
pub fn project_child(space: Option<&SpaceId>, project: &str, child: &str) -> ApiRequest {
    ApiRequest::get(owner_segments(space, ResourceKind::Project, project, child))
}

/// `GET /api/{space}/teams/{id}/scopeduserroles`.
pub fn team_scoped_user_roles(space: Option<&SpaceId>, team: &str) -> ApiRequest {
    ApiRequest::get(owner_segments(
        space,
        ResourceKind::Team,
        team,
        "scopeduserroles",
    ))
}

/// Which of a tenant's variable documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TenantVariablesShape {
    /// `/tenants/{id}/variables`: every value, keyed by project, environment and template.
    Whole,
    /// `/tenants/{id}/commonvariables` (2025.1+): library variable set values.
    Common,
    /// `/tenants/{id}/projectvariables` (2025.1+): project template values.
    Project,
}

impl TenantVariablesShape {
    fn segment(self) -> &'static str {
        match self {
            TenantVariablesShape::Whole => "variables",
            TenantVariablesShape::Common => "commonvariables",
            TenantVariablesShape::Project => "projectvariables",
        }
    }
}

/// `GET` a tenant's variables in one of its shapes. The 2025 shapes ask for templates
/// without a value too, so a sync sees every template.
pub fn tenant_variables(
    space: Option<&SpaceId>,
    tenant: &str,
    shape: TenantVariablesShape,
) -> ApiRequest {
    let request = ApiRequest::get(owner_segments(
        space,
        ResourceKind::Tenant,
        tenant,
        shape.segment(),
    ));
    match shape {
        TenantVariablesShape::Whole => request,
        _ => request.with_query("includeMissingVariables", "true"),
    }
}

/// Writes a tenant's variables whole: `POST …/variables` (what every server version
/// accepts) or `PUT …/commonvariables` / `…/projectvariables`. The body is the complete
/// document, so sending it twice is harmless.
pub fn set_tenant_variables(
    space: Option<&SpaceId>,
    tenant: &str,
    shape: TenantVariablesShape,
    body: Value,
) -> ApiRequest {
    let mut request = ApiRequest::new(
        match shape {
            TenantVariablesShape::Whole => Method::Post,
            _ => Method::Put,
        },
        owner_segments(space, ResourceKind::Tenant, tenant, shape.segment()),
    )
    .with_body(body);
    request.idempotent = true;
    request
}

/// `POST /api/communityactiontemplates/{id}/installation/{spaceId}`: installs a community
/// step template into the space. The route is system-level (swagger 2020.5); without a
/// space id it installs into the default space.
pub fn install_community_step_template(space: Option<&SpaceId>, template: &str) -> ApiRequest {
    let mut segments = vec![
        ResourceKind::CommunityActionTemplate
            .collection()
            .to_owned(),
        template.to_owned(),
        "installation".to_owned(),
    ];
    if let Some(space) = space {
        segments.push(space.as_str().to_owned());
    }
    ApiRequest::new(Method::Post, segments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base(url: &str) -> ApiBase {
        ApiBase::parse(url, false).unwrap()
    }

    fn space() -> SpaceId {
        SpaceId::new("Spaces-1")
    }

    #[test]
    fn tenant_variables_by_id_use_the_tenant_route() {
        let s = space();
        let g = get(Some(&s), ResourceKind::TenantVariables, "Tenants-7");
        assert_eq!(
            (g.method, g.path().as_str()),
            (Method::Get, "/api/Spaces-1/tenants/Tenants-7/variables")
        );
        let u = update(
            Some(&s),
            ResourceKind::TenantVariables,
            "Tenants-7",
            json!({}),
        );
        assert_eq!(
            (u.method, u.path().as_str(), u.idempotent),
            (
                Method::Post,
                "/api/Spaces-1/tenants/Tenants-7/variables",
                true
            )
        );
        assert_eq!(
            list_all(Some(&s), ResourceKind::TenantVariables).path(),
            "/api/Spaces-1/tenantvariables/all"
        );
    }

    #[test]
    fn base_urls_with_and_without_prefix() {
        for (given, root) in [
            ("https://octo.example.com", "https://octo.example.com/api"),
            ("https://octo.example.com/", "https://octo.example.com/api"),
            (
                "https://octo.example.com/api/",
                "https://octo.example.com/api",
            ),
            (
                "https://example.com/octopus/",
                "https://example.com/octopus/api",
            ),
            (
                "https://example.com/octopus/api",
                "https://example.com/octopus/api",
            ),
            ("http://127.0.0.1:8065", "http://127.0.0.1:8065/api"),
            ("http://localhost:80/x", "http://localhost/x/api"),
        ] {
            assert_eq!(base(given).api_root().as_str(), root, "{given}");
        }
        assert_eq!(base("https://example.com/octopus/").prefix(), "/octopus");
        assert_eq!(base("https://example.com").prefix(), "");
    }

    #[test]
    fn plain_http_to_a_remote_host_is_refused_unless_allowed() {
        assert!(matches!(
            ApiBase::parse("http://octo.example.com", false),
            Err(Error::Config(_))
        ));
        assert!(ApiBase::parse("http://octo.example.com", true).is_ok());
        assert!(ApiBase::parse("http://[::1]:81", false).is_ok());
        assert!(ApiBase::parse("ftp://octo.example.com", true).is_err());
        assert!(ApiBase::parse("not a url", true).is_err());
    }

    #[test]
    fn collection_requests_are_space_scoped_by_kind() {
        let b = base("https://example.com/octopus");
        let s = space();
        assert_eq!(
            list_all(Some(&s), ResourceKind::Project).url(&b).as_str(),
            "https://example.com/octopus/api/Spaces-1/projects/all"
        );
        assert_eq!(
            list_all(Some(&s), ResourceKind::UserRole).url(&b).as_str(),
            "https://example.com/octopus/api/userroles/all"
        );
        assert_eq!(
            list_all(None, ResourceKind::Environment).path(),
            "/api/environments/all"
        );
        assert_eq!(
            list_page(Some(&s), ResourceKind::Tenant, 30, 30)
                .url(&b)
                .as_str(),
            "https://example.com/octopus/api/Spaces-1/tenants?skip=30&take=30"
        );
        let by_ids = list_by_ids(
            Some(&s),
            ResourceKind::DeploymentProcess,
            &[
                "deploymentprocess-Projects-1",
                "deploymentprocess-Projects-2",
            ],
        );
        assert_eq!(
            by_ids.url(&b).as_str(),
            "https://example.com/octopus/api/Spaces-1/deploymentprocesses?ids=deploymentprocess-Projects-1%2Cdeploymentprocess-Projects-2&take=2"
        );
        assert_eq!(
            find_by_partial_name(None, ResourceKind::Space, "Default Space", 100)
                .url(&b)
                .as_str(),
            "https://example.com/octopus/api/spaces?partialName=Default+Space&take=100"
        );
        assert_eq!(root().url(&b).as_str(), "https://example.com/octopus/api");
    }

    #[test]
    fn ids_are_escaped_as_one_path_segment() {
        let r = get(Some(&space()), ResourceKind::Project, "a/b c");
        assert_eq!(
            r.url(&base("https://h")).as_str(),
            "https://h/api/Spaces-1/projects/a%2Fb%20c"
        );
    }

    #[test]
    fn writes_carry_bodies_and_idempotence() {
        let s = space();
        let c = create(Some(&s), ResourceKind::Environment, json!({"Name": "Dev"}));
        assert_eq!(
            (c.method, c.path().as_str()),
            (Method::Post, "/api/Spaces-1/environments")
        );
        assert_eq!(c.body, Some(json!({"Name": "Dev"})));
        assert!(!c.idempotent);
        let u = update(
            Some(&s),
            ResourceKind::VariableSet,
            "variableset-Projects-1",
            json!({}),
        );
        assert_eq!(
            (u.method, u.path().as_str()),
            (
                Method::Put,
                "/api/Spaces-1/variables/variableset-Projects-1"
            )
        );
        assert!(u.idempotent);
        let d = delete(Some(&s), ResourceKind::Feed, "Feeds-2");
        assert_eq!(
            (d.method, d.path().as_str()),
            (Method::Delete, "/api/Spaces-1/feeds/Feeds-2")
        );
        assert!(d.body.is_none());
        let t = set_tenant_variables(
            Some(&s),
            "Tenants-1",
            TenantVariablesShape::Whole,
            json!({}),
        );
        assert_eq!(
            (t.method, t.path().as_str(), t.idempotent),
            (
                Method::Post,
                "/api/Spaces-1/tenants/Tenants-1/variables",
                true
            )
        );
        let t = set_tenant_variables(
            Some(&s),
            "Tenants-1",
            TenantVariablesShape::Common,
            json!({}),
        );
        assert_eq!(
            (t.method, t.path().as_str()),
            (
                Method::Put,
                "/api/Spaces-1/tenants/Tenants-1/commonvariables"
            )
        );
        let i = install_community_step_template(Some(&s), "CommunityActionTemplates-7");
        assert_eq!(
            (i.method, i.path().as_str(), i.idempotent),
            (
                Method::Post,
                "/api/communityactiontemplates/CommunityActionTemplates-7/installation/Spaces-1",
                false
            )
        );
    }

    #[test]
    fn per_owner_reads() {
        let s = space();
        assert_eq!(
            project_child(Some(&s), "Projects-1", "deploymentprocesses").path(),
            "/api/Spaces-1/projects/Projects-1/deploymentprocesses"
        );
        assert_eq!(
            team_scoped_user_roles(Some(&s), "Teams-2").path(),
            "/api/Spaces-1/teams/Teams-2/scopeduserroles"
        );
        let t = tenant_variables(Some(&s), "Tenants-1", TenantVariablesShape::Project);
        assert_eq!(
            t.url(&base("https://h")).as_str(),
            "https://h/api/Spaces-1/tenants/Tenants-1/projectvariables?includeMissingVariables=true"
        );
    }

    #[test]
    fn links_resolve_with_or_without_the_prefix() {
        let b = base("https://example.com/octopus/");
        for link in [
            "/octopus/api/Spaces-1/projects?skip=30&take=30",
            "/api/Spaces-1/projects?skip=30&take=30",
            "https://example.com/octopus/api/Spaces-1/projects?skip=30&take=30",
        ] {
            let r = b.request_for_link(link).unwrap();
            assert_eq!(r.segments, ["Spaces-1", "projects"], "{link}");
            assert_eq!(
                r.url(&b).as_str(),
                "https://example.com/octopus/api/Spaces-1/projects?skip=30&take=30"
            );
        }
        let templated = b
            .request_for_link("/api/Spaces-1/projects{?skip,take}")
            .unwrap();
        assert!(templated.query.is_empty());
        assert!(b.request_for_link("/elsewhere/x").is_err());
        assert!(b.request_for_link("/apix/x").is_err());
    }
}
