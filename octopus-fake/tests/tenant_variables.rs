//! Tenant variables over real HTTP: the old shape (all versions), POST and PUT, the
//! concurrency token, the bulk read, and the newer common/project endpoints.

mod common;

use common::{start, start_with, Api};
use octopus_fake::{FakeConfig, Seed};
use serde_json::{json, Value};

struct Example {
    tenant: String,
    project: String,
    dev: String,
    test: String,
    project_template: String,
    global: String,
    global_template: String,
}

async fn example(api: &Api) -> Example {
    let project = api.named("projects", "OctoFX").await;
    let global = api.named("libraryvariablesets", "Global").await;
    Example {
        tenant: api.named("tenants", "Internal").await["Id"]
            .as_str()
            .unwrap()
            .to_owned(),
        project: project["Id"].as_str().unwrap().to_owned(),
        dev: api.named("environments", "Development").await["Id"]
            .as_str()
            .unwrap()
            .to_owned(),
        test: api.named("environments", "Test").await["Id"]
            .as_str()
            .unwrap()
            .to_owned(),
        project_template: project["Templates"][0]["Id"].as_str().unwrap().to_owned(),
        global: global["Id"].as_str().unwrap().to_owned(),
        global_template: global["Templates"][0]["Id"].as_str().unwrap().to_owned(),
    }
}

#[tokio::test]
async fn old_shape_is_composed_from_connected_projects() {
    let (_s, api) = start(Seed::DevTest).await;
    let e = example(&api).await;
    let doc = api
        .ok(&format!("Spaces-1/tenants/{}/variables", e.tenant))
        .await;
    assert_eq!(doc["TenantName"], "Internal");
    let project = &doc["ProjectVariables"][&e.project];
    assert_eq!(project["ProjectName"], "OctoFX");
    assert_eq!(project["Templates"][0]["Name"], "Tenant.Database.Name");
    assert_eq!(
        project["Variables"][&e.dev][&e.project_template],
        "OctoFX-internal-dev"
    );
    assert_eq!(
        project["Variables"][&e.test][&e.project_template],
        "OctoFX-internal-test"
    );
    assert_eq!(
        doc["LibraryVariables"][&e.global]["Variables"][&e.global_template],
        "internal"
    );
    assert!(doc["ConcurrencyToken"].is_string());
}

#[tokio::test]
async fn post_and_put_both_write_and_the_token_guards_them() {
    let (server, api) = start(Seed::DevTest).await;
    let e = example(&api).await;
    let path = format!("Spaces-1/tenants/{}/variables", e.tenant);
    let mut doc = api.ok(&path).await;
    doc["ProjectVariables"][&e.project]["Variables"][&e.dev][&e.project_template] =
        json!("changed-by-post");
    let posted = api.post(&path, doc.clone()).await;
    assert_eq!(posted.status, 200, "{}", posted.body);
    assert_eq!(
        posted.body["ProjectVariables"][&e.project]["Variables"][&e.dev][&e.project_template],
        "changed-by-post"
    );
    assert_ne!(posted.body["ConcurrencyToken"], doc["ConcurrencyToken"]);

    // The token read before the POST is stale now.
    let stale = api.put(&path, doc).await;
    assert_eq!(stale.status, 400);

    let mut fresh = posted.body.clone();
    fresh["LibraryVariables"][&e.global]["Variables"][&e.global_template] =
        json!({"HasValue": true, "NewValue": "hidden"});
    let put = api.put(&path, fresh).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(
        put.body["LibraryVariables"][&e.global]["Variables"][&e.global_template],
        json!({"HasValue": true, "NewValue": null, "Hint": null})
    );
    let key = format!(
        "LibraryVariables.{}.Variables.{}",
        e.global, e.global_template
    );
    assert_eq!(
        server
            .sensitive_value(&format!("tenantvariables-{}", e.tenant), &key)
            .as_deref(),
        Some("hidden")
    );
    // Values for templates left out are gone.
    let mut emptied = put.body.clone();
    emptied["ProjectVariables"][&e.project]["Variables"][&e.test] = json!({});
    let after = api.put(&path, emptied).await.body;
    assert_eq!(
        after["ProjectVariables"][&e.project]["Variables"][&e.test],
        json!({})
    );
}

#[tokio::test]
async fn bulk_read_filters_by_project() {
    let (_s, api) = start(Seed::DevTest).await;
    let e = example(&api).await;
    let all = api.ok("Spaces-1/tenantvariables/all").await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    api.created("Spaces-1/tenants", json!({"Name": "Loner"}))
        .await;
    let connected = api
        .ok(&format!(
            "Spaces-1/tenantvariables/all?projectId={}",
            e.project
        ))
        .await;
    let names: Vec<_> = connected
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["TenantName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Internal", "Development Team A"]);
}

