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
//!
//! Before each update the current document is compared with the one the plan was made
//! against ([`sync_core::Base`]). When somebody changed it in between, the planned body
//! is never laid over it: the op is refused, or, when the caller can plan again
//! ([`ApplyHooks::replan`]), that document is planned again from its current state and
//! the report says so. Likewise a create is refused when an item of that name appeared
//! on the destination since the plan, and an op that depends on a refused one is
//! refused with it.

use std::collections::BTreeMap;
use std::fmt;

use futures::future::BoxFuture;
use futures::stream::{self, StreamExt};
use octopus_client::OctopusWrite;
use octopus_model::{name_key, OctopusVersion, ResourceKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sync_core::ledger::{changed_fields, fill_certificate, item_key as key, overlay};
use sync_core::{
    Base, Change, IdLedger, ItemRef, LayerName, LedgerError, Op, OpAction, Pending, Plan,
    ProcessKey, Target,
};
use tokio::sync::{Mutex, OnceCell};

/// Why one op failed. The report keeps the whole chain of causes ([`ErrorReport`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// A reference to an item created earlier in the plan could not be resolved.
    #[error("unresolved reference")]
    Unresolved(#[source] LedgerError),
    /// The current document could not be read before an update.
    #[error("cannot read the current document")]
    Read(#[source] octopus_client::Error),
    /// The current document could not be read as the kind the plan says it is.
    #[error("cannot read the current document as a {kind}")]
    Decode {
        /// The kind.
        kind: ResourceKind,
        /// Why.
        #[source]
        source: sync_core::SnapshotError,
    },
    /// The server refused or failed a create.
    #[error("the create was not accepted")]
    Create(#[source] octopus_client::Error),
    /// The server refused or failed an update.
    #[error("the update was not accepted")]
    Update(#[source] octopus_client::Error),
    /// The server refused or failed a delete (`[policy] prune`).
    #[error("the delete was not accepted")]
    Delete(#[source] octopus_client::Error),
    /// After a create with an unknown outcome, the item could not be looked up.
    #[error("cannot look the item up after an unknown outcome")]
    Lookup(#[source] octopus_client::Error),
    /// The destination's version, which decides the routes of tenant variables, could
    /// not be read.
    #[error("cannot read the destination's version")]
    Version(#[source] octopus_client::Error),
    /// A tenant's variables could not be written.
    #[error("the tenant's variables were not saved")]
    TenantVariables(#[source] Box<crate::tenant_variables::TenantVariablesError>),
    /// The certificate file a create names could not be used.
    #[error("the certificate cannot be created from its file")]
    Certificate(#[source] crate::certificates::CertificateError),
    /// A runbook snapshot was created but its runbook could not be set to publish it.
    #[error("runbook snapshot {} was created but not published on runbook {}", .0.snapshot, .0.runbook)]
    Publish(#[source] Box<PublishError>),
}

/// Why a runbook snapshot created by the apply was not published.
#[derive(Debug, thiserror::Error)]
#[error("the runbook could not be read or written")]
pub struct PublishError {
    /// The new snapshot.
    pub snapshot: String,
    /// The runbook.
    pub runbook: String,
    /// Why.
    #[source]
    pub source: octopus_client::Error,
}

/// An error as data: its message and the message of every cause under it, outermost
/// first, so a machine reading the report sees the chain, not a flattened string.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReport {
    /// The error's own message.
    pub message: String,
    /// The messages of its causes, outermost first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<String>,
}

impl ErrorReport {
    /// The chain of `error`.
    pub fn of(error: &(dyn std::error::Error + 'static)) -> Self {
        let mut causes = Vec::new();
        let mut source = error.source();
        while let Some(cause) = source {
            causes.push(cause.to_string());
            source = cause.source();
        }
        ErrorReport {
            message: error.to_string(),
            causes,
        }
    }
}

impl fmt::Display for ErrorReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for cause in &self.causes {
            write!(f, ": {cause}")?;
        }
        Ok(())
    }
}

/// Plans a destination again from its current state: what [`apply_plan_with`] calls when
/// a document changed since it was read.
pub type Replan<'a> = dyn Fn() -> BoxFuture<'a, Result<Plan, Box<dyn std::error::Error + Send + Sync>>>
    + Send
    + Sync
    + 'a;

/// Told how an apply goes, layer by layer (a progress bar listens).
pub trait ApplyProgress: Send + Sync {
    /// A layer with `total` writes starts.
    fn layer_started(&self, layer: LayerName, total: usize);
    /// One op of the layer ended.
    fn op_finished(&self, layer: LayerName, result: &OpResult);
    /// The layer ended.
    fn layer_finished(&self, layer: LayerName);
}

/// What an apply may call back: both optional.
#[derive(Default)]
pub struct ApplyHooks<'a> {
    /// Plans the destination again. Without it, an update of a document changed since
    /// the plan is refused; with it, that document is planned again and written from its
    /// current state.
    pub replan: Option<&'a Replan<'a>>,
    /// Told of every layer and op.
    pub progress: Option<&'a dyn ApplyProgress>,
}

/// How an apply behaves.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Go on with later layers after a failed op.
    pub continue_on_error: bool,
    /// Ops of one layer in flight at once.
    pub concurrency: usize,
    /// What new secrets are set to (the clean-up log lists every one).
    pub secret_placeholder: String,
    /// Where the certificate files a plan names are read from (`certificates_from`).
    pub certificates_from: Option<std::path::PathBuf>,
    /// The environment variable holding the password of PFX certificate files
    /// (`certificates_password_env`).
    pub certificates_password_env: Option<String>,
}

impl ApplyOptions {
    /// These options with the certificate settings of `rules` where none are set.
    pub fn with_rules(&self, rules: &sync_core::SyncRules) -> Self {
        let mut options = self.clone();
        if options.certificates_from.is_none() {
            options.certificates_from = rules
                .policy
                .certificates_from
                .as_ref()
                .map(std::path::PathBuf::from);
        }
        if options.certificates_password_env.is_none() {
            options
                .certificates_password_env
                .clone_from(&rules.policy.certificates_password_env);
        }
        options
    }
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            continue_on_error: false,
            concurrency: 8,
            secret_placeholder: sync_core::DEFAULT_SECRET_PLACEHOLDER.to_owned(),
            certificates_from: None,
            certificates_password_env: None,
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
    /// Planned again after the document changed on the destination: nothing is left to
    /// change.
    AlreadyInSync {
        /// The document's id.
        id: String,
    },
    /// Not written: the document changed on the destination since the plan was made.
    Refused {
        /// The document's id, when it has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// What the plan was made against and what the destination holds now.
        reason: String,
    },
    /// The op failed.
    Failed {
        /// Why, with its causes.
        error: ErrorReport,
    },
    /// Deleted (`[policy] prune`).
    Deleted {
        /// The id it had.
        id: String,
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
    /// What a reader must know beyond the outcome (the document was planned again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How many ops of a report ended each way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Created, updated, found created or already in sync.
    pub done: usize,
    /// Refused because the document changed since the plan.
    pub refused: usize,
    /// Failed.
    pub failed: usize,
    /// Not attempted.
    pub not_attempted: usize,
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
        self.results.iter().all(|r| r.outcome.is_done())
    }

    /// How many ops ended each way.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for r in &self.results {
            match r.outcome {
                Outcome::Refused { .. } => counts.refused += 1,
                Outcome::Failed { .. } => counts.failed += 1,
                Outcome::NotAttempted => counts.not_attempted += 1,
                _ => counts.done += 1,
            }
        }
        counts
    }
}

impl Outcome {
    /// The id of the document the op wrote, found written, or deleted.
    pub fn id(&self) -> Option<&str> {
        match self {
            Outcome::Created { id }
            | Outcome::Updated { id }
            | Outcome::FoundExisting { id }
            | Outcome::AlreadyInSync { id }
            | Outcome::Deleted { id } => Some(id),
            Outcome::Refused { id, .. } => id.as_deref(),
            Outcome::Failed { .. } | Outcome::NotAttempted => None,
        }
    }

    /// Whether the op's work is done (written, found written, or nothing left to write).
    pub fn is_done(&self) -> bool {
        matches!(
            self,
            Outcome::Created { .. }
                | Outcome::Updated { .. }
                | Outcome::FoundExisting { .. }
                | Outcome::AlreadyInSync { .. }
                | Outcome::Deleted { .. }
        )
    }
}

impl fmt::Display for OpResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let item = &self.item;
        match &self.outcome {
            Outcome::Created { id } => write!(f, "+ created {item} ({id})"),
            Outcome::Updated { id } => write!(f, "~ updated {item} ({id})"),
            Outcome::FoundExisting { id } => write!(f, "+ found {item} already created ({id})"),
            Outcome::AlreadyInSync { id } => write!(f, "= {item} already in sync ({id})"),
            Outcome::Refused {
                id: Some(id),
                reason,
            } => write!(f, "! REFUSED {item} ({id}): {reason}"),
            Outcome::Refused { id: None, reason } => write!(f, "! REFUSED {item}: {reason}"),
            Outcome::Failed { error } => write!(f, "! FAILED {item}: {error}"),
            Outcome::Deleted { id } => write!(f, "- deleted {item} ({id})"),
            Outcome::NotAttempted => write!(f, "- not attempted: {item}"),
        }?;
        if let Some(note) = &self.note {
            write!(f, " [{note}]")?;
        }
        Ok(())
    }
}

impl fmt::Display for ApplyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.counts();
        writeln!(
            f,
            "Applied: {} done, {} refused, {} failed, {} not attempted",
            c.done, c.refused, c.failed, c.not_attempted
        )?;
        for r in &self.results {
            writeln!(f, "  {r}")?;
        }
        Ok(())
    }
}

