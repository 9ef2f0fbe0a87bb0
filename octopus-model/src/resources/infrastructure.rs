//! Environments, feeds, accounts, certificates, worker pools, machine policies and
//! machines.

use crate::field::{Dict, Field, List};
use crate::ids::{
    AccountId, CertificateId, EnvironmentId, FeedId, MachineId, MachinePolicyId,
    ParentEnvironmentId, SpaceId, TenantId, WorkerPoolId,
};
use crate::resource::named_resource;
use crate::resources::project::TenantedDeploymentMode;
use crate::secret::SensitiveValue;

model! {
    /// An environment: `/api/{spaceId}/environments/{id}`.
    pub struct Environment {
        /// `Environments-1`.
        pub id: Field<EnvironmentId>,
        /// The name.
        pub name: String,
        /// Free text.
        pub description: Field<String>,
        /// Order in the portal and in lifecycles without phases.
        pub sort_order: Field<i64>,
        /// Guided failure.
        pub use_guided_failure: Field<bool>,
        /// Whether targets can be created by deployments.
        pub allow_dynamic_infrastructure: Field<bool>,
        /// Jira, ServiceNow, … settings.
        pub extension_settings: List<serde_json::Value>,
        /// Environment tags (`Set/Tag`, 2025.4+).
        pub environment_tags: List<String>,
        /// `Static` or `Ephemeral` (2025.4+; go-octopusdeploy
        /// `pkg/environments/v2/environments/environment.go`).
        pub r#type: Field<String>,
        /// The parent environment of an ephemeral environment (2025.4+).
        pub parent_environment_id: Field<ParentEnvironmentId>,
        /// The space.
        pub space_id: Field<SpaceId>,
        /// URL-friendly name.
        pub slug: Field<String>,
        /// Links.
        pub links: Dict<String>,
    }
}

string_enum! {
    /// The type of a package feed (create only).
    pub enum FeedType {
        /// The space's built-in package repository.
        BuiltIn = "BuiltIn",
        /// The built-in feed of project releases.
        OctopusProject = "OctopusProject",
        /// NuGet.
        NuGet = "NuGet",
        /// Docker registry.
        Docker = "Docker",
        /// Maven.
        Maven = "Maven",
        /// GitHub releases.
        GitHub = "GitHub",
        /// Helm.
        Helm = "Helm",
        /// OCI registry.
        OciRegistry = "OciRegistry",
        /// npm.
        Npm = "Npm",
        /// PyPI.
        PyPi = "PyPi",
        /// Artifactory generic.
        ArtifactoryGeneric = "ArtifactoryGeneric",
        /// AWS ECR.
        AwsElasticContainerRegistry = "AwsElasticContainerRegistry",
        /// Azure container registry.
        AzureContainerRegistry = "AzureContainerRegistry",
        /// Google container registry.
        GoogleContainerRegistry = "GoogleContainerRegistry",
        /// AWS S3.
        S3 = "S3",
        /// Google Cloud Storage.
        GcsStorage = "GcsStorage",
    }
}

model! {
    /// A package feed of any type: `/api/{spaceId}/feeds/{id}`. Fields that do not apply
    /// to a type are absent.
    pub struct Feed {
        /// `Feeds-1`.
        pub id: Field<FeedId>,
        /// The name.
        pub name: String,
        /// The type (create only).
        pub feed_type: Field<FeedType>,
        /// The feed's URL.
        pub feed_uri: Field<String>,
        /// User name.
        pub username: Field<String>,
        /// Password (secret).
        pub password: Field<SensitiveValue>,
        /// Download attempts.
        pub download_attempts: Field<i64>,
        /// Back-off between attempts.
        pub download_retry_backoff_seconds: Field<i64>,
        /// NuGet enhanced mode.
        pub enhanced_mode: Field<bool>,
        /// Docker API version.
        pub api_version: Field<String>,
        /// Docker registry path.
        pub registry_path: Field<String>,
        /// Region (AWS).
        pub region: Field<String>,
        /// Access key (AWS, S3).
        pub access_key: Field<String>,
        /// Secret key (AWS, S3; secret).
        pub secret_key: Field<SensitiveValue>,
        /// Use the worker's credentials (AWS, S3).
        pub use_machine_credentials: Field<bool>,
        /// Artifactory repository.
        pub repository: Field<String>,
        /// Artifactory layout regex.
        pub layout_regex: Field<String>,
        /// GCS key (secret).
        pub service_account_json_key: Field<SensitiveValue>,
        /// Built-in: retention of unreleased packages.
        pub delete_unreleased_packages_after_days: Field<i64>,
        /// Read only: where packages can be acquired.
        pub package_acquisition_location_options: List<String>,
        /// The space.
        pub space_id: Field<SpaceId>,
        /// URL-friendly name.
        pub slug: Field<String>,
        /// Links.
        pub links: Dict<String>,
    }
}

