//! Rows 8–15 of the decision table: source values with no partner on the destination.

use std::collections::{BTreeMap, BTreeSet};

use octopus_model::{name_key, Field, ScopeField, Variable, VariableType};

use super::translate::{scope_of, scopes_equal, ScopeMap};
use super::{labels, Consider, Merge};
use crate::plan::CleanupCategory;
use crate::planner::variable_contexts::{contexts, LabeledContext};
use crate::resolve::{resolve, same_value, variable_specificity, Resolution};
use crate::rules::{OverwriteVariables, PlaceholderValues};

impl Merge<'_> {
    /// Rows 8–15: source values with no partner. A value refused because of what else
    /// was there is considered again once others are added, until nothing more is, so
    /// the outcome does not depend on the order of the source's values (and a second
    /// plan after the apply agrees with the first).
    pub(super) fn add(
        &mut self,
        policy: &crate::rules::Policy,
        overwrite: bool,
        force_overwrite: bool,
        none: &BTreeSet<ScopeField>,
    ) -> Vec<(CleanupCategory, String)> {
        let mut notes_out = Vec::new();
        let mut open: Vec<usize> = (0..self.incoming.len())
            .filter(|&t| !self.is_paired(t))
            .collect();
        let mut refused: BTreeMap<usize, (CleanupCategory, String)> = BTreeMap::new();
        loop {
            let mut progress = false;
            let mut still = Vec::new();
            for t in open {
                match self.consider(t, policy, overwrite, force_overwrite, none) {
                    Consider::Add(new, notes) => {
                        refused.remove(&t);
                        notes_out.extend(notes);
                        self.added.push((*new, t));
                        progress = true;
                    }
                    Consider::Skip(None) => {
                        refused.remove(&t);
                    }
                    Consider::Skip(Some(note)) => {
                        refused.insert(t, note);
                        still.push(t);
                    }
                }
            }
            open = still;
            if !progress || open.is_empty() {
                break;
            }
        }
        notes_out.extend(refused.into_values());
        // Source order, whatever round added them.
        self.added.sort_by_key(|(_, t)| *t);
        notes_out
    }

    /// Whether the incoming value `t` is added now, with the value and notes to add, or
    /// not, with the reason (`None` when it collapses into an identical value).
    pub(super) fn consider(
        &self,
        t: usize,
        policy: &crate::rules::Policy,
        overwrite: bool,
        force_overwrite: bool,
        none: &BTreeSet<ScopeField>,
    ) -> Consider {
        let inc = &self.incoming[t];
        let name = &inc.var.name;
        let scope_text = self.dest_side.describe(&inc.scope);
        let what = format!("{name:?} ({scope_text})");
        let dest_values = self.dest_of(name);
        if !dest_values.is_empty()
            && !policy.add_additional_variable_values_on_existing_variable_sets
        {
            return Consider::Skip(Some((CleanupCategory::Skipped, format!(
                "an additional value of {name:?} was not added (add_additional_variable_values_on_existing_variable_sets is off)"))));
        }
        if !inc.secret && dest_values.iter().any(|&d| self.dest[d].is_secret()) {
            return Consider::Skip(Some((CleanupCategory::Skipped, format!(
                "a plain value of {what} was not added: the destination keeps {name:?} as a secret, and a plain value beside it would compete with it at deploy time"))));
        }
        let mut new = inc.var.clone();
        let mut new_notes: Vec<(CleanupCategory, String)> = Vec::new();
        if inc.secret {
            new.value = Field::Null;
            new_notes.push((
                CleanupCategory::DummySecret,
                format!("new sensitive variable {name:?} set to a dummy value; enter the real one"),
            ));
        } else if policy.overwrite_existing_variables == OverwriteVariables::AddNewWithPlaceholder
            && !force_overwrite
            && (policy.placeholder_values == PlaceholderValues::AllNew || inc.widened)
        {
            let is_text = matches!(new.r#type.get(), None | Some(VariableType::String));
            new.value = Field::Value(if is_text {
                policy.placeholder_value.clone()
            } else {
                String::new()
            });
            new_notes.push((
                CleanupCategory::Placeholder,
                format!("new variable {name:?} added with a placeholder value; set the real one"),
            ));
        }
        let current = self.current(name);
        let identical = current.iter().any(|(v, _, _)| {
            scopes_equal(&scope_of(v), &inc.scope, none)
                && v.value == new.value
                && v.r#type == new.r#type
                && v.is_secret() == inc.secret
        });
        if identical {
            // Collapsed into the value already there: its notes stand for both.
            return Consider::Skip(None);
        }
        // The scopes are read in place: contexts pass over fields with no values.
        let mut refs: Vec<&ScopeMap> = current.iter().map(|(v, _, _)| &*v.scope).collect();
        refs.extend(self.incoming_scopes(&name_key(name)));
        let universe = contexts(self.dest_side, &refs);
        let applies: Vec<(&LabeledContext, crate::resolve::Specificity)> = universe
            .iter()
            .filter_map(|c| variable_specificity(&new, &c.context).map(|s| (c, s)))
            .collect();
        let where_ = |set: &[&LabeledContext]| labels(set);
        if inc.secret && !applies.is_empty() {
            let covered = applies.iter().all(|(c, _)| {
                current.iter().any(|(v, _, own)| {
                    *own && v.is_secret() && variable_specificity(v, &c.context).is_some()
                })
            });
            if covered {
                let at: Vec<&LabeledContext> = applies.iter().map(|(c, _)| *c).collect();
                return Consider::Skip(Some((CleanupCategory::Skipped, format!(
                    "secret {what} was not added: the destination's own secrets of that name already apply in {}; a dummy beside them would compete with them", where_(&at)))));
            }
        }
        if !applies.is_empty() {
            let shadowed = applies.iter().all(|(c, s)| {
                current.iter().any(|(v, _, own)| {
                    *own && variable_specificity(v, &c.context).is_some_and(|vs| vs > *s)
                })
            });
            if shadowed {
                let at: Vec<&LabeledContext> = applies.iter().map(|(c, _)| *c).collect();
                return Consider::Skip(Some((CleanupCategory::Skipped, format!(
                    "{what} was not added: every destination context it would apply to ({}) resolves a more specific destination value, so no deployment would use it", where_(&at)))));
            }
        }
        // A context where a destination secret resolves keeps it, whatever the policy: a
        // more specific new value (a dummy secret or plain text) would replace it there.
        {
            let original: Vec<&Variable> = dest_values.iter().map(|&d| &self.dest[d]).collect();
            let taken: Vec<&LabeledContext> = applies
                .iter()
                .filter(|(c, s)| {
                    matches!(resolve(original.iter().copied(), &c.context),
                        Resolution::Value(p) if p.is_secret()
                            && variable_specificity(p, &c.context).is_some_and(|ps| *s >= ps))
                })
                .map(|(c, _)| *c)
                .collect();
            if !taken.is_empty() {
                return Consider::Skip(Some((CleanupCategory::Skipped, format!(
                    "{what} was not added: in {} it would take the place of the destination's own secret",
                    labels(&taken)))));
            }
        }
        if !overwrite {
            // A destination value the source also has (same scope) keeps every
            // context it resolves: a more specific new value would overwrite it there.
            let mut taken: Vec<(&LabeledContext, String)> = Vec::new();
            let original: Vec<&Variable> = dest_values.iter().map(|&d| &self.dest[d]).collect();
            for (c, s) in &applies {
                // The value the destination resolved here before the merge.
                let Resolution::Value(p) = resolve(original.iter().copied(), &c.context) else {
                    continue;
                };
                let Some(d) = dest_values
                    .iter()
                    .copied()
                    .find(|&d| std::ptr::eq(&self.dest[d], p))
                else {
                    continue;
                };
                let kept = &self.desired[d];
                let ps = variable_specificity(kept, &c.context);
                if self.exact[d] && ps.is_some_and(|ps| *s >= ps) && !same_value(kept, &new) {
                    taken.push((c, self.dest_side.describe(&scope_of(kept))));
                }
            }
            if !taken.is_empty() {
                let at: Vec<&LabeledContext> = taken.iter().map(|(c, _)| *c).collect();
                let from: BTreeSet<&str> = taken.iter().map(|(_, s)| s.as_str()).collect();
                return Consider::Skip(Some((CleanupCategory::Skipped, format!(
                    "{what} was not added: in {} it would take the place of the destination's own value scoped {}, which the source also has; overwrite_existing_variables keeps the destination's values",
                    labels(&at), from.into_iter().collect::<Vec<_>>().join(" / ")))));
            }
        }
        let mut ties: Vec<(&LabeledContext, &Variable, Option<usize>)> = Vec::new();
        for (c, s) in &applies {
            let top = current
                .iter()
                .filter_map(|(v, _, _)| variable_specificity(v, &c.context))
                .max();
            if top.is_some_and(|top| top > *s) {
                continue;
            }
            for (v, o, _) in &current {
                if variable_specificity(v, &c.context) == Some(*s) && !same_value(v, &new) {
                    ties.push((c, v, *o));
                }
            }
        }
        if !ties.is_empty() {
            let at: Vec<&LabeledContext> = ties.iter().map(|(c, _, _)| *c).collect();
            let others: BTreeSet<String> = ties
                .iter()
                .map(|(_, v, _)| self.dest_side.describe(&scope_of(v)))
                .collect();
            let others: Vec<String> = others.into_iter().collect();
            // A secret and a plain value never tie on purpose, even where the source has
            // that tie.
            let carried = ties.iter().all(|(c, v, o)| {
                v.is_secret() == inc.secret
                    && o.is_some_and(|o| o != t && self.source_ties(t, o, &c.context))
            });
            if inc.widened {
                new_notes.push((CleanupCategory::WidenedScope, format!(
                    "{name:?}: the value widened by the [scoping] rule ties in {} with the value scoped {}; Octopus's pick between them is not defined: edit them on the destination", where_(&at), others.join(" / "))));
            } else if !carried {
                return Consider::Skip(Some((CleanupCategory::Skipped, format!(
                    "{what} was not added: in {} it would tie with the value scoped {}, and Octopus's pick between two equally specific values is not defined", where_(&at), others.join(" / ")))));
            }
        }
        Consider::Add(Box::new(new), new_notes)
    }
}
