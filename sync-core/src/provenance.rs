//! What on a destination follows the source: the record that lets a later plan prune
//! what the source removed without ever touching what the destination owns.
//!
//! A plan made with `[policy] prune` non-empty lists in [`Plan::synced`] every
//! destination step, runbook, channel and plain variable value that matches the source
//! at that moment (by destination id). After an apply, the runner records the `synced`
//! of the plan that confirmed the apply (the one made from the destination as the apply
//! left it) in its state, adding to what earlier applies recorded, and hands the record
//! back to the next plan as [`SyncRules::written`]. That plan deletes an item only when:
//!
//! - its kind is in `prune`,
//! - the record names its id, **with the name (for a variable, the name, value, type and
//!   scope) it has now** — a person's rename or edit since makes it theirs, and it stays
//!   with a note,
//! - the source (within the selection) has nothing it would match any more,
//! - and, for a variable, it is not a secret: a secret's value cannot be read back, so
//!   whether a person entered it cannot be told; it stays with a note to remove it by
//!   hand.
//!
//! A destination-only item was never matched, so the record never names it and it is
//! never pruned. Without a record (no state, or a state of another source), nothing is
//! pruned and the plan says why.
//!
//! [`Plan::synced`]: crate::Plan::synced
//! [`SyncRules::written`]: crate::SyncRules::written

use std::collections::BTreeMap;

use octopus_model::{Variable, VariableType};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// What a plan may delete under `[policy] prune`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PruneKind {
    /// Steps of deployment and runbook processes.
    Steps,
    /// Plain values of project and library variable sets.
    Variables,
    /// Runbooks of synced projects.
    Runbooks,
    /// Channels of synced projects (never a project's default channel).
    Channels,
}

impl PruneKind {
    /// Every kind, in the order the README lists them.
    pub const ALL: [PruneKind; 4] = [
        PruneKind::Steps,
        PruneKind::Variables,
        PruneKind::Runbooks,
        PruneKind::Channels,
    ];
}

/// A step, runbook or channel the record names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedItem {
    /// Its name when it last matched the source.
    pub name: String,
    /// Its project (for a runbook-process step, `project/runbook`).
    pub owner: String,
}

/// A plain variable value the record names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedVariable {
    /// The variable's name.
    pub name: String,
    /// The project or library variable set.
    pub owner: String,
    /// [`variable_digest`] of the value when it last matched the source.
    pub digest: String,
}

/// Destination items that matched the source, by destination id (lower case).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Provenance {
    /// Process steps.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub steps: BTreeMap<String, RecordedItem>,
    /// Runbooks.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub runbooks: BTreeMap<String, RecordedItem>,
    /// Channels.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub channels: BTreeMap<String, RecordedItem>,
    /// Plain variable values.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, RecordedVariable>,
}

impl Provenance {
    /// Whether it names nothing.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
            && self.runbooks.is_empty()
            && self.channels.is_empty()
            && self.variables.is_empty()
    }

    /// How many items it names.
    pub fn len(&self) -> usize {
        self.steps.len() + self.runbooks.len() + self.channels.len() + self.variables.len()
    }

    /// Adds `newer` to this record; an id both name takes `newer`'s entry (the item as
    /// it is now).
    pub fn extend(&mut self, newer: Provenance) {
        self.steps.extend(newer.steps);
        self.runbooks.extend(newer.runbooks);
        self.channels.extend(newer.channels);
        self.variables.extend(newer.variables);
    }

    /// Forgets the ids a plan deleted, so the record does not grow with items that are
    /// gone.
    pub fn forget<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) {
        for id in ids {
            let key = id.to_lowercase();
            self.steps.remove(&key);
            self.runbooks.remove(&key);
            self.channels.remove(&key);
            self.variables.remove(&key);
        }
    }

    /// The recorded step with this id, if the record names it with this name.
    pub(crate) fn step(&self, id: &str, name: &str) -> Lookup<'_, RecordedItem> {
        lookup(&self.steps, id, |r| octopus_model::same_name(&r.name, name))
    }

    /// The recorded runbook with this id and name.
    pub(crate) fn runbook(&self, id: &str, name: &str) -> Lookup<'_, RecordedItem> {
        lookup(&self.runbooks, id, |r| {
            octopus_model::same_name(&r.name, name)
        })
    }

    /// The recorded channel with this id and name.
    pub(crate) fn channel(&self, id: &str, name: &str) -> Lookup<'_, RecordedItem> {
        lookup(&self.channels, id, |r| {
            octopus_model::same_name(&r.name, name)
        })
    }

    /// The recorded variable value with this id, if its content is what was recorded.
    pub(crate) fn variable(&self, var: &Variable) -> Lookup<'_, RecordedVariable> {
        match var.id.get() {
            Some(id) => {
                let digest = variable_digest(var);
                lookup(&self.variables, id, |r| r.digest == digest)
            }
            None => Lookup::NotRecorded,
        }
    }
}

