//! The plan: what a sync will do to one destination, in order, and why.
//!
//! A [`Plan`] is data. It serializes to JSON in a stable order and displays as text.
//!
//! # How an applier uses it
//!
//! [`crate::ledger`] keeps the books this takes (the ids answered, reference and target
//! resolution, body preparation, the update overlay); both appliers of the workspace use
//! it. For each [`Layer`] in order (ops within a layer are independent of each other):
//!
//! 1. Skip ops whose [`Op::change`] is [`Change::Unchanged`] or [`Change::Skip`].
//! 2. Replace every [`PendingRef`] of the op: the string at the JSON pointer `pointer` in
//!    `body` contains the text `placeholder`; replace that text with the id the reference
//!    resolves to (a comma-separated property may hold several)
//!    ([`Pending::Created`]: the `Id` that the create of that item answered;
//!    [`Pending::Action`]: the `Id` of the action of that name in the process saved
//!    earlier in the plan; [`Pending::TemplateVersion`]: the `Version` that the create
//!    or update of that step template answered, as text).
//! 3. Fill every secret slot ([`Op::secret_slots`]) with the placeholder secret using
//!    [`fill_secret_slots`]. Plans never carry secrets or their placeholders.
//! 4. Send it:
//!    - [`OpAction::Create`]: `POST /api/{spaceId}/{kind.collection()}` with the body, and
//!      remember the answered `Id` under the op's [`ItemRef`] (plus, for a project, its
//!      `DeploymentProcessId` and `VariableSetId`; for a runbook its `RunbookProcessId`; for
//!      a library variable set its `VariableSetId`).
//!    - [`OpAction::Update`]: resolve the [`Target`] to an id, GET the current document;
//!      when the op has a [`Op::base`], write nothing unless [`Base::matches`] the
//!      current document as [`crate::normalized`] gives it (somebody changed it since
//!      the plan: plan again); copy its `Version` (and for tenant variables
//!      `ConcurrencyToken`) into the body, and
//!      `PUT` the body to `/api/{spaceId}/{kind.collection()}/{id}`. Tenant variables are
//!      written to `/api/{spaceId}/tenants/{tenantId}/variables` instead.
//!      A [`Target::SideEffect`] names a document the server created with its owner (a new
//!      project's deployment process and variable set, a new runbook's process, a new
//!      library variable set's variable set): its id is the field `field` of the owner's
//!      create response.
//!    - A create of a [`ResourceKind::RunbookSnapshot`] is followed by the publish: the
//!      runbook the body's `RunbookId` names gets the answered `Id` as its
//!      `PublishedRunbookSnapshotId` (GET the runbook, set the field, PUT it).
//!    - A create with a [`Op::certificate_file`] reads that file from the directory
//!      `certificates_from` names and sends its bytes, base64-encoded, as the
//!      `CertificateData` sensitive value (a PFX file's password as `Password`).

use std::fmt;

use octopus_model::ResourceKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::base::Base;
use crate::provenance::Provenance;

/// The order in which the layers of a plan run. It follows the "Syncing Order" of
/// Octopus's guide to syncing instances: scaffolding without dependencies first, then
/// what depends on it, then projects and their parts, then tenants and permissions.
///
/// One change: tenant names come before accounts and certificates, so that a
/// tenant-scoped account or certificate finds its tenants on the first run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayerName {
    /// Parent environments (2025.4+), before the environments that name them.
    ParentEnvironments,
    /// Environments.
    Environments,
    /// Project groups.
    ProjectGroups,
    /// Tenant tag sets.
    TagSets,
    /// External feeds.
    Feeds,
    /// Teams, without their role scoping.
    Teams,
    /// User roles.
    UserRoles,
    /// Machine policies.
    MachinePolicies,
    /// Worker pools.
    WorkerPools,
    /// Tenants by name (no project connections yet).
    Tenants,
    /// Infrastructure accounts.
    Accounts,
    /// Step templates.
    StepTemplates,
    /// Lifecycles.
    Lifecycles,
    /// Certificates.
    Certificates,
    /// Script modules (the set).
    ScriptModules,
    /// Library variable sets (the set).
    LibraryVariableSets,
    /// The variables of library variable sets and the bodies of script modules.
    LibraryVariables,
    /// Project settings.
    Projects,
    /// Channels (without version rules).
    Channels,
    /// Deployment processes.
    DeploymentProcesses,
    /// Runbooks.
    Runbooks,
    /// Runbook processes.
    RunbookProcesses,
    /// Project variables.
    ProjectVariables,
    /// Runbook snapshots created and published after the processes and variables they
    /// freeze are written.
    RunbookPublishing,
    /// Channel version rules.
    ChannelRules,
    /// Project settings that name actions (versioning strategy, release creation).
    ProjectVersioning,
    /// Tenant project/environment connections.
    TenantConnections,
    /// Tenant variables.
    TenantVariables,
    /// Deployment freezes, once the projects, environments and tenants they name exist.
    DeploymentFreezes,
    /// Team role scoping.
    TeamPermissions,
    /// Runbooks and channels the source removed (`[policy] prune`), last, so that
    /// nothing is deleted unless every write before it went through.
    Deletions,
}

