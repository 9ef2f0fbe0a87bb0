//! The generic collection operations every kind shares: list with paging and filters,
//! `/all`, get, create, update and delete, with validation, slugs and links.

use octopus_model::shims;
use serde_json::{json, Map, Value};

use crate::clock;
use crate::context::{ApiRequest, Ctx};
use crate::filters;
use crate::links::links_for;
use crate::paging::{envelope, window};
use crate::reply::{Answer, ApiError, Reply};
use crate::secrets;
use crate::side_effects;
use crate::spec::{spec_of, CollectionSpec, NameScope};
use crate::store::{object_mut, text, Docs};

/// Where a collection lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// In the space with this id.
    Space(String),
    /// In the instance.
    System,
}

/// The link base of a place (`/octopus/api/Spaces-1` or `/octopus/api`).
pub(crate) fn base(ctx: &Ctx<'_>, place: &Place) -> String {
    match place {
        Place::Space(id) => ctx.link(id),
        Place::System => ctx.link("").trim_end_matches('/').to_owned(),
    }
}

/// The documents of a collection.
pub(crate) fn docs<'s>(ctx: &'s Ctx<'_>, place: &Place, key: &str) -> Option<&'s Docs> {
    match place {
        Place::Space(id) => ctx.store.space(id)?.docs(key),
        Place::System => ctx.store.system_docs(key),
    }
}

/// The documents of a collection, mutably (created on first use).
pub(crate) fn docs_mut<'s>(
    ctx: &'s mut Ctx<'_>,
    place: &Place,
    spec: &'static CollectionSpec,
) -> Result<&'s mut Docs, ApiError> {
    match place {
        Place::Space(id) => Ok(ctx
            .store
            .space_mut(id)
            .ok_or_else(|| ApiError::not_found(id))?
            .docs_mut(spec)),
        Place::System => Ok(ctx.store.system_docs_mut(spec)),
    }
}

/// Every document visible in a collection: for teams in a space, the system teams too
/// (as the real server lists them unless `includeSystem=false`).
fn visible<'s>(
    ctx: &'s Ctx<'_>,
    place: &Place,
    spec: &CollectionSpec,
    req: &ApiRequest,
) -> Vec<&'s Value> {
    let mut out = Vec::new();
    if spec.key == "teams" && place != &Place::System && req.param("includeSystem") != Some("false")
    {
        if let Some(system) = ctx.store.system_docs("teams") {
            out.extend(system.items());
        }
    }
    if let Some(d) = docs(ctx, place, spec.key) {
        out.extend(d.items());
    }
    out
}

/// A document by id, with the aliases the real server accepts (`feeds-builtin`, system
/// teams from a space).
pub(crate) fn find<'s>(ctx: &'s Ctx<'_>, place: &Place, key: &str, id: &str) -> Option<&'s Value> {
    if let Some(doc) = docs(ctx, place, key).and_then(|d| d.get(id)) {
        return Some(doc);
    }
    match key {
        "teams" => ctx.store.system_docs("teams")?.get(id),
        // Servers with slugs also find a project by its slug.
        "projects" => docs(ctx, place, key)?
            .items()
            .iter()
            .find(|p| text(p, "Slug").eq_ignore_ascii_case(id) && !id.is_empty()),
        "feeds" if id.eq_ignore_ascii_case("feeds-builtin") => docs(ctx, place, key)?
            .items()
            .iter()
            .find(|f| text(f, "FeedType") == "BuiltIn"),
        "feeds" if id.eq_ignore_ascii_case("feeds-builtin-releases") => docs(ctx, place, key)?
            .items()
            .iter()
            .find(|f| text(f, "FeedType") == "OctopusProject"),
        _ => None,
    }
}

