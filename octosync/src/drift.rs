//! `octosync drift`: what someone other than octosync changed on each destination since
//! the last sync, and what the next `apply` would do about it.
//!
//! The baseline is the state recorded by the last `apply` ([`crate::state`]): per
//! destination, the newest audit-log event before that apply read it. Every later event
//! whose `UserAgent` is not octosync's (`octosync/<version>`, which every request of the
//! client sends) is someone else's change. Each is matched to the op the planner makes
//! for that document today (one plan per destination with changes):
//!
//! - **overwrite**: the next apply writes the document (an update, or a create for a
//!   document that was deleted), so the change is undone where the rules manage it;
//! - **keep**: the destination is in sync as it is (the policies keep what was changed,
//!   or the change agrees with the source);
//! - **leave alone**: the plan skips the document, for the stated reason.
//!
//! Changes to documents the plan does not talk about (not selected) are counted, not
//! listed. When the audit log no longer reaches back to the checkpoint (events were
//! dropped), drift cannot tell what changed and says so.

use std::path::Path;

use octopus_client::OctopusHttpClient;
use octopus_model::ResourceKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sync_core::{ItemRef, OpAction, Plan, Snapshot, Target};

use crate::config::SyncConfig;
use crate::report::Format;
use crate::runner::{connect, load_source, plan_destination, Connected, Destination, Unwatched};
use crate::state::SyncState;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The prefix of the `User-Agent` every octosync request sends.
pub const OCTOSYNC_AGENT: &str = "octosync/";

/// What the next apply would do to a changed document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NextApply {
    /// The next apply writes the document.
    Overwrite,
    /// The next apply finds the document in sync and keeps it as it is.
    Keep,
    /// The next apply skips the document.
    LeaveAlone,
    /// The next apply deletes it (`[policy] prune`).
    Delete,
}

impl NextApply {
    fn text(self) -> &'static str {
        match self {
            NextApply::Overwrite => "overwrite",
            NextApply::Keep => "keep",
            NextApply::LeaveAlone => "leave alone",
            NextApply::Delete => "delete",
        }
    }
}

/// One change someone else made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftChange {
    /// The event's `AutoId`.
    pub auto_id: u64,
    /// When (`Occurred`).
    pub occurred: String,
    /// `Created`, `Modified`, `Deleted`, …
    pub category: String,
    /// The document's id.
    pub document_id: String,
    /// The item, as the plan names it.
    pub item: ItemRef,
    /// Who: the event's `Username`.
    pub username: String,
    /// The event's `UserId`.
    pub user_id: String,
    /// The event's `UserAgent`.
    pub user_agent: String,
    /// The field-level difference (`ChangeDetails.Differences`, a JSON patch).
    pub differences: Value,
    /// What the next apply does.
    pub next_apply: NextApply,
    /// The planner's reason.
    pub reason: String,
}

/// How far a destination's baseline reaches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Baseline {
    /// Changes after this event are listed.
    Since {
        /// The checkpoint's `AutoId`.
        last_event: u64,
    },
    /// There is no baseline.
    Missing {
        /// Why.
        reason: String,
    },
    /// The audit log no longer holds the events after the checkpoint.
    Lost {
        /// The checkpoint's `AutoId`.
        last_event: u64,
    },
}

/// The drift of one destination.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DestinationDrift {
    /// The destination's name.
    pub name: String,
    /// The baseline.
    pub baseline: Baseline,
    /// Every change someone else made to a selected document, oldest first.
    pub changes: Vec<DriftChange>,
    /// Changes by someone else to documents the sync does not select.
    pub unselected_changes: usize,
}

impl DestinationDrift {
    /// Whether this destination drifted, or cannot tell.
    pub fn has_drift(&self) -> bool {
        !self.changes.is_empty() || matches!(self.baseline, Baseline::Lost { .. })
    }
}

