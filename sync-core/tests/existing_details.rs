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
        op(&plan, ResourceKind::Runbook, "Refresh DB").action(),
        OpAction::Unchanged
    );
    assert!(plan
        .of_kind(ResourceKind::Channel)
        .all(|o| o.action() == OpAction::Unchanged));
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
        op(&plan, ResourceKind::Runbook, "Refresh DB").action(),
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
    assert_eq!(rules_op.ops[0].action(), OpAction::Update);
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

fn infra(feed: Value, pool: Value, policy: Value) -> Vec<(&'static str, Value)> {
    vec![
        ("feeds", json!([feed])),
        ("workerpools", json!([pool])),
        ("machinepolicies", json!([policy])),
    ]
}

fn feed(id: &str, uri: &str, user: &str, password_set: bool) -> Value {
    json!({"Id": id, "Name": "Artifacts", "FeedType": "NuGet", "FeedUri": uri, "Username": user,
           "Password": {"HasValue": password_set, "NewValue": null}, "DownloadAttempts": if uri.contains("dev") { 5 } else { 3 }})
}

fn pool(id: &str, description: &str) -> Value {
    json!({"Id": id, "Name": "Linux", "WorkerPoolType": "StaticWorkerPool", "Description": description,
           "IsDefault": id.ends_with("-9"), "CanAddWorkers": true, "SortOrder": 4})
}

fn machine_policy(id: &str, minutes: &str) -> Value {
    json!({"Id": id, "Name": "Fast checks", "IsDefault": false,
           "MachineHealthCheckPolicy": {"HealthCheckInterval": minutes, "HealthCheckType": "RunScript"}})
}

fn infra_pair() -> (Snapshot, Snapshot) {
    let source = snapshot(join(vec![
        builtins(1),
        infra(
            feed("Feeds-2", "https://dev.example/nuget", "builder", true),
            pool("WorkerPools-2", "Ubuntu 24.04 workers"),
            machine_policy("MachinePolicies-2", "00:05:00"),
        ),
    ]));
    let destination = snapshot(join(vec![
        builtins(71),
        infra(
            feed("Feeds-72", "https://prod.example/nuget", "deployer", true),
            pool("WorkerPools-9", "Ubuntu 22.04 workers"),
            machine_policy("MachinePolicies-72", "01:00:00"),
        ),
    ]));
    (source, destination)
}

const INFRA: &str =
    "[select]\nfeeds = [\"all\"]\nworker_pools = [\"all\"]\nmachine_policies = [\"all\"]\n";

#[test]
fn by_default_existing_feeds_pools_and_policies_keep_their_details() {
    let (source, destination) = infra_pair();
    let plan = sync_core::plan(&source, &destination, &rules(INFRA)).unwrap();
    for kind in [
        ResourceKind::Feed,
        ResourceKind::WorkerPool,
        ResourceKind::MachinePolicy,
    ] {
        assert!(
            plan.of_kind(kind)
                .all(|o| o.action() == OpAction::Unchanged),
            "{plan}"
        );
    }
}

#[test]
fn opted_in_details_follow_the_source_but_never_a_secret_the_default_flag_or_the_type() {
    let (source, destination) = infra_pair();
    let (plan, after) = plan_apply_replan(
        &source,
        &destination,
        &rules(&format!(
            "{INFRA}[policy]\noverwrite_existing_details = [\"feeds\", \"worker-pools\", \"machine-policies\"]\n"
        )),
    );
    let feed =
        serde_json::to_value(after.feeds.iter().find(|f| f.name == "Artifacts").unwrap()).unwrap();
    assert_eq!(feed["FeedUri"], "https://dev.example/nuget");
    assert_eq!(
        feed["Username"], "deployer",
        "credentials stay the destination's"
    );
    assert_eq!(feed["DownloadAttempts"], 5);
    let op = plan.find(ResourceKind::Feed, "Artifacts").unwrap();
    assert!(op.secret_slots().is_empty(), "no secret is written");
    let body = op.body().unwrap();
    assert_eq!(
        body["Password"],
        json!({"HasValue": true, "NewValue": null}),
        "the destination's password is kept"
    );
    let pool = serde_json::to_value(
        after
            .worker_pools
            .iter()
            .find(|p| p.name == "Linux")
            .unwrap(),
    )
    .unwrap();
    assert_eq!(pool["Description"], "Ubuntu 24.04 workers");
    assert_eq!(
        pool["IsDefault"], true,
        "the destination's default stays its default"
    );
    let policy = serde_json::to_value(
        after
            .machine_policies
            .iter()
            .find(|p| p.name == "Fast checks")
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        policy["MachineHealthCheckPolicy"]["HealthCheckInterval"],
        "00:05:00"
    );
}

