//! Runbook publishing (`[policy] publish_runbooks`): a runbook published on the source is
//! published on the destination when this sync writes its process or the destination's
//! runbook never was, in a layer after the processes and variables a snapshot freezes.

mod common;

use common::*;
use serde_json::{json, Value};
use sync_core::testing::InMemoryApplier;
use sync_core::{plan, CleanupCategory, LayerName, OpAction, ResourceKind, Snapshot, SyncRules};

const SELECT: &str =
    "[select]\nprojects = [\"OctoFX\"]\nrunbooks = [\"all\"]\nchannels = [\"all\"]\n";

fn step(name: &str, script: &str, packages: Value) -> Value {
    json!({"Name": name, "Actions": [{"Name": name, "ActionType": "Octopus.Script",
        "Properties": {"Octopus.Action.Script.ScriptBody": script}, "Packages": packages}]})
}

fn source(published: Option<&str>, steps: Value) -> Snapshot {
    source_with_variables(published, steps, json!([]))
}

fn source_with_variables(published: Option<&str>, steps: Value, variables: Value) -> Snapshot {
    snapshot(join(vec![
        builtins(1),
        vec![("environments", source_environments())],
        source_project(json!([]), variables),
        vec![
            (
                "runbooks",
                json!([{"Id": "Runbooks-1", "Name": "Refresh DB", "ProjectId": "Projects-1",
                        "RunbookProcessId": "RunbookProcess-Runbooks-1", "PublishedRunbookSnapshotId": published}]),
            ),
            (
                "runbookprocesses",
                json!([{"Id": "RunbookProcess-Runbooks-1", "RunbookId": "Runbooks-1", "ProjectId": "Projects-1", "Steps": steps}]),
            ),
        ],
    ]))
}

/// The destination with "OctoFX" and, when `runbook` is given, its "Refresh DB" runbook
/// (published as `runbook.0`, with the steps `runbook.1`).
fn destination(runbook: Option<(Option<&str>, Value)>) -> Snapshot {
    let mut parts = vec![
        builtins(71),
        vec![("environments", destination_environments())],
        destination_project(json!([]), json!([])),
    ];
    if let Some((published, steps)) = runbook {
        parts.push(vec![
            (
                "runbooks",
                json!([{"Id": "Runbooks-71", "Name": "Refresh DB", "ProjectId": "Projects-71",
                        "RunbookProcessId": "RunbookProcess-Runbooks-71", "PublishedRunbookSnapshotId": published}]),
            ),
            (
                "runbookprocesses",
                json!([{"Id": "RunbookProcess-Runbooks-71", "RunbookId": "Runbooks-71", "ProjectId": "Projects-71",
                        "Version": 3, "Steps": steps}]),
            ),
        ]);
    }
    snapshot(join(parts))
}

/// Plans, applies in memory and plans again (which must write nothing); returns the
/// first plan and the applier.
fn sync(
    source: &Snapshot,
    destination: &Snapshot,
    rules: &SyncRules,
) -> (sync_core::Plan, InMemoryApplier) {
    let first = plan(source, destination, rules).unwrap();
    let mut applier = InMemoryApplier::new(destination.clone());
    applier.apply(&first).unwrap();
    let second = plan(source, &applier.snapshot, rules).unwrap();
    assert!(
        !second.has_changes(),
        "the second plan still writes:\n{second}"
    );
    (first, applier)
}

fn published_id(snap: &Snapshot) -> Option<String> {
    let rb = snap
        .runbooks
        .iter()
        .find(|r| r.name == "Refresh DB")
        .unwrap();
    rb.published_runbook_snapshot_id.get().cloned()
}

fn publish_ops(plan: &sync_core::Plan) -> Vec<&sync_core::Op> {
    plan.of_kind(ResourceKind::RunbookSnapshot).collect()
}

#[test]
fn a_published_runbook_whose_process_this_sync_writes_is_published_on_the_destination() {
    let src = source(
        Some("RunbookSnapshots-5"),
        json!([step("Vacuum", "vacuum full", json!([]))]),
    );
    let dst = destination(Some((
        Some("RunbookSnapshots-80"),
        json!([step("Vacuum", "vacuum", json!([]))]),
    )));
    let (plan, applier) = sync(&src, &dst, &rules(SELECT));
    let ops = publish_ops(&plan);
    assert_eq!(ops.len(), 1, "{plan}");
    assert_eq!(ops[0].action(), OpAction::Create);
    assert!(
        ops[0].reason.contains("writes its process"),
        "{}",
        ops[0].reason
    );
    let layer = plan
        .layers
        .iter()
        .find(|l| {
            l.ops
                .iter()
                .any(|o| o.item.kind == ResourceKind::RunbookSnapshot)
        })
        .unwrap();
    assert_eq!(layer.name, LayerName::RunbookPublishing);
    let body = ops[0].body().unwrap();
    assert_eq!(body["RunbookId"], "Runbooks-71");
    assert_eq!(body["ProjectId"], "Projects-71");
    assert_eq!(body["SelectedPackages"], json!([]));
    // The destination runbook now publishes the snapshot the sync created.
    let published = published_id(&applier.snapshot).unwrap();
    assert_ne!(published, "RunbookSnapshots-80");
    assert_eq!(applier.runbook_snapshots.len(), 1);
    assert_eq!(applier.runbook_snapshots[0]["Id"], json!(published));
    assert_eq!(applier.runbook_snapshots[0]["RunbookId"], "Runbooks-71");
}

