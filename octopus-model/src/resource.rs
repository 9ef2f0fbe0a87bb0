//! What every top-level resource has in common: its kind, where it lives and how it is
//! named.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Whether a resource lives inside a space (`/api/{spaceId}/projects`) or in the whole
/// instance (`/api/users`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResourceScope {
    /// Addressed through `/api/{spaceId}/…`.
    Space,
    /// Addressed through `/api/…`.
    System,
}

macro_rules! kinds {
    ($( $(#[$m:meta])* $variant:ident => $collection:literal, $scope:ident, $label:literal; )*) => {
        /// Every kind of resource a sync reads or writes.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum ResourceKind {
            $( $(#[$m])* $variant, )*
        }

        impl ResourceKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [ResourceKind] = &[$(ResourceKind::$variant),*];

            /// The collection path segment (`projects` in `/api/Spaces-1/projects`).
            pub const fn collection(self) -> &'static str {
                match self { $( ResourceKind::$variant => $collection, )* }
            }

            /// Whether the kind lives in a space or in the instance.
            pub const fn scope(self) -> ResourceScope {
                match self { $( ResourceKind::$variant => ResourceScope::$scope, )* }
            }

            /// The name people use for the kind ("library variable set").
            pub const fn label(self) -> &'static str {
                match self { $( ResourceKind::$variant => $label, )* }
            }

            /// The kind whose collection segment is `collection`, compared case-insensitively.
            pub fn from_collection(collection: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|k| k.collection().eq_ignore_ascii_case(collection))
            }
        }
    };
}

kinds! {
    /// A space.
    Space => "spaces", System, "space";
    /// An environment.
    Environment => "environments", Space, "environment";
    /// A project group.
    ProjectGroup => "projectgroups", Space, "project group";
    /// A project.
    Project => "projects", Space, "project";
    /// A lifecycle.
    Lifecycle => "lifecycles", Space, "lifecycle";
    /// A channel of a project.
    Channel => "channels", Space, "channel";
    /// A project's deployment process.
    DeploymentProcess => "deploymentprocesses", Space, "deployment process";
    /// A runbook of a project.
    Runbook => "runbooks", Space, "runbook";
    /// A runbook's process.
    RunbookProcess => "runbookProcesses", Space, "runbook process";
    /// A runbook snapshot: a runbook's process and variables frozen for running; the one
    /// a runbook's `PublishedRunbookSnapshotId` names is what its runs and triggers use.
    RunbookSnapshot => "runbookSnapshots", Space, "runbook snapshot";
    /// A variable set (of a project or a library variable set).
    VariableSet => "variables", Space, "variable set";
    /// A library variable set or script module.
    LibraryVariableSet => "libraryvariablesets", Space, "library variable set";
    /// A tag set and its tags.
    TagSet => "tagsets", Space, "tag set";
    /// A tenant.
    Tenant => "tenants", Space, "tenant";
    /// A tenant's variable values.
    TenantVariables => "tenantvariables", Space, "tenant variables";
    /// A package feed.
    Feed => "feeds", Space, "feed";
    /// An account.
    Account => "accounts", Space, "account";
    /// A certificate.
    Certificate => "certificates", Space, "certificate";
    /// A worker pool.
    WorkerPool => "workerpools", Space, "worker pool";
    /// A machine policy.
    MachinePolicy => "machinepolicies", Space, "machine policy";
    /// A deployment target (read only, for variable scopes).
    Machine => "machines", Space, "machine";
    /// A step template.
    ActionTemplate => "actiontemplates", Space, "step template";
    /// A step template in the community library.
    CommunityActionTemplate => "communityactiontemplates", System, "community step template";
    /// A team.
    Team => "teams", Space, "team";
    /// A user role granted to a team, with its scope.
    ScopedUserRole => "scopeduserroles", Space, "scoped user role";
    /// A user role.
    UserRole => "userroles", System, "user role";
    /// A user.
    User => "users", System, "user";
    /// A parent environment (2025.4+): scopes variables, accounts, certificates and team
    /// roles for the ephemeral environments under it; never deployed to.
    ParentEnvironment => "parentEnvironments", Space, "parent environment";
    /// A deployment freeze (2025.1+; per-project freezes 2025.2): instance-wide, scoped
    /// to projects, environments and tenants of any space.
    DeploymentFreeze => "deploymentfreezes", System, "deployment freeze";
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A top-level resource of the Octopus REST API.
///
/// ```
/// use octopus_model::{Environment, Resource, ResourceKind};
///
/// let env: Environment = serde_json::from_str(r#"{"Id": "Environments-1", "Name": "Test"}"#)?;
/// assert_eq!(Environment::KIND, ResourceKind::Environment);
/// assert_eq!(Environment::KIND.collection(), "environments");
/// assert_eq!(env.name(), "Test");
/// assert_eq!(env.id().map(|id| id.as_str()), Some("Environments-1"));
/// # Ok::<(), serde_json::Error>(())
/// ```
pub trait Resource:
    Clone + fmt::Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The id type.
    type Id: Clone
        + fmt::Debug
        + fmt::Display
        + Eq
        + std::hash::Hash
        + Ord
        + AsRef<str>
        + From<String>
        + Send
        + Sync
        + 'static;

    /// The kind, which gives the collection path and scope.
    const KIND: ResourceKind;

    /// The server-assigned id; `None` for a body not created yet.
    fn id(&self) -> Option<&Self::Id>;

    /// Sets the id (used when a create answers with it).
    fn set_id(&mut self, id: Self::Id);

    /// The name a sync matches on. Documents without a name of their own (processes,
    /// variable sets) return their owner's id.
    fn name(&self) -> &str;
}

