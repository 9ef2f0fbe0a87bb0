//! Variable sets, variables and their scopes, and library variable sets.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::field::{Dict, Extra, Field, Lenient, List, Omit};
use crate::ids::{LibraryVariableSetId, SpaceId, VariableSetId};
use crate::resource::{named_resource, Resource, ResourceKind};
use crate::resources::templates::ActionTemplateParameter;
use crate::secret::REDACTED;

string_enum! {
    /// The type of a variable's value. Typed values hold the id of what they name.
    pub enum VariableType {
        /// Plain text.
        String = "String",
        /// A secret; the API never returns its value.
        Sensitive = "Sensitive",
        /// A certificate id.
        Certificate = "Certificate",
        /// An AWS account id.
        AmazonWebServicesAccount = "AmazonWebServicesAccount",
        /// An Azure account id.
        AzureAccount = "AzureAccount",
        /// A Google Cloud account id.
        GoogleCloudAccount = "GoogleCloudAccount",
        /// A username/password account id.
        UsernamePasswordAccount = "UsernamePasswordAccount",
        /// A generic OIDC account id.
        GenericOidcAccount = "GenericOidcAccount",
        /// A worker pool id (2020.1+).
        WorkerPool = "WorkerPool",
    }
}

impl VariableType {
    /// The kind of resource a value of this type names, if it names one.
    pub fn referenced_kind(&self) -> Option<ResourceKind> {
        match self {
            VariableType::Certificate => Some(ResourceKind::Certificate),
            VariableType::AmazonWebServicesAccount
            | VariableType::AzureAccount
            | VariableType::GoogleCloudAccount
            | VariableType::UsernamePasswordAccount
            | VariableType::GenericOidcAccount => Some(ResourceKind::Account),
            VariableType::WorkerPool => Some(ResourceKind::WorkerPool),
            _ => None,
        }
    }
}

string_enum! {
    /// A key of a variable's `Scope`.
    pub enum ScopeField {
        /// Environment ids.
        Environment = "Environment",
        /// Machine (target) ids.
        Machine = "Machine",
        /// Target role / tag names.
        Role = "Role",
        /// Action GUIDs of this project's processes.
        Action = "Action",
        /// Channel ids.
        Channel = "Channel",
        /// Canonical tenant tags.
        TenantTag = "TenantTag",
        /// `Projects-N` (the deployment process) or `Runbooks-N`.
        ProcessOwner = "ProcessOwner",
        /// Tenant ids (server internal).
        Tenant = "Tenant",
        /// Project ids (server internal).
        Project = "Project",
        /// Target roles (server internal).
        TargetRole = "TargetRole",
        /// Users (server internal).
        User = "User",
        /// Triggers (server internal).
        Trigger = "Trigger",
        /// Parent deployments (server internal).
        ParentDeployment = "ParentDeployment",
        /// Private (server internal).
        Private = "Private",
    }
}

/// A variable's scope: for each scope field, the values it is limited to.
pub type Scope = Lenient<BTreeMap<ScopeField, Vec<String>>>;

model! {
    /// How a prompted variable asks for its value.
    pub struct Prompt {
        /// The label.
        pub label: Field<String>,
        /// Help text.
        pub description: Field<String>,
        /// Whether a value is required.
        pub required: Field<bool>,
        /// `Octopus.ControlType`, `Octopus.SelectOptions`.
        pub display_settings: Dict<String>,
    }
}

/// A variable in a variable set.
///
/// `Debug` hides the value of a sensitive variable.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Variable {
    /// GUID, unique in the set. Keep it on update: a sensitive variable sent without its
    /// `Id` loses its secret.
    #[serde(default, skip_serializing_if = "Omit::omit")]
    pub id: Field<String>,
    /// The name; several variables may share it with different scopes.
    #[serde(default)]
    pub name: String,
    /// The value; `null` for sensitive values on GET; an id for typed values.
    #[serde(default, skip_serializing_if = "Omit::omit")]
    pub value: Field<String>,
    /// The value's type.
    #[serde(default, skip_serializing_if = "Omit::omit")]
    pub r#type: Field<VariableType>,
    /// Legacy mirror of `Type == Sensitive`.
    #[serde(default, skip_serializing_if = "Omit::omit")]
    pub is_sensitive: Field<bool>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Omit::omit")]
    pub description: Field<String>,
    /// Whether the variable can be edited.
    #[serde(default, skip_serializing_if = "Omit::omit")]
    pub is_editable: Field<bool>,
    /// Where the value applies.
    #[serde(default, skip_serializing_if = "Omit::omit")]
    pub scope: Scope,
    /// How a prompted variable asks for its value.
    #[serde(default, skip_serializing_if = "Omit::omit")]
    pub prompt: Field<Prompt>,
    /// Every field this crate does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Variable {
    /// Whether the value is a secret (by `Type` or by the legacy `IsSensitive`).
    pub fn is_secret(&self) -> bool {
        self.is_sensitive.get_or(false) || self.r#type.get() == Some(&VariableType::Sensitive)
    }

    /// The values of one scope field.
    pub fn scope_values(&self, field: &ScopeField) -> &[String] {
        self.scope.get(field).map(Vec::as_slice).unwrap_or(&[])
    }
}

