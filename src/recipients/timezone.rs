//! Time zones of North American numbers, from their area code.
//!
//! US rules forbid marketing texts outside 08:00-21:00 in the recipient's local time, and
//! the phone number is usually all a campaign knows about where someone is. Each NANP area
//! code maps to the IANA zones it covers; a code that straddles a zone line lists every zone,
//! so that a send window checked in all of them holds wherever the person is. A number with
//! no known area code (another country, toll-free, an unassigned code) gets [`US_ZONES`].
//! People keep their number when they move, so this is a best guess; a recipient's own
//! time zone column, when the CSV has one, is the plan's to prefer.

use crate::recipients::phone::Phone;

/// The zones covering the United States, used when a recipient's zone is unknown.
pub const US_ZONES: &[&str] = &[
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
];

const ET: &[&str] = &["America/New_York"];
const CT: &[&str] = &["America/Chicago"];
const MT: &[&str] = &["America/Denver"];
const PT: &[&str] = &["America/Los_Angeles"];
const ET_CT: &[&str] = &["America/New_York", "America/Chicago"];
const CT_MT: &[&str] = &["America/Chicago", "America/Denver"];
const MICHIGAN: &[&str] = &["America/Detroit"];
const INDIANA: &[&str] = &["America/Indiana/Indianapolis"];
const INDIANA_CT: &[&str] = &["America/Indiana/Indianapolis", "America/Chicago"];
const ALBERTA: &[&str] = &["America/Edmonton"];
const ONTARIO: &[&str] = &["America/Toronto"];
const ATLANTIC: &[&str] = &["America/Halifax"];
const MANITOBA: &[&str] = &["America/Winnipeg"];
const SASKATCHEWAN: &[&str] = &["America/Regina", "America/Edmonton"];
const BC_INTERIOR: &[&str] = &[
    "America/Vancouver",
    "America/Edmonton",
    "America/Dawson_Creek",
];
const QUEBEC_EAST: &[&str] = &["America/Toronto", "America/Halifax", "America/Blanc-Sablon"];

