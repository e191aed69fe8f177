//! Replays every committed fuzz corpus input through its target on stable Rust, so what the
//! fuzzers found (and the crashes they found, once fixed) stays fixed without nightly.
//! The fuzzing itself is `cargo +nightly fuzz run <target>`: see README, "Fuzzing".

use std::path::Path;

fn replay<R>(target: &str, run: fn(&[u8]) -> R) {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&folder)
        .unwrap_or_else(|error| panic!("{}: {error}", folder.display()))
        .map(|entry| entry.expect("corpus entry").path())
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 10, "{target}: corpus too small");
    for input in &inputs {
        // A fuzzer running beside the tests deletes inputs as it finds shorter ones.
        let data = match std::fs::read(input) {
            Ok(data) => data,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => panic!("{}: {error}", input.display()),
        };
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{target} panicked on {}", input.display());
    }
}

#[test]
// Proves the campaign parser and validator survive every input the fuzzer kept.
fn campaign_file_corpus() {
    replay("campaign_file", campaign::fuzzing::campaign_file);
}

#[test]
// Proves the CSV and phone reader survive every input the fuzzer kept.
fn recipients_csv_corpus() {
    replay("recipients_csv", campaign::fuzzing::recipients_csv);
}

#[test]
// Proves the renderer and segment counter survive every input the fuzzer kept.
fn render_segments_corpus() {
    replay("render_segments", campaign::fuzzing::render_segments);
}

#[test]
// Proves the sandbox answers every request the fuzzer kept without a 5xx or a panic.
fn sandbox_request_corpus() {
    replay("sandbox_request", campaign::fuzzing::sandbox_request);
}
