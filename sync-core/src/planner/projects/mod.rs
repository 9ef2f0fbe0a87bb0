//! Projects and what they own: settings, channels, the deployment process, runbooks and
//! their processes, variables, channel version rules and versioning settings.
//!
//! Each part is planned for every selected project before the next part, so a reference
//! from one project to another (deploy-a-release) finds the other's create.
//!
//! Existing projects get only their description, included library variable sets (the
//! source's, translated, plus the destination's own) and variable templates synced;
//! lifecycle, group, tenanted mode and other settings are the destination's. New
//! projects are created whole, with versioning and release creation that name actions
//! set once their process exists.

use octopus_model::{
    name_key, Channel, DeploymentProcess, Field, Project, ResourceKind, Runbook, RunbookProcess,
    VariableSet,
};
use serde_json::{json, Value};

use super::common::{matches, remove, set, strings, translate_list, translate_tags, Match};
use super::process::{self, ProcessOwner, ProcessOwnerIds};
use super::prune;
use super::variables::{self, VariableOwner};
use crate::children::Children;
use crate::context::{Ctx, DEFAULT_CHANNEL};
use crate::diff::{create_op, sensitive_slots, strip_for_create, to_value, update_op};
use crate::index::Lookup;
use crate::ledger::ProcessKey;
use crate::plan::{CleanupCategory, ItemRef, LayerName, Op, OpAction, Target};
use crate::rules::ScopeMode;

/// A selected project and how it matched.
struct Planned<'s> {
    source: &'s Project,
    dest: Option<Project>,
    dest_id: Option<String>,
    /// The project's create body, when it is new.
    create_body: Option<Value>,
    /// An existing project's document as its settings update leaves it.
    settings_body: Option<Value>,
    /// Config as code on either side.
    cac: bool,
}

impl Planned<'_> {
    fn name(&self) -> &str {
        &self.source.name
    }

    fn target(&self) -> Target {
        match &self.dest_id {
            Some(id) => Target::Existing { id: id.clone() },
            None => Target::Created {
                item: ItemRef::new(ResourceKind::Project, self.name()),
            },
        }
    }

    /// The project id to put in a child's body: the destination's, or the pending one.
    fn id_text(&self, ctx: &mut Ctx<'_>) -> String {
        match &self.dest_id {
            Some(id) => id.clone(),
            None => ctx
                .pending(crate::plan::Pending::Created {
                    item: ItemRef::new(ResourceKind::Project, self.name()),
                })
                .text()
                .unwrap_or_default(),
        }
    }
}

/// Plans every selected project and its parts.
pub fn projects(ctx: &mut Ctx<'_>) {
    let (src, dst) = (ctx.source.snapshot, ctx.dest.snapshot);
    let filter = ctx.rules.select.projects.clone();
    let mut planned = Vec::new();
    for m in matches(
        ctx,
        LayerName::Projects,
        &filter,
        &src.projects,
        &dst.projects,
    ) {
        if let Some(p) = settings(ctx, m) {
            planned.push(p);
        }
    }
    let created: Vec<_> = planned.iter().map(|p| channels(ctx, p)).collect();
    let ids: Vec<ProcessOwnerIds> = planned.iter().map(|p| owner_ids(ctx, p)).collect();
    for p in &planned {
        deployment_process(ctx, p);
    }
    let publishing: Vec<_> = planned.iter().map(|p| runbooks(ctx, p)).collect();
    for ((p, ids), runbooks) in planned.iter().zip(ids.iter()).zip(publishing) {
        // A snapshot freezes the project's variables too: a runbook is published again
        // when they change, not only when its process does.
        let variables_written = project_variables(ctx, p, ids);
        for (rb, publishing) in runbooks {
            publish_runbook(ctx, p, rb, publishing, variables_written);
        }
    }
    for (p, created) in planned.iter().zip(created) {
        channel_rules(ctx, p, created);
        versioning(ctx, p);
    }
    for p in planned.iter().filter(|p| !p.cac) {
        let (Some(source_id), Some(dest_id)) = (p.source.id.get(), p.dest_id.as_deref()) else {
            continue;
        };
        prune::project_children(
            ctx,
            &prune::PrunedProject {
                name: p.name(),
                source_id: source_id.as_str(),
                dest_id,
            },
        );
    }
}

fn translate_library_sets(ctx: &mut Ctx<'_>, item: &ItemRef, source: &Project) -> Vec<String> {
    translate_list(
        ctx,
        item,
        ResourceKind::LibraryVariableSet,
        ScopeMode::IgnoreMismatch,
        "included library variable sets",
        source.included_library_variable_set_ids.iter(),
    )
    .unwrap_or_default()
}

