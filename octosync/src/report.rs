//! Reports of a plan: a text summary, the plan as JSON, markdown for a pull request or a
//! ticket, and the clean-up log as markdown.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use sync_core::{CleanupCategory, LayerName, Op, OpAction, Plan, ResourceKind, Summary};

use crate::apply::{Counts, OpResult, Outcome};

/// How a plan is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// A summary for a person, warnings first.
    #[default]
    Text,
    /// The plan itself, as stable JSON.
    Json,
    /// Markdown for a pull request or a ticket.
    Markdown,
}

/// Parses `text`, `json` or `markdown`.
pub fn parse_format(s: &str) -> Result<Format, String> {
    match s {
        "text" => Ok(Format::Text),
        "json" => Ok(Format::Json),
        "markdown" | "md" => Ok(Format::Markdown),
        other => Err(format!(
            "unknown format {other:?}; use text, json or markdown"
        )),
    }
}

/// Counts of ops per kind and action.
/// (create, update, unchanged, skip, delete); a delete counts delete ops and the members
/// updates remove.
pub fn counts(plan: &Plan) -> BTreeMap<ResourceKind, [usize; 5]> {
    let mut counts: BTreeMap<ResourceKind, [usize; 5]> = BTreeMap::new();
    for op in plan.ops() {
        let row = counts.entry(op.item.kind).or_default();
        row[action_index(op.action())] += 1;
        row[4] += op.removed().len();
    }
    counts
}

fn action_index(action: OpAction) -> usize {
    match action {
        OpAction::Create => 0,
        OpAction::Update => 1,
        OpAction::Unchanged => 2,
        OpAction::Skip => 3,
        OpAction::Delete => 4,
    }
}

/// Writes one destination's plan in `format`.
pub fn render(plan: &Plan, destination: &str, format: Format) -> String {
    match format {
        Format::Text => text(plan, destination),
        // A plan is plain data (strings, numbers, maps): serializing it cannot fail.
        Format::Json => serde_json::to_string_pretty(plan).unwrap_or_default() + "\n",
        Format::Markdown => markdown(plan, destination),
    }
}

fn text(plan: &Plan, destination: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Destination {destination}");
    for warning in &plan.warnings {
        let _ = writeln!(out, "  warning: {warning}");
    }
    let errors = plan
        .cleanup
        .iter()
        .filter(|e| e.category == CleanupCategory::WidenedScope)
        .count();
    if errors > 0 {
        let _ = writeln!(
            out,
            "  warning: {errors} scope(s) widened: see the clean-up log before applying"
        );
    }
    let _ = writeln!(
        out,
        "  {:<28} {:>7} {:>7} {:>10} {:>8} {:>7}",
        "kind", "create", "update", "unchanged", "skip", "delete"
    );
    for (kind, [c, u, n, s, d]) in counts(plan) {
        let _ = writeln!(
            out,
            "  {:<28} {c:>7} {u:>7} {n:>10} {s:>8} {d:>7}",
            kind.label()
        );
    }
    let _ = writeln!(out);
    let _ = write!(out, "{plan}");
    out
}

/// What each destination context resolves one variable to, before and after, as a
/// collapsible table (changed rows marked).
fn resolution_table(out: &mut String, review: &sync_core::VariableReview) {
    let cell = |v: &sync_core::ResolvedValue| escape(&v.to_string());
    let changed = review
        .contexts
        .iter()
        .filter(|r| r.before != r.after)
        .count();
    let _ = writeln!(
        out,
        "\n  <details><summary><code>{}</code>: {changed} of {} contexts change</summary>\n",
        escape(&review.name),
        review.contexts.len()
    );
    let _ = writeln!(out, "  | context | before | after |");
    let _ = writeln!(out, "  |---|---|---|");
    for row in &review.contexts {
        let mark = if row.before == row.after { "" } else { "**" };
        let _ = writeln!(
            out,
            "  | {mark}{}{mark} | {} | {} |",
            escape(&row.context),
            cell(&row.before),
            cell(&row.after)
        );
    }
    let _ = writeln!(out, "\n  </details>\n");
}

