//! Which value of a variable Octopus picks for a deployment: variable scoping as code.
//!
//! A variable name may have several values, each with a scope. For a deployment (or a
//! runbook run) Octopus considers the values whose scope *matches* the deployment and
//! picks the *most specific* one.
//!
//! # Matching
//!
//! Within one scope field the listed values are alternatives (OR); across fields every
//! constrained field must match (AND). A field with no values does not constrain. So a
//! value scoped to `Environment: [Dev, Test]` and `Action: [Step 1]` applies to Step 1
//! in Dev or in Test, and nowhere else (Octopus's documentation, "Scoping variables",
//! section "Using multiple scopes").
//!
//! | field | matches when |
//! |---|---|
//! | `Environment` | the deployment's environment is listed |
//! | `Machine` | the current deployment target is listed |
//! | `Role` (and the older `TargetRole`) | the current target has one of the listed roles |
//! | `Channel` | the release's channel is listed |
//! | `Tenant` | the deployment's tenant is listed |
//! | `TenantTag` | the deployment's tenant has one of the listed tags |
//! | `Action` | the current step (action) is listed |
//! | `ProcessOwner` | the deployment process (`Projects-N`) or runbook (`Runbooks-N`) is listed |
//!
//! Server-internal fields (`Project`, `User`, `Trigger`, `ParentDeployment`, `Private`)
//! are not scopes a person sets; they do not constrain here.
//!
//! # Precedence
//!
//! Octopus's documentation ("Scoping variables", section "Scope specificity", and
//! `reference/octopus-api.md` of this project) lists the order in which scopes take
//! precedence, most specific first:
//!
//! 1. the current step (action);
//! 2. the current deployment target (machine);
//! 3. roles of the current target that the current step also targets;
//! 4. roles of the current target;
//! 5. the tenant;
//! 6. the tenant's tags;
//! 7. the environment;
//! 8. the channel;
//! 9. the deployment process or runbook (process owner);
//! 10. no scope.
//!
//! [`Specificity`] encodes a matching value's rank as the list of these levels it
//! constrains, compared level by level from the top: a value scoped to a target beats
//! one scoped to an environment, whatever else either has; two values scoped to the
//! same levels rank equal. When the most specific matching values rank equal and hold
//! different values, Octopus's pick is not defined by its documentation:
//! [`resolve`] reports that as [`Resolution::Ambiguous`] rather than guess.
//!
//! Two secrets are never "the same value" (their values are unknown), so two secrets
//! that tie are ambiguous too.
//!
//! # Example
//!
//! ```
//! use octopus_model::Variable;
//! use sync_core::resolve::{resolve, DeploymentContext, Resolution};
//!
//! let values: Vec<Variable> = serde_json::from_value(serde_json::json!([
//!     {"Name": "LogLevel", "Value": "Info"},
//!     {"Name": "LogLevel", "Value": "Warn", "Scope": {"Environment": ["Environments-2"]}},
//! ]))?;
//! let production = DeploymentContext::in_environment("Environments-2");
//! let staging = DeploymentContext::in_environment("Environments-1");
//! assert_eq!(resolve(&values, &production).value(), Some("Warn"));
//! assert_eq!(resolve(&values, &staging).value(), Some("Info"));
//! assert!(matches!(resolve(&values, &DeploymentContext::default()), Resolution::Value(_)));
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::collections::BTreeMap;

use octopus_model::{ScopeField, Variable};

/// One deployment (or runbook run, or one step of it on one target): what a variable's
/// scope is matched against. Ids are the instance's own (`Environments-2`); roles and
/// tenant tags are names (`web-server`, `Region/EU`). Comparison ignores case.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeploymentContext {
    /// The environment deployed to.
    pub environment: Option<String>,
    /// The deployment target the step runs on, if it runs on one.
    pub machine: Option<String>,
    /// The roles of that target.
    pub roles: Vec<String>,
    /// The roles the current step targets (makes a role match rank higher).
    pub step_roles: Vec<String>,
    /// The release's channel (none for a runbook run).
    pub channel: Option<String>,
    /// The tenant deployed for.
    pub tenant: Option<String>,
    /// The tenant's tags (`Set/Tag`).
    pub tenant_tags: Vec<String>,
    /// The current step's action id.
    pub action: Option<String>,
    /// The deployment process's project id or the runbook's id.
    pub process_owner: Option<String>,
}

