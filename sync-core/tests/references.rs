//! Matching and translation: built-ins, duplicates, references inside action properties,
//! step templates, script modules, library variable sets, tag sets, team permissions,
//! config-as-code projects, versions and process cloning.

mod common;

use common::*;
use serde_json::{json, Value};
use sync_core::{plan, CleanupCategory, OpAction, PlanError, ResourceKind};

fn source_with(
    extra: Vec<(&'static str, Value)>,
    steps: Value,
    variables: Value,
) -> sync_core::Snapshot {
    snapshot(join(vec![
        builtins(1),
        vec![("environments", source_environments())],
        extra,
        source_project(steps, variables),
    ]))
}

fn destination_with(extra: Vec<(&'static str, Value)>) -> sync_core::Snapshot {
    snapshot(join(vec![
        builtins(71),
        vec![("environments", destination_environments())],
        extra,
    ]))
}

fn script(name: &str, extra: Value) -> Value {
    let mut action = json!({"Id": format!("a-{name}"), "Name": name, "ActionType": "Octopus.Script",
                            "Properties": {"Octopus.Action.Script.ScriptBody": "echo"}});
    if let (Value::Object(a), Value::Object(e)) = (&mut action, extra) {
        for (k, v) in e {
            if k == "Properties" {
                for (pk, pv) in v.as_object().unwrap() {
                    a["Properties"]
                        .as_object_mut()
                        .unwrap()
                        .insert(pk.clone(), pv.clone());
                }
            } else {
                a.insert(k, v);
            }
        }
    }
    json!({"Id": format!("s-{name}"), "Name": name, "Actions": [action]})
}

fn action<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["Steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Name"] == name)
        .map(|s| &s["Actions"][0])
        .unwrap()
}

const PROJECT: &str = "[select]\nprojects = [\"OctoFX\"]\n";

#[test]
fn built_ins_are_matched_by_role_and_never_created() {
    let source = snapshot(vec![
        ("environments", source_environments()),
        (
            "workerpools",
            json!([{"Id": "WorkerPools-1", "Name": "Default Worker Pool", "IsDefault": true}]),
        ),
        (
            "feeds",
            json!([{"Id": "Feeds-1", "Name": "Octopus Server (built-in)", "FeedType": "BuiltIn"}]),
        ),
        (
            "lifecycles",
            json!([{"Id": "Lifecycles-1", "Name": "Default Lifecycle"}]),
        ),
        (
            "teams",
            json!([{"Id": "teams-everyone", "Name": "Everyone"}, {"Id": "Teams-2", "Name": "Deployers", "SpaceId": "Spaces-1"}]),
        ),
        (
            "userroles",
            json!([{"Id": "userroles-projectviewer", "Name": "Project viewer", "CanBeDeleted": false}]),
        ),
    ]);
    let destination = snapshot(vec![
        (
            "workerpools",
            json!([{"Id": "WorkerPools-71", "Name": "Hosted Ubuntu", "IsDefault": true}]),
        ),
        (
            "feeds",
            json!([{"Id": "Feeds-71", "Name": "Built-in", "FeedType": "BuiltIn"}]),
        ),
    ]);
    let rules = rules("[select]\nworker_pools = \"all\"\nfeeds = \"all\"\nlifecycles = \"all\"\nteams = \"all\"\nuser_roles = \"all\"");
    let plan = plan(&source, &destination, &rules).unwrap();
    let pool = op(&plan, ResourceKind::WorkerPool, "Default Worker Pool");
    assert_eq!(pool.action(), OpAction::Unchanged);
    assert_eq!(
        pool.target(),
        Some(&sync_core::Target::Existing {
            id: "WorkerPools-71".into()
        })
    );
    assert_eq!(
        op(&plan, ResourceKind::Feed, "Octopus Server (built-in)").action(),
        OpAction::Unchanged
    );
    let lifecycle = op(&plan, ResourceKind::Lifecycle, "Default Lifecycle");
    assert_eq!(lifecycle.action(), OpAction::Skip);
    assert!(lifecycle.reason.contains("never created"));
    assert_eq!(
        op(&plan, ResourceKind::UserRole, "Project viewer").action(),
        OpAction::Skip
    );
    assert!(
        plan.find(ResourceKind::Team, "Everyone").is_none(),
        "system teams are never synced"
    );
    assert_eq!(
        op(&plan, ResourceKind::Team, "Deployers").action(),
        OpAction::Create
    );
    assert_eq!(plan.summary.create, 1, "{plan}");
}

