//! The pure octosync engine.
//!
//! This crate will hold `Snapshot`, `SyncRules` and `plan(&source, &destination, &rules)`,
//! which decides what to create, update or leave alone on a destination and why. It does
//! no I/O, has no clock and is not async. It is not written yet.
