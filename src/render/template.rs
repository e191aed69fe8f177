//! The one render path: a campaign's minijinja template turned into each recipient's text.
//!
//! `plan` and `apply` both call [`MessageTemplate::render`], so the text a reviewer approved is
//! byte for byte the text that is sent. Templates run in strict-undefined mode, with no
//! loader (no `include` of files), no environment access, no auto-escaping (SMS is plain
//! text) and a fuel limit, so a template can neither read the machine nor loop forever;
//! [`memory::bounded`] keeps it from filling memory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, Value};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};

use super::memory::{self, Site};
use crate::campaign::TemplateSource;
use crate::diagnostic::Diagnostic;
use crate::panic_guard::catch_silently;

/// Instructions a template may execute for one message before it is stopped.
const FUEL_PER_MESSAGE: u64 = 200_000;

/// The longest message a template may write. A message is at most 10 segments, a few
/// kilobytes, and anything longer is refused for its segment count; past this cap it is
/// refused for its length without writing (and counting the segments of) what could be
/// 100 MB from one `"x" * 100000000`.
const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// Template variables every message has, whatever the audience.
pub const BUILTIN_VARIABLES: [&str; 3] = ["campaign", "row", "columns"];

const TEMPLATE_NAME: &str = "message";

/// A compiled message template, ready to render one recipient at a time.
#[derive(Debug)]
pub struct MessageTemplate {
    env: Environment<'static>,
    file: PathBuf,
    first_line: usize,
    vars: Arc<BTreeMap<String, Value>>,
    campaign: Value,
}

/// Why one message could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct RenderError {
    /// The minijinja error as one line.
    pub detail: String,
    /// The template itself is wrong (an unknown filter, an `include` of a file, a name that
    /// is never defined, endless recursion), so it fails for every row alike.
    pub is_template_defect: bool,
}

/// The values one message is rendered with: a CSV row and its header.
#[derive(Debug, Clone)]
pub struct RowValues<'a> {
    /// 1-based data row number.
    pub row: u64,
    pub headers: &'a Arc<[String]>,
    /// The row's values, moved in: rendering keeps them for the template's lifetime.
    pub fields: Vec<String>,
}

impl MessageTemplate {
    /// Compiles `source`; a syntax error comes back located in the file the template is in.
    pub fn compile(
        source: &TemplateSource,
        campaign_name: &str,
        vars: &BTreeMap<String, serde_json::Value>,
    ) -> Result<MessageTemplate, Box<Diagnostic>> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_fuel(Some(FUEL_PER_MESSAGE));
        env.set_recursion_limit(64);

