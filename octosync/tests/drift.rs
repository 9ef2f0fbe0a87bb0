//! End-to-end: `octosync drift` with the built binary against two `octopus-fake`
//! instances. A sync records a baseline; a person then edits the destination through
//! the API with a browser's user agent; drift lists exactly that edit, with who, when,
//! the field-level difference and what the next apply does to it.

mod common;

use common::text;
use std::path::PathBuf;
use std::process::{Command, Output};

use octopus_fake::{FakeConfig, FakeServer, Seed};
use serde_json::{json, Value};

const SOURCE_KEY: &str = "API-SOURCESOURCESOURCESOURCE01";
const DEST_KEY: &str = "API-DESTINATIONDESTINATION0002";
const PERSON: &str = "Mozilla/5.0 (portal edit)";

async fn fake(seed: Seed, key: &str) -> FakeServer {
    FakeServer::start(FakeConfig {
        api_key: key.to_owned(),
        ..FakeConfig::seeded(seed)
    })
    .await
    .expect("fake starts")
}

struct Instances {
    source: FakeServer,
    destination: FakeServer,
    dir: tempfile::TempDir,
}

async fn instances() -> Instances {
    let source = fake(Seed::DevTest, SOURCE_KEY).await;
    let destination = fake(Seed::StagingProduction, DEST_KEY).await;
    let dir = tempfile::tempdir().unwrap();
    let config = include_str!("../demo/sync.toml")
        .replace("http://127.0.0.1:8065", source.url())
        .replace("http://127.0.0.1:8066", destination.url());
    std::fs::write(dir.path().join("sync.toml"), config).unwrap();
    Instances {
        source,
        destination,
        dir,
    }
}

impl Instances {
    fn config(&self) -> PathBuf {
        self.dir.path().join("sync.toml")
    }
}

/// Runs the binary on a blocking thread (the fakes are served by this test's runtime).
async fn octosync(i: &Instances, args: &[&str]) -> Output {
    let config = i.config().display().to_string();
    let args: Vec<String> = args
        .iter()
        .map(|a| {
            if *a == "CONFIG" {
                config.clone()
            } else {
                (*a).to_owned()
            }
        })
        .collect();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_octosync"))
            .args(&args)
            .env_remove("RUST_LOG")
            .env("OCTOSYNC_SOURCE_API_KEY", SOURCE_KEY)
            .env("OCTOSYNC_DESTINATION_API_KEY", DEST_KEY)
            .output()
            .expect("octosync runs")
    })
    .await
    .unwrap()
}

