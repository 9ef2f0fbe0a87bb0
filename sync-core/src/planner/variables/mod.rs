//! Variables: the merge of a source variable set into a destination that has its own
//! values.
//!
//! The promise is about what each destination context *resolves to* (see
//! [`crate::resolve`]): nothing of the destination's moves to other environments, widens,
//! or gets a competitor unless the plan says so.
//!
//! Each source value is first translated: its scope field by field under the
//! `variable_*` modes of `[scoping]` (after `[environment_map]`; a field that fails its
//! mode skips the value, a field whose values are all dropped under `ignore-mismatch` is
//! a widening with a `WidenedScope` entry); a typed value (account, certificate, worker
//! pool) under the single-value modes. Then, per variable name (exact text comparison,
//! case-sensitive; scopes compared as sets of ids):
//!
//! | # | source value | destination | result | example |
//! |---|---|---|---|---|
//! | 1 | same scope, same value | — | unchanged | `Timeout = 30 [Staging]` on both |
//! | 2 | same scope, other value | plain | `never` and `add-new-with-placeholder` keep the destination's; `always` takes the source's | source `Timeout = 30 [Staging], 60 [Production]`, destination `60 [Staging], 30 [Production]`: under `never` nothing changes |
//! | 3 | same scope | secret on both | the destination's secret is kept, with its id | `Signing.Key [Production]` |
//! | 4 | plain, same scope | secret | the secret is kept; a `Skipped` entry | source `Smtp.Password = "dev-pw"`, destination secret |
//! | 5 | secret, same scope | plain | the plain value is kept; a `Skipped` entry says to make it sensitive by hand | source secret `Api.Key`, destination `Api.Key = "local-key"` |
//! | 6 | no exact partner, same value, **narrower** scope | a value with a wider scope | the destination's value takes the source's scope; a `NarrowedScope` entry | `ConnectionString` unscoped → `[Role SQL-Server]` (the seed's recurring sync) |
//! | 7 | no partner, same value, other or wider scope | | never moved or widened by value: the source value is considered for adding (rows 8–13) | `Banner = off [Staging]` vs destination `off [Production]`: `[Production]` stays, `[Staging]` is added |
//! | 8 | no partner | | added (a new secret gets a dummy and a `DummySecret` entry; under `add-new-with-placeholder` a new text value gets the placeholder) | `ConnectionString = Data Source=… [Role Oracle]` |
//! | 9 | no partner | values of the name exist and `add_additional_variable_values_on_existing_variable_sets` is off | not added; `Skipped` | source `Timeout = 45 [Production]`, destination only `Timeout = 60 [Staging]` |
//! | 10 | plain, no partner | the name is a secret there | not added; `Skipped`: a plain value beside a secret would compete with it | `Smtp.Password = "dev-pw"` unscoped vs a `[Production]` secret |
//! | 11 | secret, no partner | secrets that already apply in every context of its scope | not added; `Skipped` | source `Signing.Key [Staging, Production]`, destination secrets `[Staging]` and `[Production]` |
//! | 12 | no partner | every context it would apply to resolves a more specific destination value | not added (no deployment would use it); `Skipped` | source `Application.Database.Name` unscoped, destination values `[Staging]` and `[Production]` |
//! | 13 | no partner | a value of equal rank in some context, with another value | not added (Octopus's pick between them is not defined); `Skipped` — unless the source has the same tie (carried across) or the value was widened by an explicit rule (added, `WidenedScope` entry names the tie) source `X = a [Role web]`, destination `X = b [Role web, db]` |
//! | 14 | no partner (under `never` and `add-new-with-placeholder`) | a value paired by row 1–2 resolves some context it would apply to, as or less specifically | not added: the destination's value keeps that context; `Skipped` | source `Timeout = 30, 45 [Staging]`, destination `Timeout = 60`: Staging keeps 60 (under `always` it gets 45) |
//! | 15 | same scope, other value, under `always` | another value of equal rank and the same text | not overwritten when the two would then differ (an ambiguity the destination did not have, unless the source has it); `Skipped` | destination `Region = us-east [Staging]`, `us-east [Staging, Production]`, source `eu-west [Staging]` |
//!
//! Destination-only values are never removed, moved or rescoped. Sensitive values keep
//! their ids (the API reads a `null` value with a known id as "keep the secret").
//! A new value identical to one already there (name, value, type and scope) is collapsed.
//!
//! "Context" means a combination that exists on the destination (see
//! [`super::variable_contexts`]). A destination value never applies to a context it did
//! not apply to before: rows 6 only narrows, and nothing else changes a destination
//! value's scope. A change of resolution is shown per context in the plan (see
//! [`crate::plan::VariableReview`]).

