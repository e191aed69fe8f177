//! Phone numbers: parsing what people type into E.164, and masking for shared output.
//!
//! Heymarket wants E.164 digits without the `+` (`15105553344`); that is the only form a
//! [`Phone`] holds, so a `Phone` is always a number worth sending to. North American
//! numbers, nearly every row of a US campaign, go through a hand-written fast path that
//! allocates nothing; every other country is checked against libphonenumber's metadata
//! (the `phonenumber` crate). This module does not decide whether a number may be texted
//! (suppressions, opt-outs) or when (time zones): it only reads and writes numbers.

use std::fmt;

pub use super::region::{Region, RegionError};

/// E.164 allows at most 15 digits, country code included.
const MAX_DIGITS: usize = 15;

/// Room for an international prefix (`00`, `011`) in front of the longest number.
const MAX_WRITTEN_DIGITS: usize = MAX_DIGITS + 3;

/// Area codes of North American toll-free numbers.
/// The area codes of North American toll-free numbers: the one list the project keeps.
pub const TOLL_FREE_AREA_CODES: [u16; 7] = [800, 833, 844, 855, 866, 877, 888];

/// The character that stands in for a hidden digit in [`Phone::masked`].
const MASK: char = '•';

/// A valid phone number as E.164 digits without `+`.
///
/// Stored inline (no heap), so it is `Copy` and cheap to keep by the million.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone {
    digits: [u8; MAX_DIGITS],
    len: u8,
}

/// Why a cell could not be read as a phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// The cell holds nothing but whitespace.
    #[error("phone number is empty")]
    Empty,
    /// A spreadsheet stored the number as a float and wrote it as `1.51055533E+10`.
    #[error("phone number is in scientific notation, so a spreadsheet has rounded its digits")]
    SpreadsheetMangled,
    /// Anything else: stray characters, wrong length, impossible area code.
    #[error("invalid phone number: {reason}")]
    Invalid { reason: String },
}

impl PhoneError {
    /// How the user can fix the cell, when there is a fix worth saying.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            PhoneError::SpreadsheetMangled => Some("format the column as text in the spreadsheet"),
            PhoneError::Empty | PhoneError::Invalid { .. } => None,
        }
    }

    fn invalid(reason: impl Into<String>) -> PhoneError {
        PhoneError::Invalid {
            reason: reason.into(),
        }
    }
}

/// The digits of a cell, with what the writer said about the country code.
struct Written {
    digits: [u8; MAX_WRITTEN_DIGITS],
    len: usize,
    has_plus: bool,
}

impl Phone {
    /// Wraps digits already known to be valid E.164 (from a saved plan or the sandbox).
    pub fn from_e164_digits(digits: &str) -> Option<Phone> {
        let bytes = digits.as_bytes();
        let ok = (7..=MAX_DIGITS).contains(&bytes.len())
            && bytes.iter().all(u8::is_ascii_digit)
            && bytes[0] != b'0';
        ok.then(|| Phone::from_ascii(bytes))
    }

