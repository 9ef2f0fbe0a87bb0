//! What the entity planners share: walking the selected source items of a kind, matching
//! each to the destination by name (or by built-in role), and translating lists of
//! references under a scope mode.

use std::collections::BTreeSet;

use octopus_model::{name_key, Resource, ResourceKind};
use serde_json::Value;

use crate::context::{Ctx, ListDecision, Resolved};
use crate::index::{is_builtin_name, Lookup};
use crate::plan::{CleanupCategory, ItemRef, LayerName, Op, Target};
use crate::rules::{NameFilter, ScopeMode};

/// How a selected source item matched the destination.
pub enum Match<'s, T> {
    /// The destination has it.
    Existing {
        /// The source item.
        source: &'s T,
        /// The destination's document.
        dest: T,
        /// Its id.
        id: String,
    },
    /// The destination lacks it and it may be created.
    New {
        /// The source item.
        source: &'s T,
    },
}

/// Walks the selected source items of a kind, pushes a skip op for each one that cannot
/// be matched (duplicates, built-ins missing on the destination) and returns the rest.
pub fn matches<'s, T: Resource>(
    ctx: &mut Ctx<'_>,
    layer: LayerName,
    filter: &NameFilter,
    source: &'s [T],
    dest: &[T],
) -> Vec<Match<'s, T>> {
    let kind = T::KIND;
    let by_id: std::collections::BTreeMap<String, &T> = dest
        .iter()
        .filter_map(|d| d.id().map(|id| (id.as_ref().to_lowercase(), d)))
        .collect();
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for item in source {
        let name = item.name();
        if !filter.matches(name) || !seen.insert(name_key(name)) {
            continue;
        }
        let iref = ItemRef::new(kind, name);
        if let Lookup::Duplicate(n) = ctx.source.index.lookup(kind, name) {
            ctx.push(
                layer,
                Op::skip(
                    iref,
                    format!("{n} source {kind}s are named {name:?}; rename one"),
                ),
            );
            continue;
        }
        let role = item
            .id()
            .and_then(|id| ctx.source.index.by_id(kind, id.as_ref()))
            .and_then(|e| e.builtin.clone());
        let dest_id = match &role {
            Some(role) => ctx
                .dest
                .index
                .builtin(kind, role)
                .map(|id| Ok(id.to_owned())),
            None => None,
        };
        let dest_id = match dest_id {
            Some(found) => found,
            None => match ctx.dest.index.lookup(kind, name) {
                Lookup::Found(id) => Ok(id.to_owned()),
                Lookup::Duplicate(n) => Err(format!("{n} destination {kind}s are named {name:?}; rename one")),
                Lookup::Missing if role.is_some() || is_builtin_name(kind, name) => Err(format!(
                    "built-in {kind} {name:?} is missing on the destination; built-ins are matched, never created"
                )),
                Lookup::Missing => {
                    out.push(Match::New { source: item });
                    continue;
                }
            },
        };
        match dest_id {
            Ok(id) => {
                let found = by_id.get(&id.to_lowercase()).map(|d| (*d).clone());
                match found {
                    Some(d) => out.push(Match::Existing {
                        source: item,
                        dest: d,
                        id,
                    }),
                    None => ctx.push(
                        layer,
                        Op::skip(
                            iref,
                            format!("destination {kind} {id} is indexed but not loaded"),
                        ),
                    ),
                }
            }
            Err(reason) => ctx.push(layer, Op::skip(iref, reason)),
        }
    }
    out
}

/// An unchanged op for an existing item whose details are left alone.
pub fn left_alone(kind: ResourceKind, name: &str, id: &str, why: &str) -> Op {
    Op::unchanged(
        ItemRef::new(kind, name),
        why,
        Some(Target::Existing { id: id.to_owned() }),
    )
}

/// Plans a kind whose existing items keep their own details: each selected source item
/// the destination has is left alone (`why_existing`); a missing one is planned by `new`.
pub fn create_when_missing<'a, 's, T: Resource>(
    ctx: &mut Ctx<'a>,
    layer: LayerName,
    filter: &NameFilter,
    source: &'s [T],
    dest: &[T],
    why_existing: &str,
    mut new: impl FnMut(&mut Ctx<'a>, &'s T) -> Op,
) {
    for m in matches(ctx, layer, filter, source, dest) {
        let op = match m {
            Match::Existing { source, id, .. } => {
                left_alone(T::KIND, source.name(), &id, why_existing)
            }
            Match::New { source } => new(ctx, source),
        };
        ctx.push(layer, op);
    }
}

/// Fields an existing document keeps whatever the source has: identity, server-owned
/// fields and the default flag.
const OWN_FIELDS: &[&str] = &[
    "Id",
    "Name",
    "SpaceId",
    "Links",
    "Slug",
    "IsDefault",
    "SortOrder",
    "Version",
];