mod add;
mod guards;
mod review;
mod translate;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use octopus_model::{name_key, same_name, Field, Lenient, NameKey, ScopeField, Variable};

use super::process::ProcessOwnerIds;
use super::variable_contexts::{LabeledContext, Side};
use crate::context::Ctx;
use crate::plan::{CleanupCategory, ItemRef, VariableReview};
use crate::provenance::{
    variable_digest, Lookup as RecordLookup, Provenance, PruneKind, RecordedVariable,
};
use crate::resolve::same_value;
use crate::rules::OverwriteVariables;
use translate::{
    leave_alone_fields, scope_of, scopes_equal, translate_scope, translate_value, ScopeMap,
};

/// What the variables of one set may refer to.
pub struct VariableOwner<'p> {
    /// The project's name, for project variable sets.
    pub project: Option<&'p str>,
    /// The destination project's id, if it exists.
    pub dest_project: Option<String>,
    /// Action ids of the project's processes, on both sides.
    pub actions: ProcessOwnerIds,
    /// Only sensitive values are synced (config-as-code projects keep the rest in git).
    pub only_sensitive: bool,
    /// Values are always overwritten (script module bodies).
    pub force_overwrite: bool,
}

/// The merged variables and where their dummy secrets go.
pub struct MergedVariables {
    /// The variables to save.
    pub variables: Vec<Variable>,
    /// JSON pointers (relative to the variable set) of dummy secrets.
    pub secret_slots: Vec<String>,
    /// Per changed name, what each destination context resolves to before and after.
    pub review: Vec<VariableReview>,
    /// Values deleted under `[policy] prune`, described for a reviewer.
    pub removed: Vec<String>,
}

/// One source value, translated for the destination.
struct Incoming {
    /// The value to add if it is added (no id, translated value and scope).
    var: Variable,
    /// The translated scope.
    scope: ScopeMap,
    secret: bool,
    /// Whether an explicit `ignore-mismatch` rule dropped a whole scope field.
    widened: bool,
}

/// Whether `new` applies to a subset of the contexts `old` applies to, judged by the
/// scopes alone: every field `old` constrains, `new` constrains to a subset.
fn narrower_or_equal(new: &ScopeMap, old: &ScopeMap) -> bool {
    old.iter()
        .filter(|(_, v)| !v.is_empty())
        .all(|(field, old_values)| {
            new.get(field).is_some_and(|new_values| {
                !new_values.is_empty()
                    && new_values
                        .iter()
                        .all(|n| old_values.iter().any(|o| o.eq_ignore_ascii_case(n)))
            })
        })
}

fn labels(contexts: &[&LabeledContext]) -> String {
    const SHOWN: usize = 6;
    let mut names: Vec<&str> = contexts.iter().map(|c| c.label.as_str()).collect();
    names.dedup();
    let more = names.len().saturating_sub(SHOWN);
    let mut text = names.into_iter().take(SHOWN).collect::<Vec<_>>().join(", ");
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}

