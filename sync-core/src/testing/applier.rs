//! An applier that applies a [`Plan`] to a destination [`Snapshot`] in memory, the way
//! the applier contract in [`crate::plan`] describes and the way a real server answers:
//! creates get new ids, a project comes with its deployment process, variable set and
//! "Default" channel, a runbook with its process, a library variable set with its
//! variable set (as [`octopus_model::owned`] makes them); saved processes and variable
//! sets get ids for new steps, actions, package references and variables; secrets read
//! back as "set, value hidden"; a runbook snapshot is kept in
//! [`InMemoryApplier::runbook_snapshots`] and published on its runbook; a certificate
//! created from a file gets its data slot filled (the file is not read: a marker stands
//! for its bytes).
//!
//! What is sent is what the HTTP applier of `octosync` sends: the books are kept by
//! [`IdLedger`], bodies are prepared by it, and an update lays the plan's changed
//! top-level fields over the current document ([`overlay`]), so properties proved
//! against this applier hold for the applier users run.

use octopus_model::{
    owned, Channel, DeploymentProcess, Resource, ResourceKind, RunbookProcess, VariableSet,
};
use serde_json::Value;

use crate::ledger::{changed_fields, fill_certificate, overlay, IdLedger, LedgerError};
use crate::plan::{Change, ItemRef, Plan, DEFAULT_SECRET_PLACEHOLDER};
use crate::snapshot::Snapshot;

/// Why a plan could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// A reference or target names something not written earlier.
    #[error(transparent)]
    Unresolved(#[from] LedgerError),
    /// An update's target does not exist.
    #[error("{kind} {id} does not exist")]
    NotFound {
        /// The kind.
        kind: ResourceKind,
        /// The id.
        id: String,
    },
    /// A body did not decode as its kind.
    #[error("{0}")]
    Decode(String),
    /// The kind cannot be written by this applier.
    #[error("cannot write {0}")]
    Unsupported(ResourceKind),
}

/// Applies plans to a snapshot in memory.
pub struct InMemoryApplier {
    /// The destination as it is after the plans applied so far.
    pub snapshot: Snapshot,
    /// What the creates and saves answered.
    ledger: IdLedger,
    next: u64,
    /// How many writes (creates and updates) were applied.
    pub writes: usize,
    /// The runbook snapshots created, as the server answered them.
    pub runbook_snapshots: Vec<Value>,
}

fn prefix(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Environment => "Environments",
        ResourceKind::ProjectGroup => "ProjectGroups",
        ResourceKind::Project => "Projects",
        ResourceKind::Lifecycle => "Lifecycles",
        ResourceKind::Channel => "Channels",
        ResourceKind::Runbook => "Runbooks",
        ResourceKind::LibraryVariableSet => "LibraryVariableSets",
        ResourceKind::TagSet => "TagSets",
        ResourceKind::Tenant => "Tenants",
        ResourceKind::Feed => "Feeds",
        ResourceKind::Account => "Accounts",
        ResourceKind::Certificate => "Certificates",
        ResourceKind::WorkerPool => "WorkerPools",
        ResourceKind::MachinePolicy => "MachinePolicies",
        ResourceKind::ActionTemplate => "ActionTemplates",
        ResourceKind::Team => "Teams",
        ResourceKind::ScopedUserRole => "ScopedUserRoles",
        ResourceKind::UserRole => "UserRoles",
        ResourceKind::RunbookSnapshot => "RunbookSnapshots",
        ResourceKind::ParentEnvironment => "ParentEnvironments",
        ResourceKind::DeploymentFreeze => "DeploymentFreezes",
        _ => "Items",
    }
}

