//! The test levers: a token bucket for `--rate-limit-rpm` and a seeded generator for
//! `--fail-rate`, so a failing run can be repeated exactly.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A token bucket holding up to `rpm` requests, refilled at `rpm` per minute.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    rpm: u32,
    tokens: f64,
    last: Instant,
}

/// The bucket's state after a request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RateState {
    /// Whether the request may go ahead.
    pub allowed: bool,
    /// The limit per minute.
    pub limit: u32,
    /// Whole tokens left.
    pub remaining: u32,
    /// Seconds until the next token (at least 1 when refused).
    pub reset_secs: u64,
    /// Seconds until the bucket is full again.
    pub refill_secs: u64,
}

impl RateLimiter {
    /// A full bucket.
    pub fn new(rpm: u32) -> Self {
        RateLimiter {
            rpm,
            tokens: f64::from(rpm),
            last: Instant::now(),
        }
    }

    /// Takes a token if there is one.
    pub fn take(&mut self) -> RateState {
        self.take_at(Instant::now())
    }

    fn take_at(&mut self, now: Instant) -> RateState {
        let per_sec = f64::from(self.rpm) / 60.0;
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * per_sec).min(f64::from(self.rpm));
        let allowed = self.tokens >= 1.0;
        if allowed {
            self.tokens -= 1.0;
        }
        let missing = (1.0 - self.tokens).max(0.0);
        let reset = if per_sec > 0.0 {
            (missing / per_sec).ceil() as u64
        } else {
            60
        };
        let refill = if per_sec > 0.0 {
            ((f64::from(self.rpm) - self.tokens) / per_sec).ceil() as u64
        } else {
            60
        };
        RateState {
            allowed,
            refill_secs: refill,
            limit: self.rpm,
            remaining: self.tokens.floor().max(0.0) as u32,
            reset_secs: if allowed { reset } else { reset.max(1) },
        }
    }
}

/// Decides which requests fail, from a seeded generator.
#[derive(Debug)]
pub(crate) struct FailInjector {
    rate: f64,
    rng: ChaCha8Rng,
}

impl FailInjector {
    /// Fails a `rate` share of requests; the same `seed` gives the same sequence.
    pub fn new(rate: f64, seed: u64) -> Self {
        FailInjector {
            rate,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// The status to fail the next request with, if it fails.
    pub fn next_failure(&mut self) -> Option<u16> {
        if self.rate <= 0.0 {
            return None;
        }
        let roll: f64 = self.rng.random();
        if roll < self.rate {
            Some(if self.rng.random_bool(0.5) { 500 } else { 503 })
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bucket_empties_then_refills() {
        let start = Instant::now();
        let mut bucket = RateLimiter {
            rpm: 2,
            tokens: 2.0,
            last: start,
        };
        assert!(bucket.take_at(start).allowed);
        assert!(bucket.take_at(start).allowed);
        let refused = bucket.take_at(start);
        assert!(!refused.allowed);
        assert_eq!(refused.reset_secs, 30);
        assert!(bucket.take_at(start + Duration::from_secs(30)).allowed);
    }

    #[test]
    fn same_seed_same_failures() {
        let run = |seed| {
            let mut f = FailInjector::new(0.3, seed);
            (0..200).map(|_| f.next_failure()).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        let failures = run(7).iter().filter(|f| f.is_some()).count();
        assert!(failures > 20 && failures < 120, "{failures}");
        assert!(FailInjector::new(0.0, 1).next_failure().is_none());
    }
}
