//! Deployment and runbook processes: a destination's process is merged with the
//! source's, not replaced by it.
//!
//! - **Action identity.** Action names are unique within a process, so actions are
//!   matched by name across the whole process. A matched action keeps the destination's
//!   id (variables scoped to it stay valid) and package reference ids, wherever its step
//!   now is.
//! - **Steps** match by name; a source step with no same-named destination step whose
//!   actions are found in a destination step that no source step names is that step,
//!   renamed: it keeps its id and takes the source's name.
//! - **Order.** Matched and new steps follow the source's order. Under
//!   `keep-additional-destination-steps` each destination-only step (and each
//!   destination-only action inside a matched step) stays right after the step (action)
//!   it followed on the destination, or first if it was first. The op's reason says where
//!   each one ends up.
//! - **References** in actions are found through the tables of [`super::references`];
//!   a source action that cannot be translated is left out with its reason, and if the
//!   destination already has it, the destination's action is kept as it is.
//! - **Secrets.** A sensitive property the destination's action already holds is kept; a
//!   new one (on a new or an existing action) gets a secret slot and a clean-up entry.

use std::collections::{BTreeMap, BTreeSet};

use octopus_model::{
    name_key, same_name, Action, NameKey, Properties, PropertyValue, ResourceKind, Step,
};

use super::common::{apply_decision, translate_list, translate_tags};
use super::references::{self, RefPlace, TEMPLATE_ID, TEMPLATE_VERSION};
use crate::context::Ctx;
use crate::ledger::ProcessKey;
use crate::plan::{CleanupCategory, ItemRef, LayerName, OpAction, Pending};
use crate::provenance::{Lookup, PruneKind, RecordedItem};
use crate::rules::{ProcessCloning, ScopeMode};

/// Where a process lives.
pub struct ProcessOwner<'p> {
    /// The process: the key new actions are recorded under.
    pub key: ProcessKey,
    /// The project's name.
    pub project: &'p str,
    /// The destination project's id, if it exists.
    pub dest_project: Option<String>,
}

/// Action ids of one project's processes on both sides, for variable `Action` scopes.
#[derive(Clone, Debug, Default)]
pub struct ProcessOwnerIds {
    /// Source action id (lower case) -> (process key, action name).
    pub source: BTreeMap<String, (ProcessKey, String)>,
    /// (process key, action name), as name keys -> destination action id.
    pub dest: BTreeMap<(String, String), String>,
}

impl ProcessOwnerIds {
    /// Adds the actions of a source process.
    pub fn add_source(&mut self, key: &ProcessKey, steps: &[Step]) {
        for action in steps.iter().flat_map(|s| s.actions.iter()) {
            if let Some(id) = action.id.get() {
                self.source
                    .insert(id.to_lowercase(), (key.clone(), action.name.clone()));
            }
        }
    }

    /// Adds the actions of a destination process.
    pub fn add_dest(&mut self, key: &ProcessKey, steps: &[Step]) {
        for action in steps.iter().flat_map(|s| s.actions.iter()) {
            if let Some(id) = action.id.get() {
                self.dest
                    .insert((key.match_key(), name_key(&action.name)), id.clone());
            }
        }
    }
}

/// The merged steps, the JSON pointers of dummy secrets in them, and what the plan
/// should say about the merge.
pub struct Merged {
    /// The steps to save.
    pub steps: Vec<Step>,
    /// Pointers (relative to the process document) of sensitive properties the
    /// destination does not hold yet.
    pub secret_slots: Vec<String>,
    /// Renamed steps and where destination-only steps and actions end up, for the op's
    /// reason.
    pub notes: Vec<String>,
    /// Steps deleted under `[policy] prune`, described for a reviewer.
    pub removed: Vec<String>,
}

fn is_expression(value: &str) -> bool {
    value.contains("#{")
}

/// A translated action and the sensitive properties it holds that the destination's
/// action does not.
struct Translated {
    action: Action,
    new_secrets: Vec<String>,
}

