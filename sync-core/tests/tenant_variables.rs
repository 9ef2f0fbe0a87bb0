//! Environment-scoped common tenant values (2025.2+): translated under `[scoping]
//! variable_environments` and `[environment_map]`, never widened, and listed for a
//! person where the destination cannot hold them.

use serde_json::{json, Value};
use sync_core::{plan, OpAction, ResourceKind, Snapshot, SyncRules};

fn snapshot(version: &str, collections: Vec<(&str, Value)>) -> Snapshot {
    Snapshot::from_collections(version.parse().unwrap(), collections).unwrap()
}

/// A space with environments, library variable set "Global" (template "Alias") and
/// tenant "Acme", with the given ids and scoped common values.
fn space(version: &str, envs: &[(&str, &str)], n: u32, scoped: Value) -> Snapshot {
    let environments: Vec<Value> = envs
        .iter()
        .map(|(id, name)| json!({"Id": id, "Name": name}))
        .collect();
    let lvs = format!("LibraryVariableSets-{n}");
    let template = format!("template-{n}");
    let tenant = format!("Tenants-{n}");
    snapshot(
        version,
        vec![
            ("environments", json!(environments)),
            (
                "libraryvariablesets",
                json!([{"Id": lvs, "Name": "Global", "ContentType": "Variables",
                        "Templates": [{"Id": template, "Name": "Alias", "DisplaySettings": {"Octopus.ControlType": "SingleLineText"}}]}]),
            ),
            (
                "tenants",
                json!([{"Id": tenant, "Name": "Acme", "ProjectEnvironments": {}}]),
            ),
            (
                "tenantvariables",
                json!([{"TenantId": tenant, "TenantName": "Acme", "ProjectVariables": {},
                        "LibraryVariables": {lvs.clone(): {"LibraryVariableSetId": lvs, "Templates": [{"Id": template, "Name": "Alias"}], "Variables": {}}}}]),
            ),
            (
                "tenantcommonvariables",
                json!([{"TenantId": tenant, "Variables": scoped}]),
            ),
        ],
    )
}

fn scoped(n: u32, envs: &[&str], value: &str) -> Value {
    json!({"LibraryVariableSetId": format!("LibraryVariableSets-{n}"), "TemplateId": format!("template-{n}"),
           "Value": value, "Scope": {"EnvironmentIds": envs}})
}

fn rules() -> SyncRules {
    SyncRules::from_toml_str(
        r#"
[select]
tenants = ["all"]
library_variable_sets = ["all"]
[policy]
sync_tenant_variables = true
[scoping]
variable_environments = "skip-unless-partial-match"
[environment_map]
Test = ["Staging"]
"#,
    )
    .unwrap()
}

fn source() -> Snapshot {
    space(
        "2025.2.11370",
        &[
            ("Environments-1", "Development"),
            ("Environments-2", "Test"),
        ],
        1,
        json!([
            scoped(1, &["Environments-2"], "in-test"),
            scoped(1, &["Environments-1"], "in-dev"),
            scoped(1, &[], "everywhere"),
        ]),
    )
}

fn tenant_op(p: &sync_core::Plan) -> Option<&sync_core::Op> {
    p.ops()
        .find(|op| op.item.kind == ResourceKind::TenantVariables)
}

#[test]
fn a_scoped_common_value_lands_in_the_mapped_environment_only() {
    let destination = space(
        "2025.2.11370",
        &[("Environments-7", "Staging")],
        5,
        json!([]),
    );
    let p = plan(&source(), &destination, &rules()).unwrap();
    let op = tenant_op(&p).expect("a tenant variables op");
    assert_eq!(op.action(), OpAction::Update);
    let body = op.body().unwrap();
    assert_eq!(
        body["ScopedCommonVariables"],
        json!([{"LibraryVariableSetId": "LibraryVariableSets-5", "TemplateId": "template-5",
                "Value": "in-test", "Scope": {"EnvironmentIds": ["Environments-7"]}}])
    );
    // Development is on no destination: its value is not synced, and not widened.
    assert!(p.cleanup.iter().any(|c| c
        .message
        .contains("none of its environments are on the destination")));
}

#[test]
fn the_same_value_already_there_plans_nothing() {
    let destination = space(
        "2025.2.11370",
        &[("Environments-7", "Staging")],
        5,
        json!([scoped(5, &["Environments-7"], "in-test")]),
    );
    let p = plan(&source(), &destination, &rules()).unwrap();
    assert_ne!(tenant_op(&p).map(|op| op.action()), Some(OpAction::Update));
}

