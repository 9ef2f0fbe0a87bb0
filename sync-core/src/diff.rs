//! Field-level differences between a destination document and the desired one, and the
//! helpers that turn a desired document into a create or update op.

use std::fmt::Write as _;

use octopus_model::{redact_json, shims};
use serde_json::{Map, Value};

use crate::base::Base;
use crate::context::Ctx;
use crate::plan::{CleanupCategory, FieldChange, ItemRef, Op, Target};

/// Fields that are server-owned and never compared.
const IGNORED: &[&str] = &[
    "Links",
    "LastModifiedOn",
    "LastModifiedBy",
    "ScopeValues",
    "Version",
    "ConcurrencyToken",
];

fn empty_like(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        _ => false,
    }
}

/// Appends `key` to a field path (`Steps[0].Name`, `Properties["a.b"]`).
fn push_key(path: &mut String, key: &str) {
    if key.contains(['.', ' ']) {
        // Writing to a String cannot fail.
        let _ = write!(path, "[{key:?}]");
    } else {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    }
}

/// The changes from `before` to `after`. `null`, missing, `[]` and `{}` count as the same
/// (the API treats them alike), server-owned fields are ignored, and secrets are redacted.
pub fn diff(before: &Value, after: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    // Most documents of a re-sync are unchanged: tell that without naming paths.
    if differs(Some(before), Some(after), true) {
        walk(
            &mut String::new(),
            Some(before),
            Some(after),
            &mut out,
            true,
        );
    }
    out
}

/// Whether a variable-like object marks its `Value` as a secret.
fn sensitive_object(map: &Map<String, Value>) -> bool {
    // Read in order rather than looked up: most objects are small.
    map.iter().any(|(k, v)| match k.as_str() {
        "IsSensitive" => v == &Value::Bool(true),
        "Type" => v.as_str() == Some("Sensitive"),
        _ => false,
    })
}

/// Walks the members of `from` beside those of `other`, yielding each with the member
/// of `other` of the same key. Two documents the same serializer wrote list their
/// members in the same order, so the member at the same position is compared first and
/// a hashed lookup is needed only where the orders part.
fn beside<'m>(
    from: &'m Map<String, Value>,
    other: &'m Map<String, Value>,
) -> impl Iterator<Item = (&'m String, &'m Value, Option<&'m Value>)> {
    let mut lock = other.iter();
    from.iter().map(move |(k, v)| {
        let partner = match lock.next() {
            Some((ok, ov)) if ok == k => Some(ov),
            _ => other.get(k),
        };
        (k, v, partner)
    })
}