impl DeploymentContext {
    /// A deployment to an environment and nothing more specific.
    pub fn in_environment(environment: impl Into<String>) -> Self {
        Self {
            environment: Some(environment.into()),
            ..Self::default()
        }
    }
}

/// The levels of [`Specificity`], most specific first.
const LEVELS: usize = 9;

/// How specifically a matching value's scope fits a context: one flag per precedence
/// level (see the module docs), most specific first. Ordered so that a greater value is
/// more specific.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Specificity([bool; LEVELS]);

fn eq(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim()) || a.trim().to_lowercase() == b.trim().to_lowercase()
}

fn one_of(value: Option<&String>, allowed: &[String]) -> bool {
    value.is_some_and(|v| allowed.iter().any(|a| eq(a, v)))
}

fn any_of(values: &[String], allowed: &[String]) -> bool {
    values.iter().any(|v| allowed.iter().any(|a| eq(a, v)))
}

/// The specificity of a scope in a context, or `None` when the scope does not match it.
pub fn specificity(
    scope: &BTreeMap<ScopeField, Vec<String>>,
    context: &DeploymentContext,
) -> Option<Specificity> {
    let mut levels = [false; LEVELS];
    for (field, allowed) in scope {
        if allowed.is_empty() {
            continue;
        }
        let c = context;
        let level = match field {
            ScopeField::Action => {
                if !one_of(c.action.as_ref(), allowed) {
                    return None;
                }
                0
            }
            ScopeField::Machine => {
                if !one_of(c.machine.as_ref(), allowed) {
                    return None;
                }
                1
            }
            ScopeField::Role | ScopeField::TargetRole => {
                if !any_of(&c.roles, allowed) {
                    return None;
                }
                let targeted = c
                    .roles
                    .iter()
                    .filter(|r| allowed.iter().any(|a| eq(a, r)))
                    .any(|r| c.step_roles.iter().any(|s| eq(s, r)));
                if targeted {
                    2
                } else {
                    3
                }
            }
            ScopeField::Tenant => {
                if !one_of(c.tenant.as_ref(), allowed) {
                    return None;
                }
                4
            }
            ScopeField::TenantTag => {
                if !any_of(&c.tenant_tags, allowed) {
                    return None;
                }
                5
            }
            ScopeField::Environment => {
                if !one_of(c.environment.as_ref(), allowed) {
                    return None;
                }
                6
            }
            ScopeField::Channel => {
                if !one_of(c.channel.as_ref(), allowed) {
                    return None;
                }
                7
            }
            ScopeField::ProcessOwner => {
                if !one_of(c.process_owner.as_ref(), allowed) {
                    return None;
                }
                8
            }
            // Server-internal fields: not something a person scopes a value to.
            _ => continue,
        };
        levels[level] = true;
    }
    Some(Specificity(levels))
}

/// The specificity of a variable's scope in a context; `None` when it does not match.
pub fn variable_specificity(
    variable: &Variable,
    context: &DeploymentContext,
) -> Option<Specificity> {
    specificity(&variable.scope, context)
}

/// What a context resolves a variable name to.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolution<'v> {
    /// No value applies.
    Unset,
    /// This value applies (of several equal ones, the first).
    Value(&'v Variable),
    /// Several values apply with the same, highest specificity and differ: Octopus's
    /// pick among them is not defined.
    Ambiguous(Vec<&'v Variable>),
}

impl<'v> Resolution<'v> {
    /// The picked value's text, if one value is picked and it is not a secret.
    pub fn value(&self) -> Option<&'v str> {
        match self {
            Resolution::Value(v) if !v.is_secret() => v.value.get().map(String::as_str),
            _ => None,
        }
    }

    /// The picked variable, if exactly one is picked.
    pub fn variable(&self) -> Option<&'v Variable> {
        match self {
            Resolution::Value(v) => Some(v),
            _ => None,
        }
    }

    /// Whether the pick is ambiguous.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, Resolution::Ambiguous(_))
    }
}