/// The version `Octopus.Action.Template.Version` must name for a step template: a
/// pending one when the plan creates or updates the template (the server bumps it), else
/// the destination template's own.
fn template_version(ctx: &mut Ctx<'_>, source_template_id: &str, dest_id: &str) -> Option<String> {
    let name = ctx
        .source
        .index
        .by_id(ResourceKind::ActionTemplate, source_template_id)
        .map(|e| e.name.clone());
    if let Some(name) = name {
        let written = ctx
            .layers
            .get(&LayerName::StepTemplates)
            .into_iter()
            .flatten()
            .find(|op| {
                op.item.kind == ResourceKind::ActionTemplate
                    && same_name(&op.item.name, &name)
                    && matches!(op.action(), OpAction::Create | OpAction::Update)
            })
            .map(|op| op.item.clone());
        if let Some(item) = written {
            return ctx.pending(Pending::TemplateVersion { item }).text();
        }
    }
    ctx.dest
        .snapshot
        .action_templates
        .iter()
        .find(|t| {
            t.id.get()
                .is_some_and(|id| id.as_str().eq_ignore_ascii_case(dest_id))
        })
        .and_then(|t| t.version.get().copied())
        .map(|v| v.to_string())
}

/// Excluded environments under the `process_environments` mode. An exclusion that is
/// dropped lets the action run where the source said it must not: that is a widening.
/// Environments `[environment_map]` maps to none are left out first, with a note.
fn excluded_environments(
    ctx: &mut Ctx<'_>,
    item: &ItemRef,
    mode: ScopeMode,
    what: &ActionPart<'_>,
    source: &Action,
) -> Result<Vec<String>, String> {
    let mut translated = Vec::new();
    let mut unmapped = Vec::new();
    for id in source.excluded_environments.iter() {
        // An environment the map sends nowhere has no counterpart to exclude: dropping
        // it lets the action run nowhere new.
        let name = ctx
            .source
            .index
            .by_id(ResourceKind::Environment, id.as_str())
            .map(|e| e.name.clone());
        if let Some(name) = name.filter(|n| ctx.rules.environment_map.map(n).is_empty()) {
            unmapped.push(name);
            continue;
        }
        translated.extend(ctx.resolve_many(ResourceKind::Environment, id.as_str()));
    }
    if !unmapped.is_empty() {
        ctx.clean(
            CleanupCategory::DroppedScope,
            item,
            format!(
                "{what}: {} dropped ([environment_map] maps them to no destination environment)",
                super::common::quote_list(&unmapped)
            ),
        );
    }
    match ctx.decide(mode, what, translated) {
        crate::context::ListDecision::Keep {
            values, dropped, ..
        } => {
            if !dropped.is_empty() {
                ctx.widened += 1;
                ctx.clean(
                    CleanupCategory::WidenedScope,
                    item,
                    format!(
                        "{what}: {} dropped (not on the destination), so the action is no longer excluded from what they map to",
                        super::common::quote_list(&dropped)
                    ),
                );
            }
            Ok(values)
        }
        crate::context::ListDecision::Skip(reason) => Err(reason),
        crate::context::ListDecision::Error(reason) => {
            ctx.fail(item, reason.clone());
            Err(reason)
        }
    }
}

/// `action "Name" environments`: what a message is about, written only when one is
/// made (most actions translate without one).
struct ActionPart<'a> {
    action: &'a str,
    part: &'static str,
}

impl std::fmt::Display for ActionPart<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "action {:?} {}", self.action, self.part)
    }
}

