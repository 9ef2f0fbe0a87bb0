//! What a reviewer sees: per changed variable name, what each destination context
//! resolves to before and after. Secrets show as `<secret>` or `<dummy secret>`, typed
//! values by the name of what they name.

use std::collections::BTreeSet;

use octopus_model::{name_key, Variable};

use super::translate::ScopeMap;
use super::{has_key, Merge};
use crate::plan::{ContextResolution, ResolvedValue, VariableReview};
use crate::planner::variable_contexts::{contexts, pending_name, Side};
use crate::resolve::{resolve, Resolution};

/// A value as a reviewer sees it: secrets by kind only, typed values (accounts,
/// certificates, worker pools) by the name of what they name; `added` holds the values
/// this plan adds.
fn shown(v: &Variable, added: &[&Variable], side: &Side<'_>) -> ResolvedValue {
    if v.is_secret() {
        return if added.iter().any(|a| std::ptr::eq(*a, v)) {
            ResolvedValue::DummySecret
        } else {
            ResolvedValue::Secret
        };
    }
    let text = v.value.get().cloned().unwrap_or_default();
    let kind = v.r#type.get().and_then(|t| t.referenced_kind());
    let value = match kind {
        Some(kind) => {
            let name = pending_name(&text)
                .or_else(|| side.index.by_id(kind, &text).map(|e| e.name.clone()));
            match name {
                Some(name) => format!("{} {name}", kind.label()),
                None => text,
            }
        }
        None => text,
    };
    ResolvedValue::Text { value }
}

fn shown_resolution(r: Resolution<'_>, added: &[&Variable], side: &Side<'_>) -> ResolvedValue {
    match r {
        Resolution::Unset => ResolvedValue::Unset,
        Resolution::Value(v) => shown(v, added, side),
        Resolution::Ambiguous(vs) => ResolvedValue::Ambiguous {
            values: vs.into_iter().map(|v| shown(v, added, side)).collect(),
        },
    }
}

impl Merge<'_> {
    /// What each destination context resolves every changed name to, before and after.
    pub(super) fn review(&self) -> Vec<VariableReview> {
        let mut names: Vec<String> = Vec::new();
        let mut seen = BTreeSet::new();
        for v in self
            .dest
            .iter()
            .chain(self.removed)
            .chain(self.added.iter().map(|(v, _)| v))
        {
            if seen.insert(name_key(&v.name)) {
                names.push(v.name.clone());
            }
        }
        let mut out = Vec::new();
        for name in names {
            let key = name_key(&name);
            let before: Vec<&Variable> = self
                .dest
                .iter()
                .chain(self.removed)
                .filter(|v| has_key(&v.name, &key))
                .collect();
            let after: Vec<&Variable> = self
                .desired
                .iter()
                .chain(self.added.iter().map(|(v, _)| v))
                .filter(|v| has_key(&v.name, &key))
                .collect();
            let changed =
                before.len() != after.len() || before.iter().zip(&after).any(|(b, a)| b != a);
            if !changed {
                continue;
            }
            // The scopes are read in place: contexts pass over fields with no values.
            let refs: Vec<&ScopeMap> = before.iter().chain(&after).map(|v| &*v.scope).collect();
            let added: Vec<&Variable> = self.added.iter().map(|(v, _)| v).collect();
            let rows = contexts(self.dest_side, &refs)
                .into_iter()
                .map(|c| ContextResolution {
                    before: shown_resolution(
                        resolve(before.iter().copied(), &c.context),
                        &[],
                        self.dest_side,
                    ),
                    after: shown_resolution(
                        resolve(after.iter().copied(), &c.context),
                        &added,
                        self.dest_side,
                    ),
                    context: c.label,
                })
                .collect();
            out.push(VariableReview {
                name,
                contexts: rows,
            });
        }
        out
    }
}
