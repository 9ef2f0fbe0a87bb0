//! Which handler answers a path: the root document, spaces and system collections, and
//! every space-scoped collection with its sub-routes.

use serde_json::{json, Map, Value};

use crate::collections::{self as coll, Place};
use crate::context::{ApiRequest, Ctx, Verb};
use crate::reply::{Answer, ApiError, Reply};
use crate::spec::{
    space_collection, spec_of, system_collection, CollectionSpec, SPACE_COLLECTIONS,
};
use crate::store::text;
use crate::tenant_variables::{self as tv, Flavour};
use crate::{processes, variables};

/// Whether a segment is a space id (`Spaces-1`).
fn is_space_id(segment: &str) -> bool {
    segment
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("spaces-"))
        && segment.len() > 7
        && segment[7..].bytes().all(|b| b.is_ascii_digit())
}

/// Answers one API request (the segments after `/api`).
pub(crate) fn dispatch(ctx: &mut Ctx<'_>, req: ApiRequest) -> Answer {
    let segs: Vec<String> = req.segments.clone();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match segs.as_slice() {
        [] => only_get(&req, || Ok(Reply::ok(root(ctx)))),
        [first, rest @ ..] if is_space_id(first) => {
            let space = ctx
                .store
                .resolve_space(first)
                .ok_or_else(|| ApiError::not_found(first))?;
            space_routes(ctx, &space, rest, req)
        }
        [spaces, space_ref, rest @ ..]
            if spaces.eq_ignore_ascii_case("spaces") && !rest.is_empty() =>
        {
            let space = ctx
                .store
                .resolve_space(space_ref)
                .ok_or_else(|| ApiError::not_found(space_ref))?;
            space_routes(ctx, &space, rest, req)
        }
        [users, me] if users.eq_ignore_ascii_case("users") && me.eq_ignore_ascii_case("me") => {
            only_get(&req, || {
                coll::get(ctx, &Place::System, spec_of("users"), "Users-1")
            })
        }
        [users, _, spaces]
            if users.eq_ignore_ascii_case("users") && spaces.eq_ignore_ascii_case("spaces") =>
        {
            only_get(&req, || {
                let all = coll::docs(ctx, &Place::System, "spaces")
                    .map(|d| d.items().to_vec())
                    .unwrap_or_default();
                Ok(Reply::ok(Value::Array(all)))
            })
        }
        [capabilities]
            if capabilities.eq_ignore_ascii_case("capabilities")
                && ctx.settings.version.at_least(2022, 3) =>
        {
            only_get(&req, || {
                Ok(Reply::ok(
                    json!({"Capabilities": ["SpaceScoping", "Runbooks", "TenantVariables"]}),
                ))
            })
        }
        [configuration, toggles]
            if configuration.eq_ignore_ascii_case("configuration")
                && toggles.eq_ignore_ascii_case("feature-toggles") =>
        {
            let common_scoping = tv::common_scoping(ctx);
            only_get(&req, || {
                Ok(Reply::ok(json!({"FeatureToggles": [
                    {"Name": "CommonVariableScopingFeatureToggle", "IsEnabled": common_scoping}
                ]})))
            })
        }
        // The community library is system-level; an installation names the space, or
        // goes into the default space (swagger 2020.5
        // `/api/communityactiontemplates/{id}/installation[/{spaceId}]`).
        [community, id, install, space @ ..]
            if community.eq_ignore_ascii_case("communityactiontemplates")
                && install.eq_ignore_ascii_case("installation")
                && space.len() <= 1 =>
        {
            let space = match space.first() {
                Some(s) => ctx.store.resolve_space(s),
                None => ctx.store.default_space_id(),
            }
            .ok_or_else(|| {
                ApiError::not_found(space.first().copied().unwrap_or("default space"))
            })?;
            match req.verb {
                Verb::Post | Verb::Put => {
                    crate::community::install(ctx, &space, id, req.verb == Verb::Put)
                }
                _ => Err(ApiError::method_not_allowed()),
            }
        }
        [events] if events.eq_ignore_ascii_case("events") => {
            let path = ctx.link("events");
            ctx.store.events.list(None, &path, &req)
        }
        [events, id] if events.eq_ignore_ascii_case("events") => {
            only_get(&req, || ctx.store.events.get(None, id))
        }
        [first, rest @ ..] if system_collection(first).is_some() => {
            let spec = system_collection(first).unwrap_or(&SPACE_COLLECTIONS[0]);
            if !served_at(ctx, spec) {
                return Err(ApiError::no_route(&format!("/api/{}", segs.join("/"))));
            }
            if spec.key == "deploymentfreezes" && rest.is_empty() && req.verb == Verb::Get {
                return freezes_list(ctx, &req);
            }
            collection_routes(ctx, &Place::System, spec, rest, req)
        }
        [first, ..] if space_collection(first).is_some() => {
            // Newer servers resolve unscoped collection paths to the default space.
            let space = ctx
                .store
                .default_space_id()
                .ok_or_else(|| ApiError::no_route(first))?;
            space_routes(ctx, &space, &segs, req)
        }
        _ => Err(ApiError::no_route(&format!("/api/{}", segs.join("/")))),
    }
}

