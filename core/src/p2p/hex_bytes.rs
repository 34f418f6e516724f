//! Fixed-size byte arrays (signatures, block hashes) as lowercase hex strings in
//! serde formats: readable in JSON frames and traces, and a wrong length or a
//! non-hex digit is a decode error naming what was expected, never a panic.

use core::fmt;

use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};

pub(crate) fn serialize<S: Serializer, const N: usize>(bytes: &[u8; N], serializer: S) -> Result<S::Ok, S::Error> {
    let mut text = String::with_capacity(2 * N);
    for byte in bytes {
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    serializer.serialize_str(&text)
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(deserializer: D) -> Result<[u8; N], D::Error> {
    deserializer.deserialize_str(HexVisitor::<N>)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

struct HexVisitor<const N: usize>;

impl<const N: usize> Visitor<'_> for HexVisitor<N> {
    type Value = [u8; N];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} hex digits", 2 * N)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        if text.len() != 2 * N {
            return Err(E::invalid_length(text.len(), &self));
        }
        let mut bytes = [0u8; N];
        for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
            let digit = |c: u8| match c {
                b'0'..=b'9' => Ok(c - b'0'),
                b'a'..=b'f' => Ok(c - b'a' + 10),
                _ => Err(E::invalid_value(de::Unexpected::Str(text), &self)),
            };
            *byte = digit(pair[0])? << 4 | digit(pair[1])?;
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Two(#[serde(with = "super")] [u8; 2]);

    #[test]
    fn round_trips_and_refuses_bad_text() {
        assert_eq!(serde_json::to_string(&Two([0xab, 0x01])).unwrap(), "\"ab01\"");
        assert_eq!(serde_json::from_str::<Two>("\"ab01\"").unwrap(), Two([0xab, 0x01]));
        let short = serde_json::from_str::<Two>("\"ab\"").unwrap_err().to_string();
        assert!(short.contains("4 hex digits"), "{short}");
        let upper = serde_json::from_str::<Two>("\"AB01\"").unwrap_err().to_string();
        assert!(upper.contains("4 hex digits"), "{upper}");
    }
}
