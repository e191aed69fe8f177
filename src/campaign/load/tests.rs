//! One test per rule: a small file, the rendered diagnostics, and what they must say.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::path::PathBuf;

use super::*;
use crate::campaign::{Content, RatePeriod, RowPolicy, Window};

/// The smallest valid campaign; tests append to it or replace a line of it.
const VALID: &str = "\
version: 1
name: spring
inbox: 42
creator: 7
audience:
  recipients: people.csv
message:
  text: Hi
";

fn run(source: &str) -> Loaded {
    load_str(Path::new("c/campaign.yaml"), source)
}

/// Every diagnostic rendered, as the user sees them.
fn rendered(source: &str) -> String {
    run(source)
        .diagnostics
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn assert_says(source: &str, expected: &[&str]) {
    let text = rendered(source);
    for part in expected {
        assert!(text.contains(part), "expected {part:?} in:\n{text}");
    }
}

fn campaign(source: &str) -> Campaign {
    let loaded = run(source);
    match loaded.campaign {
        Some(campaign) => campaign,
        None => panic!("{}", rendered(source)),
    }
}

#[test]
fn a_minimal_file_gets_the_defaults() {
    let campaign = campaign(VALID);
    let Audience::Recipients(source) = &campaign.audience else {
        panic!("{:?}", campaign.audience);
    };
    assert_eq!(source.csv, PathBuf::from("c/people.csv"));
    assert_eq!(source.phone_column, "phone");
    assert_eq!(source.default_region, Region::US);
    assert_eq!(source.duplicates, RowPolicy::Skip);
    assert_eq!(campaign.send.rate.to_string(), "400/min");
    assert_eq!(campaign.send.window, send::default_window());
    assert_eq!(campaign.send.max_consecutive_failures, 10);
    assert_eq!(campaign.message.max_segments, 10);
}

#[test]
fn reads_the_documented_example() {
    let source = "\
# yaml-language-server: $schema=../schemas/campaign.schema.json
version: 1
name: spring-sale-2026
inbox: 42
creator: 7
inbox_phone: \"+18005550100\"
audience:
  recipients: spring-sale.csv
  phone_column: phone
  delimiter: \",\"
  default_region: US
  duplicates: skip
  invalid_rows: fail
  suppress: [do-not-text.csv]
message:
  text: |
    Hi {{ first_name }}, the spring sale starts today: {{ link }}
    Reply STOP to opt out.
  media_url: https://cdn.example.com/spring.jpg
  max_segments: 2
  private: false
vars:
  link: https://example.com/spring
send:
  rate: 5/s
  window: \"08:00-21:00\"
  max_recipients: 5000
  cost_per_segment: 0.0079
  trust_local_id_dedupe: true
  error_budget:
    consecutive_failures: 3
    failure_ratio: 0.5
";
    let campaign = campaign(source);
    assert_eq!(
        campaign.inbox_phone.as_ref().map(Phone::digits),
        Some("18005550100")
    );
    let Content::Template(template) = &campaign.message.content else {
        panic!("{:?}", campaign.message.content);
    };
    assert_eq!(template.first_line, 17);
    assert!(template.text.starts_with("Hi {{ first_name }}"));
    assert_eq!(campaign.vars["link"], "https://example.com/spring");
    assert_eq!(campaign.send.rate.per, RatePeriod::Second);
    assert_eq!(campaign.send.max_recipients, Some(5000));
    assert_eq!(campaign.send.max_failure_ratio, 0.5);
    let Audience::Recipients(audience) = &campaign.audience else {
        panic!("{:?}", campaign.audience);
    };
    assert_eq!(audience.delimiter, Some(b','));
    assert_eq!(audience.invalid_rows, RowPolicy::Fail);
    assert_eq!(audience.suppress, [PathBuf::from("c/do-not-text.csv")]);
}

#[test]
fn three_problems_give_three_diagnostics() {
    let source = VALID
        .replace("name: spring", "name: Spring Sale")
        .replace("inbox: 42", "inbx: 42\ninbox: 42")
        + "send:\n  rate: 9000/min\n";
    let loaded = run(&source);
    assert_eq!(loaded.diagnostics.len(), 3, "{}", rendered(&source));
    assert!(loaded.campaign.is_none());
}

#[test]
fn yaml_syntax_errors_point_at_the_line() {
    assert_says(
        "version: 1\n---\nname: x\n",
        &["invalid YAML", "remove the extra `---` lines"],
    );
    assert_says(
        "version: 1\nname: [spring\ninbox: 42\n",
        &[
            "error: invalid YAML",
            "--> c/campaign.yaml:",
            "= hint: check the indentation",
        ],
    );
}

#[test]
fn duplicate_keys_name_the_first_line() {
    let source = VALID.replace("creator: 7", "creator: 7\nname: again");
    assert_says(
        &source,
        &[
            "error: duplicate key `name`\n  --> c/campaign.yaml:5:1\n",
            "= hint: `name` is already set on line 2: keep one of them",
        ],
    );
}

#[test]
fn a_document_that_is_not_a_mapping_is_refused() {
    assert_says(
        "# campaign\n- version\n- name\n",
        &[
            "must be a mapping of keys such as `version` and `name`, found a list",
            "c/campaign.yaml:2:1",
        ],
    );
    assert_says("# nothing yet\n", &["error: the campaign file is empty"]);
}

#[test]
fn tabs_in_indentation_get_their_own_message() {
    let source = VALID.replace("  recipients", "\trecipients");
    let text = rendered(&source);
    assert!(
        text.starts_with("error: tab in indentation\n  --> c/campaign.yaml:6:1\n"),
        "{text}"
    );
    assert!(text.contains("YAML indents with spaces only"), "{text}");
    assert!(!text.contains("invalid YAML"), "{text}");
}

#[test]
fn version_must_be_present_and_one() {
    assert_says(
        &VALID.replace("version: 1\n", ""),
        &[
            "error: missing `version`\n  --> c/campaign.yaml\n",
            "start the file with `version: 1`",
        ],
    );
    assert_says(
        &VALID.replace("version: 1", "version: 2"),
        &["unsupported `version` 2", "c/campaign.yaml:1:10"],
    );
}

#[test]
fn every_unknown_key_is_reported_with_a_suggestion() {
    let source = VALID.replace("  text: Hi", "  txt: Hi\n  text: Hi")
        + "rate: 5/s\nsend:\n  window: always\n  foo: 1\n";
    let text = rendered(&source);
    assert!(
        text.contains("error: unknown key `message.txt`\n  --> c/campaign.yaml:8:3\n"),
        "{text}"
    );
    assert!(
        text.contains("8 |   txt: Hi\n  |   ^^^\n  = hint: did you mean `text`?"),
        "{text}"
    );
    assert!(text.contains("unknown key `rate`"), "{text}");
    assert!(text.contains("`rate` belongs under `send`"), "{text}");
    assert!(text.contains("unknown key `send.foo`"), "{text}");
    assert!(text.contains("expected one of `rate`, `window`"), "{text}");
}

#[test]
fn wrong_types_say_what_was_expected() {
    assert_says(
        &VALID.replace("inbox: 42", "inbox: forty-two"),
        &[
            "error: `inbox` must be a positive integer (an inbox id), found a string (`forty-two`)",
            "c/campaign.yaml:3:8",
        ],
    );
    assert_says(
        &VALID.replace("creator: 7", "creator: 0"),
        &["`creator` must be a positive integer (a member id), found `0`"],
    );
    assert_says(
        &(VALID.to_owned() + "send:\n  trust_local_id_dedupe: maybe\n"),
        &["`send.trust_local_id_dedupe` must be `true` or `false`, found a string (`maybe`)"],
    );
}

#[test]
fn a_wrong_type_does_not_also_count_as_missing() {
    let text = rendered(&VALID.replace("inbox: 42", "inbox: [1]"));
    assert!(text.contains("found a list"), "{text}");
    assert!(!text.contains("missing `inbox`"), "{text}");
}

#[test]
fn a_misspelt_required_key_is_not_also_missing() {
    let text = rendered(&VALID.replace("inbox: 42", "inbx: 42"));
    assert!(text.contains("did you mean `inbox`?"), "{text}");
    assert!(!text.contains("missing `inbox`"), "{text}");
}

#[test]
fn diagnostics_follow_the_file_from_top_to_bottom() {
    let source = VALID.replace("creator: 7", "creator: x") + "send:\n  rate: 1/hour\n";
    let lines: Vec<usize> = run(&(source.replace("name: spring", "name: S")))
        .diagnostics
        .iter()
        .filter_map(|diagnostic| diagnostic.span.map(|span| span.line))
        .collect();
    assert_eq!(lines, [2, 4, 10]);
}

#[test]
fn a_badly_typed_audience_or_content_is_reported_once() {
    let source = VALID
        .replace("  recipients: people.csv", "  list: five-oh-one")
        .replace("  text: Hi", "  text: [Hi]");
    let loaded = run(&source);
    assert_eq!(loaded.diagnostics.len(), 2, "{}", rendered(&source));
}

#[test]
fn all_missing_keys_share_one_error() {
    let loaded = run("version: 1\nname: x\n");
    assert_eq!(loaded.diagnostics.len(), 1);
    assert_eq!(
        loaded.diagnostics[0].message,
        "missing required keys `inbox`, `creator`, `audience` and `message`"
    );
}

#[test]
fn missing_required_keys_are_named() {
    assert_says(
        &VALID.replace("creator: 7\n", ""),
        &[
            "error: missing required key `creator`\n  --> c/campaign.yaml\n",
            "add a top-level `creator` key",
        ],
    );
}

#[test]
fn the_audience_names_exactly_one_kind() {
    assert_says(
        &VALID.replace(
            "  recipients: people.csv",
            "  list: 501\n  recipients: people.csv",
        ),
        &[
            "`audience` has both `recipients` and `list`",
            "c/campaign.yaml:6:3",
            "keep one of them",
        ],
    );
    assert_says(
        &VALID.replace("  recipients: people.csv", "  phone_column: phone"),
        &["`audience` names nobody", "c/campaign.yaml:5:1"],
    );
}

#[test]
fn csv_keys_are_refused_on_a_list() {
    let source = VALID.replace(
        "  recipients: people.csv",
        "  list: 501\n  suppress: no.csv",
    );
    assert_says(
        &source,
        &[
            "`audience.suppress` applies only to a `recipients` CSV",
            "c/campaign.yaml:7:3",
            "a `list` audience has no CSV",
        ],
    );
}

#[test]
fn a_group_reads_and_normalises_its_numbers() {
    let source = VALID.replace(
        "  recipients: people.csv",
        "  group: [\"+1 (510) 555-3344\", \"510.555.3345\", 15105553346]",
    );
    let Audience::Group { targets } = campaign(&source).audience else {
        panic!("not a group");
    };
    let digits: Vec<&str> = targets.iter().map(Phone::digits).collect();
    assert_eq!(digits, ["15105553344", "15105553345", "15105553346"]);
}

#[test]
fn a_group_needs_two_to_ten_distinct_valid_numbers() {
    let group =
        |numbers: &str| VALID.replace("  recipients: people.csv", &format!("  group: {numbers}"));
    assert_says(
        &group("[\"15105553344\"]"),
        &["a group needs 2 to 10 numbers, found 1"],
    );
    assert_says(
        &group("[\"15105553344\", \"call me\", \"+15105553344\"]"),
        &[
            "`audience.group[1]` is not a phone number: `call me`\n  --> c/campaign.yaml:6:26",
            "`audience.group[2]` repeats `audience.group[0]`",
        ],
    );
}

#[test]
fn a_toll_free_inbox_cannot_send_to_a_group() {
    let source = VALID
        .replace("creator: 7", "creator: 7\ninbox_phone: \"+1 800 555 0100\"")
        .replace(
            "  recipients: people.csv",
            "  group: [\"15105553344\", \"15105553345\"]",
        );
    assert_says(
        &source,
        &[
            "group MMS cannot be sent from the toll-free inbox number `+18005550100`",
            "use a 10DLC or short code inbox, or send individually",
        ],
    );
}

#[test]
fn the_default_region_is_two_letters() {
    let source = VALID.replace(
        "  recipients: people.csv",
        "  recipients: people.csv\n  default_region: USA",
    );
    assert_says(
        &source,
        &["`audience.default_region` must be a two-letter country code such as `US`, found `USA`"],
    );
    let source = VALID.replace(
        "  recipients: people.csv",
        "  recipients: people.csv\n  default_region: ca",
    );
    assert!(run(&source).campaign.is_some());
}

#[test]
fn the_message_names_exactly_one_source() {
    assert_says(
        &VALID.replace("  text: Hi", "  text: Hi\n  template_id: 9"),
        &[
            "`message` has both `text` and `template_id`",
            "c/campaign.yaml:9:3",
        ],
    );
    assert_says(
        &VALID.replace("  text: Hi", "  max_segments: 2"),
        &["`message` has no content", "or a `media_url` alone"],
    );
    let media_only = VALID.replace("  text: Hi", "  media_url: https://cdn.example.com/a.jpg");
    assert!(matches!(
        campaign(&media_only).message.content,
        Content::MediaOnly
    ));
}

#[test]
fn an_empty_text_is_refused() {
    assert_says(
        &VALID.replace("  text: Hi", "  text: \"  \""),
        &["`message.text` is empty", "c/campaign.yaml:8:3"],
    );
}

#[test]
fn a_template_file_is_read_from_the_campaign_folder() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("spring.j2"), "Hi {{ name }}\n").unwrap();
    let path = folder.path().join("campaign.yaml");
    let source = VALID.replace("  text: Hi", "  template: spring.j2");

    let loaded = load_str(&path, &source);
    let Some(Content::Template(template)) = loaded.campaign.map(|c| c.message.content) else {
        panic!("{:?}", loaded.diagnostics);
    };
    assert_eq!(template.text, "Hi {{ name }}\n");
    assert_eq!(template.first_line, 1);
    assert_eq!(template.file, folder.path().join("spring.j2"));

    let missing = VALID.replace("  text: Hi", "  template: gone.j2");
    assert_says(
        &missing,
        &[
            "cannot read template `c/gone.j2`",
            "c/campaign.yaml:8:13",
            "relative to the campaign file's folder",
        ],
    );
}