#[test]
fn a_new_runbook_of_a_published_source_runbook_is_created_then_published() {
    let src = source(
        Some("RunbookSnapshots-5"),
        json!([step("Vacuum", "vacuum", json!([]))]),
    );
    let (plan, applier) = sync(&src, &destination(None), &rules(SELECT));
    let op = op(&plan, ResourceKind::RunbookSnapshot, "Refresh DB");
    assert_eq!(op.action(), OpAction::Create);
    assert_eq!(
        op.pending().len(),
        1,
        "the runbook id is resolved at apply time"
    );
    let rb = applier
        .snapshot
        .runbooks
        .iter()
        .find(|r| r.name == "Refresh DB")
        .unwrap();
    let published = published_id(&applier.snapshot).unwrap();
    assert_eq!(applier.runbook_snapshots[0]["Id"], json!(published));
    assert_eq!(
        applier.runbook_snapshots[0]["RunbookId"],
        json!(rb.id.get().unwrap().as_str())
    );
}

#[test]
fn a_destination_runbook_never_published_is_published_even_when_its_process_matches() {
    let steps = json!([step("Vacuum", "vacuum", json!([]))]);
    let src = source(Some("RunbookSnapshots-5"), steps.clone());
    let (plan, applier) = sync(&src, &destination(Some((None, steps))), &rules(SELECT));
    assert_eq!(
        op(&plan, ResourceKind::RunbookProcess, "Refresh DB").action(),
        OpAction::Unchanged
    );
    let op = op(&plan, ResourceKind::RunbookSnapshot, "Refresh DB");
    assert_eq!(op.action(), OpAction::Create);
    assert!(op.reason.contains("never was"), "{}", op.reason);
    assert!(published_id(&applier.snapshot).is_some());
}

#[test]
fn a_published_destination_runbook_whose_process_matches_is_not_published_again() {
    let steps = json!([step("Vacuum", "vacuum", json!([]))]);
    let src = source(Some("RunbookSnapshots-5"), steps.clone());
    let dst = destination(Some((Some("RunbookSnapshots-80"), steps)));
    let (plan, applier) = sync(&src, &dst, &rules(SELECT));
    assert!(publish_ops(&plan).is_empty(), "{plan}");
    assert_eq!(
        published_id(&applier.snapshot).as_deref(),
        Some("RunbookSnapshots-80")
    );
}

#[test]
fn an_unpublished_source_runbook_is_not_published_on_the_destination() {
    let src = source(None, json!([step("Vacuum", "vacuum full", json!([]))]));
    let dst = destination(Some((None, json!([step("Vacuum", "vacuum", json!([]))]))));
    let (plan, applier) = sync(&src, &dst, &rules(SELECT));
    assert!(publish_ops(&plan).is_empty(), "{plan}");
    assert_eq!(published_id(&applier.snapshot), None);
}

#[test]
fn with_publish_runbooks_never_no_runbook_is_published() {
    let src = source(
        Some("RunbookSnapshots-5"),
        json!([step("Vacuum", "vacuum full", json!([]))]),
    );
    let dst = destination(Some((None, json!([step("Vacuum", "vacuum", json!([]))]))));
    let rules = rules(&format!("{SELECT}[policy]\npublish_runbooks = \"never\"\n"));
    let (plan, applier) = sync(&src, &dst, &rules);
    assert!(publish_ops(&plan).is_empty(), "{plan}");
    assert_eq!(published_id(&applier.snapshot), None);
    assert!(applier.runbook_snapshots.is_empty());
}

#[test]
fn a_runbook_whose_process_references_packages_is_not_published_and_the_clean_up_log_says_so() {
    let packages =
        json!([{"Id": "p-1", "Name": "", "PackageId": "OctoFX.Database", "FeedId": "Feeds-1"}]);
    let src = source(
        Some("RunbookSnapshots-5"),
        json!([step("Migrate", "migrate", packages)]),
    );
    let (plan, applier) = sync(&src, &destination(None), &rules(SELECT));
    let op = op(&plan, ResourceKind::RunbookSnapshot, "Refresh DB");
    assert_eq!(op.action(), OpAction::Skip);
    assert!(op.reason.contains("references packages"), "{}", op.reason);
    assert!(plan
        .cleanup
        .iter()
        .any(|e| e.category == CleanupCategory::Skipped
            && e.item.kind == ResourceKind::RunbookSnapshot
            && e.message.contains("publish it by hand")));
    assert_eq!(published_id(&applier.snapshot), None);
}

#[test]
fn the_policy_defaults_to_when_source_published_and_reads_never() {
    use sync_core::rules::PublishRunbooks;
    assert_eq!(
        SyncRules::default().policy.publish_runbooks,
        PublishRunbooks::WhenSourcePublished
    );
    let never = rules("[policy]\npublish_runbooks = \"never\"\n");
    assert_eq!(never.policy.publish_runbooks, PublishRunbooks::Never);
    assert!(SyncRules::from_toml_str("[policy]\npublish_runbooks = \"always\"\n").is_err());
}

#[test]
fn a_published_runbook_is_published_again_when_this_sync_writes_the_project_variables_its_snapshot_freezes(
) {
    let steps = json!([step("Vacuum", "vacuum", json!([]))]);
    let src = source_with_variables(
        Some("RunbookSnapshots-5"),
        steps.clone(),
        json!([{"Id": "v-1", "Name": "Db.Timeout", "Value": "30", "Type": "String", "Scope": {}}]),
    );
    let dst = destination(Some((Some("RunbookSnapshots-80"), steps)));
    let (plan, applier) = sync(&src, &dst, &rules(SELECT));
    let ops = publish_ops(&plan);
    assert_eq!(ops.len(), 1, "{plan}");
    assert!(
        ops[0].reason.contains("project variables"),
        "{}",
        ops[0].reason
    );
    assert_ne!(
        published_id(&applier.snapshot).as_deref(),
        Some("RunbookSnapshots-80"),
        "the runbook now runs with the synced variables"
    );
}
