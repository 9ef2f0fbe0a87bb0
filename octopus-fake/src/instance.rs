//! The instance-wide built-ins: user roles, system teams, the admin user and the
//! community library.

use serde_json::{json, Value};

use crate::collections::{stamp, Place};
use crate::community;
use crate::context::Ctx;
use crate::spec::spec_of;
use crate::store::text;

fn put(ctx: &mut Ctx<'_>, key: &str, mut doc: Value) {
    let spec = spec_of(key);
    stamp(ctx, &Place::System, spec, &mut doc);
    let id = text(&doc, "Id").to_owned();
    ctx.store.observe_id(&id);
    ctx.store.system_docs_mut(spec).upsert(&id, doc);
}

/// Adds the built-ins every instance has.
pub(crate) fn builtins(ctx: &mut Ctx<'_>) {
    let roles = [
        (
            "userroles-systemadministrator",
            "System administrator",
            &["AdministerSystem"][..],
            &[][..],
        ),
        (
            "userroles-systemmanager",
            "System manager",
            &["SpaceCreate", "TeamEdit"][..],
            &[][..],
        ),
        (
            "userroles-spacemanager",
            "Space manager",
            &[][..],
            &["SpaceEdit", "TeamEdit", "ProjectEdit", "EnvironmentEdit"][..],
        ),
        (
            "userroles-projectdeployer",
            "Project deployer",
            &[][..],
            &["DeploymentCreate", "ProjectView", "ReleaseView"][..],
        ),
        (
            "userroles-projectviewer",
            "Project viewer",
            &[][..],
            &["ProjectView", "ReleaseView"][..],
        ),
        (
            "userroles-projectcontributor",
            "Project contributor",
            &[][..],
            &["ProjectEdit", "ProjectView", "VariableEdit"][..],
        ),
        (
            "userroles-buildserver",
            "Build server",
            &[][..],
            &["BuiltInFeedPush", "ReleaseCreate"][..],
        ),
        (
            "userroles-tenantmanager",
            "Tenant manager",
            &[][..],
            &["TenantCreate", "TenantEdit", "TenantView"][..],
        ),
    ];
    for (id, name, system, space) in roles {
        put(
            ctx,
            "userroles",
            json!({
                "Id": id, "Name": name, "Description": "", "CanBeDeleted": false,
                "GrantedSystemPermissions": system, "GrantedSpacePermissions": space,
                "SupportedRestrictions": [],
            }),
        );
    }
    put(
        ctx,
        "users",
        json!({
            "Id": "Users-1", "Username": "admin", "DisplayName": "Administrator",
            "EmailAddress": "admin@example.invalid", "IsActive": true, "IsService": false,
            "IsRequestor": true, "CanPasswordBeEdited": true, "Identities": [],
        }),
    );
    for (id, name) in [
        ("teams-everyone", "Everyone"),
        ("teams-administrators", "Octopus Administrators"),
        ("teams-managers", "Octopus Managers"),
    ] {
        put(
            ctx,
            "teams",
            json!({
                "Id": id, "Name": name, "Description": "", "SpaceId": null,
                "MemberUserIds": if id == "teams-everyone" { json!([]) } else { json!(["Users-1"]) },
                "ExternalSecurityGroups": [],
                "CanBeDeleted": false, "CanBeRenamed": false, "CanChangeRoles": id != "teams-administrators",
                "CanChangeMembers": id != "teams-everyone",
            }),
        );
    }
    for template in community::library() {
        put(ctx, "communityactiontemplates", template);
    }
    // System teams live with the space-scoped collection spec but in the instance map;
    // `stamp` gave them an instance-level link, which is where the real server has them.
}