/// The layers that hold a project's own documents: their ops are shown under the project.
fn is_project_layer(layer: LayerName) -> bool {
    matches!(
        layer,
        LayerName::Projects
            | LayerName::Channels
            | LayerName::DeploymentProcesses
            | LayerName::Runbooks
            | LayerName::RunbookProcesses
            | LayerName::ProjectVariables
            | LayerName::RunbookPublishing
            | LayerName::ChannelRules
            | LayerName::ProjectVersioning
    )
}

/// The project an op belongs to, for ops of a project's own documents.
fn project_of(layer: LayerName, op: &Op) -> Option<String> {
    if !is_project_layer(layer) {
        return None;
    }
    let owner = op.item.owner.as_deref().unwrap_or(&op.item.name);
    // A runbook process is owned by `project/runbook`.
    let project = match op.item.kind {
        ResourceKind::RunbookProcess => owner.split('/').next().unwrap_or(owner),
        _ => owner,
    };
    Some(project.to_owned())
}

/// One op as a list item, its field changes folded away and its variables' resolution
/// tables after it.
fn op_markdown(out: &mut String, op: &Op) {
    let _ = writeln!(
        out,
        "- **{}** {}: {}",
        format!("{:?}", op.action()).to_lowercase(),
        escape(&op.item.to_string()),
        escape(&op.reason)
    );
    for member in op.removed() {
        let _ = writeln!(out, "  - **delete** {}", escape(member));
    }
    if !op.diff().is_empty() {
        let _ = writeln!(
            out,
            "  <details><summary>{} field change(s)</summary>\n",
            op.diff().len()
        );
        for change in op.diff() {
            let _ = writeln!(
                out,
                "  - `{}`: `{}` → `{}`",
                change.path,
                short(&change.before),
                short(&change.after)
            );
        }
        let _ = writeln!(out, "\n  </details>\n");
    }
    for review in op.variables() {
        resolution_table(out, review);
    }
}

/// A plan as a pull-request comment: the counts first, then the changes per project and
/// those of the space, every detail folded, and the clean-up log as a checklist.
fn markdown(plan: &Plan, destination: &str) -> String {
    let s = &plan.summary;
    let mut out = String::new();
    let _ = writeln!(out, "## octosync plan for `{destination}`\n");
    let _ = writeln!(
        out,
        "**{} to create, {} to update**{}, {} unchanged, {} skipped, {} clean-up entries (source {}, destination {}).\n",
        s.create,
        s.update,
        if s.delete > 0 { format!(", **{} to delete**", s.delete) } else { String::new() },
        s.unchanged,
        s.skip,
        s.cleanup,
        plan.source_version,
        plan.destination_version
    );
    let _ = writeln!(
        out,
        "| kind | create | update | unchanged | skip | delete |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for (kind, [c, u, n, sk, d]) in counts(plan) {
        let _ = writeln!(out, "| {} | {c} | {u} | {n} | {sk} | {d} |", kind.label());
    }
    let _ = writeln!(out);
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "### Warnings\n");
        for w in &plan.warnings {
            let _ = writeln!(out, "- {}", escape(w));
        }
        let _ = writeln!(out);
    }
    let mut projects: BTreeMap<String, Vec<&Op>> = BTreeMap::new();
    let mut space: Vec<(LayerName, &Op)> = Vec::new();
    for layer in &plan.layers {
        for op in layer
            .ops
            .iter()
            .filter(|op| op.action() != OpAction::Unchanged)
        {
            match project_of(layer.name, op) {
                Some(project) => projects.entry(project).or_default().push(op),
                None => space.push((layer.name, op)),
            }
        }
    }
    if projects.is_empty() && space.is_empty() {
        let _ = writeln!(out, "Nothing to change.\n");
    }
    for (project, ops) in &projects {
        let writes = ops
            .iter()
            .filter(|op| matches!(op.action(), OpAction::Create | OpAction::Update))
            .count();
        let _ = writeln!(
            out,
            "### Project `{}`: {writes} change(s)\n",
            project.replace('`', "'")
        );
        for op in ops {
            op_markdown(&mut out, op);
        }
        let _ = writeln!(out);
    }
    if !space.is_empty() {
        let _ = writeln!(out, "### Space-wide: {} item(s)\n", space.len());
        let mut current = None;
        for (layer, op) in space {
            if current != Some(layer) {
                // A blank line first, so the label does not join the list above it.
                let _ = writeln!(out, "\n**{}**\n", layer.title());
                current = Some(layer);
            }
            op_markdown(&mut out, op);
        }
        let _ = writeln!(out);
    }
    out.push_str(&cleanup_markdown(plan, destination));
    out
}

