//! The "bench-M" space: per project a 5-step deployment process, 40 variables and 3
//! runbooks; 10 library variable sets, 5 script modules, 10 step templates and 20
//! tenants; 6 environments on the source and 3 on the destination.
//!
//! Both sides are hand-made snapshots (no feeds), so the fake adds the built-ins of a
//! new space (default lifecycle, project group, worker pool, machine policy, built-in
//! feed) to each, with ids of its own.

use octopus_fake::{Snapshot, SpaceSnapshot};
use serde_json::{json, Value};

/// The shape of a bench-M space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Projects (P).
    pub projects: usize,
    /// Steps per deployment process.
    pub steps: usize,
    /// Variables per project.
    pub variables: usize,
    /// Runbooks per project (R).
    pub runbooks: usize,
    /// Library variable sets of variables (L).
    pub library_variable_sets: usize,
    /// Script modules (S).
    pub script_modules: usize,
    /// Step templates.
    pub step_templates: usize,
    /// Tenants (T).
    pub tenants: usize,
}

impl Shape {
    /// bench-M with `projects` projects.
    pub fn bench_m(projects: usize) -> Self {
        Shape {
            projects,
            steps: 5,
            variables: 40,
            runbooks: 3,
            library_variable_sets: 10,
            script_modules: 5,
            step_templates: 10,
            tenants: 20,
        }
    }
}

/// The source's environments; the destination has the last three.
pub const SOURCE_ENVIRONMENTS: [&str; 6] =
    ["Development", "Test", "QA", "Staging", "Production", "DR"];

fn guid(kind: u64, n: usize) -> String {
    format!("{kind:08x}-0000-4000-8000-{n:012}")
}

fn environments(names: &[&str], first_id: usize) -> Vec<Value> {
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            json!({"Id": format!("Environments-{}", first_id + i), "Name": name, "SortOrder": i,
                   "UseGuidedFailure": false, "AllowDynamicInfrastructure": false, "ExtensionSettings": []})
        })
        .collect()
}

/// The name of project `p`.
pub fn project_name(p: usize) -> String {
    format!("Service {p:04}")
}

fn script_action(name: &str, body: &str, environments: Vec<String>) -> Value {
    json!({
        "Name": name, "ActionType": "Octopus.Script", "Environments": environments,
        "ExcludedEnvironments": [], "Channels": [], "TenantTags": [], "Packages": [],
        "IsDisabled": false, "IsRequired": false,
        "Properties": {"Octopus.Action.RunOnServer": "true", "Octopus.Action.Script.ScriptSource": "Inline",
                       "Octopus.Action.Script.Syntax": "Bash", "Octopus.Action.Script.ScriptBody": body}
    })
}

/// A step of one action, with the slugs a 2024 server gives both.
fn step(id: String, action_id: String, mut action: Value) -> Value {
    let name = action["Name"].as_str().unwrap_or_default().to_owned();
    let slug = octopus_model::shims::slugify(&name);
    action["Id"] = json!(action_id);
    action["Slug"] = json!(slug);
    json!({"Id": id, "Name": name, "Slug": slug, "Condition": "Success", "StartTrigger": "StartAfterPrevious",
           "PackageRequirement": "LetOctopusDecide", "Properties": {}, "Actions": [action]})
}

