//! Deployment and runbook processes: steps and actions matched by name, every reference
//! in an action translated, scopes decided by the `process_*` modes.
//!
//! Matched steps keep the destination's step (its id, trigger, condition and step
//! properties) and get their actions rebuilt from the source, keeping the destination
//! action's id and package reference ids. A source action that cannot be translated is
//! left out with its reason; if the destination already has it, the destination's action
//! is kept as it is rather than deleted. Under `keep-additional-destination-steps`,
//! destination-only actions and steps are kept (actions in their step, steps at the end).

use std::collections::BTreeMap;

use octopus_model::{name_key, Action, PropertyValue, ResourceKind, Step};
use serde_json::Value;

use super::common::{apply_decision, quote_list, translate_list, translate_tags};
use crate::context::{Ctx, Resolved};
use crate::plan::{CleanupCategory, ItemRef};
use crate::rules::{ProcessCloning, ScopeMode};

/// Where a process lives.
pub struct ProcessOwner<'p> {
    /// `project` or `project/runbook`: the key new actions are recorded under.
    pub key: String,
    /// The project's name.
    pub project: &'p str,
    /// The destination project's id, if it exists.
    pub dest_project: Option<String>,
}

/// Action ids of one project's processes on both sides, for variable `Action` scopes.
#[derive(Clone, Debug, Default)]
pub struct ProcessOwnerIds {
    /// Source action id (lower case) -> (process key, action name).
    pub source: BTreeMap<String, (String, String)>,
    /// (process key, action name), as name keys -> destination action id.
    pub dest: BTreeMap<(String, String), String>,
}

impl ProcessOwnerIds {
    /// Adds the actions of a source process.
    pub fn add_source(&mut self, key: &str, steps: &[Step]) {
        for action in steps.iter().flat_map(|s| s.actions.iter()) {
            if let Some(id) = action.id.get() {
                self.source
                    .insert(id.to_lowercase(), (key.to_owned(), action.name.clone()));
            }
        }
    }

    /// Adds the actions of a destination process.
    pub fn add_dest(&mut self, key: &str, steps: &[Step]) {
        for action in steps.iter().flat_map(|s| s.actions.iter()) {
            if let Some(id) = action.id.get() {
                self.dest
                    .insert((name_key(key), name_key(&action.name)), id.clone());
            }
        }
    }
}

/// The merged steps and the JSON pointers of dummy secrets in them.
pub struct Merged {
    /// The steps to save.
    pub steps: Vec<Step>,
    /// Pointers (relative to the process document) of sensitive properties of new actions.
    pub secret_slots: Vec<String>,
}

/// The kind an id prefix names (`Feeds-12` → feed).
fn id_kind(value: &str) -> Option<ResourceKind> {
    let (prefix, number) = value.trim().rsplit_once('-')?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(match prefix.to_ascii_lowercase().as_str() {
        "environments" => ResourceKind::Environment,
        "feeds" => ResourceKind::Feed,
        "accounts" => ResourceKind::Account,
        "certificates" => ResourceKind::Certificate,
        "workerpools" => ResourceKind::WorkerPool,
        "projects" => ResourceKind::Project,
        "tenants" => ResourceKind::Tenant,
        "teams" => ResourceKind::Team,
        "lifecycles" => ResourceKind::Lifecycle,
        "actiontemplates" => ResourceKind::ActionTemplate,
        "libraryvariablesets" => ResourceKind::LibraryVariableSet,
        "machines" => ResourceKind::Machine,
        "machinepolicies" => ResourceKind::MachinePolicy,
        "projectgroups" => ResourceKind::ProjectGroup,
        "tagsets" => ResourceKind::TagSet,
        "spaces" => ResourceKind::Space,
        _ => return None,
    })
}

/// Whether text looks like an id of a known or unknown kind (`GitCredentials-3`).
fn id_shaped(value: &str) -> bool {
    match value.trim().rsplit_once('-') {
        Some((prefix, n)) => {
            !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
                && !prefix.is_empty()
                && prefix.bytes().all(|b| b.is_ascii_alphabetic())
                && prefix.as_bytes()[0].is_ascii_uppercase()
        }
        None => false,
    }
}

