//! Applying a [`Plan`] to a destination through an [`OctopusWrite`].
//!
//! Layer by layer, in the plan's order; within a layer, ops run concurrently, each on its
//! own document. References to items created earlier (`Pending`) are resolved from the
//! ids the creates answered. An update reads the current document first and lays over
//! it only the top-level fields the plan changes, so whatever the destination holds
//! beyond them survives; processes and variable sets keep the `Version` just read. A
//! create whose outcome is unknown (the request went out, no answer came back) is looked
//! up by name before it is sent again. After a failed layer the apply stops (unless
//! `continue_on_error`), and the report says exactly what was and was not done. Running
//! the sync again is always the way to finish.

use std::collections::BTreeMap;
use std::fmt;

use futures::stream::{self, StreamExt};
use octopus_client::OctopusWrite;
use octopus_model::{name_key, OctopusVersion, ResourceKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sync_core::{fill_secret_slots, resolve_pending, ItemRef, Op, OpAction, Pending, Plan, Target};
use tokio::sync::{Mutex, OnceCell};

/// How an apply behaves.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Go on with later layers after a failed op.
    pub continue_on_error: bool,
    /// Ops of one layer in flight at once.
    pub concurrency: usize,
    /// What new secrets are set to (the clean-up log lists every one).
    pub secret_placeholder: String,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            continue_on_error: false,
            concurrency: 8,
            secret_placeholder: sync_core::DEFAULT_SECRET_PLACEHOLDER.to_owned(),
        }
    }
}

/// What became of one op.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Outcome {
    /// Created, with the new id.
    Created {
        /// The id the server gave it.
        id: String,
    },
    /// Updated.
    Updated {
        /// The document's id.
        id: String,
    },
    /// An earlier attempt had created it (found by name after an unknown outcome).
    FoundExisting {
        /// Its id.
        id: String,
    },
    /// The op failed.
    Failed {
        /// Why.
        error: String,
    },
    /// Not attempted, because an earlier layer failed.
    NotAttempted,
}

/// The result of one op.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpResult {
    /// The item.
    pub item: ItemRef,
    /// What the plan said to do.
    pub action: OpAction,
    /// What happened.
    pub outcome: Outcome,
}

/// What an apply did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyReport {
    /// Every create and update of the plan, in plan order.
    pub results: Vec<OpResult>,
}

impl ApplyReport {
    /// Whether every op succeeded.
    pub fn is_success(&self) -> bool {
        self.results.iter().all(|r| {
            matches!(
                r.outcome,
                Outcome::Created { .. } | Outcome::Updated { .. } | Outcome::FoundExisting { .. }
            )
        })
    }

    /// How many ops ended each way: done, failed, not attempted.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut counts = (0, 0, 0);
        for r in &self.results {
            match r.outcome {
                Outcome::Failed { .. } => counts.1 += 1,
                Outcome::NotAttempted => counts.2 += 1,
                _ => counts.0 += 1,
            }
        }
        counts
    }
}

impl fmt::Display for ApplyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (done, failed, skipped) = self.counts();
        writeln!(
            f,
            "Applied: {done} done, {failed} failed, {skipped} not attempted"
        )?;
        for r in &self.results {
            let line = match &r.outcome {
                Outcome::Created { id } => format!("  + created {} ({id})", r.item),
                Outcome::Updated { id } => format!("  ~ updated {} ({id})", r.item),
                Outcome::FoundExisting { id } => {
                    format!("  + found {} already created ({id})", r.item)
                }
                Outcome::Failed { error } => format!("  ! FAILED {}: {error}", r.item),
                Outcome::NotAttempted => format!("  - not attempted: {}", r.item),
            };
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

/// Ids learned while applying: creates' answers and the action ids of saved processes.
#[derive(Default)]
struct Resolved {
    created: BTreeMap<ItemRef, Value>,
    actions: BTreeMap<(String, String), String>,
}

fn key(item: &ItemRef) -> ItemRef {
    ItemRef {
        kind: item.kind,
        name: name_key(&item.name),
        owner: item.owner.as_deref().map(name_key),
    }
}

impl Resolved {
    fn id_of(&self, item: &ItemRef) -> Option<String> {
        self.created
            .get(&key(item))
            .and_then(|v| v.get("Id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    fn resolve(&self, pending: &Pending) -> Result<String, String> {
        match pending {
            Pending::Created { item } => self
                .id_of(item)
                .ok_or_else(|| format!("{item} was not created")),
            Pending::Action { process, action } => self
                .actions
                .get(&(name_key(process), name_key(action)))
                .cloned()
                .ok_or_else(|| format!("action {action:?} of {process:?} was not saved")),
        }
    }

    fn target(&self, target: &Target) -> Result<String, String> {
        match target {
            Target::Existing { id } => Ok(id.clone()),
            Target::Created { item } => self.resolve(&Pending::Created { item: item.clone() }),
            Target::SideEffect { owner, field } => self
                .created
                .get(&key(owner))
                .and_then(|v| v.get(field))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("{field} of {owner} is not known")),
        }
    }

    /// Records the action ids of a saved process, keyed as the plan refers to them.
    fn record_actions(&mut self, item: &ItemRef, saved: &Value) {
        let process = match item.kind {
            ResourceKind::RunbookProcess => {
                format!("{}/{}", item.owner.as_deref().unwrap_or(""), item.name)
            }
            _ => item.owner.clone().unwrap_or_else(|| item.name.clone()),
        };
        for step in saved
            .get("Steps")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for action in step
                .get("Actions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let (Some(name), Some(id)) = (
                    action.get("Name").and_then(Value::as_str),
                    action.get("Id").and_then(Value::as_str),
                ) {
                    self.actions
                        .insert((name_key(&process), name_key(name)), id.to_owned());
                }
            }
        }
    }
}

