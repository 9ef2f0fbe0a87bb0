//! The fake held to the routes the official clients use (`data/official-routes.json`):
//! at each version, every route the list gives that version is served (it answers
//! neither 404 nor 405), and every route it does not have yet answers 404, as a real
//! server of that version would.

mod common;

use common::{start_with, Api};
use octopus_fake::{FakeConfig, Seed};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct RouteList {
    routes: Vec<Route>,
}

#[derive(Deserialize)]
struct Route {
    method: String,
    template: String,
    since: String,
}

fn routes() -> Vec<Route> {
    let list: RouteList =
        serde_json::from_str(include_str!("data/official-routes.json")).expect("the list parses");
    list.routes
}

/// Whether a request (method, path under `/api`) matches a template of the list.
fn on_list(method: &str, path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    routes().iter().any(|r| {
        let template: Vec<&str> = r.template.trim_start_matches("/api/").split('/').collect();
        r.method == method
            && template.len() == segments.len()
            && template.iter().zip(&segments).all(|(t, s)| {
                (t.starts_with('{') && !s.eq_ignore_ascii_case("all")) || t.eq_ignore_ascii_case(s)
            })
    })
}

/// `major.minor` as a pair, for comparing with a version.
fn minor(version: &str) -> (u32, u32) {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// The first item of a collection the fake lists (`…/all`, or the first page).
async fn first_item(api: &Api, collection_path: &str) -> Value {
    let all = api.get(&format!("{collection_path}/all")).await;
    let items = if all.status == 200 && all.body.is_array() {
        all.body
    } else {
        // A collection the version does not serve yet lists nothing; deployment freezes
        // list in their own envelope.
        let page = api.get(collection_path).await.body;
        page.get("Items")
            .or_else(|| page.get("DeploymentFreezes"))
            .cloned()
            .unwrap_or(Value::Null)
    };
    items[0].clone()
}

/// The template with every placeholder replaced by an id the seeded space has.
async fn expand(api: &Api, template: &str) -> String {
    let template = template.trim_start_matches("/api/");
    let segments: Vec<&str> = template.split('/').collect();
    let mut out: Vec<String> = Vec::new();
    let mut project_of_process = None;
    for segment in &segments {
        let value = match *segment {
            "{spaceId}" => "Spaces-1".to_owned(),
            "{projectId}" => {
                // Only a runbook process is addressed under its project.
                let process = first_item(api, "Spaces-1/runbookProcesses").await;
                project_of_process = Some(process["Id"].as_str().unwrap().to_owned());
                process["ProjectId"].as_str().unwrap().to_owned()
            }
            "{id}" => match &project_of_process {
                Some(id) => id.clone(),
                None => {
                    let collection = out.join("/");
                    // An empty collection (certificates): an id of nothing, which the
                    // route answers "not found" for, unlike a route that is not there.
                    first_item(api, &collection).await["Id"]
                        .as_str()
                        .unwrap_or("Nothing-1")
                        .to_owned()
                }
            },
            literal => literal.to_owned(),
        };
        out.push(value);
    }
    out.join("/")
}

/// Whether an answer says the server has no such route (a 404 that names no document).
fn no_route(answer: &common::Answer) -> bool {
    answer.status == 404
        && answer.body["ErrorMessage"]
            .as_str()
            .is_some_and(|m| m.starts_with("The resource you requested was not found"))
}

/// The status, and whether it said there is no such route.
async fn call(api: &Api, method: &str, path: &str) -> (u16, bool) {
    let answer = match method {
        "GET" => api.get(path).await,
        "DELETE" => api.delete(path).await,
        "PUT" | "POST" => {
            // Send back what the route reads, where it reads; a refused body still shows
            // the route is there.
            let read = api.get(path).await;
            let body = if read.status == 200 {
                read.body
            } else {
                json!({})
            };
            if method == "PUT" {
                api.put(path, body).await
            } else {
                api.post(path, body).await
            }
        }
        other => panic!("unexpected method {other}"),
    };
    (answer.status, no_route(&answer))
}

async fn check(version: &str) {
    let config = FakeConfig::seeded(Seed::DevTest).with_version(version.parse().unwrap());
    let (_server, api) = start_with(config).await;
    let now = minor(version);
    let mut routes = routes();
    // Deletes last, so every other route still finds its documents.
    routes.sort_by_key(|r| r.method == "DELETE");
    let mut wrong = Vec::new();
    for route in &routes {
        let path = expand(&api, &route.template).await;
        let (status, missing) = call(&api, &route.method, &path).await;
        let has_it = minor(&route.since) <= now;
        let ok = if has_it {
            !missing && status != 405
        } else {
            missing
        };
        if !ok {
            wrong.push(format!(
                "{} {} (since {}): {status}",
                route.method, route.template, route.since
            ));
        }
    }
    assert!(wrong.is_empty(), "at {version}:\n{}", wrong.join("\n"));
}

#[tokio::test]
async fn every_official_route_is_served_at_2020_6() {
    check("2020.6.4000").await;
}

#[tokio::test]
async fn every_official_route_is_served_at_2022_1() {
    check("2022.1.2000").await;
}

#[tokio::test]
async fn every_official_route_is_served_at_2024_2() {
    check("2024.2.9303").await;
}

#[tokio::test]
async fn every_official_route_is_served_at_2025_1() {
    check("2025.1.7559").await;
}

#[tokio::test]
async fn every_official_route_is_served_at_2025_2() {
    check("2025.2.11370").await;
}

#[tokio::test]
async fn every_official_route_is_served_at_2025_4() {
    check("2025.4.3897").await;
}

#[tokio::test]
async fn every_official_route_is_served_at_2026_1() {
    check("2026.1.1000").await;
}

#[tokio::test]
async fn routes_no_client_uses_answer_404() {
    let config = FakeConfig::seeded(Seed::DevTest);
    let (_server, api) = start_with(config).await;
    let tenant = first_item(&api, "Spaces-1/tenants").await["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let community = first_item(&api, "communityactiontemplates").await["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (method, path) in [
        ("GET", format!("Spaces-1/tenantvariables/{tenant}")),
        ("PUT", format!("Spaces-1/tenantvariables/{tenant}")),
        ("GET", "Spaces-1/tenantvariables".to_owned()),
        (
            "POST",
            format!("Spaces-1/communityactiontemplates/{community}/installation"),
        ),
    ] {
        assert!(!on_list(method, &path), "{method} {path} is on the list");
        assert_eq!(
            call(&api, method, &path).await,
            (404, true),
            "{method} {path} is served"
        );
    }
}
