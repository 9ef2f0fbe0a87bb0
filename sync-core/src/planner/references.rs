//! Which values hold references, and to what.
//!
//! A value is a reference because of *where* it is, never because of its shape: `Shop-3`
//! under `Octopus.Action.IISWebSite.ApplicationPoolName` is an application pool name, and
//! `Accounts-3` under `Octopus.Action.Azure.AccountId` is an account. Three tables say
//! where references are:
//!
//! - [`PROPERTY_REFERENCES`]: property keys of actions and step templates;
//! - [`CONTROL_TYPE_REFERENCES`]: for an action based on a step template (and for the
//!   template's own parameter defaults), the parameters whose `Octopus.ControlType` names
//!   a kind of document;
//! - structured values: a package parameter holds JSON `{"PackageId": …, "FeedId": …}`
//!   whose `FeedId` is a feed ([`Shape::Package`]).
//!
//! Every other value is text and is copied unchanged. When such text equals the id of a
//! document in the source space, the clean-up log says so, because the person who typed it
//! may have meant the document; the step is synced all the same.
//!
//! Where the keys come from:
//! - `Octopus.Action.Template.Id` / `Octopus.Action.Template.Version`,
//!   `Octopus.Action.Package.FeedId`, `Octopus.Action.DeployRelease.ProjectId`,
//!   `Octopus.Action.Manual.ResponsibleTeamIds`, and the package parameter JSON's `FeedId`:
//!   OctopusDeployLabs/SpaceCloner `src/Cloners/ActionCloner.ps1`
//!   (`Convert-OctopusProcessActionStepTemplate`, `Convert-OctopusProcessActionFeedId`,
//!   `Convert-OctopusDeployAReleaseStep`, `Convert-OctopusProcessActionManualIntervention`);
//!   OctopusSolutionsEngineering/OctopusTerraformExport
//!   `cmd/internal/converters/octopus_action_processor.go` (`ReplaceStepTemplateVersion`).
//! - `Octopus.Action.Azure.AccountId`: OctopusSolutionsEngineering/OctopusTerraformExport
//!   `test/terraform/89-everystep/space_population/process_step_every_step_project_run_an_azure_script.tf`,
//!   and the Azure scripting step's special variables (`AccountId`).
//! - `Octopus.Action.Email.ToTeamIds` / `CCTeamIds` / `BccTeamIds`: public references
//!   of the email step's properties list them as team ids ("Example: `teams-123`"), and
//!   public Terraform configurations set `Octopus.Action.Email.ToTeamIds =
//!   "teams-everyone"`; no official client names them, so they are the least certain rows.
//! - Control types: OctopusDeploy/go-octopusdeploy `pkg/resources/display_settings.go`
//!   (`Certificate`, `WorkerPool`, `AzureAccount`, `GoogleCloudAccount`,
//!   `AmazonWebServicesAccount`); `Package` from community step templates'
//!   `DisplaySettings` and SpaceCloner's `Convert-OctopusProcessActionStepTemplate`;
//!   `UsernamePasswordAccount` from the API reference's `ActionTemplateParameter`.

use std::collections::BTreeMap;

use octopus_model::{name_key, ActionTemplate, PropertyValue, ResourceKind};
use serde_json::Value;

use crate::context::{Ctx, Resolved};
use crate::plan::{CleanupCategory, ItemRef};

/// What a reference points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RefKind {
    /// A package feed.
    Feed,
    /// An account (Azure, AWS, Google Cloud, username/password, …).
    Account,
    /// A certificate.
    Certificate,
    /// A worker pool.
    WorkerPool,
    /// An environment (single-valued: a one-to-many `[environment_map]` entry cannot fit).
    Environment,
    /// A project.
    Project,
    /// A tenant.
    Tenant,
    /// A team.
    Team,
    /// A channel of the process's own project.
    Channel,
    /// A step template.
    StepTemplate,
    /// Git credentials, which are not synced.
    GitCredential,
}

impl RefKind {
    /// The top-level kind the reference is translated through; `None` for kinds that are
    /// not top-level documents the sync knows (channels belong to a project, git
    /// credentials are not synced).
    pub fn resource_kind(self) -> Option<ResourceKind> {
        Some(match self {
            RefKind::Feed => ResourceKind::Feed,
            RefKind::Account => ResourceKind::Account,
            RefKind::Certificate => ResourceKind::Certificate,
            RefKind::WorkerPool => ResourceKind::WorkerPool,
            RefKind::Environment => ResourceKind::Environment,
            RefKind::Project => ResourceKind::Project,
            RefKind::Tenant => ResourceKind::Tenant,
            RefKind::Team => ResourceKind::Team,
            RefKind::StepTemplate => ResourceKind::ActionTemplate,
            RefKind::Channel | RefKind::GitCredential => return None,
        })
    }
}

