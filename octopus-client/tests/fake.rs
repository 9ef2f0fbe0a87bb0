//! The client against `octopus-fake` over real HTTP: complete paging, `/all`, the
//! per-owner and bulk reads on a seeded instance, errors as the server words them,
//! retries under injected failures and a rate limit, a create whose outcome is unknown,
//! and a server behind a path prefix.

use std::time::Duration;

use octopus_client::{
    Error, OctopusHttpClient, OctopusRead, OctopusWrite, OctopusWriteExt, RetryPolicy,
};
use octopus_fake::{FakeConfig, FakeServer, Seed, Snapshot, SpaceSnapshot};
use octopus_model::{DeploymentProcessId, Environment, ProjectId, ResourceKind, TeamId, TenantId};
use serde_json::json;

fn client_for(server: &FakeServer) -> OctopusHttpClient {
    OctopusHttpClient::builder(server.url(), server.api_key())
        .space_name("Default")
        .build()
        .unwrap()
}

fn many_environments(n: usize) -> Seed {
    let mut space = SpaceSnapshot::new("Default");
    let envs = space.collection_mut("environments");
    for i in 1..=n {
        envs.push(json!({"Id": format!("Environments-{i}"), "Name": format!("Env {i:04}"), "SortOrder": i}));
    }
    Seed::Snapshot(Snapshot {
        spaces: vec![space],
    })
}