/// The drift of every destination.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    /// The state directory the baseline comes from.
    pub state_dir: String,
    /// Whether a state was found at all.
    pub baseline_found: bool,
    /// One entry per destination, in the config's order.
    pub destinations: Vec<DestinationDrift>,
}

impl DriftReport {
    /// Whether any destination drifted (or lost its baseline).
    pub fn has_drift(&self) -> bool {
        self.destinations.iter().any(DestinationDrift::has_drift)
    }

    /// The report as text, markdown or JSON.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Json => serde_json::to_string_pretty(self).unwrap_or_default() + "\n",
            Format::Text => self.render_text(),
            Format::Markdown => self.render_markdown(),
        }
    }

    fn no_baseline(&self) -> String {
        format!(
            "No baseline: there is no state in {}. Run `octosync apply` once; drift lists what others change after it.",
            self.state_dir
        )
    }

    fn render_text(&self) -> String {
        if !self.baseline_found {
            return self.no_baseline() + "\n";
        }
        let mut out = String::from("Drift since the last sync:\n");
        for dest in &self.destinations {
            out.push_str(&format!("{}: {}\n", dest.name, headline(dest)));
            for c in &dest.changes {
                out.push_str(&format!(
                    "  - {} ({}): {} by {} ({}) at {}, event {}\n",
                    c.item,
                    c.document_id,
                    c.category,
                    c.username,
                    c.user_agent,
                    c.occurred,
                    c.auto_id
                ));
                for line in patch_lines(&c.differences) {
                    out.push_str(&format!("      {line}\n"));
                }
                out.push_str(&format!(
                    "      next apply: {} ({})\n",
                    c.next_apply.text(),
                    c.reason
                ));
            }
        }
        out
    }

    fn render_markdown(&self) -> String {
        if !self.baseline_found {
            return self.no_baseline() + "\n";
        }
        let mut out = String::from("# Drift since the last sync\n");
        for dest in &self.destinations {
            out.push_str(&format!("\n## {}\n\n{}\n", dest.name, headline(dest)));
            if dest.changes.is_empty() {
                continue;
            }
            out.push_str("\n| Item | Change | Who | When | Difference | Next apply |\n|---|---|---|---|---|---|\n");
            for c in &dest.changes {
                let diff = patch_lines(&c.differences).join("<br>").replace('|', "\\|");
                out.push_str(&format!(
                    "| {} (`{}`) | {} | {} (`{}`) | {} | {} | **{}**: {} |\n",
                    c.item.to_string().replace('|', "\\|"),
                    c.document_id,
                    c.category,
                    c.username,
                    c.user_agent,
                    c.occurred,
                    if diff.is_empty() {
                        "—".to_owned()
                    } else {
                        diff
                    },
                    c.next_apply.text(),
                    c.reason.replace('|', "\\|")
                ));
            }
        }
        out
    }
}

fn headline(dest: &DestinationDrift) -> String {
    let unselected = match dest.unselected_changes {
        0 => String::new(),
        n => format!(" ({n} more to documents the sync does not select)"),
    };
    match &dest.baseline {
        Baseline::Missing { reason } => format!("no baseline: {reason}"),
        Baseline::Lost { last_event } => format!(
            "cannot tell: the audit log no longer reaches back to event {last_event}, the last sync's checkpoint; run plan to see what differs, and apply to record a new baseline"
        ),
        Baseline::Since { last_event } => match dest.changes.len() {
            0 => format!("no changes by others since event {last_event}{unselected}"),
            1 => format!("1 change by someone else since event {last_event}{unselected}"),
            n => format!("{n} changes by others since event {last_event}{unselected}"),
        },
    }
}

