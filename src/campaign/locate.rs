//! Where each key and value of a campaign file is written, so diagnostics can point at it.
//!
//! `serde_yaml` tells what a document means but not where its parts are; this module walks
//! the same text with `yaml-rust2`'s event parser and records, for every key path
//! (`["audience", "recipients"]`, `["audience", "group", "2"]`), the 1-based position of
//! the key and of its value. It also notices a key written twice in one mapping. It never
//! judges whether a key or value is valid: that is `load`'s job.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub col: usize,
}

/// Where one key and its value are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spot {
    /// The key; for a list item, the item itself.
    pub key: Position,
    /// The key's width in characters, quotes included.
    pub key_len: usize,
    pub value: Position,
    /// The value's width for a one-line scalar, 0 when unknown (mappings, lists, block text).
    pub value_len: usize,
    /// The line a scalar's text starts on: for a block scalar (`|`, `>`), its first line below.
    pub content_line: usize,
}

/// A key written a second time in the same mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    pub path: Vec<String>,
    /// Where the repeated key is.
    pub at: Position,
    pub len: usize,
    /// The line of the first occurrence.
    pub first_line: usize,
}

/// The text is not YAML `yaml-rust2` can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid YAML at line {line} column {col}: {message}")]
pub struct LocateError {
    pub message: String,
    pub line: usize,
    pub col: usize,
}

/// Positions of every key and value of one document.
#[derive(Debug, Clone, Default)]
pub struct Locations {
    spots: HashMap<Vec<String>, Spot>,
    duplicates: Vec<Duplicate>,
}

impl Locations {
    /// Reads `source` and records where each key path is written.
    pub fn scan(source: &str) -> Result<Locations, LocateError> {
        let mut builder = Builder::default();
        Parser::new_from_str(source)
            .load(&mut builder, false)
            .map_err(|err| LocateError {
                message: err.info().to_owned(),
                line: err.marker().line(),
                col: err.marker().col() + 1,
            })?;

        Ok(Locations {
            spots: builder.spots,
            duplicates: builder.duplicates,
        })
    }

    /// The spot of a key path; list items are named by their 0-based index.
    pub fn get<S: AsRef<str>>(&self, path: &[S]) -> Option<&Spot> {
        let key: Vec<String> = path.iter().map(|part| part.as_ref().to_owned()).collect();
        self.spots.get(&key)
    }

    /// Every key written twice in one mapping, in file order.
    pub fn duplicates(&self) -> &[Duplicate] {
        &self.duplicates
    }
}

/// The container the parser is inside.
enum Frame {
    Mapping {
        path: Vec<String>,
        /// The key just read, waiting for its value.
        key: Option<(String, Position, usize)>,
        seen: HashMap<String, usize>,
    },
    Sequence {
        path: Vec<String>,
        next: usize,
    },
}

