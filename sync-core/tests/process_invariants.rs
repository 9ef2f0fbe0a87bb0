//! Properties of merging a source process into a destination that has its own: over
//! random processes (steps renamed or reordered on the source, actions moved between
//! steps, parent steps with several actions, destination-only steps and actions, and
//! variables scoped to actions on both sides), after one plan and one in-memory apply:
//!
//! - action names (and step names) are unique in the saved process;
//! - every destination-only step that is kept directly follows the step it followed on
//!   the destination (the nearest one still there), or leads the process;
//! - every action-scoped variable on the destination names a live action;
//! - actions based on a step template (which the plan may update) name the version the
//!   destination's template has after the apply, and every source secret is set;
//! - a second plan writes nothing.

mod common;

use std::collections::BTreeSet;

use common::*;
use proptest::prelude::*;
use serde_json::{json, Value};
use sync_core::testing::InMemoryApplier;
use sync_core::{plan, OpAction, SyncRules};

/// A small deterministic generator, so one `u64` describes a whole case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*; the state is never zero (see `new`).
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }
}

fn action(id: &str, name: &str) -> Value {
    json!({"Id": id, "Name": name, "ActionType": "Octopus.Script",
           "Properties": {"Octopus.Action.Script.ScriptBody": format!("echo {name}")}})
}

/// What some actions carry besides their script: a step template ("Notify", whose
/// source and destination copies may differ, so the plan may update it) and secrets.
#[derive(Clone, Copy)]
struct Extras {
    /// The action is based on the step template.
    template: bool,
    /// The action holds a secret on the source.
    secret: bool,
    /// The destination's copy of the action holds the secret already.
    dest_secret: bool,
}

fn decorate(mut action: Value, extras: Extras, template_id: &str, dest: bool) -> Value {
    let props = action["Properties"].as_object_mut().unwrap();
    if extras.template {
        props.insert("Octopus.Action.Template.Id".into(), json!(template_id));
        props.insert("Octopus.Action.Template.Version".into(), json!("1"));
        props.insert("Notify.Channel".into(), json!("#releases"));
    }
    if (!dest && extras.secret) || (dest && extras.dest_secret) {
        props.insert(
            "Api.Key".into(),
            json!({"HasValue": true, "NewValue": null}),
        );
    }
    action
}

/// One generated case: the two processes and their variables.
struct Case {
    source_steps: Value,
    dest_steps: Value,
    source_vars: Value,
    dest_vars: Value,
    /// The source's and the destination's step template bodies.
    template_bodies: (String, String),
}

