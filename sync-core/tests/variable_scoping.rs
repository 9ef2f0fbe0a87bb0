//! The variable scenarios of Octopus's guide to syncing instances: a Dev/Test source, a
//! Staging/Production destination, both initial-sync tables and the recurring sync's
//! "desired result"; machine-scoped values; sensitive values new and existing.

mod common;

use common::*;
use serde_json::{json, Value};
use sync_core::testing::InMemoryApplier;
use sync_core::{plan, CleanupCategory, OpAction, ResourceKind};

/// The source table before the change:
///
/// | Application.Database.Name | OctoFx-Dev  | Development |
/// |                           | OctoFX-Test | Test        |
/// | ConnectionString          | Database=#{Application.Database.Name} | |
fn original_variables() -> Value {
    json!([
        {"Id": "v-1", "Name": "Application.Database.Name", "Value": "OctoFx-Dev", "Type": "String", "Scope": {"Environment": ["Environments-1"]}},
        {"Id": "v-2", "Name": "Application.Database.Name", "Value": "OctoFX-Test", "Type": "String", "Scope": {"Environment": ["Environments-2"]}},
        {"Id": "v-3", "Name": "ConnectionString", "Value": "Database=#{Application.Database.Name}", "Type": "String", "Scope": {}}
    ])
}

/// The source table after the change:
///
/// | Application.Database.Name | OctoFx-#{Octopus.Environment.Name} | |
/// | ConnectionString | Database=#{Application.Database.Name}    | SQL-Server (role) |
/// |                  | Data Source=#{Application.Database.Name} | Oracle (role)     |
fn changed_variables() -> Value {
    json!([
        {"Id": "v-4", "Name": "Application.Database.Name", "Value": "OctoFx-#{Octopus.Environment.Name}", "Type": "String", "Scope": {}},
        {"Id": "v-3", "Name": "ConnectionString", "Value": "Database=#{Application.Database.Name}", "Type": "String", "Scope": {"Role": ["SQL-Server"]}},
        {"Id": "v-5", "Name": "ConnectionString", "Value": "Data Source=#{Application.Database.Name}", "Type": "String", "Scope": {"Role": ["Oracle"]}}
    ])
}

fn dev_test_source(variables: Value) -> sync_core::Snapshot {
    snapshot(join(vec![
        builtins(1),
        vec![(
            "environments",
            json!([{"Id": "Environments-1", "Name": "Development"}, {"Id": "Environments-2", "Name": "Test"}]),
        )],
        source_project(json!([]), variables),
    ]))
}

fn staging_prod_destination(variables: Option<Value>) -> sync_core::Snapshot {
    let mut parts = vec![
        builtins(71),
        vec![("environments", destination_environments())],
    ];
    if let Some(v) = variables {
        parts.push(destination_project(json!([]), v));
    }
    snapshot(join(parts))
}

const PROJECT: &str = "[select]\nprojects = [\"OctoFX\"]\n";

#[test]
fn initial_sync_clones_values_as_is_without_environment_scoping() {
    let source = dev_test_source(original_variables());
    let destination = staging_prod_destination(None);
    let rules = rules(&format!(
        "{PROJECT}[scoping]\nvariable_environments = \"ignore-mismatch\""
    ));
    let (plan, _) = plan_apply_replan(&source, &destination, &rules);
    let vars = variables(op(&plan, ResourceKind::VariableSet, "OctoFX"));
    assert_eq!(
        vars,
        vec![
            (
                "Application.Database.Name".to_owned(),
                json!("OctoFx-Dev"),
                json!({})
            ),
            (
                "Application.Database.Name".to_owned(),
                json!("OctoFX-Test"),
                json!({})
            ),
            (
                "ConnectionString".to_owned(),
                json!("Database=#{Application.Database.Name}"),
                json!({})
            ),
        ]
    );
    // The widening is never silent: each value is in the clean-up log, and so is the
    // tie the two now-unscoped values make (the guide's "edit the values after the sync").
    let widened: Vec<_> = plan
        .cleanup
        .iter()
        .filter(|c| c.category == CleanupCategory::WidenedScope)
        .collect();
    assert_eq!(widened.len(), 3, "{plan}");
    assert!(widened[0].message.contains("Development"));
    assert!(widened[1].message.contains("Test"));
    assert!(
        widened[2].message.contains("ties in Staging, Production"),
        "{plan}"
    );
    insta::assert_json_snapshot!(plan);
}

