//! Tenants, their variables, and tag sets.

use std::collections::BTreeMap;

use crate::field::{Dict, Field, List};
use crate::ids::{
    EnvironmentId, LibraryVariableSetId, ProjectId, SpaceId, TagId, TagSetId, TenantId,
};
use crate::resource::{named_resource, Resource, ResourceKind};
use crate::resources::templates::ActionTemplateParameter;
use crate::secret::PropertyValue;

model! {
    /// A tag in a tag set.
    pub struct Tag {
        /// `TagSets-1-1`.
        pub id: Field<TagId>,
        /// The name, unique in the set.
        pub name: String,
        /// Read only: `Set/Tag`, the form everything else refers to tags by.
        pub canonical_tag_name: Field<String>,
        /// A colour, `#3156B3`.
        pub color: Field<String>,
        /// Free text.
        pub description: Field<String>,
        /// Order in the set.
        pub sort_order: Field<i64>,
    }
}

model! {
    /// A tag set: `/api/{spaceId}/tagsets/{id}`.
    pub struct TagSet {
        /// `TagSets-1`.
        pub id: Field<TagSetId>,
        /// The name.
        pub name: String,
        /// Free text.
        pub description: Field<String>,
        /// Order among tag sets.
        pub sort_order: Field<i64>,
        /// The tags.
        pub tags: List<Tag>,
        /// `MultiSelect`, `SingleSelect`, `FreeText` (2025.4+).
        pub r#type: Field<String>,
        /// What it tags: `Tenant`, `Environment`, `Project`, … (2025.4+).
        pub scopes: List<String>,
        /// The space.
        pub space_id: Field<SpaceId>,
        /// Links.
        pub links: Dict<String>,
    }
}

impl TagSet {
    /// The canonical name of a tag of this set: `Set/Tag`.
    pub fn canonical_name(&self, tag: &Tag) -> String {
        format!("{}/{}", self.name, tag.name)
    }
}

model! {
    /// A tenant: `/api/{spaceId}/tenants/{id}`.
    pub struct Tenant {
        /// `Tenants-1`.
        pub id: Field<TenantId>,
        /// The name.
        pub name: String,
        /// Free text.
        pub description: Field<String>,
        /// Tenant tags (`Set/Tag`).
        pub tenant_tags: List<String>,
        /// Connected projects and, for each, the environments.
        pub project_environments: Lenient<BTreeMap<ProjectId, Vec<EnvironmentId>>>,
        /// Whether the tenant is disabled (2024.4+).
        pub is_disabled: Field<bool>,
        /// The space.
        pub space_id: Field<SpaceId>,
        /// URL-friendly name.
        pub slug: Field<String>,
        /// Links.
        pub links: Dict<String>,
    }
}

use crate::field::Lenient;

model! {
    /// One project's part of a tenant's variables (old shape).
    pub struct TenantProjectVariable {
        /// The project.
        pub project_id: Field<ProjectId>,
        /// Its name.
        pub project_name: Field<String>,
        /// The project's variable templates.
        pub templates: List<ActionTemplateParameter>,
        /// For each environment, the value of each template (keyed by template id).
        pub variables: Lenient<BTreeMap<EnvironmentId, BTreeMap<String, PropertyValue>>>,
    }
}

model! {
    /// One library variable set's part of a tenant's variables (old shape).
    pub struct TenantLibraryVariable {
        /// The library variable set.
        pub library_variable_set_id: Field<LibraryVariableSetId>,
        /// Its name.
        pub library_variable_set_name: Field<String>,
        /// Its variable templates.
        pub templates: List<ActionTemplateParameter>,
        /// The value of each template (keyed by template id).
        pub variables: Dict<PropertyValue>,
    }
}

model! {
    /// A tenant's variable values: `/api/{spaceId}/tenants/{id}/variables`, written back
    /// whole. Values are keyed by template id, so templates are matched by name.
    pub struct TenantVariables {
        /// The tenant.
        pub tenant_id: Field<TenantId>,
        /// Its name.
        pub tenant_name: Field<String>,
        /// The space.
        pub space_id: Field<SpaceId>,
        /// Optimistic concurrency (2022+).
        pub concurrency_token: Field<String>,
        /// Per connected project.
        pub project_variables: Lenient<BTreeMap<ProjectId, TenantProjectVariable>>,
        /// Per library variable set.
        pub library_variables: Lenient<BTreeMap<LibraryVariableSetId, TenantLibraryVariable>>,
        /// Links.
        pub links: Dict<String>,
    }
}

impl Resource for TenantVariables {
    type Id = TenantId;
    const KIND: ResourceKind = ResourceKind::TenantVariables;
    fn id(&self) -> Option<&Self::Id> {
        self.tenant_id.get()
    }
    fn set_id(&mut self, id: Self::Id) {
        self.tenant_id.set(id);
    }
    fn name(&self) -> &str {
        self.tenant_name.as_str()
    }
}

model! {
    /// The environment scope of a 2025 tenant variable.
    pub struct TenantVariableScope {
        /// The environments; empty = all.
        pub environment_ids: List<EnvironmentId>,
    }
}

model! {
    /// A value in the 2025 `commonvariables` / `projectvariables` shape.
    pub struct TenantVariableValue {
        /// The value's id (omit for a new one).
        pub id: Field<String>,
        /// The library variable set (common variables).
        pub library_variable_set_id: Field<LibraryVariableSetId>,
        /// Its name.
        pub library_variable_set_name: Field<String>,
        /// The project (project variables).
        pub project_id: Field<ProjectId>,
        /// Its name.
        pub project_name: Field<String>,
        /// The template.
        pub template_id: Field<String>,
        /// The template itself.
        pub template: Field<ActionTemplateParameter>,
        /// The value.
        pub value: Field<PropertyValue>,
        /// Where it applies.
        pub scope: Field<TenantVariableScope>,
    }
}

model! {
    /// `/tenants/{id}/commonvariables` or `/projectvariables` (2025.1+): the complete set;
    /// values left out of a write are deleted.
    pub struct TenantScopedVariables {
        /// The tenant.
        pub tenant_id: Field<TenantId>,
        /// The space.
        pub space_id: Field<SpaceId>,
        /// Optimistic concurrency.
        pub concurrency_token: Field<String>,
        /// The values.
        pub variables: List<TenantVariableValue>,
        /// Templates with no value yet (`includeMissingVariables=true`).
        pub missing_variables: List<TenantVariableValue>,
    }
}

named_resource! {
    TagSet => TagSetId, TagSet;
    Tenant => TenantId, Tenant;
}