/// The clean-up log of one destination as markdown: what a person must look at after the
/// sync, grouped by category, as a checklist.
pub fn cleanup_markdown(plan: &Plan, destination: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## Clean-up log for `{destination}`\n");
    if plan.cleanup.is_empty() {
        let _ = writeln!(out, "Nothing to clean up.");
        return out;
    }
    let mut by_category: BTreeMap<CleanupCategory, Vec<_>> = BTreeMap::new();
    for entry in &plan.cleanup {
        by_category.entry(entry.category).or_default().push(entry);
    }
    for (category, entries) in by_category {
        let _ = writeln!(
            out,
            "### {} ({})\n",
            category_title(category),
            entries.len()
        );
        for e in entries {
            let _ = writeln!(
                out,
                "- [ ] {}: {}",
                escape(&e.item.to_string()),
                escape(&e.message)
            );
        }
        let _ = writeln!(out);
    }
    out
}

fn category_title(category: CleanupCategory) -> &'static str {
    match category {
        CleanupCategory::DummySecret => "Dummy secrets to replace",
        CleanupCategory::Placeholder => "Placeholder values to fill in",
        CleanupCategory::DroppedScope => "Scopes that lost values",
        CleanupCategory::WidenedScope => "Scopes widened to apply more broadly",
        CleanupCategory::NarrowedScope => "Existing values narrowed to the source's scope",
        CleanupCategory::Skipped => "Items not synced",
        CleanupCategory::VersionShim => "Version shims applied",
        CleanupCategory::Reference => "References left out or reset",
        CleanupCategory::VersionControlled => "Version-controlled projects (git)",
    }
}

fn short(value: &serde_json::Value) -> String {
    let text = value.to_string().replace('`', "'");
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(79).collect::<String>())
    } else {
        text
    }
}

/// Keeps names from breaking markdown tables and lists.
fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// What an apply did, for every destination: `apply --format json` writes it as it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyRun {
    /// The tool version.
    pub tool_version: String,
    /// Whether a saved plan was applied (`apply --plan`).
    pub saved_plan: bool,
    /// One entry per destination, in the config's order.
    pub destinations: Vec<DestinationApply>,
}

/// What an apply did to one destination.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestinationApply {
    /// The destination's name.
    pub name: String,
    /// How the ops ended.
    pub counts: Counts,
    /// Every create and update, in the order applied (follow-up passes after the first).
    pub results: Vec<OpResult>,
    /// Work that could only be planned after these writes.
    pub follow_up: FollowUp,
}

/// Work that could only be planned once the apply's writes existed (values that hang on
/// ids the server assigned).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum FollowUp {
    /// None: planning again after the apply finds nothing to do.
    #[default]
    None,
    /// Shown and applied, in this many passes after the first.
    Applied {
        /// The passes.
        passes: usize,
    },
    /// Still to do: a follow-up plan is needed.
    Needed {
        /// What the follow-up plan holds.
        summary: Summary,
    },
    /// Not looked for, because the apply did not succeed.
    NotChecked,
}

impl ApplyRun {
    /// Whether every op of every destination is done.
    pub fn is_success(&self) -> bool {
        self.destinations
            .iter()
            .all(|d| d.results.iter().all(|r| r.outcome.is_done()))
    }

    /// Whether any destination needs a follow-up plan.
    pub fn follow_up_needed(&self) -> bool {
        self.destinations
            .iter()
            .any(|d| matches!(d.follow_up, FollowUp::Needed { .. }))
    }

