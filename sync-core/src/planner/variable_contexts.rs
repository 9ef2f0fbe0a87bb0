//! The deployment contexts of one side that a variable name's values can tell apart.
//!
//! "Context" means a combination that exists on that side, not every combination one
//! could imagine: each environment; within it, where the values mention targets or
//! roles, each target that a value names or that has a role a value names (targets alike
//! in what the values can see are one context), plus one "a target with role R" per
//! role a value names (a target the environment may gain); and where values are scoped
//! to channels, steps, processes, tenants or tenant tags, each one named plus "another
//! one". A combination of dimensions is the product of these lists, so the contexts are
//! few for real variable sets; past [`MAX_CONTEXTS`] the later dimensions are left out.

use std::collections::{BTreeMap, BTreeSet};

use std::borrow::Cow;

use octopus_model::{name_key, same_name, NameKey, ResourceKind, ScopeField};

use crate::index::NameIndex;
use crate::resolve::DeploymentContext;
use crate::snapshot::Snapshot;

/// A scope as the planner handles it.
pub type ScopeMap = BTreeMap<ScopeField, Vec<String>>;

/// More contexts than this and the later dimensions (steps, processes, tenants, tags)
/// are not expanded.
pub const MAX_CONTEXTS: usize = 2_000;

/// One context with a label a reviewer reads (`Staging · role SQL-Server`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabeledContext {
    /// What a person reads.
    pub label: String,
    /// The context.
    pub context: DeploymentContext,
}

/// One side of the sync, for naming what ids stand for.
pub struct Side<'s> {
    /// The snapshot.
    pub snapshot: &'s Snapshot,
    /// Its index.
    pub index: &'s NameIndex,
    /// Action id (lower case) -> action name.
    pub actions: BTreeMap<String, String>,
}

impl Side<'_> {
    /// What a scope value stands for: the name of the environment, target, channel,
    /// tenant, step, project or runbook it names; the value itself otherwise.
    pub fn name(&self, field: &ScopeField, id: &str) -> String {
        if let Some(name) = pending_name(id) {
            return name;
        }
        if *field == ScopeField::Action {
            if let Some(n) = self.actions.get(&id.to_lowercase()) {
                return n.clone();
            }
        }
        let kinds: &[ResourceKind] = match field {
            // Environment scopes may name parent environments (2025.4+).
            ScopeField::Environment => {
                &[ResourceKind::Environment, ResourceKind::ParentEnvironment]
            }
            ScopeField::Machine => &[ResourceKind::Machine],
            ScopeField::Channel => &[ResourceKind::Channel],
            ScopeField::Tenant => &[ResourceKind::Tenant],
            ScopeField::ProcessOwner => &[ResourceKind::Project, ResourceKind::Runbook],
            _ => &[],
        };
        kinds
            .iter()
            .find_map(|k| self.index.by_id(*k, id))
            .map(|e| e.name.clone())
            .unwrap_or_else(|| id.to_owned())
    }

    /// A scope in words: `Environment Staging, Production; Role SQL-Server`, or
    /// `unscoped`.
    pub fn describe(&self, scope: &ScopeMap) -> String {
        let parts: Vec<String> = scope
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(field, values)| {
                let names: Vec<String> = values.iter().map(|v| self.name(field, v)).collect();
                format!("{} {}", field.as_str(), names.join(", "))
            })
            .collect();
        if parts.is_empty() {
            "unscoped".to_owned()
        } else {
            parts.join("; ")
        }
    }
}

/// Past this many values, [`mentioned`] tells repeats by their keys rather than by
/// comparing each value with those before it.
const FEW: usize = 16;

fn mentioned<'a>(scopes: &[&'a ScopeMap], field: &ScopeField) -> Vec<&'a String> {
    // A name's few values mention few distinct values: compared in place, no key is
    // built for them.
    let mut seen: Option<BTreeSet<NameKey<'a>>> = None;
    let mut out: Vec<&'a String> = Vec::new();
    for s in scopes {
        let also = if *field == ScopeField::Role {
            s.get(&ScopeField::TargetRole)
        } else {
            None
        };
        for v in s.get(field).into_iter().chain(also).flatten() {
            let new = match &mut seen {
                Some(seen) => seen.insert(NameKey::new(v)),
                None => !out.iter().any(|o| same_name(o, v)),
            };
            if new {
                out.push(v);
                if seen.is_none() && out.len() > FEW {
                    seen = Some(out.iter().map(|o| NameKey::new(o)).collect());
                }
            }
        }
    }
    out
}

