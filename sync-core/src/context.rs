//! The planning context: both snapshots, their indexes, the rules, what the plan creates
//! so far, and the translation of references from source ids to destination ids.

use std::collections::{BTreeMap, BTreeSet};

use octopus_model::{name_key, ResourceKind};
use serde_json::Value;

use crate::children::Children;
use crate::index::{Lookup, NameIndex};
use crate::ledger::ProcessKey;
use crate::plan::{
    CleanupCategory, CleanupEntry, ItemRef, LayerName, Op, OpAction, Pending, PendingRef,
};
use crate::provenance::{Provenance, PruneKind};
use crate::rules::{ScopeMode, SyncRules};
use crate::snapshot::Snapshot;

/// The name of the channel the server creates with a project.
pub const DEFAULT_CHANNEL: &str = octopus_model::owned::DEFAULT_CHANNEL;

/// A reference translated to the destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// The destination id.
    Id(String),
    /// An item created earlier in the plan, with its placeholder.
    Pending(Pending, String),
    /// Not translatable, with the reason.
    Missing(String),
}

impl Resolved {
    /// The text to put in a body: the id, or the pending placeholder.
    pub fn text(&self) -> Option<String> {
        match self {
            Resolved::Id(id) => Some(id.clone()),
            Resolved::Pending(_, placeholder) => Some(placeholder.clone()),
            Resolved::Missing(_) => None,
        }
    }
}

/// The decision about one translated list of references.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListDecision {
    /// Proceed with `values` (possibly fewer than the source had).
    Keep {
        /// The translated values.
        values: Vec<String>,
        /// Source names that were dropped.
        dropped: Vec<String>,
        /// Whether every value was dropped from a non-empty list (the item is now
        /// unscoped in this dimension).
        widened: bool,
    },
    /// Skip the item.
    Skip(String),
    /// Stop the plan.
    Error(String),
}

/// An error a rule in an `error-*` mode raised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeError {
    /// The item.
    pub item: ItemRef,
    /// Why.
    pub reason: String,
}

/// One instance as the planners see it: its snapshot, its documents by name and id,
/// and its per-owner documents (a project's channels, runbooks, process, variables).
pub struct Side<'a> {
    /// What was read.
    pub snapshot: &'a Snapshot,
    /// Documents by kind and name, and by id.
    pub index: NameIndex,
    /// Documents by owner.
    pub children: Children<'a>,
}

impl<'a> Side<'a> {
    fn of(snapshot: &'a Snapshot) -> Self {
        Side {
            snapshot,
            index: NameIndex::build(snapshot),
            children: Children::build(snapshot),
        }
    }
}

/// What the planners share.
pub struct Ctx<'a> {
    /// The source of truth.
    pub source: Side<'a>,
    /// The destination being planned.
    pub dest: Side<'a>,
    /// The rules.
    pub rules: &'a SyncRules,
    /// Items created so far in the plan, by (kind, owner key, name key) -> display name.
    creates: BTreeMap<(ResourceKind, String, String), ItemRef>,
    /// Actions that processes saved in this plan will have but that have no id yet, by
    /// (process key, action name key).
    new_actions: BTreeSet<(String, String)>,
    /// Ids (lower case) of destination actions that processes saved in this plan no
    /// longer hold.
    removed_actions: BTreeSet<String>,
    /// Tenant tags (`set/tag` keys) that exist on the destination or are created.
    pub dest_tags: BTreeSet<String>,
    /// Placeholders handed out, so bodies can be scanned for them.
    placeholders: BTreeMap<String, Pending>,
    /// Whether every placeholder starts with [`MARKER`] and ends with `)`, as
    /// [`Pending::placeholder`] writes them: then the placeholders a text holds can be
    /// found where its markers are rather than by trying every placeholder.
    shaped: bool,
    /// The ops, by layer.
    pub layers: BTreeMap<LayerName, Vec<Op>>,
    /// Every layer an op was pushed to, in order: the tests check that each planner
    /// writes only the layers [`crate::PLANNERS`] declares for it.
    #[cfg(test)]
    pub pushed: Vec<LayerName>,
    /// The clean-up log.
    pub cleanup: Vec<CleanupEntry>,
    /// Warnings.
    pub warnings: Vec<String>,
    /// The first error raised under an `error-*` mode.
    pub error: Option<ScopeError>,
    /// How many scopes were widened so far (a planner compares before and after).
    pub widened: usize,
    /// With `[policy] prune`: destination items that match the source (the plan's
    /// [`crate::Plan::synced`]).
    pub synced: Provenance,
}

