#![no_main]
// The render budget as the binary has it, but refusing instead of stopping the process;
// the hook (nightly, as all of fuzz/ is) turns a refusal into a panic that
// `render_segments` catches, and such inputs are kept out of the corpus.
#![feature(alloc_error_hook)]

use campaign::render::memory::MemoryBudget;
use libfuzzer_sys::{Corpus, fuzz_target};

#[global_allocator]
static ALLOCATOR: MemoryBudget = MemoryBudget::refusing();

fuzz_target!(
    init: std::alloc::set_alloc_error_hook(|layout| {
        panic!("the render budget refused {} bytes", layout.size())
    }),
    |data: &[u8]| -> Corpus {
        match campaign::fuzzing::render_segments(data) {
            true => Corpus::Keep,
            false => Corpus::Reject,
        }
    }
);
