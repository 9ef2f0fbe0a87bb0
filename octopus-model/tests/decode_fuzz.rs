//! Fuzzing model decoding with proptest: arbitrary JSON, arbitrary bytes and real
//! fixtures with one value replaced by arbitrary JSON are decoded into every resource
//! type. Decoding may fail, with a path and a message, but it never panics, and what
//! decodes serializes and decodes again to the same document.

use std::fs;
use std::path::Path;
use std::sync::OnceLock;

use octopus_model::*;
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Decodes `value` as `T` (and as a page of `T`); a success must round-trip.
fn check<T: DeserializeOwned + Serialize>(value: &Value) -> Result<(), TestCaseError> {
    match decode_value::<T>(value.clone()) {
        Ok(decoded) => {
            let back = serde_json::to_value(&decoded)
                .map_err(|e| TestCaseError::fail(format!("decoded but cannot serialize: {e}")))?;
            let again = decode_value::<T>(back.clone())
                .map_err(|e| TestCaseError::fail(format!("written form does not decode: {e}")))?;
            let twice = serde_json::to_value(&again)
                .map_err(|e| TestCaseError::fail(format!("cannot serialize again: {e}")))?;
            prop_assert_eq!(back, twice);
        }
        Err(e) => prop_assert!(!e.to_string().is_empty()),
    }
    let _ = decode_value::<Collection<T>>(value.clone());
    Ok(())
}

/// Every resource type of the model.
fn check_all(value: &Value) -> Result<(), TestCaseError> {
    check::<Project>(value)?;
    check::<ProjectGroup>(value)?;
    check::<Environment>(value)?;
    check::<Lifecycle>(value)?;
    check::<Channel>(value)?;
    check::<Runbook>(value)?;
    check::<DeploymentProcess>(value)?;
    check::<RunbookProcess>(value)?;
    check::<VariableSet>(value)?;
    check::<Variable>(value)?;
    check::<LibraryVariableSet>(value)?;
    check::<Tenant>(value)?;
    check::<TenantVariables>(value)?;
    check::<TenantScopedVariables>(value)?;
    check::<TagSet>(value)?;
    check::<Feed>(value)?;
    check::<Account>(value)?;
    check::<Certificate>(value)?;
    check::<WorkerPool>(value)?;
    check::<Machine>(value)?;
    check::<MachinePolicy>(value)?;
    check::<ActionTemplate>(value)?;
    check::<CommunityActionTemplate>(value)?;
    check::<Team>(value)?;
    check::<User>(value)?;
    check::<UserRole>(value)?;
    check::<ScopedUserRole>(value)?;
    check::<RootDocument>(value)?;
    check::<Space>(value)?;
    check::<ParentEnvironment>(value)?;
    check::<DeploymentFreeze>(value)?;
    Ok(())
}

/// Field names the resources declare, so arbitrary objects hit real fields often.
const KEYS: &[&str] = &[
    "Id",
    "Name",
    "Steps",
    "Actions",
    "Variables",
    "Scope",
    "Environment",
    "Value",
    "Type",
    "IsSensitive",
    "Properties",
    "Packages",
    "Templates",
    "Phases",
    "Items",
    "Links",
    "Tags",
    "ProjectEnvironments",
    "TenantTags",
    "AccountType",
    "FeedType",
    "ContentType",
    "Version",
    "Password",
    "HasValue",
    "NewValue",
    "Rules",
    "ProjectVariables",
    "LibraryVariables",
    "IncludedLibraryVariableSetIds",
    "TenantedDeploymentMode",
    "PersistenceSettings",
    "Parameters",
    "Endpoint",
    "Roles",
    "SpaceId",
    "OwnerId",
    "ScopeValues",
    "TotalResults",
];

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
        prop::sample::select(KEYS).prop_map(|k| Value::String(k.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        prop::sample::select(KEYS).prop_map(str::to_owned),
                        "\\PC{0,8}"
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// Every fixture document (single resources, bare arrays and pages), read once.
fn fixtures() -> &'static [Value] {
    static DOCS: OnceLock<Vec<Value>> = OnceLock::new();
    DOCS.get_or_init(read_fixtures)
}

fn read_fixtures() -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut docs = Vec::new();
    let Ok(dirs) = fs::read_dir(&root) else {
        return docs;
    };
    for dir in dirs.flatten() {
        let Ok(files) = fs::read_dir(dir.path()) else {
            continue;
        };
        for file in files.flatten() {
            if let Some(doc) = fs::read(file.path())
                .ok()
                .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            {
                docs.push(doc);
            }
        }
    }
    docs.sort_by_key(Value::to_string);
    docs
}

/// Replaces the value at a pseudo-random place in `doc` (chosen by `pick`) with `new`.
fn replace_somewhere(doc: &mut Value, mut pick: usize, new: Value) {
    let mut here = doc;
    loop {
        let len = match &*here {
            Value::Object(map) => map.len(),
            Value::Array(items) => items.len(),
            _ => 0,
        };
        // Stop at a leaf, or now and then on the way down.
        if len == 0 || pick % 4 == 0 {
            *here = new;
            return;
        }
        let index = pick % len;
        pick /= 3;
        here = match here {
            Value::Object(map) => match map.values_mut().nth(index) {
                Some(v) => v,
                None => return,
            },
            Value::Array(items) => &mut items[index],
            _ => return,
        };
    }
}

#[test]
fn the_fixtures_are_there() {
    assert!(fixtures().len() > 30, "the fuzz seeds need the fixtures");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics(value in json()) {
        check_all(&value)?;
    }

    #[test]
    fn a_fixture_with_one_value_replaced_never_panics(which in any::<usize>(), pick in any::<usize>(), new in json()) {
        let docs = fixtures();
        prop_assume!(!docs.is_empty());
        let mut doc = docs[which % docs.len()].clone();
        replace_somewhere(&mut doc, pick, new);
        check_all(&doc)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode::<Project>(&bytes);
        let _ = decode::<VariableSet>(&bytes);
        let _ = decode::<DeploymentProcess>(&bytes);
        let _ = decode::<Collection<Tenant>>(&bytes);
    }

    #[test]
    fn a_fixture_cut_short_is_an_error_with_a_message(which in any::<usize>(), cut in any::<usize>()) {
        let docs = fixtures();
        prop_assume!(!docs.is_empty());
        let text = docs[which % docs.len()].to_string();
        let cut = cut % text.len().max(1);
        let bytes = &text.as_bytes()[..cut];
        // A prefix of a JSON document is never a whole document (the last brace is missing).
        let decoded = decode::<Value>(bytes);
        prop_assert!(decoded.is_err());
        let e = decoded.err().map(|e| e.to_string()).unwrap_or_default();
        prop_assert!(!e.is_empty());
        let _ = decode::<Project>(bytes);
    }
}