/// What a GET returns after a write: secrets are set but hidden.
fn read_back(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.contains_key("HasValue") && map.get("NewValue").is_some_and(|v| !v.is_null()) {
                map.insert("HasValue".to_owned(), Value::Bool(true));
                map.insert("NewValue".to_owned(), Value::Null);
            }
            let sensitive = map.get("IsSensitive") == Some(&Value::Bool(true))
                || map.get("Type").and_then(Value::as_str) == Some("Sensitive");
            if sensitive && map.contains_key("Value") {
                map.insert("Value".to_owned(), Value::Null);
            }
            map.values_mut().for_each(read_back);
        }
        Value::Array(items) => items.iter_mut().for_each(read_back),
        _ => {}
    }
}

fn decode<T: Resource>(body: Value) -> Result<T, ApplyError> {
    octopus_model::decode_value(body).map_err(|e| ApplyError::Decode(e.to_string()))
}

fn find<T: Resource>(items: &[T], id: &str) -> Option<Value> {
    items
        .iter()
        .find(|i| i.id().is_some_and(|x| x.as_ref().eq_ignore_ascii_case(id)))
        .and_then(|i| serde_json::to_value(i).ok())
}

fn insert<T: Resource>(items: &mut Vec<T>, body: Value, id: String) -> Result<Value, ApplyError> {
    let mut item: T = decode(body)?;
    item.set_id(id.into());
    let value = serde_json::to_value(&item).map_err(|e| ApplyError::Decode(e.to_string()))?;
    items.push(item);
    Ok(value)
}

fn replace<T: Resource>(items: &mut [T], id: &str, body: Value) -> Result<(), ApplyError> {
    let slot = items
        .iter_mut()
        .find(|i| i.id().is_some_and(|x| x.as_ref().eq_ignore_ascii_case(id)))
        .ok_or(ApplyError::NotFound {
            kind: T::KIND,
            id: id.to_owned(),
        })?;
    // Read-only fields the server keeps whatever a PUT says.
    let mut body = body;
    if let (Ok(Value::Object(old)), Value::Object(new)) = (serde_json::to_value(&*slot), &mut body)
    {
        for k in [
            "DeploymentProcessId",
            "VariableSetId",
            "RunbookProcessId",
            "SpaceId",
        ] {
            if new.get(k).is_none_or(Value::is_null) {
                if let Some(v) = old.get(k) {
                    new.insert(k.to_owned(), v.clone());
                }
            }
        }
    }
    let mut item: T = decode(body)?;
    if let Some(existing) = slot.id().cloned() {
        item.set_id(existing);
    }
    *slot = item;
    Ok(())
}

impl InMemoryApplier {
    /// An applier over a destination snapshot.
    pub fn new(destination: Snapshot) -> Self {
        Self {
            snapshot: destination,
            ledger: IdLedger::new(),
            next: 0,
            writes: 0,
            runbook_snapshots: Vec::new(),
        }
    }

    fn next_number(&mut self) -> u64 {
        self.next += 1;
        90_000 + self.next
    }

    fn guid(&mut self) -> String {
        let n = self.next_number();
        format!("00000000-0000-4000-8000-{n:012}")
    }

    /// Applies a plan: every create, update and delete, layer by layer.
    pub fn apply(&mut self, plan: &Plan) -> Result<(), ApplyError> {
        for op in plan.ops() {
            match &op.change {
                Change::Unchanged { .. } | Change::Skip { .. } => {}
                Change::Delete { target, .. } => {
                    let id = self.ledger.target_id(target)?;
                    self.writes += 1;
                    self.delete(op.item.kind, &id);
                }
                Change::Create(create) => {
                    let mut body = self.ledger.prepare_body(op, DEFAULT_SECRET_PLACEHOLDER)?;
                    if let Some(file) = &create.certificate_file {
                        let password = file.pkcs12.then_some("(password)");
                        fill_certificate(&mut body, &format!("(bytes of {})", file.file), password);
                    }
                    read_back(&mut body);
                    self.writes += 1;
                    self.create(&op.item, body)?;
                }
                Change::Update(update) => {
                    let id = self.ledger.target_id(&update.target)?;
                    let mut body = self.ledger.prepare_body(op, DEFAULT_SECRET_PLACEHOLDER)?;
                    let fields = changed_fields(op);
                    if !fields.is_empty() {
                        body = overlay(&fields, self.current(op.item.kind, &id)?, body);
                    }
                    self.keep_only_held_secrets(op.item.kind, &id, &mut body);
                    read_back(&mut body);
                    self.writes += 1;
                    self.update(&op.item, &id, body)?;
                }
            }
        }
        Ok(())
    }

