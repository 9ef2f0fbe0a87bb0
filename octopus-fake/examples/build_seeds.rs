//! Rebuilds the two shipped seeds (`seeds/dev-test`, `seeds/staging-production`) by
//! creating the running example through the API of an empty fake server, exactly as a
//! client would against a real one, and exporting the result.
//!
//! Run with `cargo run -p octopus-fake --example build_seeds`.

use std::path::Path;

use octopus_fake::{FakeConfig, FakeServer};
use serde_json::{json, Value};

type Error = Box<dyn std::error::Error>;

struct Api {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Api {
    fn new(server: &FakeServer) -> Self {
        Api {
            http: reqwest::Client::new(),
            base: format!("{}/api/Spaces-1", server.url()),
            key: server.api_key().to_owned(),
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Error> {
        let mut req = self
            .http
            .request(method, format!("{}/{path}", self.base))
            .header("X-Octopus-ApiKey", &self.key);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let value: Value = resp.json().await?;
        if !status.is_success() {
            return Err(format!("{path}: {status} {value}").into());
        }
        Ok(value)
    }

    async fn get(&self, path: &str) -> Result<Value, Error> {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, Error> {
        self.send(reqwest::Method::POST, path, Some(&body)).await
    }

    async fn put(&self, path: &str, body: Value) -> Result<Value, Error> {
        self.send(reqwest::Method::PUT, path, Some(&body)).await
    }

    async fn id_of(&self, collection: &str, name: &str) -> Result<String, Error> {
        let all = self.get(&format!("{collection}/all")).await?;
        all.as_array()
            .into_iter()
            .flatten()
            .find(|x| x["Name"] == name)
            .and_then(|x| x["Id"].as_str())
            .map(str::to_owned)
            .ok_or_else(|| format!("no {collection} named {name}").into())
    }
}

fn id(v: &Value) -> String {
    v["Id"].as_str().unwrap_or_default().to_owned()
}

async fn tenant_tags(api: &Api) -> Result<(), Error> {
    api.post("tagsets", json!({
        "Name": "Tenant Type", "Description": "What kind of tenant this is.",
        "Tags": [
            {"Name": "Internal", "Color": "#3156B3", "Description": "Our own teams."},
            {"Name": "Development Team", "Color": "#5ECD9E", "Description": "A development team's own copy."}
        ]
    })).await?;
    Ok(())
}

async fn aws_account(api: &Api, description: &str) -> Result<Value, Error> {
    api.post("accounts", json!({
        "Name": "AWS Account", "AccountType": "AmazonWebServicesAccount", "Description": description,
        "AccessKey": "AKIAFAKEFAKEFAKEFAKE", "SecretKey": {"HasValue": true, "NewValue": "not-a-real-secret"},
        "Region": "us-east-1"
    })).await
}

async fn ubuntu_pool(api: &Api) -> Result<Value, Error> {
    api.post("workerpools", json!({"Name": "Ubuntu Worker Pool", "Description": "Linux workers for scripts and tests."})).await
}

async fn dev_test(api: &Api) -> Result<(), Error> {
    let dev = api
        .post(
            "environments",
            json!({"Name": "Development", "Description": "Where developers try changes."}),
        )
        .await?;
    let test = api
        .post(
            "environments",
            json!({"Name": "Test", "Description": "Where QA tests releases."}),
        )
        .await?;
    let (dev, test) = (id(&dev), id(&test));
    let default_lifecycle = api.id_of("lifecycles", "Default Lifecycle").await?;
    let qa_lifecycle = api.post("lifecycles", json!({
        "Name": "QA", "Description": "Releases for QA go straight to Test.",
        "Phases": [{"Name": "Test", "AutomaticDeploymentTargets": [], "OptionalDeploymentTargets": [test],
                    "MinimumEnvironmentsBeforePromotion": 0, "IsOptionalPhase": false,
                    "ReleaseRetentionPolicy": null, "TentacleRetentionPolicy": null}]
    })).await?;
    tenant_tags(api).await?;
    let builtin_feed = api.get("feeds/feeds-builtin").await?;
    let builtin_feed = id(&builtin_feed);
    api.post("feeds", json!({"Name": "Docker Hub", "FeedType": "Docker", "FeedUri": "https://index.docker.io", "ApiVersion": "v2", "Username": null, "Password": {"HasValue": false, "NewValue": null}})).await?;
    let account = id(&aws_account(api, "Deploys OctoFX to the Dev/Test AWS account.").await?);
    let pool = id(&ubuntu_pool(api).await?);
    let policy = api
        .id_of("machinepolicies", "Default Machine Policy")
        .await?;
    let mut machines = Vec::new();
    for (name, role, env) in [
        ("octofx-web-dev", "OctoFX-Web", &dev),
        ("octofx-sql-dev", "SQL-Server", &dev),
        ("octofx-web-test", "OctoFX-Web", &test),
        ("octofx-sql-test", "SQL-Server", &test),
    ] {
        let m = api.post("machines", json!({
            "Name": name, "Roles": [role], "EnvironmentIds": [env], "TenantIds": [], "TenantTags": [],
            "TenantedDeploymentParticipation": "Untenanted", "MachinePolicyId": policy, "IsDisabled": false,
            "Endpoint": {"CommunicationStyle": "TentaclePassive", "Uri": format!("https://{name}.example.invalid:10933/"),
                         "Thumbprint": "0000000000000000000000000000000000000000"}
        })).await?;
        machines.push(id(&m));
    }
    let team = api.post("teams", json!({"Name": "QA Team", "Description": "Signs off releases in Test.", "MemberUserIds": ["Users-1"]})).await?;
    let team = id(&team);
    let template = api.post("actiontemplates", json!({
        "Name": "Notify Team", "Description": "Posts a message to the team's chat.", "ActionType": "Octopus.Script",
        "Properties": {"Octopus.Action.Script.ScriptSource": "Inline", "Octopus.Action.Script.Syntax": "Bash",
                       "Octopus.Action.Script.ScriptBody": "echo \"$(get_octopusvariable 'Notify.Message')\""},
        "Parameters": [{"Name": "Notify.Message", "Label": "Message", "HelpText": "What to post.",
                        "DefaultValue": "#{Octopus.Project.Name} #{Octopus.Release.Number} deployed to #{Octopus.Environment.Name}",
                        "DisplaySettings": {"Octopus.ControlType": "MultiLineText"}}],
        "Packages": []
    })).await?;
    let template = id(&template);
    let global = api.post("libraryvariablesets", json!({
        "Name": "Global", "Description": "Values every project shares.", "ContentType": "Variables",
        "Templates": [{"Name": "Global.Tenant.Alias", "Label": "Tenant alias", "HelpText": "A short name for the tenant.",
                       "DefaultValue": "", "DisplaySettings": {"Octopus.ControlType": "SingleLineText"}}]
    })).await?;
    let global_set = global["VariableSetId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let global = id(&global);
    let gvs = api.get(&format!("variables/{global_set}")).await?;
    api.put(&format!("variables/{global_set}"), json!({
        "Id": global_set, "OwnerId": global, "Version": gvs["Version"],
        "Variables": [
            {"Name": "Global.Notification.Email", "Value": "octofx-dev@example.invalid", "Scope": {"Environment": [dev]}},
            {"Name": "Global.Notification.Email", "Value": "octofx-qa@example.invalid", "Scope": {"Environment": [test]}},
            {"Name": "Global.Company.Name", "Value": "OctoFX Ltd", "Scope": {}}
        ]
    })).await?;
    let module = api.post("libraryvariablesets", json!({"Name": "Logging Helpers", "Description": "Shared logging functions.", "ContentType": "ScriptModule"})).await?;
    let module_set = module["VariableSetId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mvs = api.get(&format!("variables/{module_set}")).await?;
    api.put(&format!("variables/{module_set}"), json!({
        "Id": module_set, "OwnerId": id(&module), "Version": mvs["Version"],
        "Variables": [
            {"Name": "Octopus.Script.Module[Logging Helpers]", "Value": "function Write-Step($m) { Write-Host \"==> $m\" }", "Scope": {}},
            {"Name": "Octopus.Script.Module.Language[Logging Helpers]", "Value": "PowerShell", "Scope": {}}
        ]
    })).await?;
    let group = api.id_of("projectgroups", "Default Project Group").await?;
    let project = api.post("projects", json!({
        "Name": "OctoFX", "Description": "The OctoFX trading application.", "ProjectGroupId": group,
        "LifecycleId": default_lifecycle, "IncludedLibraryVariableSetIds": [global, id(&module)],
        "TenantedDeploymentMode": "TenantedOrUntenanted",
        "Templates": [{"Name": "Tenant.Database.Name", "Label": "Tenant database", "HelpText": "The tenant's own database.",
                       "DefaultValue": "OctoFX-#{Octopus.Deployment.Tenant.Name}", "DisplaySettings": {"Octopus.ControlType": "SingleLineText"}}]
    })).await?;
    let pid = id(&project);
    let qa_channel = api.post(&format!("projects/{pid}/channels"), json!({
        "Name": "QA", "Description": "Builds for QA only.", "LifecycleId": id(&qa_lifecycle), "IsDefault": false,
        "Rules": [], "TenantTags": []
    })).await?;
    let qa_channel = id(&qa_channel);
    let process = api
        .get(&format!("projects/{pid}/deploymentprocesses"))
        .await?;
    let package = |name: &str| json!([{"Name": "", "PackageId": name, "FeedId": builtin_feed, "AcquisitionLocation": "Server", "Properties": {}}]);
    let process = api.put(&format!("projects/{pid}/deploymentprocesses"), json!({
        "Id": process["Id"], "ProjectId": pid, "Version": process["Version"],
        "Steps": [
            {"Name": "Deploy Database", "Condition": "Success", "StartTrigger": "StartAfterPrevious", "PackageRequirement": "LetOctopusDecide",
             "Properties": {"Octopus.Action.TargetRoles": "SQL-Server"},
             "Actions": [{"Name": "Deploy Database", "ActionType": "Octopus.TentaclePackage", "Environments": [], "ExcludedEnvironments": [], "Channels": [], "TenantTags": [],
                          "Packages": package("OctoFX.Database"),
                          "Properties": {"Octopus.Action.Package.PackageId": "OctoFX.Database", "Octopus.Action.Package.FeedId": builtin_feed,
                                         "Octopus.Action.Package.DownloadOnTentacle": "False"}}]},
            {"Name": "Deploy Web App", "Condition": "Success", "StartTrigger": "StartAfterPrevious", "PackageRequirement": "LetOctopusDecide",
             "Properties": {"Octopus.Action.TargetRoles": "OctoFX-Web"},
             "Actions": [{"Name": "Deploy Web App", "ActionType": "Octopus.TentaclePackage", "Environments": [], "ExcludedEnvironments": [], "Channels": [], "TenantTags": [],
                          "Packages": package("OctoFX.Web"),
                          "Properties": {"Octopus.Action.Package.PackageId": "OctoFX.Web", "Octopus.Action.Package.FeedId": builtin_feed,
                                         "Octopus.Action.IISWebSite.WebSiteName": "OctoFX"}}]},
            {"Name": "QA Approval", "Condition": "Success", "StartTrigger": "StartAfterPrevious", "PackageRequirement": "LetOctopusDecide",
             "Properties": {},
             "Actions": [{"Name": "QA Approval", "ActionType": "Octopus.Manual", "Environments": [test], "ExcludedEnvironments": [], "Channels": [], "TenantTags": [],
                          "Packages": [],
                          "Properties": {"Octopus.Action.Manual.Instructions": "QA: review the release in Test before integration tests start.",
                                         "Octopus.Action.Manual.ResponsibleTeamIds": team, "Octopus.Action.RunOnServer": "false"}}]},
            {"Name": "Run QA Smoke Tests", "Condition": "Success", "StartTrigger": "StartAfterPrevious", "PackageRequirement": "LetOctopusDecide",
             "Properties": {},
             "Actions": [{"Name": "Run QA Smoke Tests", "ActionType": "Octopus.Script", "Environments": [], "ExcludedEnvironments": [], "Channels": [qa_channel], "TenantTags": [],
                          "WorkerPoolId": pool, "Packages": [],
                          "Properties": {"Octopus.Action.RunOnServer": "true", "Octopus.Action.Script.ScriptSource": "Inline",
                                         "Octopus.Action.Script.Syntax": "Bash", "Octopus.Action.Script.ScriptBody": "./smoke-tests.sh \"#{QA.Test.Suite}\""}}]},
            {"Name": "Notify Team", "Condition": "Always", "StartTrigger": "StartAfterPrevious", "PackageRequirement": "LetOctopusDecide",
             "Properties": {},
             "Actions": [{"Name": "Notify Team", "ActionType": "Octopus.Script", "Environments": [], "ExcludedEnvironments": [], "Channels": [], "TenantTags": [],
                          "WorkerPoolId": pool, "Packages": [],
                          "Properties": {"Octopus.Action.RunOnServer": "true", "Octopus.Action.Template.Id": template, "Octopus.Action.Template.Version": "0",
                                         "Octopus.Action.Script.ScriptSource": "Inline", "Octopus.Action.Script.Syntax": "Bash",
                                         "Octopus.Action.Script.ScriptBody": "echo \"$(get_octopusvariable 'Notify.Message')\"",
                                         "Notify.Message": "OctoFX #{Octopus.Release.Number} is in #{Octopus.Environment.Name}"}}]}
        ]
    })).await?;
    let smoke_action = process["Steps"][3]["Actions"][0]["Id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let runbook = api.post(&format!("projects/{pid}/runbooks"), json!({
        "Name": "Refresh Test Database", "Description": "Restores last night's production-like backup into Test.",
        "EnvironmentScope": "Specified", "Environments": [test]
    })).await?;
    let runbook_id = id(&runbook);
    let rp_id = runbook["RunbookProcessId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let rp = api
        .get(&format!("projects/{pid}/runbookProcesses/{rp_id}"))
        .await?;
    api.put(&format!("projects/{pid}/runbookProcesses/{rp_id}"), json!({
        "Id": rp_id, "RunbookId": runbook_id, "ProjectId": pid, "Version": rp["Version"],
        "Steps": [{"Name": "Restore Database", "Condition": "Success", "StartTrigger": "StartAfterPrevious", "PackageRequirement": "LetOctopusDecide",
                   "Properties": {},
                   "Actions": [{"Name": "Restore Database", "ActionType": "Octopus.Script", "Environments": [], "ExcludedEnvironments": [], "Channels": [], "TenantTags": [],
                                "WorkerPoolId": pool, "Packages": [],
                                "Properties": {"Octopus.Action.RunOnServer": "true", "Octopus.Action.Script.ScriptSource": "Inline", "Octopus.Action.Script.Syntax": "Bash",
                                               "Octopus.Action.Script.ScriptBody": "restore-db --target \"#{Application.Database.Name}\" --from \"#{Runbook.Backup.Path}\""}}]}]
    })).await?;
    let vars = api.get(&format!("projects/{pid}/variables")).await?;
    api.put(&format!("projects/{pid}/variables"), json!({
        "Id": vars["Id"], "OwnerId": pid, "Version": vars["Version"],
        "Variables": [
            {"Name": "Application.Database.Name", "Value": "OctoFx-Dev", "Type": "String", "Scope": {"Environment": [dev]}},
            {"Name": "Application.Database.Name", "Value": "OctoFX-Test", "Type": "String", "Scope": {"Environment": [test]}},
            {"Name": "ConnectionString", "Value": "Database=#{Application.Database.Name}", "Type": "String", "Scope": {}},
            {"Name": "ConnectionString", "Value": "Data Source=#{Application.Database.Name}", "Type": "String", "Scope": {"Role": ["Oracle"]}},
            {"Name": "Application.Web.Url", "Value": "https://dev.octofx.example.invalid", "Type": "String", "Scope": {"Environment": [dev], "Role": ["OctoFX-Web"]}},
            {"Name": "Application.Web.Url", "Value": "https://test.octofx.example.invalid", "Type": "String", "Scope": {"Environment": [test], "Role": ["OctoFX-Web"]}},
            {"Name": "Application.Database.Password", "Value": "dev-test-secret", "Type": "Sensitive", "IsSensitive": true, "Scope": {}},
            {"Name": "Project.AWS.Account", "Value": account, "Type": "AmazonWebServicesAccount", "Scope": {}},
            {"Name": "Project.Worker.Pool", "Value": pool, "Type": "WorkerPool", "Scope": {}},
            {"Name": "Application.Web.BindingPort", "Value": "8081", "Type": "String", "Scope": {"Machine": [machines[0]]}},
            {"Name": "QA.Test.Suite", "Value": "smoke", "Type": "String", "Scope": {"Channel": [qa_channel]}},
            {"Name": "QA.Test.Timeout", "Value": "600", "Type": "String", "Scope": {"Action": [smoke_action]}},
            {"Name": "Runbook.Backup.Path", "Value": "s3://octofx-backups/nightly.bak", "Type": "String", "Scope": {"ProcessOwner": [runbook_id]}},
            {"Name": "Tenant.Banner", "Value": "Internal build", "Type": "String", "Scope": {"TenantTag": ["Tenant Type/Internal"]}},
            {"Name": "Release.Approver", "Value": "", "Type": "String", "Scope": {"Environment": [test]},
             "Prompt": {"Label": "Approver", "Description": "Who approved this release?", "Required": true, "DisplaySettings": {"Octopus.ControlType": "SingleLineText"}}}
        ]
    })).await?;
    let internal = api.post("tenants", json!({
        "Name": "Internal", "Description": "Our own deployments.", "TenantTags": ["Tenant Type/Internal"],
        "ProjectEnvironments": {pid.clone(): [dev, test]}
    })).await?;
    let team_a = api.post("tenants", json!({
        "Name": "Development Team A", "Description": "Team A's own copy of OctoFX.", "TenantTags": ["Tenant Type/Development Team"],
        "ProjectEnvironments": {pid.clone(): [dev]}
    })).await?;
    let project = api.get(&format!("projects/{pid}")).await?;
    let project_template = project["Templates"][0]["Id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let global_doc = api.get(&format!("libraryvariablesets/{global}")).await?;
    let global_template = global_doc["Templates"][0]["Id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for (tenant, alias, envs) in [
        (&internal, "internal", vec![dev.clone(), test.clone()]),
        (&team_a, "team-a", vec![dev.clone()]),
    ] {
        let tid = id(tenant);
        let current = api.get(&format!("tenants/{tid}/variables")).await?;
        let mut body = current.clone();
        for env in &envs {
            body["ProjectVariables"][&pid]["Variables"][env][&project_template] = json!(format!(
                "OctoFX-{alias}-{}",
                if env == &dev { "dev" } else { "test" }
            ));
        }
        body["LibraryVariables"][&global]["Variables"][&global_template] = json!(alias);
        api.post(&format!("tenants/{tid}/variables"), body).await?;
    }
    api.post("scopeduserroles", json!({
        "TeamId": team, "UserRoleId": "userroles-projectdeployer", "ProjectIds": [pid], "EnvironmentIds": [test],
        "TenantIds": [], "ProjectGroupIds": []
    })).await?;
    Ok(())
}

async fn staging_production(api: &Api) -> Result<(), Error> {
    api.post(
        "environments",
        json!({"Name": "Staging", "Description": "Last stop before production."}),
    )
    .await?;
    api.post("environments", json!({"Name": "Production", "Description": "Where customers are.", "UseGuidedFailure": true})).await?;
    tenant_tags(api).await?;
    aws_account(api, "Deploys OctoFX to the Staging/Production AWS account.").await?;
    ubuntu_pool(api).await?;
    api.post("tenants", json!({"Name": "Internal", "Description": "Our own deployments.", "TenantTags": ["Tenant Type/Internal"], "ProjectEnvironments": {}})).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    for (name, build) in [("dev-test", 0), ("staging-production", 1)] {
        let server = FakeServer::start(FakeConfig::default()).await?;
        let api = Api::new(&server);
        if build == 0 {
            dev_test(&api).await?;
        } else {
            staging_production(&api).await?;
        }
        let dir = root.join(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        server.write_snapshot(&dir)?;
        server.stop().await;
        println!("wrote {}", dir.display());
    }
    Ok(())
}