#[test]
fn initial_sync_with_replace_me_placeholders() {
    let source = dev_test_source(original_variables());
    let destination = staging_prod_destination(None);
    let rules = rules(&format!(
        "{PROJECT}[policy]\noverwrite_existing_variables = \"add-new-with-placeholder\"\nplaceholder_value = \"Replace Me\"\n\
         [scoping]\nvariable_environments = \"ignore-mismatch\""
    ));
    let (plan, _) = plan_apply_replan(&source, &destination, &rules);
    let vars = variables(op(&plan, ResourceKind::VariableSet, "OctoFX"));
    assert_eq!(
        vars,
        vec![
            (
                "Application.Database.Name".to_owned(),
                json!("Replace Me"),
                json!({})
            ),
            (
                "ConnectionString".to_owned(),
                json!("Database=#{Application.Database.Name}"),
                json!({})
            ),
        ]
    );
    let placeholders = plan
        .cleanup
        .iter()
        .filter(|c| c.category == CleanupCategory::Placeholder)
        .count();
    assert_eq!(placeholders, 1, "{plan}");
    insta::assert_json_snapshot!(plan);
}

#[test]
fn without_any_rule_values_scoped_to_missing_environments_are_skipped_not_widened() {
    let source = dev_test_source(original_variables());
    let destination = staging_prod_destination(None);
    let plan = plan(&source, &destination, &rules(PROJECT)).unwrap();
    let vars = variables(op(&plan, ResourceKind::VariableSet, "OctoFX"));
    assert_eq!(vars.len(), 1, "{plan}");
    assert_eq!(vars[0].0, "ConnectionString");
    assert!(plan
        .cleanup
        .iter()
        .all(|c| c.category != CleanupCategory::WidenedScope));
    assert_eq!(
        plan.cleanup
            .iter()
            .filter(|c| c.category == CleanupCategory::Skipped)
            .count(),
        2
    );
}

/// The destination after the "Replace Me" initial sync.
fn after_initial_sync() -> Value {
    json!([
        {"Id": "d-1", "Name": "Application.Database.Name", "Value": "Replace Me", "Type": "String", "Scope": {}},
        {"Id": "d-2", "Name": "ConnectionString", "Value": "Database=#{Application.Database.Name}", "Type": "String", "Scope": {}}
    ])
}

#[test]
fn recurring_sync_gives_the_desired_result() {
    let source = dev_test_source(changed_variables());
    let destination = staging_prod_destination(Some(after_initial_sync()));
    let (plan, after) = plan_apply_replan(&source, &destination, &rules(PROJECT));
    let op = op(&plan, ResourceKind::VariableSet, "OctoFX");
    assert_eq!(op.action(), OpAction::Update);
    let body = op.body().unwrap();
    let vars = body["Variables"].as_array().unwrap();
    assert_eq!(vars.len(), 3, "{body:#}");
    // 1. Application.Database.Name is left alone.
    assert_eq!(vars[0]["Id"], "d-1");
    assert_eq!(vars[0]["Value"], "Replace Me");
    assert_eq!(vars[0]["Scope"], json!({}));
    // 2. The existing ConnectionString value gets the SQL-Server role scope.
    assert_eq!(vars[1]["Id"], "d-2");
    assert_eq!(vars[1]["Value"], "Database=#{Application.Database.Name}");
    assert_eq!(vars[1]["Scope"], json!({"Role": ["SQL-Server"]}));
    // 3. An additional ConnectionString value scoped to Oracle is added.
    assert!(vars[2].get("Id").is_none());
    assert_eq!(vars[2]["Value"], "Data Source=#{Application.Database.Name}");
    assert_eq!(vars[2]["Scope"], json!({"Role": ["Oracle"]}));
    // The diff names exactly those changes.
    let paths: Vec<_> = op.diff().iter().map(|c| c.path.as_str()).collect();
    assert_eq!(
        paths,
        vec!["Variables[1].Scope.Role", "Variables[2]"],
        "{plan}"
    );
    let set = after
        .variable_sets
        .iter()
        .find(|s| s.owner_id.as_str() == "Projects-71")
        .unwrap();
    assert_eq!(set.variables.len(), 3);
    insta::assert_json_snapshot!(plan);
    insta::assert_snapshot!("recurring_sync_text", plan.to_string());
}