/// Builds the destination action for a source action; `Err` is the reason to leave it out.
fn translate_action(
    ctx: &mut Ctx<'_>,
    item: &ItemRef,
    owner: &ProcessOwner<'_>,
    source: &Action,
    dest: Option<&Action>,
) -> Result<Translated, String> {
    let scoping = ctx.rules.scoping.clone();
    let mut action = source.clone();
    let what = |part: &'static str| ActionPart {
        action: &source.name,
        part,
    };
    match dest {
        Some(d) => {
            action.id = d.id.clone();
            // The server stamps a slug on every action; a source without one (an older
            // server, a hand-made snapshot) must not make every run an update.
            if !action.slug.is_set() {
                action.slug = d.slug.clone();
            }
        }
        None => action.id = Default::default(),
    }
    // Environments.
    let leave = |mode: ScopeMode| mode == ScopeMode::IgnoreMismatchOnNewLeaveExistingAlone;
    if let (true, Some(d)) = (leave(scoping.process_environments), dest) {
        action.environments = d.environments.clone();
        action.excluded_environments = d.excluded_environments.clone();
    } else {
        let envs = translate_list(
            ctx,
            item,
            ResourceKind::Environment,
            scoping.process_environments,
            &what("environments"),
            source.environments.iter(),
        )?;
        action.environments = envs.into_iter().map(Into::into).collect();
        let excluded = excluded_environments(
            ctx,
            item,
            scoping.process_environments,
            &what("excluded environments"),
            source,
        )?;
        action.excluded_environments = excluded.into_iter().map(Into::into).collect();
    }
    // Channels.
    if let (true, Some(d)) = (leave(scoping.process_channels), dest) {
        action.channels = d.channels.clone();
    } else {
        let translated: Vec<_> = source
            .channels
            .iter()
            .map(|c| ctx.resolve_channel(c.as_str(), owner.project, owner.dest_project.as_deref()))
            .collect();
        let channels = apply_decision(
            ctx,
            item,
            scoping.process_channels,
            &what("channels"),
            translated,
        )?;
        action.channels = channels.into_iter().map(Into::into).collect();
    }
    // Tenant tags.
    if let (true, Some(d)) = (leave(scoping.process_tenant_tags), dest) {
        action.tenant_tags = d.tenant_tags.clone();
    } else {
        let tags = translate_tags(
            ctx,
            item,
            scoping.process_tenant_tags,
            &what("tenant tags"),
            source.tenant_tags.iter(),
        )?;
        action.tenant_tags = tags.into_iter().collect();
    }
    // Worker pool (required).
    if let Some(pool) = source.worker_pool_id.get() {
        let (name, r) = ctx.resolve(ResourceKind::WorkerPool, pool.as_str());
        match r.text() {
            Some(id) => action.worker_pool_id.set(id.into()),
            None => {
                return Err(format!(
                    "its worker pool {name:?} is not on the destination"
                ))
            }
        }
    }
    // Container feed (required).
    if let Some(container) = action.container.get_mut() {
        if let Some(feed) = container.feed_id.get().cloned() {
            if !is_expression(feed.as_str()) {
                let (name, r) = ctx.resolve(ResourceKind::Feed, feed.as_str());
                match r.text() {
                    Some(id) => container.feed_id.set(id.into()),
                    None => {
                        return Err(format!(
                            "its container feed {name:?} is not on the destination"
                        ))
                    }
                }
            }
        }
    }
    // Git credentials are not synced.
    if action
        .git_dependencies
        .iter()
        .any(|g| g.git_credential_id.is_set())
    {
        return Err("it uses git credentials, which are not synced".to_owned());
    }
    // Packages: feeds (required), deploy-a-release projects, ids re-linked to the destination's.
    let deploy_release = action.action_type.as_str() == "Octopus.DeployRelease";
    for package in action.packages.iter_mut() {
        if let Some(feed) = package.feed_id.get().cloned() {
            let text = feed.as_str().to_owned();
            if text.contains("NonExisting") {
                package.feed_id = octopus_model::Field::Null;
            } else if !is_expression(&text) {
                let (name, r) = ctx.resolve(ResourceKind::Feed, &text);
                match r.text() {
                    Some(id) => package.feed_id.set(id.into()),
                    None => {
                        return Err(format!(
                            "its package feed {name:?} is not on the destination"
                        ))
                    }
                }
            }
        }
        if deploy_release {
            if let Some(project) = package.package_id.get().cloned() {
                if is_expression(&project) {
                    ctx.clean(CleanupCategory::Reference, item, format!(
                        "action {:?} deploys a release of a project named by a variable; check it on the destination", source.name));
                } else {
                    let (name, r) = ctx.resolve(ResourceKind::Project, &project);
                    match r.text() {
                        Some(id) => package.package_id.set(id),
                        None => {
                            return Err(format!(
                                "it deploys project {name:?}, which is not on the destination"
                            ))
                        }
                    }
                }
            }
        }
        let dest_package = dest.and_then(|d| {
            d.packages.iter().find(|p| {
                same_name(p.name.as_str(), package.name.as_str())
                    && (deploy_release
                        || same_name(p.package_id.as_str(), package.package_id.as_str()))
            })
        });
        package.id = dest_package.map(|p| p.id.clone()).unwrap_or_default();
    }
    // Properties: the reference tables, plus the control types of the step template the
    // action is based on.
    let source_template = source
        .properties
        .get(TEMPLATE_ID)
        .and_then(PropertyValue::as_text)
        .map(str::to_owned);
    let parameters = source_template
        .as_deref()
        .and_then(|id| {
            ctx.source.snapshot.action_templates.iter().find(|t| {
                t.id.get()
                    .is_some_and(|t| t.as_str().eq_ignore_ascii_case(id.trim()))
            })
        })
        .map(references::template_parameters)
        .unwrap_or_default();
    let place = RefPlace {
        item,
        what: {
            // `action "Name"`, without the formatting machinery: one per action.
            let mut what = String::with_capacity(source.name.len() + 9);
            what.push_str("action ");
            crate::plan::push_quoted(&mut what, &source.name);
            what
        },
        project: Some((owner.project, owner.dest_project.as_deref())),
    };
    references::translate_properties(ctx, &place, &mut action.properties, &parameters)?;
    if let Some(source_id) = source_template.filter(|t| !is_expression(t)) {
        let dest_id = action
            .properties
            .get(TEMPLATE_ID)
            .and_then(PropertyValue::as_text)
            .unwrap_or_default()
            .to_owned();
        if let Some(version) = template_version(ctx, source_id.trim(), &dest_id) {
            action
                .properties
                .insert(TEMPLATE_VERSION.to_owned(), PropertyValue::Text(version));
        }
    }
    // Secrets: the destination's own are kept; one it lacks needs a value.
    let mut new_secrets = Vec::new();
    for (key, value) in action.properties.iter_mut() {
        let PropertyValue::Sensitive(secret) = value else {
            continue;
        };
        let existing = dest
            .and_then(|d| d.properties.get(key))
            .filter(|v| matches!(v, PropertyValue::Sensitive(s) if s.has_value));
        match existing {
            Some(kept) => *value = kept.clone(),
            None if secret.has_value => new_secrets.push(key.clone()),
            None => {}
        }
    }
    Ok(Translated {
        action,
        new_secrets,
    })
}

