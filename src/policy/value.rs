//! Policy input as regorus values, built straight from `Serialize` types.
//!
//! The value is the one `Value::from_json_str(&serde_json::to_string(x)?)` gives (the
//! `same_value_as_through_json_text` tests hold the two paths equal), without writing and
//! parsing the JSON text: on the benchmark snapshot the input conversion took 233 ms of CPU
//! that way. What the text path does is kept exactly:
//! - a non-negative integer is an unsigned number (serde_json reads `5` as `u64`), a
//!   negative one signed; a float is a float, and a non-finite float is `null` (JSON has no
//!   NaN; serde_json writes `null`);
//! - object keys are shared within one conversion, as regorus's parser interns them (a
//!   snapshot's 50,000 apps hold one copy of each field name);
//! - map keys are strings; integer and boolean keys become their text, as serde_json writes
//!   them.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Display;
use std::sync::Arc;

use regorus::Value;
use serde::Serialize;
use serde::ser::{self, Impossible};

/// `value` as a regorus value (see the module's documentation).
pub(super) fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, String> {
    to_value_without(value, &[])
}

/// `value`, an object, without its fields named in `skip` (only at the top: a nested
/// object keeps every field).
pub(super) fn to_value_without<T: Serialize + ?Sized>(
    value: &T,
    skip: &[&str],
) -> Result<Value, String> {
    let mut keys = Keys::default();
    value
        .serialize(Serializer {
            keys: &mut keys,
            skip,
        })
        .map_err(|e| e.0)
}

/// Object keys seen in one conversion, each stored once.
#[derive(Default)]
struct Keys(HashSet<Arc<str>>);

impl Keys {
    fn get(&mut self, key: &str) -> Value {
        if let Some(shared) = self.0.get(key) {
            return Value::String(Arc::clone(shared));
        }
        let shared: Arc<str> = Arc::from(key);
        self.0.insert(Arc::clone(&shared));
        Value::String(shared)
    }
}

#[derive(Debug)]
pub(super) struct Error(String);

impl Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: Display>(message: T) -> Self {
        Error(message.to_string())
    }
}

struct Serializer<'a> {
    keys: &'a mut Keys,
    /// Fields of the outermost struct to leave out.
    skip: &'a [&'a str],
}

impl<'a> Serializer<'a> {
    fn nested(keys: &mut Keys) -> Serializer<'_> {
        Serializer { keys, skip: &[] }
    }
}

fn unsigned(v: u64) -> Value {
    Value::from(v)
}

fn signed(v: i64) -> Value {
    match u64::try_from(v) {
        Ok(v) => Value::from(v),
        Err(_) => Value::from(v),
    }
}

fn float(v: f64) -> Value {
    if v.is_finite() {
        Value::from(v)
    } else {
        Value::Null
    }
}

/// `{variant: value}`, serde's external tagging.
fn tagged(keys: &mut Keys, variant: &str, value: Value) -> Value {
    let mut fields = BTreeMap::new();
    fields.insert(keys.get(variant), value);
    Value::from(fields)
}

fn object(fields: BTreeMap<Value, Value>) -> Value {
    if fields.is_empty() {
        Value::new_object()
    } else {
        Value::from(fields)
    }
}

impl<'a> ser::Serializer for Serializer<'a> {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Seq<'a>;
    type SerializeMap = Map<'a>;
    type SerializeStruct = Map<'a>;
    type SerializeStructVariant = Map<'a>;

