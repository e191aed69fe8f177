//! Phone numbers: parsing what people type into E.164, and masking for shared output.
//!
//! Heymarket wants E.164 digits without the `+` (`15105553344`); that is the only form a
//! [`Phone`] holds. Parsing is the skeleton's placeholder until the recipients work lands.

use std::fmt;

/// A valid phone number as E.164 digits without `+`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone(String);

impl Phone {
    /// Wraps digits already known to be valid E.164 (from a saved plan or the sandbox).
    pub fn from_e164_digits(digits: &str) -> Option<Phone> {
        let ok = (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| Phone(digits.to_owned()))
    }

    /// The digits Heymarket expects.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.0)
    }
}

/// A default region for numbers written without a country code: an ISO 3166 alpha-2 code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region {
    code: [u8; 2],
}

impl Region {
    pub const US: Region = Region { code: *b"US" };

    /// Any two ASCII letters as a region code, upper-cased, without checking that such a
    /// country exists (the campaign file accepts what the number parser may later support).
    pub fn from_code_unchecked(code: &str) -> Option<Region> {
        match code.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => Some(Region {
                code: [a.to_ascii_uppercase(), b.to_ascii_uppercase()],
            }),
            _ => None,
        }
    }
}