    /// Reads a number as people and spreadsheets write it: `+1 (510) 555-3344`,
    /// `510.555.3344`, `15105553344`, `+44 20 7946 0958`, `00 44 20 7946 0958`.
    ///
    /// `region` supplies the country when the text carries no country code.
    pub fn parse(input: &str, region: Region) -> Result<Phone, PhoneError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(PhoneError::Empty);
        }
        if is_scientific(text) {
            return Err(PhoneError::SpreadsheetMangled);
        }

        let written = Written::scan(text)?;
        let digits = &written.digits[..written.len];
        match international_digits(&written, region) {
            Some(full) => parse_international(full),
            None if region.is_nanp() => parse_nanp_national(digits),
            None => parse_with_metadata(ascii(digits), Some(region)),
        }
    }

    /// The digits Heymarket expects.
    pub fn digits(&self) -> &str {
        ascii(&self.digits[..usize::from(self.len)])
    }

    /// The number with everything but its country calling code and last two digits hidden,
    /// for output that may be shared (logs, PR comments): `+1 ••• ••• ••44` for a North
    /// American number, `+44 ••••••••58` elsewhere. The area code is hidden too, since it
    /// tells where a person lives.
    pub fn masked(&self) -> String {
        let digits = self.digits();
        let code_len = calling_code_len(digits);
        let (code, national) = digits.split_at(code_len);
        let (hidden, shown) = national.split_at(national.len().saturating_sub(2));

        let mut out = format!("+{code}");
        if code_len > 0 {
            out.push(' ');
        }
        for (index, _) in hidden.char_indices() {
            let is_nanp_group_end = code == "1" && (index == 3 || index == 6);
            if is_nanp_group_end {
                out.push(' ');
            }
            out.push(MASK);
        }
        out.push_str(shown);
        out
    }

    /// The number as an integer, for compact duplicate sets. E.164 never starts with `0`,
    /// so two different numbers never share a value.
    pub fn as_u64(&self) -> u64 {
        self.digits
            .iter()
            .take(usize::from(self.len))
            .fold(0, |value, digit| value * 10 + u64::from(digit - b'0'))
    }

    /// The three-digit area code of a North American number, `None` for other countries.
    pub fn nanp_area_code(&self) -> Option<u16> {
        if self.len != 11 || self.digits[0] != b'1' {
            return None;
        }
        let [a, b, c] =
            [self.digits[1], self.digits[2], self.digits[3]].map(|d| u16::from(d - b'0'));
        Some(a * 100 + b * 10 + c)
    }

    /// Whether this is a North American toll-free number (800, 833 ... 888).
    pub fn is_toll_free(&self) -> bool {
        self.nanp_area_code()
            .is_some_and(|code| TOLL_FREE_AREA_CODES.contains(&code))
    }

    /// Builds a phone from ASCII digits whose length was already checked.
    fn from_ascii(bytes: &[u8]) -> Phone {
        let mut digits = [0; MAX_DIGITS];
        digits[..bytes.len()].copy_from_slice(bytes);
        Phone {
            digits,
            len: bytes.len() as u8,
        }
    }
}

impl Written {
    /// Keeps the digits, accepts the separators people use, refuses anything else.
    fn scan(text: &str) -> Result<Written, PhoneError> {
        let mut written = Written {
            digits: [0; MAX_WRITTEN_DIGITS],
            len: 0,
            has_plus: false,
        };

        for (index, ch) in text.char_indices() {
            match ch {
                '0'..='9' => written.push(ch as u8)?,
                '+' if index == 0 => written.has_plus = true,
                ' ' | '-' | '.' | '(' | ')' | '/' => {}
                '\u{2010}'..='\u{2015}' => {}
                _ if ch.is_whitespace() => {}
                _ => return Err(PhoneError::invalid(format!("unexpected character `{ch}`"))),
            }
        }

        if written.len == 0 {
            return Err(PhoneError::invalid("no digits"));
        }
        Ok(written)
    }

    fn push(&mut self, digit: u8) -> Result<(), PhoneError> {
        if self.len == MAX_WRITTEN_DIGITS {
            return Err(PhoneError::invalid("too many digits"));
        }
        self.digits[self.len] = digit;
        self.len += 1;
        Ok(())
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+{}", self.digits())
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.digits())
    }
}

impl serde::Serialize for Phone {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.digits())
    }
}

impl<'de> serde::Deserialize<'de> for Phone {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let digits = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Phone::from_e164_digits(&digits).ok_or_else(|| {
            serde::de::Error::custom(format!("`{digits}` is not E.164 digits without `+`"))
        })
    }
}

/// Whether a cell looks like a float a spreadsheet wrote: `1.5105E+10`, `1,51055533E+10`.
fn is_scientific(text: &str) -> bool {
    let Some((mantissa, exponent)) = text.split_once(['e', 'E']) else {
        return false;
    };
    let exponent = exponent.strip_prefix('+').unwrap_or(exponent);

    let is_mantissa = mantissa
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b',');
    let is_exponent = exponent.bytes().all(|b| b.is_ascii_digit());
    !mantissa.is_empty() && !exponent.is_empty() && is_mantissa && is_exponent
}

