//! Teams, user roles, scoped user roles and users.

use crate::field::{Dict, Field, List};
use crate::ids::{
    EnvironmentId, ProjectGroupId, ProjectId, ScopedUserRoleId, SpaceId, TeamId, TenantId, UserId,
    UserRoleId,
};
use crate::resource::named_resource;

model! {
    /// A team: `/api/teams/{id}` or `/api/{spaceId}/teams/{id}`.
    pub struct Team {
        /// `Teams-1` or a built-in like `teams-everyone`.
        pub id: Field<TeamId>,
        /// The name.
        pub name: String,
        /// Free text.
        pub description: Field<String>,
        /// Members (users are instance-wide; match by user name).
        pub member_user_ids: List<UserId>,
        /// External groups (`{Id, DisplayName, DisplayIdAndName}`).
        pub external_security_groups: List<serde_json::Value>,
        /// The space; `null` for a system team spanning spaces.
        pub space_id: Field<SpaceId>,
        /// Read only.
        pub can_be_deleted: Field<bool>,
        /// Read only.
        pub can_be_renamed: Field<bool>,
        /// Read only.
        pub can_change_roles: Field<bool>,
        /// Read only.
        pub can_change_members: Field<bool>,
        /// Links.
        pub links: Dict<String>,
    }
}

impl Team {
    /// Whether this is a built-in or system team, matched and never created.
    pub fn is_built_in(&self) -> bool {
        self.space_id.get().is_none()
            || self.id.get().is_some_and(|id| {
                id.as_str().to_ascii_lowercase().starts_with("teams-")
                    && crate::resources::is_slug_id(id.as_str())
            })
    }
}

model! {
    /// A user role: `/api/userroles/{id}` (instance-wide).
    pub struct UserRole {
        /// `UserRoles-1` or a built-in like `userroles-projectviewer`.
        pub id: Field<UserRoleId>,
        /// The name.
        pub name: String,
        /// Free text.
        pub description: Field<String>,
        /// Space permissions granted.
        pub granted_space_permissions: List<String>,
        /// System permissions granted.
        pub granted_system_permissions: List<String>,
        /// Read only.
        pub can_be_deleted: Field<bool>,
        /// Links.
        pub links: Dict<String>,
    }
}

impl UserRole {
    /// Whether this is a built-in role (slug id), matched and never created.
    pub fn is_built_in(&self) -> bool {
        self.can_be_deleted.get() == Some(&false)
            || self
                .id
                .get()
                .is_some_and(|id| crate::resources::is_slug_id(id.as_str()))
    }
}

model! {
    /// A user role granted to a team, limited to projects, environments, tenants and
    /// project groups.
    pub struct ScopedUserRole {
        /// `ScopedUserRoles-1`.
        pub id: Field<ScopedUserRoleId>,
        /// The team.
        pub team_id: Field<TeamId>,
        /// The role.
        pub user_role_id: Field<UserRoleId>,
        /// The space; `null` for system permissions.
        pub space_id: Field<SpaceId>,
        /// Projects; empty = all.
        pub project_ids: List<ProjectId>,
        /// Environments; empty = all.
        pub environment_ids: List<EnvironmentId>,
        /// Tenants; empty = all.
        pub tenant_ids: List<TenantId>,
        /// Project groups; empty = all.
        pub project_group_ids: List<ProjectGroupId>,
        /// Links.
        pub links: Dict<String>,
    }
}

impl crate::resource::Resource for ScopedUserRole {
    type Id = ScopedUserRoleId;
    const KIND: crate::resource::ResourceKind = crate::resource::ResourceKind::ScopedUserRole;
    fn id(&self) -> Option<&Self::Id> {
        self.id.get()
    }
    fn set_id(&mut self, id: Self::Id) {
        self.id.set(id);
    }
    /// A scoped user role is named after its role's id.
    fn name(&self) -> &str {
        self.user_role_id.get().map(|r| r.as_str()).unwrap_or("")
    }
}

model! {
    /// A user: `/api/users/{id}`. Read only; teams refer to users by id, matched by user
    /// name.
    pub struct User {
        /// `Users-1`.
        pub id: Field<UserId>,
        /// The login name.
        pub username: String,
        /// The display name.
        pub display_name: Field<String>,
        /// E-mail.
        pub email_address: Field<String>,
        /// Whether active.
        pub is_active: Field<bool>,
        /// Whether a service account.
        pub is_service: Field<bool>,
        /// Links.
        pub links: Dict<String>,
    }
}

impl crate::resource::Resource for User {
    type Id = UserId;
    const KIND: crate::resource::ResourceKind = crate::resource::ResourceKind::User;
    fn id(&self) -> Option<&Self::Id> {
        self.id.get()
    }
    fn set_id(&mut self, id: Self::Id) {
        self.id.set(id);
    }
    fn name(&self) -> &str {
        &self.username
    }
}

named_resource! {
    Team => TeamId, Team;
    UserRole => UserRoleId, UserRole;
}
