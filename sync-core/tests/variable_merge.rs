//! The variable merge from the point of view of the person who owns the destination's
//! values: for each example, what every destination environment resolves to after the
//! sync (checked with `sync_core::resolve`, reading the destination back after an
//! in-memory apply), and what the clean-up log says. One test per row of the decision
//! table in `sync-core/src/planner/variables/mod.rs` and the README ("Variables: what
//! happens to a destination's own values").

mod common;

use common::*;
use octopus_model::Variable;
use serde_json::{json, Value};
use sync_core::resolve::{resolve, DeploymentContext, Resolution};
use sync_core::{CleanupCategory, OpAction, Plan, ResolvedValue, ResourceKind, Snapshot};

const STAGING: &str = "Environments-71";
const PRODUCTION: &str = "Environments-72";

/// Source: Development, Test, Staging, Production. Its variables use those ids
/// (Staging = Environments-3, Production = Environments-4).
fn source(variables: Value) -> Snapshot {
    snapshot(join(vec![
        builtins(1),
        vec![("environments", source_environments())],
        source_project(json!([]), variables),
    ]))
}

/// Destination: Staging (71) and Production (72), with OctoFX and these variables.
fn destination(variables: Value) -> Snapshot {
    snapshot(join(vec![
        builtins(71),
        vec![("environments", destination_environments())],
        destination_project(json!([]), variables),
    ]))
}

fn policy(extra: &str) -> String {
    format!("[select]\nprojects = [\"OctoFX\"]\n{extra}")
}

/// Plans, applies in memory, checks a second plan changes nothing, and returns the plan
/// and the destination's project variables as they are afterwards.
fn sync(source_vars: Value, dest_vars: Value, rules_text: &str) -> (Plan, Vec<Variable>) {
    let (plan, after) = plan_apply_replan(
        &source(source_vars),
        &destination(dest_vars),
        &rules(rules_text),
    );
    let set = after
        .variable_sets
        .iter()
        .find(|s| s.owner_id.as_str() == "Projects-71")
        .expect("the destination's variable set");
    (plan, set.variables.iter().cloned().collect())
}

fn values_of<'v>(vars: &'v [Variable], name: &str) -> Vec<&'v Variable> {
    vars.iter().filter(|v| v.name == name).collect()
}

/// What a deployment of OctoFX to `env` resolves `name` to: the text, `<secret>`,
/// `(none)` or `(ambiguous)`.
fn in_env(vars: &[Variable], name: &str, env: &str) -> String {
    match resolve(
        values_of(vars, name),
        &DeploymentContext::in_environment(env),
    ) {
        Resolution::Unset => "(none)".to_owned(),
        Resolution::Ambiguous(_) => "(ambiguous)".to_owned(),
        Resolution::Value(v) if v.is_secret() => {
            format!("<secret {}>", v.id.get().cloned().unwrap_or_default())
        }
        Resolution::Value(v) => v.value.get().cloned().unwrap_or_default(),
    }
}

fn cleanup(plan: &Plan, category: CleanupCategory) -> Vec<String> {
    plan.cleanup
        .iter()
        .filter(|c| c.category == category)
        .map(|c| c.message.clone())
        .collect()
}

fn var(name: &str, value: &str, envs: &[&str]) -> Value {
    if envs.is_empty() {
        json!({"Id": format!("{name}-{value}"), "Name": name, "Value": value, "Type": "String", "Scope": {}})
    } else {
        json!({"Id": format!("{name}-{value}-{}", envs.join("-")), "Name": name, "Value": value, "Type": "String",
               "Scope": {"Environment": envs}})
    }
}

fn secret(id: &str, name: &str, envs: &[&str]) -> Value {
    json!({"Id": id, "Name": name, "Value": null, "Type": "Sensitive", "IsSensitive": true,
           "Scope": if envs.is_empty() { json!({}) } else { json!({"Environment": envs}) }})
}

/// Source `Timeout = 30 [Staging], 60 [Production]`; destination the other way round.
fn swapped_timeouts() -> (Value, Value) {
    (
        json!([
            var("Timeout", "30", &["Environments-3"]),
            var("Timeout", "60", &["Environments-4"])
        ]),
        json!([
            var("Timeout", "60", &[STAGING]),
            var("Timeout", "30", &[PRODUCTION])
        ]),
    )
}