/// The reason a refused op gives.
pub const CHANGED_SINCE_PLAN: &str = "changed on the destination since the plan; plan again";

/// The reason a create is refused when the item exists.
pub const CREATED_SINCE_PLAN: &str = "created on the destination since the plan; plan again";

/// The note on an op whose document was planned again during the apply.
pub const PLANNED_AGAIN: &str =
    "changed on the destination since it was read: planned again from its current state";

/// What the apply learned so far: the ids the server answered, and what it wrote or
/// refused.
#[derive(Default)]
struct Resolved {
    /// Creates' answers, action ids of saved processes, step template versions.
    ledger: IdLedger,
    /// The documents this apply updated, with what they were once written: a later op
    /// on the same document (a project's settings are written in two layers) checks
    /// against this instead of the plan's base, which the first write changed.
    written: BTreeMap<(ResourceKind, String), Base>,
    /// The items whose ops were refused: what depends on them is refused too.
    refused: std::collections::BTreeSet<ItemRef>,
    /// The destination's items per kind, read once before the first create of that kind,
    /// to tell whether somebody created an item of that name since the plan.
    listed: BTreeMap<ResourceKind, Vec<Value>>,
}

/// Applies a plan's creates and updates, in order. An update of a document changed
/// since the plan is refused; see [`apply_plan_with`] to plan such documents again.
pub async fn apply_plan(
    writer: &dyn OctopusWrite,
    plan: &Plan,
    options: &ApplyOptions,
) -> ApplyReport {
    apply_plan_with(writer, plan, options, &ApplyHooks::default()).await
}

