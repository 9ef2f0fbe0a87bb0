//! What a destination document was when an update was planned against it, so an
//! applier can tell whether somebody changed it since.
//!
//! Octopus versions some documents (deployment and runbook processes, variable sets,
//! step templates carry a `Version` the server bumps on every save); the others carry no
//! such marker, so their content is digested instead. Both sides of the comparison go
//! through the same typed model ([`normalized`]), so a document read from a collection's
//! `/all` and the same document read on its own digest alike.

use octopus_model::ResourceKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::snapshot::{Snapshot, SnapshotError};

/// A destination document as an update was planned against it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Base {
    /// The document's `Version`, for the kinds the server versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// A digest of the whole document ([`digest_json`]).
    pub digest: String,
}

impl Base {
    /// The base of a document in the form the typed model writes it ([`normalized`]).
    pub fn of(document: &Value) -> Self {
        let version = match document.get("Version") {
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        Base {
            version,
            digest: digest_json(document),
        }
    }

    /// Whether `now` is still the document this base describes. A `Version` decides
    /// when both have one: the server bumps it on every save, and content digests can
    /// differ in fields the server fills in on its own.
    pub fn matches(&self, now: &Base) -> bool {
        match (&self.version, &now.version) {
            (Some(planned), Some(current)) => planned == current,
            _ => self.digest == now.digest,
        }
    }
}

impl std::fmt::Display for Base {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.version {
            Some(v) => write!(f, "version {v}"),
            None => write!(f, "digest {}", self.digest),
        }
    }
}

/// A document as the typed model of `kind` writes it: decoded and encoded again, so two
/// reads of one document that differ only in form (member order) compare equal. Kinds a snapshot does not hold are returned as they are.
pub fn normalized(kind: ResourceKind, document: Value) -> Result<Value, SnapshotError> {
    let Some(collection) = Snapshot::collection_of(kind) else {
        return Ok(document);
    };
    let snapshot = Snapshot::from_collections(
        octopus_model::OctopusVersion::new(0, 0, 0),
        [(collection, Value::Array(vec![document]))],
    )?;
    Ok(snapshot
        .to_collections()
        .into_iter()
        .find(|(name, _)| *name == collection)
        .and_then(|(_, items)| match items {
            Value::Array(mut items) if items.len() == 1 => items.pop(),
            _ => None,
        })
        .unwrap_or(Value::Null))
}

/// A stable digest of a JSON value: 64-bit FNV-1a over its compact text with object
/// members sorted, as `fnv1a64:` and 16 hex digits. It detects change, it does not
/// authenticate.
pub fn digest_json(value: &Value) -> String {
    let mut hasher = Fnv1a::default();
    // Sized for the members of a typical document's nested objects at once, so the
    // buffer is allocated once rather than grown.
    feed(&mut hasher, value, &mut Vec::with_capacity(48));
    hasher.finish()
}

/// The digest of raw bytes, in the form of [`digest_json`].
pub fn digest_bytes(bytes: &[u8]) -> String {
    let mut hasher = Fnv1a::default();
    hasher.write(bytes);
    hasher.finish()
}

struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> String {
        // `fnv1a64:` and 16 lower-case hex digits, as `{:016x}` writes them.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(24);
        out.push_str("fnv1a64:");
        for shift in (0..16).rev() {
            out.push(char::from(HEX[((self.0 >> (shift * 4)) & 0xf) as usize]));
        }
        out
    }

    /// Feeds a JSON scalar (or a key, as a JSON string) in its compact text, without
    /// building the text first.
    fn json<T: Serialize + ?Sized>(&mut self, value: &T) {
        // Writing into the hasher cannot fail, and a scalar or a string always
        // serializes: there is nothing to report.
        let _ = serde_json::to_writer(&mut *self, value);
    }
}

