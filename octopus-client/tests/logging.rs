//! What reaches the log: a span per request with method, path, status and attempt;
//! bodies at TRACE with secrets redacted; never the API key.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use octopus_client::{OctopusRead, OctopusWrite};
use octopus_model::ResourceKind;
use serde_json::json;
use support::{client, Answer, TestServer, KEY};
use tracing_subscriber::fmt::format::FmtSpan;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_api_key_and_secrets_never_reach_the_log() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = TestServer::start(|seen, i| match (seen.method.as_str(), i) {
        ("GET", 0) => Answer::json(503, json!({"ErrorMessage": "starting"})),
        ("GET", _) => Answer::json(200, json!({"Version": "2024.1.1"})),
        _ => Answer::json(
            201,
            json!({"Id": "Accounts-1", "Name": "Prod", "Token": {"HasValue": true, "NewValue": null}}),
        ),
    })
    .await;
    let client = client(&server.url, 2);
    client.root().await.unwrap();
    client
        .create(
            ResourceKind::Account,
            json!({"Name": "Prod", "AccountType": "Token",
                   "Token": {"HasValue": true, "NewValue": "tok-SUPERSECRET"}}),
        )
        .await
        .unwrap();
    let debug = format!("{client:?}");
    assert!(!debug.contains(KEY), "{debug}");

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // The spans are there, with what a person needs to follow the calls.
    assert!(log.contains("octopus_request"), "{log}");
    assert!(log.contains("path=/api"), "{log}");
    assert!(log.contains("status=503"), "{log}");
    assert!(log.contains("attempt=2"), "{log}");
    assert!(
        log.contains("method=\"POST\"") || log.contains("method=POST"),
        "{log}"
    );
    assert!(log.contains("request body"), "{log}");
    // The key and the secret do not.
    assert!(!log.contains(KEY), "{log}");
    assert!(!log.contains("TESTKEY"), "{log}");
    assert!(!log.contains("SUPERSECRET"), "{log}");
    // The server did get the key.
    assert!(server
        .seen()
        .iter()
        .all(|s| s.api_key.as_deref() == Some(KEY)));
}

#[tokio::test]
async fn against_the_fake_the_api_key_stays_out_of_the_client_log() {
    use octopus_fake::{FakeConfig, FakeServer, Seed};
    let captured = Captured::default();
    let writer = captured.clone();
    // Only the client's side is captured: the server is not under test here.
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "octopus_client=trace,reqwest=trace,hyper_util=trace,hyper=trace",
        ))
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = FakeServer::start(FakeConfig::seeded(Seed::DevTest))
        .await
        .unwrap();
    let key = server.api_key().to_owned();
    let client = octopus_client::OctopusHttpClient::builder(server.url(), key.as_str())
        .space_name("Default")
        .build()
        .unwrap();
    let projects = client.list_projects().await.unwrap();
    assert!(!projects.is_empty());
    let wrong = octopus_client::OctopusHttpClient::builder(server.url(), format!("{key}X"))
        .build()
        .unwrap();
    let err = wrong.list_projects().await.unwrap_err();
    assert!(!err.to_string().contains(&key));

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("octopus_request"), "{log}");
    assert!(log.contains("projects/all"), "{log}");
    assert!(log.contains("status=401"), "{log}");
    assert!(!log.contains(&key), "{log}");
}
