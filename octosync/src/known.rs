//! Reading only what changed: what a run knows of a space (a snapshot as of an audit-log
//! position) is brought up to date by reading the audit-log events since that position
//! and re-reading the documents they name.
//!
//! # Why it gives the answer a full read would
//!
//! A [`Known`] snapshot holds every document as it was at its position or later: every
//! change after the position is an event after it. Bringing it up to date reads the
//! events first, then re-reads each document an event names: a document no event names
//! did not change since the position, and a re-read one is at least as new as the
//! newest event read, which becomes the new position. So the snapshot, patched, is what
//! a full read started at the new position would have found, for every document the
//! plan reads.
//!
//! Where the log cannot be trusted to name everything that changed, the whole space is
//! read instead, and the run says why:
//!
//! - a deletion (what referred to the deleted document, in scopes, phases or tenant
//!   connections, may change with it and no event is promised for that);
//! - a tag set's change (tag names are copied into tenants and scopes);
//! - an environment's change on a server with parent environments (ephemeral
//!   environments are read from a second list);
//! - an event about a document octosync cannot re-read on its own, or that names no
//!   document;
//! - a log that no longer holds the position's event (the log was trimmed: events may
//!   be missing);
//! - more documents to re-read than a full read costs requests.
//!
//! Creating a project creates its deployment process, variable set and default channel
//! without events of their own (as Octopus records it), so a project's creation
//! re-reads those too; likewise a runbook's process and a library variable set's
//! variables. Tenant variables are a view of tenants, projects and library variable
//! sets, so an event about any of them re-reads that view.
//!
//! The knowledge lives in a [`Memory`], which the runner updates after every read of an
//! instance (a full read records where the log stood before it), and which the command
//! line keeps in the state directory between runs ([`Memory::load`], [`Memory::save`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use futures::future::try_join_all;
use octopus_client::{Error as ClientError, OctopusRead};
use octopus_model::{owned, OctopusVersion, ResourceKind, TenantId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sync_core::Snapshot;

use crate::load::{has_scoped_common_variables, LoadError};

/// A snapshot of a space as of an audit-log position.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Known {
    /// The `AutoId` of the newest event the snapshot includes (`0`: the log was empty).
    pub position: u64,
    /// The kinds the snapshot holds: a read of other kinds reads everything.
    pub kinds: BTreeSet<ResourceKind>,
    /// The space's documents.
    pub snapshot: Snapshot,
}

/// How one read of an instance went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HowRead {
    /// Nothing happened since the known position: nothing but the log was read.
    Unchanged,
    /// The documents `events` named were re-read (`documents` reads).
    Changes {
        /// Events since the known position.
        events: usize,
        /// Documents (or per-owner lists) re-read.
        documents: usize,
    },
    /// Everything was read, for this reason.
    Everything(String),
}

#[derive(Debug, Default)]
struct Inner {
    known: Option<Known>,
    /// Where the log stood before this run read anything (given by the caller, or
    /// found by the first read).
    start: Option<u64>,
    /// Every event read during this run after `start`, by `AutoId`.
    seen: BTreeMap<u64, Value>,
    /// `seen` holds every event after `start` up to this one.
    seen_to: Option<u64>,
    reads: Vec<HowRead>,
    /// The position after each read, in order.
    positions: Vec<u64>,
}

/// What a run knows of one instance, shared by its reads (a plan again after an apply
/// re-reads only what the apply and others changed). Safe to share between tasks.
#[derive(Debug, Default)]
pub struct Memory {
    inner: Mutex<Inner>,
}

impl Memory {
    /// Knows nothing yet: the first read reads everything (and asks the log where it
    /// stands first).
    pub fn new() -> Self {
        Memory::default()
    }

    /// Knows nothing yet, and the log stood at `position` before anything was read:
    /// the first read reads everything and records that position.
    pub fn starting_at(position: u64) -> Self {
        let memory = Memory::default();
        {
            let mut inner = memory.lock();
            inner.start = Some(position);
            inner.seen_to = Some(position);
        }
        memory
    }

