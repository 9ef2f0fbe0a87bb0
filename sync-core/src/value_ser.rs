//! Serializing a typed document into a [`Value`] with every object built at its final
//! size.
//!
//! `serde_json::to_value` starts an object of unknown length (every model type has a
//! flattened `extra`, so serde cannot tell it the length) empty and grows it member by
//! member, reallocating its entries and rehashing its index several times per object. A
//! plan serializes thousands of documents; here the members of an object are gathered
//! on one scratch stack shared by the whole document and the object is allocated once.
//!
//! Scalars are handed to `serde_json`'s own serializer, so every value comes out as
//! `serde_json::to_value` makes it. A member key that is not a string is reported as an
//! error, and the caller falls back to `serde_json::to_value`.

use serde::ser::{self, Serialize};
use serde_json::{Map, Value};

type Error = serde_json::Error;

thread_local! {
    /// The scratch stack, kept between documents: it would otherwise be allocated and
    /// grown past a kilobyte for every document, and each such allocation makes glibc
    /// sweep its lists of small freed chunks.
    static STACK: std::cell::Cell<Stack> = const { std::cell::Cell::new(Vec::new()) };
}

/// `value` as a JSON value, as `serde_json::to_value` makes it.
pub(crate) fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, Error> {
    // Taken out while in use, so a serializer that serializes another document inside
    // its own just starts a stack of its own.
    let mut stack = STACK.take();
    let out = value.serialize(Ser { stack: &mut stack });
    // An error can leave members behind; none is left for the next document.
    stack.clear();
    STACK.set(stack);
    out
}

/// The members of the objects being built, innermost last.
type Stack = Vec<(String, Value)>;

struct Ser<'s> {
    stack: &'s mut Stack,
}

fn key_error() -> Error {
    ser::Error::custom("a member key is not a string")
}

/// Builds an object from the members on the stack above `start`.
fn object(stack: &mut Stack, start: usize) -> Value {
    let mut map = Map::with_capacity(stack.len() - start);
    for (k, v) in stack.drain(start..) {
        map.insert(k, v);
    }
    Value::Object(map)
}

impl<'s> ser::Serializer for Ser<'s> {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = Seq<'s>;
    type SerializeTuple = Seq<'s>;
    type SerializeTupleStruct = Seq<'s>;
    type SerializeTupleVariant = Variant<Seq<'s>>;
    type SerializeMap = Obj<'s>;
    type SerializeStruct = Obj<'s>;
    type SerializeStructVariant = Variant<Obj<'s>>;

    fn serialize_bool(self, v: bool) -> Result<Value, Error> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, Error> {
        serde_json::value::Serializer.serialize_i8(v)
    }
    fn serialize_i16(self, v: i16) -> Result<Value, Error> {
        serde_json::value::Serializer.serialize_i16(v)
    }
    fn serialize_i32(self, v: i32) -> Result<Value, Error> {
        serde_json::value::Serializer.serialize_i32(v)
    }
    fn serialize_i64(self, v: i64) -> Result<Value, Error> {
        serde_json::value::Serializer.serialize_i64(v)
    }
    fn serialize_i128(self, v: i128) -> Result<Value, Error> {
        serde_json::value::Serializer.serialize_i128(v)
    }
    fn serialize_u8(self, v: u8) -> Result<Value, Error> {
        serde_json::value::Serializer.serialize_u8(v)
    }
    fn serialize_u16(self, v: u16) -> Result<Value, Error> {
        serde_json::value::Serializer.serialize_u16(v)
    }
    fn serialize_u32(self, v: u32) -> Result<Value, Error> {
        serde_json::value::Serializer.serialize_u32(v)
    }
    fn serialize_u64(self, v: u64) -> Result<Value, Error> {
        serde_json::value::Serializer.serialize_u64(v)
    }
    fn serialize_u128(self, v: u128) -> Result<Value, Error> {
        serde_json::value::Serializer.serialize_u128(v)
    }
    fn serialize_f32(self, v: f32) -> Result<Value, Error> {
        serde_json::value::Serializer.serialize_f32(v)
    }
    fn serialize_f64(self, v: f64) -> Result<Value, Error> {
        serde_json::value::Serializer.serialize_f64(v)
    }
    fn serialize_char(self, v: char) -> Result<Value, Error> {
        serde_json::value::Serializer.serialize_char(v)
    }
    fn serialize_str(self, v: &str) -> Result<Value, Error> {
        Ok(Value::String(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, Error> {
        serde_json::value::Serializer.serialize_bytes(v)
    }
    fn serialize_none(self) -> Result<Value, Error> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, Error> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, Error> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, Error> {
        Ok(Value::String(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Value, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, Error> {
        let mut map = Map::with_capacity(1);
        map.insert(variant.to_owned(), value.serialize(self)?);
        Ok(Value::Object(map))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq<'s>, Error> {
        Ok(Seq {
            items: Vec::with_capacity(len.unwrap_or(0)),
            stack: self.stack,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'s>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq<'s>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Seq<'s>>, Error> {
        Ok(Variant {
            name: variant,
            inner: self.serialize_seq(Some(len))?,
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Obj<'s>, Error> {
        let start = self.stack.len();
        Ok(Obj {
            stack: self.stack,
            start,
            key: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Obj<'s>, Error> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Obj<'s>>, Error> {
        Ok(Variant {
            name: variant,
            inner: self.serialize_map(Some(len))?,
        })
    }
}

/// An array being built.
pub(crate) struct Seq<'s> {
    items: Vec<Value>,
    stack: &'s mut Stack,
}

impl Seq<'_> {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let v = value.serialize(Ser {
            stack: &mut *self.stack,
        })?;
        self.items.push(v);
        Ok(())
    }
}

impl ser::SerializeSeq for Seq<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.push(value)
    }
    fn end(self) -> Result<Value, Error> {
        Ok(Value::Array(self.items))
    }
}

impl ser::SerializeTuple for Seq<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.push(value)
    }
    fn end(self) -> Result<Value, Error> {
        Ok(Value::Array(self.items))
    }
}

impl ser::SerializeTupleStruct for Seq<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.push(value)
    }
    fn end(self) -> Result<Value, Error> {
        Ok(Value::Array(self.items))
    }
}

/// An object being built: its members are on the stack from `start`.
pub(crate) struct Obj<'s> {
    stack: &'s mut Stack,
    start: usize,
    key: Option<String>,
}

impl Obj<'_> {
    fn member<T: Serialize + ?Sized>(&mut self, key: String, value: &T) -> Result<(), Error> {
        let v = value.serialize(Ser {
            stack: &mut *self.stack,
        })?;
        self.stack.push((key, v));
        Ok(())
    }
}

