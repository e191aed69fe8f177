//! Unit tests for phone parsing, kept beside `phone.rs` so that file stays readable.

use super::*;

fn us(input: &str) -> Result<String, PhoneError> {
    Phone::parse(input, Region::US).map(|phone| phone.digits().to_owned())
}

fn invalid_reason(input: &str, region: Region) -> String {
    match Phone::parse(input, region) {
        Err(PhoneError::Invalid { reason }) => reason,
        other => panic!("{input:?} should be invalid, got {other:?}"),
    }
}

#[test]
fn reads_north_american_numbers_as_people_write_them() {
    for input in [
        "+1 (510) 555-3344",
        "510.555.3344",
        "15105553344",
        "5105553344",
        "(510) 555 3344",
        "1-510-555-3344",
        "  510/555-3344\t",
        "+1\u{a0}510\u{2011}555\u{2011}3344",
        "001 510 555 3344",
        "011 1 510 555 3344",
    ] {
        assert_eq!(us(input), Ok("15105553344".to_owned()), "{input:?}");
    }
}

#[test]
fn reads_other_countries_with_a_country_code() {
    assert_eq!(us("+44 20 7946 0958"), Ok("442079460958".to_owned()));
    assert_eq!(us("00 44 20 7946 0958"), Ok("442079460958".to_owned()));
    assert_eq!(us("+33 6 12 34 56 78"), Ok("33612345678".to_owned()));
    assert_eq!(us("+61 412 345 678"), Ok("61412345678".to_owned()));
}

#[test]
fn uses_the_region_when_there_is_no_country_code() {
    let gb = Phone::parse("020 7946 0958", Region::GB).expect("gb");
    assert_eq!(gb.digits(), "442079460958");

    let de = Region::parse("de").expect("de");
    let berlin = Phone::parse("030 901820", de).expect("de number");
    assert_eq!(berlin.digits(), "4930901820");

    let ca = Phone::parse("(416) 555-0199", Region::CA).expect("ca");
    assert_eq!(ca.digits(), "14165550199");
}

#[test]
fn rejects_impossible_north_american_numbers() {
    assert!(invalid_reason("(110) 555-3344", Region::US).contains("0 or 1"));
    assert!(invalid_reason("(011) 555-3344", Region::US).contains("0 or 1"));
    assert!(invalid_reason("(911) 555-3344", Region::US).contains("service code"));
    assert!(invalid_reason("(411) 555-3344", Region::US).contains("`411`"));
    assert!(invalid_reason("(510) 155-3344", Region::US).contains("exchange"));
    assert!(invalid_reason("555-3344", Region::US).contains("found 7"));
    assert!(invalid_reason("+1 510 555 334", Region::US).contains("found 9"));
    assert!(invalid_reason("25105553344", Region::US).contains("found 11"));
}

#[test]
fn rejects_stray_text_and_implausible_lengths() {
    assert!(invalid_reason("510-555-3344 ext 2", Region::US).contains("`e`"));
    assert!(invalid_reason("call me", Region::US).contains("`c`"));
    assert!(invalid_reason("+", Region::US).contains("no digits"));
    assert!(invalid_reason("+44 20 7946", Region::US).contains("+44"));
    assert!(invalid_reason("0207", Region::GB).contains("`GB`"));
    assert!(invalid_reason("1234567890123456789", Region::US).contains("too many"));
    assert!(invalid_reason("5+105553344", Region::US).contains("`+`"));
}

#[test]
fn explains_empty_and_spreadsheet_mangled_cells() {
    assert_eq!(Phone::parse("", Region::US), Err(PhoneError::Empty));
    assert_eq!(Phone::parse(" \t ", Region::US), Err(PhoneError::Empty));
    for mangled in ["1.5105E+10", "1.51055533E+10", "1,51055533E+10", "1.5e10"] {
        let error = Phone::parse(mangled, Region::US).expect_err(mangled);
        assert_eq!(error, PhoneError::SpreadsheetMangled);
        assert_eq!(
            error.hint(),
            Some("format the column as text in the spreadsheet")
        );
    }
}

#[test]
fn error_messages_are_lowercase_without_a_trailing_period() {
    let errors = [
        PhoneError::Empty,
        PhoneError::SpreadsheetMangled,
        Phone::parse("12", Region::US).expect_err("short"),
    ];
    for error in errors {
        let text = error.to_string();
        assert!(text.starts_with(|c: char| c.is_lowercase()), "{text}");
        assert!(!text.ends_with('.'), "{text}");
    }
}

