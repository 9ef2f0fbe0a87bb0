//! End-to-end: `octosync drift` with the built binary against two `octopus-fake`
//! instances. A sync records a baseline; a person then edits the destination through
//! the API with a browser's user agent; drift lists exactly that edit, with who, when,
//! the field-level difference and what the next apply does to it.

mod common;

use common::{edit_description, keyed, text, Cli, DEST_KEY, PERSON, SOURCE_KEY};
use octopus_fake::{FakeConfig, Seed};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_lists_exactly_the_edit_a_person_made_after_the_sync() {
    let i = Cli::start(None, |c| c).await;

    let before = i
        .octosync(&["drift", "-c", "CONFIG", "--detailed-exitcode"])
        .await;
    assert_eq!(before.status.code(), Some(0), "{}", text(&before.stderr));
    assert!(
        text(&before.stdout).contains("No baseline"),
        "{}",
        text(&before.stdout)
    );

    let apply = i.octosync(&["apply", "-c", "CONFIG", "--yes"]).await;
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

    let clean = i
        .octosync(&["drift", "-c", "CONFIG", "--detailed-exitcode"])
        .await;
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

    let edited =
        edit_description(&i.destination, "projects", "OctoFX", "edited in the portal").await;
    assert_eq!(edited, octofx);
    // Environments are not selected by this config: an edit there is counted, not listed.
    edit_description(&i.destination, "environments", "Staging", "not synced").await;

    let found = i
        .octosync(&[
            "drift",
            "-c",
            "CONFIG",
            "--format",
            "json",
            "--detailed-exitcode",
        ])
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

    let as_text = i.octosync(&["drift", "-c", "CONFIG"]).await;
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
    let plan = i
        .octosync(&["plan", "-c", "CONFIG", "--detailed-exitcode"])
        .await;
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan.stderr));
    let shown = text(&plan.stdout);
    assert!(shown.starts_with("Drift since the last sync:"), "{shown}");
    assert!(shown.contains(PERSON), "{shown}");

    // The next apply puts the source's description back and moves the baseline on.
    let reapply = i.octosync(&["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(reapply.status.code(), Some(0), "{}", text(&reapply.stderr));
    let after = i
        .octosync(&["drift", "-c", "CONFIG", "--detailed-exitcode"])
        .await;
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
    let i = Cli::with(
        keyed(Seed::DevTest, SOURCE_KEY, None),
        FakeConfig {
            event_retention: Some(2),
            ..keyed(Seed::StagingProduction, DEST_KEY, None)
        },
        |c| c,
    )
    .await;
    let apply = i.octosync(&["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply.stderr));
    // The apply wrote more than two events; the baseline is the checkpoint before it,
    // which the log (keeping two) no longer reaches.
    let lost = i
        .octosync(&["drift", "-c", "CONFIG", "--detailed-exitcode"])
        .await;
    assert_eq!(lost.status.code(), Some(2), "{}", text(&lost.stderr));
    assert!(
        text(&lost.stdout).contains("cannot tell"),
        "{}",
        text(&lost.stdout)
    );
}
