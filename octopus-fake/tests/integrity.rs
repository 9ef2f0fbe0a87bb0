//! `GET /api/fake/integrity`: references that name no document, found wherever they sit.

mod common;

use common::start;
use octopus_fake::Seed;
use serde_json::{json, Value};

#[tokio::test]
async fn the_seeds_have_no_dangling_references() {
    for seed in [Seed::DevTest, Seed::StagingProduction] {
        let (server, api) = start(seed).await;
        assert_eq!(server.integrity(), Vec::new());
        assert_eq!(
            api.ok("fake/integrity").await,
            json!({"DanglingReferences": []})
        );
    }
}

#[tokio::test]
async fn a_scope_naming_a_missing_environment_is_listed_with_its_path() {
    let (server, api) = start(Seed::DevTest).await;
    let project = api.named("projects", "OctoFX").await;
    let set_path = format!(
        "Spaces-1/variables/{}",
        project["VariableSetId"].as_str().unwrap()
    );
    let mut set = api.ok(&set_path).await;
    let variables = set["Variables"].as_array_mut().unwrap();
    variables.push(json!({
        "Name": "Dangling", "Value": "x", "Type": "String", "IsSensitive": false,
        "Scope": {"Environment": ["Environments-999"]}
    }));
    let index = variables.len() - 1;
    let saved = api.put(&set_path, set).await;
    assert_eq!(saved.status, 200, "{}", saved.body);

    let found = server.integrity();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].kind, "variables");
    assert_eq!(
        found[0].document,
        project["VariableSetId"].as_str().unwrap()
    );
    assert_eq!(found[0].id, "Environments-999");
    assert_eq!(
        found[0].path,
        format!("Variables[{index}].Scope.Environment[0]")
    );
    let listed: Value = api.ok("fake/integrity").await;
    assert_eq!(listed["DanglingReferences"][0]["Id"], "Environments-999");
    assert_eq!(listed["DanglingReferences"][0]["Space"], "Spaces-1");
}

#[tokio::test]
async fn deleting_a_referenced_document_leaves_the_reference_dangling() {
    let (server, api) = start(Seed::DevTest).await;
    let pool = api
        .created("Spaces-1/workerpools", json!({"Name": "Short-lived"}))
        .await;
    let pool_id = pool["Id"].as_str().unwrap().to_owned();
    let env = api
        .created(
            "Spaces-1/environments",
            json!({"Name": "Sandbox", "Description": pool_id}),
        )
        .await;
    assert_eq!(server.integrity(), Vec::new());
    assert_eq!(
        api.delete(&format!("Spaces-1/workerpools/{pool_id}"))
            .await
            .status,
        200
    );
    let found = server.integrity();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].document, env["Id"].as_str().unwrap());
    assert_eq!(found[0].path, "Description");
}
