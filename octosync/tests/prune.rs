//! End-to-end: `[policy] prune` with the built binary against two `octopus-fake`
//! instances. The first apply records what matches the source; someone then removes a
//! step, a runbook and a value on the source; the next plan lists exactly those
//! deletions, the apply makes them, and everything the destination had of its own is
//! still there, with every reference intact.

mod common;

use common::{client, text, Cli};

use octopus_client::{OctopusRead, OctopusWrite};
use octopus_fake::FakeServer;
use octopus_model::ResourceKind;
use serde_json::Value;

/// What the destination holds of OctoFX: step names, runbook names, variable names.
struct Holdings {
    steps: Vec<String>,
    runbooks: Vec<String>,
    variables: Vec<String>,
}

async fn octofx(server: &FakeServer) -> Holdings {
    let c = client(server);
    let project = common::by_name(&c, ResourceKind::Project, "OctoFX").await;
    let id = octopus_model::ProjectId::new(project["Id"].as_str().unwrap());
    let process = c.project_deployment_process(&id).await.unwrap();
    let mut runbooks: Vec<String> = c
        .project_runbooks(&id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    runbooks.sort();
    let mut variables: Vec<String> = c
        .project_variables(&id)
        .await
        .unwrap()
        .variables
        .iter()
        .map(|v| v.name.clone())
        .collect();
    variables.sort();
    variables.dedup();
    Holdings {
        steps: process.steps.iter().map(|s| s.name.clone()).collect(),
        runbooks,
        variables,
    }
}

/// Gives the destination's OctoFX a step, a value and a runbook of its own, the way a
/// person in the portal would.
async fn add_own_on_destination(destination: &FakeServer) -> Holdings {
    let c = client(destination);
    let project = common::by_name(&c, ResourceKind::Project, "OctoFX").await;
    let process_id = project["DeploymentProcessId"].as_str().unwrap();
    let mut process = c
        .get_raw(ResourceKind::DeploymentProcess, process_id)
        .await
        .unwrap();
    process["Steps"].as_array_mut().unwrap().push(serde_json::json!({
        "Name": "Change board sign-off",
        "Actions": [{"Name": "Change board sign-off", "ActionType": "Octopus.Manual",
                     "Properties": {"Octopus.Action.Manual.Instructions": "Wait for the board"}}]
    }));
    c.update(ResourceKind::DeploymentProcess, process_id, process)
        .await
        .unwrap();
    let set_id = project["VariableSetId"].as_str().unwrap();
    let mut set = c.get_raw(ResourceKind::VariableSet, set_id).await.unwrap();
    set["Variables"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"Name": "Local.Path", "Value": "/opt/octofx"}));
    c.update(ResourceKind::VariableSet, set_id, set)
        .await
        .unwrap();
    c.create(
        ResourceKind::Runbook,
        serde_json::json!({"Name": "Local cleanup", "ProjectId": project["Id"]}),
    )
    .await
    .unwrap();
    Holdings {
        steps: vec!["Change board sign-off".into()],
        runbooks: vec!["Local cleanup".into()],
        variables: vec!["Local.Path".into()],
    }
}

