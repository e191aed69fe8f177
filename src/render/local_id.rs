//! Deterministic `local_id`s: one per message, stable across re-plans.
//!
//! Heymarket echoes a `local_id` on the message in history and webhooks, and deduplicates
//! list broadcasts by it. Ours is derived from the campaign name and the recipient alone, so
//! re-planning, resuming or re-running `apply` always gives a message the same id. It is
//! short, ASCII and reveals nothing about the recipient.

use sha2::{Digest, Sha256};

/// Hex characters of the hash kept: 80 bits, so collisions are out of reach for any audience.
const HASH_CHARS: usize = 20;

/// Who a message is for, as far as its identity goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecipientKey<'a> {
    Phone(&'a str),
    Chat(u64),
    List(u64),
    /// A group MMS: the targets in any order.
    Group(&'a [String]),
}

/// The `local_id` of the message `campaign` sends to `recipient`: `c-` and 20 hex digits.
pub fn local_id(campaign: &str, recipient: RecipientKey<'_>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(campaign.as_bytes());
    hasher.update([0]);
    match recipient {
        RecipientKey::Phone(digits) => hasher.update([b"phone:", digits.as_bytes()].concat()),
        RecipientKey::Chat(id) => hasher.update(format!("chat:{id}")),
        RecipientKey::List(id) => hasher.update(format!("list:{id}")),
        RecipientKey::Group(targets) => {
            let mut sorted = targets.to_vec();
            sorted.sort();
            hasher.update(format!("group:{}", sorted.join(",")));
        }
    }
    let digest = hasher.finalize();
    format!("c-{}", hex::encode(&digest[..HASH_CHARS / 2]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_stable_short_and_distinct() {
        let a = local_id("spring", RecipientKey::Phone("15105553344"));
        assert_eq!(a, local_id("spring", RecipientKey::Phone("15105553344")));
        assert_eq!(a.len(), 22);
        assert!(a.is_ascii());
        assert_ne!(a, local_id("summer", RecipientKey::Phone("15105553344")));
        assert_ne!(a, local_id("spring", RecipientKey::Phone("15105553345")));
    }

    #[test]
    fn group_order_does_not_matter() {
        let ab = ["1".to_owned(), "2".to_owned()];
        let ba = ["2".to_owned(), "1".to_owned()];
        assert_eq!(
            local_id("g", RecipientKey::Group(&ab)),
            local_id("g", RecipientKey::Group(&ba))
        );
    }
}
