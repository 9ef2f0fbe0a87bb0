//! Scaffolding: environments, project groups, tag sets, feeds, teams, user roles, machine
//! policies, worker pools, accounts, certificates and lifecycles.
//!
//! Data with the same name but different details (feeds, accounts, certificates, worker
//! pools, machine policies, lifecycles, teams, project groups, environments) is created
//! when missing and otherwise left alone unless a policy says so. Data that must be an
//! exact match (tenant tags, user roles) is created or updated to equal the source.

use octopus_model::{name_key, same_name, FeedType, ResourceKind, TagSet, UserRole};
use serde_json::{json, Value};

use super::common::{
    create_when_missing, follow_details, left_alone, matches, remove, set, strings, translate_list,
    translate_tags, Match,
};
use crate::context::Ctx;
use crate::diff::{create_op, sensitive_slots, strip_for_create, to_value, update_op};
use crate::plan::{CleanupCategory, ItemRef, LayerName, Op, Target};
use crate::rules::{DetailKind, OverwriteLifecyclePhases, ScopeMode};

const DIFFERENT_DETAILS: &str = "exists; only the name must match, its details are left alone";

fn space(ctx: &Ctx<'_>) -> Option<String> {
    ctx.dest.snapshot.space_id().map(str::to_owned)
}

/// Environments and project groups: created when missing.
pub fn environments_and_groups(ctx: &mut Ctx<'_>) {
    let (src, dst) = (ctx.source.snapshot, ctx.dest.snapshot);
    let filter = ctx.rules.select.environments.clone();
    create_when_missing(
        ctx,
        LayerName::Environments,
        &filter,
        &src.environments,
        &dst.environments,
        DIFFERENT_DETAILS,
        |ctx, source| {
            if source.is_ephemeral() {
                return super::newer::ephemeral_environment(ctx, source);
            }
            let mut body = to_value(source);
            strip_for_create(&mut body, space(ctx).as_deref());
            create_op(
                ctx,
                ItemRef::new(ResourceKind::Environment, &source.name),
                body,
                "missing on the destination",
            )
        },
    );
    let filter = ctx.rules.select.project_groups.clone();
    create_when_missing(
        ctx,
        LayerName::ProjectGroups,
        &filter,
        &src.project_groups,
        &dst.project_groups,
        DIFFERENT_DETAILS,
        |ctx, source| {
            let item = ItemRef::new(ResourceKind::ProjectGroup, &source.name);
            let mut body = to_value(source);
            strip_for_create(&mut body, space(ctx).as_deref());
            remove(&mut body, "RetentionPolicyId");
            let envs = translate_list(
                ctx,
                &item,
                ResourceKind::Environment,
                ScopeMode::IgnoreMismatch,
                "legacy environments",
                source.environment_ids.iter(),
            );
            set(
                &mut body,
                "EnvironmentIds",
                strings(&envs.unwrap_or_default()),
            );
            create_op(ctx, item, body, "missing on the destination")
        },
    );
}

fn tag_set_body(source: &TagSet, dest: Option<&TagSet>) -> TagSet {
    let mut out = dest.cloned().unwrap_or_else(|| source.clone());
    out.description = source.description.clone();
    let mut tags = Vec::new();
    for tag in source.tags.iter() {
        let mut t = tag.clone();
        t.canonical_tag_name = Default::default();
        match dest.and_then(|d| d.tags.iter().find(|x| same_name(&x.name, &tag.name))) {
            Some(existing) => {
                t.id = existing.id.clone();
                t.canonical_tag_name = existing.canonical_tag_name.clone();
            }
            None => t.id = Default::default(),
        }
        tags.push(t);
    }
    if let Some(d) = dest {
        // Tags only the destination has are kept: tenants may use them.
        for tag in d.tags.iter() {
            if !source.tags.iter().any(|x| same_name(&x.name, &tag.name)) {
                tags.push(tag.clone());
            }
        }
    }
    out.tags = tags.into_iter().collect();
    out
}