impl LayerName {
    /// Every layer, in the order plans list them and apply writes them (the order of the
    /// variants, which a test checks; [`crate::PLANNERS`] runs the planners in it).
    pub const ALL: &'static [LayerName] = &[
        LayerName::ParentEnvironments,
        LayerName::Environments,
        LayerName::ProjectGroups,
        LayerName::TagSets,
        LayerName::Feeds,
        LayerName::Teams,
        LayerName::UserRoles,
        LayerName::MachinePolicies,
        LayerName::WorkerPools,
        LayerName::Tenants,
        LayerName::Accounts,
        LayerName::StepTemplates,
        LayerName::Lifecycles,
        LayerName::Certificates,
        LayerName::ScriptModules,
        LayerName::LibraryVariableSets,
        LayerName::LibraryVariables,
        LayerName::Projects,
        LayerName::Channels,
        LayerName::DeploymentProcesses,
        LayerName::Runbooks,
        LayerName::RunbookProcesses,
        LayerName::ProjectVariables,
        LayerName::RunbookPublishing,
        LayerName::ChannelRules,
        LayerName::ProjectVersioning,
        LayerName::TenantConnections,
        LayerName::TenantVariables,
        LayerName::DeploymentFreezes,
        LayerName::TeamPermissions,
        LayerName::Deletions,
    ];

    /// A readable title.
    pub fn title(self) -> &'static str {
        match self {
            LayerName::ParentEnvironments => "parent environments",
            LayerName::Environments => "environments",
            LayerName::ProjectGroups => "project groups",
            LayerName::TagSets => "tenant tag sets",
            LayerName::Feeds => "feeds",
            LayerName::Teams => "teams",
            LayerName::UserRoles => "user roles",
            LayerName::MachinePolicies => "machine policies",
            LayerName::WorkerPools => "worker pools",
            LayerName::Tenants => "tenants",
            LayerName::Accounts => "accounts",
            LayerName::StepTemplates => "step templates",
            LayerName::ScriptModules => "script modules",
            LayerName::Lifecycles => "lifecycles",
            LayerName::Certificates => "certificates",
            LayerName::LibraryVariableSets => "library variable sets",
            LayerName::LibraryVariables => "library variables",
            LayerName::Projects => "projects",
            LayerName::Channels => "channels",
            LayerName::DeploymentProcesses => "deployment processes",
            LayerName::Runbooks => "runbooks",
            LayerName::RunbookProcesses => "runbook processes",
            LayerName::ProjectVariables => "project variables",
            LayerName::RunbookPublishing => "runbook publishing",
            LayerName::ChannelRules => "channel version rules",
            LayerName::ProjectVersioning => "project versioning and release creation",
            LayerName::TenantConnections => "tenant project connections",
            LayerName::TenantVariables => "tenant variables",
            LayerName::DeploymentFreezes => "deployment freezes",
            LayerName::TeamPermissions => "team permissions",
            LayerName::Deletions => "deletions",
        }
    }
}

/// What an op does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpAction {
    /// POST a new item.
    Create,
    /// PUT a changed document.
    Update,
    /// Nothing to do: the destination already matches.
    Unchanged,
    /// Nothing is done, for the stated reason.
    Skip,
    /// DELETE the item: the source no longer has it, and the state records it as written
    /// by an earlier sync and unchanged since (`[policy] prune`).
    Delete,
}

/// An item a plan talks about: its kind, its name and, for items that live inside a
/// project (channels, runbooks, processes, variable sets), the owner's name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ItemRef {
    /// The kind.
    pub kind: ResourceKind,
    /// The item's name (for per-owner documents, the owner's name).
    pub name: String,
    /// The owning project (or `project/runbook` for a runbook process), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

impl ItemRef {
    /// A top-level item.
    pub fn new(kind: ResourceKind, name: impl Into<String>) -> Self {
        Self {
            kind,
            name: name.into(),
            owner: None,
        }
    }

    /// An item inside an owner.
    pub fn owned(kind: ResourceKind, name: impl Into<String>, owner: impl Into<String>) -> Self {
        Self {
            kind,
            name: name.into(),
            owner: Some(owner.into()),
        }
    }
}

impl fmt::Display for ItemRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.owner {
            Some(owner) => write!(f, "{} {:?} of {:?}", self.kind, self.name, owner),
            None => write!(f, "{} {:?}", self.kind, self.name),
        }
    }
}

/// Which destination document an update writes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Target {
    /// A document that exists on the destination.
    Existing {
        /// Its id.
        id: String,
    },
    /// An item created earlier in this plan; its id is the one the create answered.
    Created {
        /// The created item.
        item: ItemRef,
    },
    /// A document the server created as a side effect of creating `owner` earlier in this
    /// plan; its id is the field `field` of the owner's create response
    /// (`DeploymentProcessId`, `VariableSetId`, `RunbookProcessId`).
    SideEffect {
        /// The owner created earlier in the plan.
        owner: ItemRef,
        /// The field of the owner's create response that holds the id.
        field: String,
    },
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Existing { id } => f.write_str(id),
            Target::Created { item } => write!(f, "(new {item})"),
            Target::SideEffect { owner, field } => write!(f, "({field} of new {owner})"),
        }
    }
}

