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
//! | 5 | secret, same scope | plain | the plain value is kept; a `Skipped` entry says to make it sensitive by hand | |
//! | 6 | no exact partner, same value, **narrower** scope | a value with a wider scope | the destination's value takes the source's scope; a `NarrowedScope` entry | `ConnectionString` unscoped → `[Role SQL-Server]` (the seed's recurring sync) |
//! | 7 | no partner, same value, other or wider scope | | never moved or widened by value: the source value is considered for adding (rows 8–13) | `Banner = off [Staging]` vs destination `off [Production]`: `[Production]` stays, `[Staging]` is added |
//! | 8 | no partner | | added (a new secret gets a dummy and a `DummySecret` entry; under `add-new-with-placeholder` a new text value gets the placeholder) | `ConnectionString = Data Source=… [Role Oracle]` |
//! | 9 | no partner | values of the name exist and `add_additional_variable_values_on_existing_variable_sets` is off | not added; `Skipped` | |
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

use std::collections::{BTreeMap, BTreeSet};

use octopus_model::{name_key, Field, Lenient, ResourceKind, ScopeField, Variable, VariableType};

use super::common::{apply_decision, translate_list, translate_tags};
use super::process::ProcessOwnerIds;
use super::variable_contexts::{contexts, pending_name, LabeledContext, Side};
use crate::context::{Ctx, Resolved};
use crate::plan::{CleanupCategory, ContextResolution, ItemRef, ResolvedValue, VariableReview};
use crate::resolve::{resolve, same_value, variable_specificity, DeploymentContext, Resolution};
use crate::rules::{OverwriteVariables, PlaceholderValues, ScopeMode};

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
}

type ScopeMap = BTreeMap<ScopeField, Vec<String>>;

fn scope_of(v: &Variable) -> ScopeMap {
    v.scope
        .iter()
        .filter(|(_, vals)| !vals.is_empty())
        .map(|(k, vals)| (k.clone(), vals.clone()))
        .collect()
}

fn same_values(a: &[String], b: &[String]) -> bool {
    let a: BTreeSet<String> = a.iter().map(|s| s.to_lowercase()).collect();
    let b: BTreeSet<String> = b.iter().map(|s| s.to_lowercase()).collect();
    a == b
}

fn scopes_equal(a: &ScopeMap, b: &ScopeMap, ignored: &BTreeSet<ScopeField>) -> bool {
    let fields: BTreeSet<&ScopeField> = a.keys().chain(b.keys()).collect();
    fields.into_iter().all(|f| {
        ignored.contains(f)
            || same_values(
                a.get(f).map(Vec::as_slice).unwrap_or(&[]),
                b.get(f).map(Vec::as_slice).unwrap_or(&[]),
            )
    })
}

fn mode_for(ctx: &Ctx<'_>, field: &ScopeField) -> Option<ScopeMode> {
    let s = &ctx.rules.scoping;
    Some(match field {
        ScopeField::Environment => s.variable_environments,
        ScopeField::Channel => s.variable_channels,
        ScopeField::ProcessOwner => s.variable_process_owners,
        ScopeField::Action => s.variable_actions,
        ScopeField::Machine => s.variable_machines,
        ScopeField::TenantTag => s.variable_tenant_tags,
        _ => return None,
    })
}

/// The fields whose differences count as "the same" on existing values.
fn leave_alone_fields(ctx: &Ctx<'_>) -> BTreeSet<ScopeField> {
    [
        ScopeField::Environment,
        ScopeField::Channel,
        ScopeField::ProcessOwner,
        ScopeField::Action,
        ScopeField::Machine,
        ScopeField::TenantTag,
    ]
    .into_iter()
    .filter(|f| mode_for(ctx, f) == Some(ScopeMode::IgnoreMismatchOnNewLeaveExistingAlone))
    .collect()
}

