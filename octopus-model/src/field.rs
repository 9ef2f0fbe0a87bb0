//! Field wrappers that remember how a value arrived, so a document written back is the
//! document that was read: a missing field stays missing, an explicit `null` stays `null`
//! and `[]` stays `[]`.

use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// Decides whether a field is left out when a model is serialized.
///
/// The model macros put `skip_serializing_if = "Omit::omit"` on every field, so each field
/// type says for itself whether it was absent from the document it came from.
pub trait Omit {
    /// `true` when the field was not in the received document and has not been set since.
    fn omit(&self) -> bool;
}

impl Omit for String {
    fn omit(&self) -> bool {
        false
    }
}

/// An optional field that keeps the difference between *missing* and *`null`*.
///
/// Equality treats the two as the same (both mean "no value"), so a plan never reports
/// a change between them; serialization keeps the form that was received.
#[derive(Clone, Default)]
pub enum Field<T> {
    /// Not in the document.
    #[default]
    Missing,
    /// Present as `null`.
    Null,
    /// Present with a value.
    Value(T),
}

impl<T> Field<T> {
    /// The value, if there is one.
    pub fn get(&self) -> Option<&T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }

    /// The value, mutably, if there is one.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }

    /// Sets the value.
    pub fn set(&mut self, value: T) {
        *self = Field::Value(value);
    }

    /// Takes the value out, leaving the field `null` if it was present and missing if not.
    pub fn take(&mut self) -> Option<T> {
        match std::mem::take(self) {
            Field::Value(v) => {
                *self = Field::Null;
                Some(v)
            }
            other => {
                *self = other;
                None
            }
        }
    }

    /// `true` when the field was not in the document.
    pub fn is_missing(&self) -> bool {
        matches!(self, Field::Missing)
    }

    /// `true` when the field has a value.
    pub fn is_set(&self) -> bool {
        matches!(self, Field::Value(_))
    }

    /// The value as an `Option`.
    pub fn into_option(self) -> Option<T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }
}

impl<T: Clone> Field<T> {
    /// A copy of the value, or `default` when there is none.
    pub fn get_or(&self, default: T) -> T {
        self.get().cloned().unwrap_or(default)
    }
}

impl Field<String> {
    /// The value as `&str`, or `""`.
    pub fn as_str(&self) -> &str {
        self.get().map(String::as_str).unwrap_or("")
    }
}

impl<T> From<T> for Field<T> {
    fn from(value: T) -> Self {
        Field::Value(value)
    }
}

impl<T> From<Option<T>> for Field<T> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Field::Null, Field::Value)
    }
}

impl<T: PartialEq> PartialEq for Field<T> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<T: fmt::Debug> fmt::Debug for Field<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Missing => f.write_str("Missing"),
            Field::Null => f.write_str("Null"),
            Field::Value(v) => v.fmt(f),
        }
    }
}

impl<T> Omit for Field<T> {
    fn omit(&self) -> bool {
        self.is_missing()
    }
}

impl<T: Serialize> Serialize for Field<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Value(v) => v.serialize(s),
            _ => s.serialize_none(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(d).map(Field::from)
    }
}

/// How a collection field arrived.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Form {
    #[default]
    Missing,
    Null,
    Present,
}

/// A collection field (array or object) that reads `null` and missing as empty, and
/// writes back the form it was received in.
///
/// It dereferences to the collection, so code uses it as a `Vec` or a map. Once it
/// holds items it is always written as a collection; an empty one goes back as it came
/// (missing, `null` or empty). Equality compares the items only.
#[derive(Clone, Default)]
pub struct Lenient<C> {
    items: C,
    form: Form,
}

/// A list field: `null`, missing and `[]` all read as empty.
pub type List<T> = Lenient<Vec<T>>;

/// A JSON object field keyed by string, in key order: `null`, missing and `{}` all read as
/// empty.
pub type Dict<V> = Lenient<std::collections::BTreeMap<String, V>>;

impl<C: Default> Lenient<C> {
    /// A collection that will be written even when empty.
    pub fn present(items: C) -> Self {
        Self {
            items,
            form: Form::Present,
        }
    }

    /// Whether the field was missing from the received document (and is still empty).
    pub fn is_missing(&self) -> bool
    where
        C: CollectionLen,
    {
        self.form == Form::Missing && self.items.is_empty_collection()
    }