fn settings<'s>(ctx: &mut Ctx<'_>, m: Match<'s, Project>) -> Option<Planned<'s>> {
    match m {
        Match::Existing { source, dest, id } => {
            let item = ItemRef::new(ResourceKind::Project, &source.name);
            let mut desired = dest.clone();
            desired.description = source.description.clone();
            deployment_settings(source, &mut desired);
            let mut sets = translate_library_sets(ctx, &item, source);
            for existing in dest.included_library_variable_set_ids.iter() {
                if !sets
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(existing.as_str()))
                {
                    sets.push(existing.as_str().to_owned());
                }
            }
            desired.included_library_variable_set_ids = sets.into_iter().map(Into::into).collect();
            let mut templates = Vec::new();
            for t in source.templates.iter() {
                let mut t = t.clone();
                let existing = dest
                    .templates
                    .iter()
                    .find(|d| name_key(&d.name) == name_key(&t.name));
                t.id = existing.map(|d| d.id.clone()).unwrap_or_default();
                if let (Some(d), true) = (
                    existing,
                    t.default_value.get().is_some_and(|v| v.is_sensitive()),
                ) {
                    t.default_value = d.default_value.clone();
                }
                templates.push(t);
            }
            for d in dest.templates.iter() {
                if !source
                    .templates
                    .iter()
                    .any(|t| name_key(&t.name) == name_key(&d.name))
                {
                    templates.push(d.clone());
                }
            }
            desired.templates = templates.into_iter().collect();
            let settings_body = to_value(&desired);
            let op = update_op(ctx, item, Target::Existing { id: id.clone() }, &to_value(&dest), settings_body.clone(),
                "description, deployment settings, included library variable sets or variable templates differ; the project's group and lifecycle are the destination's",
                "description, deployment settings, included library variable sets and variable templates match");
            ctx.push(LayerName::Projects, op);
            let cac = source.is_config_as_code() || dest.is_config_as_code();
            Some(Planned {
                source,
                dest: Some(dest),
                dest_id: Some(id),
                create_body: None,
                settings_body: Some(settings_body),
                cac,
            })
        }
        Match::New { source } => {
            let item = ItemRef::new(ResourceKind::Project, &source.name);
            let mut required = Vec::new();
            for (kind, id, field) in [
                (
                    ResourceKind::ProjectGroup,
                    source.project_group_id.get().map(|i| i.as_str().to_owned()),
                    "ProjectGroupId",
                ),
                (
                    ResourceKind::Lifecycle,
                    source.lifecycle_id.get().map(|i| i.as_str().to_owned()),
                    "LifecycleId",
                ),
            ] {
                let Some(id) = id else { continue };
                let (name, r) = ctx.resolve(kind, &id);
                match r.text() {
                    Some(text) => required.push((field, text)),
                    None => {
                        ctx.push(
                            LayerName::Projects,
                            Op::skip(
                                item,
                                format!("its {kind} {name:?} is not on the destination"),
                            ),
                        );
                        return None;
                    }
                }
            }
            let mut body = to_value(source);
            strip_for_create(&mut body, ctx.dest.snapshot.space_id());
            for (field, text) in required {
                set(&mut body, field, Value::String(text));
            }
            let sets = translate_library_sets(ctx, &item, source);
            set(&mut body, "IncludedLibraryVariableSetIds", strings(&sets));
            for k in [
                "DeploymentProcessId",
                "VariableSetId",
                "ClonedFromProjectId",
                "IsVersionControlled",
                "ReleaseCreationStrategy",
            ] {
                remove(&mut body, k);
            }
            set(&mut body, "AutoDeployReleaseOverrides", json!([]));
            if source
                .versioning_strategy
                .get()
                .is_some_and(|v| v.donor_package.is_set() || v.donor_package_step_id.is_set())
            {
                set(
                    &mut body,
                    "VersioningStrategy",
                    json!({"Template": "#{Octopus.Version.LastMajor}.#{Octopus.Version.LastMinor}.#{Octopus.Version.NextPatch}"}),
                );
            }
            if source.auto_create_release.get_or(false) {
                set(&mut body, "AutoCreateRelease", Value::Bool(false));
            }
            if let Some(Value::Array(templates)) = body.get_mut("Templates") {
                for t in templates.iter_mut() {
                    remove(t, "Id");
                }
            }
            let slots = sensitive_slots(&body);
            for slot in &slots {
                ctx.clean(
                    CleanupCategory::DummySecret,
                    &item,
                    format!("sensitive template default {slot} set to a dummy value"),
                );
            }
            if source.is_config_as_code() {
                ctx.clean(CleanupCategory::Skipped, &item, "the source project is version controlled; it is created as a database project without its git settings, and its git-backed process, runbooks and variables are not synced");
            }
            let mut op = create_op(
                ctx,
                item.clone(),
                body.clone(),
                "missing on the destination",
            );
            if let Some(c) = op.create_mut() {
                c.secret_slots = slots;
            }
            // Later updates of the new project start from the body as sent (shims applied).
            let body = op.body().cloned().unwrap_or(body);
            ctx.push(LayerName::Projects, op);
            ctx.record_create(&ItemRef::owned(
                ResourceKind::Channel,
                DEFAULT_CHANNEL,
                &source.name,
            ));
            Some(Planned {
                source,
                dest: None,
                dest_id: None,
                create_body: Some(body),
                settings_body: None,
                cac: source.is_config_as_code(),
            })
        }
    }
}

