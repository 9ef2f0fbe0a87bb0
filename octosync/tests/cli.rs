//! End-to-end: the built `octosync` binary against two Octopus instances served over
//! HTTP on loopback by `octopus-fake`, seeded with the OctoFX example.

mod common;

use common::{client, text};
use std::path::PathBuf;
use std::process::{Command, Output};

use octopus_client::{OctopusRead, OctopusWrite};
use octopus_fake::{FakeConfig, FakeServer, Seed};
use octopus_model::{ResourceKind, VariableSet};

const SOURCE_KEY: &str = "API-SOURCESOURCESOURCESOURCE01";
const DEST_KEY: &str = "API-DESTINATIONDESTINATION0002";
const SECRET: &str = "s3cr3t-Db-Passw0rd!";

struct Instances {
    source: FakeServer,
    destination: FakeServer,
    dir: tempfile::TempDir,
}

async fn fake(seed: Seed, key: &str) -> FakeServer {
    FakeServer::start(FakeConfig {
        api_key: key.to_owned(),
        ..FakeConfig::seeded(seed)
    })
    .await
    .expect("fake starts")
}

/// Two instances and a config naming them; the source's sensitive variable is given a
/// real secret first, so the tests can check it never leaks.
async fn instances() -> Instances {
    let source = fake(Seed::DevTest, SOURCE_KEY).await;
    let destination = fake(Seed::StagingProduction, DEST_KEY).await;
    let c = client(&source);
    let project = c
        .list_projects()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.name == "OctoFX")
        .unwrap();
    let mut set: VariableSet = c
        .project_variables(project.id.get().unwrap())
        .await
        .unwrap();
    for v in set.variables.iter_mut() {
        if v.is_secret() {
            v.value.set(SECRET.to_owned());
        }
    }
    let id = set.id.get().unwrap().to_string();
    c.update(
        ResourceKind::VariableSet,
        &id,
        serde_json::to_value(&set).unwrap(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let demo = include_str!("../demo/sync.toml");
    let config = demo
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

    fn writes(server: &FakeServer) -> u64 {
        let s = server.stats();
        s.post + s.put + s.delete
    }
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_octosync"));
    cmd.args(args).env_remove("RUST_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("octosync runs")
}

/// Runs the binary with both keys set; `CONFIG` in `args` stands for the config path.
/// It runs on a blocking thread while this test's runtime serves the fakes.
async fn octosync(instances: &Instances, args: Vec<String>) -> Output {
    let args_ref: Vec<String> = args;
    let config = instances.config();
    let source = SOURCE_KEY;
    let dest = DEST_KEY;
    tokio::task::spawn_blocking(move || {
        let mut all: Vec<String> = args_ref;
        for a in all.iter_mut() {
            if a == "CONFIG" {
                *a = config.display().to_string();
            }
        }
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        run(
            &refs,
            &[
                ("OCTOSYNC_SOURCE_API_KEY", source),
                ("OCTOSYNC_DESTINATION_API_KEY", dest),
            ],
        )
    })
    .await
    .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_apply_plan_converges_and_never_writes_the_source() {
    let i = instances().await;
    let source_writes_before = Instances::writes(&i.source);

    let plan = octosync(&i, args(&["plan", "-c", "CONFIG", "--detailed-exitcode"])).await;
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan.stderr));
    assert!(
        text(&plan.stdout).contains("+ create project \"OctoFX\""),
        "{}",
        text(&plan.stdout)
    );
    assert_eq!(
        Instances::writes(&i.destination),
        0,
        "plan wrote to the destination"
    );

    let log = i.dir.path().join("log.jsonl");
    let cleanup = i.dir.path().join("cleanup");
    let apply = octosync(
        &i,
        args(&[
            "apply",
            "-c",
            "CONFIG",
            "--yes",
            "--log-file",
            &log.display().to_string(),
            "--cleanup-dir",
            &cleanup.display().to_string(),
        ]),
    )
    .await;
    assert_eq!(
        apply.status.code(),
        Some(0),
        "{}\n{}",
        text(&apply.stdout),
        text(&apply.stderr)
    );
    let writes_after_apply = Instances::writes(&i.destination);
    assert!(writes_after_apply > 0);
    assert_eq!(i.destination.integrity(), Vec::new());

    let again = octosync(&i, args(&["plan", "-c", "CONFIG", "--detailed-exitcode"])).await;
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stdout));
    let second_apply = octosync(&i, args(&["apply", "-c", "CONFIG", "--yes"])).await;
    assert_eq!(second_apply.status.code(), Some(0));
    assert!(text(&second_apply.stdout).contains("Nothing to do"));
    assert_eq!(
        Instances::writes(&i.destination),
        writes_after_apply,
        "a second apply wrote"
    );
    assert_eq!(
        Instances::writes(&i.source),
        source_writes_before,
        "the source was written"
    );

    // Secrets and keys never show, in any output.
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(
        log_text.lines().count() > 10,
        "the log records requests and decisions"
    );
    assert!(log_text.contains("decision"));
    let cleanup_text =
        std::fs::read_to_string(cleanup.join("staging-production-cleanup.md")).unwrap();
    assert!(cleanup_text.contains("Application.Database.Password"));
    for output in [
        text(&plan.stdout),
        text(&plan.stderr),
        text(&apply.stdout),
        text(&apply.stderr),
        log_text,
        cleanup_text,
    ] {
        for secret in [SECRET, SOURCE_KEY, DEST_KEY] {
            assert!(!output.contains(secret), "{secret} leaked");
        }
    }

    // The seeds' scenario landed: the QA step scoped to Test now runs in Staging, and
    // the new secret is a placeholder, not the source's value.
    let dest = client(&i.destination);
    let environments = dest.list_environments().await.unwrap();
    let staging = environments.iter().find(|e| e.name == "Staging").unwrap();
    let project = dest
        .list_projects()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.name == "OctoFX")
        .expect("OctoFX was created");
    let process = dest
        .project_deployment_process(project.id.get().unwrap())
        .await
        .unwrap();
    let scoped_to_staging: Vec<&str> = process
        .steps
        .iter()
        .flat_map(|s| s.actions.iter())
        .filter(|a| {
            a.environments
                .iter()
                .any(|e| e == staging.id.get().unwrap())
        })
        .map(|a| a.name.as_str())
        .collect();
    assert!(!scoped_to_staging.is_empty(), "no action scoped to Staging");
    let set = dest
        .project_variables(project.id.get().unwrap())
        .await
        .unwrap();
    let secret = set.variables.iter().find(|v| v.is_secret()).unwrap();
    let stored = i
        .destination
        .variable_secret(set.id.get().unwrap().as_str(), secret.id.get().unwrap())
        .unwrap();
    assert_ne!(stored, SECRET);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_config_names_the_file_and_line() {
    let i = instances().await;
    let bad = std::fs::read_to_string(i.config())
        .unwrap()
        .replace("process_cloning = ", "process_clonig = ");
    std::fs::write(i.config(), &bad).unwrap();
    let line = bad
        .lines()
        .position(|l| l.starts_with("process_clonig"))
        .unwrap()
        + 1;
    let out = octosync(&i, args(&["plan", "-c", "CONFIG"])).await;
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains(&format!("sync.toml:{line}:")), "{err}");
    assert!(err.contains("process_clonig"), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_api_key_is_one_clear_error() {
    let i = instances().await;
    let config = i.config();
    let out = tokio::task::spawn_blocking(move || {
        run(
            &["plan", "-c", &config.display().to_string()],
            &[
                ("OCTOSYNC_SOURCE_API_KEY", "API-WRONGWRONGWRONGWRONG"),
                ("OCTOSYNC_DESTINATION_API_KEY", DEST_KEY),
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("dev-test"), "{err}");
    assert!(err.to_lowercase().contains("unauthorized"), "{err}");
    assert!(
        !err.contains("API-WRONGWRONGWRONGWRONG"),
        "the key leaked: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_space_and_an_unreachable_instance_are_clear_errors() {
    let i = instances().await;
    let original = std::fs::read_to_string(i.config()).unwrap();
    let missing = original.replacen("space = \"Default\"", "space = \"Nope\"", 1);
    std::fs::write(i.config(), &missing).unwrap();
    let out = octosync(&i, args(&["plan", "-c", "CONFIG"])).await;
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("\"Nope\""), "{err}");

    // A port nothing listens on: take a free one and close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = original.replace(i.destination.url(), &format!("http://127.0.0.1:{port}"));
    std::fs::write(i.config(), &unreachable).unwrap();
    let out = octosync(&i, args(&["validate", "-c", "CONFIG"])).await;
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("staging-production"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_api_key_variable_is_named() {
    let i = instances().await;
    let config = i.config();
    let out = tokio::task::spawn_blocking(move || {
        run(
            &["plan", "-c", &config.display().to_string()],
            &[("OCTOSYNC_SOURCE_API_KEY", SOURCE_KEY)],
        )
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("OCTOSYNC_DESTINATION_API_KEY"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_plan_offline_from_two_snapshot_directories() {
    let i = instances().await;
    let exports = i.dir.path().join("exports");
    for (name, server, key) in [
        ("dev", &i.source, SOURCE_KEY),
        ("prod", &i.destination, DEST_KEY),
    ] {
        let out_dir = exports.join(name);
        let url = server.url().to_owned();
        let out = tokio::task::spawn_blocking(move || {
            run(
                &[
                    "export",
                    "--url",
                    &url,
                    "--api-key-env",
                    "EXPORT_KEY",
                    "--space",
                    "Default",
                    "--out",
                    &out_dir.display().to_string(),
                ],
                &[("EXPORT_KEY", key)],
            )
        })
        .await
        .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(exports
            .join(name)
            .join("Default")
            .join("projects.json")
            .exists());
        assert!(exports.join(name).join("api.json").exists());
    }
    let offline = format!(
        "[source]\nname = \"dev\"\nsnapshot = {:?}\nspace = \"Default\"\n\n[[destinations]]\nname = \"prod\"\nsnapshot = {:?}\nspace = \"Default\"\n\n[select]\nprojects = [\"OctoFX\"]\n",
        exports.join("dev").display().to_string(),
        exports.join("prod").display().to_string()
    );
    let config = i.dir.path().join("offline.toml");
    std::fs::write(&config, offline).unwrap();
    let writes = Instances::writes(&i.destination);
    let out = tokio::task::spawn_blocking(move || {
        run(
            &[
                "plan",
                "-c",
                &config.display().to_string(),
                "--format",
                "json",
            ],
            &[],
        )
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let plan: sync_core::Plan = serde_json::from_slice(&out.stdout).unwrap();
    assert!(plan.find(ResourceKind::Project, "OctoFX").is_some());
    assert_eq!(Instances::writes(&i.destination), writes);
}