        let mut template = Self {
            env,
            file: source.file.clone(),
            first_line: source.first_line,
            vars: Arc::new(
                vars.iter()
                    .map(|(k, v)| (k.clone(), Value::from_serialize(v)))
                    .collect(),
            ),
            campaign: Value::from(campaign_name),
        };
        // minijinja panics on a few templates it parses but cannot compile (found by fuzzing).
        // Compiling folds constants, so `"x" * 99999999` is built here: bounded like a render.
        let site = Site {
            file: &source.file,
            line: source.first_line,
            row: None,
        };
        let added = memory::bounded(&site, || {
            catch_silently(|| {
                template
                    .env
                    .add_template_owned(TEMPLATE_NAME, source.text.clone())
            })
        });
        match added {
            Some(Ok(())) => Ok(template),
            Some(Err(error)) => Err(Box::new(template.locate(&source.text, &error))),
            None => Err(Box::new(uncompilable(source))),
        }
    }

    /// Names the template uses that neither `columns`, `vars` nor a built-in provides, each
    /// with the file line where it is first used.
    pub fn unknown_variables(
        &self,
        columns: &[String],
        source: &TemplateSource,
    ) -> Vec<Diagnostic> {
        let Ok(template) = self.env.get_template(TEMPLATE_NAME) else {
            return Vec::new();
        };
        let mut unknown: Vec<String> = template
            .undeclared_variables(false)
            .into_iter()
            .filter(|name| !self.vars.contains_key(name))
            .filter(|name| !columns.iter().any(|column| column == name))
            .filter(|name| !BUILTIN_VARIABLES.contains(&name.as_str()))
            // minijinja's own globals (`range`, `dict`, `namespace`, ...) are defined too.
            .filter(|name| !self.env.globals().any(|(global, _)| global == name))
            .collect();
        unknown.sort();

        unknown
            .into_iter()
            .map(|name| self.unknown_variable(&name, columns, source))
            .collect()
    }

    fn unknown_variable(
        &self,
        name: &str,
        columns: &[String],
        source: &TemplateSource,
    ) -> Diagnostic {
        let (offset, col) = find_identifier(&source.text, name).unwrap_or((0, 1));
        let known = columns
            .iter()
            .map(String::as_str)
            .chain(self.vars.keys().map(String::as_str));
        let hint = match crate::diagnostic::did_you_mean(name, known) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!(
                "add a `{name}` column to the recipient CSV or a `{name}` entry under `vars`"
            ),
        };
        let file_source = crate::text_file::read(&self.file).unwrap_or_default();
        let template_line = source.text.lines().nth(offset).unwrap_or("");
        let line = self.first_line + offset;
        let col = file_column(&file_source, line, template_line, col);
        Diagnostic::error(
            &self.file,
            format!(
                "template uses `{name}`, which no CSV column, `vars` entry or built-in provides"
            ),
        )
        .at(&file_source, line, col, name.len())
        .with_hint(hint)
    }

    /// The same template with `fuel` instead of [`FUEL_PER_MESSAGE`]: the fuzz target's,
    /// which has no watchdog (see [`super::watchdog`]) and must stay under libFuzzer's
    /// timeout however costly each instruction is.
    pub(crate) fn with_fuel(mut self, fuel: u64) -> MessageTemplate {
        self.env.set_fuel(Some(fuel));
        self
    }

    /// Renders the message for one recipient. Row values win over campaign `vars`.
    pub fn render(&self, row: Option<RowValues<'_>>) -> Result<String, RenderError> {
        let site = Site {
            file: &self.file,
            line: self.first_line,
            row: row.as_ref().map(|values| values.row),
        };
        let context = Value::from_object(Context {
            campaign: self.campaign.clone(),
            vars: Arc::clone(&self.vars),
            row: row.map(|values| RowData {
                row: values.row,
                headers: Arc::clone(values.headers),
                fields: values.fields,
            }),
        });
        let template = self
            .env
            .get_template(TEMPLATE_NAME)
            .map_err(|error| render_error(&error))?;
        let mut output = CappedOutput::default();
        // minijinja panics on a few templates it renders (found by fuzzing); see panic_guard.
        let rendered = memory::bounded(&site, || {
            catch_silently(|| template.render_captured_to(context, &mut output))
        });
        match rendered {
            Some(Ok(_)) => Ok(output.into_string()),
            Some(Err(_)) if output.is_full => Err(RenderError {
                detail: format!("the message is longer than {} MiB", MAX_MESSAGE_BYTES >> 20),
                // A row's value can make it so; the template alone may not.
                is_template_defect: false,
            }),
            Some(Err(error)) => Err(render_error(&error)),
            None => Err(RenderError {
                detail: "the template engine failed on this message, as it does on an \
                         impossible argument such as `divisibleby(0)`"
                    .to_owned(),
                // The argument may be a row's value.
                is_template_defect: false,
            }),
        }
    }

    fn locate(&self, text: &str, error: &minijinja::Error) -> Diagnostic {
        let line = error.line().unwrap_or(1);
        let col = error
            .range()
            .and_then(|range| text.get(..range.start))
            .map(|before| before.len() - before.rfind('\n').map_or(0, |at| at + 1) + 1)
            .unwrap_or(1);
        let file_source = crate::text_file::read(&self.file).unwrap_or_default();
        let template_line = text.lines().nth(line.saturating_sub(1)).unwrap_or("");
        let line = self.first_line + line.saturating_sub(1);
        let col = file_column(&file_source, line, template_line, col);
        Diagnostic::error(
            &self.file,
            format!("template syntax error: {}", describe(error)),
        )
        .at(&file_source, line, col, 1)
        .with_hint("see https://docs.rs/minijinja for the template syntax")
    }

    /// The file the template is in.
    pub fn file(&self) -> &Path {
        &self.file
    }
}

fn render_error(error: &minijinja::Error) -> RenderError {
    RenderError {
        detail: describe(error),
        is_template_defect: is_template_defect(error),
    }
}

/// Whether `error` comes from the template's own text rather than from one row's values.
/// Running out of fuel counts too, and so does a `range` too large to build: no SMS needs
/// 200,000 instructions, so the loop is at fault. A too-large string can come from a row's value, so it stays a row problem.
fn is_template_defect(error: &minijinja::Error) -> bool {
    use minijinja::ErrorKind;

    match error.kind() {
        ErrorKind::SyntaxError
        | ErrorKind::TemplateNotFound
        | ErrorKind::BadInclude
        | ErrorKind::UnknownFilter
        | ErrorKind::UnknownTest
        | ErrorKind::UnknownFunction
        | ErrorKind::UnknownMethod
        | ErrorKind::UnknownBlock
        | ErrorKind::UndefinedError
        | ErrorKind::OutOfFuel => true,
        ErrorKind::InvalidOperation => error.detail().is_some_and(|detail| {
            detail.contains("recursion limit") || detail.contains("range has too many elements")
        }),
        _ => false,
    }
}

