//! The bodies of the fuzz targets, kept in the library so that `fuzz/` (cargo fuzz, nightly)
//! and `tests/fuzz_corpus.rs` (every committed corpus input, on stable, in CI) run the same
//! code. Each function takes arbitrary bytes and must neither panic, hang nor allocate
//! without bound; the asserts inside are invariants a fuzzer can break, not input checks.
//!
//! Not a public API: nothing outside the fuzz targets and their replay test calls these.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, header};
use tower::ServiceExt;

use crate::campaign::TemplateSource;
use crate::campaign::load::load_str;
use crate::heymarket::auth::sign;
use crate::heymarket::secret::Secret;
use crate::recipients::csv::{CsvReader, Record};
use crate::recipients::phone::{Phone, Region};
use crate::recipients::timezone::zones_for;
use crate::render::memory;
use crate::render::segments::{self, Encoding};
use crate::render::template::{MessageTemplate, RowValues};
use crate::sandbox::{Sandbox, SandboxConfig};

/// The columns a fuzzed template is rendered against.
const COLUMNS: [&str; 5] = ["first_name", "last_name", "phone", "city", "amount"];

/// Fuel for a fuzzed template: enough for every path through the engine, few enough that
/// `x in long_list` on each instruction stays seconds (see [`crate::render::watchdog`]).
const FUZZ_FUEL: u64 = 500;

/// The regions a fuzzed CSV's numbers are read in, picked by the input's first byte.
const REGIONS: [&str; 5] = ["US", "GB", "DE", "IN", "BR"];

/// Validates `data` as a campaign file and renders every diagnostic the way the CLI does.
pub fn campaign_file(data: &[u8]) {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let loaded = load_str(Path::new("campaigns/fuzz.yaml"), source);
    for diagnostic in &loaded.diagnostics {
        let _ = diagnostic.to_string();
    }
    if loaded.campaign.is_some() {
        assert!(
            loaded.diagnostics.iter().all(|d| !d.is_error()),
            "a campaign was returned alongside an error"
        );
    }
}

/// Reads `data` as a recipients CSV, parsing every field as a phone number.
pub fn recipients_csv(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let region =
        Region::parse(REGIONS[usize::from(selector) % REGIONS.len()]).unwrap_or(Region::US);
    let name = Path::new("fuzz.csv");
    let mut reader = match CsvReader::from_reader(Box::new(Cursor::new(rest.to_vec())), name, None)
    {
        Ok(reader) => reader,
        Err(error) => {
            let _ = error.to_diagnostic(name).to_string();
            return;
        }
    };
    let columns = reader.headers().len();
    let mut record = Record::default();
    loop {
        match reader.read(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                let _ = error.to_diagnostic(name).to_string();
                break;
            }
        }
        for index in 0..columns {
            if let Ok(phone) = Phone::parse(record.get(index), region) {
                check_phone(&phone);
            }
        }
    }
}

/// A parsed number must survive the round trips the rest of the tool relies on.
fn check_phone(phone: &Phone) {
    let digits = phone.digits();
    assert!(
        digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit()),
        "E.164 digits: {digits}"
    );
    assert_eq!(Phone::from_e164_digits(digits).as_ref(), Some(phone));
    let _ = phone.masked();
    let _ = zones_for(phone);
    let _ = phone.is_toll_free();
}

/// Compiles the bytes before the first NUL as a message template and renders it with the
/// fields after it (separated by 0x1F), then counts the segments of what came out.
///
/// Returns whether the input is worth keeping: not when the render budget refused it (the
/// fuzz target's refusing budget, see [`crate::render::memory`]), since the binary stops
/// there and a replay without that budget would try to allocate what was refused.
pub fn render_segments(data: &[u8]) -> bool {
    let (template, fields) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let text = String::from_utf8_lossy(template);
    check_segments(&text);

    let source = TemplateSource {
        text: text.into_owned(),
        file: PathBuf::from("fuzz-message.txt"),
        first_line: 1,
    };
    let vars = BTreeMap::from([
        ("store".to_owned(), serde_json::json!("Main St")),
        ("discount".to_owned(), serde_json::json!(15)),
    ]);
    let Ok(compiled) = MessageTemplate::compile(&source, "fuzz", &vars) else {
        return !memory::take_refused();
    };
    // The binary's watchdog bounds a render's time; here fuel must, within libFuzzer's
    // timeout, even when each instruction walks a sequence of millions.
    let compiled = compiled.with_fuel(FUZZ_FUEL);
    let headers: Arc<[String]> = COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    let _ = compiled.unknown_variables(&headers, &source);
    let values = String::from_utf8_lossy(fields);
    let row = RowValues {
        row: 1,
        headers: &headers,
        fields: values.split('\u{1f}').map(str::to_owned).collect(),
    };
    let rendered = compiled.render(Some(row));
    if memory::take_refused() {
        return false;
    }
    if let Ok(message) = rendered {
        check_segments(&message);
    }
    true
}

