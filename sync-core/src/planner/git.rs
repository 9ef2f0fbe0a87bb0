//! The git settings report: for every selected project that is version controlled
//! (config as code) on either side, what octosync does and does not do for it.
//!
//! A version-controlled project (`PersistenceSettings.Type` `VersionControlled`) keeps
//! its deployment process, runbooks and non-sensitive variables in git; the API's
//! database documents are not where they live (reference/api-2024-2026.md,
//! config-as-code routes `/projects/{id}/{gitRef}/…`). octosync syncs what lives in the
//! database (settings, channels, sensitive variables) and reports the rest: it never
//! converts a destination project to or from git, never writes to a repository and
//! never copies git credentials. The report names the repository, branch and base path
//! of each side (without any user name or password a URL may carry) and what differs.

use octopus_model::{name_key, same_name, PersistenceSettings, Project, ResourceKind};

use crate::context::Ctx;
use crate::index::Lookup;
use crate::plan::{CleanupCategory, ItemRef};

/// A repository URL without the user name and password it may carry.
fn without_credentials(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host_end = rest.find('/').unwrap_or(rest.len());
            match rest[..host_end].rfind('@') {
                Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    }
}

/// Where a version-controlled project's files are: repository, branch, base path.
fn place(settings: Option<&PersistenceSettings>) -> (String, String, String) {
    let field = |f: Option<&String>| f.cloned().unwrap_or_default();
    match settings {
        Some(s) => (
            without_credentials(&field(s.url.get())),
            field(s.default_branch.get()),
            field(s.base_path.get()),
        ),
        None => Default::default(),
    }
}

fn describe((url, branch, base): &(String, String, String)) -> String {
    let or_unknown = |s: &str| {
        if s.is_empty() {
            "(not set)".to_owned()
        } else {
            s.to_owned()
        }
    };
    format!(
        "repository {}, branch {}, base path {}",
        or_unknown(url),
        or_unknown(branch),
        or_unknown(base)
    )
}

const SCOPE: &str = "octosync syncs its settings, channels and sensitive variables; it does not convert the destination project, write to git or copy git credentials";

/// The report entry for one project, if either side is version controlled.
fn report(source: &Project, dest: Option<&Project>, created: bool) -> Option<String> {
    let src_git = source.is_config_as_code();
    let dst_git = dest.is_some_and(Project::is_config_as_code);
    if !src_git && !dst_git {
        return None;
    }
    let src_place = place(source.persistence_settings.get());
    let dst_place = place(dest.and_then(|d| d.persistence_settings.get()));
    let destination = match dest {
        None if created => "the destination project is created as a database project without git settings: its process, runbooks and non-sensitive variables stay empty until someone connects it to a repository".to_owned(),
        None => "the destination has no such project and none is created".to_owned(),
        Some(_) if !dst_git => "the destination project is stored in its database: its process, runbooks and non-sensitive variables keep what they have and do not follow the source".to_owned(),
        Some(_) if !src_git => format!(
            "the destination project is version controlled ({}) while the source's is not: the source's process, runbooks and non-sensitive variables are not written to the destination's git",
            describe(&dst_place)
        ),
        Some(_) => {
            let mut differs = Vec::new();
            for (what, s, d) in [
                ("repository", &src_place.0, &dst_place.0),
                ("branch", &src_place.1, &dst_place.1),
                ("base path", &src_place.2, &dst_place.2),
            ] {
                if !same_name(s, d) {
                    differs.push(what);
                }
            }
            if differs.is_empty() {
                "the destination project reads the same repository, branch and base path, so it sees the same git-backed process".to_owned()
            } else {
                format!(
                    "the destination project is version controlled with {}; its {} differ from the source's, so what it deploys comes from its own git",
                    describe(&dst_place),
                    differs.join(", ")
                )
            }
        }
    };
    Some(if src_git {
        format!(
            "version controlled on the source ({}): its deployment process, runbooks and non-sensitive variables live in git; {SCOPE}. {}",
            describe(&src_place),
            capitalised(&destination)
        )
    } else {
        format!(
            "stored in the database on the source; {SCOPE}. {}",
            capitalised(&destination)
        )
    })
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Adds one `VersionControlled` clean-up entry per selected project that is version
/// controlled on either side. Runs after the projects are planned, so it knows which
/// projects the plan creates.
pub fn git_settings_report(ctx: &mut Ctx<'_>) {
    let (src, dst) = (ctx.source.snapshot, ctx.dest.snapshot);
    let filter = &ctx.rules.select.projects;
    let mut seen = std::collections::BTreeSet::new();
    let mut entries = Vec::new();
    // Destination projects by id, the first of each: a search of the list per project
    // would be quadratic in the number of projects.
    let mut by_id = std::collections::BTreeMap::new();
    for p in &dst.projects {
        if let Some(id) = p.id.get() {
            by_id.entry(id.as_str().to_ascii_lowercase()).or_insert(p);
        }
    }
    for source in &src.projects {
        if !filter.matches(&source.name) || !seen.insert(name_key(&source.name)) {
            continue;
        }
        let dest = match ctx.dest.index.lookup(ResourceKind::Project, &source.name) {
            Lookup::Found(id) => by_id.get(&id.to_ascii_lowercase()).copied(),
            _ => None,
        };
        let created = ctx
            .created(ResourceKind::Project, None, &source.name)
            .is_some();
        if let Some(message) = report(source, dest, created) {
            entries.push((ItemRef::new(ResourceKind::Project, &source.name), message));
        }
    }
    for (item, message) in entries {
        ctx.clean(CleanupCategory::VersionControlled, &item, message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials_only() {
        assert_eq!(
            without_credentials("https://bot:s3cret@git.example/org/repo.git"),
            "https://git.example/org/repo.git"
        );
        assert_eq!(
            without_credentials("https://git.example/org/a@b.git"),
            "https://git.example/org/a@b.git"
        );
        assert_eq!(without_credentials("not a url"), "not a url");
    }
}
