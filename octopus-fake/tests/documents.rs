//! Processes and variable sets over real HTTP: ids for new nested items, optimistic
//! concurrency, server rules and the sensitive-value semantics of reference §4.

mod common;

use common::{start, Api};
use octopus_fake::{FakeServer, Seed};
use serde_json::{json, Value};

async fn new_project(api: &Api) -> String {
    let group = api.named("projectgroups", "Default Project Group").await["Id"].clone();
    let lifecycle = api.named("lifecycles", "Default Lifecycle").await["Id"].clone();
    let p = api
        .created(
            "Spaces-1/projects",
            json!({"Name": "Sample", "ProjectGroupId": group, "LifecycleId": lifecycle}),
        )
        .await;
    p["Id"].as_str().unwrap().to_owned()
}

fn script_step(name: &str) -> Value {
    json!({
        "Id": "", "Name": name, "Properties": {"Octopus.Action.TargetRoles": "web"},
        "Actions": [{"Id": "", "Name": name, "ActionType": "Octopus.Script",
                     "Packages": [{"Id": "", "Name": "", "PackageId": "App", "FeedId": "Feeds-1", "AcquisitionLocation": "Server", "Properties": {}}],
                     "Properties": {"Octopus.Action.Script.ScriptBody": "echo hi"}}]
    })
}

#[tokio::test]
async fn process_put_assigns_ids_and_bumps_the_version() {
    let (_s, api) = start(Seed::Empty).await;
    let pid = new_project(&api).await;
    let path = format!("Spaces-1/projects/{pid}/deploymentprocesses");
    let mut process = api.ok(&path).await;
    assert_eq!(process["Version"], 0);
    process["Steps"] = json!([script_step("Say Hello")]);
    let saved = api.put(&path, process.clone()).await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    let step = &saved.body["Steps"][0];
    assert_eq!(step["Id"].as_str().unwrap().len(), 36);
    assert_eq!(step["Slug"], "say-hello");
    let action = &step["Actions"][0];
    assert_eq!(action["Id"].as_str().unwrap().len(), 36);
    assert_eq!(action["Packages"][0]["Id"].as_str().unwrap().len(), 36);
    assert_eq!(action["Environments"], json!([]));
    assert_eq!(saved.body["Version"], 1);
    assert_eq!(api.ok(&path).await, saved.body);

    // Ids survive a round trip; the version keeps counting.
    let again = api.put(&path, saved.body.clone()).await;
    assert_eq!(again.body["Steps"][0]["Id"], step["Id"]);
    assert_eq!(again.body["Version"], 2);
}

#[tokio::test]
async fn a_stale_process_version_is_refused() {
    let (_s, api) = start(Seed::DevTest).await;
    let project = api.named("projects", "OctoFX").await;
    let path = format!(
        "Spaces-1/deploymentprocesses/{}",
        project["DeploymentProcessId"].as_str().unwrap()
    );
    let read = api.ok(&path).await;
    let first = api.put(&path, read.clone()).await;
    assert_eq!(first.status, 200);
    let stale = api.put(&path, read).await;
    assert_eq!(stale.status, 400);
    assert!(
        stale.body["ErrorMessage"]
            .as_str()
            .unwrap()
            .contains("another user has made changes"),
        "{}",
        stale.body
    );
}

#[tokio::test]
async fn process_rules() {
    let (_s, api) = start(Seed::Empty).await;
    let pid = new_project(&api).await;
    let path = format!("Spaces-1/projects/{pid}/deploymentprocesses");
    let mut process = api.ok(&path).await;
    let mut step = script_step("Run");
    step["Actions"][0]["Properties"]["Octopus.Action.Script.ScriptFilename"] = Value::Null;
    process["Steps"] = json!([step]);
    let refused = api.put(&path, process.clone()).await;
    assert_eq!(refused.status, 400);
    assert!(refused.body["Errors"][0]
        .as_str()
        .unwrap()
        .contains("ScriptFilename"));
    process["Steps"] = json!([script_step("Twice"), script_step("twice")]);
    let dup = api.put(&path, process).await;
    assert_eq!(dup.status, 400);
    assert!(dup.body["Errors"].to_string().contains("unique"));
}

async fn project_variables(api: &Api) -> (String, Value) {
    let pid = new_project(api).await;
    let path = format!("Spaces-1/projects/{pid}/variables");
    let set = api.ok(&path).await;
    (path, set)
}

fn find<'a>(set: &'a Value, name: &str) -> &'a Value {
    set["Variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["Name"] == name)
        .unwrap()
}

fn secret(server: &FakeServer, set: &Value, name: &str) -> Option<String> {
    let var = find(set, name);
    server.variable_secret(set["Id"].as_str().unwrap(), var["Id"].as_str().unwrap())
}

