//! Plan in review, apply exactly that: the built `octosync` binary (and the runner)
//! against two `octopus-fake` instances over HTTP. After a first sync, the source changes
//! OctoFX's description and adds a variable; a reviewer sees a saved plan with those two
//! updates, somebody edits the destination in between, and the apply is read back
//! through the API.

mod common;

use common::{by_name, text};
mod support;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use octopus_client::{ApiKey, OctopusHttpClient, OctopusRead, OctopusWrite};
use octopus_fake::{FakeConfig, FakeServer, Seed};
use octopus_model::ResourceKind;
use octosync::apply::{ApplyOptions, Outcome, CHANGED_SINCE_PLAN, PLANNED_AGAIN};
use octosync::config::SyncConfig;
use octosync::load::{kinds_to_read, load_snapshot};
use octosync::report::{ApplyRun, FollowUp};
use octosync::runner::{apply_guarded, plan_destination, Destination};
use octosync::saved::SavedPlan;
use serde_json::{json, Value};
use sync_core::OpAction;

const SOURCE_KEY: &str = "API-SOURCESOURCESOURCESOURCE01";
const DEST_KEY: &str = "API-DESTINATIONDESTINATION0002";
const SECRET: &str = "s3cr3t-Db-Passw0rd!";

struct Instances {
    source: FakeServer,
    destination: FakeServer,
    dir: tempfile::TempDir,
}

async fn fake(seed: Seed, key: &str, latency: Duration) -> FakeServer {
    FakeServer::start(FakeConfig {
        api_key: key.to_owned(),
        latency,
        ..FakeConfig::seeded(seed)
    })
    .await
    .expect("fake starts")
}

fn client_at(url: &str, key: &str) -> OctopusHttpClient {
    OctopusHttpClient::builder(url, ApiKey::new(key))
        .space_name("Default")
        .build()
        .unwrap()
}

fn client(server: &FakeServer) -> OctopusHttpClient {
    client_at(server.url(), server.api_key())
}

/// A Dev/Test source whose secret is set, a Staging/Production destination (each
/// request to it delayed by `latency`), and the demo config naming both.
async fn instances(latency: Duration) -> Instances {
    let source = fake(Seed::DevTest, SOURCE_KEY, Duration::ZERO).await;
    let destination = fake(Seed::StagingProduction, DEST_KEY, latency).await;
    let c = client(&source);
    let (set_id, mut set) = variables(&c).await;
    for v in set["Variables"].as_array_mut().unwrap() {
        if v["IsSensitive"] == true {
            v["Value"] = json!(SECRET);
        }
    }
    c.update(ResourceKind::VariableSet, &set_id, set)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = include_str!("../demo/sync.toml")
        .replace("http://127.0.0.1:8065", source.url())
        .replace("http://127.0.0.1:8066", destination.url());
    std::fs::write(dir.path().join("sync.toml"), config).unwrap();
    Instances {
        source,
        destination,
        dir,
    }
}

impl Instances {
    fn config(&self) -> PathBuf {
        self.dir.path().join("sync.toml")
    }

    fn file(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn destination_writes(&self) -> u64 {
        let s = self.destination.stats();
        s.post + s.put + s.delete
    }
}

/// Runs the binary with both keys set; `CONFIG` in `args` stands for the config path.
async fn octosync(i: &Instances, args: &[&str]) -> Output {
    let config = i.config().display().to_string();
    let args: Vec<String> = args
        .iter()
        .map(|a| {
            if *a == "CONFIG" {
                config.clone()
            } else {
                (*a).to_owned()
            }
        })
        .collect();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_octosync"))
            .args(&args)
            .env_remove("RUST_LOG")
            .env("OCTOSYNC_SOURCE_API_KEY", SOURCE_KEY)
            .env("OCTOSYNC_DESTINATION_API_KEY", DEST_KEY)
            .output()
            .expect("octosync runs")
    })
    .await
    .unwrap()
}