/// Merges source variables into the destination's (see the module docs).
pub fn merge(
    ctx: &mut Ctx<'_>,
    item: &ItemRef,
    owner: &VariableOwner<'_>,
    source: &[Variable],
    dest: &[Variable],
) -> MergedVariables {
    let policy = ctx.rules.policy.clone();
    let overwrite =
        owner.force_overwrite || policy.overwrite_existing_variables == OverwriteVariables::Always;
    let leave = leave_alone_fields(ctx);
    let none = BTreeSet::new();

    // Translation needs the context mutably (it logs); it comes first.
    let mut incoming: Vec<Incoming> = Vec::new();
    for src in source {
        let secret = src.is_secret();
        if owner.only_sensitive && !secret {
            continue;
        }
        let widened_before = ctx.widened;
        let translated = translate_scope(ctx, item, owner, src)
            .and_then(|scope| translate_value(ctx, item, src).map(|value| (scope, value)));
        let (scope, value) = match translated {
            Ok(t) => t,
            Err(reason) => {
                ctx.clean(
                    CleanupCategory::Skipped,
                    item,
                    format!("{reason}; the value was not synced"),
                );
                continue;
            }
        };
        let mut var = src.clone();
        var.id = Field::Missing;
        var.value = value;
        var.scope = Lenient::present(scope.clone());
        incoming.push(Incoming {
            var,
            scope,
            secret,
            widened: ctx.widened > widened_before,
        });
    }

    let mut notes: Vec<(CleanupCategory, String)> = Vec::new();
    let record = ctx.prunes(PruneKind::Variables).flatten();
    let records = ctx.records_provenance();
    let mut synced: Vec<(String, RecordedVariable)> = Vec::new();
    let merged = {
        let dest_side = Side {
            snapshot: ctx.dest.snapshot,
            index: &ctx.dest.index,
            actions: owner
                .actions
                .dest
                .iter()
                .map(|((_, action), id)| (id.to_lowercase(), action.clone()))
                .collect(),
        };
        // Prune first: a value the source no longer has and an earlier sync wrote is
        // left out before anything is decided, so additions see the set as it will be.
        // Without a record nothing is pruned: the destination's values are read in place.
        let (kept, removed): (Cow<'_, [Variable]>, Vec<Variable>) = match record {
            Some(record) => {
                let (kept, removed) = prune(
                    dest, record, &incoming, &dest_side, &none, &leave, overwrite, &mut notes,
                );
                (Cow::Owned(kept), removed)
            }
            None => (Cow::Borrowed(dest), Vec::new()),
        };
        let dest: &[Variable] = &kept;
        let by_name = names_of(dest);
        let mut m = Merge {
            dest,
            removed: &removed,
            by_name,
            incoming: &incoming,
            dest_side: &dest_side,
            desired: dest.to_vec(),
            origin: vec![None; dest.len()],
            exact: vec![false; dest.len()],
            overwritten: Vec::new(),
            narrowed: Vec::new(),
            added: Vec::new(),
            notes: &mut notes,
        };
        m.pair(&none, &leave, overwrite);
        // Narrowing and additions see the overwrites; an overwrite that turns out to make
        // a tie with the final set is taken back, and they are decided again without it.
        let notes = loop {
            m.undo_narrowing();
            m.added.clear();
            let mut notes = m.narrow(&leave);
            notes.extend(m.add(&policy, overwrite, owner.force_overwrite, &none));
            if !m.check_overwrites() {
                break notes;
            }
        };
        m.notes.extend(notes);
        let review = m.review();
        if records {
            synced = m.synced(&item.name);
        }
        let removed: Vec<String> = removed
            .iter()
            .map(|v| {
                format!(
                    "variable {:?} ({})",
                    v.name,
                    dest_side.describe(&scope_of(v))
                )
            })
            .collect();
        (m.desired, m.added, review, kept.len(), removed)
    };
    ctx.synced.variables.extend(synced);
    for (category, message) in notes {
        ctx.clean(category, item, message);
    }
    let (mut desired, added, review, kept, removed) = merged;
    let mut secret_slots = Vec::new();
    for (k, (var, _)) in added.iter().enumerate() {
        if var.is_secret() {
            secret_slots.push(format!("/Variables/{}/Value", kept + k));
        }
    }
    desired.extend(added.into_iter().map(|(v, _)| v));
    MergedVariables {
        variables: desired,
        secret_slots,
        review,
        removed,
    }
}

