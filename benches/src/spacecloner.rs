//! SpaceCloner's request cost for a bench-M shape, from its cost model
//! (reference/spacecloner.md §h): `46 + P·(11 + 3R) + 4L + 3S + T + W`.
//!
//! SpaceCloner reads and rewrites every document on every run, so its cost barely
//! depends on what changed: the first run adds one write per new runbook (`P·R`), per
//! new script module (`S`) and per simple entity created (`W`); a re-run still re-saves
//! its tag sets and machine policies.

use crate::bench_m::Shape;

/// Simple entities SpaceCloner writes on the first run of bench-M: the lifecycle, the
/// project group, the tag set, the machine policy and the step templates.
fn first_run_entities(shape: &Shape) -> u64 {
    4 + shape.step_templates as u64
}

/// Entities SpaceCloner re-saves on every run: the tag set and the machine policy.
const ALWAYS_RESAVED: u64 = 2;

fn base(shape: &Shape) -> u64 {
    let p = shape.projects as u64;
    let r = shape.runbooks as u64;
    46 + p * (11 + 3 * r)
        + 4 * shape.library_variable_sets as u64
        + 3 * shape.script_modules as u64
        + shape.tenants as u64
}

/// Requests of a first CloneSpace run into a destination without the projects.
pub fn first_sync(shape: &Shape) -> u64 {
    base(shape)
        + (shape.projects * shape.runbooks) as u64
        + shape.script_modules as u64
        + first_run_entities(shape)
}

/// Requests of a re-run (with or without a change: it rewrites every document anyway).
pub fn resync(shape: &Shape) -> u64 {
    base(shape) + ALWAYS_RESAVED
}
