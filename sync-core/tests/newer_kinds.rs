//! Parent environments (2025.4) and deployment freezes (2025.1, per-project 2025.2):
//! matched and translated by name, refused per item where the destination's version has
//! no such kind, and never narrowed or widened silently.

mod common;

use common::*;
use serde_json::{json, Value};
use sync_core::{plan, CleanupCategory, OpAction, ResourceKind, Snapshot};

fn at(version: &str, collections: Vec<(&str, Value)>) -> Snapshot {
    Snapshot::from_collections(version.parse().unwrap(), collections).unwrap()
}

/// A source space with Test and Production, the parent environment "Pull requests" and
/// OctoFX, whose `Url` is scoped to the parent environment.
fn source(version: &str, freezes: Value) -> Snapshot {
    at(
        version,
        join(vec![
            builtins(1),
            vec![
                (
                    "environments",
                    json!([
                        {"Id": "Environments-1", "Name": "Test"},
                        {"Id": "Environments-2", "Name": "Production"},
                        {"Id": "Environments-3", "Name": "pr-42", "Type": "Ephemeral",
                         "ParentEnvironmentId": "ParentEnvironments-1"}
                    ]),
                ),
                (
                    "parentenvironments",
                    json!([{"Id": "ParentEnvironments-1", "Name": "Pull requests",
                            "UseGuidedFailure": false, "SpaceId": "Spaces-1",
                            "AutomaticDeprovisioningRule": {"ExpiryDays": 3}}]),
                ),
                (
                    "tenants",
                    json!([{"Id": "Tenants-1", "Name": "Acme", "ProjectEnvironments": {}}]),
                ),
                ("deploymentfreezes", freezes),
            ],
            source_project(
                json!([]),
                json!([{"Id": "v-1", "Name": "Url", "Value": "https://pr.example",
                        "Scope": {"Environment": ["ParentEnvironments-1"]}}]),
            ),
        ]),
    )
}