    /// The document `id` as a GET returns it now.
    fn current(&self, kind: ResourceKind, id: &str) -> Result<Value, ApplyError> {
        let s = &self.snapshot;
        let found = match kind {
            ResourceKind::Environment => find(&s.environments, id),
            ResourceKind::ProjectGroup => find(&s.project_groups, id),
            ResourceKind::Project => find(&s.projects, id),
            ResourceKind::Lifecycle => find(&s.lifecycles, id),
            ResourceKind::Channel => find(&s.channels, id),
            ResourceKind::Runbook => find(&s.runbooks, id),
            ResourceKind::Feed => find(&s.feeds, id),
            ResourceKind::WorkerPool => find(&s.worker_pools, id),
            ResourceKind::MachinePolicy => find(&s.machine_policies, id),
            ResourceKind::ParentEnvironment => find(&s.parent_environments, id),
            ResourceKind::DeploymentFreeze => find(&s.deployment_freezes, id),
            ResourceKind::LibraryVariableSet => find(&s.library_variable_sets, id),
            ResourceKind::TagSet => find(&s.tag_sets, id),
            ResourceKind::ActionTemplate => find(&s.action_templates, id),
            ResourceKind::UserRole => find(&s.user_roles, id),
            ResourceKind::Tenant => find(&s.tenants, id),
            ResourceKind::DeploymentProcess => find(&s.deployment_processes, id),
            ResourceKind::RunbookProcess => find(&s.runbook_processes, id),
            ResourceKind::VariableSet => find(&s.variable_sets, id),
            // A tenant's values: the document a GET of its variables answers, empty
            // before anything is set.
            ResourceKind::TenantVariables => {
                let found = s.tenant_variables.iter().find(|v| {
                    v.tenant_id
                        .get()
                        .is_some_and(|t| t.as_str().eq_ignore_ascii_case(id))
                });
                return Ok(found
                    .and_then(|v| serde_json::to_value(v).ok())
                    .unwrap_or_else(|| Value::Object(serde_json::Map::new())));
            }
            other => return Err(ApplyError::Unsupported(other)),
        };
        found.ok_or_else(|| ApplyError::NotFound {
            kind,
            id: id.to_owned(),
        })
    }

