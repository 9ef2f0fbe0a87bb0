//! Request counters: how many HTTP requests a client sent, by method.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::request::Method;

/// How many HTTP requests a client has sent since it was built, by method. Every attempt
/// counts, retries included; `retries` and `throttled` say how many of them were repeats
/// and how many answers were 429.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestStats {
    /// GET requests.
    pub get: u64,
    /// POST requests.
    pub post: u64,
    /// PUT requests.
    pub put: u64,
    /// DELETE requests.
    pub delete: u64,
    /// Attempts that repeated an earlier one.
    pub retries: u64,
    /// 429 answers.
    pub throttled: u64,
}

impl RequestStats {
    /// Every request sent.
    pub fn total(&self) -> u64 {
        self.get + self.post + self.put + self.delete
    }
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    get: AtomicU64,
    post: AtomicU64,
    put: AtomicU64,
    delete: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
}

impl Counters {
    pub(crate) fn sent(&self, method: Method, attempt: u32) {
        let counter = match method {
            Method::Get => &self.get,
            Method::Post => &self.post,
            Method::Put => &self.put,
            Method::Delete => &self.delete,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if attempt > 1 {
            self.retries.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> RequestStats {
        RequestStats {
            get: self.get.load(Ordering::Relaxed),
            post: self.post.load(Ordering::Relaxed),
            put: self.put.load(Ordering::Relaxed),
            delete: self.delete.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
        }
    }
}
