//! `campaign validate` through the binary: every rule of the campaign file and of its
//! recipient rows, each reported at `file:line:col` with the line and a hint.

use crate::support::{Run, Scratch};

const PEOPLE: &str = "phone,first_name\n+1 510 555 0101,Ana\n+1 510 555 0102,Ben\n";
const OPT_OUT: &str = "Hi {{ first_name }}. Reply STOP to opt out.";

/// A list broadcast with `extra` appended under `message:`; the simplest valid campaign.
fn list_campaign(scratch: &Scratch, message_extra: &str, tail: &str) -> std::path::PathBuf {
    let body = format!(
        "audience:\n  list: 501\nmessage:\n  text: \"Hi. Reply STOP to opt out.\"\n\
         {message_extra}{tail}"
    );
    scratch.campaign(&body, "")
}

// Every example shipped in `campaigns/` validates on its own.
#[test]
fn each_example_campaign_is_valid() {
    for name in [
        "spring-sale",
        "support-followup",
        "team-group",
        "vip-broadcast",
    ] {
        let file = format!("campaigns/{name}.yaml");
        Run::new(["validate", &file])
            .run()
            .code(0)
            .stdout_has(&format!("ok: {file} is valid"));
    }
}

// Several files in one call are each checked, and one bad file fails the whole run.
#[test]
fn several_files_are_checked_in_one_call() {
    let scratch = Scratch::new();
    let bad = scratch.file("bad.yaml", "version: 1\nname: bad\n");
    let bad = bad.display().to_string();

    Run::new([
        "validate",
        "campaigns/spring-sale.yaml",
        "campaigns/team-group.yaml",
    ])
    .run()
    .code(0)
    .stdout_has("ok: campaigns/spring-sale.yaml")
    .stdout_has("ok: campaigns/team-group.yaml");
    Run::new(["validate", "campaigns/team-group.yaml", &bad])
        .run()
        .code(1)
        .stdout_has("ok: campaigns/team-group.yaml")
        .stderr_has("1 of 2 campaign files have errors");
}

// Three independent problems are all reported at once, each located, shown and hinted.
#[test]
fn three_problems_are_all_reported() {
    let scratch = Scratch::new();
    let body = "audience:\n  recipients: people.csv\n  duplicate: skip\nmessage:\n  \
                text: \"Hi. Reply STOP to opt out.\"\n  \
                media_url: http://cdn.example.com/a.jpg\nsend:\n  rate: 900/min\n";
    scratch.campaign(body, PEOPLE);

    let outcome = Run::new(["validate", "campaign.yaml"])
        .dir(scratch.path())
        .run()
        .code(1)
        .stderr_has("campaign.yaml:7:3\n")
        .stderr_has("7 |   duplicate: skip")
        .stderr_has("campaign.yaml:10:14\n")
        .stderr_has("10 |   media_url: http://cdn.example.com/a.jpg")
        .stderr_has("campaign.yaml:12:9\n")
        .stderr_has("12 |   rate: 900/min");
    assert_eq!(
        outcome.stderr.matches("\nerror: ").count() + 1,
        4,
        "three + the total"
    );
    assert_eq!(outcome.stderr.matches("= hint: ").count(), 3);
}

// An unknown key is an error that suggests the key that was meant.
#[test]
fn unknown_key_suggests_the_right_one() {
    let scratch = Scratch::new();
    let body = "audience:\n  recipients: people.csv\n  phone_colum: phone\nmessage:\n  \
                text: \"Hi. Reply STOP to opt out.\"\n";
    scratch.campaign(body, PEOPLE);

    Run::new(["validate", "campaign.yaml"])
        .dir(scratch.path())
        .run()
        .code(1)
        .stderr_has("error: unknown key `audience.phone_colum`")
        .stderr_has("campaign.yaml:7:3")
        .stderr_has("hint: did you mean `phone_column`?");
}

// A template variable nothing provides is named, with the file line that uses it.
#[test]
fn unknown_template_variable_is_named_with_its_line() {
    let scratch = Scratch::new();
    let body = "audience:\n  recipients: people.csv\nmessage:\n  text: |\n    \
                Hi {{ first_name }},\n    your code is {{ coupon }}.\n    \
                Reply STOP to opt out.\n";
    scratch.campaign(body, PEOPLE);

    Run::new(["validate", "campaign.yaml"])
        .dir(scratch.path())
        .run()
        .code(1)
        .stderr_has("template uses `coupon`")
        .stderr_has("campaign.yaml:10:21\n")
        .stderr_has("10 |     your code is {{ coupon }}.");
}

