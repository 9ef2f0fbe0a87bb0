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

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use octopus_client::{ApiKey, OctopusHttpClient};
use sync_core::Plan;

use crate::audit::Checkpoints;
use crate::config::{InstanceConfig, SyncConfig};
use crate::drift::OCTOSYNC_AGENT;
use crate::report::ApplyRun;
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
    let url = instance
        .url
        .as_ref()
        .ok_or_else(|| format!("{} is not a server", instance.display_name()))?;
    let key = instance.api_key().map_err(|e| e.to_string())?;
    let builder = OctopusHttpClient::builder(url.as_str(), ApiKey::new(key))
        .allow_http(instance.allow_insecure_http)
        .timeout(Duration::from_secs(config.apply.timeout_seconds));
    let builder = match &recorded.space_id {
        Some(id) => builder.space_id(id.clone()),
        None => builder.space_name(instance.space.clone()),
    };
    builder.build().map_err(|e| e.to_string())
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
                Some(s) if s.config_digest != digest => {
                    Verdict::Read("sync.toml changed since the last sync".into())
                }
                Some(s) if s.tool_version != crate::saved::TOOL_VERSION => Verdict::Read(format!(
                    "the last sync was made by octosync {}",
                    s.tool_version
                )),
                Some(s) => {
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
pub async fn settle(
    config: &SyncConfig,
    config_bytes: &[u8],
    checkpoints: &Checkpoints,
    run: &ApplyRun,
    after: &[(String, Plan)],
) -> BTreeMap<String, InSync> {
    let mut out = BTreeMap::new();
    let Some(source_before) = &checkpoints.source else {
        return out;
    };
    let Some(source_then) = source_before.last_event else {
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
    for (dest, checkpoint) in config.destinations.iter().zip(&checkpoints.destinations) {
        let name = dest.instance.display_name();
        let Some(plan) = after.iter().find(|(n, _)| *n == name).map(|(_, p)| p) else {
            continue;
        };
        let Some(before) = checkpoint else {
            continue;
        };
        let Some(then) = before.last_event else {
            continue;
        };
        if plan.has_changes() {
            continue;
        }
        let client = match log_client(&dest.instance, before, config) {
            Ok(client) => client,
            Err(e) => {
                tracing::warn!(destination = %name, error = %e, "cannot read the audit log");
                continue;
            }
        };
        let events = match client.events_from(then + 1).await {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!(destination = %name, error = %e, "cannot read the audit log");
                continue;
            }
        };
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
            .unwrap_or(then);
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