    /// A process property sent as "keep the secret" (`HasValue` true, no `NewValue`)
    /// keeps what the server holds: nothing, if the saved action had no such secret. A
    /// server answers that way, so a plan that forgets to fill a new secret shows.
    fn keep_only_held_secrets(&self, kind: ResourceKind, id: &str, body: &mut Value) {
        let existing = match kind {
            ResourceKind::DeploymentProcess => self
                .snapshot
                .deployment_processes
                .iter()
                .find(|p| {
                    p.id.get()
                        .is_some_and(|x| x.as_str().eq_ignore_ascii_case(id))
                })
                .map(|p| p.steps.iter().cloned().collect::<Vec<_>>()),
            ResourceKind::RunbookProcess => self
                .snapshot
                .runbook_processes
                .iter()
                .find(|p| {
                    p.id.get()
                        .is_some_and(|x| x.as_str().eq_ignore_ascii_case(id))
                })
                .map(|p| p.steps.iter().cloned().collect::<Vec<_>>()),
            _ => return,
        };
        let held = |action_id: &str, key: &str| {
            existing
                .iter()
                .flatten()
                .flat_map(|s| s.actions.iter())
                .filter(|a| {
                    a.id.get()
                        .is_some_and(|x| x.eq_ignore_ascii_case(action_id))
                })
                .any(|a| {
                    matches!(a.properties.get(key),
                        Some(octopus_model::PropertyValue::Sensitive(v)) if v.has_value)
                })
        };
        let Some(steps) = body.get_mut("Steps").and_then(Value::as_array_mut) else {
            return;
        };
        for action in steps
            .iter_mut()
            .filter_map(|s| s.get_mut("Actions").and_then(Value::as_array_mut))
            .flatten()
        {
            let action_id = action
                .get("Id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let Some(props) = action.get_mut("Properties").and_then(Value::as_object_mut) else {
                continue;
            };
            for (key, value) in props.iter_mut() {
                let Value::Object(secret) = value else {
                    continue;
                };
                let keep = secret.get("HasValue") == Some(&Value::Bool(true))
                    && secret.get("NewValue").is_none_or(Value::is_null);
                if keep && !held(&action_id, key) {
                    secret.insert("HasValue".to_owned(), Value::Bool(false));
                }
            }
        }
    }