/// The name inside a pending placeholder (`(pending channel "QA" of "OctoFX")` → `QA`):
/// an item this plan creates has no id yet.
pub fn pending_name(text: &str) -> Option<String> {
    let rest = text.strip_prefix("(pending ")?;
    let start = rest.find('"')?;
    let end = rest[start + 1..].find('"')?;
    Some(rest[start + 1..start + 1 + end].to_owned())
}

/// A dimension's options: the context change and its label part.
type Options = Vec<(Option<String>, String)>;

fn named_plus_other(
    side: &Side<'_>,
    scopes: &[&ScopeMap],
    field: ScopeField,
    what: &str,
) -> Options {
    let values = mentioned(scopes, &field);
    if values.is_empty() {
        // No option but "any": [`expand`] leaves the contexts as they are.
        return Vec::new();
    }
    let mut out: Options = vec![(None, String::new())];
    for v in values {
        let name = side.name(&field, v);
        let mut label = String::with_capacity(what.len() + 1 + name.len());
        label.push_str(what);
        label.push(' ');
        label.push_str(&name);
        out.push((Some(v.clone()), label));
    }
    out
}

/// The contexts of `side` that the values with these scopes can tell apart (see the
/// module docs), in a stable order: environments in the side's order, then the other
/// dimensions.
pub fn contexts(side: &Side<'_>, scopes: &[&ScopeMap]) -> Vec<LabeledContext> {
    let snap = side.snapshot;
    // Borrowed from the snapshot: the contexts copy what they keep.
    let mut envs: Vec<(Option<&str>, Cow<'_, str>)> = snap
        .environments
        .iter()
        .filter_map(|e| {
            e.id.get()
                .map(|id| (Some(id.as_str()), Cow::Borrowed(e.name.as_str())))
        })
        .collect();
    let known = envs.len();
    for v in mentioned(scopes, &ScopeField::Environment) {
        let is_known = envs[..known]
            .iter()
            .any(|(id, _)| id.is_some_and(|id| same_name(id, v)));
        if !is_known {
            envs.push((
                Some(v.as_str()),
                Cow::Owned(side.name(&ScopeField::Environment, v)),
            ));
        }
    }
    if envs.is_empty() {
        envs.push((None, Cow::Borrowed("(no environment)")));
    }

    let roles = mentioned(scopes, &ScopeField::Role);
    let machines = mentioned(scopes, &ScopeField::Machine);
    let role_keys: BTreeSet<NameKey<'_>> = roles.iter().map(|r| NameKey::new(r)).collect();
    let machine_keys: BTreeSet<NameKey<'_>> = machines.iter().map(|m| NameKey::new(m)).collect();

    let mut out: Vec<LabeledContext> = Vec::new();
    for (env, env_label) in &envs {
        let env = env.map(str::to_owned);
        if roles.is_empty() && machines.is_empty() {
            // No target to tell apart: the environment alone.
            out.push(LabeledContext {
                label: env_label.clone().into_owned(),
                context: DeploymentContext {
                    environment: env,
                    ..DeploymentContext::default()
                },
            });
            continue;
        }
        // Targets: none, the relevant real ones (deduplicated by what values can see),
        // then one per named role.
        let mut targets: Vec<(Option<String>, Vec<String>, String)> =
            vec![(None, Vec::new(), String::new())];
        if !roles.is_empty() || !machines.is_empty() {
            let mut seen: BTreeSet<(Option<String>, Vec<String>)> = BTreeSet::new();
            seen.insert((None, Vec::new()));
            for m in &snap.machines {
                let Some(id) = m.id.get().map(|i| i.as_str().to_owned()) else {
                    continue;
                };
                let in_env = env.as_ref().is_none_or(|e| {
                    m.environment_ids
                        .iter()
                        .any(|x| x.as_str().eq_ignore_ascii_case(e))
                });
                let named = machine_keys.contains(&NameKey::new(&id));
                let mut seen_roles: Vec<String> = m
                    .roles
                    .iter()
                    .filter(|r| role_keys.contains(&NameKey::new(r)))
                    .map(|r| name_key(r))
                    .collect();
                seen_roles.sort();
                seen_roles.dedup();
                if !in_env || (!named && seen_roles.is_empty()) {
                    continue;
                }
                let key = (named.then(|| name_key(&id)), seen_roles.clone());
                if seen.insert(key) {
                    let label = format!("target {}", m.name);
                    targets.push((Some(id), m.roles.iter().cloned().collect(), label));
                }
            }
            for r in &roles {
                if seen.insert((None, vec![name_key(r)])) {
                    targets.push((
                        Some(format!("(a target with role {r})")),
                        vec![(*r).clone()],
                        format!("role {r}"),
                    ));
                }
            }
        }
        for (machine, machine_roles, target_label) in targets {
            let base = DeploymentContext {
                environment: env.clone(),
                machine,
                roles: machine_roles,
                ..DeploymentContext::default()
            };
            let label = join_label(env_label, &target_label);
            out.push(LabeledContext {
                label,
                context: base,
            });
        }
    }

    type Setter = fn(&mut DeploymentContext, Option<String>);
    let dims: [(ScopeField, &str, Setter); 4] = [
        (ScopeField::Channel, "channel", |c, v| c.channel = v),
        (ScopeField::ProcessOwner, "process", |c, v| {
            c.process_owner = v
        }),
        (ScopeField::Action, "step", |c, v| c.action = v),
        (ScopeField::Tenant, "tenant", |c, v| c.tenant = v),
    ];
    for (field, what, setter) in dims {
        let options = named_plus_other(side, scopes, field, what);
        out = expand(out, &options, |c, v| setter(c, v.clone()));
    }
    let tags = mentioned(scopes, &ScopeField::TenantTag);
    if !tags.is_empty() {
        let mut options: Vec<(Vec<String>, String)> = vec![(Vec::new(), String::new())];
        let mut seen: BTreeSet<Vec<String>> = BTreeSet::new();
        seen.insert(Vec::new());
        for t in &tags {
            if seen.insert(vec![name_key(t)]) {
                options.push((vec![(*t).clone()], format!("tenant tag {t}")));
            }
        }
        let tag_keys: BTreeSet<String> = tags.iter().map(|t| name_key(t)).collect();
        for tenant in &snap.tenants {
            let mut has: Vec<String> = tenant
                .tenant_tags
                .iter()
                .filter(|t| tag_keys.contains(&name_key(t)))
                .cloned()
                .collect();
            has.sort_by_key(|t| name_key(t));
            let key: Vec<String> = has.iter().map(|t| name_key(t)).collect();
            if seen.insert(key) {
                options.push((has, format!("tenant {}", tenant.name)));
            }
        }
        let options: Vec<(Option<Vec<String>>, String)> =
            options.into_iter().map(|(t, l)| (Some(t), l)).collect();
        out = expand(out, &options, |c, v| {
            c.tenant_tags = v.clone().unwrap_or_default();
        });
    }
    out
}

fn join_label(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (_, true) => a.to_owned(),
        (true, false) => b.to_owned(),
        (false, false) => {
            // Written piece by piece: every context of a large set is labelled.
            const JOIN: &str = " · ";
            let mut label = String::with_capacity(a.len() + JOIN.len() + b.len());
            label.push_str(a);
            label.push_str(JOIN);
            label.push_str(b);
            label
        }
    }
}

fn expand<T>(
    base: Vec<LabeledContext>,
    options: &[(Option<T>, String)],
    set: impl Fn(&mut DeploymentContext, &Option<T>),
) -> Vec<LabeledContext> {
    if options.len() <= 1 || base.len().saturating_mul(options.len()) > MAX_CONTEXTS {
        return base;
    }
    let mut out = Vec::with_capacity(base.len() * options.len());
    for b in &base {
        for (value, label) in options {
            let mut context = b.context.clone();
            set(&mut context, value);
            out.push(LabeledContext {
                label: join_label(&b.label, label),
                context,
            });
        }
    }
    out
}