impl Feed {
    /// Whether this is a built-in feed, matched by type and never created.
    pub fn is_built_in(&self) -> bool {
        matches!(
            self.feed_type.get(),
            Some(FeedType::BuiltIn | FeedType::OctopusProject)
        )
    }
}

string_enum! {
    /// The type of an account (create only).
    pub enum AccountType {
        /// No credentials.
        None = "None",
        /// Username and password.
        UsernamePassword = "UsernamePassword",
        /// SSH key pair.
        SshKeyPair = "SshKeyPair",
        /// Token.
        Token = "Token",
        /// Azure management certificate.
        AzureSubscription = "AzureSubscription",
        /// Azure service principal.
        AzureServicePrincipal = "AzureServicePrincipal",
        /// Azure OIDC.
        AzureOidc = "AzureOidc",
        /// AWS access key.
        AmazonWebServicesAccount = "AmazonWebServicesAccount",
        /// AWS role.
        AmazonWebServicesRoleAccount = "AmazonWebServicesRoleAccount",
        /// AWS OIDC.
        AmazonWebServicesOidcAccount = "AmazonWebServicesOidcAccount",
        /// Google Cloud key.
        GoogleCloudAccount = "GoogleCloudAccount",
        /// Google Cloud OIDC.
        GoogleCloudOidcAccount = "GoogleCloudOidcAccount",
        /// Generic OIDC.
        GenericOidcAccount = "GenericOidcAccount",
    }
}

model! {
    /// An account of any type: `/api/{spaceId}/accounts/{id}`.
    pub struct Account {
        /// `Accounts-1`.
        pub id: Field<AccountId>,
        /// The name.
        pub name: String,
        /// Free text.
        pub description: Field<String>,
        /// The type (create only).
        pub account_type: Field<AccountType>,
        /// Environments it can be used in; empty = all.
        pub environment_ids: List<EnvironmentId>,
        /// Tenants it can be used for.
        pub tenant_ids: List<TenantId>,
        /// Tenant tags it can be used for.
        pub tenant_tags: List<String>,
        /// Whether it is tenanted.
        pub tenanted_deployment_participation: Field<TenantedDeploymentMode>,
        /// User name.
        pub username: Field<String>,
        /// Password (secret).
        pub password: Field<SensitiveValue>,
        /// SSH private key (secret).
        pub private_key_file: Field<SensitiveValue>,
        /// SSH key passphrase (secret).
        pub private_key_passphrase: Field<SensitiveValue>,
        /// Token (secret).
        pub token: Field<SensitiveValue>,
        /// Azure subscription.
        pub subscription_number: Field<String>,
        /// Azure certificate (secret).
        pub certificate_bytes: Field<SensitiveValue>,
        /// Azure certificate thumbprint.
        pub certificate_thumbprint: Field<String>,
        /// Azure client id.
        pub client_id: Field<String>,
        /// Azure AD tenant (not an Octopus tenant).
        pub tenant_id: Field<String>,
        /// Azure cloud.
        pub azure_environment: Field<String>,
        /// AWS access key.
        pub access_key: Field<String>,
        /// AWS secret key (secret).
        pub secret_key: Field<SensitiveValue>,
        /// AWS region.
        pub region: Field<String>,
        /// AWS role.
        pub role_arn: Field<String>,
        /// Google key (secret).
        pub json_key: Field<SensitiveValue>,
        /// OIDC audience.
        pub audience: Field<String>,
        /// The space.
        pub space_id: Field<SpaceId>,
        /// URL-friendly name.
        pub slug: Field<String>,
        /// Links.
        pub links: Dict<String>,
    }
}

model! {
    /// A certificate: `/api/{spaceId}/certificates/{id}`. Its data is create-only and
    /// never readable through the API.
    pub struct Certificate {
        /// `Certificates-1`.
        pub id: Field<CertificateId>,
        /// The name.
        pub name: String,
        /// Notes.
        pub notes: Field<String>,
        /// Environments it can be used in.
        pub environment_ids: List<EnvironmentId>,
        /// Tenants.
        pub tenant_ids: List<TenantId>,
        /// Tenant tags.
        pub tenant_tags: List<String>,
        /// Whether it is tenanted.
        pub tenanted_deployment_participation: Field<TenantedDeploymentMode>,
        /// The certificate (create only, secret).
        pub certificate_data: Field<SensitiveValue>,
        /// Its password (create only, secret).
        pub password: Field<SensitiveValue>,
        /// Read only.
        pub thumbprint: Field<String>,
        /// Read only.
        pub subject_common_name: Field<String>,
        /// Read only.
        pub not_after: Field<String>,
        /// Read only: `Pkcs12`, `Der`, `Pem`.
        pub certificate_data_format: Field<String>,
        /// Whether archived.
        pub archived: Field<String>,
        /// The space.
        pub space_id: Field<SpaceId>,
        /// Links.
        pub links: Dict<String>,
    }
}

