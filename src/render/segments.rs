//! SMS encoding and segment counting: what a message costs before it is sent.
//!
//! Carriers bill per segment. A message that fits the GSM 03.38 alphabet is sent as GSM-7
//! (160 septets in one segment, 153 per segment once split); one character outside it turns
//! the whole message into UCS-2 (70 UTF-16 units, 67 per segment). Characters that cannot be
//! cut in two (a GSM escape pair, a UTF-16 surrogate pair) move whole to the next segment.
//! This module counts and suggests replacements for accidental UCS-2 triggers; it never
//! rewrites a message.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Septets in a single-segment GSM-7 message.
const GSM_SINGLE: u32 = 160;

/// Septets per segment of a split GSM-7 message (the rest carries the joining header).
const GSM_PART: u32 = 153;

/// UTF-16 units in a single-segment UCS-2 message.
const UCS2_SINGLE: u32 = 70;

/// UTF-16 units per segment of a split UCS-2 message.
const UCS2_PART: u32 = 67;

/// The non-ASCII characters of the GSM 03.38 basic table (one septet each).
const GSM_BASIC_NON_ASCII: &str = "£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà";

/// How a message is encoded on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// The GSM 03.38 7-bit alphabet.
    Gsm7,
    /// UTF-16, used as soon as one character is outside GSM-7.
    Ucs2,
}

/// What a message costs: its encoding, segments and size in that encoding's units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segments {
    pub encoding: Encoding,
    pub segments: u32,
    /// Septets for GSM-7, UTF-16 code units for UCS-2.
    pub units: u32,
    /// Each character that forced UCS-2, once, in order of first appearance.
    pub non_gsm: Vec<NonGsmChar>,
}

/// A character outside GSM-7, how often it occurs, and a GSM replacement when one is obvious.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NonGsmChar {
    pub ch: char,
    pub count: u32,
    /// Text to write instead (may be empty: delete the character).
    pub suggestion: Option<&'static str>,
}

/// Packs characters into segments of `size` units, never splitting one character.
#[derive(Debug, Clone, Copy)]
struct Packer {
    size: u32,
    parts: u32,
    used: u32,
    total: u32,
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encoding::Gsm7 => "gsm7",
            Encoding::Ucs2 => "ucs2",
        })
    }
}

impl Packer {
    fn new(size: u32) -> Packer {
        Packer {
            size,
            parts: 0,
            used: 0,
            total: 0,
        }
    }

    fn add(&mut self, cost: u32) {
        self.total += cost;
        if self.parts == 0 || self.used + cost > self.size {
            self.parts += 1;
            self.used = 0;
        }
        self.used += cost;
    }

    /// Segments needed, given that a message that fits `single` units is not split at all.
    fn segments(&self, single: u32) -> u32 {
        if self.total == 0 {
            0
        } else if self.total <= single {
            1
        } else {
            self.parts
        }
    }
}

/// Counts the segments `text` takes. Allocates nothing when the text is pure GSM-7.
pub fn count(text: &str) -> Segments {
    if let Some(septets) = short_ascii_septets(text) {
        return Segments {
            encoding: Encoding::Gsm7,
            segments: u32::from(septets > 0),
            units: septets,
            non_gsm: Vec::new(),
        };
    }

    let mut gsm = Packer::new(GSM_PART);
    let mut ucs2 = Packer::new(UCS2_PART);
    let mut non_gsm: Vec<NonGsmChar> = Vec::new();

    for ch in text.chars() {
        match gsm_septets(ch) {
            Some(septets) => gsm.add(septets),
            None => note_non_gsm(&mut non_gsm, ch),
        }
        ucs2.add(ch.len_utf16() as u32);
    }

    if non_gsm.is_empty() {
        Segments {
            encoding: Encoding::Gsm7,
            segments: gsm.segments(GSM_SINGLE),
            units: gsm.total,
            non_gsm,
        }
    } else {
        Segments {
            encoding: Encoding::Ucs2,
            segments: ucs2.segments(UCS2_SINGLE),
            units: ucs2.total,
            non_gsm,
        }
    }
}

/// The septets of an ASCII, all-GSM text that fits one segment; `None` for anything else.
/// Most messages are exactly that, and this is the plan's hot path.
fn short_ascii_septets(text: &str) -> Option<u32> {
    if text.len() > GSM_SINGLE as usize {
        return None;
    }
    let mut septets = 0;
    for byte in text.bytes() {
        septets += match byte {
            0x80.. => return None,
            _ => gsm_septets(char::from(byte))?,
        };
    }
    (septets <= GSM_SINGLE).then_some(septets)
}

/// Septets `ch` costs in GSM-7: 1 in the basic table, 2 in the extension table, `None`
/// when it is not GSM-7 at all.
pub fn gsm_septets(ch: char) -> Option<u32> {
    match ch {
        'A'..='Z' | 'a'..='z' | '0'..='9' => Some(1),
        ' ' | '\n' | '\r' | '!' | '"' | '#' | '$' | '%' | '&' | '\'' | '(' | ')' | '*' | '+'
        | ',' | '-' | '.' | '/' | ':' | ';' | '<' | '=' | '>' | '?' | '@' | '_' => Some(1),
        '^' | '{' | '}' | '\\' | '[' | '~' | ']' | '|' | '€' | '\u{0C}' => Some(2),
        _ if !ch.is_ascii() && GSM_BASIC_NON_ASCII.contains(ch) => Some(1),
        _ => None,
    }
}

fn note_non_gsm(seen: &mut Vec<NonGsmChar>, ch: char) {
    match seen.iter_mut().find(|entry| entry.ch == ch) {
        Some(entry) => entry.count += 1,
        None => seen.push(NonGsmChar {
            ch,
            count: 1,
            suggestion: suggestion(ch),
        }),
    }
}

/// A GSM-7 replacement for a common accidental UCS-2 trigger.
pub fn suggestion(ch: char) -> Option<&'static str> {
    let replacement = match ch {
        '’' | '‘' | '‚' | '‛' | '′' | '`' | '´' => "'",
        '“' | '”' | '„' | '‟' | '″' | '«' | '»' => "\"",
        '…' => "...",
        '–' | '—' | '‒' | '−' | '‐' | '‑' | '•' | '·' => "-",
        '\u{a0}' | '\u{2007}' | '\u{2009}' | '\u{202f}' | '\t' => " ",
        '\u{200b}' | '\u{feff}' | '\u{ad}' => "",
        // Only the capital `Ç` is GSM; the lower case loses its cedilla.
        'ç' => "c",
        'á' | 'â' | 'ã' | 'ā' => "a",
        'ê' | 'ë' | 'ē' => "e",
        'í' | 'î' | 'ï' => "i",
        'ó' | 'ô' | 'õ' => "o",
        'ú' | 'û' => "u",
        'Á' | 'Â' | 'Ã' | 'À' => "A",
        'Ê' | 'Ë' | 'È' => "E",
        'Í' | 'Î' | 'Ì' => "I",
        'Ó' | 'Ô' | 'Õ' | 'Ò' => "O",
        'Ú' | 'Û' | 'Ù' => "U",
        '™' => "TM",
        '©' => "(c)",
        '®' => "(R)",
        _ => return None,
    };
    Some(replacement)
}

#[cfg(test)]
mod tests;
