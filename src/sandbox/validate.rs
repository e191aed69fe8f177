//! The rules a `POST /v1/message/send` body must pass, checked in the order a client would
//! want to hear about them: JSON shape, field combinations, references, then contacts.
//!
//! Every refusal names the field at fault. Where Heymarket's behaviour is unknown the
//! stricter choice is made (unknown fields, `text` with `template_id`, one-number groups are
//! refused) and listed in `docs/sandbox.md`. This module only judges a request; it never
//! records one.

use serde_json::Value;

use super::fixtures::{Fixtures, is_e164_digits};
use super::reply::ApiError;
use crate::heymarket::types::{SendRequest, is_toll_free};

/// Fields that must be present and not null.
const REQUIRED_FIELDS: [&str; 2] = ["inbox_id", "creator_id"];

/// Parses a send body, naming the field of the first unknown, missing or mistyped value.
pub fn parse_send(body: &[u8]) -> Result<SendRequest, ApiError> {
    // The direct parse is the fast path. Its errors do not name the field, so a body it
    // refuses is read again, field by field, only to say which one is wrong.
    serde_json::from_slice(body).map_err(|error| explain_refusal(body, &error))
}

/// Names the field at fault in a body the direct parse refused.
fn explain_refusal(body: &[u8], error: &serde_json::Error) -> ApiError {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(_) => return ApiError::bad_data("body", format!("body is not valid JSON: {error}")),
    };
    let Value::Object(map) = value else {
        return ApiError::bad_data("body", "body must be a JSON object");
    };

    for (field, value) in &map {
        if let Err(refusal) = check_type(field, value) {
            return refusal;
        }
    }
    for field in REQUIRED_FIELDS {
        if map.get(field).is_none_or(Value::is_null) {
            return ApiError::bad_data(field, format!("`{field}` is required"));
        }
    }
    // What is left is something like a repeated key: refused, though no field is to blame.
    ApiError::bad_data("body", error.to_string())
}

/// Checks a parsed request against the documented rules and the fixtures.
pub fn check_send(request: &SendRequest, fixtures: &Fixtures) -> Result<(), ApiError> {
    check_target_family(request)?;
    check_content(request)?;
    check_numbers(request)?;
    check_references(request, fixtures)?;
    check_contacts(request, fixtures)
}

/// Checks one field's JSON type; a field the API does not document is refused.
fn check_type(field: &str, value: &Value) -> Result<(), ApiError> {
    let is_ok = match field {
        "inbox_id" | "creator_id" | "chat_id" | "list_id" | "template_id" => {
            value.is_u64() || value.is_null()
        }
        "phone_number" | "text" | "media_url" | "local_id" => value.is_string() || value.is_null(),
        "targets" => {
            value.is_null()
                || value
                    .as_array()
                    .is_some_and(|a| a.iter().all(Value::is_string))
        }
        "private" => value.is_boolean() || value.is_null(),
        _ => {
            return Err(ApiError::bad_data(
                field,
                format!("unknown field `{field}`"),
            ));
        }
    };
    let expected = match field {
        "targets" => "an array of strings",
        "private" => "a boolean",
        "phone_number" | "text" | "media_url" | "local_id" => "a string",
        _ => "a non-negative integer",
    };
    if is_ok {
        Ok(())
    } else {
        Err(ApiError::bad_data(
            field,
            format!("`{field}` must be {expected}"),
        ))
    }
}

fn check_target_family(request: &SendRequest) -> Result<(), ApiError> {
    if request.phone_number.is_some() && request.chat_id.is_some() {
        return Err(ApiError::bad_data(
            "chat_id",
            "`phone_number` and `chat_id` cannot both be set",
        ));
    }

    let direct = request.phone_number.is_some() || request.chat_id.is_some();
    let families = [
        (direct, "phone_number"),
        (request.list_id.is_some(), "list_id"),
        (request.targets.is_some(), "targets"),
    ];
    let set: Vec<&str> = families
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, f)| *f)
        .collect();
    match set.as_slice() {
        [] => Err(ApiError::bad_data(
            "phone_number",
            "a target is required: `phone_number`, `chat_id`, `list_id` or `targets`",
        )),
        [_] => check_family_rules(request),
        [first, second, ..] => Err(ApiError::bad_data(
            second,
            format!("`{second}` cannot be combined with `{first}`: one target family per send"),
        )),
    }
}