impl fmt::Debug for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value: &dyn fmt::Debug = if self.is_secret() && self.value.is_set() {
            &REDACTED
        } else {
            &self.value
        };
        f.debug_struct("Variable")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("value", value)
            .field("type", &self.r#type)
            .field("is_sensitive", &self.is_sensitive)
            .field("scope", &self.scope)
            .field("prompt", &self.prompt)
            .field("extra", &self.extra)
            .finish()
    }
}

model! {
    /// An entry of a variable set's `ScopeValues` lookup table.
    pub struct ReferenceDataItem {
        /// The id.
        pub id: Field<String>,
        /// The name.
        pub name: Field<String>,
        /// For `Processes`: `Deployment` or `Runbook`.
        pub process_type: Field<String>,
    }
}

model! {
    /// The names behind the ids a variable set's scopes use (read only).
    pub struct ScopeValues {
        /// Environments.
        pub environments: List<ReferenceDataItem>,
        /// Machines.
        pub machines: List<ReferenceDataItem>,
        /// Actions.
        pub actions: List<ReferenceDataItem>,
        /// Roles.
        pub roles: List<ReferenceDataItem>,
        /// Channels.
        pub channels: List<ReferenceDataItem>,
        /// Tenant tags.
        pub tenant_tags: List<ReferenceDataItem>,
        /// Processes (deployment process and runbooks).
        pub processes: List<ReferenceDataItem>,
    }
}

model! {
    /// A variable set: `/api/{spaceId}/variables/{id}`, owned by a project or a library
    /// variable set.
    pub struct VariableSet {
        /// `variableset-Projects-1`.
        pub id: Field<VariableSetId>,
        /// The owning project or library variable set.
        pub owner_id: Field<String>,
        /// The space.
        pub space_id: Field<SpaceId>,
        /// Optimistic concurrency: send back the value read.
        pub version: Field<i64>,
        /// The variables.
        pub variables: List<Variable>,
        /// Names behind the scope ids (read only; round-tripped).
        pub scope_values: Field<ScopeValues>,
        /// Links.
        pub links: Dict<String>,
    }
}

impl Resource for VariableSet {
    type Id = VariableSetId;
    const KIND: ResourceKind = ResourceKind::VariableSet;
    fn id(&self) -> Option<&Self::Id> {
        self.id.get()
    }
    fn set_id(&mut self, id: Self::Id) {
        self.id.set(id);
    }
    /// A variable set is named after its owner's id.
    fn name(&self) -> &str {
        self.owner_id.as_str()
    }
}

string_enum! {
    /// What a library variable set holds.
    pub enum LibraryVariableSetContentType {
        /// Variables.
        Variables = "Variables",
        /// A script module.
        ScriptModule = "ScriptModule",
    }
}

model! {
    /// A library variable set or script module: `/api/{spaceId}/libraryvariablesets/{id}`.
    ///
    /// A script module's body lives in its variable set, as the variables
    /// `Octopus.Script.Module[<name>]` and `Octopus.Script.Module.Language[<name>]`.
    pub struct LibraryVariableSet {
        /// `LibraryVariableSets-1`.
        pub id: Field<LibraryVariableSetId>,
        /// The name.
        pub name: String,
        /// Free text.
        pub description: Field<String>,
        /// `Variables` or `ScriptModule` (create only).
        pub content_type: Field<LibraryVariableSetContentType>,
        /// Read only: its variable set.
        pub variable_set_id: Field<VariableSetId>,
        /// Tenant common-variable templates.
        pub templates: List<ActionTemplateParameter>,
        /// The space.
        pub space_id: Field<SpaceId>,
        /// Links.
        pub links: Dict<String>,
    }
}

impl LibraryVariableSet {
    /// Whether this is a script module.
    pub fn is_script_module(&self) -> bool {
        self.content_type.get() == Some(&LibraryVariableSetContentType::ScriptModule)
    }
}

named_resource! { LibraryVariableSet => LibraryVariableSetId, LibraryVariableSet; }
