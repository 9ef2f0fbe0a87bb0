//! End-to-end: a destination that has its own process, against two `octopus-fake`
//! instances over HTTP. After a first sync, the destination's owner adds a sign-off step
//! and a variable scoped to an action; the source renames a step, adds text that looks
//! like an id and a new secret to an existing action, and changes the step template a
//! step is based on. One plan and one apply
//! later, the destination is read back through the API: its step stays where it was put,
//! the renamed step kept its action ids (so the variable still applies), the text was
//! copied, the action names the template version the server gave, and a new plan has
//! nothing to write for processes or step templates.

mod common;

use common::{by_name, client, demo_destination, run_once};
use octopus_client::{OctopusHttpClient, OctopusRead, OctopusWrite};
use octopus_fake::{FakeConfig, FakeServer, Seed};
use octopus_model::ResourceKind;
use octosync::apply::{apply_plan, ApplyOptions};
use octosync::config::SyncConfig;
use octosync::demo::DEMO_CONFIG;
use octosync::runner::{plan_destination, Mode};
use serde_json::{json, Value};
use sync_core::OpAction;

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

/// The OctoFX variable set of an instance, and its id.
async fn variables(c: &OctopusHttpClient) -> (String, Value) {
    let project = by_name(c, ResourceKind::Project, "OctoFX").await;
    let id = project["VariableSetId"].as_str().unwrap().to_owned();
    let doc = c.get_raw(ResourceKind::VariableSet, &id).await.unwrap();
    (id, doc)
}

fn steps(process: &Value) -> &Vec<Value> {
    process["Steps"].as_array().unwrap()
}

fn step_names(process: &Value) -> Vec<String> {
    steps(process)
        .iter()
        .map(|s| s["Name"].as_str().unwrap().to_owned())
        .collect()
}