fn check_family_rules(request: &SendRequest) -> Result<(), ApiError> {
    if request.list_id.is_some() && request.local_id.is_none() {
        return Err(ApiError::bad_data(
            "local_id",
            "a list broadcast requires `local_id`",
        ));
    }
    if request.private && request.chat_id.is_none() {
        return Err(ApiError::bad_data(
            "private",
            "`private` is only allowed inside an existing conversation (`chat_id`)",
        ));
    }
    if request.local_id.as_deref().is_some_and(str::is_empty) {
        return Err(ApiError::bad_data("local_id", "`local_id` is empty"));
    }
    Ok(())
}

fn check_content(request: &SendRequest) -> Result<(), ApiError> {
    let text = request.text.as_deref();
    if text.is_some_and(|t| t.trim().is_empty()) {
        return Err(ApiError::bad_data("text", "`text` is empty"));
    }
    if text.is_some() && request.template_id.is_some() {
        return Err(ApiError::bad_data(
            "template_id",
            "`template_id` cannot be combined with `text`: the template is the text",
        ));
    }
    if text.is_none() && request.template_id.is_none() && request.media_url.is_none() {
        return Err(ApiError::bad_data(
            "text",
            "content is required: `text`, `template_id` or `media_url`",
        ));
    }
    match request.media_url.as_deref() {
        Some(media) if !is_web_url(media) => Err(ApiError::bad_data(
            "media_url",
            format!("`{media}` is not an http(s) URL"),
        )),
        _ => Ok(()),
    }
}

fn check_numbers(request: &SendRequest) -> Result<(), ApiError> {
    if let Some(phone) = &request.phone_number {
        check_number("phone_number", phone)?;
    }
    let Some(targets) = &request.targets else {
        return Ok(());
    };
    if targets.len() < 2 {
        return Err(ApiError::bad_data(
            "targets",
            "a group needs at least two numbers; use `phone_number` for one",
        ));
    }
    for (index, target) in targets.iter().enumerate() {
        check_number("targets", target)?;
        if targets[..index].contains(target) {
            return Err(ApiError::bad_data(
                "targets",
                format!("`{target}` appears twice"),
            ));
        }
    }
    Ok(())
}

fn check_number(field: &str, number: &str) -> Result<(), ApiError> {
    if is_e164_digits(number) {
        return Ok(());
    }
    Err(ApiError::bad_data(
        field,
        format!("`{number}` is not a phone number as E.164 digits without `+` (like 15105553344)"),
    ))
}

fn check_references(request: &SendRequest, fixtures: &Fixtures) -> Result<(), ApiError> {
    let Some(inbox) = fixtures.inbox(request.inbox_id) else {
        let message = format!("unknown inbox `{}`", request.inbox_id);
        return Err(ApiError::bad_data("inbox_id", message));
    };
    if !fixtures.is_team_member(request.creator_id) {
        let message = format!("unknown team member `{}`", request.creator_id);
        return Err(ApiError::bad_data("creator_id", message));
    }
    if !inbox.members.contains(&request.creator_id) {
        let message = format!(
            "member `{}` is not a member of inbox `{}`",
            request.creator_id, inbox.id
        );
        return Err(ApiError::denied("creator_id", message));
    }

    if let Some(chat_id) = request.chat_id {
        match fixtures.conversation(chat_id) {
            None => {
                return Err(ApiError::bad_data(
                    "chat_id",
                    format!("unknown chat `{chat_id}`"),
                ));
            }
            Some(chat) if chat.inbox_id != inbox.id => {
                let message = format!("chat `{chat_id}` is not in inbox `{}`", inbox.id);
                return Err(ApiError::bad_data("chat_id", message));
            }
            Some(_) => {}
        }
    }
    if let Some(list_id) = request.list_id.filter(|id| fixtures.list(*id).is_none()) {
        return Err(ApiError::bad_data(
            "list_id",
            format!("unknown list `{list_id}`"),
        ));
    }
    if let Some(template_id) = request
        .template_id
        .filter(|id| fixtures.template(*id).is_none())
    {
        let message = format!("unknown template `{template_id}`");
        return Err(ApiError::bad_data("template_id", message));
    }
    if request.targets.is_some() && is_toll_free(&inbox.phone) {
        return Err(ApiError::denied(
            "targets",
            "group messages (`targets`) are not allowed from a toll-free number",
        ));
    }
    Ok(())
}

