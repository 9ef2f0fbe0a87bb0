//! Benchmarks for octosync: criterion benches of the engine and the request-economy
//! harness. None are written yet.