/// A JSON patch as lines a person reads: `replace /Description: "edited"`.
fn patch_lines(patch: &Value) -> Vec<String> {
    let Some(ops) = patch.as_array() else {
        return Vec::new();
    };
    ops.iter()
        .map(|op| {
            let verb = op["op"].as_str().unwrap_or("?");
            let path = op["path"].as_str().unwrap_or("");
            let path = if path.is_empty() { "/" } else { path };
            match op.get("value") {
                Some(v) => {
                    let mut text = v.to_string();
                    if text.chars().count() > 120 {
                        text = text.chars().take(117).collect::<String>() + "...";
                    }
                    format!("{verb} {path}: {text}")
                }
                None => format!("{verb} {path}"),
            }
        })
        .collect()
}

/// Whether an event is octosync's own write.
pub fn is_octosync(event: &Value) -> bool {
    event["UserAgent"]
        .as_str()
        .is_some_and(|a| a.starts_with(OCTOSYNC_AGENT))
}

/// Whether the events read from the checkpoint on (`fromAutoId = last_event`, or 1 for
/// an empty log) still reach back to it.
pub fn reaches_back(events: &[Value], last_event: u64) -> bool {
    let oldest = events.iter().filter_map(|e| e["AutoId"].as_u64()).min();
    match (last_event, oldest) {
        (0, None) => true,
        (0, Some(oldest)) => oldest <= 1,
        (_, Some(oldest)) => oldest <= last_event,
        (_, None) => false,
    }
}

/// The events after `last_event` that someone other than octosync made.
pub fn foreign_events(events: &[Value], last_event: u64) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e["AutoId"].as_u64().is_some_and(|id| id > last_event) && !is_octosync(e))
        .collect()
}

/// The op of `plan` about the document an event names.
fn op_for<'a>(plan: &'a Plan, event: &Value, document_id: &str) -> Option<&'a sync_core::Op> {
    let by_target = plan.ops().find(|op| {
        matches!(op.target(), Some(Target::Existing { id }) if id.eq_ignore_ascii_case(document_id))
    });
    if by_target.is_some() {
        return by_target;
    }
    // A deleted document has no target any more: the plan creates it again, by name.
    let name = event["ChangeDetails"]["DocumentContext"]["Name"].as_str()?;
    let kind = ResourceKind::from_collection(document_id.split('-').next().unwrap_or(""))?;
    let key = octopus_model::name_key(name);
    plan.ops().find(|op| {
        op.item.kind == kind
            && op.item.owner.is_none()
            && octopus_model::name_key(&op.item.name) == key
            && op.action() == OpAction::Create
    })
}

/// The drift of one destination from its foreign events and today's plan.
pub fn changes_of(events: &[&Value], plan: &Plan) -> (Vec<DriftChange>, usize) {
    let mut changes = Vec::new();
    let mut unselected = 0;
    for event in events {
        let text = |field: &str| event[field].as_str().unwrap_or("").to_owned();
        let Some(document_id) = event["RelatedDocumentIds"][0].as_str() else {
            unselected += 1;
            continue;
        };
        let Some(op) = op_for(plan, event, document_id) else {
            unselected += 1;
            continue;
        };
        let next_apply = match op.action() {
            OpAction::Create | OpAction::Update => NextApply::Overwrite,
            OpAction::Delete => NextApply::Delete,
            OpAction::Unchanged => NextApply::Keep,
            OpAction::Skip => NextApply::LeaveAlone,
        };
        changes.push(DriftChange {
            auto_id: event["AutoId"].as_u64().unwrap_or(0),
            occurred: text("Occurred"),
            category: text("Category"),
            document_id: document_id.to_owned(),
            item: op.item.clone(),
            username: text("Username"),
            user_id: text("UserId"),
            user_agent: text("UserAgent"),
            differences: event["ChangeDetails"]["Differences"].clone(),
            next_apply,
            reason: op.reason.clone(),
        });
    }
    (changes, unselected)
}

/// What one destination's audit log says, before any planning.
enum Found {
    Done(DestinationDrift),
    Foreign {
        name: String,
        last_event: u64,
        client: OctopusHttpClient,
        events: Vec<Value>,
    },
}

