//! Tests for the recipient CSV reader, kept beside `csv.rs` so that file stays short.

use std::collections::BTreeMap;

use super::*;

fn reader(text: &[u8], delimiter: Option<u8>) -> Result<CsvReader, CsvError> {
    CsvReader::from_reader(
        Box::new(Cursor::new(text.to_vec())),
        Path::new("r.csv"),
        delimiter,
    )
}

/// Every row as `(line, fields)`, with errors rendered as text in their place.
fn rows(text: &[u8]) -> Vec<Result<(u64, Vec<String>), String>> {
    let mut csv = reader(text, None).expect("header");
    let mut record = Record::default();
    let mut out = Vec::new();
    loop {
        match csv.read(&mut record) {
            Ok(true) => out.push(Ok((record.line, record.fields.clone()))),
            Ok(false) => return out,
            Err(error) => out.push(Err(format!("{}: {error}", record.line))),
        }
    }
}

fn fields(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| (*value).to_owned()).collect()
}

#[test]
fn parses_every_csv_spectrum_file_to_its_expected_json() {
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/csv-spectrum");
    let mut checked = 0;
    for entry in std::fs::read_dir(suite.join("csvs")).expect("suite") {
        let path = entry.expect("entry").path();
        let name = path.file_stem().and_then(|s| s.to_str()).expect("name");
        let json =
            std::fs::read_to_string(suite.join("json").join(format!("{name}.json"))).expect("json");
        let expected: Vec<BTreeMap<String, String>> = serde_json::from_str(&json).expect(name);

        let mut csv = CsvReader::open(&path, None).expect(name);
        let mut record = Record::default();
        let mut actual: Vec<BTreeMap<String, String>> = Vec::new();
        while csv.read(&mut record).expect(name) {
            let row = csv
                .headers()
                .iter()
                .cloned()
                .zip(record.fields.clone())
                .collect();
            actual.push(row);
        }

        assert_eq!(actual, expected, "{name}");
        checked += 1;
    }
    assert_eq!(checked, 11);
}

#[test]
fn strips_a_byte_order_mark_and_trims_header_names() {
    let csv = reader(b"\xEF\xBB\xBFphone , name\n1,a\n", None).expect("header");
    assert_eq!(csv.headers(), ["phone", "name"]);
}

#[test]
fn detects_semicolon_tab_and_pipe_delimiters() {
    let cases: [(&[u8], u8); 5] = [
        (b"phone;name;city\n1;2;3\n", b';'),
        (b"phone\tname\n1\t2\n", b'\t'),
        (b"phone|name\n1|2\n", b'|'),
        (b"\"a,b\";c;d\n1;2;3\n", b';'),
        (b"phone\n15105553344\n", b','),
    ];
    for (text, delimiter) in cases {
        let csv = reader(text, None).expect("header");
        assert_eq!(
            csv.delimiter(),
            delimiter,
            "{:?}",
            String::from_utf8_lossy(text)
        );
    }
    let forced = reader(b"a;b,c\n", Some(b',')).expect("header");
    assert_eq!(forced.headers(), ["a;b", "c"]);
}

#[test]
fn skips_blank_lines_anywhere_and_counts_physical_lines() {
    let text = b"\r\na,b\r\n\r\n1,2\r\n   \r\n\"x\ny\",3\r\n4,5\r\n\r\n\r\n";
    assert_eq!(
        rows(text),
        [
            Ok((4, fields(&["1", "2"]))),
            Ok((6, fields(&["x\ny", "3"]))),
            Ok((8, fields(&["4", "5"]))),
        ]
    );
}

#[test]
fn reports_ragged_rows_and_goes_on() {
    let text = b"a,b,c\n1,2,3\n1,2,3,4\n1,2\n7,8,9";
    assert_eq!(
        rows(text),
        [
            Ok((2, fields(&["1", "2", "3"]))),
            Err("3: row has 4 fields but the header has 3".to_owned()),
            Err("4: row has 2 fields but the header has 3".to_owned()),
            Ok((5, fields(&["7", "8", "9"]))),
        ]
    );
}

// Regression: a quote left open swallowed every later row into one field, silently.
#[test]
fn refuses_a_quote_that_runs_to_the_end_of_the_file() {
    for text in [&b"a,b\n1,\"x\n2,y\n"[..], b"a,b\n1,\"x\n2,y"] {
        let mut csv = reader(text, None).expect("header");
        let error = csv
            .read(&mut Record::default())
            .expect_err("unclosed quote");
        assert!(
            matches!(error, CsvError::UnclosedQuote { line: 2 }),
            "{error:?}"
        );
    }
}

// A closed quoted newline in the last row, and an odd quote on one line, stay accepted.
#[test]
fn accepts_closed_quoted_newlines_in_the_last_row() {
    assert_eq!(
        rows(b"a,b\n1,\"x\ny\"\n"),
        [Ok((2, fields(&["1", "x\ny"])))]
    );
    assert_eq!(
        rows(b"a,b\n1,5\" tall\n"),
        [Ok((2, fields(&["1", "5\" tall"])))]
    );
}

#[test]
fn reports_invalid_utf8_with_its_field_and_goes_on() {
    let text = b"a,b\n1,caf\xE9\n2,ok\n";
    assert_eq!(
        rows(text),
        [
            Err("2: field 2 is not valid UTF-8".to_owned()),
            Ok((3, fields(&["2", "ok"]))),
        ]
    );
}