#[test]
fn a_destination_before_2025_2_gets_no_scoped_values_and_a_clean_up_entry() {
    let destination = space(
        "2025.1.7559",
        &[("Environments-7", "Staging")],
        5,
        json!([]),
    );
    let p = plan(&source(), &destination, &rules()).unwrap();
    if let Some(body) = tenant_op(&p).and_then(|op| op.body()) {
        assert!(body.get("ScopedCommonVariables").is_none(), "{body}");
    }
    assert!(p
        .cleanup
        .iter()
        .any(|c| c.message.contains("no environment-scoped common variables")));
}

/// A 2024.2 space whose tenant "Acme" has common values `values` (template name ->
/// value) for library variable set "Global".
fn common_values(n: u32, values: Value) -> Snapshot {
    let lvs = format!("LibraryVariableSets-{n}");
    let templates: Vec<Value> = ["Alias", "Token"]
        .iter()
        .map(|name| json!({"Id": format!("{name}-{n}"), "Name": name}))
        .collect();
    let mut variables = serde_json::Map::new();
    for (name, value) in values.as_object().unwrap() {
        variables.insert(format!("{name}-{n}"), value.clone());
    }
    snapshot(
        "2024.2.9000",
        vec![
            (
                "environments",
                json!([{"Id": format!("Environments-{n}"), "Name": "Staging"}]),
            ),
            (
                "libraryvariablesets",
                json!([{"Id": lvs, "Name": "Global", "ContentType": "Variables", "Templates": templates}]),
            ),
            (
                "tenants",
                json!([{"Id": format!("Tenants-{n}"), "Name": "Acme", "ProjectEnvironments": {}}]),
            ),
            (
                "tenantvariables",
                json!([{"TenantId": format!("Tenants-{n}"), "TenantName": "Acme", "ProjectVariables": {},
                        "LibraryVariables": {lvs.clone(): {"LibraryVariableSetId": lvs, "Templates": templates, "Variables": variables}}}]),
            ),
        ],
    )
}

fn always() -> SyncRules {
    SyncRules::from_toml_str(
        "[select]\ntenants = [\"all\"]\nlibrary_variable_sets = [\"all\"]\n[policy]\nsync_tenant_variables = true\noverwrite_existing_variables = \"always\"\n",
    )
    .unwrap()
}

#[test]
fn tenant_values_follow_the_variable_merge_promises_a_secret_is_never_overwritten_nor_a_plain_value_made_a_dummy(
) {
    let source = common_values(
        1,
        json!({"Alias": {"HasValue": true, "NewValue": null}, "Token": "dev-token"}),
    );
    let destination = common_values(
        7,
        json!({"Alias": "acme-prod", "Token": {"HasValue": true, "NewValue": null}}),
    );
    let p = plan(&source, &destination, &always()).unwrap();
    // Nothing changes: the plain value stays plain, the secret stays the secret.
    assert_ne!(
        tenant_op(&p).map(|op| op.action()),
        Some(OpAction::Update),
        "{p}"
    );
    let kept: Vec<&str> = p
        .cleanup
        .iter()
        .filter(|c| c.message.contains("the destination's value was kept"))
        .map(|c| c.message.as_str())
        .collect();
    assert_eq!(kept.len(), 2, "{p}");
}

#[test]
fn under_always_a_changed_tenant_value_follows_the_source_and_under_never_it_stays() {
    let source = common_values(1, json!({"Alias": "acme-new"}));
    let destination = common_values(7, json!({"Alias": "acme-old", "Token": "theirs"}));
    let p = plan(&source, &destination, &always()).unwrap();
    let op = tenant_op(&p).unwrap();
    assert_eq!(op.action(), OpAction::Update);
    let vars = &op.body().unwrap()["LibraryVariables"]["LibraryVariableSets-7"]["Variables"];
    assert_eq!(vars["Alias-7"], "acme-new");
    assert_eq!(
        vars["Token-7"], "theirs",
        "a destination-only value is left alone"
    );
    let never = SyncRules::from_toml_str(
        "[select]\ntenants = [\"all\"]\nlibrary_variable_sets = [\"all\"]\n[policy]\nsync_tenant_variables = true\n",
    )
    .unwrap();
    let p = plan(&source, &destination, &never).unwrap();
    assert_ne!(
        tenant_op(&p).map(|op| op.action()),
        Some(OpAction::Update),
        "{p}"
    );
}
