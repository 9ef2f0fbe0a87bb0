//! `[policy] prune`: what the source removed goes from the destination, but only what an
//! earlier sync from it wrote and nobody changed since; the destination's own steps,
//! values, runbooks and channels are never touched.
//!
//! Each test runs the sync the way the runner does: plan, apply, plan again from the
//! destination as the apply left it and keep that plan's `synced` as the record; then
//! the source changes and the next plan reads the record.

mod common;

use common::*;
use serde_json::{json, Value};
use sync_core::testing::InMemoryApplier;
use sync_core::{plan, CleanupCategory, OpAction, Plan, Provenance, ResourceKind, Snapshot};

const RULES: &str = r#"
[select]
projects = ["OctoFX"]
runbooks = "all"
channels = "all"
[policy]
prune = ["steps", "variables", "runbooks", "channels"]
"#;

fn script(id: &str, name: &str) -> Value {
    json!({"Id": id, "Name": name, "Actions": [{"Id": format!("{id}-a"), "Name": name,
        "ActionType": "Octopus.Script", "Properties": {"Octopus.Action.Script.ScriptBody": "echo"}}]})
}

struct Source {
    steps: Vec<&'static str>,
    variables: Value,
    channels: Vec<&'static str>,
    runbooks: Vec<&'static str>,
}

impl Source {
    fn full() -> Self {
        Source {
            steps: vec!["Deploy", "Notify"],
            variables: json!([
                {"Id": "v-1", "Name": "Timeout", "Value": "30"},
                {"Id": "v-2", "Name": "Banner", "Value": "on", "Scope": {"Environment": ["Environments-3"]}},
                {"Id": "v-3", "Name": "Api.Key", "Type": "Sensitive", "IsSensitive": true, "Value": null}
            ]),
            channels: vec!["Hotfix"],
            runbooks: vec!["Restart"],
        }
    }

    /// The source after someone removed a step, two values, a channel and a runbook.
    fn trimmed() -> Self {
        Source {
            steps: vec!["Deploy"],
            variables: json!([{"Id": "v-1", "Name": "Timeout", "Value": "30"}]),
            channels: vec![],
            runbooks: vec![],
        }
    }

    fn snapshot(&self) -> Snapshot {
        let steps: Vec<Value> = self
            .steps
            .iter()
            .enumerate()
            .map(|(i, name)| script(&format!("s-{i}"), name))
            .collect();
        let mut collections = join(vec![
            builtins(1),
            vec![("environments", source_environments())],
            source_project(json!(steps), self.variables.clone()),
        ]);
        let channels = collections
            .iter_mut()
            .find(|(name, _)| *name == "channels")
            .map(|(_, v)| v)
            .expect("the project has channels");
        for (i, name) in self.channels.iter().enumerate() {
            channels.as_array_mut().expect("a list").push(
                json!({"Id": format!("Channels-{}", i + 10), "Name": name, "ProjectId": "Projects-1"}),
            );
        }
        let runbooks: Vec<Value> = self
            .runbooks
            .iter()
            .enumerate()
            .map(|(i, name)| {
                json!({"Id": format!("Runbooks-{i}"), "Name": name, "ProjectId": "Projects-1",
                "RunbookProcessId": format!("RunbookProcess-Runbooks-{i}")})
            })
            .collect();
        let processes: Vec<Value> = (0..self.runbooks.len())
            .map(|i| json!({"Id": format!("RunbookProcess-Runbooks-{i}"), "RunbookId": format!("Runbooks-{i}"),
                "ProjectId": "Projects-1", "Steps": [script(&format!("r-{i}"), "Restart web")]}))
            .collect();
        collections.push(("runbooks", json!(runbooks)));
        collections.push(("runbookprocesses", json!(processes)));
        snapshot(collections)
    }
}

/// A destination with its own step, value, channel and runbook, none of which the
/// source has.
fn destination() -> Snapshot {
    let mut collections = join(vec![
        builtins(71),
        vec![("environments", destination_environments())],
        destination_project(
            json!([script("d-own", "Change board sign-off")]),
            json!([{"Id": "dv-own", "Name": "Local.Path", "Value": "/opt/octofx"}]),
        ),
    ]);
    collections
        .iter_mut()
        .find(|(name, _)| *name == "channels")
        .and_then(|(_, v)| v.as_array_mut())
        .expect("the project has channels")
        .push(json!({"Id": "Channels-79", "Name": "Canary", "ProjectId": "Projects-71"}));
    collections.push((
        "runbooks",
        json!([{"Id": "Runbooks-79", "Name": "Local cleanup", "ProjectId": "Projects-71",
                "RunbookProcessId": "RunbookProcess-Runbooks-79"}]),
    ));
    collections.push((
        "runbookprocesses",
        json!([{"Id": "RunbookProcess-Runbooks-79", "RunbookId": "Runbooks-79", "ProjectId": "Projects-71",
                "Steps": [script("d-clean", "Clean")]}]),
    ));
    snapshot(collections)
}

