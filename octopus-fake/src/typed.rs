//! Which top-level fields a document of each kind has on a server: the fields of the
//! resource's definition in the 2020.5 swagger (`data/fields-2020.5.json`, read from
//! go-octopusdeploy `api/octopus_deploy.json`), the fields the model types declare, and
//! the fields the shim table dates (kept from the version that introduced them). A
//! typed server has no property for anything else, so it does not keep it.
//!
//! Kinds whose resources are polymorphic in the swagger (accounts, feeds, worker pools,
//! machines: one definition per type, the per-type fields not listed on the base) are
//! left out: the evidence does not say which fields each has, so everything is kept.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use octopus_model::shims::{rows_for, PathSeg, ShimAction};
use octopus_model::{
    ActionTemplate, Certificate, Channel, DeploymentProcess, Environment, LibraryVariableSet,
    Lifecycle, MachinePolicy, Project, ProjectGroup, ResourceKind, Runbook, RunbookProcess,
    ScopedUserRole, Space, TagSet, Team, Tenant, User, UserRole, VariableSet,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::spec::CollectionSpec;

type FieldTable = BTreeMap<String, HashSet<String>>;

/// The swagger's fields per collection; empty if the table does not parse (then nothing
/// is dropped rather than everything).
fn swagger_fields() -> &'static FieldTable {
    static TABLE: OnceLock<FieldTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let parsed: Value =
            serde_json::from_str(include_str!("data/fields-2020.5.json")).unwrap_or(Value::Null);
        parsed["kinds"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(key, kind)| {
                let fields = kind["fields"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
                (key.clone(), fields)
            })
            .collect()
    })
}

/// The document's top-level fields the model type does not declare (its catch-all),
/// or `None` when the kind has no model here or the document does not decode.
fn beyond_the_model(kind: ResourceKind, doc: &Value) -> Option<Vec<String>> {
    fn extra<T: DeserializeOwned>(
        doc: &Value,
        keys: impl Fn(&T) -> Vec<String>,
    ) -> Option<Vec<String>> {
        serde_json::from_value::<T>(doc.clone())
            .ok()
            .map(|t| keys(&t))
    }
    macro_rules! by_kind {
        ($($kind:ident => $ty:ty),* $(,)?) => {
            match kind {
                $(ResourceKind::$kind => extra::<$ty>(doc, |t| t.extra.keys().cloned().collect()),)*
                _ => None,
            }
        };
    }
    by_kind! {
        Environment => Environment,
        ProjectGroup => ProjectGroup,
        Project => Project,
        Lifecycle => Lifecycle,
        Channel => Channel,
        Runbook => Runbook,
        DeploymentProcess => DeploymentProcess,
        RunbookProcess => RunbookProcess,
        VariableSet => VariableSet,
        LibraryVariableSet => LibraryVariableSet,
        TagSet => TagSet,
        Tenant => Tenant,
        Certificate => Certificate,
        MachinePolicy => MachinePolicy,
        ActionTemplate => ActionTemplate,
        Team => Team,
        ScopedUserRole => ScopedUserRole,
        Space => Space,
        User => User,
        UserRole => UserRole,
    }
}

/// The top-level fields the shim table dates for a kind (whether or not the emulated
/// version has them: those it lacks are dropped by the shim table itself).
fn dated(kind: ResourceKind) -> HashSet<&'static str> {
    rows_for(kind)
        .filter(|r| matches!(r.action, ShimAction::Introduced(_)))
        .filter_map(|r| match r.path.first() {
            Some(PathSeg::Key(k)) => Some(*k),
            _ => None,
        })
        .collect()
}

/// The top-level fields of `doc` that no server has for this kind: in neither the
/// swagger's definition, the model type nor the shim table.
pub(crate) fn unknown_fields(spec: &CollectionSpec, doc: &Value) -> Vec<String> {
    let Some(swagger) = swagger_fields().get(spec.key) else {
        return Vec::new();
    };
    let Some(beyond) = beyond_the_model(spec.kind, doc) else {
        return Vec::new();
    };
    let dated = dated(spec.kind);
    beyond
        .into_iter()
        .filter(|f| !swagger.contains(f) && !dated.contains(f.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_swagger_table_is_read() {
        assert!(swagger_fields()["projects"].contains("VersionControlSettings"));
        assert!(swagger_fields()["environments"].contains("UseGuidedFailure"));
        assert!(!swagger_fields().contains_key("accounts"));
    }

    #[test]
    fn a_field_no_server_has_is_unknown() {
        let spec = crate::spec::spec_of("environments");
        let doc =
            json!({"Name": "A", "Bogus": 42, "UseGuidedFailure": true, "EnvironmentTags": []});
        assert_eq!(unknown_fields(spec, &doc), ["Bogus"]);
        let accounts = crate::spec::spec_of("accounts");
        assert!(unknown_fields(accounts, &json!({"Name": "A", "Bogus": 1})).is_empty());
    }
}
