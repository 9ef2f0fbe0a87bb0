//! Property: arbitrary extra fields and unknown enum values survive a round trip.

use octopus_model::*;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-zA-Z0-9 ._/-]{0,12}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[A-Z][a-zA-Z]{0,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Extra fields whose names cannot collide with modelled ones (they carry a prefix no
/// Octopus field has).
fn extras() -> impl Strategy<Value = Vec<(String, Value)>> {
    prop::collection::vec(("Zz[A-Za-z]{1,8}", json_value()), 0..5)
}

fn with_extras(mut doc: Value, extras: &[(String, Value)]) -> Value {
    let map = doc.as_object_mut().unwrap();
    for (k, v) in extras {
        map.insert(k.clone(), v.clone());
    }
    doc
}

fn survives<T: serde::de::DeserializeOwned + serde::Serialize>(doc: &Value) -> Value {
    let typed: T = decode_value(doc.clone()).unwrap();
    serde_json::to_value(&typed).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn projects_keep_extras_and_unknown_modes(extra in extras(), mode in "[A-Z][a-z]{3,10}") {
        let doc = with_extras(json!({
            "Id": "Projects-1", "Name": "OctoFX", "TenantedDeploymentMode": mode,
            "DefaultGuidedFailureMode": mode
        }), &extra);
        prop_assert_eq!(survives::<Project>(&doc), doc);
    }

    #[test]
    fn nested_actions_keep_extras(extra in extras(), inner in extras(), kind in "[A-Z][a-z]{3,10}") {
        let action = with_extras(json!({"Name": "Deploy", "Properties": {"A": "b"}}), &inner);
        let doc = with_extras(json!({
            "Id": "deploymentprocess-Projects-1", "Version": 3,
            "Steps": [{"Name": "Deploy", "Condition": kind, "Actions": [action]}]
        }), &extra);
        prop_assert_eq!(survives::<DeploymentProcess>(&doc), doc);
    }

    #[test]
    fn variables_keep_unknown_types_and_scopes(extra in extras(), ty in "[A-Z][a-zA-Z]{3,12}", scope in "[A-Z][a-zA-Z]{3,12}") {
        let var = with_extras(json!({
            "Id": "v1", "Name": "X", "Value": "1", "Type": ty,
            "Scope": {scope.clone(): ["a"], "Environment": ["Environments-1"]}
        }), &extra);
        let doc = json!({"Id": "variableset-Projects-1", "Variables": [var]});
        prop_assert_eq!(survives::<VariableSet>(&doc), doc);
    }

    #[test]
    fn feeds_and_accounts_keep_unknown_types(extra in extras(), ty in "[A-Z][a-zA-Z]{3,12}") {
        let feed = with_extras(json!({"Id": "Feeds-9", "Name": "F", "FeedType": ty}), &extra);
        prop_assert_eq!(survives::<Feed>(&feed), feed);
        let account = with_extras(json!({"Id": "Accounts-9", "Name": "A", "AccountType": ty}), &extra);
        prop_assert_eq!(survives::<Account>(&account), account);
    }

    #[test]
    fn property_values_of_any_shape_survive(v in json_value()) {
        let doc = json!({"Name": "T", "Properties": {"Key": v}});
        prop_assert_eq!(survives::<ActionTemplate>(&doc), doc);
    }
}