/// A minijinja error as one line: its kind's words, without the template dump.
fn describe(error: &minijinja::Error) -> String {
    match error.detail() {
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    }
}

/// Moves a 1-based column of `template_line` to the same character in line `file_line` of
/// the file: a block scalar indents the template, an inline one follows `text: "`. When the
/// file line does not hold the template line verbatim (escapes), the column stays as it is.
fn file_column(file_source: &str, file_line: usize, template_line: &str, col: usize) -> usize {
    let Some(text) = file_source.lines().nth(file_line.saturating_sub(1)) else {
        return col;
    };
    let text = text.trim_end_matches('\r');
    if template_line.is_empty() {
        return col;
    }

    let start = match text.ends_with(template_line) {
        true => Some(text.len() - template_line.len()),
        false => text.rfind(template_line),
    };
    match start {
        Some(start) => text[..start].chars().count() + col,
        None => col,
    }
}

/// The 0-based line and 1-based column where `name` is first used as an identifier.
fn find_identifier(text: &str, name: &str) -> Option<(usize, usize)> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    for (number, line) in text.lines().enumerate() {
        let mut from = 0;
        while let Some(found) = line[from..].find(name) {
            let start = from + found;
            let end = start + name.len();
            let before_ok = !line[..start].chars().next_back().is_some_and(is_ident);
            let after_ok = !line[end..].chars().next().is_some_and(is_ident);
            if before_ok && after_ok {
                return Some((number, line[..start].chars().count() + 1));
            }
            from = end;
        }
    }
    None
}

/// Where a message is written: refuses to grow past [`MAX_MESSAGE_BYTES`], which stops the
/// render with a write error.
#[derive(Debug, Default)]
struct CappedOutput {
    bytes: Vec<u8>,
    is_full: bool,
}

impl CappedOutput {
    fn into_string(self) -> String {
        // minijinja writes only `str`s, so the bytes are UTF-8.
        String::from_utf8(self.bytes)
            .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
    }
}

impl std::io::Write for CappedOutput {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + bytes.len() > MAX_MESSAGE_BYTES {
            self.is_full = true;
            return Err(std::io::ErrorKind::FileTooLarge.into());
        }
        self.bytes.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One row's data, looked up by column name without building a map per row.
#[derive(Debug)]
struct RowData {
    row: u64,
    headers: Arc<[String]>,
    fields: Vec<String>,
}

impl RowData {
    fn get(&self, name: &str) -> Option<&str> {
        let index = self.headers.iter().position(|header| header == name)?;
        self.fields.get(index).map(String::as_str)
    }
}

/// The render context: built-ins, then the row's columns, then campaign `vars`.
#[derive(Debug)]
struct Context {
    campaign: Value,
    vars: Arc<BTreeMap<String, Value>>,
    row: Option<RowData>,
}

impl Object for Context {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        match name {
            "campaign" => return Some(self.campaign.clone()),
            "row" => return self.row.as_ref().map(|row| Value::from(row.row)),
            "columns" => {
                return self
                    .row
                    .as_ref()
                    .map(|_| Value::from_object(Columns(Arc::clone(self))));
            }
            _ => {}
        }
        if let Some(value) = self.row.as_ref().and_then(|row| row.get(name)) {
            return Some(Value::from(value));
        }
        self.vars.get(name).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut keys: Vec<Value> = BUILTIN_VARIABLES
            .iter()
            .map(|name| Value::from(*name))
            .collect();
        if let Some(row) = &self.row {
            keys.extend(
                row.headers
                    .iter()
                    .map(|header| Value::from(header.as_str())),
            );
        }
        keys.extend(self.vars.keys().map(|name| Value::from(name.as_str())));
        Enumerator::Values(keys)
    }
}

/// `columns["First Name"]`: every CSV column, including names that are not identifiers.
#[derive(Debug)]
struct Columns(Arc<Context>);

impl Object for Columns {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let row = self.0.row.as_ref()?;
        row.get(key.as_str()?).map(Value::from)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match &self.0.row {
            Some(row) => Enumerator::Values(
                row.headers
                    .iter()
                    .map(|h| Value::from(h.as_str()))
                    .collect(),
            ),
            None => Enumerator::Empty,
        }
    }
}