#[test]
fn row_2_under_never_two_destination_values_keep_their_environments_when_the_source_swaps_them() {
    let (source, destination) = swapped_timeouts();
    let (plan, after) = sync(source, destination, &policy(""));
    assert_eq!(in_env(&after, "Timeout", STAGING), "60");
    assert_eq!(in_env(&after, "Timeout", PRODUCTION), "30");
    assert_eq!(
        op(&plan, ResourceKind::VariableSet, "OctoFX").action(),
        OpAction::Unchanged,
        "{plan}"
    );
}

#[test]
fn row_2_under_always_each_environment_takes_the_source_value_of_its_own_scope() {
    let (source, destination) = swapped_timeouts();
    let (_, after) = sync(
        source,
        destination,
        &policy("[policy]\noverwrite_existing_variables = \"always\""),
    );
    assert_eq!(in_env(&after, "Timeout", STAGING), "30");
    assert_eq!(in_env(&after, "Timeout", PRODUCTION), "60");
    assert_eq!(values_of(&after, "Timeout").len(), 2, "no extra copies");
}

#[test]
fn row_7_a_value_equal_to_one_scoped_elsewhere_is_added_for_its_own_environment_and_the_other_stays(
) {
    let (_, after) = sync(
        json!([var("Banner", "off", &["Environments-3"])]),
        json!([var("Banner", "off", &[PRODUCTION])]),
        &policy(""),
    );
    assert_eq!(
        in_env(&after, "Banner", PRODUCTION),
        "off",
        "Production keeps its value"
    );
    assert_eq!(in_env(&after, "Banner", STAGING), "off");
    let production_value = values_of(&after, "Banner")
        .into_iter()
        .find(|v| v.id.get().map(String::as_str) == Some("Banner-off-Environments-72"))
        .expect("the destination's value keeps its id");
    assert_eq!(
        production_value.scope_values(&octopus_model::ScopeField::Environment),
        [PRODUCTION.to_owned()]
    );
}

#[test]
fn row_2_an_unscoped_source_value_never_widens_a_staging_only_destination_value() {
    let (plan, after) = sync(
        json!([var("Color", "blue", &[])]),
        json!([var("Color", "red", &[]), var("Color", "blue", &[STAGING])]),
        &policy(""),
    );
    assert_eq!(in_env(&after, "Color", STAGING), "blue");
    assert_eq!(in_env(&after, "Color", PRODUCTION), "red");
    let unscoped = values_of(&after, "Color")
        .into_iter()
        .filter(|v| v.scope.values().all(|s| s.is_empty()))
        .count();
    assert_eq!(unscoped, 1, "one unscoped value, as before");
    assert!(cleanup(&plan, CleanupCategory::WidenedScope).is_empty());
}

#[test]
fn row_7_a_same_value_with_a_wider_source_scope_is_added_where_missing_and_never_widens_the_destination_value(
) {
    let (plan, after) = sync(
        json!([var("Banner", "off", &[])]),
        json!([var("Banner", "on", &[STAGING])]),
        &policy(""),
    );
    assert_eq!(
        in_env(&after, "Banner", STAGING),
        "on",
        "the Staging value still wins in Staging"
    );
    assert_eq!(in_env(&after, "Banner", PRODUCTION), "off");
    let review = &op(&plan, ResourceKind::VariableSet, "OctoFX").variables();
    assert_eq!(review.len(), 1);
    let rows: Vec<(String, String, String)> = review[0]
        .contexts
        .iter()
        .map(|r| (r.context.clone(), r.before.to_string(), r.after.to_string()))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("Staging".into(), "on".into(), "on".into()),
            ("Production".into(), "(none)".into(), "off".into())
        ]
    );
}

#[test]
fn row_4_a_plain_source_value_in_the_scope_of_a_destination_secret_keeps_the_secret() {
    let (plan, after) = sync(
        json!([var("Smtp.Password", "dev-pw", &[])]),
        json!([secret("s-1", "Smtp.Password", &[])]),
        &policy("[policy]\noverwrite_existing_variables = \"always\""),
    );
    assert_eq!(values_of(&after, "Smtp.Password").len(), 1);
    assert_eq!(in_env(&after, "Smtp.Password", PRODUCTION), "<secret s-1>");
    let skipped = cleanup(&plan, CleanupCategory::Skipped);
    assert!(
        skipped
            .iter()
            .any(|m| m.contains("secret on the destination")),
        "{plan}"
    );
}