    fn serialize_bool(self, v: bool) -> Result<Value, Error> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, Error> {
        Ok(signed(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, Error> {
        Ok(signed(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, Error> {
        Ok(signed(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, Error> {
        Ok(signed(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Value, Error> {
        // serde_json reads an integer that fits neither u64 nor i64 as a float.
        Ok(match (u64::try_from(v), i64::try_from(v)) {
            (Ok(v), _) => unsigned(v),
            (_, Ok(v)) => signed(v),
            _ => float(v as f64),
        })
    }
    fn serialize_u8(self, v: u8) -> Result<Value, Error> {
        Ok(unsigned(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, Error> {
        Ok(unsigned(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, Error> {
        Ok(unsigned(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, Error> {
        Ok(unsigned(v))
    }
    fn serialize_u128(self, v: u128) -> Result<Value, Error> {
        Ok(match u64::try_from(v) {
            Ok(v) => unsigned(v),
            Err(_) => float(v as f64),
        })
    }
    fn serialize_f32(self, v: f32) -> Result<Value, Error> {
        // serde_json writes an f32's shortest text, which reads back as that decimal in f64.
        Ok(match v.is_finite() {
            true => float(v.to_string().parse::<f64>().unwrap_or(f64::from(v))),
            false => Value::Null,
        })
    }
    fn serialize_f64(self, v: f64) -> Result<Value, Error> {
        Ok(float(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, Error> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, Error> {
        Ok(Value::from(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, Error> {
        Ok(Value::from(
            v.iter().map(|&b| unsigned(b.into())).collect::<Vec<_>>(),
        ))
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
        Ok(Value::from(variant))
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
        let inner = value.serialize(Serializer::nested(self.keys))?;
        Ok(tagged(self.keys, variant, inner))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq<'a>, Error> {
        Ok(Seq {
            keys: self.keys,
            items: Vec::with_capacity(len.unwrap_or(0)),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Seq<'a>, Error> {
        Ok(Seq {
            keys: self.keys,
            items: Vec::with_capacity(len),
            variant: Some(variant),
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Map<'a>, Error> {
        Ok(Map {
            keys: self.keys,
            skip: self.skip,
            fields: BTreeMap::new(),
            key: None,
            variant: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Map<'a>, Error> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Map<'a>, Error> {
        Ok(Map {
            keys: self.keys,
            skip: &[],
            fields: BTreeMap::new(),
            key: None,
            variant: Some(variant),
        })
    }
}

struct Seq<'a> {
    keys: &'a mut Keys,
    items: Vec<Value>,
    /// The variant a tuple variant is tagged with.
    variant: Option<&'static str>,
}

impl Seq<'_> {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let item = value.serialize(Serializer::nested(self.keys))?;
        self.items.push(item);
        Ok(())
    }

    fn finish(self) -> Value {
        let array = Value::from(self.items);
        match self.variant {
            Some(variant) => tagged(self.keys, variant, array),
            None => array,
        }
    }
}

/// The four sequence traits, each an array (a tuple variant's tagged with its variant).
macro_rules! seq_traits {
    ($($serialize_trait:ident::$method:ident),*) => {$(
        impl ser::$serialize_trait for Seq<'_> {
            type Ok = Value;
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.push(value)
            }
            fn end(self) -> Result<Value, Error> {
                Ok(self.finish())
            }
        }
    )*};
}

seq_traits!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

struct Map<'a> {
    keys: &'a mut Keys,
    skip: &'a [&'a str],
    fields: BTreeMap<Value, Value>,
    /// A map's key, between `serialize_key` and `serialize_value`.
    key: Option<Value>,
    /// The variant a struct variant is tagged with.
    variant: Option<&'static str>,
}

impl Map<'_> {
    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Error> {
        if self.skip.contains(&key) {
            return Ok(());
        }
        let value = value.serialize(Serializer::nested(self.keys))?;
        self.fields.insert(self.keys.get(key), value);
        Ok(())
    }

    fn finish(self) -> Value {
        let value = object(self.fields);
        match self.variant {
            Some(variant) => tagged(self.keys, variant, value),
            None => value,
        }
    }
}

impl ser::SerializeMap for Map<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        let text = key.serialize(KeySerializer)?;
        self.key = Some(self.keys.get(&text));
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error("serialize_value called before serialize_key".into()))?;
        let skipped = matches!(&key, Value::String(k) if self.skip.contains(&k.as_ref()));
        if !skipped {
            let value = value.serialize(Serializer::nested(self.keys))?;
            self.fields.insert(key, value);
        }
        Ok(())
    }
    fn end(self) -> Result<Value, Error> {
        Ok(self.finish())
    }
}

/// The two struct traits, each an object (a struct variant's tagged with its variant).
macro_rules! struct_traits {
    ($($serialize_trait:ident),*) => {$(
        impl ser::$serialize_trait for Map<'_> {
            type Ok = Value;
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                self.field(key, value)
            }
            fn end(self) -> Result<Value, Error> {
                Ok(self.finish())
            }
        }
    )*};
}

struct_traits!(SerializeStruct, SerializeStructVariant);

/// A map key as the text serde_json writes for it.
struct KeySerializer;

/// Methods of [`KeySerializer`] for types whose key is their `to_string`.
macro_rules! key_as_text {
    ($($method:ident: $t:ty),*) => {$(
        fn $method(self, v: $t) -> Result<String, Error> {
            Ok(v.to_string())
        }
    )*};
}

fn key_must_be_a_string() -> Error {
    Error("key must be a string".into())
}

impl ser::Serializer for KeySerializer {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = Impossible<String, Error>;
    type SerializeTuple = Impossible<String, Error>;
    type SerializeTupleStruct = Impossible<String, Error>;
    type SerializeTupleVariant = Impossible<String, Error>;
    type SerializeMap = Impossible<String, Error>;
    type SerializeStruct = Impossible<String, Error>;
    type SerializeStructVariant = Impossible<String, Error>;

    // Integers and booleans are written as their text, as serde_json writes such keys.
    key_as_text!(
        serialize_bool: bool,
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_i128: i128,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_u128: u128
    );

    fn serialize_f32(self, _v: f32) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_f64(self, _v: f64) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_char(self, v: char) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_none(self) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit(self) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String, Error> {
        Ok(variant.to_string())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_must_be_a_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The old path: JSON text, then regorus's parser.
    fn through_text<T: Serialize + ?Sized>(value: &T) -> Value {
        let text = serde_json::to_string(value).unwrap_or_else(|e| panic!("{e}"));
        Value::from_json_str(&text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn direct<T: Serialize + ?Sized>(value: &T) -> Value {
        to_value(value).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Equal as regorus compares values, and printed alike (a number's text: regorus
    /// compares numbers by value, and which variant holds one is not visible through its
    /// API; `signed` and `unsigned` still follow serde_json's reading).
    fn assert_same<T: Serialize + ?Sized>(value: &T) {
        let (a, b) = (direct(value), through_text(value));
        assert_eq!(a, b);
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
    }

    #[test]
    fn same_value_as_through_json_text_for_scalars_and_shapes() {
        #[derive(Serialize)]
        enum Shape {
            Unit,
            New(u8),
            Tuple(i32, String),
            Struct { a: Option<bool>, b: Vec<f64> },
        }
        #[derive(Serialize)]
        struct Unit;
        #[derive(Serialize)]
        struct Wrapper(Vec<Shape>);
        #[derive(Serialize)]
        struct Flat {
            x: u16,
            #[serde(flatten)]
            rest: BTreeMap<String, i64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            absent: Option<u8>,
        }
        assert_same(&json!(null));
        assert_same(
            &json!({"a": [1, -1, 0, 1.5, 72.0, -0.0, "x", true, false, null], "b": {}, "c": []}),
        );
        assert_same(&(
            u64::MAX,
            i64::MIN,
            i64::MAX,
            1e300,
            5e-324,
            f64::NAN,
            f64::INFINITY,
        ));
        assert_same(&(0.1f32, -3i8, 200u8, 'é', Unit, ()));
        assert_same(&(
            u128::from(u64::MAX) + 1,
            i128::from(i64::MIN) - 1,
            7u128,
            -7i128,
        ));
        assert_same(&Wrapper(vec![
            Shape::Unit,
            Shape::New(3),
            Shape::Tuple(-2, "t".into()),
            Shape::Struct {
                a: None,
                b: vec![0.25, 1e21],
            },
        ]));
        let mut rest = BTreeMap::new();
        rest.insert("k".to_string(), -4);
        rest.insert("x2".to_string(), 4);
        assert_same(&Flat {
            x: 1,
            rest,
            absent: None,
        });
        let numbered: BTreeMap<i32, &str> = [(-1, "minus"), (10, "ten")].into_iter().collect();
        assert_same(&numbered);
        let flags: BTreeMap<bool, u8> = [(true, 1), (false, 0)].into_iter().collect();
        assert_same(&flags);
        assert_same(&Bytes(&[0u8, 255]));
    }

    /// Every input a scan converts: the whole snapshot, its top, each account's and
    /// region's context, each domain (and a domain without its spaces and apps).
    fn assert_snapshot_same(snapshot: &crate::snapshot::Snapshot) {
        for events in [false, true] {
            assert_same(&snapshot.policy_input(events));
            assert_same(&snapshot.policy_input_top(events));
        }
        for account in &snapshot.accounts {
            assert_same(&account.context());
            for region in &account.regions {
                assert_same(&region.context());
                for domain in &region.domains {
                    assert_same(domain);
                    let slim = to_value_without(domain, &["spaces", "apps"])
                        .unwrap_or_else(|e| panic!("{e}"));
                    let mut whole = through_text(domain);
                    if let Ok(fields) = whole.as_object_mut() {
                        fields.remove(&Value::from("spaces"));
                        fields.remove(&Value::from("apps"));
                    }
                    assert_eq!(slim, whole);
                }
            }
        }
    }

    #[test]
    fn same_value_as_through_json_text_for_the_example_and_a_synthetic_snapshot() {
        let base = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/snapshot.json");
        let example = crate::snapshot::Snapshot::load(std::path::Path::new(base))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_snapshot_same(&example);
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/synthetic-snapshot");
        let output = std::process::Command::new("python3")
            .args([script, "--domains", "3", "--profiles", "20", "--base", base])
            .output()
            .unwrap_or_else(|e| panic!("{script}: {e}"));
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8_lossy(&output.stdout);
        let synthetic = crate::snapshot::Snapshot::from_json("synthetic", &text)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(synthetic.resource_counts().apps > example.resource_counts().apps);
        assert_snapshot_same(&synthetic);
    }

    #[test]
    fn object_keys_are_shared_within_one_conversion() {
        let rows = json!([{"status": "a"}, {"status": "b"}]);
        let value = direct(&rows);
        let keys: Vec<Arc<str>> = (0..2)
            .filter_map(|i| {
                value[i].as_object().ok()?.keys().find_map(|k| match k {
                    Value::String(k) => Some(Arc::clone(k)),
                    _ => None,
                })
            })
            .collect();
        assert_eq!(keys.len(), 2);
        assert!(Arc::ptr_eq(&keys[0], &keys[1]));
    }

    #[test]
    fn a_key_that_is_not_text_is_refused() {
        let map: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into_iter().collect();
        assert_eq!(to_value(&map).unwrap_err(), "key must be a string");
        assert!(serde_json::to_string(&map).is_err());
    }

    /// A byte slice serialised as bytes (serde_json writes an array of numbers).
    struct Bytes<'a>(&'a [u8]);

    impl Serialize for Bytes<'_> {
        fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(self.0)
        }
    }
}
