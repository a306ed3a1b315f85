//! One-key mappings as enums (`- click: '#id'`, `launch: { builtin: reference-sp }`).
//!
//! serde_yaml_ng reads externally tagged enums only from YAML tags (`!click`), which nobody
//! writes by hand; this macro reads the one-key form and keeps serde's located errors.

/// `tagged_enum!(Step, "a step", { "open" => Open(Template), ... })` implements Deserialize.
macro_rules! tagged_enum {
    ($name:ident, $what:literal, { $($tag:literal => $variant:ident($ty:ty)),* $(,)? }) => {
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                use serde::de::{Error as _, MapAccess, Visitor};
                const NAMES: &[&str] = &[$($tag),*];
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(f, "{}: a mapping with one key naming it", $what)
                    }
                    // a bare name such as `- idp_login`
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        let unit = serde::de::value::UnitDeserializer::<E>::new();
                        match v {
                            $($tag => <$ty as serde::Deserialize>::deserialize(unit)
                                .map($name::$variant)
                                .map_err(|e| E::custom(format!("`{}` needs a value: {e}", $tag))),)*
                            other => Err(E::unknown_variant(other, NAMES)),
                        }
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                        let Some(key) = map.next_key::<String>()? else {
                            return Err(A::Error::custom(format!("empty mapping: expected {}", $what)));
                        };
                        let value = match key.as_str() {
                            $($tag => $name::$variant(map.next_value::<$ty>()?),)*
                            other => return Err(A::Error::unknown_variant(other, NAMES)),
                        };
                        if let Some(extra) = map.next_key::<String>()? {
                            return Err(A::Error::custom(format!(
                                "`{key}` and `{extra}` are in the same item: one per item (start `{extra}` on its own `- ` line)"
                            )));
                        }
                        Ok(value)
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}

/// Implements Deserialize (short or full form) and the full form (`FullForm`) for structs
/// that derive Deserialize with `#[serde(remote = "Self")]` and implement `Shorthand`.
macro_rules! shorthand_deserialize {
    ($($ty:ty),* $(,)?) => {$(
        impl $crate::input::shorthand::FullForm for $ty {
            fn from_full<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                // the inherent `deserialize` that `serde(remote = "Self")` derives
                <$ty>::deserialize(d)
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::input::shorthand::shorthand(d)
            }
        }
    )*};
}

#[allow(unused_imports)]
pub(crate) use {shorthand_deserialize, tagged_enum};
