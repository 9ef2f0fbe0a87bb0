//! The running server: an axum listener in front of the store, with the request
//! counters, latency, failure injection, rate limit and API-key check in front of the
//! routes.

use std::collections::BTreeSet;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use octopus_model::OctopusVersion;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::chaos::{FailInjector, RateLimiter, RateState};
use crate::config::FakeConfig;
use crate::context::{ApiRequest, Ctx, Settings, Verb};
use crate::error::FakeError;
use crate::reply::ApiError;
use crate::snapshot::Snapshot;
use crate::store::Store;
use crate::{instance, loader, routes, variables};

/// Requests served since start, by method (the stats call itself is not counted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestStats {
    /// `GET` requests.
    #[serde(rename = "GET")]
    pub get: u64,
    /// `POST` requests.
    #[serde(rename = "POST")]
    pub post: u64,
    /// `PUT` requests.
    #[serde(rename = "PUT")]
    pub put: u64,
    /// `DELETE` requests.
    #[serde(rename = "DELETE")]
    pub delete: u64,
}

impl RequestStats {
    /// All requests together.
    pub fn total(&self) -> u64 {
        self.get + self.post + self.put + self.delete
    }
}

struct Shared {
    store: Mutex<Store>,
    settings: Settings,
    api_key: String,
    stats: Mutex<RequestStats>,
    seen: Mutex<BTreeSet<(String, String)>>,
    limiter: Option<Mutex<RateLimiter>>,
    failures: Mutex<FailInjector>,
    latency: Duration,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A handler never panics while holding a lock on purpose; if one did, the data is
    // still the last consistent write, so keep serving.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    fn with_ctx<R>(&self, f: impl FnOnce(&mut Ctx<'_>) -> R) -> R {
        let mut store = lock(&self.store);
        let mut ctx = Ctx {
            store: &mut store,
            settings: &self.settings,
        };
        f(&mut ctx)
    }
}

/// A running fake Octopus server. Dropping it stops it.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use octopus_fake::{FakeConfig, FakeServer, Seed};
///
/// let server = FakeServer::start(FakeConfig::seeded(Seed::DevTest)).await?;
/// assert!(server.url().starts_with("http://127.0.0.1:"));
/// let snapshot = server.snapshot();
/// assert_eq!(snapshot.spaces[0].name, "Default");
/// server.stop().await;
/// # Ok::<(), octopus_fake::FakeError>(())
/// # }).unwrap();
/// ```
pub struct FakeServer {
    url: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FakeServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeServer")
            .field("url", &self.url)
            .field("version", &self.shared.settings.version)
            .finish_non_exhaustive()
    }
}

