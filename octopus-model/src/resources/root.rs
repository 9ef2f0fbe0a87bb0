//! The root document and spaces.

use crate::field::{Dict, Field, List};
use crate::ids::{SpaceId, TeamId, UserId};
use crate::resource::named_resource;
use crate::version::OctopusVersion;

model! {
    /// `GET /api`: what the server is and where its collections are.
    pub struct RootDocument {
        /// `"Octopus Deploy"`.
        pub application: Field<String>,
        /// The server version; parse with [`RootDocument::version`].
        pub version: Field<String>,
        /// The API version, `"3.0.0"`.
        pub api_version: Field<String>,
        /// The installation's id.
        pub installation_id: Field<String>,
        /// Whether this is an early-access build.
        pub is_early_access_program: Field<bool>,
        /// Meaningless since 2020.1; kept for the round trip.
        pub has_long_term_support: Field<bool>,
        /// URI templates; `Spaces` is present when the server has spaces.
        pub links: Dict<String>,
    }
}

impl RootDocument {
    /// The parsed server version.
    pub fn version(&self) -> Result<OctopusVersion, crate::version::ParseVersionError> {
        self.version.as_str().parse()
    }

    /// Whether the server has spaces (it advertises a `Spaces` link).
    pub fn has_spaces(&self) -> bool {
        self.links.contains_key("Spaces")
    }
}

model! {
    /// A space: `/api/spaces/{id}`.
    pub struct Space {
        /// `Spaces-1`.
        pub id: Field<SpaceId>,
        /// The name, unique in the instance.
        pub name: String,
        /// URL-friendly name; required on create from 2022.4.
        pub slug: Field<String>,
        /// Free text.
        pub description: Field<String>,
        /// Whether this is the default space.
        pub is_default: Field<bool>,
        /// Whether its task queue is stopped.
        pub task_queue_stopped: Field<bool>,
        /// Teams that manage the space.
        pub space_managers_teams: List<TeamId>,
        /// Users that manage the space.
        pub space_managers_team_members: List<UserId>,
        /// Links.
        pub links: Dict<String>,
    }
}

named_resource! { Space => SpaceId, Space; }
