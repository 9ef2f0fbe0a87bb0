//! Programs that users of octosync copy. Each runs with
//! `cargo run -p examples --example NAME`, against Octopus instances served in-process by
//! `octopus-fake`, so none needs a server:
//!
//! - `custom_sync`: a sync program on the library API — load, plan, review, apply.
//! - `rule_unit_test`: unit-testing a sync rule with the mockall mocks of the client
//!   traits (also run as a test of this crate).
//! - `offline_plan`: export two instances to snapshot directories, then plan between
//!   them with no server at all.
//! - `one_source_two_destinations`: one Dev/Test instance feeding two Production
//!   instances, each with its own rules.
//!
//! The helpers below are shared by the examples.

use octopus_client::{ApiKey, OctopusHttpClient};
use octopus_fake::{FakeConfig, FakeServer, Seed};

/// Starts an in-process Octopus with one of the shipped seeds.
pub async fn start(seed: Seed) -> Result<FakeServer, octopus_fake::FakeError> {
    FakeServer::start(FakeConfig::seeded(seed)).await
}

/// A client of a server's "Default" space.
pub fn client(server: &FakeServer) -> Result<OctopusHttpClient, octopus_client::Error> {
    OctopusHttpClient::builder(server.url(), ApiKey::new(server.api_key()))
        .space_name("Default")
        .build()
}

/// A rule of the kind users unit-test (see the `rule_unit_test` example): the names of
/// the projects a sync should select — enabled, not version-controlled, and not
/// starting with `Legacy` — sorted.
pub async fn projects_to_sync(
    source: &dyn octopus_client::OctopusRead,
) -> octopus_client::Result<Vec<String>> {
    let mut names: Vec<String> = source
        .list_projects()
        .await?
        .into_iter()
        .filter(|p| !p.is_disabled.get_or(false) && !p.is_config_as_code())
        .map(|p| p.name)
        .filter(|name| !name.to_lowercase().starts_with("legacy"))
        .collect();
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use octopus_client::MockOctopusRead;
    use octopus_model::{PersistenceSettings, Project};

    fn project(name: &str) -> Project {
        Project {
            name: name.into(),
            ..Project::default()
        }
    }

    #[tokio::test]
    async fn the_rule_keeps_enabled_database_projects() {
        let mut source = MockOctopusRead::new();
        source.expect_list_projects().times(1).returning(|| {
            let mut disabled = project("Old");
            disabled.is_disabled.set(true);
            let mut git = project("Git Backed");
            git.persistence_settings.set(PersistenceSettings {
                r#type: "VersionControlled".to_owned().into(),
                ..PersistenceSettings::default()
            });
            Ok(vec![
                project("Web"),
                disabled,
                git,
                project("Legacy Billing"),
                project("Api"),
            ])
        });
        assert_eq!(projects_to_sync(&source).await.unwrap(), ["Api", "Web"]);
    }
}