#[test]
fn duplicate_names_are_reported_never_resolved_by_picking_one() {
    let source = source_with(
        vec![],
        json!([script(
            "Deploy",
            json!({"Environments": ["Environments-3"]})
        )]),
        json!([]),
    );
    let destination = snapshot(join(vec![
        builtins(71),
        vec![(
            "environments",
            json!([
                {"Id": "Environments-71", "Name": "Staging"}, {"Id": "Environments-73", "Name": " staging "},
                {"Id": "Environments-72", "Name": "Production"}
            ]),
        )],
    ]));
    let rules = rules(&format!("{PROJECT}environments = \"all\""));
    let plan = plan(&source, &destination, &rules).unwrap();
    let staging = op(&plan, ResourceKind::Environment, "Staging");
    assert_eq!(staging.action(), OpAction::Skip);
    assert!(
        staging
            .reason
            .contains("2 destination environments are named"),
        "{}",
        staging.reason
    );
    assert!(plan
        .warnings
        .iter()
        .any(|w| w.contains("2 destination environments are named")));
    let process = op(&plan, ResourceKind::DeploymentProcess, "OctoFX");
    assert!(step_names(process).is_empty(), "{plan}");
    assert!(plan
        .cleanup
        .iter()
        .any(|c| c.message.contains("rename one")));
}