/// Whether two values would deploy the same: both plain, same type, same text (exact,
/// case-sensitive). Secrets are never the same as anything: their values are unknown.
pub fn same_value(a: &Variable, b: &Variable) -> bool {
    !a.is_secret()
        && !b.is_secret()
        && a.value.get() == b.value.get()
        && a.r#type
            .get()
            .unwrap_or(&octopus_model::VariableType::String)
            == b.r#type
                .get()
                .unwrap_or(&octopus_model::VariableType::String)
}

/// The value Octopus picks for `context` among `values` — the values of one variable
/// name (see the module docs for the precedence).
pub fn resolve<'v>(
    values: impl IntoIterator<Item = &'v Variable>,
    context: &DeploymentContext,
) -> Resolution<'v> {
    let mut best: Option<Specificity> = None;
    let mut top: Vec<&'v Variable> = Vec::new();
    for v in values {
        let Some(s) = variable_specificity(v, context) else {
            continue;
        };
        match best {
            Some(b) if s < b => {}
            Some(b) if s == b => top.push(v),
            _ => {
                best = Some(s);
                top = vec![v];
            }
        }
    }
    match top.len() {
        0 => Resolution::Unset,
        1 => Resolution::Value(top[0]),
        _ if top.iter().all(|v| same_value(v, top[0])) => Resolution::Value(top[0]),
        _ => Resolution::Ambiguous(top),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(v: serde_json::Value) -> Vec<Variable> {
        serde_json::from_value(v).unwrap()
    }

    fn target(env: &str, machine: &str, roles: &[&str]) -> DeploymentContext {
        DeploymentContext {
            environment: Some(env.into()),
            machine: Some(machine.into()),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            ..DeploymentContext::default()
        }
    }

    #[test]
    fn a_matching_scoped_value_beats_the_unscoped_one_and_others_fall_back() {
        let v = vars(json!([
            {"Name": "LogLevel", "Value": "Info"},
            {"Name": "LogLevel", "Value": "Warn", "Scope": {"Environment": ["Environments-2", "Environments-3"]}}
        ]));
        for (env, want) in [
            ("Environments-2", "Warn"),
            ("environments-3", "Warn"),
            ("Environments-1", "Info"),
        ] {
            assert_eq!(
                resolve(&v, &DeploymentContext::in_environment(env)).value(),
                Some(want),
                "{env}"
            );
        }
    }

    #[test]
    fn a_target_beats_a_role_which_beats_an_environment() {
        let v = vars(json!([
            {"Name": "X", "Value": "env", "Scope": {"Environment": ["E1"]}},
            {"Name": "X", "Value": "role", "Scope": {"Role": ["web"]}},
            {"Name": "X", "Value": "machine", "Scope": {"Machine": ["M1"]}}
        ]));
        assert_eq!(
            resolve(&v, &target("E1", "M1", &["web"])).value(),
            Some("machine")
        );
        assert_eq!(
            resolve(&v, &target("E1", "M2", &["web"])).value(),
            Some("role")
        );
        assert_eq!(
            resolve(&v, &target("E1", "M2", &["db"])).value(),
            Some("env")
        );
        assert_eq!(resolve(&v, &target("E2", "M2", &["db"])), Resolution::Unset);
    }

    #[test]
    fn the_step_outranks_the_target_and_a_step_targeted_role_outranks_another_role() {
        let v = vars(json!([
            {"Name": "X", "Value": "machine", "Scope": {"Machine": ["M1"]}},
            {"Name": "X", "Value": "step", "Scope": {"Action": ["A1"]}},
            {"Name": "X", "Value": "db", "Scope": {"Role": ["db"]}},
            {"Name": "X", "Value": "web", "Scope": {"Role": ["web"]}}
        ]));
        let mut c = target("E1", "M1", &["web", "db"]);
        c.action = Some("A1".into());
        assert_eq!(resolve(&v, &c).value(), Some("step"));
        let mut c = target("E1", "M9", &["web", "db"]);
        assert!(resolve(&v, &c).is_ambiguous(), "two roles of equal rank");
        c.step_roles = vec!["db".into()];
        assert_eq!(resolve(&v, &c).value(), Some("db"));
    }

    #[test]
    fn every_constrained_field_must_match() {
        let v = vars(json!([
            {"Name": "X", "Value": "scoped", "Scope": {"Environment": ["Dev", "Test"], "Action": ["Step1"]}},
            {"Name": "X", "Value": "unscoped"}
        ]));
        let mut c = DeploymentContext::in_environment("Test");
        assert_eq!(resolve(&v, &c).value(), Some("unscoped"));
        c.action = Some("Step1".into());
        assert_eq!(resolve(&v, &c).value(), Some("scoped"));
        c.environment = Some("Stage".into());
        assert_eq!(resolve(&v, &c).value(), Some("unscoped"));
    }

    #[test]
    fn equal_rank_with_different_values_is_ambiguous_but_equal_values_are_not() {
        let v = vars(json!([
            {"Name": "X", "Value": "a", "Scope": {"Environment": ["E1"]}},
            {"Name": "X", "Value": "b", "Scope": {"Environment": ["E1", "E2"]}}
        ]));
        assert!(resolve(&v, &DeploymentContext::in_environment("E1")).is_ambiguous());
        assert_eq!(
            resolve(&v, &DeploymentContext::in_environment("E2")).value(),
            Some("b")
        );
        let same = vars(json!([
            {"Name": "X", "Value": "a", "Scope": {"Environment": ["E1"]}},
            {"Name": "X", "Value": "a", "Scope": {"Environment": ["E1", "E2"]}}
        ]));
        assert_eq!(
            resolve(&same, &DeploymentContext::in_environment("E1")).value(),
            Some("a")
        );
    }

    #[test]
    fn values_compare_case_sensitively_and_two_secrets_always_differ() {
        let v = vars(json!([
            {"Name": "X", "Value": "https://Api.example.com"},
            {"Name": "X", "Value": "https://api.example.com"}
        ]));
        assert!(resolve(&v, &DeploymentContext::default()).is_ambiguous());
        let s = vars(json!([
            {"Name": "X", "Value": null, "Type": "Sensitive"},
            {"Name": "X", "Value": null, "Type": "Sensitive"}
        ]));
        assert!(resolve(&s, &DeploymentContext::default()).is_ambiguous());
        assert_eq!(
            resolve(&s[..1], &DeploymentContext::default()).value(),
            None,
            "a secret's text is never shown"
        );
    }

    #[test]
    fn tenant_outranks_tenant_tag_which_outranks_environment_and_channel_ranks_below() {
        let v = vars(json!([
            {"Name": "X", "Value": "env", "Scope": {"Environment": ["E1"]}},
            {"Name": "X", "Value": "tag", "Scope": {"TenantTag": ["Region/EU"]}},
            {"Name": "X", "Value": "tenant", "Scope": {"Tenant": ["T1"]}},
            {"Name": "X", "Value": "channel", "Scope": {"Channel": ["C1"]}}
        ]));
        let mut c = DeploymentContext::in_environment("E1");
        c.channel = Some("C1".into());
        assert_eq!(resolve(&v, &c).value(), Some("env"));
        c.tenant_tags = vec!["region/eu".into()];
        assert_eq!(resolve(&v, &c).value(), Some("tag"));
        c.tenant = Some("T1".into());
        assert_eq!(resolve(&v, &c).value(), Some("tenant"));
        let c = DeploymentContext {
            channel: Some("C1".into()),
            ..DeploymentContext::default()
        };
        assert_eq!(resolve(&v, &c).value(), Some("channel"));
    }
}
