//! Checkpoints in the instances' audit logs, taken before an apply reads anything, and
//! the state recorded after it (see [`crate::state`]).

use octopus_client::OctopusHttpClient;
use sync_core::Plan;

use crate::apply::Outcome;
use crate::config::{InstanceConfig, SyncConfig};
use crate::report::ApplyRun;
use crate::runner::connect;
use std::collections::BTreeMap;

use crate::state::{
    digest, DestinationState, InSync, InstanceState, StateError, SyncState, WrittenDocument,
};

/// The newest audit-log event of every instance of a config, taken before a run reads
/// anything. `None` for an instance that is a snapshot directory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checkpoints {
    /// The source.
    pub source: Option<InstanceState>,
    /// The destinations, in the config's order.
    pub destinations: Vec<Option<InstanceState>>,
}

/// The checkpoint of one live instance through `client`: `last_event` is `None` (with
/// a warning) when the log cannot be read.
pub async fn checkpoint_of(
    instance: &InstanceConfig,
    client: &OctopusHttpClient,
) -> Option<InstanceState> {
    let url = instance.url.as_ref()?.to_string();
    let last_event = match client.latest_event_auto_id().await {
        Ok(latest) => Some(latest.unwrap_or(0)),
        Err(e) => {
            tracing::warn!(instance = %instance.display_name(), error = %e, "cannot read the audit log; drift has no baseline for this instance");
            None
        }
    };
    let space_id = client
        .space_id()
        .await
        .ok()
        .flatten()
        .map(|id| id.as_ref().to_owned());
    Some(InstanceState {
        url,
        space: instance.space.clone(),
        last_event,
        space_id,
    })
}

async fn checkpoint(instance: &InstanceConfig, config: &SyncConfig) -> Option<InstanceState> {
    if instance.url.is_none() || instance.snapshot.is_some() {
        return None;
    }
    match connect(instance, &config.apply) {
        Ok(client) => checkpoint_of(instance, &client).await,
        Err(e) => {
            tracing::warn!(instance = %instance.display_name(), error = %e, "cannot connect to take a checkpoint");
            None
        }
    }
}

/// Takes the checkpoints of every instance of `config`.
pub async fn take(config: &SyncConfig) -> Checkpoints {
    let source = checkpoint(&config.source, config).await;
    let mut destinations = Vec::with_capacity(config.destinations.len());
    for dest in &config.destinations {
        destinations.push(checkpoint(&dest.instance, config).await);
    }
    Checkpoints {
        source,
        destinations,
    }
}

/// The id an outcome names when the op's document now holds what octosync sent.
fn written_id(outcome: &Outcome) -> Option<&str> {
    match outcome {
        Outcome::Created { id }
        | Outcome::Updated { id }
        | Outcome::FoundExisting { id }
        | Outcome::AlreadyInSync { id } => Some(id),
        _ => None,
    }
}

/// The state after an apply: the checkpoints taken before it and the documents it
/// wrote, over `previous` (a state recorded for another URL or space is replaced).
/// `plans` are the first plans applied, by destination name, whose bodies give the
/// digests. `after` are the plans made from each destination as the apply left it
/// (absent when the apply did not finish): what matches the source in them is added
/// to the destination's provenance, the record `[policy] prune` reads.
pub fn updated_state(
    previous: Option<SyncState>,
    checkpoints: &Checkpoints,
    run: &ApplyRun,
    plans: &[(String, Plan)],
    after: &[(String, Plan)],
    in_sync: &BTreeMap<String, InSync>,
) -> SyncState {
    let mut state = previous.unwrap_or_default();
    if let Some(source) = &checkpoints.source {
        // What matched another source says nothing about this one.
        if state
            .source
            .as_ref()
            .is_some_and(|old| !old.is_for(&source.url, &source.space))
        {
            for dest in state.destinations.values_mut() {
                dest.provenance = Default::default();
            }
        }
        state.source = Some(source.clone());
    }
    for (applied, checkpoint) in run.destinations.iter().zip(&checkpoints.destinations) {
        let Some(checkpoint) = checkpoint else {
            continue;
        };
        let entry = state.destinations.entry(applied.name.clone()).or_default();
        if !entry.instance.is_for(&checkpoint.url, &checkpoint.space) {
            *entry = DestinationState::default();
        }
        entry.instance = checkpoint.clone();
        entry.in_sync = in_sync.get(&applied.name).cloned();
        let plan = plans
            .iter()
            .find(|(name, _)| *name == applied.name)
            .map(|(_, p)| p);
        for result in &applied.results {
            if let Outcome::Deleted { id } = &result.outcome {
                entry.written.remove(id);
                entry.provenance.forget([id.as_str()]);
                continue;
            }
            let Some(id) = written_id(&result.outcome) else {
                continue;
            };
            let body = plan.and_then(|p| {
                p.writes()
                    .find(|op| op.item == result.item && op.action() == result.action)
                    .and_then(|op| op.body())
            });
            entry.written.insert(
                id.to_owned(),
                WrittenDocument {
                    kind: result.item.kind,
                    name: result.item.name.clone(),
                    owner: result.item.owner.clone(),
                    digest: body.map(digest),
                },
            );
        }
        // Steps and values an update pruned keep their (now unused) entries: ids are
        // never reused, so they can match nothing again.
        if let Some((_, plan)) = after.iter().find(|(name, _)| *name == applied.name) {
            entry.provenance.extend(plan.synced.clone());
        }
    }
    state
}