// A template syntax error points at the campaign-file line holding the broken tag.
#[test]
fn template_syntax_error_points_at_the_line() {
    let scratch = Scratch::new();
    let body = "audience:\n  recipients: people.csv\nmessage:\n  text: |\n    \
                Reply STOP to opt out.\n    Hi {{ first_name }\n";
    scratch.campaign(body, PEOPLE);

    Run::new(["validate", "campaign.yaml"])
        .dir(scratch.path())
        .run()
        .code(1)
        .stderr_has("error: template syntax error")
        .stderr_has("campaign.yaml:10:22\n")
        .stderr_has("10 |     Hi {{ first_name }");
}

// An invalid phone is a warning naming its CSV line under `invalid_rows: skip`.
#[test]
fn invalid_phone_is_a_warning_when_skipped() {
    let scratch = Scratch::new();
    let csv = "phone,first_name\n+1 510 555 0101,Ana\nnot-a-phone,Ben\n";
    scratch.recipients("  invalid_rows: skip\n", OPT_OUT, csv);

    Run::new(["validate", "campaign.yaml"])
        .dir(scratch.path())
        .run()
        .code(0)
        .stderr_has("warning: row 2: phone `not-a-phone`")
        .stderr_has("people.csv:3:1")
        .stdout_has("1 to send, 0 skipped, 1 invalid");
}

// The same invalid phone fails validation under `invalid_rows: fail`.
#[test]
fn invalid_phone_is_an_error_when_rows_must_not_fail() {
    let scratch = Scratch::new();
    let csv = "phone,first_name\n+1 510 555 0101,Ana\nnot-a-phone,Ben\n";
    scratch.recipients("  invalid_rows: fail\n", OPT_OUT, csv);

    Run::new(["validate", "campaign.yaml"])
        .dir(scratch.path())
        .run()
        .code(1)
        .stderr_has("error: row 2: phone `not-a-phone`")
        .stderr_has("people.csv:3:1")
        .stderr_has("hint:");
}

// A repeated number fails validation under `duplicates: fail`.
#[test]
fn duplicate_fails_when_duplicates_must_not_happen() {
    let scratch = Scratch::new();
    let csv = "phone,first_name\n+1 510 555 0101,Ana\n15105550101,Ana again\n";
    scratch.recipients("  duplicates: fail\n", OPT_OUT, csv);

    Run::new(["validate", "campaign.yaml"])
        .dir(scratch.path())
        .run()
        .code(1)
        .stderr_has("error: row 2: same recipient as row 1")
        .stderr_has("people.csv:3:1");
}

// An internal comment needs a conversation to go into, so a chat_id column; the error
// points at `private` (it used to name only the file).
#[test]
fn private_needs_a_chat_id_column() {
    let scratch = Scratch::new();
    let body = "audience:\n  recipients: people.csv\nmessage:\n  text: \"Note\"\n  \
                private: true\n";
    scratch.campaign(body, PEOPLE);

    Run::new(["validate", "campaign.yaml"])
        .dir(scratch.path())
        .run()
        .code(1)
        .stderr_has("`private: true` needs a `chat_id` column")
        .stderr_has("campaign.yaml:9:3\n")
        .stderr_has("9 |   private: true")
        .stderr_has("hint:");
}

// A row naming both a phone and a chat id is refused: it must be one or the other.
#[test]
fn row_with_phone_and_chat_id_is_refused() {
    let scratch = Scratch::new();
    let csv = "phone,chat_id\n+1 510 555 0101,9001\n+1 510 555 0102,\n";
    scratch.recipients("  invalid_rows: fail\n", "Hi. Reply STOP to opt out.", csv);

    Run::new(["validate", "campaign.yaml"])
        .dir(scratch.path())
        .run()
        .code(1)
        .stderr_has("error: row 1: has both a phone number and a chat id")
        .stderr_has("people.csv:2:1");
}

// Media must be fetched by Heymarket over https from a public host name.
#[test]
fn media_url_must_be_public_https() {
    let cases = [
        ("http://cdn.example.com/a.jpg", "must use `https`"),
        (
            "https://localhost/a.jpg",
            "host `localhost` is not reachable",
        ),
        ("https://127.0.0.1/a.jpg", "not an IP address"),
        ("https://10.1.2.3/a.jpg", "not an IP address"),
        ("https://[::1]/a.jpg", "not an IP address"),
    ];
    for (url, complaint) in cases {
        let scratch = Scratch::new();
        list_campaign(&scratch, &format!("  media_url: {url}\n"), "");

        Run::new(["validate", "campaign.yaml"])
            .dir(scratch.path())
            .run()
            .code(1)
            .stderr_has(complaint)
            .stderr_has("campaign.yaml:9:14");
    }
}