#[test]
fn recurring_sync_after_an_as_is_initial_sync_leaves_application_database_name_alone() {
    let destination_vars = json!([
        {"Id": "d-1", "Name": "Application.Database.Name", "Value": "OctoFx-Dev", "Type": "String", "Scope": {}},
        {"Id": "d-3", "Name": "Application.Database.Name", "Value": "OctoFX-Test", "Type": "String", "Scope": {}},
        {"Id": "d-2", "Name": "ConnectionString", "Value": "Database=#{Application.Database.Name}", "Type": "String", "Scope": {}}
    ]);
    let source = dev_test_source(changed_variables());
    let destination = staging_prod_destination(Some(destination_vars));
    let (plan, _) = plan_apply_replan(&source, &destination, &rules(PROJECT));
    let vars = variables(op(&plan, ResourceKind::VariableSet, "OctoFX"));
    let names: Vec<_> = vars
        .iter()
        .map(|v| (v.0.as_str(), v.1.as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("Application.Database.Name", "OctoFx-Dev"),
            ("Application.Database.Name", "OctoFX-Test"),
            ("ConnectionString", "Database=#{Application.Database.Name}"),
            (
                "ConnectionString",
                "Data Source=#{Application.Database.Name}"
            ),
        ]
    );
}

#[test]
fn overwrite_always_replaces_matched_values_and_never_leaves_an_extra_copy() {
    let source = dev_test_source(changed_variables());
    let destination = staging_prod_destination(Some(after_initial_sync()));
    let rules = rules(&format!(
        "{PROJECT}[policy]\noverwrite_existing_variables = \"always\""
    ));
    let (plan, _) = plan_apply_replan(&source, &destination, &rules);
    let vars = variables(op(&plan, ResourceKind::VariableSet, "OctoFX"));
    assert_eq!(vars[0].1, json!("OctoFx-#{Octopus.Environment.Name}"));
    assert_eq!(vars.len(), 3);
}

#[test]
fn additional_values_are_not_added_when_the_policy_says_so() {
    let source = dev_test_source(changed_variables());
    let destination = staging_prod_destination(Some(after_initial_sync()));
    let rules = rules(&format!(
        "{PROJECT}[policy]\nadd_additional_variable_values_on_existing_variable_sets = false"
    ));
    let plan = plan(&source, &destination, &rules).unwrap();
    let vars = variables(op(&plan, ResourceKind::VariableSet, "OctoFX"));
    assert_eq!(vars.len(), 2, "{plan}");
    assert!(plan.cleanup.iter().any(|c| c
        .message
        .contains("additional value of \"ConnectionString\"")));
}

#[test]
fn leave_existing_alone_keeps_the_destinations_own_environment_scoping() {
    let source = dev_test_source(json!([
        {"Id": "v-1", "Name": "Application.Database.Name", "Value": "OctoFx-Dev", "Type": "String", "Scope": {"Environment": ["Environments-1"]}}
    ]));
    let destination = staging_prod_destination(Some(json!([
        {"Id": "d-1", "Name": "Application.Database.Name", "Value": "OctoFx-Staging", "Type": "String", "Scope": {"Environment": ["Environments-71"]}}
    ])));
    let rules = rules(&format!("{PROJECT}[scoping]\nvariable_environments = \"ignore-mismatch-on-new-leave-existing-alone\""));
    let plan = plan(&source, &destination, &rules).unwrap();
    let op = op(&plan, ResourceKind::VariableSet, "OctoFX");
    assert_eq!(op.action(), OpAction::Unchanged, "{plan}");
}