/// How a value holds its reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// The whole value is one id. A value that cannot be translated stops the item.
    One,
    /// Comma-separated ids. Ids that cannot be translated are dropped (and logged); when
    /// none is left, `fallback` is used if the row has one.
    List {
        /// What to use when no id is left (`teams-managers` for a manual intervention,
        /// which must have a responsible team).
        fallback: Option<&'static str>,
    },
    /// JSON `{"PackageId": …, "FeedId": …}`: the `FeedId` is a feed.
    Package,
}

/// A property key that holds a reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PropertyReference {
    /// The property key (compared case-insensitively).
    pub key: &'static str,
    /// What it points at.
    pub kind: RefKind,
    /// How the value holds it.
    pub shape: Shape,
}

const fn one(key: &'static str, kind: RefKind) -> PropertyReference {
    PropertyReference {
        key,
        kind,
        shape: Shape::One,
    }
}

const fn list(
    key: &'static str,
    kind: RefKind,
    fallback: Option<&'static str>,
) -> PropertyReference {
    PropertyReference {
        key,
        kind,
        shape: Shape::List { fallback },
    }
}

/// The key that names an action's step template.
pub const TEMPLATE_ID: &str = "Octopus.Action.Template.Id";
/// The key that names the version of the step template an action was last updated from.
pub const TEMPLATE_VERSION: &str = "Octopus.Action.Template.Version";

/// Property keys of actions and step templates that hold references.
pub const PROPERTY_REFERENCES: &[PropertyReference] = &[
    one(TEMPLATE_ID, RefKind::StepTemplate),
    one("Octopus.Action.Package.FeedId", RefKind::Feed),
    one("Octopus.Action.Azure.AccountId", RefKind::Account),
    one("Octopus.Action.DeployRelease.ProjectId", RefKind::Project),
    list(
        "Octopus.Action.Manual.ResponsibleTeamIds",
        RefKind::Team,
        Some("teams-managers"),
    ),
    list("Octopus.Action.Email.ToTeamIds", RefKind::Team, None),
    list("Octopus.Action.Email.CCTeamIds", RefKind::Team, None),
    list("Octopus.Action.Email.BccTeamIds", RefKind::Team, None),
];

/// Step-template parameter control types (`Octopus.ControlType`) whose values are
/// references: an action based on the template holds the value under the parameter's
/// name, and the parameter's default value has the same form.
pub const CONTROL_TYPE_REFERENCES: &[(&str, RefKind, Shape)] = &[
    ("AzureAccount", RefKind::Account, Shape::One),
    ("AmazonWebServicesAccount", RefKind::Account, Shape::One),
    ("GoogleCloudAccount", RefKind::Account, Shape::One),
    ("UsernamePasswordAccount", RefKind::Account, Shape::One),
    ("Certificate", RefKind::Certificate, Shape::One),
    ("WorkerPool", RefKind::WorkerPool, Shape::One),
    ("Package", RefKind::Feed, Shape::Package),
];

/// The reference a property key holds, if the table lists it.
pub fn property_reference(key: &str) -> Option<(RefKind, Shape)> {
    PROPERTY_REFERENCES
        .iter()
        .find(|r| r.key.eq_ignore_ascii_case(key))
        .map(|r| (r.kind, r.shape))
}

/// The reference a parameter of this control type holds, if any.
pub fn control_type_reference(control_type: &str) -> Option<(RefKind, Shape)> {
    CONTROL_TYPE_REFERENCES
        .iter()
        .find(|(c, _, _)| c.eq_ignore_ascii_case(control_type.trim()))
        .map(|(_, k, s)| (*k, *s))
}

/// The kinds whose source ids a text value is compared with, to note text that looks
/// like it was meant as a reference.
pub const NOTED_KINDS: &[ResourceKind] = &[
    ResourceKind::Environment,
    ResourceKind::Feed,
    ResourceKind::Account,
    ResourceKind::Certificate,
    ResourceKind::WorkerPool,
    ResourceKind::Project,
    ResourceKind::Tenant,
    ResourceKind::Team,
    ResourceKind::Channel,
    ResourceKind::ActionTemplate,
    ResourceKind::Lifecycle,
    ResourceKind::LibraryVariableSet,
    ResourceKind::MachinePolicy,
    ResourceKind::ProjectGroup,
];

/// Where translated values sit, for messages and for channel lookups.
pub struct RefPlace<'p> {
    /// The item the clean-up log names.
    pub item: &'p ItemRef,
    /// What holds the values, for messages: `action "Deploy"`, `step template "Notify"`.
    pub what: String,
    /// For values inside a project's process: the source project's name and the
    /// destination project's id (channels are looked up in it).
    pub project: Option<(&'p str, Option<&'p str>)>,
}