/// The digits after the international marker (`+`, `00`, or `011` in North America),
/// or `None` when the number is written without a country code.
fn international_digits(written: &Written, region: Region) -> Option<&[u8]> {
    let digits = &written.digits[..written.len];
    if written.has_plus {
        Some(digits)
    } else if let Some(rest) = digits.strip_prefix(b"00") {
        Some(rest)
    } else if region.is_nanp() && digits.len() != 10 {
        // Ten digits are a national number with a mistyped area code, not `011` dialling.
        digits.strip_prefix(b"011")
    } else {
        None
    }
}

/// A number written with its country code.
fn parse_international(digits: &[u8]) -> Result<Phone, PhoneError> {
    match digits.first() {
        None => Err(PhoneError::invalid(
            "no digits after the country code marker",
        )),
        Some(b'1') => check_nanp(&digits[1..]),
        Some(_) => parse_with_metadata(&format!("+{}", ascii(digits)), None),
    }
}

/// A North American number written without `+`: ten digits, or eleven starting with 1.
fn parse_nanp_national(digits: &[u8]) -> Result<Phone, PhoneError> {
    match digits {
        [b'1', rest @ ..] if rest.len() == 10 => check_nanp(rest),
        _ if digits.len() == 10 => check_nanp(digits),
        _ => Err(PhoneError::invalid(format!(
            "a North American number has 10 digits, found {}",
            digits.len()
        ))),
    }
}

/// Checks the ten digits after `1`: area code and exchange start with 2-9, and the area
/// code is not a service code such as 411 or 911.
fn check_nanp(ten: &[u8]) -> Result<Phone, PhoneError> {
    let [a, b, c, exchange, ..] = ten else {
        return Err(too_short_for_nanp(ten.len()));
    };
    if ten.len() != 10 {
        return Err(too_short_for_nanp(ten.len()));
    }
    if *a < b'2' {
        return Err(PhoneError::invalid(
            "a North American area code cannot start with 0 or 1",
        ));
    }
    if *b == b'1' && *c == b'1' {
        let code = ascii(&ten[..3]);
        return Err(PhoneError::invalid(format!(
            "`{code}` is a service code, not an area code"
        )));
    }
    if *exchange < b'2' {
        return Err(PhoneError::invalid(
            "the exchange (3 digits after the area code) cannot start with 0 or 1",
        ));
    }

    let mut digits = [0; 11];
    digits[0] = b'1';
    digits[1..].copy_from_slice(ten);
    Ok(Phone::from_ascii(&digits))
}

fn too_short_for_nanp(found: usize) -> PhoneError {
    PhoneError::invalid(format!(
        "a North American number has 10 digits after the country code 1, found {found}"
    ))
}

/// Any non-NANP number, checked against libphonenumber's metadata for its country.
fn parse_with_metadata(text: &str, region: Option<Region>) -> Result<Phone, PhoneError> {
    let country = region.and_then(|region| region.country_id());
    let number =
        phonenumber::parse(country, text).map_err(|_| PhoneError::invalid("not a phone number"))?;

    if !number.is_valid() {
        let place = match region {
            Some(region) => format!("in region `{region}`"),
            None => format!("for country code +{}", number.code().value()),
        };
        return Err(PhoneError::invalid(format!("not a valid number {place}")));
    }

    let e164 = format!("{}{}", number.code().value(), number.national());
    Phone::from_e164_digits(&e164).ok_or_else(|| PhoneError::invalid("not an E.164 number"))
}

/// How many leading digits are the country calling code (calling codes are prefix-free).
fn calling_code_len(digits: &str) -> usize {
    if digits.starts_with(['1', '7']) {
        return 1;
    }
    let is_code = |len: usize| {
        digits
            .get(..len)
            .and_then(|prefix| prefix.parse::<u16>().ok())
            .is_some_and(|code| phonenumber::metadata::DATABASE.region(&code).is_some())
    };
    (2..=3).find(|len| is_code(*len)).unwrap_or(0)
}

/// Views ASCII digits as text (digits are always valid UTF-8).
fn ascii(digits: &[u8]) -> &str {
    std::str::from_utf8(digits).unwrap_or_default()
}

#[cfg(test)]
mod tests;
