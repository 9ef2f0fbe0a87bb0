//! Syncing only when something changed: the audit logs of the source and a destination
//! tell whether anything happened on either side since the last sync left the
//! destination in sync.
//!
//! After an apply whose last plan found nothing left to do, [`settle`] takes a second
//! checkpoint of both logs and checks what happened between the checkpoint taken before
//! the apply read anything and this one: no source event at all (the source did not
//! change under the read), and on the destination only octosync's own writes (events
//! whose `UserAgent` is octosync's and that are about a document this apply wrote). Then the state records the destination as
//! [`InSync`] at those positions.
//!
//! Before a later `plan` or `apply`, [`check`] reads the newest event of each log (one
//! request per instance: the state keeps the space ids). When no destination's log, nor
//! the source's, moved past its recorded position, and the config and the octosync
//! version are the same, nothing can plan differently: there is nothing to read and
//! nothing to do, and the run says so. Any event, any other config, a missing or
//! foreign state, or `--full` means the full read, as before, and the run says why.
//!
//! The shortcut rests on one property of Octopus: every change to a document is an
//! audit-log event. A change that leaves no event (a direct database edit) is not seen
//! until the next event or a run with `--full`.
//!
//! [`Memories`] go further: the state directory keeps what each server's last read
//! found (see [`crate::known`]), so a run reads each log since then and only the
//! documents the events name; when no log moved and the in-sync records stand, those
//! reads are the whole run. [`check`] is what a run does when the state keeps no such
//! file for some server.

use std::collections::{BTreeMap, BTreeSet};

use octopus_client::OctopusHttpClient;
use sync_core::Plan;

use crate::audit::Checkpoints;
use crate::config::{InstanceConfig, SyncConfig};
use crate::drift::OCTOSYNC_AGENT;
use crate::known::{HowRead, Memory};
use crate::report::ApplyRun;
use crate::runner::{Connected, Destination, Source};
use crate::state::{InSync, InstanceState, SyncState};

/// What [`check`] found for one destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Neither log moved since the sync that left it in sync.
    Unchanged(InSync),
    /// A full read is needed, for this reason.
    Read(String),
}

/// A client that reads one instance's audit log with one request: the space is named
/// by the id the state recorded, so it is not looked up.
fn log_client(
    instance: &InstanceConfig,
    recorded: &InstanceState,
    config: &SyncConfig,
) -> Result<OctopusHttpClient, String> {
    match &recorded.space_id {
        Some(id) => crate::runner::connect_to_space(instance, &config.apply, id),
        None => crate::runner::connect(instance, &config.apply),
    }
    .map_err(|e| e.to_string())
}

async fn newest(
    instance: &InstanceConfig,
    recorded: &InstanceState,
    config: &SyncConfig,
) -> Result<u64, String> {
    let client = log_client(instance, recorded, config)?;
    client
        .latest_event_auto_id()
        .await
        .map(|id| id.unwrap_or(0))
        .map_err(|e| {
            format!(
                "cannot read the audit log of {}: {e}",
                instance.display_name()
            )
        })
}

/// Whether an in-sync record still speaks for this run: made with the config of
/// `digest` and this octosync (other rules or another planner may plan otherwise).
fn stands(s: &InSync, digest: &str) -> Result<(), String> {
    if s.config_digest != digest {
        return Err("sync.toml changed since the last sync".into());
    }
    if s.tool_version != crate::saved::TOOL_VERSION {
        return Err(format!(
            "the last sync was made by octosync {}",
            s.tool_version
        ));
    }
    Ok(())
}

/// The digest a state records of the config a sync ran with.
pub fn config_digest(config_bytes: &[u8]) -> String {
    sync_core::digest_bytes(config_bytes)
}

