//! Error answers over real HTTP become typed errors carrying what the server said.

mod support;

use octopus_client::{Error, OctopusRead, OctopusWrite, OctopusWriteExt};
use octopus_model::{Environment, ProjectId, ResourceKind};
use serde_json::json;
use support::{client, error_body, Answer, TestServer, KEY};

#[tokio::test]
async fn the_api_key_is_sent_and_a_wrong_one_is_unauthorized() {
    let server = TestServer::start(|seen, _| {
        if seen.api_key.as_deref() == Some(KEY) {
            Answer::json(
                200,
                json!({"Application": "Octopus Deploy", "Version": "2024.2.1"}),
            )
        } else {
            Answer::json(
                401,
                error_body("You must be logged in to perform this action.", &[]),
            )
        }
    })
    .await;
    let good = client(&server.url, 0);
    assert_eq!(good.version().await.unwrap().to_string(), "2024.2.1");

    let bad = octopus_client::OctopusHttpClient::builder(&server.url, "API-WRONG")
        .build()
        .unwrap();
    match bad.root().await.unwrap_err() {
        Error::Unauthorized {
            status, message, ..
        } => {
            assert_eq!(status, 401);
            assert_eq!(message, "You must be logged in to perform this action.");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn not_found_names_the_url_and_a_delete_of_a_missing_item_succeeds() {
    let server = TestServer::start(|_, _| {
        Answer::json(
            404,
            error_body("The resource 'Projects-99' was not found.", &[]),
        )
    })
    .await;
    let client = client(&server.url, 3);
    let err = client
        .get_project(&ProjectId::new("Projects-99"))
        .await
        .unwrap_err();
    match &err {
        Error::NotFound { url, message, .. } => {
            assert!(url.ends_with("/api/projects/Projects-99"), "{url}");
            assert!(message.contains("Projects-99"));
        }
        other => panic!("unexpected {other:?}"),
    }
    client
        .delete(ResourceKind::Project, "Projects-99")
        .await
        .unwrap();
    // Not retried: a 404 is an answer.
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn validation_errors_carry_the_servers_messages() {
    let server = TestServer::start(|_, _| {
        Answer::json(
            400,
            error_body(
                "There was a problem with your request.",
                &["The name field is required", "Lifecycle is required"],
            ),
        )
    })
    .await;
    let client = client(&server.url, 3);
    let err = client
        .create(ResourceKind::Project, json!({"Name": ""}))
        .await
        .unwrap_err();
    match &err {
        Error::Validation {
            message, errors, ..
        } => {
            assert_eq!(message, "There was a problem with your request.");
            assert_eq!(
                errors,
                &["The name field is required", "Lifecycle is required"]
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("Lifecycle is required"));
}

#[tokio::test]
async fn a_stale_version_is_reported_as_such() {
    let server = TestServer::start(|_, _| {
        Answer::json(
            400,
            error_body(
                "The variables could not be saved because another user has made changes to the variables between when you started editing and when you saved your changes.",
                &[],
            ),
        )
    })
    .await;
    let client = client(&server.url, 3);
    let err = client
        .update(
            ResourceKind::VariableSet,
            "variableset-Projects-1",
            json!({"Version": 3}),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::StaleVersion { .. }), "{err:?}");
}

#[tokio::test]
async fn an_html_error_page_is_reported_not_a_second_failure() {
    let server = TestServer::start(|_, _| {
        Answer::text(
            500,
            "<!DOCTYPE html><html><body><h1>Internal Server Error</h1></body></html>",
        )
    })
    .await;
    let client = client(&server.url, 3);
    match client.root().await.unwrap_err() {
        Error::Server {
            status, message, ..
        } => {
            assert_eq!(status, 500);
            assert!(message.contains("Internal Server Error"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_document_that_does_not_decode_names_the_url_and_json_path() {
    let server = TestServer::start(|_, _| {
        Answer::json(
            200,
            json!([
                {"Id": "Environments-1", "Name": "Dev"},
                {"Id": "Environments-2", "Name": "Test", "SortOrder": "first"}
            ]),
        )
    })
    .await;
    let client = client(&server.url, 0);
    match client.list_environments().await.unwrap_err() {
        Error::Decode { url, path, .. } => {
            assert_eq!(path, "[1].SortOrder");
            assert!(url.ends_with("/api/environments"), "{url}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn typed_writes_send_the_body_and_answer_the_created_item() {
    let server = TestServer::start(|seen, _| {
        let mut body: serde_json::Value = serde_json::from_str(&seen.body).unwrap();
        body["Id"] = json!("Environments-7");
        Answer::json(201, body)
    })
    .await;
    let client = client(&server.url, 0);
    let created = client
        .create_resource(&Environment {
            name: "Staging".into(),
            ..Environment::default()
        })
        .await
        .unwrap();
    assert_eq!(
        created.id.get().map(|id| id.as_str()),
        Some("Environments-7")
    );
    let seen = server.seen();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path_and_query, "/api/environments");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&seen[0].body).unwrap()["Name"],
        "Staging"
    );
}
