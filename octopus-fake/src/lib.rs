//! An in-memory Octopus Deploy server that speaks the real REST API over HTTP.
//!
//! `octopus-fake` stands in for a real Octopus instance in tests, benchmarks and
//! `octosync demo`. It serves the root document, spaces and every space-scoped
//! collection a sync reads or writes, with the real paging envelope (`Links` with
//! `Page.Next`, `take=2147483647`), `/all`, filters (`ids`, `partialName`, `name`,
//! tenants by `projectId`/`tags`, feeds by `feedType`, library variable sets by
//! `contentType`), error bodies (`{ErrorMessage, Errors}`), ids (`Projects-12`,
//! `deploymentprocess-Projects-12`, GUIDs for steps and variables), the built-ins of a
//! space and the side effects of creates, optimistic concurrency on processes and
//! variable sets, and the sensitive-value rules of the real API.
//!
//! Documents are kept as JSON, so every field a client sends comes back, as on a real
//! server. The emulated version comes from [`octopus_model::OctopusVersion`]; with
//! `strict` the server refuses fields that version does not know, using the shim table
//! of [`octopus_model::shims`].
//!
//! For tests there are levers: latency per request, a seeded failure rate, a token
//! bucket rate limit answering 429, and `GET /api/fake/stats` request counters (also
//! [`FakeServer::stats`]). State can be seeded from a snapshot directory
//! ([`Snapshot`], the DESIGN contract), from the two shipped seeds ([`Seed::DevTest`],
//! [`Seed::StagingProduction`]) or loaded and exported directly.
//!
//! # What it serves
//!
//! | Path (under `/api`) | Methods |
//! |---|---|
//! | `/` (root document, anonymous), `/users/me`, `/capabilities` (2022.3+), `/configuration/feature-toggles` | GET |
//! | `/spaces` (+ `/all`), `/users`, `/userroles`, `/communityactiontemplates` (+ `/{id}`; no `/all`, as on the real server) | GET, POST, PUT, DELETE |
//! | `/{spaceId}` (space root); `/spaces/{idOrSlug}/…` and unscoped `/<collection>` (default space) | GET |
//! | `/{spaceId}/<collection>` (+ `/all`, `/{id}`) for environments, projectgroups, projects, lifecycles, channels, runbooks, libraryvariablesets, tagsets, tenants, feeds, accounts, certificates, workerpools, machinepolicies, machines, actiontemplates, teams, scopeduserroles | GET, POST, PUT, DELETE |
//! | `/{spaceId}/deploymentprocesses/{id}`, `/runbookProcesses/{id}`, `/variables/{id}`, `/variables/all` | GET, PUT |
//! | `/{spaceId}/projects/{id}/deploymentprocesses`, `/variables` (2022.2+; see below) | GET, PUT |
//! | `/{spaceId}/projects/{id}/deploymentsettings` (2021.1+; the fields stay on the project too) | GET, PUT |
//! | `/{spaceId}/runbookSnapshots` (`?publish=true` publishes), `/{id}`; `/projects/{id}/runbookSnapshots`, `/runbooks/{id}/runbookSnapshots` (GET) | GET, POST, PUT, DELETE |
//! | `/{spaceId}/projects/{id}/{gitRef}/deploymentprocesses`, `/runbooks`, `/variables` (non-sensitive), `/deploymentsettings`, for version-controlled projects | GET |
//! | `/{spaceId}/teams/{id}/scopeduserroles` | GET |
//! | `/{spaceId}/environments/sortorder`, `/tagsets/sortorder`, `/workerpools/sortorder` (every id, in order; lists follow `SortOrder`) | PUT |
//! | `/{spaceId}/projects/{id}/channels`, `/runbooks` (+ `/{id}`), `/runbookProcesses/{id}` | GET, POST, PUT, DELETE |
//! | `/{spaceId}/tenants/{id}/variables` (saving refused from 2025.2, where common variable scoping is on); `/commonvariables`, `/projectvariables` (2025.1+); `/tenantvariables/all` (GET only; there is no `/tenantvariables/{id}`) | GET, POST, PUT |
//! | `/communityactiontemplates/{id}/installation[/{spaceId}]` (system-level; the default space when none is named) | POST, PUT |
//! | `/events` (+ `/{id}`; `?spaces=&includeSystem=`) and `/{spaceId}/events`: the audit log, one event per document a write created, changed or deleted, with `fromAutoId`, `toAutoId`, `documentTypes`, `regarding`, `users`, `eventCategories`, `excludeDifference`, `skip`, `take`; newest first; `FakeConfig::event_retention` (`--event-retention N`) keeps only the newest N. See [the audit log](#the-audit-log) | GET |
//! | `/fake/stats` (an extension, not Octopus; anonymous and not counted) | GET |
//! | `/fake/integrity` (an extension, not Octopus; anonymous and not counted): every reference in a space's documents that names no existing document, as `{"DanglingReferences": [{Space, Kind, Document, Path, Id}]}` | GET |
//!
//! Deployments, releases, tasks and packages are not served: a sync never touches them.
//!
//! The routes the official clients use for every kind a sync touches, with the version
//! each appeared in and the evidence (go-octopusdeploy's services and 2020.5 swagger,
//! OctopusClients' repositories), are listed as data in `tests/data/official-routes.json`;
//! the tests hold this fake to that list. Where the evidence does not say when a route
//! appeared (`/projects/{id}/deploymentprocesses` and `/variables`), the list says so and
//! the fake serves the route only from the version the evidence does show.
//!
//! # The audit log
//!
//! Every write through the API records one event per document it created, changed or
//! deleted, with the user of the API key (`Users-1`, `admin`) and the request's
//! `User-Agent`. Loading a seed records nothing. The evidence and the choices:
//!
//! - Field names follow go-octopusdeploy `pkg/events/event.go` and
//!   `pkg/events/change_details.go`; the query parameters follow
//!   `pkg/events/events_query.go` and the `Events` link of the recorded 2020.4 root
//!   document in `pkg/constants/constants_api_replies.go`
//!   (`/api/events{/id}{?skip,regarding,…,fromAutoId,toAutoId,documentTypes,take,ids,spaces,includeSystem,excludeDifference}`).
//!   That link is system-level; the space-scoped `/api/{spaceId}/events` is served
//!   because the project's API notes name it, but no official client at hand uses it.
//! - `AutoId` is not in the Go client's model although `fromAutoId`/`toAutoId` are
//!   query parameters: here it is a number growing by one per event, and both bounds
//!   are inclusive. Lists are newest first, as recorded answers are.
//! - `ChangeDetails.Differences` is untyped in the Go client; here it is an RFC 6902
//!   JSON patch from the document before the write to the document after it (from an
//!   empty object for a create, `null` for a delete), without the `LastModifiedOn` and
//!   `LastModifiedBy` stamps; `DocumentContext` is the document after the write (before
//!   it, for a delete). `excludeDifference=true` answers `Differences: null`.
//! - `Message` is the fake's own wording, `IdentityEstablishedWith` is always `API key`,
//!   and the document type `documentTypes` filters on is the id's prefix (`Projects`,
//!   `deploymentprocess`). None of these is established by the evidence.
//! - [`FakeConfig::event_retention`] (`--event-retention N`) keeps the newest N events,
//!   so a checkpoint older than the log shows: the event it names is gone.
//!
//! # Secrets
//!
//! As on a real server, the API never returns a secret: sensitive variables come back
//! with `Value: null` and `SensitiveValue` objects with `NewValue: null`. Tests read what
//! was stored with [`FakeServer::variable_secret`] and [`FakeServer::sensitive_value`].
//!
//! # Example
//!
//! ```
//! use octopus_fake::{FakeConfig, FakeServer, Seed};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = tokio::runtime::Runtime::new()?;
//! runtime.block_on(async {
//!     let server = FakeServer::start(FakeConfig::seeded(Seed::DevTest)).await?;
//!     let http = reqwest::Client::new();
//!
//!     // The root document needs no key and names the emulated version.
//!     let root: serde_json::Value = http.get(format!("{}/api", server.url())).send().await?.json().await?;
//!     assert_eq!(root["Version"], "2024.2.1234");
//!
//!     // Everything else needs the API key.
//!     let projects: serde_json::Value = http
//!         .get(format!("{}/api/Spaces-1/projects?partialName=octo", server.url()))
//!         .header("X-Octopus-ApiKey", server.api_key())
//!         .send()
//!         .await?
//!         .json()
//!         .await?;
//!     assert_eq!(projects["Items"][0]["Name"], "OctoFX");
//!     assert_eq!(server.stats().get, 2);
//!
//!     server.stop().await;
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })
//! # }
//! ```

mod adapt;
mod chaos;
mod clock;
mod collections;
mod community;
mod concurrency;
mod config;
mod context;
mod deployment_settings;
mod error;
mod events;
mod filters;
mod git_refs;
mod instance;
mod integrity;
mod links;
mod loader;
mod paging;
mod processes;
mod reply;
mod routes;
mod runbook_snapshots;
mod secrets;
mod server;
mod side_effects;
mod snapshot;
mod sort_order;
mod spec;
mod store;
mod tenant_variables;
mod typed;
mod variables;

pub use config::{FakeConfig, Seed};
pub use error::FakeError;
pub use integrity::DanglingReference;
pub use paging::TAKE_ALL as PAGE_ALL;
pub use server::{FakeServer, RequestStats};
pub use snapshot::{Snapshot, SpaceSnapshot};
