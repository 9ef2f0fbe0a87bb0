//! Step templates and the parameter shape shared with project and library templates.

use crate::field::{Dict, Field, List};
use crate::ids::{ActionTemplateId, CommunityActionTemplateId, SpaceId};
use crate::resource::named_resource;
use crate::resources::process::{PackageReference, Properties};
use crate::secret::PropertyValue;

model! {
    /// A parameter of a step template, or a variable template of a project or library
    /// variable set (tenant variables refer to its `Id`).
    pub struct ActionTemplateParameter {
        /// GUID.
        pub id: Field<String>,
        /// The variable name.
        pub name: String,
        /// The label.
        pub label: Field<String>,
        /// Help text.
        pub help_text: Field<String>,
        /// The default value.
        pub default_value: Field<PropertyValue>,
        /// `Octopus.ControlType` (required from 2021.1) and `Octopus.SelectOptions`.
        pub display_settings: Dict<String>,
    }
}

model! {
    /// A step template: `/api/{spaceId}/actiontemplates/{id}`.
    pub struct ActionTemplate {
        /// `ActionTemplates-1`.
        pub id: Field<ActionTemplateId>,
        /// The name.
        pub name: String,
        /// Free text.
        pub description: Field<String>,
        /// The action type (create only).
        pub action_type: Field<String>,
        /// Read only: bumps on every save.
        pub version: Field<i64>,
        /// Set when installed from the community library.
        pub community_action_template_id: Field<CommunityActionTemplateId>,
        /// Settings of the action.
        pub properties: Properties,
        /// Parameters.
        pub parameters: List<ActionTemplateParameter>,
        /// Packages.
        pub packages: List<PackageReference>,
        /// Git dependencies.
        pub git_dependencies: List<crate::resources::process::GitDependency>,
        /// The space.
        pub space_id: Field<SpaceId>,
        /// Links.
        pub links: Dict<String>,
    }
}

model! {
    /// A step template in the community library: `/api/communityactiontemplates/{id}`.
    pub struct CommunityActionTemplate {
        /// `CommunityActionTemplates-1`.
        pub id: Field<CommunityActionTemplateId>,
        /// The name.
        pub name: String,
        /// Free text.
        pub description: Field<String>,
        /// The action type.
        pub r#type: Field<String>,
        /// The library's version.
        pub version: Field<i64>,
        /// The author.
        pub author: Field<String>,
        /// The website.
        pub website: Field<String>,
        /// The history URL.
        pub history_url: Field<String>,
        /// Settings.
        pub properties: Properties,
        /// Parameters.
        pub parameters: List<ActionTemplateParameter>,
        /// Packages.
        pub packages: List<PackageReference>,
        /// Links (`Installation`).
        pub links: Dict<String>,
    }
}

named_resource! {
    ActionTemplate => ActionTemplateId, ActionTemplate;
    CommunityActionTemplate => CommunityActionTemplateId, CommunityActionTemplate;
}
