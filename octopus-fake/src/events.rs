//! The audit log: one event per document a write through the API created, changed or
//! deleted, served at `GET /api/{spaceId}/events` and `GET /api/events`.
//!
//! # The shape, and the evidence for it
//!
//! - The event fields follow go-octopusdeploy `pkg/events/event.go` (`Id`, `Category`,
//!   `ChangeDetails`, `Comments`, `Details`, `IdentityEstablishedWith`, `IsService`,
//!   `Message`, `MessageHtml`, `MessageReferences`, `Occurred`, `RelatedDocumentIds`,
//!   `SpaceId`, `UserAgent`, `UserId`, `Username`) and `pkg/events/change_details.go`
//!   (`ChangeDetails{DocumentContext, Differences}`, both untyped there).
//! - The query parameters follow go-octopusdeploy `pkg/events/events_query.go`
//!   (`fromAutoId`, `toAutoId`, `documentTypes`, `regarding`, `users`, `eventCategories`,
//!   `spaces`, `includeSystem`, `excludeDifference`, `skip`, `take`); the envelope is the
//!   ordinary paged collection, newest event first, as recorded `/api/events` answers
//!   show (their `Links.Template` lists the same parameters).
//!
//! Where the evidence is unclear, the fake chooses and says so here:
//!
//! - `AutoId` is not in go-octopusdeploy's `Event` model, although `fromAutoId` and
//!   `toAutoId` are query parameters; the fake adds it as a number that grows by one per
//!   event, and treats `fromAutoId`/`toAutoId` as inclusive bounds.
//! - `Differences` is typed `interface{}` by the Go client; the fake fills it with an RFC
//!   6902 JSON patch from the document before the write to the document after it (for a
//!   create, from an empty object; `null` for a delete), and `DocumentContext` with the
//!   document after the write (before it, for a delete). Secrets are never in either:
//!   the stored documents do not hold them. The fields the server stamps on every save
//!   (`LastModifiedOn`, `LastModifiedBy`) are left out of the patch.
//! - `Message` is the fake's own wording (`Modified Projects OctoFX`);
//!   `IdentityEstablishedWith` is `API key` for every request.
//! - The document type `documentTypes` filters on is the prefix of the document's id
//!   (`Projects` for `Projects-12`, `deploymentprocess` for
//!   `deploymentprocess-Projects-12`).
//! - A write that changes several documents (creating a project creates its process,
//!   variable set and channel) records one event per document, in the order of the
//!   writes.
//!
//! With a retention (`--event-retention N`) the oldest events are dropped, so a client
//! whose checkpoint is older than the log can tell: the event its checkpoint names is no
//! longer there.

use std::collections::VecDeque;

use serde_json::{json, Value};

use crate::context::{ApiRequest, Verb};
use crate::paging;
use crate::reply::{Answer, ApiError, Reply};
use crate::store::Change;

/// Who made a request, as the audit log records it.
#[derive(Clone, Debug)]
pub(crate) struct Actor {
    /// The user's id.
    pub user_id: String,
    /// The user's name.
    pub username: String,
    /// The request's `User-Agent` header.
    pub user_agent: String,
}

/// The events recorded so far, oldest first.
#[derive(Debug, Default)]
pub(crate) struct EventLog {
    events: VecDeque<Value>,
    last_auto_id: u64,
    retention: Option<usize>,
}

impl EventLog {
    /// Keeps at most `retention` events (the newest).
    pub fn set_retention(&mut self, retention: Option<usize>) {
        self.retention = retention;
        self.trim();
    }

    fn trim(&mut self) {
        if let Some(keep) = self.retention {
            while self.events.len() > keep {
                self.events.pop_front();
            }
        }
    }

    /// Records one event per change.
    pub fn record(&mut self, changes: Vec<Change>, actor: &Actor, occurred: &str, prefix: &str) {
        for change in changes {
            self.last_auto_id += 1;
            let event = event_of(self.last_auto_id, change, actor, occurred, prefix);
            self.events.push_back(event);
        }
        self.trim();
    }

    /// Answers `GET /api/events` (`space` is `None`) or `GET /api/{space}/events`.
    pub fn list(&self, space: Option<&str>, path: &str, req: &ApiRequest) -> Answer {
        if req.verb != Verb::Get {
            return Err(ApiError::method_not_allowed());
        }
        let filter = Filter::of(space, req)?;
        let (skip, take) = paging::window(req)?;
        let exclude_difference = req
            .param("excludeDifference")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let matching: Vec<&Value> = self
            .events
            .iter()
            .rev()
            .filter(|e| filter.admits(e))
            .collect();
        let total = matching.len();
        let items = matching
            .into_iter()
            .skip(skip)
            .take(take)
            .map(|e| {
                let mut e = e.clone();
                if exclude_difference {
                    e["ChangeDetails"]["Differences"] = Value::Null;
                }
                e
            })
            .collect();
        let mut body = paging::envelope(path, "Event", req, skip, take, total, items);
        body["Links"]["Template"] = json!(format!(
            "{path}{{?skip,regarding,users,eventCategories,fromAutoId,toAutoId,documentTypes,take,spaces,includeSystem,excludeDifference}}"
        ));
        Ok(Reply::ok(body))
    }