/// What each destination's audit log says since its checkpoint, before any planning.
async fn baselines(config: &SyncConfig, state: &SyncState) -> Result<Vec<Found>, BoxError> {
    let mut found = Vec::new();
    for dest in &config.destinations {
        let name = dest.instance.display_name();
        let missing = |reason: &str| {
            Found::Done(DestinationDrift {
                name: name.clone(),
                baseline: Baseline::Missing {
                    reason: reason.to_owned(),
                },
                changes: Vec::new(),
                unselected_changes: 0,
            })
        };
        let Some(url) = dest
            .instance
            .url
            .as_ref()
            .filter(|_| dest.instance.snapshot.is_none())
        else {
            found.push(missing("a snapshot directory has no audit log"));
            continue;
        };
        let recorded = state
            .destinations
            .get(&name)
            .filter(|d| d.instance.is_for(url.as_str(), &dest.instance.space));
        let Some(recorded) = recorded else {
            found.push(missing(
                "octosync has not applied to this destination since the state was started",
            ));
            continue;
        };
        let Some(last_event) = recorded.instance.last_event else {
            found.push(missing("its audit log could not be read at the last apply"));
            continue;
        };
        let client = connect(&dest.instance, &config.apply)?;
        let events = client.events_from(last_event.max(1)).await?;
        if !reaches_back(&events, last_event) {
            found.push(Found::Done(DestinationDrift {
                name,
                baseline: Baseline::Lost { last_event },
                changes: Vec::new(),
                unselected_changes: 0,
            }));
            continue;
        }
        let foreign: Vec<Value> = foreign_events(&events, last_event)
            .into_iter()
            .cloned()
            .collect();
        if foreign.is_empty() {
            found.push(Found::Done(DestinationDrift {
                name,
                baseline: Baseline::Since { last_event },
                changes: Vec::new(),
                unselected_changes: 0,
            }));
        } else {
            found.push(Found::Foreign {
                name,
                last_event,
                client,
                events: foreign,
            });
        }
    }
    Ok(found)
}

/// Computes the drift of every destination of `config` against the state in its state
/// directory.
pub async fn drift(config: &SyncConfig) -> Result<DriftReport, BoxError> {
    let dir = config.state_dir();
    let state_dir = dir.display().to_string();
    let Some(state) = SyncState::read(&dir)? else {
        return Ok(DriftReport {
            state_dir,
            baseline_found: false,
            destinations: Vec::new(),
        });
    };
    let found = baselines(config, &state).await?;
    // The source is read only when a destination has changes to judge.
    let mut source: Option<Snapshot> = None;
    let mut destinations = Vec::new();
    for (found, dest) in found.into_iter().zip(&config.destinations) {
        let (name, last_event, client, events) = match found {
            Found::Done(d) => {
                destinations.push(d);
                continue;
            }
            Found::Foreign {
                name,
                last_event,
                client,
                events,
            } => (name, last_event, client, events),
        };
        if source.is_none() {
            let c = Connected::open(config)?;
            source = Some(load_source(&c.source(), &c.destinations(), &Unwatched).await?);
        }
        let Some(source) = source.as_ref() else {
            continue;
        };
        let target = Destination::live(
            name.clone(),
            dest.instance.space.clone(),
            &client,
            dest.rules.clone(),
        );
        let plan = plan_destination(source, &target).await?;
        let refs: Vec<&Value> = events.iter().collect();
        let (changes, unselected_changes) = changes_of(&refs, &plan);
        destinations.push(DestinationDrift {
            name,
            baseline: Baseline::Since { last_event },
            changes,
            unselected_changes,
        });
    }
    Ok(DriftReport {
        state_dir,
        baseline_found: true,
        destinations,
    })
}