/// Implements [`Resource`] for a model whose id field is `id: Field<Id>` and whose name
/// field is `name: String`.
macro_rules! named_resource {
    ($($ty:ty => $id:ty, $kind:ident;)*) => {$(
        impl $crate::resource::Resource for $ty {
            type Id = $id;
            const KIND: $crate::resource::ResourceKind = $crate::resource::ResourceKind::$kind;
            fn id(&self) -> Option<&Self::Id> {
                self.id.get()
            }
            fn set_id(&mut self, id: Self::Id) {
                self.id.set(id);
            }
            fn name(&self) -> &str {
                &self.name
            }
        }
    )*};
}
pub(crate) use named_resource;

/// The name key a sync uses: trimmed and case-folded, so `" Test"` and `"test"` match.
pub fn name_key(name: &str) -> String {
    let name = name.trim();
    // Most names are ASCII, whose lower case needs no Unicode tables.
    if name.is_ascii() {
        name.to_ascii_lowercase()
    } else {
        name.to_lowercase()
    }
}

/// Whether two names match, as their [`name_key`]s compare, without building either key.
pub fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        name_key(a) == name_key(b)
    }
}

/// A name that compares (equality and order) as its [`name_key`] would, without
/// building the key: sets and maps of names keyed by it allocate nothing per name.
///
/// ```
/// use octopus_model::{name_key, NameKey};
///
/// assert_eq!(NameKey::new(" Deploy Web "), NameKey::new("deploy web"));
/// assert!(NameKey::new("alpha") < NameKey::new("Beta"));
/// assert_eq!(
///     NameKey::new("Zeta").cmp(&NameKey::new("alpha")),
///     name_key("Zeta").cmp(&name_key("alpha"))
/// );
/// ```
#[derive(Clone, Copy, Debug)]
pub struct NameKey<'a>(&'a str);

impl<'a> NameKey<'a> {
    /// The key of `name` (trimmed here; folded as it is compared).
    pub fn new(name: &'a str) -> Self {
        NameKey(name.trim())
    }
}

impl Ord for NameKey<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let (a, b) = (self.0, other.0);
        if a.is_ascii() && b.is_ascii() {
            // Byte-wise, as the lower-cased strings compare.
            a.bytes()
                .map(|c| c.to_ascii_lowercase())
                .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
        } else if !a.contains('Σ') && !b.contains('Σ') {
            // `str::to_lowercase` lowers each char as `char::to_lowercase` does, but for
            // a capital sigma (final or not, by its neighbours); UTF-8 strings compare
            // as their chars do.
            a.chars()
                .flat_map(char::to_lowercase)
                .cmp(b.chars().flat_map(char::to_lowercase))
        } else {
            name_key(a).cmp(&name_key(b))
        }
    }
}

impl PartialOrd for NameKey<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for NameKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for NameKey<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_keys_compare_as_the_folded_names_do() {
        let names = [
            "alpha",
            "Alpha",
            " alpha ",
            "Beta",
            "beta2",
            "",
            " ",
            "Ünïcode",
            "ünïcode",
            "Zeta",
            "a-b",
            "A_B",
            "ΣΊΣΥΦΟΣ",
            "σίσυφος",
            "ΣΊΣΥΦΟΣ b",
            "σίσυφοσ b",
            "İstanbul",
            "i̇stanbul",
            "Kelvin \u{212A}",
            "kelvin k",
            "Straße",
            "STRASSE",
            "Ǆemal",
            "ǆemal",
            "[x]",
            "{y}",
            "Step 10",
            "step 9",
        ];
        for a in names {
            for b in names {
                assert_eq!(
                    NameKey::new(a).cmp(&NameKey::new(b)),
                    name_key(a).cmp(&name_key(b)),
                    "{a:?} against {b:?}"
                );
                assert_eq!(
                    NameKey::new(a) == NameKey::new(b),
                    name_key(a) == name_key(b)
                );
            }
        }
    }

    #[test]
    fn kinds_know_their_collections() {
        assert_eq!(
            ResourceKind::from_collection("runbookprocesses"),
            Some(ResourceKind::RunbookProcess)
        );
        assert_eq!(ResourceKind::UserRole.scope(), ResourceScope::System);
        assert_eq!(
            ResourceKind::LibraryVariableSet.to_string(),
            "library variable set"
        );
        assert_eq!(name_key("  Dev Team A "), "dev team a");
        assert!(same_name("  Dev Team A ", "dev team a"));
        assert!(same_name("Ünïcode Näme", " ünïcode näme"));
        assert!(!same_name("Dev Team A", "Dev Team B"));
    }

    #[test]
    fn the_ascii_fast_path_folds_like_unicode_lower_case() {
        for name in [
            "  Dev Team A ",
            "PRODUCTION",
            "Zürich Ops",
            "ΣΊΣΥΦΟΣ",
            "Mixed İstanbul",
            "",
        ] {
            assert_eq!(name_key(name), name.trim().to_lowercase(), "{name:?}");
        }
    }
}
