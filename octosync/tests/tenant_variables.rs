//! Tenant variables end to end, at the versions whose routes differ: 2024.2 (the old
//! shape only), 2025.1 (the newer endpoints beside it) and 2025.2 (common variable
//! scoping on, the legacy update refused). The demo's sync, with Development mapped to
//! Production, creates project OctoFX (with its tenant template), library variable set
//! "Global" (with its template) and tenant "Development Team A" in the same apply.

use octopus_client::{ApiKey, OctopusHttpClient, OctopusRead, OctopusWrite};
use octopus_fake::{FakeConfig, FakeServer, Seed};
use octopus_model::{
    EnvironmentId, Lenient, OctopusVersion, PropertyValue, TenantVariableScope, TenantVariables,
};
use octosync::apply::ApplyOptions;
use octosync::config::SyncConfig;
use octosync::runner::{run_instances, Destination, Mode, Source};

/// The requests a server saw that are not on the official clients' route list
/// (`octopus-fake/tests/data/official-routes.json`), for this server's version.
fn off_the_list(server: &FakeServer) -> Vec<String> {
    let list: serde_json::Value = serde_json::from_str(include_str!(
        "../../octopus-fake/tests/data/official-routes.json"
    ))
    .expect("the list parses");
    let version = server.version();
    let routes = list["routes"].as_array().expect("routes");
    let has = |method: &str, path: &str| {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        routes.iter().any(|r| {
            let since: Vec<u32> = r["since"]
                .as_str()
                .unwrap_or_default()
                .split('.')
                .filter_map(|p| p.parse().ok())
                .collect();
            let template: Vec<&str> = r["template"]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches('/')
                .split('/')
                .collect();
            r["method"] == method
                && version.at_least(since[0], since[1])
                && template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    // `/all` is a route of its own, never an id.
                    .all(|(t, s)| {
                        (t.starts_with('{') && !s.eq_ignore_ascii_case("all"))
                            || t.eq_ignore_ascii_case(s)
                    })
        })
    };
    server
        .requests_seen()
        .into_iter()
        .filter(|(method, path)| !has(method, path))
        .map(|(method, path)| format!("{method} {path}"))
        .collect()
}

const SOURCE_KEY: &str = "API-SOURCETENANTVARS";
const DEST_KEY: &str = "API-DESTTENANTVARS";

async fn fake(seed: Seed, key: &str, version: &str) -> FakeServer {
    let version: OctopusVersion = version.parse().expect("a version");
    FakeServer::start(FakeConfig {
        api_key: key.to_owned(),
        ..FakeConfig::seeded(seed).with_version(version)
    })
    .await
    .expect("fake starts")
}

fn client(server: &FakeServer) -> OctopusHttpClient {
    OctopusHttpClient::builder(server.url(), ApiKey::new(server.api_key()))
        .space_name("Default")
        .build()
        .expect("a client")
}

/// The value of a tenant's template, looked up by project or set name, template name
/// and (for projects) environment name, on one instance.
async fn value_of(
    c: &OctopusHttpClient,
    tenant: &str,
    owner: &str,
    template: &str,
    environment: Option<&str>,
) -> Option<PropertyValue> {
    let tenant = c
        .list_tenants()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == tenant)?;
    let vars: TenantVariables = c.tenant_variables(tenant.id.get()?).await.unwrap();
    match environment {
        Some(env) => {
            let env = c
                .list_environments()
                .await
                .unwrap()
                .into_iter()
                .find(|e| e.name == env)?;
            let p = vars
                .project_variables
                .values()
                .find(|p| p.project_name.get().map(String::as_str) == Some(owner))?;
            let t = p.templates.iter().find(|t| t.name == template)?;
            p.variables
                .get(env.id.get()?)?
                .get(t.id.get()?.as_str())
                .cloned()
        }
        None => {
            let l = vars
                .library_variables
                .values()
                .find(|l| l.library_variable_set_name.get().map(String::as_str) == Some(owner))?;
            let t = l.templates.iter().find(|t| t.name == template)?;
            l.variables.get(t.id.get()?.as_str()).cloned()
        }
    }
}

