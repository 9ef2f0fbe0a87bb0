//! Read and write traits over the Octopus Deploy REST API, and the HTTP client that
//! implements them.
//!
//! - [`OctopusRead`]: everything a sync reads from an instance: the root document and
//!   version, spaces, every item of any collection, items by id, the per-owner documents
//!   (deployment and runbook processes, variable sets, a project's channels and
//!   runbooks, tenant variables in both shapes, a team's scoped user roles) and the bulk
//!   reads (`variables/all`, `tenantvariables/all`, processes by `?ids=`).
//! - [`OctopusWrite`]`: OctopusRead`: create, update, delete, tenant variable writes and
//!   community step template installation. [`OctopusWriteExt`] adds typed versions.
//! - [`OctopusHttpClient`]: both traits over HTTP (reqwest, rustls), with complete
//!   paging, bounded concurrency, pacing from the server's rate-limit headers, retries
//!   that never repeat a create blindly, typed [`Error`]s and request counters
//!   ([`OctopusHttpClient::stats`]), and the audit log since a checkpoint
//!   ([`OctopusHttpClient::events_from`], [`OctopusHttpClient::latest_event_auto_id`]).
//!   Every request names the client in its `User-Agent` (`octosync/<version>`), which is
//!   how the audit log tells octosync's writes from a person's.
//! - With the `mock` feature, `MockOctopusRead` and `MockOctopusWrite` (mockall).
//!
//! # Why the traits look the way they do
//!
//! The traits have no generic methods, so mockall can mock them and a rule can be
//! unit-tested with `mock.expect_list_projects()`. Reads are typed, one method per kind
//! (`list_projects`, `get_project`, …), each with a default body over the kind-erased
//! [`OctopusRead::list_raw`] and [`OctopusRead::get_raw`]. Writes take a
//! [`ResourceKind`](octopus_model::ResourceKind) and a JSON body, which is what a plan
//! carries; the typed [`OctopusWriteExt::create_resource`] and friends sit on top.
//!
//! # Listing projects
//!
//! ```no_run
//! use octopus_client::{ApiKey, OctopusHttpClient, OctopusRead};
//!
//! # async fn run() -> Result<(), octopus_client::Error> {
//! let key = ApiKey::new(std::env::var("OCTOPUS_API_KEY").unwrap_or_default());
//! let client = OctopusHttpClient::builder("https://octopus.example.com/", key)
//!     .space_name("Default")
//!     .build()?;
//! println!("server {}", client.version().await?);
//! for project in client.list_projects().await? {
//!     println!("{}", project.name);
//! }
//! println!("{} GET requests", client.stats().get);
//! # Ok(())
//! # }
//! ```
//!
//! # Testing a rule with the mocks
//!
//! ```
//! use octopus_client::{MockOctopusRead, OctopusRead, Result};
//! use octopus_model::Project;
//!
//! /// The rule under test: the names of the enabled projects, sorted.
//! async fn enabled_projects(source: &dyn OctopusRead) -> Result<Vec<String>> {
//!     let mut names: Vec<String> = source
//!         .list_projects()
//!         .await?
//!         .into_iter()
//!         .filter(|p| !p.is_disabled.get().copied().unwrap_or(false))
//!         .map(|p| p.name)
//!         .collect();
//!     names.sort();
//!     Ok(names)
//! }
//!
//! let mut source = MockOctopusRead::new();
//! source.expect_list_projects().times(1).returning(|| {
//!     let project = |name: &str, disabled: bool| Project {
//!         name: name.into(),
//!         is_disabled: disabled.into(),
//!         ..Project::default()
//!     };
//!     Ok(vec![project("Web", false), project("Old", true), project("Api", false)])
//! });
//! let names = futures::executor::block_on(enabled_projects(&source))?;
//! assert_eq!(names, ["Api", "Web"]);
//! # Ok::<(), octopus_client::Error>(())
//! ```
//!
//! # A source cannot be written
//!
//! A sync gets its source as an `OctopusRead`, which has no write methods; this does not
//! compile:
//!
//! ```compile_fail
//! use octopus_client::OctopusRead;
//! use octopus_model::ResourceKind;
//!
//! async fn copy(source: &dyn OctopusRead) {
//!     let _ = source.create(ResourceKind::Environment, serde_json::json!({"Name": "Dev"})).await;
//! }
//! ```
//!
//! nor does this, with a generic source and a typed write:
//!
//! ```compile_fail
//! use octopus_client::{OctopusRead, OctopusWriteExt};
//! use octopus_model::Environment;
//!
//! async fn copy<R: OctopusRead>(source: &R, env: &Environment) {
//!     let _ = source.create_resource(env).await;
//! }
//! ```

mod api_key;
pub mod error;
mod http;
#[cfg(feature = "mock")]
pub mod mock;
mod pacing;
mod paging;
pub mod request;
mod retry;
mod stats;
mod traits;

pub use api_key::{ApiKey, MASKED_API_KEY};
pub use error::{Error, Result};
pub use http::{ClientBuilder, OctopusHttpClient, SpaceSelector};
#[cfg(feature = "mock")]
pub use mock::{MockOctopusRead, MockOctopusWrite};
pub use retry::RetryPolicy;
pub use stats::RequestStats;
pub use traits::{OctopusRead, OctopusWrite, OctopusWriteExt};
