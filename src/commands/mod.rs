//! One file per subcommand; this module holds what they share: loading a campaign file and
//! reporting its problems the same way everywhere.

pub mod apply;
pub mod failure;
pub mod online;
pub mod plan;
pub mod sandbox;
pub mod schema;
pub mod show;
pub mod status;
pub mod validate;

use std::io::Write;
use std::path::Path;

use crate::campaign::Campaign;
use crate::diagnostic::{Diagnostic, Severity};

/// Loads and validates a campaign file, printing every problem. `None` when it has errors.
pub fn load_campaign(path: &Path) -> Option<Campaign> {
    let loaded = crate::campaign::load(path);
    report(&loaded.diagnostics);
    loaded.campaign
}

/// Prints diagnostics to stderr and, under GitHub Actions, as workflow annotations.
pub fn report(diagnostics: &[Diagnostic]) {
    let mut stderr = std::io::stderr().lock();
    for diagnostic in diagnostics {
        let _ = writeln!(stderr, "{diagnostic}");
    }
    if is_github_actions() {
        for diagnostic in diagnostics {
            let _ = writeln!(stderr, "{}", annotation(diagnostic));
        }
    }
}

/// Whether we run inside a GitHub Actions job.
pub fn is_github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|value| value == "true")
}

/// `::error file=F,line=L,col=C::message`, escaped as GitHub's workflow commands require.
pub fn annotation(diagnostic: &Diagnostic) -> String {
    let level = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut properties = format!(
        "file={}",
        escape_property(&diagnostic.file.display().to_string())
    );
    if let Some(span) = diagnostic.span {
        properties.push_str(&format!(",line={},col={}", span.line, span.col));
    }
    let mut message = diagnostic.message.clone();
    if let Some(hint) = &diagnostic.hint {
        message.push_str(&format!("\nhint: {hint}"));
    }
    format!("::{level} {properties}::{}", escape_data(&message))
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Appends `markdown` to the job summary when GitHub Actions provides one.
pub fn append_step_summary(markdown: &str) -> std::io::Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") else {
        return Ok(());
    };
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)?;
    writeln!(file, "{markdown}")
}

/// Runs the subcommand `cli` names.
pub fn run(cli: crate::cli::Cli) -> anyhow::Result<crate::exit::Exit> {
    use crate::cli::Command;
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Show(args) => show::run(&args),
        Command::Schema => schema::run(),
        Command::Apply(args) => apply::run(args),
        Command::Status(args) => status::run(&args),
        Command::Sandbox(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(sandbox::run(args))?;
            Ok(crate::exit::Exit::Success)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_escape_newlines_and_separators() {
        let diagnostic = Diagnostic::error("a,b.yaml", "bad\nthing").at("x\ny\n", 2, 3, 1);
        assert_eq!(
            annotation(&diagnostic),
            "::error file=a%2Cb.yaml,line=2,col=3::bad%0Athing"
        );
    }
}