/// Where each destination-only item ends up: right after the item it followed on the
/// destination, or first if it was first (or everything it followed is gone). `placed`
/// holds the items in their new order with the destination index each matched (if any);
/// `extras` the destination-only items with their destination index, in destination order.
/// Returns the new order and, per extra, the index (in the result) of the item it follows.
fn place<T>(
    placed: Vec<(Option<usize>, T)>,
    extras: Vec<(usize, T)>,
) -> Vec<(Option<usize>, bool, T)> {
    let mut out: Vec<(Option<usize>, bool, T)> =
        placed.into_iter().map(|(d, t)| (d, false, t)).collect();
    for (index, extra) in extras {
        let after = (0..index)
            .rev()
            .find_map(|j| out.iter().position(|(d, _, _)| *d == Some(j)));
        let at = match after {
            Some(pos) => pos + 1,
            None => out.iter().take_while(|(_, extra, _)| *extra).count(),
        };
        out.insert(at, (Some(index), true, extra));
    }
    out
}

/// Which destination step each source step is: the same-named one, or, failing that, the
/// destination step (not named by any source step) that holds most of its actions.
fn match_steps(source: &[Step], dest: &[Step]) -> Vec<Option<usize>> {
    let source_names: BTreeSet<NameKey<'_>> =
        source.iter().map(|s| NameKey::new(&s.name)).collect();
    let mut taken = BTreeSet::new();
    let mut out: Vec<Option<usize>> = source
        .iter()
        .map(|s| {
            let found = dest.iter().position(|d| same_name(&d.name, &s.name));
            if let Some(i) = found {
                taken.insert(i);
            }
            found
        })
        .collect();
    for (si, s) in source.iter().enumerate() {
        if out[si].is_some() {
            continue;
        }
        let names: BTreeSet<NameKey<'_>> =
            s.actions.iter().map(|a| NameKey::new(&a.name)).collect();
        let best = dest
            .iter()
            .enumerate()
            .filter(|(i, d)| !taken.contains(i) && !source_names.contains(&NameKey::new(&d.name)))
            .map(|(i, d)| {
                let shared = d
                    .actions
                    .iter()
                    .filter(|a| names.contains(&NameKey::new(&a.name)))
                    .count();
                (shared, std::cmp::Reverse(i))
            })
            .filter(|(shared, _)| *shared > 0)
            .max()
            .map(|(_, std::cmp::Reverse(i))| i);
        if let Some(i) = best {
            taken.insert(i);
            out[si] = Some(i);
        }
    }
    out
}

