//! The guards every change to a destination value passes: it never makes two equally
//! specific values differ where one value resolved (unless the source has that tie), and
//! a narrowed value never takes or contests a context another value resolves.

use std::collections::BTreeSet;

use octopus_model::{name_key, Variable};

use super::translate::{scope_of, ScopeMap};
use super::{has_key, labels, Base, Merge};
use crate::plan::CleanupCategory;
use crate::planner::variable_contexts::{contexts, LabeledContext};
use crate::resolve::{resolve, same_value, DeploymentContext, Resolution};

impl Merge<'_> {
    /// An overwrite under `always` must not make two values of equal rank differ where
    /// they agreed (an ambiguity the destination did not have), unless the source has the
    /// same tie: such an overwrite is taken back.
    /// Checks the overwrites made under `always` against the merge's final state, so a
    /// decision does not depend on what was placed after it: an overwrite must not make
    /// two equally specific values differ where they agreed (an ambiguity the destination
    /// did not have), unless the source has the same tie there. Such an overwrite is
    /// taken back; whether any was.
    pub(super) fn check_overwrites(&mut self) -> bool {
        let mut rejected_any = false;
        for d in self.overwritten.clone() {
            let (at, with) = self.new_ambiguity(d, Base::Original);
            if !at.is_empty() {
                let message = format!(
                    "the source's value of {:?} ({}) was not written over the destination's: in {at} it would differ from the equally specific value scoped {with}, and Octopus's pick between them is not defined",
                    self.dest[d].name,
                    self.dest_side.describe(&scope_of(&self.dest[d])),
                );
                self.desired[d].value = self.dest[d].value.clone();
                self.desired[d].r#type = self.dest[d].r#type.clone();
                self.overwritten.retain(|x| *x != d);
                self.notes.push((CleanupCategory::Skipped, message));
                rejected_any = true;
            }
        }
        rejected_any
    }

    /// The values of `d`'s name as the merge has them so far, with and without the
    /// change to `d` (every other change kept), and the contexts they can tell apart.
    /// With `Base::Original`, "without" is the destination as it was, every change
    /// undone.
    pub(super) fn with_and_without(
        &self,
        d: usize,
        base: Base,
    ) -> (Vec<Variable>, Vec<Variable>, Vec<LabeledContext>) {
        let key = name_key(&self.dest[d].name);
        let mut without = Vec::new();
        let mut with = Vec::new();
        for (i, v) in self.desired.iter().enumerate() {
            if !has_key(&v.name, &key) {
                continue;
            }
            with.push(v.clone());
            without.push(if i == d || base == Base::Original {
                self.dest[i].clone()
            } else {
                v.clone()
            });
        }
        // Values added so far count on both sides, except against the original.
        for (v, _) in self.added.iter().filter(|(v, _)| has_key(&v.name, &key)) {
            with.push(v.clone());
            if base == Base::OtherChangesKept {
                without.push(v.clone());
            }
        }
        // The scopes are read in place: contexts pass over fields with no values.
        let mut refs: Vec<&ScopeMap> = without.iter().chain(&with).map(|v| &*v.scope).collect();
        refs.extend(self.incoming_scopes(&key));
        let universe = contexts(self.dest_side, &refs);
        (without, with, universe)
    }

    /// The translated scopes of the source's values of a name (by name key): the
    /// contexts the source tells apart must be told apart here too.
    pub(super) fn incoming_scopes(&self, key: &str) -> Vec<&ScopeMap> {
        self.incoming
            .iter()
            .filter(|i| has_key(&i.var.name, key))
            .map(|i| &i.scope)
            .collect()
    }

    /// The position of `d` among the values of its name.
    pub(super) fn position_in_name(&self, d: usize) -> usize {
        let key = name_key(&self.dest[d].name);
        self.desired[..d]
            .iter()
            .filter(|v| has_key(&v.name, &key))
            .count()
    }

    /// Whether the change to the destination value `d` takes a context from another
    /// value, or makes it compete there: some context that resolved another value without
    /// the change resolves something else with it.
    pub(super) fn takes_a_context(&self, d: usize) -> bool {
        let (without, with, universe) = self.with_and_without(d, Base::OtherChangesKept);
        let at = self.position_in_name(d);
        universe.iter().any(|c| match resolve(&without, &c.context) {
            Resolution::Value(v) if !std::ptr::eq(v, &without[at]) => {
                let k = without.iter().position(|x| std::ptr::eq(x, v));
                !matches!(resolve(&with, &c.context), Resolution::Value(n) if k.is_some_and(|k| std::ptr::eq(n, &with[k])) || same_value(n, v))
            }
            _ => false,
        })
    }

    /// With the change to the destination value `d`: the contexts that resolved one value
    /// without it and now tie between differing values (a tie the source does not have
    /// there), and the scopes of the values tied there; empty texts when there are none.
    pub(super) fn new_ambiguity(&self, d: usize, base: Base) -> (String, String) {
        let (without, with, universe) = self.with_and_without(d, base);
        let at_d = self.position_in_name(d);
        let key = name_key(&self.dest[d].name);
        let origins: Vec<Option<usize>> = self
            .desired
            .iter()
            .zip(&self.origin)
            .filter(|(v, _)| has_key(&v.name, &key))
            .map(|(_, o)| *o)
            .chain(
                self.added
                    .iter()
                    .filter(|(v, _)| has_key(&v.name, &key))
                    .map(|(_, t)| Some(*t)),
            )
            .collect();
        let mut at: Vec<&LabeledContext> = Vec::new();
        let mut others: BTreeSet<String> = BTreeSet::new();
        for c in &universe {
            if resolve(&without, &c.context).is_ambiguous() {
                continue;
            }
            let Resolution::Ambiguous(tied) = resolve(&with, &c.context) else {
                continue;
            };
            let is_tied = |k: usize| tied.iter().any(|v| std::ptr::eq(*v, &with[k]));
            for i in 0..with.len() {
                for j in i + 1..with.len() {
                    if !is_tied(i) || !is_tied(j) || same_value(&with[i], &with[j]) {
                        continue;
                    }
                    // Against the original, only ties the change to `d` takes part in.
                    if base == Base::Original && i != at_d && j != at_d {
                        continue;
                    }
                    // A plain value never joins a secret, even where the source has that
                    // tie.
                    let carried = with[i].is_secret() == with[j].is_secret()
                        && match (origins[i], origins[j]) {
                            (Some(oa), Some(ob)) => {
                                oa != ob && self.source_ties(oa, ob, &c.context)
                            }
                            _ => false,
                        };
                    if !carried {
                        at.push(c);
                        others.insert(self.dest_side.describe(&scope_of(&with[i])));
                        others.insert(self.dest_side.describe(&scope_of(&with[j])));
                    }
                }
            }
        }
        if at.is_empty() {
            return (String::new(), String::new());
        }
        (
            labels(&at),
            others.into_iter().collect::<Vec<_>>().join(" / "),
        )
    }

    /// Whether two incoming values tie in a context among the source's values of their
    /// name, as translated for the destination: an ambiguity the source has there, which
    /// is carried across rather than blocked.
    pub(super) fn source_ties(&self, a: usize, b: usize, context: &DeploymentContext) -> bool {
        let key = name_key(&self.incoming[a].var.name);
        let values: Vec<&Variable> = self
            .incoming
            .iter()
            .filter(|i| has_key(&i.var.name, &key))
            .map(|i| &i.var)
            .collect();
        match resolve(values, context) {
            Resolution::Ambiguous(tied) => {
                tied.iter().any(|v| std::ptr::eq(*v, &self.incoming[a].var))
                    && tied.iter().any(|v| std::ptr::eq(*v, &self.incoming[b].var))
            }
            _ => false,
        }
    }
}