/// Translates one id-shaped value; `Err` is the reason it could not be.
fn translate_id(ctx: &mut Ctx<'_>, value: &str) -> Result<String, String> {
    match id_kind(value) {
        Some(ResourceKind::Space) => Ok(ctx.dst.space_id().unwrap_or(value).to_owned()),
        Some(kind) => {
            let (name, r) = ctx.resolve(kind, value);
            match r {
                Resolved::Missing(reason) => Err(format!("{kind} {name:?}: {reason}")),
                other => Ok(other.text().unwrap_or_default()),
            }
        }
        None => Err(format!("{value} is an id of a kind that is not synced")),
    }
}

fn is_expression(value: &str) -> bool {
    value.contains("#{")
}

/// Translates the references in an action's properties.
fn translate_properties(
    ctx: &mut Ctx<'_>,
    item: &ItemRef,
    action: &mut Action,
) -> Result<(), String> {
    let keys: Vec<String> = action.properties.keys().cloned().collect();
    for key in keys {
        let Some(PropertyValue::Text(text)) = action.properties.get(&key).cloned() else {
            continue;
        };
        if is_expression(&text) || text.trim().is_empty() {
            continue;
        }
        if key == "Octopus.Action.Template.Version" {
            continue;
        }
        if key == "Octopus.Action.Manual.ResponsibleTeamIds" {
            let mut teams = Vec::new();
            let mut dropped = Vec::new();
            for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let (name, r) = ctx.resolve(ResourceKind::Team, part);
                match r.text() {
                    Some(id) => teams.push(id),
                    None => dropped.push(name),
                }
            }
            if !dropped.is_empty() {
                ctx.clean(
                    CleanupCategory::Reference,
                    item,
                    format!(
                        "action {:?}: responsible teams {} are not on the destination",
                        action.name,
                        quote_list(&dropped)
                    ),
                );
            }
            if teams.is_empty() {
                teams.push("teams-managers".to_owned());
                ctx.clean(CleanupCategory::Reference, item, format!(
                    "action {:?}: no responsible team is left; Octopus Managers (teams-managers) is used", action.name));
            }
            action
                .properties
                .insert(key, PropertyValue::Text(teams.join(",")));
            continue;
        }
        if text.trim_start().starts_with('{') {
            // Package parameters of step templates: {"PackageId": …, "FeedId": …}.
            if let Ok(Value::Object(mut obj)) = serde_json::from_str::<Value>(&text) {
                if let Some(feed) = obj.get("FeedId").and_then(Value::as_str).map(str::to_owned) {
                    if !is_expression(&feed) && id_shaped(&feed) {
                        let id =
                            translate_id(ctx, &feed).map_err(|r| format!("property {key}: {r}"))?;
                        obj.insert("FeedId".to_owned(), Value::String(id));
                        action
                            .properties
                            .insert(key, PropertyValue::Text(Value::Object(obj).to_string()));
                    }
                }
                continue;
            }
        }
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        if parts.iter().all(|p| id_shaped(p)) {
            let mut out = Vec::new();
            for part in parts {
                out.push(translate_id(ctx, part).map_err(|r| format!("property {key}: {r}"))?);
            }
            if key == "Octopus.Action.Template.Id" {
                let dest_version = ctx
                    .dst
                    .action_templates
                    .iter()
                    .find(|t| {
                        t.id.get()
                            .is_some_and(|id| id.as_str().eq_ignore_ascii_case(&out[0]))
                    })
                    .and_then(|t| t.version.get().copied());
                if let Some(version) = dest_version {
                    action.properties.insert(
                        "Octopus.Action.Template.Version".to_owned(),
                        PropertyValue::Text(version.to_string()),
                    );
                }
            }
            action
                .properties
                .insert(key, PropertyValue::Text(out.join(",")));
        } else if text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .any(id_shaped)
        {
            ctx.clean(CleanupCategory::Reference, item, format!(
                "action {:?}: property {key} mentions an id inside other text; it was copied as is, check it", action.name));
        }
    }
    Ok(())
}