fn is_expression(value: &str) -> bool {
    value.contains("#{")
}

/// Translates one source id of `kind`; `Err` is the reason it cannot be.
pub fn translate_one(
    ctx: &mut Ctx<'_>,
    place: &RefPlace<'_>,
    kind: RefKind,
    id: &str,
) -> Result<String, String> {
    let id = id.trim();
    match kind {
        RefKind::GitCredential => Err(format!("{id} is a git credential, which is not synced")),
        RefKind::Channel => match place.project {
            Some((project, dest)) => {
                let (name, r) = ctx.resolve_channel(id, project, dest);
                r.text()
                    .ok_or_else(|| format!("channel {name:?} is not on the destination"))
            }
            None => Err(format!("{id} is a channel outside a project")),
        },
        RefKind::Environment => {
            let mut all = ctx.resolve_many(ResourceKind::Environment, id);
            if all.len() > 1 {
                let name = all[0].0.clone();
                let targets: Vec<String> = ctx.rules.environment_map.map(&name);
                return Err(format!(
                    "[environment_map] entry {name:?} = {} maps it to {} environments, but only one fits here",
                    super::common::quote_list(&targets),
                    targets.len()
                ));
            }
            match all.pop() {
                Some((name, r)) => match r {
                    Resolved::Missing(reason) => Err(format!("environment {name:?}: {reason}")),
                    other => Ok(other.text().unwrap_or_default()),
                },
                None => Err(format!("environment {id} translates to nothing")),
            }
        }
        other => {
            // Every other kind is top-level; `resource_kind` is `Some` for all of them.
            let Some(rk) = other.resource_kind() else {
                return Err(format!("{id} cannot be translated"));
            };
            let (name, r) = ctx.resolve(rk, id);
            match r {
                Resolved::Missing(reason) => Err(format!("{rk} {name:?}: {reason}")),
                other => Ok(other.text().unwrap_or_default()),
            }
        }
    }
}

/// Translates a value that holds references of `kind` in `shape`. Expressions and
/// empty values are left as they are. `Err` is the reason the item cannot be synced.
pub fn translate_value(
    ctx: &mut Ctx<'_>,
    place: &RefPlace<'_>,
    key: &str,
    kind: RefKind,
    shape: Shape,
    text: &str,
) -> Result<String, String> {
    if is_expression(text) || text.trim().is_empty() {
        return Ok(text.to_owned());
    }
    match shape {
        Shape::One => translate_one(ctx, place, kind, text),
        Shape::List { fallback } => {
            let mut kept = Vec::new();
            let mut dropped = Vec::new();
            for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                match translate_one(ctx, place, kind, part) {
                    Ok(id) => kept.push(id),
                    Err(reason) => dropped.push(reason),
                }
            }
            if !dropped.is_empty() {
                ctx.clean(
                    CleanupCategory::Reference,
                    place.item,
                    format!(
                        "{}: property {key}: dropped {}",
                        place.what,
                        dropped.join("; ")
                    ),
                );
            }
            if kept.is_empty() {
                if let Some(fallback) = fallback {
                    ctx.clean(
                        CleanupCategory::Reference,
                        place.item,
                        format!(
                            "{}: property {key}: nothing is left; {fallback} is used",
                            place.what
                        ),
                    );
                    kept.push(fallback.to_owned());
                }
            }
            Ok(kept.join(","))
        }
        Shape::Package => {
            let Ok(Value::Object(mut obj)) = serde_json::from_str::<Value>(text) else {
                return Ok(text.to_owned());
            };
            let Some(feed) = obj.get("FeedId").and_then(Value::as_str).map(str::to_owned) else {
                return Ok(text.to_owned());
            };
            if is_expression(&feed) || feed.trim().is_empty() {
                return Ok(text.to_owned());
            }
            let id = translate_one(ctx, place, RefKind::Feed, &feed)?;
            obj.insert("FeedId".to_owned(), Value::String(id));
            Ok(Value::Object(obj).to_string())
        }
    }
}

/// Whether text is a package parameter's JSON (`{"PackageId": …, "FeedId": …}`).
pub fn is_package_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
        && matches!(serde_json::from_str::<Value>(text),
            Ok(Value::Object(o)) if o.contains_key("FeedId") && o.contains_key("PackageId"))
}

