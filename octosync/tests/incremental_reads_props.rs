//! Reading only what changed gives the plan a full read gives: for any sequence of a
//! person's creates, updates, renames and deletes on either side, with applies between
//! them, the plan made through what the state directory knows (re-reading only what
//! the audit logs name) equals the plan made from a full read, after every step; and a
//! step without deletions is read from the logs, not in full.
//!
//! Each case syncs two fakes once through `apply_config` (what `apply` and `watch` run),
//! then runs the steps: each is a batch of edits through the API with a browser's user
//! agent, or an apply.

mod common;

use common::{block_on, owned_by_a_project, portal_edit, Cli, Yes, PERSON};
use octopus_fake::FakeServer;
use octosync::cli::apply_config;
use octosync::incremental::Memories;
use octosync::known::HowRead;
use octosync::runner::{plan_all, run, Mode, Unwatched};
use proptest::prelude::*;
use serde_json::{json, Value};
use sync_core::Plan;

/// Which instance an edit is made on.
#[derive(Clone, Copy, Debug)]
enum Side {
    Source,
    Destination,
}

/// A person's edit through the portal.
#[derive(Clone, Copy, Debug)]
enum Edit {
    /// The OctoFX project's description.
    Describe(Side),
    /// A new plain value in a project's variables.
    AddValue(Side),
    /// The first plain value of a project's variables, changed.
    ChangeValue(Side),
    /// A new project group.
    CreateGroup(Side),
    /// The first project group renamed.
    RenameGroup(Side),
    /// A new lifecycle.
    CreateLifecycle(Side),
    /// A runbook of OctoFX deleted.
    DeleteRunbook(Side),
    /// A tag set's description changed (a tag set's change reads everything: tag names
    /// are copied into tenants and scopes).
    RetagSet(Side),
}

impl Edit {
    fn deletes_or_retags(self) -> bool {
        matches!(self, Edit::DeleteRunbook(_) | Edit::RetagSet(_))
    }
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Source), Just(Side::Destination)]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => side().prop_map(Edit::Describe),
        3 => side().prop_map(Edit::AddValue),
        3 => side().prop_map(Edit::ChangeValue),
        2 => side().prop_map(Edit::CreateGroup),
        2 => side().prop_map(Edit::RenameGroup),
        2 => side().prop_map(Edit::CreateLifecycle),
        1 => side().prop_map(Edit::DeleteRunbook),
        1 => side().prop_map(Edit::RetagSet),
    ]
}

/// One step of a case: edits, or an apply.
#[derive(Clone, Debug)]
enum Step {
    Edits(Vec<Edit>),
    Apply,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => prop::collection::vec(edit(), 1..4).prop_map(Step::Edits),
        1 => Just(Step::Apply),
    ]
}

/// A person's request with a browser's user agent.
async fn portal(
    server: &FakeServer,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let http = reqwest::Client::builder()
        .user_agent(PERSON)
        .build()
        .unwrap();
    let mut request = http
        .request(method, format!("{}/api/Spaces-1/{path}", server.url()))
        .header("X-Octopus-ApiKey", server.api_key());
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap_or(Value::Null)
}

async fn apply_edit(source: &FakeServer, destination: &FakeServer, edit: Edit, n: usize) {
    let server = |s: Side| match s {
        Side::Source => source,
        Side::Destination => destination,
    };
    let text = format!("edit {n}");
    match edit {
        Edit::Describe(s) => {
            portal_edit(
                server(s),
                "projects",
                |d| d["Name"] == "OctoFX",
                |d| d["Description"] = json!(text),
            )
            .await;
        }
        Edit::AddValue(s) => {
            portal_edit(server(s), "variables", owned_by_a_project, |d| {
                d["Variables"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"Name": format!("Added.{n}"), "Value": text}))
            })
            .await;
        }
        Edit::ChangeValue(s) => {
            portal_edit(server(s), "variables", owned_by_a_project, |d| {
                if let Some(v) = d["Variables"]
                    .as_array_mut()
                    .unwrap()
                    .iter_mut()
                    .find(|v| v["IsSensitive"] != true)
                {
                    v["Value"] = json!(text);
                }
            })
            .await;
        }
        Edit::CreateGroup(s) => {
            portal(
                server(s),
                reqwest::Method::POST,
                "projectgroups",
                Some(json!({"Name": format!("Group {n}")})),
            )
            .await;
        }
        Edit::RenameGroup(s) => {
            portal_edit(
                server(s),
                "projectgroups",
                |_| true,
                |d| d["Name"] = json!(format!("Renamed group {n}")),
            )
            .await;
        }
        Edit::CreateLifecycle(s) => {
            portal(
                server(s),
                reqwest::Method::POST,
                "lifecycles",
                Some(json!({"Name": format!("Lifecycle {n}"), "Phases": []})),
            )
            .await;
        }
        Edit::DeleteRunbook(s) => {
            let runbooks = portal(server(s), reqwest::Method::GET, "runbooks/all", None).await;
            if let Some(id) = runbooks
                .as_array()
                .and_then(|r| r.first())
                .and_then(|r| r["Id"].as_str())
            {
                portal(
                    server(s),
                    reqwest::Method::DELETE,
                    &format!("runbooks/{id}"),
                    None,
                )
                .await;
            }
        }
        Edit::RetagSet(s) => {
            portal_edit(
                server(s),
                "tagsets",
                |_| true,
                |d| d["Description"] = json!(text),
            )
            .await;
        }
    }
}

fn as_json(plan: &Plan) -> Value {
    serde_json::to_value(plan).unwrap()
}

async fn case(steps: Vec<Step>) -> Result<(), TestCaseError> {
    let i = Cli::start(Some("2026.1.2000"), |c| c).await;
    let (source, destination) = (&i.source, &i.destination);
    let (config, text) = i.load();
    let bytes = text.as_bytes();
    apply_config(&config, bytes, false, &Yes).await.unwrap();

    let mut n = 0;
    for step in steps {
        let edits = match step {
            Step::Apply => {
                apply_config(&config, bytes, false, &Yes).await.unwrap();
                continue;
            }
            Step::Edits(edits) => edits,
        };
        for edit in &edits {
            n += 1;
            apply_edit(source, destination, *edit, n).await;
        }
        let memories = Memories::load(&config, false);
        prop_assert!(memories.all_known(), "the state knows both instances");
        let connected = memories.connect(&config).unwrap();
        let planned = plan_all(
            &memories.source(&connected),
            &memories.destinations(&connected),
            &Unwatched,
        )
        .await
        .unwrap();
        memories.save(&config);
        let incremental = planned.plans[0].as_ref().expect("a plan");
        let full = run(&config, &Mode::Plan).await.unwrap();
        let full = full[0].plan.as_ref().expect("a plan");
        prop_assert_eq!(as_json(incremental), as_json(full), "after {:?}", edits);
        let memories_read = memories
            .source
            .iter()
            .chain(memories.destinations.iter().flatten())
            .flat_map(|m| m.reads())
            .collect::<Vec<_>>();
        if !edits.iter().any(|e| e.deletes_or_retags()) {
            prop_assert!(
                memories_read
                    .iter()
                    .all(|r| !matches!(r, HowRead::Everything(_))),
                "{:?} read everything: {:?}",
                edits,
                memories_read
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn the_plan_from_what_changed_is_the_full_reads(
        steps in prop::collection::vec(step(), 1..5)
    ) {
        block_on(case(steps))?;
    }
}
