//! `campaign plan`, `show` and `schema` through the binary: each output format, the saved
//! plan, and the exit codes scripts branch on.

use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::support::{Run, Scratch, messages, repo, shows_phone};

const SPRING: &str = "campaigns/spring-sale.yaml";

/// Every number in `campaigns/data/spring-sale.csv`, as written there.
const SPRING_PHONES: &[&str] = &[
    "+1 (510) 555-0101",
    "510.555.0102",
    "(212) 555-0130",
    "+1 312 555 0140",
    "+1 415 555 0150",
    "15105550199",
    "+1 907 555 0160",
    "+1 (510) 555-0177",
];

/// A CSV of `rows` distinct Oakland numbers with a first name each.
fn audience_csv(rows: usize) -> String {
    let mut csv = String::from("phone,first_name\n");
    for n in 0..rows {
        csv.push_str(&format!("+1 510 555 {n:04},Name{n}\n"));
    }
    csv
}

fn plan_json(args: &[&str]) -> Value {
    let mut all = vec!["plan", "--json"];
    all.extend_from_slice(args);
    Run::new(all).run().code(0).json()
}

fn assert_masked(text: &str) {
    for phone in SPRING_PHONES {
        assert!(!shows_phone(text, phone), "{phone} is shown in:\n{text}");
    }
}

// The human plan of the spring sale, line for line.
#[test]
fn spring_sale_plan_reads_as_reviewed() {
    let outcome = Run::new(["plan", SPRING]).run().code(0);
    insta::assert_snapshot!("spring_sale_plan", outcome.stdout);
}

// No full phone number reaches the human plan, however the CSV wrote it.
#[test]
fn human_plan_masks_every_phone() {
    let outcome = Run::new(["plan", SPRING]).run().code(0);
    assert_masked(&outcome.stdout);
}

// A large audience shows a sample and counts, not one line per row.
#[test]
fn large_audience_shows_a_sample() {
    let scratch = Scratch::new();
    scratch.recipients(
        "",
        "Hi {{ first_name }}. Reply STOP to opt out.",
        audience_csv(200),
    );

    let outcome = Run::new(["plan", "campaign.yaml"])
        .dir(scratch.path())
        .run()
        .code(0)
        .stdout_has("10 of 200 messages to send")
        .stdout_has("Plan: 200 to send, 0 skipped, 0 invalid.");
    assert!(outcome.stdout.lines().count() < 50, "{}", outcome.stdout);
}

// The summary gives skips by reason, segments, encoding mix, cost, zones and duration.
#[test]
fn summary_has_every_figure() {
    Run::new(["plan", SPRING])
        .run()
        .code(0)
        .stdout_has("to send    7 (6 GSM-7, 1 UCS-2), 8 segments")
        .stdout_has("skipped    2 (1 duplicate, 1 suppressed)")
        .stdout_has("invalid    1 (1 invalid_phone)")
        .stdout_has("cost       about $0.06 at $0.0079 a segment")
        .stdout_has("window     09:00-20:00 in each recipient's time zone")
        .stdout_has("America/Anchorage")
        .stdout_has("America/New_York")
        .stdout_has("duration   about ");
}

// A character that forces UCS-2 is named with a GSM-7 replacement.
#[test]
fn ucs2_characters_are_named_with_a_suggestion() {
    Run::new(["plan", SPRING])
        .run()
        .code(0)
        .stdout_has("UCS-2      `ë` U+00EB in 1 message: use `e` instead");
}

// A message without "Reply STOP" or the like is counted in the summary.
#[test]
fn missing_opt_out_is_flagged() {
    let scratch = Scratch::new();
    scratch.campaign(
        "audience:\n  list: 501\nmessage:\n  text: \"Big sale today\"\n",
        "",
    );

    Run::new(["plan", "campaign.yaml"])
        .dir(scratch.path())
        .run()
        .code(0)
        .stdout_has("opt-out    1 message without an opt-out instruction");
}

