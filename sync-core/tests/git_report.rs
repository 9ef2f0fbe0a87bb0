//! The git settings report: every selected project that is version controlled on either
//! side gets one clean-up entry saying where its git-backed documents live on each side
//! and what octosync does not do, and nothing git-backed is written.

mod common;

use common::*;
use serde_json::{json, Value};
use sync_core::{plan, CleanupCategory, OpAction, Plan, ResourceKind};

fn git(url: &str, branch: &str, base: &str) -> Value {
    json!({"Type": "VersionControlled", "Url": url, "DefaultBranch": branch, "BasePath": base,
           "Credentials": {"Type": "UsernamePassword", "Username": "bot",
                           "Password": {"HasValue": true}}})
}

/// OctoFX on both sides (or only on the source), with the given persistence settings.
fn sides(source: Option<Value>, dest: Option<Option<Value>>) -> Plan {
    let mut src = join(vec![builtins(1), source_project(json!([]), json!([]))]);
    if let Some(settings) = source {
        let projects = src.iter_mut().find(|(c, _)| *c == "projects").unwrap();
        projects.1[0]["PersistenceSettings"] = settings;
    }
    let mut dst = builtins(71);
    if let Some(settings) = dest {
        let mut project = destination_project(
            json!([{"Id": "s-9", "Name": "Mine", "Actions": []}]),
            json!([]),
        );
        if let Some(settings) = settings {
            let projects = project.iter_mut().find(|(c, _)| *c == "projects").unwrap();
            projects.1[0]["PersistenceSettings"] = settings;
        }
        dst.extend(project);
    }
    plan(
        &snapshot(src),
        &snapshot(dst),
        &rules("[select]\nprojects = [\"OctoFX\"]\nproject_groups = \"all\"\nlifecycles = \"all\"\nchannels = \"all\"\n"),
    )
    .unwrap()
}

fn report(plan: &Plan) -> Vec<String> {
    plan.cleanup
        .iter()
        .filter(|c| c.category == CleanupCategory::VersionControlled)
        .map(|c| c.message.clone())
        .collect()
}

#[test]
fn a_git_backed_source_project_created_on_the_destination_is_reported_with_its_repository() {
    let plan = sides(
        Some(git(
            "https://bot:s3cret@git.example/octofx.git",
            "main",
            ".octopus/octofx",
        )),
        None,
    );
    let entries = report(&plan);
    assert_eq!(entries.len(), 1, "{plan}");
    let e = &entries[0];
    assert!(e.contains("https://git.example/octofx.git"), "{e}");
    assert!(
        e.contains("branch main") && e.contains("base path .octopus/octofx"),
        "{e}"
    );
    assert!(e.contains("created as a database project"), "{e}");
    assert!(
        e.contains("does not convert the destination project"),
        "{e}"
    );
    let text = serde_json::to_string(&plan).unwrap();
    assert!(!text.contains("s3cret"), "the URL's password leaked");
    // The git-backed process is not written to the database copy.
    assert!(!plan
        .writes()
        .any(|o| o.item.kind == ResourceKind::DeploymentProcess));
}

#[test]
fn both_sides_in_git_on_different_branches_says_what_differs() {
    let plan = sides(
        Some(git("https://git.example/octofx.git", "main", ".octopus")),
        Some(Some(git(
            "https://git.example/octofx.git",
            "release",
            ".octopus",
        ))),
    );
    let entries = report(&plan);
    assert_eq!(entries.len(), 1, "{plan}");
    assert!(
        entries[0].contains("branch differ") && entries[0].contains("branch release"),
        "{}",
        entries[0]
    );
    let process = op(&plan, ResourceKind::DeploymentProcess, "OctoFX");
    assert_eq!(process.action(), OpAction::Skip);
}

#[test]
fn a_destination_in_git_is_not_written_from_a_database_source() {
    let plan = sides(
        None,
        Some(Some(git(
            "https://git.example/octofx.git",
            "main",
            ".octopus",
        ))),
    );
    let entries = report(&plan);
    assert_eq!(entries.len(), 1, "{plan}");
    assert!(
        entries[0].starts_with("stored in the database on the source")
            && entries[0].contains("not written to the destination's git"),
        "{}",
        entries[0]
    );
    assert_eq!(
        op(&plan, ResourceKind::DeploymentProcess, "OctoFX").action(),
        OpAction::Skip
    );
}

#[test]
fn database_projects_on_both_sides_need_no_report() {
    let plan = sides(None, Some(None));
    assert!(report(&plan).is_empty(), "{plan}");
}