fn generate(seed: u64) -> Case {
    let mut rng = Rng::new(seed);
    // Source: steps of one to three actions (several actions = a parent step).
    let step_count = 1 + rng.below(5);
    let mut source: Vec<(String, Vec<String>)> = Vec::new();
    let mut n = 0;
    for s in 0..step_count {
        let actions = (0..1 + rng.below(3))
            .map(|_| {
                n += 1;
                format!("Act {n}")
            })
            .collect();
        source.push((format!("Step {s}"), actions));
    }
    // Destination: the same steps, some renamed (on the source), some missing, some
    // actions missing or moved to another step, in another order, with its own steps
    // and actions in between.
    let mut dest: Vec<(String, String, Vec<String>)> = Vec::new();
    for (i, (name, actions)) in source.iter().enumerate() {
        if rng.chance(15) {
            continue;
        }
        let dest_name = if rng.chance(30) {
            format!("Old step {i}")
        } else {
            name.clone()
        };
        let kept: Vec<String> = actions
            .iter()
            .filter(|_| !rng.chance(15))
            .cloned()
            .collect();
        dest.push((format!("ds-{i}"), dest_name, kept));
    }
    if dest.len() > 1 && rng.chance(30) {
        // An action sits in another step on the destination.
        let from = rng.below(dest.len());
        let to = rng.below(dest.len());
        if from != to && !dest[from].2.is_empty() {
            let moved = dest[from].2.remove(0);
            dest[to].2.push(moved);
        }
    }
    dest.retain(|(_, _, actions)| !actions.is_empty());
    for i in (1..dest.len()).rev() {
        if rng.chance(30) {
            let j = rng.below(i + 1);
            dest.swap(i, j);
        }
    }
    for (i, step) in dest.iter_mut().enumerate() {
        if rng.chance(20) {
            let at = rng.below(step.2.len() + 1);
            step.2.insert(at, format!("Own action {i}"));
        }
    }
    for k in 0..rng.below(3) {
        let at = rng.below(dest.len() + 1);
        let actions = (0..1 + rng.below(2))
            .map(|j| format!("Gate {k}.{j}"))
            .collect();
        dest.insert(at, (format!("dx-{k}"), format!("Gate {k}"), actions));
    }
    let mut extras = std::collections::BTreeMap::new();
    for a in source.iter().flat_map(|(_, a)| a) {
        let secret = rng.chance(25);
        extras.insert(
            a.clone(),
            Extras {
                template: rng.chance(25),
                secret,
                dest_secret: secret && rng.chance(50),
            },
        );
    }
    let none = Extras {
        template: false,
        secret: false,
        dest_secret: false,
    };
    let source_steps: Vec<Value> = source
        .iter()
        .enumerate()
        .map(|(i, (name, actions))| {
            json!({"Id": format!("ss-{i}"), "Name": name,
                   "Actions": actions.iter().map(|a| decorate(action(&format!("s-{a}"), a),
                        extras[a], "ActionTemplates-1", false)).collect::<Vec<_>>()})
        })
        .collect();
    let dest_steps: Vec<Value> = dest
        .iter()
        .map(|(id, name, actions)| {
            json!({"Id": id, "Name": name,
                   "Actions": actions.iter().map(|a| decorate(action(&format!("d-{a}"), a),
                        extras.get(a).copied().unwrap_or(none), "ActionTemplates-71", true)).collect::<Vec<_>>()})
        })
        .collect();
    let template_bodies = (
        "Write-Host 'v2'".to_owned(),
        if rng.chance(50) {
            "Write-Host 'v2'"
        } else {
            "Write-Host 'v1'"
        }
        .to_owned(),
    );
    // Variables scoped to actions: the source's to source actions, the destination's own
    // to destination actions (its own included).
    let source_actions: Vec<&String> = source.iter().flat_map(|(_, a)| a).collect();
    let dest_actions: Vec<&String> = dest.iter().flat_map(|(_, _, a)| a).collect();
    let source_vars: Vec<Value> = (0..rng.below(4))
        .map(|i| {
            let a = source_actions[rng.below(source_actions.len())];
            json!({"Id": format!("sv-{i}"), "Name": format!("Source.{i}"), "Value": "x",
                   "Scope": {"Action": [format!("s-{a}")]}})
        })
        .collect();
    let dest_vars: Vec<Value> = (0..rng.below(4))
        .filter(|_| !dest_actions.is_empty())
        .map(|i| {
            let a = dest_actions[rng.below(dest_actions.len())];
            json!({"Id": format!("dv-{i}"), "Name": format!("Dest.{i}"), "Value": "y",
                   "Scope": {"Action": [format!("d-{a}")]}})
        })
        .collect();
    Case {
        source_steps: Value::Array(source_steps),
        dest_steps: Value::Array(dest_steps),
        source_vars: Value::Array(source_vars),
        dest_vars: Value::Array(dest_vars),
        template_bodies,
    }
}

fn template(id: &str, body: &str) -> Value {
    json!([{"Id": id, "Name": "Notify", "ActionType": "Octopus.Script", "Version": 1,
            "Properties": {"Octopus.Action.Script.ScriptBody": body},
            "Parameters": [{"Id": format!("{id}-p"), "Name": "Notify.Channel",
                            "DisplaySettings": {"Octopus.ControlType": "SingleLineText"}}]}])
}