// The JSON plan is one versioned document with a summary and one message per CSV row.
#[test]
fn json_plan_has_one_message_per_row() {
    let plan = plan_json(&[SPRING]);

    assert_eq!(plan["format_version"], 1);
    assert_eq!(plan["summary"]["to_send"], 7);
    assert_eq!(plan["summary"]["by_reason"]["duplicate"], 1);
    let messages = messages(&plan);
    let rows: Vec<u64> = messages.iter().filter_map(|m| m["row"].as_u64()).collect();
    assert_eq!(rows, (1..=10).collect::<Vec<_>>());
    for message in messages {
        for field in [
            "status", "reason", "text", "encoding", "segments", "local_id",
        ] {
            assert!(message.get(field).is_some(), "no `{field}` in {message}");
        }
    }
}

// Phone numbers are E.164 digits without `+`; statuses and reasons name what happened.
#[test]
fn json_plan_messages_carry_digits_and_reasons() {
    let plan = plan_json(&[SPRING]);
    let messages = messages(&plan);

    assert_eq!(messages[0]["status"], "send");
    assert_eq!(messages[0]["phone_number"], "15105550101");
    assert_eq!(messages[0]["encoding"], "gsm7");
    assert_eq!(messages[0]["segments"], 1);
    assert_eq!(messages[4]["reason"], "duplicate");
    assert_eq!(messages[7]["status"], "invalid");
    assert_eq!(messages[7]["reason"], "invalid_phone");
    assert_eq!(messages[9]["reason"], "suppressed");
    for phone in messages.iter().filter_map(|m| m["phone_number"].as_str()) {
        assert!(phone.chars().all(|c| c.is_ascii_digit()), "{phone}");
    }
}

// A list broadcast and a group MMS are one request each, so one message each.
#[test]
fn list_and_group_plan_one_message() {
    let list = plan_json(&["campaigns/vip-broadcast.yaml"]);
    let group = plan_json(&["campaigns/team-group.yaml"]);

    assert_eq!(messages(&list).len(), 1);
    assert_eq!(messages(&list)[0]["list_id"], 501);
    assert_eq!(messages(&group).len(), 1);
    assert_eq!(messages(&group)[0]["status"], "send");
}

// local_ids survive a re-plan unchanged and differ between recipients.
#[test]
fn local_ids_are_stable_and_distinct() {
    let ids = |plan: &Value| -> Vec<Value> {
        messages(plan)
            .iter()
            .filter(|m| m["status"] == "send")
            .map(|m| m["local_id"].clone())
            .collect()
    };
    let first = ids(&plan_json(&[SPRING]));
    let second = ids(&plan_json(&[SPRING]));

    assert_eq!(first, second);
    let mut distinct = first.clone();
    distinct.sort_by_key(Value::to_string);
    distinct.dedup();
    assert_eq!(distinct.len(), first.len());
}

// `--markdown FILE` writes a comment a bot can find, summary before the collapsed details.
#[test]
fn markdown_file_is_a_pr_comment() {
    let scratch = Scratch::new();
    let comment = scratch.path().join("comment.md");

    Run::new([
        "plan".as_ref(),
        SPRING.as_ref(),
        "--markdown".as_ref(),
        comment.as_os_str(),
    ])
    .run()
    .code(0)
    .stdout_has("Plan: 7 to send");
    let markdown = std::fs::read_to_string(&comment).expect("the comment is written");

    assert!(markdown.starts_with("<!-- campaign-plan: spring-sale-2026 -->"));
    let table = markdown.find("| To send | 7 |").expect("a summary table");
    let details = markdown.find("<details>").expect("collapsed details");
    assert!(table < details);
    assert_masked(&markdown);
}

// `--markdown -` makes the comment the stdout, instead of the text plan.
#[test]
fn markdown_to_stdout() {
    Run::new(["plan", SPRING, "--markdown", "-"])
        .run()
        .code(0)
        .stdout_has("<!-- campaign-plan: spring-sale-2026 -->")
        .stdout_has("<details>")
        .stdout_lacks("Plan: 7 to send");
}