/// For each destination of `config`, in order: whether a plan can skip reading it
/// because nothing changed since the last sync left it in sync.
pub async fn check(config: &SyncConfig, config_bytes: &[u8]) -> Vec<Verdict> {
    let all = |why: String| vec![Verdict::Read(why); config.destinations.len()];
    let state = match SyncState::read(&config.state_dir()) {
        Ok(Some(state)) => state,
        Ok(None) => return all("no state records an earlier sync".into()),
        Err(e) => return all(format!("the state cannot be read: {e}")),
    };
    let Some(source_url) = &config.source.url else {
        return all("the source is a snapshot directory".into());
    };
    let source_state = match &state.source {
        Some(s) if s.is_for(source_url.as_str(), &config.source.space) => s,
        _ => return all("the state was recorded for another source".into()),
    };
    let digest = config_digest(config_bytes);
    let mut source_event: Option<Result<u64, String>> = None;
    let mut out = Vec::with_capacity(config.destinations.len());
    for dest in &config.destinations {
        let name = dest.instance.display_name();
        let recorded = state.destinations.get(&name);
        let verdict = match (recorded, &dest.instance.url) {
            (_, None) => Verdict::Read("a snapshot directory is always read".into()),
            (None, _) => Verdict::Read("no earlier sync of this destination".into()),
            (Some(d), Some(url)) if !d.instance.is_for(url.as_str(), &dest.instance.space) => {
                Verdict::Read("the state was recorded for another instance".into())
            }
            (Some(d), Some(_)) => match &d.in_sync {
                None => Verdict::Read("the last sync did not end in sync".into()),
                Some(s) => match stands(s, &digest) {
                    Err(why) => Verdict::Read(why),
                    Ok(()) => {
                        let source_now = match &source_event {
                            Some(found) => found.clone(),
                            None => {
                                let found = newest(&config.source, source_state, config).await;
                                source_event = Some(found.clone());
                                found
                            }
                        };
                        match source_now {
                            Err(e) => Verdict::Read(e),
                            Ok(now) if now != s.source_event => Verdict::Read(format!(
                                "the source's audit log moved (event {} then, {now} now)",
                                s.source_event
                            )),
                            Ok(_) => match newest(&dest.instance, &d.instance, config).await {
                                Err(e) => Verdict::Read(e),
                                Ok(now) if now != s.destination_event => Verdict::Read(format!(
                                    "the destination's audit log moved (event {} then, {now} now)",
                                    s.destination_event
                                )),
                                Ok(_) => Verdict::Unchanged(s.clone()),
                            },
                        }
                    }
                },
            },
        };
        out.push(verdict);
    }
    out
}

/// The plan of a destination nothing happened to: empty, and saying why.
pub fn unchanged_plan(since: &InSync) -> Plan {
    Plan {
        source_version: since.source_version.clone(),
        destination_version: since.destination_version.clone(),
        layers: Vec::new(),
        cleanup: Vec::new(),
        warnings: vec![format!(
            "nothing changed on the source (audit-log event {}) or here (event {}) since the last sync left this destination in sync, so nothing was read; --full reads everything",
            since.source_event, since.destination_event
        )],
        summary: Default::default(),
        synced: Default::default(),
    }
}

