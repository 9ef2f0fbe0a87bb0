//! Every row of the version shim table does what it says, at the versions it says.

use octopus_model::shims::{
    prepare_create, prepare_update, unknown_fields, PathSeg, ShimAction, ShimDefault, VERSION_SHIMS,
};
use octopus_model::{OctopusVersion, ResourceKind};
use serde_json::{json, Value};

fn v(s: &str) -> OctopusVersion {
    s.parse().unwrap()
}

/// A document with `leaf` at the row's path (one element for every `[*]`).
fn doc_with(path: &[PathSeg], leaf: Option<Value>) -> Value {
    match path {
        [] => leaf.unwrap_or(Value::Null),
        [PathSeg::Key(k)] => match leaf {
            Some(l) => json!({ *k: l, "Name": "My Thing" }),
            None => json!({ "Name": "My Thing" }),
        },
        [PathSeg::Key(k), rest @ ..] => json!({ *k: doc_with(rest, leaf), "Name": "My Thing" }),
        [PathSeg::Each, rest @ ..] => json!([doc_with(rest, leaf)]),
    }
}

/// The value at the row's path in `doc` (first element for every `[*]`).
fn at<'a>(doc: &'a Value, path: &[PathSeg]) -> Option<&'a Value> {
    match path {
        [] => Some(doc),
        [PathSeg::Key(k), rest @ ..] => doc.get(*k).and_then(|d| at(d, rest)),
        [PathSeg::Each, rest @ ..] => doc.get(0).and_then(|d| at(d, rest)),
    }
}

fn before(since: Option<(u32, u32)>) -> Option<OctopusVersion> {
    since.map(|(major, minor)| {
        if minor > 1 {
            OctopusVersion::new(major, minor - 1, 0)
        } else {
            OctopusVersion::new(major - 1, 4, 0)
        }
    })
}

fn from(since: Option<(u32, u32)>) -> OctopusVersion {
    since.map_or(v("2020.1.0"), |(major, minor)| {
        OctopusVersion::new(major, minor, 0)
    })
}

#[test]
fn every_row_applies_at_its_versions() {
    for row in VERSION_SHIMS {
        for &kind in row.kinds {
            let label = format!("{} on {kind:?}", row.id);
            match row.action {
                ShimAction::Introduced(default) => {
                    if let Some(old) = before(row.since) {
                        let mut body = doc_with(row.path, Some(json!("x")));
                        let applied = prepare_create(kind, &mut body, &old);
                        assert!(
                            at(&body, row.path).is_none(),
                            "{label}: not dropped for {old}"
                        );
                        assert!(
                            applied.iter().any(|a| a.shim == row.id),
                            "{label}: not reported"
                        );
                        assert!(
                            !unknown_fields(kind, &doc_with(row.path, Some(json!("x"))), &old)
                                .is_empty(),
                            "{label}: strict check"
                        );
                        // Updates never drop what the destination sent.
                        let mut body = doc_with(row.path, Some(json!("x")));
                        prepare_update(kind, &mut body, &old);
                        assert_eq!(
                            at(&body, row.path),
                            Some(&json!("x")),
                            "{label}: update dropped"
                        );
                    }
                    let new = from(row.since);
                    let mut body = doc_with(row.path, Some(json!("x")));
                    prepare_create(kind, &mut body, &new);
                    assert_eq!(
                        at(&body, row.path),
                        Some(&json!("x")),
                        "{label}: dropped for {new}"
                    );
                    assert!(
                        unknown_fields(kind, &body, &new).is_empty(),
                        "{label}: strict check at {new}"
                    );
                    if default.is_some() {
                        let mut body = doc_with(row.path, None);
                        prepare_create(kind, &mut body, &new);
                        assert!(
                            at(&body, row.path).is_some_and(|x| !x.is_null()),
                            "{label}: default not added"
                        );
                    }
                }
                ShimAction::AddIfMissing(_) => {
                    let new = from(row.since);
                    for leaf in [None, Some(Value::Null)] {
                        let mut body = doc_with(row.path, leaf.clone());
                        let applied = prepare_update(kind, &mut body, &new);
                        assert!(
                            at(&body, row.path).is_some_and(|x| !x.is_null()),
                            "{label}: not added for {leaf:?}"
                        );
                        assert!(
                            applied.iter().any(|a| a.shim == row.id),
                            "{label}: not reported"
                        );
                    }
                    let mut body = doc_with(row.path, Some(json!("kept")));
                    prepare_create(kind, &mut body, &new);
                    assert_eq!(
                        at(&body, row.path),
                        Some(&json!("kept")),
                        "{label}: overwrote a value"
                    );
                    if let Some(old) = before(row.since) {
                        let mut body = doc_with(row.path, None);
                        prepare_create(kind, &mut body, &old);
                        assert!(at(&body, row.path).is_none(), "{label}: added for {old}");
                    }
                }
                ShimAction::RemoveOnCreate => {
                    let mut body = doc_with(row.path, Some(json!({"Type": "Database"})));
                    prepare_create(kind, &mut body, &v("2024.1.0"));
                    assert!(at(&body, row.path).is_none(), "{label}: not removed");
                    let mut body = doc_with(row.path, Some(json!({"Type": "Database"})));
                    prepare_update(kind, &mut body, &v("2024.1.0"));
                    assert!(at(&body, row.path).is_some(), "{label}: removed on update");
                }
                ShimAction::NullToEmptyArray => {
                    let mut body = doc_with(row.path, Some(Value::Null));
                    prepare_update(kind, &mut body, &v("2024.1.0"));
                    assert_eq!(at(&body, row.path), Some(&json!([])), "{label}");
                    let mut body = doc_with(row.path, Some(json!(["a"])));
                    prepare_create(kind, &mut body, &v("2024.1.0"));
                    assert_eq!(
                        at(&body, row.path),
                        Some(&json!(["a"])),
                        "{label}: touched a list"
                    );
                }
                ShimAction::RemoveNullEntries => {
                    let mut body = doc_with(row.path, Some(json!({"A": null, "B": "b"})));
                    let applied = prepare_create(kind, &mut body, &v("2024.1.0"));
                    assert_eq!(at(&body, row.path), Some(&json!({"B": "b"})), "{label}");
                    assert_eq!(applied.len(), 1, "{label}");
                }
            }
        }
    }
}