// Five thousand rows still fit in one GitHub comment.
#[test]
fn markdown_fits_github_comment_limit() {
    let scratch = Scratch::new();
    scratch.recipients(
        "",
        "Hi {{ first_name }}. Reply STOP to opt out.",
        audience_csv(5000),
    );

    let outcome = Run::new(["plan", "campaign.yaml", "--markdown", "-"])
        .dir(scratch.path())
        .run()
        .code(0)
        .stdout_has("| To send | 5000 |");
    assert!(outcome.stdout.chars().count() < 65_536);
}

// Inside GitHub Actions the summary is appended to the job summary and problems annotated.
#[test]
fn github_actions_gets_summary_and_annotations() {
    let scratch = Scratch::new();
    let summary = scratch.file("summary.md", "earlier step\n");

    Run::new(["plan", SPRING])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .run()
        .code(0)
        .stderr_has("::warning file=campaigns/data/spring-sale.csv,line=6,col=1::");
    let written = std::fs::read_to_string(&summary).expect("the summary is readable");

    assert!(written.starts_with("earlier step\n"), "{written}");
    assert!(written.contains("| To send | 7 |"), "{written}");
}

// An error in a campaign file becomes an `::error` annotation at its line.
#[test]
fn github_actions_annotates_errors() {
    let scratch = Scratch::new();
    scratch.campaign(
        "audience:\n  list: 501\nmessage:\n  text: \"Hi\"\nsend:\n  rate: 900/min\n",
        "",
    );

    Run::new(["plan", "campaign.yaml"])
        .dir(scratch.path())
        .env("GITHUB_ACTIONS", "true")
        .run()
        .code(1)
        .stderr_has("::error file=campaign.yaml,line=10,col=9::");
}

// A saved plan is private to its owner and reads back as text and as the JSON plan.
#[test]
fn saved_plan_is_private_and_shown() {
    let scratch = Scratch::new();
    let saved = scratch.path().join("spring.plan");
    let saved_arg = saved.display().to_string();

    Run::new(["plan", SPRING, "--out", &saved_arg])
        .run()
        .code(0)
        .stderr_has("saved the plan to");
    let mode = std::fs::metadata(&saved)
        .expect("the plan exists")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let shown = Run::new(["show", &saved_arg])
        .run()
        .code(0)
        .stdout_has("Plan: 7 to send, 2 skipped, 1 invalid.")
        .stdout_has("Inputs, as hashed when the plan was made:");
    assert_masked(&shown.stdout);
    let json = Run::new(["show", &saved_arg, "--json"])
        .run()
        .code(0)
        .json();
    assert_eq!(json["format_version"], 1);
    assert_eq!(messages(&json).len(), 10);
    assert_eq!(json["summary"]["to_send"], 7);
}

// A plan with errors must never be applied, so it leaves no file behind.
#[test]
fn plan_with_errors_leaves_no_file() {
    let scratch = Scratch::new();
    let csv = "phone,first_name\n+1 510 555 0101,Ana\nnot-a-phone,Ben\n";
    scratch.recipients("  invalid_rows: fail\n", "Hi. Reply STOP to opt out.", csv);

    Run::new(["plan", "campaign.yaml", "--out", "campaign.plan"])
        .dir(scratch.path())
        .run()
        .code(1)
        .stderr_has("the plan has errors; nothing would be sent");
    assert!(!scratch.path().join("campaign.plan").exists());
}

// `--detailed-exitcode` says 2 when something would be sent.
#[test]
fn detailed_exitcode_is_2_with_changes() {
    Run::new(["plan", SPRING, "--detailed-exitcode"])
        .run()
        .code(2);
}

// `--detailed-exitcode` says 0 when every row is suppressed.
#[test]
fn detailed_exitcode_is_0_without_changes() {
    let scratch = Scratch::new();
    scratch.file("stop.csv", "phone\n+1 510 555 0101\n");
    scratch.recipients(
        "  suppress: [stop.csv]\n",
        "Hi. Reply STOP to opt out.",
        "phone\n+1 510 555 0101\n",
    );

    Run::new(["plan", "campaign.yaml", "--detailed-exitcode"])
        .dir(scratch.path())
        .run()
        .code(0)
        .stdout_has("Plan: 0 to send, 1 skipped, 0 invalid.");
}

