//! Reads over real HTTP: complete paging, `/all`, space resolution, path prefixes, bulk
//! reads and the concurrency limit.

mod support;

use std::time::Duration;

use octopus_client::{OctopusHttpClient, OctopusRead};
use octopus_model::{DeploymentProcessId, ResourceKind};
use serde_json::{json, Value};
use support::{page, Answer, TestServer, KEY};

fn projects(n: usize) -> Vec<Value> {
    (1..=n)
        .map(|i| json!({"Id": format!("Projects-{i}"), "Name": format!("Project {i}")}))
        .collect()
}

fn spaces_answer() -> Answer {
    Answer::json(
        200,
        json!([
            {"Id": "Spaces-1", "Name": "Default", "IsDefault": true},
            {"Id": "Spaces-2", "Name": "Team Blue"}
        ]),
    )
}

#[tokio::test]
async fn a_collection_without_all_is_paged_to_the_last_item_when_the_server_clamps_take() {
    let items = projects(1234);
    let server = TestServer::start(move |seen, _| {
        let path = seen.path_and_query.as_str();
        if path == "/api/spaces/all" {
            spaces_answer()
        } else if path.starts_with("/api/Spaces-2/projects/all") {
            Answer::json(404, json!({"ErrorMessage": "no route"}))
        } else if path.starts_with("/api/Spaces-2/projects?") {
            page(&items, path, 30, "/api/Spaces-2/projects")
        } else {
            Answer::json(500, json!({"ErrorMessage": format!("unexpected {path}")}))
        }
    })
    .await;
    let client = OctopusHttpClient::builder(&server.url, KEY)
        .space_name("team blue")
        .build()
        .unwrap();
    let all = client.list_projects().await.unwrap();
    assert_eq!(all.len(), 1234);
    assert_eq!(all[30].name, "Project 31");
    assert_eq!(all[1233].name, "Project 1234");
    let ids: std::collections::HashSet<_> = all.iter().map(|p| p.id.get().cloned()).collect();
    assert_eq!(ids.len(), 1234);

    // A second list goes straight to paging, and the space is resolved once.
    let again = client.list_raw(ResourceKind::Project).await.unwrap();
    assert_eq!(again.len(), 1234);
    let seen = server.seen();
    let count = |prefix: &str| {
        seen.iter()
            .filter(|s| s.path_and_query.starts_with(prefix))
            .count()
    };
    assert_eq!(count("/api/spaces/all"), 1);
    assert_eq!(count("/api/Spaces-2/projects/all"), 1);
    // 1234 items at 30 a page is 42 pages, read twice.
    assert_eq!(count("/api/Spaces-2/projects?"), 84);
    assert_eq!(client.stats().get as usize, seen.len());
}

#[tokio::test]
async fn all_is_used_where_the_server_has_it() {
    let items = projects(1500);
    let server = TestServer::start(move |seen, _| match seen.path_and_query.as_str() {
        "/api/Spaces-1/projects/all" => Answer::json(200, Value::Array(items.clone())),
        other => Answer::json(500, json!({"ErrorMessage": format!("unexpected {other}")})),
    })
    .await;
    let client = OctopusHttpClient::builder(&server.url, KEY)
        .space_id("Spaces-1")
        .build()
        .unwrap();
    assert_eq!(client.list_projects().await.unwrap().len(), 1500);
    assert_eq!(client.stats().get, 1);
}

#[tokio::test]
async fn a_server_behind_a_path_prefix() {
    let items = projects(75);
    let server = TestServer::start(move |seen, _| {
        let path = seen.path_and_query.as_str();
        if path == "/octopus/api" {
            Answer::json(200, json!({"Version": "2023.4.100", "Links": {"Spaces": "/octopus/api/spaces{/id}{?skip}"}}))
        } else if path.starts_with("/octopus/api/userroles?") {
            page(&items, path, 30, "/octopus/api/userroles")
        } else {
            Answer::json(404, json!({"ErrorMessage": format!("unexpected {path}")}))
        }
    })
    .await;
    let client = OctopusHttpClient::builder(format!("{}/octopus/", server.url), KEY)
        .build()
        .unwrap();
    assert_eq!(client.version().await.unwrap().to_string(), "2023.4.100");
    assert!(client.root().await.unwrap().has_spaces());
    // User roles have no /all route: paged, with links that carry the prefix.
    assert_eq!(
        client.list_raw(ResourceKind::UserRole).await.unwrap().len(),
        75
    );
    assert!(server
        .seen()
        .iter()
        .all(|s| s.path_and_query.starts_with("/octopus/api")));
}

#[tokio::test]
async fn bulk_reads_by_id_are_split_into_short_urls_and_keep_every_item() {
    let server = TestServer::start(|seen, _| {
        let query = seen.path_and_query.split_once("ids=").unwrap().1;
        let ids = query.split('&').next().unwrap();
        let ids = ids.replace("%2C", ",");
        let items: Vec<Value> = ids
            .split(',')
            .map(|id| json!({"Id": id, "ProjectId": id.trim_start_matches("deploymentprocess-"), "Version": 1, "Steps": []}))
            .collect();
        page(&items, "?skip=0&take=1000", 1000, "/api/deploymentprocesses")
    })
    .await;
    let client = support::client(&server.url, 0);
    let ids: Vec<DeploymentProcessId> = (1..=230)
        .map(|i| DeploymentProcessId::new(format!("deploymentprocess-Projects-{i}")))
        .collect();
    let processes = client.deployment_processes(&ids).await.unwrap();
    assert_eq!(processes.len(), 230);
    assert_eq!(processes[229].id.get(), Some(&ids[229]));
    let seen = server.seen();
    assert!(seen.len() >= 3, "{} requests", seen.len());
    assert!(seen.iter().all(|s| s.path_and_query.len() < 2048));
}

#[tokio::test]
async fn no_more_requests_are_in_flight_than_the_limit() {
    let server = TestServer::start(|_, _| {
        Answer::json(200, json!({"Id": "Environments-1", "Name": "Dev"}))
            .after(Duration::from_millis(20))
    })
    .await;
    let client = OctopusHttpClient::builder(&server.url, KEY)
        .max_concurrency(3)
        .build()
        .unwrap();
    let reads = (0..12).map(|_| client.get_raw(ResourceKind::Environment, "Environments-1"));
    let answers = futures::future::try_join_all(reads).await.unwrap();
    assert_eq!(answers.len(), 12);
    assert!(server.max_in_flight() <= 3, "{}", server.max_in_flight());
    assert_eq!(client.stats().get, 12);
}

#[tokio::test]
async fn an_unknown_space_name_is_an_error() {
    let server = TestServer::start(|_, _| spaces_answer()).await;
    let client = OctopusHttpClient::builder(&server.url, KEY)
        .space_name("Nope")
        .build()
        .unwrap();
    let err = client.list_raw(ResourceKind::Project).await.unwrap_err();
    assert!(
        matches!(err, octopus_client::Error::SpaceNotFound(ref n) if n == "Nope"),
        "{err:?}"
    );
}