/// The source space of `shape`.
pub fn source(shape: &Shape) -> Snapshot {
    let mut space = SpaceSnapshot::new("Default");
    let env_ids: Vec<String> = (1..=SOURCE_ENVIRONMENTS.len())
        .map(|i| format!("Environments-{i}"))
        .collect();
    *space.collection_mut("environments") = environments(&SOURCE_ENVIRONMENTS, 1);
    *space.collection_mut("lifecycles") = vec![json!({
        "Id": "Lifecycles-100", "Name": "Bench Lifecycle", "Description": "",
        "Phases": [{"Id": guid(1, 1), "Name": "Everywhere", "AutomaticDeploymentTargets": [],
                    "OptionalDeploymentTargets": [], "MinimumEnvironmentsBeforePromotion": 0, "IsOptionalPhase": false}],
        "ReleaseRetentionPolicy": {"Unit": "Days", "QuantityToKeep": 30, "ShouldKeepForever": false},
        "TentacleRetentionPolicy": {"Unit": "Days", "QuantityToKeep": 30, "ShouldKeepForever": false}
    })];
    *space.collection_mut("projectgroups") = vec![json!({
        "Id": "ProjectGroups-100", "Name": "Bench Services", "Description": "", "EnvironmentIds": []
    })];
    *space.collection_mut("tagsets") = vec![json!({
        "Id": "TagSets-1", "Name": "Tier", "Description": "", "SortOrder": 0,
        "Tags": [{"Id": "TagSets-1-1", "Name": "Gold", "CanonicalTagName": "Tier/Gold", "Color": "#FFD700", "Description": "", "SortOrder": 0},
                 {"Id": "TagSets-1-2", "Name": "Silver", "CanonicalTagName": "Tier/Silver", "Color": "#C0C0C0", "Description": "", "SortOrder": 1}]
    })];

    let mut lvs = Vec::new();
    let mut variable_sets = Vec::new();
    for l in 0..shape.library_variable_sets {
        let id = format!("LibraryVariableSets-{}", l + 1);
        lvs.push(json!({"Id": id, "Name": format!("Shared {l:02}"), "Description": "", "ContentType": "Variables",
                        "VariableSetId": format!("variableset-{id}"), "Templates": []}));
        let vars: Vec<Value> = (0..10)
            .map(|v| {
                json!({"Id": guid(2, l * 100 + v), "Name": format!("Shared{l:02}.Setting{v}"),
                       "Value": format!("shared-{l}-{v}"), "Type": "String", "IsSensitive": false,
                       "IsEditable": true, "Description": null, "Prompt": null, "Scope": {}})
            })
            .collect();
        variable_sets.push(
            json!({"Id": format!("variableset-{id}"), "OwnerId": id, "Version": 1, "Variables": vars}),
        );
    }
    for s in 0..shape.script_modules {
        let id = format!("LibraryVariableSets-{}", 100 + s);
        let name = format!("Module {s}");
        lvs.push(
            json!({"Id": id, "Name": name, "Description": "", "ContentType": "ScriptModule",
                        "VariableSetId": format!("variableset-{id}"), "Templates": []}),
        );
        variable_sets.push(json!({"Id": format!("variableset-{id}"), "OwnerId": id, "Version": 1, "Variables": [
            {"Id": guid(3, s * 2), "Name": format!("Octopus.Script.Module[{name}]"), "Value": format!("function Use-Module{s} {{ }}"),
             "Type": "String", "IsSensitive": false, "IsEditable": true, "Scope": {}},
            {"Id": guid(3, s * 2 + 1), "Name": format!("Octopus.Script.Module.Language[{name}]"), "Value": "PowerShell",
             "Type": "String", "IsSensitive": false, "IsEditable": true, "Scope": {}}
        ]}));
    }
    *space.collection_mut("actiontemplates") = (0..shape.step_templates)
        .map(|t| {
            json!({"Id": format!("ActionTemplates-{}", t + 1), "Name": format!("Template {t:02}"), "Description": "",
                   "ActionType": "Octopus.Script", "Version": 1, "CommunityActionTemplateId": null, "Packages": [],
                   "Properties": {"Octopus.Action.Script.ScriptSource": "Inline", "Octopus.Action.Script.Syntax": "Bash",
                                  "Octopus.Action.Script.ScriptBody": format!("echo template {t}")},
                   "Parameters": [{"Id": guid(4, t), "Name": format!("Template{t}.Message"), "Label": "Message",
                                   "HelpText": "", "DefaultValue": "", "DisplaySettings": {"Octopus.ControlType": "SingleLineText"}}]})
        })
        .collect();

    let mut projects = Vec::new();
    let mut channels = Vec::new();
    let mut processes = Vec::new();
    let mut runbooks = Vec::new();
    let mut runbook_processes = Vec::new();
    let mut n = 0usize;
    let mut next = || {
        n += 1;
        n
    };
    for p in 0..shape.projects {
        let pid = format!("Projects-{}", p + 1);
        projects.push(json!({
            "Id": pid, "Name": project_name(p), "Description": format!("Bench service {p}"),
            "ProjectGroupId": "ProjectGroups-100", "LifecycleId": "Lifecycles-100",
            "IncludedLibraryVariableSetIds": [format!("LibraryVariableSets-{}", p % shape.library_variable_sets.max(1) + 1),
                                              format!("LibraryVariableSets-{}", 100 + p % shape.script_modules.max(1))],
            "TenantedDeploymentMode": "TenantedOrUntenanted", "Templates": [], "IsDisabled": false,
            "DefaultGuidedFailureMode": "EnvironmentDefault", "DiscreteChannelRelease": false,
            "AutoCreateRelease": false, "DefaultToSkipIfAlreadyInstalled": false,
            "DeploymentProcessId": format!("deploymentprocess-{pid}"), "VariableSetId": format!("variableset-{pid}"),
            "SpaceId": "Spaces-1"
        }));
        channels.push(json!({"Id": format!("Channels-{}", p + 1), "Name": "Default", "Description": "",
                             "ProjectId": pid, "LifecycleId": null, "IsDefault": true, "Rules": [], "TenantTags": []}));
        let steps: Vec<Value> = (0..shape.steps)
            .map(|s| {
                let envs = match s % 3 {
                    0 => vec![],
                    1 => vec![env_ids[3].clone(), env_ids[4].clone()],
                    _ => vec![env_ids[0].clone(), env_ids[4].clone()],
                };
                step(
                    guid(5, next()),
                    guid(5, next()),
                    script_action(&format!("Step {s}"), &format!("deploy {p} {s}"), envs),
                )
            })
            .collect();
        processes.push(json!({"Id": format!("deploymentprocess-{pid}"), "ProjectId": pid, "Version": 1, "Steps": steps}));
        for r in 0..shape.runbooks {
            let rid = format!("Runbooks-{}", p * shape.runbooks + r + 1);
            runbooks.push(json!({"Id": rid, "Name": format!("Runbook {r}"), "Description": "", "ProjectId": pid,
                                 "RunbookProcessId": format!("RunbookProcess-{rid}"), "EnvironmentScope": "All",
                                 "Environments": [], "MultiTenancyMode": "Untenanted",
                                 "DefaultGuidedFailureMode": "EnvironmentDefault"}));
            runbook_processes.push(json!({"Id": format!("RunbookProcess-{rid}"), "RunbookId": rid, "ProjectId": pid,
                "Version": 1, "Steps": [step(guid(6, next()), guid(6, next()), script_action("Run", &format!("run {r}"), vec![]))]}));
        }
        let vars: Vec<Value> = (0..shape.variables)
            .map(|v| {
                let scope = match v % 4 {
                    0 | 1 => json!({}),
                    2 => json!({"Environment": [env_ids[3]]}),
                    _ => json!({"Environment": [env_ids[4], env_ids[5]]}),
                };
                json!({"Id": guid(7, next()), "Name": format!("App.Setting{:02}", v / 2), "Value": format!("value-{p}-{v}"),
                       "Type": "String", "IsSensitive": false, "IsEditable": true, "Description": null, "Prompt": null,
                       "Scope": scope})
            })
            .collect();
        variable_sets.push(
            json!({"Id": format!("variableset-{pid}"), "OwnerId": pid, "Version": 1, "Variables": vars}),
        );
    }
    let tenants: Vec<Value> = (0..shape.tenants)
        .map(|t| {
            // Each tenant is connected to a handful of projects in Staging and Production.
            let mut links = serde_json::Map::new();
            for k in 0..5.min(shape.projects) {
                let p = (t * 5 + k) % shape.projects;
                links.insert(
                    format!("Projects-{}", p + 1),
                    json!([env_ids[3], env_ids[4]]),
                );
            }
            json!({"Id": format!("Tenants-{}", t + 1), "Name": format!("Customer {t:02}"), "Description": "",
                   "TenantTags": [if t % 2 == 0 { "Tier/Gold" } else { "Tier/Silver" }],
                   "ProjectEnvironments": links})
        })
        .collect();
    *space.collection_mut("libraryvariablesets") = lvs;
    *space.collection_mut("projects") = projects;
    *space.collection_mut("channels") = channels;
    *space.collection_mut("deploymentprocesses") = processes;
    *space.collection_mut("runbooks") = runbooks;
    *space.collection_mut("runbookprocesses") = runbook_processes;
    *space.collection_mut("variables") = variable_sets;
    *space.collection_mut("tenants") = tenants;
    Snapshot {
        spaces: vec![space],
    }
}

/// The destination space: three environments of the source's six, nothing else.
pub fn destination() -> Snapshot {
    let mut space = SpaceSnapshot::new("Default");
    *space.collection_mut("environments") = environments(&SOURCE_ENVIRONMENTS[3..], 1);
    Snapshot {
        spaces: vec![space],
    }
}

/// The rules of the bench: everything of bench-M follows the source; each instance
/// keeps its own environments.
pub const RULES: &str = r#"
[select]
environments = []
project_groups = ["all"]
projects = ["all"]
channels = ["all"]
runbooks = ["all"]
lifecycles = ["all"]
library_variable_sets = ["all"]
script_modules = ["all"]
step_templates = ["all"]
tenant_tags = ["all"]
tenants = ["all"]
feeds = ["all"]
accounts = ["all"]
worker_pools = ["all"]
[policy]
sync_tenant_variables = true
# The source is the truth for variable values too, so a changed value is synced.
overwrite_existing_variables = "always"
[environment_map]
Development = []
Test = []
QA = []
"#;
