//! A generator of source/destination snapshot pairs shaped like the seeds' scenario: a
//! Dev/Test/Staging/Production source and a Staging/Production destination that already
//! holds some of the projects, with its own ids, values, secrets and extra steps.
//!
//! Source ids are numbered from 1 and destination ids from 5001, so a source id that
//! leaks into a destination body never passes for a destination id.

use serde_json::{json, Value};

use crate::snapshot::Snapshot;

/// What to generate.
#[derive(Clone, Debug)]
pub struct SpaceParams {
    /// The seed; the same parameters give the same snapshots.
    pub seed: u64,
    /// How many projects the source has.
    pub projects: usize,
    /// Out of 100, how many of them the destination already has.
    pub synced_percent: u8,
}

impl Default for SpaceParams {
    fn default() -> Self {
        Self {
            seed: 1,
            projects: 5,
            synced_percent: 50,
        }
    }
}

/// splitmix64: small, fast and deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const SOURCE_ENVS: [&str; 4] = ["Development", "Test", "Staging", "Production"];

fn env_subset(rng: &mut Rng, ids: &[String]) -> Vec<String> {
    match rng.below(4) {
        0 => Vec::new(),
        1 => vec![ids[rng.below(ids.len() as u64) as usize].clone()],
        _ => ids.iter().filter(|_| rng.chance(50)).cloned().collect(),
    }
}

fn guid(side: u64, n: u64) -> String {
    format!("{side:08}-0000-4000-8000-{n:012}")
}

/// Generates a (source, destination) pair.
pub fn generate_space(params: &SpaceParams) -> (Snapshot, Snapshot) {
    let (src, dst) = generate_collections(params);
    let version = "2024.1.0"
        .parse()
        .unwrap_or(octopus_model::OctopusVersion::new(2024, 1, 0));
    // The generator builds only shapes the model reads; an error here would be a bug in
    // the generator, so fall back to empty snapshots rather than panic.
    let source = Snapshot::from_collections(version.clone(), src).unwrap_or_default();
    let destination = Snapshot::from_collections(version, dst).unwrap_or_default();
    (source, destination)
}