/// Plans the selected channels; returns the channels whose version rules are set once
/// the process exists: each created one (with its create body) and, under
/// `overwrite_existing_channel_rules`, each existing one (with its destination document).
fn channels(ctx: &mut Ctx<'_>, p: &Planned<'_>) -> Vec<(ItemRef, Target, Value)> {
    let source_id = p
        .source
        .id
        .get()
        .map(|i| i.as_str().to_owned())
        .unwrap_or_default();
    let filter = ctx.rules.select.channels.clone();
    let mut seen = std::collections::BTreeSet::new();
    let mut created = Vec::new();
    for channel in ctx.source.children.channels(&source_id) {
        if !filter.matches(&channel.name) || !seen.insert(name_key(&channel.name)) {
            continue;
        }
        let item = ItemRef::owned(ResourceKind::Channel, &channel.name, p.name());
        let mut op = plan_channel(ctx, p, channel, &item);
        op.owner = Some(p.target());
        match (op.action(), op.body(), op.target()) {
            (OpAction::Create, Some(body), _) => created.push((
                item.clone(),
                Target::Created { item: item.clone() },
                body.clone(),
            )),
            (OpAction::Unchanged, _, Some(Target::Existing { id }))
                if ctx.rules.policy.overwrite_existing_channel_rules =>
            {
                if let Some(dest) = p.dest_id.as_deref().and_then(|project| {
                    ctx.dest
                        .children
                        .channels(project)
                        .into_iter()
                        .find(|c| c.id.get().is_some_and(|i| i.as_str() == id))
                }) {
                    created.push((
                        item.clone(),
                        Target::Existing { id: id.clone() },
                        to_value(dest),
                    ));
                }
            }
            _ => {}
        }
        ctx.push(LayerName::Channels, op);
    }
    created
}

fn plan_channel(ctx: &mut Ctx<'_>, p: &Planned<'_>, channel: &Channel, item: &ItemRef) -> Op {
    if channel.is_default.get_or(false) {
        let found = p
            .dest_id
            .as_deref()
            .and_then(|project| ctx.dest.children.default_channel(project));
        return match found.and_then(|c| c.id.get()) {
            Some(id) => Op::unchanged(
                item.clone(),
                "the default channel matches the destination project's default channel",
                Some(Target::Existing {
                    id: id.as_str().to_owned(),
                }),
            ),
            None if p.dest_id.is_none() => Op::unchanged(
                item.clone(),
                "the server creates the default channel with the project",
                None,
            ),
            None => Op::skip(
                item.clone(),
                "the destination project has no default channel",
            ),
        };
    }
    if let Some(project) = &p.dest_id {
        match ctx
            .dest
            .index
            .lookup_in(ResourceKind::Channel, Some(project), &channel.name)
        {
            Lookup::Found(id) => {
                return Op::unchanged(
                    item.clone(),
                    "exists; its lifecycle and rules are the destination's",
                    Some(Target::Existing { id: id.to_owned() }),
                );
            }
            Lookup::Duplicate(n) => {
                return Op::skip(
                    item.clone(),
                    format!("{n} destination channels of this project have this name"),
                );
            }
            Lookup::Missing => {}
        }
    }
    let mut body = to_value(channel);
    strip_for_create(&mut body, ctx.dest.snapshot.space_id());
    let project = p.id_text(ctx);
    set(&mut body, "ProjectId", Value::String(project));
    set(&mut body, "IsDefault", Value::Bool(false));
    set(&mut body, "Rules", json!([]));
    if let Some(lifecycle) = channel.lifecycle_id.get() {
        let (name, r) = ctx.resolve(ResourceKind::Lifecycle, lifecycle.as_str());
        match r.text() {
            Some(id) => set(&mut body, "LifecycleId", Value::String(id)),
            None => {
                return Op::skip(
                    item.clone(),
                    format!("its lifecycle {name:?} is not on the destination"),
                )
            }
        }
    }
    // An ephemeral-environment channel names its parent environment (2025.4+,
    // go-octopusdeploy `pkg/channels/channel.go`), which must exist on the destination.
    let parent = body.get("ParentEnvironmentId").and_then(Value::as_str);
    if let Some(parent) = parent.filter(|p| !p.is_empty()).map(str::to_owned) {
        let (name, r) = ctx.resolve(ResourceKind::Environment, &parent);
        match r.text() {
            Some(id) => set(&mut body, "ParentEnvironmentId", Value::String(id)),
            None => {
                return Op::skip(
                    item.clone(),
                    format!("its parent environment {name:?} is not on the destination"),
                )
            }
        }
    }
    match translate_tags(
        ctx,
        item,
        ScopeMode::SkipUnlessPartialMatch,
        "tenant tags",
        channel.tenant_tags.iter(),
    ) {
        Ok(tags) => set(&mut body, "TenantTags", strings(&tags)),
        Err(reason) => return Op::skip(item.clone(), reason),
    }
    create_op(ctx, item.clone(), body, "missing on the destination")
}

fn source_process<'a>(ctx: &Ctx<'a>, project: &Project) -> Option<&'a DeploymentProcess> {
    ctx.source.children.process(project.id.get()?.as_str())
}

fn dest_process<'a>(ctx: &Ctx<'a>, p: &Planned<'_>) -> Option<&'a DeploymentProcess> {
    ctx.dest.children.process(p.dest_id.as_deref()?)
}