    /// Whether the field arrived as `null` (and is still empty).
    pub fn is_null(&self) -> bool
    where
        C: CollectionLen,
    {
        self.form == Form::Null && self.items.is_empty_collection()
    }

    /// Marks the field to be written as an empty collection rather than `null` or missing.
    pub fn make_present(&mut self) {
        self.form = Form::Present;
    }

    /// The collection.
    pub fn into_inner(self) -> C {
        self.items
    }
}

/// Collections a [`Lenient`] can hold.
pub trait CollectionLen {
    /// `true` when there are no items.
    fn is_empty_collection(&self) -> bool;
}

impl<T> CollectionLen for Vec<T> {
    fn is_empty_collection(&self) -> bool {
        self.is_empty()
    }
}

impl<K, V> CollectionLen for std::collections::BTreeMap<K, V> {
    fn is_empty_collection(&self) -> bool {
        self.is_empty()
    }
}

impl CollectionLen for Map<String, Value> {
    fn is_empty_collection(&self) -> bool {
        self.is_empty()
    }
}

impl<C> Deref for Lenient<C> {
    type Target = C;
    fn deref(&self) -> &C {
        &self.items
    }
}

impl<C> DerefMut for Lenient<C> {
    fn deref_mut(&mut self) -> &mut C {
        &mut self.items
    }
}

impl<C: Default> From<C> for Lenient<C> {
    fn from(items: C) -> Self {
        Self::present(items)
    }
}

impl<T> FromIterator<T> for Lenient<Vec<T>> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Self::present(iter.into_iter().collect())
    }
}

impl<'a, T> IntoIterator for &'a Lenient<Vec<T>> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<T> IntoIterator for Lenient<Vec<T>> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<C: PartialEq> PartialEq for Lenient<C> {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

impl<C: fmt::Debug> fmt::Debug for Lenient<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.items.fmt(f)
    }
}

impl<C: CollectionLen + Default> Omit for Lenient<C> {
    fn omit(&self) -> bool {
        self.is_missing()
    }
}

impl<C: Serialize + CollectionLen + Default> Serialize for Lenient<C> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.is_null() {
            s.serialize_none()
        } else {
            self.items.serialize(s)
        }
    }
}

impl<'de, C: Deserialize<'de> + Default> Deserialize<'de> for Lenient<C> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<C>::deserialize(d)? {
            Some(items) => Self {
                items,
                form: Form::Present,
            },
            None => Self {
                items: C::default(),
                form: Form::Null,
            },
        })
    }
}

/// Every field of a document that this crate does not model, kept in the order received
/// so it goes back to the server unchanged.
///
/// Its `Debug` hides the `NewValue` of anything shaped like a sensitive value, so a
/// secret in a field we do not model still never reaches a log.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Extra(pub Map<String, Value>);

impl Deref for Extra {
    type Target = Map<String, Value>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Extra {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl fmt::Debug for Extra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = Value::Object(self.0.clone());
        crate::secret::redact_json(&mut shown);
        write!(f, "{shown}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    struct Probe {
        #[serde(default, skip_serializing_if = "Omit::omit")]
        a: Field<String>,
        #[serde(default, skip_serializing_if = "Omit::omit")]
        b: List<String>,
        #[serde(default, skip_serializing_if = "Omit::omit")]
        c: Dict<String>,
    }

    fn round(v: Value) -> Value {
        let p: Probe = serde_json::from_value(v).unwrap();
        serde_json::to_value(&p).unwrap()
    }

    #[test]
    fn missing_null_and_empty_survive() {
        for v in [
            json!({}),
            json!({"a": null, "b": null, "c": null}),
            json!({"a": "x", "b": [], "c": {}}),
            json!({"b": ["q"], "c": {"k": "v"}}),
        ] {
            assert_eq!(round(v.clone()), v);
        }
    }

    #[test]
    fn null_and_missing_read_as_empty_and_compare_equal() {
        let a: Probe = serde_json::from_value(json!({"a": null, "b": null})).unwrap();
        let b: Probe = serde_json::from_value(json!({"b": []})).unwrap();
        assert!(a.b.is_empty());
        assert_eq!(a, b);
        assert_eq!(a.a.get(), None);
    }

    #[test]
    fn filling_a_null_list_writes_the_items() {
        let mut p: Probe = serde_json::from_value(json!({"b": null})).unwrap();
        p.b.push("x".into());
        assert_eq!(serde_json::to_value(&p).unwrap(), json!({"b": ["x"]}));
    }
}
