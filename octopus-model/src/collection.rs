//! The paging envelope every list endpoint answers with.

use serde::{Deserialize, Serialize};

use crate::field::{Dict, Extra, Field, List, Omit};

/// One page of a list endpoint: `{ItemType, TotalResults, ItemsPerPage, Items, Links}`.
///
/// Follow [`Collection::next_page`] until it is `None` to read every item; never assume
/// the server honoured a large `take`.
///
/// ```
/// use octopus_model::{Collection, Environment};
///
/// let page: Collection<Environment> = serde_json::from_str(r#"{
///     "ItemType": "Environment", "TotalResults": 31, "ItemsPerPage": 30,
///     "Items": [{"Id": "Environments-1", "Name": "Dev"}],
///     "Links": {"Page.Next": "/api/Spaces-1/environments?skip=30&take=30"}
/// }"#)?;
/// assert_eq!(page.next_page(), Some("/api/Spaces-1/environments?skip=30&take=30"));
/// assert_eq!(page.items.len(), 1);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", bound(deserialize = "T: Deserialize<'de>"))]
pub struct Collection<T> {
    /// The kind of the items (`"Project"`).
    #[serde(default, skip_serializing_if = "Omit::omit")]
    pub item_type: Field<String>,
    /// How many items match in all.
    #[serde(default, skip_serializing_if = "Omit::omit")]
    pub total_results: Field<u64>,
    /// The page size the server used.
    #[serde(default, skip_serializing_if = "Omit::omit")]
    pub items_per_page: Field<u64>,
    /// How many pages there are.
    #[serde(default, skip_serializing_if = "Omit::omit")]
    pub number_of_pages: Field<u64>,
    /// The zero-based number of the last page.
    #[serde(default, skip_serializing_if = "Omit::omit")]
    pub last_page_number: Field<u64>,
    /// The items of this page.
    #[serde(default, skip_serializing_if = "Omit::omit")]
    pub items: List<T>,
    /// URI templates: `Self`, `Template`, `Page.All`, `Page.Current`, `Page.Last`,
    /// `Page.Next` (absent on the last page).
    #[serde(default, skip_serializing_if = "Omit::omit")]
    pub links: Dict<String>,
    /// Every field this crate does not model (`IsStale`, `LastModifiedOn`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

impl<T> Default for Collection<T> {
    fn default() -> Self {
        Self {
            item_type: Field::Missing,
            total_results: Field::Missing,
            items_per_page: Field::Missing,
            number_of_pages: Field::Missing,
            last_page_number: Field::Missing,
            items: List::default(),
            links: Dict::default(),
            extra: Extra::default(),
        }
    }
}

impl<T> Collection<T> {
    /// The `Page.Next` link, if there is another page.
    pub fn next_page(&self) -> Option<&str> {
        self.links.get("Page.Next").map(String::as_str)
    }

    /// The items of this page, consumed.
    pub fn take_items(self) -> Vec<T> {
        self.items.into_inner()
    }
}

impl<T> IntoIterator for Collection<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_inner().into_iter()
    }
}