    fn create(&mut self, item: &ItemRef, mut body: Value) -> Result<(), ApplyError> {
        let kind = item.kind;
        let id = format!("{}-{}", prefix(kind), self.next_number());
        let space = self.snapshot.space_id().map(str::to_owned);
        if let (Some(space), Value::Object(map)) = (&space, &mut body) {
            if kind.scope() == octopus_model::ResourceScope::Space {
                map.insert("SpaceId".to_owned(), Value::String(space.clone()));
            }
        }
        let s = &mut self.snapshot;
        let mut response = match kind {
            ResourceKind::Environment => insert(&mut s.environments, body, id.clone())?,
            ResourceKind::ProjectGroup => insert(&mut s.project_groups, body, id.clone())?,
            ResourceKind::Lifecycle => insert(&mut s.lifecycles, body, id.clone())?,
            ResourceKind::Channel => insert(&mut s.channels, body, id.clone())?,
            ResourceKind::TagSet => {
                let mut set: octopus_model::TagSet = decode(body)?;
                set.id.set(id.clone().into());
                for (i, tag) in set.tags.iter_mut().enumerate() {
                    tag.id.set(format!("{id}-{i}").into());
                    tag.canonical_tag_name
                        .set(format!("{}/{}", set.name, tag.name));
                }
                let v =
                    serde_json::to_value(&set).map_err(|e| ApplyError::Decode(e.to_string()))?;
                s.tag_sets.push(set);
                v
            }
            ResourceKind::Tenant => insert(&mut s.tenants, body, id.clone())?,
            ResourceKind::Feed => insert(&mut s.feeds, body, id.clone())?,
            ResourceKind::Account => insert(&mut s.accounts, body, id.clone())?,
            ResourceKind::Certificate => insert(&mut s.certificates, body, id.clone())?,
            ResourceKind::WorkerPool => insert(&mut s.worker_pools, body, id.clone())?,
            ResourceKind::MachinePolicy => insert(&mut s.machine_policies, body, id.clone())?,
            ResourceKind::ParentEnvironment => {
                insert(&mut s.parent_environments, body, id.clone())?
            }
            ResourceKind::DeploymentFreeze => insert(&mut s.deployment_freezes, body, id.clone())?,
            ResourceKind::ActionTemplate => {
                if let Value::Object(map) = &mut body {
                    map.insert("Version".to_owned(), Value::from(1));
                }
                insert(&mut s.action_templates, body, id.clone())?
            }
            ResourceKind::Team => insert(&mut s.teams, body, id.clone())?,
            ResourceKind::UserRole => insert(&mut s.user_roles, body, id.clone())?,
            ResourceKind::ScopedUserRole => insert(&mut s.scoped_user_roles, body, id.clone())?,
            ResourceKind::Project | ResourceKind::Runbook | ResourceKind::LibraryVariableSet => {
                // What the server makes with the new document, as it makes it.
                if let Value::Object(map) = &mut body {
                    map.insert("Id".to_owned(), Value::String(id.clone()));
                }
                owned::assign_ids(kind, &mut body);
                let channel_id = format!("Channels-{}", self.next + 95_000);
                let made = owned::documents(kind, &body, || channel_id);
                let response = match kind {
                    ResourceKind::Project => insert(&mut s.projects, body, id.clone())?,
                    ResourceKind::Runbook => insert(&mut s.runbooks, body, id.clone())?,
                    _ => insert(&mut s.library_variable_sets, body, id.clone())?,
                };
                for (made_kind, doc) in made {
                    match made_kind {
                        ResourceKind::DeploymentProcess => {
                            s.deployment_processes.push(decode(doc)?);
                        }
                        ResourceKind::RunbookProcess => s.runbook_processes.push(decode(doc)?),
                        ResourceKind::VariableSet => s.variable_sets.push(decode(doc)?),
                        ResourceKind::Channel => {
                            let channel: Channel = decode(doc)?;
                            let value = serde_json::to_value(&channel)
                                .map_err(|e| ApplyError::Decode(e.to_string()))?;
                            s.channels.push(channel);
                            self.ledger.record_created(
                                &ItemRef::owned(
                                    ResourceKind::Channel,
                                    owned::DEFAULT_CHANNEL,
                                    &item.name,
                                ),
                                value,
                            );
                        }
                        other => return Err(ApplyError::Unsupported(other)),
                    }
                }
                response
            }
            ResourceKind::RunbookSnapshot => {
                // Created, then published: the runbook's `PublishedRunbookSnapshotId`.
                let runbook_id = body
                    .get("RunbookId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let runbook = s
                    .runbooks
                    .iter_mut()
                    .find(|r| {
                        r.id.get()
                            .is_some_and(|x| x.as_str().eq_ignore_ascii_case(&runbook_id))
                    })
                    .ok_or(ApplyError::NotFound {
                        kind: ResourceKind::Runbook,
                        id: runbook_id,
                    })?;
                runbook.published_runbook_snapshot_id.set(id.clone());
                self.runbook_snapshots.push(body.clone());
                body
            }
            other => return Err(ApplyError::Unsupported(other)),
        };
        if let Value::Object(map) = &mut response {
            map.insert("Id".to_owned(), Value::String(id.clone()));
        }
        if kind == ResourceKind::RunbookSnapshot {
            if let Some(Value::Object(last)) = self.runbook_snapshots.last_mut() {
                last.insert("Id".to_owned(), Value::String(id));
            }
        }
        self.ledger.record_created(item, response);
        Ok(())
    }

    fn number_steps(&mut self, steps: &mut [octopus_model::Step]) {
        for step in steps.iter_mut() {
            if !step.id.is_set() {
                step.id.set(self.guid());
            }
            for action in step.actions.iter_mut() {
                if !action.id.is_set() {
                    action.id.set(self.guid());
                }
                for package in action.packages.iter_mut() {
                    if !package.id.is_set() {
                        package.id.set(self.guid());
                    }
                }
            }
        }
    }

    /// Deletes an item, as the server does: a runbook goes with its process. An item
    /// already gone is what was asked for.
    fn delete(&mut self, kind: ResourceKind, id: &str) {
        let is = |x: Option<&str>| x.is_some_and(|x| x.eq_ignore_ascii_case(id));
        match kind {
            ResourceKind::Runbook => {
                let process = self
                    .snapshot
                    .runbooks
                    .iter()
                    .find(|r| is(r.id.get().map(|i| i.as_str())))
                    .and_then(|r| r.runbook_process_id.get().cloned());
                self.snapshot
                    .runbooks
                    .retain(|r| !is(r.id.get().map(|i| i.as_str())));
                if let Some(process) = process {
                    self.snapshot.runbook_processes.retain(|p| {
                        !p.id
                            .get()
                            .is_some_and(|x| x.as_str().eq_ignore_ascii_case(process.as_str()))
                    });
                }
            }
            ResourceKind::Channel => self
                .snapshot
                .channels
                .retain(|c| !is(c.id.get().map(|i| i.as_str()))),
            _ => {}
        }
    }

    fn update(&mut self, item: &ItemRef, id: &str, body: Value) -> Result<(), ApplyError> {
        match item.kind {
            ResourceKind::DeploymentProcess => {
                let mut process: DeploymentProcess = decode(body)?;
                self.number_steps(&mut process.steps);
                let saved = serde_json::to_value(&process).unwrap_or_default();
                self.ledger.record_saved(item, &saved);
                replace(&mut self.snapshot.deployment_processes, id, saved)
            }
            ResourceKind::RunbookProcess => {
                let mut process: RunbookProcess = decode(body)?;
                self.number_steps(&mut process.steps);
                let saved = serde_json::to_value(&process).unwrap_or_default();
                self.ledger.record_saved(item, &saved);
                replace(&mut self.snapshot.runbook_processes, id, saved)
            }
            ResourceKind::VariableSet => {
                let mut set: VariableSet = decode(body)?;
                for v in set.variables.iter_mut() {
                    if !v.id.is_set() {
                        v.id.set(self.guid());
                    }
                }
                replace(
                    &mut self.snapshot.variable_sets,
                    id,
                    serde_json::to_value(&set).unwrap_or_default(),
                )
            }
            ResourceKind::Tenant => {
                let s = &mut self.snapshot;
                replace(&mut s.tenants, id, body)
            }
            ResourceKind::TenantVariables => {
                let mut doc: octopus_model::TenantVariables = decode(body)?;
                doc.tenant_id.set(id.into());
                let all = &mut self.snapshot.tenant_variables;
                match all.iter_mut().find(|v| {
                    v.tenant_id
                        .get()
                        .is_some_and(|t| t.as_str().eq_ignore_ascii_case(id))
                }) {
                    Some(slot) => *slot = doc,
                    None => all.push(doc),
                }
                Ok(())
            }
            kind => {
                let s = &mut self.snapshot;
                match kind {
                    ResourceKind::Environment => replace(&mut s.environments, id, body),
                    ResourceKind::ProjectGroup => replace(&mut s.project_groups, id, body),
                    ResourceKind::Project => replace(&mut s.projects, id, body),
                    ResourceKind::Lifecycle => replace(&mut s.lifecycles, id, body),
                    ResourceKind::Channel => replace(&mut s.channels, id, body),
                    ResourceKind::Runbook => replace(&mut s.runbooks, id, body),
                    ResourceKind::Feed => replace(&mut s.feeds, id, body),
                    ResourceKind::WorkerPool => replace(&mut s.worker_pools, id, body),
                    ResourceKind::MachinePolicy => replace(&mut s.machine_policies, id, body),
                    ResourceKind::ParentEnvironment => {
                        replace(&mut s.parent_environments, id, body)
                    }
                    ResourceKind::DeploymentFreeze => replace(&mut s.deployment_freezes, id, body),
                    ResourceKind::LibraryVariableSet => {
                        replace(&mut s.library_variable_sets, id, body)
                    }
                    ResourceKind::TagSet => {
                        let mut set: octopus_model::TagSet = decode(body)?;
                        let name = set.name.clone();
                        for (i, tag) in set.tags.iter_mut().enumerate() {
                            if !tag.id.is_set() {
                                tag.id.set(format!("{id}-new-{i}").into());
                            }
                            tag.canonical_tag_name.set(format!("{name}/{}", tag.name));
                        }
                        replace(
                            &mut s.tag_sets,
                            id,
                            serde_json::to_value(&set).unwrap_or_default(),
                        )
                    }
                    ResourceKind::ActionTemplate => {
                        // The server bumps a step template's version on every save.
                        let previous = s
                            .action_templates
                            .iter()
                            .find(|t| {
                                t.id.get()
                                    .is_some_and(|x| x.as_str().eq_ignore_ascii_case(id))
                            })
                            .and_then(|t| t.version.get().copied())
                            .unwrap_or(0);
                        let mut body = body;
                        if let Value::Object(map) = &mut body {
                            map.insert("Version".to_owned(), Value::from(previous + 1));
                        }
                        self.ledger.record_saved(item, &body);
                        replace(&mut s.action_templates, id, body)
                    }
                    ResourceKind::UserRole => replace(&mut s.user_roles, id, body),
                    other => Err(ApplyError::Unsupported(other)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{FieldChange, Layer, LayerName, Op, Pending, PendingRef, Summary, Target};
    use serde_json::json;

    fn destination() -> Snapshot {
        let environments = json!([{"Id": "Environments-1", "Name": "Test",
            "Description": "edited since the plan", "UseGuidedFailure": false}]);
        let version = "2024.2.0".parse().expect("a version");
        Snapshot::from_collections(version, [("environments", environments)])
            .expect("a destination")
    }

    fn plan_of(ops: Vec<Op>) -> Plan {
        Plan {
            source_version: "2024.2.0".into(),
            destination_version: "2024.2.0".into(),
            layers: vec![Layer {
                name: LayerName::Environments,
                ops,
            }],
            cleanup: Vec::new(),
            warnings: Vec::new(),
            summary: Summary::default(),
            synced: Default::default(),
        }
    }

    #[test]
    fn an_update_lays_its_changed_fields_over_the_document_as_it_is_now() {
        // Planned when the description was something else: only the changed field is
        // written, as the HTTP applier writes it.
        let body = json!({"Id": "Environments-1", "Name": "Test",
            "Description": "as planned", "UseGuidedFailure": true});
        let op = Op::update(
            ItemRef::new(ResourceKind::Environment, "Test"),
            "guided failure differs",
            Target::Existing {
                id: "Environments-1".into(),
            },
            body,
            vec![FieldChange {
                path: "UseGuidedFailure".into(),
                before: json!(false),
                after: json!(true),
            }],
        );
        let mut applier = InMemoryApplier::new(destination());
        assert_eq!(applier.apply(&plan_of(vec![op])), Ok(()));
        let env = &applier.snapshot.environments[0];
        assert_eq!(env.use_guided_failure.get(), Some(&true));
        assert_eq!(
            env.description.get().map(String::as_str),
            Some("edited since the plan")
        );
        assert_eq!(applier.writes, 1);
    }

    #[test]
    fn a_reference_to_an_item_never_created_stops_the_apply_with_its_cause() {
        let lifecycle = ItemRef::new(ResourceKind::Lifecycle, "QA");
        let reference = Pending::Created {
            item: lifecycle.clone(),
        };
        let body = json!({"Name": "Production", "Description": reference.placeholder()});
        let mut op = Op::create(
            ItemRef::new(ResourceKind::Environment, "Production"),
            "missing",
            body,
        );
        if let Some(create) = op.create_mut() {
            create.pending = vec![PendingRef {
                pointer: "/Description".into(),
                placeholder: reference.placeholder(),
                in_key: false,
                reference,
            }];
        }
        let mut applier = InMemoryApplier::new(destination());
        assert_eq!(
            applier.apply(&plan_of(vec![op])),
            Err(ApplyError::Unresolved(LedgerError::NotCreated {
                item: lifecycle
            }))
        );
        assert_eq!(applier.writes, 0);
        assert_eq!(applier.snapshot.environments.len(), 1);
    }
}
