//! One source, two destinations: a Dev/Test instance feeding two Production instances
//! (one per data centre), each with its own rules, planned and applied concurrently.
//!
//! `cargo run -p examples --example one_source_two_destinations`

use examples::{client, start};
use octopus_fake::Seed;
use octosync::apply::ApplyOptions;
use octosync::runner::{run_instances, Destination, Mode, Source};
use sync_core::SyncRules;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dev = start(Seed::DevTest).await?;
    let eu = start(Seed::StagingProduction).await?;
    let us = start(Seed::StagingProduction).await?;
    let (source, eu_client, us_client) = (client(&dev)?, client(&eu)?, client(&us)?);

    let base = SyncRules::from_toml_str(
        r#"
        [select]
        projects = ["OctoFX"]
        lifecycles = ["all"]
        library_variable_sets = ["all"]
        [environment_map]
        Test = ["Staging"]
        "#,
    )?;
    // The US data centre gets its own placeholder text for new values.
    let us_rules =
        base.with_overrides(&"[policy]\nplaceholder_value = \"SET ME (US)\"\n".parse()?)?;

    let destinations = [
        Destination::live("prod-eu", "Default", &eu_client, base.clone()),
        Destination::live("prod-us", "Default", &us_client, us_rules),
    ];
    let runs = run_instances(
        &Source::live("dev", "Default", &source),
        &destinations,
        &Mode::Apply(ApplyOptions::default()),
    )
    .await?;
    for run in runs {
        let plan = run.plan?;
        println!(
            "{}: {} created, {} updated, {} clean-up entries",
            run.name, plan.summary.create, plan.summary.update, plan.summary.cleanup
        );
        if let Some(report) = run.applied {
            assert!(report.is_success(), "{report}");
        }
    }
    println!(
        "requests: dev {} (all reads), prod-eu {}, prod-us {}",
        dev.stats().total(),
        eu.stats().total(),
        us.stats().total()
    );
    Ok(())
}