fn rules_with(record: Option<Provenance>) -> sync_core::SyncRules {
    let mut rules = rules(RULES);
    rules.written = record;
    rules
}

/// Plans and applies until nothing is left (follow-up work included), the way an apply
/// does; returns the first plan, the destination after it and the record the runner
/// keeps: what matched the source in the plan made from that destination.
fn sync(
    source: &Snapshot,
    destination: &Snapshot,
    record: Option<Provenance>,
) -> (Plan, Snapshot, Provenance) {
    let rules = rules_with(record.clone());
    let first = plan(source, destination, &rules).expect("a plan");
    let mut applier = InMemoryApplier::new(destination.clone());
    applier.apply(&first).expect("the apply");
    let mut last = plan(source, &applier.snapshot, &rules).expect("a plan");
    for _ in 0..3 {
        if !last.has_changes() {
            break;
        }
        applier.apply(&last).expect("the follow-up apply");
        last = plan(source, &applier.snapshot, &rules).expect("a plan");
    }
    assert!(
        !last.has_changes(),
        "the sync does not settle: {:#?}",
        last.writes()
            .map(|o| o.item.to_string())
            .collect::<Vec<_>>()
    );
    let mut kept = record.unwrap_or_default();
    kept.extend(last.synced);
    (first, applier.snapshot, kept)
}

fn step_names(snapshot: &Snapshot) -> Vec<String> {
    let process = snapshot
        .deployment_processes
        .iter()
        .find(|p| p.project_id.get().map(|i| i.as_str()) == Some("Projects-71"))
        .expect("the destination process");
    process.steps.iter().map(|s| s.name.clone()).collect()
}

fn variable_names(snapshot: &Snapshot) -> Vec<String> {
    let mut names: Vec<String> = snapshot
        .variable_sets
        .iter()
        .find(|v| v.owner_id.get().map(String::as_str) == Some("Projects-71"))
        .expect("the destination variables")
        .variables
        .iter()
        .map(|v| v.name.clone())
        .collect();
    names.sort();
    names
}

fn names<T>(items: &[T], name: impl Fn(&T) -> &str) -> Vec<String> {
    let mut out: Vec<String> = items.iter().map(|i| name(i).to_owned()).collect();
    out.sort();
    out
}

#[test]
fn what_the_source_removed_goes_and_what_the_destination_owns_stays() {
    let (first, after_first, record) = sync(&Source::full().snapshot(), &destination(), None);
    assert!(
        first
            .warnings
            .iter()
            .any(|w| w.contains("nothing is pruned")),
        "a first run says why nothing is pruned: {:?}",
        first.warnings
    );
    assert_eq!(first.summary.delete, 0);
    assert!(!record.is_empty(), "the apply leaves a record");
    assert_eq!(
        step_names(&after_first),
        ["Change board sign-off", "Deploy", "Notify"]
    );

    let (second, after, _) = sync(&Source::trimmed().snapshot(), &after_first, Some(record));
    // The plan lists every deletion and counts it.
    let deletions = second.deletions();
    assert_eq!(second.summary.delete, deletions.len(), "{deletions:#?}");
    assert_eq!(deletions.len(), 4, "{deletions:#?}");
    for expected in [
        "runbook \"Restart\"",
        "channel \"Hotfix\"",
        "step \"Notify\"",
        "variable \"Banner\"",
    ] {
        assert!(
            deletions.iter().any(|d| d.contains(expected)),
            "{expected} is listed: {deletions:#?}"
        );
    }
    assert!(format!("{second}").contains("- step \"Notify\""));
    // The destination after the apply: the source's removals are gone, its own stay.
    assert_eq!(step_names(&after), ["Change board sign-off", "Deploy"]);
    assert_eq!(
        variable_names(&after),
        ["Api.Key", "Local.Path", "Timeout"],
        "the secret stays: whether a person entered it cannot be read back"
    );
    assert_eq!(
        names(&after.channels, |c| c.name.as_str()),
        ["Canary", "Default"]
    );
    assert_eq!(
        names(&after.runbooks, |r| r.name.as_str()),
        ["Local cleanup"]
    );
    assert!(
        !after
            .runbook_processes
            .iter()
            .any(|p| p.runbook_id.get().map(|i| i.as_str()) != Some("Runbooks-79")),
        "the deleted runbook's process went with it"
    );
    assert!(second
        .cleanup
        .iter()
        .any(|c| c.category == CleanupCategory::Skipped
            && c.message.contains("secret \"Api.Key\"")
            && c.message.contains("never pruned")));
}

