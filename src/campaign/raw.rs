//! Placeholder for the campaign file's `raw` stage.