    /// Knows `known`.
    pub fn knowing(known: Known) -> Self {
        let memory = Memory::starting_at(known.position);
        memory.lock().known = Some(known);
        memory
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave `Inner` half-updated: every
        // update below is made of assignments and inserts that cannot fail.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What is known now.
    pub fn known(&self) -> Option<Known> {
        self.lock().known.clone()
    }

    fn take_known(&self) -> Option<Known> {
        self.lock().known.take()
    }

    /// Whether anything is known (without copying it).
    pub fn knows(&self) -> bool {
        self.lock().known.is_some()
    }

    /// Where the log stood before this run read anything, once known.
    pub fn start(&self) -> Option<u64> {
        self.lock().start
    }

    /// The position of what is known now.
    pub fn position(&self) -> Option<u64> {
        self.lock().known.as_ref().map(|k| k.position)
    }

    /// Every event after [`Memory::start`] up to [`Memory::position`], oldest first,
    /// when this run's reads saw them all (a full read that asked the log only where it
    /// stood did not).
    pub fn events_since_start(&self) -> Option<Vec<Value>> {
        let inner = self.lock();
        let position = inner.known.as_ref()?.position;
        (inner.seen_to == Some(position)).then(|| inner.seen.values().cloned().collect())
    }

    /// How each read of this run went, in order.
    pub fn reads(&self) -> Vec<HowRead> {
        self.lock().reads.clone()
    }

    /// The position the first read of this run brought the knowledge to: what the
    /// first plan was made from.
    pub fn first_position(&self) -> Option<u64> {
        self.lock().positions.first().copied()
    }

    /// Records a read: `known` as read, `how`, and the events read from `from` on
    /// (`None`: the log was not read through).
    fn remember(&self, known: Known, how: HowRead, events: Option<(u64, Vec<Value>)>) {
        let mut inner = self.lock();
        let start = *inner.start.get_or_insert(known.position);
        if inner.seen_to.is_none() && known.position == start {
            inner.seen_to = Some(start);
        }
        if let Some((from, events)) = events {
            for event in events {
                let id = auto_id(&event);
                if id > start {
                    inner.seen.insert(id, event);
                }
            }
            // Contiguous with what was seen before: the log was read from where it
            // was last seen (or earlier).
            if inner.seen_to.is_some_and(|to| from <= to.max(start)) {
                inner.seen_to = Some(known.position);
            }
        }
        inner.positions.push(known.position);
        inner.known = Some(known);
        inner.reads.push(how);
    }
}

fn auto_id(event: &Value) -> u64 {
    event["AutoId"].as_u64().unwrap_or(0)
}

/// One read that brings a snapshot up to date.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Reread {
    /// A document by id (absent: it was deleted).
    Document(ResourceKind, String),
    /// A whole collection.
    Collection(ResourceKind),
    /// A project's channels.
    ProjectChannels(String),
}

