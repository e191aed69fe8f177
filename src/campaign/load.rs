//! Turning a raw campaign file into a validated [`super::Campaign`].