/// Tenant tag sets: must be an exact match, so created or updated to hold the source's
/// tags (tags only the destination has are kept).
pub fn tag_sets(ctx: &mut Ctx<'_>) {
    let (src, dst) = (ctx.source.snapshot, ctx.dest.snapshot);
    let filter = ctx.rules.select.tenant_tags.clone();
    for m in matches(
        ctx,
        LayerName::TagSets,
        &filter,
        &src.tag_sets,
        &dst.tag_sets,
    ) {
        let (source, op) = match m {
            Match::Existing { source, dest, id } => {
                let desired = tag_set_body(source, Some(&dest));
                let item = ItemRef::new(ResourceKind::TagSet, &source.name);
                let op = update_op(
                    ctx,
                    item,
                    Target::Existing { id },
                    &to_value(&dest),
                    to_value(&desired),
                    "tenant tags must be an exact match",
                    "its tags match the source",
                );
                (source, op)
            }
            Match::New { source } => {
                let mut body = to_value(&tag_set_body(source, None));
                strip_for_create(&mut body, space(ctx).as_deref());
                let op = create_op(
                    ctx,
                    ItemRef::new(ResourceKind::TagSet, &source.name),
                    body,
                    "missing on the destination",
                );
                (source, op)
            }
        };
        for tag in source.tags.iter() {
            ctx.dest_tags.insert(name_key(&source.canonical_name(tag)));
        }
        ctx.push(LayerName::TagSets, op);
    }
}

/// Feeds: created when missing (credentials become dummy secrets), never updated.
pub fn feeds(ctx: &mut Ctx<'_>) {
    let (src, dst) = (ctx.source.snapshot, ctx.dest.snapshot);
    let filter = ctx.rules.select.feeds.clone();
    for m in matches(ctx, LayerName::Feeds, &filter, &src.feeds, &dst.feeds) {
        let follow = ctx
            .rules
            .policy
            .overwrite_existing_details
            .contains(&DetailKind::Feeds);
        let op = match m {
            Match::Existing { source, dest, id } if follow => {
                let item = ItemRef::new(ResourceKind::Feed, &source.name);
                if source.feed_type.get() != dest.feed_type.get() {
                    left_alone(
                        ResourceKind::Feed,
                        &source.name,
                        &id,
                        "exists with another feed type; a feed's type cannot change, so its details are left alone",
                    )
                    .into_skip()
                } else {
                    let mut body = to_value(source);
                    strip_for_create(&mut body, space(ctx).as_deref());
                    // Credentials stay the destination's as a whole: a user name
                    // following the source beside a password that cannot would
                    // break the pair.
                    follow_details(
                        ctx,
                        item,
                        &id,
                        &to_value(&dest),
                        &body,
                        &["FeedType", "Username", "AccessKey"],
                    )
                }
            }
            Match::Existing { source, id, .. } => left_alone(
                ResourceKind::Feed,
                &source.name,
                &id,
                "exists; same feed type, its URL and credentials are left alone",
            ),
            Match::New { source } => {
                let item = ItemRef::new(ResourceKind::Feed, &source.name);
                if source.is_built_in() {
                    Op::skip(
                        item,
                        "built-in feed missing on the destination; built-ins are never created",
                    )
                } else if source.feed_type.get() == Some(&FeedType::AwsElasticContainerRegistry)
                    && !source.use_machine_credentials.get_or(false)
                {
                    Op::skip(item, "a new AWS ECR feed is validated on save and its secret key cannot be read; create it on the destination")
                } else {
                    let mut body = to_value(source);
                    strip_for_create(&mut body, space(ctx).as_deref());
                    let slots = sensitive_slots(&body);
                    for slot in &slots {
                        ctx.clean(
                            CleanupCategory::DummySecret,
                            &item,
                            format!("credential {slot} set to a dummy secret; enter the real one"),
                        );
                    }
                    let mut op = create_op(ctx, item, body, "missing on the destination");
                    if let Some(c) = op.create_mut() {
                        c.secret_slots = slots;
                    }
                    op
                }
            }
        };
        ctx.push(LayerName::Feeds, op);
    }
}