/// A reference to something the destination does not have yet.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Pending {
    /// An item created earlier in the plan.
    Created {
        /// The item.
        item: ItemRef,
    },
    /// An action of a process saved earlier in the plan (variable `Action` scopes hold
    /// action ids, which the server assigns when the process is saved).
    Action {
        /// The process owner: the project, or `project/runbook`.
        process: crate::ledger::ProcessKey,
        /// The action's name.
        action: String,
    },
    /// The `Version` of a step template created or updated earlier in the plan: the
    /// server bumps it on every save, and actions based on the template record it in
    /// `Octopus.Action.Template.Version`.
    TemplateVersion {
        /// The step template.
        item: ItemRef,
    },
}

impl Pending {
    /// The placeholder text a body holds until the reference is resolved.
    pub fn placeholder(&self) -> String {
        // Written piece by piece (a plan hands out thousands): the same text as
        // `format!("(pending {item})")` and the like.
        let mut out = String::with_capacity(64);
        out.push_str("(pending ");
        match self {
            Pending::Created { item } => push_item(&mut out, item),
            Pending::Action { process, action } => {
                out.push_str("action ");
                push_quoted(&mut out, action);
                out.push_str(" of ");
                push_quoted(&mut out, process.as_str());
            }
            Pending::TemplateVersion { item } => {
                out.push_str("version of ");
                push_item(&mut out, item);
            }
        }
        out.push(')');
        out
    }
}

/// Appends an item as its `Display` writes it.
fn push_item(out: &mut String, item: &ItemRef) {
    out.push_str(item.kind.label());
    out.push(' ');
    push_quoted(out, &item.name);
    if let Some(owner) = &item.owner {
        out.push_str(" of ");
        push_quoted(out, owner);
    }
}

/// Appends `text` as `{:?}` writes it: printable ASCII other than `"` and `\` stands
/// for itself between quotes; anything else goes through `Debug`.
pub(crate) fn push_quoted(out: &mut String, text: &str) {
    if text
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
    {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else {
        use std::fmt::Write as _;
        // Writing to a String cannot fail.
        let _ = write!(out, "{text:?}");
    }
}

/// Where a body refers to something not created yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRef {
    /// RFC 6901 JSON pointer into the op's body, to a string that contains
    /// `placeholder`.
    pub pointer: String,
    /// The text to replace with the resolved id (see [`Pending::placeholder`]).
    pub placeholder: String,
    /// `true` when the placeholder is in the *key* of the object member at `pointer`
    /// (tenant `ProjectEnvironments` are keyed by project id): rename the key.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_key: bool,
    /// What it refers to.
    pub reference: Pending,
}

/// One field an update changes. Secrets are redacted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// The path (`Steps[0].Actions[1].Environments`).
    pub path: String,
    /// The destination's value (`null` when absent).
    pub before: Value,
    /// The value to send (`null` when removed).
    pub after: Value,
}

impl OpAction {
    /// Whether an applier sends something for it.
    pub fn writes(self) -> bool {
        matches!(self, OpAction::Create | OpAction::Update | OpAction::Delete)
    }
}

/// One decision about one item.
///
/// What an op carries depends on what it does ([`Change`]): a create has a body, an
/// update a target and a body, a delete a target; an op that writes nothing has at most
/// the document it is about. Which fields an action needs is thus decided when the op is
/// built, never found missing when it is applied. In JSON an op is one flat object, its
/// `action` telling which fields it has (the layout plans have always had).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(try_from = "OpWire")]
pub struct Op {
    /// The item.
    pub item: ItemRef,
    /// Why.
    pub reason: String,
    /// The owner's destination id or pending reference, for items that live inside a
    /// project (channels, runbooks, processes, variable sets).
    pub owner: Option<Target>,
    /// What is done, with what that needs.
    pub change: Change,
}

/// What an op does, with the data that action needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// POST a new item.
    Create(Create),
    /// PUT a changed document.
    Update(Update),
    /// Nothing to do: the destination already matches.
    Unchanged {
        /// The document, when it exists (not for one the server creates with its owner).
        target: Option<Target>,
    },
    /// Nothing is done, for the stated reason.
    Skip {
        /// The destination's document the skip is about, when there is one.
        target: Option<Target>,
    },
    /// DELETE the item (`[policy] prune`).
    Delete {
        /// The document deleted.
        target: Target,
        /// What it was when planned: an applier deletes only that document.
        base: Option<Base>,
    },
}

/// What a create sends.
#[derive(Clone, Debug, PartialEq)]
pub struct Create {
    /// The whole new item.
    pub body: Value,
    /// References in the body to items created earlier in the plan.
    pub pending: Vec<PendingRef>,
    /// JSON pointers into the body where the applier writes a placeholder secret (see
    /// [`fill_secret_slots`]).
    pub secret_slots: Vec<String>,
    /// For a certificate created from a file the user supplies: which file. The applier
    /// reads it when it writes and fills the body's `CertificateData` (and `Password`)
    /// slots; plans never carry certificate data.
    pub certificate_file: Option<CertificateFile>,
}