/// Substitutes resolved ids for the plan's placeholders.
fn resolve_body(op: &Op, resolved: &Resolved, placeholder: &str) -> Result<Value, String> {
    let mut body = op.body.clone().unwrap_or(Value::Null);
    resolve_pending(&mut body, &op.pending, |p| resolved.resolve(p))?;
    fill_secret_slots(&mut body, &op.secret_slots, placeholder);
    Ok(body)
}

/// The top-level fields an update changes, from its diff paths.
fn changed_fields(op: &Op) -> Vec<String> {
    let mut fields: Vec<String> = op
        .diff
        .iter()
        .map(|c| {
            c.path
                .split(['.', '['])
                .next()
                .unwrap_or(&c.path)
                .to_owned()
        })
        .collect();
    fields.sort();
    fields.dedup();
    fields
}

/// Applies a plan's creates and updates, in order.
pub async fn apply_plan(
    writer: &dyn OctopusWrite,
    plan: &Plan,
    options: &ApplyOptions,
) -> ApplyReport {
    let resolved = Mutex::new(Resolved::default());
    let version = OnceCell::new();
    let mut report = ApplyReport::default();
    let mut stopped = false;
    for layer in &plan.layers {
        let ops: Vec<&Op> = layer
            .ops
            .iter()
            .filter(|op| matches!(op.action, OpAction::Create | OpAction::Update))
            .collect();
        if stopped {
            report.results.extend(ops.iter().map(|op| OpResult {
                item: op.item.clone(),
                action: op.action,
                outcome: Outcome::NotAttempted,
            }));
            continue;
        }
        let results: Vec<OpResult> = stream::iter(ops.iter().copied())
            .map(|op| {
                let (resolved, version) = (&resolved, &version);
                async move {
                    let outcome = match apply_op(writer, op, resolved, version, options).await {
                        Ok(outcome) => outcome,
                        Err(error) => {
                            tracing::error!(item = %op.item, %error, "op failed");
                            Outcome::Failed { error }
                        }
                    };
                    OpResult {
                        item: op.item.clone(),
                        action: op.action,
                        outcome,
                    }
                }
            })
            .buffered(options.concurrency.max(1))
            .collect()
            .await;
        let failed = results
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Failed { .. }));
        report.results.extend(results);
        if failed && !options.continue_on_error {
            stopped = true;
        }
    }
    report
}