fn owner_ids(ctx: &Ctx<'_>, p: &Planned<'_>) -> ProcessOwnerIds {
    let mut ids = ProcessOwnerIds::default();
    if let Some(process) = source_process(ctx, p.source) {
        ids.add_source(&ProcessKey::project(p.name()), &process.steps);
    }
    if let Some(process) = dest_process(ctx, p) {
        ids.add_dest(&ProcessKey::project(p.name()), &process.steps);
    }
    let source_id = p
        .source
        .id
        .get()
        .map(|i| i.as_str().to_owned())
        .unwrap_or_default();
    for rb in ctx.source.children.runbooks(&source_id) {
        if let Some(process) = runbook_process(&ctx.source.children, rb) {
            ids.add_source(&ProcessKey::runbook(p.name(), &rb.name), &process.steps);
        }
    }
    if let Some(dest_id) = &p.dest_id {
        for rb in ctx.dest.children.runbooks(dest_id) {
            if let Some(process) = runbook_process(&ctx.dest.children, rb) {
                ids.add_dest(&ProcessKey::runbook(p.name(), &rb.name), &process.steps);
            }
        }
    }
    ids
}

fn runbook_process<'a>(kids: &Children<'a>, rb: &Runbook) -> Option<&'a RunbookProcess> {
    kids.runbook_process(rb.id.get()?.as_str())
}

const GIT_BACKED: &str = "the project is version controlled: this lives in git and is not synced";

fn deployment_process(ctx: &mut Ctx<'_>, p: &Planned<'_>) {
    let item = ItemRef::owned(ResourceKind::DeploymentProcess, p.name(), p.name());
    if p.cac {
        let mut op = Op::skip(item, GIT_BACKED);
        op.owner = Some(p.target());
        ctx.push(LayerName::DeploymentProcesses, op);
        return;
    }
    let Some(source) = source_process(ctx, p.source) else {
        ctx.warnings.push(format!(
            "the source snapshot has no deployment process for project {:?}",
            p.name()
        ));
        return;
    };
    let (before, target) = match (&p.dest_id, dest_process(ctx, p)) {
        (Some(_), Some(d)) => (
            d.clone(),
            Target::Existing {
                id: d
                    .id
                    .get()
                    .map(|i| i.as_str().to_owned())
                    .unwrap_or_default(),
            },
        ),
        (Some(_), None) => {
            let mut op = Op::skip(
                item,
                "the destination snapshot has no deployment process for this project",
            );
            op.owner = Some(p.target());
            ctx.push(LayerName::DeploymentProcesses, op);
            return;
        }
        (None, _) => {
            let doc = DeploymentProcess {
                project_id: Field::Value(p.id_text(ctx).into()),
                ..DeploymentProcess::default()
            };
            (
                doc,
                Target::SideEffect {
                    owner: ItemRef::new(ResourceKind::Project, p.name()),
                    field: "DeploymentProcessId".to_owned(),
                },
            )
        }
    };
    let owner = ProcessOwner {
        key: ProcessKey::project(p.name()),
        project: p.name(),
        dest_project: p.dest_id.clone(),
    };
    let merged = process::merge(ctx, &item, &owner, &source.steps, &before.steps);
    let mut desired = before.clone();
    desired.steps = merged.steps.into_iter().collect();
    let before_value = if p.dest_id.is_some() {
        to_value(&before)
    } else {
        json!({})
    };
    let mut op = update_op(
        ctx,
        item,
        target,
        &before_value,
        to_value(&desired),
        "the steps differ from the source",
        "the steps match the source",
    );
    if let Some(u) = op.update_mut() {
        u.secret_slots = merged.secret_slots;
        u.removed = merged.removed;
    }
    process::note(&mut op, &merged.notes);
    op.owner = Some(p.target());
    ctx.push(LayerName::DeploymentProcesses, op);
}