#[tokio::test]
async fn newer_endpoints_exist_from_2025_1() {
    let (_s, old) = start(Seed::DevTest).await;
    let e = example(&old).await;
    for flavour in ["commonvariables", "projectvariables"] {
        assert_eq!(
            old.get(&format!("Spaces-1/tenants/{}/{flavour}", e.tenant))
                .await
                .status,
            404
        );
    }

    let config = FakeConfig::seeded(Seed::DevTest).with_version("2025.1.7559".parse().unwrap());
    let (_s, api) = start_with(config).await;
    let common = api
        .ok(&format!(
            "Spaces-1/tenants/{}/commonvariables?includeMissingVariables=true",
            e.tenant
        ))
        .await;
    let vars = common["Variables"].as_array().unwrap();
    assert_eq!(vars.len(), 1);
    assert_eq!(vars[0]["LibraryVariableSetName"], "Global");
    assert_eq!(vars[0]["Value"], "internal");
    assert_eq!(common["MissingVariables"], json!([]));

    let project = api
        .ok(&format!("Spaces-1/tenants/{}/projectvariables", e.tenant))
        .await;
    let values: Vec<&Value> = project["Variables"].as_array().unwrap().iter().collect();
    assert_eq!(values.len(), 2);
    assert!(values
        .iter()
        .any(|v| v["Scope"]["EnvironmentIds"] == json!([e.test])
            && v["Value"] == "OctoFX-internal-test"));

    // The body is the complete set: leaving out Test deletes its value.
    let body = json!({
        "TenantId": e.tenant, "ConcurrencyToken": project["ConcurrencyToken"],
        "Variables": [{"ProjectId": e.project, "TemplateId": e.project_template, "Value": "only-dev", "Scope": {"EnvironmentIds": [e.dev]}}]
    });
    let saved = api
        .put(
            &format!(
                "Spaces-1/tenants/{}/projectvariables?includeMissingVariables=true",
                e.tenant
            ),
            body,
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert_eq!(saved.body["Variables"].as_array().unwrap().len(), 1);
    assert_eq!(
        saved.body["MissingVariables"][0]["Scope"]["EnvironmentIds"],
        json!([e.test])
    );
    let old_shape = api
        .ok(&format!("Spaces-1/tenants/{}/variables", e.tenant))
        .await;
    assert_eq!(
        old_shape["ProjectVariables"][&e.project]["Variables"][&e.dev][&e.project_template],
        "only-dev"
    );
    // Common variables written with the documented owner field name.
    let common_body = json!({"Variables": [{"OwnerId": e.global, "TemplateId": e.global_template, "Value": "renamed", "Scope": {"EnvironmentIds": []}}]});
    let saved = api
        .post(
            &format!("Spaces-1/tenants/{}/commonvariables", e.tenant),
            common_body,
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert_eq!(saved.body["Variables"][0]["Value"], "renamed");
}

#[tokio::test]
async fn values_of_sensitive_templates_become_secrets() {
    let (server, api) = start(Seed::DevTest).await;
    let e = example(&api).await;
    let lvs = api.created("Spaces-1/libraryvariablesets", json!({
        "Name": "Secrets", "Templates": [{"Name": "Api.Token", "Label": "Token", "DisplaySettings": {"Octopus.ControlType": "Sensitive"}}]
    })).await;
    let lid = lvs["Id"].as_str().unwrap().to_owned();
    let template = lvs["Templates"][0]["Id"].as_str().unwrap().to_owned();
    let mut project = api.ok(&format!("Spaces-1/projects/{}", e.project)).await;
    project["IncludedLibraryVariableSetIds"]
        .as_array_mut()
        .unwrap()
        .push(json!(lid));
    assert_eq!(
        api.put(&format!("Spaces-1/projects/{}", e.project), project)
            .await
            .status,
        200
    );
    let path = format!("Spaces-1/tenants/{}/variables", e.tenant);
    let mut doc = api.ok(&path).await;
    doc["LibraryVariables"][&lid]["Variables"][&template] = json!("tok-123");
    let saved = api.post(&path, doc).await.body;
    assert_eq!(
        saved["LibraryVariables"][&lid]["Variables"][&template]["HasValue"],
        true
    );
    assert!(!saved.to_string().contains("tok-123"));
    let key = format!("LibraryVariables.{lid}.Variables.{template}");
    assert_eq!(
        server
            .sensitive_value(&format!("tenantvariables-{}", e.tenant), &key)
            .as_deref(),
        Some("tok-123")
    );
    // Sending back what was read keeps it.
    let again = api.put(&path, saved).await.body;
    assert_eq!(
        again["LibraryVariables"][&lid]["Variables"][&template]["HasValue"],
        true
    );
    assert_eq!(
        server
            .sensitive_value(&format!("tenantvariables-{}", e.tenant), &key)
            .as_deref(),
        Some("tok-123")
    );
}

#[tokio::test]
async fn the_made_up_per_tenant_route_answers_404() {
    let (_s, api) = start(Seed::DevTest).await;
    let e = example(&api).await;
    let path = format!("Spaces-1/tenantvariables/{}", e.tenant);
    let doc = api
        .ok(&format!("Spaces-1/tenants/{}/variables", e.tenant))
        .await;
    assert_eq!(api.get(&path).await.status, 404);
    assert_eq!(api.put(&path, doc.clone()).await.status, 404);
    assert_eq!(api.post(&path, doc).await.status, 404);
    assert_eq!(api.get("Spaces-1/tenantvariables").await.status, 404);
    assert_eq!(api.get("Spaces-1/tenantvariables/all").await.status, 200);
}

#[tokio::test]
async fn the_newer_endpoints_check_the_concurrency_token() {
    let config = FakeConfig::seeded(Seed::DevTest).with_version("2025.1.7559".parse().unwrap());
    let (_s, api) = start_with(config).await;
    let e = example(&api).await;
    let path = format!("Spaces-1/tenants/{}/commonvariables", e.tenant);
    let read = api.ok(&path).await;
    let body = |value: &str, token: &Value| {
        json!({"TenantId": e.tenant, "ConcurrencyToken": token, "Variables": [
            {"LibraryVariableSetId": e.global, "TemplateId": e.global_template, "Value": value, "Scope": {"EnvironmentIds": []}}
        ]})
    };
    let first = api.put(&path, body("one", &read["ConcurrencyToken"])).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let stale = api.put(&path, body("two", &read["ConcurrencyToken"])).await;
    assert_eq!(stale.status, 400, "{}", stale.body);
    assert_eq!(api.ok(&path).await["Variables"][0]["Value"], "one");
}

#[tokio::test]
async fn common_values_are_scoped_to_environments_where_the_toggle_is_on() {
    // 2025.1: the newer endpoints, but no scoping; the legacy update still works.
    let config = FakeConfig::seeded(Seed::DevTest).with_version("2025.1.7559".parse().unwrap());
    let (_s, api) = start_with(config).await;
    let e = example(&api).await;
    let toggles = api.ok("configuration/feature-toggles").await;
    assert_eq!(toggles["FeatureToggles"][0]["IsEnabled"], false);
    let scoped = |token: &Value| {
        json!({"TenantId": e.tenant, "ConcurrencyToken": token, "Variables": [
            {"LibraryVariableSetId": e.global, "TemplateId": e.global_template, "Value": "everywhere", "Scope": {"EnvironmentIds": []}},
            {"LibraryVariableSetId": e.global, "TemplateId": e.global_template, "Value": "in-test", "Scope": {"EnvironmentIds": [e.test]}}
        ]})
    };
    let common = format!("Spaces-1/tenants/{}/commonvariables", e.tenant);
    let token = api.ok(&common).await["ConcurrencyToken"].clone();
    assert_eq!(api.put(&common, scoped(&token)).await.status, 400);
    let legacy = format!("Spaces-1/tenants/{}/variables", e.tenant);
    let doc = api.ok(&legacy).await;
    assert_eq!(api.post(&legacy, doc).await.status, 200);

    // 2025.2: the toggle is on, scoped values are kept, the legacy update is refused.
    let config = FakeConfig::seeded(Seed::DevTest).with_version("2025.2.11370".parse().unwrap());
    let (_s, api) = start_with(config).await;
    let toggles = api.ok("configuration/feature-toggles").await;
    assert_eq!(
        toggles["FeatureToggles"][0]["Name"],
        "CommonVariableScopingFeatureToggle"
    );
    assert_eq!(toggles["FeatureToggles"][0]["IsEnabled"], true);
    let token = api.ok(&common).await["ConcurrencyToken"].clone();
    let saved = api.put(&common, scoped(&token)).await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    let read = api.ok(&common).await;
    let values: Vec<(Value, Value)> = read["Variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["Value"].clone(), v["Scope"]["EnvironmentIds"].clone()))
        .collect();
    assert_eq!(values.len(), 2, "{read}");
    assert!(values.contains(&(json!("in-test"), json!([e.test]))));
    assert!(values.contains(&(json!("everywhere"), json!([]))));
    let doc = api.ok(&legacy).await;
    assert_eq!(
        doc["LibraryVariables"][&e.global]["Variables"][&e.global_template],
        "everywhere"
    );
    let refused = api.post(&legacy, doc.clone()).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(api.put(&legacy, doc).await.status, 400);
}
