//! Programs that users of octosync copy: each file under `examples/` runs with
//! `cargo run -p examples --example NAME`. None are written yet.