    /// Answers `GET …/events/{id}`.
    pub fn get(&self, space: Option<&str>, id: &str) -> Answer {
        self.events
            .iter()
            .find(|e| {
                e["Id"].as_str().is_some_and(|i| i.eq_ignore_ascii_case(id))
                    && space.is_none_or(|s| same(&e["SpaceId"], s))
            })
            .map(|e| Reply::ok(e.clone()))
            .ok_or_else(|| ApiError::not_found(id))
    }
}

fn same(value: &Value, text: &str) -> bool {
    value.as_str().is_some_and(|v| v.eq_ignore_ascii_case(text))
}

/// The filters of one request.
struct Filter {
    from: Option<u64>,
    to: Option<u64>,
    document_types: Vec<String>,
    regarding: Vec<String>,
    users: Vec<String>,
    categories: Vec<String>,
    spaces: Vec<String>,
    include_system: bool,
}

impl Filter {
    fn of(space: Option<&str>, req: &ApiRequest) -> Result<Filter, ApiError> {
        let number = |name: &str| -> Result<Option<u64>, ApiError> {
            match req.param(name) {
                None | Some("") => Ok(None),
                Some(v) => v.trim().parse::<u64>().map(Some).map_err(|_| {
                    let message = format!("The value '{v}' is not valid for {name}.");
                    ApiError::bad_request(message.clone(), vec![message])
                }),
            }
        };
        let list = |name: &str| -> Vec<String> {
            req.param(name)
                .unwrap_or("")
                .split(',')
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let (spaces, include_system) = match space {
            Some(s) => (vec![s.to_lowercase()], false),
            None => (
                list("spaces"),
                req.param("includeSystem")
                    .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            ),
        };
        Ok(Filter {
            from: number("fromAutoId")?,
            to: number("toAutoId")?,
            document_types: list("documentTypes"),
            regarding: list("regarding"),
            users: list("users"),
            categories: list("eventCategories"),
            spaces,
            include_system,
        })
    }

    fn admits(&self, event: &Value) -> bool {
        let auto_id = event["AutoId"].as_u64().unwrap_or(0);
        let lower = |v: &Value| v.as_str().unwrap_or("").to_lowercase();
        let related: Vec<String> = event["RelatedDocumentIds"]
            .as_array()
            .map(|ids| ids.iter().map(lower).collect())
            .unwrap_or_default();
        let in_space = match event["SpaceId"].as_str() {
            Some(s) => self.spaces.is_empty() || self.spaces.contains(&s.to_lowercase()),
            None => self.spaces.is_empty() || self.include_system,
        };
        self.from.is_none_or(|f| auto_id >= f)
            && self.to.is_none_or(|t| auto_id <= t)
            && in_space
            && (self.document_types.is_empty()
                || related.first().is_some_and(|id| {
                    self.document_types
                        .contains(&document_type(id).to_lowercase())
                }))
            && (self.regarding.is_empty() || self.regarding.iter().any(|r| related.contains(r)))
            && (self.users.is_empty() || self.users.contains(&lower(&event["UserId"])))
            && (self.categories.is_empty() || self.categories.contains(&lower(&event["Category"])))
    }
}

/// The document type of an id: `Projects` for `Projects-12`, `deploymentprocess` for
/// `deploymentprocess-Projects-12`.
pub(crate) fn document_type(id: &str) -> &str {
    match id.split_once('-') {
        Some((head, _)) => head,
        None => id,
    }
}

fn event_of(auto_id: u64, change: Change, actor: &Actor, occurred: &str, prefix: &str) -> Value {
    let (category, context, differences) = match (&change.before, &change.after) {
        (None, Some(after)) => (
            "Created",
            after.clone(),
            Value::Array(json_patch(&json!({}), after)),
        ),
        (Some(before), Some(after)) => (
            "Modified",
            after.clone(),
            Value::Array(json_patch(before, after)),
        ),
        (Some(before), None) => ("Deleted", before.clone(), Value::Null),
        (None, None) => ("Modified", Value::Null, Value::Null),
    };
    let mut related = vec![change.id.clone()];
    for field in ["ProjectId", "OwnerId", "TenantId", "RunbookId"] {
        if let Some(id) = context[field].as_str() {
            if !id.is_empty() && !related.iter().any(|r| r.eq_ignore_ascii_case(id)) {
                related.push(id.to_owned());
            }
        }
    }
    let name = context["Name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .unwrap_or(&change.id)
        .to_owned();
    let kind = document_type(&change.id);
    let message = format!("{category} {kind} {name}");
    let start = category.len() + kind.len() + 2;
    let id = format!("Events-{auto_id}");
    json!({
        "Id": id,
        "AutoId": auto_id,
        "RelatedDocumentIds": related,
        "Category": category,
        "UserId": actor.user_id,
        "Username": actor.username,
        "IsService": false,
        "IdentityEstablishedWith": "API key",
        "UserAgent": actor.user_agent,
        "Occurred": occurred,
        "Message": message,
        "MessageHtml": format!("{category} {kind} <a href='#/{}'>{name}</a>", change.id),
        "MessageReferences": [{"ReferencedDocumentId": change.id, "StartIndex": start, "Length": name.chars().count()}],
        "Comments": null,
        "Details": null,
        "ChangeDetails": {"DocumentContext": context, "Differences": differences},
        "IpAddress": null,
        "SpaceId": change.space_id,
        "Links": {"Self": format!("{prefix}/api/events/{id}")},
    })
}

/// The top-level fields the server stamps on every save; a patch leaves them out, so a
/// difference shows what the writer changed.
const BOOKKEEPING: [&str; 2] = ["/LastModifiedOn", "/LastModifiedBy"];

/// An RFC 6902 patch that turns `before` into `after` (the server's bookkeeping fields
/// aside): objects are compared key by key, arrays of the same length item by item,
/// anything else is replaced.
pub(crate) fn json_patch(before: &Value, after: &Value) -> Vec<Value> {
    let mut ops = Vec::new();
    diff_into("", before, after, &mut ops);
    ops.retain(|op| !BOOKKEEPING.contains(&op["path"].as_str().unwrap_or("")));
    ops
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn diff_into(path: &str, before: &Value, after: &Value, ops: &mut Vec<Value>) {
    if before == after {
        return;
    }
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            for (key, old) in b {
                let here = format!("{path}/{}", escape(key));
                match a.get(key) {
                    Some(new) => diff_into(&here, old, new, ops),
                    None => ops.push(json!({"op": "remove", "path": here})),
                }
            }
            for (key, new) in a {
                if !b.contains_key(key) {
                    let here = format!("{path}/{}", escape(key));
                    ops.push(json!({"op": "add", "path": here, "value": new}));
                }
            }
        }
        (Value::Array(b), Value::Array(a)) if b.len() == a.len() => {
            for (i, (old, new)) in b.iter().zip(a).enumerate() {
                diff_into(&format!("{path}/{i}"), old, new, ops);
            }
        }
        _ => ops.push(json!({"op": "replace", "path": path, "value": after})),
    }
}

/// Applies a patch made by [`json_patch`] (for tests of the round trip).
#[cfg(test)]
fn apply_patch(doc: &mut Value, patch: &[Value]) {
    for op in patch {
        let path = op["path"].as_str().unwrap_or("");
        let (parent, last) = path.rsplit_once('/').unwrap_or(("", path));
        let key = last.replace("~1", "/").replace("~0", "~");
        match op["op"].as_str() {
            Some("replace") if path.is_empty() => *doc = op["value"].clone(),
            Some("replace") => match doc.pointer_mut(parent) {
                Some(Value::Array(items)) => {
                    if let Ok(i) = key.parse::<usize>() {
                        items[i] = op["value"].clone();
                    }
                }
                Some(Value::Object(map)) => {
                    map.insert(key, op["value"].clone());
                }
                _ => {}
            },
            Some("add") => {
                if let Some(Value::Object(map)) = doc.pointer_mut(parent) {
                    map.insert(key, op["value"].clone());
                }
            }
            Some("remove") => {
                if let Some(Value::Object(map)) = doc.pointer_mut(parent) {
                    map.remove(&key);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_turn_the_old_document_into_the_new_one() {
        let before = json!({"Name": "Web", "Tags": ["a", "b"], "Settings": {"x/y": 1, "gone": true}, "List": [1]});
        let after = json!({"Name": "Web 2", "Tags": ["a", "c"], "Settings": {"x/y": 2, "new": null}, "List": [1, 2]});
        let patch = json_patch(&before, &after);
        assert!(patch.contains(&json!({"op": "replace", "path": "/Name", "value": "Web 2"})));
        assert!(patch.contains(&json!({"op": "replace", "path": "/Settings/x~1y", "value": 2})));
        assert!(patch.contains(&json!({"op": "remove", "path": "/Settings/gone"})));
        let mut doc = before.clone();
        apply_patch(&mut doc, &patch);
        let stamped = json!({"Name": "Web", "LastModifiedOn": "2026-01-01T00:00:00.000+00:00"});
        assert!(json_patch(&json!({"Name": "Web"}), &stamped).is_empty());
        assert_eq!(doc, after);
        assert!(json_patch(&after, &after).is_empty());
    }

    #[test]
    fn document_types_are_id_prefixes() {
        assert_eq!(document_type("Projects-12"), "Projects");
        assert_eq!(
            document_type("deploymentprocess-Projects-12"),
            "deploymentprocess"
        );
    }
}
