//! `campaign schema`: the campaign file's JSON Schema, for editors and CI.

use crate::exit::Exit;

pub fn run() -> anyhow::Result<Exit> {
    print!("{}", crate::campaign::schema::schema_json());
    Ok(Exit::Success)
}
