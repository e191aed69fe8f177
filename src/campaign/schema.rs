//! The JSON Schema of the campaign file, generated from [`super::raw`].
//!
//! Editors read the committed copy (`schemas/campaign.schema.json`) through the
//! `yaml-language-server` comment at the top of a campaign file. The schema describes shape
//! only; `load` remains the judge of what a file means.

use serde_json::{Map, Value};

use super::raw::RawCampaign;

/// The campaign file's JSON Schema as a JSON value.
pub fn campaign_schema() -> Value {
    let mut schema = schemars::schema_for!(RawCampaign).to_value();
    drop_null(&mut schema);
    schema
}

/// The schema as pretty JSON with a trailing newline, as committed.
pub fn schema_json() -> String {
    let mut text =
        serde_json::to_string_pretty(&campaign_schema()).unwrap_or_else(|_| String::from("{}"));
    text.push('\n');
    text
}

/// Removes the `null` that every optional key would otherwise also allow: a key left out is
/// how a file asks for the default, and `load` refuses `key: null` with a clear message.
fn drop_null(value: &mut Value) {
    match value {
        Value::Object(object) => {
            object.values_mut().for_each(drop_null);
            drop_null_type(object);
            drop_null_alternative(object);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null),
        _ => {}
    }
}

/// `"type": ["string", "null"]` becomes `"type": "string"`.
fn drop_null_type(object: &mut Map<String, Value>) {
    let Some(Value::Array(types)) = object.get_mut("type") else {
        return;
    };
    types.retain(|kind| kind != "null");
    if let [single] = types.as_slice() {
        let single = single.clone();
        object.insert("type".to_owned(), single);
    }
}

/// `"anyOf": [{"$ref": ...}, {"type": "null"}]` becomes the `$ref` alone.
fn drop_null_alternative(object: &mut Map<String, Value>) {
    let Some(Value::Array(choices)) = object.get_mut("anyOf") else {
        return;
    };
    choices.retain(|choice| choice.get("type").is_none_or(|kind| kind != "null"));
    if let [Value::Object(single)] = choices.as_slice() {
        let single = single.clone();
        object.remove("anyOf");
        object.extend(single);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use super::*;

    #[test]
    fn marks_the_required_keys() {
        let schema = campaign_schema();
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|key| key.as_str())
            .collect();
        assert_eq!(
            required,
            ["version", "name", "inbox", "creator", "audience", "message"]
        );
    }

    #[test]
    fn forbids_unknown_keys() {
        assert_eq!(campaign_schema()["additionalProperties"], false);
    }

    #[test]
    fn optional_keys_do_not_invite_null() {
        let schema = schema_json();
        assert!(!schema.contains("\"null\""), "{schema}");
    }

    #[test]
    fn ends_with_a_newline() {
        assert!(schema_json().ends_with("}\n"));
    }
}