/// What an update writes, and over what.
#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    /// The document written.
    pub target: Target,
    /// The whole desired document, built from the destination's own document so fields
    /// this crate does not model survive.
    pub body: Value,
    /// What changes.
    pub diff: Vec<FieldChange>,
    /// References in the body to items created earlier in the plan.
    pub pending: Vec<PendingRef>,
    /// JSON pointers into the body where the applier writes a placeholder secret.
    pub secret_slots: Vec<String>,
    /// For variable sets: per changed variable name, what each destination context
    /// resolves to before and after (what a reviewer checks).
    pub variables: Vec<VariableReview>,
    /// For a document the destination already has: what it was when the plan was
    /// made. An applier writes only over the same document (see [`Base::matches`]).
    pub base: Option<Base>,
    /// The members the update deletes under `[policy] prune` (steps, variable values),
    /// each described for a reviewer. Counted in [`Summary::delete`].
    pub removed: Vec<String>,
}

impl Op {
    /// A skip, for `reason`.
    pub fn skip(item: ItemRef, reason: impl Into<String>) -> Self {
        Self::with(item, reason, Change::Skip { target: None })
    }

    /// An item that needs nothing: `target` is its document, when it exists.
    pub fn unchanged(item: ItemRef, reason: impl Into<String>, target: Option<Target>) -> Self {
        Self::with(item, reason, Change::Unchanged { target })
    }

    /// A create of `body`.
    pub fn create(item: ItemRef, reason: impl Into<String>, body: Value) -> Self {
        Self::with(
            item,
            reason,
            Change::Create(Create {
                body,
                pending: Vec::new(),
                secret_slots: Vec::new(),
                certificate_file: None,
            }),
        )
    }

    /// An update of `target` to `body`, which differs from it by `diff`.
    pub fn update(
        item: ItemRef,
        reason: impl Into<String>,
        target: Target,
        body: Value,
        diff: Vec<FieldChange>,
    ) -> Self {
        Self::with(
            item,
            reason,
            Change::Update(Update {
                target,
                body,
                diff,
                pending: Vec::new(),
                secret_slots: Vec::new(),
                variables: Vec::new(),
                base: None,
                removed: Vec::new(),
            }),
        )
    }

    /// A delete of `target`, guarded by `base`.
    pub fn delete(
        item: ItemRef,
        reason: impl Into<String>,
        target: Target,
        base: Option<Base>,
    ) -> Self {
        Self::with(item, reason, Change::Delete { target, base })
    }

    fn with(item: ItemRef, reason: impl Into<String>, change: Change) -> Self {
        Self {
            item,
            reason: reason.into(),
            owner: None,
            change,
        }
    }

    /// This op turned into a skip of the same document (its reason stays, or is
    /// replaced by the caller).
    pub fn into_skip(self) -> Self {
        let target = self.target().cloned();
        Self {
            change: Change::Skip { target },
            ..self
        }
    }

    /// What is done.
    pub fn action(&self) -> OpAction {
        match &self.change {
            Change::Create(_) => OpAction::Create,
            Change::Update(_) => OpAction::Update,
            Change::Unchanged { .. } => OpAction::Unchanged,
            Change::Skip { .. } => OpAction::Skip,
            Change::Delete { .. } => OpAction::Delete,
        }
    }

    /// The document an update or delete writes, or an unchanged or skipped op is about.
    pub fn target(&self) -> Option<&Target> {
        match &self.change {
            Change::Create(_) => None,
            Change::Update(u) => Some(&u.target),
            Change::Unchanged { target } | Change::Skip { target } => target.as_ref(),
            Change::Delete { target, .. } => Some(target),
        }
    }

    /// The body a create or update sends.
    pub fn body(&self) -> Option<&Value> {
        match &self.change {
            Change::Create(c) => Some(&c.body),
            Change::Update(u) => Some(&u.body),
            _ => None,
        }
    }

    /// What an update changes (nothing for other actions).
    pub fn diff(&self) -> &[FieldChange] {
        match &self.change {
            Change::Update(u) => &u.diff,
            _ => &[],
        }
    }

    /// References in the body to items created earlier in the plan.
    pub fn pending(&self) -> &[PendingRef] {
        match &self.change {
            Change::Create(c) => &c.pending,
            Change::Update(u) => &u.pending,
            _ => &[],
        }
    }

    /// Where the body gets a placeholder secret.
    pub fn secret_slots(&self) -> &[String] {
        match &self.change {
            Change::Create(c) => &c.secret_slots,
            Change::Update(u) => &u.secret_slots,
            _ => &[],
        }
    }

    /// For an update of a variable set: what each context resolves to before and after.
    pub fn variables(&self) -> &[VariableReview] {
        match &self.change {
            Change::Update(u) => &u.variables,
            _ => &[],
        }
    }

    /// What the document an update or delete writes was when planned.
    pub fn base(&self) -> Option<&Base> {
        match &self.change {
            Change::Update(u) => u.base.as_ref(),
            Change::Delete { base, .. } => base.as_ref(),
            _ => None,
        }
    }

