//! Helpers the end-to-end tests share: a client of an in-process instance, a document
//! by name, and a process's output as text.

#![allow(dead_code)]

use octopus_client::{ApiKey, OctopusHttpClient, OctopusRead};
use octopus_fake::FakeServer;
use octopus_model::ResourceKind;
use serde_json::Value;

/// A client of `server`'s "Default" space, with the server's own key.
pub fn client(server: &FakeServer) -> OctopusHttpClient {
    OctopusHttpClient::builder(server.url(), ApiKey::new(server.api_key()))
        .space_name("Default")
        .build()
        .unwrap()
}

/// What a process wrote, as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The document of `kind` named `name`; panics naming both when there is none.
pub async fn by_name(c: &OctopusHttpClient, kind: ResourceKind, name: &str) -> Value {
    c.list_raw(kind)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d["Name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name:?}"))
}

/// The demo config's destination ("staging-production", space "Default") reached through
/// `client`, under `rules`.
pub fn demo_destination(
    client: &OctopusHttpClient,
    rules: sync_core::SyncRules,
) -> octosync::runner::Destination<'_> {
    octosync::runner::Destination::live("staging-production", "Default", client, rules)
}

/// One run of `mode` from the demo's source ("dev-test", space "Default") to `dest`.
pub async fn run_once(
    source: &OctopusHttpClient,
    dest: &octosync::runner::Destination<'_>,
    mode: &octosync::runner::Mode,
) -> octosync::runner::DestinationRun {
    octosync::runner::run_instances(
        &octosync::runner::Source::live("dev-test", "Default", source),
        std::slice::from_ref(dest),
        mode,
    )
    .await
    .unwrap()
    .pop()
    .expect("one run per destination")
}

/// The API keys of the two instances the command-line tests start.
pub const SOURCE_KEY: &str = "API-SOURCESOURCESOURCESOURCE01";
/// See [`SOURCE_KEY`].
pub const DEST_KEY: &str = "API-DESTINATIONDESTINATION0002";

/// The user agent of a person editing in the portal.
pub const PERSON: &str = "Mozilla/5.0 (portal edit)";

/// A seeded fake with `key` at `version` (the fake's default when `None`).
pub fn keyed(
    seed: octopus_fake::Seed,
    key: &str,
    version: Option<&str>,
) -> octopus_fake::FakeConfig {
    let config = octopus_fake::FakeConfig {
        api_key: key.to_owned(),
        ..octopus_fake::FakeConfig::seeded(seed)
    };
    match version {
        Some(v) => config.with_version(v.parse().expect("a version")),
        None => config,
    }
}

/// The demo's two instances and its `sync.toml` (with the fakes' URLs, then `edit`ed)
/// in a directory of their own, for running the built binary against.
pub struct Cli {
    pub source: FakeServer,
    pub destination: FakeServer,
    pub dir: tempfile::TempDir,
}

impl Cli {
    /// Dev/Test and Staging/Production at `version`.
    pub async fn start(version: Option<&str>, edit: impl FnOnce(String) -> String) -> Self {
        Self::with(
            keyed(octopus_fake::Seed::DevTest, SOURCE_KEY, version),
            keyed(octopus_fake::Seed::StagingProduction, DEST_KEY, version),
            edit,
        )
        .await
    }

    /// Two fakes as configured.
    pub async fn with(
        source: octopus_fake::FakeConfig,
        destination: octopus_fake::FakeConfig,
        edit: impl FnOnce(String) -> String,
    ) -> Self {
        let source = FakeServer::start(source).await.expect("fake starts");
        let destination = FakeServer::start(destination).await.expect("fake starts");
        let dir = tempfile::tempdir().unwrap();
        let config = include_str!("../../demo/sync.toml")
            .replace("http://127.0.0.1:8065", source.url())
            .replace("http://127.0.0.1:8066", destination.url());
        std::fs::write(dir.path().join("sync.toml"), edit(config)).unwrap();
        Cli {
            source,
            destination,
            dir,
        }
    }

