//! What every applier keeps while it applies a [`Plan`](crate::Plan), apart from the
//! I/O: the ids the destination answered, how a plan's symbolic references become those
//! ids, and the body an op sends.
//!
//! The HTTP applier of `octosync` and the in-memory applier of `sync_core::testing` both
//! keep their books here, so the property tests that apply plans in memory exercise the
//! same resolution, body preparation and update overlay that users run against a
//! server. Nothing here does I/O: an applier records what the server answered
//! ([`IdLedger::record_created`], [`IdLedger::record_saved`]) and asks what to send
//! ([`IdLedger::prepare_body`], [`IdLedger::target_id`], [`overlay`]).

use std::collections::BTreeMap;
use std::fmt;

use octopus_model::{name_key, ResourceKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::plan::{fill_secret_slots, resolve_pending, ItemRef, Op, Pending, Target};

/// The process a [`Pending::Action`] names: a project's deployment process, or one of
/// its runbooks' processes.
///
/// Its text is the project's name, or `project/runbook`, the form plans have always
/// carried; building it only through [`ProcessKey::project`], [`ProcessKey::runbook`]
/// and [`ProcessKey::of`] keeps the planner and the appliers agreeing on it. Two keys
/// name the same process when they match by name (trimmed, case-insensitive).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProcessKey(String);

impl ProcessKey {
    /// The deployment process of `project`.
    pub fn project(project: &str) -> Self {
        Self(project.to_owned())
    }

    /// The process of runbook `runbook` of `project`.
    pub fn runbook(project: &str, runbook: &str) -> Self {
        Self(format!("{project}/{runbook}"))
    }

    /// The process an op about `item` writes, if `item` is a process: a deployment
    /// process is named by its project (its owner), a runbook process by project and
    /// runbook.
    pub fn of(item: &ItemRef) -> Option<Self> {
        match item.kind {
            ResourceKind::DeploymentProcess => Some(Self::project(
                item.owner.as_deref().unwrap_or(item.name.as_str()),
            )),
            ResourceKind::RunbookProcess => Some(Self::runbook(
                item.owner.as_deref().unwrap_or_default(),
                &item.name,
            )),
            _ => None,
        }
    }

    /// The key's text, as plans carry it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form two keys are compared in: names match trimmed and case-insensitively.
    pub fn match_key(&self) -> String {
        name_key(&self.0)
    }

    /// Whether both keys name the same process.
    pub fn same(&self, other: &ProcessKey) -> bool {
        self.match_key() == other.match_key()
    }
}

impl fmt::Display for ProcessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a plan's reference could not be turned into a destination id: what it names was
/// not written earlier in this apply (its op failed, was refused, or is missing from
/// the plan).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The item was not created earlier in the apply.
    #[error("{item} was not created")]
    NotCreated {
        /// The item.
        item: ItemRef,
    },
    /// The process holding the action was not saved earlier in the apply, or saved
    /// without it.
    #[error("action {action:?} of {:?} was not saved", .process.as_str())]
    ActionNotSaved {
        /// The process.
        process: ProcessKey,
        /// The action's name.
        action: String,
    },
    /// The step template was not saved earlier in the apply, or its answer held no
    /// `Version`.
    #[error("the version of {item} is not known: it was not saved")]
    TemplateNotSaved {
        /// The step template.
        item: ItemRef,
    },
    /// The owner was not created, or its create answer lacked the field naming the
    /// document the server made with it.
    #[error("{field} of {owner} is not known")]
    SideEffectUnknown {
        /// The owner.
        owner: ItemRef,
        /// The field of its create answer.
        field: String,
    },
}

/// The form items are recorded under: names trimmed and case-insensitive, as the plan
/// matches them.
pub fn item_key(item: &ItemRef) -> ItemRef {
    ItemRef {
        kind: item.kind,
        name: name_key(&item.name),
        owner: item.owner.as_deref().map(name_key),
    }
}

/// The ids learned while applying one plan: what each create answered, the action ids
/// of each process saved, and the `Version` each step template was saved with.
#[derive(Clone, Debug, Default)]
pub struct IdLedger {
    created: BTreeMap<ItemRef, Value>,
    actions: BTreeMap<(String, String), String>,
    template_versions: BTreeMap<ItemRef, String>,
}