    /// The file a certificate create reads.
    pub fn certificate_file(&self) -> Option<&CertificateFile> {
        match &self.change {
            Change::Create(c) => c.certificate_file.as_ref(),
            _ => None,
        }
    }

    /// The members an update deletes (`[policy] prune`).
    pub fn removed(&self) -> &[String] {
        match &self.change {
            Change::Update(u) => &u.removed,
            _ => &[],
        }
    }

    /// The create's data, to add to it while planning.
    pub fn create_mut(&mut self) -> Option<&mut Create> {
        match &mut self.change {
            Change::Create(c) => Some(c),
            _ => None,
        }
    }

    /// The update's data, to add to it while planning.
    pub fn update_mut(&mut self) -> Option<&mut Update> {
        match &mut self.change {
            Change::Update(u) => Some(u),
            _ => None,
        }
    }
}

fn empty<T>(items: &&[T]) -> bool {
    items.is_empty()
}

/// The JSON layout of an op, written from borrowed parts so a plan serializes without
/// copying bodies. Field order is the layout's.
#[derive(Serialize)]
struct OpWireRef<'a> {
    item: &'a ItemRef,
    action: OpAction,
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<&'a Target>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<&'a Target>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<&'a Value>,
    #[serde(skip_serializing_if = "empty")]
    diff: &'a [FieldChange],
    #[serde(skip_serializing_if = "empty")]
    pending: &'a [PendingRef],
    #[serde(skip_serializing_if = "empty")]
    secret_slots: &'a [String],
    #[serde(skip_serializing_if = "empty")]
    variables: &'a [VariableReview],
    #[serde(skip_serializing_if = "Option::is_none")]
    base: Option<&'a Base>,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate_file: Option<&'a CertificateFile>,
    #[serde(skip_serializing_if = "empty")]
    removed: &'a [String],
}

impl Serialize for Op {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        OpWireRef {
            item: &self.item,
            action: self.action(),
            reason: &self.reason,
            target: self.target(),
            owner: self.owner.as_ref(),
            body: self.body(),
            diff: self.diff(),
            pending: self.pending(),
            secret_slots: self.secret_slots(),
            variables: self.variables(),
            base: self.base(),
            certificate_file: self.certificate_file(),
            removed: self.removed(),
        }
        .serialize(serializer)
    }
}

/// An op as JSON holds it: every field optional, checked against the action when read.
#[derive(Deserialize)]
struct OpWire {
    item: ItemRef,
    action: OpAction,
    reason: String,
    #[serde(default)]
    target: Option<Target>,
    #[serde(default)]
    owner: Option<Target>,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    diff: Vec<FieldChange>,
    #[serde(default)]
    pending: Vec<PendingRef>,
    #[serde(default)]
    secret_slots: Vec<String>,
    #[serde(default)]
    variables: Vec<VariableReview>,
    #[serde(default)]
    base: Option<Base>,
    #[serde(default)]
    certificate_file: Option<CertificateFile>,
    #[serde(default)]
    removed: Vec<String>,
}

/// Why an op read from JSON is not one a planner makes: a field its action needs is
/// missing, or it holds one its action has no use for.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{action} op of {item} {problem}")]
pub struct OpShapeError {
    /// The op's item.
    pub item: ItemRef,
    /// Its action, as the JSON gives it.
    pub action: String,
    /// What is wrong.
    pub problem: String,
}

impl TryFrom<OpWire> for Op {
    type Error = OpShapeError;

    fn try_from(w: OpWire) -> Result<Self, Self::Error> {
        let fail = |problem: &str| OpShapeError {
            item: w.item.clone(),
            action: format!("{:?}", w.action).to_lowercase(),
            problem: problem.to_owned(),
        };
        let no_write = w.body.is_none()
            && w.diff.is_empty()
            && w.pending.is_empty()
            && w.secret_slots.is_empty()
            && w.variables.is_empty()
            && w.certificate_file.is_none()
            && w.removed.is_empty();
        let change = match w.action {
            OpAction::Create => {
                if w.target.is_some() || w.base.is_some() {
                    return Err(fail("names an existing document"));
                }
                if !(w.diff.is_empty() && w.variables.is_empty() && w.removed.is_empty()) {
                    return Err(fail("holds what only an update has"));
                }
                let body = w.body.ok_or_else(|| fail("has no body"))?;
                Change::Create(Create {
                    body,
                    pending: w.pending,
                    secret_slots: w.secret_slots,
                    certificate_file: w.certificate_file,
                })
            }
            OpAction::Update => {
                if w.certificate_file.is_some() {
                    return Err(fail("names a certificate file"));
                }
                let target = w
                    .target
                    .ok_or_else(|| fail("names no document to update"))?;
                let body = w.body.ok_or_else(|| fail("has no body"))?;
                Change::Update(Update {
                    target,
                    body,
                    diff: w.diff,
                    pending: w.pending,
                    secret_slots: w.secret_slots,
                    variables: w.variables,
                    base: w.base,
                    removed: w.removed,
                })
            }
            OpAction::Unchanged | OpAction::Skip => {
                if !no_write || w.base.is_some() {
                    return Err(fail("holds something to write"));
                }
                if w.action == OpAction::Skip {
                    Change::Skip { target: w.target }
                } else {
                    Change::Unchanged { target: w.target }
                }
            }
            OpAction::Delete => {
                if !no_write {
                    return Err(fail("holds something to write"));
                }
                let target = w
                    .target
                    .ok_or_else(|| fail("names no document to delete"))?;
                Change::Delete {
                    target,
                    base: w.base,
                }
            }
        };
        Ok(Op {
            item: w.item,
            reason: w.reason,
            owner: w.owner,
            change,
        })
    }
}

