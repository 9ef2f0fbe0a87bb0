//! Generic collection behaviour over real HTTP: paging, `/all`, filters, create,
//! update, delete, validation and side effects.

mod common;

use std::collections::HashSet;

use common::{names, start, Api};
use octopus_fake::{Seed, Snapshot, SpaceSnapshot};
use serde_json::{json, Value};

/// Follows `Page.Next` from `first` and returns every item.
async fn follow_pages(api: &Api, first: &str) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut pages = 0;
    let mut next = Some(first.to_owned());
    while let Some(path) = next {
        let page = api.ok(&path).await;
        pages += 1;
        items.extend(page["Items"].as_array().unwrap().iter().cloned());
        next = page["Links"]["Page.Next"].as_str().map(str::to_owned);
    }
    (items, pages)
}

#[tokio::test]
async fn paging_past_30_follows_page_next() {
    let (_s, api) = start(Seed::Empty).await;
    for i in 0..75 {
        api.created(
            "Spaces-1/environments",
            json!({"Name": format!("Env {i:03}")}),
        )
        .await;
    }
    let first = api.ok("Spaces-1/environments").await;
    assert_eq!(first["ItemType"], "Environment");
    assert_eq!(first["TotalResults"], 75);
    assert_eq!(first["ItemsPerPage"], 30);
    assert_eq!(first["NumberOfPages"], 3);
    assert_eq!(first["LastPageNumber"], 2);
    assert_eq!(first["Items"].as_array().unwrap().len(), 30);
    assert_eq!(
        first["Links"]["Page.Next"],
        "/api/Spaces-1/environments?skip=30&take=30"
    );
    assert_eq!(
        first["Links"]["Page.All"],
        "/api/Spaces-1/environments?skip=0&take=2147483647"
    );
    let (items, pages) = follow_pages(&api, "Spaces-1/environments").await;
    assert_eq!(pages, 3);
    let ids: HashSet<_> = items
        .iter()
        .map(|i| i["Id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 75);
    let last = api.ok("Spaces-1/environments?skip=60").await;
    assert_eq!(last["Items"].as_array().unwrap().len(), 15);
    assert!(last["Links"].get("Page.Next").is_none());
}

fn many_environments(n: usize) -> Snapshot {
    let mut space = SpaceSnapshot::new("Default");
    let envs = space.collection_mut("environments");
    for i in 1..=n {
        envs.push(json!({"Id": format!("Environments-{i}"), "Name": format!("Env {i:04}"), "SpaceId": "Spaces-1"}));
    }
    Snapshot {
        spaces: vec![space],
    }
}

#[tokio::test]
async fn paging_past_1000_and_the_page_all_link() {
    let (_s, api) = start(Seed::Snapshot(many_environments(1234))).await;
    let (items, pages) = follow_pages(&api, "Spaces-1/environments?take=100").await;
    assert_eq!(pages, 13);
    assert_eq!(items.len(), 1234);
    assert_eq!(items[1233]["Name"], "Env 1234");
    let first = api.ok("Spaces-1/environments").await;
    assert_eq!(first["NumberOfPages"], 42);
    let everything = api.ok(first["Links"]["Page.All"].as_str().unwrap()).await;
    assert_eq!(everything["Items"].as_array().unwrap().len(), 1234);
    assert!(everything["Links"].get("Page.Next").is_none());
    assert_eq!(
        api.ok("Spaces-1/environments/all")
            .await
            .as_array()
            .unwrap()
            .len(),
        1234
    );
    // Ids continue after the loaded ones.
    let new = api
        .created("Spaces-1/environments", json!({"Name": "Fresh"}))
        .await;
    assert_eq!(new["Id"], "Environments-1235");
}

#[tokio::test]
async fn name_filters_behave_like_the_real_server() {
    let (_s, api) = start(Seed::DevTest).await;
    let partial = api.ok("Spaces-1/environments?partialName=EVEL").await;
    assert_eq!(names(&partial["Items"]), ["Development"]);
    // `name` is exact on environments…
    assert_eq!(
        api.ok("Spaces-1/environments?name=Dev").await["TotalResults"],
        0
    );
    assert_eq!(
        api.ok("Spaces-1/environments?name=development").await["TotalResults"],
        1
    );
    // …and a "contains" match on projects and tenants.
    assert_eq!(
        api.ok("Spaces-1/projects?name=Octo").await["TotalResults"],
        1
    );
    assert_eq!(
        api.ok("Spaces-1/tenants?name=team").await["TotalResults"],
        1
    );
    let envs = api.ok("Spaces-1/environments/all").await;
    let ids: Vec<&str> = envs
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Id"].as_str().unwrap())
        .collect();
    let by_ids = api
        .ok(&format!(
            "Spaces-1/environments?ids={},Environments-99",
            ids[1]
        ))
        .await;
    assert_eq!(names(&by_ids["Items"]), ["Test"]);
    let by_ids_all = api
        .ok(&format!("Spaces-1/environments/all?ids={}", ids.join(",")))
        .await;
    assert_eq!(by_ids_all.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn filters_are_kept_in_page_links() {
    let (_s, api) = start(Seed::Empty).await;
    for i in 0..5 {
        api.created(
            "Spaces-1/environments",
            json!({"Name": format!("Blue {i}")}),
        )
        .await;
        api.created("Spaces-1/environments", json!({"Name": format!("Red {i}")}))
            .await;
    }
    let page = api
        .ok("Spaces-1/environments?partialName=blue&take=2")
        .await;
    assert_eq!(page["TotalResults"], 5);
    let next = page["Links"]["Page.Next"].as_str().unwrap();
    assert!(next.contains("partialName=blue"), "{next}");
    let (items, _) = follow_pages(&api, "Spaces-1/environments?partialName=blue&take=2").await;
    assert_eq!(items.len(), 5);
    assert!(names(&Value::Array(items))
        .iter()
        .all(|n| n.starts_with("Blue")));
}

#[tokio::test]
async fn kind_specific_list_filters() {
    let (_s, api) = start(Seed::DevTest).await;
    let project = api.named("projects", "OctoFX").await;
    let pid = project["Id"].as_str().unwrap();
    let connected = api.ok(&format!("Spaces-1/tenants?projectId={pid}")).await;
    assert_eq!(connected["TotalResults"], 2);
    api.created("Spaces-1/tenants", json!({"Name": "Unconnected"}))
        .await;
    assert_eq!(
        api.ok(&format!("Spaces-1/tenants/all?projectId={pid}"))
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let internal = api.ok("Spaces-1/tenants?tags=Tenant%20Type/Internal").await;
    assert_eq!(names(&internal["Items"]), ["Internal"]);
    let either = api
        .ok("Spaces-1/tenants?tags=Tenant%20Type/Internal,Tenant%20Type/Development%20Team")
        .await;
    assert_eq!(either["TotalResults"], 2);
    let docker = api.ok("Spaces-1/feeds?feedType=Docker").await;
    assert_eq!(names(&docker["Items"]), ["Docker Hub"]);
    let modules = api
        .ok("Spaces-1/libraryvariablesets?contentType=ScriptModule")
        .await;
    assert_eq!(names(&modules["Items"]), ["Logging Helpers"]);
    let sets = api
        .ok("Spaces-1/libraryvariablesets?contentType=Variables")
        .await;
    assert_eq!(names(&sets["Items"]), ["Global"]);
}

#[tokio::test]
async fn create_answers_201_with_the_stored_resource() {
    let (_s, api) = start(Seed::Empty).await;
    let env = api
        .created(
            "Spaces-1/environments",
            json!({"Name": "Quality Assurance", "Slug": "", "NotModelled": {"Kept": true}}),
        )
        .await;
    assert_eq!(env["Id"], "Environments-1");
    assert_eq!(env["SpaceId"], "Spaces-1");
    assert_eq!(env["Slug"], "quality-assurance");
    assert_eq!(
        env["Links"]["Self"],
        "/api/Spaces-1/environments/Environments-1"
    );
    assert!(env["LastModifiedOn"].as_str().unwrap().ends_with("+00:00"));
    // A field no server has for environments is not kept, as a typed server drops it.
    assert!(env.get("NotModelled").is_none(), "{env}");
    assert_eq!(api.ok("Spaces-1/environments/Environments-1").await, env);
    // Slugs stay unique.
    let again = api
        .created(
            "Spaces-1/environments",
            json!({"Name": "Quality  Assurance!"}),
        )
        .await;
    assert_eq!(again["Slug"], "quality-assurance-1");
}

#[tokio::test]
async fn names_are_unique_per_kind_and_space() {
    let (_s, api) = start(Seed::Empty).await;
    api.created("Spaces-1/environments", json!({"Name": "Test"}))
        .await;
    let dup = api
        .post("Spaces-1/environments", json!({"Name": " test "}))
        .await;
    assert_eq!(dup.status, 400);
    assert!(dup.body["ErrorMessage"]
        .as_str()
        .unwrap()
        .contains("already exists"));
    // Another kind may reuse the name.
    api.created("Spaces-1/tenants", json!({"Name": "Test"}))
        .await;
    // Channel names are unique per project only.
    let group = api.named("projectgroups", "Default Project Group").await["Id"].clone();
    let lifecycle = api.named("lifecycles", "Default Lifecycle").await["Id"].clone();
    for name in ["A", "B"] {
        let p = api
            .created(
                "Spaces-1/projects",
                json!({"Name": name, "ProjectGroupId": group, "LifecycleId": lifecycle}),
            )
            .await;
        let pid = p["Id"].as_str().unwrap();
        api.created(
            &format!("Spaces-1/projects/{pid}/channels"),
            json!({"Name": "Hotfix"}),
        )
        .await;
        let dup = api
            .post(
                &format!("Spaces-1/projects/{pid}/channels"),
                json!({"Name": "HOTFIX"}),
            )
            .await;
        assert_eq!(dup.status, 400);
    }
}

#[tokio::test]
async fn required_fields_and_references_give_model_validation_failed() {
    let (_s, api) = start(Seed::Empty).await;
    let missing = api
        .post("Spaces-1/projects", json!({"Description": "no name"}))
        .await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.body["ErrorMessage"], "Model validation failed.");
    assert_eq!(
        missing.body["Errors"],
        json!([
            "The Name field is required.",
            "The ProjectGroupId field is required.",
            "The LifecycleId field is required."
        ])
    );
    let dangling = api.post("Spaces-1/projects", json!({"Name": "X", "ProjectGroupId": "ProjectGroups-99", "LifecycleId": "Lifecycles-99"})).await;
    assert_eq!(dangling.status, 400);
    assert_eq!(dangling.body["Errors"].as_array().unwrap().len(), 2);
    let no_body = api
        .call(reqwest::Method::POST, "Spaces-1/environments", None)
        .await;
    assert_eq!(no_body.status, 400);
    assert_eq!(
        no_body.body["ErrorMessage"],
        "No request body was supplied."
    );
    let persistence = api.post("Spaces-1/projects", json!({"Name": "X", "ProjectGroupId": "ProjectGroups-1", "LifecycleId": "Lifecycles-1", "PersistenceSettings": {"Type": "Database"}})).await;
    assert_eq!(persistence.status, 400);
}

#[tokio::test]
async fn update_and_delete() {
    let (_s, api) = start(Seed::Empty).await;
    let env = api
        .created("Spaces-1/environments", json!({"Name": "Stage"}))
        .await;
    let mut body = env.clone();
    body["Name"] = json!("Staging");
    body["Description"] = json!("renamed");
    body["Extra"] = json!([1, 2]);
    let updated = api.put("Spaces-1/environments/Environments-1", body).await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.body["Name"], "Staging");
    assert_eq!(updated.body["Slug"], "stage");
    assert!(updated.body.get("Extra").is_none());
    assert_eq!(
        api.ok("Spaces-1/environments/environments-1").await["Description"],
        "renamed"
    );
    assert_eq!(
        api.put("Spaces-1/environments/Environments-9", json!({"Name": "x"}))
            .await
            .status,
        404
    );
    assert_eq!(
        api.delete("Spaces-1/environments/Environments-1")
            .await
            .status,
        200
    );
    assert_eq!(
        api.get("Spaces-1/environments/Environments-1").await.status,
        404
    );
    assert_eq!(
        api.delete("Spaces-1/environments/Environments-1")
            .await
            .status,
        404
    );
    let builtin = api.get("Spaces-1/feeds/feeds-builtin").await.body;
    let gone = api
        .delete(&format!(
            "Spaces-1/feeds/{}",
            builtin["Id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(gone.status, 400);
    assert_eq!(
        gone.body["ErrorMessage"],
        "This resource is read-only and cannot be deleted."
    );
}

#[tokio::test]
async fn creates_bring_their_documents_with_them() {
    let (_s, api) = start(Seed::Empty).await;
    let group = api.named("projectgroups", "Default Project Group").await["Id"].clone();
    let lifecycle = api.named("lifecycles", "Default Lifecycle").await["Id"].clone();
    let project = api
        .created(
            "Spaces-1/projects",
            json!({"Name": "OctoFX", "ProjectGroupId": group, "LifecycleId": lifecycle}),
        )
        .await;
    let pid = project["Id"].as_str().unwrap().to_owned();
    assert_eq!(
        project["DeploymentProcessId"],
        format!("deploymentprocess-{pid}")
    );
    assert_eq!(project["VariableSetId"], format!("variableset-{pid}"));
    assert_eq!(project["Slug"], "octofx");
    let process = api
        .ok(&format!("Spaces-1/projects/{pid}/deploymentprocesses"))
        .await;
    assert_eq!(process["Id"], format!("deploymentprocess-{pid}"));
    assert_eq!(process["ProjectId"], pid.as_str());
    assert_eq!(process["Steps"], json!([]));
    let vars = api.ok(&format!("Spaces-1/projects/{pid}/variables")).await;
    assert_eq!(vars["OwnerId"], pid.as_str());
    let channels = api.ok(&format!("Spaces-1/projects/{pid}/channels")).await;
    assert_eq!(channels["TotalResults"], 1);
    assert_eq!(channels["Items"][0]["Name"], "Default");
    assert_eq!(channels["Items"][0]["IsDefault"], true);

    let runbook = api
        .created(
            &format!("Spaces-1/projects/{pid}/runbooks"),
            json!({"Name": "Restart"}),
        )
        .await;
    let rid = runbook["Id"].as_str().unwrap().to_owned();
    assert_eq!(runbook["ProjectId"], pid.as_str());
    let rp_id = runbook["RunbookProcessId"].as_str().unwrap().to_owned();
    assert_eq!(rp_id, format!("RunbookProcess-{rid}"));
    let rp = api
        .ok(&format!("Spaces-1/projects/{pid}/runbookProcesses/{rp_id}"))
        .await;
    assert_eq!(rp["RunbookId"], rid.as_str());
    assert_eq!(
        api.ok(&format!("Spaces-1/runbookProcesses/{rp_id}")).await["Id"],
        rp_id.as_str()
    );
    assert_eq!(
        api.ok(&format!("Spaces-1/projects/{pid}/runbooks/{rid}"))
            .await["Name"],
        "Restart"
    );
    assert_eq!(
        api.ok(&format!("Spaces-1/projects/{pid}/runbooks")).await["TotalResults"],
        1
    );

    let lvs = api
        .created("Spaces-1/libraryvariablesets", json!({"Name": "Shared"}))
        .await;
    assert_eq!(lvs["ContentType"], "Variables");
    let set = api
        .ok(&format!(
            "Spaces-1/variables/{}",
            lvs["VariableSetId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(set["OwnerId"], lvs["Id"]);

    // Deleting the project takes its documents with it.
    assert_eq!(
        api.delete(&format!("Spaces-1/projects/{pid}")).await.status,
        200
    );
    assert_eq!(
        api.get(&format!(
            "Spaces-1/deploymentprocesses/deploymentprocess-{pid}"
        ))
        .await
        .status,
        404
    );
    assert_eq!(
        api.get(&format!("Spaces-1/variables/variableset-{pid}"))
            .await
            .status,
        404
    );
    assert_eq!(
        api.get(&format!("Spaces-1/runbooks/{rid}")).await.status,
        404
    );
    assert_eq!(api.ok("Spaces-1/channels/all").await, json!([]));
}

#[tokio::test]
async fn project_sub_routes_stay_inside_their_project() {
    let (_s, api) = start(Seed::DevTest).await;
    let octofx = api.named("projects", "OctoFX").await;
    let pid = octofx["Id"].as_str().unwrap();
    let other = api.created("Spaces-1/projects", json!({"Name": "Other", "ProjectGroupId": octofx["ProjectGroupId"], "LifecycleId": octofx["LifecycleId"]})).await;
    let oid = other["Id"].as_str().unwrap();
    let runbook = api.named("runbooks", "Refresh Test Database").await;
    let rid = runbook["Id"].as_str().unwrap();
    assert_eq!(
        api.get(&format!("Spaces-1/projects/{pid}/runbooks/{rid}"))
            .await
            .status,
        200
    );
    assert_eq!(
        api.get(&format!("Spaces-1/projects/{oid}/runbooks/{rid}"))
            .await
            .status,
        404
    );
    let channels = api.ok(&format!("Spaces-1/projects/{pid}/channels")).await;
    assert_eq!(names(&channels["Items"]), ["Default", "QA"]);
    assert_eq!(
        names(
            &api.ok(&format!("Spaces-1/projects/{oid}/channels/all"))
                .await
        ),
        ["Default"]
    );
    assert_eq!(
        api.get(&format!("Spaces-1/projects/{pid}/nothing"))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn step_templates_from_the_community_library_install_into_a_space() {
    let (_s, api) = start(Seed::Empty).await;
    let library = api.ok("communityactiontemplates").await["Items"].clone();
    let cid = library[0]["Id"].as_str().unwrap().to_owned();
    let installed = api
        .created(
            &format!("communityactiontemplates/{cid}/installation/Spaces-1"),
            json!({}),
        )
        .await;
    assert_eq!(installed["CommunityActionTemplateId"], cid.as_str());
    assert_eq!(installed["Name"], library[0]["Name"]);
    assert_eq!(installed["Version"], 0);
    assert!(installed["Id"]
        .as_str()
        .unwrap()
        .starts_with("ActionTemplates-"));
    let again = api
        .post(
            &format!("communityactiontemplates/{cid}/installation"),
            json!({}),
        )
        .await;
    assert_eq!(again.status, 400);
    let updated = api
        .put(
            &format!("communityactiontemplates/{cid}/installation/Spaces-1"),
            json!({}),
        )
        .await;
    assert_eq!(updated.status, 200);
    assert_eq!(
        api.post(
            &format!("Spaces-1/communityactiontemplates/{cid}/installation"),
            json!({})
        )
        .await
        .status,
        404
    );
    assert_eq!(updated.body["Version"], 1);
}

#[tokio::test]
async fn system_collections() {
    let (_s, api) = start(Seed::Empty).await;
    // As on the real server, user roles have no `/all`.
    assert_eq!(api.get("userroles/all").await.status, 404);
    let roles = api.ok("userroles?take=100").await["Items"].clone();
    assert!(names(&roles).contains(&"Project deployer".to_owned()));
    assert_eq!(
        api.ok("userroles/userroles-projectdeployer").await["Name"],
        "Project deployer"
    );
    let users = api.ok("users?partialName=adm").await;
    assert_eq!(users["Items"][0]["Username"], "admin");
    let role = api
        .created(
            "userroles",
            json!({"Name": "Auditor", "GrantedSpacePermissions": ["AuditView"]}),
        )
        .await;
    assert!(role["Id"].as_str().unwrap().starts_with("UserRoles-"));
}

#[tokio::test]
async fn tenants_must_connect_to_existing_projects_and_environments() {
    let (_s, api) = start(Seed::DevTest).await;
    let refused = api
        .post(
            "Spaces-1/tenants",
            json!({"Name": "Ghost", "ProjectEnvironments": {"Projects-404": ["Environments-404"]}}),
        )
        .await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.body["Errors"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_hand_made_snapshot_of_500_projects_gets_built_ins_and_pages() {
    let mut space = SpaceSnapshot::new("Default");
    for i in 1..=500 {
        space.collection_mut("projects").push(json!({
            "Id": format!("Projects-{i}"), "Name": format!("Service {i:03}"),
            "ProjectGroupId": "ProjectGroups-1", "LifecycleId": "Lifecycles-1",
            "DeploymentProcessId": format!("deploymentprocess-Projects-{i}"),
            "VariableSetId": format!("variableset-Projects-{i}"),
        }));
    }
    let (_s, api) = start(Seed::Snapshot(Snapshot {
        spaces: vec![space],
    }))
    .await;
    assert_eq!(
        api.ok("Spaces-1/lifecycles/Lifecycles-1").await["Name"],
        "Default Lifecycle"
    );
    assert_eq!(
        api.ok("Spaces-1/projectgroups/ProjectGroups-1").await["Name"],
        "Default Project Group"
    );
    let (items, pages) = follow_pages(&api, "Spaces-1/projects").await;
    assert_eq!((items.len(), pages), (500, 17));
    assert_eq!(
        api.ok("Spaces-1/variables/all")
            .await
            .as_array()
            .unwrap()
            .len(),
        500
    );
    assert_eq!(
        api.ok("Spaces-1/projects/Projects-500/deploymentprocesses")
            .await["Steps"],
        json!([])
    );
    assert_eq!(
        names(&api.ok("Spaces-1/projects/Projects-7/channels").await["Items"]),
        ["Default"]
    );
    let next = api.created("Spaces-1/projects", json!({"Name": "New", "ProjectGroupId": "ProjectGroups-1", "LifecycleId": "Lifecycles-1"})).await;
    assert_eq!(next["Id"], "Projects-501");
}

#[tokio::test]
async fn optional_references_are_checked_when_given_and_projects_resolve_by_slug() {
    let (_s, api) = start(Seed::DevTest).await;
    let project = api.named("projects", "OctoFX").await;
    let pid = project["Id"].as_str().unwrap();
    let bad = api
        .post(
            &format!("Spaces-1/projects/{pid}/channels"),
            json!({"Name": "Broken", "LifecycleId": "Lifecycles-404"}),
        )
        .await;
    assert_eq!(bad.status, 400);
    let none = api
        .post(
            &format!("Spaces-1/projects/{pid}/channels"),
            json!({"Name": "Inherits", "LifecycleId": null}),
        )
        .await;
    assert_eq!(none.status, 201);
    assert_eq!(api.ok("Spaces-1/projects/octofx").await["Id"], pid);
}

#[tokio::test]
async fn a_new_default_channel_or_pool_takes_the_flag() {
    let (_s, api) = start(Seed::DevTest).await;
    let project = api.named("projects", "OctoFX").await;
    let pid = project["Id"].as_str().unwrap();
    api.created(
        &format!("Spaces-1/projects/{pid}/channels"),
        json!({"Name": "Mainline", "IsDefault": true}),
    )
    .await;
    let channels = api
        .ok(&format!("Spaces-1/projects/{pid}/channels/all"))
        .await;
    let defaults: Vec<_> = channels
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["IsDefault"] == true)
        .map(|c| c["Name"].as_str().unwrap())
        .collect();
    assert_eq!(defaults, ["Mainline"]);
    let mut pool = api.named("workerpools", "Ubuntu Worker Pool").await;
    pool["IsDefault"] = json!(true);
    assert_eq!(
        api.put(
            &format!("Spaces-1/workerpools/{}", pool["Id"].as_str().unwrap()),
            pool
        )
        .await
        .status,
        200
    );
    assert_eq!(
        api.named("workerpools", "Default Worker Pool").await["IsDefault"],
        false
    );
}

#[tokio::test]
async fn a_sort_order_put_reorders_the_list_and_needs_every_id() {
    let (_s, api) = start(Seed::DevTest).await;
    let ids = |items: &Value| -> Vec<String> {
        items
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["Id"].as_str().unwrap().to_owned())
            .collect()
    };
    let before = ids(&api.ok("Spaces-1/environments/all").await);
    assert!(before.len() >= 2);
    let mut reversed = before.clone();
    reversed.reverse();
    let put = api
        .put("Spaces-1/environments/sortorder", json!(reversed))
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    let after = api.ok("Spaces-1/environments/all").await;
    assert_eq!(ids(&after), reversed);
    assert_eq!(after[0]["SortOrder"], 0);
    assert_eq!(
        ids(&api.ok("Spaces-1/environments").await["Items"]),
        reversed
    );
    let partial = api
        .put("Spaces-1/environments/sortorder", json!(&reversed[..1]))
        .await;
    assert_eq!(partial.status, 400);
    assert_eq!(
        ids(&api.ok("Spaces-1/environments/all").await),
        reversed,
        "a refused order changes nothing"
    );
}
