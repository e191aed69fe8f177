//! Placeholder for the campaign file's `locate` stage.