    /// The config file.
    pub fn config(&self) -> std::path::PathBuf {
        self.dir.path().join("sync.toml")
    }

    /// The config as a library run loads it (the API keys set in this process's
    /// environment), and its text.
    pub fn load(&self) -> (octosync::SyncConfig, String) {
        std::env::set_var("OCTOSYNC_SOURCE_API_KEY", SOURCE_KEY);
        std::env::set_var("OCTOSYNC_DESTINATION_API_KEY", DEST_KEY);
        let text = std::fs::read_to_string(self.config()).unwrap();
        (octosync::SyncConfig::load(&self.config()).unwrap(), text)
    }

    /// Runs the binary (`CONFIG` in `args` stands for the config file) on a blocking
    /// thread: the fakes are served by the test's runtime.
    pub async fn octosync(&self, args: &[&str]) -> std::process::Output {
        let config = self.config().display().to_string();
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
            std::process::Command::new(env!("CARGO_BIN_EXE_octosync"))
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
}

/// The variable set of `project` (a project document as [`by_name`] gives it), read
/// back through the API.
pub async fn variable_set_of(c: &OctopusHttpClient, project: &Value) -> Value {
    c.get_raw(
        ResourceKind::VariableSet,
        project["VariableSetId"].as_str().unwrap(),
    )
    .await
    .unwrap()
}

/// Whether a variable set (a document of the `variables` collection) is a project's.
pub fn owned_by_a_project(set: &Value) -> bool {
    set["OwnerId"]
        .as_str()
        .is_some_and(|o| o.starts_with("Projects-"))
}

/// Runs a property case's async body on a runtime of two workers (the fakes and the
/// command line share it).
pub fn block_on<T>(case: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(case)
}

/// Edits a document the way a person in the portal would: GETs the collection's `/all`,
/// changes the first document `pick` selects, PUTs it back with a browser's user agent.
/// Returns the document's id.
pub async fn portal_edit(
    server: &FakeServer,
    collection: &str,
    pick: impl Fn(&Value) -> bool,
    change: impl FnOnce(&mut Value),
) -> String {
    let http = reqwest::Client::builder()
        .user_agent(PERSON)
        .build()
        .unwrap();
    let api = format!("{}/api/Spaces-1", server.url());
    let all: Value = http
        .get(format!("{api}/{collection}/all"))
        .header("X-Octopus-ApiKey", server.api_key())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut doc = all
        .as_array()
        .unwrap()
        .iter()
        .find(|d| pick(d))
        .unwrap_or_else(|| panic!("nothing to edit in {collection}"))
        .clone();
    change(&mut doc);
    let id = doc["Id"].as_str().unwrap().to_owned();
    let put = http
        .put(format!("{api}/{collection}/{id}"))
        .header("X-Octopus-ApiKey", server.api_key())
        .json(&doc)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 200, "{collection} {id}");
    id
}

/// [`portal_edit`] of the `Description` of the document of `collection` named `name`.
pub async fn edit_description(
    server: &FakeServer,
    collection: &str,
    name: &str,
    description: &str,
) -> String {
    portal_edit(
        server,
        collection,
        |d| d["Name"] == name,
        |d| d["Description"] = Value::String(description.to_owned()),
    )
    .await
}

/// A conversation that applies everything, as `apply --yes` does.
pub struct Yes;

impl octosync::cli::Conversation for Yes {
    fn progress(&self) -> &dyn octosync::runner::RunProgress {
        &octosync::runner::Unwatched
    }
    fn say(&self, _text: &str) {}
    fn approve(
        &self,
        _names: &[String],
        plans: &[sync_core::Plan],
    ) -> Result<Option<Vec<bool>>, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Some(vec![true; plans.len()]))
    }
    fn approve_follow_up(&self, _names: &[String], _plans: &[sync_core::Plan]) -> bool {
        true
    }
}
