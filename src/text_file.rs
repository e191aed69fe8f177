//! Reading the text files a user names and the tool reads whole: campaign files, message
//! templates, sandbox fixtures. Each read is capped, so a path such as `/dev/zero`, or a
//! file that is not what it was meant to be, ends in an error instead of filling memory.
//! Recipient CSVs and suppression lists are streamed row by row and do not come here.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The largest text file read whole: far above any real campaign file or template (a
/// message is at most 10 segments), far below what would strain memory.
pub const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// Reads the UTF-8 text file at `path`, refusing one over [`MAX_BYTES`] with
/// [`io::ErrorKind::FileTooLarge`] and one that is not UTF-8 with
/// [`io::ErrorKind::InvalidData`], worded as [`std::fs::read_to_string`] words it.
pub fn read(path: &Path) -> io::Result<String> {
    let mut bytes = Vec::new();
    File::open(path)?
        .take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_BYTES {
        let message = format!("the file is larger than {} MiB", MAX_BYTES >> 20);
        return Err(io::Error::new(io::ErrorKind::FileTooLarge, message));
    }
    String::from_utf8(bytes).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_text_file_whole() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("a.txt");
        std::fs::write(&path, "Hi {{ name }}\n").unwrap();
        assert_eq!(read(&path).unwrap(), "Hi {{ name }}\n");
    }

    #[test]
    fn refuses_a_file_over_the_cap_without_reading_it_all() {
        let error = read(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(error.to_string(), "the file is larger than 16 MiB");
    }

    #[test]
    fn refuses_bytes_that_are_not_utf8_as_std_does() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("a.txt");
        std::fs::write(&path, b"caf\xe9").unwrap();
        let ours = read(&path).unwrap_err();
        let std = std::fs::read_to_string(&path).unwrap_err();
        assert_eq!(ours.kind(), std.kind());
        assert_eq!(ours.to_string(), std.to_string());
    }
}
