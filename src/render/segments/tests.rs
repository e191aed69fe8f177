//! Boundary tests for segment counting, kept beside `segments.rs` so that file stays short.

use super::*;

/// The GSM 03.38 basic table, row by row, without the escape code (0x1B).
const GSM_BASIC_TABLE: &str = concat!(
    "@£$¥èéùìòÇ\nØø\rÅå",
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ",
    " !\"#¤%&'()*+,-./",
    "0123456789:;<=>?",
    "¡ABCDEFGHIJKLMNO",
    "PQRSTUVWXYZÄÖÑÜ§",
    "¿abcdefghijklmno",
    "pqrstuvwxyzäöñüà",
);

const GSM_EXTENSION_TABLE: &str = "^{}\\[~]|€\u{0C}";

fn segments_of(text: &str) -> (Encoding, u32, u32) {
    let counted = count(text);
    (counted.encoding, counted.segments, counted.units)
}

#[test]
fn empty_text_has_no_segments() {
    assert_eq!(segments_of(""), (Encoding::Gsm7, 0, 0));
}

#[test]
fn gsm_fits_160_in_one_segment_and_153_per_part() {
    assert_eq!(segments_of(&"a".repeat(160)), (Encoding::Gsm7, 1, 160));
    assert_eq!(segments_of(&"a".repeat(161)), (Encoding::Gsm7, 2, 161));
    assert_eq!(segments_of(&"a".repeat(306)), (Encoding::Gsm7, 2, 306));
    assert_eq!(segments_of(&"a".repeat(307)), (Encoding::Gsm7, 3, 307));
}

#[test]
fn gsm_extension_chars_cost_two_septets() {
    assert_eq!(segments_of(&"€".repeat(80)), (Encoding::Gsm7, 1, 160));
    assert_eq!(
        segments_of(&format!("{}{{", "a".repeat(159))),
        (Encoding::Gsm7, 2, 161)
    );
}

#[test]
fn gsm_escape_pair_never_straddles_two_parts() {
    // 152 + 2 + 152 = 306 septets would fit two parts if the pair could be cut.
    let text = format!("{}€{}", "a".repeat(152), "a".repeat(152));
    assert_eq!(segments_of(&text), (Encoding::Gsm7, 3, 306));

    let fits = format!("{}€{}", "a".repeat(151), "a".repeat(153));
    assert_eq!(segments_of(&fits), (Encoding::Gsm7, 2, 306));
}

#[test]
fn ucs2_fits_70_in_one_segment_and_67_per_part() {
    assert_eq!(segments_of(&"ж".repeat(70)), (Encoding::Ucs2, 1, 70));
    assert_eq!(segments_of(&"ж".repeat(71)), (Encoding::Ucs2, 2, 71));
    assert_eq!(segments_of(&"ж".repeat(134)), (Encoding::Ucs2, 2, 134));
    assert_eq!(segments_of(&"ж".repeat(135)), (Encoding::Ucs2, 3, 135));
}

#[test]
fn one_non_gsm_char_turns_the_whole_message_into_ucs2() {
    let text = format!("{}ж", "a".repeat(69));
    assert_eq!(segments_of(&text), (Encoding::Ucs2, 1, 70));
    let text = format!("{}ж", "a".repeat(70));
    assert_eq!(segments_of(&text), (Encoding::Ucs2, 2, 71));
}

#[test]
fn surrogate_pair_costs_two_units_and_never_straddles() {
    assert_eq!(segments_of(&"😀".repeat(35)), (Encoding::Ucs2, 1, 70));
    assert_eq!(segments_of(&"😀".repeat(36)), (Encoding::Ucs2, 2, 72));

    // 66 + 2 + 66 = 134 units would fit two parts if the pair could be cut.
    let text = format!("{}😀{}", "ж".repeat(66), "ж".repeat(66));
    assert_eq!(segments_of(&text), (Encoding::Ucs2, 3, 134));

    let fits = format!("{}😀{}", "ж".repeat(65), "ж".repeat(67));
    assert_eq!(segments_of(&fits), (Encoding::Ucs2, 2, 134));
}

#[test]
fn the_whole_gsm_basic_table_is_one_septet_each() {
    assert_eq!(GSM_BASIC_TABLE.chars().count(), 127);
    for ch in GSM_BASIC_TABLE.chars() {
        assert_eq!(gsm_septets(ch), Some(1), "{ch:?}");
    }
    assert_eq!(segments_of(GSM_BASIC_TABLE), (Encoding::Gsm7, 1, 127));
}

#[test]
fn the_extension_table_is_two_septets_each() {
    for ch in GSM_EXTENSION_TABLE.chars() {
        assert_eq!(gsm_septets(ch), Some(2), "{ch:?}");
    }
    assert_eq!(segments_of(GSM_EXTENSION_TABLE), (Encoding::Gsm7, 1, 20));
}

#[test]
fn ascii_outside_gsm_is_reported() {
    for ch in ['`', '\t', '\u{7f}', '\u{0}'] {
        assert_eq!(gsm_septets(ch), None, "{ch:?}");
    }
}

#[test]
fn lists_each_non_gsm_char_once_in_order_with_counts() {
    let counted = count("It’s “done”… it’s");
    let found: Vec<(char, u32)> = counted.non_gsm.iter().map(|c| (c.ch, c.count)).collect();
    assert_eq!(found, [('’', 2), ('“', 1), ('”', 1), ('…', 1)]);
    assert!(count("plain text").non_gsm.is_empty());
}

#[test]
fn suggests_gsm_replacements_for_common_triggers() {
    let cases = [
        ('’', "'"),
        ('‘', "'"),
        ('“', "\""),
        ('”', "\""),
        ('…', "..."),
        ('–', "-"),
        ('—', "-"),
        ('\u{a0}', " "),
        ('\t', " "),
        ('ç', "c"),
        ('•', "-"),
        ('á', "a"),
        ('™', "TM"),
        ('\u{200b}', ""),
    ];
    for (ch, replacement) in cases {
        assert_eq!(suggestion(ch), Some(replacement), "{ch:?}");
        assert_eq!(gsm_septets(ch), None, "{ch:?} must not be GSM");
        let replaced = count(replacement);
        assert_eq!(replaced.encoding, Encoding::Gsm7, "{replacement:?}");
    }
    assert_eq!(suggestion('😀'), None);
    assert_eq!(gsm_septets('Ç'), Some(1));
}

#[test]
fn encoding_reads_lowercase_in_text_and_json() {
    assert_eq!(Encoding::Gsm7.to_string(), "gsm7");
    assert_eq!(Encoding::Ucs2.to_string(), "ucs2");
    let json = serde_json::to_string(&count("ж")).expect("serialize");
    assert!(
        json.starts_with("{\"encoding\":\"ucs2\",\"segments\":1,\"units\":1"),
        "{json}"
    );
}