/// Builds the destination action for a source action; `Err` is the reason to leave it out.
fn translate_action(
    ctx: &mut Ctx<'_>,
    item: &ItemRef,
    owner: &ProcessOwner<'_>,
    source: &Action,
    dest: Option<&Action>,
) -> Result<Action, String> {
    let scoping = ctx.rules.scoping.clone();
    let mut action = source.clone();
    let what = |w: &str| format!("action {:?} {w}", source.name);
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
        // An excluded environment the destination lacks cannot run there anyway.
        let excluded = translate_list(
            ctx,
            item,
            ResourceKind::Environment,
            ScopeMode::IgnoreMismatch,
            &what("excluded environments"),
            source.excluded_environments.iter(),
        )
        .unwrap_or_default();
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
                name_key(p.name.as_str()) == name_key(package.name.as_str())
                    && (deploy_release
                        || name_key(p.package_id.as_str()) == name_key(package.package_id.as_str()))
            })
        });
        package.id = dest_package.map(|p| p.id.clone()).unwrap_or_default();
    }
    translate_properties(ctx, item, &mut action)?;
    // Secrets: an existing action keeps the destination's own.
    if let Some(d) = dest {
        for (key, value) in action.properties.iter_mut() {
            if value.is_sensitive() {
                if let Some(existing) = d.properties.get(key) {
                    *value = existing.clone();
                }
            }
        }
    }
    Ok(action)
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
    let mut steps = Vec::new();
    let mut new_actions = Vec::new();
    for src_step in source {
        let dst_step = dest
            .iter()
            .find(|s| name_key(&s.name) == name_key(&src_step.name));
        let mut step = match dst_step {
            // The destination's step, with the source's settings laid over it: fields
            // only the destination's server adds (ids, slugs, newer fields) stay.
            Some(d) => {
                let mut s = d.clone();
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
                s.properties = src_step.properties.clone();
                s
            }
            None => {
                let mut s = src_step.clone();
                s.id = Default::default();
                s
            }
        };
        let mut actions = Vec::new();
        for src_action in src_step.actions.iter() {
            let dst_action = dst_step.and_then(|d| {
                d.actions
                    .iter()
                    .find(|a| name_key(&a.name) == name_key(&src_action.name))
            });
            match translate_action(ctx, item, owner, src_action, dst_action) {
                Ok(action) => {
                    if dst_action.is_none() {
                        new_actions.push(action.name.clone());
                    }
                    actions.push(action);
                }
                Err(reason) => match dst_action {
                    Some(existing) => {
                        ctx.clean(CleanupCategory::Skipped, item, format!(
                            "action {:?} not updated: {reason}; the destination's action is kept as it is", src_action.name));
                        actions.push(existing.clone());
                    }
                    None => ctx.clean(
                        CleanupCategory::Skipped,
                        item,
                        format!("action {:?} skipped: {reason}", src_action.name),
                    ),
                },
            }
        }
        if keep_extra {
            if let Some(d) = dst_step {
                for extra in d.actions.iter() {
                    if !src_step
                        .actions
                        .iter()
                        .any(|a| name_key(&a.name) == name_key(&extra.name))
                    {
                        actions.push(extra.clone());
                    }
                }
            }
        }
        if actions.is_empty() {
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
        step.actions = actions.into_iter().collect();
        steps.push(step);
    }
    if keep_extra {
        for extra in dest {
            if !source
                .iter()
                .any(|s| name_key(&s.name) == name_key(&extra.name))
            {
                steps.push(extra.clone());
            }
        }
    }
    let mut secret_slots = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        for (j, action) in step.actions.iter().enumerate() {
            if !new_actions.iter().any(|n| n == &action.name) {
                continue;
            }
            for (key, value) in action.properties.iter() {
                if let PropertyValue::Sensitive(s) = value {
                    if s.has_value {
                        let key_ptr = key.replace('~', "~0").replace('/', "~1");
                        secret_slots.push(format!("/Steps/{i}/Actions/{j}/Properties/{key_ptr}"));
                        ctx.clean(CleanupCategory::DummySecret, item, format!(
                            "action {:?}: sensitive property {key} set to a dummy value; enter the real one", action.name));
                    }
                }
            }
        }
    }
    for name in &new_actions {
        ctx.record_new_action(&owner.key, name);
    }
    Merged {
        steps,
        secret_slots,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_shapes() {
        assert_eq!(id_kind("Feeds-12"), Some(ResourceKind::Feed));
        assert_eq!(id_kind("feeds-builtin"), None);
        assert!(id_shaped("GitCredentials-3"));
        assert!(!id_shaped("Octopus-1.2"));
        assert!(!id_shaped("some text"));
        assert!(!id_shaped("v-1"));
    }
}