/// Edits a document of the destination the way a person in the portal would: GET it,
/// change `Description`, PUT it back, with a browser's user agent.
async fn edit_by_hand(
    server: &FakeServer,
    collection: &str,
    name: &str,
    description: &str,
) -> String {
    let http = reqwest::Client::builder()
        .user_agent(PERSON)
        .build()
        .unwrap();
    let api = format!("{}/api/Spaces-1", server.url());
    let all: Value = http
        .get(format!("{api}/{collection}/all"))
        .header("X-Octopus-ApiKey", server.api_key())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut doc = all
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["Name"] == name)
        .unwrap_or_else(|| panic!("no {collection} named {name}"))
        .clone();
    let id = doc["Id"].as_str().unwrap().to_owned();
    doc["Description"] = json!(description);
    let put = http
        .put(format!("{api}/{collection}/{id}"))
        .header("X-Octopus-ApiKey", server.api_key())
        .json(&doc)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 200);
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_lists_exactly_the_edit_a_person_made_after_the_sync() {
    let i = instances().await;

    let before = octosync(&i, &["drift", "-c", "CONFIG", "--detailed-exitcode"]).await;
    assert_eq!(before.status.code(), Some(0), "{}", text(&before.stderr));
    assert!(
        text(&before.stdout).contains("No baseline"),
        "{}",
        text(&before.stdout)
    );

    let apply = octosync(&i, &["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply.stderr));
    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(i.dir.path().join(".octosync/state.json")).unwrap(),
    )
    .unwrap();
    let recorded = &state["destinations"]["staging-production"];
    assert_eq!(
        recorded["last_event"], 0,
        "the destination's log was empty before the apply"
    );
    let written = recorded["written"].as_object().unwrap();
    let octofx = written
        .iter()
        .find(|(_, w)| w["kind"] == "Project" && w["name"] == "OctoFX")
        .map(|(id, _)| id.clone())
        .expect("the created project is recorded as written");
    assert!(written[&octofx]["digest"]
        .as_str()
        .is_some_and(|d| d.len() == 16));
    assert_eq!(state["source"]["last_event"], 0);

    let clean = octosync(&i, &["drift", "-c", "CONFIG", "--detailed-exitcode"]).await;
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}{}",
        text(&clean.stdout),
        text(&clean.stderr)
    );
    assert!(
        text(&clean.stdout).contains("no changes by others"),
        "{}",
        text(&clean.stdout)
    );

    let edited = edit_by_hand(&i.destination, "projects", "OctoFX", "edited in the portal").await;
    assert_eq!(edited, octofx);
    // Environments are not selected by this config: an edit there is counted, not listed.
    edit_by_hand(&i.destination, "environments", "Staging", "not synced").await;

    let found = octosync(
        &i,
        &[
            "drift",
            "-c",
            "CONFIG",
            "--format",
            "json",
            "--detailed-exitcode",
        ],
    )
    .await;
    assert_eq!(found.status.code(), Some(2), "{}", text(&found.stderr));
    let report: Value = serde_json::from_slice(&found.stdout).unwrap();
    let dest = &report["destinations"][0];
    assert_eq!(dest["name"], "staging-production");
    assert_eq!(dest["unselected_changes"], 1);
    let changes = dest["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{changes:#?}");
    let change = &changes[0];
    assert_eq!(change["document_id"], octofx.as_str());
    assert_eq!(change["item"]["name"], "OctoFX");
    assert_eq!(change["category"], "Modified");
    assert_eq!(change["user_agent"], PERSON);
    assert_eq!(change["username"], "admin");
    assert!(change["occurred"].as_str().is_some_and(|o| !o.is_empty()));
    assert_eq!(
        change["differences"],
        json!([{"op": "replace", "path": "/Description", "value": "edited in the portal"}])
    );
    assert_eq!(change["next_apply"], "overwrite");

    let as_text = octosync(&i, &["drift", "-c", "CONFIG"]).await;
    assert_eq!(
        as_text.status.code(),
        Some(0),
        "without --detailed-exitcode drift is not an error"
    );
    let shown = text(&as_text.stdout);
    assert!(
        shown.contains(PERSON) && shown.contains("next apply: overwrite"),
        "{shown}"
    );
    assert!(
        shown.contains("replace /Description: \"edited in the portal\""),
        "{shown}"
    );

    // With a state, plan shows the drift first, then the plan that overwrites it.
    let plan = octosync(&i, &["plan", "-c", "CONFIG", "--detailed-exitcode"]).await;
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan.stderr));
    let shown = text(&plan.stdout);
    assert!(shown.starts_with("Drift since the last sync:"), "{shown}");
    assert!(shown.contains(PERSON), "{shown}");

    // The next apply puts the source's description back and moves the baseline on.
    let reapply = octosync(&i, &["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(reapply.status.code(), Some(0), "{}", text(&reapply.stderr));
    let after = octosync(&i, &["drift", "-c", "CONFIG", "--detailed-exitcode"]).await;
    assert_eq!(after.status.code(), Some(0), "{}", text(&after.stdout));
    assert!(
        text(&after.stdout).contains("no changes by others"),
        "{}",
        text(&after.stdout)
    );
    assert_eq!(i.source.integrity(), Vec::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_baseline_older_than_the_destinations_audit_log_is_reported_not_guessed() {
    let source = fake(Seed::DevTest, SOURCE_KEY).await;
    let destination = FakeServer::start(FakeConfig {
        api_key: DEST_KEY.to_owned(),
        event_retention: Some(2),
        ..FakeConfig::seeded(Seed::StagingProduction)
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = include_str!("../demo/sync.toml")
        .replace("http://127.0.0.1:8065", source.url())
        .replace("http://127.0.0.1:8066", destination.url());
    std::fs::write(dir.path().join("sync.toml"), config).unwrap();
    let i = Instances {
        source,
        destination,
        dir,
    };
    let apply = octosync(&i, &["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply.stderr));
    // The apply wrote more than two events; the baseline is the checkpoint before it,
    // which the log (keeping two) no longer reaches.
    let lost = octosync(&i, &["drift", "-c", "CONFIG", "--detailed-exitcode"]).await;
    assert_eq!(lost.status.code(), Some(2), "{}", text(&lost.stderr));
    assert!(
        text(&lost.stdout).contains("cannot tell"),
        "{}",
        text(&lost.stdout)
    );
}
