//! One module per subcommand: argument parsing and the edge where errors meet the user.

pub mod sandbox;