/// Records the state after an apply in the config's state directory. A damaged state
/// file is replaced.
pub fn record(
    config: &SyncConfig,
    checkpoints: &Checkpoints,
    run: &ApplyRun,
    plans: &[(String, Plan)],
    after: &[(String, Plan)],
    in_sync: &BTreeMap<String, InSync>,
) -> Result<(), StateError> {
    let dir = config.state_dir();
    let previous = match SyncState::read(&dir) {
        Ok(previous) => previous,
        Err(StateError::Invalid { path, message }) => {
            tracing::warn!(%path, %message, "replacing a state file that cannot be read");
            None
        }
        Err(e) => return Err(e),
    };
    updated_state(previous, checkpoints, run, plans, after, in_sync).write(&dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::{ErrorReport, OpResult};
    use crate::report::{DestinationApply, FollowUp};
    use octopus_model::ResourceKind;
    use sync_core::{ItemRef, OpAction};

    fn result(name: &str, outcome: Outcome) -> OpResult {
        OpResult {
            item: ItemRef::new(ResourceKind::Environment, name),
            action: OpAction::Update,
            outcome,
            note: None,
        }
    }

    fn checkpoint(url: &str, last_event: u64) -> InstanceState {
        InstanceState {
            url: url.into(),
            space: "Default".into(),
            last_event: Some(last_event),
            space_id: None,
        }
    }

    #[test]
    fn only_what_was_written_is_recorded_and_another_instances_state_is_replaced() {
        let run = ApplyRun {
            tool_version: "test".into(),
            saved_plan: false,
            destinations: vec![DestinationApply {
                name: "prod".into(),
                counts: Default::default(),
                results: vec![
                    result(
                        "Test",
                        Outcome::Updated {
                            id: "Environments-1".into(),
                        },
                    ),
                    result(
                        "Broken",
                        Outcome::Failed {
                            error: ErrorReport::of(&std::io::Error::other("boom")),
                        },
                    ),
                    result("Later", Outcome::NotAttempted),
                ],
                follow_up: FollowUp::None,
            }],
        };
        let checkpoints = Checkpoints {
            source: Some(checkpoint("http://source/", 3)),
            destinations: vec![Some(checkpoint("http://prod/", 7))],
        };
        let mut previous = SyncState::default();
        let mut old = DestinationState {
            instance: checkpoint("http://elsewhere/", 99),
            ..DestinationState::default()
        };
        old.written.insert(
            "Environments-9".into(),
            WrittenDocument {
                kind: ResourceKind::Environment,
                name: "Elsewhere".into(),
                owner: None,
                digest: None,
            },
        );
        previous.destinations.insert("prod".into(), old);

        let state = updated_state(
            Some(previous),
            &checkpoints,
            &run,
            &[],
            &[],
            &BTreeMap::new(),
        );
        let prod = &state.destinations["prod"];
        assert_eq!(prod.instance, checkpoint("http://prod/", 7));
        let ids: Vec<&String> = prod.written.keys().collect();
        assert_eq!(ids, ["Environments-1"]);
        assert_eq!(state.source, Some(checkpoint("http://source/", 3)));
    }
}