#[test]
fn row_10_a_plain_source_value_is_never_added_beside_a_destination_secret() {
    let (plan, after) = sync(
        json!([var("Smtp.Password", "dev-pw", &[])]),
        json!([secret("s-1", "Smtp.Password", &[PRODUCTION])]),
        &policy(""),
    );
    assert_eq!(values_of(&after, "Smtp.Password").len(), 1);
    assert_eq!(in_env(&after, "Smtp.Password", PRODUCTION), "<secret s-1>");
    assert_eq!(in_env(&after, "Smtp.Password", STAGING), "(none)");
    assert!(
        cleanup(&plan, CleanupCategory::Skipped)
            .iter()
            .any(|m| m.contains("keeps \"Smtp.Password\" as a secret")),
        "{plan}"
    );
}

#[test]
fn row_11_a_source_secret_already_covered_by_destination_secrets_gets_no_dummy_competitor() {
    let (plan, after) = sync(
        json!([{"Id": "src-s", "Name": "Signing.Key", "Value": null, "Type": "Sensitive",
                "Scope": {"Environment": ["Environments-3", "Environments-4"]}}]),
        json!([
            secret("k-stg", "Signing.Key", &[STAGING]),
            secret("k-prod", "Signing.Key", &[PRODUCTION])
        ]),
        &policy(""),
    );
    assert_eq!(values_of(&after, "Signing.Key").len(), 2);
    assert_eq!(in_env(&after, "Signing.Key", STAGING), "<secret k-stg>");
    assert_eq!(in_env(&after, "Signing.Key", PRODUCTION), "<secret k-prod>");
    assert!(cleanup(&plan, CleanupCategory::DummySecret).is_empty());
    assert!(
        cleanup(&plan, CleanupCategory::Skipped)
            .iter()
            .any(|m| m.contains("already apply in Staging, Production")),
        "{plan}"
    );
}

#[test]
fn row_11_a_source_secret_for_an_environment_no_destination_secret_covers_gets_a_dummy() {
    let (plan, after) = sync(
        json!([{"Id": "src-s", "Name": "Signing.Key", "Value": null, "Type": "Sensitive",
                "Scope": {"Environment": ["Environments-4"]}}]),
        json!([secret("k-stg", "Signing.Key", &[STAGING])]),
        &policy(""),
    );
    assert_eq!(in_env(&after, "Signing.Key", STAGING), "<secret k-stg>");
    assert!(in_env(&after, "Signing.Key", PRODUCTION).starts_with("<secret"));
    assert_eq!(cleanup(&plan, CleanupCategory::DummySecret).len(), 1);
    let review = &op(&plan, ResourceKind::VariableSet, "OctoFX").variables()[0];
    let production = review
        .contexts
        .iter()
        .find(|r| r.context == "Production")
        .unwrap();
    assert_eq!(production.before, ResolvedValue::Unset);
    assert_eq!(production.after, ResolvedValue::DummySecret);
    let staging = review
        .contexts
        .iter()
        .find(|r| r.context == "Staging")
        .unwrap();
    assert_eq!(staging.after, ResolvedValue::Secret);
}

#[test]
fn row_5_a_source_secret_over_a_plain_destination_value_keeps_the_plain_value_and_says_so() {
    let (plan, after) = sync(
        json!([secret("src-s", "Api.Key", &[])]),
        json!([var("Api.Key", "local-key", &[])]),
        &policy("[policy]\noverwrite_existing_variables = \"always\""),
    );
    assert_eq!(in_env(&after, "Api.Key", STAGING), "local-key");
    assert_eq!(values_of(&after, "Api.Key").len(), 1);
    assert!(
        cleanup(&plan, CleanupCategory::Skipped)
            .iter()
            .any(|m| m.contains("sensitive on the source but plain text on the destination")),
        "{plan}"
    );
}

#[test]
fn values_are_compared_case_sensitively_so_a_case_change_syncs_under_always() {
    let (_, after) = sync(
        json!([var("Api.Url", "https://api.example.com", &[])]),
        json!([var("Api.Url", "https://Api.Example.com", &[])]),
        &policy("[policy]\noverwrite_existing_variables = \"always\""),
    );
    assert_eq!(
        in_env(&after, "Api.Url", STAGING),
        "https://api.example.com"
    );
    assert_eq!(values_of(&after, "Api.Url").len(), 1);
}