/// Whether the emulated version has a collection's routes: parent environments arrived
/// in 2025.4, deployment freezes in 2025.1 (reference/api-2024-2026.md); before that a
/// server answers as for any route it does not have.
fn served_at(ctx: &Ctx<'_>, spec: &CollectionSpec) -> bool {
    let version = &ctx.settings.version;
    match spec.key {
        "parentenvironments" => version.at_least(2025, 4),
        "deploymentfreezes" => version.at_least(2025, 1),
        _ => true,
    }
}

/// `GET /api/deploymentfreezes`: the freezes in their own envelope,
/// `{"DeploymentFreezes": [...], "Count": n}` (go-octopusdeploy
/// `pkg/deploymentfreezes/deploymentfreezes_service.go`). Without `includeComplete=true`
/// the real server leaves out finished freezes; this fake has no clock to finish them
/// by, so it lists every freeze either way.
fn freezes_list(ctx: &Ctx<'_>, req: &ApiRequest) -> Answer {
    let spec = spec_of("deploymentfreezes");
    let all: Vec<Value> = coll::docs(ctx, &Place::System, spec.key)
        .map(|d| d.items().to_vec())
        .unwrap_or_default();
    let (skip, take) = crate::paging::window(req)?;
    let count = all.len();
    let page: Vec<Value> = all
        .into_iter()
        .skip(skip)
        .take(take)
        .map(|d| coll::present(ctx, &Place::System, spec, &d))
        .collect();
    Ok(Reply::ok(
        json!({"DeploymentFreezes": page, "Count": count}),
    ))
}

fn only_get(req: &ApiRequest, f: impl FnOnce() -> Answer) -> Answer {
    if req.verb == Verb::Get {
        f()
    } else {
        Err(ApiError::method_not_allowed())
    }
}

const TEMPLATE: &str = "{/id}{?skip,take,ids,partialName}";

fn root(ctx: &Ctx<'_>) -> Value {
    let mut links = Map::new();
    links.insert("Self".into(), json!(ctx.link("").trim_end_matches('/')));
    links.insert(
        "Spaces".into(),
        json!(format!("{}spaces{TEMPLATE}", ctx.link(""))),
    );
    links.insert(
        "SpaceHome".into(),
        json!(format!("{}{{spaceId}}", ctx.link(""))),
    );
    for system in ["users", "userroles", "communityactiontemplates"] {
        links.insert(
            spec_of(system).link_name().into(),
            json!(format!("{}{system}{TEMPLATE}", ctx.link(""))),
        );
    }
    links.insert(
        "CurrentUser".into(),
        json!(format!("{}users/me", ctx.link(""))),
    );
    if let Some(space) = ctx.store.default_space_id() {
        for spec in SPACE_COLLECTIONS.iter().filter(|s| served_at(ctx, s)) {
            links.insert(
                spec.link_name().into(),
                json!(format!(
                    "{}/{}{TEMPLATE}",
                    ctx.link(&space),
                    spec.kind.collection()
                )),
            );
        }
    }
    json!({
        "Application": "Octopus Deploy",
        "Version": ctx.settings.version.to_string(),
        "ApiVersion": "3.0.0",
        "InstallationId": ctx.settings.installation_id,
        "IsEarlyAccessProgram": false,
        "HasLongTermSupport": false,
        "Links": links,
    })
}