/// Space teams: created when missing (no members from other instances, no external
/// groups, no role scoping); system teams are never synced.
pub fn teams(ctx: &mut Ctx<'_>) {
    let dst = ctx.dest.snapshot;
    let filter = ctx.rules.select.teams.clone();
    let source: Vec<_> = ctx
        .source
        .snapshot
        .teams
        .iter()
        .filter(|t| !t.is_built_in())
        .cloned()
        .collect();
    for m in matches(ctx, LayerName::Teams, &filter, &source, &dst.teams) {
        let op = match m {
            Match::Existing { source, id, .. } => left_alone(
                ResourceKind::Team,
                &source.name,
                &id,
                "exists; its members are left alone",
            ),
            Match::New { source } => {
                let item = ItemRef::new(ResourceKind::Team, &source.name);
                let mut body = to_value(source);
                strip_for_create(&mut body, space(ctx).as_deref());
                for k in [
                    "CanBeDeleted",
                    "CanBeRenamed",
                    "CanChangeRoles",
                    "CanChangeMembers",
                ] {
                    remove(&mut body, k);
                }
                let members = translate_list(
                    ctx,
                    &item,
                    ResourceKind::User,
                    ScopeMode::IgnoreMismatch,
                    "members",
                    source.member_user_ids.iter(),
                );
                set(
                    &mut body,
                    "MemberUserIds",
                    strings(&members.unwrap_or_default()),
                );
                if !source.external_security_groups.is_empty() {
                    ctx.clean(
                        CleanupCategory::Reference,
                        &item,
                        "external security groups were not copied; add them on the destination",
                    );
                }
                set(&mut body, "ExternalSecurityGroups", json!([]));
                create_op(ctx, item, body, "missing on the destination")
            }
        };
        ctx.push(LayerName::Teams, op);
    }
}

fn role_body(source: &UserRole, dest: Option<&UserRole>) -> UserRole {
    let mut out = dest.cloned().unwrap_or_else(|| source.clone());
    out.description = source.description.clone();
    out.granted_space_permissions = source.granted_space_permissions.clone();
    out.granted_system_permissions = source.granted_system_permissions.clone();
    out
}

/// User roles: must be an exact match; built-in roles are matched, never changed.
pub fn user_roles(ctx: &mut Ctx<'_>) {
    let (src, dst) = (ctx.source.snapshot, ctx.dest.snapshot);
    let filter = ctx.rules.select.user_roles.clone();
    for m in matches(
        ctx,
        LayerName::UserRoles,
        &filter,
        &src.user_roles,
        &dst.user_roles,
    ) {
        let op = match m {
            Match::Existing { source, dest, id } => {
                let item = ItemRef::new(ResourceKind::UserRole, &source.name);
                if dest.is_built_in() || source.is_built_in() {
                    left_alone(
                        ResourceKind::UserRole,
                        &source.name,
                        &id,
                        "built-in user role; matched, never changed",
                    )
                } else {
                    let desired = role_body(source, Some(&dest));
                    update_op(
                        ctx,
                        item,
                        Target::Existing { id },
                        &to_value(&dest),
                        to_value(&desired),
                        "user roles must be an exact match",
                        "its permissions match the source",
                    )
                }
            }
            Match::New { source } => {
                let item = ItemRef::new(ResourceKind::UserRole, &source.name);
                if source.is_built_in() {
                    Op::skip(item, "built-in user role missing on the destination; built-ins are never created")
                } else {
                    let mut body = to_value(source);
                    strip_for_create(&mut body, None);
                    remove(&mut body, "CanBeDeleted");
                    create_op(ctx, item, body, "missing on the destination")
                }
            }
        };
        ctx.push(LayerName::UserRoles, op);
    }
}