/// Whether a value is or holds a sensitive value (`{"HasValue": …}`).
fn holds_secret(v: &Value) -> bool {
    match v {
        Value::Object(map) => map.contains_key("HasValue") || map.values().any(holds_secret),
        Value::Array(items) => items.iter().any(holds_secret),
        _ => false,
    }
}

/// An existing item whose details follow the source (`overwrite_existing_details`): every
/// top-level field of `source_body` — a body already translated for the destination, as
/// for a create — is laid over the destination's document, except the identity and
/// server-owned fields, the fields in `keep`, and secrets: a field that holds a sensitive
/// value on either side keeps the destination's, so no secret is overwritten.
pub fn follow_details(
    ctx: &mut Ctx<'_>,
    item: ItemRef,
    id: &str,
    dest: &Value,
    source_body: &Value,
    keep: &[&str],
) -> Op {
    let mut desired = dest.clone();
    if let (Value::Object(d), Value::Object(src)) = (&mut desired, source_body) {
        for (k, v) in src {
            if OWN_FIELDS.contains(&k.as_str())
                || keep.contains(&k.as_str())
                || holds_secret(v)
                || d.get(k).is_some_and(holds_secret)
            {
                continue;
            }
            d.insert(k.clone(), v.clone());
        }
    }
    crate::diff::update_op(
        ctx,
        item,
        Target::Existing { id: id.to_owned() },
        dest,
        desired,
        "its details differ from the source (overwrite_existing_details)",
        "exists; its details match the source",
    )
}

/// Translates a list of source ids of a top-level kind under a mode and records dropped
/// or widened scopes. `Err` carries the skip reason; an error-mode failure is recorded on
/// the context and also returned as `Err`.
pub fn translate_list<I: AsRef<str>>(
    ctx: &mut Ctx<'_>,
    item: &ItemRef,
    kind: ResourceKind,
    mode: ScopeMode,
    what: &(impl std::fmt::Display + ?Sized),
    ids: impl IntoIterator<Item = I>,
) -> Result<Vec<String>, String> {
    let mut translated = Vec::new();
    for id in ids {
        translated.extend(ctx.resolve_many(kind, id.as_ref()));
    }
    apply_decision(ctx, item, mode, what, translated)
}

/// Applies a mode to translated values; see [`translate_list`].
pub fn apply_decision(
    ctx: &mut Ctx<'_>,
    item: &ItemRef,
    mode: ScopeMode,
    what: &(impl std::fmt::Display + ?Sized),
    translated: Vec<(String, Resolved)>,
) -> Result<Vec<String>, String> {
    match ctx.decide(mode, what, translated) {
        ListDecision::Keep {
            values,
            dropped,
            widened,
        } => {
            if widened {
                ctx.widened += 1;
                ctx.clean(
                    CleanupCategory::WidenedScope,
                    item,
                    format!(
                        "{what}: none of {} exist on the destination, so the scope was removed and it now applies to every one",
                        quote_list(&dropped)
                    ),
                );
            } else if !dropped.is_empty() {
                ctx.clean(
                    CleanupCategory::DroppedScope,
                    item,
                    format!(
                        "{what}: {} dropped (not on the destination)",
                        quote_list(&dropped)
                    ),
                );
            }
            Ok(values)
        }
        ListDecision::Skip(reason) => Err(reason),
        ListDecision::Error(reason) => {
            ctx.fail(item, reason.clone());
            Err(reason)
        }
    }
}

/// Translates tenant tags: kept by canonical name when the destination has (or gets) the
/// tag.
pub fn translate_tags<I: AsRef<str>>(
    ctx: &mut Ctx<'_>,
    item: &ItemRef,
    mode: ScopeMode,
    what: &(impl std::fmt::Display + ?Sized),
    tags: impl IntoIterator<Item = I>,
) -> Result<Vec<String>, String> {
    let translated: Vec<(String, Resolved)> = tags
        .into_iter()
        .map(|t| {
            let t = t.as_ref().to_owned();
            let r = if ctx.tag_exists(&t) {
                Resolved::Id(t.clone())
            } else {
                Resolved::Missing(format!("no tenant tag {t:?} on the destination"))
            };
            (t, r)
        })
        .collect();
    apply_decision(ctx, item, mode, what, translated)
}

/// `"a", "b"`.
pub fn quote_list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Sets a key of a JSON object body.
pub fn set(body: &mut Value, key: &str, value: Value) {
    if let Value::Object(map) = body {
        map.insert(key.to_owned(), value);
    }
}

/// Removes a key of a JSON object body.
pub fn remove(body: &mut Value, key: &str) {
    if let Value::Object(map) = body {
        map.remove(key);
    }
}

/// A JSON array of strings.
pub fn strings(values: &[String]) -> Value {
    Value::Array(values.iter().cloned().map(Value::String).collect())
}