#[tokio::test]
async fn paging_past_30_and_past_1000_items_never_truncates_or_duplicates() {
    let server = FakeServer::start(FakeConfig::seeded(many_environments(1234)))
        .await
        .unwrap();
    for (page_size, pages) in [(30u64, 42u64), (1000, 2)] {
        let client = OctopusHttpClient::builder(server.url(), server.api_key())
            .space_id("Spaces-1")
            .page_size(page_size)
            .build()
            .unwrap();
        let items = client.list_paged(ResourceKind::Environment).await.unwrap();
        assert_eq!(items.len(), 1234, "take={page_size}");
        let ids: std::collections::HashSet<_> = items
            .iter()
            .map(|e| e["Id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids.len(), 1234);
        assert!(ids.contains("Environments-31") && ids.contains("Environments-1001"));
        assert_eq!(client.stats().get, pages, "take={page_size}");
    }
}

#[tokio::test]
async fn all_reads_a_collection_in_one_request() {
    let server = FakeServer::start(FakeConfig::seeded(many_environments(1100)))
        .await
        .unwrap();
    let client = OctopusHttpClient::builder(server.url(), server.api_key())
        .space_id("Spaces-1")
        .build()
        .unwrap();
    let before = server.stats().get;
    let envs = client.list_environments().await.unwrap();
    assert_eq!(envs.len(), 1100);
    assert_eq!(client.stats().get, 1);
    assert_eq!(server.stats().get - before, 1);
}

#[tokio::test]
async fn a_seeded_instance_reads_through_every_per_owner_and_bulk_read() {
    let server = FakeServer::start(FakeConfig::seeded(Seed::DevTest))
        .await
        .unwrap();
    let client = client_for(&server);
    assert_eq!(client.version().await.unwrap(), *server.version());
    let space = client.space_by_name(" default ").await.unwrap().unwrap();
    assert_eq!(client.space_id().await.unwrap(), space.id.get().cloned());

    let projects = client.list_projects().await.unwrap();
    let octofx = projects.iter().find(|p| p.name == "OctoFX").unwrap();
    let project_id: ProjectId = octofx.id.get().cloned().unwrap();

    let process = client
        .project_deployment_process(&project_id)
        .await
        .unwrap();
    assert_eq!(process.project_id.get(), Some(&project_id));
    let process_id: DeploymentProcessId = process.id.get().cloned().unwrap();
    let bulk = client
        .deployment_processes(std::slice::from_ref(&process_id))
        .await
        .unwrap();
    assert_eq!(bulk, vec![process.clone()]);
    assert_eq!(
        client.get_deployment_process(&process_id).await.unwrap(),
        process
    );

    let variables = client.project_variables(&project_id).await.unwrap();
    let all_sets = client.all_variable_sets().await.unwrap();
    assert!(all_sets.iter().any(|set| set.id == variables.id));

    let channels = client.project_channels(&project_id).await.unwrap();
    assert!(!channels.is_empty());
    let runbooks = client.project_runbooks(&project_id).await.unwrap();
    let runbook = runbooks
        .iter()
        .find(|r| r.name == "Refresh Test Database")
        .unwrap();
    let runbook_process = client.runbook_process(runbook).await.unwrap();
    assert_eq!(runbook_process.runbook_id.get(), runbook.id.get());

    let tenant = TenantId::new("Tenants-1");
    let tenant_variables = client.tenant_variables(&tenant).await.unwrap();
    assert_eq!(tenant_variables.tenant_id.get(), Some(&tenant));
    let all_tenant_variables = client.all_tenant_variables().await.unwrap();
    assert!(all_tenant_variables
        .iter()
        .any(|t| t.tenant_id.get() == Some(&tenant)));

    let roles = client
        .team_scoped_user_roles(&TeamId::new("Teams-1"))
        .await
        .unwrap();
    assert!(roles
        .iter()
        .all(|r| r.team_id.get().map(|t| t.as_str()) == Some("Teams-1")));

    for kind in [
        ResourceKind::Environment,
        ResourceKind::Lifecycle,
        ResourceKind::Feed,
        ResourceKind::Tenant,
        ResourceKind::TagSet,
        ResourceKind::LibraryVariableSet,
        ResourceKind::WorkerPool,
    ] {
        let raw = client.list_raw(kind).await.unwrap();
        assert!(!raw.is_empty(), "{kind}");
    }
    // The fake counted what the client sent.
    let (ours, theirs) = (client.stats(), server.stats());
    assert_eq!(ours.get, theirs.get);
}

#[tokio::test]
async fn writes_create_update_and_delete() {
    let server = FakeServer::start(FakeConfig::default()).await.unwrap();
    let client = client_for(&server);
    let created = client
        .create_resource(&Environment {
            name: "Staging".into(),
            ..Environment::default()
        })
        .await
        .unwrap();
    let id = created.id.get().cloned().unwrap();
    let mut changed = created.clone();
    changed.description = "pre-production".to_owned().into();
    let updated = client.update_resource(&changed).await.unwrap();
    assert_eq!(
        updated.description.get().map(String::as_str),
        Some("pre-production")
    );
    assert_eq!(client.get_environment(&id).await.unwrap(), updated);
    client.delete_resource::<Environment>(&id).await.unwrap();
    assert!(client
        .get_environment(&id)
        .await
        .unwrap_err()
        .is_not_found());
    let stats = client.stats();
    assert_eq!((stats.post, stats.put, stats.delete), (1, 1, 1));
}

#[tokio::test]
async fn auth_failure_and_not_found() {
    let server = FakeServer::start(FakeConfig::default()).await.unwrap();
    let wrong = OctopusHttpClient::builder(server.url(), "API-NOTTHEKEY")
        .space_id("Spaces-1")
        .build()
        .unwrap();
    let err = wrong.list_environments().await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");

    let client = client_for(&server);
    let err = client
        .get_project(&ProjectId::new("Projects-999"))
        .await
        .unwrap_err();
    match err {
        Error::NotFound { message, .. } => assert!(message.contains("Projects-999"), "{message}"),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn validation_errors_and_stale_versions_carry_the_servers_words() {
    let server = FakeServer::start(FakeConfig::seeded(Seed::DevTest))
        .await
        .unwrap();
    let client = client_for(&server);
    let err = client
        .create(ResourceKind::Project, json!({"Name": "No group"}))
        .await
        .unwrap_err();
    match &err {
        Error::Validation {
            message, errors, ..
        } => {
            assert!(!message.is_empty());
            assert!(!errors.is_empty(), "{err}");
        }
        other => panic!("unexpected {other:?}"),
    }

    let process = client
        .project_deployment_process(&ProjectId::new("Projects-1"))
        .await
        .unwrap();
    let mut body = serde_json::to_value(&process).unwrap();
    let version = body["Version"].as_i64().unwrap();
    body["Version"] = json!(version - 1);
    let err = client
        .update(
            ResourceKind::DeploymentProcess,
            process.id.get().unwrap().as_str(),
            body,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::StaleVersion { .. }), "{err:?}");
}

#[tokio::test]
async fn injected_5xx_failures_are_retried_until_they_succeed() {
    let server = FakeServer::start(FakeConfig {
        fail_rate: 0.3,
        fail_seed: 7,
        ..FakeConfig::seeded(Seed::DevTest)
    })
    .await
    .unwrap();
    let client = OctopusHttpClient::builder(server.url(), server.api_key())
        .space_id("Spaces-1")
        .retry(RetryPolicy {
            max_retries: 10,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(10),
        })
        .build()
        .unwrap();
    for _ in 0..40 {
        assert!(!client.list_environments().await.unwrap().is_empty());
    }
    let stats = client.stats();
    assert!(stats.retries > 0, "{stats:?}");
    // Every failure was retried once per failure: 40 reads plus the retries.
    assert_eq!(stats.get, 40 + stats.retries);
    assert_eq!(server.stats().get, stats.get);
}

#[tokio::test]
async fn a_burst_past_the_rate_limit_waits_for_retry_after_and_completes() {
    // A bucket of 60 refilled at one a second; 64 requests at once, with pacing from
    // the headers off, empty it, so a few are answered 429 with `Retry-After` and wait.
    let server = FakeServer::start(FakeConfig {
        rate_limit_rpm: Some(60),
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let client = OctopusHttpClient::builder(server.url(), server.api_key())
        .space_id("Spaces-1")
        .max_concurrency(64)
        .pace_from_headers(false)
        .build()
        .unwrap();
    let reads = (0..64).map(|_| client.get_raw(ResourceKind::Space, "Spaces-1"));
    let answers = futures::future::try_join_all(reads).await.unwrap();
    assert_eq!(answers.len(), 64);
    let stats = client.stats();
    assert!(stats.throttled >= 1, "{stats:?}");
    assert_eq!(stats.get, 64 + stats.retries);
    assert_eq!(stats.throttled, stats.retries);
    assert_eq!(server.stats().get, stats.get);
}

#[tokio::test]
async fn pacing_from_the_headers_keeps_a_long_run_under_the_limit() {
    // 10 requests a second with a burst of 600: 650 reads spend the burst, then the
    // headers slow the client to the refill rate before the bucket runs dry.
    let server = FakeServer::start(FakeConfig {
        rate_limit_rpm: Some(600),
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let client = OctopusHttpClient::builder(server.url(), server.api_key())
        .space_id("Spaces-1")
        .build()
        .unwrap();
    let reads = (0..650).map(|_| client.get_raw(ResourceKind::Space, "Spaces-1"));
    futures::future::try_join_all(reads).await.unwrap();
    let stats = client.stats();
    assert_eq!(stats.throttled, 0, "{stats:?}");
    assert_eq!(stats.get, 650);
}

#[tokio::test]
async fn a_create_that_times_out_is_not_repeated() {
    let server = FakeServer::start(FakeConfig {
        latency: Duration::from_secs(2),
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let client = OctopusHttpClient::builder(server.url(), server.api_key())
        .space_id("Spaces-1")
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = client
        .create(ResourceKind::Environment, json!({"Name": "Maybe"}))
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err:?}");
    assert_eq!(client.stats().post, 1);
    assert_eq!(server.stats().post, 1);
}

#[tokio::test]
async fn a_server_behind_a_path_prefix() {
    let server =
        FakeServer::start(FakeConfig::seeded(many_environments(45)).with_path_prefix("/octopus"))
            .await
            .unwrap();
    assert!(server.url().ends_with("/octopus"));
    let client = OctopusHttpClient::builder(format!("{}/", server.url()), server.api_key())
        .space_name("Default")
        .page_size(20)
        .build()
        .unwrap();
    assert_eq!(
        client
            .list_paged(ResourceKind::Environment)
            .await
            .unwrap()
            .len(),
        45
    );
    assert_eq!(client.list_environments().await.unwrap().len(), 45);
    client
        .create(ResourceKind::Environment, json!({"Name": "Behind a proxy"}))
        .await
        .unwrap();
    assert_eq!(client.list_environments().await.unwrap().len(), 46);
    // Without the prefix there is no API.
    let origin = server.url().trim_end_matches("/octopus").to_owned();
    let bare = OctopusHttpClient::builder(origin, server.api_key())
        .build()
        .unwrap();
    assert!(bare.root().await.is_err());
}

#[tokio::test]
async fn tenant_variables_are_written_whole_in_both_shapes() {
    let server = FakeServer::start(FakeConfig::seeded(Seed::DevTest))
        .await
        .unwrap();
    let client = client_for(&server);
    let tenant = TenantId::new("Tenants-1");

    let read = client.tenant_variables(&tenant).await.unwrap();
    let written = client.set_tenant_variables(&read).await.unwrap();
    assert_eq!(written.tenant_id.get(), Some(&tenant));
    assert_eq!(
        client
            .tenant_variables(&tenant)
            .await
            .unwrap()
            .project_variables,
        read.project_variables
    );
    assert_eq!(client.stats().post, 1);

    // The per-owner shapes exist from 2025.2.
    let server = FakeServer::start(
        FakeConfig::seeded(Seed::DevTest)
            .with_version(octopus_model::OctopusVersion::new(2025, 3, 0)),
    )
    .await
    .unwrap();
    let client = client_for(&server);
    let common = client.tenant_common_variables(&tenant).await.unwrap();
    let back = client
        .set_tenant_common_variables(&tenant, &common)
        .await
        .unwrap();
    assert_eq!(back.variables, common.variables);
    let project = client.tenant_project_variables(&tenant).await.unwrap();
    client
        .set_tenant_project_variables(&tenant, &project)
        .await
        .unwrap();
    let stats = client.stats();
    assert_eq!((stats.post, stats.put), (0, 2));
}

#[tokio::test]
async fn a_community_step_template_is_installed_into_the_space() {
    let server = FakeServer::start(FakeConfig::default()).await.unwrap();
    let client = client_for(&server);
    let library = client.list_community_action_templates().await.unwrap();
    let slack = library
        .iter()
        .find(|t| t.name.starts_with("Slack"))
        .unwrap();
    let installed = client
        .install_community_step_template(slack.id.get().unwrap())
        .await
        .unwrap();
    assert_eq!(installed.name, slack.name);
    let templates = client.list_action_templates().await.unwrap();
    assert!(templates.iter().any(|t| t.id == installed.id));
}

#[tokio::test]
async fn the_audit_log_reads_every_event_since_a_checkpoint_oldest_first_with_its_user_agent() {
    let server = FakeServer::start(FakeConfig::seeded(Seed::DevTest))
        .await
        .unwrap();
    let client = OctopusHttpClient::builder(server.url(), server.api_key())
        .space_name("Default")
        .page_size(2)
        .build()
        .unwrap();
    assert_eq!(client.latest_event_auto_id().await.unwrap(), None);
    for name in ["Audit 1", "Audit 2", "Audit 3"] {
        client
            .create(ResourceKind::Environment, json!({"Name": name}))
            .await
            .unwrap();
    }
    let latest = client.latest_event_auto_id().await.unwrap();
    assert_eq!(latest, Some(3));
    let events = client.events_from(2).await.unwrap();
    let ids: Vec<u64> = events
        .iter()
        .map(|e| e["AutoId"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [2, 3]);
    assert_eq!(
        events[1]["ChangeDetails"]["DocumentContext"]["Name"],
        "Audit 3"
    );
    let agent = events[0]["UserAgent"].as_str().unwrap();
    assert!(
        agent.starts_with("octosync/"),
        "the client names itself: {agent}"
    );
}
