//! Faults: with 10% of requests answered 500/503 (seeded) and some answers held back
//! past the client's timeout after the server applied the request (seeded), syncing
//! the demo's instances again and again converges to the same destination as a run
//! without faults: no duplicate item, nothing lost.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use octopus_client::{ApiKey, OctopusHttpClient, RetryPolicy};
use octopus_fake::{FakeConfig, FakeServer, Seed, Snapshot};
use octosync::apply::ApplyOptions;
use octosync::config::SyncConfig;
use octosync::demo::DEMO_CONFIG;
use octosync::runner::{run_instances, Destination, Mode, Source};
use serde_json::Value;
use support::Action;

/// Runs at most this many times before giving up on convergence.
const MAX_RUNS: usize = 12;

struct Faults {
    fail_rate: f64,
    /// Out of 1000, how many answers are held back past the client's timeout.
    held_per_mille: u64,
    seed: u64,
}

fn client(url: &str, key: &str, timeout: Duration) -> OctopusHttpClient {
    OctopusHttpClient::builder(url, ApiKey::new(key))
        .space_name("Default")
        .timeout(timeout)
        .retry(RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(50),
        })
        .build()
        .unwrap()
}

/// splitmix64 of the request number and the seed: a seeded coin per request.
fn coin(seed: u64, n: u64) -> u64 {
    let mut z = seed
        .wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) % 1000
}

/// How a convergence went.
struct Converged {
    /// The destination's state at the end.
    state: Snapshot,
    /// Runs, the last one finding nothing to do.
    runs: usize,
    /// Requests the clients sent again (after a 5xx or a timeout).
    retries: u64,
}

/// Syncs the demo's instances until a run applies nothing and fails nothing.
async fn converge(faults: &Faults) -> Converged {
    let config = SyncConfig::parse(DEMO_CONFIG, "demo/sync.toml").unwrap();
    let with = |seed| FakeConfig {
        fail_rate: faults.fail_rate,
        fail_seed: faults.seed,
        ..FakeConfig::seeded(seed)
    };
    let src = FakeServer::start(with(Seed::DevTest)).await.unwrap();
    let dst = FakeServer::start(with(Seed::StagingProduction))
        .await
        .unwrap();
    let timeout = Duration::from_millis(1_500);
    let hold = Duration::from_millis(2_000);
    let (seed, per_mille) = (faults.seed, faults.held_per_mille);
    let dst_url = support::proxy(
        &dst,
        Arc::new(move |_: &str, n| {
            if coin(seed, n) < per_mille {
                Action::RelayThenHold(hold)
            } else {
                Action::Relay
            }
        }),
    )
    .await;
    let source = client(src.url(), src.api_key(), timeout);
    let destination = client(&dst_url, dst.api_key(), timeout);
    let dest = &config.destinations[0];
    let dests = [Destination::live(
        "staging-production",
        "Default",
        &destination,
        dest.rules.clone(),
    )];
    let options = ApplyOptions {
        continue_on_error: true,
        ..ApplyOptions::default()
    };
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs <= MAX_RUNS, "no convergence after {MAX_RUNS} runs");
        // A run that cannot even load (every retry of one read failed) is just tried
        // again, as an operator would.
        let Ok(mut results) = run_instances(
            &Source::live("dev-test", "Default", &source),
            &dests,
            &Mode::Apply(options.clone()),
        )
        .await
        else {
            continue;
        };
        let one = results.remove(0);
        let (Ok(plan), Some(applied)) = (one.plan, one.applied) else {
            continue;
        };
        if !plan.has_changes() && applied.is_success() {
            break;
        }
    }
    // Faults or not, every reference the sync left resolves.
    assert_eq!(dst.integrity(), Vec::new());
    let state = dst.snapshot();
    src.stop().await;
    dst.stop().await;
    Converged {
        state,
        runs,
        retries: source.stats().retries + destination.stats().retries,
    }
}

fn looks_like_id(s: &str) -> bool {
    let guid = s.len() == 36
        && s.chars().filter(|c| *c == '-').count() == 4
        && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    let numbered = s.rsplit_once('-').is_some_and(|(prefix, n)| {
        !n.is_empty()
            && n.chars().all(|c| c.is_ascii_digit())
            && !prefix.is_empty()
            && prefix.chars().all(|c| c.is_ascii_alphabetic() || c == '-')
    });
    guid || numbered
}

/// The document without what differs between two equal states: ids (in values and
/// keys), timestamps, links, versions and concurrency tokens.
fn normalise(value: &Value) -> Value {
    const VOLATILE: [&str; 6] = [
        "Id",
        "LastModifiedOn",
        "LastModifiedBy",
        "Links",
        "Version",
        "ConcurrencyToken",
    ];
    match value {
        Value::String(s) if looks_like_id(s) => Value::String("<id>".into()),
        Value::Array(items) => Value::Array(items.iter().map(normalise).collect()),
        Value::Object(map) => {
            let mut pairs: Vec<(String, String)> = map
                .iter()
                .filter(|(k, _)| !VOLATILE.contains(&k.as_str()))
                .map(|(k, v)| {
                    let key = if looks_like_id(k) { "<id>" } else { k.as_str() };
                    (key.to_owned(), normalise(v).to_string())
                })
                .collect();
            pairs.sort();
            Value::Array(
                pairs
                    .into_iter()
                    .map(|(k, v)| Value::String(format!("{k}={v}")))
                    .collect(),
            )
        }
        other => other.clone(),
    }
}

/// Each collection as a sorted list of normalised documents.
fn state(snapshot: &Snapshot) -> BTreeMap<String, Vec<String>> {
    snapshot.spaces[0]
        .collections
        .iter()
        .map(|(name, docs)| {
            let mut docs: Vec<String> = docs.iter().map(|d| normalise(d).to_string()).collect();
            docs.sort();
            (name.clone(), docs)
        })
        .collect()
}

fn assert_no_duplicate_names(snapshot: &Snapshot) {
    for (collection, docs) in &snapshot.spaces[0].collections {
        let mut seen = BTreeSet::new();
        for doc in docs {
            let Some(name) = doc["Name"].as_str() else {
                continue;
            };
            // Channels and runbooks are unique per project.
            let owner = doc["ProjectId"].as_str().unwrap_or_default();
            assert!(
                seen.insert((owner.to_owned(), name.to_lowercase())),
                "{collection}: {name:?} twice"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_under_faults_converges_to_the_fault_free_state() {
    let Converged {
        state: clean,
        runs: clean_runs,
        retries: clean_retries,
    } = converge(&Faults {
        fail_rate: 0.0,
        held_per_mille: 0,
        seed: 0,
    })
    .await;
    // Without faults the first run applies everything and the second finds nothing.
    assert_eq!(clean_runs, 2, "without faults one run is enough");
    assert_eq!(clean_retries, 0);
    assert_no_duplicate_names(&clean);
    for seed in [7, 1234] {
        let Converged {
            state: faulty,
            runs,
            retries,
        } = converge(&Faults {
            fail_rate: 0.10,
            held_per_mille: 30,
            seed,
        })
        .await;
        println!("seed {seed}: converged after {runs} runs, {retries} requests retried");
        assert!(retries > 0, "the faults happened");
        assert_no_duplicate_names(&faulty);
        let (clean_state, faulty_state) = (state(&clean), state(&faulty));
        for (collection, docs) in &clean_state {
            assert_eq!(
                Some(docs),
                faulty_state.get(collection),
                "{collection} differs (seed {seed})"
            );
        }
        assert_eq!(clean_state.len(), faulty_state.len());
    }
}