/// `(collection, JSON array)` pairs, as [`Snapshot::from_collections`] takes them.
pub type Collections = Vec<(&'static str, Value)>;

/// The pair as `(collection, JSON array)` lists, as a snapshot directory holds them.
pub fn generate_collections(params: &SpaceParams) -> (Collections, Collections) {
    let mut rng = Rng(params.seed);
    let mut n = 0u64;
    let mut next = |base: u64| {
        n += 1;
        base + n
    };
    // Source scaffolding.
    let src_envs: Vec<String> = (1..=4).map(|i| format!("Environments-{i}")).collect();
    fn src(k: &'static str, v: Value) -> (&'static str, Value) {
        (k, v)
    }
    let mut s_projects = Vec::new();
    let mut s_channels = Vec::new();
    let mut s_processes = Vec::new();
    let mut s_runbooks = Vec::new();
    let mut s_runbook_processes = Vec::new();
    let mut s_variables = Vec::new();
    let mut d_projects = Vec::new();
    let mut d_channels = Vec::new();
    let mut d_processes = Vec::new();
    let mut d_variables = Vec::new();
    let mut d_runbooks = Vec::new();
    let mut d_runbook_processes = Vec::new();
    let mut tenant_links = serde_json::Map::new();

    for p in 0..params.projects {
        let pid = format!("Projects-{}", p + 1);
        let name = format!("Project {p:04}");
        let group = if rng.chance(50) {
            "ProjectGroups-1"
        } else {
            "ProjectGroups-2"
        };
        s_projects.push(json!({
            "Id": pid, "Name": name, "ProjectGroupId": group, "LifecycleId": "Lifecycles-1",
            "SpaceId": "Spaces-1", "Description": format!("Generated project {p}"),
            "IncludedLibraryVariableSetIds": ["LibraryVariableSets-1"],
            "DeploymentProcessId": format!("deploymentprocess-{pid}"),
            "VariableSetId": format!("variableset-{pid}"), "TenantedDeploymentMode": "TenantedOrUntenanted",
            "Templates": [{"Id": guid(1, next(0)), "Name": "Tenant.Url", "Label": "URL",
                           "DisplaySettings": {"Octopus.ControlType": "SingleLineText"}}]
        }));
        let default_channel = format!("Channels-{}", 2 * p + 1);
        let qa_channel = format!("Channels-{}", 2 * p + 2);
        s_channels.push(json!({"Id": default_channel, "Name": "Default", "ProjectId": pid, "IsDefault": true, "Rules": []}));
        let has_qa = rng.chance(50);
        if has_qa {
            s_channels.push(json!({"Id": qa_channel, "Name": "QA", "ProjectId": pid, "LifecycleId": "Lifecycles-2",
                                   "IsDefault": false, "Rules": [], "TenantTags": []}));
        }
        // Process.
        let mut steps = Vec::new();
        let mut action_ids = Vec::new();
        let step_count = 2 + rng.below(3);
        for s in 0..step_count {
            let aid = guid(1, next(0));
            action_ids.push(aid.clone());
            let mut channels = Vec::new();
            if has_qa && rng.chance(25) {
                channels.push(qa_channel.clone());
            }
            steps.push(json!({
                "Id": guid(1, next(0)), "Name": format!("Step {s}"), "Condition": "Success",
                "StartTrigger": "StartAfterPrevious", "PackageRequirement": "LetOctopusDecide",
                "Properties": {"Octopus.Action.TargetRoles": "web"},
                "Actions": [{
                    "Id": aid, "Name": format!("Step {s}"), "ActionType": "Octopus.Script",
                    "Environments": env_subset(&mut rng, &src_envs), "ExcludedEnvironments": [],
                    "Channels": channels, "TenantTags": [], "WorkerPoolId": "WorkerPools-2",
                    "Packages": [{"Id": guid(1, next(0)), "Name": "", "PackageId": "app", "FeedId": "Feeds-2",
                                  "AcquisitionLocation": "Server", "Properties": {}}],
                    "Properties": {"Octopus.Action.Script.ScriptBody": format!("echo {s}"),
                                   "Octopus.Action.Script.Syntax": "PowerShell"}
                }]
            }));
        }
        let manual_id = guid(1, next(0));
        steps.push(json!({
            "Id": guid(1, next(0)), "Name": "QA sign-off", "Properties": {},
            "Actions": [{"Id": manual_id, "Name": "QA sign-off", "ActionType": "Octopus.Manual",
                         "Environments": ["Environments-2"], "Channels": [], "TenantTags": [], "Packages": [],
                         "Properties": {"Octopus.Action.Manual.Instructions": "Sign off",
                                        "Octopus.Action.Manual.ResponsibleTeamIds": "Teams-1"}}]
        }));
        s_processes.push(json!({"Id": format!("deploymentprocess-{pid}"), "ProjectId": pid, "Version": 3, "Steps": steps}));
        // Runbooks.
        let runbook_count = rng.below(3);
        let mut runbook_ids = Vec::new();
        for r in 0..runbook_count {
            let rid = format!("Runbooks-{}", p * 3 + r as usize + 1);
            runbook_ids.push(rid.clone());
            s_runbooks.push(json!({"Id": rid, "Name": format!("Runbook {r}"), "ProjectId": pid,
                                   "RunbookProcessId": format!("RunbookProcess-{rid}"), "EnvironmentScope": "All",
                                   "Environments": [], "MultiTenancyMode": "Untenanted"}));
            s_runbook_processes.push(json!({"Id": format!("RunbookProcess-{rid}"), "RunbookId": rid, "ProjectId": pid, "Version": 1,
                "Steps": [{"Id": guid(1, next(0)), "Name": "Run", "Properties": {},
                           "Actions": [{"Id": guid(1, next(0)), "Name": "Run", "ActionType": "Octopus.Script",
                                        "Environments": [], "Channels": [], "TenantTags": [], "Packages": [],
                                        "Properties": {"Octopus.Action.Script.ScriptBody": "echo run"}}]}]}));
        }
        // Variables.
        let mut vars = Vec::new();
        vars.push(json!({"Id": guid(1, next(0)), "Name": "ConnectionString", "Value": "Database=#{Application.Database.Name}", "Type": "String", "IsSensitive": false, "Scope": {}}));
        vars.push(json!({"Id": guid(1, next(0)), "Name": "Application.Database.Name", "Value": "OctoFx-Dev", "Type": "String", "IsSensitive": false, "Scope": {"Environment": ["Environments-1"]}}));
        vars.push(json!({"Id": guid(1, next(0)), "Name": "Application.Database.Name", "Value": "OctoFX-Test", "Type": "String", "IsSensitive": false, "Scope": {"Environment": ["Environments-2"]}}));
        vars.push(json!({"Id": guid(1, next(0)), "Name": "Api.Key", "Value": null, "Type": "Sensitive", "IsSensitive": true, "Scope": {}}));
        vars.push(json!({"Id": guid(1, next(0)), "Name": "Aws.Account", "Value": "Accounts-1", "Type": "AmazonWebServicesAccount", "IsSensitive": false, "Scope": {}}));
        let extra = rng.below(5);
        for v in 0..extra {
            let mut scope = serde_json::Map::new();
            let envs = env_subset(&mut rng, &src_envs);
            if !envs.is_empty() {
                scope.insert("Environment".into(), json!(envs));
            }
            if rng.chance(30) {
                scope.insert("Role".into(), json!(["web"]));
            }
            if rng.chance(20) {
                scope.insert(
                    "Action".into(),
                    json!([action_ids[rng.below(action_ids.len() as u64) as usize]]),
                );
            }
            if has_qa && rng.chance(20) {
                scope.insert("Channel".into(), json!([qa_channel]));
            }
            if let (true, Some(rb)) = (rng.chance(20), runbook_ids.first()) {
                scope.insert("ProcessOwner".into(), json!([rb]));
            }
            vars.push(json!({"Id": guid(1, next(0)), "Name": format!("Setting.{v}"), "Value": format!("value-{v}-{}", rng.below(3)),
                             "Type": "String", "IsSensitive": false, "Scope": scope}));
        }
        s_variables.push(json!({"Id": format!("variableset-{pid}"), "OwnerId": pid, "Version": 2, "Variables": vars}));
        if rng.chance(50) {
            tenant_links.insert(pid.clone(), json!(["Environments-3", "Environments-4"]));
        }

        // The destination's copy, for synced projects.
        if rng.below(100) < u64::from(params.synced_percent) {
            let did = format!("Projects-{}", 5001 + p);
            d_projects.push(json!({
                "Id": did, "Name": name, "ProjectGroupId": "ProjectGroups-5001", "LifecycleId": "Lifecycles-5001",
                "SpaceId": "Spaces-5001", "Description": "Destination description", "IncludedLibraryVariableSetIds": [],
                "DeploymentProcessId": format!("deploymentprocess-{did}"), "VariableSetId": format!("variableset-{did}"),
                "Templates": []
            }));
            d_channels.push(json!({"Id": format!("Channels-{}", 5001 + p), "Name": "Default", "ProjectId": did, "IsDefault": true, "Rules": []}));
            d_processes.push(json!({"Id": format!("deploymentprocess-{did}"), "ProjectId": did, "Version": 7, "Steps": [
                {"Id": guid(2, next(0)), "Name": "Step 0", "Properties": {"Octopus.Action.TargetRoles": "web"},
                 "Actions": [{"Id": guid(2, next(0)), "Name": "Step 0", "ActionType": "Octopus.Script",
                              "Environments": ["Environments-5001"], "Channels": [], "TenantTags": [], "Packages": [],
                              "Properties": {"Octopus.Action.Script.ScriptBody": "echo old"}}]},
                {"Id": guid(2, next(0)), "Name": "Destination only", "Properties": {},
                 "Actions": [{"Id": guid(2, next(0)), "Name": "Destination only", "ActionType": "Octopus.Script",
                              "Environments": [], "Channels": [], "TenantTags": [], "Packages": [],
                              "Properties": {"Octopus.Action.Script.ScriptBody": "echo local"}}]}
            ]}));
            d_variables.push(json!({"Id": format!("variableset-{did}"), "OwnerId": did, "Version": 4, "Variables": [
                {"Id": guid(2, next(0)), "Name": "Application.Database.Name", "Value": "OctoFx-Staging", "Type": "String", "IsSensitive": false, "Scope": {"Environment": ["Environments-5001"]}},
                {"Id": guid(2, next(0)), "Name": "Api.Key", "Value": null, "Type": "Sensitive", "IsSensitive": true, "Scope": {}},
                {"Id": guid(2, next(0)), "Name": "Local.Only", "Value": "kept", "Type": "String", "IsSensitive": false, "Scope": {}}
            ]}));
            if rng.chance(50) {
                let rid = format!("Runbooks-{}", 5001 + p);
                d_runbooks.push(json!({"Id": rid, "Name": "Runbook 0", "ProjectId": did, "RunbookProcessId": format!("RunbookProcess-{rid}"),
                                       "EnvironmentScope": "All", "Environments": []}));
                d_runbook_processes.push(json!({"Id": format!("RunbookProcess-{rid}"), "RunbookId": rid, "ProjectId": did, "Version": 1, "Steps": []}));
            }
        }
    }

    let source = vec![
        src("space", json!({"Id": "Spaces-1", "Name": "Default"})),
        src("environments", json!(SOURCE_ENVS.iter().enumerate().map(|(i, n)| json!({"Id": format!("Environments-{}", i + 1), "Name": n, "SortOrder": i})).collect::<Vec<_>>())),
        src("lifecycles", json!([
            {"Id": "Lifecycles-1", "Name": "Default Lifecycle", "Phases": []},
            {"Id": "Lifecycles-2", "Name": "QA", "Phases": [{"Id": guid(1, 900_001), "Name": "QA", "AutomaticDeploymentTargets": ["Environments-1"], "OptionalDeploymentTargets": ["Environments-2"]}]}
        ])),
        src("projectgroups", json!([{"Id": "ProjectGroups-1", "Name": "Default Project Group"}, {"Id": "ProjectGroups-2", "Name": "Group B"}])),
        src("feeds", json!([{"Id": "Feeds-1", "Name": "Octopus Server (built-in)", "FeedType": "BuiltIn"},
                            {"Id": "Feeds-2", "Name": "NuGet Feed", "FeedType": "NuGet", "FeedUri": "https://nuget.example/v3",
                             "Username": "u", "Password": {"HasValue": true, "NewValue": null}}])),
        src("workerpools", json!([{"Id": "WorkerPools-1", "Name": "Default Worker Pool", "IsDefault": true},
                                  {"Id": "WorkerPools-2", "Name": "Ubuntu Pool", "IsDefault": false, "WorkerPoolType": "StaticWorkerPool"}])),
        src("accounts", json!([{"Id": "Accounts-1", "Name": "AWS NonProd", "AccountType": "AmazonWebServicesAccount", "AccessKey": "AKIA",
                                "SecretKey": {"HasValue": true, "NewValue": null}, "EnvironmentIds": [], "TenantIds": [], "TenantTags": []}])),
        src("tagsets", json!([{"Id": "TagSets-1", "Name": "Region", "Tags": [
            {"Id": "TagSets-1-1", "Name": "East", "CanonicalTagName": "Region/East", "Color": "#333333"},
            {"Id": "TagSets-1-2", "Name": "West", "CanonicalTagName": "Region/West", "Color": "#666666"}]}])),
        src("tenants", json!([
            {"Id": "Tenants-1", "Name": "Internal", "TenantTags": ["Region/East"], "ProjectEnvironments": tenant_links},
            {"Id": "Tenants-2", "Name": "Development Team A", "TenantTags": [], "ProjectEnvironments":
                s_projects.first().map(|p| json!({p["Id"].as_str().unwrap_or(""): ["Environments-1", "Environments-2"]})).unwrap_or(json!({}))}
        ])),
        src("teams", json!([{"Id": "Teams-1", "Name": "QA Team", "SpaceId": "Spaces-1", "MemberUserIds": []}])),
        src("libraryvariablesets", json!([{"Id": "LibraryVariableSets-1", "Name": "Global", "ContentType": "Variables",
                                           "VariableSetId": "variableset-LibraryVariableSets-1", "Templates": []}])),
        src("projects", json!(s_projects)),
        src("channels", json!(s_channels)),
        src("deploymentprocesses", json!(s_processes)),
        src("runbooks", json!(s_runbooks)),
        src("runbookprocesses", json!(s_runbook_processes)),
        src("variables", {
            let mut all = s_variables;
            all.push(json!({"Id": "variableset-LibraryVariableSets-1", "OwnerId": "LibraryVariableSets-1", "Variables": [
                {"Id": guid(1, 900_002), "Name": "Company.Name", "Value": "Octopus", "Type": "String", "Scope": {}},
                {"Id": guid(1, 900_003), "Name": "Smtp.Password", "Value": null, "Type": "Sensitive", "IsSensitive": true, "Scope": {}}
            ]}));
            json!(all)
        }),
    ];
    let destination = vec![
        ("space", json!({"Id": "Spaces-5001", "Name": "Default"})),
        (
            "environments",
            json!([{"Id": "Environments-5001", "Name": "Staging"}, {"Id": "Environments-5002", "Name": "Production"}]),
        ),
        (
            "lifecycles",
            json!([{"Id": "Lifecycles-5001", "Name": "Default Lifecycle", "Phases": []}]),
        ),
        (
            "projectgroups",
            json!([{"Id": "ProjectGroups-5001", "Name": "Default Project Group"}]),
        ),
        (
            "feeds",
            json!([{"Id": "Feeds-5001", "Name": "Octopus Server (built-in)", "FeedType": "BuiltIn"}]),
        ),
        (
            "workerpools",
            json!([{"Id": "WorkerPools-5001", "Name": "Default Worker Pool", "IsDefault": true}]),
        ),
        (
            "teams",
            json!([{"Id": "Teams-5001", "Name": "QA Team", "SpaceId": "Spaces-5001", "MemberUserIds": []}]),
        ),
        ("projects", json!(d_projects)),
        ("channels", json!(d_channels)),
        ("deploymentprocesses", json!(d_processes)),
        ("variables", json!(d_variables)),
        ("runbooks", json!(d_runbooks)),
        ("runbookprocesses", json!(d_runbook_processes)),
    ];
    (source, destination)
}
