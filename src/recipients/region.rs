//! Regions: the country a number written without a country code is assumed to be in.
//!
//! A [`Region`] is an ISO 3166 alpha-2 code that the phone-number metadata knows, so it
//! always has a calling code. This module only names countries; reading numbers in them is
//! [`super::phone`]'s job.

use std::fmt;

use phonenumber::metadata::DATABASE;

/// The members of the North American Numbering Plan (calling code 1).
///
/// Kept by hand so that the hot parsing path never touches the metadata database; a test
/// checks it against that database.
const NANP_MEMBERS: [&[u8; 2]; 25] = [
    b"AG", b"AI", b"AS", b"BB", b"BM", b"BS", b"CA", b"DM", b"DO", b"GD", b"GU", b"JM", b"KN",
    b"KY", b"LC", b"MP", b"MS", b"PR", b"SX", b"TC", b"TT", b"US", b"VC", b"VG", b"VI",
];

/// A default region for numbers written without a country code: an ISO 3166 alpha-2 code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Region {
    code: [u8; 2],
}

/// A region code that is not a known ISO 3166 alpha-2 country.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown region `{code}`: expected an ISO 3166 two-letter country code such as `US`")]
pub struct RegionError {
    pub code: String,
}

impl Region {
    /// The United States, the default region.
    pub const US: Region = Region { code: *b"US" };

    /// Canada.
    pub const CA: Region = Region { code: *b"CA" };

    /// The United Kingdom.
    pub const GB: Region = Region { code: *b"GB" };

    /// Reads a two-letter country code in any case (`gb`, `GB`), rejecting unknown ones.
    pub fn parse(input: &str) -> Result<Region, RegionError> {
        let unknown = || RegionError {
            code: input.to_owned(),
        };
        let bytes = input.trim().as_bytes();
        let [first, second] = bytes else {
            return Err(unknown());
        };

        let region = Region {
            code: [first.to_ascii_uppercase(), second.to_ascii_uppercase()],
        };
        let is_known = region.code.iter().all(u8::is_ascii_uppercase)
            && DATABASE.by_id(region.code()).is_some();
        if is_known { Ok(region) } else { Err(unknown()) }
    }

    /// The upper-case two-letter code, e.g. `GB`.
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).unwrap_or("??")
    }

    /// The international calling code, e.g. 44 for `GB` and 1 for every NANP member.
    pub fn calling_code(&self) -> u16 {
        if self.is_nanp() {
            return 1;
        }
        DATABASE
            .by_id(self.code())
            .map_or(0, |metadata| metadata.country_code())
    }

    /// Whether the region belongs to the North American Numbering Plan.
    pub fn is_nanp(&self) -> bool {
        NANP_MEMBERS.contains(&&self.code)
    }

    /// The metadata identifier of the region, for the non-NANP parser.
    pub(crate) fn country_id(&self) -> Option<phonenumber::country::Id> {
        self.code().parse().ok()
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Region({})", self.code())
    }
}

impl std::str::FromStr for Region {
    type Err = RegionError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Region::parse(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_any_case_and_rejects_unknown_codes() {
        assert_eq!(Region::parse("gb"), Ok(Region::GB));
        assert_eq!(Region::parse(" Us "), Ok(Region::US));
        assert_eq!(Region::parse("pr").map(|r| r.calling_code()), Ok(1));
        for bad in ["", "U", "USA", "XX", "zz", "1A", "é"] {
            assert!(Region::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn knows_calling_codes_around_the_world() {
        let cases = [
            ("US", 1),
            ("CA", 1),
            ("JM", 1),
            ("GB", 44),
            ("FR", 33),
            ("DE", 49),
            ("IN", 91),
            ("JP", 81),
            ("BR", 55),
            ("MX", 52),
            ("AU", 61),
            ("NZ", 64),
        ];
        for (code, calling) in cases {
            let region = Region::parse(code).expect(code);
            assert_eq!(region.calling_code(), calling, "{code}");
            assert_eq!(region.code(), code);
        }
    }

    #[test]
    fn nanp_member_list_matches_the_metadata() {
        let mut from_metadata: Vec<&str> = DATABASE
            .iter()
            .filter(|metadata| metadata.country_code() == 1)
            .map(|metadata| metadata.id())
            .collect();
        from_metadata.sort_unstable();

        let ours: Vec<&str> = NANP_MEMBERS
            .iter()
            .map(|code| std::str::from_utf8(*code).expect("ascii"))
            .collect();
        assert_eq!(ours, from_metadata);
    }
}