/// Applies a plan's creates and updates, in order, telling `hooks` how it goes and
/// planning again, through `hooks.replan`, the documents that changed since the plan.
pub async fn apply_plan_with(
    writer: &dyn OctopusWrite,
    plan: &Plan,
    options: &ApplyOptions,
    hooks: &ApplyHooks<'_>,
) -> ApplyReport {
    let resolved = Mutex::new(Resolved::default());
    let version = OnceCell::new();
    let mut report = ApplyReport::default();
    let mut stopped = false;
    for layer in &plan.layers {
        let ops: Vec<&Op> = layer.ops.iter().filter(|op| op.action().writes()).collect();
        if ops.is_empty() {
            continue;
        }
        if stopped {
            report.results.extend(ops.iter().map(|op| OpResult {
                item: op.item.clone(),
                action: op.action(),
                outcome: Outcome::NotAttempted,
                note: None,
            }));
            continue;
        }
        if let Some(progress) = hooks.progress {
            progress.layer_started(layer.name, ops.len());
        }
        let mut results: Vec<OpResult> = stream::iter(ops.iter().copied())
            .map(|op| {
                let (resolved, version) = (&resolved, &version);
                async move {
                    let result = OpResult {
                        item: op.item.clone(),
                        action: op.action(),
                        outcome: run_op(writer, op, resolved, version, options).await,
                        note: None,
                    };
                    if let Some(progress) = hooks.progress {
                        progress.op_finished(layer.name, &result);
                    }
                    result
                }
            })
            .buffered(options.concurrency.max(1))
            .collect()
            .await;
        if let Some(replan) = hooks.replan {
            plan_changed_again(writer, replan, &mut results, &resolved, &version, options).await;
        }
        if let Some(progress) = hooks.progress {
            progress.layer_finished(layer.name);
        }
        // A refused op wrote nothing and breaks nothing that follows on its own: ops
        // that need what it would have written fail with their own reason.
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

async fn run_op(
    writer: &dyn OctopusWrite,
    op: &Op,
    resolved: &Mutex<Resolved>,
    version: &OnceCell<OctopusVersion>,
    options: &ApplyOptions,
) -> Outcome {
    match apply_op(writer, op, resolved, version, options).await {
        Ok(outcome) => {
            if matches!(outcome, Outcome::Refused { .. }) {
                resolved.lock().await.refused.insert(key(&op.item));
            }
            outcome
        }
        Err(error) => {
            let error = ErrorReport::of(&error);
            tracing::error!(item = %op.item, %error, "op failed");
            Outcome::Failed { error }
        }
    }
}

/// Plans the destination again when ops of a layer were refused because their document
/// changed since it was read, and writes those documents from the new plan, which
/// starts from what the destination holds now.
async fn plan_changed_again(
    writer: &dyn OctopusWrite,
    replan: &Replan<'_>,
    results: &mut [OpResult],
    resolved: &Mutex<Resolved>,
    version: &OnceCell<OctopusVersion>,
    options: &ApplyOptions,
) {
    if !results
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Refused { .. }))
    {
        return;
    }
    let fresh = match replan().await {
        Ok(fresh) => fresh,
        Err(e) => {
            tracing::warn!(error = %e, "cannot plan the changed documents again");
            return;
        }
    };
    for result in results.iter_mut() {
        let Outcome::Refused { id, .. } = &result.outcome else {
            continue;
        };
        let id = id.clone().unwrap_or_default();
        tracing::info!(item = %result.item, "changed since it was read; planning it again");
        let again = fresh.ops().find(|op| key(&op.item) == key(&result.item));
        let (action, outcome) = match again {
            Some(op) if op.action().writes() => {
                resolved.lock().await.refused.remove(&key(&op.item));
                (
                    op.action(),
                    run_op(writer, op, resolved, version, options).await,
                )
            }
            Some(op) => (op.action(), Outcome::AlreadyInSync { id }),
            None => continue,
        };
        result.action = action;
        result.outcome = outcome;
        result.note = Some(PLANNED_AGAIN.to_owned());
    }
}