fn show(out: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// The OctoFX variable set of an instance, and its id.
async fn variables(c: &OctopusHttpClient) -> (String, Value) {
    let project = by_name(c, ResourceKind::Project, "OctoFX").await;
    let id = project["VariableSetId"].as_str().unwrap().to_owned();
    let doc = c.get_raw(ResourceKind::VariableSet, &id).await.unwrap();
    (id, doc)
}

fn value_of(set: &Value, name: &str) -> Option<String> {
    set["Variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["Name"] == name)
        .map(|v| v["Value"].as_str().unwrap_or_default().to_owned())
}

async fn add_variable(c: &OctopusHttpClient, name: &str, value: &str) {
    let (id, mut set) = variables(c).await;
    set["Variables"].as_array_mut().unwrap().push(json!({
        "Name": name, "Value": value, "Type": "String", "IsSensitive": false, "Scope": {}}));
    c.update(ResourceKind::VariableSet, &id, set).await.unwrap();
}

async fn describe_project(c: &OctopusHttpClient, description: &str) {
    let mut project = by_name(c, ResourceKind::Project, "OctoFX").await;
    let id = project["Id"].as_str().unwrap().to_owned();
    project["Description"] = json!(description);
    c.update(ResourceKind::Project, &id, project).await.unwrap();
}

/// Instances after a first sync, with two changes on the source since: OctoFX's
/// description and a new project variable.
async fn synced_then_changed(latency: Duration) -> Instances {
    let i = instances(latency).await;
    let first = octosync(&i, &["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(first.status.code(), Some(0), "{}", show(&first));
    let source = client(&i.source);
    describe_project(&source, "Changed on the source").await;
    add_variable(&source, "Added.On.Source", "from-source").await;
    i
}

fn report(out: &Output) -> ApplyRun {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", show(out)))
}

fn outcome_of<'a>(run: &'a ApplyRun, kind: ResourceKind, name: &str) -> &'a Outcome {
    &run.destinations[0]
        .results
        .iter()
        .find(|r| r.item.kind == kind && r.item.name == name)
        .unwrap_or_else(|| panic!("no result for {kind} {name:?}"))
        .outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_refuses_only_the_changed_document_and_applying_it_twice_writes_nothing() {
    let i = synced_then_changed(Duration::ZERO).await;
    let plan_file = i.file("plan.json");
    let planned = octosync(
        &i,
        &[
            "plan",
            "-c",
            "CONFIG",
            "--out",
            &plan_file,
            "--detailed-exitcode",
        ],
    )
    .await;
    assert_eq!(planned.status.code(), Some(2), "{}", show(&planned));

    // What the reviewer sees: the two updates, each with what it was planned against.
    let saved_text = std::fs::read_to_string(&plan_file).unwrap();
    for secret in [SECRET, SOURCE_KEY, DEST_KEY] {
        assert!(!saved_text.contains(secret), "{secret} is in the plan file");
    }
    let saved: SavedPlan = serde_json::from_str(&saved_text).unwrap();
    let writes: Vec<(ResourceKind, String, bool)> = saved.destinations[0]
        .plan
        .writes()
        .map(|op| (op.item.kind, op.item.name.clone(), op.base().is_some()))
        .collect();
    assert_eq!(
        writes,
        [
            (ResourceKind::Project, "OctoFX".to_owned(), true),
            (ResourceKind::VariableSet, "OctoFX".to_owned(), true),
        ]
    );

    // Somebody adds a variable on the destination after the review.
    let destination = client(&i.destination);
    add_variable(&destination, "Added.By.Hand", "by-hand").await;

    let applied = octosync(
        &i,
        &[
            "apply", "-c", "CONFIG", "--plan", &plan_file, "--format", "json",
        ],
    )
    .await;
    assert_eq!(applied.status.code(), Some(1), "{}", show(&applied));
    let run = report(&applied);
    assert!(run.saved_plan);
    assert!(matches!(
        outcome_of(&run, ResourceKind::Project, "OctoFX"),
        Outcome::Updated { .. }
    ));
    match outcome_of(&run, ResourceKind::VariableSet, "OctoFX") {
        Outcome::Refused { reason, .. } => assert!(reason.contains(CHANGED_SINCE_PLAN), "{reason}"),
        other => panic!("the changed variable set was not refused: {other:?}"),
    }
    assert_eq!(run.destinations[0].counts.refused, 1);
    assert_eq!(run.destinations[0].follow_up, FollowUp::NotChecked);

    // Read back: the reviewed project change landed; the variable set is the person's.
    let project = by_name(&destination, ResourceKind::Project, "OctoFX").await;
    assert_eq!(project["Description"], "Changed on the source");
    let (_, set) = variables(&destination).await;
    assert_eq!(value_of(&set, "Added.By.Hand").as_deref(), Some("by-hand"));
    assert_eq!(value_of(&set, "Added.On.Source"), None);

    // The same plan again: everything it would write has changed since; nothing is sent.
    let writes_before = i.destination_writes();
    let again = octosync(
        &i,
        &[
            "apply", "-c", "CONFIG", "--plan", &plan_file, "--format", "json",
        ],
    )
    .await;
    assert_eq!(again.status.code(), Some(1), "{}", show(&again));
    assert_eq!(
        i.destination_writes(),
        writes_before,
        "a second apply wrote"
    );
    let run = report(&again);
    assert!(run.destinations[0]
        .results
        .iter()
        .all(|r| matches!(r.outcome, Outcome::Refused { .. })));

    // Planning again starts from the person's edit and keeps it.
    let fresh = i.file("fresh.json");
    let replanned = octosync(&i, &["plan", "-c", "CONFIG", "--out", &fresh]).await;
    assert_eq!(replanned.status.code(), Some(0), "{}", show(&replanned));
    let applied = octosync(&i, &["apply", "-c", "CONFIG", "--plan", &fresh]).await;
    assert_eq!(applied.status.code(), Some(0), "{}", show(&applied));
    let (_, set) = variables(&destination).await;
    assert_eq!(value_of(&set, "Added.By.Hand").as_deref(), Some("by-hand"));
    assert_eq!(
        value_of(&set, "Added.On.Source").as_deref(),
        Some("from-source")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_file_from_another_config_is_refused_before_anything_is_written() {
    let i = instances(Duration::ZERO).await;
    let plan_file = i.file("plan.json");
    let planned = octosync(&i, &["plan", "-c", "CONFIG", "--out", &plan_file]).await;
    assert_eq!(planned.status.code(), Some(0), "{}", show(&planned));

    let mut config = std::fs::read_to_string(i.config()).unwrap();
    config = config.replace(
        "placeholder_value = \"REPLACE ME\"",
        "placeholder_value = \"TBD\"",
    );
    std::fs::write(i.config(), config).unwrap();
    let applied = octosync(&i, &["apply", "-c", "CONFIG", "--plan", &plan_file]).await;
    assert_eq!(applied.status.code(), Some(1), "{}", show(&applied));
    assert!(
        text(&applied.stderr).contains("another config"),
        "{}",
        show(&applied)
    );
    assert_eq!(i.destination_writes(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_apply_report_round_trips_and_names_the_ids_the_server_gave() {
    let i = instances(Duration::ZERO).await;
    let plan_file = i.file("plan.json");
    let planned = octosync(&i, &["plan", "-c", "CONFIG", "--out", &plan_file]).await;
    assert_eq!(planned.status.code(), Some(0), "{}", show(&planned));
    let applied = octosync(
        &i,
        &[
            "apply", "-c", "CONFIG", "--plan", &plan_file, "--format", "json",
        ],
    )
    .await;
    let run = report(&applied);
    let as_written: Value = serde_json::from_slice(&applied.stdout).unwrap();
    assert_eq!(serde_json::to_value(&run).unwrap(), as_written);

    // Exactly the saved ops, in order, each done.
    let saved: SavedPlan =
        serde_json::from_str(&std::fs::read_to_string(&plan_file).unwrap()).unwrap();
    let planned: Vec<_> = saved.destinations[0]
        .plan
        .writes()
        .map(|op| (op.item.clone(), op.action()))
        .collect();
    let done: Vec<_> = run.destinations[0]
        .results
        .iter()
        .map(|r| (r.item.clone(), r.action))
        .collect();
    assert_eq!(done, planned);
    assert!(run.is_success(), "{}", show(&applied));

    // The ids in the report are the destination's.
    let project = by_name(&client(&i.destination), ResourceKind::Project, "OctoFX").await;
    assert_eq!(
        outcome_of(&run, ResourceKind::Project, "OctoFX"),
        &Outcome::Created {
            id: project["Id"].as_str().unwrap().to_owned()
        }
    );

    // The tenant variables that hang on the new project's template ids are reported as
    // a follow-up, not applied, and the exit code says "changes pending".
    assert!(run.follow_up_needed());
    assert_eq!(applied.status.code(), Some(2), "{}", show(&applied));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_terminal_there_is_no_progress_output() {
    let i = instances(Duration::ZERO).await;
    let plan = octosync(&i, &["plan", "-c", "CONFIG"]).await;
    assert_eq!(plan.status.code(), Some(0), "{}", show(&plan));
    let apply = octosync(&i, &["apply", "-c", "CONFIG", "--yes", "--format", "json"]).await;
    assert!(apply.status.success(), "{}", show(&apply));
    for stderr in [text(&plan.stderr), text(&apply.stderr)] {
        for bar in ["collections", " ops ", "reading "] {
            assert!(
                !stderr.contains(bar),
                "progress on a non-terminal: {stderr}"
            );
        }
    }
    assert!(!octosync::cli::progress_wanted(false, false));
    assert!(!octosync::cli::progress_wanted(true, true));
    assert!(octosync::cli::progress_wanted(false, true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_edited_during_a_slow_apply_is_planned_again_and_keeps_the_edit() {
    let i = synced_then_changed(Duration::from_millis(5)).await;
    let config = SyncConfig::load(&i.config()).unwrap();
    let rules = config.destinations[0].rules.clone();
    let source = client(&i.source);
    let source_snapshot = load_snapshot(&source, "dev-test", "Default", &kinds_to_read(&rules))
        .await
        .unwrap();

    // The apply goes through a proxy; the moment it sends its first write, a person
    // adds a variable to the destination (directly, not through the proxy), long
    // before the apply reaches the variable set.
    let edited = Arc::new(AtomicBool::new(false));
    let direct_url = i.destination.url().to_owned();
    let runtime = tokio::runtime::Handle::current();
    let rule = {
        let edited = edited.clone();
        Arc::new(move |line: &str, _: u64| {
            let write = line.starts_with("PUT ") || line.starts_with("POST ");
            if write && !edited.swap(true, Ordering::SeqCst) {
                tokio::task::block_in_place(|| {
                    runtime.block_on(add_variable(
                        &client_at(&direct_url, DEST_KEY),
                        "Added.By.Hand",
                        "by-hand",
                    ))
                });
            }
            support::Action::Relay
        })
    };
    let proxied = client_at(&support::proxy(&i.destination, rule).await, DEST_KEY);
    let dest = Destination::live("staging-production", "Default", &proxied, rules);
    let plan = plan_destination(&source_snapshot, &dest).await.unwrap();
    assert_eq!(plan.summary.update, 2, "{plan}");
    let applied = apply_guarded(
        &source_snapshot,
        &dest,
        &plan,
        &ApplyOptions::default(),
        None,
    )
    .await
    .expect("a server destination");
    assert!(edited.load(Ordering::SeqCst), "the person's edit never ran");
    assert!(applied.is_success(), "{applied}");
    let set_result = applied
        .results
        .iter()
        .find(|r| r.item.kind == ResourceKind::VariableSet)
        .unwrap();
    assert_eq!(set_result.note.as_deref(), Some(PLANNED_AGAIN), "{applied}");
    assert_eq!(set_result.action, OpAction::Update);
    let project_result = applied
        .results
        .iter()
        .find(|r| r.item.kind == ResourceKind::Project)
        .unwrap();
    assert_eq!(project_result.note, None, "{applied}");

    // Read back: both the person's variable and the source's new one are there.
    let (_, set) = variables(&client(&i.destination)).await;
    assert_eq!(value_of(&set, "Added.By.Hand").as_deref(), Some("by-hand"));
    assert_eq!(
        value_of(&set, "Added.On.Source").as_deref(),
        Some("from-source")
    );
    let again = plan_destination(&source_snapshot, &dest).await.unwrap();
    assert!(!again.has_changes(), "{again}");
}

#[test]
fn usage_errors_exit_1_for_every_subcommand_and_help_exits_0() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_octosync"))
            .args(args)
            .output()
            .expect("octosync runs")
    };
    for args in [
        &["plan", "--no-such-flag"][..],
        &["plan", "--format", "yaml"],
        &["apply", "--no-such-flag"],
        &["apply", "--plan"],
        &["export", "--url", "http://127.0.0.1:1"],
        &["validate", "--no-such-flag"],
        &["demo", "extra"],
        &["no-such-subcommand"],
        &[],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", show(&out));
        assert!(!out.stderr.is_empty(), "{args:?} said nothing");
    }
    for args in [&["--help"][..], &["plan", "--help"], &["--version"]] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", show(&out));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_shows_the_follow_up_plan_before_applying_it_and_a_saved_plan_leaves_it_pending() {
    // Tenant variables of a project created in the same run hang on template ids the
    // server assigns when it creates the project: they can only be planned afterwards.
    let i = instances(Duration::ZERO).await;
    let applied = octosync(&i, &["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(applied.status.code(), Some(0), "{}", show(&applied));
    let stdout = text(&applied.stdout);
    let follow_up_at = stdout
        .find("Follow-up plan")
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        stdout[follow_up_at..].contains("~ update tenant variables \"Internal\""),
        "{stdout}"
    );
    let again = octosync(&i, &["plan", "-c", "CONFIG", "--detailed-exitcode"]).await;
    assert_eq!(again.status.code(), Some(0), "{}", show(&again));

    let i = instances(Duration::ZERO).await;
    let plan_file = i.file("plan.json");
    octosync(&i, &["plan", "-c", "CONFIG", "--out", &plan_file]).await;
    let applied = octosync(
        &i,
        &[
            "apply", "-c", "CONFIG", "--plan", &plan_file, "--format", "markdown",
        ],
    )
    .await;
    assert_eq!(applied.status.code(), Some(2), "{}", show(&applied));
    assert!(
        text(&applied.stdout).contains("A follow-up plan is needed"),
        "{}",
        show(&applied)
    );
    let pending = octosync(&i, &["plan", "-c", "CONFIG", "--detailed-exitcode"]).await;
    assert_eq!(pending.status.code(), Some(2), "{}", show(&pending));
    assert!(text(&pending.stdout).contains("tenant variables \"Internal\""));

    // The follow-up, saved and reviewed, applies like any plan: the tenant variables
    // are still as they were planned against.
    let follow_up_file = i.file("follow-up.json");
    octosync(&i, &["plan", "-c", "CONFIG", "--out", &follow_up_file]).await;
    let applied = octosync(
        &i,
        &[
            "apply",
            "-c",
            "CONFIG",
            "--plan",
            &follow_up_file,
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(applied.status.code(), Some(0), "{}", show(&applied));
    let run = report(&applied);
    assert!(matches!(
        outcome_of(&run, ResourceKind::TenantVariables, "Internal"),
        Outcome::Updated { .. }
    ));
    assert_eq!(run.destinations[0].follow_up, FollowUp::None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_is_refused_when_the_item_appeared_since_and_what_depends_on_it_with_it() {
    let i = instances(Duration::ZERO).await;
    let plan_file = i.file("plan.json");
    let planned = octosync(&i, &["plan", "-c", "CONFIG", "--out", &plan_file]).await;
    assert_eq!(planned.status.code(), Some(0), "{}", show(&planned));

    // Somebody creates the lifecycle the plan creates, before the apply.
    let destination = client(&i.destination);
    let theirs = destination
        .create(
            ResourceKind::Lifecycle,
            json!({"Name": "QA", "Description": "made by hand", "Phases": []}),
        )
        .await
        .unwrap();

    let applied = octosync(
        &i,
        &[
            "apply", "-c", "CONFIG", "--plan", &plan_file, "--format", "json",
        ],
    )
    .await;
    assert_eq!(applied.status.code(), Some(1), "{}", show(&applied));
    let run = report(&applied);
    match outcome_of(&run, ResourceKind::Lifecycle, "QA") {
        Outcome::Refused { id, reason } => {
            assert_eq!(id.as_deref(), theirs["Id"].as_str());
            assert!(
                reason.contains("created on the destination since the plan"),
                "{reason}"
            );
        }
        other => panic!("the create was not refused: {other:?}"),
    }
    // The QA channel uses that lifecycle: it is refused with it, not created against
    // a lifecycle nobody reviewed.
    match outcome_of(&run, ResourceKind::Channel, "QA") {
        Outcome::Refused { reason, .. } => {
            assert!(reason.contains("lifecycle \"QA\""), "{reason}")
        }
        other => panic!("the dependent channel was not refused: {other:?}"),
    }
    // What does not depend on it was created.
    assert!(matches!(
        outcome_of(&run, ResourceKind::Project, "OctoFX"),
        Outcome::Created { .. }
    ));

    // Read back: one lifecycle QA, the person's; no QA channel.
    let lifecycles: Vec<Value> = destination
        .list_raw(ResourceKind::Lifecycle)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l["Name"] == "QA")
        .collect();
    assert_eq!(lifecycles.len(), 1);
    assert_eq!(lifecycles[0]["Description"], "made by hand");
    let channels = destination.list_raw(ResourceKind::Channel).await.unwrap();
    assert!(!channels.iter().any(|c| c["Name"] == "QA"), "{channels:?}");
}

/// Records what a progress display is told.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<String>>);

impl octosync::apply::ApplyProgress for Recorder {
    fn layer_started(&self, layer: sync_core::LayerName, total: usize) {
        self.0
            .lock()
            .unwrap()
            .push(format!("start {layer:?} {total}"));
    }
    fn op_finished(&self, layer: sync_core::LayerName, result: &octosync::apply::OpResult) {
        let done = result.outcome.is_done();
        self.0.lock().unwrap().push(format!("op {layer:?} {done}"));
    }
    fn layer_finished(&self, layer: sync_core::LayerName) {
        self.0.lock().unwrap().push(format!("end {layer:?}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_is_told_each_layer_total_and_each_op_as_it_ends() {
    let i = instances(Duration::ZERO).await;
    let config = SyncConfig::load(&i.config()).unwrap();
    let rules = config.destinations[0].rules.clone();
    let source = client(&i.source);
    let destination = client(&i.destination);
    let source_snapshot = load_snapshot(&source, "dev-test", "Default", &kinds_to_read(&rules))
        .await
        .unwrap();
    let dest = Destination::live("staging-production", "Default", &destination, rules);
    let plan = plan_destination(&source_snapshot, &dest).await.unwrap();
    let recorder = Recorder::default();
    let applied = apply_guarded(
        &source_snapshot,
        &dest,
        &plan,
        &ApplyOptions::default(),
        Some(&recorder),
    )
    .await
    .expect("a server destination");
    assert!(applied.is_success(), "{applied}");
    let events = recorder.0.into_inner().unwrap();
    for layer in &plan.layers {
        let writes = layer
            .ops
            .iter()
            .filter(|op| matches!(op.action(), OpAction::Create | OpAction::Update))
            .count();
        let name = format!("{:?}", layer.name);
        let start = events
            .iter()
            .position(|e| *e == format!("start {name} {writes}"));
        let end = events.iter().position(|e| *e == format!("end {name}"));
        if writes == 0 {
            assert_eq!((start, end), (None, None), "{name}: {events:?}");
            continue;
        }
        let (start, end) = (start.unwrap(), end.unwrap());
        let ops = events[start..end]
            .iter()
            .filter(|e| **e == format!("op {name} true"))
            .count();
        assert_eq!(ops, writes, "{name}: {events:?}");
    }
}

/// The OctoFX deployment process of an instance, and its id.
async fn process(c: &OctopusHttpClient) -> (String, Value) {
    let project = by_name(c, ResourceKind::Project, "OctoFX").await;
    let id = project["DeploymentProcessId"].as_str().unwrap().to_owned();
    let doc = c
        .get_raw(ResourceKind::DeploymentProcess, &id)
        .await
        .unwrap();
    (id, doc)
}

async fn add_step(c: &OctopusHttpClient, step: Value) -> Value {
    let (id, mut doc) = process(c).await;
    doc["Steps"].as_array_mut().unwrap().push(step);
    c.update(ResourceKind::DeploymentProcess, &id, doc)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_variable_scoped_to_a_new_action_is_refused_with_its_refused_process() {
    let i = instances(Duration::ZERO).await;
    let first = octosync(&i, &["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(first.status.code(), Some(0), "{}", show(&first));

    // The source adds a step and a variable scoped to its action.
    let source = client(&i.source);
    let saved = add_step(
        &source,
        json!({"Name": "Smoke test", "Actions": [{"Name": "Smoke test", "ActionType": "Octopus.Script",
            "Properties": {"Octopus.Action.Script.ScriptBody": "echo ok",
                           "Octopus.Action.Script.Syntax": "Bash",
                           "Octopus.Action.Script.ScriptSource": "Inline"}}]}),
    )
    .await;
    let action_id = saved["Steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Actions"].as_array().unwrap())
        .find(|a| a["Name"] == "Smoke test")
        .and_then(|a| a["Id"].as_str())
        .unwrap()
        .to_owned();
    let (set_id, mut set) = variables(&source).await;
    set["Variables"].as_array_mut().unwrap().push(json!({
        "Name": "Smoke.Url", "Value": "https://smoke.example", "Type": "String",
        "IsSensitive": false, "Scope": {"Action": [action_id]}}));
    source
        .update(ResourceKind::VariableSet, &set_id, set)
        .await
        .unwrap();

    let plan_file = i.file("plan.json");
    let planned = octosync(&i, &["plan", "-c", "CONFIG", "--out", &plan_file]).await;
    assert_eq!(planned.status.code(), Some(0), "{}", show(&planned));

    // Somebody adds their own step to the destination's process after the review.
    let destination = client(&i.destination);
    add_step(
        &destination,
        json!({"Name": "Change board sign-off", "Actions": [{"Name": "Change board sign-off",
            "ActionType": "Octopus.Manual",
            "Properties": {"Octopus.Action.Manual.Instructions": "Wait for the change board"}}]}),
    )
    .await;

    let applied = octosync(
        &i,
        &[
            "apply", "-c", "CONFIG", "--plan", &plan_file, "--format", "json",
        ],
    )
    .await;
    assert_eq!(applied.status.code(), Some(1), "{}", show(&applied));
    let run = report(&applied);
    assert!(matches!(
        outcome_of(&run, ResourceKind::DeploymentProcess, "OctoFX"),
        Outcome::Refused { .. }
    ));
    match outcome_of(&run, ResourceKind::VariableSet, "OctoFX") {
        Outcome::Refused { reason, .. } => {
            assert!(reason.contains("deployment process"), "{reason}")
        }
        other => panic!("the variable set was not refused with its process: {other:?}"),
    }
    assert_eq!(run.destinations[0].counts.failed, 0);
    let (_, set) = variables(&destination).await;
    assert_eq!(value_of(&set, "Smoke.Url"), None);
}
