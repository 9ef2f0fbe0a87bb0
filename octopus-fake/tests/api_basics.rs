//! The root document, spaces, authentication and routing, over real HTTP.

mod common;

use common::{names, start, start_with, Api};
use octopus_fake::{FakeConfig, Seed};
use serde_json::json;

#[tokio::test]
async fn root_document_is_anonymous_and_names_the_version() {
    let (server, _) = start(Seed::Empty).await;
    let root: serde_json::Value = reqwest::get(format!("{}/api", server.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(root["Application"], "Octopus Deploy");
    assert_eq!(root["Version"], "2024.2.1234");
    assert_eq!(root["ApiVersion"], "3.0.0");
    assert!(root["Links"]["Spaces"]
        .as_str()
        .unwrap()
        .starts_with("/api/spaces"));
    assert!(root["Links"]["Projects"]
        .as_str()
        .unwrap()
        .starts_with("/api/Spaces-1/projects"));
}

#[tokio::test]
async fn requests_need_the_right_api_key() {
    let (server, api) = start(Seed::Empty).await;
    let url = format!("{}/api/Spaces-1/environments", server.url());
    let none = reqwest::get(&url).await.unwrap();
    assert_eq!(none.status().as_u16(), 401);
    let body: serde_json::Value = none.json().await.unwrap();
    assert!(body["ErrorMessage"].as_str().unwrap().contains("API key"));
    let wrong = reqwest::Client::new()
        .get(&url)
        .header("X-Octopus-ApiKey", "API-WRONG")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let query = reqwest::get(format!("{url}?apikey={}", server.api_key()))
        .await
        .unwrap();
    assert_eq!(query.status().as_u16(), 200);
    assert_eq!(api.get("Spaces-1/environments").await.status, 200);
}

#[tokio::test]
async fn unknown_ids_and_routes_are_404_with_an_error_body() {
    let (_server, api) = start(Seed::Empty).await;
    let missing = api.get("Spaces-1/projects/Projects-999").await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body["ErrorMessage"],
        "The resource 'Projects-999' was not found."
    );
    assert!(missing.body["Errors"].is_array());
    assert_eq!(api.get("Spaces-1/releases").await.status, 404);
    assert_eq!(api.get("nothing-here").await.status, 404);
    assert_eq!(api.get("Spaces-77/projects").await.status, 404);
}

#[tokio::test]
async fn a_new_space_gets_its_built_ins() {
    let (_server, api) = start(Seed::Empty).await;
    let space = api.created("spaces", json!({"Name": "Platform Team", "Slug": "platform-team", "SpaceManagersTeams": [], "SpaceManagersTeamMembers": []})).await;
    let id = space["Id"].as_str().unwrap().to_owned();
    assert_eq!(id, "Spaces-2");
    assert_eq!(space["IsDefault"], false);
    let lifecycles = api.ok(&format!("{id}/lifecycles/all")).await;
    assert_eq!(names(&lifecycles), ["Default Lifecycle"]);
    assert_eq!(
        names(&api.ok(&format!("{id}/projectgroups/all")).await),
        ["Default Project Group"]
    );
    let pools = api.ok(&format!("{id}/workerpools/all")).await;
    assert_eq!(pools[0]["Name"], "Default Worker Pool");
    assert_eq!(pools[0]["IsDefault"], true);
    assert_eq!(pools[0]["WorkerPoolType"], "StaticWorkerPool");
    let policies = api.ok(&format!("{id}/machinepolicies/all")).await;
    assert_eq!(policies[0]["IsDefault"], true);
    let feeds = api.ok(&format!("{id}/feeds/all")).await;
    let types: Vec<_> = feeds
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["FeedType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["BuiltIn", "OctopusProject"]);
    let teams = names(&api.ok(&format!("{id}/teams/all")).await);
    assert!(teams.contains(&"Space Managers".to_owned()), "{teams:?}");
    assert!(teams.contains(&"Everyone".to_owned()), "{teams:?}");
    let fetched = api.ok(&format!("spaces/{id}")).await;
    assert_eq!(
        fetched["SpaceManagersTeams"],
        json!([format!("teams-spacemanagers-{id}")])
    );
    // Built-ins of one space are not those of another.
    assert_ne!(
        lifecycles[0]["Id"],
        api.named("lifecycles", "Default Lifecycle").await["Id"]
    );
}

#[tokio::test]
async fn space_slugs_follow_the_emulated_version() {
    let (_s, api) = start(Seed::Empty).await;
    let refused = api.post("spaces", json!({"Name": "No Slug"})).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.body["ErrorMessage"], "Model validation failed.");
    assert_eq!(
        refused.body["Errors"],
        json!(["The Slug field is required."])
    );

    let v2022_1 = FakeConfig::default().with_version("2022.1.5".parse().unwrap());
    let (_s, api) = start_with(v2022_1).await;
    let space = api.created("spaces", json!({"Name": "Web Apps"})).await;
    assert_eq!(space["Slug"], "web-apps");

    let v2021 = FakeConfig::default().with_version("2021.3.100".parse().unwrap());
    let (_s, api) = start_with(v2021).await;
    let space = api.created("spaces", json!({"Name": "Web Apps"})).await;
    assert!(space.get("Slug").is_none());
}

#[tokio::test]
async fn spaces_list_get_and_filter() {
    let (_s, api) = start(Seed::Empty).await;
    api.created("spaces", json!({"Name": "Second", "Slug": "second"}))
        .await;
    let page = api.ok("spaces?partialName=sec").await;
    assert_eq!(page["TotalResults"], 1);
    assert_eq!(page["Items"][0]["Name"], "Second");
    assert_eq!(names(&api.ok("spaces/all").await), ["Default", "Second"]);
    assert_eq!(api.ok("spaces/Spaces-1").await["IsDefault"], true);
}

#[tokio::test]
async fn space_root_and_alternative_space_routes() {
    let (_s, api) = start(Seed::DevTest).await;
    let home = api.ok("Spaces-1").await;
    assert_eq!(home["Id"], "Spaces-1");
    assert_eq!(
        home["Links"]["Projects"],
        "/api/Spaces-1/projects{/id}{?skip,take,ids,partialName}"
    );
    // Newer servers: unscoped collections mean the default space, and spaces by slug.
    assert_eq!(api.ok("projects/all").await[0]["Name"], "OctoFX");
    assert_eq!(
        api.ok("spaces/default/projects/all").await[0]["Name"],
        "OctoFX"
    );
}

#[tokio::test]
async fn path_prefix_serves_the_api_under_it() {
    let (server, api) = start_with(FakeConfig::default().with_path_prefix("/octopus/")).await;
    assert!(server.url().ends_with("/octopus"), "{}", server.url());
    let root: serde_json::Value = reqwest::get(format!("{}/api", server.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(root["Links"]["Self"], "/octopus/api");
    let page = api.ok("Spaces-1/environments").await;
    assert!(page["Links"]["Self"]
        .as_str()
        .unwrap()
        .starts_with("/octopus/api/Spaces-1/environments?"));
    let env = api
        .created("Spaces-1/environments", json!({"Name": "Dev"}))
        .await;
    assert_eq!(
        env["Links"]["Self"],
        format!(
            "/octopus/api/Spaces-1/environments/{}",
            env["Id"].as_str().unwrap()
        )
    );
    // Without the prefix there is nothing.
    let bare = format!("http://{}/api", server.addr());
    assert_eq!(reqwest::get(bare).await.unwrap().status().as_u16(), 404);
    let _ = Api::new(&server);
}

#[tokio::test]
async fn root_links_use_the_real_link_names() {
    let (_server, api) = start(Seed::Empty).await;
    let root = api.ok("").await;
    assert!(root["Links"]["ProjectGroups"]
        .as_str()
        .unwrap()
        .starts_with("/api/Spaces-1/projectgroups"));
    assert!(root["Links"]["LibraryVariableSets"]
        .as_str()
        .unwrap()
        .starts_with("/api/Spaces-1/libraryvariablesets"));
    assert_eq!(root["Links"]["CurrentUser"], "/api/users/me");
    let home = api.ok("Spaces-1").await;
    assert!(home["Links"]["RunbookProcesses"]
        .as_str()
        .unwrap()
        .starts_with("/api/Spaces-1/runbookProcesses"));
}

#[tokio::test]
async fn current_user_capabilities_and_feature_toggles() {
    let (_server, api) = start(Seed::Empty).await;
    assert_eq!(api.ok("users/me").await["Username"], "admin");
    assert_eq!(names(&api.ok("users/Users-1/spaces").await), ["Default"]);
    assert!(api.ok("capabilities").await["Capabilities"].is_array());
    let toggles = api.ok("configuration/feature-toggles").await;
    assert_eq!(toggles["FeatureToggles"][0]["IsEnabled"], false);
    let old = FakeConfig::default().with_version("2021.1.1".parse().unwrap());
    let (_s, api) = start_with(old).await;
    assert_eq!(api.get("capabilities").await.status, 404);
}

#[tokio::test]
async fn version_profiles_from_2020_to_2026() {
    let old = FakeConfig::seeded(Seed::DevTest).with_version("2020.1.0".parse().unwrap());
    let (_s, api) = start_with(old).await;
    assert_eq!(api.ok("").await["Version"], "2020.1.0");
    let group = api.named("projectgroups", "Default Project Group").await["Id"].clone();
    let lifecycle = api.named("lifecycles", "Default Lifecycle").await["Id"].clone();
    let project = api
        .created(
            "Spaces-1/projects",
            json!({"Name": "Legacy", "ProjectGroupId": group, "LifecycleId": lifecycle}),
        )
        .await;
    assert!(project.get("PersistenceSettings").is_none());
    assert!(project.get("Slug").is_none());
    let tenant = api.named("tenants", "Internal").await;
    let vars = api
        .ok(&format!(
            "Spaces-1/tenants/{}/variables",
            tenant["Id"].as_str().unwrap()
        ))
        .await;
    assert!(vars.get("ConcurrencyToken").is_none());

    let new = FakeConfig::seeded(Seed::DevTest).with_version("2026.1.42".parse().unwrap());
    let (_s, api) = start_with(new).await;
    let project = api
        .created(
            "Spaces-1/projects",
            json!({"Name": "Modern", "ProjectGroupId": group, "LifecycleId": lifecycle}),
        )
        .await;
    assert_eq!(project["PersistenceSettings"], json!({"Type": "Database"}));
    assert_eq!(project["Slug"], "modern");
    let tenant = api.named("tenants", "Internal").await;
    assert_eq!(
        api.get(&format!(
            "Spaces-1/tenants/{}/projectvariables",
            tenant["Id"].as_str().unwrap()
        ))
        .await
        .status,
        200
    );
}

#[tokio::test]
async fn deleting_a_space_needs_its_task_queue_stopped() {
    let (_s, api) = start(Seed::Empty).await;
    assert_eq!(api.delete("spaces/Spaces-1").await.status, 400);
    let mut space = api
        .created("spaces", json!({"Name": "Temp", "Slug": "temp"}))
        .await;
    assert_eq!(api.delete("spaces/Spaces-2").await.status, 400);
    space["TaskQueueStopped"] = json!(true);
    assert_eq!(api.put("spaces/Spaces-2", space).await.status, 200);
    assert_eq!(api.delete("spaces/Spaces-2").await.status, 200);
    assert_eq!(api.get("Spaces-2/environments").await.status, 404);
}

#[tokio::test]
async fn a_seed_loaded_into_an_older_version_loses_what_it_never_had() {
    let old = FakeConfig::seeded(Seed::DevTest).with_version("2020.1.0".parse().unwrap());
    let (_s, api) = start_with(old).await;
    let project = api.named("projects", "OctoFX").await;
    assert!(project.get("Slug").is_none());
    assert!(project.get("PersistenceSettings").is_none());
    assert_eq!(project["Name"], "OctoFX");
    let (_s, api) = start(Seed::DevTest).await;
    let project = api.named("projects", "OctoFX").await;
    assert_eq!(project["Slug"], "octofx");
}
