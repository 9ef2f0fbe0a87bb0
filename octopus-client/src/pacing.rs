//! Politeness: spacing requests under an optional requests-per-minute cap, slowing down
//! when the server's rate-limit headers say the budget is nearly spent, and pausing every
//! request after a 429.
//!
//! Octopus 2026.3+ sends `Octopus-RateLimit-Policy: l=<burst>;rpm=<rate>` and
//! `Octopus-RateLimit: r=<remaining>;t=<seconds until the budget refills>`.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// What the `Octopus-RateLimit*` headers of one response said.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct RateLimitHeaders {
    /// Requests left in the current budget.
    pub remaining: Option<u64>,
    /// Seconds until the budget refills.
    pub reset: Option<Duration>,
    /// The sustained rate the policy allows.
    pub rpm: Option<u64>,
}

fn parse_pairs(value: &str) -> impl Iterator<Item = (&str, &str)> {
    value
        .split([';', ','])
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => (key.trim(), value.trim()),
            // A bare number is the quota of the IETF draft form (`200;w=60`).
            None => ("q", pair.trim()),
        })
}

fn seconds(value: &str) -> Option<Duration> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

impl RateLimitHeaders {
    /// Reads the two headers (either may be absent). Both the Octopus form
    /// (`r=…;t=…`, `l=…;rpm=…`) and the IETF draft form (`limit=…, remaining=…,
    /// reset=…`, `200;w=60`) are understood.
    pub(crate) fn parse(rate_limit: Option<&str>, policy: Option<&str>) -> Self {
        let mut out = Self::default();
        for (key, value) in rate_limit.into_iter().flat_map(parse_pairs) {
            match key.to_ascii_lowercase().as_str() {
                "r" | "remaining" => out.remaining = value.parse().ok(),
                "t" | "reset" => out.reset = seconds(value),
                _ => {}
            }
        }
        let mut quota: Option<u64> = None;
        let mut window = 60u64;
        for (key, value) in policy.into_iter().flat_map(parse_pairs) {
            match key.to_ascii_lowercase().as_str() {
                "rpm" => out.rpm = value.parse().ok(),
                "q" => quota = value.parse().ok(),
                "w" => window = value.parse().ok().filter(|w| *w > 0).unwrap_or(60),
                _ => {}
            }
        }
        if out.rpm.is_none() {
            out.rpm = quota.map(|q| q * 60 / window);
        }
        out.rpm = out.rpm.filter(|rpm| *rpm > 0);
        out
    }

    /// How to pace while the budget is low: pause until it refills when it is spent;
    /// space requests evenly over what is left when fewer than `low_water` remain.
    pub(crate) fn advice(&self, low_water: u64) -> Option<Advice> {
        let remaining = self.remaining?;
        let reset = self.reset.unwrap_or(Duration::from_secs(1));
        if remaining == 0 {
            return Some(Advice::PauseFor(reset));
        }
        if remaining >= low_water {
            return None;
        }
        let spacing = match self.rpm {
            Some(rpm) => Duration::from_secs(60) / u32::try_from(rpm).unwrap_or(u32::MAX),
            None => reset / u32::try_from(remaining + 1).unwrap_or(u32::MAX),
        };
        Some(Advice::Space {
            spacing,
            for_: reset,
        })
    }
}

/// How to slow down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Advice {
    /// Send nothing for this long.
    PauseFor(Duration),
    /// Keep `spacing` between request starts for `for_`.
    Space { spacing: Duration, for_: Duration },
}

#[derive(Debug)]
struct State {
    /// The earliest start of the next request.
    next_slot: Instant,
    /// Spacing asked for by the server, and until when.
    server_spacing: Option<(Duration, Instant)>,
}

/// Shared by every request of one client.
#[derive(Debug)]
pub(crate) struct Pacer {
    /// From the optional requests-per-minute cap.
    cap_spacing: Option<Duration>,
    state: Mutex<State>,
}