#[test]
fn rows_are_well_formed() {
    let mut ids = std::collections::HashSet::new();
    for row in VERSION_SHIMS {
        assert!(ids.insert(row.id), "duplicate row id {}", row.id);
        assert!(!row.kinds.is_empty() && !row.path.is_empty(), "{}", row.id);
        assert!(!row.why.is_empty() && !row.source.is_empty(), "{}", row.id);
        if let ShimAction::Introduced(Some(ShimDefault::Json(text)))
        | ShimAction::AddIfMissing(ShimDefault::Json(text)) = row.action
        {
            assert!(
                serde_json::from_str::<Value>(text).is_ok(),
                "{}: {text}",
                row.id
            );
        }
    }
}

#[test]
fn worker_pool_type_defaults_to_static() {
    let mut body = json!({"Name": "Ubuntu Worker Pool"});
    prepare_create(ResourceKind::WorkerPool, &mut body, &v("2021.1.0"));
    assert_eq!(body["WorkerPoolType"], "StaticWorkerPool");
}

#[test]
fn step_template_parameters_get_a_control_type_from_2021() {
    let template = json!({"Name": "T", "Parameters": [
        {"Name": "A", "DisplaySettings": {}},
        {"Name": "B", "DisplaySettings": {"Octopus.ControlType": "Sensitive"}}
    ]});
    let mut body = template.clone();
    let applied = prepare_create(ResourceKind::ActionTemplate, &mut body, &v("2021.1.0"));
    assert_eq!(
        body["Parameters"][0]["DisplaySettings"]["Octopus.ControlType"],
        "SingleLineText"
    );
    assert_eq!(
        body["Parameters"][1]["DisplaySettings"]["Octopus.ControlType"],
        "Sensitive"
    );
    assert_eq!(applied.len(), 1);
    assert_eq!(
        applied[0].path,
        "Parameters[0].DisplaySettings[\"Octopus.ControlType\"]"
    );
    let mut old = template;
    assert!(prepare_create(ResourceKind::ActionTemplate, &mut old, &v("2020.6.0")).is_empty());
}

#[test]
fn space_slug_is_made_from_the_name_from_2022_4() {
    let mut body = json!({"Name": "Octo FX / Prod"});
    prepare_create(ResourceKind::Space, &mut body, &v("2022.4.0"));
    assert_eq!(body["Slug"], "octo-fx-prod");
    assert_eq!(body["SpaceManagersTeams"], json!([]));
    let mut old = json!({"Name": "Octo FX", "Slug": "octo-fx"});
    prepare_create(ResourceKind::Space, &mut old, &v("2021.3.0"));
    assert!(old.get("Slug").is_none());
}