/// `GET` on a collection: a page, or with `all` the bare array. `only` narrows it further
/// (a project's channels).
pub(crate) fn list(
    ctx: &Ctx<'_>,
    place: &Place,
    spec: &CollectionSpec,
    req: &ApiRequest,
    path: &str,
    all: bool,
    only: Option<&dyn Fn(&Value) -> bool>,
) -> Answer {
    let filter = filters::Filter::from_request(spec, req);
    let ids = filters::ids(req);
    let matches: Vec<&Value> = match ids {
        // An id list is answered from the index, so it costs the ids asked for.
        Some(ids) => ids
            .iter()
            .filter_map(|id| find(ctx, place, spec.key, id))
            .filter(|d| filter.matches(ctx, d) && only.is_none_or(|f| f(d)))
            .collect(),
        None => visible(ctx, place, spec, req)
            .into_iter()
            .filter(|d| filter.matches(ctx, d) && only.is_none_or(|f| f(d)))
            .collect(),
    };
    // Variable sets share one index of the space for their `ScopeValues`.
    let index = match (spec.key, place) {
        ("variables", Place::Space(space)) => Some(crate::variables::ScopeIndex::new(ctx, space)),
        _ => None,
    };
    let show = |d: &Value| match &index {
        Some(index) => index.present(ctx, d),
        None => present(ctx, place, spec, d),
    };
    if all {
        let items: Vec<Value> = matches.into_iter().map(show).collect();
        return Ok(Reply::ok(Value::Array(items)));
    }
    let (skip, take) = window(req)?;
    let total = matches.len();
    let page: Vec<Value> = matches
        .into_iter()
        .skip(skip)
        .take(take)
        .map(show)
        .collect();
    Ok(Reply::ok(envelope(
        path,
        spec.item_type,
        req,
        skip,
        take,
        total,
        page,
    )))
}

/// A stored document as the API shows it (variable sets get their `ScopeValues`).
pub(crate) fn present(ctx: &Ctx<'_>, place: &Place, spec: &CollectionSpec, doc: &Value) -> Value {
    match (spec.key, place) {
        ("variables", Place::Space(space)) => crate::variables::present(ctx, space, doc),
        ("tenantvariables", Place::Space(space)) => {
            crate::tenant_variables::present(ctx, space, doc)
        }
        _ => doc.clone(),
    }
}

/// `GET` one document.
pub(crate) fn get(ctx: &Ctx<'_>, place: &Place, spec: &CollectionSpec, id: &str) -> Answer {
    let doc = find(ctx, place, spec.key, id).ok_or_else(|| ApiError::not_found(id))?;
    Ok(Reply::ok(present(ctx, place, spec, doc)))
}

/// The body as an object, or 400.
pub(crate) fn body_object(body: Option<Value>) -> Result<Map<String, Value>, ApiError> {
    match body {
        Some(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::no_body()),
    }
}

/// Takes a body as a server of the emulated version would: fields that version does not
/// know are dropped, as a typed server drops what it has no property for; a strict
/// server refuses them with 400 instead. A version does not know the fields the shim
/// table dates after it, nor top-level fields no server has for the kind (see
/// [`crate::typed`]).
pub(crate) fn admit(ctx: &Ctx<'_>, spec: &CollectionSpec, doc: &mut Value) -> Result<(), ApiError> {
    let mut unknown = crate::typed::unknown_fields(spec, doc);
    if !ctx.settings.strict {
        shims::drop_unknown_fields(spec.kind, doc, &ctx.settings.version);
        if let Value::Object(map) = doc {
            for field in &unknown {
                map.remove(field);
            }
        }
        return Ok(());
    }
    unknown.extend(shims::unknown_fields(spec.kind, doc, &ctx.settings.version));
    if unknown.is_empty() {
        return Ok(());
    }
    Err(ApiError::bad_request(
        format!(
            "The request contains properties that Octopus Server {} does not recognise.",
            ctx.settings.version
        ),
        unknown
            .into_iter()
            .map(|f| format!("The property '{f}' is not recognised."))
            .collect(),
    ))
}

fn is_blank(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        _ => false,
    }
}

/// Required fields, required references and unique names.
fn validate(
    ctx: &Ctx<'_>,
    place: &Place,
    spec: &CollectionSpec,
    doc: &Value,
    own_id: Option<&str>,
) -> Result<(), ApiError> {
    let missing: Vec<String> = spec
        .required
        .iter()
        .filter(|f| is_blank(doc.get(**f)))
        .map(|f| format!("The {f} field is required."))
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::validation(missing));
    }
    let mut broken = Vec::new();
    for (field, target) in spec.references {
        // Optional references (a channel's `LifecycleId`) may be empty or null.
        let id = text(doc, field);
        if !id.is_empty() && find(ctx, place, target, id).is_none() {
            broken.push(format!(
                "The {field} '{id}' does not refer to an existing {}.",
                spec_of(target).kind
            ));
        }
    }
    if spec.key == "tenants" {
        broken.extend(tenant_connections(ctx, place, doc));
    }
    if !broken.is_empty() {
        return Err(ApiError::validation(broken));
    }
    let name = text(doc, "Name").trim();
    if spec.name_scope == NameScope::None || name.is_empty() {
        return Ok(());
    }
    let project = text(doc, "ProjectId");
    let taken = docs(ctx, place, spec.key).is_some_and(|d| {
        d.items().iter().any(|other| {
            text(other, "Name").trim().eq_ignore_ascii_case(name)
                && own_id.is_none_or(|own| !text(other, spec.id_field).eq_ignore_ascii_case(own))
                && (spec.name_scope == NameScope::Space
                    || text(other, "ProjectId").eq_ignore_ascii_case(project))
        })
    });
    if taken {
        let message = format!(
            "A {} with the name '{name}' already exists. Please choose a different name.",
            spec.kind
        );
        return Err(ApiError::bad_request(message.clone(), vec![message]));
    }
    Ok(())
}