fn space_root(ctx: &Ctx<'_>, space: &str) -> Value {
    let mut links = Map::new();
    links.insert("Self".into(), json!(ctx.link(space)));
    for spec in SPACE_COLLECTIONS.iter().filter(|s| served_at(ctx, s)) {
        links.insert(
            spec.link_name().into(),
            json!(format!(
                "{}/{}{TEMPLATE}",
                ctx.link(space),
                spec.kind.collection()
            )),
        );
    }
    json!({"Id": space, "Links": links})
}

fn space_routes(ctx: &mut Ctx<'_>, space: &str, rest: &[&str], req: ApiRequest) -> Answer {
    let place = Place::Space(space.to_owned());
    let Some(first) = rest.first() else {
        return only_get(&req, || Ok(Reply::ok(space_root(ctx, space))));
    };
    if first.eq_ignore_ascii_case("runbooksnapshots") {
        return crate::runbook_snapshots::routes(ctx, space, &rest[1..], req);
    }
    if first.eq_ignore_ascii_case("events") {
        return match &rest[1..] {
            [] => {
                let path = ctx.link(&format!("{space}/events"));
                ctx.store.events.list(Some(space), &path, &req)
            }
            [id] => only_get(&req, || ctx.store.events.get(Some(space), id)),
            _ => Err(ApiError::no_route(&format!("/{space}/{}", rest.join("/")))),
        };
    }
    let spec = space_collection(first).ok_or_else(|| ApiError::no_route(first))?;
    if !served_at(ctx, spec) {
        return Err(ApiError::no_route(&format!("/{space}/{}", rest.join("/"))));
    }
    match (spec.key, &rest[1..], req.verb) {
        // The 2025.4 list of every type of environment, filtered by `type`
        // (go-octopusdeploy `pkg/environments/v2/route.go`).
        ("environments", [v2], Verb::Get)
            if v2.eq_ignore_ascii_case("v2") && ctx.settings.version.at_least(2025, 4) =>
        {
            let path = format!("{}/environments/v2", ctx.link(space));
            let wanted = req.param("type").map(str::to_owned);
            if wanted
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("Parent"))
            {
                return coll::list(
                    ctx,
                    &place,
                    spec_of("parentenvironments"),
                    &req,
                    &path,
                    false,
                    None,
                );
            }
            let of_type = |d: &Value| match &wanted {
                Some(t) => {
                    let have = d.get("Type").and_then(Value::as_str).unwrap_or("Static");
                    t.split(',').any(|w| w.trim().eq_ignore_ascii_case(have))
                }
                None => true,
            };
            coll::list(ctx, &place, spec, &req, &path, false, Some(&of_type))
        }
        ("environments", [v2], _) if v2.eq_ignore_ascii_case("v2") => {
            Err(ApiError::no_route(&format!("/{space}/environments/v2")))
        }
        // Whether the older list shows ephemeral environments is not established; this
        // fake leaves them out of it (they are still read by id), the harder case for a
        // client, which must then find them through `environments/v2`.
        ("environments", rest @ ([] | [_]), Verb::Get)
            if ctx.settings.version.at_least(2025, 4)
                && rest.first().is_none_or(|a| a.eq_ignore_ascii_case("all")) =>
        {
            let path = format!("{}/environments", ctx.link(space));
            let all = !rest.is_empty();
            let not_ephemeral = |d: &Value| {
                !d.get("Type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.eq_ignore_ascii_case("Ephemeral"))
            };
            coll::list(ctx, &place, spec, &req, &path, all, Some(&not_ephemeral))
        }
        ("tenantvariables", [all], Verb::Get) if all.eq_ignore_ascii_case("all") => {
            tv::all(ctx, space, &req)
        }
        // The bulk read is the only route under `/tenantvariables`: no official client
        // and no swagger has `/tenantvariables/{id}` (a tenant's values live at
        // `/tenants/{id}/variables`), so a real server answers 404 there.
        ("tenantvariables", rest, _) => Err(ApiError::no_route(&format!(
            "/{space}/tenantvariables/{}",
            rest.join("/")
        ))),
        ("variables" | "deploymentprocesses" | "runbookprocesses", [id], Verb::Put) => {
            put_document(ctx, space, spec.key, id, req.body)
        }
        ("projects", [pid, sub, more @ ..], _) => project_routes(ctx, space, pid, sub, more, req),
        (key, [order], Verb::Put)
            if crate::sort_order::has_sort_order(key)
                && order.eq_ignore_ascii_case("sortorder") =>
        {
            crate::sort_order::put(ctx, &place, spec, req.body)
        }
        ("tenants", [tid, sub], _) => tenant_routes(ctx, space, tid, sub, req),
        ("runbooks", [rid, sub], Verb::Get) if sub.eq_ignore_ascii_case("runbooksnapshots") => {
            let runbook = coll::find(ctx, &place, "runbooks", rid)
                .map(|r| text(r, "Id").to_owned())
                .ok_or_else(|| ApiError::not_found(rid))?;
            crate::runbook_snapshots::of_owner(ctx, space, "RunbookId", &runbook, &req)
        }
        ("teams", [tid, sub], Verb::Get) if sub.eq_ignore_ascii_case("scopeduserroles") => {
            // A team's roles in this space (swagger 2020.5 `/teams/{id}/scopeduserroles`).
            let team = coll::find(ctx, &place, "teams", tid)
                .map(|t| text(t, "Id").to_owned())
                .ok_or_else(|| ApiError::not_found(tid))?;
            let path = format!("{}/teams/{team}/scopeduserroles", ctx.link(space));
            let of_team = |d: &Value| text(d, "TeamId").eq_ignore_ascii_case(&team);
            coll::list(
                ctx,
                &place,
                spec_of("scopeduserroles"),
                &req,
                &path,
                false,
                Some(&of_team),
            )
        }
        _ => collection_routes(ctx, &place, spec, &rest[1..], req),
    }
}