/// The file a certificate is created from, in the directory `certificates_from` names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateFile {
    /// The file's name in that directory (`Web.pfx`).
    pub file: String,
    /// Whether it is a PKCS #12 (PFX) file, whose password comes from the environment
    /// variable `certificates_password_env` names; otherwise PEM or DER text, sent as is.
    pub pkcs12: bool,
}

/// What a destination context resolves a variable to, as a reviewer reads it. Secrets
/// are never shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ResolvedValue {
    /// No value applies.
    Unset,
    /// A plain (or typed) value.
    Text {
        /// The value.
        value: String,
    },
    /// A secret the destination keeps.
    Secret,
    /// A secret this plan adds with a dummy value, to be replaced.
    DummySecret,
    /// Several values tie; Octopus's pick is not defined.
    Ambiguous {
        /// The tied values.
        values: Vec<ResolvedValue>,
    },
}

impl fmt::Display for ResolvedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolvedValue::Unset => f.write_str("(none)"),
            ResolvedValue::Text { value } => {
                if value.chars().count() > 60 {
                    let cut: String = value.chars().take(57).collect();
                    write!(f, "{cut}...")
                } else {
                    f.write_str(value)
                }
            }
            ResolvedValue::Secret => f.write_str("<secret>"),
            ResolvedValue::DummySecret => f.write_str("<dummy secret>"),
            ResolvedValue::Ambiguous { values } => {
                f.write_str("ambiguous: ")?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" | ")?;
                    }
                    write!(f, "{v}")?;
                }
                Ok(())
            }
        }
    }
}

/// One destination context's resolution of a variable, before and after the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextResolution {
    /// The context (`Staging`, `Production · role SQL-Server`).
    pub context: String,
    /// What it resolves to now.
    pub before: ResolvedValue,
    /// What it resolves to after the plan is applied.
    pub after: ResolvedValue,
}

/// What the destination contexts resolve one variable name to, before and after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariableReview {
    /// The variable's name.
    pub name: String,
    /// One row per context.
    pub contexts: Vec<ContextResolution>,
}

/// Why a clean-up entry exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CleanupCategory {
    /// A new item got a dummy secret (account, feed, sensitive variable or property).
    DummySecret,
    /// A value was replaced by the placeholder text.
    Placeholder,
    /// Some values of a scope were dropped because the destination lacks them.
    DroppedScope,
    /// Every value of a scope dimension was dropped: the value or step now applies more
    /// widely than on the source.
    WidenedScope,
    /// An existing destination value took a narrower scope from the source: contexts it
    /// applied to before may now resolve another value, or none.
    NarrowedScope,
    /// An item was not synced.
    Skipped,
    /// A version shim changed a body.
    VersionShim,
    /// A reference could not be translated and was left out or reset.
    Reference,
    /// A project keeps its process, runbooks and non-sensitive variables in git on one
    /// side: what octosync does and does not do for it.
    VersionControlled,
}

impl CleanupCategory {
    fn label(self) -> &'static str {
        match self {
            CleanupCategory::DummySecret => "dummy secret",
            CleanupCategory::Placeholder => "placeholder",
            CleanupCategory::DroppedScope => "dropped scope",
            CleanupCategory::WidenedScope => "widened scope",
            CleanupCategory::NarrowedScope => "narrowed scope",
            CleanupCategory::Skipped => "skipped",
            CleanupCategory::VersionShim => "version shim",
            CleanupCategory::Reference => "reference",
            CleanupCategory::VersionControlled => "version controlled",
        }
    }
}

/// Something a person must look at after the sync.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CleanupEntry {
    /// Why.
    pub category: CleanupCategory,
    /// The item concerned.
    pub item: ItemRef,
    /// What happened, in words.
    pub message: String,
}

/// Counts of ops by action.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Creates.
    pub create: usize,
    /// Updates.
    pub update: usize,
    /// Unchanged items.
    pub unchanged: usize,
    /// Skipped items.
    pub skip: usize,
    /// Deletions: delete ops plus the members updates remove (`[policy] prune`). Left
    /// out of JSON when zero, so plans without deletions keep their layout.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delete: usize,
    /// Clean-up entries.
    pub cleanup: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One step of the sync order with its ops.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Layer {
    /// Which step.
    pub name: LayerName,
    /// Its ops, in a stable order.
    pub ops: Vec<Op>,
}

