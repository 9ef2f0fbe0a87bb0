//! The environment scenarios of Octopus's guide to syncing instances: the QA
//! manual-intervention step and its four answers, the QA lifecycle/channel cascade, the
//! tenants Internal and Development Team A, and the account and certificate options.

mod common;

use common::*;
use serde_json::{json, Value};
use sync_core::{plan, CleanupCategory, OpAction, PlanError, ResourceKind};

fn deploy_and_qa_steps() -> Value {
    json!([
        {"Id": "s-1", "Name": "Deploy", "Properties": {"Octopus.Action.TargetRoles": "web"}, "Actions": [
            {"Id": "a-1", "Name": "Deploy", "ActionType": "Octopus.Script", "Environments": [],
             "Properties": {"Octopus.Action.Script.ScriptBody": "deploy"}}]},
        {"Id": "s-2", "Name": "QA sign-off", "Actions": [
            {"Id": "a-2", "Name": "QA sign-off", "ActionType": "Octopus.Manual", "Environments": ["Environments-2"],
             "Properties": {"Octopus.Action.Manual.Instructions": "Review the release before integration tests"}}]}
    ])
}

fn dev_test_source() -> sync_core::Snapshot {
    snapshot(join(vec![
        builtins(1),
        vec![(
            "environments",
            json!([{"Id": "Environments-1", "Name": "Development"}, {"Id": "Environments-2", "Name": "Test"}]),
        )],
        source_project(deploy_and_qa_steps(), json!([])),
    ]))
}

fn staging_prod() -> sync_core::Snapshot {
    snapshot(join(vec![
        builtins(71),
        vec![("environments", destination_environments())],
    ]))
}

const PROJECT: &str = "[select]\nprojects = [\"OctoFX\"]\n";