#[test]
fn refuses_missing_empty_and_duplicate_headers() {
    let error = |text: &[u8]| reader(text, None).expect_err("bad header").to_string();
    assert_eq!(error(b""), "the file is empty: a header row is required");
    assert_eq!(
        error(b"\n\r\n"),
        "the file is empty: a header row is required"
    );
    assert_eq!(
        error(b"phone,,name\n"),
        "column 2 has an empty name in the header row"
    );
    assert_eq!(
        error(b"phone,name, phone\n"),
        "column `phone` appears twice in the header row (columns 1 and 3)"
    );
}

#[test]
fn reuses_record_buffers() {
    let mut csv = reader(b"a,b\nxxxxxxxxxxxxxxxx,y\nz,w\n", None).expect("header");
    let mut record = Record::default();
    assert!(csv.read(&mut record).expect("row"));
    let capacity = record.fields[0].capacity();
    assert!(csv.read(&mut record).expect("row"));
    assert_eq!(record.get(0), "z");
    assert_eq!(record.fields[0].capacity(), capacity);
    assert_eq!(record.get(9), "");
}

#[test]
fn errors_become_located_diagnostics_with_hints() {
    let ragged = CsvError::Ragged {
        line: 7,
        expected: 3,
        found: 4,
        delimiter: b',',
    };
    let diagnostic = ragged.to_diagnostic(Path::new("people.csv"));
    assert_eq!(diagnostic.location(), "people.csv:7:1");
    assert_eq!(diagnostic.message, "row has 4 fields but the header has 3");
    assert_eq!(
        diagnostic.hint.as_deref(),
        Some("quote fields that contain the delimiter `,`")
    );
    assert_eq!(diagnostic.source_line, None);

    let missing = CsvReader::open(Path::new("/nonexistent/people.csv"), None)
        .expect_err("missing file")
        .to_diagnostic(Path::new("/nonexistent/people.csv"));
    assert!(
        missing
            .message
            .starts_with("cannot read `/nonexistent/people.csv`")
    );
    assert!(missing.message.contains("caused by:"));
}

/// Measures throughput; run with
/// `cargo test --release --lib recipients::csv -- --ignored --nocapture`.
#[test]
#[ignore = "a timing measurement, not a check"]
fn reads_a_million_rows_quickly() {
    let mut text = b"phone,first_name,last_name,city,tier\n".to_vec();
    for i in 0..1_000_000u64 {
        let row = format!("1510555{:04},Ann{i},Lee,\"Oakland, CA\",gold\n", i % 10_000);
        text.extend_from_slice(row.as_bytes());
    }
    let megabytes = text.len() / 1_000_000;

    let source = Box::new(Cursor::new(text));
    let start = std::time::Instant::now();
    let mut csv = CsvReader::from_reader(source, Path::new("r.csv"), None).expect("header");
    let mut record = Record::default();
    let mut rows = 0u64;
    while csv.read(&mut record).expect("row") {
        rows += 1;
    }
    let elapsed = start.elapsed();

    assert_eq!(rows, 1_000_000);
    println!("{rows} rows ({megabytes} MB) in {elapsed:?}");
}

#[test]
fn quoted_last_field_in_a_crlf_file_loses_only_the_line_ending() {
    let text = b"a,b\r\n1,\"x, y\"\r\n2,\"line\r\nbreak\"\r\n3,z";
    assert_eq!(
        rows(text),
        [
            Ok((2, fields(&["1", "x, y"]))),
            Ok((3, fields(&["2", "line\r\nbreak"]))),
            Ok((5, fields(&["3", "z"]))),
        ]
    );
}

/// The first error reading `text` gives, with the rows read before it.
fn first_error(text: &[u8]) -> (usize, Result<(), CsvError>) {
    let mut csv = match reader(text, None) {
        Ok(csv) => csv,
        Err(error) => return (0, Err(error)),
    };
    let mut record = Record::default();
    let mut read = 0;
    loop {
        match csv.read(&mut record) {
            Ok(true) => read += 1,
            Ok(false) => return (read, Ok(())),
            Err(error) => return (read, Err(error)),
        }
    }
}

#[test]
fn a_row_over_the_limit_stops_reading_at_its_line() {
    let long = "y".repeat(MAX_ROW_BYTES as usize + 10);
    let text = format!("phone,name\n+15105550101,Ana\n+15105550102,{long}\n+15105550103,Ben\n");
    let (read, outcome) = first_error(text.as_bytes());
    assert_eq!(read, 1);
    assert!(
        matches!(outcome, Err(CsvError::RowTooLong { line: 3 })),
        "{outcome:?}"
    );
}

#[test]
fn an_open_quote_over_many_short_lines_is_one_long_row() {
    let lines = "short line\n".repeat(MAX_ROW_BYTES as usize / 10);
    let text = format!("phone,name\n+15105550101,\"{lines}\n");
    let (_, outcome) = first_error(text.as_bytes());
    assert!(
        matches!(outcome, Err(CsvError::RowTooLong { line: 2 })),
        "{outcome:?}"
    );
}

#[test]
fn a_header_over_the_limit_is_refused_at_line_one() {
    let text = "h".repeat(MAX_ROW_BYTES as usize + 10);
    let (_, outcome) = first_error(text.as_bytes());
    let error = outcome.expect_err("refused");
    assert!(
        matches!(error, CsvError::RowTooLong { line: 1 }),
        "{error:?}"
    );
    let shown = error.to_diagnostic(Path::new("r.csv")).to_string();
    assert!(
        shown.contains("longer than 1 MiB") && shown.contains("hint"),
        "{shown}"
    );
}

#[test]
fn a_row_just_under_the_limit_is_read() {
    let long = "y".repeat(MAX_ROW_BYTES as usize - 64);
    let text = format!("phone,name\n+15105550101,{long}\n");
    assert_eq!(first_error(text.as_bytes()).0, 1);
}
