//! One id type per kind of resource, so an environment id can never be passed where a
//! project id is expected.

id_type! {
    /// `Spaces-1`.
    SpaceId,
    /// `Environments-1`.
    EnvironmentId,
    /// `ProjectGroups-1`.
    ProjectGroupId,
    /// `Projects-1`.
    ProjectId,
    /// `Lifecycles-1`.
    LifecycleId,
    /// `Channels-1`.
    ChannelId,
    /// `deploymentprocess-Projects-1`.
    DeploymentProcessId,
    /// `Runbooks-1`.
    RunbookId,
    /// `RunbookProcess-Runbooks-1`.
    RunbookProcessId,
    /// `variableset-Projects-1` or `variableset-LibraryVariableSets-1`.
    VariableSetId,
    /// `LibraryVariableSets-1`.
    LibraryVariableSetId,
    /// `TagSets-1`.
    TagSetId,
    /// `TagSets-1-1` (a tag inside a tag set).
    TagId,
    /// `Tenants-1`.
    TenantId,
    /// `Feeds-1`, or the `feeds-builtin` alias.
    FeedId,
    /// `Accounts-1`.
    AccountId,
    /// `Certificates-1`.
    CertificateId,
    /// `WorkerPools-1`.
    WorkerPoolId,
    /// `MachinePolicies-1`.
    MachinePolicyId,
    /// `Machines-1`.
    MachineId,
    /// `ActionTemplates-1`.
    ActionTemplateId,
    /// `CommunityActionTemplates-1`.
    CommunityActionTemplateId,
    /// `Teams-1`, or a built-in like `teams-everyone`.
    TeamId,
    /// `UserRoles-1`, or a built-in like `userroles-projectviewer`.
    UserRoleId,
    /// `ScopedUserRoles-1`.
    ScopedUserRoleId,
    /// `Users-1`.
    UserId,
    /// `GitCredentials-1`.
    GitCredentialId,
    /// A parent environment's id (2025.4+); it shares the id space of environment scopes.
    ParentEnvironmentId,
    /// `DeploymentFreezes-1` (instance-wide, 2025.1+).
    DeploymentFreezeId,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_compare_case_insensitively_and_display_as_received() {
        let a = ProjectId::new("projects-161");
        let b = ProjectId::new("Projects-161");
        assert_eq!(a, b);
        assert_eq!(a.cmp(&b), std::cmp::Ordering::Equal);
        let set: HashSet<_> = [a.clone(), b].into_iter().collect();
        assert_eq!(set.len(), 1);
        assert_eq!(a.to_string(), "projects-161");
        assert_ne!(a, ProjectId::new("Projects-16"));
    }

    #[test]
    fn ids_serialize_as_plain_strings() {
        let id: EnvironmentId = serde_json::from_str("\"Environments-3\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"Environments-3\"");
    }
}
