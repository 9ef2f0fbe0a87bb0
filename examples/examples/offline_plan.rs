//! Planning offline: export two instances to snapshot directories (as
//! `octosync export` does), then plan between the directories with no server running.
//!
//! `cargo run -p examples --example offline_plan`

use examples::{client, start};
use octopus_fake::Seed;
use octosync::report::{render, Format};
use octosync::runner::{run_instances, Destination, Instance, Mode, SnapshotDir, Source};
use octosync::snapshot_dir;
use sync_core::SyncRules;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let dev = start(Seed::DevTest).await?;
    let prod = start(Seed::StagingProduction).await?;
    snapshot_dir::export(&client(&dev)?, "Default", &dir.path().join("dev")).await?;
    snapshot_dir::export(&client(&prod)?, "Default", &dir.path().join("prod")).await?;
    dev.stop().await;
    prod.stop().await;

    // No server from here on: both instances are snapshot directories.
    let offline = |name: &str| SnapshotDir {
        path: dir.path().join(name),
        version: None,
    };
    let rules = SyncRules::from_toml_str(
        r#"
        [select]
        projects = ["all"]
        lifecycles = ["all"]
        [environment_map]
        Test = ["Staging"]
        "#,
    )?;
    let source = Source {
        name: "dev".into(),
        space: "Default".into(),
        instance: Instance::Dir(offline("dev")),
        memory: None,
    };
    let destinations = [Destination {
        name: "prod (offline)".into(),
        space: "Default".into(),
        instance: Instance::Dir(offline("prod")),
        rules,
        memory: None,
    }];
    for run in run_instances(&source, &destinations, &Mode::Plan).await? {
        print!("{}", render(&run.plan?, &run.name, Format::Markdown));
    }
    Ok(())
}