#[test]
fn references_inside_action_properties_are_translated() {
    let extra = vec![
        (
            "feeds",
            json!([{"Id": "Feeds-2", "Name": "NuGet", "FeedType": "NuGet"}]),
        ),
        (
            "workerpools",
            json!([{"Id": "WorkerPools-2", "Name": "Ubuntu Worker Pool"}]),
        ),
        ("accounts", json!([{"Id": "Accounts-2", "Name": "Azure"}])),
        (
            "teams",
            json!([{"Id": "Teams-2", "Name": "QA", "SpaceId": "Spaces-1"}, {"Id": "Teams-3", "Name": "Gone", "SpaceId": "Spaces-1"}]),
        ),
        (
            "actiontemplates",
            json!([{"Id": "ActionTemplates-2", "Name": "Notify", "ActionType": "Octopus.Script", "Version": 3}]),
        ),
    ];
    let steps = json!([
        script(
            "Package",
            json!({"WorkerPoolId": "WorkerPools-2", "Container": {"Image": "img", "FeedId": "Feeds-2"},
            "Packages": [{"Id": "pr-1", "Name": "", "PackageId": "App", "FeedId": "Feeds-2"}],
            "Properties": {"Octopus.Action.Package.FeedId": "Feeds-2", "Octopus.Action.Azure.AccountId": "Accounts-2"}})
        ),
        script(
            "Notify",
            json!({"Properties": {"Octopus.Action.Template.Id": "ActionTemplates-2", "Octopus.Action.Template.Version": "3",
            "Notify.Package": "{\"PackageId\":\"x\",\"FeedId\":\"Feeds-2\"}"}})
        ),
        script(
            "Approve",
            json!({"ActionType": "Octopus.Manual", "Properties": {"Octopus.Action.Manual.ResponsibleTeamIds": "Teams-2,Teams-3"}})
        ),
        script(
            "Deploy other",
            json!({"ActionType": "Octopus.DeployRelease", "Packages": [{"Name": "", "PackageId": "Projects-1", "FeedId": "feeds-builtin-releases"}],
            "Properties": {"Octopus.Action.DeployRelease.ProjectId": "Projects-1"}})
        ),
        script(
            "Git",
            json!({"Properties": {"Octopus.Action.GitRepository.Source": "GitCredentials-3"}})
        ),
        script(
            "Mention",
            json!({"Properties": {"Octopus.Action.Script.ScriptBody": "Write-Host Feeds-2 is used"}})
        ),
    ]);
    let source = source_with(extra, steps, json!([]));
    let destination = destination_with(vec![
        (
            "feeds",
            json!([{"Id": "Feeds-71", "Name": "Octopus Server (built-in)", "FeedType": "BuiltIn"},
                         {"Id": "Feeds-72", "Name": "nuget", "FeedType": "NuGet"},
                         {"Id": "Feeds-73", "Name": "Octopus Server Releases", "FeedType": "OctopusProject"}]),
        ),
        (
            "workerpools",
            json!([{"Id": "WorkerPools-72", "Name": "Ubuntu Worker Pool"}]),
        ),
        ("accounts", json!([{"Id": "Accounts-72", "Name": "Azure"}])),
        (
            "teams",
            json!([{"Id": "Teams-72", "Name": "QA", "SpaceId": "Spaces-71"}]),
        ),
        (
            "actiontemplates",
            json!([{"Id": "ActionTemplates-72", "Name": "Notify", "ActionType": "Octopus.Script", "Version": 5}]),
        ),
    ]);
    let (plan, _) = plan_apply_replan(&source, &destination, &rules(PROJECT));
    let process = op(&plan, ResourceKind::DeploymentProcess, "OctoFX");
    let body = process.body().unwrap();
    let package = action(body, "Package");
    assert_eq!(package["WorkerPoolId"], "WorkerPools-72");
    assert_eq!(package["Container"]["FeedId"], "Feeds-72");
    assert_eq!(package["Packages"][0]["FeedId"], "Feeds-72");
    assert_eq!(
        package["Properties"]["Octopus.Action.Package.FeedId"],
        "Feeds-72"
    );
    assert_eq!(
        package["Properties"]["Octopus.Action.Azure.AccountId"],
        "Accounts-72"
    );
    let notify = action(body, "Notify");
    assert_eq!(
        notify["Properties"]["Octopus.Action.Template.Id"],
        "ActionTemplates-72"
    );
    assert_eq!(notify["Properties"]["Octopus.Action.Template.Version"], "5");
    assert_eq!(
        notify["Properties"]["Notify.Package"],
        "{\"PackageId\":\"x\",\"FeedId\":\"Feeds-72\"}"
    );
    let approve = action(body, "Approve");
    assert_eq!(
        approve["Properties"]["Octopus.Action.Manual.ResponsibleTeamIds"],
        "Teams-72"
    );
    assert!(plan
        .cleanup
        .iter()
        .any(|c| c.category == CleanupCategory::Reference
            && c.message.contains("ResponsibleTeamIds")
            && c.message.contains("\"Gone\"")));
    let deploy = action(body, "Deploy other");
    assert!(deploy["Packages"][0]["PackageId"]
        .as_str()
        .unwrap()
        .contains("pending project"));
    assert_eq!(deploy["Packages"][0]["FeedId"], "Feeds-73");
    // A key the reference tables do not list holds text, whatever it looks like: the
    // step is synced and the text copied.
    let git = action(body, "Git");
    assert_eq!(
        git["Properties"]["Octopus.Action.GitRepository.Source"],
        "GitCredentials-3"
    );
    let mention = action(body, "Mention");
    assert_eq!(
        mention["Properties"]["Octopus.Action.Script.ScriptBody"],
        "Write-Host Feeds-2 is used"
    );
}

#[test]
fn required_reference_missing_skips_the_action_with_its_reason() {
    let source = source_with(
        vec![(
            "workerpools",
            json!([{"Id": "WorkerPools-2", "Name": "Windows Pool"}]),
        )],
        json!([
            script("Build", json!({"WorkerPoolId": "WorkerPools-2"})),
            script("Other", json!({}))
        ]),
        json!([]),
    );
    let plan = plan(&source, &destination_with(vec![]), &rules(PROJECT)).unwrap();
    assert_eq!(
        step_names(op(&plan, ResourceKind::DeploymentProcess, "OctoFX")),
        vec!["Other"]
    );
    assert!(plan
        .cleanup
        .iter()
        .any(|c| c.message.contains("worker pool \"Windows Pool\"")));
}