async fn apply_op(
    writer: &dyn OctopusWrite,
    op: &Op,
    resolved: &Mutex<Resolved>,
    version: &OnceCell<OctopusVersion>,
    options: &ApplyOptions,
) -> Result<Outcome, ApplyError> {
    let target = match &op.change {
        Change::Delete { target, base } => {
            return delete(writer, op, target, base.as_ref(), resolved).await
        }
        Change::Update(update) => Some(&update.target),
        Change::Create(_) => None,
        // Ops that write nothing are not sent here; there is nothing to do for one.
        Change::Unchanged { target } | Change::Skip { target } => {
            let id = match target {
                Some(t) => resolved.lock().await.ledger.target_id(t).ok(),
                None => None,
            };
            return Ok(Outcome::AlreadyInSync {
                id: id.unwrap_or_default(),
            });
        }
    };
    let (body, target) = {
        let r = resolved.lock().await;
        if let Some(dependency) = refused_dependency(op, &r) {
            return Ok(Outcome::Refused {
                id: None,
                reason: format!("it depends on {dependency}, which was refused"),
            });
        }
        let mut body = r
            .ledger
            .prepare_body(op, &options.secret_placeholder)
            .map_err(ApplyError::Unresolved)?;
        if let Some(file) = op.certificate_file() {
            // Read only now, and only into the body sent: never into the plan or a log.
            let data = crate::certificates::read(
                options.certificates_from.as_deref(),
                file,
                options.certificates_password_env.as_deref(),
            )
            .map_err(ApplyError::Certificate)?;
            fill_certificate(&mut body, &data.data, data.password.as_deref());
        }
        let target = match target {
            Some(t) => Some(r.ledger.target_id(t).map_err(ApplyError::Unresolved)?),
            None => None,
        };
        (body, target)
    };
    let kind = op.item.kind;
    match target {
        None => {
            // Snapshot names are not an identity: a runbook has many snapshots.
            let existing = if kind == ResourceKind::RunbookSnapshot {
                None
            } else {
                existing_item(writer, kind, &body, resolved).await?
            };
            if let Some(existing) = existing {
                let id = existing
                    .get("Id")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                tracing::warn!(item = %op.item, "{CREATED_SINCE_PLAN}");
                return Ok(Outcome::Refused {
                    id,
                    reason: CREATED_SINCE_PLAN.to_owned(),
                });
            }
            let snapshot_of = (kind == ResourceKind::RunbookSnapshot).then(|| body.clone());
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
                        r.ledger.record_created(
                            &ItemRef::owned(
                                ResourceKind::Channel,
                                channel.name.clone(),
                                op.item.name.clone(),
                            ),
                            value,
                        );
                    }
                }
            }
            r.ledger.record_created(&op.item, created);
            drop(r);
            if let Some(body) = &snapshot_of {
                publish(writer, &op.item, &id, body).await?;
            }
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
                .map_err(ApplyError::Version)?;
            // The guard every update has: the old-shape document, which every version
            // can read, is what the plan was made against.
            if let Some(planned) = op.base() {
                let current = writer
                    .tenant_variables(&octopus_model::TenantId::new(id.clone()))
                    .await
                    .map_err(ApplyError::Read)?;
                let now = sync_core::normalized(
                    kind,
                    serde_json::to_value(&current).unwrap_or(Value::Null),
                )
                .map(|doc| Base::of(&doc))
                .map_err(|source| ApplyError::Decode { kind, source })?;
                let written = resolved
                    .lock()
                    .await
                    .written
                    .get(&(kind, id.clone()))
                    .cloned();
                if written.is_none() && !planned.matches(&now) {
                    tracing::warn!(item = %op.item, %planned, found = %now, "{CHANGED_SINCE_PLAN}");
                    return Ok(Outcome::Refused {
                        id: Some(id),
                        reason: format!(
                            "{CHANGED_SINCE_PLAN} (planned against {planned}, found {now})"
                        ),
                    });
                }
            }
            crate::tenant_variables::write(writer, version, &id, body, &changed_fields(op))
                .await
                .map_err(|e| ApplyError::TenantVariables(Box::new(e)))?;
            Ok(Outcome::Updated { id })
        }
        Some(id) => {
            let fields = changed_fields(op);
            let current = if op.base().is_some() || !fields.is_empty() {
                Some(writer.get_raw(kind, &id).await.map_err(ApplyError::Read)?)
            } else {
                None
            };
            if let (Some(planned), Some(current)) = (op.base(), &current) {
                let now = sync_core::normalized(kind, current.clone())
                    .map(|doc| Base::of(&doc))
                    .map_err(|source| ApplyError::Decode { kind, source })?;
                let written = resolved
                    .lock()
                    .await
                    .written
                    .get(&(kind, id.clone()))
                    .cloned();
                let unchanged = match &written {
                    // Written earlier in this apply: compare with what that write left,
                    // where the server versions the document. Without a version the
                    // server's answer to a write is not a reliable digest of what a
                    // read returns, and the plan's base no longer applies.
                    Some(ours) => ours.version.is_none() || ours.matches(&now),
                    None => planned.matches(&now),
                };
                if !unchanged {
                    let planned = written.as_ref().unwrap_or(planned);
                    tracing::warn!(item = %op.item, %planned, found = %now, "{CHANGED_SINCE_PLAN}");
                    return Ok(Outcome::Refused {
                        id: Some(id),
                        reason: format!(
                            "{CHANGED_SINCE_PLAN} (planned against {planned}, found {now})"
                        ),
                    });
                }
            }
            let body = match current {
                Some(current) => overlay(&fields, current, body),
                None => body,
            };
            let saved = writer
                .update(kind, &id, body)
                .await
                .map_err(ApplyError::Update)?;
            let mut r = resolved.lock().await;
            if let Ok(doc) = sync_core::normalized(kind, saved.clone()) {
                r.written.insert((kind, id.clone()), Base::of(&doc));
            }
            r.ledger.record_saved(&op.item, &saved);
            Ok(Outcome::Updated { id })
        }
    }
}