#[test]
fn machine_scoped_value_is_kept_on_a_partial_match_and_skipped_otherwise() {
    let source_vars = json!([
        {"Id": "v-1", "Name": "Application.Database.Name", "Value": "OctoFX-Tenant", "Type": "String",
         "Scope": {"Machine": ["Machines-1", "Machines-2", "Machines-3"]}}
    ]);
    let machines = json!([
        {"Id": "Machines-1", "Name": "Machine1"}, {"Id": "Machines-2", "Name": "Machine2"}, {"Id": "Machines-3", "Name": "Machine3"}
    ]);
    let mut source_parts = vec![
        builtins(1),
        vec![
            ("environments", source_environments()),
            ("machines", machines),
        ],
        source_project(json!([]), source_vars),
    ];
    let source = snapshot(join(std::mem::take(&mut source_parts)));

    // The destination has Machine2 only: the value is kept, scoped to it.
    let destination = snapshot(join(vec![
        builtins(71),
        vec![
            ("environments", destination_environments()),
            (
                "machines",
                json!([{"Id": "Machines-72", "Name": "machine2"}]),
            ),
        ],
    ]));
    let (plan, _) = plan_apply_replan(&source, &destination, &rules(PROJECT));
    let vars = variables(op(&plan, ResourceKind::VariableSet, "OctoFX"));
    assert_eq!(
        vars,
        vec![(
            "Application.Database.Name".to_owned(),
            json!("OctoFX-Tenant"),
            json!({"Machine": ["Machines-72"]})
        )]
    );
    assert!(plan
        .cleanup
        .iter()
        .any(|c| c.category == CleanupCategory::DroppedScope && c.message.contains("Machine1")));

    // The destination has none of them: the value is skipped.
    let destination = snapshot(join(vec![
        builtins(71),
        vec![("environments", destination_environments())],
    ]));
    let plan = sync_core::plan(&source, &destination, &rules(PROJECT)).unwrap();
    assert!(
        variables(op(&plan, ResourceKind::VariableSet, "OctoFX")).is_empty(),
        "{plan}"
    );
    assert!(plan
        .cleanup
        .iter()
        .any(|c| c.category == CleanupCategory::Skipped && c.message.contains("Machine1")));
    insta::assert_json_snapshot!(plan);
}

#[test]
fn new_sensitive_value_gets_a_dummy_secret_and_a_cleanup_entry_but_no_secret_in_the_plan() {
    let source = dev_test_source(json!([
        {"Id": "v-1", "Name": "Database.Password", "Value": null, "Type": "Sensitive", "IsSensitive": true, "Scope": {}}
    ]));
    let destination = staging_prod_destination(Some(json!([])));
    let plan = plan(&source, &destination, &rules(PROJECT)).unwrap();
    let op = op(&plan, ResourceKind::VariableSet, "OctoFX");
    assert_eq!(op.secret_slots(), vec!["/Variables/0/Value"]);
    assert_eq!(op.body().unwrap()["Variables"][0]["Value"], Value::Null);
    assert!(plan
        .cleanup
        .iter()
        .any(|c| c.category == CleanupCategory::DummySecret
            && c.message.contains("Database.Password")));
    let text = serde_json::to_string(&plan).unwrap() + &plan.to_string();
    assert!(!text.contains(sync_core::DEFAULT_SECRET_PLACEHOLDER));
    let mut applier = InMemoryApplier::new(destination);
    applier.apply(&plan).unwrap();
    let again = sync_core::plan(&source, &applier.snapshot, &rules(PROJECT)).unwrap();
    assert_eq!(
        common::op(&again, ResourceKind::VariableSet, "OctoFX").action(),
        OpAction::Unchanged
    );
    insta::assert_json_snapshot!(plan);
}

#[test]
fn existing_sensitive_value_is_never_overwritten_and_keeps_its_id() {
    let source = dev_test_source(json!([
        {"Id": "v-1", "Name": "Database.Password", "Value": null, "Type": "Sensitive", "IsSensitive": true, "Scope": {}},
        {"Id": "v-2", "Name": "Other", "Value": "new", "Type": "String", "Scope": {}}
    ]));
    let destination = staging_prod_destination(Some(json!([
        {"Id": "d-secret", "Name": "Database.Password", "Value": null, "Type": "Sensitive", "IsSensitive": true, "Scope": {}}
    ])));
    for policy in ["never", "always", "add-new-with-placeholder"] {
        let rules = rules(&format!(
            "{PROJECT}[policy]\noverwrite_existing_variables = \"{policy}\""
        ));
        let plan = plan(&source, &destination, &rules).unwrap();
        let op = op(&plan, ResourceKind::VariableSet, "OctoFX");
        let body = op.body().unwrap();
        assert_eq!(body["Variables"][0]["Id"], "d-secret", "{policy}");
        assert_eq!(body["Variables"][0]["Value"], Value::Null, "{policy}");
        assert!(
            op.secret_slots().is_empty(),
            "{policy}: {:?}",
            op.secret_slots()
        );
        assert!(
            plan.cleanup
                .iter()
                .all(|c| c.category != CleanupCategory::DummySecret),
            "{policy}"
        );
    }
}