/// After an apply: which destinations it left in sync, with where both logs stand
/// (see the module docs). `after` are the plans made from the destinations as the
/// apply left them, by name; a destination without one, or whose plan still writes,
/// is not in sync.
///
/// With `memories` (the run read through them), the source must not have moved past
/// the position its read brought it to, and the destination window starts where the
/// destination's first read stood; the destination events the run's reads saw are used
/// rather than read again.
pub async fn settle(
    config: &SyncConfig,
    config_bytes: &[u8],
    checkpoints: &Checkpoints,
    run: &ApplyRun,
    after: &[(String, Plan)],
    memories: Option<&Memories>,
) -> BTreeMap<String, InSync> {
    let mut out = BTreeMap::new();
    let Some(source_before) = &checkpoints.source else {
        return out;
    };
    let read_to = memories
        .and_then(|m| m.source.as_ref())
        .and_then(Memory::position);
    let Some(source_then) = read_to.or(source_before.last_event) else {
        return out;
    };
    let source_now = match newest(&config.source, source_before, config).await {
        Ok(now) => now,
        Err(e) => {
            tracing::warn!(error = %e, "cannot tell whether the source changed during the apply");
            return out;
        }
    };
    if source_now != source_then {
        tracing::info!(
            then = source_then,
            now = source_now,
            "the source changed during the apply; the next run reads everything"
        );
        return out;
    }
    for (i, (dest, checkpoint)) in config
        .destinations
        .iter()
        .zip(&checkpoints.destinations)
        .enumerate()
    {
        let name = dest.instance.display_name();
        let Some(plan) = after.iter().find(|(n, _)| *n == name).map(|(_, p)| p) else {
            continue;
        };
        let Some(before) = checkpoint else {
            continue;
        };
        let memory = memories
            .and_then(|m| m.destinations.get(i))
            .and_then(Option::as_ref);
        let Some(then) = memory
            .and_then(Memory::first_position)
            .or(before.last_event)
        else {
            continue;
        };
        if plan.has_changes() {
            continue;
        }
        let seen = memory.and_then(|m| Some((m.events_since_start()?, m.position()?)));
        let (events, read_to) = match seen {
            Some((events, position)) => (
                events
                    .into_iter()
                    .filter(|e| e["AutoId"].as_u64().is_some_and(|id| id > then))
                    .collect(),
                position,
            ),
            None => {
                let client = match log_client(&dest.instance, before, config) {
                    Ok(client) => client,
                    Err(e) => {
                        tracing::warn!(destination = %name, error = %e, "cannot read the audit log");
                        continue;
                    }
                };
                match client.events_from(then + 1).await {
                    Ok(events) => (events, then),
                    Err(e) => {
                        tracing::warn!(destination = %name, error = %e, "cannot read the audit log");
                        continue;
                    }
                }
            }
        };
        let events: Vec<serde_json::Value> = events;
        // Ours: sent by octosync and about a document this apply wrote. Another octosync
        // (another pipeline, another source) writing here meanwhile is someone else.
        let written: BTreeSet<String> = run
            .destinations
            .iter()
            .filter(|d| d.name == name)
            .flat_map(|d| d.results.iter())
            .filter_map(|r| r.outcome.id())
            .map(str::to_lowercase)
            .collect();
        let others = events
            .iter()
            .filter(|e| {
                let by_octosync = e["UserAgent"]
                    .as_str()
                    .is_some_and(|agent| agent.starts_with(OCTOSYNC_AGENT));
                let about_ours = e["RelatedDocumentIds"].as_array().is_some_and(|ids| {
                    ids.iter()
                        .filter_map(serde_json::Value::as_str)
                        .any(|id| written.contains(&id.to_lowercase()))
                });
                !(by_octosync && about_ours)
            })
            .count();
        if others > 0 {
            tracing::info!(destination = %name, others, "someone else wrote during the apply; the next run reads everything");
            continue;
        }
        let now = events
            .iter()
            .filter_map(|e| e["AutoId"].as_u64())
            .max()
            .unwrap_or(then)
            .max(read_to);
        out.insert(
            name,
            InSync {
                source_event: source_now,
                destination_event: now,
                config_digest: config_digest(config_bytes),
                tool_version: crate::saved::TOOL_VERSION.to_owned(),
                source_version: plan.source_version.clone(),
                destination_version: plan.destination_version.clone(),
            },
        );
    }
    out
}

/// `n` and `word`, plural unless `n` is 1.
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

const NOTHING_MOVED: &str = "no audit log moved since the last read";

/// What the state directory knows of every live instance of a config (see
/// [`crate::known`]): the runs of `plan` and `apply` read through these, so a run after
/// a sync re-reads only what the audit logs say changed.
#[derive(Debug, Default)]
pub struct Memories {
    /// The source's; `None` for a snapshot directory.
    pub source: Option<Memory>,
    /// Each destination's, in the config's order; `None` for a snapshot directory.
    pub destinations: Vec<Option<Memory>>,
    /// The space ids the state recorded, source first, for instances it knows.
    space_ids: Vec<Option<String>>,
    /// Each destination's in-sync record, in the config's order.
    in_sync: Vec<Option<InSync>>,
}

