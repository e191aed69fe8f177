//! The `message` section: where the text comes from, the media, the segment limit, and
//! whether it is a private comment.
//!
//! Reads a `template:` file (relative to the campaign file's folder) so later stages hold
//! its text; renders nothing and counts no segments: that is the renderer's job.

use std::path::Path;

use url::{Host, Url};

use super::problems::{At, Problems};
use crate::campaign::raw::RawMessage;
use crate::campaign::{Content, DEFAULT_MAX_SEGMENTS, MessageSpec, TemplateSource};

/// The keys a message's content may come from, at most one of them.
const SOURCES: [&str; 3] = ["text", "template", "template_id"];

/// Validates the `message` section. `is_csv_audience` is `None` when the audience is invalid.
pub(super) fn build(
    raw: RawMessage,
    is_csv_audience: Option<bool>,
    folder: &Path,
    problems: &mut Problems,
) -> Option<MessageSpec> {
    let media_url = raw
        .media_url
        .as_deref()
        .map(|text| media_url(text, problems));
    let content = content(&raw, media_url.is_some(), folder, problems);
    let max_segments = max_segments(raw.max_segments, problems);

    let private = raw.private.unwrap_or(false);
    if private && is_csv_audience == Some(false) {
        let message = "`message.private` needs a `recipients` audience";
        problems
            .error(&["message", "private"], At::Key, message)
            .hint(
                "a private comment goes inside an existing conversation: \
                 use a `recipients` CSV with a `chat_id` column",
            );
    }

    Some(MessageSpec {
        content: content?,
        media_url: media_url.flatten(),
        private,
        max_segments: max_segments?,
    })
}

fn content(
    raw: &RawMessage,
    has_media: bool,
    folder: &Path,
    problems: &mut Problems,
) -> Option<Content> {
    let given: Vec<&str> = SOURCES
        .into_iter()
        .filter(|key| match *key {
            "text" => raw.text.is_some(),
            "template" => raw.template.is_some(),
            _ => raw.template_id.is_some(),
        })
        .collect();

    match given.as_slice() {
        [] if has_media => Some(Content::MediaOnly),
        [] if is_content_reported(problems) => None,
        [] => {
            let hint = "add `text:`, `template:` or `template_id:` (or a `media_url` alone)";
            problems
                .error(&["message"], At::Key, "`message` has no content")
                .hint(hint);
            None
        }
        [_] => single_source(raw, folder, problems),
        [first, second, ..] => {
            problems
                .error(
                    &["message", second],
                    At::Key,
                    format!("`message` has both `{first}` and `{second}`"),
                )
                .hint("a message comes from one source: keep one of them");
            None
        }
    }
}

/// Whether a content key was already reported (so "no content" would be noise).
fn is_content_reported(problems: &Problems) -> bool {
    let keys = SOURCES.iter().chain(&["media_url"]);
    keys.into_iter()
        .any(|key| problems.is_reported(&["message", key]))
}

fn single_source(raw: &RawMessage, folder: &Path, problems: &mut Problems) -> Option<Content> {
    if let Some(id) = raw.template_id {
        return Some(Content::TemplateId(id.get()));
    }
    if let Some(text) = &raw.text {
        if text.trim().is_empty() {
            let hint = "write the message, or leave `text` out for a `media_url` alone";
            problems
                .error(&["message", "text"], At::Key, "`message.text` is empty")
                .hint(hint);
            return None;
        }
        let first_line = problems
            .spot(&["message", "text"])
            .map_or(1, |spot| spot.content_line);
        return Some(Content::Template(TemplateSource {
            text: text.clone(),
            file: problems.file.to_path_buf(),
            first_line,
        }));
    }
    let name = raw.template.as_deref()?;
    template_file(name, folder, problems).map(Content::Template)
}

fn template_file(name: &str, folder: &Path, problems: &mut Problems) -> Option<TemplateSource> {
    let file = folder.join(name);
    match crate::text_file::read(&file) {
        Ok(text) => Some(TemplateSource {
            text,
            file,
            first_line: 1,
        }),
        Err(err) => {
            problems
                .error(
                    &["message", "template"],
                    At::Value,
                    format!("cannot read template `{}`: {err}", file.display()),
                )
                .hint(template_read_hint(&err));
            None
        }
    }
}

/// The fix for a template file that cannot be read, by what went wrong.
fn template_read_hint(error: &std::io::Error) -> &'static str {
    match error.kind() {
        std::io::ErrorKind::InvalidData => "a template is UTF-8 text: save it as UTF-8",
        std::io::ErrorKind::FileTooLarge => {
            "a template is one message's text: check `message.template` names the file you meant"
        }
        _ => "the path is relative to the campaign file's folder",
    }
}

/// A public `https` URL Heymarket can fetch, or `None` after noting why not.
fn media_url(text: &str, problems: &mut Problems) -> Option<Url> {
    let path = ["message", "media_url"];
    let refusal = match Url::parse(text) {
        Err(err) => Some(format!("`message.media_url` is not a URL: {err}")),
        Ok(url) => media_refusal(&url),
    };
    match refusal {
        None => Url::parse(text).ok(),
        Some(message) => {
            let hint = "Heymarket fetches the media itself: give a public `https://` address";
            problems.error(&path, At::Value, message).hint(hint);
            None
        }
    }
}

/// Why Heymarket could not fetch this URL, if it could not.
fn media_refusal(url: &Url) -> Option<String> {
    if url.scheme() != "https" {
        return Some(format!(
            "`message.media_url` must use `https`, found `{}`",
            url.scheme()
        ));
    }
    match url.host() {
        None => Some("`message.media_url` has no host".to_owned()),
        Some(Host::Ipv4(_) | Host::Ipv6(_)) => {
            Some("`message.media_url` must name a host, not an IP address".to_owned())
        }
        Some(Host::Domain(domain)) if is_private_domain(domain) => Some(format!(
            "`message.media_url` host `{domain}` is not reachable from the internet"
        )),
        Some(Host::Domain(_)) => None,
    }
}

fn is_private_domain(domain: &str) -> bool {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let private_suffix = [".localhost", ".local", ".internal"]
        .iter()
        .any(|suffix| domain.ends_with(suffix));
    domain == "localhost" || private_suffix || !domain.contains('.')
}

fn max_segments(raw: Option<u32>, problems: &mut Problems) -> Option<u32> {
    let count = raw.unwrap_or(DEFAULT_MAX_SEGMENTS);
    if (1..=DEFAULT_MAX_SEGMENTS).contains(&count) {
        return Some(count);
    }
    problems
        .error(
            &["message", "max_segments"],
            At::Value,
            format!(
                "`message.max_segments` must be from 1 to {DEFAULT_MAX_SEGMENTS}, found `{count}`"
            ),
        )
        .hint("carriers reject texts longer than 10 segments");
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use super::*;

    fn refusal(text: &str) -> Option<String> {
        media_refusal(&Url::parse(text).unwrap())
    }

    #[test]
    fn accepts_public_https_hosts() {
        assert_eq!(refusal("https://cdn.example.com/a.jpg"), None);
    }

    #[test]
    fn refuses_addresses_heymarket_cannot_reach() {
        for url in [
            "http://cdn.example.com/a.jpg",
            "https://localhost/a.jpg",
            "https://printer.local/a.jpg",
            "https://cdn.corp.internal/a.jpg",
            "https://127.0.0.1/a.jpg",
            "https://[::1]/a.jpg",
            "https://10.0.0.8/a.jpg",
            "https://intranet/a.jpg",
        ] {
            assert!(refusal(url).is_some(), "{url}");
        }
    }
}