#[test]
fn runbook_environment_scope_follows_its_environments() {
    let mut some = json!({"Name": "R", "Environments": ["Environments-1"]});
    prepare_create(ResourceKind::Runbook, &mut some, &v("2024.1.0"));
    assert_eq!(some["EnvironmentScope"], "Specified");
    let mut none = json!({"Name": "R", "Environments": []});
    prepare_create(ResourceKind::Runbook, &mut none, &v("2024.1.0"));
    assert_eq!(none["EnvironmentScope"], "All");
}

#[test]
fn retention_strategy_is_inferred_for_2025_3_and_dropped_before() {
    let lifecycle = json!({"Name": "QA",
        "ReleaseRetentionPolicy": {"QuantityToKeep": 0, "ShouldKeepForever": true, "Unit": "Days"},
        "TentacleRetentionPolicy": {"QuantityToKeep": 3, "ShouldKeepForever": false, "Unit": "Items"},
        "Phases": [{"Name": "Test", "ReleaseRetentionPolicy": null}]});
    let mut new = lifecycle.clone();
    prepare_create(ResourceKind::Lifecycle, &mut new, &v("2025.3.0"));
    assert_eq!(new["ReleaseRetentionPolicy"]["Strategy"], "Forever");
    assert_eq!(new["TentacleRetentionPolicy"]["Strategy"], "Count");
    assert!(
        new["Phases"][0]["ReleaseRetentionPolicy"].is_null(),
        "a null policy still inherits"
    );
    let mut old = new.clone();
    prepare_create(ResourceKind::Lifecycle, &mut old, &v("2025.2.0"));
    assert!(old["ReleaseRetentionPolicy"].get("Strategy").is_none());
}

#[test]
fn tenanted_participation_is_inferred_from_tenants() {
    let mut tenanted = json!({"Name": "A", "TenantTags": ["Tier/Gold"]});
    prepare_create(ResourceKind::Account, &mut tenanted, &v("2024.1.0"));
    assert_eq!(tenanted["TenantedDeploymentParticipation"], "Tenanted");
    let mut plain = json!({"Name": "A", "TenantIds": []});
    prepare_create(ResourceKind::Certificate, &mut plain, &v("2024.1.0"));
    assert_eq!(plain["TenantedDeploymentParticipation"], "Untenanted");
}

#[test]
fn project_create_drops_persistence_settings_and_null_lists() {
    let mut body = json!({"Name": "OctoFX", "PersistenceSettings": {"Type": "Database"},
                          "IncludedLibraryVariableSetIds": null});
    let applied = prepare_create(ResourceKind::Project, &mut body, &v("2024.1.0"));
    assert!(body.get("PersistenceSettings").is_none());
    assert_eq!(body["IncludedLibraryVariableSetIds"], json!([]));
    assert_eq!(applied.len(), 2);
}

#[test]
fn null_action_properties_are_removed_in_every_action() {
    let mut body = json!({"Steps": [{"Name": "s", "Properties": {"X": null},
        "Actions": [{"Name": "a", "Properties": {"Octopus.Action.Script.ScriptFilename": null, "K": "v"}},
                    {"Name": "b", "Properties": {"Y": null}}]}]});
    let applied = prepare_update(ResourceKind::DeploymentProcess, &mut body, &v("2024.1.0"));
    assert_eq!(
        body["Steps"][0]["Actions"][0]["Properties"],
        json!({"K": "v"})
    );
    assert_eq!(body["Steps"][0]["Actions"][1]["Properties"], json!({}));
    assert_eq!(body["Steps"][0]["Properties"], json!({}));
    assert_eq!(applied.len(), 3);
    assert!(applied
        .iter()
        .any(|a| a.path == "Steps[0].Actions[1].Properties"));
}

#[test]
fn local_builds_know_every_field() {
    let body = json!({"Name": "R", "RunbookTags": ["a/b"]});
    assert!(unknown_fields(ResourceKind::Runbook, &body, &v("0.0.0-local")).is_empty());
    assert_eq!(
        unknown_fields(ResourceKind::Runbook, &body, &v("2025.4.0")),
        ["RunbookTags"]
    );
}