/// Machine policies and worker pools: created when missing, details left alone.
pub fn policies_and_pools(ctx: &mut Ctx<'_>) {
    let (src, dst) = (ctx.source.snapshot, ctx.dest.snapshot);
    let details = ctx.rules.policy.overwrite_existing_details.clone();
    let filter = ctx.rules.select.machine_policies.clone();
    let follow = details.contains(&DetailKind::MachinePolicies);
    for m in matches(
        ctx,
        LayerName::MachinePolicies,
        &filter,
        &src.machine_policies,
        &dst.machine_policies,
    ) {
        let op = match m {
            Match::Existing { source, dest, id } if follow => {
                let item = ItemRef::new(ResourceKind::MachinePolicy, &source.name);
                let body = machine_policy_body(ctx, source, &item);
                follow_details(ctx, item, &id, &to_value(&dest), &body, &[])
            }
            Match::Existing { source, id, .. } => left_alone(
                ResourceKind::MachinePolicy,
                &source.name,
                &id,
                DIFFERENT_DETAILS,
            ),
            Match::New { source } => {
                let item = ItemRef::new(ResourceKind::MachinePolicy, &source.name);
                let body = machine_policy_body(ctx, source, &item);
                create_op(ctx, item, body, "missing on the destination")
            }
        };
        ctx.push(LayerName::MachinePolicies, op);
    }
    let filter = ctx.rules.select.worker_pools.clone();
    let follow = details.contains(&DetailKind::WorkerPools);
    for m in matches(
        ctx,
        LayerName::WorkerPools,
        &filter,
        &src.worker_pools,
        &dst.worker_pools,
    ) {
        let op = match m {
            Match::Existing { source, dest, id } if follow => {
                let item = ItemRef::new(ResourceKind::WorkerPool, &source.name);
                if source.worker_pool_type.as_str() != dest.worker_pool_type.as_str() {
                    left_alone(
                        ResourceKind::WorkerPool,
                        &source.name,
                        &id,
                        "exists with another worker pool type, which cannot change; its details are left alone",
                    )
                    .into_skip()
                } else {
                    let body = worker_pool_body(ctx, source);
                    follow_details(
                        ctx,
                        item,
                        &id,
                        &to_value(&dest),
                        &body,
                        &["WorkerPoolType", "CanAddWorkers"],
                    )
                }
            }
            Match::Existing { source, id, .. } => left_alone(
                ResourceKind::WorkerPool,
                &source.name,
                &id,
                "exists; its workers are the destination's own",
            ),
            Match::New { source } => {
                let item = ItemRef::new(ResourceKind::WorkerPool, &source.name);
                if source.worker_pool_type.as_str() == "DynamicWorkerPool" {
                    Op::skip(
                        item,
                        "dynamic worker pools are provided by Octopus Cloud and cannot be created",
                    )
                } else {
                    let body = worker_pool_body(ctx, source);
                    create_op(ctx, item, body, "missing on the destination")
                }
            }
        };
        ctx.push(LayerName::WorkerPools, op);
    }
}

/// A worker pool's body for the destination: never the default, never the server's
/// `CanAddWorkers`.
fn worker_pool_body(ctx: &Ctx<'_>, source: &octopus_model::WorkerPool) -> Value {
    let mut body = to_value(source);
    strip_for_create(&mut body, space(ctx).as_deref());
    set(&mut body, "IsDefault", Value::Bool(false));
    remove(&mut body, "CanAddWorkers");
    body
}

/// A machine policy's body for the destination, with its tentacle update account
/// translated (none when the destination lacks it, with a clean-up entry).
fn machine_policy_body(
    ctx: &mut Ctx<'_>,
    source: &octopus_model::MachinePolicy,
    item: &ItemRef,
) -> Value {
    let mut body = to_value(source);
    strip_for_create(&mut body, space(ctx).as_deref());
    set(&mut body, "IsDefault", Value::Bool(false));
    let account = body
        .pointer("/MachineUpdatePolicy/TentacleUpdateAccountId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(account) = account {
        let (name, r) = ctx.resolve(ResourceKind::Account, &account);
        let new = match r.text() {
            Some(id) => Value::String(id),
            None => {
                ctx.clean(CleanupCategory::Reference, item, format!("tentacle update account {name:?} is not on the destination; the policy uses none"));
                Value::Null
            }
        };
        if let Some(slot) = body.pointer_mut("/MachineUpdatePolicy/TentacleUpdateAccountId") {
            *slot = new;
        }
    }
    body
}

/// Translates the environment, tenant and tag restrictions of an account or certificate.
fn infrastructure_scope(
    ctx: &mut Ctx<'_>,
    item: &ItemRef,
    body: &mut Value,
    envs: &[String],
    tenants: &[String],
    tags: &[String],
) -> Result<(), String> {
    let s = ctx.rules.scoping.clone();
    let envs = translate_list(
        ctx,
        item,
        ResourceKind::Environment,
        s.infrastructure_environments,
        "environments",
        envs,
    )?;
    let tenants = translate_list(
        ctx,
        item,
        ResourceKind::Tenant,
        s.infrastructure_tenants,
        "tenants",
        tenants,
    )?;
    let tags = translate_tags(ctx, item, s.infrastructure_tenant_tags, "tenant tags", tags)?;
    set(body, "EnvironmentIds", strings(&envs));
    set(body, "TenantIds", strings(&tenants));
    set(body, "TenantTags", strings(&tags));
    Ok(())
}