impl IdLedger {
    /// An empty ledger, for the start of an apply.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records what the server answered to the create of `item` (or, after an unknown
    /// outcome, the item found by name). A step template's answer also gives its
    /// version.
    pub fn record_created(&mut self, item: &ItemRef, answer: Value) {
        if item.kind == ResourceKind::ActionTemplate {
            self.record_template_version(item, &answer);
        }
        self.created.insert(item_key(item), answer);
    }

    /// Records what the server answered to the update of `item`: a process's action
    /// ids (variables scope to them), a step template's new version (actions record
    /// it).
    pub fn record_saved(&mut self, item: &ItemRef, saved: &Value) {
        if let Some(process) = ProcessKey::of(item) {
            self.record_actions(&process, saved);
        }
        if item.kind == ResourceKind::ActionTemplate {
            self.record_template_version(item, saved);
        }
    }

    fn record_template_version(&mut self, item: &ItemRef, saved: &Value) {
        let version = match saved.get("Version") {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) => s.clone(),
            _ => return,
        };
        self.template_versions.insert(item_key(item), version);
    }

    fn record_actions(&mut self, process: &ProcessKey, saved: &Value) {
        let actions = saved
            .get("Steps")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|step| step.get("Actions").and_then(Value::as_array))
            .flatten();
        for action in actions {
            if let (Some(name), Some(id)) = (
                action.get("Name").and_then(Value::as_str),
                action.get("Id").and_then(Value::as_str),
            ) {
                self.actions
                    .insert((process.match_key(), name_key(name)), id.to_owned());
            }
        }
    }

    /// What the create of `item` answered, if it was created in this apply.
    pub fn created(&self, item: &ItemRef) -> Option<&Value> {
        self.created.get(&item_key(item))
    }

    /// The id the create of `item` answered, if it was created in this apply.
    pub fn id_of(&self, item: &ItemRef) -> Option<String> {
        self.created(item)
            .and_then(|v| v.get("Id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// The text a reference resolves to: an id, or a step template's version.
    pub fn resolve(&self, pending: &Pending) -> Result<String, LedgerError> {
        match pending {
            Pending::Created { item } => self
                .id_of(item)
                .ok_or_else(|| LedgerError::NotCreated { item: item.clone() }),
            Pending::Action { process, action } => self
                .actions
                .get(&(process.match_key(), name_key(action)))
                .cloned()
                .ok_or_else(|| LedgerError::ActionNotSaved {
                    process: process.clone(),
                    action: action.clone(),
                }),
            Pending::TemplateVersion { item } => self
                .template_versions
                .get(&item_key(item))
                .cloned()
                .ok_or_else(|| LedgerError::TemplateNotSaved { item: item.clone() }),
        }
    }

    /// The id of the document a target names.
    pub fn target_id(&self, target: &Target) -> Result<String, LedgerError> {
        match target {
            Target::Existing { id } => Ok(id.clone()),
            Target::Created { item } => self
                .id_of(item)
                .ok_or_else(|| LedgerError::NotCreated { item: item.clone() }),
            Target::SideEffect { owner, field } => self
                .created(owner)
                .and_then(|v| v.get(field))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| LedgerError::SideEffectUnknown {
                    owner: owner.clone(),
                    field: field.clone(),
                }),
        }
    }

    /// The body an op sends, but for certificate data: its references resolved and its
    /// secret slots filled with `secret_placeholder` (`null` for an op that sends none).
    pub fn prepare_body(&self, op: &Op, secret_placeholder: &str) -> Result<Value, LedgerError> {
        let mut body = op.body().cloned().unwrap_or(Value::Null);
        resolve_pending(&mut body, op.pending(), |p| self.resolve(p))?;
        fill_secret_slots(&mut body, op.secret_slots(), secret_placeholder);
        Ok(body)
    }
}

/// Writes a certificate's data (and a PFX file's password) into a create body, as the
/// sensitive values the server takes. Only a body about to be sent holds them.
pub fn fill_certificate(body: &mut Value, data: &str, password: Option<&str>) {
    if let Value::Object(map) = body {
        map.insert(
            "CertificateData".to_owned(),
            serde_json::json!({"HasValue": true, "NewValue": data}),
        );
        if let Some(password) = password {
            map.insert(
                "Password".to_owned(),
                serde_json::json!({"HasValue": true, "NewValue": password}),
            );
        }
    }
}

/// The top-level fields an update changes, from its diff's paths: what [`overlay`]
/// lays over the current document.
pub fn changed_fields(op: &Op) -> Vec<String> {
    let mut fields: Vec<String> = op
        .diff()
        .iter()
        .map(|c| {
            c.path
                .split(['.', '['])
                .next()
                .unwrap_or(&c.path)
                .to_owned()
        })
        .collect();
    fields.sort();
    fields.dedup();
    fields
}

/// The document an update writes: `current`, as the destination holds it now, with the
/// changed top-level `fields` of `body` laid over it (a field `body` lacks is removed).
/// Whatever the destination holds beyond them survives, its `Version` included, so the
/// write is checked against what was read. Without changed fields (or when either side
/// is not an object) the body is sent as planned.
pub fn overlay(fields: &[String], mut current: Value, body: Value) -> Value {
    if fields.is_empty() {
        return body;
    }
    let (Value::Object(current_map), Value::Object(body_map)) = (&mut current, &body) else {
        return body;
    };
    for field in fields {
        match body_map.get(field) {
            Some(v) => {
                current_map.insert(field.clone(), v.clone());
            }
            None => {
                current_map.remove(field);
            }
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{FieldChange, PendingRef};
    use serde_json::json;

    fn project() -> ItemRef {
        ItemRef::new(ResourceKind::Project, "OctoFX")
    }

    #[test]
    fn process_keys_name_projects_and_runbooks_as_plans_carry_them() {
        let deploy = ItemRef::owned(ResourceKind::DeploymentProcess, "OctoFX", "OctoFX");
        let runbook = ItemRef::owned(ResourceKind::RunbookProcess, "Restart", "OctoFX");
        assert_eq!(
            ProcessKey::of(&deploy).map(|k| k.to_string()),
            Some("OctoFX".into())
        );
        assert_eq!(
            ProcessKey::of(&runbook),
            Some(ProcessKey::runbook("OctoFX", "Restart"))
        );
        assert_eq!(ProcessKey::of(&project()), None);
        let key = ProcessKey::of(&runbook);
        assert!(key.is_some_and(|k| k.same(&ProcessKey::runbook(" octofx", "RESTART"))));
        assert_eq!(
            serde_json::to_value(ProcessKey::runbook("A", "B")).ok(),
            Some(json!("A/B"))
        );
    }

    #[test]
    fn a_create_answer_resolves_references_and_side_effect_targets_by_name() {
        let mut ledger = IdLedger::new();
        ledger.record_created(
            &project(),
            json!({"Id": "Projects-7", "DeploymentProcessId": "deploymentprocess-Projects-7"}),
        );
        let other_case = ItemRef::new(ResourceKind::Project, " octofx ");
        assert_eq!(
            ledger.resolve(&Pending::Created { item: other_case }),
            Ok("Projects-7".to_owned())
        );
        assert_eq!(
            ledger.target_id(&Target::SideEffect {
                owner: project(),
                field: "DeploymentProcessId".into()
            }),
            Ok("deploymentprocess-Projects-7".to_owned())
        );
        assert_eq!(
            ledger.target_id(&Target::SideEffect {
                owner: project(),
                field: "VariableSetId".into()
            }),
            Err(LedgerError::SideEffectUnknown {
                owner: project(),
                field: "VariableSetId".into()
            })
        );
        let missing = ItemRef::new(ResourceKind::Lifecycle, "QA");
        assert_eq!(
            ledger.target_id(&Target::Created {
                item: missing.clone()
            }),
            Err(LedgerError::NotCreated { item: missing })
        );
    }

    #[test]
    fn saved_processes_give_action_ids_and_templates_their_versions() {
        let mut ledger = IdLedger::new();
        let process = ItemRef::owned(ResourceKind::RunbookProcess, "Restart", "OctoFX");
        ledger.record_saved(
            &process,
            &json!({"Steps": [{"Actions": [{"Name": "Stop", "Id": "a-1"}, {"Name": "Start"}]}]}),
        );
        let stop = Pending::Action {
            process: ProcessKey::runbook("OCTOFX", "restart"),
            action: "stop".into(),
        };
        assert_eq!(ledger.resolve(&stop), Ok("a-1".to_owned()));
        let start = Pending::Action {
            process: ProcessKey::runbook("OctoFX", "Restart"),
            action: "Start".into(),
        };
        assert!(matches!(
            ledger.resolve(&start),
            Err(LedgerError::ActionNotSaved { .. })
        ));
        // The deployment process of the same project is another process.
        let deploy = Pending::Action {
            process: ProcessKey::project("OctoFX"),
            action: "Stop".into(),
        };
        assert!(ledger.resolve(&deploy).is_err());

        let template = ItemRef::new(ResourceKind::ActionTemplate, "Notify");
        let version = Pending::TemplateVersion {
            item: template.clone(),
        };
        assert!(ledger.resolve(&version).is_err());
        ledger.record_created(&template, json!({"Id": "ActionTemplates-1", "Version": 1}));
        assert_eq!(ledger.resolve(&version), Ok("1".to_owned()));
        ledger.record_saved(&template, &json!({"Id": "ActionTemplates-1", "Version": 2}));
        assert_eq!(ledger.resolve(&version), Ok("2".to_owned()));
    }

    #[test]
    fn a_body_is_prepared_with_ids_and_secrets_or_not_at_all() {
        let lifecycle = ItemRef::new(ResourceKind::Lifecycle, "QA");
        let reference = Pending::Created {
            item: lifecycle.clone(),
        };
        let body = json!({"Name": "OctoFX", "LifecycleId": reference.placeholder(), "Key": null});
        let mut op = Op::create(project(), "missing", body);
        if let Some(create) = op.create_mut() {
            create.pending = vec![PendingRef {
                pointer: "/LifecycleId".into(),
                placeholder: reference.placeholder(),
                in_key: false,
                reference,
            }];
            create.secret_slots = vec!["/Key".into()];
        }
        let mut ledger = IdLedger::new();
        assert_eq!(
            ledger.prepare_body(&op, "S"),
            Err(LedgerError::NotCreated {
                item: lifecycle.clone()
            })
        );
        ledger.record_created(&lifecycle, json!({"Id": "Lifecycles-3"}));
        assert_eq!(
            ledger.prepare_body(&op, "S"),
            Ok(json!({"Name": "OctoFX", "LifecycleId": "Lifecycles-3", "Key": "S"}))
        );
    }

    #[test]
    fn an_update_lays_only_its_changed_fields_over_the_current_document() {
        let diff = vec![
            FieldChange {
                path: "Steps[0].Name".into(),
                before: json!("a"),
                after: json!("b"),
            },
            FieldChange {
                path: "Steps[1]".into(),
                before: Value::Null,
                after: json!({}),
            },
            FieldChange {
                path: "Description".into(),
                before: json!("old"),
                after: Value::Null,
            },
        ];
        let target = Target::Existing { id: "p".into() };
        let op = Op::update(project(), "differs", target, json!({}), diff);
        let fields = changed_fields(&op);
        assert_eq!(fields, ["Description", "Steps"]);
        let current =
            json!({"Id": "p", "Version": 4, "Steps": [], "Description": "old", "Unknown": 1});
        let body = json!({"Id": "p", "Version": 3, "Steps": [{"Name": "b"}], "Unknown": 2});
        assert_eq!(
            overlay(&fields, current, body.clone()),
            json!({"Id": "p", "Version": 4, "Steps": [{"Name": "b"}], "Unknown": 1})
        );
        assert_eq!(overlay(&[], json!({"Id": "p"}), body.clone()), body);
    }

    #[test]
    fn certificate_data_goes_into_the_body_as_sensitive_values() {
        let mut body = json!({"Name": "Web"});
        fill_certificate(&mut body, "QUJD", Some("pw"));
        assert_eq!(
            body,
            json!({"Name": "Web",
                "CertificateData": {"HasValue": true, "NewValue": "QUJD"},
                "Password": {"HasValue": true, "NewValue": "pw"}})
        );
    }
}