#[test]
fn masks_all_but_country_code_and_last_two_digits() {
    let nanp = Phone::parse("510 555 3344", Region::US).expect("us");
    assert_eq!(nanp.masked(), "+1 ••• ••• ••44");

    let gb = Phone::parse("+44 20 7946 0958", Region::US).expect("gb");
    assert_eq!(gb.masked(), "+44 ••••••••58");

    let india = Phone::parse("+91 98765 43210", Region::US).expect("in");
    assert_eq!(india.masked(), "+91 ••••••••10");

    let ireland = Phone::parse("+353 87 123 4567", Region::US).expect("ie");
    assert_eq!(ireland.masked(), "+353 •••••••67");
}

#[test]
fn exposes_integer_area_code_and_toll_free() {
    let phone = Phone::parse("510 555 3344", Region::US).expect("us");
    assert_eq!(phone.as_u64(), 15_105_553_344);
    assert_eq!(phone.nanp_area_code(), Some(510));
    assert!(!phone.is_toll_free());

    for code in [800, 833, 844, 855, 866, 877, 888] {
        let toll_free = Phone::parse(&format!("{code} 555 0100"), Region::US).expect("tf");
        assert!(toll_free.is_toll_free(), "{code}");
    }

    let gb = Phone::parse("+44 20 7946 0958", Region::US).expect("gb");
    assert_eq!(gb.nanp_area_code(), None);
    assert_eq!(gb.as_u64(), 442_079_460_958);
}

#[test]
fn displays_with_plus_and_serializes_as_digits() {
    let phone = Phone::parse("510 555 3344", Region::US).expect("us");
    assert_eq!(phone.to_string(), "+15105553344");
    assert_eq!(format!("{phone:?}"), "Phone(15105553344)");

    let json = serde_json::to_string(&phone).expect("serialize");
    assert_eq!(json, "\"15105553344\"");
    let back: Phone = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, phone);
    assert!(serde_json::from_str::<Phone>("\"+1510\"").is_err());
}

#[test]
fn from_e164_digits_accepts_only_plain_digits() {
    assert!(Phone::from_e164_digits("15105553344").is_some());
    assert!(Phone::from_e164_digits("+15105553344").is_none());
    assert!(Phone::from_e164_digits("05105553344").is_none());
    assert!(Phone::from_e164_digits("1234567890123456").is_none());
    assert!(Phone::from_e164_digits("").is_none());
}

/// Measures the NANP fast path; run with
/// `cargo test --release --lib recipients::phone -- --ignored --nocapture`.
#[test]
#[ignore = "a timing measurement, not a check"]
fn parses_a_million_north_american_numbers_quickly() {
    let inputs: Vec<String> = (0..1_000_000u64)
        .map(|i| match i % 3 {
            0 => format!("+1 (510) 5{:02}-{:04}", i % 100, i % 10_000),
            1 => format!("415.5{:02}.{:04}", i % 100, i % 10_000),
            _ => format!("1212555{:04}", i % 10_000),
        })
        .collect();

    let start = std::time::Instant::now();
    let mut checksum = 0u64;
    for input in &inputs {
        let phone = Phone::parse(input, Region::US).expect("valid");
        checksum = checksum.wrapping_add(phone.as_u64());
    }
    let elapsed = start.elapsed();

    println!("1,000,000 NANP parses in {elapsed:?} (checksum {checksum})");
}

#[test]
fn never_panics_on_arbitrary_digit_strings() {
    use rand::{Rng, SeedableRng};

    let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
    let regions = ["US", "GB", "DE", "IT", "IN", "BR", "JP", "AU", "CH", "NU"];
    for _ in 0..3_000 {
        let len = rng.random_range(1..=19);
        let digits: String = (0..len)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect();
        let prefix = ["", "+", "00", "0", "011"][rng.random_range(0..5)];
        let region = Region::parse(regions[rng.random_range(0..regions.len())]).expect("region");
        if let Ok(phone) = Phone::parse(&format!("{prefix}{digits}"), region) {
            assert!(
                Phone::from_e164_digits(phone.digits()).is_some(),
                "{phone:?}"
            );
            assert!(
                phone
                    .masked()
                    .ends_with(&phone.digits()[phone.digits().len() - 2..])
            );
        }
    }
}