/// Removes, on the source, OctoFX's last step, its first runbook and one plain value
/// whose name has no other value; returns their names.
async fn remove_on_source(source: &FakeServer) -> (String, String, String) {
    let c = client(source);
    let project = common::by_name(&c, ResourceKind::Project, "OctoFX").await;
    let project_id = octopus_model::ProjectId::new(project["Id"].as_str().unwrap());

    let process_id = project["DeploymentProcessId"].as_str().unwrap();
    let mut process = c
        .get_raw(ResourceKind::DeploymentProcess, process_id)
        .await
        .unwrap();
    let steps = process["Steps"].as_array_mut().unwrap();
    let step = steps.pop().expect("OctoFX has steps");
    c.update(ResourceKind::DeploymentProcess, process_id, process)
        .await
        .unwrap();

    let runbook = c
        .project_runbooks(&project_id)
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("OctoFX has a runbook");
    c.delete(
        ResourceKind::Runbook,
        runbook.id.get().map(|i| i.as_str()).unwrap(),
    )
    .await
    .unwrap();

    let set_id = project["VariableSetId"].as_str().unwrap();
    let mut set = c.get_raw(ResourceKind::VariableSet, set_id).await.unwrap();
    let variables = set["Variables"].as_array_mut().unwrap();
    let count = |name: &str| variables.iter().filter(|v| v["Name"] == name).count();
    let at = variables
        .iter()
        .position(|v| {
            v["IsSensitive"] != true
                && v["Type"] != "Sensitive"
                && v["Scope"].as_object().is_none_or(|s| s.is_empty())
                && count(v["Name"].as_str().unwrap_or_default()) == 1
        })
        .expect("OctoFX has an unscoped plain value");
    let variable: Value = variables.remove(at);
    c.update(ResourceKind::VariableSet, set_id, set)
        .await
        .unwrap();
    (
        step["Name"].as_str().unwrap().to_owned(),
        runbook.name,
        variable["Name"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_source_removed_is_deleted_and_the_destinations_own_stays() {
    // Before and after the 2025 tenant-variable and retention changes, and today's.
    for version in ["2024.2.9000", "2025.2.11370", "2026.1.2000"] {
        prune_at(version).await;
    }
}

async fn prune_at(version: &str) {
    let i = Cli::start(Some(version), |c| {
        c.replace(
            "prune = []",
            r#"prune = ["steps", "variables", "runbooks", "channels"]"#,
        )
    })
    .await;
    let first = i.octosync(&["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("nothing is pruned"),
        "a first run says why nothing is pruned: {}",
        text(&first.stdout)
    );
    let state = std::fs::read_to_string(i.dir.path().join(".octosync/state.json")).unwrap();
    assert!(state.contains("\"provenance\""), "{state}");
    let synced = octofx(&i.destination).await;
    let own = add_own_on_destination(&i.destination).await;

    let (step, runbook, variable) = remove_on_source(&i.source).await;
    assert!(synced.steps.contains(&step) && !own.steps.contains(&step));
    assert!(synced.runbooks.contains(&runbook) && !own.runbooks.contains(&runbook));
    assert!(synced.variables.contains(&variable));

    let plan = i.octosync(&["plan", "-c", "CONFIG"]).await;
    let shown = text(&plan.stdout);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stderr));
    assert!(shown.contains("3 to delete"), "{shown}");
    assert!(shown.contains(&format!("- step {step:?}")), "{shown}");
    assert!(
        shown.contains(&format!("- variable {variable:?}")),
        "{shown}"
    );
    assert!(shown.contains(&format!("runbook {runbook:?}")), "{shown}");

    // Without --yes on a non-interactive terminal, nothing is deleted.
    let unasked = i.octosync(&["apply", "-c", "CONFIG"]).await;
    assert_ne!(unasked.status.code(), Some(0));
    assert!(octofx(&i.destination).await.steps.contains(&step));

    let second = i.octosync(&["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    let out = text(&second.stdout);
    assert!(out.contains("These 3 deletion(s)"), "{out}");
    assert!(
        out.contains(&format!("- deleted runbook {runbook:?}")),
        "{out}"
    );

    let after = octofx(&i.destination).await;
    assert!(!after.steps.contains(&step), "{:?}", after.steps);
    assert!(!after.runbooks.contains(&runbook), "{:?}", after.runbooks);
    assert!(
        !after.variables.contains(&variable),
        "{:?}",
        after.variables
    );
    // Everything the destination had of its own before the first sync is still there.
    for own_step in &own.steps {
        assert!(
            after.steps.contains(own_step),
            "{own_step} was the destination's"
        );
    }
    for own_runbook in &own.runbooks {
        assert!(after.runbooks.contains(own_runbook));
    }
    for own_variable in &own.variables {
        assert!(after.variables.contains(own_variable));
    }
    assert_eq!(i.destination.integrity(), Vec::new());

    let again = i
        .octosync(&["plan", "-c", "CONFIG", "--detailed-exitcode"])
        .await;
    assert_eq!(
        again.status.code(),
        Some(0),
        "nothing is left to do: {}",
        text(&again.stdout)
    );
}