impl Pacer {
    pub(crate) fn new(requests_per_minute: Option<u32>) -> Self {
        Self {
            cap_spacing: requests_per_minute
                .filter(|rpm| *rpm > 0)
                .map(|rpm| Duration::from_secs(60) / rpm),
            state: Mutex::new(State {
                next_slot: Instant::now(),
                server_spacing: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means another request panicked mid-update; the state is
        // two instants and stays usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reserves the next start time and waits for it.
    pub(crate) async fn wait_turn(&self) {
        let start = {
            let mut state = self.lock();
            let now = Instant::now();
            let start = state.next_slot.max(now);
            let server = match state.server_spacing {
                Some((spacing, until)) if until > now => spacing,
                _ => {
                    state.server_spacing = None;
                    Duration::ZERO
                }
            };
            let spacing = self.cap_spacing.unwrap_or(Duration::ZERO).max(server);
            state.next_slot = start + spacing;
            start
        };
        tokio::time::sleep_until(start).await;
    }

    /// Holds every request back for `wait` (after a 429, or a spent budget).
    pub(crate) fn pause_for(&self, wait: Duration) {
        let mut state = self.lock();
        let until = Instant::now() + wait;
        if state.next_slot < until {
            state.next_slot = until;
        }
    }

    /// Applies what a response's rate-limit headers advise.
    pub(crate) fn observe(&self, headers: &RateLimitHeaders, low_water: u64) {
        match headers.advice(low_water) {
            Some(Advice::PauseFor(wait)) => self.pause_for(wait),
            Some(Advice::Space { spacing, for_ }) => {
                self.lock().server_spacing = Some((spacing, Instant::now() + for_));
            }
            None => self.lock().server_spacing = None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_parse() {
        let h = RateLimitHeaders::parse(Some("r=12;t=30"), Some("l=200;rpm=200"));
        assert_eq!(
            h,
            RateLimitHeaders {
                remaining: Some(12),
                reset: Some(Duration::from_secs(30)),
                rpm: Some(200)
            }
        );
        assert_eq!(
            RateLimitHeaders::parse(None, None),
            RateLimitHeaders::default()
        );
        assert_eq!(
            RateLimitHeaders::parse(Some("r = 3 , t = 1.5"), Some("rpm=0")),
            RateLimitHeaders {
                remaining: Some(3),
                reset: Some(Duration::from_millis(1500)),
                rpm: None
            }
        );
    }

    #[test]
    fn advice_follows_the_remaining_budget() {
        let plenty = RateLimitHeaders::parse(Some("r=150;t=10"), Some("rpm=200"));
        assert_eq!(plenty.advice(16), None);
        let spent = RateLimitHeaders::parse(Some("r=0;t=7"), None);
        assert_eq!(
            spent.advice(16),
            Some(Advice::PauseFor(Duration::from_secs(7)))
        );
        let low = RateLimitHeaders::parse(Some("r=4;t=10"), None);
        assert_eq!(
            low.advice(16),
            Some(Advice::Space {
                spacing: Duration::from_secs(2),
                for_: Duration::from_secs(10)
            })
        );
        let low_with_policy = RateLimitHeaders::parse(Some("r=4;t=10"), Some("rpm=120"));
        assert_eq!(
            low_with_policy.advice(16),
            Some(Advice::Space {
                spacing: Duration::from_millis(500),
                for_: Duration::from_secs(10)
            })
        );
        assert_eq!(RateLimitHeaders::default().advice(16), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cap_spaces_request_starts() {
        let pacer = Pacer::new(Some(600));
        let t0 = Instant::now();
        for _ in 0..4 {
            pacer.wait_turn().await;
        }
        // Three gaps of 100 ms (the clock is paused, so this is exact).
        assert_eq!(Instant::now() - t0, Duration::from_millis(300));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_the_next_request() {
        let pacer = Pacer::new(None);
        let t0 = Instant::now();
        pacer.wait_turn().await;
        assert_eq!(Instant::now(), t0);
        pacer.pause_for(Duration::from_secs(3));
        pacer.wait_turn().await;
        assert_eq!(Instant::now() - t0, Duration::from_secs(3));
        pacer.observe(&RateLimitHeaders::parse(Some("r=1;t=4"), None), 8);
        pacer.wait_turn().await;
        pacer.wait_turn().await;
        assert_eq!(Instant::now() - t0, Duration::from_secs(5));
    }
}