/// A member as a reader of the redacted document sees it (see
/// [`octopus_model::redact_json`]): a secret's text is hidden, so two secrets compare
/// equal whatever they hold.
fn seen<'v>(key: &str, value: &'v Value, sensitive: bool) -> std::borrow::Cow<'v, Value> {
    if (key == "NewValue" || (sensitive && key == "Value")) && !value.is_null() {
        std::borrow::Cow::Owned(Value::String(octopus_model::secret::REDACTED.to_owned()))
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

/// A value as it goes into a [`FieldChange`]: copied, with its secrets redacted.
fn shown(value: Option<&Value>) -> Value {
    let mut value = value.cloned().unwrap_or(Value::Null);
    if holds_secret(&value) {
        redact_json(&mut value);
    }
    value
}

/// Whether [`redact_json`] would change `value`. It reads members in order rather than
/// looking keys up, so most values (which hold no secret) are never walked mutably.
fn holds_secret(value: &Value) -> bool {
    match value {
        Value::Object(map) => {
            let mut sensitive = false;
            let mut has_value = false;
            for (k, v) in map {
                match k.as_str() {
                    "NewValue" if !v.is_null() => return true,
                    "IsSensitive" => sensitive |= v == &Value::Bool(true),
                    "Type" => sensitive |= v.as_str() == Some("Sensitive"),
                    "Value" => has_value = !v.is_null(),
                    _ => {}
                }
            }
            (sensitive && has_value) || map.values().any(holds_secret)
        }
        Value::Array(items) => items.iter().any(holds_secret),
        _ => false,
    }
}

/// Whether [`walk`] would find any change (between the unredacted documents: equal
/// documents are equal redacted; unequal ones are walked, redacted).
fn differs(b: Option<&Value>, a: Option<&Value>, top: bool) -> bool {
    if empty_like(b) && empty_like(a) {
        return false;
    }
    match (b, a) {
        (Some(Value::Object(bm)), Some(Value::Object(am))) => {
            let ignored = |k: &String| top && IGNORED.contains(&k.as_str());
            beside(bm, am).any(|(k, bv, av)| !ignored(k) && differs(Some(bv), av, false))
                || beside(am, bm).any(|(k, av, bv)| {
                    bv.is_none() && !ignored(k) && differs(None, Some(av), false)
                })
        }
        (Some(Value::Array(ba)), Some(Value::Array(aa))) => {
            ba.len() != aa.len()
                || ba
                    .iter()
                    .zip(aa)
                    .any(|(bv, av)| differs(Some(bv), Some(av), false))
        }
        _ => b != a,
    }
}

/// Walks both documents as their redacted forms read; `path` is grown and shrunk in
/// place and copied only for a change.
fn walk(
    path: &mut String,
    b: Option<&Value>,
    a: Option<&Value>,
    out: &mut Vec<FieldChange>,
    top: bool,
) {
    if empty_like(b) && empty_like(a) {
        return;
    }
    let len = path.len();
    match (b, a) {
        (Some(Value::Object(bm)), Some(Value::Object(am))) => {
            let (bs, as_) = (sensitive_object(bm), sensitive_object(am));
            for (k, bv, av) in beside(bm, am) {
                if top && IGNORED.contains(&k.as_str()) {
                    continue;
                }
                let bv = seen(k, bv, bs);
                let av = av.map(|av| seen(k, av, as_));
                push_key(path, k);
                walk(path, Some(&bv), av.as_deref(), out, false);
                path.truncate(len);
            }
            for (k, av, bv) in beside(am, bm) {
                if bv.is_some() || (top && IGNORED.contains(&k.as_str())) {
                    continue;
                }
                let av = seen(k, av, as_);
                push_key(path, k);
                walk(path, None, Some(&av), out, false);
                path.truncate(len);
            }
        }
        (Some(Value::Array(ba)), Some(Value::Array(aa))) => {
            for i in 0..ba.len().max(aa.len()) {
                let (bv, av) = (ba.get(i), aa.get(i));
                path.push('[');
                push_index(path, i);
                path.push(']');
                if bv.is_some() && av.is_some() {
                    walk(path, bv, av, out, false);
                } else {
                    // An element added or removed is one change, not one per field.
                    out.push(FieldChange {
                        path: path.clone(),
                        before: shown(bv),
                        after: shown(av),
                    });
                }
                path.truncate(len);
            }
        }
        _ if b == a => {}
        _ => out.push(FieldChange {
            path: if path.is_empty() {
                ".".to_owned()
            } else {
                path.clone()
            },
            before: shown(b),
            after: shown(a),
        }),
    }
}

/// Prepares a source document as a create body: drops its id, links, audit fields and
/// slug (the destination makes its own), and sets the destination's space.
pub fn strip_for_create(body: &mut Value, dest_space: Option<&str>) {
    if let Value::Object(map) = body {
        for k in ["Id", "Links", "LastModifiedOn", "LastModifiedBy", "Slug"] {
            map.remove(k);
        }
        match dest_space {
            Some(space) if map.contains_key("SpaceId") => {
                map.insert("SpaceId".to_owned(), Value::String(space.to_owned()));
            }
            _ => {
                map.remove("SpaceId");
            }
        }
    }
}

/// JSON pointers of every sensitive-value object (`{"HasValue": true, …}`) in a body.
pub fn sensitive_slots(body: &Value) -> Vec<String> {
    // `pointer` is grown and shrunk in place and copied only for a slot.
    fn scan(v: &Value, pointer: &mut String, out: &mut Vec<String>) {
        match v {
            Value::Object(map) if map.contains_key("HasValue") => {
                let set = map.get("HasValue") == Some(&Value::Bool(true));
                set.then(|| out.push(pointer.clone()));
            }
            Value::Object(map) => {
                let len = pointer.len();
                for (k, v) in map {
                    pointer.push('/');
                    if k.contains(['~', '/']) {
                        pointer.push_str(&k.replace('~', "~0").replace('/', "~1"));
                    } else {
                        pointer.push_str(k);
                    }
                    scan(v, pointer, out);
                    pointer.truncate(len);
                }
            }
            Value::Array(items) => {
                let len = pointer.len();
                for (i, v) in items.iter().enumerate() {
                    pointer.push('/');
                    push_index(pointer, i);
                    scan(v, pointer, out);
                    pointer.truncate(len);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    scan(body, &mut String::new(), &mut out);
    out
}

/// Appends an array index in decimal, as `write!` would, without the formatting
/// machinery: paths and pointers are built for every element of every body.
pub(crate) fn push_index(out: &mut String, i: usize) {
    if i < 10 {
        out.push(char::from(b'0' + i as u8));
    } else {
        // Writing to a String cannot fail.
        let _ = write!(out, "{i}");
    }
}

/// A create op for `body`, with shims applied and pending references found. Records the
/// create so later references to the item become pending references.
pub fn create_op(
    ctx: &mut Ctx<'_>,
    item: ItemRef,
    mut body: Value,
    reason: impl Into<String>,
) -> Op {
    let applied = shims::prepare_create(item.kind, &mut body, &ctx.dest.snapshot.version);
    for shim in applied {
        ctx.clean(CleanupCategory::VersionShim, &item, shim.to_string());
    }
    let pending = ctx.pending_refs(&body);
    ctx.record_create(&item);
    let mut op = Op::create(item, reason, body);
    if let Some(c) = op.create_mut() {
        c.pending = pending;
    }
    op
}

/// An update op when `desired` differs from `before`, otherwise an unchanged op.
pub fn update_op(
    ctx: &mut Ctx<'_>,
    item: ItemRef,
    target: Target,
    before: &Value,
    mut desired: Value,
    changed: impl Into<String>,
    same: impl Into<String>,
) -> Op {
    // Shims first, so a field the destination's version adds is not a change each run.
    let applied = shims::prepare_update(item.kind, &mut desired, &ctx.dest.snapshot.version);
    let changes = diff(before, &desired);
    if changes.is_empty() {
        return Op::unchanged(item, same, Some(target));
    }
    for shim in applied {
        ctx.clean(CleanupCategory::VersionShim, &item, shim.to_string());
    }
    let pending = ctx.pending_refs(&desired);
    // Only a document that was read can be compared with what the destination holds
    // later; an empty `before` stands for one the snapshot did not have.
    let read = before.as_object().is_some_and(|m| !m.is_empty());
    let base = (matches!(target, Target::Existing { .. }) && read).then(|| Base::of(before));
    let mut op = Op::update(item, changed, target, desired, changes);
    if let Some(u) = op.update_mut() {
        u.base = base;
        u.pending = pending;
    }
    op
}

/// Serializes a model (infallible for the model types: their fields are all JSON), with
/// each object allocated once at its size (see [`crate::value_ser`]).
pub fn to_value<T: serde::Serialize>(item: &T) -> Value {
    crate::value_ser::to_value(item)
        .or_else(|_| serde_json::to_value(item))
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_forms_are_equal_and_secrets_are_redacted() {
        let before = json!({"A": null, "B": [], "C": {"X": 1}, "Links": {"Self": "a"},
                             "Password": {"HasValue": true, "NewValue": null}});
        let after = json!({"B": null, "C": {"X": 2}, "Links": {"Self": "b"}, "D": "new",
                            "Password": {"HasValue": true, "NewValue": "hunter2"}});
        let changes = diff(&before, &after);
        let paths: Vec<_> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, vec!["C.X", "Password.NewValue", "D"]);
        assert!(!serde_json::to_string(&changes).unwrap().contains("hunter2"));
    }

    #[test]
    fn slots_find_set_secrets_only() {
        let body = json!({"Password": {"HasValue": true}, "Token": {"HasValue": false},
                          "Properties": {"a/b": {"HasValue": true, "NewValue": null}}});
        assert_eq!(
            sensitive_slots(&body),
            vec!["/Password", "/Properties/a~1b"]
        );
    }
}
