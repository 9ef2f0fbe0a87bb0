//! Details of items that exist on both sides: by default an existing runbook keeps the
//! destination's settings and an existing channel its version rules (the guide's "same
//! name, different details"); with `overwrite_existing_runbook_settings` and
//! `overwrite_existing_channel_rules` they follow the source, never running a runbook in
//! more environments than before.

mod common;

use common::*;
use serde_json::{json, Value};
use sync_core::{CleanupCategory, OpAction, ResourceKind, Snapshot};

fn runbook(id: &str, project: &str, envs: Value, mode: &str) -> Value {
    json!({"Id": id, "Name": "Refresh DB", "ProjectId": project, "RunbookProcessId": format!("RunbookProcess-{id}"),
           "Description": format!("{mode} settings"), "EnvironmentScope": "Specified", "Environments": envs,
           "MultiTenancyMode": mode, "ConnectivityPolicy": {"AllowDeploymentsToNoTargets": mode == "Tenanted"},
           "DefaultGuidedFailureMode": "EnvironmentDefault",
           "RunRetentionPolicy": {"QuantityToKeep": if mode == "Tenanted" { 10 } else { 100 }, "ShouldKeepForever": false}})
}

fn channel(id: &str, project: &str, rules: Value) -> Value {
    json!({"Id": id, "Name": "Hotfix", "ProjectId": project, "LifecycleId": null, "IsDefault": false, "Rules": rules})
}

fn rule(id: &str, range: &str) -> Value {
    json!({"Id": id, "VersionRange": range, "Tag": "^$", "ActionPackages": [{"DeploymentAction": "Deploy", "PackageReference": ""}]})
}

fn source(envs: Value) -> Snapshot {
    let mut parts = vec![
        builtins(1),
        vec![("environments", source_environments())],
        source_project(json!([]), json!([])),
    ];
    parts.push(vec![
        (
            "runbooks",
            json!([runbook("Runbooks-1", "Projects-1", envs, "Tenanted")]),
        ),
        (
            "runbookprocesses",
            json!([{"Id": "RunbookProcess-Runbooks-1", "RunbookId": "Runbooks-1", "ProjectId": "Projects-1", "Steps": []}]),
        ),
    ]);
    let mut snap = join(parts);
    for (name, value) in snap.iter_mut() {
        if *name == "channels" {
            value.as_array_mut().unwrap().push(channel(
                "Channels-2",
                "Projects-1",
                json!([rule("r-1", "[2.0,3.0)")]),
            ));
        }
    }
    snapshot(snap)
}

fn destination(rules: Value) -> Snapshot {
    let mut snap = join(vec![
        builtins(71),
        vec![("environments", destination_environments())],
        destination_project(json!([]), json!([])),
        vec![
            (
                "runbooks",
                json!([runbook(
                    "Runbooks-71",
                    "Projects-71",
                    json!(["Environments-72"]),
                    "Untenanted"
                )]),
            ),
            (
                "runbookprocesses",
                json!([{"Id": "RunbookProcess-Runbooks-71", "RunbookId": "Runbooks-71", "ProjectId": "Projects-71", "Steps": []}]),
            ),
        ],
    ]);
    for (name, value) in snap.iter_mut() {
        if *name == "channels" {
            value.as_array_mut().unwrap().push(channel(
                "Channels-72",
                "Projects-71",
                rules.clone(),
            ));
        }
    }
    snapshot(snap)
}

const SELECT: &str =
    "[select]\nprojects = [\"OctoFX\"]\nrunbooks = [\"all\"]\nchannels = [\"all\"]\n";