#[test]
fn step_templates_must_be_an_exact_match_unless_told_otherwise() {
    let template = json!([{"Id": "ActionTemplates-2", "Name": "Notify", "ActionType": "Octopus.Script", "Version": 3, "Description": "new",
                           "Properties": {"Octopus.Action.Script.ScriptBody": "v2"},
                           "Parameters": [{"Id": "p-1", "Name": "Channel", "DisplaySettings": {}}]}]);
    let source = snapshot(vec![("actiontemplates", template)]);
    let destination = snapshot(vec![(
        "actiontemplates",
        json!([{"Id": "ActionTemplates-72", "Name": "Notify", "ActionType": "Octopus.Script", "Version": 9,
        "Description": "old", "Properties": {"Octopus.Action.Script.ScriptBody": "v1"}, "Parameters": [{"Id": "dp-1", "Name": "channel", "DisplaySettings": {"Octopus.ControlType": "SingleLineText"}}]}]),
    )]);
    let (plan, after) = plan_apply_replan(
        &source,
        &destination,
        &rules("[select]\nstep_templates = \"all\""),
    );
    let op = op(&plan, ResourceKind::ActionTemplate, "Notify");
    assert_eq!(op.action(), OpAction::Update);
    let body = op.body().unwrap();
    assert_eq!(body["Properties"]["Octopus.Action.Script.ScriptBody"], "v2");
    assert_eq!(body["Parameters"][0]["Id"], "dp-1");
    assert_eq!(
        body["Parameters"][0]["DisplaySettings"]["Octopus.ControlType"], "SingleLineText",
        "version shim adds it"
    );
    assert_eq!(after.action_templates[0].description.as_str(), "new");
    let off = rules(
        "[select]\nstep_templates = \"all\"\n[policy]\noverwrite_existing_step_templates = false",
    );
    assert_eq!(
        common::op(
            &sync_core::plan(&source, &destination, &off).unwrap(),
            ResourceKind::ActionTemplate,
            "Notify"
        )
        .action(),
        OpAction::Unchanged
    );
}

#[test]
fn script_modules_are_always_made_equal_and_library_sets_are_created_with_their_variables() {
    let source = snapshot(vec![
        (
            "libraryvariablesets",
            json!([
                {"Id": "LibraryVariableSets-1", "Name": "Logging", "ContentType": "ScriptModule"},
                {"Id": "LibraryVariableSets-2", "Name": "Global", "ContentType": "Variables", "Templates": [{"Id": "t-1", "Name": "Tenant.Name"}]}
            ]),
        ),
        (
            "variables",
            json!([
                {"Id": "variableset-LibraryVariableSets-1", "OwnerId": "LibraryVariableSets-1", "Variables": [
                    {"Id": "v-1", "Name": "Octopus.Script.Module[Logging]", "Value": "function Log { 'v2' }"}]},
                {"Id": "variableset-LibraryVariableSets-2", "OwnerId": "LibraryVariableSets-2", "Variables": [
                    {"Id": "v-2", "Name": "Company", "Value": "Octopus"}]}
            ]),
        ),
    ]);
    let destination = snapshot(vec![
        (
            "libraryvariablesets",
            json!([{"Id": "LibraryVariableSets-71", "Name": "Logging", "ContentType": "ScriptModule", "VariableSetId": "variableset-LibraryVariableSets-71"}]),
        ),
        (
            "variables",
            json!([{"Id": "variableset-LibraryVariableSets-71", "OwnerId": "LibraryVariableSets-71", "Variables": [
            {"Id": "d-1", "Name": "Octopus.Script.Module[Logging]", "Value": "function Log { 'v1' }"}]}]),
        ),
    ]);
    let rules = rules("[select]\nscript_modules = \"all\"\nlibrary_variable_sets = \"all\"");
    let (plan, _) = plan_apply_replan(&source, &destination, &rules);
    let module = plan
        .of_kind(ResourceKind::VariableSet)
        .find(|o| o.item.name == "Logging")
        .unwrap();
    assert_eq!(module.action(), OpAction::Update);
    assert_eq!(
        module.body().unwrap()["Variables"][0]["Value"],
        "function Log { 'v2' }"
    );
    assert_eq!(module.body().unwrap()["Variables"][0]["Id"], "d-1");
    assert_eq!(
        op(&plan, ResourceKind::LibraryVariableSet, "Global").action(),
        OpAction::Create
    );
    let global = plan
        .of_kind(ResourceKind::VariableSet)
        .find(|o| o.item.name == "Global")
        .unwrap();
    assert!(
        matches!(global.target(), Some(sync_core::Target::SideEffect { ref field, .. }) if field == "VariableSetId")
    );
}

