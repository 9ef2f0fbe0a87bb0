//! `SensitiveValue` objects (`{HasValue, NewValue, Hint}`, reference §4) anywhere in a
//! document: a write sets, keeps or clears the secret, and the stored document only
//! says whether there is one.
//!
//! What a real server does with a `SensitiveValue` property left out of a PUT altogether
//! is not established by the evidence at hand (the official clients always send the
//! property back as read); this fake drops the secret then, the outcome a caller can
//! least afford to rely on. Sensitive *variables* follow measured behaviour instead (see
//! `variables.rs`).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::store::SecretKey;

/// Whether `map` is a `SensitiveValue` object.
fn is_sensitive_object(map: &Map<String, Value>) -> bool {
    map.get("HasValue").is_some_and(Value::is_boolean)
        && map
            .keys()
            .all(|k| matches!(k.as_str(), "HasValue" | "NewValue" | "Hint"))
}

/// The key of an array element in a secret path: its `Id` when it has one, so secrets
/// follow steps and actions when they are reordered.
fn element_key(item: &Value, index: usize) -> String {
    match item.get("Id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => format!("[{id}]"),
        _ => format!("[{index}]"),
    }
}

fn walk(value: &mut Value, path: &str, visit: &mut dyn FnMut(&str, &mut Map<String, Value>)) {
    match value {
        Value::Object(map) if is_sensitive_object(map) => visit(path, map),
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(v, &child, visit);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let child = format!("{path}{}", element_key(item, i));
                walk(item, &child, visit);
            }
        }
        _ => {}
    }
}

/// The paths of `doc` whose `SensitiveValue` says it has a value.
fn paths_with_value(doc: &Value) -> HashSet<String> {
    let mut copy = doc.clone();
    let mut found = HashSet::new();
    walk(&mut copy, "", &mut |path, map| {
        if map.get("HasValue") == Some(&Value::Bool(true)) {
            found.insert(path.to_owned());
        }
    });
    found
}

/// Takes the secrets out of an incoming `body` for document `doc_id`, whose stored
/// version before this write is `previous`: `{HasValue: true, NewValue: "x"}` sets the
/// secret, `{HasValue: true, NewValue: null}` keeps it, `{HasValue: false}` clears it.
/// Secrets at paths the body no longer has are dropped.
pub(crate) fn absorb(
    secrets: &mut HashMap<SecretKey, String>,
    doc_id: &str,
    body: &mut Value,
    previous: Option<&Value>,
) {
    let doc = doc_id.to_lowercase();
    let had = previous.map(paths_with_value).unwrap_or_default();
    let mut seen = HashSet::new();
    walk(body, "", &mut |path, map| {
        let key = (doc.clone(), path.to_owned());
        let wants = map.get("HasValue") == Some(&Value::Bool(true));
        let has = if !wants {
            secrets.remove(&key);
            false
        } else if let Some(new) = map.get("NewValue").and_then(Value::as_str) {
            secrets.insert(key, new.to_owned());
            true
        } else {
            secrets.contains_key(&key) || had.contains(path)
        };
        if has {
            seen.insert(path.to_owned());
        }
        map.insert("HasValue".into(), Value::Bool(has));
        map.insert("NewValue".into(), Value::Null);
        map.entry("Hint").or_insert(Value::Null);
    });
    secrets.retain(|(d, p), _| *d != doc || seen.contains(p) || p.starts_with('#'));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sets_keeps_and_clears() {
        let mut secrets = HashMap::new();
        let mut body = json!({"Password": {"HasValue": true, "NewValue": "s3cret"}});
        absorb(&mut secrets, "Accounts-1", &mut body, None);
        assert_eq!(
            body["Password"],
            json!({"HasValue": true, "NewValue": null, "Hint": null})
        );
        let key = ("accounts-1".to_owned(), "Password".to_owned());
        assert_eq!(secrets.get(&key).map(String::as_str), Some("s3cret"));

        let previous = body.clone();
        let mut keep = json!({"Password": {"HasValue": true, "NewValue": null}});
        absorb(&mut secrets, "Accounts-1", &mut keep, Some(&previous));
        assert_eq!(secrets.get(&key).map(String::as_str), Some("s3cret"));

        let mut clear = json!({"Password": {"HasValue": false}});
        absorb(&mut secrets, "Accounts-1", &mut clear, Some(&keep));
        assert!(!secrets.contains_key(&key));
        assert_eq!(clear["Password"]["HasValue"], false);
    }

    #[test]
    fn secrets_in_arrays_follow_element_ids() {
        let mut secrets = HashMap::new();
        let mut body = json!({"Steps": [{"Id": "s1", "Properties": {"P": {"HasValue": true, "NewValue": "x"}}}]});
        absorb(
            &mut secrets,
            "deploymentprocess-Projects-1",
            &mut body,
            None,
        );
        assert!(secrets.contains_key(&(
            "deploymentprocess-projects-1".to_owned(),
            "Steps[s1].Properties.P".to_owned()
        )));
    }
}