/// Plans the selected runbooks and their processes; returns what deciding on their
/// publishing needs, once the project's variables are planned.
fn runbooks<'a>(ctx: &mut Ctx<'a>, p: &Planned<'_>) -> Vec<(&'a Runbook, Publishing<'a>)> {
    let mut out = Vec::new();
    let source_id = p
        .source
        .id
        .get()
        .map(|i| i.as_str().to_owned())
        .unwrap_or_default();
    let filter = ctx.rules.select.runbooks.clone();
    let mut seen = std::collections::BTreeSet::new();
    for rb in ctx.source.children.runbooks(&source_id) {
        if !filter.matches(&rb.name) || !seen.insert(name_key(&rb.name)) {
            continue;
        }
        let item = ItemRef::owned(ResourceKind::Runbook, &rb.name, p.name());
        if p.cac {
            let mut op = Op::skip(item, GIT_BACKED);
            op.owner = Some(p.target());
            ctx.push(LayerName::Runbooks, op);
            continue;
        }
        let existing = p.dest_id.as_deref().map(|project| {
            ctx.dest
                .index
                .lookup_in(ResourceKind::Runbook, Some(project), &rb.name)
        });
        let dest_rb = match existing {
            Some(Lookup::Duplicate(n)) => {
                ctx.push(
                    LayerName::Runbooks,
                    Op::skip(
                        item,
                        format!("{n} destination runbooks of this project have this name"),
                    ),
                );
                continue;
            }
            Some(Lookup::Found(id)) => {
                let id = id.to_owned();
                ctx.dest.children.runbook(&id)
            }
            _ => None,
        };
        let (process_target, before) = match dest_rb {
            Some(d) => {
                let mut op = existing_runbook(ctx, rb, d, &item);
                op.owner = Some(p.target());
                ctx.push(LayerName::Runbooks, op);
                match runbook_process(&ctx.dest.children, d) {
                    Some(proc_) => (
                        Target::Existing {
                            id: proc_
                                .id
                                .get()
                                .map(|i| i.as_str().to_owned())
                                .unwrap_or_default(),
                        },
                        Some(proc_.clone()),
                    ),
                    None => {
                        ctx.warnings.push(format!(
                            "the destination snapshot has no process for runbook {:?} of {:?}",
                            rb.name,
                            p.name()
                        ));
                        continue;
                    }
                }
            }
            None => {
                let mut body = to_value(rb);
                strip_for_create(&mut body, ctx.dest.snapshot.space_id());
                let project = p.id_text(ctx);
                set(&mut body, "ProjectId", Value::String(project));
                for k in ["RunbookProcessId", "PublishedRunbookSnapshotId"] {
                    remove(&mut body, k);
                }
                let envs = translate_list(
                    ctx,
                    &item,
                    ResourceKind::Environment,
                    ScopeMode::IgnoreMismatch,
                    "runbook environments",
                    rb.environments.iter(),
                )
                .unwrap_or_default();
                if !rb.environments.is_empty() && envs.is_empty() {
                    ctx.push(
                        LayerName::Runbooks,
                        Op::skip(
                            item,
                            "none of the environments it runs in exist on the destination",
                        ),
                    );
                    continue;
                }
                set(&mut body, "Environments", strings(&envs));
                let mut op = create_op(ctx, item.clone(), body, "missing on the destination");
                op.owner = Some(p.target());
                ctx.push(LayerName::Runbooks, op);
                (
                    Target::SideEffect {
                        owner: item.clone(),
                        field: "RunbookProcessId".to_owned(),
                    },
                    None,
                )
            }
        };
        let key = ProcessKey::runbook(p.name(), &rb.name);
        let process_item = ItemRef::owned(ResourceKind::RunbookProcess, &rb.name, p.name());
        let Some(source) = runbook_process(&ctx.source.children, rb) else {
            ctx.warnings.push(format!(
                "the source snapshot has no process for runbook {:?} of {:?}",
                rb.name,
                p.name()
            ));
            continue;
        };
        let owner = ProcessOwner {
            key: key.clone(),
            project: p.name(),
            dest_project: p.dest_id.clone(),
        };
        let before_doc = before.clone().unwrap_or_default();
        let merged = process::merge(ctx, &process_item, &owner, &source.steps, &before_doc.steps);
        let mut desired = before_doc.clone();
        desired.steps = merged.steps.into_iter().collect();
        if before.is_none() {
            let rb_ref = ctx
                .pending(crate::plan::Pending::Created { item: item.clone() })
                .text()
                .unwrap_or_default();
            desired.runbook_id = Field::Value(rb_ref.into());
            desired.project_id = Field::Value(p.id_text(ctx).into());
        }
        let before_value = if before.is_some() {
            to_value(&before_doc)
        } else {
            json!({})
        };
        let mut op = update_op(
            ctx,
            process_item,
            process_target,
            &before_value,
            to_value(&desired),
            "the steps differ from the source",
            "the steps match the source",
        );
        if let Some(u) = op.update_mut() {
            u.secret_slots = merged.secret_slots;
            u.removed = merged.removed;
        }
        process::note(&mut op, &merged.notes);
        let runbook_target = match &before {
            Some(_) => Target::Existing {
                id: dest_rb
                    .and_then(|r| r.id.get())
                    .map(|i| i.as_str().to_owned())
                    .unwrap_or_default(),
            },
            None => Target::Created { item: item.clone() },
        };
        op.owner = Some(runbook_target.clone());
        let written = op.action() == OpAction::Update;
        let frozen = crate::digest_json(&to_value(&desired));
        ctx.push(LayerName::RunbookProcesses, op);
        let has_packages = source
            .steps
            .iter()
            .flat_map(|s| s.actions.iter())
            .any(|a| !a.packages.is_empty());
        let publishing = Publishing {
            item,
            runbook: runbook_target,
            dest: dest_rb,
            written,
            frozen,
            has_packages,
        };
        out.push((rb, publishing));
    }
    out
}

/// What the publishing decision of one runbook needs to know.
struct Publishing<'a> {
    /// The runbook.
    item: ItemRef,
    /// The destination runbook, existing or created earlier in the plan.
    runbook: Target,
    /// The destination runbook, when it exists.
    dest: Option<&'a Runbook>,
    /// Whether this plan writes the runbook's process.
    written: bool,
    /// A digest of the process as this plan leaves it, for the snapshot's name.
    frozen: String,
    /// Whether the process references packages.
    has_packages: bool,
}

