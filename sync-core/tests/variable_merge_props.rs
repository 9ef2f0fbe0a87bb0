//! Properties of the variable merge over random source and destination variable sets
//! (values, secrets, overlapping environment, role and target scopes, a destination that
//! drifted on its own), checked with `sync_core::resolve` as the oracle in every context
//! of the destination: each environment with no target, with each of its targets, and
//! with a target of each role.
//!
//! The contexts and the translation of source scopes are computed here from the fixture,
//! independently of the planner's own.

mod common;

use std::collections::BTreeSet;

use common::*;
use octopus_model::Variable;
use proptest::prelude::*;
use serde_json::{json, Value};
use sync_core::resolve::{resolve, variable_specificity, DeploymentContext, Resolution};
use sync_core::{CleanupCategory, OpAction, Snapshot};

/// Source environments (id, name); Development has no counterpart on the destination.
const SRC_ENVS: [(&str, &str); 4] = [
    ("Environments-1", "Development"),
    ("Environments-3", "Staging"),
    ("Environments-4", "Production"),
    ("Environments-5", "QA"),
];
const DST_ENVS: [(&str, &str); 3] = [
    ("Environments-71", "Staging"),
    ("Environments-72", "Production"),
    ("Environments-73", "QA"),
];
/// Targets (name, source id, destination id, environment name, roles).
const TARGETS: [(&str, &str, &str, &str, &[&str]); 3] = [
    ("web-1", "Machines-1", "Machines-71", "Staging", &["web"]),
    (
        "db-1",
        "Machines-2",
        "Machines-72",
        "Production",
        &["web", "db"],
    ),
    ("qa-1", "Machines-3", "Machines-73", "QA", &["db"]),
];
const ROLES: [&str; 2] = ["web", "db"];
const NAMES: [&str; 3] = ["A", "B", "C"];
const TEXTS: [&str; 4] = ["x", "y", "z", "X"];

#[derive(Clone, Debug)]
struct Gen {
    name: usize,
    text: usize,
    secret: bool,
    /// Bit i: the i-th environment of the side.
    envs: u8,
    roles: u8,
    machines: u8,
}

fn gen_value() -> impl Strategy<Value = Gen> {
    (
        0..NAMES.len(),
        0..TEXTS.len(),
        prop::bool::weighted(0.2),
        prop_oneof![3 => Just(0u8), 4 => 1u8..16],
        prop_oneof![3 => Just(0u8), 1 => 1u8..4],
        prop_oneof![6 => Just(0u8), 1 => 1u8..8],
    )
        .prop_map(|(name, text, secret, envs, roles, machines)| Gen {
            name,
            text,
            secret,
            envs,
            roles,
            machines,
        })
}

fn picked<T: Copy>(bits: u8, items: &[T]) -> Vec<T> {
    items
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, t)| *t)
        .collect()
}

/// A variable as the API returns it. On the source, environments index `SRC_ENVS`; on
/// the destination, `DST_ENVS` (a fourth bit is dropped there).
fn to_json(g: &Gen, id: String, source: bool) -> Value {
    let envs: Vec<&str> = if source {
        picked(g.envs, &SRC_ENVS).iter().map(|e| e.0).collect()
    } else {
        picked(g.envs, &DST_ENVS).iter().map(|e| e.0).collect()
    };
    let machines: Vec<&str> = picked(g.machines, &TARGETS)
        .iter()
        .map(|t| if source { t.1 } else { t.2 })
        .collect();
    let roles = picked(g.roles, &ROLES);
    let mut scope = serde_json::Map::new();
    if !envs.is_empty() {
        scope.insert("Environment".into(), json!(envs));
    }
    if !roles.is_empty() {
        scope.insert("Role".into(), json!(roles));
    }
    if !machines.is_empty() {
        scope.insert("Machine".into(), json!(machines));
    }
    let (value, kind) = if g.secret {
        (Value::Null, "Sensitive")
    } else {
        (json!(TEXTS[g.text]), "String")
    };
    json!({"Id": id, "Name": NAMES[g.name], "Value": value, "Type": kind, "Scope": scope})
}

fn machines(source: bool) -> Value {
    let envs = if source { &SRC_ENVS[..] } else { &DST_ENVS[..] };
    Value::Array(
        TARGETS
            .iter()
            .map(|t| {
                let env = envs.iter().find(|e| e.1 == t.3).unwrap().0;
                json!({"Id": if source { t.1 } else { t.2 }, "Name": t.0,
                       "EnvironmentIds": [env], "Roles": t.4})
            })
            .collect(),
    )
}

fn env_json(envs: &[(&str, &str)]) -> Value {
    Value::Array(
        envs.iter()
            .map(|(id, name)| json!({"Id": id, "Name": name}))
            .collect(),
    )
}

fn source_snapshot(vars: &[Gen]) -> Snapshot {
    let vars: Vec<Value> = vars
        .iter()
        .enumerate()
        .map(|(i, g)| to_json(g, format!("s-{i}"), true))
        .collect();
    snapshot(join(vec![
        builtins(1),
        vec![
            ("environments", env_json(&SRC_ENVS)),
            ("machines", machines(true)),
        ],
        source_project(json!([]), Value::Array(vars)),
    ]))
}

fn destination_snapshot(vars: &[Gen]) -> Snapshot {
    let vars: Vec<Value> = vars
        .iter()
        .enumerate()
        .map(|(i, g)| to_json(g, format!("d-{i}"), false))
        .collect();
    snapshot(join(vec![
        builtins(71),
        vec![
            ("environments", env_json(&DST_ENVS)),
            ("machines", machines(false)),
        ],
        destination_project(json!([]), Value::Array(vars)),
    ]))
}