#[test]
fn a_quoted_one_line_text_starts_on_its_key_line() {
    let campaign = campaign(&VALID.replace("  text: Hi", "  text: \"Hi {{ name }}\""));
    let Content::Template(template) = campaign.message.content else {
        panic!("not a template");
    };
    assert_eq!(template.first_line, 8);
}

#[test]
fn a_private_comment_needs_a_recipient_csv() {
    let source = VALID
        .replace("  recipients: people.csv", "  list: 501")
        .replace("  text: Hi", "  text: Hi\n  private: true");
    assert_says(
        &source,
        &[
            "`message.private` needs a `recipients` audience",
            "c/campaign.yaml:9:3",
            "`chat_id` column",
        ],
    );
    assert!(
        campaign(&VALID.replace("  text: Hi", "  text: Hi\n  private: true"))
            .message
            .private
    );
}

#[test]
fn media_must_be_public_https() {
    let with_media =
        |url: &str| VALID.replace("  text: Hi", &format!("  text: Hi\n  media_url: {url}"));
    assert_says(
        &with_media("http://cdn.example.com/a.jpg"),
        &[
            "`message.media_url` must use `https`, found `http`",
            "c/campaign.yaml:9:14",
        ],
    );
    assert_says(
        &with_media("https://192.168.1.4/a.jpg"),
        &["must name a host, not an IP address"],
    );
    assert_says(
        &with_media("https://[::1]/a.jpg"),
        &["must name a host, not an IP address"],
    );
    assert_says(
        &with_media("https://files.local/a.jpg"),
        &["host `files.local` is not reachable from the internet"],
    );
    assert_says(
        &with_media("not a url"),
        &["`message.media_url` is not a URL"],
    );
}