/// The error for a template the engine parsed but could not compile.
fn uncompilable(source: &TemplateSource) -> Diagnostic {
    let file_source = crate::text_file::read(&source.file).unwrap_or_default();
    Diagnostic::error(
        &source.file,
        "template error: the template engine cannot compile this template",
    )
    .at(&file_source, source.first_line, 1, 1)
    .with_hint(
        "look for an unusual construct, such as a number after `as` in `{% import ... as 4 %}`: \
         only a name can be assigned to",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> TemplateSource {
        TemplateSource {
            text: text.to_owned(),
            file: PathBuf::from("c.yaml"),
            first_line: 5,
        }
    }

    fn vars() -> BTreeMap<String, serde_json::Value> {
        BTreeMap::from([("link".to_owned(), serde_json::json!("https://x.example"))])
    }

    // Found by fuzzing: a 95 MB message was written whole, then counted for ten seconds.
    #[test]
    fn a_message_past_the_cap_is_refused_for_its_length_as_a_row_problem() {
        let template = MessageTemplate::compile(&source("{{ 'h' * 17000000 }}"), "c", &vars())
            .expect("compiles");
        let error = template.render(None).expect_err("over 16 MiB");
        assert_eq!(error.detail, "the message is longer than 16 MiB");
        assert!(!error.is_template_defect);

        let at_cap = format!("{{{{ 'h' * {MAX_MESSAGE_BYTES} }}}}");
        let template = MessageTemplate::compile(&source(&at_cap), "c", &vars()).expect("compiles");
        assert_eq!(
            template.render(None).map(|text| text.len()),
            Ok(MAX_MESSAGE_BYTES)
        );
    }

    // Found by fuzzing: minijinja divides by the argument of `divisibleby` and panicked.
    #[test]
    fn an_engine_panic_is_a_row_error_not_a_crash() {
        let template =
            MessageTemplate::compile(&source("{{ 12 is divisibleby(0) }}"), "c", &vars())
                .expect("compiles");
        let error = template.render(None).expect_err("the engine panics");
        assert!(error.detail.contains("divisibleby(0)"), "{error}");
        assert!(!error.is_template_defect);

        let fine = MessageTemplate::compile(&source("{{ 12 is divisibleby(4) }}"), "c", &vars())
            .expect("compiles");
        assert_eq!(fine.render(None), Ok("True".to_owned()));
    }

    #[test]
    fn renders_row_columns_over_vars_and_strips_the_trailing_newline() {
        let template = MessageTemplate::compile(
            &source("Hi {{ first_name }} {{ link }} #{{ row }}\n"),
            "c",
            &vars(),
        )
        .expect("compiles");
        let headers: Arc<[String]> = Arc::from(vec!["first_name".to_owned(), "link".to_owned()]);
        let fields = vec!["Ana".to_owned(), "https://row.example".to_owned()];
        let text = template
            .render(Some(RowValues {
                row: 3,
                headers: &headers,
                fields,
            }))
            .expect("renders");
        assert_eq!(text, "Hi Ana https://row.example #3");
    }

    #[test]
    fn column_names_with_spaces_are_reachable() {
        let template =
            MessageTemplate::compile(&source("{{ columns['First Name'] }}"), "c", &vars())
                .expect("compiles");
        let headers: Arc<[String]> = Arc::from(vec!["First Name".to_owned()]);
        let fields = vec!["Bo".to_owned()];
        let text = template.render(Some(RowValues {
            row: 1,
            headers: &headers,
            fields,
        }));
        assert_eq!(text.as_deref(), Ok("Bo"));
    }

    #[test]
    fn unknown_variables_are_named_with_their_line() {
        let src = source("Hi {{ first_name }}\n{{ linkk }}");
        let template = MessageTemplate::compile(&src, "c", &vars()).expect("compiles");
        let problems = template.unknown_variables(&["first_name".to_owned()], &src);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].span.map(|s| (s.line, s.col)), Some((6, 4)));
        assert_eq!(problems[0].hint.as_deref(), Some("did you mean `link`?"));
    }

    #[test]
    fn syntax_errors_point_into_the_file() {
        let error =
            MessageTemplate::compile(&source("ok\n{{ broken"), "c", &vars()).expect_err("fails");
        assert_eq!(error.span.map(|s| s.line), Some(6));
    }

    #[test]
    fn columns_count_from_the_file_line() {
        let file = "message:\n  text: \"Hi {{ x }}\"\n  block: |\n    a {{ y }}\n";
        assert_eq!(file_column(file, 2, "Hi {{ x }}", 7), 16);
        assert_eq!(file_column(file, 4, "a {{ y }}", 6), 10);
        assert_eq!(file_column(file, 4, "not there", 3), 3);
        assert_eq!(file_column("", 1, "a", 2), 2);
    }

    #[test]
    // Regression: `range` and the other minijinja globals were reported as unknown variables.
    fn minijinja_globals_are_not_unknown_variables() {
        let src = source("{% for i in range(2) %}{{ i }}{% endfor %}{{ dict(a=1).a }}");
        let template = MessageTemplate::compile(&src, "c", &vars()).expect("compiles");
        assert!(template.unknown_variables(&[], &src).is_empty());
    }

    #[test]
    fn endless_loops_run_out_of_fuel() {
        let template = MessageTemplate::compile(
            &source(
                "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            ),
            "c",
            &vars(),
        )
        .expect("compiles");
        assert!(template.render(None).is_err());
    }
}
