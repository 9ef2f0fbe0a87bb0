//! `OctopusHttpClient`: the traits over HTTP, with bounded concurrency, pacing, retries
//! and typed errors.

mod events;
mod execute;
mod read;
mod write;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use octopus_model::{ResourceKind, SpaceId};
use tokio::sync::{OnceCell, Semaphore};

use crate::api_key::ApiKey;
use crate::error::{Error, Result};
use crate::pacing::Pacer;
use crate::request::ApiBase;
use crate::retry::RetryPolicy;
use crate::stats::{Counters, RequestStats};

/// Which space a client works in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpaceSelector {
    /// The server's default space, through the unscoped routes (`/api/projects`); also
    /// what servers from before spaces have.
    Default,
    /// A space by id (`Spaces-2`).
    Id(SpaceId),
    /// A space by name, resolved to its id once, on first use.
    Name(String),
}

/// Builds an [`OctopusHttpClient`].
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    server_url: String,
    api_key: ApiKey,
    space: SpaceSelector,
    allow_http: bool,
    timeout: Duration,
    connect_timeout: Duration,
    max_concurrency: usize,
    retry: RetryPolicy,
    requests_per_minute: Option<u32>,
    pace_from_headers: bool,
    page_size: u64,
}

impl ClientBuilder {
    /// The space to work in (default: the server's default space).
    pub fn space(mut self, space: SpaceSelector) -> Self {
        self.space = space;
        self
    }

    /// The space to work in, by name.
    pub fn space_name(self, name: impl Into<String>) -> Self {
        self.space(SpaceSelector::Name(name.into()))
    }

    /// The space to work in, by id.
    pub fn space_id(self, id: impl Into<SpaceId>) -> Self {
        self.space(SpaceSelector::Id(id.into()))
    }

    /// Allows plain http to a host that is not a loopback address. The API key then
    /// travels unencrypted.
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// The longest one attempt may take, from sending to the end of the answer (default
    /// 100 s: some variable-set reads are slow on large instances).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The longest a connection may take to open (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How many requests may be in flight at once (default 8; at least 1).
    pub fn max_concurrency(mut self, max: usize) -> Self {
        self.max_concurrency = max.max(1);
        self
    }

    /// How failed requests are retried.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Caps the request rate, whatever the server allows (default: no cap).
    pub fn requests_per_minute(mut self, rpm: Option<u32>) -> Self {
        self.requests_per_minute = rpm.filter(|rpm| *rpm > 0);
        self
    }

    /// Whether to slow down when the server's `Octopus-RateLimit` headers say its budget
    /// is nearly spent (default: yes). A 429's `Retry-After` is honoured either way.
    pub fn pace_from_headers(mut self, pace: bool) -> Self {
        self.pace_from_headers = pace;
        self
    }

    /// The `take` asked for when a collection has to be paged (default 1000; the
    /// client follows `Page.Next` whatever the server honours).
    pub fn page_size(mut self, take: u64) -> Self {
        self.page_size = take.max(1);
        self
    }

    /// Builds the client. No request is sent yet.
    pub fn build(self) -> Result<OctopusHttpClient> {
        let base = ApiBase::parse(&self.server_url, self.allow_http)?;
        let mut key_header = reqwest::header::HeaderValue::from_str(self.api_key.expose())
            .map_err(|_| {
                Error::Config("the API key contains characters a header cannot carry".into())
            })?;
        key_header.set_sensitive(true);
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            // A redirect would carry the API key header to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("octosync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(OctopusHttpClient {
            inner: Arc::new(Inner {
                http,
                base,
                key_header,
                space: self.space,
                space_id: OnceCell::new(),
                max_concurrency: self.max_concurrency,
                permits: Semaphore::new(self.max_concurrency),
                pacer: Pacer::new(self.requests_per_minute),
                pace_from_headers: self.pace_from_headers,
                retry: self.retry,
                counters: Counters::default(),
                page_size: self.page_size,
                no_all_endpoint: Mutex::new(HashSet::new()),
            }),
        })
    }
}

