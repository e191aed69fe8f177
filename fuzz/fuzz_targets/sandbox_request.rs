#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| campaign::fuzzing::sandbox_request(data));
