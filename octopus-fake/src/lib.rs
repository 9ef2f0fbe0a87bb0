//! An in-memory Octopus Deploy server that speaks the real REST API over HTTP.
//!
//! It will serve the collections a sync reads and writes, with the real envelopes,
//! paging, errors and side effects, for tests and for `octosync demo`. It is not written
//! yet.