/// An Octopus Deploy REST API client over HTTP (reqwest with rustls), implementing
/// [`OctopusRead`](crate::OctopusRead) and [`OctopusWrite`](crate::OctopusWrite).
///
/// Cheap to clone: clones share the connection pool, the concurrency limit, the pacing
/// and the counters.
///
/// - every collection is read whole: `/all` where the server has it, otherwise every
///   page by `Page.Next`, with duplicates (items shifting between pages) dropped and a
///   short read reported as [`Error::Paging`];
/// - at most `max_concurrency` requests are in flight (default 8);
/// - requests are spaced under the optional requests-per-minute cap and slowed when the
///   server's `Octopus-RateLimit` headers say the budget is nearly spent; a 429 holds
///   every request back for its `Retry-After`;
/// - GET, PUT and DELETE are retried with exponential backoff and jitter on connection
///   errors, timeouts, 502/503/504 and 429; a create is retried only when it never left
///   or was turned away by the rate limiter, and otherwise fails with
///   [`Error::OutcomeUnknown`];
/// - every attempt is a `tracing` span `octopus_request` (method, path, attempt,
///   status, duration); bodies are logged only at TRACE, with secrets redacted; the API
///   key never is.
#[derive(Clone, Debug)]
pub struct OctopusHttpClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    base: ApiBase,
    key_header: reqwest::header::HeaderValue,
    space: SpaceSelector,
    space_id: OnceCell<Option<SpaceId>>,
    max_concurrency: usize,
    permits: Semaphore,
    pacer: Pacer,
    pace_from_headers: bool,
    retry: RetryPolicy,
    counters: Counters,
    page_size: u64,
    /// Kinds whose `/all` answered 404 on this server; they are paged from then on.
    no_all_endpoint: Mutex<HashSet<ResourceKind>>,
}

impl OctopusHttpClient {
    /// Starts building a client for the server at `server_url` (`https://host`, or
    /// `https://host/prefix/` behind a reverse proxy).
    pub fn builder(server_url: impl Into<String>, api_key: impl Into<ApiKey>) -> ClientBuilder {
        ClientBuilder {
            server_url: server_url.into(),
            api_key: api_key.into(),
            space: SpaceSelector::Default,
            allow_http: false,
            timeout: Duration::from_secs(100),
            connect_timeout: Duration::from_secs(10),
            max_concurrency: 8,
            retry: RetryPolicy::default(),
            requests_per_minute: None,
            pace_from_headers: true,
            page_size: 1000,
        }
    }

    /// The API root this client talks to.
    pub fn api_base(&self) -> &ApiBase {
        &self.inner.base
    }

    /// How many requests this client (and its clones) has sent, by method.
    pub fn stats(&self) -> RequestStats {
        self.inner.counters.snapshot()
    }

    /// The configured concurrency limit.
    pub fn max_concurrency(&self) -> usize {
        self.inner.max_concurrency
    }

    /// The id of the space this client works in; `None` for the default space through
    /// unscoped routes. Resolves a space name on first use.
    pub async fn space_id(&self) -> Result<Option<SpaceId>> {
        self.inner
            .space_id
            .get_or_try_init(|| async {
                match &self.inner.space {
                    SpaceSelector::Default => Ok(None),
                    SpaceSelector::Id(id) => Ok(Some(id.clone())),
                    SpaceSelector::Name(name) => {
                        let space = crate::OctopusRead::space_by_name(self, name)
                            .await?
                            .ok_or_else(|| Error::SpaceNotFound(name.clone()))?;
                        let id = space
                            .id
                            .get()
                            .cloned()
                            .ok_or_else(|| Error::SpaceNotFound(name.clone()))?;
                        Ok(Some(id))
                    }
                }
            })
            .await
            .cloned()
    }

    /// The space for a kind's routes: none for system kinds.
    async fn space_for(&self, kind: ResourceKind) -> Result<Option<SpaceId>> {
        match kind.scope() {
            octopus_model::ResourceScope::Space => self.space_id().await,
            octopus_model::ResourceScope::System => Ok(None),
        }
    }
}
