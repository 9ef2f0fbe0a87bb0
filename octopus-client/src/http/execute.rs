//! Sending one request: pacing, the concurrency limit, attempts, retries, tracing and
//! error mapping.

use std::time::{Instant, SystemTime};

use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::{field::Empty, Instrument, Level};

use super::OctopusHttpClient;
use crate::error::{error_from_status, Error, Result};
use crate::pacing::RateLimitHeaders;
use crate::request::{ApiRequest, Method};
use crate::retry::{parse_retry_after, Decision, Failure};

const API_KEY_HEADER: &str = "X-Octopus-ApiKey";

/// Below this many remaining requests in the server's budget, requests are spaced out.
const LOW_WATER_FACTOR: u64 = 2;

/// The outcome of one attempt.
enum Attempt {
    Answered(Vec<u8>),
    Failed {
        failure: Failure,
        retry_after: Option<std::time::Duration>,
        error: Error,
    },
}

fn reqwest_method(method: Method) -> reqwest::Method {
    match method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Delete => reqwest::Method::DELETE,
    }
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Logs a body at TRACE, secrets redacted.
fn trace_body(direction: &str, body: &[u8]) {
    if tracing::enabled!(Level::TRACE) {
        match serde_json::from_slice::<Value>(body) {
            Ok(mut json) => {
                octopus_model::redact_json(&mut json);
                tracing::trace!(body = %json, "{direction} body");
            }
            Err(_) => tracing::trace!(bytes = body.len(), "{direction} body (not JSON)"),
        }
    }
}

impl OctopusHttpClient {
    /// Sends `request`, retrying as the policy allows; answers the body of the first
    /// successful answer.
    pub(crate) async fn execute(&self, request: &ApiRequest) -> Result<Vec<u8>> {
        let inner = &self.inner;
        let url = request.url(&inner.base);
        let path = request.path();
        let body = match &request.body {
            Some(body) => Some(serde_json::to_vec(body).map_err(|e| Error::Decode {
                url: url.to_string(),
                path: ".".to_owned(),
                message: format!("cannot encode the request body: {e}"),
            })?),
            None => None,
        };
        let mut retries_done = 0u32;
        loop {
            let attempt = retries_done + 1;
            // The permit first: a start time reserved while queueing for a permit would
            // be stale by the time the request goes, and would ignore what the answers
            // in between said about the server's budget.
            let permit = inner.permits.acquire().await;
            inner.pacer.wait_turn().await;
            let span = tracing::info_span!(
                "octopus_request",
                method = request.method.as_str(),
                path = %path,
                attempt,
                status = Empty,
                duration_ms = Empty,
            );
            let outcome = self
                .attempt(request.method, &url, body.as_deref(), attempt)
                .instrument(span)
                .await;
            drop(permit);
            let (failure, retry_after, error) = match outcome {
                Attempt::Answered(bytes) => return Ok(bytes),
                Attempt::Failed {
                    failure,
                    retry_after,
                    error,
                } => (failure, retry_after, error),
            };
            let jitter: f64 = rand::random();
            match inner.retry.decide(
                request.idempotent,
                failure,
                retries_done,
                retry_after,
                jitter,
            ) {
                Decision::Retry(wait) => {
                    tracing::debug!(
                        method = request.method.as_str(),
                        path = %path,
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        error = %error,
                        "retrying"
                    );
                    // The pause applies to every request of the client: the server's
                    // limit is per user, not per request.
                    inner.pacer.pause_for(wait);
                    retries_done += 1;
                }
                Decision::GiveUp => return Err(error),
                Decision::OutcomeUnknown => {
                    return Err(Error::OutcomeUnknown {
                        method: request.method.as_str().to_owned(),
                        url: url.to_string(),
                        reason: error.to_string(),
                    })
                }
            }
        }
    }

    async fn attempt(
        &self,
        method: Method,
        url: &url::Url,
        body: Option<&[u8]>,
        attempt: u32,
    ) -> Attempt {
        let inner = &self.inner;
        inner.counters.sent(method, attempt);
        let started = Instant::now();
        let mut builder = inner
            .http
            .request(reqwest_method(method), url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .header(API_KEY_HEADER, inner.key_header.clone());
        if let Some(body) = body {
            trace_body("request", body);
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        let transport = |e: reqwest::Error| {
            let failure = if e.is_connect() {
                Failure::Connect
            } else {
                Failure::Lost
            };
            let message = if e.is_timeout() {
                "timed out".to_owned()
            } else if e.is_connect() {
                "cannot connect".to_owned()
            } else {
                "the connection failed".to_owned()
            };
            tracing::debug!(error = %e, "{message}");
            Attempt::Failed {
                failure,
                retry_after: None,
                error: Error::Transport {
                    method: method.as_str().to_owned(),
                    url: url.to_string(),
                    message,
                    source: Some(e.without_url()),
                },
            }
        };
        let response = match builder.send().await {
            Ok(response) => response,
            Err(e) => return transport(e),
        };
        let status = response.status().as_u16();
        let span = tracing::Span::current();
        span.record("status", status);
        if inner.pace_from_headers {
            let limits = RateLimitHeaders::parse(
                header(&response, "Octopus-RateLimit"),
                header(&response, "Octopus-RateLimit-Policy"),
            );
            inner
                .pacer
                .observe(&limits, inner.max_concurrency as u64 * LOW_WATER_FACTOR);
        }
        let retry_after =
            header(&response, "Retry-After").and_then(|v| parse_retry_after(v, SystemTime::now()));
        let bytes = match response.bytes().await {
            Ok(bytes) => bytes.to_vec(),
            Err(e) => return transport(e),
        };
        let duration_ms = started.elapsed().as_millis() as u64;
        span.record("duration_ms", duration_ms);
        tracing::debug!(status, duration_ms, "octopus request");
        if (200..300).contains(&status) {
            trace_body("response", &bytes);
            return Attempt::Answered(bytes);
        }
        let (method_text, url_text) = (method.as_str(), url.as_str());
        if status == 429 {
            inner.counters.throttled();
            return Attempt::Failed {
                failure: Failure::Status(429),
                retry_after,
                error: Error::RateLimited {
                    method: method_text.to_owned(),
                    url: url_text.to_owned(),
                    retry_after,
                },
            };
        }
        Attempt::Failed {
            failure: Failure::Status(status),
            retry_after: retry_after.filter(|_| status == 503),
            error: error_from_status(status, method_text, url_text, &bytes),
        }
    }

    /// Sends `request` and decodes the answer as `T`, naming the JSON path on failure.
    pub(crate) async fn fetch<T: DeserializeOwned>(&self, request: &ApiRequest) -> Result<T> {
        let bytes = self.execute(request).await?;
        decode_answer(&bytes, request, self)
    }

    /// Sends `request` and answers the JSON document (`{}` for an empty body).
    pub(crate) async fn fetch_json(&self, request: &ApiRequest) -> Result<Value> {
        let bytes = self.execute(request).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Object(Default::default()));
        }
        decode_answer(&bytes, request, self)
    }
}

fn decode_answer<T: DeserializeOwned>(
    bytes: &[u8],
    request: &ApiRequest,
    client: &OctopusHttpClient,
) -> Result<T> {
    octopus_model::decode(bytes).map_err(|e| Error::Decode {
        url: request.url(&client.inner.base).to_string(),
        path: e.path,
        message: e.message,
    })
}
