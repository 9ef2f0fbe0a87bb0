//! Typed, version-aware resources of the Octopus Deploy REST API.
//!
//! Everything octosync reads from one Octopus instance and writes to another passes
//! through these types. They are built so that nothing is lost on the way:
//!
//! - every model keeps the fields it does not declare in `extra`, and every string enum
//!   keeps values it does not know in `Other`, so a document written back is the document
//!   that was read;
//! - [`Field`] and [`Lenient`] remember whether a value arrived missing, `null` or empty,
//!   and write it back the same way;
//! - ids are one newtype per kind ([`ProjectId`], [`EnvironmentId`], …) and compare
//!   case-insensitively, as older servers send `projects-161`;
//! - secrets ([`SensitiveValue`], sensitive [`Variable`] values) never show in `Debug`;
//! - [`OctopusVersion`] parses and orders server versions, and [`shims`] holds, as one
//!   table of data, what a body needs before a server of a given version accepts it;
//! - [`owned`] says what a server creates by itself with a new project, runbook or
//!   library variable set, and under which ids.
//!
//! The crate does no I/O.
//!
//! # Example
//!
//! ```
//! use octopus_model::{decode, shims, OctopusVersion, Project, Resource};
//!
//! let json = br#"{
//!     "Id": "Projects-1", "Name": "OctoFX", "ProjectGroupId": "ProjectGroups-1",
//!     "LifecycleId": "Lifecycles-1", "IncludedLibraryVariableSetIds": null,
//!     "PersistenceSettings": {"Type": "Database"},
//!     "SomeFieldFromANewerServer": {"Kept": true}
//! }"#;
//! let project: Project = decode(json)?;
//! assert_eq!(project.name(), "OctoFX");
//! assert!(project.included_library_variable_set_ids.is_empty());
//! assert!(!project.is_config_as_code());
//!
//! // Written back, the document is the one that was read: the unknown field and the
//! // explicit null survive.
//! let back = serde_json::to_value(&project)?;
//! assert_eq!(back["SomeFieldFromANewerServer"]["Kept"], true);
//! assert!(back["IncludedLibraryVariableSetIds"].is_null());
//!
//! // Prepared as a create body for a 2024.1 server, the shims drop what must not be sent.
//! let mut body = back.clone();
//! let version: OctopusVersion = "2024.1.2".parse()?;
//! let applied = shims::prepare_create(Project::KIND, &mut body, &version);
//! assert!(body.get("PersistenceSettings").is_none());
//! assert_eq!(body["IncludedLibraryVariableSetIds"], serde_json::json!([]));
//! assert_eq!(applied.len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[macro_use]
mod macros;

pub mod collection;
pub mod decode;
pub mod field;
pub mod ids;
pub mod owned;
pub mod resource;
pub mod resources;
pub mod secret;
pub mod shims;
pub mod version;

pub use collection::Collection;
pub use decode::{decode, decode_value, DecodeError};
pub use field::{Dict, Extra, Field, Lenient, List, Omit};
pub use ids::*;
pub use resource::{name_key, same_name, NameKey, Resource, ResourceKind, ResourceScope};
pub use resources::freezes::{DeploymentFreeze, TenantProjectEnvironment};
pub use resources::infrastructure::{
    Account, AccountType, Certificate, Environment, Feed, FeedType, Machine, MachinePolicy,
    ParentEnvironment, WorkerPool,
};
pub use resources::lifecycle::{
    Channel, ChannelActionPackage, ChannelVersionRule, Lifecycle, Phase, RetentionPeriod, Runbook,
};
pub use resources::process::{
    Action, ActionContainer, DeploymentProcess, GitDependency, PackageReference, Properties,
    RunbookProcess, Step,
};
pub use resources::project::{
    DeploymentActionPackage, GitCredentials, GuidedFailureMode, PersistenceSettings, Project,
    ProjectConnectivityPolicy, ProjectGroup, ReleaseCreationStrategy, TenantedDeploymentMode,
    VersioningStrategy,
};
pub use resources::root::{RootDocument, Space};
pub use resources::security::{ScopedUserRole, Team, User, UserRole};
pub use resources::templates::{ActionTemplate, ActionTemplateParameter, CommunityActionTemplate};
pub use resources::tenant::{
    Tag, TagSet, Tenant, TenantLibraryVariable, TenantProjectVariable, TenantScopedVariables,
    TenantVariableScope, TenantVariableValue, TenantVariables,
};
pub use resources::variables::{
    LibraryVariableSet, LibraryVariableSetContentType, Prompt, ReferenceDataItem, Scope,
    ScopeField, ScopeValues, Variable, VariableSet, VariableType,
};
pub use secret::{redact_json, PropertyValue, SensitiveValue};
pub use shims::{AppliedShim, VersionShim};
pub use version::{OctopusVersion, ParseVersionError};