/// Area codes grouped by the zones they cover, state by state.
const AREA_CODES: &[(&[u16], &[&str])] = &[
    // Alabama, Arkansas, Illinois, Iowa, Louisiana, Minnesota, Mississippi, Missouri.
    (&[205, 251, 256, 334, 659, 938], CT),
    (&[327, 479, 501, 870], CT),
    (
        &[
            217, 224, 309, 312, 331, 447, 464, 618, 630, 708, 730, 773, 779, 815, 847, 861, 872,
        ],
        CT,
    ),
    (&[319, 515, 563, 641, 712], CT),
    (&[225, 318, 337, 504, 985], CT),
    (&[218, 320, 507, 612, 651, 763, 924, 952], CT),
    (&[228, 601, 662, 769], CT),
    (&[235, 314, 417, 557, 573, 636, 660, 816, 975], CT),
    // Oklahoma, Wisconsin, most of Texas, western Tennessee.
    (&[405, 539, 572, 580, 918], CT),
    (&[262, 274, 414, 534, 608, 715, 920], CT),
    (
        &[
            210, 214, 254, 281, 325, 346, 361, 409, 430, 469, 512, 682, 713, 726, 737,
        ],
        CT,
    ),
    (&[806, 817, 830, 832, 903, 936, 940, 945, 956, 972, 979], CT),
    (&[615, 629, 731, 901], CT),
    // Split between Central and Mountain: west Texas, Kansas, Nebraska, the Dakotas.
    (&[432, 620, 785, 308, 605, 701], CT_MT),
    // Split between Eastern and Central: Florida panhandle, Kentucky, Tennessee plateau.
    (&[850, 448, 270, 364, 931], ET_CT),
    // Eastern: New England and the Mid-Atlantic.
    (&[207, 603, 802, 401], ET),
    (&[203, 475, 860, 959], ET),
    (&[339, 351, 413, 508, 617, 774, 781, 857, 978], ET),
    (
        &[
            212, 315, 329, 332, 347, 363, 516, 518, 585, 607, 624, 631, 646, 680,
        ],
        ET,
    ),
    (&[716, 718, 838, 845, 914, 917, 929, 934], ET),
    (&[201, 551, 609, 640, 732, 848, 856, 862, 908, 973], ET),
    (
        &[
            215, 223, 267, 272, 412, 445, 484, 570, 582, 610, 717, 724, 814, 835, 878,
        ],
        ET,
    ),
    (&[302, 202, 771, 227, 240, 301, 410, 443, 667], ET),
    // Eastern: the South Atlantic and Ohio valley.
    (&[276, 434, 540, 571, 703, 757, 804, 826, 948, 304, 681], ET),
    (&[252, 336, 472, 704, 743, 828, 910, 919, 980, 984], ET),
    (&[803, 839, 843, 854, 864], ET),
    (&[229, 404, 470, 478, 678, 706, 762, 770, 912, 943], ET),
    (
        &[
            239, 305, 321, 324, 352, 386, 407, 561, 645, 656, 689, 727, 728,
        ],
        ET,
    ),
    (&[754, 772, 786, 813, 863, 904, 941, 954], ET),
    (
        &[
            216, 220, 234, 283, 326, 330, 380, 419, 436, 440, 513, 567, 614, 740, 937,
        ],
        ET,
    ),
    (&[502, 606, 859, 423, 865], ET),
    // Michigan (the Upper Peninsula touches Central) and Indiana (its corners are Central).
    (
        &[231, 248, 269, 313, 517, 586, 616, 679, 734, 810, 947, 989],
        MICHIGAN,
    ),
    (&[906], &["America/Detroit", "America/Menominee"]),
    (&[260, 317, 463, 765], INDIANA),
    (&[219, 574, 812, 930], INDIANA_CT),
    // Mountain, Arizona (no daylight saving, except the Navajo Nation) and Idaho.
    (
        &[
            303, 719, 720, 970, 983, 406, 505, 575, 385, 435, 801, 307, 915,
        ],
        MT,
    ),
    (&[480, 520, 602, 623], &["America/Phoenix"]),
    (&[928], &["America/Phoenix", "America/Denver"]),
    (&[208, 986], &["America/Boise", "America/Los_Angeles"]),
    // Pacific: California, Nevada, Oregon, Washington.
    (
        &[
            209, 213, 279, 310, 323, 341, 350, 369, 408, 415, 424, 442, 510, 530, 559,
        ],
        PT,
    ),
    (
        &[
            562, 619, 626, 628, 650, 657, 661, 669, 707, 714, 738, 747, 760, 805, 818,
        ],
        PT,
    ),
    (&[820, 831, 837, 840, 858, 909, 916, 925, 949, 951], PT),
    (&[702, 725, 503, 971, 206, 253, 360, 425, 509, 564], PT),
    (&[775], &["America/Los_Angeles", "America/Denver"]),
    (&[458, 541], &["America/Los_Angeles", "America/Boise"]),
    // Alaska (the Aleutians are an hour behind) and Hawaii.
    (&[907], &["America/Anchorage", "America/Adak"]),
    (&[808], &["Pacific/Honolulu"]),
    // US territories.
    (&[787, 939], &["America/Puerto_Rico"]),
    (&[340], &["America/St_Thomas"]),
    (&[671], &["Pacific/Guam"]),
    (&[670], &["Pacific/Saipan"]),
    (&[684], &["Pacific/Pago_Pago"]),
    // Canada.
    (
        &[
            226, 249, 289, 343, 365, 382, 387, 416, 437, 519, 548, 613, 647, 683,
        ],
        ONTARIO,
    ),
    (&[705, 742, 753, 905, 942], ONTARIO),
    (&[807], &["America/Toronto", "America/Winnipeg"]),
    (&[263, 354, 438, 450, 468, 514, 579, 819, 873], ONTARIO),
    (&[367, 418, 581], QUEBEC_EAST),
    (&[428, 506], &["America/Moncton"]),
    (&[782, 902], ATLANTIC),
    (&[709, 879], &["America/St_Johns", "America/Goose_Bay"]),
    (&[204, 431, 584], MANITOBA),
    (&[306, 474, 639], SASKATCHEWAN),
    (&[368, 403, 587, 780, 825], ALBERTA),
    (&[604], &["America/Vancouver"]),
    (&[236, 250, 257, 672, 778], BC_INTERIOR),
    (
        &[867],
        &[
            "America/Whitehorse",
            "America/Edmonton",
            "America/Iqaluit",
            "America/Rankin_Inlet",
        ],
    ),
    // The Caribbean and Bermuda.
    (&[242], &["America/Nassau"]),
    (&[246], &["America/Barbados"]),
    (&[264], &["America/Anguilla"]),
    (&[268], &["America/Antigua"]),
    (&[284], &["America/Tortola"]),
    (&[345], &["America/Cayman"]),
    (&[441], &["Atlantic/Bermuda"]),
    (&[473], &["America/Grenada"]),
    (&[649], &["America/Grand_Turk"]),
    (&[658, 876], &["America/Jamaica"]),
    (&[664], &["America/Montserrat"]),
    (&[721], &["America/Lower_Princes"]),
    (&[758], &["America/St_Lucia"]),
    (&[767], &["America/Dominica"]),
    (&[784], &["America/St_Vincent"]),
    (&[809, 829, 849], &["America/Santo_Domingo"]),
    (&[868], &["America/Port_of_Spain"]),
    (&[869], &["America/St_Kitts"]),
];