/// Drops, from a variable set about to be saved, `Action` scope values that name
/// destination actions a process saved in this plan no longer holds (under
/// `source-only`, the destination's own actions go). A value scoped only to such actions
/// applied nowhere any more; it is left out of the set, which changes what no context
/// resolves to, and the clean-up log says so. Returns the secret slots re-pointed at the
/// variables' new positions.
pub fn drop_removed_action_scopes(
    ctx: &mut Ctx<'_>,
    item: &ItemRef,
    variables: &mut Vec<octopus_model::Variable>,
    secret_slots: Vec<String>,
) -> Vec<String> {
    let mut position = Vec::with_capacity(variables.len());
    let mut kept = Vec::with_capacity(variables.len());
    for variable in std::mem::take(variables) {
        let mut variable = variable;
        let field = octopus_model::ScopeField::Action;
        let before = variable.scope.get(&field).cloned().unwrap_or_default();
        let live: Vec<String> = before
            .iter()
            .filter(|id| !ctx.action_removed(id))
            .cloned()
            .collect();
        if live.len() == before.len() {
            position.push(Some(kept.len()));
            kept.push(variable);
            continue;
        }
        if live.is_empty() {
            ctx.clean(
                CleanupCategory::DroppedScope,
                item,
                format!(
                    "variable {:?} was scoped only to actions the saved process no longer has; it applied nowhere and is left out",
                    variable.name
                ),
            );
            position.push(None);
            continue;
        }
        variable.scope.insert(field, live);
        position.push(Some(kept.len()));
        kept.push(variable);
    }
    *variables = kept;
    secret_slots
        .into_iter()
        .filter_map(|slot| {
            let rest = slot.strip_prefix("/Variables/")?;
            let (index, tail) = rest.split_once('/').unwrap_or((rest, ""));
            let old: usize = index.parse().ok()?;
            let new = (*position.get(old)?)?;
            Some(if tail.is_empty() {
                format!("/Variables/{new}")
            } else {
                format!("/Variables/{new}/{tail}")
            })
        })
        .collect()
}

/// The name of a destination variable of the project scoped to one of the step's
/// actions: pruning the step would leave it scoped to nothing.
fn scoped_to(ctx: &Ctx<'_>, owner: &ProcessOwner<'_>, step: &Step) -> Option<String> {
    let set = ctx
        .dest
        .children
        .variable_set(owner.dest_project.as_deref()?)?;
    let ids: BTreeSet<String> = step
        .actions
        .iter()
        .filter_map(|a| a.id.get().map(|id| id.to_lowercase()))
        .collect();
    set.variables
        .iter()
        .find(|v| {
            v.scope_values(&octopus_model::ScopeField::Action)
                .iter()
                .any(|id| ids.contains(&id.to_lowercase()))
        })
        .map(|v| v.name.clone())
}