/// A tenant's `ProjectEnvironments` must name projects and environments of its space.
fn tenant_connections(ctx: &Ctx<'_>, place: &Place, doc: &Value) -> Vec<String> {
    let mut broken = Vec::new();
    for (project, envs) in doc["ProjectEnvironments"].as_object().into_iter().flatten() {
        if find(ctx, place, "projects", project).is_none() {
            broken.push(format!(
                "The project '{project}' in ProjectEnvironments does not exist."
            ));
        }
        for env in envs.as_array().into_iter().flatten() {
            let env = env.as_str().unwrap_or("");
            if find(ctx, place, "environments", env).is_none() {
                broken.push(format!(
                    "The environment '{env}' in ProjectEnvironments does not exist."
                ));
            }
        }
    }
    broken
}

/// Sets a generated slug when the body has none, unique in the collection; keeps the
/// field out on versions without slugs.
fn ensure_slug(
    ctx: &Ctx<'_>,
    place: &Place,
    spec: &CollectionSpec,
    doc: &mut Map<String, Value>,
    own_id: Option<&str>,
) -> Result<(), ApiError> {
    if !spec.has_slug {
        return Ok(());
    }
    if !ctx.settings.version.at_least(2022, 1) {
        doc.remove("Slug");
        return Ok(());
    }
    let given = doc
        .get("Slug")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_owned();
    if given.eq_ignore_ascii_case("all") {
        return Err(ApiError::validation(vec![
            "The slug 'all' is reserved.".into()
        ]));
    }
    if !given.is_empty() {
        return Ok(());
    }
    let name = doc.get("Name").and_then(Value::as_str).unwrap_or("");
    let stem = match shims::slugify(name) {
        s if s.is_empty() => spec.key.to_owned(),
        s => s,
    };
    let taken = |slug: &str| {
        docs(ctx, place, spec.key).is_some_and(|d| {
            d.items().iter().any(|o| {
                text(o, "Slug") == slug
                    && own_id.is_none_or(|own| !text(o, spec.id_field).eq_ignore_ascii_case(own))
            })
        })
    };
    let mut slug = stem.clone();
    let mut n = 1;
    while taken(&slug) {
        slug = format!("{stem}-{n}");
        n += 1;
    }
    doc.insert("Slug".into(), json!(slug));
    Ok(())
}

/// Stamps the server-owned fields: `SpaceId`, `LastModifiedOn`, `Links`.
pub(crate) fn stamp(ctx: &Ctx<'_>, place: &Place, spec: &CollectionSpec, doc: &mut Value) {
    let links = links_for(&base(ctx, place), spec, doc);
    let map = object_mut(doc);
    if let Place::Space(space) = place {
        map.insert("SpaceId".into(), json!(space));
    }
    map.insert("LastModifiedOn".into(), json!(clock::now()));
    map.insert("LastModifiedBy".into(), json!("admin"));
    map.insert("Links".into(), links);
}

/// `POST` a new document; `preset` fixes fields the route implies (a project's id).
pub(crate) fn create(
    ctx: &mut Ctx<'_>,
    place: &Place,
    spec: &'static CollectionSpec,
    body: Option<Value>,
    preset: &[(&str, Value)],
) -> Answer {
    let Some(prefix) = spec.id_prefix else {
        return Err(ApiError::method_not_allowed());
    };
    let mut map = body_object(body)?;
    for (k, v) in preset {
        map.insert((*k).to_owned(), v.clone());
    }
    let mut doc = Value::Object(map);
    admit(ctx, spec, &mut doc)?;
    side_effects::defaults(ctx, place, spec, &mut doc)?;
    validate(ctx, place, spec, &doc, None)?;
    let id = side_effects::new_id(ctx, place, spec, prefix);
    let map = object_mut(&mut doc);
    map.insert("Id".into(), json!(id));
    ensure_slug(ctx, place, spec, map, None)?;
    side_effects::before_insert(ctx, place, spec, &mut doc)?;
    secrets::absorb(&mut ctx.store.secrets, &id, &mut doc, None);
    stamp(ctx, place, spec, &mut doc);
    docs_mut(ctx, place, spec)?.upsert(&id, doc.clone());
    side_effects::after_insert(ctx, place, spec, &doc)?;
    side_effects::only_one_default(ctx, place, spec, &doc);
    let stored = find(ctx, place, spec.key, &id).cloned().unwrap_or(doc);
    Ok(Reply::created(present(ctx, place, spec, &stored)))
}