/// What a sync will do to one destination.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The source's version.
    pub source_version: String,
    /// The destination's version.
    pub destination_version: String,
    /// The layers, in order; layers without ops are left out.
    pub layers: Vec<Layer>,
    /// What a person must look at afterwards.
    pub cleanup: Vec<CleanupEntry>,
    /// Things worth knowing that are not tied to one op.
    pub warnings: Vec<String>,
    /// Counts.
    pub summary: Summary,
    /// With `[policy] prune`: what on the destination matches the source now, for the
    /// runner to record after an apply (see [`crate::provenance`]).
    #[serde(default, skip_serializing_if = "Provenance::is_empty")]
    pub synced: Provenance,
}

impl Plan {
    /// Every op, in order.
    pub fn ops(&self) -> impl Iterator<Item = &Op> {
        self.layers.iter().flat_map(|l| l.ops.iter())
    }

    /// Whether the plan would write anything.
    pub fn has_changes(&self) -> bool {
        self.summary.create + self.summary.update + self.summary.delete > 0
    }

    /// The creates, updates and deletes, in order: what an applier sends.
    pub fn writes(&self) -> impl Iterator<Item = &Op> {
        self.ops().filter(|op| op.action().writes())
    }

    /// Every deletion, described for a reviewer: the delete ops and the members updates
    /// remove.
    pub fn deletions(&self) -> Vec<String> {
        let mut out = Vec::new();
        for op in self.ops() {
            if op.action() == OpAction::Delete {
                out.push(op.item.to_string());
            }
            for member in op.removed() {
                out.push(format!("{member} from {}", op.item));
            }
        }
        out
    }

    /// The first op about an item of `kind` named `name` (case-insensitive, trimmed).
    pub fn find(&self, kind: ResourceKind, name: &str) -> Option<&Op> {
        let key = octopus_model::name_key(name);
        self.ops()
            .find(|op| op.item.kind == kind && octopus_model::name_key(&op.item.name) == key)
    }

    /// Every op about items of `kind`.
    pub fn of_kind(&self, kind: ResourceKind) -> impl Iterator<Item = &Op> {
        self.ops().filter(move |op| op.item.kind == kind)
    }
}

/// Substitutes resolved ids for the placeholders of `pending` in `body`: `resolve`
/// answers the destination id of each reference. An applier calls this just before
/// sending the body.
pub fn resolve_pending<E>(
    body: &mut Value,
    pending: &[PendingRef],
    mut resolve: impl FnMut(&Pending) -> Result<String, E>,
) -> Result<(), E> {
    for r in pending {
        let id = resolve(&r.reference)?;
        if r.in_key {
            let (parent, last) = r.pointer.rsplit_once('/').unwrap_or(("", &r.pointer));
            let last = last.replace("~1", "/").replace("~0", "~");
            if let Some(Value::Object(map)) = body.pointer_mut(parent) {
                if let Some(v) = map.remove(&last) {
                    map.insert(last.replace(&r.placeholder, &id), v);
                }
            }
        } else if let Some(Value::String(s)) = body.pointer_mut(&r.pointer) {
            *s = s.replace(&r.placeholder, &id);
        }
    }
    Ok(())
}

/// Writes `placeholder` at every secret slot of a body: a string slot gets the text, a
/// sensitive-value object slot gets `{"HasValue": true, "NewValue": placeholder}`.
/// Slots that do not resolve are ignored.
pub fn fill_secret_slots(body: &mut Value, slots: &[String], placeholder: &str) {
    for pointer in slots {
        if let Some(slot) = body.pointer_mut(pointer) {
            if slot.is_object() {
                *slot = serde_json::json!({"HasValue": true, "NewValue": placeholder});
            } else {
                *slot = Value::String(placeholder.to_owned());
            }
        }
    }
}

/// The secret an applier writes into secret slots unless told otherwise.
pub const DEFAULT_SECRET_PLACEHOLDER: &str = "DUMMY VALUE";

