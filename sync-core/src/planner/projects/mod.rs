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

mod channels;
mod deployment_process;
mod runbooks;
mod settings;
mod variables;
mod versioning;

use octopus_model::{Project, ResourceKind};
use serde_json::Value;

use super::common::matches;
use super::process::ProcessOwnerIds;
use super::prune;
use crate::context::Ctx;
use crate::plan::{ItemRef, LayerName, Target};
use channels::{channel_rules, channels};
use deployment_process::{deployment_process, owner_ids};
use runbooks::{publish_runbook, runbooks};
use settings::settings;
use variables::project_variables;
use versioning::versioning;

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

/// Why a part of a version-controlled project (its process, its runbooks) is skipped.
const GIT_BACKED: &str = "the project is version controlled: this lives in git and is not synced";