impl FakeServer {
    /// Loads the seed and starts serving. Must be called inside a tokio runtime.
    pub async fn start(config: FakeConfig) -> Result<FakeServer, FakeError> {
        if !(0.0..=1.0).contains(&config.fail_rate) {
            return Err(FakeError::Config(format!(
                "fail rate {} is not between 0 and 1",
                config.fail_rate
            )));
        }
        if config.rate_limit_rpm == Some(0) {
            return Err(FakeError::Config(
                "a rate limit must allow at least one request per minute".into(),
            ));
        }
        let prefix = config.normalised_prefix();
        let settings = Settings {
            version: config.version.clone(),
            strict: config.strict,
            prefix: prefix.clone(),
            installation_id: uuid::Uuid::new_v4().to_string(),
        };
        let snapshot = config.seed.snapshot()?;
        let mut store = Store::default();
        {
            let mut ctx = Ctx {
                store: &mut store,
                settings: &settings,
            };
            instance::builtins(&mut ctx);
            match &snapshot {
                Some(s) => loader::load(&mut ctx, s),
                None => {
                    let spaces = crate::spec::spec_of("spaces");
                    let body = json!({"Name": "Default", "Slug": "default", "Description": "The default space"});
                    crate::collections::create(
                        &mut ctx,
                        &crate::collections::Place::System,
                        spaces,
                        Some(body),
                        &[],
                    )
                    .map_err(|e| FakeError::Config(e.message))?;
                }
            }
        }
        if config.event_retention == Some(0) {
            return Err(FakeError::Config(
                "an event retention must keep at least one event".into(),
            ));
        }
        // What loading the seed wrote is the starting state, not history.
        store.drain_changes();
        store.events.set_retention(config.event_retention);
        let shared = Arc::new(Shared {
            store: Mutex::new(store),
            settings,
            api_key: config.api_key.clone(),
            stats: Mutex::new(RequestStats::default()),
            seen: Mutex::new(BTreeSet::new()),
            limiter: config
                .rate_limit_rpm
                .map(|rpm| Mutex::new(RateLimiter::new(rpm))),
            failures: Mutex::new(FailInjector::new(config.fail_rate, config.fail_seed)),
            latency: config.latency,
        });
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| FakeError::Bind {
                addr: config.listen.to_string(),
                source: e,
            })?;
        let addr = listener.local_addr().map_err(|e| FakeError::Bind {
            addr: config.listen.to_string(),
            source: e,
        })?;
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "octopus-fake stopped with an error");
            }
        });
        Ok(FakeServer {
            url: format!("http://{addr}{prefix}"),
            addr,
            shared,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// The base URL clients use, with the path prefix (`http://127.0.0.1:PORT` or
    /// `http://127.0.0.1:PORT/octopus`); the API is at `{url}/api`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API key the server accepts.
    pub fn api_key(&self) -> &str {
        &self.shared.api_key
    }

    /// The emulated version.
    pub fn version(&self) -> &OctopusVersion {
        &self.shared.settings.version
    }

    /// The request counters since start.
    pub fn stats(&self) -> RequestStats {
        *lock(&self.shared.stats)
    }

    /// Every reference in the spaces' documents that names no existing document (what
    /// `GET /api/fake/integrity` answers); empty when every reference resolves.
    pub fn integrity(&self) -> Vec<crate::DanglingReference> {
        crate::integrity::dangling(&lock(&self.shared.store))
    }

    /// Every distinct method and path (under the prefix, without the query) requested
    /// since start, served or not: what a client under test asked this server for.
    pub fn requests_seen(&self) -> BTreeSet<(String, String)> {
        lock(&self.shared.seen).clone()
    }

    /// The whole state as a snapshot (what `/all` would answer for every collection).
    pub fn snapshot(&self) -> Snapshot {
        self.shared.with_ctx(|ctx| loader::export(ctx))
    }

    /// Writes the state as a snapshot directory.
    pub fn write_snapshot(&self, dir: impl AsRef<Path>) -> Result<(), FakeError> {
        Ok(self.snapshot().write_dir(dir)?)
    }

    /// Adds the spaces of `snapshot` to the running server, keeping their ids (fast
    /// seeding for benchmarks: no HTTP round trips).
    pub fn load(&self, snapshot: &Snapshot) {
        self.shared.with_ctx(|ctx| {
            loader::load(ctx, snapshot);
            ctx.store.drain_changes();
        });
    }

    /// The secret stored for a sensitive variable, which the API never returns
    /// (for tests that check a secret was kept, replaced or wiped).
    pub fn variable_secret(&self, variable_set_id: &str, variable_id: &str) -> Option<String> {
        let key = variables::secret_key(variable_set_id, variable_id);
        lock(&self.shared.store).secrets.get(&key).cloned()
    }

    /// The secret behind a `SensitiveValue` field of a resource, by its path in the
    /// document (`Password`, `Steps[<step id>].Actions[<action id>].Properties.Key`;
    /// tenant variables use the resource id `tenantvariables-Tenants-1` and paths like
    /// `ProjectVariables.Projects-1.Variables.Environments-1.<template id>`).
    pub fn sensitive_value(&self, resource_id: &str, path: &str) -> Option<String> {
        let key = (resource_id.to_lowercase(), path.to_owned());
        lock(&self.shared.store).secrets.get(&key).cloned()
    }

    /// Stops serving and waits (briefly) for open connections to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_query(query: Option<&str>) -> HashMap<String, String> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(k, true).to_lowercase(),
                percent_decode(v, true),
            )
        })
        .collect()
}

fn json_response(status: u16, body: &Value, extra: HeaderMap) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut headers = extra;
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    (status, headers, body.to_string()).into_response()
}

fn error_response(e: &ApiError, extra: HeaderMap) -> Response {
    json_response(e.status, &e.body(), extra)
}

