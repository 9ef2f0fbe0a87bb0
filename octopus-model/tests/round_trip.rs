//! Every fixture decodes into its typed resource and serializes back to the same JSON
//! (key order aside): nothing is lost, not even `null` versus missing versus `[]`.

use std::fs;
use std::path::{Path, PathBuf};

use octopus_model::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
    let mut files: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", root.display());
    files
}

/// Decodes a fixture as one `T`, a bare array of `T` or a paged `Collection<T>`, and
/// returns how many resources it held.
fn round_trip<T: DeserializeOwned + Serialize>(dir: &str) -> usize {
    let mut count = 0;
    for path in fixtures(dir) {
        let text = fs::read(&path).unwrap();
        let original: Value = serde_json::from_slice(&text).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let back = match &original {
            Value::Array(items) => {
                let typed: Vec<T> = decode(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
                count += items.len();
                serde_json::to_value(&typed).unwrap()
            }
            Value::Object(map) if map.contains_key("Items") => {
                let typed: Collection<T> = decode(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
                count += typed.items.len();
                serde_json::to_value(&typed).unwrap()
            }
            _ => {
                let typed: T = decode(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
                count += 1;
                serde_json::to_value(&typed).unwrap()
            }
        };
        assert_eq!(back, original, "{name} did not survive a round trip");
    }
    count
}

macro_rules! fixture_tests {
    ($($test:ident: $dir:literal => $ty:ty;)*) => {$(
        #[test]
        fn $test() {
            assert!(round_trip::<$ty>($dir) > 0);
        }
    )*};
}

fixture_tests! {
    accounts: "account" => Account;
    step_templates: "actiontemplate" => ActionTemplate;
    channels: "channel" => Channel;
    certificates: "certificate" => Certificate;
    community_step_templates: "communityactiontemplate" => CommunityActionTemplate;
    deployment_freezes: "deploymentfreeze" => DeploymentFreeze;
    deployment_processes: "deploymentprocess" => DeploymentProcess;
    environments: "environment" => Environment;
    feeds: "feed" => Feed;
    library_variable_sets: "libraryvariableset" => LibraryVariableSet;
    lifecycles: "lifecycle" => Lifecycle;
    parent_environments: "parentenvironment" => ParentEnvironment;
    machine_policies: "machinepolicy" => MachinePolicy;
    machines: "machine" => Machine;
    projects: "project" => Project;
    project_groups: "projectgroup" => ProjectGroup;
    root_documents: "root" => RootDocument;
    runbooks: "runbook" => Runbook;
    runbook_processes: "runbookprocess" => RunbookProcess;
    scoped_user_roles: "scopeduserrole" => ScopedUserRole;
    spaces: "space" => Space;
    tag_sets: "tagset" => TagSet;
    teams: "team" => Team;
    tenants: "tenant" => Tenant;
    tenant_variables: "tenantvariables" => TenantVariables;
    tenant_common_variables: "tenantcommonvariables" => TenantScopedVariables;
    users: "user" => User;
    user_roles: "userrole" => UserRole;
    variable_sets: "variableset" => VariableSet;
    worker_pools: "workerpool" => WorkerPool;
}

#[test]
fn paged_collections_round_trip_with_their_links() {
    assert!(round_trip::<Environment>("collection") > 0);
    let text = fs::read(&fixtures("collection")[0]).unwrap();
    let page: Collection<Environment> = decode(&text).unwrap();
    assert!(page.total_results.get().is_some());
    assert!(page.links.contains_key("Page.Current"));
}

#[test]
fn typed_fields_are_read_from_real_samples() {
    let text = fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/variableset/project-1-modern-2024-reference.json"),
    )
    .unwrap();
    let set: VariableSet = decode(&text).unwrap();
    let password = set
        .variables
        .iter()
        .find(|v| v.name == "Database.Password")
        .unwrap();
    assert!(password.is_secret());
    let account = set
        .variables
        .iter()
        .find(|v| v.name == "Project.AWS.Account")
        .unwrap();
    assert_eq!(
        account.r#type.get().and_then(VariableType::referenced_kind),
        Some(ResourceKind::Account)
    );
    let host = set.variables.iter().find(|v| v.name == "Web.Host").unwrap();
    assert_eq!(host.scope_values(&ScopeField::Machine), ["Machines-1"]);
    assert_eq!(host.scope_values(&ScopeField::ProcessOwner).len(), 2);
    let pool = set
        .variables
        .iter()
        .find(|v| v.name == "Worker.Pool")
        .unwrap();
    assert_eq!(
        pool.scope_values(&ScopeField::Other("FutureScope".into())),
        ["x"]
    );

    let accounts: Vec<Account> = decode(
        &fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/account/every-type-2025-reference.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let future = accounts.iter().find(|a| a.name == "Future").unwrap();
    assert_eq!(
        future.account_type.get(),
        Some(&AccountType::Other("QuantumCloudAccount".into()))
    );
    assert!(future.extra.contains_key("QuantumKey"));
}

#[test]
fn error_bodies_decode_as_json() {
    for path in fixtures("error") {
        let v: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert!(v.is_object(), "{}", path.display());
    }
}

#[test]
fn freezes_and_ephemeral_environments_read_their_typed_fields() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let text = fs::read(dir.join("deploymentfreeze/holidays-go-octopusdeploy-shape.json")).unwrap();
    let freeze: DeploymentFreeze = decode(&text).unwrap();
    assert_eq!(
        freeze.project_environment_scope["Projects-1"]
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>(),
        ["Environments-2", "Environments-3"]
    );
    let triple = &freeze.tenant_project_environment_scope[0];
    assert_eq!(
        triple.tenant_id.get().map(|t| t.as_str()),
        Some("Tenants-1")
    );
    assert_eq!(
        freeze.owner_id.get().map(|o| o.as_str()),
        Some("Projects-1")
    );
    let text =
        fs::read(dir.join("environment/pr-42-ephemeral-go-octopusdeploy-shape.json")).unwrap();
    let env: Environment = decode(&text).unwrap();
    assert!(env.is_ephemeral());
    assert_eq!(
        env.parent_environment_id.get().map(|p| p.as_str()),
        Some("ParentEnvironments-1")
    );
}
