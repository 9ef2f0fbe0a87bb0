//! The documents that belong to projects and runbooks, indexed by their owner's id
//! (lower case), so planning a space stays linear in its size.

use std::collections::BTreeMap;

use octopus_model::{Channel, DeploymentProcess, Runbook, RunbookProcess, VariableSet};

use crate::snapshot::Snapshot;

/// The per-owner documents of one side.
#[derive(Default)]
pub struct Children<'a> {
    channels: BTreeMap<String, Vec<&'a Channel>>,
    runbooks: BTreeMap<String, Vec<&'a Runbook>>,
    runbook_by_id: BTreeMap<String, &'a Runbook>,
    processes: BTreeMap<String, &'a DeploymentProcess>,
    runbook_processes: BTreeMap<String, &'a RunbookProcess>,
    variable_sets: BTreeMap<String, &'a VariableSet>,
    default_channels: BTreeMap<String, &'a Channel>,
}

fn key(id: Option<&str>) -> Option<String> {
    id.map(str::to_lowercase)
}

impl<'a> Children<'a> {
    /// Indexes a snapshot.
    pub fn build(snap: &'a Snapshot) -> Self {
        let mut c = Children::default();
        for ch in &snap.channels {
            if let Some(p) = key(ch.project_id.get().map(|i| i.as_str())) {
                if ch.is_default.get_or(false) {
                    c.default_channels.entry(p.clone()).or_insert(ch);
                }
                c.channels.entry(p).or_default().push(ch);
            }
        }
        for rb in &snap.runbooks {
            if let Some(p) = key(rb.project_id.get().map(|i| i.as_str())) {
                c.runbooks.entry(p).or_default().push(rb);
            }
            if let Some(id) = key(rb.id.get().map(|i| i.as_str())) {
                c.runbook_by_id.insert(id, rb);
            }
        }
        for dp in &snap.deployment_processes {
            if let Some(p) = key(dp.project_id.get().map(|i| i.as_str())) {
                c.processes.entry(p).or_insert(dp);
            }
        }
        for rp in &snap.runbook_processes {
            if let Some(r) = key(rp.runbook_id.get().map(|i| i.as_str())) {
                c.runbook_processes.entry(r).or_insert(rp);
            }
        }
        for vs in &snap.variable_sets {
            if let Some(o) = key(vs.owner_id.get().map(String::as_str)) {
                c.variable_sets.entry(o).or_insert(vs);
            }
        }
        c
    }

    /// The channels of a project.
    pub fn channels(&self, project: &str) -> Vec<&'a Channel> {
        self.channels
            .get(&project.to_lowercase())
            .cloned()
            .unwrap_or_default()
    }

    /// The default channel of a project.
    pub fn default_channel(&self, project: &str) -> Option<&'a Channel> {
        self.default_channels.get(&project.to_lowercase()).copied()
    }

    /// The runbooks of a project.
    pub fn runbooks(&self, project: &str) -> Vec<&'a Runbook> {
        self.runbooks
            .get(&project.to_lowercase())
            .cloned()
            .unwrap_or_default()
    }

    /// A runbook by id.
    pub fn runbook(&self, id: &str) -> Option<&'a Runbook> {
        self.runbook_by_id.get(&id.to_lowercase()).copied()
    }

    /// The deployment process of a project.
    pub fn process(&self, project: &str) -> Option<&'a DeploymentProcess> {
        self.processes.get(&project.to_lowercase()).copied()
    }

    /// The process of a runbook.
    pub fn runbook_process(&self, runbook: &str) -> Option<&'a RunbookProcess> {
        self.runbook_processes.get(&runbook.to_lowercase()).copied()
    }

    /// The variable set of a project or library variable set.
    pub fn variable_set(&self, owner: &str) -> Option<&'a VariableSet> {
        self.variable_sets.get(&owner.to_lowercase()).copied()
    }
}
