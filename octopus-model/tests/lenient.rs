//! Collection fields read `null`, missing and empty alike, and go back as they came.

use octopus_model::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

/// For one collection field of a resource: `null`, missing and empty all decode to an
/// empty collection, compare equal, and serialize back in the form received.
fn check<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(
    base: Value,
    field: &str,
    empty: Value,
    is_empty: impl Fn(&T) -> bool,
) {
    let mut forms = Vec::new();
    for form in [None, Some(Value::Null), Some(empty)] {
        let mut doc = base.clone();
        if let Some(v) = &form {
            doc[field] = v.clone();
        }
        let typed: T = decode_value(doc.clone()).unwrap_or_else(|e| panic!("{field}: {e}"));
        assert!(is_empty(&typed), "{field} as {form:?} is not empty");
        assert_eq!(
            serde_json::to_value(&typed).unwrap(),
            doc,
            "{field} as {form:?}"
        );
        forms.push(typed);
    }
    assert_eq!(forms[0], forms[1], "{field}: missing and null differ");
    assert_eq!(forms[1], forms[2], "{field}: null and empty differ");
}

#[test]
fn project_collections() {
    let base = json!({"Id": "Projects-1", "Name": "OctoFX"});
    check::<Project>(
        base.clone(),
        "IncludedLibraryVariableSetIds",
        json!([]),
        |p| p.included_library_variable_set_ids.is_empty(),
    );
    check::<Project>(base.clone(), "Templates", json!([]), |p| {
        p.templates.is_empty()
    });
    check::<Project>(base, "Links", json!({}), |p| p.links.is_empty());
}

#[test]
fn process_collections() {
    let base = json!({"Id": "deploymentprocess-Projects-1", "Version": 1});
    check::<DeploymentProcess>(base, "Steps", json!([]), |p| p.steps.is_empty());
    let action = json!({"Name": "Deploy"});
    for field in [
        "Environments",
        "ExcludedEnvironments",
        "Channels",
        "TenantTags",
        "Packages",
    ] {
        check::<Action>(action.clone(), field, json!([]), |a| {
            a.environments.is_empty()
                && a.excluded_environments.is_empty()
                && a.channels.is_empty()
                && a.tenant_tags.is_empty()
                && a.packages.is_empty()
        });
    }
    check::<Action>(action, "Properties", json!({}), |a| a.properties.is_empty());
}

#[test]
fn variable_collections() {
    check::<VariableSet>(
        json!({"Id": "variableset-Projects-1"}),
        "Variables",
        json!([]),
        |s| s.variables.is_empty(),
    );
    check::<Variable>(json!({"Name": "X"}), "Scope", json!({}), |v| {
        v.scope.is_empty()
    });
}

#[test]
fn tenant_collections() {
    let base = json!({"Id": "Tenants-1", "Name": "Internal"});
    check::<Tenant>(base.clone(), "TenantTags", json!([]), |t| {
        t.tenant_tags.is_empty()
    });
    check::<Tenant>(base, "ProjectEnvironments", json!({}), |t| {
        t.project_environments.is_empty()
    });
    check::<TenantVariables>(
        json!({"TenantId": "Tenants-1"}),
        "ProjectVariables",
        json!({}),
        |t| t.project_variables.is_empty(),
    );
}

#[test]
fn lifecycle_channel_and_infrastructure_collections() {
    check::<Lifecycle>(json!({"Name": "QA"}), "Phases", json!([]), |l| {
        l.phases.is_empty()
    });
    check::<Phase>(
        json!({"Name": "Test"}),
        "AutomaticDeploymentTargets",
        json!([]),
        |p| p.automatic_deployment_targets.is_empty(),
    );
    check::<Channel>(json!({"Name": "QA"}), "Rules", json!([]), |c| {
        c.rules.is_empty()
    });
    check::<Account>(json!({"Name": "AWS"}), "EnvironmentIds", json!([]), |a| {
        a.environment_ids.is_empty()
    });
    check::<TagSet>(json!({"Name": "Tier"}), "Tags", json!([]), |t| {
        t.tags.is_empty()
    });
    check::<Team>(json!({"Name": "QA"}), "MemberUserIds", json!([]), |t| {
        t.member_user_ids.is_empty()
    });
    check::<ActionTemplate>(json!({"Name": "T"}), "Parameters", json!([]), |t| {
        t.parameters.is_empty()
    });
}

#[test]
fn a_wrong_type_names_its_json_path() {
    let err = decode::<DeploymentProcess>(
        br#"{"Steps": [{"Name": "a", "Actions": [{"Name": "b", "IsDisabled": "yes"}]}]}"#,
    )
    .unwrap_err();
    assert_eq!(err.path, "Steps[0].Actions[0].IsDisabled");
    assert!(
        err.to_string().contains("Steps[0].Actions[0].IsDisabled"),
        "{err}"
    );
}
