//! Properties over generated source/destination pairs: determinism, nothing unselected
//! touched, no existing secret overwritten, every reference resolvable, idempotence.

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::Value;
use sync_core::testing::{generate_space, InMemoryApplier, SpaceParams};
use sync_core::{plan, OpAction, Plan, ResourceKind, Snapshot, SyncRules};

const MODES: [&str; 4] = [
    "skip-unless-partial-match",
    "skip-unless-exact-match",
    "ignore-mismatch",
    "ignore-mismatch-on-new-leave-existing-alone",
];

fn rules_for(
    projects: &str,
    env_mode: usize,
    var_mode: usize,
    overwrite: usize,
    source_only: bool,
    map: bool,
) -> SyncRules {
    let overwrite = ["never", "always", "add-new-with-placeholder"][overwrite];
    let cloning = if source_only {
        "source-only"
    } else {
        "keep-additional-destination-steps"
    };
    let map = if map {
        "[environment_map]\nTest = \"Staging\"\n"
    } else {
        ""
    };
    SyncRules::from_toml_str(&format!(
        r#"
[select]
projects = {projects}
project_groups = "all"
channels = "all"
runbooks = "all"
lifecycles = "all"
feeds = "all"
worker_pools = "all"
accounts = "all"
tenant_tags = "all"
tenants = "all"
library_variable_sets = "all"
teams = "all"
[policy]
overwrite_existing_variables = "{overwrite}"
process_cloning = "{cloning}"
[scoping]
process_environments = "{}"
variable_environments = "{}"
infrastructure_environments = "ignore-mismatch"
{map}"#,
        MODES[env_mode], MODES[var_mode]
    ))
    .unwrap()
}

fn params() -> impl Strategy<Value = (u64, usize, u8)> {
    (any::<u64>(), 1usize..6, 0u8..=100)
}

fn changes(plan: &Plan) -> Vec<String> {
    plan.ops()
        .filter(|o| matches!(o.action(), OpAction::Create | OpAction::Update))
        .map(|o| format!("{:?} {} {:?}", o.action(), o.item, o.diff()))
        .collect()
}

/// Every string in a body shaped like `Kind-123`.
fn ids_in(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            if let Some((prefix, n)) = s.rsplit_once('-') {
                if !n.is_empty()
                    && n.bytes().all(|b| b.is_ascii_digit())
                    && prefix.bytes().all(|b| b.is_ascii_alphabetic())
                {
                    out.push(s.clone());
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| ids_in(v, out)),
        Value::Object(map) => {
            for (k, v) in map {
                ids_in(&Value::String(k.clone()), out);
                ids_in(v, out);
            }
        }
        _ => {}
    }
}