#[test]
fn row_12_an_unscoped_value_shadowed_in_every_destination_environment_is_not_added() {
    let (plan, after) = sync(
        json!([var("Db.Name", "OctoFx-#{Octopus.Environment.Name}", &[])]),
        json!([
            var("Db.Name", "OctoFx-Staging", &[STAGING]),
            var("Db.Name", "OctoFx-Prod", &[PRODUCTION])
        ]),
        &policy(""),
    );
    assert_eq!(values_of(&after, "Db.Name").len(), 2);
    assert_eq!(in_env(&after, "Db.Name", STAGING), "OctoFx-Staging");
    assert_eq!(in_env(&after, "Db.Name", PRODUCTION), "OctoFx-Prod");
    assert!(
        cleanup(&plan, CleanupCategory::Skipped)
            .iter()
            .any(|m| m.contains("resolves a more specific destination value")),
        "{plan}"
    );
}

#[test]
fn row_13_a_value_that_would_tie_with_a_destination_value_is_not_added() {
    let role = |value: &str, roles: Value| json!({"Id": format!("r-{value}"), "Name": "Pool", "Value": value, "Type": "String", "Scope": {"Role": roles}});
    let (plan, after) = sync(
        json!([role("small", json!(["web"]))]),
        json!([role("large", json!(["web", "db"]))]),
        &policy(""),
    );
    assert_eq!(values_of(&after, "Pool").len(), 1);
    let web = DeploymentContext {
        environment: Some(STAGING.into()),
        machine: Some("Machines-1".into()),
        roles: vec!["web".into()],
        ..DeploymentContext::default()
    };
    assert_eq!(
        resolve(values_of(&after, "Pool"), &web).value(),
        Some("large")
    );
    assert!(
        cleanup(&plan, CleanupCategory::Skipped)
            .iter()
            .any(|m| m.contains("would tie with the value scoped Role web, db")),
        "{plan}"
    );
}

#[test]
fn row_13_a_tie_the_source_itself_has_is_carried_across() {
    let role = |value: &str, roles: Value| json!({"Name": "Pool", "Value": value, "Type": "String", "Scope": {"Role": roles}});
    let (plan, after) = sync(
        json!([
            role("small", json!(["web"])),
            role("large", json!(["web", "db"]))
        ]),
        json!([]),
        &policy(""),
    );
    assert_eq!(values_of(&after, "Pool").len(), 2, "{plan}");
}

#[test]
fn row_9_no_additional_values_when_the_policy_is_off_but_exact_partners_still_pair() {
    let (plan, after) = sync(
        json!([
            var("Timeout", "30", &["Environments-3"]),
            var("Timeout", "45", &["Environments-4"])
        ]),
        json!([var("Timeout", "60", &[STAGING])]),
        &policy("[policy]\nadd_additional_variable_values_on_existing_variable_sets = false\noverwrite_existing_variables = \"always\""),
    );
    assert_eq!(in_env(&after, "Timeout", STAGING), "30");
    assert_eq!(in_env(&after, "Timeout", PRODUCTION), "(none)");
    assert_eq!(cleanup(&plan, CleanupCategory::Skipped).len(), 1, "{plan}");
}