/// Runbook publishing (`publish_runbooks`): when the source runbook is published and the
/// destination runbook's process or the project's variables (a snapshot freezes both)
/// are written by this plan, or the destination runbook has never been published, a snapshot of it is created on the destination and
/// published, in a layer after the processes and project variables it freezes.
///
/// The op's body is what the official clients POST to `/api/{spaceId}/runbookSnapshots`
/// (OctopusClients `Octopus.Client/Repositories/Async/RunbookSnapshotRepository.cs` and
/// `Model/RunbookSnapshotResource.cs`: `ProjectId`, `RunbookId`, `Name`, `Notes`,
/// `SelectedPackages`); publishing sets the runbook's `PublishedRunbookSnapshotId` to
/// the new snapshot, as Octopus's documented script does with `Runbooks.Modify`
/// (OctopusDeploy/docs `docs/shared-content/scripts/publish-runbook-scripts.include.md`;
/// the notes of OctopusDeploy/cli pull request 343 say the same: publishing an existing
/// snapshot is a write of the runbook with `PublishedRunbookSnapshotId` set).
///
/// Package versions: the server does not choose them when none are given; the same
/// script looks up the latest version of every package in its feed and sends it in
/// `SelectedPackages`. A sync cannot see the destination's feeds when it plans, so a
/// runbook whose process references packages is not published: the plan says so and the
/// clean-up log asks a person to publish it. Processes without packages are published
/// with no selected packages, which is all such a snapshot has.
fn publish_runbook(
    ctx: &mut Ctx<'_>,
    p: &Planned<'_>,
    rb: &Runbook,
    publishing: Publishing<'_>,
    variables_written: bool,
) {
    use crate::rules::PublishRunbooks;
    let published = |r: &Runbook| {
        r.published_runbook_snapshot_id
            .get()
            .is_some_and(|s| !s.trim().is_empty())
    };
    if ctx.rules.policy.publish_runbooks == PublishRunbooks::Never || !published(rb) {
        return;
    }
    let Publishing {
        item,
        runbook,
        dest,
        written,
        frozen,
        has_packages,
    } = publishing;
    let never_published = !dest.is_some_and(published);
    if !written && !variables_written && !never_published {
        return;
    }
    let snapshot = ItemRef::owned(ResourceKind::RunbookSnapshot, &item.name, p.name());
    let why = if written {
        "the source runbook is published and this sync writes its process"
    } else if variables_written {
        "the source runbook is published and this sync writes the project variables its snapshot freezes"
    } else {
        "the source runbook is published and the destination runbook never was"
    };
    if has_packages {
        let reason = format!(
            "{why}, but its process references packages: a snapshot needs a version of each, and the destination's feeds are not read when planning; publish it by hand on the destination (Runbooks > Publish, choosing the package versions) so that its runs and triggers use the synced process"
        );
        let mut op = Op::skip(snapshot, reason);
        op.owner = Some(runbook);
        ctx.push(LayerName::RunbookPublishing, op);
        return;
    }
    let runbook_id = match &runbook {
        Target::Existing { id } => id.clone(),
        _ => ctx
            .pending(crate::plan::Pending::Created { item: item.clone() })
            .text()
            .unwrap_or_default(),
    };
    let short: String = frozen.chars().take(8).collect();
    let body = json!({
        "ProjectId": p.id_text(ctx),
        "RunbookId": runbook_id,
        "Name": format!("Sync {short}"),
        "Notes": "Published by octosync to follow the source's published runbook.",
        "SelectedPackages": [],
    });
    let reason = format!("{why}: a snapshot is created and published (no packages to select)");
    let mut op = create_op(ctx, snapshot, body, reason);
    op.owner = Some(runbook);
    ctx.push(LayerName::RunbookPublishing, op);
}

/// An existing runbook: its settings are the destination's, or, under
/// `overwrite_existing_runbook_settings`, the source's (environments translated under
/// `[scoping] process_environments`; when they cannot be, the destination's environment
/// scope is kept and the clean-up log says so, so a runbook never runs in more
/// environments than it did).
fn existing_runbook(ctx: &mut Ctx<'_>, rb: &Runbook, dest: &Runbook, item: &ItemRef) -> Op {
    let target = Target::Existing {
        id: dest
            .id
            .get()
            .map(|i| i.as_str().to_owned())
            .unwrap_or_default(),
    };
    if !ctx.rules.policy.overwrite_existing_runbook_settings {
        return Op::unchanged(
            item.clone(),
            "exists; its settings are the destination's",
            Some(target),
        );
    }
    let mut desired = dest.clone();
    desired.description = rb.description.clone();
    desired.multi_tenancy_mode = rb.multi_tenancy_mode.clone();
    desired.connectivity_policy = rb.connectivity_policy.clone();
    desired.default_guided_failure_mode = rb.default_guided_failure_mode.clone();
    desired.run_retention_policy = rb.run_retention_policy.clone();
    desired.force_package_download = rb.force_package_download.clone();
    let mode = ctx.rules.scoping.process_environments;
    let (notes, widened) = (ctx.cleanup.len(), ctx.widened);
    let envs = translate_list(
        ctx,
        item,
        ResourceKind::Environment,
        mode,
        "runbook environments",
        rb.environments.iter(),
    );
    match envs {
        Ok(envs) if rb.environments.is_empty() || !envs.is_empty() => {
            desired.environment_scope = rb.environment_scope.clone();
            desired.environments = envs.into_iter().map(Into::into).collect();
        }
        Ok(_) | Err(_) => {
            // Nothing was widened: the destination's scope stays.
            ctx.cleanup.truncate(notes);
            ctx.widened = widened;
            ctx.clean(
                CleanupCategory::Skipped,
                item,
                "the source's environment scope was not applied: none of its environments are on the destination; the runbook keeps its own",
            );
        }
    }
    update_op(
        ctx,
        item.clone(),
        target,
        &to_value(dest),
        to_value(&desired),
        "its settings differ from the source (overwrite_existing_runbook_settings)",
        "exists; its settings match the source",
    )
}