// Heymarket refuses group MMS from a toll-free number declared as `inbox_phone`.
#[test]
fn group_from_a_toll_free_inbox_is_refused() {
    let scratch = Scratch::new();
    let body = "inbox_phone: \"+1 800 555 0100\"\naudience:\n  \
                group: [\"+1 510 555 0101\", \"+1 510 555 0102\"]\nmessage:\n  text: \"Hi all\"\n";
    scratch.campaign(body, "");

    Run::new(["validate", "campaign.yaml"])
        .dir(scratch.path())
        .run()
        .code(1)
        .stderr_has("group MMS cannot be sent from the toll-free inbox number")
        .stderr_has("campaign.yaml:7:3");
}

// A rate above Heymarket's 500 requests a minute is refused with the limit in the hint.
#[test]
fn rate_above_heymarket_limit_is_refused() {
    let scratch = Scratch::new();
    list_campaign(&scratch, "", "send:\n  rate: 501/min\n");

    Run::new(["validate", "campaign.yaml"])
        .dir(scratch.path())
        .run()
        .code(1)
        .stderr_has("`send.rate` of `501/min` is faster than Heymarket allows")
        .stderr_has("hint: Heymarket accepts at most 500 requests a minute");
}

// A file that looks like an email campaign is told that email is not this tool's job.
#[test]
fn email_campaign_is_pointed_elsewhere() {
    let scratch = Scratch::new();
    list_campaign(&scratch, "", "subject: Spring sale\n");

    Run::new(["validate", "campaign.yaml"])
        .dir(scratch.path())
        .run()
        .code(1)
        .stderr_has("email campaigns are not sent by `campaign`");
}

// Turning the send window off is allowed but warned about.
#[test]
fn window_always_is_a_warning() {
    let scratch = Scratch::new();
    list_campaign(&scratch, "", "send:\n  window: always\n");

    Run::new(["validate", "campaign.yaml"])
        .dir(scratch.path())
        .run()
        .code(0)
        .stderr_has("warning: send window turned off")
        .stderr_has("campaign.yaml:10:11");
}

// A recipient CSV that does not exist is an error naming it at its key (it used to name
// only the campaign file).
#[test]
fn missing_csv_is_an_error() {
    let scratch = Scratch::new();
    scratch.file(
        "campaign.yaml",
        format!(
            "{}audience:\n  recipients: nowhere.csv\nmessage:\n  text: \"Hi\"\n",
            crate::support::HEADER
        ),
    );

    Run::new(["validate", "campaign.yaml"])
        .dir(scratch.path())
        .run()
        .code(1)
        .stderr_has("cannot read the recipient CSV `nowhere.csv`")
        .stderr_has("campaign.yaml:6:3\n")
        .stderr_has("6 |   recipients: nowhere.csv")
        .stderr_has("hint:");
}

// Regression: the column of an unknown variable in an inline quoted template used to be
// counted from the start of the template text, not of the campaign-file line.
#[test]
fn unknown_variable_in_inline_text_points_at_its_column() {
    let scratch = Scratch::new();
    scratch.recipients("", "Hi {{ frist_name }}. Reply STOP to opt out.", PEOPLE);

    Run::new(["validate", "campaign.yaml"])
        .dir(scratch.path())
        .run()
        .code(1)
        .stderr_has("campaign.yaml:8:16\n")
        .stderr_has("hint: did you mean `first_name`?");
}

// More messages than `max_recipients` allows fail the plan, pointing at the limit (the
// error used to name only the file).
#[test]
fn audience_above_max_recipients_fails() {
    let scratch = Scratch::new();
    scratch.file(
        "campaign.yaml",
        format!(
            "{}audience:\n  recipients: people.csv\nmessage:\n  text: {OPT_OUT:?}\n\
             send:\n  max_recipients: 1\n",
            crate::support::HEADER
        ),
    );
    scratch.file("people.csv", PEOPLE);

    Run::new(["validate", "campaign.yaml"])
        .dir(scratch.path())
        .run()
        .code(1)
        .stderr_has("error: 2 messages would be sent, above `max_recipients: 1`")
        .stderr_has("campaign.yaml:10:3\n");
}

// A message longer than `max_segments` is an invalid row, named with its segment count.
#[test]
fn message_above_max_segments_is_invalid() {
    let scratch = Scratch::new();
    let long = format!(
        "Hi {{{{ first_name }}}}. {} Reply STOP to opt out.",
        "word ".repeat(40)
    );
    scratch.recipients("", &long, PEOPLE);
    let yaml = std::fs::read_to_string(scratch.path().join("campaign.yaml")).expect("written");
    scratch.file("campaign.yaml", format!("{yaml}  max_segments: 1\n"));

    Run::new(["validate", "campaign.yaml"])
        .dir(scratch.path())
        .run()
        .code(0)
        .stderr_has("warning: row 1: 2 segments, above `max_segments: 1`")
        .stdout_has("0 to send, 0 skipped, 2 invalid");
}
