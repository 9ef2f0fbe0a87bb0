//! A destination that has its own process: renamed steps, its own steps and where they
//! sit, text that only looks like ids, step templates and their versions, new secrets on
//! existing actions, excluded environments and environment maps that do not fit.

mod common;

use common::*;
use serde_json::{json, Value};
use sync_core::testing::InMemoryApplier;
use sync_core::{plan, CleanupCategory, OpAction, PlanError, ResourceKind, Snapshot};

const PROJECT: &str = "[select]\nprojects = [\"OctoFX\"]\n";

fn rules_with(extra: &str) -> sync_core::SyncRules {
    rules(&format!("{PROJECT}{extra}"))
}

/// An action with an id, a name and properties.
fn action(id: &str, name: &str, properties: Value) -> Value {
    let mut props = json!({"Octopus.Action.Script.ScriptBody": "echo"});
    if let (Value::Object(p), Value::Object(extra)) = (&mut props, properties) {
        p.extend(extra);
    }
    json!({"Id": id, "Name": name, "ActionType": "Octopus.Script", "Properties": props})
}

/// A step with an id, a name and actions.
fn step(id: &str, name: &str, actions: Vec<Value>) -> Value {
    json!({"Id": id, "Name": name, "Actions": actions})
}

fn source_with(extra: Vec<(&'static str, Value)>, steps: Value, variables: Value) -> Snapshot {
    snapshot(join(vec![
        builtins(1),
        vec![("environments", source_environments())],
        extra,
        source_project(steps, variables),
    ]))
}

fn destination_with(extra: Vec<(&'static str, Value)>, steps: Value, variables: Value) -> Snapshot {
    snapshot(join(vec![
        builtins(71),
        vec![("environments", destination_environments())],
        extra,
        destination_project(steps, variables),
    ]))
}

fn process_op(plan: &sync_core::Plan) -> &sync_core::Op {
    op(plan, ResourceKind::DeploymentProcess, "OctoFX")
}

/// The destination's process after an apply.
fn dest_steps(snapshot: &Snapshot) -> Vec<octopus_model::Step> {
    snapshot.deployment_processes[0]
        .steps
        .iter()
        .cloned()
        .collect()
}

fn action_ids(steps: &[octopus_model::Step]) -> Vec<(String, String)> {
    steps
        .iter()
        .flat_map(|s| s.actions.iter())
        .map(|a| (a.name.clone(), a.id.get().cloned().unwrap_or_default()))
        .collect()
}

#[test]
fn a_renamed_step_keeps_its_action_ids_and_its_variables_stay_scoped() {
    let source_steps = json!([step(
        "s-1",
        "Release apps",
        vec![
            action("sa-web", "Push web", json!({})),
            action("sa-worker", "Push worker", json!({}))
        ]
    )]);
    let dest_steps_json = json!([step(
        "d-1",
        "Deploy",
        vec![
            action("da-web", "Push web", json!({})),
            action("da-worker", "Push worker", json!({}))
        ]
    )]);
    let source_vars = json!([{"Id": "v-1", "Name": "Url", "Value": "https://web", "Scope": {"Action": ["sa-web"]}}]);
    let dest_vars = json!([{"Id": "dv-1", "Name": "Url", "Value": "https://web", "Scope": {"Action": ["da-web"]}}]);
    for cloning in ["keep-additional-destination-steps", "source-only"] {
        let source = source_with(vec![], source_steps.clone(), source_vars.clone());
        let destination = destination_with(vec![], dest_steps_json.clone(), dest_vars.clone());
        let rules = rules_with(&format!("[policy]\nprocess_cloning = \"{cloning}\"\n"));
        let (plan, after) = plan_apply_replan(&source, &destination, &rules);
        let process = process_op(&plan);
        assert!(
            process
                .reason
                .contains("renamed step \"Deploy\" → \"Release apps\""),
            "{cloning}: {}",
            process.reason
        );
        let steps = dest_steps(&after);
        assert_eq!(
            steps.len(),
            1,
            "{cloning}: one step, not the old and the new"
        );
        assert_eq!(steps[0].name, "Release apps");
        assert_eq!(steps[0].id.get().map(String::as_str), Some("d-1"));
        assert_eq!(
            action_ids(&steps),
            vec![
                ("Push web".to_owned(), "da-web".to_owned()),
                ("Push worker".to_owned(), "da-worker".to_owned())
            ],
            "{cloning}"
        );
        let vars = &after
            .variable_sets
            .iter()
            .find(|v| v.owner_id.get().map(String::as_str) == Some("Projects-71"))
            .unwrap()
            .variables;
        for v in vars.iter() {
            for id in v
                .scope
                .get(&octopus_model::ScopeField::Action)
                .into_iter()
                .flatten()
            {
                assert!(
                    steps
                        .iter()
                        .flat_map(|s| s.actions.iter())
                        .any(|a| a.id.get() == Some(id)),
                    "{cloning}: variable {} is scoped to {id}, which is no action",
                    v.name
                );
            }
        }
    }
}

#[test]
fn a_destination_only_step_stays_after_the_step_it_followed() {
    let source_steps = json!([
        step("s-1", "Migrate", vec![action("sa-1", "Migrate", json!({}))]),
        step("s-2", "Release", vec![action("sa-2", "Release", json!({}))]),
        step(
            "s-3",
            "Smoke test",
            vec![action("sa-3", "Smoke test", json!({}))]
        )
    ]);
    let dest = json!([
        step("d-1", "Migrate", vec![action("da-1", "Migrate", json!({}))]),
        step(
            "d-9",
            "Change board sign-off",
            vec![
                json!({"Id": "da-9", "Name": "Change board sign-off", "ActionType": "Octopus.Manual",
                        "Properties": {"Octopus.Action.Manual.Instructions": "Wait for the board"}})
            ]
        ),
        step("d-2", "Release", vec![action("da-2", "Release", json!({}))])
    ]);
    let source = source_with(vec![], source_steps, json!([]));
    let destination = destination_with(vec![], dest, json!([]));
    let (first, after) = plan_apply_replan(&source, &destination, &rules(PROJECT));
    let names: Vec<String> = dest_steps(&after).iter().map(|s| s.name.clone()).collect();
    assert_eq!(
        names,
        ["Migrate", "Change board sign-off", "Release", "Smoke test"]
    );
    let reason = &process_op(&first).reason;
    assert!(
        reason.contains("destination-only step \"Change board sign-off\" kept after \"Migrate\""),
        "{reason}"
    );
    // Under source-only the step goes, and nothing else moves.
    let only = plan(
        &source,
        &destination,
        &rules_with("[policy]\nprocess_cloning = \"source-only\"\n"),
    )
    .unwrap();
    assert_eq!(
        step_names(process_op(&only)),
        ["Migrate", "Release", "Smoke test"]
    );
    assert!(process_op(&only)
        .reason
        .contains("destination-only step \"Change board sign-off\" removed"));
}

#[test]
fn a_destination_only_step_follows_its_step_when_the_source_reorders() {
    let source_steps = json!([
        step("s-2", "Release", vec![action("sa-2", "Release", json!({}))]),
        step("s-1", "Migrate", vec![action("sa-1", "Migrate", json!({}))])
    ]);
    let dest = json!([
        step(
            "d-0",
            "Announce",
            vec![action("da-0", "Announce", json!({}))]
        ),
        step("d-1", "Migrate", vec![action("da-1", "Migrate", json!({}))]),
        step("d-9", "Check", vec![action("da-9", "Check", json!({}))]),
        step("d-2", "Release", vec![action("da-2", "Release", json!({}))])
    ]);
    let source = source_with(vec![], source_steps, json!([]));
    let destination = destination_with(vec![], dest, json!([]));
    let (plan, after) = plan_apply_replan(&source, &destination, &rules(PROJECT));
    let names: Vec<String> = dest_steps(&after).iter().map(|s| s.name.clone()).collect();
    assert_eq!(names, ["Announce", "Release", "Migrate", "Check"]);
    let reason = &process_op(&plan).reason;
    assert!(
        reason.contains("destination-only step \"Announce\" kept first"),
        "{reason}"
    );
}

#[test]
fn text_that_looks_like_an_id_is_copied_and_the_step_still_syncs() {
    let extra = vec![(
        "feeds",
        json!([{"Id": "Feeds-2", "Name": "NuGet", "FeedType": "NuGet"}]),
    )];
    let steps = json!([step(
        "s-1",
        "Web site",
        vec![action(
            "sa-1",
            "Web site",
            json!({"Octopus.Action.IISWebSite.ApplicationPoolName": "Shop-3",
                   "Deploy.Label": "Sprint-12",
                   "Deploy.Note": "Feeds-2"})
        )]
    )]);
    let source = source_with(extra, steps, json!([]));
    let destination = destination_with(vec![], json!([]), json!([]));
    let (plan, _) = plan_apply_replan(&source, &destination, &rules(PROJECT));
    let process = process_op(&plan);
    assert_eq!(step_names(process), ["Web site"]);
    let props = &process.body().unwrap()["Steps"][0]["Actions"][0]["Properties"];
    assert_eq!(
        props["Octopus.Action.IISWebSite.ApplicationPoolName"],
        "Shop-3"
    );
    assert_eq!(props["Deploy.Label"], "Sprint-12");
    assert_eq!(props["Deploy.Note"], "Feeds-2");
    // Text equal to a source document's id is noted; text that is not, is not.
    let notes: Vec<&str> = plan
        .cleanup
        .iter()
        .filter(|c| c.category == CleanupCategory::Reference)
        .map(|c| c.message.as_str())
        .collect();
    assert!(
        notes
            .iter()
            .any(|m| m.contains("Deploy.Note") && m.contains("\"NuGet\"")),
        "{notes:?}"
    );
    assert!(
        !notes
            .iter()
            .any(|m| m.contains("Shop-3") || m.contains("Sprint-12")),
        "{notes:?}"
    );
    assert!(!plan
        .cleanup
        .iter()
        .any(|c| c.category == CleanupCategory::Skipped));
}

/// Collections of one side, as `(collection, array)` pairs.
type Collections = Vec<(&'static str, Value)>;

/// Source and destination documents that templates and actions refer to.
fn referenced() -> (Collections, Collections) {
    let source = vec![
        (
            "feeds",
            json!([{"Id": "Feeds-2", "Name": "NuGet", "FeedType": "NuGet"}]),
        ),
        (
            "accounts",
            json!([{"Id": "Accounts-2", "Name": "Azure", "AccountType": "AzureServicePrincipal"},
                   {"Id": "Accounts-9", "Name": "Old Azure", "AccountType": "AzureServicePrincipal"}]),
        ),
        (
            "workerpools",
            json!([{"Id": "WorkerPools-1", "Name": "Default Worker Pool", "IsDefault": true},
                   {"Id": "WorkerPools-2", "Name": "Ubuntu"}]),
        ),
        (
            "certificates",
            json!([{"Id": "Certificates-2", "Name": "Wildcard"}]),
        ),
    ];
    let dest = vec![
        (
            "feeds",
            json!([{"Id": "Feeds-71", "Name": "Octopus Server (built-in)", "FeedType": "BuiltIn"},
                   {"Id": "Feeds-72", "Name": "NuGet", "FeedType": "NuGet"}]),
        ),
        (
            "accounts",
            json!([{"Id": "Accounts-72", "Name": "Azure", "AccountType": "AzureServicePrincipal"}]),
        ),
        (
            "workerpools",
            json!([{"Id": "WorkerPools-71", "Name": "Default Worker Pool", "IsDefault": true},
                   {"Id": "WorkerPools-72", "Name": "Ubuntu"}]),
        ),
        (
            "certificates",
            json!([{"Id": "Certificates-72", "Name": "Wildcard"}]),
        ),
    ];
    (source, dest)
}

fn parameter(name: &str, control: &str, default: &str) -> Value {
    json!({"Id": format!("p-{name}"), "Name": name, "DefaultValue": default,
           "DisplaySettings": {"Octopus.ControlType": control}})
}

fn without_builtin_pools_and_feeds(
    parts: Vec<(&'static str, Value)>,
) -> Vec<(&'static str, Value)> {
    parts
        .into_iter()
        .filter(|(k, _)| *k != "feeds" && *k != "workerpools")
        .collect()
}

#[test]
fn step_templates_translate_properties_typed_parameter_defaults_and_never_keep_source_ids() {
    let (src_refs, dst_refs) = referenced();
    let templates = json!([
        {"Id": "ActionTemplates-1", "Name": "Notify Azure", "ActionType": "Octopus.AzurePowerShell", "Version": 3,
         "Properties": {"Octopus.Action.Azure.AccountId": "Accounts-2", "Octopus.Action.Script.ScriptBody": "Write-Host"},
         "Parameters": [
            parameter("Azure", "AzureAccount", "Accounts-2"),
            parameter("Pkg", "Package", "{\"PackageId\":\"app\",\"FeedId\":\"Feeds-2\"}"),
            parameter("Pool", "WorkerPool", "WorkerPools-2"),
            parameter("Cert", "Certificate", "Certificates-2"),
            parameter("Label", "SingleLineText", "Sprint-12")
         ]},
        {"Id": "ActionTemplates-2", "Name": "Broken", "ActionType": "Octopus.AzurePowerShell", "Version": 1,
         "Properties": {"Octopus.Action.Azure.AccountId": "Accounts-9"}}
    ]);
    let source = snapshot(join(vec![
        without_builtin_pools_and_feeds(builtins(1)),
        src_refs,
        vec![("actiontemplates", templates)],
    ]));
    let destination = snapshot(join(vec![
        without_builtin_pools_and_feeds(builtins(71)),
        dst_refs,
    ]));
    let rules = rules("[select]\nstep_templates = \"all\"\n");
    let (plan, _) = plan_apply_replan(&source, &destination, &rules);
    let created = op(&plan, ResourceKind::ActionTemplate, "Notify Azure");
    assert_eq!(created.action(), OpAction::Create);
    let body = created.body().unwrap();
    assert_eq!(
        body["Properties"]["Octopus.Action.Azure.AccountId"],
        "Accounts-72"
    );
    let default = |name: &str| {
        body["Parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["Name"] == name)
            .unwrap()["DefaultValue"]
            .clone()
    };
    assert_eq!(default("Azure"), "Accounts-72");
    let pkg: Value = serde_json::from_str(default("Pkg").as_str().unwrap()).unwrap();
    assert_eq!(pkg, json!({"PackageId": "app", "FeedId": "Feeds-72"}));
    assert_eq!(default("Pool"), "WorkerPools-72");
    assert_eq!(default("Cert"), "Certificates-72");
    assert_eq!(default("Label"), "Sprint-12");
    let broken = op(&plan, ResourceKind::ActionTemplate, "Broken");
    assert_eq!(broken.action(), OpAction::Skip);
    assert!(broken.reason.contains("Old Azure"), "{}", broken.reason);
}

#[test]
fn an_action_based_on_a_template_translates_its_parameters_by_control_type() {
    let (src_refs, dst_refs) = referenced();
    let template = |id: &str, version: i64| {
        json!([{"Id": id, "Name": "Notify Azure", "ActionType": "Octopus.Script", "Version": version,
                "Properties": {"Octopus.Action.Script.ScriptBody": "Write-Host"},
                "Parameters": [parameter("Azure", "AzureAccount", ""), parameter("Label", "SingleLineText", "")]}])
    };
    let steps = json!([step(
        "s-1",
        "Notify",
        vec![action(
            "sa-1",
            "Notify",
            json!({"Octopus.Action.Template.Id": "ActionTemplates-1", "Octopus.Action.Template.Version": "3",
                   "Azure": "Accounts-2", "Label": "Shop-3"})
        )]
    )]);
    let source = snapshot(join(vec![
        without_builtin_pools_and_feeds(builtins(1)),
        vec![("environments", source_environments())],
        src_refs,
        vec![("actiontemplates", template("ActionTemplates-1", 3))],
        source_project(steps, json!([])),
    ]));
    let destination = snapshot(join(vec![
        without_builtin_pools_and_feeds(builtins(71)),
        vec![("environments", destination_environments())],
        dst_refs,
        vec![("actiontemplates", template("ActionTemplates-72", 8))],
        destination_project(json!([]), json!([])),
    ]));
    let rules = rules_with("step_templates = \"all\"\n");
    let (plan, after) = plan_apply_replan(&source, &destination, &rules);
    let props = &process_op(&plan).body().unwrap()["Steps"][0]["Actions"][0]["Properties"];
    assert_eq!(props["Octopus.Action.Template.Id"], "ActionTemplates-72");
    assert_eq!(props["Azure"], "Accounts-72");
    assert_eq!(props["Label"], "Shop-3");
    // The template matches, so the action names the destination template's own version.
    assert_eq!(
        op(&plan, ResourceKind::ActionTemplate, "Notify Azure").action(),
        OpAction::Unchanged
    );
    let saved = &dest_steps(&after)[0].actions[0];
    assert_eq!(
        saved.properties["Octopus.Action.Template.Version"].as_text(),
        Some("8")
    );
}

#[test]
fn an_action_names_the_version_the_server_gives_a_template_updated_in_the_same_plan() {
    let template = |id: &str, version: i64, body: &str| {
        json!([{"Id": id, "Name": "Notify", "ActionType": "Octopus.Script", "Version": version,
                "Properties": {"Octopus.Action.Script.ScriptBody": body}}])
    };
    let using = |template_id: &str, version: &str| {
        json!([step(
            "s-1",
            "Notify",
            vec![action(
                "a-1",
                "Notify",
                json!({"Octopus.Action.Template.Id": template_id, "Octopus.Action.Template.Version": version})
            )]
        )])
    };
    let source = snapshot(join(vec![
        builtins(1),
        vec![("environments", source_environments())],
        vec![("actiontemplates", template("ActionTemplates-1", 3, "new"))],
        source_project(using("ActionTemplates-1", "3"), json!([])),
    ]));
    let destination = snapshot(join(vec![
        builtins(71),
        vec![("environments", destination_environments())],
        vec![("actiontemplates", template("ActionTemplates-72", 5, "old"))],
        destination_project(using("ActionTemplates-72", "5"), json!([])),
    ]));
    let rules = rules_with("step_templates = \"all\"\n");
    // One apply, then nothing is left to do.
    let (plan, after) = plan_apply_replan(&source, &destination, &rules);
    assert_eq!(
        op(&plan, ResourceKind::ActionTemplate, "Notify").action(),
        OpAction::Update
    );
    // The plan cannot know the version before the server answers: it is pending.
    assert!(process_op(&plan).pending().iter().any(|p| matches!(
        &p.reference,
        sync_core::Pending::TemplateVersion { item } if item.name == "Notify"
    )));
    let saved_template = after
        .action_templates
        .iter()
        .find(|t| t.name == "Notify")
        .unwrap();
    let version = saved_template.version.get().copied().unwrap();
    assert_ne!(version, 5, "the server bumps the version on save");
    let saved = &dest_steps(&after)[0].actions[0];
    assert_eq!(
        saved.properties["Octopus.Action.Template.Version"].as_text(),
        Some(version.to_string().as_str())
    );
}

#[test]
fn a_new_sensitive_property_on_an_existing_action_gets_a_dummy_value() {
    let secret = json!({"HasValue": true, "NewValue": null});
    let source_steps = json!([step(
        "s-1",
        "Call API",
        vec![action(
            "sa-1",
            "Call API",
            json!({"Api.Key": secret.clone(), "Old.Secret": secret.clone()})
        )]
    )]);
    let dest = json!([step(
        "d-1",
        "Call API",
        vec![action(
            "da-1",
            "Call API",
            json!({"Old.Secret": secret.clone()})
        )]
    )]);
    let source = source_with(vec![], source_steps, json!([]));
    let destination = destination_with(vec![], dest, json!([]));
    let (plan, after) = plan_apply_replan(&source, &destination, &rules(PROJECT));
    let process = process_op(&plan);
    assert_eq!(process.action(), OpAction::Update);
    assert_eq!(
        process.secret_slots(),
        ["/Steps/0/Actions/0/Properties/Api.Key"]
    );
    assert!(plan
        .cleanup
        .iter()
        .any(|c| c.category == CleanupCategory::DummySecret && c.message.contains("Api.Key")));
    assert!(!plan
        .cleanup
        .iter()
        .any(|c| c.message.contains("Old.Secret")));
    let saved = &dest_steps(&after)[0].actions[0];
    for key in ["Api.Key", "Old.Secret"] {
        assert!(
            matches!(&saved.properties[key], octopus_model::PropertyValue::Sensitive(s) if s.has_value),
            "{key} holds a value after the apply"
        );
    }
}

fn excluding_test() -> (Snapshot, Snapshot) {
    let steps = json!([step(
        "s-1",
        "Deploy",
        vec![{
            let mut a = action("sa-1", "Deploy", json!({}));
            a["ExcludedEnvironments"] = json!(["Environments-2"]);
            a
        }]
    )]);
    (
        source_with(vec![], steps, json!([])),
        destination_with(vec![], json!([]), json!([])),
    )
}

#[test]
fn a_dropped_exclusion_is_a_widening_and_follows_process_environments() {
    let (source, destination) = excluding_test();
    let ignore = plan(
        &source,
        &destination,
        &rules_with("[scoping]\nprocess_environments = \"ignore-mismatch\"\n"),
    )
    .unwrap();
    assert_eq!(step_names(process_op(&ignore)), ["Deploy"]);
    assert!(
        ignore
            .cleanup
            .iter()
            .any(|c| c.category == CleanupCategory::WidenedScope && c.message.contains("\"Test\"")),
        "{ignore}"
    );
    let skip = plan(
        &source,
        &destination,
        &rules_with("[scoping]\nprocess_environments = \"skip-unless-exact-match\"\n"),
    )
    .unwrap();
    assert!(!skip
        .cleanup
        .iter()
        .any(|c| c.category == CleanupCategory::WidenedScope));
    assert!(skip
        .cleanup
        .iter()
        .any(|c| c.category == CleanupCategory::Skipped
            && c.message.contains("excluded environments")));
    let error = plan(
        &source,
        &destination,
        &rules_with("[scoping]\nprocess_environments = \"error-unless-exact-match\"\n"),
    );
    assert!(
        matches!(error, Err(PlanError::ScopeMismatch { .. })),
        "{error:?}"
    );
}

#[test]
fn an_exclusion_the_environment_map_sends_nowhere_is_no_widening() {
    let (source, destination) = excluding_test();
    let plan = plan(
        &source,
        &destination,
        &rules_with("[environment_map]\nTest = []\n"),
    )
    .unwrap();
    assert_eq!(step_names(process_op(&plan)), ["Deploy"]);
    assert!(!plan
        .cleanup
        .iter()
        .any(|c| c.category == CleanupCategory::WidenedScope));
    assert!(plan
        .cleanup
        .iter()
        .any(|c| c.category == CleanupCategory::DroppedScope && c.message.contains("\"Test\"")));
}

fn two_phase_lifecycle() -> (Snapshot, Snapshot) {
    let source = snapshot(join(vec![
        builtins(1),
        vec![("environments", source_environments())],
        vec![(
            "lifecycles",
            json!([{"Id": "Lifecycles-1", "Name": "Default Lifecycle", "Phases": []},
                   {"Id": "Lifecycles-2", "Name": "QA", "Phases": [
                       {"Id": "ph-1", "Name": "Dev", "OptionalDeploymentTargets": ["Environments-1"]},
                       {"Id": "ph-2", "Name": "Test", "OptionalDeploymentTargets": ["Environments-2"]}]}]),
        )],
    ]));
    let destination = snapshot(join(vec![
        builtins(71),
        vec![("environments", destination_environments())],
    ]));
    (source, destination)
}

#[test]
fn an_environment_map_that_puts_one_environment_in_two_phases_is_refused_by_name() {
    let (source, destination) = two_phase_lifecycle();
    let map = "[environment_map]\nDevelopment = \"Staging\"\nTest = \"Staging\"\n";
    let skipping = plan(
        &source,
        &destination,
        &rules(&format!("[select]\nlifecycles = [\"QA\"]\n{map}")),
    )
    .unwrap();
    let qa = op(&skipping, ResourceKind::Lifecycle, "QA");
    assert_eq!(qa.action(), OpAction::Skip);
    assert!(
        qa.reason.contains("\"Development\" = \"Staging\"")
            && qa.reason.contains("\"Test\" = \"Staging\""),
        "{}",
        qa.reason
    );
    let failing = plan(
        &source,
        &destination,
        &rules(&format!(
            "[select]\nlifecycles = [\"QA\"]\n[scoping]\ninfrastructure_environments = \"error-unless-exact-match\"\n{map}"
        )),
    );
    assert!(
        matches!(&failing, Err(PlanError::ScopeMismatch { reason, .. }) if reason.contains("environment_map")),
        "{failing:?}"
    );
    // A map that keeps the phases apart is fine.
    let apart = plan(
        &source,
        &destination,
        &rules("[select]\nlifecycles = [\"QA\"]\n[environment_map]\nDevelopment = \"Staging\"\nTest = \"Production\"\n"),
    )
    .unwrap();
    assert_eq!(
        op(&apart, ResourceKind::Lifecycle, "QA").action(),
        OpAction::Create
    );
}

#[test]
fn the_in_memory_applier_answers_the_version_it_saved() {
    // The applier is the oracle the idempotence tests rely on: a step template saved
    // twice has a higher version each time, like on a server.
    let (source, destination) = {
        let t = |body: &str, id: &str, v: i64| {
            json!([{"Id": id, "Name": "T", "ActionType": "Octopus.Script", "Version": v,
                    "Properties": {"Octopus.Action.Script.ScriptBody": body}}])
        };
        (
            snapshot(vec![("actiontemplates", t("a", "ActionTemplates-1", 1))]),
            snapshot(vec![("actiontemplates", t("b", "ActionTemplates-9", 4))]),
        )
    };
    let rules = rules("[select]\nstep_templates = \"all\"\n");
    let first = plan(&source, &destination, &rules).unwrap();
    let mut applier = InMemoryApplier::new(destination);
    applier.apply(&first).unwrap();
    assert_eq!(
        applier.snapshot.action_templates[0].version.get().copied(),
        Some(5)
    );
}

fn tenant_with_test_values() -> (Snapshot, Snapshot) {
    let templates = json!([{"Id": "t-url", "Name": "Tenant.Url",
                            "DisplaySettings": {"Octopus.ControlType": "SingleLineText"}}]);
    let source = snapshot(join(vec![
        builtins(1),
        vec![
            ("environments", source_environments()),
            (
                "tenants",
                json!([{"Id": "Tenants-1", "Name": "Internal", "ProjectEnvironments": {"Projects-1": ["Environments-2"]}}]),
            ),
            (
                "tenantvariables",
                json!([{"TenantId": "Tenants-1", "TenantName": "Internal", "ProjectVariables": {"Projects-1": {
                    "ProjectId": "Projects-1", "Templates": templates,
                    "Variables": {"Environments-2": {"t-url": "https://test.internal"}}}}}]),
            ),
        ],
        source_project(json!([]), json!([])),
    ]));
    let mut dest_project = destination_project(json!([]), json!([]));
    dest_project[0].1[0]["Templates"] = json!([{"Id": "dt-url", "Name": "Tenant.Url",
        "DisplaySettings": {"Octopus.ControlType": "SingleLineText"}}]);
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
    (source, destination)
}

#[test]
fn a_one_to_many_map_entry_is_refused_where_only_one_environment_fits() {
    let (source, destination) = tenant_with_test_values();
    let base = "[select]\nprojects = [\"OctoFX\"]\ntenants = [\"Internal\"]\n[policy]\nsync_tenant_variables = true\n";
    let map = "[environment_map]\nTest = [\"Staging\", \"Production\"]\n";
    let skipping = plan(&source, &destination, &rules(&format!("{base}{map}"))).unwrap();
    // The Test value lands on neither environment: no silent first pick.
    if let Some(body) = &op(&skipping, ResourceKind::TenantVariables, "Internal").body() {
        let values = &body["ProjectVariables"]["Projects-71"]["Variables"];
        assert!(values["Environments-71"]["dt-url"].is_null(), "{values}");
        assert_eq!(values["Environments-72"]["dt-url"], "https://prod.example");
    }
    assert!(
        skipping
            .cleanup
            .iter()
            .any(|c| c.category == CleanupCategory::Skipped
                && c.message
                    .contains("[environment_map] entry \"Test\" = \"Staging\", \"Production\"")),
        "{skipping}"
    );
    let failing = plan(
        &source,
        &destination,
        &rules(&format!(
            "{base}[scoping]\nvariable_environments = \"error-unless-exact-match\"\n{map}"
        )),
    );
    assert!(
        matches!(&failing, Err(PlanError::ScopeMismatch { reason, .. }) if reason.contains("[environment_map] entry \"Test\"")),
        "{failing:?}"
    );
    // Mapped to one environment, the value goes there.
    let one = plan(
        &source,
        &destination,
        &rules(&format!("{base}[environment_map]\nTest = \"Staging\"\n")),
    )
    .unwrap();
    let body = op(&one, ResourceKind::TenantVariables, "Internal")
        .body()
        .cloned()
        .unwrap();
    assert_eq!(
        body["ProjectVariables"]["Projects-71"]["Variables"]["Environments-71"]["dt-url"],
        "https://test.internal"
    );
}