// An argument error is exit 1 like every other error, not clap's 2.
#[test]
fn unknown_flag_exits_1() {
    Run::new(["plan", SPRING, "--bogus"])
        .run()
        .code(1)
        .stderr_has("unexpected argument '--bogus'");
}

// `--help` is not an error, and documents the exit codes.
#[test]
fn help_lists_exit_codes() {
    Run::new(["--help"])
        .run()
        .code(0)
        .stdout_has("Exit codes:")
        .stdout_has("2  plan --detailed-exitcode");
}

// `campaign schema` prints exactly the committed JSON Schema.
#[test]
fn schema_matches_the_committed_file() {
    let outcome = Run::new(["schema"]).run().code(0);
    let committed = std::fs::read_to_string(repo().join("schemas/campaign.schema.json"))
        .expect("the committed schema");

    let printed: Value = outcome.json();
    let expected: Value = serde_json::from_str(&committed).expect("the schema is JSON");
    assert_eq!(printed, expected);
    assert_eq!(outcome.stdout, committed);
}

// Regression: `--json --markdown -` used to print the comment after the JSON document,
// so stdout was no longer JSON; the two cannot share stdout.
#[test]
fn json_and_markdown_cannot_share_stdout() {
    Run::new(["plan", SPRING, "--json", "--markdown", "-"])
        .run()
        .code(1)
        .stderr_has("`--json` and `--markdown -` both write to stdout");
}

// `--json` with `--markdown FILE` keeps stdout one JSON document and writes the comment.
#[test]
fn json_with_markdown_file_keeps_stdout_json() {
    let scratch = Scratch::new();
    let comment = scratch.path().join("comment.md");
    let comment_arg = comment.display().to_string();

    let plan = Run::new(["plan", SPRING, "--json", "--markdown", &comment_arg])
        .run()
        .code(0)
        .json();
    assert_eq!(plan["summary"]["to_send"], 7);
    assert!(comment.exists());
}

// Regression: an invalid number (usually a real one with a typo) used to be quoted in full
// in the plan, the PR comment and the warnings; only its last two digits may show.
#[test]
fn invalid_phones_are_masked_too() {
    let scratch = Scratch::new();
    let csv = "phone,first_name\n+1 510 555 01011,Ana\n510-555-0102 x,Ben\n";
    scratch.recipients("", "Hi {{ first_name }}. Reply STOP to opt out.", csv);

    let human = Run::new(["plan", "campaign.yaml"])
        .dir(scratch.path())
        .run()
        .code(0)
        .stdout_has("phone `+• ••• ••• •••11`")
        .stdout_has("phone `•••-•••-••02 x`");
    let markdown = Run::new(["plan", "campaign.yaml", "--markdown", "-"])
        .dir(scratch.path())
        .run()
        .code(0);
    for text in [&human.stdout, &human.stderr, &markdown.stdout] {
        assert!(!shows_phone(text, "5105550101"), "{text}");
        assert!(!shows_phone(text, "5105550102"), "{text}");
    }
}

// Regression: a one-message plan used to read "1 segments" and "Messages (1 rows)".
#[test]
fn single_counts_read_in_the_singular() {
    Run::new(["plan", "campaigns/vip-broadcast.yaml"])
        .run()
        .code(0)
        .stdout_has("to send    1 (1 GSM-7, 0 UCS-2), 1 segment\n");
    Run::new(["plan", "campaigns/vip-broadcast.yaml", "--markdown", "-"])
        .run()
        .code(0)
        .stdout_has("<summary>Messages (1 row)</summary>");
}

// Errors win over `--detailed-exitcode`: a broken plan exits 1, never 2.
#[test]
fn detailed_exitcode_is_1_on_errors() {
    let scratch = Scratch::new();
    let csv = "phone,first_name\n+1 510 555 0101,Ana\nnot-a-phone,Ben\n";
    scratch.recipients("  invalid_rows: fail\n", "Hi. Reply STOP to opt out.", csv);

    Run::new(["plan", "campaign.yaml", "--detailed-exitcode"])
        .dir(scratch.path())
        .run()
        .code(1);
}
