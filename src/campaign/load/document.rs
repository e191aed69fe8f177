//! The file as YAML: syntax errors, tabs in indentation, duplicate keys, a document that is
//! not a mapping, and the `version` key. Nothing here knows what the other keys mean.

use serde_yaml::{Mapping, Value};

use super::keys::found;
use super::problems::{At, Problems, dotted};

/// The only campaign file format this build reads.
const VERSION: u32 = 1;

/// Parses the source as one YAML mapping, or notes why it is not one.
pub(super) fn parse(problems: &mut Problems) -> Option<Mapping> {
    match serde_yaml::from_str::<Value>(problems.source) {
        Ok(Value::Mapping(mapping)) => Some(mapping),
        Ok(other) => {
            not_a_mapping(&other, problems);
            None
        }
        Err(err) => {
            invalid(&err, problems);
            None
        }
    }
}

/// Notes a missing `version` or one this build does not read.
pub(super) fn check_version(version: Option<u32>, problems: &mut Problems) {
    match version {
        Some(VERSION) => {}
        Some(other) => problems
            .error(
                &["version"],
                At::Value,
                format!("unsupported `version` {other}"),
            )
            .hint(format!("this `campaign` reads `version: {VERSION}` files")),
        None if problems.is_reported(&["version"]) => {}
        None => problems
            .error_in_file("missing `version`")
            .hint(format!("start the file with `version: {VERSION}`")),
    }
}

/// Explains a parse failure: duplicate keys and tabs first, as YAML's own words are vague.
fn invalid(err: &serde_yaml::Error, problems: &mut Problems) {
    if duplicates(problems) {
        return;
    }
    let tab_lines = tabs(problems);

    let reason = err.to_string();
    let message = format!("invalid YAML: {}", without_location(&reason));
    let hint = if reason.contains("more than one document") {
        "a campaign file is one YAML document: remove the extra `---` lines"
    } else {
        "check the indentation and quoting here: a value containing `: ` or ` #` needs quotes"
    };
    match err.location() {
        Some(at) if tab_lines.contains(&at.line()) => {}
        Some(at) => problems
            .error_at(at.line(), at.column(), 1, message)
            .hint(hint),
        None => problems.error_in_file(message).hint(hint),
    }
}

/// Notes every key written twice in one mapping; true when there was one.
fn duplicates(problems: &mut Problems) -> bool {
    let found = problems.locations.duplicates().to_vec();
    for duplicate in &found {
        let name = dotted(&duplicate.path);
        problems
            .error_at(
                duplicate.at.line,
                duplicate.at.col,
                duplicate.len,
                format!("duplicate key `{name}`"),
            )
            .hint(format!(
                "`{name}` is already set on line {}: keep one of them",
                duplicate.first_line
            ));
    }
    !found.is_empty()
}

/// Notes every line indented with a tab; returns their numbers.
fn tabs(problems: &mut Problems) -> Vec<usize> {
    let mut lines = Vec::new();
    for (index, text) in problems.source.lines().enumerate() {
        let indent_len = text.len() - text.trim_start_matches([' ', '\t']).len();
        let Some(col) = text[..indent_len].find('\t') else {
            continue;
        };
        if indent_len == text.len() {
            continue;
        }
        problems
            .error_at(index + 1, col + 1, 1, "tab in indentation")
            .hint("YAML indents with spaces only: replace the tab with spaces");
        lines.push(index + 1);
    }
    lines
}

fn not_a_mapping(value: &Value, problems: &mut Problems) {
    if value.is_null() {
        problems
            .error_in_file("the campaign file is empty")
            .hint(format!(
                "a campaign file starts with `version: {VERSION}` and `name:`"
            ));
        return;
    }

    let message = format!(
        "the campaign file must be a mapping of keys such as `version` and `name`, found {}",
        found(value)
    );
    let line = first_content_line(problems.source);
    problems
        .error_at(line, 1, 0, message)
        .hint("write one `key: value` per line, starting with `version: 1`");
}

/// The first line that is neither blank nor a comment.
fn first_content_line(source: &str) -> usize {
    source
        .lines()
        .position(|line| {
            let line = line.trim();
            !line.is_empty() && !line.starts_with('#') && line != "---"
        })
        .map_or(1, |index| index + 1)
}

/// YAML's message without the ` at line 3 column 5` that the location already says.
fn without_location(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_line_with_content() {
        assert_eq!(first_content_line("# comment\n\n- a\n"), 3);
    }

    #[test]
    fn drops_the_location_from_yaml_messages() {
        assert_eq!(
            without_location("did not find expected key at line 3 column 1, while parsing"),
            "did not find expected key"
        );
    }
}
