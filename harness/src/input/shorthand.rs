//! Arguments that may be written short (`verify_domain: acme.test`) or in full
//! (`verify_domain: { domain: acme.test, expect_error: ... }`) without losing the
//! precise error messages an untagged enum would swallow.
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

/// The full (derived) mapping form; implemented by `shorthand_deserialize!`.
pub trait FullForm: Sized {
    fn from_full<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

pub trait Shorthand: FullForm {
    /// What the short form looks like, for error messages.
    const SHORT: &'static str;

    fn from_scalar(s: &str) -> Result<Self, String>;

    /// `key:` with no value.
    fn from_empty() -> Result<Self, String> {
        Err(format!("a value is required: {} or a mapping", Self::SHORT))
    }
}

/// Reads a short scalar, nothing, or the full mapping.
pub fn shorthand<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Shorthand,
{
    d.deserialize_any(ShorthandVisitor(PhantomData))
}

struct ShorthandVisitor<T>(PhantomData<T>);

impl<'de, T: Shorthand> Visitor<'de> for ShorthandVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} or a mapping", T::SHORT)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        T::from_scalar(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        T::from_scalar(&v.to_string()).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        T::from_scalar(&v.to_string()).map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        T::from_scalar(&v.to_string()).map_err(E::custom)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        T::from_scalar(&v.to_string()).map_err(E::custom)
    }

    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        T::from_empty().map_err(E::custom)
    }

    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        T::from_empty().map_err(E::custom)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::from_full(de::value::MapAccessDeserializer::new(map))
    }
}

/// `key: x` or `key: [x, y]`.
pub fn one_or_many<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    d.deserialize_any(OneOrMany(PhantomData))
}

struct OneOrMany<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for OneOrMany<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("one item or a list")
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Vec<T>, A::Error> {
        Vec::deserialize(de::value::SeqAccessDeserializer::new(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Vec<T>, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| vec![t])
    }

    fn visit_unit<E: de::Error>(self) -> Result<Vec<T>, E> {
        Ok(Vec::new())
    }
}
