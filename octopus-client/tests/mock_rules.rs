//! How a user unit-tests a sync rule with the mocks: the source is a `MockOctopusRead`,
//! the destination a `MockOctopusWrite`, and expectations say what the rule must read and
//! write.

use mockall::predicate::eq;
use octopus_client::{
    Error, MockOctopusRead, MockOctopusWrite, OctopusRead, OctopusWrite, OctopusWriteExt, Result,
};
use octopus_model::{name_key, Environment, ResourceKind};
use serde_json::json;

/// The rule under test: create on the destination every source environment it lacks
/// (matched by name), and answer the names created.
async fn copy_missing_environments(
    source: &dyn OctopusRead,
    destination: &dyn OctopusWrite,
) -> Result<Vec<String>> {
    let existing: Vec<String> = destination
        .list_environments()
        .await?
        .iter()
        .map(|e| name_key(&e.name))
        .collect();
    let mut created = Vec::new();
    for env in source.list_environments().await? {
        if existing.contains(&name_key(&env.name)) {
            continue;
        }
        let body = Environment {
            name: env.name.clone(),
            description: env.description.clone(),
            ..Environment::default()
        };
        let made = destination.create_resource(&body).await?;
        created.push(made.name);
    }
    Ok(created)
}

fn env(id: &str, name: &str) -> Environment {
    let mut env = Environment {
        name: name.into(),
        ..Environment::default()
    };
    env.id.set(id.into());
    env
}

#[tokio::test]
async fn only_missing_environments_are_created() {
    let mut source = MockOctopusRead::new();
    source.expect_list_environments().times(1).returning(|| {
        Ok(vec![
            env("Environments-1", "Dev"),
            env("Environments-2", "Test"),
        ])
    });

    let mut destination = MockOctopusWrite::new();
    destination
        .expect_list_environments()
        .times(1)
        .returning(|| Ok(vec![env("Environments-9", " dev")]));
    destination
        .expect_create()
        .withf(|kind, body| *kind == ResourceKind::Environment && body["Name"] == "Test")
        .times(1)
        .returning(|_, mut body| {
            body["Id"] = json!("Environments-10");
            Ok(body)
        });

    let created = copy_missing_environments(&source, &destination)
        .await
        .unwrap();
    assert_eq!(created, ["Test"]);
    // mockall checks `times(1)` when the mocks drop.
}

#[tokio::test]
async fn a_create_with_an_unknown_outcome_stops_the_rule() {
    let mut source = MockOctopusRead::new();
    source
        .expect_list_environments()
        .returning(|| Ok(vec![env("Environments-1", "Dev")]));
    let mut destination = MockOctopusWrite::new();
    destination
        .expect_list_environments()
        .returning(|| Ok(vec![]));
    destination.expect_create().times(1).returning(|_, _| {
        Err(Error::OutcomeUnknown {
            method: "POST".into(),
            url: "https://octopus/api/Spaces-1/environments".into(),
            reason: "timed out".into(),
        })
    });
    let err = copy_missing_environments(&source, &destination)
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown());
}

#[tokio::test]
async fn per_owner_and_erased_reads_are_mockable_too() {
    let mut source = MockOctopusRead::new();
    source
        .expect_get_raw()
        .with(eq(ResourceKind::Project), eq("Projects-1"))
        .returning(|_, _| Ok(json!({"Id": "Projects-1", "Name": "Web"})));
    source
        .expect_version()
        .returning(|| Ok("2024.2.1".parse().unwrap()));
    let read: &dyn OctopusRead = &source;
    assert_eq!(
        read.get_raw(ResourceKind::Project, "Projects-1")
            .await
            .unwrap()["Name"],
        "Web"
    );
    assert_eq!(read.version().await.unwrap().to_string(), "2024.2.1");
}
