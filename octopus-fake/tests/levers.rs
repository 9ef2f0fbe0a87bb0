//! The test levers over real HTTP: request counters, rate limit, failure injection,
//! strict mode and latency.

mod common;

use std::time::{Duration, Instant};

use common::{start, start_with};
use octopus_fake::{FakeConfig, Seed};
use serde_json::json;

#[tokio::test]
async fn stats_count_requests_by_method_but_not_themselves() {
    let (server, api) = start(Seed::Empty).await;
    api.ok("Spaces-1/environments").await;
    api.ok("Spaces-1/environments/all").await;
    let env = api
        .created("Spaces-1/environments", json!({"Name": "A"}))
        .await;
    api.put("Spaces-1/environments/Environments-1", env).await;
    api.delete("Spaces-1/environments/Environments-1").await;
    api.get("Spaces-1/environments/Environments-1").await;
    let stats: serde_json::Value = reqwest::get(format!("{}/api/fake/stats", server.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        stats,
        json!({"requests": {"GET": 3, "POST": 1, "PUT": 1, "DELETE": 1}})
    );
    let again: serde_json::Value = reqwest::get(format!("{}/api/fake/stats", server.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again, stats);
    assert_eq!(server.stats().total(), 6);
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after() {
    let config = FakeConfig {
        rate_limit_rpm: Some(3),
        ..FakeConfig::default()
    };
    let (_s, api) = start_with(config).await;
    for _ in 0..3 {
        let ok = api.get("Spaces-1/environments").await;
        assert_eq!(ok.status, 200);
        assert_eq!(ok.headers["octopus-ratelimit-policy"], "l=3;rpm=3");
    }
    let limited = api.get("Spaces-1/environments").await;
    assert_eq!(limited.status, 429);
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry), "{retry}");
    assert!(limited.headers["octopus-ratelimit"]
        .to_str()
        .unwrap()
        .starts_with("r=0;t="));
    assert!(limited.body["ErrorMessage"]
        .as_str()
        .unwrap()
        .contains("Too many requests"));
}

async fn statuses(seed: u64, n: usize) -> Vec<u16> {
    let config = FakeConfig {
        fail_rate: 0.4,
        fail_seed: seed,
        ..FakeConfig::default()
    };
    let (_s, api) = start_with(config).await;
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(api.get("Spaces-1/environments").await.status);
    }
    out
}

#[tokio::test]
async fn failures_are_random_but_repeatable() {
    let first = statuses(42, 60).await;
    let second = statuses(42, 60).await;
    assert_eq!(first, second);
    assert!(first.iter().all(|s| matches!(s, 200 | 500 | 503)));
    assert!(first.contains(&200));
    assert!(first.iter().any(|s| *s >= 500));
    let all_fail = FakeConfig {
        fail_rate: 1.0,
        ..FakeConfig::default()
    };
    let (_s, api) = start_with(all_fail).await;
    let failed = api.get("Spaces-1/environments").await;
    assert!(failed.status >= 500);
    assert!(failed.body["ErrorMessage"].is_string());
}

#[tokio::test]
async fn fields_the_version_does_not_know_are_dropped_or_refused_when_strict() {
    let version = "2024.1.5".parse().unwrap();
    let body = json!({"Name": "Tagged", "EnvironmentTags": ["Region/EU"]});
    let lenient = FakeConfig::default().with_version(version);
    let (_s, api) = start_with(lenient.clone()).await;
    // Without --strict the field is dropped, as a typed server drops what it has no
    // property for: neither the answer nor a later read has it.
    let created = api.post("Spaces-1/environments", body.clone()).await;
    assert_eq!(created.status, 201);
    assert!(
        created.body.get("EnvironmentTags").is_none(),
        "{}",
        created.body
    );
    let id = created.body["Id"].as_str().unwrap().to_owned();
    let mut read = api.ok(&format!("Spaces-1/environments/{id}")).await;
    assert!(read.get("EnvironmentTags").is_none());
    read["EnvironmentTags"] = json!(["Region/EU"]);
    let updated = api.put(&format!("Spaces-1/environments/{id}"), read).await;
    assert_eq!(updated.status, 200);
    assert!(updated.body.get("EnvironmentTags").is_none());
    let (_s, api) = start_with(FakeConfig {
        strict: true,
        ..lenient
    })
    .await;
    let refused = api.post("Spaces-1/environments", body.clone()).await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.body["Errors"],
        json!(["The property 'EnvironmentTags' is not recognised."])
    );
    assert_eq!(
        api.post("Spaces-1/environments", json!({"Name": "Plain"}))
            .await
            .status,
        201
    );
    // A version that knows the field takes it, strict or not.
    let newer = FakeConfig {
        strict: true,
        ..FakeConfig::default().with_version("2025.4.3897".parse().unwrap())
    };
    let (_s, api) = start_with(newer).await;
    assert_eq!(api.post("Spaces-1/environments", body).await.status, 201);
}

#[tokio::test]
async fn latency_delays_every_request_by_at_least_the_setting() {
    let config = FakeConfig {
        latency: Duration::from_millis(40),
        ..FakeConfig::default()
    };
    let (_s, api) = start_with(config).await;
    let started = Instant::now();
    api.ok("Spaces-1/environments").await;
    api.ok("Spaces-1/projects").await;
    assert!(started.elapsed() >= Duration::from_millis(80));
}

#[tokio::test]
async fn invalid_settings_are_refused() {
    let bad = FakeConfig {
        fail_rate: 1.5,
        ..FakeConfig::default()
    };
    assert!(octopus_fake::FakeServer::start(bad).await.is_err());
    let zero = FakeConfig {
        rate_limit_rpm: Some(0),
        ..FakeConfig::default()
    };
    assert!(octopus_fake::FakeServer::start(zero).await.is_err());
}