impl<'a> Ctx<'a> {
    /// A context over two snapshots.
    pub fn new(src: &'a Snapshot, dst: &'a Snapshot, rules: &'a SyncRules) -> Self {
        let mut dest_tags = BTreeSet::new();
        for set in &dst.tag_sets {
            for tag in set.tags.iter() {
                dest_tags.insert(name_key(&set.canonical_name(tag)));
            }
        }
        Self {
            source: Side::of(src),
            dest: Side::of(dst),
            rules,
            creates: BTreeMap::new(),
            new_actions: BTreeSet::new(),
            removed_actions: BTreeSet::new(),
            dest_tags,
            placeholders: BTreeMap::new(),
            shaped: true,
            layers: BTreeMap::new(),
            #[cfg(test)]
            pushed: Vec::new(),
            cleanup: Vec::new(),
            warnings: Vec::new(),
            error: None,
            widened: 0,
            synced: Provenance::default(),
        }
    }

    /// Whether the rules prune `kind`; with the record of what earlier syncs wrote when
    /// there is one (`None` inside: prune is asked for but nothing is recorded).
    pub fn prunes(&self, kind: PruneKind) -> Option<Option<&'a Provenance>> {
        self.rules
            .policy
            .prune
            .contains(&kind)
            .then_some(self.rules.written.as_ref())
    }

    /// Whether the plan records what matches the source (only when something is pruned).
    pub fn records_provenance(&self) -> bool {
        !self.rules.policy.prune.is_empty()
    }

    /// Adds an op to a layer.
    pub fn push(&mut self, layer: LayerName, op: Op) {
        if op.action() == OpAction::Skip {
            self.cleanup.push(CleanupEntry {
                category: CleanupCategory::Skipped,
                item: op.item.clone(),
                message: op.reason.clone(),
            });
        }
        #[cfg(test)]
        self.pushed.push(layer);
        self.layers.entry(layer).or_default().push(op);
    }

    /// Records a clean-up entry.
    pub fn clean(&mut self, category: CleanupCategory, item: &ItemRef, message: impl Into<String>) {
        self.cleanup.push(CleanupEntry {
            category,
            item: item.clone(),
            message: message.into(),
        });
    }

    /// Records an error raised by an `error-*` mode (the first one wins).
    pub fn fail(&mut self, item: &ItemRef, reason: impl Into<String>) {
        if self.error.is_none() {
            self.error = Some(ScopeError {
                item: item.clone(),
                reason: reason.into(),
            });
        }
    }

    /// Records that the plan creates an item.
    pub fn record_create(&mut self, item: &ItemRef) {
        let owner = item.owner.as_deref().map(name_key).unwrap_or_default();
        self.creates
            .insert((item.kind, owner, name_key(&item.name)), item.clone());
    }

    /// The item the plan creates with this kind, owner and name, if any.
    pub fn created(&self, kind: ResourceKind, owner: Option<&str>, name: &str) -> Option<&ItemRef> {
        let owner = owner.map(name_key).unwrap_or_default();
        self.creates.get(&(kind, owner, name_key(name)))
    }

    /// Records that a process saved in this plan will hold a new action.
    pub fn record_new_action(&mut self, process: &ProcessKey, action: &str) {
        self.new_actions
            .insert((process.match_key(), name_key(action)));
    }

    /// Records that a process saved in this plan no longer holds a destination action.
    pub fn record_removed_action(&mut self, id: &str) {
        self.removed_actions.insert(id.to_lowercase());
    }

    /// Whether a process saved in this plan no longer holds this destination action.
    pub fn action_removed(&self, id: &str) -> bool {
        self.removed_actions.contains(&id.to_lowercase())
    }

    /// A pending reference, remembered so bodies can be scanned for its placeholder.
    pub fn pending(&mut self, pending: Pending) -> Resolved {
        let text = pending.placeholder();
        // Most references are to items already handed out: the map is written only for
        // a new text (the latest reference with a text is the one its scans find).
        match self.placeholders.get_mut(&text) {
            Some(held) => {
                if *held != pending {
                    *held = pending.clone();
                }
            }
            None => {
                self.shaped &= text.starts_with(MARKER) && text.ends_with(')');
                self.placeholders.insert(text.clone(), pending.clone());
            }
        }
        Resolved::Pending(pending, text)
    }

    /// Finds the destination item of `kind` named `name`, or the create of it in the plan.
    pub fn find_dest(&mut self, kind: ResourceKind, name: &str) -> Resolved {
        match self.dest.index.lookup(kind, name) {
            Lookup::Found(id) => Resolved::Id(id.to_owned()),
            Lookup::Duplicate(n) => Resolved::Missing(format!(
                "{n} destination {kind}s are named {name:?}; rename one"
            )),
            Lookup::Missing => match self.created(kind, None, name).cloned() {
                Some(item) => self.pending(Pending::Created { item }),
                None => Resolved::Missing(format!("no {kind} named {name:?} on the destination")),
            },
        }
    }

    /// Finds a destination parent environment by name, saying why when the destination
    /// cannot have one.
    fn find_parent(&mut self, name: &str) -> Resolved {
        match self.find_dest(ResourceKind::ParentEnvironment, name) {
            Resolved::Missing(reason) if !self.dest.snapshot.version.at_least(2025, 4) => {
                Resolved::Missing(format!(
                    "{reason} (the destination runs Octopus {}, which has no parent environments)",
                    self.dest.snapshot.version
                ))
            }
            other => other,
        }
    }

    /// Translates a source id of a top-level kind to the destination (several results
    /// only for environments mapped to several destination environments).
    pub fn resolve_many(&mut self, kind: ResourceKind, source_id: &str) -> Vec<(String, Resolved)> {
        if source_id.trim().is_empty() {
            return vec![(String::new(), Resolved::Missing("empty id".to_owned()))];
        }
        // Only what is used is copied out: the entry's id and owner are not.
        let found = self
            .source
            .index
            .by_id(kind, source_id)
            .map(|e| (e.name.clone(), e.builtin.clone()));
        let Some((name, builtin)) = found else {
            // Environment scopes (variables, accounts, certificates, team roles) may
            // name parent environments (2025.4+), matched by name like environments.
            if kind == ResourceKind::Environment {
                if let Some(parent) = self
                    .source
                    .index
                    .by_id(ResourceKind::ParentEnvironment, source_id)
                    .cloned()
                {
                    return vec![(parent.name.clone(), self.find_parent(&parent.name))];
                }
            }
            // System teams and built-in user roles have the same slug ids everywhere.
            if matches!(kind, ResourceKind::Team | ResourceKind::UserRole)
                && octopus_model::resources::is_slug_id(source_id)
            {
                return vec![(source_id.to_owned(), Resolved::Id(source_id.to_owned()))];
            }
            if kind == ResourceKind::Feed {
                let role = match source_id.to_ascii_lowercase().as_str() {
                    "feeds-builtin" => Some("feed:BuiltIn"),
                    "feeds-builtin-releases" => Some("feed:OctopusProject"),
                    _ => None,
                };
                if let Some(role) = role {
                    let id = self
                        .dest
                        .index
                        .builtin(kind, role)
                        .unwrap_or(source_id)
                        .to_owned();
                    return vec![(source_id.to_owned(), Resolved::Id(id))];
                }
            }
            return vec![(
                source_id.to_owned(),
                Resolved::Missing(format!("the source has no {kind} with id {source_id}")),
            )];
        };
        if let Some(role) = &builtin {
            if let Some(id) = self.dest.index.builtin(kind, role) {
                return vec![(name.clone(), Resolved::Id(id.to_owned()))];
            }
        }
        if kind != ResourceKind::Environment {
            // Only environments are mapped: the name is looked up as it is.
            let r = self.find_dest(kind, &name);
            return vec![(name, r)];
        }
        // The mapped names are read from the rules, not copied.
        let rules = self.rules;
        let mapped = rules
            .environment_map
            .0
            .iter()
            .find(|(k, _)| octopus_model::same_name(k, &name))
            .map(|(_, v)| v.as_slice());
        let Some(names) = mapped else {
            // Unmapped: the environment of the same name.
            let r = self.find_dest(kind, &name);
            return vec![(name, r)];
        };
        if names.is_empty() {
            return vec![(
                name.clone(),
                Resolved::Missing(format!(
                    "{:?} is mapped to no destination environment",
                    name
                )),
            )];
        }
        names
            .iter()
            .map(|n| {
                let r = self.find_dest(kind, n);
                (name.clone(), r)
            })
            .collect()
    }

    /// Translates one source id of a top-level kind.
    pub fn resolve(&mut self, kind: ResourceKind, source_id: &str) -> (String, Resolved) {
        self.resolve_many(kind, source_id)
            .into_iter()
            .next()
            .unwrap_or_else(|| {
                (
                    source_id.to_owned(),
                    Resolved::Missing("nothing to translate".to_owned()),
                )
            })
    }

    /// Translates a source channel id of a source project to the destination project.
    pub fn resolve_channel(
        &mut self,
        source_id: &str,
        project_name: &str,
        dest_project: Option<&str>,
    ) -> (String, Resolved) {
        self.resolve_owned(ResourceKind::Channel, source_id, project_name, dest_project)
    }

    /// Translates a source runbook id.
    pub fn resolve_runbook(
        &mut self,
        source_id: &str,
        project_name: &str,
        dest_project: Option<&str>,
    ) -> (String, Resolved) {
        self.resolve_owned(ResourceKind::Runbook, source_id, project_name, dest_project)
    }

    fn resolve_owned(
        &mut self,
        kind: ResourceKind,
        source_id: &str,
        project_name: &str,
        dest_project: Option<&str>,
    ) -> (String, Resolved) {
        let found = self
            .source
            .index
            .by_id(kind, source_id)
            .map(|e| (e.name.clone(), e.builtin.as_deref() == Some("default")));
        let Some((name, default)) = found else {
            return (
                source_id.to_owned(),
                Resolved::Missing(format!("the source has no {kind} with id {source_id}")),
            );
        };
        if kind == ResourceKind::Channel && default {
            // The default channel matches the destination project's default channel,
            // whatever either is called; a new project gets one from the server.
            match dest_project {
                Some(project) => {
                    if let Some(id) = self
                        .dest
                        .children
                        .default_channel(project)
                        .and_then(|c| c.id.get())
                    {
                        return (name, Resolved::Id(id.as_str().to_owned()));
                    }
                }
                None => {
                    if let Some(item) = self
                        .created(kind, Some(project_name), DEFAULT_CHANNEL)
                        .cloned()
                    {
                        let r = self.pending(Pending::Created { item });
                        return (name, r);
                    }
                }
            }
        }
        if let Some(project) = dest_project {
            match self.dest.index.lookup_in(kind, Some(project), &name) {
                Lookup::Found(id) => return (name, Resolved::Id(id.to_owned())),
                Lookup::Duplicate(n) => {
                    return (
                        name.clone(),
                        Resolved::Missing(format!(
                            "{n} destination {kind}s of {project_name:?} are named {name:?}"
                        )),
                    )
                }
                Lookup::Missing => {}
            }
        }
        match self.created(kind, Some(project_name), &name).cloned() {
            Some(item) => {
                let r = self.pending(Pending::Created { item });
                (name, r)
            }
            None => {
                let r = Resolved::Missing(format!(
                    "{project_name:?} has no {kind} named {name:?} on the destination"
                ));
                (name, r)
            }
        }
    }

    /// Translates an action id: `source_actions` maps source action ids to names;
    /// `dest_actions` maps destination action names (keys) to ids.
    pub fn resolve_action(
        &mut self,
        source_id: &str,
        source_actions: &BTreeMap<String, (ProcessKey, String)>,
        dest_actions: &BTreeMap<(String, String), String>,
    ) -> (String, Resolved) {
        let Some((process, action)) = source_actions.get(&source_id.to_lowercase()).cloned() else {
            return (
                source_id.to_owned(),
                Resolved::Missing(format!("no source action has id {source_id}")),
            );
        };
        let key = (process.match_key(), name_key(&action));
        if let Some(id) = dest_actions.get(&key) {
            return (action, Resolved::Id(id.clone()));
        }
        if self.new_actions.contains(&key) {
            let r = self.pending(Pending::Action {
                process: process.clone(),
                action: action.clone(),
            });
            return (action, r);
        }
        let reason = format!(
            "the destination process of {:?} has no action named {action:?}",
            process.as_str()
        );
        (action, Resolved::Missing(reason))
    }

    /// Whether a canonical tenant tag exists on the destination (or is created).
    pub fn tag_exists(&self, canonical: &str) -> bool {
        self.dest_tags.contains(&name_key(canonical))
    }

    /// Applies a scope mode to translated values (SpaceCloner's
    /// `Convert-SourceIdListToDestinationIdList`, without its bugs): `translated` holds,
    /// per source value, its name and its translation.
    pub fn decide(
        &self,
        mode: ScopeMode,
        what: &(impl std::fmt::Display + ?Sized),
        translated: Vec<(String, Resolved)>,
    ) -> ListDecision {
        if translated.is_empty() {
            return ListDecision::Keep {
                values: Vec::new(),
                dropped: Vec::new(),
                widened: false,
            };
        }
        let mut values = Vec::new();
        let mut dropped = Vec::new();
        let mut reasons = Vec::new();
        for (name, r) in translated {
            match r {
                Resolved::Id(v) | Resolved::Pending(_, v) => {
                    if !values.contains(&v) {
                        values.push(v)
                    }
                }
                Resolved::Missing(reason) => {
                    reasons.push(reason);
                    if !dropped.contains(&name) {
                        dropped.push(name);
                    }
                }
            }
        }
        if dropped.is_empty() {
            return ListDecision::Keep {
                values,
                dropped,
                widened: false,
            };
        }
        // The reason is written only for a mode that reports it.
        let missing = || format!("{what}: {}", reasons.join("; "));
        match mode {
            ScopeMode::ErrorUnlessExactMatch => ListDecision::Error(missing()),
            ScopeMode::SkipUnlessExactMatch => ListDecision::Skip(missing()),
            ScopeMode::IgnoreMismatch | ScopeMode::IgnoreMismatchOnNewLeaveExistingAlone => {
                let widened = values.is_empty();
                ListDecision::Keep {
                    values,
                    dropped,
                    widened,
                }
            }
            ScopeMode::ErrorUnlessPartialMatch | ScopeMode::SkipUnlessPartialMatch
                if !values.is_empty() =>
            {
                ListDecision::Keep {
                    values,
                    dropped,
                    widened: false,
                }
            }
            ScopeMode::ErrorUnlessPartialMatch => ListDecision::Error(missing()),
            ScopeMode::SkipUnlessPartialMatch => ListDecision::Skip(missing()),
        }
    }

    /// Scans a body for pending placeholders and returns where they are.
    pub fn pending_refs(&self, body: &Value) -> Vec<PendingRef> {
        let mut out = Vec::new();
        if self.placeholders.is_empty() {
            return out;
        }
        let placeholders = Placeholders {
            all: &self.placeholders,
            shaped: self.shaped,
        };
        scan(body, &mut String::new(), &placeholders, &mut out);
        out
    }
}

