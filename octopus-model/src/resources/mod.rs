//! The typed resources, one module per area of the API.

pub mod freezes;
pub mod infrastructure;
pub mod lifecycle;
pub mod process;
pub mod project;
pub mod root;
pub mod security;
pub mod templates;
pub mod tenant;
pub mod variables;

/// Whether an id is a built-in slug id (`teams-everyone`, `userroles-projectviewer`,
/// `feeds-builtin`) rather than a numbered one (`Teams-12`).
pub fn is_slug_id(id: &str) -> bool {
    match id.rsplit_once('-') {
        Some((_, last)) => !last.bytes().all(|b| b.is_ascii_digit()) || last.is_empty(),
        None => true,
    }
}
