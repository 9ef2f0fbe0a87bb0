//! Retries over real HTTP: what is retried, what is not, and what a create that may
//! have been applied reports.

mod support;

use std::time::Duration;

use octopus_client::{Error, OctopusHttpClient, OctopusRead, OctopusWrite};
use octopus_model::{EnvironmentId, ResourceKind};
use serde_json::json;
use support::{client, quick_retry, Answer, TestServer, KEY};

fn environment() -> serde_json::Value {
    json!({"Id": "Environments-1", "Name": "Dev"})
}

#[tokio::test]
async fn a_5xx_that_succeeds_on_retry() {
    let server = TestServer::start(|_, i| match i {
        0 => Answer::text(503, "starting"),
        1 => Answer::text(502, "<html>bad gateway</html>"),
        _ => Answer::json(200, environment()),
    })
    .await;
    let client = client(&server.url, 3);
    let env = client
        .get_environment(&EnvironmentId::new("Environments-1"))
        .await
        .unwrap();
    assert_eq!(env.name, "Dev");
    let stats = client.stats();
    assert_eq!((stats.get, stats.retries), (3, 2));
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after() {
    let server = TestServer::start(|_, i| match i {
        0 => Answer::json(429, json!({"ErrorMessage": "Too many requests"}))
            .header("Retry-After", "1"),
        _ => Answer::json(200, environment()),
    })
    .await;
    let client = OctopusHttpClient::builder(&server.url, KEY)
        .retry(octopus_client::RetryPolicy {
            initial_backoff: Duration::from_millis(1),
            ..Default::default()
        })
        .build()
        .unwrap();
    let env = client
        .get_environment(&EnvironmentId::new("Environments-1"))
        .await
        .unwrap();
    assert_eq!(env.name, "Dev");
    let stats = client.stats();
    assert_eq!((stats.get, stats.throttled, stats.retries), (2, 1, 1));
    // The retry waited for the server's second, not the 1 ms backoff (a sleep never
    // ends early, so this lower bound cannot flake).
    let seen = server.seen();
    assert!(seen[1].at - seen[0].at >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_create_turned_away_by_the_rate_limiter_is_sent_again() {
    let server = TestServer::start(|_, i| match i {
        0 => Answer::json(429, json!({})).header("Retry-After", "0"),
        _ => Answer::json(201, environment()),
    })
    .await;
    let client = client(&server.url, 3);
    let created = client
        .create(ResourceKind::Environment, json!({"Name": "Dev"}))
        .await
        .unwrap();
    assert_eq!(created["Id"], "Environments-1");
    assert_eq!(client.stats().post, 2);
}

#[tokio::test]
async fn rate_limited_when_retries_run_out() {
    let server =
        TestServer::start(|_, _| Answer::json(429, json!({})).header("Retry-After", "0")).await;
    let client = client(&server.url, 2);
    let err = client.list_raw(ResourceKind::Feed).await.unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::ZERO),
        "{err:?}"
    );
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn a_create_answered_by_a_gateway_error_has_an_unknown_outcome() {
    let server = TestServer::start(|_, _| Answer::text(504, "<html>Gateway Timeout</html>")).await;
    let client = client(&server.url, 3);
    let err = client
        .create(ResourceKind::Environment, json!({"Name": "Dev"}))
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err:?}");
    assert!(err.to_string().contains("look the item up"), "{err}");
    // Sent once, never repeated.
    assert_eq!(server.seen().len(), 1);
    assert_eq!(client.stats().post, 1);
}

#[tokio::test]
async fn a_create_that_times_out_has_an_unknown_outcome() {
    let server =
        TestServer::start(|_, _| Answer::json(201, environment()).after(Duration::from_secs(30)))
            .await;
    let client = OctopusHttpClient::builder(&server.url, KEY)
        .retry(quick_retry(3))
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = client
        .create(ResourceKind::Environment, json!({"Name": "Dev"}))
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err:?}");
    assert_eq!(client.stats().post, 1);
}

#[tokio::test]
async fn a_read_that_times_out_is_retried() {
    let server = TestServer::start(|_, i| {
        let answer = Answer::json(200, environment());
        if i == 0 {
            answer.after(Duration::from_secs(30))
        } else {
            answer
        }
    })
    .await;
    let client = OctopusHttpClient::builder(&server.url, KEY)
        .retry(quick_retry(3))
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let env = client
        .get_environment(&EnvironmentId::new("Environments-1"))
        .await
        .unwrap();
    assert_eq!(env.name, "Dev");
    assert_eq!(client.stats().get, 2);
}

/// A server that reads each request and closes the connection without answering, as a
/// crashing proxy does.
async fn hang_up_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = vec![0u8; 64 * 1024];
            let _ = socket.read(&mut buf).await;
            drop(socket);
        }
    });
    (url, count)
}

#[tokio::test]
async fn a_create_whose_connection_drops_has_an_unknown_outcome() {
    let (url, count) = hang_up_server().await;
    let client = client(&url, 3);
    let err = client
        .create(ResourceKind::Project, json!({"Name": "Web"}))
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err:?}");
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_read_whose_connection_drops_is_retried_then_reported() {
    let (url, count) = hang_up_server().await;
    let client = client(&url, 2);
    let err = client.root().await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 3);
    assert_eq!(client.stats().get, 3);
}

#[tokio::test]
async fn a_create_that_cannot_connect_is_retried_because_it_never_left() {
    // Bind and release a port, so nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = client(&format!("http://127.0.0.1:{port}"), 2);
    let err = client
        .create(ResourceKind::Environment, json!({"Name": "Dev"}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    let stats = client.stats();
    assert_eq!((stats.post, stats.retries), (3, 2));
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = TestServer::start(|_, _| {
        Answer::json(
            400,
            support::error_body("Model validation failed.", &["Name is required"]),
        )
    })
    .await;
    let client = client(&server.url, 3);
    let err = client
        .update(ResourceKind::Environment, "Environments-1", json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation { .. }), "{err:?}");
    assert_eq!(server.seen().len(), 1);
}