/// What the events since a position ask for: the reads, or why everything must be read.
fn rereads(
    events: &[Value],
    known: &Known,
    version: &OctopusVersion,
) -> Result<BTreeSet<Reread>, String> {
    let mut out = BTreeSet::new();
    let wants = |kind: ResourceKind| known.kinds.contains(&kind);
    let mut tenant_view = false;
    for event in events {
        let category = event["Category"].as_str().unwrap_or("");
        for id in documents_of(event) {
            let Some(kind) = kind_of_id(&id)? else {
                continue;
            };
            if category.eq_ignore_ascii_case("Deleted") && wants(kind) {
                return Err(format!(
                    "{id} was deleted, which can change what referred to it without an event"
                ));
            }
            let view_fields: &[&str] = match kind {
                ResourceKind::Project | ResourceKind::LibraryVariableSet => &["/Templates"],
                // Where a server keeps a tenant's values is its own business (this
                // fake keeps them on the tenant), so any change to a tenant counts.
                ResourceKind::Tenant | ResourceKind::TenantVariables => &["/"],
                _ => &[],
            };
            if !view_fields.is_empty() && changes_any(event, view_fields) {
                tenant_view = true;
            }
            if !wants(kind) {
                continue;
            }
            match kind {
                ResourceKind::TagSet => {
                    return Err(format!(
                        "tag set {id} changed, and tag names are copied into tenants and scopes"
                    ))
                }
                ResourceKind::Environment if version.at_least(2025, 4) => {
                    return Err(format!(
                        "environment {id} changed, and this server also lists environments by type"
                    ))
                }
                ResourceKind::DeploymentFreeze
                | ResourceKind::ParentEnvironment
                | ResourceKind::TenantVariables => {
                    out.insert(Reread::Collection(kind));
                }
                _ => {
                    out.insert(Reread::Document(kind, id.clone()));
                }
            }
            let created = category.eq_ignore_ascii_case("Created");
            let context = &event["ChangeDetails"]["DocumentContext"];
            if created {
                // Created with their owner, without events of their own.
                created_with(kind, &id, context, &mut out, wants);
            }
        }
    }
    if tenant_view && wants(ResourceKind::TenantVariables) {
        out.insert(Reread::Collection(ResourceKind::TenantVariables));
    }
    Ok(out)
}

/// Whether an event's change touches a field under one of `paths` (JSON pointers): a
/// creation or deletion does, and so does an event whose difference is not a patch.
fn changes_any(event: &Value, paths: &[&str]) -> bool {
    let category = event["Category"].as_str().unwrap_or("");
    if !category.eq_ignore_ascii_case("Modified") {
        return true;
    }
    let Some(patch) = event["ChangeDetails"]["Differences"].as_array() else {
        return true;
    };
    patch.iter().any(|op| {
        let path = op["path"].as_str().unwrap_or("/");
        paths
            .iter()
            .any(|p| *p == "/" || path == *p || path.starts_with(&format!("{p}/")))
    })
}

/// The documents created together with `id` that Octopus does not record events for:
/// those [`owned`] says a new document of `kind` comes with, under the ids the event's
/// document names (else the ids the server derives).
fn created_with(
    kind: ResourceKind,
    id: &str,
    context: &Value,
    out: &mut BTreeSet<Reread>,
    wants: impl Fn(ResourceKind) -> bool,
) {
    for derived in owned::derived_ids(kind) {
        if wants(derived.kind) {
            out.insert(Reread::Document(derived.kind, derived.of(context, id)));
        }
    }
    // The default channel's id is not derived: its project's channels are re-read.
    if owned::has_default_channel(kind) && wants(ResourceKind::Channel) {
        out.insert(Reread::ProjectChannels(id.to_owned()));
    }
}

/// The documents an event is about: the one its change details hold (the document the
/// difference is of) when it is one of the related documents, else every related
/// document (the changed one is always among them; the others are its owners, read
/// again for nothing).
fn documents_of(event: &Value) -> Vec<String> {
    let related: Vec<String> = event["RelatedDocumentIds"]
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let context = &event["ChangeDetails"]["DocumentContext"];
    match context["Id"].as_str().filter(|s| !s.is_empty()) {
        Some(id) if related.is_empty() || related.iter().any(|r| r.eq_ignore_ascii_case(id)) => {
            vec![id.to_owned()]
        }
        _ => related,
    }
}

/// Document-id prefixes (lower case) of what a snapshot never holds: events about them
/// change nothing a plan reads.
const NOT_IN_SNAPSHOTS: &[&str] = &[
    "deployments",
    "releases",
    "servertasks",
    "interruptions",
    "artifacts",
    "events",
    "subscriptions",
    "runbooksnapshots",
    "runbookruns",
    "workers",
    "buildinformation",
    "packages",
    "projecttriggers",
    "spaces",
    "apikeys",
    "tasks",
];

