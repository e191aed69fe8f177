//! The committed JSON Schema must be exactly what the code generates, or editors check
//! campaign files against rules the loader no longer has.

use std::path::Path;

#[test]
fn committed_schema_matches_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/campaign.schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = campaign::campaign::schema::schema_json();

    assert!(
        committed == generated,
        "{} is out of date with src/campaign/raw.rs: run \
         `campaign schema > schemas/campaign.schema.json` and commit the result",
        path.display()
    );
}
