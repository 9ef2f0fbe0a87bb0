//! The name index of one side: every item by kind and trimmed, case-insensitive name,
//! and every id back to its name.
//!
//! Two items of one kind with the same name are kept as a duplicate and reported when
//! looked up, never resolved by picking one. Built-ins (the default worker pool and
//! machine policy, built-in feeds) are also indexed by what makes them built-in, so they
//! match their counterpart whatever their names.

use std::collections::BTreeMap;

use octopus_model::{name_key, ResourceKind};

use crate::snapshot::Snapshot;

/// The result of looking a name up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// Exactly one item has the name.
    Found(&'a str),
    /// No item has the name.
    Missing,
    /// Several items have the name; the count.
    Duplicate(usize),
}

/// One indexed item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The id as received.
    pub id: String,
    /// The name as received.
    pub name: String,
    /// The owning project's id (channels, runbooks).
    pub owner: Option<String>,
    /// The built-in role, if any (`default-worker-pool`, `feed:BuiltIn`, …).
    pub builtin: Option<String>,
}

/// The index of one side. Maps are nested (kind, then owner key, then name key) so a
/// lookup can borrow its keys instead of building owned ones.
#[derive(Clone, Debug, Default)]
pub struct NameIndex {
    by_name: BTreeMap<ResourceKind, BTreeMap<String, BTreeMap<String, Vec<String>>>>,
    by_id: BTreeMap<ResourceKind, BTreeMap<String, Entry>>,
    by_builtin: BTreeMap<ResourceKind, BTreeMap<String, String>>,
}

fn lower(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

/// Calls `f` with `s` in lower case (as [`lower`] makes it); short ASCII text, which ids
/// and most names are, is folded on the stack instead of in a new string.
fn with_lower<R>(s: &str, f: impl FnOnce(&str) -> R) -> R {
    let mut buf = [0u8; 96];
    if s.is_ascii() && s.len() <= buf.len() {
        let folded = &mut buf[..s.len()];
        folded.copy_from_slice(s.as_bytes());
        folded.make_ascii_lowercase();
        // ASCII bytes are UTF-8; the fallback is never taken.
        match std::str::from_utf8(folded) {
            Ok(text) => f(text),
            Err(_) => f(&lower(s)),
        }
    } else {
        f(&lower(s))
    }
}

impl NameIndex {
    /// Indexes a snapshot.
    pub fn build(snap: &Snapshot) -> Self {
        let mut ix = NameIndex::default();
        macro_rules! top {
            ($items:expr, $kind:expr, $builtin:expr) => {
                for item in &$items {
                    if let Some(id) = item.id.get() {
                        #[allow(clippy::redundant_closure_call)]
                        let builtin: Option<String> = ($builtin)(item);
                        ix.add($kind, id.as_str(), &item.name, None, builtin);
                    }
                }
            };
        }
        top!(snap.environments, ResourceKind::Environment, |_| None::<
            String,
        >);
        top!(
            snap.parent_environments,
            ResourceKind::ParentEnvironment,
            |_| None::<String>
        );
        top!(
            snap.deployment_freezes,
            ResourceKind::DeploymentFreeze,
            |_| None::<String>
        );
        top!(snap.project_groups, ResourceKind::ProjectGroup, |_| None::<
            String,
        >);
        top!(snap.projects, ResourceKind::Project, |_| None::<String>);
        top!(snap.lifecycles, ResourceKind::Lifecycle, |_| None::<String>);
        top!(
            snap.library_variable_sets,
            ResourceKind::LibraryVariableSet,
            |_| None::<String>
        );
        top!(snap.tag_sets, ResourceKind::TagSet, |_| None::<String>);
        top!(snap.tenants, ResourceKind::Tenant, |_| None::<String>);
        top!(snap.accounts, ResourceKind::Account, |_| None::<String>);
        top!(snap.certificates, ResourceKind::Certificate, |_| None::<
            String,
        >);
        top!(snap.machines, ResourceKind::Machine, |_| None::<String>);
        top!(snap.action_templates, ResourceKind::ActionTemplate, |_| {
            None::<String>
        });
        top!(snap.feeds, ResourceKind::Feed, |f: &octopus_model::Feed| {
            if f.is_built_in() {
                f.feed_type.get().map(|t| format!("feed:{t}"))
            } else {
                None
            }
        });
        top!(
            snap.worker_pools,
            ResourceKind::WorkerPool,
            |p: &octopus_model::WorkerPool| {
                p.is_default.get_or(false).then(|| "default".to_owned())
            }
        );
        top!(
            snap.machine_policies,
            ResourceKind::MachinePolicy,
            |p: &octopus_model::MachinePolicy| {
                p.is_default.get_or(false).then(|| "default".to_owned())
            }
        );
        top!(snap.teams, ResourceKind::Team, |t: &octopus_model::Team| {
            t.is_built_in().then(|| "system".to_owned())
        });
        top!(
            snap.user_roles,
            ResourceKind::UserRole,
            |r: &octopus_model::UserRole| { r.is_built_in().then(|| "built-in".to_owned()) }
        );
        for user in &snap.users {
            if let Some(id) = user.id.get() {
                ix.add(ResourceKind::User, id.as_str(), &user.username, None, None);
            }
        }
        for c in &snap.channels {
            if let Some(id) = c.id.get() {
                let owner = c.project_id.get().map(|p| p.as_str().to_owned());
                let role = c.is_default.get_or(false).then(|| "default".to_owned());
                ix.add(ResourceKind::Channel, id.as_str(), &c.name, owner, role);
            }
        }
        for r in &snap.runbooks {
            if let Some(id) = r.id.get() {
                let owner = r.project_id.get().map(|p| p.as_str().to_owned());
                ix.add(ResourceKind::Runbook, id.as_str(), &r.name, owner, None);
            }
        }
        ix
    }

    /// Adds an item.
    pub fn add(
        &mut self,
        kind: ResourceKind,
        id: &str,
        name: &str,
        owner: Option<String>,
        builtin: Option<String>,
    ) {
        let owner_key = owner.as_deref().map(lower).unwrap_or_default();
        self.by_name
            .entry(kind)
            .or_default()
            .entry(owner_key)
            .or_default()
            .entry(name_key(name))
            .or_default()
            .push(id.to_owned());
        if let Some(b) = &builtin {
            self.by_builtin
                .entry(kind)
                .or_default()
                .entry(b.clone())
                .or_insert_with(|| id.to_owned());
        }
        self.by_id.entry(kind).or_default().insert(
            lower(id),
            Entry {
                id: id.to_owned(),
                name: name.to_owned(),
                owner,
                builtin,
            },
        );
    }

    /// The item with an id.
    pub fn by_id(&self, kind: ResourceKind, id: &str) -> Option<&Entry> {
        let ids = self.by_id.get(&kind)?;
        with_lower(id, |id| ids.get(id))
    }

    /// A top-level item by name.
    pub fn lookup(&self, kind: ResourceKind, name: &str) -> Lookup<'_> {
        self.lookup_in(kind, None, name)
    }

    /// An item by name inside an owner (a project's channels and runbooks).
    pub fn lookup_in(&self, kind: ResourceKind, owner: Option<&str>, name: &str) -> Lookup<'_> {
        let names = self
            .by_name
            .get(&kind)
            .and_then(|owners| with_lower(owner.unwrap_or(""), |o| owners.get(o)));
        // A name key is the trimmed name in lower case.
        let ids = names.and_then(|names| with_lower(name.trim(), |n| names.get(n)));
        match ids {
            None => Lookup::Missing,
            Some(ids) if ids.len() == 1 => Lookup::Found(&ids[0]),
            Some(ids) => Lookup::Duplicate(ids.len()),
        }
    }

    /// The built-in item of a kind with a role (`default`, `feed:BuiltIn`).
    pub fn builtin(&self, kind: ResourceKind, role: &str) -> Option<&str> {
        self.by_builtin.get(&kind)?.get(role).map(String::as_str)
    }

    /// Names that more than one item of a kind (in one owner) share, with their count.
    pub fn duplicates(&self) -> Vec<(ResourceKind, Option<String>, String, usize)> {
        self.by_name
            .iter()
            .flat_map(|(kind, owners)| {
                owners.iter().flat_map(move |(owner, names)| {
                    names.values().map(move |ids| (kind, owner, ids))
                })
            })
            .filter(|(_, _, ids)| ids.len() > 1)
            .map(|(kind, owner, ids)| {
                let name = self
                    .by_id(*kind, &ids[0])
                    .map(|e| e.name.clone())
                    .unwrap_or_default();
                let owner = (!owner.is_empty()).then(|| owner.clone());
                (*kind, owner, name, ids.len())
            })
            .collect()
    }
}