/// Fields the server owns or only takes on create, kept from the stored document on
/// update.
fn read_only_fields(key: &str) -> &'static [&'static str] {
    match key {
        "projects" => &[
            "DeploymentProcessId",
            "VariableSetId",
            "IsVersionControlled",
        ],
        // `PublishedRunbookSnapshotId` is written: that is how a runbook is published
        // (the project's API notes; SpaceCloner clears it).
        "runbooks" => &["RunbookProcessId", "ProjectId"],
        "libraryvariablesets" => &["VariableSetId", "ContentType"],
        "channels" => &["ProjectId"],
        "feeds" => &["FeedType"],
        "accounts" => &["AccountType"],
        "actiontemplates" => &["ActionType", "CommunityActionTemplateId"],
        "certificates" => &[
            "CertificateData",
            "Password",
            "Thumbprint",
            "CertificateDataFormat",
        ],
        "teams" => &[
            "CanBeDeleted",
            "CanBeRenamed",
            "CanChangeRoles",
            "CanChangeMembers",
        ],
        _ => &[],
    }
}

/// `PUT` a whole document.
pub(crate) fn update(
    ctx: &mut Ctx<'_>,
    place: &Place,
    spec: &'static CollectionSpec,
    id: &str,
    body: Option<Value>,
) -> Answer {
    let previous = find(ctx, place, spec.key, id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(id))?;
    let real_id = text(&previous, spec.id_field).to_owned();
    if spec.key == "teams"
        && docs(ctx, place, "teams")
            .and_then(|d| d.get(&real_id))
            .is_none()
        && place != &Place::System
    {
        return Err(ApiError::bad_request(
            "System teams cannot be changed from a space.",
            vec![],
        ));
    }
    let map = body_object(body)?;
    let mut doc = Value::Object(map);
    admit(ctx, spec, &mut doc)?;
    let map = object_mut(&mut doc);
    map.insert(spec.id_field.into(), json!(real_id));
    for field in read_only_fields(spec.key) {
        match previous.get(*field) {
            Some(v) => map.insert((*field).to_owned(), v.clone()),
            None => map.remove(*field),
        };
    }
    if spec.has_slug
        && map
            .get("Slug")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
    {
        if let Some(old) = previous.get("Slug") {
            map.insert("Slug".into(), old.clone());
        }
    }
    validate(ctx, place, spec, &doc, Some(&real_id))?;
    ensure_slug(ctx, place, spec, object_mut(&mut doc), Some(&real_id))?;
    side_effects::before_update(ctx, place, spec, &previous, &mut doc)?;
    secrets::absorb(&mut ctx.store.secrets, &real_id, &mut doc, Some(&previous));
    stamp(ctx, place, spec, &mut doc);
    docs_mut(ctx, place, spec)?.upsert(&real_id, doc.clone());
    side_effects::only_one_default(ctx, place, spec, &doc);
    Ok(Reply::ok(present(ctx, place, spec, &doc)))
}

/// `DELETE` a document and what hangs off it.
pub(crate) fn delete(
    ctx: &mut Ctx<'_>,
    place: &Place,
    spec: &'static CollectionSpec,
    id: &str,
) -> Answer {
    if spec.id_prefix.is_none() {
        return Err(ApiError::method_not_allowed());
    }
    let doc = docs(ctx, place, spec.key)
        .and_then(|d| d.get(id))
        .cloned()
        .ok_or_else(|| ApiError::not_found(id))?;
    if side_effects::is_read_only(spec, &doc) {
        return Err(ApiError::bad_request(
            "This resource is read-only and cannot be deleted.",
            vec![],
        ));
    }
    if spec.key == "spaces" {
        if doc["IsDefault"] == Value::Bool(true) {
            return Err(ApiError::bad_request(
                "The default space cannot be deleted.",
                vec![],
            ));
        }
        if doc["TaskQueueStopped"] != Value::Bool(true) {
            return Err(ApiError::bad_request(
                "The task queue of this space must be stopped before the space can be deleted.",
                vec![],
            ));
        }
    }
    let real_id = text(&doc, spec.id_field).to_owned();
    docs_mut(ctx, place, spec)?.remove(&real_id);
    ctx.store.forget_secrets(&real_id);
    side_effects::after_delete(ctx, place, spec, &doc);
    Ok(Reply::ok(json!({})))
}