impl std::io::Write for Fnv1a {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Fnv1a::write(self, buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Feeds a value in a canonical form: members sorted by key, so member order (which a
/// server need not keep) does not change the digest. `members` is scratch space shared
/// by the whole walk: each object sorts its members above those of the objects it is in.
fn feed<'v>(hasher: &mut Fnv1a, value: &'v Value, members: &mut Vec<(&'v String, &'v Value)>) {
    match value {
        Value::Object(map) => {
            let start = members.len();
            members.extend(map.iter());
            members[start..].sort_by(|a, b| a.0.cmp(b.0));
            hasher.write(b"{");
            for i in start..start + map.len() {
                let (key, v) = members[i];
                hasher.json(key);
                hasher.write(b":");
                feed(hasher, v, members);
                hasher.write(b",");
            }
            members.truncate(start);
            hasher.write(b"}");
        }
        Value::Array(items) => {
            hasher.write(b"[");
            for item in items {
                feed(hasher, item, members);
                hasher.write(b",");
            }
            hasher.write(b"]");
        }
        other => hasher.json(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn member_order_does_not_change_the_digest_but_a_value_does() {
        let a = json!({"Name": "Staging", "Description": "x", "Nested": {"A": 1, "B": [1, 2]}});
        let b = json!({"Nested": {"B": [1, 2], "A": 1}, "Description": "x", "Name": "Staging"});
        let c = json!({"Name": "Staging", "Description": "y", "Nested": {"A": 1, "B": [1, 2]}});
        let d = json!({"Name": "Staging", "Description": "x", "Nested": {"A": 1, "B": [2, 1]}});
        assert_eq!(digest_json(&a), digest_json(&b));
        assert_ne!(digest_json(&a), digest_json(&c));
        assert_ne!(digest_json(&a), digest_json(&d));
        assert!(digest_json(&a).starts_with("fnv1a64:"));
    }

    #[test]
    fn a_version_decides_when_both_sides_have_one() {
        let planned = Base::of(&json!({"Id": "deploymentprocess-Projects-1", "Version": 3}));
        let same_version_other_form = Base::of(
            &json!({"Id": "deploymentprocess-Projects-1", "Version": 3, "LastSnapshotId": null}),
        );
        let saved_since = Base::of(&json!({"Id": "deploymentprocess-Projects-1", "Version": 4}));
        assert!(planned.matches(&same_version_other_form));
        assert!(!planned.matches(&saved_since));
        let unversioned = Base::of(&json!({"Id": "Environments-1", "Name": "Staging"}));
        let edited =
            Base::of(&json!({"Id": "Environments-1", "Name": "Staging", "Description": "edited"}));
        assert_eq!(unversioned.version, None);
        assert!(!unversioned.matches(&edited));
    }

    #[test]
    fn updates_of_existing_documents_carry_the_base_of_the_document_read() {
        let common = |id: &str, env: &str| {
            [
                ("environments", json!([{"Id": env, "Name": "Staging"}])),
                (
                    "lifecycles",
                    json!([{"Id": "Lifecycles-1", "Name": "Default Lifecycle"}]),
                ),
                (
                    "projectgroups",
                    json!([{"Id": "ProjectGroups-1", "Name": "Default Project Group"}]),
                ),
                (
                    "projects",
                    json!([{"Id": id, "Name": "OctoFX", "Description": if id == "Projects-1" { "new" } else { "old" },
                                     "ProjectGroupId": "ProjectGroups-1", "LifecycleId": "Lifecycles-1",
                                     "DeploymentProcessId": format!("deploymentprocess-{id}"),
                                     "VariableSetId": format!("variableset-{id}")}]),
                ),
                (
                    "deploymentprocesses",
                    json!([{"Id": format!("deploymentprocess-{id}"), "ProjectId": id, "Version": 4,
                    "Steps": []}]),
                ),
                (
                    "variables",
                    json!([{"Id": format!("variableset-{id}"), "OwnerId": id, "Version": 2, "Variables": []}]),
                ),
            ]
        };
        let version = octopus_model::OctopusVersion::new(2024, 2, 0);
        let source =
            Snapshot::from_collections(version.clone(), common("Projects-1", "Environments-1"))
                .unwrap();
        let destination =
            Snapshot::from_collections(version, common("Projects-9", "Environments-9")).unwrap();
        let rules = crate::SyncRules::from_toml_str("[select]\nprojects = [\"all\"]\n").unwrap();
        let plan = crate::plan(&source, &destination, &rules).unwrap();
        let op = plan.find(ResourceKind::Project, "OctoFX").unwrap();
        assert_eq!(op.action(), crate::OpAction::Update, "{plan}");
        let read = destination.to_collections();
        let project = read.iter().find(|(c, _)| *c == "projects").unwrap().1[0].clone();
        let expected = Base::of(&normalized(ResourceKind::Project, project).unwrap());
        assert_eq!(op.base(), Some(&expected));
        // What the destination holds after another edit no longer matches.
        let mut edited = read.iter().find(|(c, _)| *c == "projects").unwrap().1[0].clone();
        edited["Description"] = json!("edited by hand");
        let now = Base::of(&normalized(ResourceKind::Project, edited).unwrap());
        assert!(!expected.matches(&now));
    }

    #[test]
    fn normalizing_keeps_content_and_drops_form() {
        let listed = json!({"Id": "Environments-1", "Name": "Staging", "Extra": {"B": 1, "A": 2}});
        let fetched = json!({"Extra": {"A": 2, "B": 1}, "Name": "Staging", "Id": "Environments-1"});
        let a = normalized(ResourceKind::Environment, listed).unwrap();
        let b = normalized(ResourceKind::Environment, fetched).unwrap();
        assert_eq!(digest_json(&a), digest_json(&b));
        let edited = json!({"Id": "Environments-1", "Name": "Staging", "Extra": {"A": 3, "B": 1}});
        let c = normalized(ResourceKind::Environment, edited).unwrap();
        assert_ne!(digest_json(&a), digest_json(&c));
    }
}