/// What the record says about one destination item.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup<'a, T> {
    /// Not named: the destination's own (or never matched).
    NotRecorded,
    /// Named, and unchanged since.
    Unchanged(&'a T),
    /// Named, but renamed or edited since it was recorded.
    ChangedSince(&'a T),
}

fn lookup<'a, T>(
    map: &'a BTreeMap<String, T>,
    id: &str,
    same: impl Fn(&T) -> bool,
) -> Lookup<'a, T> {
    match map.get(&id.to_lowercase()) {
        None => Lookup::NotRecorded,
        Some(r) if same(r) => Lookup::Unchanged(r),
        Some(r) => Lookup::ChangedSince(r),
    }
}

/// A digest of what a variable value is: its name, value, type, sensitivity and scope
/// (each scope field's ids sorted, compared without case). Ids, descriptions and prompts
/// are not part of it.
pub fn variable_digest(var: &Variable) -> String {
    let mut scope: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (field, ids) in var.scope.iter() {
        let mut ids: Vec<String> = ids.iter().map(|id| id.to_lowercase()).collect();
        if ids.is_empty() {
            continue;
        }
        ids.sort();
        scope.insert(field.as_str().to_owned(), ids);
    }
    let value: Value = json!({
        "Name": var.name,
        "Value": var.value.get(),
        // A server may fill in the default type; an absent one is plain text.
        "Type": var.r#type.get().cloned().unwrap_or(VariableType::String),
        "IsSensitive": var.is_secret(),
        "Scope": scope,
    });
    crate::base::digest_json(&value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(id: &str, value: &str, env: &[&str]) -> Variable {
        serde_json::from_value(json!({
            "Id": id, "Name": "Timeout", "Value": value,
            "Scope": {"Environment": env},
        }))
        .expect("a valid variable")
    }

    #[test]
    fn a_variable_is_recorded_with_what_it_is_not_where_it_sits() {
        let a = var("v-1", "30", &["Environments-2", "Environments-1"]);
        let b = var("V-1", "30", &["environments-1", "Environments-2"]);
        assert_eq!(variable_digest(&a), variable_digest(&b));
        assert_ne!(
            variable_digest(&a),
            variable_digest(&var("v-1", "31", &["Environments-1", "Environments-2"]))
        );
        assert_ne!(
            variable_digest(&a),
            variable_digest(&var("v-1", "30", &["Environments-1"]))
        );
        let mut record = Provenance::default();
        record.variables.insert(
            "v-1".into(),
            RecordedVariable {
                name: "Timeout".into(),
                owner: "OctoFX".into(),
                digest: variable_digest(&a),
            },
        );
        assert!(matches!(record.variable(&b), Lookup::Unchanged(_)));
        assert!(matches!(
            record.variable(&var("v-1", "99", &[])),
            Lookup::ChangedSince(_)
        ));
        assert_eq!(record.variable(&var("v-2", "30", &[])), Lookup::NotRecorded);
        record.forget(["V-1"]);
        assert!(record.is_empty());
    }

    #[test]
    fn a_renamed_step_is_changed_since_it_was_recorded() {
        let mut record = Provenance::default();
        record.steps.insert(
            "step-1".into(),
            RecordedItem {
                name: "Notify".into(),
                owner: "OctoFX".into(),
            },
        );
        assert!(matches!(
            record.step("Step-1", " notify "),
            Lookup::Unchanged(_)
        ));
        assert!(matches!(
            record.step("step-1", "Tell the team"),
            Lookup::ChangedSince(_)
        ));
        assert_eq!(record.step("step-2", "Notify"), Lookup::NotRecorded);
    }
}
