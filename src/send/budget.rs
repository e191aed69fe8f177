//! The error budget: when failures say the run itself is broken, stop issuing sends.
//!
//! Two limits: too many failures in a row, or too large a share of failures once enough
//! sends have finished to judge. A message whose fate is unknown counts as a failure here: a
//! storm of timeouts or 500s is as good a reason to stop as a storm of refusals. Skipped
//! messages count neither way. This module counts; the engine decides what halting means.

/// The failure share is judged only once this many sends have finished.
pub const MIN_FINISHED_FOR_RATIO: u64 = 20;

/// Counts finished sends against the campaign's limits.
#[derive(Debug, Clone)]
pub struct ErrorBudget {
    max_consecutive: u32,
    max_ratio: f64,
    consecutive: u32,
    failures: u64,
    finished: u64,
}

impl ErrorBudget {
    /// A budget allowing `max_consecutive` failures in a row (0: no limit) and a failure
    /// share up to `max_ratio`.
    pub fn new(max_consecutive: u32, max_ratio: f64) -> ErrorBudget {
        ErrorBudget {
            max_consecutive,
            max_ratio,
            consecutive: 0,
            failures: 0,
            finished: 0,
        }
    }

    /// A send was accepted.
    pub fn record_success(&mut self) {
        self.finished += 1;
        self.consecutive = 0;
    }

    /// A send failed, or its fate is unknown.
    pub fn record_failure(&mut self) {
        self.finished += 1;
        self.failures += 1;
        self.consecutive += 1;
    }

    /// Why the budget is spent, or `None` while it is not.
    pub fn exhausted(&self) -> Option<String> {
        if self.max_consecutive > 0 && self.consecutive >= self.max_consecutive {
            return Some(format!("{} failures in a row", self.consecutive));
        }

        let share = self.failures as f64 / self.finished.max(1) as f64;
        if self.finished >= MIN_FINISHED_FOR_RATIO && share > self.max_ratio {
            return Some(format!(
                "{} of {} sends failed ({:.0}%, limit {:.0}%)",
                self.failures,
                self.finished,
                share * 100.0,
                self.max_ratio * 100.0
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_in_a_row_spend_the_budget_and_a_success_resets_it() {
        let mut budget = ErrorBudget::new(3, 1.0);
        budget.record_failure();
        budget.record_failure();
        budget.record_success();
        budget.record_failure();
        budget.record_failure();
        assert_eq!(budget.exhausted(), None);
        budget.record_failure();
        assert_eq!(budget.exhausted().as_deref(), Some("3 failures in a row"));
    }

    #[test]
    fn the_share_counts_only_after_twenty_sends() {
        let mut budget = ErrorBudget::new(0, 0.2);
        for _ in 0..5 {
            budget.record_failure();
            budget.record_success();
        }
        assert_eq!(budget.exhausted(), None);
        for _ in 0..5 {
            budget.record_failure();
            budget.record_success();
        }
        assert!(
            budget
                .exhausted()
                .is_some_and(|why| why.starts_with("10 of 20"))
        );
    }
}