fn action_mark(action: OpAction) -> &'static str {
    match action {
        OpAction::Create => "+",
        OpAction::Update => "~",
        OpAction::Unchanged => "=",
        OpAction::Skip => "!",
        OpAction::Delete => "-",
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 {
        let cut: String = text.chars().take(77).collect();
        format!("{cut}...")
    } else {
        text
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.summary;
        let deletions = if s.delete > 0 {
            format!(", {} to delete", s.delete)
        } else {
            String::new()
        };
        writeln!(
            f,
            "Plan: {} to create, {} to update{deletions}, {} unchanged, {} skipped (source {}, destination {})",
            s.create, s.update, s.unchanged, s.skip, self.source_version, self.destination_version
        )?;
        for layer in &self.layers {
            writeln!(f)?;
            writeln!(f, "== {}", layer.name.title())?;
            for op in &layer.ops {
                writeln!(
                    f,
                    "  {} {} {}: {}",
                    action_mark(op.action()),
                    format!("{:?}", op.action()).to_lowercase(),
                    op.item,
                    op.reason
                )?;
                for member in op.removed() {
                    writeln!(f, "      - {member}")?;
                }
                for change in op.diff() {
                    writeln!(
                        f,
                        "      {}: {} -> {}",
                        change.path,
                        short(&change.before),
                        short(&change.after)
                    )?;
                }
                for review in op.variables() {
                    writeln!(f, "      {} resolves to:", review.name)?;
                    for row in &review.contexts {
                        let mark = if row.before == row.after { " " } else { "*" };
                        writeln!(
                            f,
                            "       {mark} {}: {} -> {}",
                            row.context, row.before, row.after
                        )?;
                    }
                }
            }
        }
        if !self.cleanup.is_empty() {
            writeln!(f)?;
            writeln!(f, "Clean-up log ({} entries):", self.cleanup.len())?;
            for entry in &self.cleanup {
                writeln!(
                    f,
                    "  - [{}] {}: {}",
                    entry.category.label(),
                    entry.item,
                    entry.message
                )?;
            }
        }
        if !self.warnings.is_empty() {
            writeln!(f)?;
            writeln!(f, "Warnings:")?;
            for w in &self.warnings {
                writeln!(f, "  - {w}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_slots_are_filled_in_the_shape_they_have() {
        let mut body = json!({"Variables": [{"Value": null}], "Password": {"HasValue": false}});
        fill_secret_slots(
            &mut body,
            &[
                "/Variables/0/Value".into(),
                "/Password".into(),
                "/Nope".into(),
            ],
            "X",
        );
        assert_eq!(body["Variables"][0]["Value"], "X");
        assert_eq!(body["Password"], json!({"HasValue": true, "NewValue": "X"}));
    }

    #[test]
    fn an_op_is_one_flat_object_in_the_layout_plans_have_always_had() {
        let item = ItemRef::owned(ResourceKind::VariableSet, "OctoFX", "OctoFX");
        let mut op = Op::update(
            item,
            "values differ",
            Target::Existing {
                id: "variableset-1".into(),
            },
            json!({"Variables": []}),
            vec![FieldChange {
                path: "Variables".into(),
                before: json!(null),
                after: json!([]),
            }],
        );
        op.owner = Some(Target::Existing {
            id: "Projects-1".into(),
        });
        if let Some(update) = op.update_mut() {
            update.secret_slots = vec!["/Variables/0/Value".into()];
            update.removed = vec!["value of X".into()];
        }
        let text = serde_json::to_string(&op).unwrap_or_default();
        assert_eq!(
            text,
            concat!(
                r#"{"item":{"kind":"VariableSet","name":"OctoFX","owner":"OctoFX"},"#,
                r#""action":"update","reason":"values differ","#,
                r#""target":{"type":"existing","id":"variableset-1"},"#,
                r#""owner":{"type":"existing","id":"Projects-1"},"#,
                r#""body":{"Variables":[]},"#,
                r#""diff":[{"path":"Variables","before":null,"after":[]}],"#,
                r#""secret_slots":["/Variables/0/Value"],"removed":["value of X"]}"#
            )
        );
        let back: Op = serde_json::from_str(&text).expect("an op reads back");
        assert_eq!(back, op);
        let skip = Op::skip(ItemRef::new(ResourceKind::Feed, "F"), "why");
        assert_eq!(
            serde_json::to_value(&skip).ok(),
            Some(json!({"item": {"kind": "Feed", "name": "F"}, "action": "skip", "reason": "why"}))
        );
    }

    #[test]
    fn ops_lacking_what_their_action_needs_are_refused_when_read() {
        let item = json!({"kind": "Environment", "name": "Test"});
        let read = |op: Value| serde_json::from_value::<Op>(op).map_err(|e| e.to_string());
        let update = read(json!({"item": item, "action": "update", "reason": "r", "body": {}}));
        assert!(update.is_err_and(|e| e.contains("names no document to update")));
        let create = read(json!({"item": item, "action": "create", "reason": "r"}));
        assert!(create.is_err_and(|e| e.contains("has no body")));
        let delete = read(json!({"item": item, "action": "delete", "reason": "r"}));
        assert!(delete.is_err_and(|e| e.contains("names no document to delete")));
        let skip = read(json!({"item": item, "action": "skip", "reason": "r", "body": {}}));
        assert!(skip.is_err_and(|e| e.contains("holds something to write")));
        let create_over = read(json!({"item": item, "action": "create", "reason": "r",
            "body": {}, "target": {"type": "existing", "id": "Environments-1"}}));
        assert!(create_over.is_err_and(|e| e.contains("names an existing document")));
        let fine = read(json!({"item": item, "action": "delete", "reason": "r",
            "target": {"type": "existing", "id": "Environments-1"}}));
        assert!(fine.is_ok_and(|op| op.action() == OpAction::Delete && op.body().is_none()));
    }

    #[test]
    fn layers_are_listed_in_order() {
        let mut sorted = LayerName::ALL.to_vec();
        sorted.sort();
        assert_eq!(sorted, LayerName::ALL);
        assert!(LayerName::Channels < LayerName::DeploymentProcesses);
        assert!(LayerName::DeploymentProcesses < LayerName::ProjectVariables);
        assert!(LayerName::Runbooks < LayerName::ProjectVariables);
        assert!(LayerName::RunbookProcesses < LayerName::RunbookPublishing);
        assert!(LayerName::ProjectVariables < LayerName::RunbookPublishing);
        assert!(LayerName::Tenants < LayerName::Accounts);
    }
}
