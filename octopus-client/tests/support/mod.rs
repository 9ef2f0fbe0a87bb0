//! A scripted HTTP server on 127.0.0.1 for the cases a real fake cannot produce on
//! demand: a 503 then a 200, a 429, a dropped connection.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use octopus_client::{OctopusHttpClient, RetryPolicy};

pub const KEY: &str = "API-TESTKEY0123456789SECRET";

/// One request the server received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path_and_query: String,
    pub api_key: Option<String>,
    pub body: String,
    /// When it arrived.
    pub at: std::time::Instant,
}

/// What the script answers: status, headers, body.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Option<Duration>,
}

impl Answer {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.to_string(),
            delay: None,
        }
    }

    pub fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type", "text/html".into())],
            body: body.to_owned(),
            delay: None,
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

type Script = dyn Fn(&Seen, usize) -> Answer + Send + Sync;

#[derive(Clone)]
struct State {
    script: Arc<Script>,
    seen: Arc<Mutex<Vec<Seen>>>,
    in_flight: Arc<(AtomicUsize, AtomicUsize)>,
}

pub struct TestServer {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    in_flight: Arc<(AtomicUsize, AtomicUsize)>,
}

impl TestServer {
    /// Starts a server that answers each request with `script(request, index)`, where
    /// `index` counts the requests received so far.
    pub async fn start(
        script: impl Fn(&Seen, usize) -> Answer + Send + Sync + 'static,
    ) -> TestServer {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
        let state = State {
            script: Arc::new(script),
            seen: seen.clone(),
            in_flight: in_flight.clone(),
        };
        let app = axum::Router::new().fallback(handle).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        TestServer {
            url,
            seen,
            in_flight,
        }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The most requests that were being answered at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.in_flight.1.load(Ordering::SeqCst)
    }
}

async fn handle(
    axum::extract::State(state): axum::extract::State<State>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let seen = Seen {
        method: method.to_string(),
        path_and_query: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        api_key: headers
            .get("x-octopus-apikey")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: String::from_utf8_lossy(&body).into_owned(),
        at: std::time::Instant::now(),
    };
    let index = {
        let mut log = state.seen.lock().unwrap();
        log.push(seen.clone());
        log.len() - 1
    };
    let answer = (state.script)(&seen, index);
    let now = state.in_flight.0.fetch_add(1, Ordering::SeqCst) + 1;
    state.in_flight.1.fetch_max(now, Ordering::SeqCst);
    if let Some(delay) = answer.delay {
        tokio::time::sleep(delay).await;
    }
    state.in_flight.0.fetch_sub(1, Ordering::SeqCst);
    let mut response = (StatusCode::from_u16(answer.status).unwrap(), answer.body).into_response();
    for (name, value) in answer.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

/// A quick retry policy, so tests that retry do not wait long.
pub fn quick_retry(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
    }
}

pub fn client(url: &str, max_retries: u32) -> OctopusHttpClient {
    OctopusHttpClient::builder(url, KEY)
        .retry(quick_retry(max_retries))
        .build()
        .unwrap()
}

pub fn error_body(message: &str, errors: &[&str]) -> serde_json::Value {
    serde_json::json!({"ErrorMessage": message, "Errors": errors})
}

/// Parses `skip` and `take` from a query string.
pub fn skip_take(path_and_query: &str) -> (usize, usize) {
    let query = path_and_query.split_once('?').map(|(_, q)| q).unwrap_or("");
    let mut skip = 0;
    let mut take = 30;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("skip", v)) => skip = v.parse().unwrap(),
            Some(("take", v)) => take = v.parse().unwrap(),
            _ => {}
        }
    }
    (skip, take)
}

/// One page of `items` the way Octopus answers it, with `take` clamped to `max_take`
/// and `Page.Next` built on `link_path`.
pub fn page(
    items: &[serde_json::Value],
    path_and_query: &str,
    max_take: usize,
    link_path: &str,
) -> Answer {
    let (skip, take) = skip_take(path_and_query);
    let take = take.min(max_take);
    let slice: Vec<_> = items.iter().skip(skip).take(take).cloned().collect();
    let mut links = serde_json::json!({"Self": path_and_query});
    if skip + take < items.len() {
        links["Page.Next"] =
            serde_json::json!(format!("{link_path}?skip={}&take={take}", skip + take));
    }
    Answer::json(
        200,
        serde_json::json!({
            "ItemType": "Project",
            "TotalResults": items.len(),
            "ItemsPerPage": take,
            "Items": slice,
            "Links": links,
        }),
    )
}