/// Appends `key` to a JSON pointer, escaped.
fn push_escaped(pointer: &mut String, key: &str) {
    if key.contains(['~', '/']) {
        pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
    } else {
        pointer.push_str(key);
    }
}

/// The text every placeholder starts with.
const MARKER: &str = "(pending ";

/// Whether `s` holds a placeholder's marker. Most texts have no `(` at all: looking for
/// that byte is much cheaper than a substring search set up for every text of a body.
fn has_marker(s: &str) -> bool {
    let (bytes, marker) = (s.as_bytes(), MARKER.as_bytes());
    bytes.len() >= marker.len()
        && bytes[..=bytes.len() - marker.len()]
            .iter()
            .enumerate()
            .any(|(i, b)| *b == b'(' && bytes[i..].starts_with(marker))
}

/// The placeholders handed out, for a scan.
struct Placeholders<'p> {
    all: &'p BTreeMap<String, Pending>,
    /// See [`Ctx::shaped`].
    shaped: bool,
}

impl<'p> Placeholders<'p> {
    /// The placeholders `text` holds, each once, in the order of their texts. A body
    /// naming many new items (a tenant connected to a thousand new projects) would make
    /// trying every placeholder on every text quadratic; a placeholder starts at a
    /// marker and ends at a `)`, so only those spans are looked up.
    fn within(&self, text: &str) -> Vec<(&'p String, &'p Pending)> {
        if !self.shaped {
            return self
                .all
                .iter()
                .filter(|(p, _)| text.contains(p.as_str()))
                .collect();
        }
        let mut found = Vec::new();
        for (start, _) in text.match_indices(MARKER) {
            let rest = &text[start..];
            for (end, _) in rest.match_indices(')') {
                if let Some(hit) = self.all.get_key_value(&rest[..=end]) {
                    found.push(hit);
                }
            }
        }
        found.sort_by(|a, b| a.0.cmp(b.0));
        found.dedup_by(|a, b| a.0 == b.0);
        found
    }
}