/// Publishes a runbook snapshot just created: its runbook's `PublishedRunbookSnapshotId`
/// becomes the snapshot's id, written the way OctopusClients does it
/// (`Runbooks.Modify` after `RunbookSnapshots.Create`, OctopusDeploy/docs
/// `docs/shared-content/scripts/publish-runbook-scripts.include.md`): the runbook is read
/// and written back whole with that one field changed.
async fn publish(
    writer: &dyn OctopusWrite,
    item: &ItemRef,
    snapshot: &str,
    body: &Value,
) -> Result<(), ApplyError> {
    let runbook = body
        .get("RunbookId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let failed = |source| {
        ApplyError::Publish(Box::new(PublishError {
            snapshot: snapshot.to_owned(),
            runbook: runbook.clone(),
            source,
        }))
    };
    let mut current = writer
        .get_raw(ResourceKind::Runbook, &runbook)
        .await
        .map_err(failed)?;
    if let Value::Object(map) = &mut current {
        map.insert(
            "PublishedRunbookSnapshotId".to_owned(),
            Value::String(snapshot.to_owned()),
        );
    }
    writer
        .update(ResourceKind::Runbook, &runbook, current)
        .await
        .map_err(failed)?;
    tracing::info!(item = %item, snapshot, runbook = %runbook, "published");
    Ok(())
}