#[test]
fn tag_sets_are_made_equal_without_dropping_destination_tags() {
    let source = snapshot(vec![(
        "tagsets",
        json!([{"Id": "TagSets-1", "Name": "Region", "Tags": [
        {"Id": "TagSets-1-1", "Name": "East", "Color": "#111111"}, {"Id": "TagSets-1-2", "Name": "West", "Color": "#222222"}]}]),
    )]);
    let destination = snapshot(vec![(
        "tagsets",
        json!([{"Id": "TagSets-71", "Name": "Region", "Tags": [
        {"Id": "TagSets-71-1", "Name": "East", "Color": "#999999", "CanonicalTagName": "Region/East"},
        {"Id": "TagSets-71-2", "Name": "North", "Color": "#999999", "CanonicalTagName": "Region/North"}]}]),
    )]);
    let (plan, _) = plan_apply_replan(
        &source,
        &destination,
        &rules("[select]\ntenant_tags = \"all\""),
    );
    let body = op(&plan, ResourceKind::TagSet, "Region")
        .body()
        .cloned()
        .unwrap();
    let tags: Vec<_> = body["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["Name"].as_str().unwrap(), t["Color"].as_str().unwrap()))
        .collect();
    assert_eq!(
        tags,
        vec![
            ("East", "#111111"),
            ("West", "#222222"),
            ("North", "#999999")
        ]
    );
}

#[test]
fn team_role_scoping_is_filtered_to_what_exists_and_never_widened() {
    let source = snapshot(join(vec![
        builtins(1),
        vec![
            ("environments", source_environments()),
            (
                "teams",
                json!([{"Id": "Teams-2", "Name": "Deployers", "SpaceId": "Spaces-1"}]),
            ),
            (
                "tenants",
                json!([{"Id": "Tenants-1", "Name": "Internal"}, {"Id": "Tenants-2", "Name": "Customer Only On Source"}]),
            ),
            (
                "userroles",
                json!([{"Id": "userroles-deployer", "Name": "Deployment creator", "CanBeDeleted": false}]),
            ),
            (
                "scopeduserroles",
                json!([
                    {"Id": "ScopedUserRoles-1", "TeamId": "Teams-2", "UserRoleId": "userroles-deployer",
                     "EnvironmentIds": ["Environments-1", "Environments-4"], "TenantIds": ["Tenants-1", "Tenants-2"]},
                    {"Id": "ScopedUserRoles-2", "TeamId": "Teams-2", "UserRoleId": "userroles-deployer", "EnvironmentIds": ["Environments-1"]}
                ]),
            ),
        ],
    ]));
    let destination = destination_with(vec![
        (
            "teams",
            json!([{"Id": "Teams-72", "Name": "Deployers", "SpaceId": "Spaces-71"}]),
        ),
        ("tenants", json!([{"Id": "Tenants-72", "Name": "Internal"}])),
        (
            "userroles",
            json!([{"Id": "userroles-deployer", "Name": "Deployment creator", "CanBeDeleted": false}]),
        ),
    ]);
    let rules = rules("[select]\nteams = \"all\"\n[policy]\nsync_team_role_scoping = true");
    let plan = plan(&source, &destination, &rules).unwrap();
    let roles: Vec<_> = plan.of_kind(ResourceKind::ScopedUserRole).collect();
    assert_eq!(roles.len(), 2);
    assert_eq!(roles[0].action(), OpAction::Create);
    let body = roles[0].body().unwrap();
    assert_eq!(body["TeamId"], "Teams-72");
    assert_eq!(body["EnvironmentIds"], json!(["Environments-72"]));
    assert_eq!(body["TenantIds"], json!(["Tenants-72"]));
    // Scoped only to Development: dropping it would grant the role everywhere.
    assert_eq!(roles[1].action(), OpAction::Skip);
    assert!(
        roles[1].reason.contains("grant more"),
        "{}",
        roles[1].reason
    );
}

#[test]
fn config_as_code_projects_sync_only_what_lives_in_the_database() {
    let mut source = source_with(
        vec![],
        json!([script("Deploy", json!({}))]),
        json!([
            {"Id": "v-1", "Name": "Secret", "Value": null, "Type": "Sensitive", "IsSensitive": true},
            {"Id": "v-2", "Name": "Plain", "Value": "in git"}
        ]),
    );
    source.projects[0].is_version_controlled = true.into();
    let destination = snapshot(join(vec![
        builtins(71),
        vec![("environments", destination_environments())],
        destination_project(json!([]), json!([])),
    ]));
    let plan = plan(&source, &destination, &rules(PROJECT)).unwrap();
    let process = op(&plan, ResourceKind::DeploymentProcess, "OctoFX");
    assert_eq!(process.action(), OpAction::Skip);
    assert!(process.reason.contains("version controlled"));
    let vars = variables(op(&plan, ResourceKind::VariableSet, "OctoFX"));
    assert_eq!(vars.len(), 1);
    assert_eq!(vars[0].0, "Secret");
}

#[test]
fn versions_more_than_one_minor_apart_are_refused_unless_allowed() {
    let source =
        Snapshot::from_collections("2022.1.0".parse().unwrap(), Vec::<(&str, Value)>::new())
            .unwrap();
    let near = Snapshot::from_collections("2022.2.5".parse().unwrap(), Vec::<(&str, Value)>::new())
        .unwrap();
    let far = Snapshot::from_collections("2024.1.0".parse().unwrap(), Vec::<(&str, Value)>::new())
        .unwrap();
    assert!(matches!(
        plan(&source, &far, &rules("")),
        Err(PlanError::VersionMismatch { .. })
    ));
    let allowed = plan(
        &source,
        &far,
        &rules("[policy]\nallow_version_mismatch = true"),
    )
    .unwrap();
    assert!(allowed.warnings.iter().any(|w| w.contains("minor version")));
    assert!(plan(&source, &near, &rules(""))
        .unwrap()
        .warnings
        .iter()
        .any(|w| w.contains("one minor version apart")));
    // Prune without a record of what earlier syncs wrote deletes nothing, and says so.
    let unrecorded = plan(&source, &source, &rules("[policy]\nprune = [\"steps\"]")).unwrap();
    assert!(unrecorded
        .warnings
        .iter()
        .any(|w| w.contains("nothing is pruned")));
    assert_eq!(unrecorded.summary.delete, 0);
    assert!(SyncRules::from_toml_str("[policy]\nprune = [\"Environment\"]").is_err());
}

use sync_core::{Snapshot, SyncRules};

#[test]
fn process_cloning_keeps_or_drops_destination_only_steps() {
    let source = source_with(vec![], json!([script("Deploy", json!({}))]), json!([]));
    let dest_steps = json!([script("Smoke test", json!({})), script("Deploy", json!({}))]);
    let destination = snapshot(join(vec![
        builtins(71),
        vec![("environments", destination_environments())],
        destination_project(dest_steps, json!([])),
    ]));
    let keep = plan(&source, &destination, &rules(PROJECT)).unwrap();
    // "Smoke test" was first on the destination and stays first: nothing to write.
    let kept = op(&keep, ResourceKind::DeploymentProcess, "OctoFX");
    assert_eq!(kept.action(), OpAction::Unchanged, "{keep}");
    assert!(
        kept.reason
            .contains("destination-only step \"Smoke test\" kept first"),
        "{}",
        kept.reason
    );
    let only = plan(
        &source,
        &destination,
        &rules(&format!(
            "{PROJECT}[policy]\nprocess_cloning = \"source-only\""
        )),
    )
    .unwrap();
    assert_eq!(
        step_names(op(&only, ResourceKind::DeploymentProcess, "OctoFX")),
        vec!["Deploy"]
    );
    // The matched step keeps the destination's ids.
    let body = op(&only, ResourceKind::DeploymentProcess, "OctoFX")
        .body()
        .cloned()
        .unwrap();
    assert_eq!(body["Steps"][0]["Id"], "s-Deploy");
}

#[test]
fn plans_serialize_and_read_back_unchanged() {
    let source = source_with(
        vec![],
        json!([script(
            "Deploy",
            json!({"Environments": ["Environments-3"]})
        )]),
        json!([]),
    );
    let plan = plan(&source, &destination_with(vec![]), &rules(PROJECT)).unwrap();
    let text = serde_json::to_string_pretty(&plan).unwrap();
    let back: sync_core::Plan = serde_json::from_str(&text).unwrap();
    assert_eq!(back, plan);
    assert!(
        plan.to_string()
            .starts_with("Plan: 1 to create, 2 to update"),
        "{plan}"
    );
}

#[test]
fn versioning_release_creation_and_channel_rules_follow_once_the_process_exists() {
    let mut source = source_with(
        vec![],
        json!([{"Id": "s-1", "Name": "Deploy", "Actions": [{"Id": "a-1", "Name": "Deploy", "ActionType": "Octopus.TentaclePackage",
            "Packages": [{"Id": "pr-1", "Name": "", "PackageId": "App", "FeedId": "Feeds-1"}]}]}]),
        json!([]),
    );
    let project = &mut source.projects[0];
    project.versioning_strategy = serde_json::from_value::<octopus_model::VersioningStrategy>(
        json!({"DonorPackage": {"DeploymentAction": "Deploy", "PackageReference": ""}}),
    )
    .unwrap()
    .into();
    project.release_creation_strategy = serde_json::from_value::<octopus_model::ReleaseCreationStrategy>(
        json!({"ChannelId": "Channels-1", "ReleaseCreationPackage": {"DeploymentAction": "Deploy", "PackageReference": ""}})).unwrap().into();
    project.auto_create_release = true.into();
    source.channels.push(serde_json::from_value(json!({"Id": "Channels-2", "Name": "Hotfix", "ProjectId": "Projects-1",
        "Rules": [{"Id": "r-1", "VersionRange": "[1.0,2.0)", "ActionPackages": [{"DeploymentAction": "Deploy", "PackageReference": ""}]}]})).unwrap());
    let rules = rules(&format!("{PROJECT}channels = \"all\""));
    let (plan, after) = plan_apply_replan(&source, &destination_with(vec![]), &rules);
    let create = op(&plan, ResourceKind::Project, "OctoFX");
    assert_eq!(create.action(), OpAction::Create);
    let body = create.body().unwrap();
    assert!(body["VersioningStrategy"]["Template"].is_string());
    assert_eq!(body["AutoCreateRelease"], false);
    let versioning = &plan
        .layers
        .iter()
        .find(|l| l.name == sync_core::LayerName::ProjectVersioning)
        .unwrap()
        .ops[0];
    let vbody = versioning.body().unwrap();
    assert_eq!(
        vbody["VersioningStrategy"]["DonorPackage"]["DeploymentAction"],
        "Deploy"
    );
    assert_eq!(vbody["AutoCreateRelease"], true);
    assert!(vbody["ReleaseCreationStrategy"]["ChannelId"]
        .as_str()
        .unwrap()
        .contains("channel \"Default\""));
    let rules_op = &plan
        .layers
        .iter()
        .find(|l| l.name == sync_core::LayerName::ChannelRules)
        .unwrap()
        .ops[0];
    assert_eq!(rules_op.item.name, "Hotfix");
    assert_eq!(
        rules_op.body().unwrap()["Rules"][0]["VersionRange"],
        "[1.0,2.0)"
    );
    let hotfix = after.channels.iter().find(|c| c.name == "Hotfix").unwrap();
    assert_eq!(hotfix.rules.len(), 1);
    let project = after.projects.iter().find(|p| p.name == "OctoFX").unwrap();
    let default_channel = after
        .channels
        .iter()
        .find(|c| c.is_default.get_or(false))
        .unwrap();
    assert_eq!(
        project
            .release_creation_strategy
            .get()
            .unwrap()
            .channel_id
            .get(),
        default_channel.id.get()
    );
}

#[test]
fn a_slug_the_destination_server_stamped_is_not_a_change() {
    // An older source (or a hand-made snapshot) has no slugs; the destination's server
    // stamped one on every step and action when the process was saved.
    let source = source_with(vec![], json!([script("Deploy", json!({}))]), json!([]));
    let mut dest_step = script("Deploy", json!({"Slug": "deploy"}));
    dest_step["Id"] = json!("s-dest");
    dest_step["Slug"] = json!("deploy");
    dest_step["Actions"][0]["Id"] = json!("a-dest");
    let destination = destination_with(destination_project(json!([dest_step]), json!([])));
    let plan = plan(&source, &destination, &rules(PROJECT)).unwrap();
    let process = op(&plan, ResourceKind::DeploymentProcess, "OctoFX");
    assert_eq!(process.action(), OpAction::Unchanged, "{plan}");
}

#[test]
fn an_existing_step_takes_the_source_settings_and_keeps_what_the_server_added() {
    let mut src_step = script("Deploy", json!({}));
    src_step["Condition"] = json!("Always");
    src_step["Properties"] = json!({"Octopus.Action.TargetRoles": "web,api"});
    let source = source_with(vec![], json!([src_step]), json!([]));
    let mut dest_step = script("Deploy", json!({"Slug": "deploy"}));
    dest_step["Id"] = json!("s-dest");
    dest_step["Slug"] = json!("deploy");
    dest_step["Condition"] = json!("Success");
    dest_step["Properties"] = json!({"Octopus.Action.TargetRoles": "web"});
    dest_step["Actions"][0]["Id"] = json!("a-dest");
    let destination = destination_with(destination_project(json!([dest_step]), json!([])));
    let plan = plan(&source, &destination, &rules(PROJECT)).unwrap();
    let process = op(&plan, ResourceKind::DeploymentProcess, "OctoFX");
    assert_eq!(process.action(), OpAction::Update, "{plan}");
    let step = &process.body().unwrap()["Steps"][0];
    assert_eq!(step["Condition"], "Always");
    assert_eq!(step["Properties"]["Octopus.Action.TargetRoles"], "web,api");
    assert_eq!(step["Id"], "s-dest");
    assert_eq!(step["Slug"], "deploy");
}

#[test]
fn one_version_verdict_a_local_build_is_never_refused_and_far_versions_are() {
    use sync_core::{version_verdict, VersionVerdict};
    let v = |s: &str| s.parse::<octopus_model::OctopusVersion>().unwrap();
    assert_eq!(
        version_verdict(&v("0.0.0-local"), &v("2020.1.0")),
        VersionVerdict::Same
    );
    assert_eq!(
        version_verdict(&v("2024.1.0"), &v("0.0.0-local")),
        VersionVerdict::Same
    );
    assert_eq!(
        version_verdict(&v("2024.1.0"), &v("2024.1.9")),
        VersionVerdict::Same
    );
    assert!(matches!(
        version_verdict(&v("2024.1.0"), &v("2024.2.0")),
        VersionVerdict::Warn(_)
    ));
    assert!(matches!(
        version_verdict(&v("2022.1.0"), &v("2024.1.0")),
        VersionVerdict::Refuse(_)
    ));
}
