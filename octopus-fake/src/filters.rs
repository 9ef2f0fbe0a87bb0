//! The list filters the real server applies: `ids`, `partialName`, `name`, and the
//! kind-specific ones (tenants by `projectId` and `tags`, feeds by `feedType`, library
//! variable sets by `contentType`, accounts by `accountType`).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::context::{ApiRequest, Ctx};
use crate::spec::CollectionSpec;
use crate::store::text;

/// The `ids` parameter as a list.
pub(crate) fn ids(req: &ApiRequest) -> Option<Vec<String>> {
    let raw = req.param("ids")?;
    Some(
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

fn list_param(req: &ApiRequest, name: &str) -> Vec<String> {
    req.param(name)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The filters of one list request.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    partial_name: Option<String>,
    name: Option<(String, bool)>,
    project_id: Option<String>,
    tags: Vec<String>,
    feed_types: Vec<String>,
    content_type: Option<String>,
    account_types: Vec<String>,
    name_field: &'static str,
}

impl Filter {
    /// Reads the filters a collection understands; others are ignored, as the real
    /// server ignores unknown parameters.
    pub fn from_request(spec: &CollectionSpec, req: &ApiRequest) -> Self {
        let name_field = if spec.key == "users" {
            "Username"
        } else {
            "Name"
        };
        let lower = |s: &str| s.trim().to_lowercase();
        // `name` is a "contains" match on projects and tenants (the 2026 reference calls
        // it obsolete there) and exact elsewhere.
        let contains = matches!(spec.key, "projects" | "tenants");
        let mut f = Filter {
            partial_name: req
                .param("partialName")
                .filter(|s| !s.is_empty())
                .map(lower),
            name: req
                .param("name")
                .filter(|s| !s.is_empty())
                .map(|n| (lower(n), contains)),
            name_field,
            ..Filter::default()
        };
        match spec.key {
            "tenants" => {
                f.project_id = req
                    .param("projectId")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned);
                f.tags = list_param(req, "tags");
            }
            "feeds" => f.feed_types = list_param(req, "feedType"),
            "libraryvariablesets" => {
                f.content_type = req
                    .param("contentType")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned);
            }
            "accounts" => f.account_types = list_param(req, "accountType"),
            _ => {}
        }
        f
    }

    /// Whether `doc` passes.
    pub fn matches(&self, _ctx: &Ctx<'_>, doc: &Value) -> bool {
        // Only lower-case the name when a name filter needs it: unfiltered lists stay cheap.
        let name = if self.partial_name.is_some() || self.name.is_some() {
            text(doc, self.name_field).to_lowercase()
        } else {
            String::new()
        };
        if let Some(p) = &self.partial_name {
            if !name.contains(p.as_str()) {
                return false;
            }
        }
        if let Some((n, contains)) = &self.name {
            let ok = if *contains {
                name.contains(n.as_str())
            } else {
                name.trim() == n
            };
            if !ok {
                return false;
            }
        }
        if let Some(project) = &self.project_id {
            let connected = doc
                .get("ProjectEnvironments")
                .and_then(Value::as_object)
                .is_some_and(|m| m.keys().any(|k| k.eq_ignore_ascii_case(project)));
            if !connected {
                return false;
            }
        }
        if !self.tags.is_empty() && !tags_match(&self.tags, doc) {
            return false;
        }
        if !self.feed_types.is_empty()
            && !self
                .feed_types
                .iter()
                .any(|t| t.eq_ignore_ascii_case(text(doc, "FeedType")))
        {
            return false;
        }
        if let Some(ct) = &self.content_type {
            if !ct.eq_ignore_ascii_case(text(doc, "ContentType")) {
                return false;
            }
        }
        if !self.account_types.is_empty()
            && !self
                .account_types
                .iter()
                .any(|t| t.eq_ignore_ascii_case(text(doc, "AccountType")))
        {
            return false;
        }
        true
    }
}

/// Tenant tag filtering as Octopus does it: tags of one tag set are alternatives (OR),
/// tag sets must all be satisfied (AND).
fn tags_match(wanted: &[String], doc: &Value) -> bool {
    let has: Vec<String> = doc
        .get("TenantTags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_lowercase)
                .collect()
        })
        .unwrap_or_default();
    let mut by_set: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for tag in wanted {
        let set = tag.split('/').next().unwrap_or("").to_lowercase();
        by_set.entry(set).or_default().push(tag.to_lowercase());
    }
    by_set
        .values()
        .all(|alternatives| alternatives.iter().any(|t| has.contains(t)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tags_are_or_within_a_set_and_and_across_sets() {
        let doc = json!({"TenantTags": ["Tier/Gold", "Region/EU"]});
        let t = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(tags_match(&t(&["Tier/Gold", "Tier/Silver"]), &doc));
        assert!(tags_match(&t(&["tier/gold", "Region/EU"]), &doc));
        assert!(!tags_match(&t(&["Tier/Gold", "Region/US"]), &doc));
    }
}