#[test]
fn a_feed_of_another_type_is_skipped_with_the_reason() {
    let (source, mut destination) = infra_pair();
    let artifacts = destination
        .feeds
        .iter_mut()
        .find(|f| f.name == "Artifacts")
        .unwrap();
    artifacts.feed_type.set(octopus_model::FeedType::Maven);
    let plan = sync_core::plan(
        &source,
        &destination,
        &rules(&format!(
            "{INFRA}[policy]\noverwrite_existing_details = [\"feeds\"]\n"
        )),
    )
    .unwrap();
    let op = plan.find(ResourceKind::Feed, "Artifacts").unwrap();
    assert_eq!(op.action(), OpAction::Skip);
    assert!(op.reason.contains("type cannot change"), "{plan}");
}

fn with_project_settings(mut collections: Vec<(&'static str, Value)>, settings: Value) -> Snapshot {
    for (name, value) in collections.iter_mut() {
        if *name == "projects" {
            let project = value.as_array_mut().unwrap()[0].as_object_mut().unwrap();
            for (k, v) in settings.as_object().unwrap() {
                project.insert(k.clone(), v.clone());
            }
        }
    }
    snapshot(collections)
}

fn deploy_step(action_id: &str) -> Value {
    json!([{"Id": format!("step-{action_id}"), "Name": "Deploy", "Actions": [{"Id": action_id, "Name": "Deploy",
        "ActionType": "Octopus.TentaclePackage", "Packages": [{"Name": "", "PackageId": "OctoFX.Web", "FeedId": "Feeds-1"}]}]}])
}

#[test]
fn an_existing_project_takes_the_source_deployment_settings_and_its_donor_package_versioning() {
    let source = with_project_settings(
        join(vec![
            builtins(1),
            vec![("environments", source_environments())],
            source_project(deploy_step("a-1"), json!([])),
        ]),
        json!({"DefaultGuidedFailureMode": "On", "ReleaseNotesTemplate": "#{Octopus.Release.Notes}",
               "DefaultToSkipIfAlreadyInstalled": true,
               "ProjectConnectivityPolicy": {"AllowDeploymentsToNoTargets": true, "SkipMachineBehavior": "SkipUnavailableMachines"},
               "VersioningStrategy": {"Template": null, "DonorPackageStepId": "a-1",
                                      "DonorPackage": {"DeploymentAction": "Deploy", "PackageReference": ""}}}),
    );
    let destination = with_project_settings(
        join(vec![
            builtins(71),
            vec![("environments", destination_environments())],
            destination_project(deploy_step("a-71"), json!([])),
        ]),
        json!({"DefaultGuidedFailureMode": "Off", "ReleaseNotesTemplate": null,
               "VersioningStrategy": {"Template": "#{Octopus.Version.NextPatch}"}}),
    );
    let (plan, after) = plan_apply_replan(&source, &destination, &rules(SELECT));
    assert_eq!(
        op(&plan, ResourceKind::Project, "OctoFX").action(),
        OpAction::Update
    );
    let project = serde_json::to_value(&after.projects[0]).unwrap();
    assert_eq!(project["DefaultGuidedFailureMode"], "On");
    assert_eq!(project["ReleaseNotesTemplate"], "#{Octopus.Release.Notes}");
    assert_eq!(project["DefaultToSkipIfAlreadyInstalled"], true);
    assert_eq!(
        project["ProjectConnectivityPolicy"]["AllowDeploymentsToNoTargets"],
        true
    );
    assert_eq!(
        project["VersioningStrategy"]["DonorPackage"]["DeploymentAction"],
        "Deploy"
    );
    assert!(
        project["VersioningStrategy"]["DonorPackageStepId"] != "a-1",
        "the source's action id never reaches the destination"
    );
    let versioning = plan
        .layers
        .iter()
        .find(|l| l.name == sync_core::LayerName::ProjectVersioning)
        .expect("versioning is set once the process exists");
    assert_eq!(versioning.ops[0].action(), OpAction::Update);
}

#[test]
fn a_deployment_setting_the_source_does_not_send_keeps_the_destinations_value() {
    let source = with_project_settings(
        join(vec![
            builtins(1),
            vec![("environments", source_environments())],
            source_project(json!([]), json!([])),
        ]),
        json!({"ProjectConnectivityPolicy": {"AllowDeploymentsToNoTargets": true}}),
    );
    let destination = with_project_settings(
        join(vec![
            builtins(71),
            vec![("environments", destination_environments())],
            destination_project(json!([]), json!([])),
        ]),
        json!({"ForcePackageDownload": true,
               "ProjectConnectivityPolicy": {"AllowDeploymentsToNoTargets": false, "SkipMachineBehavior": "None",
                                             "TargetRoles": [], "ExcludeUnhealthyTargets": true}}),
    );
    let (_, after) = plan_apply_replan(&source, &destination, &rules(SELECT));
    let project = serde_json::to_value(&after.projects[0]).unwrap();
    assert_eq!(project["ForcePackageDownload"], true);
    assert_eq!(
        project["ProjectConnectivityPolicy"],
        json!({"AllowDeploymentsToNoTargets": true, "SkipMachineBehavior": "None",
               "TargetRoles": [], "ExcludeUnhealthyTargets": true})
    );
}