#[test]
fn without_prune_in_the_rules_a_record_deletes_nothing() {
    let (_, after_first, record) = sync(&Source::full().snapshot(), &destination(), None);
    let mut rules = rules(&RULES.replace(
        "prune = [\"steps\", \"variables\", \"runbooks\", \"channels\"]",
        "",
    ));
    rules.written = Some(record);
    let second = plan(&Source::trimmed().snapshot(), &after_first, &rules).unwrap();
    assert_eq!(second.summary.delete, 0);
    assert!(second.deletions().is_empty());
    assert!(!second.ops().any(|o| o.action() == OpAction::Delete));
}

#[test]
fn only_the_kinds_listed_are_pruned() {
    let (_, after_first, record) = sync(&Source::full().snapshot(), &destination(), None);
    let mut rules = rules(&RULES.replace(
        "prune = [\"steps\", \"variables\", \"runbooks\", \"channels\"]",
        "prune = [\"runbooks\"]",
    ));
    rules.written = Some(record);
    let second = plan(&Source::trimmed().snapshot(), &after_first, &rules).unwrap();
    let deletions = second.deletions();
    assert_eq!(deletions.len(), 1, "{deletions:#?}");
    assert!(deletions[0].contains("runbook \"Restart\""));
}

#[test]
fn a_value_or_step_a_person_changed_since_the_sync_is_theirs_and_stays() {
    let (_, mut edited, record) = sync(&Source::full().snapshot(), &destination(), None);
    // Someone sets Banner to "off" on the destination and renames "Notify".
    for set in edited.variable_sets.iter_mut() {
        for v in set.variables.iter_mut() {
            if v.name == "Banner" {
                v.value = octopus_model::Field::Value("off".into());
            }
        }
    }
    for process in edited.deployment_processes.iter_mut() {
        for s in process.steps.iter_mut() {
            if s.name == "Notify" {
                s.name = "Notify the team".into();
            }
        }
    }
    let (second, after, _) = sync(&Source::trimmed().snapshot(), &edited, Some(record));
    assert!(
        variable_names(&after).contains(&"Banner".to_owned()),
        "the edited value stays"
    );
    assert!(step_names(&after).contains(&"Notify the team".to_owned()));
    let reasons: String = second
        .cleanup
        .iter()
        .map(|c| c.message.as_str())
        .chain(second.ops().map(|o| o.reason.as_str()))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        reasons.contains("\"Banner\"") && reasons.contains("changed on the destination since"),
        "{reasons}"
    );
    assert!(
        reasons.contains("step \"Notify the team\" not pruned"),
        "{reasons}"
    );
    // The runbook and channel nobody touched still go.
    assert_eq!(second.deletions().len(), 2, "{:#?}", second.deletions());
}

#[test]
fn outside_the_selection_nothing_is_pruned() {
    let (_, after_first, record) = sync(&Source::full().snapshot(), &destination(), None);
    let mut rules = rules(&RULES.replace("runbooks = \"all\"", "runbooks = [\"!Restart\"]"));
    rules.written = Some(record);
    let second = plan(&Source::trimmed().snapshot(), &after_first, &rules).unwrap();
    assert!(
        !second.deletions().iter().any(|d| d.contains("Restart")),
        "a runbook the selection leaves out is not the source's to remove: {:#?}",
        second.deletions()
    );
}

#[test]
fn a_step_with_destination_values_scoped_to_it_waits_until_they_are_gone() {
    let (_, mut scoped, record) = sync(&Source::full().snapshot(), &destination(), None);
    // The destination's own value is scoped to the action of "Notify".
    let notify_action = scoped.deployment_processes[0]
        .steps
        .iter()
        .find(|s| s.name == "Notify")
        .and_then(|s| s.actions.first())
        .and_then(|a| a.id.get().cloned())
        .expect("Notify has an action with an id");
    for set in scoped.variable_sets.iter_mut() {
        if set.owner_id.get().map(String::as_str) == Some("Projects-71") {
            let var: octopus_model::Variable = serde_json::from_value(json!({
                "Id": "dv-scoped", "Name": "Notify.Channel", "Value": "#ops",
                "Scope": {"Action": [notify_action]}
            }))
            .unwrap();
            set.variables.push(var);
        }
    }
    let second = plan(
        &Source::trimmed().snapshot(),
        &scoped,
        &rules_with(Some(record)),
    )
    .unwrap();
    assert!(
        !second.deletions().iter().any(|d| d.contains("Notify")),
        "{:#?}",
        second.deletions()
    );
    let process = second
        .ops()
        .find(|o| o.item.kind == ResourceKind::DeploymentProcess)
        .unwrap();
    assert!(
        process.reason.contains("not pruned yet") && process.reason.contains("Notify.Channel"),
        "{}",
        process.reason
    );
}