fn ids<T: AsRef<str>>(items: &[T]) -> Vec<String> {
    items.iter().map(|i| i.as_ref().to_owned()).collect()
}

/// Accounts: created when missing with dummy secrets; existing ones are left alone.
pub fn accounts(ctx: &mut Ctx<'_>) {
    let (src, dst) = (ctx.source.snapshot, ctx.dest.snapshot);
    let filter = ctx.rules.select.accounts.clone();
    create_when_missing(
        ctx,
        LayerName::Accounts,
        &filter,
        &src.accounts,
        &dst.accounts,
        "exists; same name, its credentials and details are left alone",
        |ctx, source| {
            let item = ItemRef::new(ResourceKind::Account, &source.name);
            let mut body = to_value(source);
            strip_for_create(&mut body, space(ctx).as_deref());
            match infrastructure_scope(
                ctx,
                &item,
                &mut body,
                &ids(&source.environment_ids),
                &ids(&source.tenant_ids),
                &source.tenant_tags,
            ) {
                Err(reason) => Op::skip(item, reason),
                Ok(()) => {
                    let slots = sensitive_slots(&body);
                    for slot in &slots {
                        ctx.clean(
                            CleanupCategory::DummySecret,
                            &item,
                            format!(
                                "secret {slot} set to a dummy value; enter the real credential"
                            ),
                        );
                    }
                    let mut op = create_op(ctx, item, body, "missing on the destination");
                    if let Some(c) = op.create_mut() {
                        c.secret_slots = slots;
                    }
                    op
                }
            }
        },
    );
}

/// Certificates: matched by name. The API never returns certificate data (nor its
/// password), so a missing certificate can only be created from a file the user supplies
/// (`certificates_from`, listed by the runner into [`crate::SyncRules::certificate_files`]):
/// the op names the file in [`Op::certificate_file`] and the applier reads it when it
/// writes. Without a file it is skipped, and the clean-up log says how to create it by
/// hand.
pub fn certificates(ctx: &mut Ctx<'_>) {
    let (src, dst) = (ctx.source.snapshot, ctx.dest.snapshot);
    let filter = ctx.rules.select.certificates.clone();
    for m in matches(
        ctx,
        LayerName::Certificates,
        &filter,
        &src.certificates,
        &dst.certificates,
    ) {
        let op = match m {
            Match::Existing { source, id, .. } => left_alone(
                ResourceKind::Certificate,
                &source.name,
                &id,
                "exists; same name, the destination keeps its own certificate",
            ),
            Match::New { source } => new_certificate(ctx, source),
        };
        ctx.push(LayerName::Certificates, op);
    }
}

/// Whether a certificate file is PKCS #12 by its extension (`.pfx`, `.p12`).
pub fn is_pkcs12_file(file: &str) -> bool {
    let lower = file.to_ascii_lowercase();
    lower.ends_with(".pfx") || lower.ends_with(".p12")
}