impl ser::SerializeMap for Obj<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        match key.serialize(serde_json::value::Serializer)? {
            Value::String(k) => {
                self.key = Some(k);
                Ok(())
            }
            _ => Err(key_error()),
        }
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self.key.take().ok_or_else(key_error)?;
        self.member(key, value)
    }
    fn end(self) -> Result<Value, Error> {
        Ok(object(self.stack, self.start))
    }
}

impl ser::SerializeStruct for Obj<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.member(key.to_owned(), value)
    }
    fn end(self) -> Result<Value, Error> {
        Ok(object(self.stack, self.start))
    }
}

/// An enum variant holding a tuple or a struct: `{"Variant": …}`.
pub(crate) struct Variant<C> {
    name: &'static str,
    inner: C,
}

impl<C> Variant<C> {
    fn wrap(name: &'static str, value: Value) -> Value {
        let mut map = Map::with_capacity(1);
        map.insert(name.to_owned(), value);
        Value::Object(map)
    }
}

impl ser::SerializeTupleVariant for Variant<Seq<'_>> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.inner.push(value)
    }
    fn end(self) -> Result<Value, Error> {
        Ok(Self::wrap(self.name, Value::Array(self.inner.items)))
    }
}

impl ser::SerializeStructVariant for Variant<Obj<'_>> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.inner.member(key.to_owned(), value)
    }
    fn end(self) -> Result<Value, Error> {
        let object = object(self.inner.stack, self.inner.start);
        Ok(Self::wrap(self.name, object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(serde::Serialize)]
    enum Shape {
        Unit,
        New(u8),
        Tuple(u8, String),
        Struct { a: Option<i32>, b: Vec<f64> },
    }

    /// Every shape the serializer builds, compared with `serde_json::to_value`, member
    /// order included.
    #[test]
    fn values_are_those_serde_json_makes() {
        let mut map = std::collections::BTreeMap::new();
        map.insert("z", json!({"b": 1, "a": [null, true, "x"]}));
        map.insert("a", json!(-3));
        let cases = vec![
            json!({"Name": "x", "Nested": {"B": 1, "A": [1.5, {"K": null}]}, "Empty": {}}),
            serde_json::to_value(&map).unwrap_or_default(),
        ];
        for case in &cases {
            assert_eq!(to_value(case).ok().as_ref(), Some(case));
            let ours = serde_json::to_string(&to_value(case).unwrap_or_default()).ok();
            assert_eq!(ours, serde_json::to_string(case).ok());
        }
        let shapes = vec![
            Shape::Unit,
            Shape::New(7),
            Shape::Tuple(1, "t".into()),
            Shape::Struct {
                a: None,
                b: vec![0.5, f64::NAN],
            },
        ];
        for s in &shapes {
            assert_eq!(to_value(s).ok(), serde_json::to_value(s).ok());
        }
        let (p, d) = crate::testing::generate_space(&crate::testing::SpaceParams::default());
        for process in p.deployment_processes.iter().chain(&d.deployment_processes) {
            let ours = to_value(process).ok();
            assert_eq!(ours, serde_json::to_value(process).ok());
            let text = ours.map(|v| v.to_string());
            assert_eq!(text, serde_json::to_string(process).ok());
        }
        for project in &p.projects {
            assert_eq!(to_value(project).ok(), serde_json::to_value(project).ok());
        }
        for set in &p.variable_sets {
            assert_eq!(to_value(set).ok(), serde_json::to_value(set).ok());
        }
    }

    #[test]
    fn keys_that_are_not_strings_are_refused() {
        let mut map = std::collections::BTreeMap::new();
        map.insert(1, "one");
        assert!(to_value(&map).is_err());
    }
}