fn qa_action(op: &sync_core::Op) -> Value {
    let body = op.body().unwrap();
    body["Steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Name"] == "QA sign-off")
        .map(|s| s["Actions"][0].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn qa_step_answer_1_qa_tests_in_staging_so_the_step_runs_in_staging() {
    let rules = rules(&format!("{PROJECT}[environment_map]\nTest = [\"Staging\"]"));
    let (plan, _) = plan_apply_replan(&dev_test_source(), &staging_prod(), &rules);
    let process = op(&plan, ResourceKind::DeploymentProcess, "OctoFX");
    assert_eq!(step_names(process), vec!["Deploy", "QA sign-off"]);
    assert_eq!(
        qa_action(process)["Environments"],
        json!(["Environments-71"])
    );
    insta::assert_json_snapshot!(plan);
}

#[test]
fn qa_step_answer_2_qa_only_tests_in_test_so_the_step_is_not_synced() {
    let (plan, _) = plan_apply_replan(&dev_test_source(), &staging_prod(), &rules(PROJECT));
    let process = op(&plan, ResourceKind::DeploymentProcess, "OctoFX");
    assert_eq!(step_names(process), vec!["Deploy"]);
    assert!(
        plan.cleanup
            .iter()
            .any(|c| c.category == CleanupCategory::Skipped
                && c.message.contains("QA sign-off")
                && c.message.contains("\"Test\"")),
        "{plan}"
    );
    insta::assert_json_snapshot!(plan);
}

#[test]
fn qa_step_answer_3_sign_off_before_production_runs_only_in_staging() {
    // The destination already has the step from an earlier sync; the source changed its
    // instructions. The step keeps running in Staging only, never in Production.
    let rules = rules(&format!("{PROJECT}[environment_map]\nTest = [\"Staging\"]"));
    let existing = json!([
        {"Id": "ds-1", "Name": "Deploy", "Properties": {"Octopus.Action.TargetRoles": "web"}, "Actions": [{"Id": "da-1", "Name": "Deploy", "ActionType": "Octopus.Script",
            "Properties": {"Octopus.Action.Script.ScriptBody": "deploy"}}]},
        {"Id": "ds-2", "Name": "QA sign-off", "Actions": [{"Id": "da-2", "Name": "QA sign-off", "ActionType": "Octopus.Manual",
            "Environments": ["Environments-71"], "Properties": {"Octopus.Action.Manual.Instructions": "old"}}]}
    ]);
    let destination = snapshot(join(vec![
        builtins(71),
        vec![("environments", destination_environments())],
        destination_project(existing, json!([])),
    ]));
    let (plan, _) = plan_apply_replan(&dev_test_source(), &destination, &rules);
    let process = op(&plan, ResourceKind::DeploymentProcess, "OctoFX");
    assert_eq!(process.action(), OpAction::Update);
    let qa = qa_action(process);
    assert_eq!(qa["Id"], "da-2");
    assert_eq!(qa["Environments"], json!(["Environments-71"]));
    assert_eq!(
        qa["Properties"]["Octopus.Action.Manual.Instructions"],
        "Review the release before integration tests"
    );
    let paths: Vec<_> = process.diff().iter().map(|c| c.path.as_str()).collect();
    assert_eq!(
        paths,
        vec!["Steps[1].Actions[0].Properties[\"Octopus.Action.Manual.Instructions\"]"]
    );
    insta::assert_json_snapshot!(plan);
}

#[test]
fn qa_step_answer_4_sign_off_in_every_environment_runs_everywhere_and_is_logged() {
    let rules = rules(&format!(
        "{PROJECT}[scoping]\nprocess_environments = \"ignore-mismatch\""
    ));
    let (plan, _) = plan_apply_replan(&dev_test_source(), &staging_prod(), &rules);
    let process = op(&plan, ResourceKind::DeploymentProcess, "OctoFX");
    assert_eq!(qa_action(process)["Environments"], json!([]));
    assert!(plan
        .cleanup
        .iter()
        .any(|c| c.category == CleanupCategory::WidenedScope && c.message.contains("QA sign-off")));
    insta::assert_json_snapshot!(plan);
}

#[test]
fn leave_existing_alone_keeps_the_destinations_step_scoping() {
    let rules = rules(&format!("{PROJECT}[scoping]\nprocess_environments = \"ignore-mismatch-on-new-leave-existing-alone\""));
    let existing = json!([
        {"Id": "ds-2", "Name": "QA sign-off", "Actions": [{"Id": "da-2", "Name": "QA sign-off", "ActionType": "Octopus.Manual",
            "Environments": ["Environments-72"], "Properties": {"Octopus.Action.Manual.Instructions": "Review the release before integration tests"}}]}
    ]);
    let destination = snapshot(join(vec![
        builtins(71),
        vec![("environments", destination_environments())],
        destination_project(existing, json!([])),
    ]));
    let (plan, _) = plan_apply_replan(&dev_test_source(), &destination, &rules);
    let process = op(&plan, ResourceKind::DeploymentProcess, "OctoFX");
    assert_eq!(
        qa_action(process)["Environments"],
        json!(["Environments-72"])
    );
    // The new Deploy step comes first (source order); the existing step keeps its id.
    assert_eq!(step_names(process), vec!["Deploy", "QA sign-off"]);
}

#[test]
fn error_mode_stops_the_plan_with_the_reason() {
    let rules = rules(&format!(
        "{PROJECT}[scoping]\nprocess_environments = \"error-unless-exact-match\""
    ));
    let err = plan(&dev_test_source(), &staging_prod(), &rules).unwrap_err();
    let PlanError::ScopeMismatch { item, reason } = &err else {
        panic!("{err}")
    };
    assert_eq!(item.kind, ResourceKind::DeploymentProcess);
    assert!(reason.contains("\"Test\""), "{reason}");
}

/// Two lifecycles (Default: all four environments; QA: Development and Test), and a
/// project with a QA channel, a manual intervention step only for the QA channel and a
/// variable value scoped to the QA channel.
fn qa_channel_source() -> sync_core::Snapshot {
    snapshot(join(vec![vec![
        ("space", json!({"Id": "Spaces-1", "Name": "Default"})),
        ("environments", source_environments()),
        (
            "lifecycles",
            json!([
                {"Id": "Lifecycles-1", "Name": "Default Lifecycle", "Phases": [
                    {"Id": "p-1", "Name": "Dev", "AutomaticDeploymentTargets": ["Environments-1"]},
                    {"Id": "p-2", "Name": "Test", "OptionalDeploymentTargets": ["Environments-2"]},
                    {"Id": "p-3", "Name": "Staging", "OptionalDeploymentTargets": ["Environments-3"]},
                    {"Id": "p-4", "Name": "Production", "OptionalDeploymentTargets": ["Environments-4"]}]},
                {"Id": "Lifecycles-2", "Name": "QA", "Phases": [
                    {"Id": "p-5", "Name": "QA", "AutomaticDeploymentTargets": ["Environments-1"], "OptionalDeploymentTargets": ["Environments-2"]}]}
            ]),
        ),
        (
            "projectgroups",
            json!([{"Id": "ProjectGroups-1", "Name": "Default Project Group"}]),
        ),
        (
            "projects",
            json!([{"Id": "Projects-1", "Name": "OctoFX", "ProjectGroupId": "ProjectGroups-1", "LifecycleId": "Lifecycles-1"}]),
        ),
        (
            "channels",
            json!([
                {"Id": "Channels-1", "Name": "Default", "ProjectId": "Projects-1", "IsDefault": true},
                {"Id": "Channels-2", "Name": "QA", "ProjectId": "Projects-1", "LifecycleId": "Lifecycles-2"}
            ]),
        ),
        (
            "deploymentprocesses",
            json!([{"Id": "deploymentprocess-Projects-1", "ProjectId": "Projects-1", "Steps": [
                {"Name": "Deploy", "Actions": [{"Id": "a-1", "Name": "Deploy", "ActionType": "Octopus.Script"}]},
                {"Name": "QA approval", "Actions": [{"Id": "a-2", "Name": "QA approval", "ActionType": "Octopus.Manual", "Channels": ["Channels-2"]}]}
            ]}]),
        ),
        (
            "variables",
            json!([{"Id": "variableset-Projects-1", "OwnerId": "Projects-1", "Variables": [
                {"Id": "v-1", "Name": "Approval.Message", "Value": "QA please approve", "Scope": {"Channel": ["Channels-2"]}},
                {"Id": "v-2", "Name": "Approval.Message", "Value": "Release approved", "Scope": {}}
            ]}]),
        ),
    ]]))
}

#[test]
fn qa_lifecycle_and_channel_cascade() {
    let destination = snapshot(join(vec![vec![
        ("space", json!({"Id": "Spaces-71", "Name": "Default"})),
        ("environments", destination_environments()),
        (
            "lifecycles",
            json!([{"Id": "Lifecycles-71", "Name": "Default Lifecycle", "Phases": []}]),
        ),
        (
            "projectgroups",
            json!([{"Id": "ProjectGroups-71", "Name": "Default Project Group"}]),
        ),
    ]]));
    let rules = rules("[select]\nprojects = \"all\"\nlifecycles = \"all\"\nchannels = \"all\"");
    let (plan, _) = plan_apply_replan(&qa_channel_source(), &destination, &rules);
    // The QA lifecycle cannot exist on Staging/Production...
    let lifecycle = op(&plan, ResourceKind::Lifecycle, "QA");
    assert_eq!(lifecycle.action(), OpAction::Skip, "{plan}");
    // ...so neither can the QA channel...
    let channel = op(&plan, ResourceKind::Channel, "QA");
    assert_eq!(channel.action(), OpAction::Skip);
    assert!(channel.reason.contains("\"QA\""), "{}", channel.reason);
    // ...nor the step that only runs in it, nor the value scoped to it.
    let process = op(&plan, ResourceKind::DeploymentProcess, "OctoFX");
    assert_eq!(step_names(process), vec!["Deploy"]);
    let vars = variables(op(&plan, ResourceKind::VariableSet, "OctoFX"));
    assert_eq!(
        vars,
        vec![(
            "Approval.Message".to_owned(),
            json!("Release approved"),
            json!({})
        )]
    );
    // The default lifecycle exists on both sides and keeps its own phases.
    assert_eq!(
        op(&plan, ResourceKind::Lifecycle, "Default Lifecycle").action(),
        OpAction::Unchanged
    );
    insta::assert_json_snapshot!(plan);
}

#[test]
fn qa_channel_kept_when_its_lifecycle_maps_onto_the_destination() {
    let destination = snapshot(join(vec![vec![
        ("space", json!({"Id": "Spaces-71", "Name": "Default"})),
        ("environments", destination_environments()),
        (
            "lifecycles",
            json!([{"Id": "Lifecycles-71", "Name": "Default Lifecycle", "Phases": []}]),
        ),
        (
            "projectgroups",
            json!([{"Id": "ProjectGroups-71", "Name": "Default Project Group"}]),
        ),
    ]]));
    let rules = rules("[select]\nprojects = \"all\"\nlifecycles = \"all\"\nchannels = \"all\"\n[environment_map]\nTest = \"Staging\"");
    let (plan, _) = plan_apply_replan(&qa_channel_source(), &destination, &rules);
    assert_eq!(
        op(&plan, ResourceKind::Lifecycle, "QA").action(),
        OpAction::Create
    );
    let channel = op(&plan, ResourceKind::Channel, "QA");
    assert_eq!(channel.action(), OpAction::Create);
    assert_eq!(channel.pending().len(), 2, "{:?}", channel.pending());
    let process = op(&plan, ResourceKind::DeploymentProcess, "OctoFX");
    assert_eq!(step_names(process), vec!["Deploy", "QA approval"]);
    assert!(process
        .pending()
        .iter()
        .any(|p| p.placeholder.contains("channel \"QA\"")));
}

fn tenant_source() -> sync_core::Snapshot {
    snapshot(join(vec![
        builtins(1),
        vec![
            ("environments", source_environments()),
            (
                "tenants",
                json!([
                    {"Id": "Tenants-1", "Name": "Internal", "ProjectEnvironments": {"Projects-1": ["Environments-1", "Environments-2", "Environments-3", "Environments-4"]}},
                    {"Id": "Tenants-2", "Name": "Development Team A", "ProjectEnvironments": {"Projects-1": ["Environments-1", "Environments-2"]}}
                ]),
            ),
        ],
        source_project(json!([]), json!([])),
    ]))
}

#[test]
fn tenant_internal_is_tied_to_staging_and_production() {
    let rules = rules("[select]\nprojects = [\"OctoFX\"]\ntenants = \"all\"");
    let (plan, after) = plan_apply_replan(&tenant_source(), &staging_prod(), &rules);
    assert_eq!(
        op(&plan, ResourceKind::Tenant, "Internal").action(),
        OpAction::Create
    );
    let connections = plan
        .layers
        .iter()
        .find(|l| l.name == sync_core::LayerName::TenantConnections)
        .unwrap();
    let internal = connections
        .ops
        .iter()
        .find(|o| o.item.name == "Internal")
        .unwrap();
    let body = internal.body().unwrap();
    let envs: Vec<&Value> = body["ProjectEnvironments"]
        .as_object()
        .unwrap()
        .values()
        .collect();
    assert_eq!(envs, vec![&json!(["Environments-71", "Environments-72"])]);
    assert!(
        internal.pending().iter().any(|p| p.in_key),
        "the project key is pending: {:?}",
        internal.pending()
    );
    let tenant = after.tenants.iter().find(|t| t.name == "Internal").unwrap();
    let project = after.projects.iter().find(|p| p.name == "OctoFX").unwrap();
    assert_eq!(
        tenant
            .project_environments
            .get(project.id.get().unwrap())
            .unwrap()
            .len(),
        2
    );
    insta::assert_json_snapshot!(plan);
}

#[test]
fn tenant_development_team_a_is_not_synced() {
    let rules = rules("[select]\nprojects = [\"OctoFX\"]\ntenants = \"all\"");
    let plan = plan(&tenant_source(), &staging_prod(), &rules).unwrap();
    let team_a = op(&plan, ResourceKind::Tenant, "Development Team A");
    assert_eq!(team_a.action(), OpAction::Skip);
    assert!(
        team_a.reason.contains("none of its project environments"),
        "{}",
        team_a.reason
    );
    // Only the selected tenants are touched at all.
    let rules = rules_only_internal();
    let plan = plan_only(&rules);
    assert!(plan.ops().all(|o| o.item.name != "Development Team A"));
    insta::assert_json_snapshot!(plan);
}

fn rules_only_internal() -> sync_core::SyncRules {
    rules("[select]\nprojects = [\"OctoFX\"]\ntenants = [\"Internal\"]")
}

fn plan_only(rules: &sync_core::SyncRules) -> sync_core::Plan {
    plan(&tenant_source(), &staging_prod(), rules).unwrap()
}

fn account_source(variable_type: &str, value: &str) -> sync_core::Snapshot {
    snapshot(join(vec![
        builtins(1),
        vec![
            ("environments", source_environments()),
            (
                "accounts",
                json!([{"Id": "Accounts-1", "Name": "AWS Account", "AccountType": "AmazonWebServicesAccount",
                                  "AccessKey": "AKIA-SOURCE", "SecretKey": {"HasValue": true, "NewValue": null}, "EnvironmentIds": ["Environments-1", "Environments-2"]}]),
            ),
            (
                "certificates",
                json!([{"Id": "Certificates-1", "Name": "octopusdemos.app", "Thumbprint": "AAA"}]),
            ),
        ],
        source_project(
            json!([]),
            json!([{"Id": "v-1", "Name": "Project.Value", "Type": variable_type, "Value": value, "Scope": {}}]),
        ),
    ]))
}

#[test]
fn account_with_the_same_name_but_different_details_is_referenced_and_left_alone() {
    let destination = snapshot(join(vec![
        builtins(71),
        vec![
            ("environments", destination_environments()),
            (
                "accounts",
                json!([{"Id": "Accounts-71", "Name": "aws account", "AccountType": "AmazonWebServicesAccount", "AccessKey": "AKIA-PROD",
                                  "SecretKey": {"HasValue": true, "NewValue": null}}]),
            ),
        ],
    ]));
    let rules = rules("[select]\nprojects = [\"OctoFX\"]\naccounts = \"all\"");
    let (plan, _) = plan_apply_replan(
        &account_source("AmazonWebServicesAccount", "Accounts-1"),
        &destination,
        &rules,
    );
    let account = op(&plan, ResourceKind::Account, "AWS Account");
    assert_eq!(account.action(), OpAction::Unchanged);
    let vars = variables(op(&plan, ResourceKind::VariableSet, "OctoFX"));
    assert_eq!(vars[0].1, json!("Accounts-71"));
}

#[test]
fn missing_account_is_created_with_a_dummy_secret_and_the_variable_follows() {
    let rules = rules("[select]\nprojects = [\"OctoFX\"]\naccounts = \"all\"\n[scoping]\ninfrastructure_environments = \"ignore-mismatch\"");
    let (plan, _) = plan_apply_replan(
        &account_source("AmazonWebServicesAccount", "Accounts-1"),
        &staging_prod(),
        &rules,
    );
    let account = op(&plan, ResourceKind::Account, "AWS Account");
    assert_eq!(account.action(), OpAction::Create);
    assert_eq!(account.secret_slots(), vec!["/SecretKey"]);
    assert!(plan
        .cleanup
        .iter()
        .any(|c| c.category == CleanupCategory::DummySecret && c.item.name == "AWS Account"));
    assert!(plan
        .cleanup
        .iter()
        .any(|c| c.category == CleanupCategory::WidenedScope && c.item.name == "AWS Account"));
    let variable_set = op(&plan, ResourceKind::VariableSet, "OctoFX");
    assert_eq!(
        variable_set.pending().len(),
        2,
        "the project and the account are both new: {:?}",
        variable_set.pending()
    );
    insta::assert_json_snapshot!(plan);
}

#[test]
fn account_scoped_only_to_missing_environments_is_skipped_by_default() {
    let rules = rules("[select]\nprojects = [\"OctoFX\"]\naccounts = \"all\"");
    let plan = plan(
        &account_source("AmazonWebServicesAccount", "Accounts-1"),
        &staging_prod(),
        &rules,
    )
    .unwrap();
    assert_eq!(
        op(&plan, ResourceKind::Account, "AWS Account").action(),
        OpAction::Skip
    );
    // The variable that names it is skipped too (skip-unless-exact-match for accounts).
    assert!(variables(op(&plan, ResourceKind::VariableSet, "OctoFX")).is_empty());
}

#[test]
fn certificate_with_the_same_name_is_referenced_and_a_missing_one_is_reported() {
    let with_cert = snapshot(join(vec![
        builtins(71),
        vec![
            ("environments", destination_environments()),
            (
                "certificates",
                json!([{"Id": "Certificates-71", "Name": "octopusdemos.app", "Thumbprint": "BBB"}]),
            ),
        ],
    ]));
    let rules_text = "[select]\nprojects = [\"OctoFX\"]\ncertificates = \"all\"";
    let (plan, _) = plan_apply_replan(
        &account_source("Certificate", "Certificates-1"),
        &with_cert,
        &rules(rules_text),
    );
    assert_eq!(
        op(&plan, ResourceKind::Certificate, "octopusdemos.app").action(),
        OpAction::Unchanged
    );
    assert_eq!(
        variables(op(&plan, ResourceKind::VariableSet, "OctoFX"))[0].1,
        json!("Certificates-71")
    );

    // Missing: it cannot be created (its data is never readable), and the variable is
    // skipped, or added empty under ignore-mismatch with a clean-up entry.
    let plan = sync_core::plan(
        &account_source("Certificate", "Certificates-1"),
        &staging_prod(),
        &rules(rules_text),
    )
    .unwrap();
    assert_eq!(
        op(&plan, ResourceKind::Certificate, "octopusdemos.app").action(),
        OpAction::Skip
    );
    assert!(variables(op(&plan, ResourceKind::VariableSet, "OctoFX")).is_empty());
    let ignore = rules(&format!(
        "{rules_text}\n[scoping]\nvariable_certificates = \"ignore-mismatch\""
    ));
    let plan = sync_core::plan(
        &account_source("Certificate", "Certificates-1"),
        &staging_prod(),
        &ignore,
    )
    .unwrap();
    assert_eq!(
        variables(op(&plan, ResourceKind::VariableSet, "OctoFX"))[0].1,
        json!("")
    );
    assert!(plan
        .cleanup
        .iter()
        .any(|c| c.category == CleanupCategory::Placeholder
            && c.message.contains("octopusdemos.app")));
}

#[test]
fn tenant_variables_of_internal_follow_its_staging_and_production_connections() {
    let templates = json!([
        {"Id": "t-url", "Name": "Tenant.Url", "DisplaySettings": {"Octopus.ControlType": "SingleLineText"}},
        {"Id": "t-key", "Name": "Tenant.Key", "DisplaySettings": {"Octopus.ControlType": "Sensitive"}}
    ]);
    let mut source_parts = vec![
        builtins(1),
        vec![
            ("environments", source_environments()),
            (
                "tenants",
                json!([{"Id": "Tenants-1", "Name": "Internal", "ProjectEnvironments": {"Projects-1": ["Environments-1", "Environments-3", "Environments-4"]}}]),
            ),
            (
                "tenantvariables",
                json!([{"TenantId": "Tenants-1", "TenantName": "Internal", "ProjectVariables": {"Projects-1": {
                "ProjectId": "Projects-1", "Templates": templates,
                "Variables": {
                    "Environments-1": {"t-url": "https://dev.internal"},
                    "Environments-3": {"t-url": "https://staging.internal", "t-key": {"HasValue": true, "NewValue": null}},
                    "Environments-4": {"t-url": "https://internal"}
                }}}}]),
            ),
        ],
        source_project(json!([]), json!([])),
    ];
    let source = snapshot(join(std::mem::take(&mut source_parts)));
    let mut dest_project = destination_project(json!([]), json!([]));
    dest_project[0].1[0]["Templates"] = json!([
        {"Id": "dt-url", "Name": "tenant.url", "DisplaySettings": {"Octopus.ControlType": "SingleLineText"}},
        {"Id": "dt-key", "Name": "Tenant.Key", "DisplaySettings": {"Octopus.ControlType": "Sensitive"}}
    ]);
    let destination = snapshot(join(vec![
        builtins(71),
        vec![
            ("environments", destination_environments()),
            (
                "tenants",
                json!([{"Id": "Tenants-71", "Name": "Internal", "ProjectEnvironments": {"Projects-71": ["Environments-71", "Environments-72"]}}]),
            ),
            (
                "tenantvariables",
                json!([{"TenantId": "Tenants-71", "TenantName": "Internal", "ProjectVariables": {"Projects-71": {
                "ProjectId": "Projects-71", "Variables": {"Environments-72": {"dt-url": "https://prod.example"}}}}}]),
            ),
        ],
        dest_project,
    ]));
    let rules = rules("[select]\nprojects = [\"OctoFX\"]\ntenants = [\"Internal\"]\n[policy]\nsync_tenant_variables = true");
    let (plan, after) = plan_apply_replan(&source, &destination, &rules);
    let op = op(&plan, ResourceKind::TenantVariables, "Internal");
    assert_eq!(op.action(), OpAction::Update);
    let values = &op.body().unwrap()["ProjectVariables"]["Projects-71"]["Variables"];
    assert_eq!(
        values["Environments-71"]["dt-url"],
        "https://staging.internal"
    );
    assert_eq!(
        values["Environments-71"]["dt-key"],
        json!({"HasValue": true, "NewValue": null})
    );
    // The destination's own production value is left alone.
    assert_eq!(values["Environments-72"]["dt-url"], "https://prod.example");
    assert_eq!(
        op.secret_slots(),
        vec!["/ProjectVariables/Projects-71/Variables/Environments-71/dt-key"]
    );
    assert!(plan
        .cleanup
        .iter()
        .any(|c| c.message.contains("\"Development\"")));
    assert_eq!(after.tenant_variables.len(), 1);
}
