//! A custom sync program on the library API: load both sides, plan, review the plan in
//! code, apply it, and check that a second plan is empty.
//!
//! `cargo run -p examples --example custom_sync`

use examples::{client, start};
use octopus_fake::Seed;
use octosync::apply::{apply_plan, ApplyOptions};
use octosync::load::{kinds_to_read, load_snapshot};
use sync_core::{CleanupCategory, OpAction, SyncRules};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Two instances; in real life these are your servers.
    let dev = start(Seed::DevTest).await?;
    let prod = start(Seed::StagingProduction).await?;
    let (source, destination) = (client(&dev)?, client(&prod)?);

    // The rules, as a sync.toml would hold them.
    let rules = SyncRules::from_toml_str(
        r#"
        [select]
        projects = ["OctoFX"]
        lifecycles = ["all"]
        library_variable_sets = ["Global"]
        [environment_map]
        Test = ["Staging"]
        "#,
    )?;

    // Load only what the rules need, then plan: a pure function of the two snapshots.
    let kinds = kinds_to_read(&rules);
    let source_snapshot = load_snapshot(&source, "dev", "Default", &kinds).await?;
    let dest_snapshot = load_snapshot(&destination, "prod", "Default", &kinds).await?;
    let plan = sync_core::plan(&source_snapshot, &dest_snapshot, &rules)?;

    // Review the plan in code: refuse to go on if any scope was widened.
    let widened = plan
        .cleanup
        .iter()
        .filter(|e| e.category == CleanupCategory::WidenedScope)
        .count();
    if widened > 0 {
        return Err(format!("{widened} scope(s) would be widened; not applying").into());
    }
    for op in plan.ops().filter(|op| op.action() != OpAction::Unchanged) {
        println!("{:?} {}: {}", op.action(), op.item, op.reason);
    }

    let report = apply_plan(&destination, &plan, &ApplyOptions::default()).await;
    println!("\n{report}");

    let dest_snapshot = load_snapshot(&destination, "prod", "Default", &kinds).await?;
    let again = sync_core::plan(&source_snapshot, &dest_snapshot, &rules)?;
    println!(
        "second plan: {} to create, {} to update",
        again.summary.create, again.summary.update
    );
    assert!(!again.has_changes());
    dev.stop().await;
    prod.stop().await;
    Ok(())
}