/// Whether `name`'s [`name_key`] is `key`, without building it: the merge compares
/// every value's name with a key many times over.
fn has_key(name: &str, key: &str) -> bool {
    let name = name.trim();
    if name.is_ascii() {
        name.len() == key.len()
            && name
                .bytes()
                .zip(key.bytes())
                .all(|(n, k)| n.to_ascii_lowercase() == k)
    } else {
        name_key(name) == key
    }
}

/// The destination's value positions by name key, sorted by key (a sorted list rather
/// than a map: a lookup by a name of any lifetime needs no key built).
fn names_of(dest: &[Variable]) -> Vec<(NameKey<'_>, Vec<usize>)> {
    let mut by_name: BTreeMap<NameKey<'_>, Vec<usize>> = BTreeMap::new();
    for (d, v) in dest.iter().enumerate() {
        by_name.entry(NameKey::new(&v.name)).or_default().push(d);
    }
    by_name.into_iter().collect()
}

/// Splits the destination's values into those kept and those pruned: a value no source
/// value pairs with (rows 1–5), that the record names unchanged, and that is not a
/// secret. A recorded value changed since, or a recorded secret, stays with a note.
#[allow(clippy::too_many_arguments)]
fn prune(
    dest: &[Variable],
    record: &Provenance,
    incoming: &[Incoming],
    dest_side: &Side<'_>,
    none: &BTreeSet<ScopeField>,
    leave: &BTreeSet<ScopeField>,
    overwrite: bool,
    notes: &mut Vec<(CleanupCategory, String)>,
) -> (Vec<Variable>, Vec<Variable>) {
    // Pairing alone says which values the source still has; its notes are made again
    // by the real merge.
    let mut scratch = Vec::new();
    let mut probe = Merge {
        dest,
        removed: &[],
        by_name: names_of(dest),
        incoming,
        dest_side,
        desired: dest.to_vec(),
        origin: vec![None; dest.len()],
        exact: vec![false; dest.len()],
        overwritten: Vec::new(),
        narrowed: Vec::new(),
        added: Vec::new(),
        notes: &mut scratch,
    };
    probe.pair(none, leave, overwrite);
    let mut kept = Vec::new();
    let mut removed = Vec::new();
    for (d, var) in dest.iter().enumerate() {
        // Narrowing (row 6) can still pair a value the source gives a narrower scope:
        // such a value is the source's, not removed from it.
        let narrowable = incoming
            .iter()
            .any(|t| !t.secret && same_name(&t.var.name, &var.name) && same_value(var, &t.var));
        if probe.origin[d].is_some() || narrowable {
            kept.push(var.clone());
            continue;
        }
        let scope = dest_side.describe(&scope_of(var));
        match record.variable(var) {
            RecordLookup::Unchanged(_) if !var.is_secret() => removed.push(var.clone()),
            RecordLookup::Unchanged(_) => {
                notes.push((
                    CleanupCategory::Skipped,
                    format!(
                        "the secret {:?} ({scope}) is no longer on the source; secrets are never pruned (whether a person entered its value cannot be read back): delete it by hand if it is no longer needed",
                        var.name
                    ),
                ));
                kept.push(var.clone());
            }
            RecordLookup::ChangedSince(_) => {
                notes.push((
                    CleanupCategory::Skipped,
                    format!(
                        "{:?} ({scope}) is no longer on the source but was changed on the destination since an earlier sync wrote it, so it is not pruned: delete it by hand if it is no longer needed",
                        var.name
                    ),
                ));
                kept.push(var.clone());
            }
            RecordLookup::NotRecorded => kept.push(var.clone()),
        }
    }
    (kept, removed)
}

/// What a change to one destination value is judged against.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Base {
    /// The destination as it was before the merge.
    Original,
    /// The merge so far, with only that change undone.
    OtherChangesKept,
}

/// What [`Merge::consider`] decided about one incoming value.
enum Consider {
    /// Add this value, with these clean-up notes.
    Add(Box<Variable>, Vec<(CleanupCategory, String)>),
    /// Do not add it, for this reason (`None`: it is already there).
    Skip(Option<(CleanupCategory, String)>),
}