/// Whether an item of a kind is a built-in by name (the per-space defaults every space
/// has and that are matched, never created).
pub fn is_builtin_name(kind: ResourceKind, name: &str) -> bool {
    let key = name_key(name);
    matches!(
        (kind, key.as_str()),
        (ResourceKind::Lifecycle, "default lifecycle")
            | (ResourceKind::ProjectGroup, "default project group")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookups_are_trimmed_case_insensitive_and_report_duplicates() {
        let snap = Snapshot::from_collections(
            octopus_model::OctopusVersion::new(2024, 1, 0),
            [
                (
                    "environments",
                    json!([
                        {"Id": "Environments-1", "Name": " Staging "},
                        {"Id": "Environments-2", "Name": "Test"},
                        {"Id": "Environments-3", "Name": "test"}
                    ]),
                ),
                (
                    "workerpools",
                    json!([{"Id": "WorkerPools-9", "Name": "Pool A", "IsDefault": true}]),
                ),
                (
                    "channels",
                    json!([{"Id": "Channels-1", "Name": "Default", "ProjectId": "Projects-1"}]),
                ),
            ],
        )
        .unwrap();
        let ix = NameIndex::build(&snap);
        assert_eq!(
            ix.lookup(ResourceKind::Environment, "STAGING"),
            Lookup::Found("Environments-1")
        );
        assert_eq!(
            ix.lookup(ResourceKind::Environment, "Test"),
            Lookup::Duplicate(2)
        );
        assert_eq!(
            ix.lookup(ResourceKind::Environment, "Stag"),
            Lookup::Missing
        );
        assert_eq!(
            ix.builtin(ResourceKind::WorkerPool, "default"),
            Some("WorkerPools-9")
        );
        assert_eq!(
            ix.lookup_in(ResourceKind::Channel, Some("projects-1"), "default"),
            Lookup::Found("Channels-1")
        );
        assert_eq!(
            ix.lookup_in(ResourceKind::Channel, Some("Projects-2"), "Default"),
            Lookup::Missing
        );
        assert_eq!(
            ix.by_id(ResourceKind::Environment, "environments-2")
                .unwrap()
                .name,
            "Test"
        );
        assert_eq!(ix.duplicates().len(), 1);
    }
}
