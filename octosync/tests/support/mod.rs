//! A small HTTP proxy in front of an in-process fake, for tests that need answers the
//! fake does not give: a canned body for one collection, or an answer held back until
//! the client has given up (the request was applied, the answer never came).

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use octopus_fake::FakeServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A canned answer.
#[derive(Clone)]
pub struct Canned {
    /// The status line after `HTTP/1.1 `.
    pub status: &'static str,
    /// The content type.
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
}

/// What the proxy does with one request.
#[derive(Clone)]
pub enum Action {
    /// Passes it on and answers what the fake answered.
    Relay,
    /// Answers this instead; the fake never sees the request.
    Answer(Canned),
    /// Passes it on, then holds the fake's answer this long before sending it.
    RelayThenHold(Duration),
}

/// Decides, from the request line (`GET /api/... HTTP/1.1`) and the request's number,
/// what to do.
pub type Rule = dyn Fn(&str, u64) -> Action + Send + Sync;

async fn read_request(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while data.len() < head_end + length {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    }
    Some(data)
}

/// Passes one request to the fake with `Connection: close`, and returns its whole answer.
async fn relay(upstream: &str, request: &[u8]) -> Vec<u8> {
    let head_end = request
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(request.len(), |i| i + 4);
    let head = String::from_utf8_lossy(&request[..head_end]);
    let lines: Vec<&str> = head
        .split("\r\n")
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            !l.is_empty() && !l.starts_with("connection:") && !l.starts_with("host:")
        })
        .collect();
    let mut out = format!(
        "{}\r\nHost: {upstream}\r\nConnection: close\r\n\r\n",
        lines.join("\r\n")
    )
    .into_bytes();
    out.extend_from_slice(&request[head_end..]);
    let mut answer = Vec::new();
    if let Ok(mut s) = TcpStream::connect(upstream).await {
        let _ = s.write_all(&out).await;
        let _ = s.read_to_end(&mut answer).await;
    }
    answer
}

fn canned_bytes(canned: &Canned) -> Vec<u8> {
    let mut a = format!(
        "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        canned.status,
        canned.content_type,
        canned.body.len()
    )
    .into_bytes();
    a.extend_from_slice(&canned.body);
    a
}

/// Starts a proxy in front of `fake` and returns its URL.
pub async fn proxy(fake: &FakeServer, rule: Arc<Rule>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let upstream = fake.addr().to_string();
    let counter = Arc::new(AtomicU64::new(0));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let upstream = upstream.clone();
            let rule = rule.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let Some(request) = read_request(&mut stream).await else {
                    return;
                };
                let line = String::from_utf8_lossy(&request)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let answer = match rule(&line, n) {
                    Action::Relay => relay(&upstream, &request).await,
                    Action::Answer(canned) => canned_bytes(&canned),
                    Action::RelayThenHold(hold) => {
                        let answer = relay(&upstream, &request).await;
                        tokio::time::sleep(hold).await;
                        answer
                    }
                };
                let _ = stream.write_all(&answer).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

/// A proxy that answers `canned` for every request whose line contains `needle`.
pub async fn replace(fake: &FakeServer, needle: &'static str, canned: Canned) -> String {
    proxy(
        fake,
        Arc::new(move |line: &str, _| {
            if line.contains(needle) {
                Action::Answer(canned.clone())
            } else {
                Action::Relay
            }
        }),
    )
    .await
}