/// A node that is a key or a value.
enum Node {
    Scalar { text: String, style: TScalarStyle },
    Container,
    Other,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    spots: HashMap<Vec<String>, Spot>,
    duplicates: Vec<Duplicate>,
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let at = Position {
            line: mark.line(),
            col: mark.col() + 1,
        };
        match event {
            Event::Scalar(text, style, _, _) => {
                self.node(Node::Scalar { text, style }, at);
            }
            Event::Alias(_) => {
                self.node(Node::Other, at);
            }
            Event::MappingStart(..) => {
                let path = self.node(Node::Container, at);
                self.stack.push(Frame::Mapping {
                    path,
                    key: None,
                    seen: HashMap::new(),
                });
            }
            Event::SequenceStart(..) => {
                let path = self.node(Node::Container, at);
                self.stack.push(Frame::Sequence { path, next: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

impl Builder {
    /// Records a node as a key or a value and returns the path a container opened here has.
    fn node(&mut self, node: Node, at: Position) -> Vec<String> {
        let Some(frame) = self.stack.last_mut() else {
            return Vec::new();
        };

        let (name, key_at, key_len) = match frame {
            Frame::Mapping { key, path, .. } => match key.take() {
                Some(read) => read,
                None => {
                    let name = match &node {
                        Node::Scalar { text, .. } => text.clone(),
                        _ => "?".to_owned(),
                    };
                    *key = Some((name, at, node_len(&node)));
                    // Only a container used as a key (rare, never valid here) opens below.
                    return child_path(path, "?");
                }
            },
            Frame::Sequence { next, .. } => {
                *next += 1;
                ((*next - 1).to_string(), at, 0)
            }
        };
        let path = match frame {
            Frame::Mapping { path, .. } | Frame::Sequence { path, .. } => child_path(path, &name),
        };

        let spot = Spot {
            key: key_at,
            key_len,
            value: at,
            value_len: node_len(&node),
            content_line: content_line(&node, at),
        };
        self.remember(&path, spot);
        path
    }

    /// Stores a spot, or a duplicate when its key was already seen in this mapping.
    fn remember(&mut self, path: &[String], spot: Spot) {
        let Some(Frame::Mapping { seen, .. }) = self.stack.last_mut() else {
            self.spots.insert(path.to_vec(), spot);
            return;
        };

        let name = path.last().cloned().unwrap_or_default();
        match seen.get(&name) {
            Some(&first_line) => self.duplicates.push(Duplicate {
                path: path.to_vec(),
                at: spot.key,
                len: spot.key_len,
                first_line,
            }),
            None => {
                seen.insert(name, spot.key.line);
                self.spots.insert(path.to_vec(), spot);
            }
        }
    }
}

/// A parent's path with one more part.
fn child_path(parent: &[String], name: &str) -> Vec<String> {
    let mut path = parent.to_vec();
    path.push(name.to_owned());
    path
}

/// The width of a one-line scalar as written, quotes included.
fn node_len(node: &Node) -> usize {
    match node {
        Node::Scalar { text, style } if !text.contains('\n') => match style {
            TScalarStyle::Plain => text.chars().count(),
            TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => text.chars().count() + 2,
            _ => 1,
        },
        _ => 0,
    }
}

/// The line a scalar's text starts on.
fn content_line(node: &Node, at: Position) -> usize {
    match node {
        // The parser marks a block scalar at its first non-blank line; the text keeps one
        // newline per blank line above it.
        Node::Scalar {
            text,
            style: TScalarStyle::Literal | TScalarStyle::Folded,
        } => {
            let blank_lines = text.chars().take_while(|c| *c == '\n').count();
            at.line.saturating_sub(blank_lines)
        }
        _ => at.line,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use super::*;

    const SOURCE: &str = "\
version: 1
audience:
  group: [\"15105553344\", '15105553345']
message:
  text: |
    Hi {{ name }}
  media_url: https://cdn.example.com/a.jpg
";

    #[test]
    fn records_keys_and_values_one_based() {
        let locations = Locations::scan(SOURCE).unwrap();
        let spot = locations.get(&["message", "media_url"]).unwrap();
        assert_eq!(spot.key, Position { line: 7, col: 3 });
        assert_eq!(spot.key_len, 9);
        assert_eq!(spot.value, Position { line: 7, col: 14 });
        assert_eq!(spot.value_len, 29);
    }

    #[test]
    fn names_list_items_by_index() {
        let locations = Locations::scan(SOURCE).unwrap();
        let spot = locations.get(&["audience", "group", "1"]).unwrap();
        assert_eq!(spot.value, Position { line: 3, col: 26 });
        assert_eq!(spot.value_len, 13);
        assert!(locations.get(&["audience", "group", "2"]).is_none());
    }

    #[test]
    fn block_scalar_content_starts_on_the_next_line() {
        let locations = Locations::scan(SOURCE).unwrap();
        let spot = locations.get(&["message", "text"]).unwrap();
        assert_eq!(spot.key.line, 5);
        assert_eq!(spot.content_line, 6);
    }

    #[test]
    fn block_scalar_content_counts_leading_blank_lines() {
        let locations = Locations::scan("text: |\n\n  two\n").unwrap();
        assert_eq!(locations.get(&["text"]).unwrap().content_line, 2);
    }

    #[test]
    fn notices_a_key_written_twice() {
        let locations = Locations::scan("name: a\ninbox: 1\nname: b\n").unwrap();
        let duplicate = &locations.duplicates()[0];
        assert_eq!(duplicate.path, ["name"]);
        assert_eq!(duplicate.at, Position { line: 3, col: 1 });
        assert_eq!(duplicate.first_line, 1);
    }

    #[test]
    fn reports_where_the_yaml_breaks() {
        let err = Locations::scan("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.line >= 1, "{err}");
    }
}
