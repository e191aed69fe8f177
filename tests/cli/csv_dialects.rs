//! CSV dialects through the binary: what spreadsheets really export (`;` and tab
//! delimiters, BOM, CRLF, quoted commas and newlines, blank and ragged lines) and the
//! csv-spectrum suite, each read as recipients and checked in the rendered messages.

use crate::support::{Run, Scratch, messages};

const OPT_OUT: &str = "Hi {{ first_name }}. Reply STOP to opt out.";

/// The rendered texts of `plan --json` for the scratch campaign, in row order.
fn planned_texts(scratch: &Scratch) -> Vec<String> {
    let plan = Run::new(["plan", "campaign.yaml", "--json"])
        .dir(scratch.path())
        .run()
        .code(0)
        .json();
    messages(&plan)
        .iter()
        .map(|message| message["text"].as_str().unwrap_or("-").to_owned())
        .collect()
}

// A `;`-separated CSV (European spreadsheets) is detected without being declared.
#[test]
fn semicolon_delimiter_is_detected() {
    let scratch = Scratch::new();
    let csv = "phone;first_name\n+1 510 555 0101;Ana\n+1 510 555 0102;Ben\n";
    scratch.recipients("", OPT_OUT, csv);

    let texts = planned_texts(&scratch);
    assert_eq!(texts[0], "Hi Ana. Reply STOP to opt out.");
    assert_eq!(texts[1], "Hi Ben. Reply STOP to opt out.");
}

// A tab-separated export is detected without being declared.
#[test]
fn tab_delimiter_is_detected() {
    let scratch = Scratch::new();
    scratch.recipients("", OPT_OUT, "phone\tfirst_name\n+1 510 555 0101\tAna\n");

    assert_eq!(planned_texts(&scratch), ["Hi Ana. Reply STOP to opt out."]);
}

// Excel's UTF-8 export (BOM, CRLF) reads like a plain file: the BOM is not in the header.
#[test]
fn bom_and_crlf_are_read() {
    let scratch = Scratch::new();
    let csv = "\u{feff}phone,first_name\r\n+1 510 555 0101,Ana\r\n+1 510 555 0102,Ben\r\n";
    scratch.recipients("", OPT_OUT, csv);

    let texts = planned_texts(&scratch);
    assert_eq!(
        texts,
        [
            "Hi Ana. Reply STOP to opt out.",
            "Hi Ben. Reply STOP to opt out."
        ]
    );
}

// Quoted fields keep their commas and newlines; blank trailing lines are no rows; line
// numbers count the newline inside the quotes.
#[test]
fn quoted_fields_and_blank_trailing_lines() {
    let scratch = Scratch::new();
    let csv = "phone,first_name\n+1 510 555 0101,\"Ana, Jr.\nthe second\"\n\
               +1 510 555 0102,Ben\n\n\n";
    scratch.recipients("", OPT_OUT, csv);

    let plan = Run::new(["plan", "campaign.yaml", "--json"])
        .dir(scratch.path())
        .run()
        .code(0)
        .json();
    let messages = messages(&plan);
    assert_eq!(messages.len(), 2);
    assert_eq!(
        messages[0]["text"],
        "Hi Ana, Jr.\nthe second. Reply STOP to opt out."
    );
    assert_eq!(messages[1]["line"], 4);
}

// A row with more fields than the header is named by line, and fails under `fail`.
#[test]
fn ragged_row_names_its_line() {
    let scratch = Scratch::new();
    let csv = "phone,first_name\n+1 510 555 0101,Ana\n+1 510 555 0102,Ben,extra\n";
    scratch.recipients("  invalid_rows: fail\n", OPT_OUT, csv);

    Run::new(["validate", "campaign.yaml"])
        .dir(scratch.path())
        .run()
        .code(1)
        .stderr_has("error: row has 3 fields but the header has 2")
        .stderr_has("people.csv:3:1")
        .stderr_has("hint: quote fields that contain the delimiter `,`");
}

// Under `invalid_rows: skip` a short row is listed as invalid, and the rest still plans.
#[test]
fn ragged_row_is_skipped_when_invalid_rows_skip() {
    let scratch = Scratch::new();
    let csv = "phone,first_name\n+1 510 555 0101,Ana\n+1 510 555 0102\n";
    scratch.recipients("", OPT_OUT, csv);

    Run::new(["validate", "campaign.yaml"])
        .dir(scratch.path())
        .run()
        .code(0)
        .stderr_has("warning: row has 1 fields but the header has 2")
        .stderr_has("people.csv:3:1")
        .stdout_has("1 to send, 0 skipped, 1 invalid");
}

/// The csv-spectrum cases whose first column can serve as a chat id. `comma_in_quotes`
/// has no such column; its case is covered by `quoted_fields_and_blank_trailing_lines`.
const SPECTRUM: &[&str] = &[
    "empty",
    "empty_crlf",
    "escaped_quotes",
    "json",
    "newlines",
    "newlines_crlf",
    "quotes_and_newlines",
    "simple",
    "simple_crlf",
    "utf8",
];

// Each csv-spectrum file, read as chat-id recipients, yields exactly the values its
// expected parse holds: a numeric first column sends the other columns, any other is
// an invalid row.
#[test]
fn csv_spectrum_files_read_as_recipients() {
    let fixtures = crate::support::repo().join("tests/fixtures/csv-spectrum");
    for name in SPECTRUM {
        let csv = std::fs::read(fixtures.join(format!("csvs/{name}.csv"))).expect("fixture");
        let expected = std::fs::read_to_string(fixtures.join(format!("json/{name}.json")))
            .expect("expected parse");
        let expected: Vec<serde_json::Value> =
            serde_json::from_str(&expected).expect("the expected parse is JSON");
        let header = String::from_utf8_lossy(&csv);
        let columns: Vec<&str> = header
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .split(',')
            .collect();

        let scratch = Scratch::new();
        let text: Vec<String> = columns[1..]
            .iter()
            .map(|c| format!("{{{{ {c} }}}}"))
            .collect();
        let audience = format!("  chat_id_column: {}\n", columns[0]);
        scratch.recipients(&audience, &text.join("|"), &csv);
        let plan = Run::new(["plan", "campaign.yaml", "--json"])
            .dir(scratch.path())
            .run()
            .code(0)
            .json();

        let planned = messages(&plan);
        assert_eq!(planned.len(), expected.len(), "{name}");
        for (message, row) in planned.iter().zip(&expected) {
            let id = row[columns[0]].as_str().unwrap_or("");
            if id.chars().all(|c| c.is_ascii_digit()) {
                let values: Vec<&str> = columns[1..]
                    .iter()
                    .map(|c| row[*c].as_str().unwrap_or(""))
                    .collect();
                assert_eq!(message["text"], values.join("|"), "{name}: {message}");
                assert_eq!(message["chat_id"].to_string(), id, "{name}");
            } else {
                assert_eq!(message["status"], "invalid", "{name}: {message}");
            }
        }
    }
}