/// A missing certificate: created from the user's file, or skipped with the way to
/// create it by hand.
fn new_certificate(ctx: &mut Ctx<'_>, source: &octopus_model::Certificate) -> Op {
    let item = ItemRef::new(ResourceKind::Certificate, &source.name);
    let Some(file) = ctx
        .rules
        .certificate_files
        .get(&octopus_model::name_key(&source.name))
        .cloned()
    else {
        let reason = if ctx.rules.policy.certificates_from.is_some() {
            format!(
                "certificate data cannot be read back through the API, and certificates_from has no file named {:?} with a .pfx, .p12, .pem, .crt or .cer extension",
                source.name
            )
        } else {
            "certificate data cannot be read back through the API, so it cannot be copied"
                .to_owned()
        };
        let how = format!(
            "create it by hand: export it from the source (Library > Certificates > {name} > Export, with its private key; that needs the certificate-export permission) and upload it on the destination as {name:?} with the same environments and tenants; or put the file in the certificates_from directory as \"{name}.pfx\" or \"{name}.pem\" and sync again",
            name = source.name
        );
        return Op::skip(item, format!("{reason}; {how}"));
    };
    let mut body = to_value(source);
    strip_for_create(&mut body, space(ctx).as_deref());
    for field in CERTIFICATE_READ_ONLY {
        remove(&mut body, field);
    }
    if let Err(reason) = infrastructure_scope(
        ctx,
        &item,
        &mut body,
        &ids(&source.environment_ids),
        &ids(&source.tenant_ids),
        &source.tenant_tags,
    ) {
        return Op::skip(item, reason);
    }
    let pkcs12 = is_pkcs12_file(&file);
    set(&mut body, "CertificateData", json!({"HasValue": false}));
    if pkcs12 {
        set(&mut body, "Password", json!({"HasValue": false}));
    } else {
        remove(&mut body, "Password");
    }
    let reason = format!(
        "missing on the destination; created from {file:?} in certificates_from (the API never returns certificate data)"
    );
    let mut op = create_op(ctx, item, body, &reason);
    if let Some(c) = op.create_mut() {
        c.certificate_file = Some(crate::plan::CertificateFile { file, pkcs12 });
    }
    op
}

/// What a server derives from a certificate's data: never sent on create.
const CERTIFICATE_READ_ONLY: &[&str] = &[
    "Thumbprint",
    "SubjectDistinguishedName",
    "SubjectCommonName",
    "SubjectOrganization",
    "IssuerDistinguishedName",
    "IssuerCommonName",
    "IssuerOrganization",
    "NotBefore",
    "NotAfter",
    "IsExpired",
    "HasPrivateKey",
    "SelfSigned",
    "SerialNumber",
    "SignatureAlgorithmName",
    "SubjectAlternativeNames",
    "CertificateChain",
    "CertificateDataFormat",
    "Version",
    "Archived",
    "ReplacedBy",
    "CertificateData",
    "Password",
];

/// The phases of a source lifecycle with their environments translated. Phases that lose
/// every environment are dropped; `Ok(None)` when none is left of a lifecycle that had
/// some. `Err` names the `[environment_map]` entries that would put one destination
/// environment in two phases, which the server refuses: never resolved by a silent pick.
fn translate_phases(
    ctx: &mut Ctx<'_>,
    item: &ItemRef,
    source: &octopus_model::Lifecycle,
    dest: Option<&octopus_model::Lifecycle>,
) -> Result<Option<Vec<octopus_model::Phase>>, String> {
    let mut phases = Vec::new();
    // Destination environment -> (phase, source environment) pairs that land on it.
    let mut landed: std::collections::BTreeMap<String, Vec<(String, String)>> =
        std::collections::BTreeMap::new();
    for phase in source.phases.iter() {
        let mut p = phase.clone();
        p.id = dest
            .and_then(|d| d.phases.iter().find(|x| same_name(&x.name, &phase.name)))
            .map(|x| x.id.clone())
            .unwrap_or_default();
        let mut dropped = Vec::new();
        let mut translate =
            |ctx: &mut Ctx<'_>, ids: &[octopus_model::EnvironmentId]| -> Vec<String> {
                let mut out = Vec::new();
                for id in ids {
                    for (name, r) in ctx.resolve_many(ResourceKind::Environment, id.as_str()) {
                        match r.text() {
                            Some(v) => {
                                landed
                                    .entry(v.clone())
                                    .or_default()
                                    .push((phase.name.clone(), name));
                                if !out.contains(&v) {
                                    out.push(v)
                                }
                            }
                            None => dropped.push(name),
                        }
                    }
                }
                out
            };
        let auto = translate(ctx, &phase.automatic_deployment_targets);
        let optional = translate(ctx, &phase.optional_deployment_targets);
        if !dropped.is_empty() {
            ctx.clean(
                CleanupCategory::DroppedScope,
                item,
                format!(
                    "phase {:?}: environments {} are not on the destination",
                    phase.name,
                    super::common::quote_list(&dropped)
                ),
            );
        }
        let had = !phase.automatic_deployment_targets.is_empty()
            || !phase.optional_deployment_targets.is_empty();
        if had && auto.is_empty() && optional.is_empty() {
            continue;
        }
        p.automatic_deployment_targets = auto.into_iter().map(Into::into).collect();
        p.optional_deployment_targets = optional.into_iter().map(Into::into).collect();
        phases.push(p);
    }
    for pairs in landed.values() {
        let mut in_phases: Vec<String> = pairs.iter().map(|(p, _)| p.clone()).collect();
        in_phases.sort_by_key(|p| name_key(p));
        in_phases.dedup_by_key(|p| name_key(p));
        if in_phases.len() < 2 {
            continue;
        }
        let mut entries: Vec<String> = pairs
            .iter()
            .map(|(_, env)| {
                format!(
                    "{env:?} = {}",
                    super::common::quote_list(&ctx.rules.environment_map.map(env))
                )
            })
            .collect();
        entries.sort();
        entries.dedup();
        return Err(format!(
            "[environment_map] entries {} put one destination environment in phases {}; the server refuses an environment in two phases",
            entries.join(", "),
            super::common::quote_list(&in_phases)
        ));
    }
    Ok(if phases.is_empty() && !source.phases.is_empty() {
        None
    } else {
        Some(phases)
    })
}