#[test]
fn max_segments_is_one_to_ten() {
    assert_says(
        &VALID.replace("  text: Hi", "  text: Hi\n  max_segments: 11"),
        &["`message.max_segments` must be from 1 to 10, found `11`"],
    );
}

#[test]
fn the_rate_stays_within_heymarkets_limit() {
    let with_rate = |rate: &str| VALID.to_owned() + &format!("send:\n  rate: {rate}\n");
    assert_says(
        &with_rate("10/s"),
        &[
            "error: `send.rate` of `10/s` is faster than Heymarket allows\n",
            "--> c/campaign.yaml:10:9",
            "at most 500 requests a minute",
        ],
    );
    assert_says(
        &with_rate("quick"),
        &["`send.rate` must look like `400/min` or `5/s`, found `quick`"],
    );
    assert_says(
        &with_rate("0/min"),
        &["`send.rate` must be at least 1 request"],
    );
    assert_eq!(campaign(&with_rate("500/min")).send.rate.count, 500);
}

#[test]
fn the_window_is_hours_or_always() {
    let with_window = |window: &str| VALID.to_owned() + &format!("send:\n  window: \"{window}\"\n");
    let loaded = run(&with_window("always"));
    assert_eq!(loaded.campaign.map(|c| c.send.window), Some(Window::Always));
    assert_says(
        &with_window("always"),
        &["warning: send window turned off: messages may reach people at night"],
    );
    assert_says(
        &with_window("9am-5pm"),
        &["`send.window` must look like `08:00-21:00`, found `9am-5pm`"],
    );
    assert_says(
        &with_window("21:00-08:00"),
        &[
            "`send.window` `21:00-08:00` ends before it starts",
            "within one day",
        ],
    );
}

