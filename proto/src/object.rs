//! Wire structs accept JSON objects only. serde's derived `Deserialize` for a struct also
//! takes a sequence (fields by position), so `[]` used to be a valid `TenantSpec` with every
//! field defaulted, and `{"sp": []}` an empty SP. Each struct here derives with
//! `#[serde(remote = "Self")]` (the derived code becomes inherent functions) and
//! [`object_only!`] writes the trait impls, which hand the derived code a deserializer whose
//! `deserialize_struct` asks for a map: anything else is an "invalid type" error that names
//! the struct, at the path of the bad value. Serialization is the derived one, unchanged.

use serde::de::{Deserializer, MapAccess, Visitor};
use std::fmt;

pub(crate) struct ObjectOnly<D>(pub D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(Expecting {
            name,
            inner: visitor,
        })
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The derived visitor, reached only through a map; its `expecting` names the struct.
struct Expecting<V> {
    name: &'static str,
    inner: V,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Expecting<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object ({})", self.name)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(map)
    }
}

/// Trait impls for structs derived with `#[serde(remote = "Self")]`.
macro_rules! object_only {
    ($($t:ty),* $(,)?) => { $(
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                // The inherent (derived) function, not this trait method.
                <$t>::deserialize($crate::object::ObjectOnly(d))
            }
        }

        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                <$t>::serialize(self, s)
            }
        }
    )* };
}
pub(crate) use object_only;