/// The state of one merge: the destination's values as they will be, what is added, and
/// the clean-up notes.
struct Merge<'m> {
    dest: &'m [Variable],
    /// Values pruned before the merge (the review shows them going).
    removed: &'m [Variable],
    /// The destination's values by name key, so a lookup does not scan the set.
    by_name: Vec<(NameKey<'m>, Vec<usize>)>,
    incoming: &'m [Incoming],
    dest_side: &'m Side<'m>,
    /// The destination's values, changed in place where the merge changes them.
    desired: Vec<Variable>,
    /// For each destination value, the incoming value it is paired with.
    origin: Vec<Option<usize>>,
    /// Destination values paired by exact scope (rows 1–5), not by narrowing.
    exact: Vec<bool>,
    /// Destination values whose text the source's overwrote.
    overwritten: Vec<usize>,
    /// Destination values that took a narrower scope (row 6).
    narrowed: Vec<usize>,
    /// Values to add, with the incoming value each comes from.
    added: Vec<(Variable, usize)>,
    notes: &'m mut Vec<(CleanupCategory, String)>,
}

impl Merge<'_> {
    /// The destination's values that match the source after the merge (paired with a
    /// source value of the same text, or both secrets), by id, for the record.
    fn synced(&self, owner: &str) -> Vec<(String, RecordedVariable)> {
        let mut out = Vec::new();
        for (d, origin) in self.origin.iter().enumerate() {
            let (Some(t), Some(id)) = (origin, self.dest[d].id.get()) else {
                continue;
            };
            let var = &self.desired[d];
            let inc = &self.incoming[*t];
            let matches = if var.is_secret() {
                inc.secret
            } else {
                !inc.secret && same_value(var, &inc.var)
            };
            if matches {
                out.push((
                    id.to_lowercase(),
                    RecordedVariable {
                        name: var.name.clone(),
                        owner: owner.to_owned(),
                        digest: variable_digest(var),
                    },
                ));
            }
        }
        out
    }

    fn is_paired(&self, t: usize) -> bool {
        self.origin.contains(&Some(t))
    }

    fn dest_of(&self, name: &str) -> &[usize] {
        let key = NameKey::new(name);
        match self.by_name.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(i) => &self.by_name[i].1,
            Err(_) => &[],
        }
    }

    /// Rows 1–5: pairs by exact translated scope, preferring equal values, then the same
    /// sensitivity, then any; then (fields under `ignore-mismatch-on-new-leave-existing-
    /// alone` counted as equal) the same sensitivity.
    fn pair(&mut self, none: &BTreeSet<ScopeField>, leave: &BTreeSet<ScopeField>, overwrite: bool) {
        type Test = fn(&Variable, &Incoming) -> bool;
        let rounds: [(bool, Test); 4] = [
            (false, |d, t| {
                (d.is_secret() && t.secret) || same_value(d, &t.var)
            }),
            (false, |d, t| d.is_secret() == t.secret),
            (false, |_, _| true),
            (true, |d, t| d.is_secret() == t.secret),
        ];
        for (lenient, test) in rounds {
            if lenient && leave.is_empty() {
                continue;
            }
            let ignored = if lenient { leave } else { none };
            for t in 0..self.incoming.len() {
                if self.is_paired(t) {
                    continue;
                }
                let inc = &self.incoming[t];
                let found = self.dest_of(&inc.var.name).iter().copied().find(|&d| {
                    self.origin[d].is_none()
                        && scopes_equal(&scope_of(&self.dest[d]), &inc.scope, ignored)
                        && test(&self.dest[d], inc)
                });
                if let Some(d) = found {
                    self.origin[d] = Some(t);
                    self.exact[d] = true;
                    self.settle_pair(d, t, overwrite);
                }
            }
        }
    }

    fn settle_pair(&mut self, d: usize, t: usize, overwrite: bool) {
        let inc = &self.incoming[t];
        let dv = &self.dest[d];
        let scope = self.dest_side.describe(&scope_of(dv));
        match (dv.is_secret(), inc.secret) {
            (true, true) => {}
            (false, false) => {
                if overwrite && !same_value(dv, &inc.var) {
                    // Checked once every value is placed (see `check_overwrites`).
                    self.desired[d].value = inc.var.value.clone();
                    self.desired[d].r#type = inc.var.r#type.clone();
                    self.overwritten.push(d);
                }
            }
            (true, false) => self.notes.push((
                CleanupCategory::Skipped,
                format!(
                    "{:?} ({scope}) is plain text on the source but a secret on the destination; the destination's secret was kept",
                    dv.name
                ),
            )),
            (false, true) => self.notes.push((
                CleanupCategory::Skipped,
                format!(
                    "{:?} ({scope}) is sensitive on the source but plain text on the destination; the destination's value was kept: make it sensitive there if it should be",
                    dv.name
                ),
            )),
        }
    }

    /// Row 6: a destination value with no partner takes the scope of a source value with
    /// the same text when that scope is narrower than its own.
    fn narrow(&mut self, leave: &BTreeSet<ScopeField>) -> Vec<(CleanupCategory, String)> {
        // One narrowing can make another possible (it frees a context): repeat until none
        // is left, so the outcome does not depend on the order of the source's values.
        let mut notes = Vec::new();
        while self.narrow_once(leave, &mut notes) {}
        notes
    }

    /// Undoes every narrowing, so they can be decided again.
    fn undo_narrowing(&mut self) {
        for d in std::mem::take(&mut self.narrowed) {
            self.desired[d].scope = self.dest[d].scope.clone();
            self.origin[d] = None;
        }
    }

    /// One pass of [`Merge::narrow`]; whether it narrowed anything.
    fn narrow_once(
        &mut self,
        leave: &BTreeSet<ScopeField>,
        notes: &mut Vec<(CleanupCategory, String)>,
    ) -> bool {
        let mut any = false;
        for t in 0..self.incoming.len() {
            let inc = &self.incoming[t];
            if self.is_paired(t) || inc.secret {
                continue;
            }
            let mut candidates = Vec::new();
            for &d in self.dest_of(&inc.var.name) {
                let dv = &self.dest[d];
                if self.origin[d].is_some() || !same_value(dv, &inc.var) {
                    continue;
                }
                let old = scope_of(dv);
                let mut new = inc.scope.clone();
                for field in leave {
                    new.remove(field);
                    if let Some(v) = old.get(field) {
                        new.insert(field.clone(), v.clone());
                    }
                }
                if narrower_or_equal(&new, &old) && !scopes_equal(&new, &old, &BTreeSet::new()) {
                    candidates.push((d, old, new));
                }
            }
            for (d, old, new) in candidates {
                self.desired[d].scope = Lenient::present(new.clone());
                self.origin[d] = Some(t);
                if !self.new_ambiguity(d, Base::OtherChangesKept).0.is_empty()
                    || self.takes_a_context(d)
                {
                    // Narrowed, it would tie with another value, or outrank one where it
                    // did not before: try the next, or consider the source value for adding.
                    self.desired[d].scope = self.dest[d].scope.clone();
                    self.origin[d] = None;
                    continue;
                }
                self.narrowed.push(d);
                notes.push((
                    CleanupCategory::NarrowedScope,
                    format!(
                        "the destination's value of {:?} ({}) now applies only to {}, the scope the source gives the same value; contexts outside it resolve another value or none (the plan lists them)",
                        self.dest[d].name,
                        self.dest_side.describe(&old),
                        self.dest_side.describe(&new)
                    ),
                ));
                any = true;
                break;
            }
        }
        any
    }

    /// The values of a name as they stand, with the incoming value each comes from
    /// (`None`: the destination's own) and whether it is the destination's.
    fn current(&self, name: &str) -> Vec<(&Variable, Option<usize>, bool)> {
        let key = name_key(name);
        let mut out: Vec<(&Variable, Option<usize>, bool)> = self
            .desired
            .iter()
            .zip(&self.origin)
            .filter(|(v, _)| has_key(&v.name, &key))
            .map(|(v, o)| (v, *o, true))
            .collect();
        out.extend(
            self.added
                .iter()
                .filter(|(v, _)| has_key(&v.name, &key))
                .map(|(v, t)| (v, Some(*t), false)),
        );
        out
    }
}