fn put_document(
    ctx: &mut Ctx<'_>,
    space: &str,
    key: &str,
    id: &str,
    body: Option<Value>,
) -> Answer {
    match key {
        "variables" => variables::put(ctx, space, id, body),
        _ => processes::put(ctx, space, key, id, body),
    }
}

/// The generic routes of a collection: list, `/all`, create, get, update, delete.
fn collection_routes(
    ctx: &mut Ctx<'_>,
    place: &Place,
    spec: &'static CollectionSpec,
    rest: &[&str],
    req: ApiRequest,
) -> Answer {
    let path = format!("{}/{}", coll::base(ctx, place), spec.kind.collection());
    match (rest, req.verb) {
        ([], Verb::Get) => coll::list(ctx, place, spec, &req, &path, false, None),
        ([], Verb::Post) => coll::create(ctx, place, spec, req.body, &[]),
        ([all], Verb::Get) if all.eq_ignore_ascii_case("all") && spec.has_all() => {
            coll::list(ctx, place, spec, &req, &path, true, None)
        }
        ([id], Verb::Get) => coll::get(ctx, place, spec, id),
        ([id], Verb::Put) => coll::update(ctx, place, spec, id, req.body),
        ([id], Verb::Delete) => coll::delete(ctx, place, spec, id),
        ([] | [_], _) => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::no_route(&format!("{path}/{}", rest.join("/")))),
    }
}

