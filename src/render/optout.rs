//! Does a message tell the recipient how to stop receiving texts?
//!
//! US rules expect the first message to say how to opt out ("Reply STOP to opt out"). This
//! is a heuristic that warns; it never blocks a send, because Heymarket's "Append Opt-Out"
//! setting may add the words server-side.

/// The keywords Heymarket honours for opting out.
const OPT_OUT_WORDS: [&str; 6] = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"];

/// Whether `text` names an opt-out keyword as an instruction ("reply STOP", "text END").
pub fn has_opt_out_instruction(text: &str) -> bool {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_uppercase)
        .collect();
    words.iter().enumerate().any(|(index, word)| {
        let is_keyword = OPT_OUT_WORDS.contains(&word.as_str());
        let shouted = text.contains(word.as_str());
        let instructed = index > 0
            && matches!(
                words[index - 1].as_str(),
                "REPLY" | "TEXT" | "SEND" | "RESPOND"
            );
        is_keyword
            && (shouted || instructed)
            && (instructed || word == "STOP" || word == "UNSUBSCRIBE")
    })
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
