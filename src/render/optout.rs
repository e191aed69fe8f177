//! Does a message tell the recipient how to stop receiving texts?
//!
//! US rules expect the first message to say how to opt out ("Reply STOP to opt out"). This
//! is a heuristic that warns; it never blocks a send, because Heymarket's "Append Opt-Out"
//! setting may add the words server-side.

/// The keywords Heymarket honours for opting out.
const OPT_OUT_WORDS: [&str; 6] = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"];

/// Words that, before a keyword, make it an instruction.
const INSTRUCTION_VERBS: [&str; 4] = ["REPLY", "TEXT", "SEND", "RESPOND"];

/// Whether `text` names an opt-out keyword as an instruction ("reply STOP", "text END").
///
/// A keyword counts when a verb such as "reply" comes right before it, or when it is
/// written in capitals and is STOP or UNSUBSCRIBE. Words are runs of ASCII letters and
/// digits (every keyword is ASCII). Runs once per message, without allocating.
pub fn has_opt_out_instruction(text: &str) -> bool {
    let mut previous = "";
    let words = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty());
    for word in words {
        if is_opt_out_instruction(previous, word) {
            return true;
        }
        previous = word;
    }
    false
}

fn is_opt_out_instruction(previous: &str, word: &str) -> bool {
    // Every keyword is 3 to 11 letters: most words are ruled out by length alone.
    if !(3..=11).contains(&word.len())
        || !OPT_OUT_WORDS
            .iter()
            .any(|keyword| word.eq_ignore_ascii_case(keyword))
    {
        return false;
    }
    let instructed = INSTRUCTION_VERBS
        .iter()
        .any(|verb| previous.eq_ignore_ascii_case(verb));
    let shouted = !word.bytes().any(|b| b.is_ascii_lowercase());
    let strong = word.eq_ignore_ascii_case("STOP") || word.eq_ignore_ascii_case("UNSUBSCRIBE");
    instructed || (shouted && strong)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_common_instructions() {
        assert!(has_opt_out_instruction(
            "Sale today! Reply STOP to opt out."
        ));
        assert!(has_opt_out_instruction("Text END to quit"));
        assert!(has_opt_out_instruction("reply stop to unsubscribe"));
        assert!(!has_opt_out_instruction("Don't stop believing"));
        assert!(!has_opt_out_instruction("See you at the end of the week"));
    }
}
