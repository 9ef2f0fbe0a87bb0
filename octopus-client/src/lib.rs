//! Read and write traits over the Octopus Deploy REST API, and the HTTP client that
//! implements them.
//!
//! This crate will hold `OctopusRead` (everything a sync reads from a source),
//! `OctopusWrite` (everything it writes to a destination) and `OctopusHttpClient`, a
//! reqwest client with paging, retries, pacing and typed errors. It is not written yet.