/// A destination space with the same environments under other ids, its own OctoFX and
/// tenant, and `extra` collections.
fn destination(version: &str, extra: Vec<(&'static str, Value)>) -> Snapshot {
    at(
        version,
        join(vec![
            builtins(71),
            vec![
                (
                    "environments",
                    json!([
                        {"Id": "Environments-71", "Name": "Test"},
                        {"Id": "Environments-72", "Name": "Production"}
                    ]),
                ),
                (
                    "tenants",
                    json!([{"Id": "Tenants-71", "Name": "Acme", "ProjectEnvironments": {}}]),
                ),
            ],
            destination_project(json!([]), json!([])),
            extra,
        ]),
    )
}

fn freeze(name: &str, scope: Value, tenants: Value) -> Value {
    json!({"Id": format!("DeploymentFreezes-{}", name.len()), "Name": name,
           "Start": "2026-12-20T00:00:00.000+00:00", "End": "2027-01-04T00:00:00.000+00:00",
           "ProjectEnvironmentScope": scope, "TenantProjectEnvironmentScope": tenants})
}

const KINDS: &str = "[select]\nparent_environments = \"all\"\nenvironments = \"all\"\nprojects = [\"OctoFX\"]\ndeployment_freezes = \"all\"\ntenants = \"all\"\n";

#[test]
fn a_parent_environment_is_created_and_a_value_scoped_to_it_follows_it_by_name() {
    let (plan, after) = plan_apply_replan(
        &source("2025.4.3897", json!([])),
        &destination("2025.4.3897", vec![]),
        &rules(KINDS),
    );
    let created = op(&plan, ResourceKind::ParentEnvironment, "Pull requests");
    assert_eq!(created.action(), OpAction::Create);
    assert_eq!(
        created.body().unwrap()["AutomaticDeprovisioningRule"],
        json!({"ExpiryDays": 3})
    );
    let parent = after.parent_environments[0].id.get().unwrap().to_string();
    assert_ne!(parent, "ParentEnvironments-1", "the destination's own id");
    let set = after
        .variable_sets
        .iter()
        .find(|v| {
            v.owner_id
                .get()
                .is_some_and(|o| o.as_str() == "Projects-71")
        })
        .unwrap();
    let url = set.variables.iter().find(|v| v.name == "Url").unwrap();
    assert_eq!(
        serde_json::to_value(&url.scope).unwrap()["Environment"],
        json!([parent])
    );
}

#[test]
fn an_ephemeral_environment_is_reported_not_created() {
    let plan = plan(
        &source("2025.4.3897", json!([])),
        &destination("2025.4.3897", vec![]),
        &rules(KINDS),
    )
    .unwrap();
    let pr = op(&plan, ResourceKind::Environment, "pr-42");
    assert_eq!(pr.action(), OpAction::Skip);
    assert!(
        pr.reason.contains("\"Pull requests\"") && pr.reason.contains("ephemeral"),
        "{}",
        pr.reason
    );
}

#[test]
fn an_older_destination_refuses_each_parent_environment_and_keeps_scopes_whole() {
    let plan = plan(
        &source("2025.4.3897", json!([])),
        &destination("2025.2.11370", vec![]),
        &rules(&format!("{KINDS}[policy]\nallow_version_mismatch = true\n")),
    )
    .unwrap();
    let parent = op(&plan, ResourceKind::ParentEnvironment, "Pull requests");
    assert_eq!(parent.action(), OpAction::Skip);
    assert!(parent.reason.contains("2025.4"), "{}", parent.reason);
    // The value scoped only to the parent environment is not written unscoped: that
    // would widen it to every environment.
    let vars = op(&plan, ResourceKind::VariableSet, "OctoFX");
    let body = vars.body().map(|b| b["Variables"].clone());
    let widened = body
        .as_ref()
        .and_then(Value::as_array)
        .is_some_and(|vs| vs.iter().any(|v| v["Name"] == "Url"));
    assert!(!widened, "{plan}");
    assert!(
        plan.cleanup
            .iter()
            .any(|c| c.category == CleanupCategory::Skipped
                && c.message.contains("parent environment")
                && c.message.contains("Pull requests")),
        "{plan}"
    );
}

#[test]
fn a_freeze_is_translated_by_name_and_leaves_other_spaces_entries_to_them() {
    let freezes = json!([freeze(
        "Holidays",
        json!({"Projects-1": ["Environments-2"], "Projects-900": ["Environments-901"]}),
        json!([{"TenantId": "Tenants-1", "ProjectId": "Projects-1", "EnvironmentId": "Environments-1"}]),
    )]);
    let (plan, after) = plan_apply_replan(
        &source("2025.2.11370", freezes),
        &destination("2025.2.11370", vec![]),
        &rules(KINDS),
    );
    let created = op(&plan, ResourceKind::DeploymentFreeze, "Holidays");
    assert_eq!(created.action(), OpAction::Create);
    assert!(created
        .reason
        .contains("1 scope entries naming other spaces"));
    let written = serde_json::to_value(&after.deployment_freezes[0]).unwrap();
    assert_eq!(
        written["ProjectEnvironmentScope"],
        json!({"Projects-71": ["Environments-72"]})
    );
    assert_eq!(
        written["TenantProjectEnvironmentScope"],
        json!([{"TenantId": "Tenants-71", "ProjectId": "Projects-71", "EnvironmentId": "Environments-71"}])
    );
    assert_eq!(written["Start"], "2026-12-20T00:00:00.000+00:00");
}

#[test]
fn a_freeze_naming_what_the_destination_lacks_is_refused_not_narrowed() {
    let freezes = json!([freeze(
        "Holidays",
        json!({"Projects-1": ["Environments-2", "Environments-1"]}),
        json!([]),
    )]);
    let dest = at(
        "2025.2.11370",
        join(vec![
            builtins(71),
            vec![(
                "environments",
                json!([{"Id": "Environments-72", "Name": "Production"}]),
            )],
            destination_project(json!([]), json!([])),
        ]),
    );
    // Test is not selected, so the destination will not have it.
    let only_freezes = "[select]\nprojects = [\"OctoFX\"]\ndeployment_freezes = \"all\"\n";
    let plan = plan(
        &source("2025.2.11370", freezes),
        &dest,
        &rules(only_freezes),
    )
    .unwrap();
    let skipped = op(&plan, ResourceKind::DeploymentFreeze, "Holidays");
    assert_eq!(skipped.action(), OpAction::Skip);
    assert!(
        skipped.reason.contains("environment \"Test\"") && skipped.reason.contains("freezes less"),
        "{}",
        skipped.reason
    );
}

#[test]
fn a_freeze_with_an_empty_scope_or_only_other_spaces_is_not_copied() {
    let freezes = json!([
        freeze("Everything?", json!({}), json!([])),
        freeze(
            "Elsewhere",
            json!({"Projects-900": ["Environments-901"]}),
            json!([])
        ),
    ]);
    let plan = plan(
        &source("2025.2.11370", freezes),
        &destination("2025.2.11370", vec![]),
        &rules(KINDS),
    )
    .unwrap();
    let empty = op(&plan, ResourceKind::DeploymentFreeze, "Everything?");
    assert_eq!(empty.action(), OpAction::Skip);
    assert!(empty.reason.contains("empty"), "{}", empty.reason);
    let elsewhere = op(&plan, ResourceKind::DeploymentFreeze, "Elsewhere");
    assert_eq!(elsewhere.action(), OpAction::Skip);
    assert!(
        elsewhere.reason.contains("other spaces"),
        "{}",
        elsewhere.reason
    );
}

#[test]
fn a_per_project_freeze_needs_2025_2_and_follows_its_project() {
    let mut owned = freeze(
        "OctoFX release week",
        json!({"Projects-1": ["Environments-2"]}),
        json!([]),
    );
    owned["OwnerId"] = json!("Projects-1");
    let src = source("2025.2.11370", json!([owned]));
    let old = plan(&src, &destination("2025.1.7559", vec![]), &rules(KINDS)).unwrap();
    let refused = op(&old, ResourceKind::DeploymentFreeze, "OctoFX release week");
    assert_eq!(refused.action(), OpAction::Skip);
    assert!(refused.reason.contains("per-project") && refused.reason.contains("2025.2"));
    let (plan, after) =
        plan_apply_replan(&src, &destination("2025.2.11370", vec![]), &rules(KINDS));
    assert_eq!(
        op(&plan, ResourceKind::DeploymentFreeze, "OctoFX release week").action(),
        OpAction::Create
    );
    assert_eq!(
        after.deployment_freezes[0]
            .owner_id
            .get()
            .map(|o| o.as_str()),
        Some("Projects-71")
    );
}

#[test]
fn no_freeze_is_written_to_a_destination_before_2025_1() {
    let freezes = json!([freeze(
        "Holidays",
        json!({"Projects-1": ["Environments-2"]}),
        json!([])
    )]);
    let plan = plan(
        &source("2025.1.7559", freezes),
        &destination("2024.4.1000", vec![]),
        &rules(KINDS),
    )
    .unwrap();
    let refused = op(&plan, ResourceKind::DeploymentFreeze, "Holidays");
    assert_eq!(refused.action(), OpAction::Skip);
    assert!(refused.reason.contains("2025.1"), "{}", refused.reason);
    assert!(!plan
        .writes()
        .any(|o| o.item.kind == ResourceKind::DeploymentFreeze));
}

#[test]
fn an_existing_freeze_takes_the_source_window_and_keeps_what_the_destination_froze() {
    let freezes = json!([freeze(
        "Holidays",
        json!({"Projects-1": ["Environments-2"]}),
        json!([])
    )]);
    let mut theirs = freeze(
        "Holidays",
        json!({"Projects-71": ["Environments-71"]}),
        json!([]),
    );
    theirs["Id"] = json!("DeploymentFreezes-7");
    theirs["End"] = json!("2026-12-27T00:00:00.000+00:00");
    let dest = destination("2025.2.11370", vec![("deploymentfreezes", json!([theirs]))]);
    let (plan, after) = plan_apply_replan(&source("2025.2.11370", freezes), &dest, &rules(KINDS));
    assert_eq!(
        op(&plan, ResourceKind::DeploymentFreeze, "Holidays").action(),
        OpAction::Update
    );
    let written = serde_json::to_value(&after.deployment_freezes[0]).unwrap();
    assert_eq!(written["End"], "2027-01-04T00:00:00.000+00:00");
    assert_eq!(
        written["ProjectEnvironmentScope"],
        json!({"Projects-71": ["Environments-71", "Environments-72"]})
    );
    // Nothing else was created beside it.
    assert_eq!(after.deployment_freezes.len(), 1);
}

fn with_ephemeral_channel(version: &str) -> Snapshot {
    let mut src = source(version, json!([]));
    let extra = Snapshot::from_collections(
        version.parse().unwrap(),
        [(
            "channels",
            json!([{"Id": "Channels-2", "Name": "Pull requests", "ProjectId": "Projects-1",
                    "LifecycleId": "Lifecycles-1", "Type": "EphemeralEnvironment",
                    "ParentEnvironmentId": "ParentEnvironments-1",
                    "EphemeralEnvironmentNameTemplate": "pr-#{Octopus.Release.Number}"}]),
        )],
    )
    .unwrap();
    src.channels.extend(extra.channels);
    src
}

#[test]
fn an_ephemeral_environment_channel_follows_its_parent_environment_by_name() {
    let with_lifecycles = format!("{KINDS}channels = \"all\"\nlifecycles = \"all\"\n");
    let (plan, after) = plan_apply_replan(
        &with_ephemeral_channel("2025.4.3897"),
        &destination("2025.4.3897", vec![]),
        &rules(&with_lifecycles),
    );
    assert_eq!(
        plan.find(ResourceKind::Channel, "Pull requests")
            .map(|o| o.action()),
        Some(OpAction::Create)
    );
    let parent = after.parent_environments[0].id.get().unwrap().to_string();
    let channel = after
        .channels
        .iter()
        .find(|c| c.name == "Pull requests")
        .unwrap();
    assert_eq!(channel.extra["ParentEnvironmentId"], json!(parent));
}

#[test]
fn an_ephemeral_environment_channel_without_its_parent_is_skipped_with_the_reason() {
    let no_parents =
        "[select]\nprojects = [\"OctoFX\"]\nchannels = \"all\"\nlifecycles = \"all\"\n";
    let plan = plan(
        &with_ephemeral_channel("2025.4.3897"),
        &destination("2025.4.3897", vec![]),
        &rules(no_parents),
    )
    .unwrap();
    let channel = op(&plan, ResourceKind::Channel, "Pull requests");
    assert_eq!(channel.action(), OpAction::Skip);
    assert!(
        channel
            .reason
            .contains("parent environment \"Pull requests\""),
        "{}",
        channel.reason
    );
}

#[test]
fn a_value_scoped_to_an_existing_parent_environment_is_reviewed_under_its_name() {
    let dest = destination(
        "2025.4.3897",
        vec![(
            "parentenvironments",
            json!([{"Id": "ParentEnvironments-9", "Name": "Pull requests"}]),
        )],
    );
    let (plan, after) = plan_apply_replan(&source("2025.4.3897", json!([])), &dest, &rules(KINDS));
    assert_eq!(
        op(&plan, ResourceKind::ParentEnvironment, "Pull requests").action(),
        OpAction::Unchanged
    );
    let vars = op(&plan, ResourceKind::VariableSet, "OctoFX");
    let url = vars
        .variables()
        .iter()
        .find(|r| r.name == "Url")
        .expect("a review of Url");
    assert!(
        url.contexts
            .iter()
            .any(|c| c.context.contains("Pull requests")),
        "{:?}",
        url.contexts
    );
    assert_eq!(after.parent_environments.len(), 1);
}

#[test]
fn an_account_scoped_to_a_parent_environment_gets_the_destinations_parent() {
    let mut src = source("2025.4.3897", json!([]));
    src.accounts = Snapshot::from_collections(
        src.version.clone(),
        [(
            "accounts",
            json!([{"Id": "Accounts-1", "Name": "Preview cluster", "AccountType": "Token",
                    "Token": {"HasValue": true}, "SpaceId": "Spaces-1",
                    "EnvironmentIds": ["ParentEnvironments-1", "Environments-1"]}]),
        )],
    )
    .unwrap()
    .accounts;
    let dest = destination(
        "2025.4.3897",
        vec![(
            "parentenvironments",
            json!([{"Id": "ParentEnvironments-9", "Name": "Pull requests"}]),
        )],
    );
    let (_, after) =
        plan_apply_replan(&src, &dest, &rules(&format!("{KINDS}accounts = \"all\"\n")));
    let account = serde_json::to_value(&after.accounts[0]).unwrap();
    assert_eq!(
        account["EnvironmentIds"],
        json!(["ParentEnvironments-9", "Environments-71"])
    );
}