/// The kind of a document by its id's prefix: `None` for what no snapshot holds, an
/// error for what octosync cannot place.
fn kind_of_id(id: &str) -> Result<Option<ResourceKind>, String> {
    let head = match id.split_once('-') {
        Some((head, _)) => head,
        None => id,
    }
    .to_ascii_lowercase();
    use ResourceKind as K;
    let kind = match head.as_str() {
        "environments" => K::Environment,
        "projectgroups" => K::ProjectGroup,
        "projects" => K::Project,
        // A project's deployment settings are fields of the project document too.
        "deploymentsettings" => K::Project,
        "lifecycles" => K::Lifecycle,
        "channels" => K::Channel,
        "runbooks" => K::Runbook,
        "deploymentprocess" => K::DeploymentProcess,
        "runbookprocess" => K::RunbookProcess,
        "variableset" => K::VariableSet,
        "libraryvariablesets" => K::LibraryVariableSet,
        "tagsets" => K::TagSet,
        "tenants" => K::Tenant,
        "tenantvariables" => K::TenantVariables,
        "feeds" => K::Feed,
        "accounts" => K::Account,
        "certificates" => K::Certificate,
        "workerpools" => K::WorkerPool,
        "machinepolicies" => K::MachinePolicy,
        "machines" => K::Machine,
        "actiontemplates" => K::ActionTemplate,
        "teams" => K::Team,
        "scopeduserroles" => K::ScopedUserRole,
        "userroles" => K::UserRole,
        "users" => K::User,
        "deploymentfreezes" => K::DeploymentFreeze,
        "parentenvironments" => K::ParentEnvironment,
        other if NOT_IN_SNAPSHOTS.contains(&other) => return Ok(None),
        _ => {
            return Err(format!(
                "an event names {id}, a document octosync cannot re-read on its own"
            ))
        }
    };
    Ok(Some(kind))
}

/// The project id a `deploymentsettings-Projects-1` id stands for, else the id.
fn document_id(kind: ResourceKind, id: &str) -> String {
    if kind == ResourceKind::Project {
        if let Some((head, rest)) = id.split_once('-') {
            if head.eq_ignore_ascii_case("deploymentsettings") {
                return rest.to_owned();
            }
        }
    }
    id.to_owned()
}

/// What one re-read found.
enum Found {
    Document(ResourceKind, String, Option<Value>),
    Collection(ResourceKind, Vec<Value>),
    ProjectChannels(String, Vec<Value>),
    CommonVariables(Vec<Value>),
}

impl Found {
    /// The snapshot collection what was found goes into.
    fn collection(&self) -> Option<&'static str> {
        match self {
            Found::Document(kind, ..) | Found::Collection(kind, _) => {
                Snapshot::collection_of(*kind)
            }
            Found::ProjectChannels(..) => Snapshot::collection_of(ResourceKind::Channel),
            Found::CommonVariables(_) => Some("tenantcommonvariables"),
        }
    }
}

async fn reread(reader: &dyn OctopusRead, read: &Reread) -> Result<Found, ClientError> {
    match read {
        Reread::Document(kind, id) => {
            let id = document_id(*kind, id);
            match reader.get_raw(*kind, &id).await {
                Ok(doc) => Ok(Found::Document(*kind, id, Some(doc))),
                Err(ClientError::NotFound { .. }) => Ok(Found::Document(*kind, id, None)),
                Err(e) => Err(e),
            }
        }
        Reread::Collection(kind) => Ok(Found::Collection(*kind, reader.list_raw(*kind).await?)),
        Reread::ProjectChannels(project) => {
            let channels = reader
                .project_channels(&octopus_model::ProjectId::new(project.clone()))
                .await?;
            let values = channels
                .iter()
                .map(serde_json::to_value)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ClientError::Config(format!("channels of {project}: {e}")))?;
            Ok(Found::ProjectChannels(project.clone(), values))
        }
    }
}

