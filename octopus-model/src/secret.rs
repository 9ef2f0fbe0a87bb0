//! Sensitive values and property values, whose secrets never reach a log.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::field::{Extra, Field, Omit};

/// The text printed instead of a secret.
pub const REDACTED: &str = "<redacted>";

/// A secret as the API carries it: `{ "HasValue": bool, "NewValue": string|null, "Hint": … }`.
///
/// A GET only tells whether a secret is set (`HasValue`); `NewValue` is always `null`.
/// Sending back what was read keeps the secret; `NewValue: "…"` sets it; `HasValue:
/// false` clears it. `Debug` never prints `NewValue`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SensitiveValue {
    /// Whether the server holds a value.
    #[serde(default)]
    pub has_value: bool,
    /// A value to set; `null` means "keep what is there".
    #[serde(default, skip_serializing_if = "Omit::omit")]
    pub new_value: Field<String>,
    /// A non-secret hint shown in the portal.
    #[serde(default, skip_serializing_if = "Omit::omit")]
    pub hint: Field<String>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

impl SensitiveValue {
    /// The "keep" form: tells the server to leave its secret as it is.
    pub fn keep() -> Self {
        Self {
            has_value: true,
            new_value: Field::Null,
            ..Self::default()
        }
    }

    /// The "set" form with a new secret.
    pub fn set(value: impl Into<String>) -> Self {
        Self {
            has_value: true,
            new_value: Field::Value(value.into()),
            ..Self::default()
        }
    }

    /// The "clear" form.
    pub fn clear() -> Self {
        Self::default()
    }
}

impl fmt::Debug for SensitiveValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SensitiveValue")
            .field("has_value", &self.has_value)
            .field(
                "new_value",
                &if self.new_value.is_set() {
                    REDACTED
                } else {
                    "null"
                },
            )
            .field("hint", &self.hint)
            .finish()
    }
}

/// A value in an action's, step's or template's `Properties`, a template `DefaultValue`
/// or a tenant variable: a plain string, or a [`SensitiveValue`] object.
///
/// Anything else the server may send (a number, a boolean, an object of another shape)
/// is kept as raw JSON so it goes back unchanged.
#[derive(Clone, PartialEq)]
pub enum PropertyValue {
    /// A non-sensitive value.
    Text(String),
    /// A sensitive value.
    Sensitive(SensitiveValue),
    /// Any other JSON, kept as received.
    Other(Value),
}

impl PropertyValue {
    /// The text of a non-sensitive value.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            PropertyValue::Text(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this is a sensitive value.
    pub fn is_sensitive(&self) -> bool {
        matches!(self, PropertyValue::Sensitive(_))
    }
}

impl From<&str> for PropertyValue {
    fn from(s: &str) -> Self {
        PropertyValue::Text(s.to_owned())
    }
}

impl From<String> for PropertyValue {
    fn from(s: String) -> Self {
        PropertyValue::Text(s)
    }
}

impl fmt::Debug for PropertyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PropertyValue::Text(s) => s.fmt(f),
            PropertyValue::Sensitive(s) => s.fmt(f),
            PropertyValue::Other(v) => {
                let mut shown = v.clone();
                redact_json(&mut shown);
                write!(f, "{shown}")
            }
        }
    }
}

impl Serialize for PropertyValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PropertyValue::Text(t) => s.serialize_str(t),
            PropertyValue::Sensitive(v) => v.serialize(s),
            PropertyValue::Other(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for PropertyValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        Ok(match value {
            Value::String(s) => PropertyValue::Text(s),
            Value::Object(ref map) if map.contains_key("HasValue") => {
                match serde_json::from_value::<SensitiveValue>(value.clone()) {
                    Ok(sv) => PropertyValue::Sensitive(sv),
                    Err(_) => PropertyValue::Other(value),
                }
            }
            other => PropertyValue::Other(other),
        })
    }
}

/// Replaces, in place, every secret a JSON document may carry: the `NewValue` of
/// sensitive-value objects and the `Value` of variables marked sensitive.
///
/// Used by every `Debug` that prints raw JSON, and by callers that log bodies.
pub fn redact_json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let sensitive_variable = map.get("IsSensitive") == Some(&Value::Bool(true))
                || map.get("Type").and_then(Value::as_str) == Some("Sensitive");
            for (key, v) in map.iter_mut() {
                let hide =
                    (key == "NewValue" || (sensitive_variable && key == "Value")) && !v.is_null();
                if hide {
                    *v = Value::String(REDACTED.to_owned());
                } else {
                    redact_json(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn property_values_keep_their_shape() {
        for v in [
            json!("plain"),
            json!({"HasValue": true, "NewValue": null}),
            json!({"HasValue": false, "NewValue": null, "Hint": "h"}),
            json!(42),
            json!({"Other": 1}),
        ] {
            let p: PropertyValue = serde_json::from_value(v.clone()).unwrap();
            assert_eq!(serde_json::to_value(&p).unwrap(), v);
        }
    }

    #[test]
    fn debug_never_prints_a_secret() {
        let p: PropertyValue =
            serde_json::from_value(json!({"HasValue": true, "NewValue": "hunter2"})).unwrap();
        assert!(p.is_sensitive());
        let shown = format!("{p:?} {:?}", SensitiveValue::set("hunter2"));
        assert!(!shown.contains("hunter2"), "{shown}");
        let mut doc = json!({"Variables": [{"IsSensitive": true, "Value": "hunter2"},
                                           {"Password": {"HasValue": true, "NewValue": "hunter2"}}]});
        redact_json(&mut doc);
        assert!(!doc.to_string().contains("hunter2"), "{doc}");
    }
}