/// The refused item an op depends on, if any: the items it refers to and the document
/// it writes, when they were to be created (or written) earlier in this apply.
/// A delete (`[policy] prune`): only of the document the plan saw; one changed since
/// (renamed, edited) is refused, and one already gone is what was asked for.
async fn delete(
    writer: &dyn OctopusWrite,
    op: &Op,
    target: &Target,
    base: Option<&Base>,
    resolved: &Mutex<Resolved>,
) -> Result<Outcome, ApplyError> {
    let kind = op.item.kind;
    let id = resolved
        .lock()
        .await
        .ledger
        .target_id(target)
        .map_err(ApplyError::Unresolved)?;
    if let Some(planned) = base {
        let current = match writer.get_raw(kind, &id).await {
            Ok(current) => current,
            Err(octopus_client::Error::NotFound { .. }) => return Ok(Outcome::Deleted { id }),
            Err(e) => return Err(ApplyError::Read(e)),
        };
        let now = sync_core::normalized(kind, current)
            .map(|doc| Base::of(&doc))
            .map_err(|source| ApplyError::Decode { kind, source })?;
        if !planned.matches(&now) {
            tracing::warn!(item = %op.item, %planned, found = %now, "{CHANGED_SINCE_PLAN}");
            resolved.lock().await.refused.insert(key(&op.item));
            return Ok(Outcome::Refused {
                id: Some(id),
                reason: format!("{CHANGED_SINCE_PLAN} (planned against {planned}, found {now})"),
            });
        }
    }
    writer.delete(kind, &id).await.map_err(ApplyError::Delete)?;
    Ok(Outcome::Deleted { id })
}

