//! Team role scoping: which of the source's scoped roles a destination team gets.
//! Separate from tenants because it concerns teams, planned after everything their
//! restrictions name.

use octopus_model::{ResourceKind, ScopedUserRole};
use serde_json::Value;

use crate::context::{Ctx, Resolved};
use crate::diff::{create_op, strip_for_create, to_value};
use crate::plan::{ItemRef, LayerName, Op};
use crate::planner::common::{set, strings, translate_list};
use crate::rules::ScopeMode;

/// Team role scoping: for selected teams, the source's scoped roles the destination team
/// lacks (matched by team and user role), with projects, environments, tenants and project
/// groups filtered to what exists. A role whose restriction would vanish entirely is not
/// added, as it would grant more than on the source.
pub fn team_permissions(ctx: &mut Ctx<'_>) {
    if !ctx.rules.policy.sync_team_role_scoping {
        return;
    }
    let src = ctx.source.snapshot;
    let filter = ctx.rules.select.teams.clone();
    for role in &src.scoped_user_roles {
        let Some(team_id) = role.team_id.get() else {
            continue;
        };
        let Some(team) = ctx
            .source
            .index
            .by_id(ResourceKind::Team, team_id.as_str())
            .cloned()
        else {
            continue;
        };
        if team.builtin.is_some() || !filter.matches(&team.name) {
            continue;
        }
        let role_name = role
            .user_role_id
            .get()
            .and_then(|r| {
                ctx.source
                    .index
                    .by_id(ResourceKind::UserRole, r.as_str())
                    .map(|e| e.name.clone())
            })
            .unwrap_or_else(|| {
                role.user_role_id
                    .get()
                    .map(|r| r.as_str().to_owned())
                    .unwrap_or_default()
            });
        let item = ItemRef::owned(ResourceKind::ScopedUserRole, &role_name, &team.name);
        let op = plan_scoped_role(ctx, &item, role, team_id.as_str());
        ctx.push(LayerName::TeamPermissions, op);
    }
}

fn plan_scoped_role(ctx: &mut Ctx<'_>, item: &ItemRef, role: &ScopedUserRole, team_id: &str) -> Op {
    let (_, team) = ctx.resolve(ResourceKind::Team, team_id);
    let Some(team_text) = team.text() else {
        return Op::skip(item.clone(), "the team is not on the destination");
    };
    let Some(user_role) = role.user_role_id.get() else {
        return Op::skip(item.clone(), "the source role has no user role");
    };
    let (name, r) = ctx.resolve(ResourceKind::UserRole, user_role.as_str());
    let Some(user_role_text) = r.text() else {
        return Op::skip(
            item.clone(),
            format!("user role {name:?} is not on the destination"),
        );
    };
    if let (Resolved::Id(t), Resolved::Id(u)) = (&team, &r) {
        let exists = ctx.dest.snapshot.scoped_user_roles.iter().any(|d| {
            d.team_id
                .get()
                .is_some_and(|x| x.as_str().eq_ignore_ascii_case(t))
                && d.user_role_id
                    .get()
                    .is_some_and(|x| x.as_str().eq_ignore_ascii_case(u))
        });
        if exists {
            return Op::unchanged(
                item.clone(),
                "the destination team already has this role; its scoping is left alone",
                None,
            );
        }
    }
    let mut body = to_value(role);
    strip_for_create(&mut body, ctx.dest.snapshot.space_id());
    set(&mut body, "TeamId", Value::String(team_text));
    set(&mut body, "UserRoleId", Value::String(user_role_text));
    let lists: [(&str, ResourceKind, Vec<String>); 4] = [
        (
            "ProjectIds",
            ResourceKind::Project,
            role.project_ids
                .iter()
                .map(|i| i.as_str().to_owned())
                .collect(),
        ),
        (
            "EnvironmentIds",
            ResourceKind::Environment,
            role.environment_ids
                .iter()
                .map(|i| i.as_str().to_owned())
                .collect(),
        ),
        (
            "TenantIds",
            ResourceKind::Tenant,
            role.tenant_ids
                .iter()
                .map(|i| i.as_str().to_owned())
                .collect(),
        ),
        (
            "ProjectGroupIds",
            ResourceKind::ProjectGroup,
            role.project_group_ids
                .iter()
                .map(|i| i.as_str().to_owned())
                .collect(),
        ),
    ];
    for (field, kind, ids) in lists {
        match translate_list(
            ctx,
            item,
            kind,
            ScopeMode::SkipUnlessPartialMatch,
            field,
            &ids,
        ) {
            Ok(values) => set(&mut body, field, strings(&values)),
            Err(reason) => {
                return Op::skip(
                    item.clone(),
                    format!("{reason}; the role would grant more than on the source"),
                )
            }
        }
    }
    create_op(
        ctx,
        item.clone(),
        body,
        "the destination team lacks this role",
    )
}
