//! The paged collection envelope (`ItemType`, `TotalResults`, `Items`, `Links` with
//! `Page.Next`), exactly as clients follow it.

use serde_json::{json, Map, Value};

use crate::context::ApiRequest;
use crate::reply::ApiError;

/// The `take` of the `Page.All` link: what the real server means by "everything".
pub const TAKE_ALL: usize = 2_147_483_647;
/// The default page size.
pub(crate) const DEFAULT_TAKE: usize = 30;

/// `skip` and `take` from the query.
pub(crate) fn window(req: &ApiRequest) -> Result<(usize, usize), ApiError> {
    let number = |name: &str, default: usize| -> Result<usize, ApiError> {
        match req.param(name) {
            None | Some("") => Ok(default),
            Some(v) => v.parse::<i64>().map(|n| n.max(0) as usize).map_err(|_| {
                ApiError::bad_request(
                    format!("The value '{v}' is not valid for {name}."),
                    vec![format!("The value '{v}' is not valid for {name}.")],
                )
            }),
        }
    };
    Ok((number("skip", 0)?, number("take", DEFAULT_TAKE)?))
}

/// The query string of a page link: the request's own filters plus `skip`/`take`.
fn page_query(req: &ApiRequest, skip: usize, take: usize) -> String {
    let mut parts: Vec<String> = req
        .query
        .iter()
        .filter(|(k, _)| k.as_str() != "skip" && k.as_str() != "take" && k.as_str() != "apikey")
        .map(|(k, v)| format!("{}={}", original_name(k), encode(v)))
        .collect();
    parts.sort();
    parts.push(format!("skip={skip}"));
    parts.push(format!("take={take}"));
    parts.join("&")
}

/// The documented spelling of a lower-cased query parameter.
fn original_name(lower: &str) -> &str {
    match lower {
        "partialname" => "partialName",
        "projectid" => "projectId",
        "feedtype" => "feedType",
        "contenttype" => "contentType",
        "accounttype" => "accountType",
        "includesystem" => "includeSystem",
        "fromautoid" => "fromAutoId",
        "toautoid" => "toAutoId",
        "documenttypes" => "documentTypes",
        "eventcategories" => "eventCategories",
        "excludedifference" => "excludeDifference",
        other => other,
    }
}

fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b',' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The envelope for one page of `total` matches; `items` is that page only.
pub(crate) fn envelope(
    path: &str,
    item_type: &str,
    req: &ApiRequest,
    skip: usize,
    take: usize,
    total: usize,
    items: Vec<Value>,
) -> Value {
    let per_page = take.max(1);
    let pages = total.div_ceil(per_page).max(1);
    let last = pages - 1;
    let mut links = Map::new();
    links.insert(
        "Self".into(),
        json!(format!("{path}?{}", page_query(req, skip, take))),
    );
    links.insert(
        "Template".into(),
        json!(format!("{path}{{?skip,take,ids,partialName}}")),
    );
    links.insert(
        "Page.All".into(),
        json!(format!("{path}?{}", page_query(req, 0, TAKE_ALL))),
    );
    links.insert(
        "Page.Current".into(),
        json!(format!("{path}?{}", page_query(req, skip, take))),
    );
    links.insert(
        "Page.Last".into(),
        json!(format!(
            "{path}?{}",
            page_query(req, last.saturating_mul(per_page), take)
        )),
    );
    if take > 0 && skip.saturating_add(take) < total {
        links.insert(
            "Page.Next".into(),
            json!(format!("{path}?{}", page_query(req, skip + take, take))),
        );
    }
    json!({
        "ItemType": item_type,
        "TotalResults": total,
        "ItemsPerPage": take,
        "NumberOfPages": pages,
        "LastPageNumber": last,
        "Items": items,
        "Links": links,
    })
}