fn refused_dependency(op: &Op, r: &Resolved) -> Option<ItemRef> {
    if r.refused.is_empty() {
        return None;
    }
    let from_target = |t: &Target| match t {
        Target::Existing { .. } => None,
        Target::Created { item } => Some(item.clone()),
        Target::SideEffect { owner, .. } => Some(owner.clone()),
    };
    op.target()
        .into_iter()
        .chain(op.owner.as_ref())
        .filter_map(from_target)
        .chain(op.pending().iter().filter_map(|p| {
            match &p.reference {
                Pending::Created { item } | Pending::TemplateVersion { item } => Some(item.clone()),
                // An action's id comes from saving its process: a refused process has none.
                Pending::Action { process, .. } => r
                    .refused
                    .iter()
                    .find(|refused| ProcessKey::of(refused).is_some_and(|k| k.same(process)))
                    .cloned(),
            }
        }))
        .find(|item| r.refused.contains(&key(item)))
}

/// The destination's item of this kind and name (and owning project), if somebody made
/// one since the plan: a create must not add a second.
async fn existing_item(
    writer: &dyn OctopusWrite,
    kind: ResourceKind,
    body: &Value,
    resolved: &Mutex<Resolved>,
) -> Result<Option<Value>, ApplyError> {
    if body.get("Name").and_then(Value::as_str).is_none() {
        return Ok(None);
    }
    let mut r = resolved.lock().await;
    let items = match r.listed.entry(kind) {
        std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::btree_map::Entry::Vacant(e) => {
            e.insert(writer.list_raw(kind).await.map_err(ApplyError::Lookup)?)
        }
    };
    Ok(same_item(items, body).cloned())
}

/// The item of `items` with the name (and owning project) of `body`.
fn same_item<'a>(items: &'a [Value], body: &Value) -> Option<&'a Value> {
    let name = body.get("Name").and_then(Value::as_str)?;
    let owner = body.get("ProjectId").and_then(Value::as_str);
    items.iter().find(|item| {
        item.get("Name")
            .and_then(Value::as_str)
            .is_some_and(|n| name_key(n) == name_key(name))
            && owner.is_none_or(|o| {
                item.get("ProjectId")
                    .and_then(Value::as_str)
                    .is_some_and(|p| p.eq_ignore_ascii_case(o))
            })
    })
}

/// POSTs a new item. When the outcome is unknown, looks the item up by name before
/// sending it again, so a retry never creates a duplicate.
async fn create(
    writer: &dyn OctopusWrite,
    kind: ResourceKind,
    item: &ItemRef,
    body: Value,
) -> Result<(Value, bool), ApplyError> {
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
                .map_err(ApplyError::Create)
        }
        Err(e) => Err(ApplyError::Create(e)),
    }
}

async fn find_by_name(
    writer: &dyn OctopusWrite,
    kind: ResourceKind,
    body: &Value,
) -> Result<Option<Value>, ApplyError> {
    if body.get("Name").and_then(Value::as_str).is_none() || kind == ResourceKind::RunbookSnapshot {
        return Ok(None);
    }
    let items = writer.list_raw(kind).await.map_err(ApplyError::Lookup)?;
    Ok(same_item(&items, body).cloned())
}
