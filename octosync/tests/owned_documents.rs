//! What a server creates by itself with a project, a runbook and a library variable set
//! is the same on the test server and in the in-memory applier the properties run
//! against: both make it as `octopus_model::owned` says, and this holds them to it.

mod common;

use common::client;
use octopus_client::OctopusWrite;
use octopus_fake::{FakeConfig, FakeServer};
use octopus_model::{owned, ResourceKind};
use serde_json::{json, Map, Value};
use sync_core::testing::InMemoryApplier;
use sync_core::{ItemRef, Layer, LayerName, Op, Plan, Snapshot};

/// The ids each side numbers its own way, by what they stand for.
#[derive(Default)]
struct Ids(Vec<(String, &'static str)>);

impl Ids {
    fn name(&mut self, id: &Value, placeholder: &'static str) {
        if let Some(id) = id.as_str() {
            self.0.push((id.to_owned(), placeholder));
        }
    }

    /// `doc` without what every document of the test server carries (its space, links
    /// and modification stamps) and what it works out on every read (a variable set's
    /// `ScopeValues`), with the ids named replaced by what they stand for.
    fn normalized(&self, doc: &Value) -> Value {
        match doc {
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter(|(k, _)| {
                        !matches!(
                            k.as_str(),
                            "SpaceId"
                                | "Links"
                                | "LastModifiedOn"
                                | "LastModifiedBy"
                                | "ScopeValues"
                        )
                    })
                    .map(|(k, v)| (k.clone(), self.normalized(v)))
                    .collect::<Map<_, _>>(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.normalized(v)).collect()),
            Value::String(s) => {
                let mut s = s.clone();
                // Longest first, so `Projects-1` does not eat into `Projects-12`.
                let mut ids = self.0.clone();
                ids.sort_by_key(|(id, _)| std::cmp::Reverse(id.len()));
                for (id, placeholder) in ids {
                    s = s.replace(&id, placeholder);
                }
                Value::String(s)
            }
            other => other.clone(),
        }
    }
}

/// The documents of `kind` in `all` whose `field` is `owner`, normalized.
fn owned_by(all: &[Value], field: &str, owner: &str, ids: &Ids) -> Vec<Value> {
    all.iter()
        .filter(|d| d[field].as_str() == Some(owner))
        .map(|d| ids.normalized(d))
        .collect()
}

/// What the test server made with a new project, runbook and library variable set: the
/// project's process, variable set and channels, the runbook's process, the set's
/// variables.
async fn made_by_the_server() -> Vec<Vec<Value>> {
    let server = FakeServer::start(FakeConfig::default())
        .await
        .expect("fake starts");
    let c = client(&server);
    let first = |kind| {
        let c = &c;
        async move {
            let all = octopus_client::OctopusRead::list_raw(c, kind)
                .await
                .expect("a list");
            all[0]["Id"].clone()
        }
    };
    let group = first(ResourceKind::ProjectGroup).await;
    let lifecycle = first(ResourceKind::Lifecycle).await;
    let project = c
        .create(
            ResourceKind::Project,
            json!({"Name": "Owned", "ProjectGroupId": group, "LifecycleId": lifecycle}),
        )
        .await
        .expect("project created");
    let runbook = c
        .create(
            ResourceKind::Runbook,
            json!({"Name": "Refresh", "ProjectId": project["Id"]}),
        )
        .await
        .expect("runbook created");
    let set = c
        .create(ResourceKind::LibraryVariableSet, json!({"Name": "Shared"}))
        .await
        .expect("library variable set created");
    let snapshot = server.snapshot();
    server.stop().await;
    let space = snapshot.space("Default").expect("the default space");
    let channels = space.collection("channels");
    let mut ids = Ids::default();
    ids.name(&project["Id"], "{project}");
    ids.name(&runbook["Id"], "{runbook}");
    ids.name(&set["Id"], "{set}");
    for channel in channels {
        ids.name(&channel["Id"], "{channel}");
    }
    let id = |v: &Value| v["Id"].as_str().unwrap_or_default().to_owned();
    vec![
        owned_by(
            space.collection("deploymentprocesses"),
            "ProjectId",
            &id(&project),
            &ids,
        ),
        owned_by(
            space.collection("variables"),
            "OwnerId",
            &id(&project),
            &ids,
        ),
        owned_by(channels, "ProjectId", &id(&project), &ids),
        owned_by(
            space.collection("runbookprocesses"),
            "RunbookId",
            &id(&runbook),
            &ids,
        ),
        owned_by(space.collection("variables"), "OwnerId", &id(&set), &ids),
    ]
}

fn plan_of(op: Op) -> Plan {
    Plan {
        source_version: "2024.2.0".into(),
        destination_version: "2024.2.0".into(),
        layers: vec![Layer {
            name: LayerName::Projects,
            ops: vec![op],
        }],
        cleanup: Vec::new(),
        warnings: Vec::new(),
        summary: Default::default(),
        synced: Default::default(),
    }
}

fn values<T: serde::Serialize>(all: &[T]) -> Vec<Value> {
    all.iter()
        .map(|d| serde_json::to_value(d).expect("a model serializes"))
        .collect()
}

/// The same, made by the in-memory applier.
fn made_in_memory() -> Vec<Vec<Value>> {
    let mut applier = InMemoryApplier::new(Snapshot::default());
    let mut create = |item: ItemRef, body: Value| {
        applier
            .apply(&plan_of(Op::create(item, "missing", body)))
            .expect("applied");
        applier.snapshot.clone()
    };
    let s = create(
        ItemRef::new(ResourceKind::Project, "Owned"),
        json!({"Name": "Owned", "ProjectGroupId": "ProjectGroups-1", "LifecycleId": "Lifecycles-1"}),
    );
    let project = values(&s.projects).remove(0);
    create(
        ItemRef::owned(ResourceKind::Runbook, "Refresh", "Owned"),
        json!({"Name": "Refresh", "ProjectId": project["Id"]}),
    );
    let s = create(
        ItemRef::new(ResourceKind::LibraryVariableSet, "Shared"),
        json!({"Name": "Shared"}),
    );
    let runbook = values(&s.runbooks).remove(0);
    let set = values(&s.library_variable_sets).remove(0);
    let variables = values(&s.variable_sets);
    let channels = values(&s.channels);
    let mut ids = Ids::default();
    ids.name(&project["Id"], "{project}");
    ids.name(&runbook["Id"], "{runbook}");
    ids.name(&set["Id"], "{set}");
    for channel in &channels {
        ids.name(&channel["Id"], "{channel}");
    }
    let id = |v: &Value| v["Id"].as_str().unwrap_or_default().to_owned();
    vec![
        owned_by(
            &values(&s.deployment_processes),
            "ProjectId",
            &id(&project),
            &ids,
        ),
        owned_by(&variables, "OwnerId", &id(&project), &ids),
        owned_by(&channels, "ProjectId", &id(&project), &ids),
        owned_by(
            &values(&s.runbook_processes),
            "RunbookId",
            &id(&runbook),
            &ids,
        ),
        owned_by(&variables, "OwnerId", &id(&set), &ids),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_server_and_the_in_memory_applier_make_the_same_documents_with_a_create() {
    let server = made_by_the_server().await;
    let memory = made_in_memory();
    assert_eq!(server, memory);
    // One of each, as the shared knowledge says.
    assert!(server.iter().all(|docs| docs.len() == 1), "{server:#?}");
    assert_eq!(server[2][0]["Name"], owned::DEFAULT_CHANNEL);
    assert_eq!(server[0][0]["Id"], "deploymentprocess-{project}");
    assert_eq!(server[3][0]["Id"], "RunbookProcess-{runbook}");
    assert_eq!(server[4][0]["Id"], "variableset-{set}");
}