impl Memories {
    /// What the state directory of `config` knows. With `full`, nothing: every instance
    /// is read in full (and remembered for the next run).
    pub fn load(config: &SyncConfig, full: bool) -> Memories {
        let dir = config.state_dir();
        let state = if full {
            None
        } else {
            SyncState::read(&dir).ok().flatten()
        };
        let recorded_space = |instance: &InstanceConfig, recorded: Option<&InstanceState>| {
            let url = instance.url.as_ref()?;
            recorded
                .filter(|r| r.is_for(url.as_str(), &instance.space))
                .and_then(|r| r.space_id.clone())
        };
        let one = |instance: &InstanceConfig, recorded: Option<&InstanceState>| {
            let url = instance.url.as_ref()?;
            if instance.snapshot.is_some() {
                return None;
            }
            // Without the space's id the log cannot be read before the space is looked
            // up, which is what reading everything does anyway.
            let known = !full && recorded_space(instance, recorded).is_some();
            Some(if known {
                Memory::load(&dir, url.as_str(), &instance.space)
            } else {
                Memory::new()
            })
        };
        let source_state = state.as_ref().and_then(|s| s.source.as_ref());
        // What the state recorded for a destination, by its name in the config.
        let record_of = |d: &crate::config::DestinationConfig| {
            state
                .as_ref()
                .and_then(|s| s.destinations.get(&d.instance.display_name()))
        };
        let mut space_ids = vec![recorded_space(&config.source, source_state)];
        let destinations = config
            .destinations
            .iter()
            .map(|d| {
                let recorded = record_of(d).map(|d| &d.instance);
                space_ids.push(recorded_space(&d.instance, recorded));
                one(&d.instance, recorded)
            })
            .collect();
        let in_sync = config
            .destinations
            .iter()
            .map(|d| {
                let recorded = record_of(d)?;
                let url = d.instance.url.as_ref()?;
                recorded
                    .instance
                    .is_for(url.as_str(), &d.instance.space)
                    .then(|| recorded.in_sync.clone())
                    .flatten()
            })
            .collect();
        Memories {
            source: one(&config.source, source_state),
            destinations,
            space_ids,
            in_sync,
        }
    }

    /// After the reads of a plan: the plans of a run in which nothing happened since
    /// the last sync left every destination in sync (every read found no event, and
    /// each destination's in-sync record stands at the positions read, made with this
    /// config and this octosync); otherwise how the run read and why, in a phrase.
    pub fn unchanged_plans(
        &self,
        config: &SyncConfig,
        config_bytes: &[u8],
    ) -> Result<Vec<Plan>, String> {
        let moved = self.why_read(config);
        if !moved.ends_with(NOTHING_MOVED) {
            return Err(moved);
        }
        let quiet = |why: &str| Err(format!("read only what changed: {why}"));
        let Some(source) = self.source.as_ref() else {
            return quiet("the source is a snapshot directory");
        };
        let digest = config_digest(config_bytes);
        let mut plans = Vec::with_capacity(self.destinations.len());
        for ((memory, in_sync), dest) in self
            .destinations
            .iter()
            .zip(&self.in_sync)
            .zip(&config.destinations)
        {
            let name = dest.instance.display_name();
            let Some(memory) = memory else {
                return quiet(&format!("{name} is a snapshot directory"));
            };
            let Some(s) = in_sync else {
                return quiet(&format!("the last sync of {name} did not end in sync"));
            };
            if let Err(why) = stands(s, &digest) {
                return quiet(&why);
            }
            if source.position() != Some(s.source_event)
                || memory.position() != Some(s.destination_event)
            {
                return quiet(&format!(
                    "what was last read of {name} is newer than the sync that left it in sync"
                ));
            }
            plans.push(unchanged_plan(s));
        }
        Ok(plans)
    }

    /// Why a run read what it read, in a phrase: the first instance whose log moved
    /// since what was known of it (or that was read in full), and how it was read.
    pub fn why_read(&self, config: &SyncConfig) -> String {
        for (role, instance, memory) in self.instances(config) {
            let name = instance.display_name();
            match Self::first_read(memory) {
                None | Some(HowRead::Unchanged) => continue,
                Some(HowRead::Changes { events, documents }) => {
                    return format!(
                    "read only what changed: the {role}'s audit log moved ({name}: {}, {} re-read)",
                    plural(events, "event"),
                    plural(documents, "document"),
                )
                }
                Some(HowRead::Everything(why)) => {
                    return format!("read everything: {why} ({name})");
                }
            }
        }
        format!("read only what changed: {NOTHING_MOVED}")
    }