fn demo_config(source: &FakeServer, destination: &FakeServer) -> SyncConfig {
    let config = include_str!("../demo/sync.toml")
        .replace("http://127.0.0.1:8065", source.url())
        .replace("http://127.0.0.1:8066", destination.url())
        // Development's values land in Production, so "Development Team A" (connected
        // to Development only) is created on the destination in this apply.
        .replace("Development = []", "Development = [\"Production\"]");
    SyncConfig::parse(&config, "sync.toml").expect("the demo config parses")
}

async fn first_sync_lands_tenant_variables(version: &str) {
    let source = fake(Seed::DevTest, SOURCE_KEY, version).await;
    let destination = fake(Seed::StagingProduction, DEST_KEY, version).await;
    let config = demo_config(&source, &destination);
    let (src, dst) = (client(&source), client(&destination));
    let destinations = [Destination::live(
        "staging-production",
        "Default",
        &dst,
        config.destinations[0].rules.clone(),
    )];
    let runs = run_instances(
        &Source::live("dev-test", "Default", &src),
        &destinations,
        &Mode::Apply(ApplyOptions::default()),
    )
    .await
    .expect("the source loads");
    let report = runs[0].applied.as_ref().expect("the run applied");
    assert!(report.is_success(), "at {version}:\n{report}");
    let tenant_ops = report
        .results
        .iter()
        .filter(|r| r.item.kind == octopus_model::ResourceKind::TenantVariables)
        .count();
    assert!(
        tenant_ops >= 2,
        "at {version}: {tenant_ops} tenant variable ops\n{report}"
    );

    assert_eq!(destination.integrity(), Vec::new(), "at {version}");
    let again = run_instances(
        &Source::live("dev-test", "Default", &src),
        &destinations,
        &Mode::Plan,
    )
    .await
    .expect("the source loads");
    let plan = again[0].plan.as_ref().expect("a plan");
    assert!(!plan.has_changes(), "at {version}, left to do:\n{plan}");

    // Test's value of the existing tenant lands in Staging ([environment_map]); the
    // new tenant gets its Development value in Production and the value of the new
    // library variable set's template.
    let internal_test = value_of(
        &src,
        "Internal",
        "OctoFX",
        "Tenant.Database.Name",
        Some("Test"),
    )
    .await
    .expect("the source has a value");
    assert_eq!(
        value_of(
            &dst,
            "Internal",
            "OctoFX",
            "Tenant.Database.Name",
            Some("Staging")
        )
        .await,
        Some(internal_test),
        "at {version}"
    );
    let team_dev = value_of(
        &src,
        "Development Team A",
        "OctoFX",
        "Tenant.Database.Name",
        Some("Development"),
    )
    .await
    .expect("the source has a value");
    assert_eq!(
        value_of(
            &dst,
            "Development Team A",
            "OctoFX",
            "Tenant.Database.Name",
            Some("Production")
        )
        .await,
        Some(team_dev),
        "at {version}"
    );
    let alias = value_of(
        &src,
        "Development Team A",
        "Global",
        "Global.Tenant.Alias",
        None,
    )
    .await
    .expect("the source has a value");
    assert_eq!(
        value_of(
            &dst,
            "Development Team A",
            "Global",
            "Global.Tenant.Alias",
            None
        )
        .await,
        Some(alias),
        "at {version}"
    );
    assert_eq!(
        source.stats().total() - source.stats().get,
        0,
        "the source was written"
    );
    // Every request the client made is one the official clients make, at this version.
    let tenant_routes = if version.starts_with("2024") {
        ["/variables"].as_slice()
    } else {
        ["/commonvariables", "/projectvariables"].as_slice()
    };
    for route in tenant_routes {
        assert!(
            destination
                .requests_seen()
                .iter()
                .any(|(m, p)| m == "PUT" && p.ends_with(route) || m == "POST" && p.ends_with(route)),
            "at {version}: no write to {route}"
        );
    }
    for server in [&source, &destination] {
        assert_eq!(off_the_list(server), Vec::<String>::new(), "at {version}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sync_lands_tenant_variables_at_2024_2() {
    first_sync_lands_tenant_variables("2024.2.9303").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sync_lands_tenant_variables_at_2025_1() {
    first_sync_lands_tenant_variables("2025.1.7559").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sync_lands_tenant_variables_at_2025_2() {
    first_sync_lands_tenant_variables("2025.2.11370").await;
}

/// Gives tenant "Internal" on the source a value of "Global"'s template scoped to
/// `environments` (by name) beside its unscoped one.
async fn scope_a_common_value(c: &OctopusHttpClient, environments: &[&str], value: &str) {
    let tenant = c
        .list_tenants()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == "Internal")
        .unwrap();
    let tenant_id = tenant.id.get().unwrap();
    let all_envs = c.list_environments().await.unwrap();
    let ids: Vec<EnvironmentId> = environments
        .iter()
        .map(|n| {
            all_envs
                .iter()
                .find(|e| e.name == *n)
                .and_then(|e| e.id.get().cloned())
                .unwrap()
        })
        .collect();
    let mut common = c.tenant_common_variables(tenant_id).await.unwrap();
    let mut scoped = common
        .variables
        .iter()
        .find(|v| v.library_variable_set_name.get().map(String::as_str) == Some("Global"))
        .cloned()
        .expect("Internal has a Global value");
    scoped.id = Default::default();
    scoped.value.set(PropertyValue::from(value));
    scoped.scope.set(TenantVariableScope {
        environment_ids: Lenient::present(ids),
        ..Default::default()
    });
    common.variables.push(scoped);
    common.missing_variables = Default::default();
    c.set_tenant_common_variables(tenant_id, &common)
        .await
        .unwrap();
}

async fn scoped_common_values(c: &OctopusHttpClient) -> Vec<(String, Vec<String>)> {
    let tenant = c
        .list_tenants()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == "Internal")
        .unwrap();
    let envs = c.list_environments().await.unwrap();
    let common = c
        .tenant_common_variables(tenant.id.get().unwrap())
        .await
        .unwrap();
    common
        .variables
        .iter()
        .filter_map(|v| {
            let scope: Vec<String> = v
                .scope
                .get()?
                .environment_ids
                .iter()
                .map(|id| {
                    envs.iter()
                        .find(|e| e.id.get() == Some(id))
                        .map(|e| e.name.clone())
                        .unwrap_or_else(|| id.to_string())
                })
                .collect();
            let text = v.value.get()?.as_text()?.to_owned();
            (!scope.is_empty()).then_some((text, scope))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_scoped_common_values_follow_the_environment_map_at_2025_2() {
    let source = fake(Seed::DevTest, SOURCE_KEY, "2025.2.11370").await;
    let destination = fake(Seed::StagingProduction, DEST_KEY, "2025.2.11370").await;
    let src = client(&source);
    // Test maps to Staging; Development maps to Production in this test's config.
    scope_a_common_value(&src, &["Test"], "alias-in-test").await;
    scope_a_common_value(&src, &["Development"], "alias-in-dev").await;
    let config = demo_config(&source, &destination);
    let dst = client(&destination);
    let destinations = [Destination::live(
        "staging-production",
        "Default",
        &dst,
        config.destinations[0].rules.clone(),
    )];
    let runs = run_instances(
        &Source::live("dev-test", "Default", &src),
        &destinations,
        &Mode::Apply(ApplyOptions::default()),
    )
    .await
    .unwrap();
    let report = runs[0].applied.as_ref().unwrap();
    assert!(report.is_success(), "{report}");
    assert_eq!(destination.integrity(), Vec::new());
    let mut landed = scoped_common_values(&dst).await;
    landed.sort();
    assert_eq!(
        landed,
        vec![
            ("alias-in-dev".to_owned(), vec!["Production".to_owned()]),
            ("alias-in-test".to_owned(), vec!["Staging".to_owned()]),
        ]
    );
    let again = run_instances(
        &Source::live("dev-test", "Default", &src),
        &destinations,
        &Mode::Plan,
    )
    .await
    .unwrap();
    let plan = again[0].plan.as_ref().unwrap();
    assert!(!plan.has_changes(), "left to do:\n{plan}");

    // A value scoped on the destination only is kept by the next sync's writes.
    let tenant = dst
        .list_tenants()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == "Internal")
        .unwrap();
    let mut common = dst
        .tenant_common_variables(tenant.id.get().unwrap())
        .await
        .unwrap();
    for v in common.variables.iter_mut() {
        if v.value.get().and_then(PropertyValue::as_text) == Some("alias-in-test") {
            v.value
                .set(PropertyValue::from("changed on the destination"));
        }
    }
    dst.set_tenant_common_variables(tenant.id.get().unwrap(), &common)
        .await
        .unwrap();
    let mut always = config.destinations[0].rules.clone();
    always.policy.overwrite_existing_variables = sync_core::rules::OverwriteVariables::Always;
    let destinations = [Destination {
        rules: always,
        ..destinations.into_iter().next().unwrap()
    }];
    let runs = run_instances(
        &Source::live("dev-test", "Default", &src),
        &destinations,
        &Mode::Apply(ApplyOptions::default()),
    )
    .await
    .unwrap();
    assert!(runs[0].applied.as_ref().unwrap().is_success());
    let mut landed = scoped_common_values(&dst).await;
    landed.sort();
    assert_eq!(
        landed,
        vec![
            ("alias-in-dev".to_owned(), vec!["Production".to_owned()]),
            ("alias-in-test".to_owned(), vec!["Staging".to_owned()]),
        ],
        "overwrite_existing_variables = always puts the source's value back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoped_common_values_are_not_widened_on_a_2025_1_destination() {
    let source = fake(Seed::DevTest, SOURCE_KEY, "2025.2.11370").await;
    let destination = fake(Seed::StagingProduction, DEST_KEY, "2025.1.7559").await;
    let src = client(&source);
    scope_a_common_value(&src, &["Test"], "alias-in-test").await;
    let config = demo_config(&source, &destination);
    let dst = client(&destination);
    let destinations = [Destination::live(
        "staging-production",
        "Default",
        &dst,
        config.destinations[0].rules.clone(),
    )];
    let runs = run_instances(
        &Source::live("dev-test", "Default", &src),
        &destinations,
        &Mode::Apply(ApplyOptions::default()),
    )
    .await
    .unwrap();
    assert!(runs[0].applied.as_ref().unwrap().is_success());
    assert_eq!(destination.integrity(), Vec::new());
    let plan = runs[0].plan.as_ref().unwrap();
    assert!(
        plan.cleanup
            .iter()
            .any(|c| c.message.contains("no environment-scoped common variables")),
        "{plan}"
    );
    assert_eq!(scoped_common_values(&dst).await, Vec::new());
    let common = value_of(&dst, "Internal", "Global", "Global.Tenant.Alias", None).await;
    assert_ne!(common, Some(PropertyValue::from("alias-in-test")));
    let again = run_instances(
        &Source::live("dev-test", "Default", &src),
        &destinations,
        &Mode::Plan,
    )
    .await
    .unwrap();
    assert!(!again[0].plan.as_ref().unwrap().has_changes());
    for server in [&source, &destination] {
        assert_eq!(off_the_list(server), Vec::<String>::new());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_of_a_2025_2_space_keeps_scoped_common_values() {
    let source = fake(Seed::DevTest, SOURCE_KEY, "2025.2.11370").await;
    let src = client(&source);
    scope_a_common_value(&src, &["Test"], "alias-in-test").await;
    let dir = tempfile::tempdir().unwrap();
    let summary = octosync::snapshot_dir::export(&src, "Default", dir.path())
        .await
        .unwrap();
    assert!(summary
        .collections
        .iter()
        .any(|(name, n)| name == "tenantcommonvariables" && *n == 2));
    let snapshot = octosync::snapshot_dir::read(dir.path(), "Default", None).unwrap();
    let scoped: Vec<&PropertyValue> = snapshot
        .tenant_common_variables
        .iter()
        .flat_map(|d| d.variables.iter())
        .filter(|v| v.scope.get().is_some_and(|s| !s.environment_ids.is_empty()))
        .filter_map(|v| v.value.get())
        .collect();
    assert_eq!(scoped, [&PropertyValue::from("alias-in-test")]);
}

/// Sets one of a tenant's project values on one instance (old shape).
async fn set_value(
    c: &OctopusHttpClient,
    tenant: &str,
    template: &str,
    environment: &str,
    value: PropertyValue,
) {
    let tenant = c
        .list_tenants()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == tenant)
        .unwrap();
    let env = c
        .list_environments()
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.name == environment)
        .unwrap();
    let mut vars: TenantVariables = c.tenant_variables(tenant.id.get().unwrap()).await.unwrap();
    let project = vars
        .project_variables
        .values_mut()
        .find(|p| p.project_name.get().map(String::as_str) == Some("OctoFX"))
        .unwrap();
    let template_id = project
        .templates
        .iter()
        .find(|t| t.name == template)
        .and_then(|t| t.id.get().cloned())
        .unwrap();
    project
        .variables
        .entry(env.id.get().unwrap().clone())
        .or_default()
        .insert(template_id.to_string(), value);
    c.set_tenant_variables(&vars).await.unwrap();
}

/// Under `overwrite_existing_variables = "always"`, a tenant value the destination keeps
/// as a secret is not overwritten by the source's plain text, nor a plain one by a dummy
/// secret (read back after the apply).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_always_tenant_secrets_and_plain_values_keep_their_kind_on_the_destination() {
    let source = fake(Seed::DevTest, SOURCE_KEY, "2024.2.9000").await;
    let destination = fake(Seed::StagingProduction, DEST_KEY, "2024.2.9000").await;
    let mut config = demo_config(&source, &destination);
    config.destinations[0]
        .rules
        .policy
        .overwrite_existing_variables = sync_core::rules::OverwriteVariables::Always;
    let (src, dst) = (client(&source), client(&destination));
    let destinations = [Destination::live(
        "staging-production",
        "Default",
        &dst,
        config.destinations[0].rules.clone(),
    )];
    let apply = Mode::Apply(ApplyOptions::default());
    let first = run_instances(
        &Source::live("dev-test", "Default", &src),
        &destinations,
        &apply,
    )
    .await
    .unwrap();
    assert!(first[0].applied.as_ref().unwrap().is_success());

    let secret = PropertyValue::Sensitive(octopus_model::SensitiveValue::set("prod-db-name"));
    set_value(
        &dst,
        "Development Team A",
        "Tenant.Database.Name",
        "Production",
        secret,
    )
    .await;
    set_value(
        &src,
        "Development Team A",
        "Tenant.Database.Name",
        "Development",
        PropertyValue::Text("teamA-dev-changed".into()),
    )
    .await;

    // And the other way round: the source makes a value secret that the destination
    // keeps as plain text; no dummy secret replaces it.
    set_value(
        &dst,
        "Internal",
        "Tenant.Database.Name",
        "Staging",
        PropertyValue::Text("internal-staging-own".into()),
    )
    .await;
    set_value(
        &src,
        "Internal",
        "Tenant.Database.Name",
        "Test",
        PropertyValue::Sensitive(octopus_model::SensitiveValue::set("internal-test-secret")),
    )
    .await;

    let second = run_instances(
        &Source::live("dev-test", "Default", &src),
        &destinations,
        &apply,
    )
    .await
    .unwrap();
    assert!(second[0].applied.as_ref().unwrap().is_success());
    assert_eq!(
        value_of(
            &dst,
            "Internal",
            "OctoFX",
            "Tenant.Database.Name",
            Some("Staging")
        )
        .await,
        Some(PropertyValue::Text("internal-staging-own".into())),
        "the plain value stays"
    );
    let kept = value_of(
        &dst,
        "Development Team A",
        "OctoFX",
        "Tenant.Database.Name",
        Some("Production"),
    )
    .await
    .expect("the destination still has a value");
    assert!(kept.is_sensitive(), "the secret stays a secret: {kept:?}");
    let plan = second[0].plan.as_ref().unwrap();
    assert!(
        plan.cleanup
            .iter()
            .any(|c| c.message.contains("the destination's value was kept")),
        "{plan}"
    );
    assert_eq!(destination.integrity(), Vec::new());
}