fn action<'a>(process: &'a Value, name: &str) -> &'a Value {
    steps(process)
        .iter()
        .flat_map(|s| s["Actions"].as_array().unwrap())
        .find(|a| a["Name"] == name)
        .unwrap_or_else(|| panic!("no action {name:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_with_its_own_steps_keeps_them_and_its_ids_after_one_apply() {
    let src = FakeServer::start(FakeConfig::seeded(Seed::DevTest))
        .await
        .unwrap();
    let dst = FakeServer::start(FakeConfig::seeded(Seed::StagingProduction))
        .await
        .unwrap();
    let (source, destination) = (client(&src), client(&dst));
    let config = SyncConfig::parse(DEMO_CONFIG, "demo/sync.toml").unwrap();
    let dest = demo_destination(&destination, config.destinations[0].rules.clone());
    // The first sync creates OctoFX on the destination.
    let first = run_once(&source, &dest, &Mode::Apply(ApplyOptions::default())).await;
    assert!(first.applied.as_ref().unwrap().is_success());

    // The destination's owner puts a sign-off step after "Deploy Database" and scopes a
    // variable to the web app's action.
    let (dest_process_id, mut dest_process) = process(&destination).await;
    let web_action_id = action(&dest_process, "Deploy Web App")["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sign_off = json!({"Name": "Change board sign-off", "Actions": [{
        "Name": "Change board sign-off", "ActionType": "Octopus.Manual",
        "Properties": {"Octopus.Action.Manual.Instructions": "Wait for the change board",
                       "Octopus.Action.Manual.ResponsibleTeamIds": "teams-managers"}}]});
    dest_process["Steps"]
        .as_array_mut()
        .unwrap()
        .insert(1, sign_off);
    destination
        .update(
            ResourceKind::DeploymentProcess,
            &dest_process_id,
            dest_process,
        )
        .await
        .unwrap();
    let (set_id, mut set) = variables(&destination).await;
    set["Variables"].as_array_mut().unwrap().push(json!({
        "Name": "WebApp.Pool", "Value": "staging-pool", "Type": "String",
        "Scope": {"Action": [web_action_id.clone()]}}));
    destination
        .update(ResourceKind::VariableSet, &set_id, set)
        .await
        .unwrap();

    // The source renames "Deploy Web App" (the step) to "Release web", adds text that
    // looks like an id, and changes the step template "Notify Team" is based on.
    let (source_process_id, mut source_process) = process(&source).await;
    for step in source_process["Steps"].as_array_mut().unwrap() {
        if step["Name"] == "Deploy Web App" {
            step["Name"] = json!("Release web");
        }
        if step["Name"] == "Run QA Smoke Tests" {
            let props = &mut step["Actions"][0]["Properties"];
            props["Octopus.Action.IISWebSite.ApplicationPoolName"] = json!("Shop-3");
            props["Smoke.ApiKey"] = json!({"HasValue": true, "NewValue": "source-only-secret"});
        }
    }
    source
        .update(
            ResourceKind::DeploymentProcess,
            &source_process_id,
            source_process,
        )
        .await
        .unwrap();
    let mut template = by_name(&source, ResourceKind::ActionTemplate, "Notify Team").await;
    let template_id = template["Id"].as_str().unwrap().to_owned();
    template["Description"] = json!("Tells the team, now with the release number");
    source
        .update(ResourceKind::ActionTemplate, &template_id, template)
        .await
        .unwrap();

    // One plan, one apply (no second pass).
    let kinds = octosync::load::kinds_to_read(&dest.rules);
    let source_snapshot = octosync::load::load_snapshot(&source, "dev-test", "Default", &kinds)
        .await
        .unwrap();
    let plan = plan_destination(&source_snapshot, &dest).await.unwrap();
    let process_op = plan
        .find(ResourceKind::DeploymentProcess, "OctoFX")
        .unwrap();
    assert!(
        process_op
            .reason
            .contains("renamed step \"Deploy Web App\" → \"Release web\""),
        "{}",
        process_op.reason
    );
    assert!(plan
        .cleanup
        .iter()
        .any(|c| c.category == sync_core::CleanupCategory::DummySecret
            && c.message.contains("Smoke.ApiKey")));
    assert!(!serde_json::to_string(&plan)
        .unwrap()
        .contains("source-only-secret"));
    let applied = apply_plan(&destination, &plan, &ApplyOptions::default()).await;
    assert!(applied.is_success(), "{applied}");

    // Read back what a person relies on.
    let (_, after) = process(&destination).await;
    assert_eq!(
        step_names(&after),
        [
            "Deploy Database",
            "Change board sign-off",
            "Release web",
            "QA Approval",
            "Run QA Smoke Tests",
            "Notify Team"
        ]
    );
    assert_eq!(
        action(&after, "Deploy Web App")["Id"],
        web_action_id.as_str()
    );
    let (_, set) = variables(&destination).await;
    let live: Vec<&str> = steps(&after)
        .iter()
        .flat_map(|s| s["Actions"].as_array().unwrap())
        .map(|a| a["Id"].as_str().unwrap())
        .collect();
    for v in set["Variables"].as_array().unwrap() {
        for id in v["Scope"]["Action"].as_array().into_iter().flatten() {
            assert!(
                live.contains(&id.as_str().unwrap()),
                "variable {} is scoped to {id}, which is no action",
                v["Name"]
            );
        }
    }
    assert_eq!(
        action(&after, "Run QA Smoke Tests")["Properties"]
            ["Octopus.Action.IISWebSite.ApplicationPoolName"],
        "Shop-3"
    );
    // The new secret on an existing action holds a value (the placeholder).
    assert_eq!(
        action(&after, "Run QA Smoke Tests")["Properties"]["Smoke.ApiKey"]["HasValue"],
        true
    );
    let dest_template = by_name(&destination, ResourceKind::ActionTemplate, "Notify Team").await;
    assert_eq!(
        action(&after, "Notify Team")["Properties"]["Octopus.Action.Template.Id"],
        dest_template["Id"]
    );
    assert_eq!(
        action(&after, "Notify Team")["Properties"]["Octopus.Action.Template.Version"],
        dest_template["Version"].to_string().as_str()
    );

    // Nothing is left to do for processes and step templates.
    let again = plan_destination(&source_snapshot, &dest).await.unwrap();
    let left: Vec<String> = again
        .ops()
        .filter(|o| {
            matches!(
                o.item.kind,
                ResourceKind::DeploymentProcess
                    | ResourceKind::RunbookProcess
                    | ResourceKind::ActionTemplate
            ) && matches!(o.action(), OpAction::Create | OpAction::Update)
        })
        .map(|o| format!("{:?} {} {:?}", o.action(), o.item, o.diff()))
        .collect();
    assert!(left.is_empty(), "{left:#?}");
    src.stop().await;
    assert_eq!(dst.integrity(), Vec::new(), "no dangling reference");
    dst.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_source_only_a_renamed_step_keeps_its_ids_and_no_variable_dangles() {
    let src = FakeServer::start(FakeConfig::seeded(Seed::DevTest))
        .await
        .unwrap();
    let dst = FakeServer::start(FakeConfig::seeded(Seed::StagingProduction))
        .await
        .unwrap();
    let (source, destination) = (client(&src), client(&dst));
    let config = SyncConfig::parse(DEMO_CONFIG, "demo/sync.toml").unwrap();
    let mut dest = demo_destination(&destination, config.destinations[0].rules.clone());
    let first = run_once(&source, &dest, &Mode::Apply(ApplyOptions::default())).await;
    assert!(first.applied.as_ref().unwrap().is_success());

    // The destination's own step, and variables scoped to it and to the web app.
    let (dest_process_id, mut dest_process) = process(&destination).await;
    dest_process["Steps"].as_array_mut().unwrap().push(json!({
        "Name": "Page on-call", "Actions": [{"Name": "Page on-call", "ActionType": "Octopus.Script",
        "Properties": {"Octopus.Action.Script.ScriptBody": "page"}}]}));
    destination
        .update(
            ResourceKind::DeploymentProcess,
            &dest_process_id,
            dest_process,
        )
        .await
        .unwrap();
    let (_, dest_process) = process(&destination).await;
    let web = action(&dest_process, "Deploy Web App")["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = action(&dest_process, "Page on-call")["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (set_id, mut set) = variables(&destination).await;
    let vars = set["Variables"].as_array_mut().unwrap();
    vars.push(
        json!({"Name": "Pager.Url", "Value": "https://pager", "Type": "String",
                     "Scope": {"Action": [page.clone()]}}),
    );
    vars.push(
        json!({"Name": "Web.Pool", "Value": "pool", "Type": "String",
                     "Scope": {"Action": [web.clone(), page.clone()]}}),
    );
    destination
        .update(ResourceKind::VariableSet, &set_id, set)
        .await
        .unwrap();

    // The source renames the web app's step.
    let (source_process_id, mut source_process) = process(&source).await;
    for step in source_process["Steps"].as_array_mut().unwrap() {
        if step["Name"] == "Deploy Web App" {
            step["Name"] = json!("Release web");
        }
    }
    source
        .update(
            ResourceKind::DeploymentProcess,
            &source_process_id,
            source_process,
        )
        .await
        .unwrap();

    dest.rules.policy.process_cloning = sync_core::rules::ProcessCloning::SourceOnly;
    let kinds = octosync::load::kinds_to_read(&dest.rules);
    let source_snapshot = octosync::load::load_snapshot(&source, "dev-test", "Default", &kinds)
        .await
        .unwrap();
    let plan = plan_destination(&source_snapshot, &dest).await.unwrap();
    let applied = apply_plan(&destination, &plan, &ApplyOptions::default()).await;
    assert!(applied.is_success(), "{applied}");

    let (_, after) = process(&destination).await;
    assert_eq!(
        step_names(&after),
        [
            "Deploy Database",
            "Release web",
            "QA Approval",
            "Run QA Smoke Tests",
            "Notify Team"
        ]
    );
    assert_eq!(action(&after, "Deploy Web App")["Id"], web.as_str());
    let (_, set) = variables(&destination).await;
    let live: Vec<&str> = steps(&after)
        .iter()
        .flat_map(|s| s["Actions"].as_array().unwrap())
        .map(|a| a["Id"].as_str().unwrap())
        .collect();
    for v in set["Variables"].as_array().unwrap() {
        for id in v["Scope"]["Action"].as_array().into_iter().flatten() {
            assert!(
                live.contains(&id.as_str().unwrap()),
                "variable {} is scoped to {id}, which is no action",
                v["Name"]
            );
        }
    }
    let web_pool = set["Variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["Name"] == "Web.Pool")
        .unwrap();
    assert_eq!(web_pool["Scope"]["Action"], json!([web]));
    assert!(!set["Variables"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["Name"] == "Pager.Url"));
    assert!(plan
        .cleanup
        .iter()
        .any(|c| c.message.contains("\"Pager.Url\"")));
    src.stop().await;
    assert_eq!(dst.integrity(), Vec::new(), "no dangling reference");
    dst.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_op_whose_reference_was_never_created_fails_with_the_ledgers_cause() {
    let src = FakeServer::start(FakeConfig::seeded(Seed::DevTest))
        .await
        .unwrap();
    let dst = FakeServer::start(FakeConfig::seeded(Seed::StagingProduction))
        .await
        .unwrap();
    let (source, destination) = (client(&src), client(&dst));
    let config = SyncConfig::parse(DEMO_CONFIG, "demo/sync.toml").unwrap();
    let dest = demo_destination(&destination, config.destinations[0].rules.clone());
    let kinds = octosync::load::kinds_to_read(&dest.rules);
    let source_snapshot = octosync::load::load_snapshot(&source, "dev-test", "Default", &kinds)
        .await
        .unwrap();
    let mut plan = plan_destination(&source_snapshot, &dest).await.unwrap();
    // Leave out the create of the project its channels and process hang on.
    for layer in &mut plan.layers {
        layer
            .ops
            .retain(|op| !(op.item.kind == ResourceKind::Project && op.item.name == "OctoFX"));
    }
    let applied = apply_plan(&destination, &plan, &ApplyOptions::default()).await;
    let failed: Vec<_> = applied
        .results
        .iter()
        .filter_map(|r| match &r.outcome {
            octosync::apply::Outcome::Failed { error } => Some(error),
            _ => None,
        })
        .collect();
    assert!(!failed.is_empty(), "{applied}");
    for error in failed {
        assert_eq!(error.message, "unresolved reference");
        assert_eq!(error.causes, ["project \"OctoFX\" was not created"]);
    }
    assert!(destination
        .list_raw(ResourceKind::Project)
        .await
        .unwrap()
        .iter()
        .all(|p| p["Name"] != "OctoFX"));
}