fn rate_headers(state: &RateState) -> HeaderMap {
    let mut h = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    };
    // The form Octopus 2026.3+ sends (a per-user token bucket; burst = rate here).
    put(
        "octopus-ratelimit-policy",
        format!("l={};rpm={}", state.limit, state.limit),
    );
    put(
        "octopus-ratelimit",
        format!("r={};t={}", state.remaining, state.refill_secs),
    );
    if !state.allowed {
        put("retry-after", state.reset_secs.to_string());
    }
    h
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let prefix = &shared.settings.prefix;
    let full = uri.path();
    let path = match full.get(..prefix.len()) {
        Some(head) if head.eq_ignore_ascii_case(prefix) => &full[prefix.len()..],
        _ => return error_response(&ApiError::no_route(full), HeaderMap::new()),
    };
    let path = path.trim_end_matches('/');
    if path.eq_ignore_ascii_case("/api/fake/integrity") {
        let found = crate::integrity::dangling(&lock(&shared.store));
        return json_response(200, &json!({"DanglingReferences": found}), HeaderMap::new());
    }
    if path.eq_ignore_ascii_case("/api/fake/stats") {
        let stats = *lock(&shared.stats);
        return json_response(200, &json!({"requests": stats}), HeaderMap::new());
    }
    let verb = match method {
        Method::GET => Verb::Get,
        Method::POST => Verb::Post,
        Method::PUT => Verb::Put,
        Method::DELETE => Verb::Delete,
        _ => Verb::Other,
    };
    lock(&shared.seen).insert((method.as_str().to_owned(), path.to_owned()));
    {
        let mut stats = lock(&shared.stats);
        match verb {
            Verb::Get => stats.get += 1,
            Verb::Post => stats.post += 1,
            Verb::Put => stats.put += 1,
            Verb::Delete => stats.delete += 1,
            Verb::Other => {}
        }
    }
    if !shared.latency.is_zero() {
        tokio::time::sleep(shared.latency).await;
    }
    let mut extra = HeaderMap::new();
    if let Some(limiter) = &shared.limiter {
        let state = lock(limiter).take();
        extra = rate_headers(&state);
        if !state.allowed {
            let e = ApiError {
                status: 429,
                message: format!(
                    "Too many requests. Retry after {} seconds.",
                    state.reset_secs
                ),
                errors: vec![],
            };
            return error_response(&e, extra);
        }
    }
    if let Some(status) = lock(&shared.failures).next_failure() {
        let e = ApiError {
            status,
            message: "An unexpected error occurred in Octopus (injected failure).".into(),
            errors: vec![],
        };
        return error_response(&e, extra);
    }
    let rest = if path.eq_ignore_ascii_case("/api") {
        ""
    } else {
        match path.get(..5) {
            Some(head) if head.eq_ignore_ascii_case("/api/") => &path[5..],
            _ => return error_response(&ApiError::no_route(full), extra),
        }
    };
    let query = parse_query(uri.query());
    let segments: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode(s, false))
        .collect();
    if !segments.is_empty() {
        let sent = headers
            .get("x-octopus-apikey")
            .and_then(|v| v.to_str().ok())
            .or_else(|| query.get("apikey").map(String::as_str));
        if sent != Some(shared.api_key.as_str()) {
            let message = match sent {
                None => "You must be logged in to perform this action. Please provide a valid API key in the X-Octopus-ApiKey header.",
                Some(_) => "Invalid API key.",
            };
            let e = ApiError {
                status: 401,
                message: message.into(),
                errors: vec![],
            };
            return error_response(&e, extra);
        }
    }
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) => Some(v),
            Err(e) => {
                let err = ApiError::bad_request(
                    "The request body could not be read as JSON.",
                    vec![e.to_string()],
                );
                return error_response(&err, extra);
            }
        }
    };
    let req = ApiRequest {
        verb,
        segments,
        query,
        body,
    };
    let actor = crate::events::Actor {
        user_id: "Users-1".into(),
        username: "admin".into(),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned(),
    };
    let answer = shared.with_ctx(|ctx| {
        let answer = routes::dispatch(ctx, req);
        let changes = ctx.store.drain_changes();
        if matches!(verb, Verb::Post | Verb::Put | Verb::Delete) && !changes.is_empty() {
            let occurred = crate::clock::now();
            let prefix = ctx.settings.prefix.clone();
            ctx.store.events.record(changes, &actor, &occurred, &prefix);
        }
        answer
    });
    match answer {
        Ok(reply) => json_response(reply.status, &reply.body, extra),
        Err(e) => error_response(&e, extra),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_paths_and_queries() {
        assert_eq!(percent_decode("Dev%20Team%2FA", false), "Dev Team/A");
        assert_eq!(percent_decode("a+b", true), "a b");
        assert_eq!(percent_decode("100%", false), "100%");
        let q = parse_query(Some("partialName=Oct%20FX&Take=5"));
        assert_eq!(q.get("partialname").map(String::as_str), Some("Oct FX"));
        assert_eq!(q.get("take").map(String::as_str), Some("5"));
    }
}