/// Notes text that equals the id of a document in the source space: it is copied as
/// text, but a person should check it was not meant as a reference.
pub fn note_id_like_text(ctx: &mut Ctx<'_>, place: &RefPlace<'_>, key: &str, text: &str) {
    if is_expression(text) {
        return;
    }
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let found = NOTED_KINDS.iter().find_map(|k| {
            ctx.source
                .index
                .by_id(*k, part)
                .map(|e| (*k, e.name.clone()))
        });
        if let Some((kind, name)) = found {
            ctx.clean(
                CleanupCategory::Reference,
                place.item,
                format!(
                    "{}: property {key} holds {part:?}, the id of {kind} {name:?} on the source; it is not a known reference, so it was copied as text: check it",
                    place.what
                ),
            );
        }
    }
}

/// Translates the references in a property map: keys of [`PROPERTY_REFERENCES`],
/// parameters listed in `parameters` (name key -> reference, from a step template's
/// control types), and package parameter JSON. Other text is copied (and noted when it
/// equals a source id). `Octopus.Action.Template.Version` is left to the caller.
pub fn translate_properties(
    ctx: &mut Ctx<'_>,
    place: &RefPlace<'_>,
    properties: &mut BTreeMap<String, PropertyValue>,
    parameters: &BTreeMap<String, (RefKind, Shape)>,
) -> Result<(), String> {
    let keys: Vec<String> = properties.keys().cloned().collect();
    for key in keys {
        if key.eq_ignore_ascii_case(TEMPLATE_VERSION) {
            continue;
        }
        let Some(PropertyValue::Text(text)) = properties.get(&key).cloned() else {
            continue;
        };
        let reference = property_reference(&key)
            .or_else(|| parameters.get(&name_key(&key)).copied())
            .or_else(|| is_package_json(&text).then_some((RefKind::Feed, Shape::Package)));
        match reference {
            Some((kind, shape)) => {
                let out = translate_value(ctx, place, &key, kind, shape, &text)
                    .map_err(|r| format!("property {key}: {r}"))?;
                properties.insert(key, PropertyValue::Text(out));
            }
            None => note_id_like_text(ctx, place, &key, &text),
        }
    }
    Ok(())
}

/// The parameters of a step template that hold references, by name key.
pub fn template_parameters(template: &ActionTemplate) -> BTreeMap<String, (RefKind, Shape)> {
    template
        .parameters
        .iter()
        .filter_map(|p| {
            let control = p.display_settings.get("Octopus.ControlType")?;
            control_type_reference(control).map(|r| (name_key(&p.name), r))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_whatever_their_case() {
        assert_eq!(
            property_reference("octopus.action.azure.accountid"),
            Some((RefKind::Account, Shape::One))
        );
        assert_eq!(
            property_reference("Octopus.Action.IISWebSite.ApplicationPoolName"),
            None
        );
        assert_eq!(
            control_type_reference("Package"),
            Some((RefKind::Feed, Shape::Package))
        );
        assert_eq!(control_type_reference("SingleLineText"), None);
    }

    #[test]
    fn an_environment_mapped_to_several_does_not_fit_where_one_value_goes() {
        use crate::rules::SyncRules;
        use crate::snapshot::Snapshot;
        use serde_json::json;
        let version = "2024.1.0".parse().unwrap();
        let src = Snapshot::from_collections(
            version,
            vec![(
                "environments",
                json!([{"Id": "Environments-2", "Name": "Test"}]),
            )],
        )
        .unwrap();
        let dst = Snapshot::from_collections(
            "2024.1.0".parse().unwrap(),
            vec![(
                "environments",
                json!([{"Id": "Environments-71", "Name": "Staging"},
                       {"Id": "Environments-72", "Name": "Production"}]),
            )],
        )
        .unwrap();
        let item = ItemRef::new(ResourceKind::DeploymentProcess, "OctoFX");
        let place = RefPlace {
            item: &item,
            what: "action \"Deploy\"".to_owned(),
            project: None,
        };
        let many =
            SyncRules::from_toml_str("[environment_map]\nTest = [\"Staging\", \"Production\"]")
                .unwrap();
        let mut ctx = Ctx::new(&src, &dst, &many);
        let err =
            translate_one(&mut ctx, &place, RefKind::Environment, "Environments-2").unwrap_err();
        assert!(
            err.contains("[environment_map] entry \"Test\" = \"Staging\", \"Production\""),
            "{err}"
        );
        let one = SyncRules::from_toml_str("[environment_map]\nTest = \"Production\"").unwrap();
        let mut ctx = Ctx::new(&src, &dst, &one);
        assert_eq!(
            translate_one(&mut ctx, &place, RefKind::Environment, "Environments-2"),
            Ok("Environments-72".to_owned())
        );
    }

    #[test]
    fn every_key_is_listed_once() {
        let mut keys: Vec<String> = PROPERTY_REFERENCES
            .iter()
            .map(|r| r.key.to_ascii_lowercase())
            .collect();
        keys.sort();
        let before = keys.len();
        keys.dedup();
        assert_eq!(before, keys.len());
    }
}