fn destination_ids(snap: &Snapshot) -> BTreeSet<String> {
    let mut out: Vec<String> = snap.space_id().map(str::to_lowercase).into_iter().collect();
    for (_, collection) in snap.to_collections() {
        if let Value::Array(items) = collection {
            for item in items {
                if let Some(id) = item.get("Id").and_then(Value::as_str) {
                    out.push(id.to_lowercase());
                }
            }
        }
    }
    out.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, .. ProptestConfig::default() })]

    #[test]
    fn plans_are_deterministic((seed, projects, synced) in params(), env in 0usize..4, var in 0usize..4, over in 0usize..3, so in any::<bool>(), map in any::<bool>()) {
        let (src, dst) = generate_space(&SpaceParams { seed, projects, synced_percent: synced });
        let rules = rules_for("\"all\"", env, var, over, so, map);
        let a = serde_json::to_string(&plan(&src, &dst, &rules).unwrap()).unwrap();
        let b = serde_json::to_string(&plan(&src.clone(), &dst.clone(), &rules).unwrap()).unwrap();
        prop_assert_eq!(a, b);
    }

    #[test]
    fn applying_then_planning_again_changes_nothing((seed, projects, synced) in params(), env in 0usize..4, var in 0usize..4, over in 0usize..3, so in any::<bool>(), map in any::<bool>()) {
        let (src, dst) = generate_space(&SpaceParams { seed, projects, synced_percent: synced });
        let rules = rules_for("\"all\"", env, var, over, so, map);
        let first = plan(&src, &dst, &rules).unwrap();
        let mut applier = InMemoryApplier::new(dst);
        applier.apply(&first).unwrap();
        let second = plan(&src, &applier.snapshot, &rules).unwrap();
        let left = changes(&second);
        prop_assert!(left.is_empty(), "second plan: {:#?}", left);
    }

    #[test]
    fn every_reference_resolves_to_a_destination_id_or_an_earlier_create((seed, projects, synced) in params(), map in any::<bool>()) {
        let (src, dst) = generate_space(&SpaceParams { seed, projects, synced_percent: synced });
        let rules = rules_for("\"all\"", 0, 2, 0, false, map);
        let plan = plan(&src, &dst, &rules).unwrap();
        let known = destination_ids(&dst);
        let mut created = BTreeSet::new();
        for layer in &plan.layers {
            for op in &layer.ops {
                for r in op.pending() {
                    if let sync_core::Pending::Created { item } = &r.reference {
                        prop_assert!(created.contains(&(item.kind, item.name.to_lowercase(), item.owner.clone().map(|o| o.to_lowercase())))
                            || (item.kind == ResourceKind::Channel && item.name == "Default"),
                            "{} refers to {} before it is created", op.item, item);
                    }
                }
                let mut ids = Vec::new();
                if let Some(body) = op.body() {
                    ids_in(body, &mut ids);
                }
                for id in ids {
                    prop_assert!(known.contains(&id.to_lowercase()), "{} sends {} which is no destination id", op.item, id);
                }
            }
            for op in &layer.ops {
                if op.action() == OpAction::Create {
                    created.insert((op.item.kind, op.item.name.to_lowercase(), op.item.owner.clone().map(|o| o.to_lowercase())));
                }
            }
        }
        // And the in-memory server resolves all of them.
        InMemoryApplier::new(dst).apply(&plan).unwrap();
    }

    #[test]
    fn nothing_unselected_is_touched((seed, projects, synced) in params()) {
        let (src, dst) = generate_space(&SpaceParams { seed, projects, synced_percent: synced });
        let rules = rules_for("[\"Project 0000\", \"Project 0002\"]", 0, 0, 1, true, true);
        let plan = plan(&src, &dst, &rules).unwrap();
        let selected = ["project 0000", "project 0002"];
        for op in plan.ops() {
            // Data that is never synced is never in a plan.
            prop_assert!(!matches!(op.item.kind, ResourceKind::Machine | ResourceKind::User | ResourceKind::Space), "{}", op.item);
            let project = match op.item.kind {
                ResourceKind::Project => Some(op.item.name.to_lowercase()),
                ResourceKind::DeploymentProcess | ResourceKind::VariableSet | ResourceKind::Channel
                | ResourceKind::Runbook | ResourceKind::RunbookProcess => op.item.owner.clone().map(|o| o.to_lowercase()),
                _ => None,
            };
            if let (Some(p), false) = (&project, op.item.owner.as_deref() == Some("Global")) {
                prop_assert!(selected.contains(&p.as_str()), "{} is not selected", op.item);
            }
        }
        let mut applier = InMemoryApplier::new(dst.clone());
        applier.apply(&plan).unwrap();
        for project in &dst.projects {
            if selected.contains(&project.name.to_lowercase().as_str()) {
                continue;
            }
            let id = project.id.get().unwrap();
            let before = dst.deployment_processes.iter().find(|p| p.project_id.get() == Some(id));
            let after = applier.snapshot.deployment_processes.iter().find(|p| p.project_id.get() == Some(id));
            prop_assert_eq!(before, after);
            let before = dst.variable_sets.iter().find(|s| s.owner_id.as_str() == id.as_str());
            let after = applier.snapshot.variable_sets.iter().find(|s| s.owner_id.as_str() == id.as_str());
            prop_assert_eq!(before, after);
            let after_project = applier.snapshot.projects.iter().find(|p| p.id.get() == Some(id));
            prop_assert_eq!(Some(project), after_project);
        }
    }

    #[test]
    fn no_existing_secret_is_overwritten((seed, projects, synced) in params(), over in 0usize..3, var in 0usize..4) {
        let (src, dst) = generate_space(&SpaceParams { seed, projects, synced_percent: synced });
        let rules = rules_for("\"all\"", 0, var, over, false, false);
        let plan = plan(&src, &dst, &rules).unwrap();
        for op in plan.ops().filter(|o| o.action() == OpAction::Update && o.item.kind == ResourceKind::VariableSet) {
            let Some(sync_core::Target::Existing { id }) = op.target() else { continue };
            let before = dst.variable_sets.iter().find(|s| s.id.get().is_some_and(|i| i.as_str() == id)).unwrap();
            let body = op.body().unwrap();
            let sent = body["Variables"].as_array().unwrap();
            for secret in before.variables.iter().filter(|v| v.is_secret()) {
                let id = secret.id.get().unwrap();
                let position = sent.iter().position(|v| v["Id"].as_str() == Some(id.as_str()));
                prop_assert!(position.is_some(), "secret {} was dropped", secret.name);
                let position = position.unwrap();
                prop_assert!(sent[position]["Value"].is_null(), "secret {} was given a value", secret.name);
                let slot = format!("/Variables/{position}/Value");
                prop_assert!(!op.secret_slots().contains(&slot));
            }
        }
    }
}