fn same_id(doc: &Value, id: &str) -> bool {
    doc["Id"]
        .as_str()
        .is_some_and(|d| d.eq_ignore_ascii_case(id))
}

/// Lays what was re-read over the snapshot's collections.
fn items<'a>(
    collections: &'a mut [(&'static str, Value)],
    name: Option<&str>,
) -> Option<&'a mut Vec<Value>> {
    let name = name?;
    collections
        .iter_mut()
        .find(|(c, _)| *c == name)
        .and_then(|(_, v)| v.as_array_mut())
}

fn patch(collections: &mut [(&'static str, Value)], found: Vec<Found>) {
    for found in found {
        let Some(list) = items(collections, found.collection()) else {
            continue;
        };
        match found {
            Found::Document(_, id, doc) => {
                let at = list.iter().position(|d| same_id(d, &id));
                match (at, doc) {
                    (Some(i), Some(doc)) => list[i] = doc,
                    (Some(i), None) => {
                        list.remove(i);
                    }
                    (None, Some(doc)) => list.push(doc),
                    (None, None) => {}
                }
            }
            Found::Collection(_, all) | Found::CommonVariables(all) => *list = all,
            Found::ProjectChannels(project, channels) => {
                list.retain(|c| {
                    !c["ProjectId"]
                        .as_str()
                        .is_some_and(|p| p.eq_ignore_ascii_case(&project))
                });
                list.extend(channels);
            }
        }
    }
}

/// Reads one space through `reader`, re-reading only what changed when `memory` knows
/// it as of a position the log still holds; otherwise everything, by `full`. Either way
/// `memory` then knows the space as read (unless the instance keeps no log).
pub(crate) async fn load_remembering<F, Fut>(
    reader: &dyn OctopusRead,
    instance: &str,
    kinds: &BTreeSet<ResourceKind>,
    memory: &Memory,
    full: F,
) -> Result<Snapshot, LoadError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Snapshot, LoadError>>,
{
    let log_error = |source| LoadError::Read {
        instance: instance.to_owned(),
        what: "the audit log (of the space the last run found; --full looks it up again)"
            .to_owned(),
        source: Box::new(source),
    };
    let mut read_log = None;
    // Taken, not copied: the read puts back what it finds (a failed read leaves nothing
    // known, so the next one reads everything).
    let had_known = memory.knows();
    let why = match memory.take_known() {
        Some(known) if known.kinds == *kinds => {
            let from = known.position;
            match reader.audit_events_from(from).await.map_err(log_error)? {
                None => "the instance keeps no audit log".to_owned(),
                Some(events) => {
                    match bring_up_to_date(reader, instance, known, &events, kinds).await? {
                        Ok((known, how)) => {
                            let snapshot = known.snapshot.clone();
                            memory.remember(known, how, Some((from, events)));
                            return Ok(snapshot);
                        }
                        Err(why) => {
                            // Read before everything else is: the full read is at least
                            // as new as the newest of them.
                            let newest = events.iter().map(auto_id).max().unwrap_or(0);
                            read_log = Some((from, newest.max(from), events));
                            why
                        }
                    }
                }
            }
        }
        Some(_) => "the selection reads other kinds than the last read".to_owned(),
        None => "nothing is known of it yet".to_owned(),
    };
    let fresh_start = match had_known {
        false => memory.start(),
        true => None,
    };
    let position = match (&read_log, fresh_start) {
        (Some((_, newest, _)), _) => Some(*newest),
        (None, Some(start)) => Some(start),
        // A log that cannot be read leaves nothing to remember; the full read says
        // what is wrong with the instance, if anything is.
        (None, None) => match reader.audit_log_position().await {
            Ok(position) => position,
            Err(e) => {
                tracing::warn!(instance, error = %e, "cannot read the audit log; the next run reads everything");
                None
            }
        },
    };
    let snapshot = full().await?;
    let Some(position) = position else {
        return Ok(snapshot);
    };
    memory.remember(
        Known {
            position,
            kinds: kinds.clone(),
            snapshot: snapshot.clone(),
        },
        HowRead::Everything(why),
        read_log.map(|(from, _, events)| (from, events)),
    );
    Ok(snapshot)
}

/// The known snapshot with the documents `events` name re-read; `Err(why)` when
/// everything must be read instead.
async fn bring_up_to_date(
    reader: &dyn OctopusRead,
    instance: &str,
    known: Known,
    events: &[Value],
    kinds: &BTreeSet<ResourceKind>,
) -> Result<Result<(Known, HowRead), String>, LoadError> {
    let news: Vec<Value> = events
        .iter()
        .filter(|e| auto_id(e) > known.position)
        .cloned()
        .collect();
    let newest = news.iter().map(auto_id).max().unwrap_or(known.position);
    if news.is_empty() {
        return Ok(Ok((known, HowRead::Unchanged)));
    }
    // The log must still hold the event the knowledge is as of, or events after it may
    // have been trimmed. An empty log then (position 0) gives nothing to check against
    // unless the log still starts at its very first event.
    if known.position == 0 {
        if news.iter().map(auto_id).min() != Some(1) {
            return Ok(Err(
                "the audit log was empty at the last read and no longer starts at its first event, so a trimmed log cannot be told"
                    .to_owned(),
            ));
        }
    } else if !events.iter().any(|e| auto_id(e) == known.position) {
        return Ok(Err(format!(
            "the audit log no longer holds event {} (it was trimmed), so changes may be missing",
            known.position
        )));
    }
    let version = known.snapshot.version.clone();
    let reads = match rereads(&news, &known, &version) {
        Ok(reads) => reads,
        Err(why) => return Ok(Err(why)),
    };
    tracing::debug!(
        instance,
        events = news.len(),
        ?reads,
        "re-reading what the audit log names"
    );
    let common = reads.contains(&Reread::Collection(ResourceKind::TenantVariables))
        && has_scoped_common_variables(&version);
    let tenants: Vec<TenantId> = known
        .snapshot
        .tenants
        .iter()
        .filter_map(|t| t.id.get().cloned())
        .collect();
    let cost = reads.len() + if common { tenants.len() } else { 0 };
    // A full read costs about one request per collection (and per tenant for the
    // scoped common variables); past that, re-reading is the dearer way.
    let full_cost = kinds.len() + 3 + if common { tenants.len() } else { 0 };
    if cost > full_cost {
        return Ok(Err(format!(
            "{} events name {cost} documents, more than reading everything costs",
            news.len()
        )));
    }
    let read_error = |source| LoadError::Read {
        instance: instance.to_owned(),
        what: "a document an audit-log event names".to_owned(),
        source: Box::new(source),
    };
    let mut found = try_join_all(reads.iter().map(|r| reread(reader, r)))
        .await
        .map_err(read_error)?;
    if common {
        let all = try_join_all(tenants.iter().map(|t| reader.tenant_common_variables(t)))
            .await
            .map_err(read_error)?;
        let values = all
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| LoadError::Read {
                instance: instance.to_owned(),
                what: "tenant common variables".to_owned(),
                source: Box::new(ClientError::Config(e.to_string())),
            })?;
        found.push(Found::CommonVariables(values));
    }
    // Only the collections the re-reads touch are encoded, patched and decoded again.
    let touched: BTreeSet<&'static str> = found.iter().filter_map(Found::collection).collect();
    let mut collections: Vec<(&'static str, Value)> = touched
        .into_iter()
        .filter_map(|name| Some((name, known.snapshot.collection(name)?)))
        .collect();
    patch(&mut collections, found);
    let mut snapshot = known.snapshot;
    snapshot
        .replace_collections(collections)
        .map_err(|source| LoadError::Snapshot {
            instance: instance.to_owned(),
            source,
        })?;
    Ok(Ok((
        Known {
            position: newest,
            kinds: known.kinds,
            snapshot,
        },
        HowRead::Changes {
            events: news.len(),
            documents: cost,
        },
    )))
}

/// The layout of a saved [`Known`] this build reads and writes.
const KNOWN_FORMAT: u32 = 1;

/// A saved [`Known`] (`K` is `Known` when read, `&Known` when written).
#[derive(Serialize, Deserialize)]
struct Saved<K> {
    format: u32,
    tool_version: String,
    url: String,
    space: String,
    #[serde(flatten)]
    known: K,
}

impl Memory {
    /// The file in `dir` that keeps what is known of the instance at `url`, `space`.
    pub fn file(dir: &Path, url: &str, space: &str) -> PathBuf {
        let key = sync_core::digest_bytes(format!("{url}\n{space}").as_bytes());
        dir.join(format!("known-{key}.json"))
    }

    /// What the state directory `dir` knows of the instance at `url`, `space`, as
    /// recorded by this build of octosync; a new memory (which reads everything) when
    /// nothing usable is recorded, with the reason logged.
    pub fn load(dir: &Path, url: &str, space: &str) -> Memory {
        let path = Self::file(dir, url, space);
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Memory::new(),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read what is known of the space; reading everything");
                return Memory::new();
            }
        };
        match serde_json::from_slice::<Saved<Known>>(&text) {
            Ok(saved)
                if saved.format == KNOWN_FORMAT
                    && saved.tool_version == crate::saved::TOOL_VERSION
                    && saved.url == url
                    && saved.space == space =>
            {
                Memory::knowing(saved.known)
            }
            Ok(_) => {
                tracing::info!(path = %path.display(), "recorded by another octosync or for another space; reading everything");
                Memory::new()
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "what is known of the space cannot be read; reading everything");
                Memory::new()
            }
        }
    }

    /// Keeps what is known in `dir` for the next run (atomically: a crash leaves the
    /// old file or the new one). Knowing nothing removes the file.
    pub fn save(&self, dir: &Path, url: &str, space: &str) -> Result<(), crate::state::StateError> {
        let path = Self::file(dir, url, space);
        // Serialized under the lock rather than copied out of it.
        let inner = self.lock();
        let Some(known) = inner.known.as_ref() else {
            return match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(crate::state::StateError::Write {
                        path: path.display().to_string(),
                        source: e,
                    })
                }
                _ => Ok(()),
            };
        };
        let saved = Saved {
            format: KNOWN_FORMAT,
            tool_version: crate::saved::TOOL_VERSION.to_owned(),
            url: url.to_owned(),
            space: space.to_owned(),
            known,
        };
        let text = serde_json::to_vec(&saved).map_err(|e| crate::state::StateError::Invalid {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        crate::state::write_atomically(dir, &path, &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn known(kinds: &[ResourceKind], position: u64) -> Known {
        Known {
            position,
            kinds: kinds.iter().copied().collect(),
            snapshot: Snapshot::default(),
        }
    }

    fn event(auto_id: u64, category: &str, id: &str) -> Value {
        json!({
            "AutoId": auto_id,
            "Category": category,
            "RelatedDocumentIds": [id],
            "ChangeDetails": {"DocumentContext": {"Id": id}},
        })
    }

    #[test]
    fn a_changed_variable_set_is_the_one_document_reread() {
        let k = known(&[ResourceKind::Project, ResourceKind::VariableSet], 5);
        let reads = rereads(
            &[event(6, "Modified", "variableset-Projects-1")],
            &k,
            &OctopusVersion::new(2024, 2, 0),
        );
        assert_eq!(
            reads,
            Ok(BTreeSet::from([Reread::Document(
                ResourceKind::VariableSet,
                "variableset-Projects-1".into()
            )]))
        );
    }

    #[test]
    fn a_created_project_rereads_what_was_created_with_it() {
        let k = known(
            &[
                ResourceKind::Project,
                ResourceKind::VariableSet,
                ResourceKind::DeploymentProcess,
                ResourceKind::Channel,
            ],
            5,
        );
        let reads = rereads(
            &[event(6, "Created", "Projects-9")],
            &k,
            &OctopusVersion::new(2024, 2, 0),
        )
        .unwrap_or_default();
        assert!(reads.contains(&Reread::Document(
            ResourceKind::Project,
            "Projects-9".into()
        )));
        assert!(reads.contains(&Reread::Document(
            ResourceKind::DeploymentProcess,
            "deploymentprocess-Projects-9".into()
        )));
        assert!(reads.contains(&Reread::Document(
            ResourceKind::VariableSet,
            "variableset-Projects-9".into()
        )));
        assert!(reads.contains(&Reread::ProjectChannels("Projects-9".into())));
    }

    #[test]
    fn deletions_unknown_documents_and_tag_sets_read_everything() {
        let k = known(&[ResourceKind::Environment, ResourceKind::TagSet], 1);
        let v = OctopusVersion::new(2024, 2, 0);
        for e in [
            event(2, "Deleted", "Environments-1"),
            event(2, "Modified", "TagSets-1"),
            event(2, "Modified", "Gizmos-1"),
        ] {
            assert!(rereads(std::slice::from_ref(&e), &k, &v).is_err(), "{e}");
        }
    }

    #[test]
    fn events_about_what_no_snapshot_holds_or_this_one_does_not_read_are_ignored() {
        let k = known(&[ResourceKind::Environment], 1);
        let v = OctopusVersion::new(2024, 2, 0);
        let reads = rereads(
            &[
                event(2, "DeploymentQueued", "Deployments-4"),
                event(3, "Modified", "Machines-2"),
                event(4, "Deleted", "Machines-3"),
            ],
            &k,
            &v,
        );
        assert_eq!(reads, Ok(BTreeSet::new()));
    }

    #[test]
    fn an_event_is_about_its_changed_document_when_the_related_ones_agree() {
        let about = |context: Value, related: Value| {
            documents_of(&json!({
                "RelatedDocumentIds": related,
                "ChangeDetails": {"DocumentContext": context},
            }))
        };
        assert_eq!(
            about(
                json!({"Id": "variableset-Projects-1"}),
                json!(["variableset-Projects-1", "Projects-1"])
            ),
            ["variableset-Projects-1"]
        );
        // A context that is not one of the related documents is not trusted.
        assert_eq!(
            about(
                json!({"Id": "Projects-9"}),
                json!(["variableset-Projects-1", "Projects-1"])
            ),
            ["variableset-Projects-1", "Projects-1"]
        );
        assert_eq!(about(Value::Null, json!(["Machines-1"])), ["Machines-1"]);
    }

    #[test]
    fn patching_replaces_adds_and_removes_by_id() {
        let mut collections = vec![(
            "environments",
            json!([{"Id": "Environments-1", "Name": "A"}, {"Id": "Environments-2", "Name": "B"}]),
        )];
        patch(
            &mut collections,
            vec![
                Found::Document(
                    ResourceKind::Environment,
                    "environments-1".into(),
                    Some(json!({"Id": "Environments-1", "Name": "A2"})),
                ),
                Found::Document(ResourceKind::Environment, "Environments-2".into(), None),
                Found::Document(
                    ResourceKind::Environment,
                    "Environments-3".into(),
                    Some(json!({"Id": "Environments-3", "Name": "C"})),
                ),
            ],
        );
        assert_eq!(
            collections[0].1,
            json!([{"Id": "Environments-1", "Name": "A2"}, {"Id": "Environments-3", "Name": "C"}])
        );
    }
}