async fn apply_op(
    writer: &dyn OctopusWrite,
    op: &Op,
    resolved: &Mutex<Resolved>,
    version: &OnceCell<OctopusVersion>,
    options: &ApplyOptions,
) -> Result<Outcome, String> {
    let (body, target) = {
        let r = resolved.lock().await;
        let body = resolve_body(op, &r, &options.secret_placeholder)?;
        let target = match (&op.action, &op.target) {
            (OpAction::Update, Some(t)) => Some(r.target(t)?),
            (OpAction::Update, None) => return Err("the plan names no document to update".into()),
            _ => None,
        };
        (body, target)
    };
    let kind = op.item.kind;
    match target {
        None => {
            let (created, found) = create(writer, kind, &op.item, body).await?;
            let id = created
                .get("Id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let mut r = resolved.lock().await;
            if kind == ResourceKind::Project {
                // The server creates a "Default" channel with every project; later ops
                // may refer to it by name.
                if let Ok(channels) = writer
                    .project_channels(&octopus_model::ProjectId::new(id.clone()))
                    .await
                {
                    for channel in channels {
                        let value = serde_json::to_value(&channel).unwrap_or(Value::Null);
                        r.created.insert(
                            key(&ItemRef::owned(
                                ResourceKind::Channel,
                                channel.name.clone(),
                                op.item.name.clone(),
                            )),
                            value,
                        );
                    }
                }
            }
            r.created.insert(key(&op.item), created);
            Ok(if found {
                Outcome::FoundExisting { id }
            } else {
                Outcome::Created { id }
            })
        }
        Some(id) if kind == ResourceKind::TenantVariables => {
            // A tenant's values have no document of their own to PUT: they are written
            // through the tenant's routes, which depend on the version.
            let version = version
                .get_or_try_init(|| writer.version())
                .await
                .map_err(|e| format!("cannot read the destination's version: {e}"))?;
            crate::tenant_variables::write(writer, version, &id, body, &changed_fields(op)).await?;
            Ok(Outcome::Updated { id })
        }
        Some(id) => {
            let body = overlay(writer, op, &id, body).await?;
            let saved = writer
                .update(kind, &id, body)
                .await
                .map_err(|e| e.to_string())?;
            if matches!(
                kind,
                ResourceKind::DeploymentProcess | ResourceKind::RunbookProcess
            ) {
                resolved.lock().await.record_actions(&op.item, &saved);
            }
            Ok(Outcome::Updated { id })
        }
    }
}

/// The body to PUT: the current document with the plan's changed top-level fields laid
/// over it.
async fn overlay(
    writer: &dyn OctopusWrite,
    op: &Op,
    id: &str,
    body: Value,
) -> Result<Value, String> {
    let fields = changed_fields(op);
    if fields.is_empty() {
        return Ok(body);
    }
    let mut current = match writer.get_raw(op.item.kind, id).await {
        Ok(current) => current,
        Err(e) => return Err(format!("cannot read the current document: {e}")),
    };
    let (Value::Object(current_map), Value::Object(body_map)) = (&mut current, &body) else {
        return Ok(body);
    };
    for field in fields {
        match body_map.get(&field) {
            Some(v) => {
                current_map.insert(field, v.clone());
            }
            None => {
                current_map.remove(&field);
            }
        }
    }
    // Everything else, `Version` of processes and variable sets included, is the document
    // as it is now, so the write is checked against it.
    Ok(current)
}

/// POSTs a new item. When the outcome is unknown, looks the item up by name before
/// sending it again, so a retry never creates a duplicate.
async fn create(
    writer: &dyn OctopusWrite,
    kind: ResourceKind,
    item: &ItemRef,
    body: Value,
) -> Result<(Value, bool), String> {
    match writer.create(kind, body.clone()).await {
        Ok(created) => Ok((created, false)),
        Err(e) if e.is_outcome_unknown() => {
            tracing::warn!(item = %item, error = %e, "create outcome unknown; looking it up by name");
            if let Some(existing) = find_by_name(writer, kind, &body).await? {
                return Ok((existing, true));
            }
            writer
                .create(kind, body)
                .await
                .map(|v| (v, false))
                .map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    }
}

async fn find_by_name(
    writer: &dyn OctopusWrite,
    kind: ResourceKind,
    body: &Value,
) -> Result<Option<Value>, String> {
    let Some(name) = body.get("Name").and_then(Value::as_str) else {
        return Ok(None);
    };
    let owner = body.get("ProjectId").and_then(Value::as_str);
    let items = writer
        .list_raw(kind)
        .await
        .map_err(|e| format!("cannot look the item up after an unknown outcome: {e}"))?;
    Ok(items.into_iter().find(|item| {
        item.get("Name")
            .and_then(Value::as_str)
            .is_some_and(|n| name_key(n) == name_key(name))
            && owner.is_none_or(|o| {
                item.get("ProjectId")
                    .and_then(Value::as_str)
                    .is_some_and(|p| p.eq_ignore_ascii_case(o))
            })
    }))
}
