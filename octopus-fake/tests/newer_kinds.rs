//! Parent environments (2025.4) and deployment freezes (2025.1, `OwnerId` 2025.2): served
//! only at the versions that have them, in the shapes the official clients read.

mod common;

use common::{start_with, Api};
use octopus_fake::{FakeConfig, FakeServer, Seed};
use serde_json::{json, Value};

async fn at(version: &str) -> (FakeServer, Api) {
    start_with(FakeConfig::seeded(Seed::DevTest).with_version(version.parse().unwrap())).await
}

fn says_no_route(answer: &common::Answer) -> bool {
    answer.status == 404
        && answer.body["ErrorMessage"]
            .as_str()
            .is_some_and(|m| m.starts_with("The resource you requested was not found"))
}

fn freeze(owner: Option<&str>) -> Value {
    let mut body = json!({"Name": "Holidays", "Start": "2026-12-20T00:00:00.000+00:00",
                          "End": "2027-01-04T00:00:00.000+00:00",
                          "ProjectEnvironmentScope": {"Projects-1": ["Environments-2"]}});
    if let Some(owner) = owner {
        body["OwnerId"] = json!(owner);
    }
    body
}

#[tokio::test]
async fn before_2025_4_parent_environments_answer_like_any_missing_route() {
    let (_server, api) = at("2025.2.11370").await;
    let post = api
        .post(
            "spaces/Spaces-1/parentEnvironments",
            json!({"Name": "Pull requests"}),
        )
        .await;
    assert!(says_no_route(&post), "{} {}", post.status, post.body);
    assert!(says_no_route(&api.get("Spaces-1/environments/v2").await));
}

#[tokio::test]
async fn from_2025_4_parent_environments_are_listed_by_type_beside_environments() {
    let (_server, api) = at("2025.4.3897").await;
    let parent = api
        .created(
            "spaces/Spaces-1/parentEnvironments",
            json!({"Name": "Pull requests", "SpaceId": "Spaces-1", "UseGuidedFailure": false}),
        )
        .await;
    let id = parent["Id"].as_str().unwrap();
    assert_eq!(
        api.ok(&format!("spaces/Spaces-1/parentEnvironments/{id}"))
            .await["Name"],
        "Pull requests"
    );
    let parents = api.ok("Spaces-1/environments/v2?type=Parent").await;
    assert_eq!(common::names(&parents["Items"]), ["Pull requests"]);
    let statics = api.ok("Spaces-1/environments/v2?type=Static").await;
    assert_eq!(common::names(&statics["Items"]), ["Development", "Test"]);
}

#[tokio::test]
async fn before_2025_1_there_are_no_deployment_freezes() {
    let (_server, api) = at("2024.4.1000").await;
    assert!(says_no_route(&api.get("deploymentfreezes").await));
    assert!(says_no_route(
        &api.post("deploymentfreezes", freeze(None)).await
    ));
}

#[tokio::test]
async fn freezes_list_in_their_own_envelope_and_owners_arrive_in_2025_2() {
    let (_server, api) = at("2025.1.7559").await;
    let created = api
        .created("deploymentfreezes", freeze(Some("Projects-1")))
        .await;
    assert!(
        created.get("OwnerId").is_none(),
        "2025.1 has no per-project freezes: {created}"
    );
    let list = api.ok("deploymentfreezes?includeComplete=true").await;
    assert_eq!(list["Count"], 1);
    assert_eq!(list["DeploymentFreezes"][0]["Name"], "Holidays");
    assert!(list.get("Items").is_none());

    let (_server, api) = at("2025.2.11370").await;
    let created = api
        .created("deploymentfreezes", freeze(Some("Projects-1")))
        .await;
    assert_eq!(created["OwnerId"], "Projects-1");
    let id = created["Id"].as_str().unwrap();
    assert_eq!(
        api.ok(&format!("deploymentfreezes/{id}")).await["ProjectEnvironmentScope"],
        json!({"Projects-1": ["Environments-2"]})
    );
}

#[tokio::test]
async fn ephemeral_environments_are_found_through_the_2025_4_list() {
    let (_server, api) = at("2025.4.3897").await;
    let parent = api
        .created(
            "spaces/Spaces-1/parentEnvironments",
            json!({"Name": "Pull requests", "SpaceId": "Spaces-1"}),
        )
        .await;
    let pr = api
        .created(
            "Spaces-1/environments",
            json!({"Name": "pr-42", "Type": "Ephemeral", "ParentEnvironmentId": parent["Id"]}),
        )
        .await;
    let ephemeral = api.ok("Spaces-1/environments/v2?type=Ephemeral").await;
    assert_eq!(common::names(&ephemeral["Items"]), ["pr-42"]);
    assert_eq!(ephemeral["Items"][0]["ParentEnvironmentId"], parent["Id"]);
    let older = api.ok("Spaces-1/environments/all").await;
    assert!(!common::names(&older).contains(&"pr-42".to_owned()));
    let id = pr["Id"].as_str().unwrap();
    assert_eq!(
        api.ok(&format!("Spaces-1/environments/{id}")).await["Name"],
        "pr-42"
    );
}