fn rules_for(source_only: bool) -> SyncRules {
    let cloning = if source_only {
        "source-only"
    } else {
        "keep-additional-destination-steps"
    };
    rules(&format!(
        "[select]\nprojects = [\"OctoFX\"]\nstep_templates = \"all\"\n[policy]\nprocess_cloning = \"{cloning}\"\n"
    ))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn merging_keeps_the_destination_process_whole(seed in any::<u64>(), source_only in any::<bool>()) {
        let case = generate(seed);
        let source = snapshot(join(vec![
            builtins(1),
            vec![("environments", source_environments())],
            vec![("actiontemplates", template("ActionTemplates-1", &case.template_bodies.0))],
            source_project(case.source_steps.clone(), case.source_vars.clone()),
        ]));
        let destination = snapshot(join(vec![
            builtins(71),
            vec![("environments", destination_environments())],
            vec![("actiontemplates", template("ActionTemplates-71", &case.template_bodies.1))],
            destination_project(case.dest_steps.clone(), case.dest_vars.clone()),
        ]));
        let rules = rules_for(source_only);
        let first = plan(&source, &destination, &rules).unwrap();
        let mut applier = InMemoryApplier::new(destination.clone());
        applier.apply(&first).unwrap();
        let after = &applier.snapshot;
        let steps: Vec<octopus_model::Step> =
            after.deployment_processes[0].steps.iter().cloned().collect();

        // Action names are unique.
        let mut names = BTreeSet::new();
        for a in steps.iter().flat_map(|s| s.actions.iter()) {
            prop_assert!(names.insert(a.name.to_lowercase()), "action {:?} twice in {:?}", a.name, case.dest_steps);
        }

        // So are step names.
        let mut step_names = BTreeSet::new();
        for s in &steps {
            prop_assert!(step_names.insert(s.name.to_lowercase()), "step {:?} twice", s.name);
        }

        // Destination-only steps follow the step they followed.
        let kept_ids: Vec<String> = steps.iter().map(|s| s.id.get().cloned().unwrap_or_default()).collect();
        let original: Vec<&Value> = case.dest_steps.as_array().unwrap().iter().collect();
        for (i, d) in original.iter().enumerate() {
            let id = d["Id"].as_str().unwrap();
            if !id.starts_with("dx-") {
                continue;
            }
            let Some(at) = kept_ids.iter().position(|k| k == id) else {
                prop_assert!(source_only, "destination-only step {id} dropped under keep");
                continue;
            };
            prop_assert!(!source_only, "destination-only step {id} kept under source-only");
            let before = original[..i]
                .iter()
                .rev()
                .map(|s| s["Id"].as_str().unwrap())
                .find(|s| kept_ids.iter().any(|k| k == s));
            match before {
                Some(prev) => prop_assert_eq!(
                    kept_ids.get(at.wrapping_sub(1)).map(String::as_str), Some(prev),
                    "step {} should follow {} in {:?}", id, prev, kept_ids),
                None => prop_assert!(
                    kept_ids[..at].iter().all(|k| k.starts_with("dx-")),
                    "step {id} led the destination and should lead the process: {kept_ids:?}"),
            }
        }

        // Every action-scoped variable names a live action.
        let live: BTreeSet<String> = steps
            .iter()
            .flat_map(|s| s.actions.iter())
            .filter_map(|a| a.id.get().cloned())
            .collect();
        let set = after
            .variable_sets
            .iter()
            .find(|v| v.owner_id.get().map(String::as_str) == Some("Projects-71"))
            .unwrap();
        for v in set.variables.iter() {
            for id in v.scope.get(&octopus_model::ScopeField::Action).into_iter().flatten() {
                prop_assert!(live.contains(id), "variable {} is scoped to {id}, which is no action of {:?}", v.name, live);
            }
        }

        // Actions based on the step template name the destination's template and the
        // version it has after the apply; every secret the source holds is set.
        let dest_template = &after.action_templates[0];
        let dest_version = dest_template.version.get().copied().unwrap_or_default().to_string();
        let dest_template_id = dest_template.id.get().map(|i| i.as_str().to_owned()).unwrap_or_default();
        let source_actions: Vec<&Value> = case.source_steps.as_array().unwrap().iter()
            .flat_map(|s| s["Actions"].as_array().unwrap()).collect();
        for saved in steps.iter().flat_map(|s| s.actions.iter()) {
            let Some(src) = source_actions.iter().find(|a| a["Name"] == saved.name.as_str()) else {
                continue;
            };
            if src["Properties"].get("Octopus.Action.Template.Id").is_some() {
                prop_assert_eq!(saved.properties["Octopus.Action.Template.Id"].as_text(), Some(dest_template_id.as_str()));
                prop_assert_eq!(saved.properties["Octopus.Action.Template.Version"].as_text(), Some(dest_version.as_str()));
            }
            if src["Properties"].get("Api.Key").is_some() {
                prop_assert!(
                    matches!(saved.properties.get("Api.Key"), Some(octopus_model::PropertyValue::Sensitive(s)) if s.has_value),
                    "the secret of {:?} is not set", saved.name);
            }
        }

        // A second plan writes nothing.
        let second = plan(&source, after, &rules).unwrap();
        let changes: Vec<String> = second
            .ops()
            .filter(|o| matches!(o.action(), OpAction::Create | OpAction::Update))
            .map(|o| format!("{:?} {} {:?}", o.action(), o.item, o.diff()))
            .collect();
        prop_assert!(changes.is_empty(), "second plan: {changes:#?}");
    }
}