    /// Every instance of `config` with its role, in order, and its memory (`None` for a
    /// snapshot directory).
    fn instances<'a>(
        &'a self,
        config: &'a SyncConfig,
    ) -> impl Iterator<Item = (&'static str, &'a InstanceConfig, &'a Option<Memory>)> {
        std::iter::once(("source", &config.source, &self.source)).chain(
            config
                .destinations
                .iter()
                .zip(&self.destinations)
                .map(|(d, m)| ("destination", &d.instance, m)),
        )
    }

    /// How the first read through `memory` went, if there was one.
    fn first_read(memory: &Option<Memory>) -> Option<HowRead> {
        memory.as_ref()?.reads().into_iter().next()
    }

    /// Whether every live instance's memory knows its space (so no checkpoint has to
    /// be taken before reading: the reads find where the logs stand).
    pub fn all_known(&self) -> bool {
        self.source
            .iter()
            .chain(self.destinations.iter().flatten())
            .all(Memory::knows)
    }

    /// Memories that know nothing, with the logs standing at `checkpoints` before
    /// anything is read, for the instances that know nothing yet.
    pub fn start_unknown_at(&mut self, checkpoints: &Checkpoints) {
        let start = |memory: &mut Option<Memory>, checkpoint: Option<&InstanceState>| {
            if let (Some(m), Some(position)) =
                (memory.as_ref(), checkpoint.and_then(|c| c.last_event))
            {
                if !m.knows() {
                    *memory = Some(Memory::starting_at(position));
                }
            }
        };
        start(&mut self.source, checkpoints.source.as_ref());
        for (memory, checkpoint) in self.destinations.iter_mut().zip(&checkpoints.destinations) {
            start(memory, checkpoint.as_ref());
        }
    }

    /// The clients of `config`, naming each known space by its recorded id.
    pub fn connect(&self, config: &SyncConfig) -> Result<Connected, crate::runner::RunError> {
        let source = self.space_ids.first().cloned().flatten();
        let destinations: Vec<Option<String>> = self.space_ids.iter().skip(1).cloned().collect();
        Connected::open_in_spaces(config, source.as_deref(), &destinations)
    }

    /// The source of `connected`, reading through its memory.
    pub fn source<'a>(&'a self, connected: &'a Connected) -> Source<'a> {
        let source = connected.source();
        match &self.source {
            Some(memory) => source.remembering(memory),
            None => source,
        }
    }

    /// The destinations of `connected`, each reading through its memory.
    pub fn destinations<'a>(&'a self, connected: &'a Connected) -> Vec<Destination<'a>> {
        connected
            .destinations()
            .into_iter()
            .zip(&self.destinations)
            .map(|(dest, memory)| match memory {
                Some(memory) => dest.remembering(memory),
                None => dest,
            })
            .collect()
    }

    /// The checkpoints of this run: where each log stood before the run read anything,
    /// for the instances a memory read (`fallback` for the others).
    pub fn checkpoints(&self, config: &SyncConfig, fallback: Checkpoints) -> Checkpoints {
        let of = |instance: &InstanceConfig,
                  memory: &Option<Memory>,
                  id: Option<String>,
                  old: Option<InstanceState>| {
            match (memory.as_ref().and_then(Memory::start), &instance.url) {
                (Some(start), Some(url)) => Some(InstanceState {
                    url: url.to_string(),
                    space: instance.space.clone(),
                    last_event: Some(start),
                    space_id: id.or_else(|| old.and_then(|o| o.space_id)),
                }),
                _ => old,
            }
        };
        Checkpoints {
            source: of(
                &config.source,
                &self.source,
                self.space_ids.first().cloned().flatten(),
                fallback.source,
            ),
            destinations: config
                .destinations
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    of(
                        &d.instance,
                        self.destinations.get(i).unwrap_or(&None),
                        self.space_ids.get(i + 1).cloned().flatten(),
                        fallback.destinations.get(i).cloned().flatten(),
                    )
                })
                .collect(),
        }
    }

    /// One line per instance that was read through its memory: what was read and why.
    pub fn describe(&self, config: &SyncConfig) -> Vec<String> {
        self.instances(config)
            .filter_map(|(_, instance, memory)| {
                let name = instance.display_name();
                Some(match Self::first_read(memory)? {
                    HowRead::Unchanged => format!("{name}: nothing changed since the last read"),
                    HowRead::Changes { events, documents } => format!(
                        "{name}: re-read {} named by {}",
                        plural(documents, "document"),
                        plural(events, "audit-log event")
                    ),
                    HowRead::Everything(why) => format!("{name}: read everything ({why})"),
                })
            })
            .collect()
    }

    /// Keeps what each memory knows in the state directory for the next run; a memory
    /// that cannot be kept is a warning (the next run reads that instance in full).
    pub fn save(&self, config: &SyncConfig) {
        let dir = config.state_dir();
        for (_, instance, memory) in self.instances(config) {
            let (Some(memory), Some(url)) = (memory, &instance.url) else {
                continue;
            };
            if let Err(e) = memory.save(&dir, url.as_str(), &instance.space) {
                tracing::warn!(instance = %instance.display_name(), error = %e, "cannot keep what was read for the next run");
            }
        }
    }
}