/// Counts `text` and checks the count against a plain recount, character by character.
fn check_segments(text: &str) {
    let counted = segments::count(text);
    assert_eq!(counted.segments == 0, text.is_empty(), "{counted:?}");
    match counted.encoding {
        Encoding::Gsm7 => {
            let septets: Option<u32> = text.chars().map(segments::gsm_septets).sum();
            assert_eq!(septets, Some(counted.units), "GSM-7 units of {text:?}");
        }
        Encoding::Ucs2 => {
            let units = text.encode_utf16().count();
            assert_eq!(u32::try_from(units).ok(), Some(counted.units), "{text:?}");
            assert!(
                !counted.non_gsm.is_empty(),
                "UCS-2 with no reason: {text:?}"
            );
        }
    }
    for ch in text.chars().take(64) {
        let _ = segments::suggestion(ch);
    }
}

/// The requests a fuzzed input can make, picked by its first byte.
const ROUTES: [(&str, &str); 6] = [
    ("POST", "/v1/message/send"),
    ("GET", "/v1/inboxes"),
    ("GET", "/v1/team"),
    ("POST", "/v1/contact/status"),
    ("GET", "/v1/messages"),
    ("GET", "/v1/template/"),
];

/// Sends one request built from `data` to a fresh in-process sandbox and reads the answer.
///
/// Byte 0 picks the route (or, past the known ones, a method and path from the input),
/// byte 1 the credential (a valid JWT, the legacy key, none, a stale JWT, or bytes from the
/// input), byte 2 the content type; up to the first newline of the rest is the path suffix
/// or query, the remainder the body. No answer may be a 5xx: faults are off.
pub fn sandbox_request(data: &[u8]) {
    let [route, auth, content, rest @ ..] = data else {
        return;
    };
    let (suffix, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (&[][..], rest),
    };
    let suffix = String::from_utf8_lossy(suffix);

    let (method, uri) = match ROUTES.get(usize::from(*route) % 8) {
        Some((method, path)) if path.ends_with('/') => (*method, format!("{path}{suffix}")),
        Some((method, path)) if *method == "GET" => (*method, format!("{path}?{suffix}")),
        Some((method, path)) => (*method, (*path).to_owned()),
        None if *route % 2 == 0 => ("PUT", format!("/{suffix}")),
        None => ("DELETE", format!("/v1/{suffix}")),
    };
    let Ok(method) = Method::from_bytes(method.as_bytes()) else {
        return;
    };

    let mut config = SandboxConfig::new();
    config.api_key = Some(Secret::new("fuzz-legacy-key"));
    let now = jiff::Timestamp::now().as_second();
    let token = match auth % 5 {
        0 => sign(&config.secret_id, &config.secret_key, now).ok(),
        1 => Some(Secret::new("fuzz-legacy-key")),
        2 => None,
        3 => sign(&config.secret_id, &config.secret_key, now - 3_600).ok(),
        _ => Some(Secret::new(String::from_utf8_lossy(body).into_owned())),
    };

    let mut request = Request::builder().method(method).uri(uri.as_str());
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {}", token.expose()));
    }
    match content % 3 {
        0 => request = request.header(header::CONTENT_TYPE, "application/json"),
        1 => request = request.header(header::CONTENT_TYPE, "text/plain"),
        _ => {}
    }
    let Ok(request) = request.body(Body::from(body.to_vec())) else {
        return;
    };
    let Ok(service) = Sandbox::service(config) else {
        return;
    };

    let status = runtime().block_on(async move {
        let response = service.oneshot(request).await.ok()?;
        let status = response.status();
        axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .ok()?;
        Some(status)
    });
    if let Some(status) = status {
        assert!(!status.is_server_error(), "{status} for {uri}");
    }
}

/// One single-threaded runtime per fuzzing thread, built on first use.
fn runtime() -> &'static tokio::runtime::Runtime {
    thread_local! {
        static RUNTIME: &'static tokio::runtime::Runtime = Box::leak(Box::new(
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap_or_else(|error| panic!("cannot build a tokio runtime: {error}")),
        ));
    }
    RUNTIME.with(|runtime| *runtime)
}
