//! Unit-testing a sync rule with the mockall mocks of `OctopusRead`: no server, no
//! network, and the test says exactly which calls the rule may make.
//!
//! `cargo run -p examples --example rule_unit_test` (the same test runs under
//! `cargo test -p examples`).

use examples::projects_to_sync;
use octopus_client::MockOctopusRead;
use octopus_model::Project;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut source = MockOctopusRead::new();
    // The rule may list projects once, and nothing else.
    source.expect_list_projects().times(1).returning(|| {
        let project = |name: &str, disabled: bool| Project {
            name: name.into(),
            is_disabled: disabled.into(),
            ..Project::default()
        };
        Ok(vec![
            project("Web", false),
            project("Legacy Billing", false),
            project("Archive", true),
            project("Api", false),
        ])
    });
    let selected = projects_to_sync(&source).await?;
    assert_eq!(selected, ["Api", "Web"]);
    println!("the rule selects {selected:?}");
    Ok(())
}