#[test]
fn the_plan_shows_what_each_environment_resolves_to_before_and_after() {
    let (plan, _) = sync(
        json!([
            var("Timeout", "30", &["Environments-4"]),
            var("Timeout", "45", &["Environments-3"])
        ]),
        json!([var("Timeout", "30", &[PRODUCTION])]),
        &policy(""),
    );
    let text = plan.to_string();
    assert!(text.contains("Timeout resolves to:"), "{text}");
    assert!(text.contains("Staging: (none) -> 45"), "{text}");
    assert!(text.contains("Production: 30 -> 30"), "{text}");
    let json = serde_json::to_value(&plan).unwrap();
    let review = json["layers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| l["ops"].as_array().unwrap())
        .find(|o| o["item"]["kind"] == "VariableSet")
        .map(|o| o["variables"].clone())
        .unwrap();
    assert_eq!(
        review,
        json!([{"name": "Timeout", "contexts": [
            {"context": "Staging", "before": {"kind": "unset"}, "after": {"kind": "text", "value": "45"}},
            {"context": "Production", "before": {"kind": "text", "value": "30"}, "after": {"kind": "text", "value": "30"}}
        ]}])
    );
}

#[test]
fn secrets_never_appear_in_the_review_only_their_kind() {
    let (plan, _) = sync(
        json!([secret("src", "Db.Password", &["Environments-3"])]),
        json!([secret("d-1", "Db.Password", &[PRODUCTION])]),
        &policy(""),
    );
    let text = plan.to_string();
    assert!(text.contains("Staging: (none) -> <dummy secret>"), "{text}");
    assert!(text.contains("Production: <secret> -> <secret>"), "{text}");
}

#[test]
fn row_14_under_never_a_more_specific_source_value_never_takes_a_context_from_a_value_the_source_also_has(
) {
    let (plan, after) = sync(
        json!([
            var("Timeout", "30", &[]),
            var("Timeout", "45", &["Environments-3"])
        ]),
        json!([var("Timeout", "60", &[])]),
        &policy(""),
    );
    assert_eq!(in_env(&after, "Timeout", STAGING), "60");
    assert_eq!(in_env(&after, "Timeout", PRODUCTION), "60");
    assert!(
        cleanup(&plan, CleanupCategory::Skipped)
            .iter()
            .any(|m| m.contains("would take the place of the destination's own value")),
        "{plan}"
    );
    // Under `always` the destination follows the source in every environment.
    let (_, after) = sync(
        json!([
            var("Timeout", "30", &[]),
            var("Timeout", "45", &["Environments-3"])
        ]),
        json!([var("Timeout", "60", &[])]),
        &policy("[policy]\noverwrite_existing_variables = \"always\""),
    );
    assert_eq!(in_env(&after, "Timeout", STAGING), "45");
    assert_eq!(in_env(&after, "Timeout", PRODUCTION), "30");
}

#[test]
fn row_15_under_always_an_overwrite_that_would_make_two_equally_specific_values_differ_is_taken_back(
) {
    let (plan, after) = sync(
        json!([var("Region", "eu-west", &["Environments-3"])]),
        json!([
            var("Region", "us-east", &[STAGING]),
            var("Region", "us-east", &[STAGING, PRODUCTION])
        ]),
        &policy("[policy]\noverwrite_existing_variables = \"always\""),
    );
    assert_eq!(in_env(&after, "Region", STAGING), "us-east");
    assert_eq!(in_env(&after, "Region", PRODUCTION), "us-east");
    assert!(
        cleanup(&plan, CleanupCategory::Skipped)
            .iter()
            .any(|m| m.contains("was not written over the destination's")),
        "{plan}"
    );
}

#[test]
fn a_library_variable_set_follows_the_same_promises_and_shows_its_review() {
    let source = snapshot(join(vec![
        builtins(1),
        vec![
            ("environments", source_environments()),
            (
                "libraryvariablesets",
                json!([{"Id": "LibraryVariableSets-1", "Name": "Global", "ContentType": "Variables",
                        "VariableSetId": "variableset-LibraryVariableSets-1"}]),
            ),
            (
                "variables",
                json!([{"Id": "variableset-LibraryVariableSets-1", "OwnerId": "LibraryVariableSets-1", "Variables": [
                    var("Timeout", "30", &["Environments-3"]),
                    var("Timeout", "60", &["Environments-4"]),
                    var("Smtp.Password", "dev-pw", &[])
                ]}]),
            ),
        ],
    ]));
    let destination = snapshot(join(vec![
        builtins(71),
        vec![
            ("environments", destination_environments()),
            (
                "libraryvariablesets",
                json!([{"Id": "LibraryVariableSets-71", "Name": "Global", "ContentType": "Variables",
                        "VariableSetId": "variableset-LibraryVariableSets-71"}]),
            ),
            (
                "variables",
                json!([{"Id": "variableset-LibraryVariableSets-71", "OwnerId": "LibraryVariableSets-71", "Version": 3, "Variables": [
                    var("Timeout", "60", &[STAGING]),
                    secret("s-1", "Smtp.Password", &[PRODUCTION])
                ]}]),
            ),
        ],
    ]));
    let (plan, after) = plan_apply_replan(
        &source,
        &destination,
        &rules("[select]\nlibrary_variable_sets = [\"all\"]\n"),
    );
    let set = after
        .variable_sets
        .iter()
        .find(|s| s.owner_id.as_str() == "LibraryVariableSets-71")
        .unwrap();
    let vars: Vec<Variable> = set.variables.iter().cloned().collect();
    assert_eq!(in_env(&vars, "Timeout", STAGING), "60", "kept under never");
    assert_eq!(
        in_env(&vars, "Timeout", PRODUCTION),
        "60",
        "added for Production"
    );
    assert_eq!(in_env(&vars, "Smtp.Password", PRODUCTION), "<secret s-1>");
    assert_eq!(values_of(&vars, "Smtp.Password").len(), 1);
    let op = plan
        .of_kind(ResourceKind::VariableSet)
        .find(|o| o.item.name == "Global")
        .unwrap();
    let names: Vec<&str> = op.variables().iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, vec!["Timeout"], "{plan}");
}