/// Opted-out and blocked contacts are refused. A private comment never reaches the contact
/// and a list broadcast skips such members when it fans out, so neither is refused here.
fn check_contacts(request: &SendRequest, fixtures: &Fixtures) -> Result<(), ApiError> {
    let chat_phone = request
        .chat_id
        .filter(|_| !request.private)
        .and_then(|id| fixtures.conversation(id))
        .map(|chat| ("chat_id", chat.phone.as_str()));
    let direct = request.phone_number.as_deref().map(|p| ("phone_number", p));
    let group = request
        .targets
        .iter()
        .flatten()
        .map(|p| ("targets", p.as_str()));

    for (field, phone) in direct.into_iter().chain(chat_phone).chain(group) {
        if fixtures.is_unsubscribed(phone) {
            let message = format!("contact `{phone}` has unsubscribed (opted out)");
            return Err(ApiError::denied(field, message));
        }
        if fixtures.is_blocked(phone) {
            return Err(ApiError::denied(
                field,
                format!("contact `{phone}` is blocked"),
            ));
        }
    }
    Ok(())
}

fn is_web_url(text: &str) -> bool {
    url::Url::parse(text)
        .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Checks a valid text send with `patch` applied (a `null` removes a field).
    fn check(patch: Value) -> Result<SendRequest, ApiError> {
        let mut body = json!({
            "inbox_id": 42, "creator_id": 8, "phone_number": "15105550101", "text": "hi"
        });
        for (key, value) in patch.as_object().expect("patch object") {
            body[key] = value.clone();
        }
        let request = parse_send(body.to_string().as_bytes())?;
        check_send(&request, &Fixtures::default())?;
        Ok(request)
    }

    fn refusal(patch: Value) -> (u16, String) {
        let error = check(patch.clone()).expect_err("refused");
        let field = error.field().unwrap_or_default().to_owned();
        (error.status().as_u16(), field)
    }

    #[test]
    fn a_plain_text_send_passes() {
        assert!(check(json!({})).is_ok());
    }

    #[test]
    fn shape_errors_name_their_field() {
        let cases = [
            (json!({"inbox_id": null}), "inbox_id"),
            (json!({"text": null}), "text"),
            (json!({"phone_number": "+15105550101"}), "phone_number"),
            (json!({"color": 1}), "color"),
            (json!({"phone_number": null, "list_id": 501}), "local_id"),
            (json!({"chat_id": 9001}), "chat_id"),
            (json!({"list_id": 501, "local_id": "a"}), "list_id"),
            (json!({"private": true}), "private"),
            (json!({"inbox_id": "42"}), "inbox_id"),
            (json!({"template_id": 123}), "template_id"),
        ];
        for (patch, field) in cases {
            assert_eq!(refusal(patch.clone()), (400, field.to_owned()), "{patch}");
        }
    }

    #[test]
    fn a_repeated_key_is_refused_though_no_field_is_to_blame() {
        let body = br#"{"inbox_id":42,"inbox_id":43,"creator_id":8,"phone_number":"15105550101","text":"x"}"#;
        let error = parse_send(body).expect_err("refused");
        assert_eq!(error.field(), Some("body"));
    }

    #[test]
    fn permissions_and_contacts_are_denied() {
        let group = json!(["15105550101", "15105550102"]);
        let cases = [
            (json!({"creator_id": 9}), "creator_id"),
            (
                json!({"inbox_id": 43, "phone_number": null, "targets": group}),
                "targets",
            ),
            (json!({"phone_number": "15105550199"}), "phone_number"),
            (json!({"phone_number": "15105550198"}), "phone_number"),
        ];
        for (patch, field) in cases {
            assert_eq!(refusal(patch.clone()), (403, field.to_owned()), "{patch}");
        }
    }

    #[test]
    fn unknown_references_are_bad_data() {
        let cases = [
            (json!({"inbox_id": 99}), "inbox_id"),
            (
                json!({"phone_number": null, "list_id": 9, "local_id": "a"}),
                "list_id",
            ),
            (json!({"text": null, "template_id": 9}), "template_id"),
            (json!({"phone_number": null, "chat_id": 1}), "chat_id"),
        ];
        for (patch, field) in cases {
            assert_eq!(refusal(patch.clone()), (400, field.to_owned()), "{patch}");
        }
    }
}