    /// The report in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            // The report is plain data: serializing it cannot fail.
            Format::Json => serde_json::to_string_pretty(self).unwrap_or_default() + "\n",
            Format::Markdown => self.markdown(),
            Format::Text => self.text(),
        }
    }

    fn text(&self) -> String {
        let mut out = String::new();
        for d in &self.destinations {
            let c = &d.counts;
            let _ = writeln!(out, "Destination {}", d.name);
            let _ = writeln!(
                out,
                "Applied: {} done, {} refused, {} failed, {} not attempted",
                c.done, c.refused, c.failed, c.not_attempted
            );
            for r in &d.results {
                let _ = writeln!(out, "  {r}");
            }
            let _ = writeln!(out, "{}", follow_up_line(&d.follow_up));
            let _ = writeln!(out);
        }
        out
    }

    fn markdown(&self) -> String {
        let mut out = String::new();
        let what = if self.saved_plan {
            "saved plan"
        } else {
            "plan"
        };
        let _ = writeln!(
            out,
            "## octosync apply ({what}, octosync {})\n",
            self.tool_version
        );
        let _ = writeln!(
            out,
            "| destination | done | refused | failed | not attempted |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|");
        for d in &self.destinations {
            let c = &d.counts;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                escape(&d.name),
                c.done,
                c.refused,
                c.failed,
                c.not_attempted
            );
        }
        let _ = writeln!(out);
        for d in &self.destinations {
            let _ = writeln!(out, "### `{}`\n", d.name);
            let _ = writeln!(out, "{}\n", follow_up_line(&d.follow_up));
            let attention: Vec<&OpResult> = d
                .results
                .iter()
                .filter(|r| !r.outcome.is_done() || r.note.is_some())
                .collect();
            if !attention.is_empty() {
                let _ = writeln!(out, "Needs attention:\n");
                for r in attention {
                    let _ = writeln!(out, "- {}", escape(&r.to_string()));
                    if let Outcome::Failed { error } = &r.outcome {
                        for cause in &error.causes {
                            let _ = writeln!(out, "  - caused by: {}", escape(cause));
                        }
                    }
                }
                let _ = writeln!(out);
            }
            let _ = writeln!(
                out,
                "<details><summary>Every op ({})</summary>\n",
                d.results.len()
            );
            for r in &d.results {
                let _ = writeln!(out, "- {}", escape(&r.to_string()));
            }
            let _ = writeln!(out, "\n</details>\n");
        }
        out
    }
}