/// The seed's recurring sync from a destination that keeps its own value per
/// environment: `Application.Database.Name` is left alone and no unscoped value is added
/// that no environment would ever use; `ConnectionString` gets its role scopes.
#[test]
fn recurring_sync_from_per_environment_values_leaves_them_alone_and_adds_no_shadowed_value() {
    let destination_vars = json!([
        {"Id": "d-1", "Name": "Application.Database.Name", "Value": "OctoFX-Staging", "Type": "String", "Scope": {"Environment": ["Environments-71"]}},
        {"Id": "d-3", "Name": "Application.Database.Name", "Value": "OctoFX-Prod", "Type": "String", "Scope": {"Environment": ["Environments-72"]}},
        {"Id": "d-2", "Name": "ConnectionString", "Value": "Database=#{Application.Database.Name}", "Type": "String", "Scope": {}}
    ]);
    let source = dev_test_source(changed_variables());
    let destination = staging_prod_destination(Some(destination_vars));
    let (plan, after) = plan_apply_replan(&source, &destination, &rules(PROJECT));
    let set = after
        .variable_sets
        .iter()
        .find(|s| s.owner_id.as_str() == "Projects-71")
        .unwrap();
    let vars: Vec<octopus_model::Variable> = set.variables.iter().cloned().collect();
    let db: Vec<_> = vars
        .iter()
        .filter(|v| v.name == "Application.Database.Name")
        .collect();
    assert_eq!(db.len(), 2, "no shadowed unscoped value added: {plan}");
    for (env, want) in [
        ("Environments-71", "OctoFX-Staging"),
        ("Environments-72", "OctoFX-Prod"),
    ] {
        let ctx = sync_core::resolve::DeploymentContext::in_environment(env);
        assert_eq!(
            sync_core::resolve::resolve(db.iter().copied(), &ctx).value(),
            Some(want)
        );
    }
    let cs: Vec<_> = vars
        .iter()
        .filter(|v| v.name == "ConnectionString")
        .map(|v| (v.value.get().cloned().unwrap(), json!(v.scope)))
        .collect();
    assert_eq!(
        cs,
        vec![
            (
                "Database=#{Application.Database.Name}".to_owned(),
                json!({"Role": ["SQL-Server"]})
            ),
            (
                "Data Source=#{Application.Database.Name}".to_owned(),
                json!({"Role": ["Oracle"]})
            ),
        ]
    );
    assert!(plan
        .cleanup
        .iter()
        .any(|c| c.category == CleanupCategory::Skipped
            && c.message.contains("Application.Database.Name")
            && c.message.contains("more specific destination value")));
}

/// The seed's recurring sync from a destination an earlier sync already brought to the
/// desired result: nothing changes.
#[test]
fn recurring_sync_from_an_already_narrowed_destination_changes_nothing() {
    let destination_vars = json!([
        {"Id": "d-1", "Name": "Application.Database.Name", "Value": "Replace Me", "Type": "String", "Scope": {}},
        {"Id": "d-2", "Name": "ConnectionString", "Value": "Database=#{Application.Database.Name}", "Type": "String", "Scope": {"Role": ["SQL-Server"]}},
        {"Id": "d-4", "Name": "ConnectionString", "Value": "Data Source=#{Application.Database.Name}", "Type": "String", "Scope": {"Role": ["Oracle"]}}
    ]);
    let source = dev_test_source(changed_variables());
    let destination = staging_prod_destination(Some(destination_vars));
    let plan = plan(&source, &destination, &rules(PROJECT)).unwrap();
    assert_eq!(
        op(&plan, ResourceKind::VariableSet, "OctoFX").action(),
        OpAction::Unchanged,
        "{plan}"
    );
    assert!(plan.cleanup.is_empty(), "{plan}");
}