#[test]
fn by_default_an_existing_runbook_keeps_its_settings_and_a_channel_its_rules() {
    let (plan, after) = plan_apply_replan(
        &source(json!(["Environments-3"])),
        &destination(json!([rule("r-71", "[1.0,2.0)")])),
        &rules(SELECT),
    );
    assert_eq!(
        op(&plan, ResourceKind::Runbook, "Refresh DB").action,
        OpAction::Unchanged
    );
    assert!(plan
        .of_kind(ResourceKind::Channel)
        .all(|o| o.action == OpAction::Unchanged));
    let rb = &after.runbooks[0];
    assert_eq!(rb.multi_tenancy_mode.get().unwrap().as_str(), "Untenanted");
    let hotfix = after.channels.iter().find(|c| c.name == "Hotfix").unwrap();
    assert_eq!(hotfix.rules[0].version_range.get().unwrap(), "[1.0,2.0)");
}

#[test]
fn with_the_policy_an_existing_runbook_takes_the_source_settings_with_its_environments_translated()
{
    let (plan, after) = plan_apply_replan(
        &source(json!(["Environments-3", "Environments-4"])),
        &destination(json!([])),
        &rules(&format!(
            "{SELECT}[policy]\noverwrite_existing_runbook_settings = true\n"
        )),
    );
    assert_eq!(
        op(&plan, ResourceKind::Runbook, "Refresh DB").action,
        OpAction::Update
    );
    let rb = &after.runbooks[0];
    assert_eq!(rb.multi_tenancy_mode.get().unwrap().as_str(), "Tenanted");
    assert_eq!(rb.description.get().unwrap(), "Tenanted settings");
    let envs: Vec<&str> = rb.environments.iter().map(|e| e.as_str()).collect();
    assert_eq!(envs, vec!["Environments-71", "Environments-72"]);
    assert_eq!(
        rb.run_retention_policy
            .get()
            .map(|p| serde_json::to_value(p).unwrap()["QuantityToKeep"].clone()),
        Some(json!(10))
    );
}

#[test]
fn a_runbook_whose_source_environments_are_all_missing_keeps_its_own_scope() {
    let (plan, after) = plan_apply_replan(
        &source(json!(["Environments-1"])),
        &destination(json!([])),
        &rules(&format!(
            "{SELECT}[policy]\noverwrite_existing_runbook_settings = true\n[scoping]\nprocess_environments = \"ignore-mismatch\"\n"
        )),
    );
    let rb = &after.runbooks[0];
    let envs: Vec<&str> = rb.environments.iter().map(|e| e.as_str()).collect();
    assert_eq!(
        envs,
        vec!["Environments-72"],
        "never widened to every environment"
    );
    assert!(plan
        .cleanup
        .iter()
        .all(|c| c.category != CleanupCategory::WidenedScope));
    assert!(plan
        .cleanup
        .iter()
        .any(|c| c.message.contains("the runbook keeps its own")));
}

#[test]
fn with_the_policy_an_existing_channel_takes_the_source_rules_once() {
    let (plan, after) = plan_apply_replan(
        &source(json!(["Environments-3"])),
        &destination(json!([rule("r-71", "[1.0,2.0)")])),
        &rules(&format!(
            "{SELECT}[policy]\noverwrite_existing_channel_rules = true\n"
        )),
    );
    let rules_op = plan
        .layers
        .iter()
        .find(|l| l.name == sync_core::LayerName::ChannelRules)
        .expect("a channel rules layer");
    assert_eq!(rules_op.ops.len(), 1);
    assert_eq!(rules_op.ops[0].action, OpAction::Update);
    let hotfix = after.channels.iter().find(|c| c.name == "Hotfix").unwrap();
    assert_eq!(hotfix.rules.len(), 1);
    assert_eq!(hotfix.rules[0].version_range.get().unwrap(), "[2.0,3.0)");
}

#[test]
fn rules_that_differ_only_in_their_ids_are_not_a_change() {
    let plan = sync_core::plan(
        &source(json!(["Environments-3"])),
        &destination(json!([rule("r-71", "[2.0,3.0)")])),
        &rules(&format!(
            "{SELECT}[policy]\noverwrite_existing_channel_rules = true\n"
        )),
    )
    .unwrap();
    assert!(
        plan.layers
            .iter()
            .all(|l| l.name != sync_core::LayerName::ChannelRules),
        "{plan}"
    );
}
