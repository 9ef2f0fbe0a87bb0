//! Runbook snapshots: created from a runbook, published on create or by a runbook PUT,
//! listed per project and per runbook; a deleted published snapshot unpublishes.

mod common;

use common::start;
use octopus_fake::Seed;
use serde_json::{json, Value};

#[tokio::test]
async fn a_snapshot_is_created_published_listed_and_deleted() {
    let (server, api) = start(Seed::DevTest).await;
    let runbook = api.ok("Spaces-1/runbooks/all").await[0].clone();
    let runbook_id = runbook["Id"].as_str().unwrap().to_owned();
    let project_id = runbook["ProjectId"].as_str().unwrap().to_owned();

    let refused = api
        .post(
            "Spaces-1/runbookSnapshots",
            json!({"RunbookId": "Runbooks-999", "Name": "x"}),
        )
        .await;
    assert_eq!(refused.status, 400);

    let first = api
        .created(
            "Spaces-1/runbookSnapshots",
            json!({"RunbookId": runbook_id, "Name": "Snapshot 1"}),
        )
        .await;
    assert_eq!(first["ProjectId"], project_id.as_str());
    assert!(first["FrozenRunbookProcessId"]
        .as_str()
        .unwrap()
        .starts_with(runbook["RunbookProcessId"].as_str().unwrap()));
    let unpublished = api.ok(&format!("Spaces-1/runbooks/{runbook_id}")).await;
    assert_ne!(unpublished["PublishedRunbookSnapshotId"], first["Id"]);

    let published = api
        .post(
            "Spaces-1/runbookSnapshots?publish=true",
            json!({"RunbookId": runbook_id, "Name": "Snapshot 2"}),
        )
        .await;
    assert_eq!(published.status, 201, "{}", published.body);
    let id = published.body["Id"].as_str().unwrap().to_owned();
    let runbook_now = api.ok(&format!("Spaces-1/runbooks/{runbook_id}")).await;
    assert_eq!(runbook_now["PublishedRunbookSnapshotId"], id.as_str());

    let names = |v: &Value| -> Vec<String> {
        v["Items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Name"].as_str().unwrap().to_owned())
            .collect()
    };
    let of_project = api
        .ok(&format!("Spaces-1/projects/{project_id}/runbookSnapshots"))
        .await;
    assert_eq!(names(&of_project), ["Snapshot 1", "Snapshot 2"]);
    let of_runbook = api
        .ok(&format!("Spaces-1/runbooks/{runbook_id}/runbookSnapshots"))
        .await;
    assert_eq!(names(&of_runbook), ["Snapshot 1", "Snapshot 2"]);

    // Publishing through the runbook, then deleting the published snapshot.
    let mut r = runbook_now.clone();
    r["PublishedRunbookSnapshotId"] = first["Id"].clone();
    assert_eq!(
        api.put(&format!("Spaces-1/runbooks/{runbook_id}"), r)
            .await
            .status,
        200
    );
    assert_eq!(server.integrity(), Vec::new());
    let gone = api
        .delete(&format!(
            "Spaces-1/runbookSnapshots/{}",
            first["Id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(gone.status, 200);
    let after = api.ok(&format!("Spaces-1/runbooks/{runbook_id}")).await;
    assert_eq!(after["PublishedRunbookSnapshotId"], Value::Null);
    assert_eq!(server.integrity(), Vec::new());
}

#[tokio::test]
async fn a_published_snapshot_that_names_nothing_is_a_dangling_reference() {
    let (server, api) = start(Seed::DevTest).await;
    let mut runbook = api.ok("Spaces-1/runbooks/all").await[0].clone();
    let id = runbook["Id"].as_str().unwrap().to_owned();
    runbook["PublishedRunbookSnapshotId"] = json!("RunbookSnapshots-77");
    assert_eq!(
        api.put(&format!("Spaces-1/runbooks/{id}"), runbook)
            .await
            .status,
        200
    );
    let found = server.integrity();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].path, "PublishedRunbookSnapshotId");
    assert_eq!(found[0].id, "RunbookSnapshots-77");
}