/// Adds the merge's notes (renamed steps, where destination-only steps went) to the
/// reason of the process's op.
pub fn note(op: &mut crate::plan::Op, notes: &[String]) {
    if !notes.is_empty() {
        op.reason = format!("{}; {}", op.reason, notes.join("; "));
    }
}

/// A copy of a step with these properties and no actions: the merge sets both, so
/// copying the step's own would be wasted.
fn bare(step: &Step, properties: &Properties) -> Step {
    Step {
        id: step.id.clone(),
        name: step.name.clone(),
        slug: step.slug.clone(),
        package_requirement: step.package_requirement.clone(),
        condition: step.condition.clone(),
        start_trigger: step.start_trigger.clone(),
        properties: properties.clone(),
        actions: Default::default(),
        extra: step.extra.clone(),
    }
}

/// Merges source steps into the destination's.
pub fn merge(
    ctx: &mut Ctx<'_>,
    item: &ItemRef,
    owner: &ProcessOwner<'_>,
    source: &[Step],
    dest: &[Step],
) -> Merged {
    let keep_extra =
        ctx.rules.policy.process_cloning == ProcessCloning::KeepAdditionalDestinationSteps;
    let mut notes = Vec::new();
    // Every destination action by name, wherever it is.
    let mut dest_actions: BTreeMap<NameKey<'_>, &Action> = BTreeMap::new();
    for action in dest.iter().flat_map(|s| s.actions.iter()) {
        dest_actions
            .entry(NameKey::new(&action.name))
            .or_insert(action);
    }
    let source_actions: BTreeSet<NameKey<'_>> = source
        .iter()
        .flat_map(|s| s.actions.iter())
        .map(|a| NameKey::new(&a.name))
        .collect();
    let matched = match_steps(source, dest);
    let mut placed: Vec<(Option<usize>, Step)> = Vec::new();
    let mut new_actions = Vec::new();
    let mut new_secrets: Vec<(String, String)> = Vec::new();
    for (src_step, dst_index) in source.iter().zip(matched.iter().copied()) {
        let dst_step = dst_index.map(|i| &dest[i]);
        let mut step = match dst_step {
            // The destination's step, with the source's settings laid over it: fields
            // only the destination's server adds (ids, slugs, newer fields) stay.
            Some(d) => {
                if !same_name(&d.name, &src_step.name) {
                    notes.push(format!("renamed step {:?} → {:?}", d.name, src_step.name));
                }
                let mut s = bare(d, &src_step.properties);
                s.name = src_step.name.clone();
                if src_step.condition.is_set() {
                    s.condition = src_step.condition.clone();
                }
                if src_step.start_trigger.is_set() {
                    s.start_trigger = src_step.start_trigger.clone();
                }
                if src_step.package_requirement.is_set() {
                    s.package_requirement = src_step.package_requirement.clone();
                }
                s
            }
            None => {
                let mut s = bare(src_step, &src_step.properties);
                s.id = Default::default();
                s
            }
        };
        let mut actions: Vec<(Option<usize>, Action)> = Vec::new();
        for src_action in src_step.actions.iter() {
            let dst_action = dest_actions.get(&NameKey::new(&src_action.name)).copied();
            // The destination index of the action, when it is in this step, so that
            // destination-only actions of the step can follow it.
            let position = dst_step.and_then(|d| {
                d.actions
                    .iter()
                    .position(|a| same_name(&a.name, &src_action.name))
            });
            match translate_action(ctx, item, owner, src_action, dst_action) {
                Ok(t) => {
                    if dst_action.is_none() {
                        new_actions.push(t.action.name.clone());
                    }
                    for key in t.new_secrets {
                        new_secrets.push((name_key(&t.action.name), key));
                    }
                    actions.push((position, t.action));
                }
                Err(reason) => match dst_action {
                    Some(existing) => {
                        ctx.clean(CleanupCategory::Skipped, item, format!(
                            "action {:?} not updated: {reason}; the destination's action is kept as it is", src_action.name));
                        actions.push((position, existing.clone()));
                    }
                    None => ctx.clean(
                        CleanupCategory::Skipped,
                        item,
                        format!("action {:?} skipped: {reason}", src_action.name),
                    ),
                },
            }
        }
        let mut extras = Vec::new();
        if keep_extra {
            if let Some(d) = dst_step {
                for (i, extra) in d.actions.iter().enumerate() {
                    if !source_actions.contains(&NameKey::new(&extra.name)) {
                        extras.push((i, extra.clone()));
                    }
                }
            }
        }
        let ordered = place(actions, extras);
        for (i, (_, is_extra, action)) in ordered.iter().enumerate() {
            if *is_extra {
                notes.push(match i.checked_sub(1).map(|p| &ordered[p].2) {
                    Some(before) => format!(
                        "destination-only action {:?} kept in step {:?} after {:?}",
                        action.name, step.name, before.name
                    ),
                    None => format!(
                        "destination-only action {:?} kept first in step {:?}",
                        action.name, step.name
                    ),
                });
            }
        }
        if ordered.is_empty() {
            ctx.clean(
                CleanupCategory::Skipped,
                item,
                format!(
                    "step {:?} skipped: none of its actions can be synced",
                    src_step.name
                ),
            );
            continue;
        }
        step.actions = ordered.into_iter().map(|(_, _, a)| a).collect();
        if let (true, Some(id)) = (
            ctx.records_provenance(),
            dst_index.and_then(|i| dest[i].id.get()),
        ) {
            ctx.synced.steps.insert(
                id.to_lowercase(),
                RecordedItem {
                    name: step.name.clone(),
                    owner: owner.key.to_string(),
                },
            );
        }
        placed.push((dst_index, step));
    }
    let mut extras = Vec::new();
    let mut removed = Vec::new();
    let record = ctx.prunes(PruneKind::Steps).flatten();
    for (i, extra) in dest.iter().enumerate() {
        if matched.contains(&Some(i)) {
            continue;
        }
        if keep_extra {
            let id = extra.id.get().map(String::as_str).unwrap_or_default();
            match record.map(|r| r.step(id, &extra.name)) {
                Some(Lookup::Unchanged(_)) if scoped_to(ctx, owner, extra).is_some() => {
                    notes.push(format!(
                        "step {:?} not pruned yet: the destination's variable {:?} is scoped to its actions; once that value is gone (or pruned by this sync), the next sync deletes the step",
                        extra.name,
                        scoped_to(ctx, owner, extra).unwrap_or_default()
                    ));
                }
                Some(Lookup::Unchanged(_)) => {
                    removed.push(format!("step {:?}", extra.name));
                    notes.push(format!(
                        "step {:?} deleted: the source no longer has it and an earlier sync wrote it (prune)",
                        extra.name
                    ));
                    continue;
                }
                Some(Lookup::ChangedSince(r)) => notes.push(format!(
                    "step {:?} not pruned: an earlier sync wrote it as {:?} and it was renamed on the destination since",
                    extra.name, r.name
                )),
                Some(Lookup::NotRecorded) | None => {}
            }
        }
        if !keep_extra {
            notes.push(format!(
                "destination-only step {:?} removed (process_cloning = source-only)",
                extra.name
            ));
            continue;
        }
        let mut step = extra.clone();
        // Actions the source has moved into its own steps are there now.
        let moved: Vec<String> = step
            .actions
            .iter()
            .filter(|a| source_actions.contains(&NameKey::new(&a.name)))
            .map(|a| a.name.clone())
            .collect();
        step.actions = step
            .actions
            .iter()
            .filter(|a| !source_actions.contains(&NameKey::new(&a.name)))
            .cloned()
            .collect();
        if step.actions.is_empty() {
            notes.push(format!(
                "destination-only step {:?} removed: its actions {} are in the source's steps now",
                extra.name,
                super::common::quote_list(&moved)
            ));
            continue;
        }
        extras.push((i, step));
    }
    let ordered = place(placed, extras);
    for (i, (_, is_extra, step)) in ordered.iter().enumerate() {
        if *is_extra {
            notes.push(match i.checked_sub(1).map(|p| &ordered[p].2) {
                Some(before) => format!(
                    "destination-only step {:?} kept after {:?}",
                    step.name, before.name
                ),
                None => format!("destination-only step {:?} kept first", step.name),
            });
        }
    }
    let steps: Vec<Step> = ordered.into_iter().map(|(_, _, s)| s).collect();
    let mut secret_slots = Vec::new();
    // Only an action with a new secret has a slot: most processes have none to look for.
    let with_new_secrets: &[Step] = if new_secrets.is_empty() { &[] } else { &steps };
    for (i, step) in with_new_secrets.iter().enumerate() {
        for (j, action) in step.actions.iter().enumerate() {
            let action_key = name_key(&action.name);
            for (key, value) in action.properties.iter() {
                if !matches!(value, PropertyValue::Sensitive(_))
                    || !new_secrets
                        .iter()
                        .any(|(a, k)| a == &action_key && k == key)
                {
                    continue;
                }
                let key_ptr = key.replace('~', "~0").replace('/', "~1");
                secret_slots.push(format!("/Steps/{i}/Actions/{j}/Properties/{key_ptr}"));
                ctx.clean(CleanupCategory::DummySecret, item, format!(
                    "action {:?}: sensitive property {key} set to a dummy value; enter the real one", action.name));
            }
        }
    }
    for name in &new_actions {
        ctx.record_new_action(&owner.key, name);
    }
    let kept: BTreeSet<String> = steps
        .iter()
        .flat_map(|s| s.actions.iter())
        .filter_map(|a| a.id.get().map(|id| id.to_lowercase()))
        .collect();
    for id in dest
        .iter()
        .flat_map(|s| s.actions.iter())
        .filter_map(|a| a.id.get())
    {
        if !kept.contains(&id.to_lowercase()) {
            ctx.record_removed_action(id);
        }
    }
    Merged {
        steps,
        secret_slots,
        notes,
        removed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &str, actions: &[&str]) -> Step {
        Step {
            name: name.to_owned(),
            actions: actions
                .iter()
                .map(|a| Action {
                    name: (*a).to_owned(),
                    ..Action::default()
                })
                .collect(),
            ..Step::default()
        }
    }

    #[test]
    fn a_step_whose_actions_sit_in_an_unnamed_destination_step_is_that_step_renamed() {
        let source = [step("Release apps", &["Push web", "Push worker"])];
        let dest = [
            step("Deploy", &["Push web", "Push worker"]),
            step("Release apps", &[]),
        ];
        // The same-named step wins over the one holding the actions.
        assert_eq!(match_steps(&source, &dest), vec![Some(1)]);
        let dest = [
            step("Notify", &[]),
            step("Deploy", &["Push web", "Push worker"]),
        ];
        assert_eq!(match_steps(&source, &dest), vec![Some(1)]);
    }

    #[test]
    fn destination_only_items_follow_what_they_followed() {
        // Destination: A0 X1 B2 Y3 Z4; source order: B A.
        let placed = vec![(Some(2), "B"), (Some(0), "A")];
        let extras = vec![(1, "X"), (3, "Y"), (4, "Z")];
        let order: Vec<&str> = place(placed, extras)
            .into_iter()
            .map(|(_, _, t)| t)
            .collect();
        assert_eq!(order, ["B", "Y", "Z", "A", "X"]);
        // First on the destination stays first.
        let order: Vec<&str> = place(vec![(Some(1), "A")], vec![(0, "X")])
            .into_iter()
            .map(|(_, _, t)| t)
            .collect();
        assert_eq!(order, ["X", "A"]);
    }
}
