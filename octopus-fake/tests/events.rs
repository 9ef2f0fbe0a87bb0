//! The audit log over real HTTP: every write records events with the field names of the
//! official clients (go-octopusdeploy `pkg/events/event.go`, `change_details.go`),
//! filtered and paged like `GET /api/{spaceId}/events` and `GET /api/events`.

mod common;

use common::{start, start_with, Api};
use octopus_fake::{FakeConfig, Seed};
use serde_json::{json, Value};

/// An API helper whose requests carry `agent` as their `User-Agent`.
fn with_agent(api: Api, agent: &str) -> Api {
    Api {
        http: reqwest::Client::builder()
            .user_agent(agent)
            .build()
            .expect("client"),
        ..api
    }
}

fn auto_ids(page: &Value) -> Vec<u64> {
    page["Items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["AutoId"].as_u64().expect("AutoId is a number"))
        .collect()
}

#[tokio::test]
async fn an_edit_records_who_when_and_the_difference_under_the_official_field_names() {
    let (_server, api) = start(Seed::DevTest).await;
    let api = with_agent(api, "portal-edit/1.0");
    let seeded = api.ok("Spaces-1/events").await;
    assert_eq!(seeded["TotalResults"], 0, "loading a seed is not history");

    let mut env = api.named("environments", "Test").await;
    let id = env["Id"].as_str().unwrap().to_owned();
    env["Description"] = json!("edited by hand");
    let put = api.put(&format!("Spaces-1/environments/{id}"), env).await;
    assert_eq!(put.status, 200);

    let page = api.ok("Spaces-1/events").await;
    assert_eq!(page["ItemType"], "Event");
    assert_eq!(page["TotalResults"], 1);
    assert!(page["Links"]["Page.All"].as_str().is_some());
    let event = &page["Items"][0];
    for field in [
        "Id",
        "AutoId",
        "Category",
        "Occurred",
        "UserId",
        "Username",
        "IdentityEstablishedWith",
        "UserAgent",
        "RelatedDocumentIds",
        "SpaceId",
        "Message",
        "ChangeDetails",
    ] {
        assert!(event.get(field).is_some(), "an event has {field}");
    }
    assert_eq!(event["Category"], "Modified");
    assert_eq!(event["UserId"], "Users-1");
    assert_eq!(event["Username"], "admin");
    assert_eq!(event["UserAgent"], "portal-edit/1.0");
    assert_eq!(event["SpaceId"], "Spaces-1");
    assert_eq!(event["RelatedDocumentIds"][0], id.as_str());
    assert_eq!(event["ChangeDetails"]["DocumentContext"]["Name"], "Test");
    assert_eq!(
        event["ChangeDetails"]["Differences"],
        json!([{"op": "replace", "path": "/Description", "value": "edited by hand"}])
    );
    let by_id = api
        .ok(&format!("events/{}", event["Id"].as_str().unwrap()))
        .await;
    assert_eq!(&by_id, event);

    let without = api.ok("Spaces-1/events?excludeDifference=true").await;
    assert_eq!(
        without["Items"][0]["ChangeDetails"]["Differences"],
        Value::Null
    );
    assert_eq!(
        without["Items"][0]["ChangeDetails"]["DocumentContext"]["Name"],
        "Test"
    );
}

#[tokio::test]
async fn creates_and_deletes_are_recorded_and_the_filters_and_paging_hold() {
    let (_server, api) = start(Seed::DevTest).await;
    let octofx = api.named("projects", "OctoFX").await;
    let created = api
        .created(
            "Spaces-1/projects",
            json!({"Name": "Audit", "ProjectGroupId": octofx["ProjectGroupId"], "LifecycleId": octofx["LifecycleId"]}),
        )
        .await;
    let pid = created["Id"].as_str().unwrap().to_owned();
    let env = api
        .created("Spaces-1/environments", json!({"Name": "Audit env"}))
        .await;
    let eid = env["Id"].as_str().unwrap().to_owned();
    assert_eq!(
        api.delete(&format!("Spaces-1/environments/{eid}"))
            .await
            .status,
        200
    );
    // Reads record nothing.
    api.ok("Spaces-1/projects/all").await;

    let all = api.ok("Spaces-1/events?take=1000").await;
    let ids = auto_ids(&all);
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let categories: Vec<&str> = all["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Category"].as_str().unwrap())
        .collect();
    assert_eq!(categories[0], "Deleted");
    assert_eq!(categories[1], "Created");
    assert_eq!(all["Items"][0]["RelatedDocumentIds"][0], eid.as_str());
    assert_eq!(
        all["Items"][0]["ChangeDetails"]["DocumentContext"]["Name"],
        "Audit env"
    );

    let projects = api.ok("Spaces-1/events?documentTypes=Projects").await;
    assert_eq!(projects["TotalResults"], 1);
    assert_eq!(projects["Items"][0]["RelatedDocumentIds"][0], pid.as_str());
    assert_eq!(projects["Items"][0]["Category"], "Created");
    let patch = projects["Items"][0]["ChangeDetails"]["Differences"]
        .as_array()
        .unwrap();
    assert!(patch.contains(&json!({"op": "add", "path": "/Name", "value": "Audit"})));

    // The project's side effects (its process, variable set, channel) are about it.
    let regarding = api.ok(&format!("Spaces-1/events?regarding={pid}")).await;
    assert!(regarding["TotalResults"].as_u64().unwrap() >= 3);
    assert!(regarding["Items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["RelatedDocumentIds"]
            .as_array()
            .unwrap()
            .contains(&json!(pid))));

    let newest = ids[0];
    let from = api
        .ok(&format!("Spaces-1/events?fromAutoId={}", newest - 1))
        .await;
    assert_eq!(auto_ids(&from), vec![newest, newest - 1]);

    let first = api.ok("Spaces-1/events?take=2").await;
    assert_eq!(auto_ids(&first), ids[..2].to_vec());
    let next = first["Links"]["Page.Next"].as_str().expect("a next page");
    let filtered = api.ok("Spaces-1/events?fromAutoId=1&take=1").await;
    let link = filtered["Links"]["Page.Next"].as_str().unwrap();
    assert!(
        link.contains("fromAutoId=1"),
        "links keep the documented spelling: {link}"
    );
    let second = api.ok(next).await;
    assert_eq!(auto_ids(&second), ids[2..4].to_vec());

    let system = api.ok("events?spaces=Spaces-1&take=1000").await;
    assert_eq!(auto_ids(&system), ids);
    let other_space = api.ok("events?spaces=Spaces-99").await;
    assert_eq!(other_space["TotalResults"], 0);
    let bad = api.get("Spaces-1/events?fromAutoId=soon").await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn a_retention_drops_the_oldest_events_so_an_old_checkpoint_shows() {
    let (_server, api) = start_with(FakeConfig {
        event_retention: Some(2),
        ..FakeConfig::seeded(Seed::DevTest)
    })
    .await;
    for name in ["One", "Two", "Three"] {
        api.created("Spaces-1/environments", json!({"Name": name}))
            .await;
    }
    let page = api.ok("Spaces-1/events").await;
    assert_eq!(auto_ids(&page), vec![3, 2]);
    // A client whose checkpoint is event 1 asks from there and does not find it.
    let from_checkpoint = api.ok("Spaces-1/events?fromAutoId=1").await;
    assert!(!auto_ids(&from_checkpoint).contains(&1));
}

#[tokio::test]
async fn a_refused_write_records_nothing() {
    let (_server, api) = start(Seed::DevTest).await;
    let refused = api
        .post("Spaces-1/environments", json!({"Description": "no name"}))
        .await;
    assert_eq!(refused.status, 400);
    assert_eq!(api.ok("Spaces-1/events").await["TotalResults"], 0);
}