fn project_routes(
    ctx: &mut Ctx<'_>,
    space: &str,
    pid: &str,
    sub: &str,
    more: &[&str],
    req: ApiRequest,
) -> Answer {
    let place = Place::Space(space.to_owned());
    let project = coll::find(ctx, &place, "projects", pid)
        .cloned()
        .ok_or_else(|| ApiError::not_found(pid))?;
    let project_id = text(&project, "Id").to_owned();
    let sub = sub.to_lowercase();
    let base = format!("{}/projects/{project_id}", ctx.link(space));
    let of_project = |d: &Value| text(d, "ProjectId").eq_ignore_ascii_case(&project_id);
    if matches!(sub.as_str(), "deploymentprocesses" | "variables")
        && more.is_empty()
        && !ctx.settings.version.at_least(2022, 2)
    {
        // Not in the 2020.5 swagger; when these appeared is not established, so they are
        // served only from the versions whose documents are seen to link them.
        return Err(ApiError::no_route(&format!("{base}/{sub}")));
    }
    match (sub.as_str(), more, req.verb) {
        ("deploymentsettings", [], verb) if crate::deployment_settings::served(ctx) => match verb {
            Verb::Get => crate::deployment_settings::get(ctx, space, &project_id),
            Verb::Put => crate::deployment_settings::put(ctx, space, &project_id, req.body),
            _ => Err(ApiError::method_not_allowed()),
        },
        ("runbooksnapshots", [], Verb::Get) => {
            crate::runbook_snapshots::of_owner(ctx, space, "ProjectId", &project_id, &req)
        }
        ("deploymentprocesses", [], Verb::Get) => coll::get(
            ctx,
            &place,
            spec_of("deploymentprocesses"),
            text(&project, "DeploymentProcessId"),
        ),
        ("deploymentprocesses", [], Verb::Put) => processes::put(
            ctx,
            space,
            "deploymentprocesses",
            text(&project, "DeploymentProcessId"),
            req.body,
        ),
        ("variables", [], Verb::Get) => coll::get(
            ctx,
            &place,
            spec_of("variables"),
            text(&project, "VariableSetId"),
        ),
        ("variables", [], Verb::Put) => {
            variables::put(ctx, space, text(&project, "VariableSetId"), req.body)
        }
        ("channels" | "runbooks", [], Verb::Get) => {
            let path = format!("{base}/{sub}");
            coll::list(
                ctx,
                &place,
                spec_of(&sub),
                &req,
                &path,
                false,
                Some(&of_project),
            )
        }
        ("channels" | "runbooks", [all], Verb::Get) if all.eq_ignore_ascii_case("all") => {
            let path = format!("{base}/{sub}");
            coll::list(
                ctx,
                &place,
                spec_of(&sub),
                &req,
                &path,
                true,
                Some(&of_project),
            )
        }
        ("channels" | "runbooks", [], Verb::Post) => coll::create(
            ctx,
            &place,
            spec_of(&sub),
            req.body,
            &[("ProjectId", json!(project_id))],
        ),
        ("channels" | "runbooks", [id], verb) => {
            let spec = spec_of(&sub);
            let belongs = coll::find(ctx, &place, spec.key, id).is_some_and(of_project);
            if !belongs {
                return Err(ApiError::not_found(id));
            }
            match verb {
                Verb::Get => coll::get(ctx, &place, spec, id),
                Verb::Put => coll::update(ctx, &place, spec, id, req.body),
                Verb::Delete => coll::delete(ctx, &place, spec, id),
                _ => Err(ApiError::method_not_allowed()),
            }
        }
        ("runbookprocesses", [id], verb) => {
            let belongs = coll::find(ctx, &place, "runbookprocesses", id).is_some_and(of_project);
            if !belongs {
                return Err(ApiError::not_found(id));
            }
            match verb {
                Verb::Get => coll::get(ctx, &place, spec_of("runbookprocesses"), id),
                Verb::Put => processes::put(ctx, space, "runbookprocesses", id, req.body),
                _ => Err(ApiError::method_not_allowed()),
            }
        }
        ("deploymentprocesses" | "variables" | "channels" | "runbooks", [], _) => {
            Err(ApiError::method_not_allowed())
        }
        (_, [child], Verb::Get) if crate::git_refs::is_git_child(child) => {
            crate::git_refs::get(ctx, space, &project, child, &req)
        }
        _ => Err(ApiError::no_route(&format!("{base}/{sub}"))),
    }
}

fn tenant_routes(ctx: &mut Ctx<'_>, space: &str, tid: &str, sub: &str, req: ApiRequest) -> Answer {
    let new_endpoints = tv::new_endpoints(ctx);
    let flavour = match sub.to_lowercase().as_str() {
        "variables" => None,
        "commonvariables" if new_endpoints => Some(Flavour::Common),
        "projectvariables" if new_endpoints => Some(Flavour::Project),
        _ => return Err(ApiError::no_route(&format!("/tenants/{tid}/{sub}"))),
    };
    match (flavour, req.verb) {
        (None, Verb::Get) => tv::get(ctx, space, tid),
        (None, Verb::Post | Verb::Put) => tv::put(ctx, space, tid, req.body),
        (Some(f), Verb::Get) => tv::get_new(ctx, space, tid, f, &req),
        (Some(f), Verb::Post | Verb::Put) => {
            let body = req.body.clone();
            tv::put_new(ctx, space, tid, f, body, &req)
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_space_ids() {
        assert!(is_space_id("Spaces-1"));
        assert!(is_space_id("spaces-42"));
        assert!(!is_space_id("spaces"));
        assert!(!is_space_id("Spaces-x"));
    }
}
