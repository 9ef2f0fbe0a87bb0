//! Every request the client can build is one the official clients make: each builder,
//! for every kind and operation the client allows, against the route list in
//! `octopus-fake/tests/data/official-routes.json`. Operations the client refuses
//! (`request::has_route` false) are the ones the list has no route for.

use octopus_client::request::{self, ApiRequest, Operation, TenantVariablesShape};
use octopus_model::{ResourceKind, SpaceId};
use serde_json::{json, Value};

fn routes() -> Vec<(String, Vec<String>)> {
    let list: Value = serde_json::from_str(include_str!(
        "../../octopus-fake/tests/data/official-routes.json"
    ))
    .expect("the list parses");
    list["routes"]
        .as_array()
        .expect("routes")
        .iter()
        .map(|r| {
            let template = r["template"].as_str().unwrap_or_default();
            let segments = template
                .trim_start_matches("/api")
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            (
                r["method"].as_str().unwrap_or_default().to_owned(),
                segments,
            )
        })
        .collect()
}

/// Whether a template segment matches a path segment: a placeholder matches any id,
/// but `all` is a route of its own (a server reads `…/{id}` with id `all` as a document
/// that does not exist).
fn matches(template: &str, segment: &str) -> bool {
    if template.starts_with('{') {
        !segment.eq_ignore_ascii_case("all")
    } else {
        template.eq_ignore_ascii_case(segment)
    }
}

fn on_list(request: &ApiRequest) -> bool {
    routes().iter().any(|(method, template)| {
        method == request.method.as_str()
            && template.len() == request.segments.len()
            && template
                .iter()
                .zip(&request.segments)
                .all(|(t, s)| matches(t, s))
    })
}

fn build(space: Option<&SpaceId>, kind: ResourceKind, operation: Operation) -> ApiRequest {
    let id = "Things-1";
    match operation {
        Operation::ListAll => request::list_all(space, kind),
        Operation::ListPage => request::list_page(space, kind, 0, 30),
        Operation::Get => request::get(space, kind, id),
        Operation::Create => request::create(space, kind, json!({})),
        Operation::Update => request::update(space, kind, id, json!({})),
        Operation::Delete => request::delete(space, kind, id),
        other => panic!("no builder for {other:?}"),
    }
}

#[test]
fn every_operation_the_client_allows_is_on_the_list_and_no_other() {
    let space = SpaceId::new("Spaces-1");
    let mut wrong = Vec::new();
    for kind in ResourceKind::ALL {
        for operation in Operation::ALL {
            let built = build(Some(&space), *kind, operation);
            let allowed = request::has_route(*kind, operation);
            if allowed != on_list(&built) {
                wrong.push(format!(
                    "{kind:?} {operation:?} ({} {}): client allows it: {allowed}",
                    built.method,
                    built.path()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_special_request_is_on_the_list() {
    let space = SpaceId::new("Spaces-1");
    let s = Some(&space);
    let mut built = vec![
        request::root(),
        request::find_by_partial_name(s, ResourceKind::Project, "Octo", 30),
        request::list_by_ids(
            s,
            ResourceKind::DeploymentProcess,
            &["deploymentprocess-Projects-1"],
        ),
        request::list_by_ids(s, ResourceKind::VariableSet, &["variableset-Projects-1"]),
        request::team_scoped_user_roles(s, "Teams-1"),
        request::install_community_step_template(s, "CommunityActionTemplates-1"),
        request::install_community_step_template(None, "CommunityActionTemplates-1"),
        request::environments_v2(s, Some("Parent"), 0, 30),
        request::deployment_freezes(0, 30),
    ];
    for child in ["deploymentprocesses", "variables", "channels", "runbooks"] {
        built.push(request::project_child(s, "Projects-1", child));
    }
    for shape in [
        TenantVariablesShape::Whole,
        TenantVariablesShape::Common,
        TenantVariablesShape::Project,
    ] {
        built.push(request::tenant_variables(s, "Tenants-1", shape));
        built.push(request::set_tenant_variables(
            s,
            "Tenants-1",
            shape,
            json!({}),
        ));
    }
    let off: Vec<String> = built
        .iter()
        .filter(|r| !on_list(r))
        .map(|r| format!("{} {}", r.method, r.path()))
        .collect();
    assert!(off.is_empty(), "{off:?}");
}

#[test]
fn the_audit_log_is_read_through_a_listed_route() {
    let space = SpaceId::new("Spaces-1");
    let built = request::events(Some(&space), 7, 100);
    assert!(
        on_list(&built),
        "{} {}",
        built.method.as_str(),
        built.path()
    );
    assert_eq!(built.path(), "/api/events");
    let query: Vec<(&str, &str)> = built
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        query,
        [
            ("spaces", "Spaces-1"),
            // Instance-wide events too (go-octopusdeploy `pkg/events/events_query.go`
            // `IncludeSystem`): deployment freezes, users and user roles are in no space.
            ("includeSystem", "true"),
            ("fromAutoId", "7"),
            ("skip", "0"),
            ("take", "100")
        ]
    );
}