fn variable_set_of<'a>(kids: &Children<'a>, owner: &str) -> Option<&'a VariableSet> {
    kids.variable_set(owner)
}

/// Plans the project's variables; whether the plan writes them.
fn project_variables(ctx: &mut Ctx<'_>, p: &Planned<'_>, ids: &ProcessOwnerIds) -> bool {
    let item = ItemRef::owned(ResourceKind::VariableSet, p.name(), p.name());
    let source_id = p
        .source
        .id
        .get()
        .map(|i| i.as_str().to_owned())
        .unwrap_or_default();
    let Some(source) = variable_set_of(&ctx.source.children, &source_id) else {
        ctx.warnings.push(format!(
            "the source snapshot has no variable set for project {:?}",
            p.name()
        ));
        return false;
    };
    let (before, target) = match (&p.dest_id, &p.dest) {
        (Some(id), Some(_)) => match variable_set_of(&ctx.dest.children, id) {
            Some(set) => (
                set.clone(),
                Target::Existing {
                    id: set
                        .id
                        .get()
                        .map(|i| i.as_str().to_owned())
                        .unwrap_or_default(),
                },
            ),
            None => {
                let mut op = Op::skip(
                    item,
                    "the destination snapshot has no variable set for this project",
                );
                op.owner = Some(p.target());
                ctx.push(LayerName::ProjectVariables, op);
                return false;
            }
        },
        _ => {
            let doc = VariableSet {
                owner_id: Field::Value(p.id_text(ctx)),
                ..VariableSet::default()
            };
            (
                doc,
                Target::SideEffect {
                    owner: ItemRef::new(ResourceKind::Project, p.name()),
                    field: "VariableSetId".to_owned(),
                },
            )
        }
    };
    if p.cac {
        ctx.clean(CleanupCategory::Skipped, &item, "the project is version controlled: only its sensitive variables are synced; the others live in git");
    }
    let owner = VariableOwner {
        project: Some(p.name()),
        dest_project: p.dest_id.clone(),
        actions: ids.clone(),
        only_sensitive: p.cac,
        force_overwrite: false,
    };
    let merged = variables::merge(ctx, &item, &owner, &source.variables, &before.variables);
    let mut kept = merged.variables;
    let secret_slots =
        process::drop_removed_action_scopes(ctx, &item, &mut kept, merged.secret_slots);
    let mut desired = before.clone();
    desired.variables = kept.into_iter().collect();
    let before_value = if p.dest_id.is_some() {
        to_value(&before)
    } else {
        json!({})
    };
    let mut op = update_op(
        ctx,
        item,
        target,
        &before_value,
        to_value(&desired),
        "variable values or scopes differ",
        "the variables match",
    );
    if let Some(u) = op.update_mut() {
        u.secret_slots = secret_slots;
        u.variables = merged.review;
        u.removed = merged.removed;
    }
    op.owner = Some(p.target());
    let written = op.action() == OpAction::Update;
    ctx.push(LayerName::ProjectVariables, op);
    written
}

/// Version rules without their ids (the server assigns them), for comparison and sending.
fn rules_without_ids(rules: Value) -> Value {
    let mut rules = rules;
    if let Value::Array(items) = &mut rules {
        for r in items.iter_mut() {
            remove(r, "Id");
        }
    }
    rules
}

fn channel_rules(ctx: &mut Ctx<'_>, p: &Planned<'_>, channels: Vec<(ItemRef, Target, Value)>) {
    let source_id = p
        .source
        .id
        .get()
        .map(|i| i.as_str().to_owned())
        .unwrap_or_default();

    for (item, target, before) in channels {
        let Some(channel) = ctx
            .source
            .children
            .channels(&source_id)
            .into_iter()
            .find(|c| name_key(&c.name) == name_key(&item.name))
        else {
            continue;
        };
        let existing = matches!(target, Target::Existing { .. });
        let rules = rules_without_ids(to_value(&channel.rules));
        let current = rules_without_ids(before.get("Rules").cloned().unwrap_or(json!([])));
        let empty = |v: &Value| v.as_array().is_none_or(Vec::is_empty);
        if (empty(&rules) && empty(&current)) || (existing && rules == current) {
            continue;
        }
        let mut desired = before.clone();
        set(&mut desired, "Rules", rules);
        let (changed, same) = if existing {
            (
                "its version rules differ from the source (overwrite_existing_channel_rules)",
                "its version rules match the source",
            )
        } else {
            (
                "version rules are set once the process exists",
                "no version rules",
            )
        };
        let mut op = update_op(ctx, item.clone(), target, &before, desired, changed, same);
        op.owner = Some(p.target());
        ctx.push(LayerName::ChannelRules, op);
    }
}

