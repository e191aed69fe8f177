//! Placeholder for the campaign file's `schema` stage.