/// For each three-digit code, 1 + the index of its group in [`AREA_CODES`], or 0.
///
/// Built at compile time, which also refuses a code listed twice.
const INDEX: [u8; 1000] = build_index();

const _: () = assert!(AREA_CODES.len() < u8::MAX as usize);

const fn build_index() -> [u8; 1000] {
    let mut index = [0u8; 1000];
    let mut group = 0;
    while group < AREA_CODES.len() {
        let codes = AREA_CODES[group].0;
        let mut at = 0;
        while at < codes.len() {
            let code = codes[at] as usize;
            assert!(index[code] == 0, "an area code is listed twice");
            index[code] = (group + 1) as u8;
            at += 1;
        }
        group += 1;
    }
    index
}

/// The IANA zones a North American area code covers, or `None` when it is not a known
/// geographic area code.
pub fn zones_for_area_code(code: u16) -> Option<&'static [&'static str]> {
    let slot = *INDEX.get(usize::from(code))?;
    let group = usize::from(slot).checked_sub(1)?;
    Some(AREA_CODES[group].1)
}

/// The zones a recipient may be in: its area code's for a North American number, else
/// [`US_ZONES`] (the send window must then hold in all of them).
pub fn zones_for(phone: &Phone) -> &'static [&'static str] {
    phone
        .nanp_area_code()
        .and_then(zones_for_area_code)
        .unwrap_or(US_ZONES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipients::phone::Region;

    #[test]
    fn every_zone_exists_in_the_bundled_tzdb() {
        let listed = AREA_CODES.iter().flat_map(|(_, zones)| zones.iter());
        for zone in listed.chain(US_ZONES) {
            assert!(jiff::tz::TimeZone::get(zone).is_ok(), "unknown zone {zone}");
        }
    }

    #[test]
    fn covers_the_whole_plan() {
        let codes = AREA_CODES
            .iter()
            .map(|(codes, _)| codes.len())
            .sum::<usize>();
        assert!(codes > 400, "only {codes} area codes");
        for (group, _) in AREA_CODES {
            for code in *group {
                assert!((200..=999).contains(code), "{code}");
                assert!(code % 100 != 11, "{code} is a service code");
            }
        }
    }

    #[test]
    fn lists_every_zone_of_a_split_area_code() {
        let boise = ["America/Boise", "America/Los_Angeles"];
        assert_eq!(zones_for_area_code(208), Some(&boise[..]));
        let panhandle = ["America/New_York", "America/Chicago"];
        assert_eq!(zones_for_area_code(850), Some(&panhandle[..]));
        assert_eq!(zones_for_area_code(212), Some(ET));
        assert_eq!(zones_for_area_code(416), Some(ONTARIO));
        assert_eq!(zones_for_area_code(876), Some(&["America/Jamaica"][..]));
    }

    #[test]
    fn unknown_codes_have_no_zones() {
        for code in [0, 100, 411, 800, 888, 999, 1000, u16::MAX] {
            assert_eq!(zones_for_area_code(code), None, "{code}");
        }
    }

    #[test]
    fn falls_back_to_all_us_zones() {
        let phone = |text: &str| Phone::parse(text, Region::US).expect("valid");
        assert_eq!(zones_for(&phone("+1 510 555 3344")), PT);
        assert_eq!(zones_for(&phone("+1 800 555 0100")), US_ZONES);
        assert_eq!(zones_for(&phone("+44 20 7946 0958")), US_ZONES);
    }
}