/// The deployment settings of an existing project follow the source (`/projects/{id}/
/// deploymentsettings` from 2021.1 is a view of these fields of a database project):
/// guided failure, release notes and deployment changes templates, skip-if-installed,
/// package download, connectivity, multi-tenancy and discrete channel releases, and a
/// versioning strategy that is a template. A strategy that takes its version from a
/// package names an action, so it is set once the process exists (see [`versioning`]).
fn deployment_settings(source: &Project, desired: &mut Project) {
    // A field the source's document does not have (an older server) says nothing: the
    // destination keeps its own.
    macro_rules! follow {
        ($($field:ident),*) => {$(
            if !source.$field.is_missing() {
                desired.$field = source.$field.clone();
            }
        )*};
    }
    follow!(
        default_guided_failure_mode,
        release_notes_template,
        deployment_changes_template,
        default_to_skip_if_already_installed,
        force_package_download,
        tenanted_deployment_mode,
        discrete_channel_release
    );
    // The connectivity policy is laid over the destination's, member by member: a member
    // the source's server does not send keeps the value the destination's server set.
    if let (Some(src), Some(dst)) = (
        source.project_connectivity_policy.get(),
        desired.project_connectivity_policy.get(),
    ) {
        let mut merged = to_value(dst);
        if let (Value::Object(m), Value::Object(from)) = (&mut merged, to_value(src)) {
            m.extend(from);
        }
        if let Ok(policy) = serde_json::from_value(merged) {
            desired.project_connectivity_policy.set(policy);
        }
    } else if source.project_connectivity_policy.is_set() {
        desired.project_connectivity_policy = source.project_connectivity_policy.clone();
    }
    let template_only = source
        .versioning_strategy
        .get()
        .is_some_and(|v| !v.donor_package.is_set() && !v.donor_package_step_id.is_set());
    if template_only {
        desired.versioning_strategy = source.versioning_strategy.clone();
    }
}

/// Versioning from a donor package and automatic release creation name actions and
/// channels: set once the process exists, on new and existing projects alike.
fn versioning(ctx: &mut Ctx<'_>, p: &Planned<'_>) {
    let (body, target) = match (&p.create_body, &p.dest, &p.dest_id) {
        (Some(body), _, _) => (
            body.clone(),
            Target::Created {
                item: ItemRef::new(ResourceKind::Project, p.name()),
            },
        ),
        (None, Some(dest), Some(id)) if !p.cac => (
            p.settings_body.clone().unwrap_or_else(|| to_value(dest)),
            Target::Existing { id: id.clone() },
        ),
        _ => return,
    };
    let body = &body;
    let item = ItemRef::new(ResourceKind::Project, p.name());
    let mut desired = body.clone();
    let donor = p
        .source
        .versioning_strategy
        .get()
        .filter(|v| v.donor_package.is_set());
    // The server fills in the action id of a donor package or release creation package
    // from its name; an existing project keeps the one it has when the package is the
    // same, so the next plan sees no change.
    let dest_versioning = p.dest.as_ref().and_then(|d| d.versioning_strategy.get());
    if let Some(v) = donor {
        let mut v = v.clone();
        v.donor_package_step_id = dest_versioning
            .filter(|d| d.donor_package == v.donor_package)
            .map(|d| d.donor_package_step_id.clone())
            .unwrap_or_default();
        v.template = Field::Null;
        set(&mut desired, "VersioningStrategy", to_value(&v));
    }
    if let Some(arc) = p
        .source
        .release_creation_strategy
        .get()
        .filter(|a| a.channel_id.is_set() || a.release_creation_package.is_set())
    {
        let mut arc = arc.clone();
        arc.release_creation_package_step_id = p
            .dest
            .as_ref()
            .and_then(|d| d.release_creation_strategy.get())
            .filter(|d| d.release_creation_package == arc.release_creation_package)
            .map(|d| d.release_creation_package_step_id.clone())
            .unwrap_or_default();
        let channel = arc
            .channel_id
            .get()
            .map(|c| ctx.resolve_channel(c.as_str(), p.name(), p.dest_id.as_deref()));
        match channel.map(|(name, r)| (name, r.text())) {
            Some((name, None)) => {
                ctx.clean(CleanupCategory::Reference, &item, format!("automatic release creation was not set: its channel {name:?} is not on the destination"));
            }
            other => {
                if let Some((_, Some(id))) = other {
                    arc.channel_id.set(id.into());
                }
                set(&mut desired, "ReleaseCreationStrategy", to_value(&arc));
                set(
                    &mut desired,
                    "AutoCreateRelease",
                    Value::Bool(p.source.auto_create_release.get_or(false)),
                );
            }
        }
    }
    if desired == *body {
        return;
    }
    let op = update_op(
        ctx,
        item,
        target,
        body,
        desired,
        "versioning and release creation name actions, so they are set once the process exists",
        "versioning and release creation match the source",
    );
    if op.action() == OpAction::Update {
        ctx.push(LayerName::ProjectVersioning, op);
    }
}