#[test]
fn budget_and_cost_numbers_are_in_range() {
    let source =
        VALID.to_owned() + "send:\n  cost_per_segment: -1\n  error_budget:\n    failure_ratio: 0\n";
    assert_says(
        &source,
        &[
            "`send.cost_per_segment` must be 0 or more, found `-1`",
            "`send.error_budget.failure_ratio` must be above 0 and at most 1, found `0`",
        ],
    );
    assert_says(
        &(VALID.to_owned() + "send:\n  max_recipients: 0\n"),
        &["`send.max_recipients` must be a positive integer, found `0`"],
    );
}

#[test]
fn the_name_is_a_slug_with_a_suggestion() {
    assert_says(
        &VALID.replace("name: spring", "name: Spring Sale 2026!"),
        &[
            "`name` must be a slug",
            "c/campaign.yaml:2:7",
            "= hint: try `name: spring-sale-2026`",
        ],
    );
    assert_says(
        &VALID.replace("name: spring", "name: été"),
        &["= hint: use lowercase letters, digits and `-`"],
    );
    assert_eq!(slugify("--A  b--"), "a-b");
    assert!(is_slug("a") && !is_slug("-a") && !is_slug(&"a".repeat(64)));
}

#[test]
fn an_email_campaign_gets_one_clear_error() {
    let source =
        VALID.replace("  text: Hi", "  subject: Spring\n  html: <p>Hi</p>") + "from_email: a@b.c\n";
    let loaded = run(&source);
    assert_eq!(loaded.diagnostics.len(), 1, "{}", rendered(&source));
    assert!(
        loaded.diagnostics[0]
            .message
            .contains("Heymarket sends email through POST /v1/email/send")
    );
}

#[test]
fn phone_numbers_are_read_in_one_place() {
    let read = |text: &str| parse_phone(text, Region::US).map(|phone| phone.digits().to_owned());
    assert_eq!(read("+1 (510) 555-3344").as_deref(), Some("15105553344"));
    assert_eq!(read("(510) 555-3344").as_deref(), Some("15105553344"));
    assert_eq!(read("+44 7911 123456").as_deref(), Some("447911123456"));
    assert_eq!(read("555-3344"), None);
    assert_eq!(read("+1 510 CALL NOW"), None);
}

#[test]
fn an_unreadable_file_is_one_error() {
    let loaded = load(Path::new("/nonexistent/campaign.yaml"));
    assert!(loaded.campaign.is_none());
    assert!(
        loaded.diagnostics[0]
            .message
            .starts_with("cannot read the campaign file")
    );
}
