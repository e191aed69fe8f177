//! Where a campaign's state lives on disk, and who may read it.
//!
//! State sits in `state_dir/<campaign>/`, a folder made `0700` with files made `0600`: the
//! journal holds phone numbers and message outcomes. This module names and creates those
//! paths; what goes in the files is the journal's and the lock's business.

use std::fs::{DirBuilder, OpenOptions};
use std::path::{Component, Path, PathBuf};

use super::StateError;

/// The `0600` options every journal file is opened with: read, write, create, keep content.
pub(super) fn private_file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// `state_dir/<campaign>`, refusing a name that is not one plain folder name.
pub(super) fn campaign_dir(state_dir: &Path, campaign: &str) -> Result<PathBuf, StateError> {
    let mut parts = Path::new(campaign).components();
    let is_plain = matches!(
        (parts.next(), parts.next()),
        (Some(Component::Normal(name)), None) if name == campaign
    );
    if !is_plain {
        return Err(StateError::Io {
            path: state_dir.join(campaign).display().to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "a campaign name must be a single folder name",
            ),
        });
    }
    Ok(state_dir.join(campaign))
}

/// Makes `dir` (and missing parents) with mode `0700`, and narrows `dir` to it if it existed.
pub(super) fn create_private_dir(dir: &Path) -> Result<(), StateError> {
    let io_error = |source| StateError::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(io_error)?;

    restrict(dir, 0o700).map_err(io_error)
}

/// Sets the permission bits of `path` (a no-op where there are none).
pub(super) fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_campaign_name_must_be_one_plain_folder() {
        let root = Path::new("/state");

        assert!(campaign_dir(root, "spring-sale").is_ok());
        for bad in ["", "..", "a/b", "/abs", "."] {
            assert!(campaign_dir(root, bad).is_err(), "{bad:?} was accepted");
        }
    }
}