/// The drift of every destination against plans already made (one per destination, in
/// the config's order), for `plan` to show at its top; `None` without a state. Only
/// the audit logs are read.
pub async fn drift_with_plans(
    config: &SyncConfig,
    plans: &[Plan],
) -> Result<Option<DriftReport>, BoxError> {
    let dir = config.state_dir();
    let Some(state) = SyncState::read(&dir)? else {
        return Ok(None);
    };
    let found = baselines(config, &state).await?;
    let destinations = found
        .into_iter()
        .zip(plans)
        .map(|(found, plan)| match found {
            Found::Done(d) => d,
            Found::Foreign {
                name,
                last_event,
                events,
                ..
            } => {
                let refs: Vec<&Value> = events.iter().collect();
                let (changes, unselected_changes) = changes_of(&refs, plan);
                DestinationDrift {
                    name,
                    baseline: Baseline::Since { last_event },
                    changes,
                    unselected_changes,
                }
            }
        })
        .collect();
    Ok(Some(DriftReport {
        state_dir: dir.display().to_string(),
        baseline_found: true,
        destinations,
    }))
}

/// `octosync drift`: prints the report (or writes it to `out`); answers whether any
/// destination drifted.
pub async fn drift_command(
    config: &Path,
    format: Format,
    out: Option<&Path>,
) -> Result<bool, BoxError> {
    let config = SyncConfig::load(config)?;
    let report = drift(&config).await?;
    let text = report.render(format);
    match out {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(report.has_drift())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sync_core::{Layer, LayerName, Op, Summary};

    fn event(auto_id: u64, agent: &str, doc: &str) -> Value {
        json!({"AutoId": auto_id, "UserAgent": agent, "RelatedDocumentIds": [doc], "Category": "Modified",
               "Username": "jo", "UserId": "Users-2", "Occurred": "2026-01-01T00:00:00.000+00:00",
               "ChangeDetails": {"DocumentContext": {"Name": "Test"}, "Differences": [{"op": "replace", "path": "/Description", "value": "x"}]}})
    }

    fn op(kind: ResourceKind, name: &str, action: OpAction, id: Option<&str>) -> Op {
        let item = ItemRef::new(kind, name);
        let target = id.map(|id| Target::Existing { id: id.to_owned() });
        match (action, target) {
            (OpAction::Create, _) => Op::create(item, "because", json!({"Name": name})),
            (OpAction::Update, Some(target)) => {
                Op::update(item, "because", target, json!({"Name": name}), Vec::new())
            }
            (OpAction::Delete, Some(target)) => Op::delete(item, "because", target, None),
            (OpAction::Skip, target) => {
                let mut op = Op::skip(item, "because");
                op.change = sync_core::Change::Skip { target };
                op
            }
            (_, target) => Op::unchanged(item, "because", target),
        }
    }

    fn plan(ops: Vec<Op>) -> Plan {
        Plan {
            source_version: "2024.2.1".into(),
            destination_version: "2024.2.1".into(),
            layers: vec![Layer {
                name: LayerName::Environments,
                ops,
            }],
            cleanup: Vec::new(),
            warnings: Vec::new(),
            synced: Default::default(),
            summary: Summary::default(),
        }
    }

    #[test]
    fn only_other_agents_after_the_checkpoint_count() {
        let events = vec![
            event(5, "portal/1", "Environments-1"),
            event(6, "octosync/0.1.0", "Environments-1"),
            event(7, "portal/1", "Environments-2"),
        ];
        let foreign: Vec<u64> = foreign_events(&events, 5)
            .iter()
            .map(|e| e["AutoId"].as_u64().unwrap())
            .collect();
        assert_eq!(foreign, [7]);
    }

    #[test]
    fn a_log_that_lost_the_checkpoint_is_told_apart() {
        assert!(reaches_back(
            &[event(5, "a", "X-1"), event(6, "a", "X-1")],
            5
        ));
        assert!(!reaches_back(&[event(6, "a", "X-1")], 5));
        assert!(!reaches_back(&[], 5));
        assert!(reaches_back(&[], 0));
        assert!(reaches_back(&[event(1, "a", "X-1")], 0));
        assert!(!reaches_back(&[event(3, "a", "X-1")], 0));
    }

    #[test]
    fn each_change_gets_the_verdict_of_its_documents_op() {
        let plan = plan(vec![
            op(
                ResourceKind::Environment,
                "Test",
                OpAction::Update,
                Some("Environments-1"),
            ),
            op(
                ResourceKind::Environment,
                "Prod",
                OpAction::Unchanged,
                Some("Environments-2"),
            ),
            op(
                ResourceKind::Environment,
                "Old",
                OpAction::Skip,
                Some("Environments-3"),
            ),
            op(ResourceKind::Environment, "Gone", OpAction::Create, None),
        ]);
        let mut deleted = event(9, "portal/1", "Environments-4");
        deleted["Category"] = json!("Deleted");
        deleted["ChangeDetails"]["DocumentContext"]["Name"] = json!("gone");
        let events = [
            event(5, "portal/1", "environments-1"),
            event(6, "portal/1", "Environments-2"),
            event(7, "portal/1", "Environments-3"),
            event(8, "portal/1", "Projects-1"),
            deleted,
        ];
        let refs: Vec<&Value> = events.iter().collect();
        let (changes, unselected) = changes_of(&refs, &plan);
        let verdicts: Vec<(&str, NextApply)> = changes
            .iter()
            .map(|c| (c.item.name.as_str(), c.next_apply))
            .collect();
        assert_eq!(
            verdicts,
            [
                ("Test", NextApply::Overwrite),
                ("Prod", NextApply::Keep),
                ("Old", NextApply::LeaveAlone),
                ("Gone", NextApply::Overwrite),
            ]
        );
        assert_eq!(unselected, 1);
        assert_eq!(changes[0].username, "jo");
        assert_eq!(changes[0].differences[0]["path"], "/Description");
    }

    #[test]
    fn the_markdown_report_is_one_table_row_per_change_and_says_when_there_is_no_baseline() {
        let plan = plan(vec![op(
            ResourceKind::Environment,
            "Test | QA",
            OpAction::Update,
            Some("Environments-1"),
        )]);
        let events = [event(5, "portal/1", "Environments-1")];
        let refs: Vec<&Value> = events.iter().collect();
        let (changes, _) = changes_of(&refs, &plan);
        let report = DriftReport {
            state_dir: ".octosync".into(),
            baseline_found: true,
            destinations: vec![
                DestinationDrift {
                    name: "prod".into(),
                    baseline: Baseline::Since { last_event: 4 },
                    changes,
                    unselected_changes: 0,
                },
                DestinationDrift {
                    name: "dr".into(),
                    baseline: Baseline::Lost { last_event: 2 },
                    changes: Vec::new(),
                    unselected_changes: 0,
                },
            ],
        };
        assert!(report.has_drift());
        let markdown = report.render(Format::Markdown);
        let rows: Vec<&str> = markdown
            .lines()
            .filter(|l| l.starts_with("| environment"))
            .collect();
        assert_eq!(rows.len(), 1, "{markdown}");
        assert!(
            rows[0].contains("Test \\| QA"),
            "pipes are escaped: {}",
            rows[0]
        );
        assert!(
            rows[0].contains("replace /Description: \"x\""),
            "{}",
            rows[0]
        );
        assert!(rows[0].contains("**overwrite**"), "{}", rows[0]);
        assert!(markdown.contains("## dr\n\ncannot tell"), "{markdown}");

        let none = DriftReport {
            state_dir: "elsewhere/.octosync".into(),
            baseline_found: false,
            destinations: Vec::new(),
        };
        assert!(!none.has_drift());
        assert!(none.render(Format::Text).starts_with("No baseline"));
    }
}