#[tokio::test]
async fn sensitive_variables_keep_replace_and_wipe_their_secret() {
    let (server, api) = start(Seed::Empty).await;
    let (path, mut set) = project_variables(&api).await;
    set["Variables"] = json!([
        {"Name": "Db.Password", "Value": "hunter2", "Type": "Sensitive", "IsSensitive": true},
        {"Name": "Plain", "Value": "visible"}
    ]);
    let saved = api.put(&path, set).await.body;
    let pw = find(&saved, "Db.Password");
    assert_eq!(pw["Value"], Value::Null);
    assert_eq!(pw["IsSensitive"], true);
    assert_eq!(find(&saved, "Plain")["Value"], "visible");
    assert_eq!(
        secret(&server, &saved, "Db.Password").as_deref(),
        Some("hunter2")
    );
    assert!(!api.ok(&path).await.to_string().contains("hunter2"));

    // Same Id, Value null: kept. Same Id, Value "": kept.
    let kept = api.put(&path, saved.clone()).await.body;
    assert_eq!(
        secret(&server, &kept, "Db.Password").as_deref(),
        Some("hunter2")
    );
    let mut empty = kept.clone();
    empty["Variables"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|v| v["Name"] == "Db.Password")
        .unwrap()["Value"] = json!("");
    let kept = api.put(&path, empty).await.body;
    assert_eq!(
        secret(&server, &kept, "Db.Password").as_deref(),
        Some("hunter2")
    );

    // A string replaces it.
    let mut replace = kept.clone();
    replace["Variables"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|v| v["Name"] == "Db.Password")
        .unwrap()["Value"] = json!("correct horse");
    let replaced = api.put(&path, replace).await.body;
    assert_eq!(
        secret(&server, &replaced, "Db.Password").as_deref(),
        Some("correct horse")
    );

    // Without its Id, an empty value wipes it.
    let mut wipe = replaced.clone();
    let var = wipe["Variables"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|v| v["Name"] == "Db.Password")
        .unwrap();
    var.as_object_mut().unwrap().remove("Id");
    let wiped = api.put(&path, wipe).await.body;
    assert_ne!(
        find(&wiped, "Db.Password")["Id"],
        find(&replaced, "Db.Password")["Id"]
    );
    assert_eq!(secret(&server, &wiped, "Db.Password"), None);
}

#[tokio::test]
async fn variable_set_rules_and_concurrency() {
    let (_s, api) = start(Seed::Empty).await;
    let (path, set) = project_variables(&api).await;
    let mut dup = set.clone();
    dup["Variables"] = json!([{"Id": "same", "Name": "A", "Value": "1"}, {"Id": "same", "Name": "B", "Value": "2"}]);
    let refused = api.put(&path, dup).await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.body["Errors"],
        json!(["Variable ids must be unique."])
    );
    let mut prompt = set.clone();
    prompt["Variables"] = json!([{"Name": "Ask", "Value": "", "Scope": {"Role": ["web"]}, "Prompt": {"Label": "Ask", "Required": true}}]);
    let refused = api.put(&path, prompt).await;
    assert_eq!(
        refused.body["Errors"],
        json!(["Prompted variables cannot be scoped to anything except an environment."])
    );

    let mut ok = set.clone();
    ok["Variables"] = json!([{"Name": "A", "Value": "1"}]);
    let saved = api.put(&path, ok.clone()).await;
    assert_eq!(saved.status, 200);
    assert_eq!(saved.body["Version"], 1);
    let stale = api.put(&path, ok).await;
    assert_eq!(stale.status, 400);
    assert!(stale.body["ErrorMessage"]
        .as_str()
        .unwrap()
        .contains("another user has made changes"));
}

