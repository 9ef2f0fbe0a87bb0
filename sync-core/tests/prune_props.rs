//! Prune as a property: for any source steps and values, any destination-only steps and
//! values, and any later source that drops some and adds others, a sync with
//! `[policy] prune` leaves the destination with exactly what the later source has plus
//! what the destination always had of its own, and a further plan has nothing to do.
//!
//! The record is kept the way the runner keeps it: the `synced` of the plan made from
//! the destination as each apply left it, added to the earlier record.

mod common;

use std::collections::BTreeSet;

use common::*;
use proptest::prelude::*;
use serde_json::{json, Value};
use sync_core::testing::InMemoryApplier;
use sync_core::{plan, Provenance, Snapshot};

const RULES: &str = r#"
[select]
projects = ["OctoFX"]
[policy]
prune = ["steps", "variables"]
"#;

/// Step and variable names the source may use; the destination's own use other names.
const SOURCE_NAMES: [&str; 6] = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot"];
const OWN_NAMES: [&str; 3] = ["Local.One", "Local.Two", "Local.Three"];

fn script(id: &str, name: &str) -> Value {
    json!({"Id": id, "Name": name, "Actions": [{"Id": format!("{id}-a"), "Name": name,
        "ActionType": "Octopus.Script", "Properties": {"Octopus.Action.Script.ScriptBody": "echo"}}]})
}

fn source(names: &BTreeSet<usize>) -> Snapshot {
    let steps: Vec<Value> = names
        .iter()
        .map(|&i| script(&format!("s-{i}"), SOURCE_NAMES[i]))
        .collect();
    let variables: Vec<Value> = names
        .iter()
        .map(|&i| json!({"Id": format!("v-{i}"), "Name": format!("Var.{}", SOURCE_NAMES[i]), "Value": "x"}))
        .collect();
    snapshot(join(vec![
        builtins(1),
        vec![("environments", source_environments())],
        source_project(json!(steps), json!(variables)),
    ]))
}

fn destination(own: &BTreeSet<usize>) -> Snapshot {
    let steps: Vec<Value> = own
        .iter()
        .map(|&i| script(&format!("d-{i}"), OWN_NAMES[i]))
        .collect();
    let variables: Vec<Value> = own
        .iter()
        .map(|&i| json!({"Id": format!("dv-{i}"), "Name": OWN_NAMES[i], "Value": "mine"}))
        .collect();
    snapshot(join(vec![
        builtins(71),
        vec![("environments", destination_environments())],
        destination_project(json!(steps), json!(variables)),
    ]))
}

/// Plans and applies until nothing is left; returns the destination and the record.
fn sync(source: &Snapshot, dest: &Snapshot, record: Option<Provenance>) -> (Snapshot, Provenance) {
    let mut rules = rules(RULES);
    rules.written = record.clone();
    let mut applier = InMemoryApplier::new(dest.clone());
    let mut last = plan(source, dest, &rules).expect("a plan");
    for _ in 0..4 {
        if !last.has_changes() {
            break;
        }
        applier.apply(&last).expect("the apply");
        last = plan(source, &applier.snapshot, &rules).expect("a plan");
    }
    assert!(!last.has_changes(), "the sync does not settle");
    let mut kept = record.unwrap_or_default();
    kept.extend(last.synced);
    (applier.snapshot, kept)
}

fn names(snapshot: &Snapshot) -> (BTreeSet<String>, BTreeSet<String>) {
    let steps = snapshot
        .deployment_processes
        .iter()
        .find(|p| p.project_id.get().map(|i| i.as_str()) == Some("Projects-71"))
        .map(|p| p.steps.iter().map(|s| s.name.clone()).collect())
        .unwrap_or_default();
    let variables = snapshot
        .variable_sets
        .iter()
        .find(|v| v.owner_id.get().map(String::as_str) == Some("Projects-71"))
        .map(|v| v.variables.iter().map(|v| v.name.clone()).collect())
        .unwrap_or_default();
    (steps, variables)
}

fn subset(of: usize) -> impl Strategy<Value = BTreeSet<usize>> {
    prop::collection::btree_set(0..of, 0..=of)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn prune_removes_exactly_what_the_source_dropped(
        first in subset(SOURCE_NAMES.len()),
        later in subset(SOURCE_NAMES.len()),
        own in subset(OWN_NAMES.len()),
    ) {
        let (synced, record) = sync(&source(&first), &destination(&own), None);
        let (after, _) = sync(&source(&later), &synced, Some(record));
        let (steps, variables) = names(&after);
        let expected_steps: BTreeSet<String> = later
            .iter()
            .map(|&i| SOURCE_NAMES[i].to_owned())
            .chain(own.iter().map(|&i| OWN_NAMES[i].to_owned()))
            .collect();
        let expected_variables: BTreeSet<String> = later
            .iter()
            .map(|&i| format!("Var.{}", SOURCE_NAMES[i]))
            .chain(own.iter().map(|&i| OWN_NAMES[i].to_owned()))
            .collect();
        prop_assert_eq!(steps, expected_steps);
        prop_assert_eq!(variables, expected_variables);
    }

    #[test]
    fn without_a_record_nothing_the_destination_has_is_deleted(
        first in subset(SOURCE_NAMES.len()),
        later in subset(SOURCE_NAMES.len()),
        own in subset(OWN_NAMES.len()),
    ) {
        // The record is lost between the syncs (the state directory was deleted).
        let (synced, _) = sync(&source(&first), &destination(&own), None);
        let (before_steps, before_variables) = names(&synced);
        let (after, _) = sync(&source(&later), &synced, None);
        let (steps, variables) = names(&after);
        prop_assert!(steps.is_superset(&before_steps));
        prop_assert!(variables.is_superset(&before_variables));
    }
}