/// Finds the placeholders in `value`. `pointer` is the JSON pointer of `value`, grown
/// and shrunk in place: a body has thousands of nodes and few placeholders, so a
/// pointer is copied only for a hit.
fn scan(
    value: &Value,
    pointer: &mut String,
    placeholders: &Placeholders<'_>,
    out: &mut Vec<PendingRef>,
) {
    match value {
        Value::String(s) if has_marker(s) => {
            if let Some(pending) = placeholders.all.get(s) {
                out.push(PendingRef {
                    pointer: pointer.clone(),
                    placeholder: s.clone(),
                    in_key: false,
                    reference: pending.clone(),
                });
                return;
            }
            for (text, pending) in placeholders.within(s) {
                out.push(PendingRef {
                    pointer: pointer.clone(),
                    placeholder: text.clone(),
                    in_key: false,
                    reference: pending.clone(),
                });
            }
        }
        Value::Array(items) => {
            let len = pointer.len();
            for (i, item) in items.iter().enumerate() {
                if !may_hold_placeholder(item) {
                    continue;
                }
                pointer.push('/');
                crate::diff::push_index(pointer, i);
                scan(item, pointer, placeholders, out);
                pointer.truncate(len);
            }
        }
        Value::Object(map) => {
            let len = pointer.len();
            for (k, v) in map {
                let in_key = has_marker(k);
                if !in_key && !may_hold_placeholder(v) {
                    continue;
                }
                pointer.push('/');
                push_escaped(pointer, k);
                if in_key {
                    for (text, pending) in placeholders.within(k) {
                        out.push(PendingRef {
                            pointer: pointer.clone(),
                            placeholder: text.clone(),
                            in_key: true,
                            reference: pending.clone(),
                        });
                    }
                }
                scan(v, pointer, placeholders, out);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

/// Whether a value can hold a placeholder at all (a string, or a container).
fn may_hold_placeholder(value: &Value) -> bool {
    match value {
        Value::String(s) => has_marker(s),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(name: &str) -> (String, Resolved) {
        (name.to_owned(), Resolved::Id(format!("id-{name}")))
    }

    fn miss(name: &str) -> (String, Resolved) {
        (name.to_owned(), Resolved::Missing(format!("no {name}")))
    }

    /// SpaceCloner's table for id lists, per mode: (all match, some match, none match).
    #[test]
    fn scope_modes_follow_the_spacecloner_table() {
        let snap = Snapshot::default();
        let rules = SyncRules::default();
        let ctx = Ctx::new(&snap, &snap, &rules);
        let keep = |values: &[&str], dropped: &[&str], widened: bool| ListDecision::Keep {
            values: values.iter().map(|v| format!("id-{v}")).collect(),
            dropped: dropped.iter().map(|d| d.to_string()).collect(),
            widened,
        };
        use ScopeMode::*;
        for mode in [
            ErrorUnlessExactMatch,
            SkipUnlessExactMatch,
            ErrorUnlessPartialMatch,
            SkipUnlessPartialMatch,
            IgnoreMismatch,
            IgnoreMismatchOnNewLeaveExistingAlone,
        ] {
            // An empty list is always fine, and so is a full match.
            assert_eq!(ctx.decide(mode, "x", vec![]), keep(&[], &[], false));
            assert_eq!(
                ctx.decide(mode, "x", vec![hit("a"), hit("b")]),
                keep(&["a", "b"], &[], false)
            );
            let some = ctx.decide(mode, "x", vec![hit("a"), miss("b")]);
            let none = ctx.decide(mode, "x", vec![miss("a")]);
            match mode {
                ErrorUnlessExactMatch => {
                    assert!(matches!(some, ListDecision::Error(_)));
                    assert!(matches!(none, ListDecision::Error(_)));
                }
                SkipUnlessExactMatch => {
                    assert!(matches!(some, ListDecision::Skip(_)));
                    assert!(matches!(none, ListDecision::Skip(_)));
                }
                ErrorUnlessPartialMatch => {
                    assert_eq!(some, keep(&["a"], &["b"], false));
                    assert!(matches!(none, ListDecision::Error(_)));
                }
                SkipUnlessPartialMatch => {
                    assert_eq!(some, keep(&["a"], &["b"], false));
                    assert!(matches!(none, ListDecision::Skip(ref r) if r.contains("no a")));
                }
                IgnoreMismatch | IgnoreMismatchOnNewLeaveExistingAlone => {
                    assert_eq!(some, keep(&["a"], &["b"], false));
                    assert_eq!(none, keep(&[], &["a"], true));
                }
            }
        }
    }
}