fn translate_scope(
    ctx: &mut Ctx<'_>,
    item: &ItemRef,
    owner: &VariableOwner<'_>,
    var: &Variable,
) -> Result<ScopeMap, String> {
    let mut out = ScopeMap::new();
    for (field, values) in var.scope.iter() {
        if values.is_empty() {
            continue;
        }
        let what = format!(
            "value of {:?} scoped to {}",
            var.name,
            field.as_str().to_lowercase()
        );
        let mode = mode_for(ctx, field).unwrap_or(ScopeMode::SkipUnlessExactMatch);
        let translated = match field {
            ScopeField::Role => values.clone(),
            ScopeField::Environment => {
                translate_list(ctx, item, ResourceKind::Environment, mode, &what, values)?
            }
            ScopeField::Machine => {
                translate_list(ctx, item, ResourceKind::Machine, mode, &what, values)?
            }
            ScopeField::TenantTag => translate_tags(ctx, item, mode, &what, values)?,
            ScopeField::Channel | ScopeField::ProcessOwner | ScopeField::Action => {
                let Some(project) = owner.project else {
                    return Err(format!(
                        "{what}: only project variables can have this scope"
                    ));
                };
                let mut resolved = Vec::new();
                for v in values {
                    resolved.push(match field {
                        ScopeField::Channel => {
                            ctx.resolve_channel(v, project, owner.dest_project.as_deref())
                        }
                        ScopeField::Action => {
                            ctx.resolve_action(v, &owner.actions.source, &owner.actions.dest)
                        }
                        _ if v.to_ascii_lowercase().starts_with("runbooks-") => {
                            ctx.resolve_runbook(v, project, owner.dest_project.as_deref())
                        }
                        _ => ctx.resolve(ResourceKind::Project, v),
                    });
                }
                apply_decision(ctx, item, mode, &what, resolved)?
            }
            other => {
                ctx.clean(
                    CleanupCategory::Reference,
                    item,
                    format!(
                        "value of {:?}: scope {} is server-internal and was copied as is",
                        var.name,
                        other.as_str()
                    ),
                );
                values.clone()
            }
        };
        if !translated.is_empty() {
            out.insert(field.clone(), translated);
        }
    }
    Ok(out)
}

/// Translates a typed value; `Ok(None)` means "skip the value".
fn translate_value(
    ctx: &mut Ctx<'_>,
    item: &ItemRef,
    var: &Variable,
) -> Result<Field<String>, String> {
    let Some(kind) = var.r#type.get().and_then(|t| t.referenced_kind()) else {
        return Ok(var.value.clone());
    };
    let Some(value) = var
        .value
        .get()
        .filter(|v| !v.trim().is_empty() && !v.contains("#{"))
    else {
        return Ok(var.value.clone());
    };
    let s = &ctx.rules.scoping;
    let mode = match kind {
        ResourceKind::Account => s.variable_accounts,
        ResourceKind::Certificate => s.variable_certificates,
        _ => s.variable_worker_pools,
    };
    let (name, r) = ctx.resolve(kind, value);
    match r {
        Resolved::Missing(reason) => {
            let reason = format!("value of {:?} names {kind} {name:?}: {reason}", var.name);
            match mode {
                ScopeMode::ErrorUnlessExactMatch => {
                    ctx.fail(item, reason.clone());
                    Err(reason)
                }
                ScopeMode::IgnoreMismatch => {
                    ctx.clean(
                        CleanupCategory::Placeholder,
                        item,
                        format!(
                            "{reason}; added with an empty value, choose one on the destination"
                        ),
                    );
                    Ok(Field::Value(String::new()))
                }
                _ => Err(reason),
            }
        }
        other => Ok(Field::Value(other.text().unwrap_or_default())),
    }
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

/// A value as a reviewer sees it: secrets by kind only, typed values (accounts,
/// certificates, worker pools) by the name of what they name; `added` holds the values
/// this plan adds.
fn shown(v: &Variable, added: &[&Variable], side: &Side<'_>) -> ResolvedValue {
    if v.is_secret() {
        return if added.iter().any(|a| std::ptr::eq(*a, v)) {
            ResolvedValue::DummySecret
        } else {
            ResolvedValue::Secret
        };
    }
    let text = v.value.get().cloned().unwrap_or_default();
    let kind = v.r#type.get().and_then(|t| t.referenced_kind());
    let value = match kind {
        Some(kind) => {
            let name = pending_name(&text)
                .or_else(|| side.index.by_id(kind, &text).map(|e| e.name.clone()));
            match name {
                Some(name) => format!("{} {name}", kind.label()),
                None => text,
            }
        }
        None => text,
    };
    ResolvedValue::Text { value }
}

