//! When to try a request again, and how long to wait first.

use std::time::{Duration, SystemTime};

/// How failed requests are retried.
///
/// GET, PUT and DELETE (and whole-document writes) are retried on connection errors,
/// timeouts, 500/502/503/504 and 429 (500 too, because a database deadlock or a
/// restarting node answers it and a repeated read or whole-document write is harmless).
/// A create (`POST`) is retried only when it certainly never reached the server (the
/// connection was refused) or the rate limiter turned it away (429); when it may have
/// been applied (no answer, or a 5xx), the client answers
/// [`Error::OutcomeUnknown`](crate::Error::OutcomeUnknown) instead.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 disables retrying.
    pub max_retries: u32,
    /// The wait before the first retry; doubled for each further one.
    pub initial_backoff: Duration,
    /// The longest wait between two attempts (a `Retry-After` is capped by it too).
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 5,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// What went wrong with one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The connection could not be made: the request never left.
    Connect,
    /// The request was sent (or may have been) and no complete answer came: timeout,
    /// reset, a body cut short.
    Lost,
    /// The server answered with an error status.
    Status(u16),
}

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Wait this long, then try again.
    Retry(Duration),
    /// Report the failure.
    GiveUp,
    /// Report that a non-idempotent request may have been applied.
    OutcomeUnknown,
}

impl RetryPolicy {
    /// Decides after attempt number `retries_done + 1` failed. `jitter` is a number in
    /// `[0, 1)` that spreads the waits of concurrent clients.
    pub(crate) fn decide(
        &self,
        idempotent: bool,
        failure: Failure,
        retries_done: u32,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> Decision {
        let retryable = match failure {
            Failure::Connect => true,
            Failure::Status(429) => true,
            Failure::Lost | Failure::Status(500 | 502..=504) if idempotent => true,
            Failure::Lost | Failure::Status(500 | 502..=504) => return Decision::OutcomeUnknown,
            Failure::Status(_) => false,
        };
        if !retryable || retries_done >= self.max_retries {
            return Decision::GiveUp;
        }
        let wait = match retry_after {
            Some(wait) => wait.min(self.max_backoff),
            None => self.backoff(retries_done, jitter),
        };
        Decision::Retry(wait)
    }

    /// Exponential backoff with "equal jitter": half the step is fixed, half random, so a
    /// wait is never zero and concurrent clients do not retry in lockstep.
    pub(crate) fn backoff(&self, retries_done: u32, jitter: f64) -> Duration {
        let factor = 2u32.saturating_pow(retries_done.min(30));
        let step = self
            .initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff);
        let half = step / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }
}

/// Parses a `Retry-After` header: delay seconds, or an HTTP date (a date in the past
/// means "now").
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    if let Ok(seconds) = value.parse::<f64>() {
        if seconds.is_finite() && seconds >= 0.0 {
            return Some(Duration::from_secs_f64(seconds));
        }
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
        }
    }

    #[test]
    fn idempotent_requests_retry_on_transient_failures_only() {
        let p = policy();
        for failure in [
            Failure::Connect,
            Failure::Lost,
            Failure::Status(500),
            Failure::Status(502),
            Failure::Status(503),
            Failure::Status(504),
            Failure::Status(429),
        ] {
            assert!(
                matches!(p.decide(true, failure, 0, None, 0.5), Decision::Retry(_)),
                "{failure:?}"
            );
        }
        for status in [400, 401, 403, 404, 405, 409, 501] {
            assert_eq!(
                p.decide(true, Failure::Status(status), 0, None, 0.5),
                Decision::GiveUp
            );
        }
    }

    #[test]
    fn a_create_is_retried_only_when_it_never_reached_the_server() {
        let p = policy();
        assert!(matches!(
            p.decide(false, Failure::Connect, 0, None, 0.0),
            Decision::Retry(_)
        ));
        assert!(matches!(
            p.decide(false, Failure::Status(429), 0, None, 0.0),
            Decision::Retry(_)
        ));
        for failure in [
            Failure::Lost,
            Failure::Status(500),
            Failure::Status(502),
            Failure::Status(503),
            Failure::Status(504),
        ] {
            assert_eq!(
                p.decide(false, failure, 0, None, 0.0),
                Decision::OutcomeUnknown
            );
        }
        assert_eq!(
            p.decide(false, Failure::Status(400), 0, None, 0.0),
            Decision::GiveUp
        );
    }

    #[test]
    fn retries_stop_after_the_budget() {
        let p = policy();
        assert!(matches!(
            p.decide(true, Failure::Lost, 2, None, 0.0),
            Decision::Retry(_)
        ));
        assert_eq!(
            p.decide(true, Failure::Lost, 3, None, 0.0),
            Decision::GiveUp
        );
        let none = RetryPolicy {
            max_retries: 0,
            ..policy()
        };
        assert_eq!(
            none.decide(true, Failure::Connect, 0, None, 0.0),
            Decision::GiveUp
        );
    }

    #[test]
    fn retry_after_wins_over_backoff_but_is_capped() {
        let p = policy();
        assert_eq!(
            p.decide(
                true,
                Failure::Status(429),
                0,
                Some(Duration::from_secs(1)),
                0.9
            ),
            Decision::Retry(Duration::from_secs(1))
        );
        assert_eq!(
            p.decide(
                true,
                Failure::Status(429),
                0,
                Some(Duration::from_secs(600)),
                0.9
            ),
            Decision::Retry(Duration::from_secs(2))
        );
    }

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        let p = policy();
        assert_eq!(p.backoff(0, 0.0), Duration::from_millis(50));
        assert_eq!(p.backoff(0, 1.0), Duration::from_millis(100));
        assert_eq!(p.backoff(1, 0.0), Duration::from_millis(100));
        assert_eq!(p.backoff(2, 0.5), Duration::from_millis(300));
        assert_eq!(p.backoff(10, 1.0), Duration::from_secs(2));
        assert_eq!(p.backoff(u32::MAX, 1.0), Duration::from_secs(2));
    }

    #[test]
    fn retry_after_parses_seconds_and_dates() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }
}