/// Every destination context: each environment with no target, each of its targets,
/// and a target of each role.
fn contexts() -> Vec<DeploymentContext> {
    let mut out = Vec::new();
    for (env, name) in DST_ENVS {
        let base = DeploymentContext::in_environment(env);
        out.push(base.clone());
        for t in TARGETS.iter().filter(|t| t.3 == name) {
            out.push(DeploymentContext {
                machine: Some(t.2.into()),
                roles: t.4.iter().map(|r| r.to_string()).collect(),
                ..base.clone()
            });
        }
        for role in ROLES {
            out.push(DeploymentContext {
                machine: Some(format!("another {role} target")),
                roles: vec![role.into()],
                ..base.clone()
            });
        }
    }
    out
}

/// A source value as the destination would have it under the default
/// `skip-unless-partial-match` modes, or `None` when it is not synced.
fn translated(g: &Gen) -> Option<Variable> {
    if g.envs == 1 {
        return None; // Only Development, which the destination lacks.
    }
    let mut t = g.clone();
    t.envs = g.envs >> 1;
    serde_json::from_value(to_json(&t, "t".into(), false)).ok()
}

fn scope_key(v: &Variable) -> BTreeSet<(String, String)> {
    v.scope
        .iter()
        .flat_map(|(f, vals)| {
            vals.iter()
                .map(move |x| (f.as_str().to_owned(), x.to_lowercase()))
        })
        .collect()
}

fn same_shown(a: &Variable, b: &Variable) -> bool {
    if a.is_secret() || b.is_secret() {
        a.is_secret() && b.is_secret() && a.id == b.id
    } else {
        a.value == b.value
    }
}

fn applies(v: &Variable, c: &DeploymentContext) -> bool {
    variable_specificity(v, c).is_some()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, .. ProptestConfig::default() })]

    #[test]
    fn what_destination_contexts_resolve_to_follows_the_merge_promises(
        source_vars in prop::collection::vec(gen_value(), 0..7),
        dest_vars in prop::collection::vec(gen_value(), 0..7),
        overwrite in prop_oneof![Just("never"), Just("always"), Just("add-new-with-placeholder")],
        additional in any::<bool>(),
    ) {
        let source = source_snapshot(&source_vars);
        let destination = destination_snapshot(&dest_vars);
        let rules = rules(&format!(
            "[select]\nprojects = [\"OctoFX\"]\n[policy]\noverwrite_existing_variables = \"{overwrite}\"\n\
             add_additional_variable_values_on_existing_variable_sets = {additional}\n"
        ));
        // Idempotence is checked inside: a second plan after the apply changes nothing.
        let (plan, after) = plan_apply_replan(&source, &destination, &rules);
        prop_assert!(plan.cleanup.iter().all(|c| c.category != CleanupCategory::WidenedScope));
        let before: Vec<Variable> = destination.variable_sets[0].variables.iter().cloned().collect();
        let after: Vec<Variable> = after
            .variable_sets
            .iter()
            .find(|s| s.owner_id.as_str() == "Projects-71")
            .unwrap()
            .variables
            .iter()
            .cloned()
            .collect();
        let translated: Vec<Variable> = source_vars.iter().filter_map(translated).collect();

        // Nothing of the destination's is removed, and none of its values applies
        // anywhere it did not apply before.
        for b in &before {
            let a = after.iter().find(|a| a.id == b.id);
            prop_assert!(a.is_some(), "{:?} was removed\n{plan}", b.id);
            let a = a.unwrap();
            for c in contexts() {
                prop_assert!(!applies(a, &c) || applies(b, &c),
                    "{:?} now applies to {c:?}\n{plan}", b.id);
            }
        }

        for name in NAMES {
            let of = |vs: &[Variable]| -> Vec<Variable> { vs.iter().filter(|v| v.name == name).cloned().collect() };
            let (b_vals, a_vals, s_vals) = (of(&before), of(&after), of(&translated));
            for c in contexts() {
                let was = resolve(&b_vals, &c);
                let now = resolve(&a_vals, &c);
                // No context resolves a plain value (or nothing) where it resolved a secret.
                if let Resolution::Value(v) = &was {
                    if v.is_secret() {
                        prop_assert!(matches!(&now, Resolution::Value(n) if n.is_secret()),
                            "{name} in {c:?}: secret {:?} became {now:?}\n{plan}", v.id);
                    }
                }
                // No context gains an ambiguity the source does not have.
                if !was.is_ambiguous() && !resolve(&s_vals, &c).is_ambiguous() {
                    prop_assert!(!now.is_ambiguous(), "{name} in {c:?} became ambiguous: {now:?}\n{plan}");
                }
                // Under never, a context that resolved a destination value whose scope the
                // source also has still resolves that value.
                if overwrite != "always" {
                    if let Resolution::Value(d) = &was {
                        let partner = s_vals.iter().any(|s| scope_key(s) == scope_key(d));
                        if partner {
                            prop_assert!(matches!(&now, Resolution::Value(n) if same_shown(n, d)),
                                "{name} in {c:?}: {:?} ({:?}) became {now:?}\n{plan}", d.id, d.value);
                        }
                    }
                }
            }
        }
        let op = plan.find(sync_core::ResourceKind::VariableSet, "OctoFX").unwrap();
        prop_assert!(op.action() != OpAction::Skip);
        // The review covers every name whose values changed.
        for name in NAMES {
            let changed = before.iter().filter(|v| v.name == name).count()
                != after.iter().filter(|v| v.name == name).count()
                || before.iter().filter(|v| v.name == name).zip(after.iter().filter(|v| v.name == name)).any(|(b, a)| b != a);
            prop_assert_eq!(changed, op.variables().iter().any(|r| r.name == name), "{}\n{}", name, plan);
        }
    }
}