#[tokio::test]
async fn variable_sets_carry_scope_values_and_come_in_bulk() {
    let (_s, api) = start(Seed::DevTest).await;
    let project = api.named("projects", "OctoFX").await;
    let set = api
        .ok(&format!(
            "Spaces-1/projects/{}/variables",
            project["Id"].as_str().unwrap()
        ))
        .await;
    let values = &set["ScopeValues"];
    let env_names: Vec<_> = values["Environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Name"].as_str().unwrap())
        .collect();
    assert_eq!(env_names, ["Development", "Test"]);
    let channels: Vec<_> = values["Channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Name"].as_str().unwrap())
        .collect();
    assert_eq!(channels, ["Default", "QA"]);
    assert!(values["Actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["Name"] == "Run QA Smoke Tests"));
    assert!(values["Roles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["Id"] == "Oracle"));
    assert_eq!(values["Processes"].as_array().unwrap().len(), 2);
    let all = api.ok("Spaces-1/variables/all").await;
    assert_eq!(
        all.as_array().unwrap().len(),
        3,
        "project, Global and the script module"
    );
    let some = api
        .ok(&format!(
            "Spaces-1/variables/all?ids={}",
            set["Id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(some[0]["Id"], set["Id"]);
    // ScopeValues are read-only: sending them back does not store them.
    let saved = api
        .put(
            &format!("Spaces-1/variables/{}", set["Id"].as_str().unwrap()),
            set.clone(),
        )
        .await;
    assert_eq!(saved.status, 200);
}

#[tokio::test]
async fn sensitive_value_objects_set_keep_and_clear_secrets() {
    let (server, api) = start(Seed::Empty).await;
    let account = api
        .created(
            "Spaces-1/accounts",
            json!({
                "Name": "AWS", "AccountType": "AmazonWebServicesAccount", "AccessKey": "AKIA",
                "SecretKey": {"HasValue": true, "NewValue": "s3cr3t"}
            }),
        )
        .await;
    let id = account["Id"].as_str().unwrap().to_owned();
    assert_eq!(
        account["SecretKey"],
        json!({"HasValue": true, "NewValue": null, "Hint": null})
    );
    assert_eq!(
        server.sensitive_value(&id, "SecretKey").as_deref(),
        Some("s3cr3t")
    );
    let kept = api
        .put(&format!("Spaces-1/accounts/{id}"), account.clone())
        .await
        .body;
    assert_eq!(kept["SecretKey"]["HasValue"], true);
    assert_eq!(
        server.sensitive_value(&id, "SecretKey").as_deref(),
        Some("s3cr3t")
    );
    let mut clear = kept.clone();
    clear["SecretKey"] = json!({"HasValue": false, "NewValue": null});
    let cleared = api
        .put(&format!("Spaces-1/accounts/{id}"), clear)
        .await
        .body;
    assert_eq!(cleared["SecretKey"]["HasValue"], false);
    assert_eq!(server.sensitive_value(&id, "SecretKey"), None);
}

#[tokio::test]
async fn deployment_settings_are_the_projects_own_fields() {
    let (_s, api) = start(Seed::DevTest).await;
    let project = api.named("projects", "OctoFX").await;
    let id = project["Id"].as_str().unwrap().to_owned();
    let path = format!("Spaces-1/projects/{id}/deploymentsettings");
    let mut settings = api.ok(&path).await;
    assert_eq!(settings["ProjectId"], id.as_str());
    assert_eq!(settings["Id"], format!("deploymentsettings-{id}"));
    assert_eq!(
        settings["ConnectivityPolicy"],
        project["ProjectConnectivityPolicy"]
    );
    settings["ReleaseNotesTemplate"] = json!("Release #{Octopus.Release.Number}");
    settings["DefaultGuidedFailureMode"] = json!("On");
    let saved = api.put(&path, settings).await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert_eq!(
        saved.body["ReleaseNotesTemplate"],
        "Release #{Octopus.Release.Number}"
    );
    let project = api.ok(&format!("Spaces-1/projects/{id}")).await;
    assert_eq!(
        project["ReleaseNotesTemplate"],
        "Release #{Octopus.Release.Number}"
    );
    assert_eq!(project["DefaultGuidedFailureMode"], "On");
}

#[tokio::test]
async fn a_version_controlled_project_is_read_at_a_git_ref() {
    let mut snapshot = octopus_fake::Seed::DevTest
        .snapshot()
        .unwrap()
        .expect("a shipped seed");
    for project in snapshot.spaces[0].collection_mut("projects").iter_mut() {
        if project["Name"] == "OctoFX" {
            project["IsVersionControlled"] = json!(true);
            project["PersistenceSettings"] = json!({"Type": "VersionControlled",
                "Url": "https://example.com/octofx.git", "DefaultBranch": "main", "BasePath": ".octopus"});
        }
    }
    let (_s, api) =
        common::start_with(octopus_fake::FakeConfig::seeded(Seed::Snapshot(snapshot))).await;
    let project = api.named("projects", "OctoFX").await;
    let id = project["Id"].as_str().unwrap().to_owned();
    let at_ref = |child: &str| format!("Spaces-1/projects/{id}/refs%2Fheads%2Fmain/{child}");
    let process = api.ok(&at_ref("deploymentprocesses")).await;
    assert_eq!(process["Id"], project["DeploymentProcessId"]);
    let all_vars = api.ok(&format!("Spaces-1/projects/{id}/variables")).await;
    let git_vars = api.ok(&at_ref("variables")).await;
    let sensitive = |set: &Value| {
        set["Variables"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["IsSensitive"] == true)
            .count()
    };
    assert!(sensitive(&all_vars) > 0, "the example has a secret");
    assert_eq!(sensitive(&git_vars), 0);
    assert_eq!(
        git_vars["Variables"].as_array().unwrap().len(),
        all_vars["Variables"].as_array().unwrap().len() - sensitive(&all_vars)
    );
    assert!(!api.ok(&at_ref("runbooks")).await["Items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        api.ok(&at_ref("deploymentsettings")).await["ProjectId"],
        id.as_str()
    );

    // A project kept in the database has no git refs.
    let other = new_project(&api).await;
    let refused = api
        .get(&format!(
            "Spaces-1/projects/{other}/main/deploymentprocesses"
        ))
        .await;
    assert_eq!(refused.status, 400);
}
