//! Masking personal data in text that may be shared: error messages, events, logs.
//!
//! Heymarket's error bodies are free text and may echo the number they refuse, so any run
//! of seven or more digits is masked down to its last two. Credentials never get this far:
//! they are typed as `Secret` and never formatted.

/// A digit run this long or longer is treated as a phone number.
const MIN_PHONE_DIGITS: usize = 7;

/// Digits kept visible at the end of a masked run.
const VISIBLE_DIGITS: usize = 2;

/// `text` with every run of seven or more digits masked to `***` and its last two digits.
pub fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    for character in text.chars() {
        if character.is_ascii_digit() {
            run.push(character);
            continue;
        }
        flush(&mut out, &mut run);
        out.push(character);
    }
    flush(&mut out, &mut run);
    out
}

fn flush(out: &mut String, run: &mut String) {
    if run.len() >= MIN_PHONE_DIGITS {
        out.push_str("***");
        out.push_str(&run[run.len() - VISIBLE_DIGITS..]);
    } else {
        out.push_str(run);
    }
    run.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_digit_runs_are_masked_and_short_ones_kept() {
        assert_eq!(
            scrub("number +15105553344 refused"),
            "number +***44 refused"
        );
        assert_eq!(scrub("status 403 after 12 s"), "status 403 after 12 s");
        assert_eq!(scrub("1234567"), "***67");
    }
}