model! {
    /// A worker pool: `/api/{spaceId}/workerpools/{id}`.
    pub struct WorkerPool {
        /// `WorkerPools-1`.
        pub id: Field<WorkerPoolId>,
        /// The name.
        pub name: String,
        /// Free text.
        pub description: Field<String>,
        /// Whether this is the space's default pool (one per space).
        pub is_default: Field<bool>,
        /// Order.
        pub sort_order: Field<i64>,
        /// `StaticWorkerPool` or `DynamicWorkerPool`.
        pub worker_pool_type: Field<String>,
        /// The worker image of a dynamic pool.
        pub worker_type: Field<String>,
        /// Read only.
        pub can_add_workers: Field<bool>,
        /// The space.
        pub space_id: Field<SpaceId>,
        /// URL-friendly name.
        pub slug: Field<String>,
        /// Links.
        pub links: Dict<String>,
    }
}

model! {
    /// A machine policy: `/api/{spaceId}/machinepolicies/{id}`. Its sub-policies are kept
    /// as received.
    pub struct MachinePolicy {
        /// `MachinePolicies-1`.
        pub id: Field<MachinePolicyId>,
        /// The name.
        pub name: String,
        /// Free text.
        pub description: Field<String>,
        /// Whether this is the default policy.
        pub is_default: Field<bool>,
        /// Health checks.
        pub machine_health_check_policy: Field<serde_json::Value>,
        /// Connectivity.
        pub machine_connectivity_policy: Field<serde_json::Value>,
        /// Clean-up.
        pub machine_cleanup_policy: Field<serde_json::Value>,
        /// Updates; `TentacleUpdateAccountId` refers to an account.
        pub machine_update_policy: Field<serde_json::Value>,
        /// The space.
        pub space_id: Field<SpaceId>,
        /// Links.
        pub links: Dict<String>,
    }
}

model! {
    /// A deployment target, read only: variables scope to machines by id, so a sync needs
    /// their names.
    pub struct Machine {
        /// `Machines-1`.
        pub id: Field<MachineId>,
        /// The name.
        pub name: String,
        /// Environments.
        pub environment_ids: List<EnvironmentId>,
        /// Roles (target tags).
        pub roles: List<String>,
        /// Tenants.
        pub tenant_ids: List<TenantId>,
        /// Tenant tags.
        pub tenant_tags: List<String>,
        /// Whether disabled.
        pub is_disabled: Field<bool>,
        /// The machine policy.
        pub machine_policy_id: Field<MachinePolicyId>,
        /// The space.
        pub space_id: Field<SpaceId>,
        /// Links.
        pub links: Dict<String>,
    }
}

model! {
    /// A parent environment: `/api/spaces/{spaceId}/parentEnvironments/{id}` (2025.4+).
    /// It scopes variables, accounts, certificates and team roles for the ephemeral
    /// environments created under it, and is never deployed to. Shape from
    /// go-octopusdeploy `pkg/environments/v2/parentenvironments/parent_environment.go`.
    pub struct ParentEnvironment {
        /// The id.
        pub id: Field<ParentEnvironmentId>,
        /// The name.
        pub name: String,
        /// Free text.
        pub description: Field<String>,
        /// Guided failure for deployments to its ephemeral environments.
        pub use_guided_failure: Field<bool>,
        /// `{"ExpiryDays": n, "ExpiryHours": n}`: when idle ephemeral environments are
        /// deprovisioned.
        pub automatic_deprovisioning_rule: Field<serde_json::Value>,
        /// Order in the portal.
        pub sort_order: Field<i64>,
        /// The space.
        pub space_id: Field<SpaceId>,
        /// URL-friendly name.
        pub slug: Field<String>,
        /// Links.
        pub links: Dict<String>,
    }
}

impl Environment {
    /// Whether this is an ephemeral environment (`Type` `Ephemeral`), which Octopus
    /// creates from releases of a project's ephemeral-environment channel.
    pub fn is_ephemeral(&self) -> bool {
        self.r#type
            .get()
            .is_some_and(|t| t.eq_ignore_ascii_case("Ephemeral"))
    }
}

named_resource! {
    ParentEnvironment => ParentEnvironmentId, ParentEnvironment;
    Environment => EnvironmentId, Environment;
    Feed => FeedId, Feed;
    Account => AccountId, Account;
    Certificate => CertificateId, Certificate;
    WorkerPool => WorkerPoolId, WorkerPool;
    MachinePolicy => MachinePolicyId, MachinePolicy;
    Machine => MachineId, Machine;
}
