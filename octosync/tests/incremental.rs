//! End-to-end: a re-sync when nothing changed reads only the two audit logs. The first
//! apply leaves the destination in sync and records where both logs stood; a plan and
//! an apply then make one request per instance and say nothing changed; an edit on
//! either side, a changed config or `--full` brings back the full read, which finds the
//! edit.

mod common;

use common::{
    by_name, client, edit_description, owned_by_a_project, portal_edit, text, variable_set_of, Cli,
};
use octopus_model::ResourceKind;
use serde_json::Value;

/// Requests both fakes served since `before`.
fn served(i: &Cli, before: (u64, u64)) -> (u64, u64) {
    (
        i.source.stats().total() - before.0,
        i.destination.stats().total() - before.1,
    )
}

fn counts(i: &Cli) -> (u64, u64) {
    (i.source.stats().total(), i.destination.stats().total())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resync_with_nothing_changed_reads_only_the_audit_logs() {
    let i = Cli::start(Some("2026.1.2000"), |c| c).await;
    let first = i.octosync(&["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(i.dir.path().join(".octosync/state.json")).unwrap(),
    )
    .unwrap();
    let in_sync = &state["destinations"]["staging-production"]["in_sync"];
    assert!(in_sync.is_object(), "the apply ended in sync: {state:#}");

    // Nothing changed: one request per instance, and the run says why it read nothing.
    let before = counts(&i);
    let plan = i
        .octosync(&["plan", "-c", "CONFIG", "--detailed-exitcode"])
        .await;
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stderr));
    assert!(
        text(&plan.stdout).contains("nothing changed on the source"),
        "{}",
        text(&plan.stdout)
    );
    assert_eq!(
        served(&i, before),
        (1, 1),
        "one audit-log read per instance"
    );

    let before = counts(&i);
    let apply = i.octosync(&["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply.stderr));
    assert!(
        text(&apply.stdout).contains("Nothing to do: nothing changed"),
        "{}",
        text(&apply.stdout)
    );
    assert_eq!(served(&i, before), (1, 1));

    // --full reads everything and finds the same: nothing to do.
    let before = counts(&i);
    let full = i
        .octosync(&["plan", "-c", "CONFIG", "--full", "--detailed-exitcode"])
        .await;
    assert_eq!(full.status.code(), Some(0), "{}", text(&full.stdout));
    let (source_reads, destination_reads) = served(&i, before);
    assert!(
        source_reads > 5 && destination_reads > 5,
        "{source_reads} {destination_reads}"
    );

    // A person's edit on the source: the log moved, the run says so and reads it all,
    // and the plan carries the edit.
    edit_description(&i.source, "projects", "OctoFX", "edited in the portal").await;
    let plan = i
        .octosync(&["plan", "-c", "CONFIG", "--detailed-exitcode"])
        .await;
    assert!(
        text(&plan.stderr).contains("the source's audit log moved"),
        "{}",
        text(&plan.stderr)
    );
    assert_eq!(
        plan.status.code(),
        Some(2),
        "the edit is planned: {}",
        text(&plan.stdout)
    );
    assert!(
        text(&plan.stdout).contains("edited in the portal"),
        "{}",
        text(&plan.stdout)
    );
    let apply = i.octosync(&["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply.stderr));

    // In sync again; then a person's edit on the destination is seen the same way.
    let before = counts(&i);
    let quiet = i.octosync(&["plan", "-c", "CONFIG"]).await;
    assert!(text(&quiet.stdout).contains("nothing changed on the source"));
    assert_eq!(served(&i, before), (1, 1));
    edit_description(&i.destination, "projects", "OctoFX", "a local note").await;
    let plan = i
        .octosync(&["plan", "-c", "CONFIG", "--detailed-exitcode"])
        .await;
    assert!(
        text(&plan.stderr).contains("the destination's audit log moved"),
        "{}",
        text(&plan.stderr)
    );
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan.stdout));

    // A changed config plans again from a full read, whatever the logs say.
    let apply = i.octosync(&["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply.stderr));
    let config = std::fs::read_to_string(i.config()).unwrap();
    std::fs::write(
        i.config(),
        config.replace(
            "placeholder_value = \"REPLACE ME\"",
            "placeholder_value = \"SET ME\"",
        ),
    )
    .unwrap();
    let plan = i.octosync(&["plan", "-c", "CONFIG"]).await;
    assert!(
        text(&plan.stderr).contains("sync.toml changed"),
        "{}",
        text(&plan.stderr)
    );
}

/// The plan JSON of `plan -c CONFIG` with `extra` arguments.
async fn plan_json(i: &Cli, extra: &[&str]) -> Value {
    let mut args = vec!["plan", "-c", "CONFIG", "--format", "json"];
    args.extend_from_slice(extra);
    let out = i.octosync(&args).await;
    assert!(
        matches!(out.status.code(), Some(0) | Some(2)),
        "{}",
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_edit_only_the_edited_document_is_read_and_the_plan_is_the_full_reads() {
    let i = Cli::start(Some("2026.1.2000"), |c| c).await;
    let first = i.octosync(&["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let before = counts(&i);
    let full_read = i.octosync(&["plan", "-c", "CONFIG", "--full"]).await;
    assert_eq!(
        full_read.status.code(),
        Some(0),
        "{}",
        text(&full_read.stderr)
    );
    let everything = served(&i, before);

    // A person edits a project's description on the source, and a variable value on
    // the destination.
    edit_description(&i.source, "projects", "OctoFX", "edited in the portal").await;
    portal_edit(&i.destination, "variables", owned_by_a_project, |d| {
        let plain = d["Variables"]
            .as_array_mut()
            .and_then(|vs| vs.iter_mut().find(|v| v["IsSensitive"] != true))
            .expect("a plain value");
        plain["Value"] = Value::String("a local value".into());
    })
    .await;

    let before = counts(&i);
    let incremental = plan_json(&i, &[]).await;
    let (source_reads, destination_reads) = served(&i, before);
    let full = plan_json(&i, &["--full"]).await;
    assert_eq!(
        incremental, full,
        "the plan from what changed is the full read's"
    );
    assert!(
        incremental["summary"]["update"].as_u64().unwrap_or(0) >= 1,
        "the edit is planned: {incremental:#}"
    );
    // The events since the last read (one request each) and the one document each
    // event names: against everything a full read makes.
    assert_eq!(
        (source_reads, destination_reads),
        (2, 2),
        "a full read makes {everything:?}"
    );

    // Applied the same way (the full plan read last, so nothing moved since), it leaves
    // the destination in sync: the next plan reads only the logs.
    let apply = i.octosync(&["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply.stderr));
    assert!(
        text(&apply.stderr).contains("Read only what changed: what was last read of"),
        "{}",
        text(&apply.stderr)
    );
    // Read back: the source's description landed, the destination's own value stayed
    // (`overwrite_existing_variables = "never"`).
    let dest = client(&i.destination);
    let octofx = by_name(&dest, ResourceKind::Project, "OctoFX").await;
    assert_eq!(octofx["Description"], "edited in the portal");
    let set = variable_set_of(&dest, &octofx).await;
    assert!(
        set["Variables"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["Value"] == "a local value"),
        "{set:#}"
    );
    let before = counts(&i);
    let quiet = i.octosync(&["plan", "-c", "CONFIG"]).await;
    assert!(
        text(&quiet.stdout).contains("nothing changed on the source"),
        "{}",
        text(&quiet.stdout)
    );
    assert_eq!(served(&i, before), (1, 1));
    let full = plan_json(&i, &["--full"]).await;
    assert_eq!(full["summary"]["update"], 0, "{full:#}");
    assert_eq!(full["summary"]["create"], 0, "{full:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_new_value_on_the_source_is_synced_in_eight_requests() {
    let i = Cli::start(Some("2026.1.2000"), |c| c).await;
    let first = i.octosync(&["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let octofx = by_name(&client(&i.source), ResourceKind::Project, "OctoFX").await;
    let owner = octofx["Id"].as_str().unwrap().to_owned();
    portal_edit(
        &i.source,
        "variables",
        |d| d["OwnerId"] == owner.as_str(),
        |d| {
            d["Variables"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({"Name": "Added.ByHand", "Value": "new"}))
        },
    )
    .await;

    let before = i.destination.stats();
    let before_all = counts(&i);
    let apply = i.octosync(&["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply.stderr));
    let dest = i.destination.stats();
    assert_eq!(
        (dest.post + dest.put) - (before.post + before.put),
        1,
        "one write"
    );
    // Source: the events since the last read, the variable set, and after the apply
    // the newest event (the source did not move under the read). Destination: the
    // events since, the variable set before writing it, the write, and the plan after
    // it (the events since, the variable set as written).
    let (source_requests, destination_requests) = served(&i, before_all);
    assert_eq!((source_requests, destination_requests), (3, 5));
    // What the destination holds, read back: the new value, in OctoFX's set.
    let dest = client(&i.destination);
    let dest_octofx = by_name(&dest, ResourceKind::Project, "OctoFX").await;
    let set = variable_set_of(&dest, &dest_octofx).await;
    let added: Vec<&Value> = set["Variables"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["Name"] == "Added.ByHand")
        .collect();
    assert_eq!(added.len(), 1, "{set:#}");
    assert_eq!(added[0]["Value"], "new");
    let quiet = i.octosync(&["plan", "-c", "CONFIG"]).await;
    assert!(
        text(&quiet.stdout).contains("nothing changed on the source"),
        "{}",
        text(&quiet.stdout)
    );
}
