//! `plan` with credentials: the online checks against a sandbox process.

use crate::sandbox_proc::{Case, SandboxProc, assert_exit, campaign, csv_of, run};

const SEND: &str = "  window: always\n";

fn plan_online(case: &Case, sandbox: &SandboxProc) -> std::process::Output {
    let mut command = campaign();
    command.arg("plan").arg(case.campaign_file());
    sandbox.point(&mut command);
    run(&mut command)
}

fn campaign_yaml(inbox: u32, creator: u32, audience: &str) -> String {
    format!(
        "version: 1\nname: online-check\ninbox: {inbox}\ncreator: {creator}\naudience:\n{audience}message:\n  text: \"Hi. Reply STOP to opt out.\"\nsend:\n{SEND}"
    )
}

#[test]
// Proves a plan with credentials checks the inbox and creator and says it was online.
fn a_plan_with_credentials_is_online() {
    let case = Case::new(&campaign_yaml(42, 7, "  recipients: recipients.csv\n"));
    case.write("recipients.csv", &csv_of(2));
    let sandbox = SandboxProc::start(&case.path("sent.jsonl"), &[]);

    let output = plan_online(&case, &sandbox);

    assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(", online"), "{stdout}");
    assert!(stdout.contains("inbox 42 `Main Line`"), "{stdout}");
    assert!(
        stdout.contains("creator 7 `Avery Admin` is a team member"),
        "{stdout}"
    );
    assert!(sandbox.messages().is_empty(), "a plan sends nothing");
}

#[test]
// Proves an inbox the credentials cannot see, and a creator outside the inbox, are errors.
fn a_missing_inbox_and_a_foreign_creator_fail_the_plan() {
    let missing = Case::new(&campaign_yaml(77, 7, "  recipients: recipients.csv\n"));
    missing.write("recipients.csv", &csv_of(1));
    let sandbox = SandboxProc::start(&missing.path("sent.jsonl"), &[]);
    let output = plan_online(&missing, &sandbox);
    assert_exit(&output, 1);
    assert!(String::from_utf8_lossy(&output.stderr).contains("inbox 77 does not exist"));

    let foreign = Case::new(&campaign_yaml(42, 9, "  recipients: recipients.csv\n"));
    foreign.write("recipients.csv", &csv_of(1));
    let output = plan_online(&foreign, &sandbox);
    assert_exit(&output, 1);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("creator 9 is not a member of inbox 42")
    );
}

#[test]
// Proves the toll-free rule is learned online: group MMS from inbox 43 is refused.
fn group_mms_from_a_toll_free_inbox_is_refused_online() {
    let audience = "  group: [\"+15105550121\", \"+15105550122\"]\n";
    let case = Case::new(&campaign_yaml(43, 7, audience));
    let sandbox = SandboxProc::start(&case.path("sent.jsonl"), &[]);

    let output = plan_online(&case, &sandbox);

    assert_exit(&output, 1);
    assert!(String::from_utf8_lossy(&output.stderr).contains("toll-free"));
}
