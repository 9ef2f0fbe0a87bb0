//! Fitting a loaded document to the emulated version: a snapshot taken from a newer
//! server loses the fields an older one never had (slugs before 2022.1, persistence
//! settings before 2021.1, and every field of the shim table the version predates).

use octopus_model::{shims, OctopusVersion};
use serde_json::Value;

use crate::spec::CollectionSpec;

/// One step of a path as `shims::unknown_fields` writes it.
#[derive(Debug, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Parses `Steps[0].Actions[1].Container` and `Properties["Octopus.Action.X"]`.
fn parse(path: &str) -> Vec<Seg> {
    let mut segs = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            rest = after;
        } else if let Some(after) = rest.strip_prefix("[\"") {
            let end = after.find("\"]").unwrap_or(after.len());
            segs.push(Seg::Key(after[..end].to_owned()));
            rest = after.get(end + 2..).unwrap_or("");
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']').unwrap_or(after.len());
            if let Ok(i) = after[..end].parse() {
                segs.push(Seg::Index(i));
            }
            rest = after.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            segs.push(Seg::Key(rest[..end].to_owned()));
            rest = &rest[end..];
        }
    }
    segs
}

/// Removes the field at `path`, if it is there.
fn remove_path(doc: &mut Value, path: &str) {
    let segs = parse(path);
    let Some((last, parents)) = segs.split_last() else {
        return;
    };
    let mut node = doc;
    for seg in parents {
        let next = match seg {
            Seg::Key(k) => node.get_mut(k.as_str()),
            Seg::Index(i) => node.get_mut(*i),
        };
        match next {
            Some(n) => node = n,
            None => return,
        }
    }
    if let (Seg::Key(k), Some(map)) = (last, node.as_object_mut()) {
        map.remove(k);
    }
}

/// Drops what a server of `version` would not have stored.
pub(crate) fn to_version(spec: &CollectionSpec, doc: &mut Value, version: &OctopusVersion) {
    for path in shims::unknown_fields(spec.kind, doc, version) {
        remove_path(doc, &path);
    }
    if let Some(map) = doc.as_object_mut() {
        if spec.has_slug && !version.at_least(2022, 1) {
            map.remove("Slug");
        }
        if spec.key == "projects" && !version.at_least(2021, 1) {
            map.remove("PersistenceSettings");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_removes_shim_paths() {
        assert_eq!(
            parse(r#"Steps[0].Actions[1].Properties["Octopus.Action.X"]"#),
            vec![
                Seg::Key("Steps".into()),
                Seg::Index(0),
                Seg::Key("Actions".into()),
                Seg::Index(1),
                Seg::Key("Properties".into()),
                Seg::Key("Octopus.Action.X".into()),
            ]
        );
        let mut doc = json!({"Steps": [{"Actions": [{"Name": "a", "Container": {"Image": "x"}}]}]});
        remove_path(&mut doc, "Steps[0].Actions[0].Container");
        assert_eq!(doc, json!({"Steps": [{"Actions": [{"Name": "a"}]}]}));
        remove_path(&mut doc, "Steps[3].Nothing");
    }
}
