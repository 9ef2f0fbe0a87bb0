use sync_core::testing::{generate_space, InMemoryApplier, SpaceParams};
use sync_core::{plan, OpAction, SyncRules};

#[test]
fn smoke() {
    let (src, dst) = generate_space(&SpaceParams {
        seed: 7,
        projects: 4,
        synced_percent: 50,
    });
    assert_eq!(src.projects.len(), 4);
    let rules = SyncRules::from_toml_str(
        r#"
[select]
projects = "all"
project_groups = "all"
channels = "all"
runbooks = "all"
feeds = "all"
worker_pools = "all"
accounts = "all"
tenant_tags = "all"
tenants = "all"
library_variable_sets = "all"
lifecycles = "all"
teams = "all"
[environment_map]
Test = "Staging"
"#,
    )
    .unwrap();
    let p = plan(&src, &dst, &rules).unwrap();
    println!("{p}");
    let mut applier = InMemoryApplier::new(dst.clone());
    applier.apply(&p).unwrap();
    let again = plan(&src, &applier.snapshot, &rules).unwrap();
    let changes: Vec<_> = again
        .ops()
        .filter(|o| matches!(o.action, OpAction::Create | OpAction::Update))
        .collect();
    for c in &changes {
        println!("CHANGE {:?} {} {:?}", c.action, c.item, c.diff);
    }
    assert!(changes.is_empty());
}
