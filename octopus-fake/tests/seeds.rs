//! The shipped seeds: every cross-reference inside them resolves, they hold the running
//! example, and snapshots round-trip through a directory and a restart.

mod common;

use std::collections::HashSet;

use common::{names, start, start_with};
use octopus_fake::{FakeConfig, Seed, Snapshot, SpaceSnapshot};
use serde_json::Value;

const ID_PREFIXES: &[&str] = &[
    "Environments",
    "Projects",
    "ProjectGroups",
    "Lifecycles",
    "Channels",
    "Runbooks",
    "LibraryVariableSets",
    "TagSets",
    "Tenants",
    "Feeds",
    "Accounts",
    "Certificates",
    "WorkerPools",
    "MachinePolicies",
    "Machines",
    "ActionTemplates",
    "Teams",
    "ScopedUserRoles",
];

/// Whether `s` looks like a top-level id (`Projects-12`).
fn looks_like_id(s: &str) -> bool {
    s.rsplit_once('-').is_some_and(|(prefix, n)| {
        ID_PREFIXES.contains(&prefix) && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
    })
}

fn collect_refs(value: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::String(s) => {
            for part in s.split(',').map(str::trim) {
                if looks_like_id(part) {
                    out.push((path.to_owned(), part.to_owned()));
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, path, out)),
        Value::Object(map) => {
            for (k, v) in map {
                let child = format!("{path}.{k}");
                if looks_like_id(k) {
                    out.push((child.clone(), k.clone()));
                }
                if k != "Id" && k != "Links" {
                    collect_refs(v, &child, out);
                }
            }
        }
        _ => {}
    }
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// Every reference that does not resolve inside the space, as `file: path -> id`.
fn dangling(space: &SpaceSnapshot) -> Vec<String> {
    let mut ids = HashSet::new();
    let mut tags = HashSet::new();
    for (stem, docs) in &space.collections {
        for doc in docs {
            if let Some(id) = doc["Id"].as_str() {
                ids.insert(id.to_lowercase());
            }
            if stem == "tagsets" {
                for tag in doc["Tags"].as_array().into_iter().flatten() {
                    tags.insert(
                        tag["CanonicalTagName"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                    );
                }
            }
        }
    }
    // Built-ins of the instance, not of the space.
    ids.extend(["teams-everyone", "teams-administrators", "teams-managers"].map(str::to_owned));
    let mut problems = Vec::new();
    for (stem, docs) in &space.collections {
        for doc in docs {
            let mut refs = Vec::new();
            collect_refs(doc, stem, &mut refs);
            for (path, id) in refs {
                if !ids.contains(&id.to_lowercase()) {
                    problems.push(format!("{path} -> {id}"));
                }
            }
            for field in ["TenantTags", "Scope.TenantTag"] {
                let value = field.split('.').fold(doc, |v, k| &v[k]);
                for tag in strs(value) {
                    if !tags.contains(&tag) {
                        problems.push(format!("{stem}.{field} -> {tag}"));
                    }
                }
            }
            for derived in ["DeploymentProcessId", "VariableSetId", "RunbookProcessId"] {
                if let Some(id) = doc[derived].as_str() {
                    if !ids.contains(&id.to_lowercase()) {
                        problems.push(format!("{stem}.{derived} -> {id}"));
                    }
                }
            }
            if let Some(role) = doc["UserRoleId"].as_str() {
                if !role.starts_with("userroles-") && !ids.contains(&role.to_lowercase()) {
                    problems.push(format!("{stem}.UserRoleId -> {role}"));
                }
            }
        }
    }
    problems.extend(dangling_in_documents(space));
    problems
}

/// References by GUID or name inside documents: action scopes, tenant tags on
/// variables, templates of tenant variables, channels of the owning project.
fn dangling_in_documents(space: &SpaceSnapshot) -> Vec<String> {
    let mut problems = Vec::new();
    let mut actions = HashSet::new();
    for doc in space
        .collection("deploymentprocesses")
        .iter()
        .chain(space.collection("runbookprocesses"))
    {
        for step in doc["Steps"].as_array().into_iter().flatten() {
            for action in step["Actions"].as_array().into_iter().flatten() {
                actions.insert(action["Id"].as_str().unwrap_or_default().to_owned());
                let project = doc["ProjectId"].as_str().unwrap_or_default();
                for channel in strs(&action["Channels"]) {
                    let owned = space
                        .collection("channels")
                        .iter()
                        .any(|c| c["Id"] == channel.as_str() && c["ProjectId"] == project);
                    if !owned {
                        problems.push(format!(
                            "action {} channel {channel} is not its project's",
                            action["Name"]
                        ));
                    }
                }
            }
        }
    }
    for set in space.collection("variables") {
        for var in set["Variables"].as_array().into_iter().flatten() {
            for action in strs(&var["Scope"]["Action"]) {
                if !actions.contains(&action) {
                    problems.push(format!("variable {} action {action}", var["Name"]));
                }
            }
        }
    }
    let templates: HashSet<String> = space
        .collection("projects")
        .iter()
        .chain(space.collection("libraryvariablesets"))
        .flat_map(|o| o["Templates"].as_array().cloned().unwrap_or_default())
        .map(|t| t["Id"].as_str().unwrap_or_default().to_owned())
        .collect();
    for tv in space.collection("tenantvariables") {
        for p in tv["ProjectVariables"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
        {
            for values in p["Variables"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
            {
                for template in values.as_object().into_iter().flat_map(|m| m.keys()) {
                    if !templates.contains(template) {
                        problems.push(format!("tenant variable template {template}"));
                    }
                }
            }
        }
        for l in tv["LibraryVariables"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
        {
            for template in l["Variables"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.keys())
            {
                if !templates.contains(template) {
                    problems.push(format!("tenant library variable template {template}"));
                }
            }
        }
    }
    problems
}

#[test]
fn every_reference_in_the_shipped_seeds_resolves() {
    for snapshot in [
        Seed::DevTest.snapshot().unwrap().expect("a shipped seed"),
        Seed::StagingProduction
            .snapshot()
            .unwrap()
            .expect("a shipped seed"),
    ] {
        for space in &snapshot.spaces {
            assert_eq!(
                dangling(space),
                Vec::<String>::new(),
                "space {}",
                space.name
            );
        }
    }
}

#[test]
fn the_reference_check_finds_broken_references() {
    let mut snapshot = Seed::DevTest.snapshot().unwrap().expect("a shipped seed");
    let space = &mut snapshot.spaces[0];
    space
        .collection_mut("environments")
        .retain(|e| e["Name"] != "Test");
    space.collection_mut("tagsets").clear();
    let problems = dangling(space);
    assert!(
        problems.iter().any(|p| p.contains("deploymentprocesses")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("Tenant Type/Internal")),
        "{problems:?}"
    );
}

fn by_name<'a>(space: &'a SpaceSnapshot, collection: &str, name: &str) -> &'a Value {
    space
        .collection(collection)
        .iter()
        .find(|x| x["Name"] == name)
        .unwrap_or_else(|| panic!("{collection} {name}"))
}

#[test]
fn the_dev_test_seed_holds_the_running_example() {
    let snapshot = Seed::DevTest.snapshot().unwrap().expect("a shipped seed");
    let space = &snapshot.spaces[0];
    assert_eq!(space.name, "Default");
    assert_eq!(
        names(&Value::Array(space.collection("environments").to_vec())),
        ["Development", "Test"]
    );
    let lifecycles = names(&Value::Array(space.collection("lifecycles").to_vec()));
    assert_eq!(lifecycles, ["Default Lifecycle", "QA"]);
    let project = by_name(space, "projects", "OctoFX");
    let pid = project["Id"].as_str().unwrap();
    let channels: Vec<_> = space
        .collection("channels")
        .iter()
        .filter(|c| c["ProjectId"] == pid)
        .map(|c| c["Name"].as_str().unwrap())
        .collect();
    assert_eq!(channels, ["Default", "QA"]);
    let qa_channel = by_name(space, "channels", "QA")["Id"].clone();
    let test = by_name(space, "environments", "Test")["Id"].clone();
    let process = space
        .collection("deploymentprocesses")
        .iter()
        .find(|p| p["ProjectId"] == pid)
        .unwrap();
    let actions: Vec<&Value> = process["Steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Actions"].as_array().unwrap())
        .collect();
    let manual = actions
        .iter()
        .find(|a| a["ActionType"] == "Octopus.Manual")
        .unwrap();
    assert_eq!(manual["Environments"], Value::Array(vec![test.clone()]));
    assert!(actions
        .iter()
        .any(|a| a["Channels"] == Value::Array(vec![qa_channel.clone()])));
    assert!(actions.iter().any(|a| a["Name"] == "Deploy Database"));
    assert!(actions
        .iter()
        .any(|a| a["Properties"]["Octopus.Action.Template.Id"].is_string()));
    assert_eq!(space.collection("runbooks").len(), 1);
    let set = space
        .collection("variables")
        .iter()
        .find(|v| v["OwnerId"] == pid)
        .unwrap();
    let vars = set["Variables"].as_array().unwrap();
    let db_names: Vec<_> = vars
        .iter()
        .filter(|v| v["Name"] == "Application.Database.Name")
        .map(|v| v["Value"].as_str().unwrap())
        .collect();
    assert_eq!(db_names, ["OctoFx-Dev", "OctoFX-Test"]);
    assert!(vars
        .iter()
        .any(|v| v["Name"] == "ConnectionString" && v["Scope"] == serde_json::json!({})));
    assert!(vars
        .iter()
        .any(|v| v["IsSensitive"] == true && v["Value"].is_null()));
    assert!(vars
        .iter()
        .any(|v| v["Name"] == "Project.AWS.Account" && v["Type"] == "AmazonWebServicesAccount"));
    assert!(vars.iter().any(|v| v["Scope"]["Machine"].is_array()));
    assert!(vars
        .iter()
        .any(|v| v["Scope"]["Environment"].is_array() && v["Scope"]["Role"].is_array()));
    by_name(space, "workerpools", "Ubuntu Worker Pool");
    by_name(space, "libraryvariablesets", "Global");
    assert_eq!(
        by_name(space, "libraryvariablesets", "Logging Helpers")["ContentType"],
        "ScriptModule"
    );
    by_name(space, "actiontemplates", "Notify Team");
    by_name(space, "tenants", "Internal");
    by_name(space, "tenants", "Development Team A");
    by_name(space, "tagsets", "Tenant Type");
    by_name(space, "teams", "QA Team");
    for builtin in [
        ("lifecycles", "Default Lifecycle"),
        ("projectgroups", "Default Project Group"),
        ("workerpools", "Default Worker Pool"),
        ("machinepolicies", "Default Machine Policy"),
        ("feeds", "Octopus Server (built-in)"),
        ("feeds", "Octopus Server Releases"),
        ("teams", "Space Managers"),
    ] {
        by_name(space, builtin.0, builtin.1);
    }
}

#[test]
fn the_staging_production_seed_has_its_own_environments_and_no_projects() {
    let snapshot = Seed::StagingProduction
        .snapshot()
        .unwrap()
        .expect("a shipped seed");
    let space = &snapshot.spaces[0];
    assert_eq!(
        names(&Value::Array(space.collection("environments").to_vec())),
        ["Staging", "Production"]
    );
    assert_eq!(
        by_name(space, "accounts", "AWS Account")["AccountType"],
        "AmazonWebServicesAccount"
    );
    by_name(space, "workerpools", "Ubuntu Worker Pool");
    assert_eq!(
        names(&Value::Array(space.collection("tenants").to_vec())),
        ["Internal"]
    );
    assert!(space.collection("projects").is_empty());
}

#[tokio::test]
async fn a_snapshot_round_trips_through_a_directory_and_a_restart() {
    let (server, api) = start(Seed::DevTest).await;
    let project = api.named("projects", "OctoFX").await;
    let vars = api
        .ok(&format!(
            "Spaces-1/projects/{}/variables",
            project["Id"].as_str().unwrap()
        ))
        .await;
    let dir = tempfile::tempdir().unwrap();
    server.write_snapshot(dir.path()).unwrap();
    assert!(dir
        .path()
        .join("Default")
        .join("deploymentprocesses.json")
        .is_file());
    assert!(dir
        .path()
        .join("Default")
        .join("tenantvariables.json")
        .is_file());
    let (_again, api2) = start_with(FakeConfig::seeded(Seed::Dir(dir.path().to_owned()))).await;
    assert_eq!(api2.named("projects", "OctoFX").await["Id"], project["Id"]);
    let vars2 = api2
        .ok(&format!(
            "Spaces-1/projects/{}/variables",
            project["Id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(vars2["Variables"], vars["Variables"]);
    assert_eq!(vars2["Version"], vars["Version"]);
    let tenants = api2.ok("Spaces-1/tenantvariables/all").await;
    assert_eq!(tenants, api.ok("Spaces-1/tenantvariables/all").await);
    assert_eq!(Snapshot::read_dir(dir.path()).unwrap(), server.snapshot());
}

#[tokio::test]
async fn loading_fills_in_documents_a_real_server_always_has() {
    let mut space = SpaceSnapshot::new("Bench");
    space.collection_mut("projects").push(serde_json::json!({
        "Id": "Projects-7", "Name": "Bare", "ProjectGroupId": "ProjectGroups-1", "LifecycleId": "Lifecycles-1",
        "DeploymentProcessId": "deploymentprocess-Projects-7", "VariableSetId": "variableset-Projects-7"
    }));
    let (_s, api) = start(Seed::Snapshot(Snapshot {
        spaces: vec![space],
    }))
    .await;
    assert_eq!(api.ok("spaces/all").await[0]["Name"], "Bench");
    let process = api
        .ok("Spaces-1/projects/Projects-7/deploymentprocesses")
        .await;
    assert_eq!(process["Version"], 0);
    assert_eq!(
        api.ok("Spaces-1/projects/Projects-7/variables").await["OwnerId"],
        "Projects-7"
    );
}

#[test]
fn the_binary_prints_its_url_and_serves() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_octopus-fake"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--version",
            "2023.3.100",
            "--api-key",
            "API-TEST",
            "--seed-builtin",
            "dev-test",
            "--path-prefix",
            "/octopus",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/octopus"),
        "{url}"
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (root, projects) = runtime.block_on(async {
        let http = reqwest::Client::new();
        let root: Value = http
            .get(format!("{url}/api"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let projects: Value = http
            .get(format!("{url}/api/Spaces-1/projects/all"))
            .header("X-Octopus-ApiKey", "API-TEST")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (root, projects)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(root["Version"], "2023.3.100");
    assert_eq!(names(&projects), ["OctoFX"]);
}
