//! What list routes share: query errors that name the parameter, and
//! cursors (`next`) made of the last item's activity time and id.

use axum::http::StatusCode;
use vigil_core::Timestamp;

use crate::error::ApiError;

/// A query parameter that is invalid, named.
pub fn bad(field: &str, reason: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_query",
        format!("{field}: {reason}"),
    )
}

/// The cursor after an item with this activity time and id.
pub fn cursor(at: Timestamp, id: impl std::fmt::Display) -> String {
    format!("{}_{id}", at.as_microsecond())
}

/// A cursor from `next`, back to the activity time and id.
pub fn parse_cursor<I: std::str::FromStr>(text: &str) -> Result<(Timestamp, I), ApiError> {
    let wrong = || bad("cursor", "not a cursor from `next`");
    let (micros, id) = text.split_once('_').ok_or_else(wrong)?;
    let micros: i64 = micros.parse().map_err(|_| wrong())?;
    Ok((
        Timestamp::from_microsecond(micros).map_err(|e| bad("cursor", e))?,
        id.parse().map_err(|_| wrong())?,
    ))
}

/// An id cursor from `next` (lists paged by id alone), if one was given.
pub fn parse_id_cursor<I: std::str::FromStr>(text: Option<&str>) -> Result<Option<I>, ApiError> {
    text.map(|c| {
        c.parse::<I>()
            .map_err(|_| bad("cursor", "not a cursor from `next`"))
    })
    .transpose()
}