fn follow_up_line(follow_up: &FollowUp) -> String {
    match follow_up {
        FollowUp::None => "Nothing left to do: planning again finds no changes.".to_owned(),
        FollowUp::Applied { passes } => format!(
            "Follow-up work (values that hang on ids the server assigned) was shown and applied in {passes} more pass(es)."
        ),
        FollowUp::Needed { summary } => format!(
            "A follow-up plan is needed: {} to create, {} to update (values that hang on ids the server assigned, or work not applied). Run plan again.",
            summary.create, summary.update
        ),
        FollowUp::NotChecked => {
            "Not everything was applied: fix the cause and plan again.".to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sync_core::{plan, Snapshot, SyncRules};

    fn qa_plan() -> Plan {
        let source = Snapshot::from_collections(
            "2024.1.0".parse().unwrap(),
            [
                ("environments", json!([{"Id": "Environments-1", "Name": "Test"}])),
                ("lifecycles", json!([{"Id": "Lifecycles-1", "Name": "Default Lifecycle"}])),
                ("projectgroups", json!([{"Id": "ProjectGroups-1", "Name": "Default Project Group"}])),
                ("projects", json!([{"Id": "Projects-1", "Name": "OctoFX | Web", "ProjectGroupId": "ProjectGroups-1", "LifecycleId": "Lifecycles-1"}])),
                ("deploymentprocesses", json!([{"Id": "deploymentprocess-Projects-1", "ProjectId": "Projects-1", "Steps": []}])),
                ("variables", json!([{"Id": "variableset-Projects-1", "OwnerId": "Projects-1", "Variables": [
                    {"Id": "v1", "Name": "Db.Password", "Value": null, "Type": "Sensitive", "IsSensitive": true, "Scope": {}}
                ]}])),
            ],
        )
        .unwrap();
        let destination = Snapshot::from_collections(
            "2024.1.0".parse().unwrap(),
            [
                (
                    "environments",
                    json!([{"Id": "Environments-7", "Name": "Staging"}]),
                ),
                (
                    "lifecycles",
                    json!([{"Id": "Lifecycles-3", "Name": "Default Lifecycle"}]),
                ),
                (
                    "projectgroups",
                    json!([{"Id": "ProjectGroups-2", "Name": "Default Project Group"}]),
                ),
            ],
        )
        .unwrap();
        let rules = SyncRules::from_toml_str("[select]\nprojects = [\"all\"]\n").unwrap();
        plan(&source, &destination, &rules).unwrap()
    }

    #[test]
    fn markdown_shows_what_each_environment_resolves_to_and_never_a_secret() {
        let plan = qa_plan();
        let md = render(&plan, "prod", Format::Markdown);
        assert!(
            md.contains("<code>Db.Password</code>: 1 of 1 contexts change"),
            "{md}"
        );
        assert!(
            md.contains("| **Staging** | (none) | <dummy secret> |"),
            "{md}"
        );
    }

    #[test]
    fn text_counts_every_kind_and_action() {
        let plan = qa_plan();
        let text = render(&plan, "prod", Format::Text);
        assert!(text.starts_with("Destination prod\n"), "{text}");
        let row = text
            .lines()
            .find(|l| l.trim_start().starts_with("project "))
            .unwrap();
        let numbers: Vec<usize> = row
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        assert_eq!(numbers, [1, 0, 0, 0, 0], "{row}");
    }

    #[test]
    fn json_is_the_plan() {
        let plan = qa_plan();
        let back: Plan = serde_json::from_str(&render(&plan, "prod", Format::Json)).unwrap();
        assert_eq!(back, plan);
    }

    #[test]
    fn markdown_escapes_names_and_lists_the_cleanup() {
        let plan = qa_plan();
        let md = render(&plan, "prod", Format::Markdown);
        assert!(md.contains("OctoFX \\| Web"), "{md}");
        assert!(md.contains("## Clean-up log for `prod`"), "{md}");
        assert!(md.contains("- [ ] "), "{md}");
        let table_rows = md.lines().filter(|l| l.starts_with("| ")).count();
        assert_eq!(table_rows, counts(&plan).len() + 1, "{md}");
    }

    #[test]
    fn markdown_for_a_pull_request_puts_counts_first_then_projects_then_the_checklist() {
        let plan = qa_plan();
        let md = render(&plan, "prod", Format::Markdown);
        let at = |needle: &str| {
            md.find(needle)
                .unwrap_or_else(|| panic!("{needle:?}: {md}"))
        };
        let counts = at(&format!(
            "**{} to create, {} to update**",
            plan.summary.create, plan.summary.update
        ));
        let project = at("### Project `OctoFX | Web`");
        let checklist = at("- [ ] ");
        assert!(counts < project && project < checklist, "{md}");
        // The project's own documents are under it, not in the space-wide list.
        let variables = at("variable set \"OctoFX \\| Web\"");
        assert!(project < variables && variables < checklist, "{md}");
        assert!(!md.contains("### Space-wide"), "{md}");
        // Details fold.
        assert_eq!(
            md.matches("<details>").count(),
            md.matches("</details>").count()
        );
    }

    #[test]
    fn an_apply_report_keeps_each_cause_of_a_failure() {
        use crate::apply::{ApplyError, ErrorReport};
        let client = octopus_client::Error::Validation {
            status: 400,
            method: "PUT".into(),
            url: "/api/Spaces-1/projects/Projects-1".into(),
            message: "There was a problem with your request.".into(),
            errors: vec!["Name must be unique".into()],
        };
        let error = ErrorReport::of(&ApplyError::Update(client));
        assert_eq!(error.message, "the update was not accepted");
        assert_eq!(error.causes.len(), 1, "{error:?}");
        assert!(error.causes[0].contains("Name must be unique"), "{error:?}");
        let run = ApplyRun {
            tool_version: "0.1.0".into(),
            saved_plan: true,
            destinations: vec![DestinationApply {
                name: "prod".into(),
                counts: Counts {
                    failed: 1,
                    ..Counts::default()
                },
                results: vec![OpResult {
                    item: sync_core::ItemRef::new(ResourceKind::Project, "OctoFX"),
                    action: OpAction::Update,
                    outcome: Outcome::Failed {
                        error: error.clone(),
                    },
                    note: None,
                }],
                follow_up: FollowUp::NotChecked,
            }],
        };
        let json: ApplyRun = serde_json::from_str(&run.render(Format::Json)).unwrap();
        assert_eq!(json, run);
        let md = run.render(Format::Markdown);
        for cause in &error.causes {
            assert!(md.contains(&format!("caused by: {cause}")), "{md}");
        }
        assert!(!run.is_success());
    }

    #[test]
    fn an_empty_cleanup_log_says_so() {
        let mut plan = qa_plan();
        plan.cleanup.clear();
        assert!(cleanup_markdown(&plan, "prod").contains("Nothing to clean up."));
    }
}