/// The op for a lifecycle whose phases cannot be translated: an error under the
/// `error-*` modes of `infrastructure_environments`, a skip otherwise.
fn phases_refused(ctx: &mut Ctx<'_>, item: ItemRef, reason: String) -> Op {
    if matches!(
        ctx.rules.scoping.infrastructure_environments,
        ScopeMode::ErrorUnlessExactMatch | ScopeMode::ErrorUnlessPartialMatch
    ) {
        ctx.fail(&item, reason.clone());
    }
    Op::skip(item, reason)
}

/// Lifecycles: created when missing; phases follow `overwrite_existing_lifecycle_phases`.
pub fn lifecycles(ctx: &mut Ctx<'_>) {
    let (src, dst) = (ctx.source.snapshot, ctx.dest.snapshot);
    let filter = ctx.rules.select.lifecycles.clone();
    let mode = ctx.rules.policy.overwrite_existing_lifecycle_phases;
    for m in matches(
        ctx,
        LayerName::Lifecycles,
        &filter,
        &src.lifecycles,
        &dst.lifecycles,
    ) {
        let op = match m {
            Match::Existing { source, dest, id } => {
                let item = ItemRef::new(ResourceKind::Lifecycle, &source.name);
                if mode != OverwriteLifecyclePhases::Always {
                    left_alone(ResourceKind::Lifecycle, &source.name, &id, "exists; its phases and retention are left alone (overwrite_existing_lifecycle_phases)")
                } else {
                    match translate_phases(ctx, &item, source, Some(&dest)) {
                        Err(reason) => phases_refused(ctx, item, reason),
                        Ok(None) => Op::skip(
                            item,
                            "none of its phases' environments exist on the destination",
                        ),
                        Ok(Some(phases)) => {
                            let mut desired = dest.clone();
                            desired.phases = phases.into_iter().collect();
                            desired.release_retention_policy =
                                source.release_retention_policy.clone();
                            desired.tentacle_retention_policy =
                                source.tentacle_retention_policy.clone();
                            desired.description = source.description.clone();
                            update_op(
                                ctx,
                                item,
                                Target::Existing { id },
                                &to_value(&dest),
                                to_value(&desired),
                                "phases overwritten (overwrite_existing_lifecycle_phases = always)",
                                "its phases match the source",
                            )
                        }
                    }
                }
            }
            Match::New { source } => {
                let item = ItemRef::new(ResourceKind::Lifecycle, &source.name);
                let phases = if mode == OverwriteLifecyclePhases::NeverClonePhases {
                    Ok(Some(Vec::new()))
                } else {
                    translate_phases(ctx, &item, source, None)
                };
                match phases {
                    Err(reason) => phases_refused(ctx, item, reason),
                    Ok(None) => Op::skip(
                        item,
                        "none of its phases' environments exist on the destination",
                    ),
                    Ok(Some(phases)) => {
                        let mut lc = source.clone();
                        lc.phases = phases.into_iter().collect();
                        let mut body = to_value(&lc);
                        strip_for_create(&mut body, space(ctx).as_deref());
                        create_op(ctx, item, body, "missing on the destination")
                    }
                }
            }
        };
        ctx.push(LayerName::Lifecycles, op);
    }
}