fn shown_resolution(r: Resolution<'_>, added: &[&Variable], side: &Side<'_>) -> ResolvedValue {
    match r {
        Resolution::Unset => ResolvedValue::Unset,
        Resolution::Value(v) => shown(v, added, side),
        Resolution::Ambiguous(vs) => ResolvedValue::Ambiguous {
            values: vs.into_iter().map(|v| shown(v, added, side)).collect(),
        },
    }
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
    let merged = {
        let dest_side = Side {
            snapshot: ctx.dst,
            index: &ctx.di,
            actions: owner
                .actions
                .dest
                .iter()
                .map(|((_, action), id)| (id.to_lowercase(), action.clone()))
                .collect(),
        };
        let mut m = Merge {
            dest,
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
        (m.desired, m.added, review)
    };
    for (category, message) in notes {
        ctx.clean(category, item, message);
    }
    let (mut desired, added, review) = merged;
    let mut secret_slots = Vec::new();
    for (k, (var, _)) in added.iter().enumerate() {
        if var.is_secret() {
            secret_slots.push(format!("/Variables/{}/Value", dest.len() + k));
        }
    }
    desired.extend(added.into_iter().map(|(v, _)| v));
    MergedVariables {
        variables: desired,
        secret_slots,
        review,
    }
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
    fn is_paired(&self, t: usize) -> bool {
        self.origin.contains(&Some(t))
    }

    fn dest_of(&self, name: &str) -> Vec<usize> {
        let key = name_key(name);
        (0..self.dest.len())
            .filter(|&d| name_key(&self.dest[d].name) == key)
            .collect()
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
                let found = self.dest_of(&inc.var.name).into_iter().find(|&d| {
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

    /// An overwrite under `always` must not make two values of equal rank differ where
    /// they agreed (an ambiguity the destination did not have), unless the source has the
    /// same tie: such an overwrite is taken back.
    /// Checks the overwrites made under `always` against the merge's final state, so a
    /// decision does not depend on what was placed after it: an overwrite must not make
    /// two equally specific values differ where they agreed (an ambiguity the destination
    /// did not have), unless the source has the same tie there. Such an overwrite is
    /// taken back; whether any was.
    fn check_overwrites(&mut self) -> bool {
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
    fn with_and_without(
        &self,
        d: usize,
        base: Base,
    ) -> (Vec<Variable>, Vec<Variable>, Vec<LabeledContext>) {
        let key = name_key(&self.dest[d].name);
        let mut without = Vec::new();
        let mut with = Vec::new();
        for (i, v) in self.desired.iter().enumerate() {
            if name_key(&v.name) != key {
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
        for (v, _) in self.added.iter().filter(|(v, _)| name_key(&v.name) == key) {
            with.push(v.clone());
            if base == Base::OtherChangesKept {
                without.push(v.clone());
            }
        }
        let mut scopes: Vec<ScopeMap> = without.iter().chain(&with).map(scope_of).collect();
        scopes.extend(self.incoming_scopes(&key));
        let refs: Vec<&ScopeMap> = scopes.iter().collect();
        let universe = contexts(self.dest_side, &refs);
        (without, with, universe)
    }

    /// The translated scopes of the source's values of a name (by name key): the
    /// contexts the source tells apart must be told apart here too.
    fn incoming_scopes(&self, key: &str) -> Vec<ScopeMap> {
        self.incoming
            .iter()
            .filter(|i| name_key(&i.var.name) == key)
            .map(|i| i.scope.clone())
            .collect()
    }

    /// The position of `d` among the values of its name.
    fn position_in_name(&self, d: usize) -> usize {
        let key = name_key(&self.dest[d].name);
        self.desired[..d]
            .iter()
            .filter(|v| name_key(&v.name) == key)
            .count()
    }

    /// Whether the change to the destination value `d` takes a context from another
    /// value, or makes it compete there: some context that resolved another value without
    /// the change resolves something else with it.
    fn takes_a_context(&self, d: usize) -> bool {
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
    fn new_ambiguity(&self, d: usize, base: Base) -> (String, String) {
        let (without, with, universe) = self.with_and_without(d, base);
        let at_d = self.position_in_name(d);
        let key = name_key(&self.dest[d].name);
        let origins: Vec<Option<usize>> = self
            .desired
            .iter()
            .zip(&self.origin)
            .filter(|(v, _)| name_key(&v.name) == key)
            .map(|(_, o)| *o)
            .chain(
                self.added
                    .iter()
                    .filter(|(v, _)| name_key(&v.name) == key)
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
            for d in self.dest_of(&inc.var.name) {
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
            .filter(|(v, _)| name_key(&v.name) == key)
            .map(|(v, o)| (v, *o, true))
            .collect();
        out.extend(
            self.added
                .iter()
                .filter(|(v, _)| name_key(&v.name) == key)
                .map(|(v, t)| (v, Some(*t), false)),
        );
        out
    }

    /// Whether two incoming values tie in a context among the source's values of their
    /// name, as translated for the destination: an ambiguity the source has there, which
    /// is carried across rather than blocked.
    fn source_ties(&self, a: usize, b: usize, context: &DeploymentContext) -> bool {
        let key = name_key(&self.incoming[a].var.name);
        let values: Vec<&Variable> = self
            .incoming
            .iter()
            .filter(|i| name_key(&i.var.name) == key)
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

    /// Rows 8–15: source values with no partner. A value refused because of what else
    /// was there is considered again once others are added, until nothing more is, so
    /// the outcome does not depend on the order of the source's values (and a second
    /// plan after the apply agrees with the first).
    fn add(
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
    fn consider(
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
        let mut scopes: Vec<ScopeMap> = current.iter().map(|(v, _, _)| scope_of(v)).collect();
        scopes.extend(self.incoming_scopes(&name_key(name)));
        let refs: Vec<&ScopeMap> = scopes.iter().collect();
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

    /// What each destination context resolves every changed name to, before and after.
    fn review(&self) -> Vec<VariableReview> {
        let mut names: Vec<String> = Vec::new();
        let mut seen = BTreeSet::new();
        for v in self.dest.iter().chain(self.added.iter().map(|(v, _)| v)) {
            if seen.insert(name_key(&v.name)) {
                names.push(v.name.clone());
            }
        }
        let mut out = Vec::new();
        for name in names {
            let key = name_key(&name);
            let before: Vec<&Variable> = self
                .dest
                .iter()
                .filter(|v| name_key(&v.name) == key)
                .collect();
            let after: Vec<&Variable> = self
                .desired
                .iter()
                .chain(self.added.iter().map(|(v, _)| v))
                .filter(|v| name_key(&v.name) == key)
                .collect();
            let changed =
                before.len() != after.len() || before.iter().zip(&after).any(|(b, a)| b != a);
            if !changed {
                continue;
            }
            let scopes: Vec<ScopeMap> = before.iter().chain(&after).map(|v| scope_of(v)).collect();
            let refs: Vec<&ScopeMap> = scopes.iter().collect();
            let added: Vec<&Variable> = self.added.iter().map(|(v, _)| v).collect();
            let rows = contexts(self.dest_side, &refs)
                .into_iter()
                .map(|c| ContextResolution {
                    before: shown_resolution(
                        resolve(before.iter().copied(), &c.context),
                        &[],
                        self.dest_side,
                    ),
                    after: shown_resolution(
                        resolve(after.iter().copied(), &c.context),
                        &added,
                        self.dest_side,
                    ),
                    context: c.label,
                })
                .collect();
            out.push(VariableReview {
                name,
                contexts: rows,
            });
        }
        out
    }
}
