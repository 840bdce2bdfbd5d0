//! Conversations between the customer and the experts (PRODUCT.md §9): a
//! chat thread per incident with a published response, and questions the
//! customer asks the experts outside incidents (*inquiries*). Both keep
//! their messages in one shape, so the message centre lists them together.
//!
//! Inquiry status moves:
//!
//! | from     | event                      | to       |
//! |----------|----------------------------|----------|
//! | open     | an expert replies          | answered |
//! | answered | the customer writes again  | open     |
//! | open, answered | either side closes   | closed   |
//! | closed   | (final: ask a new question) |         |

use std::fmt;
use std::str::FromStr;

use crate::identity::Role;
use crate::incident::IncidentId;
use crate::{Id, TenantId, Timestamp};

/// Identifier of a message.
pub type MessageId = Id<Message>;
/// Identifier of an inquiry.
pub type InquiryId = Id<Inquiry>;

/// A message body is at most this many characters.
pub const MAX_MESSAGE_CHARS: usize = 10_000;
/// An inquiry's subject is at most this many characters.
pub const MAX_SUBJECT_CHARS: usize = 200;

words!(
    /// Which side of the service wrote a message.
    Side, "side" { Provider => "provider", Customer => "customer" }
);

words!(
    /// Where an inquiry stands (the table above).
    InquiryStatus, "inquiry status" { Open => "open", Answered => "answered", Closed => "closed" }
);

words!(
    /// What a thread belongs to.
    ThreadKind, "thread kind" { Incident => "incident", Inquiry => "inquiry" }
);

impl Side {
    /// The side a role speaks for.
    pub const fn of(role: Role) -> Side {
        if role.is_provider() {
            Side::Provider
        } else {
            Side::Customer
        }
    }

    /// The side that should hear about a message from this one.
    pub const fn other(self) -> Side {
        match self {
            Side::Provider => Side::Customer,
            Side::Customer => Side::Provider,
        }
    }
}

/// The thread a message belongs to: an incident's chat or an inquiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Thread {
    Incident(IncidentId),
    Inquiry(InquiryId),
}

impl Thread {
    pub const fn kind(self) -> ThreadKind {
        match self {
            Thread::Incident(_) => ThreadKind::Incident,
            Thread::Inquiry(_) => ThreadKind::Inquiry,
        }
    }

    /// The id of the incident or inquiry, as text.
    pub fn id_text(self) -> String {
        match self {
            Thread::Incident(i) => i.to_string(),
            Thread::Inquiry(i) => i.to_string(),
        }
    }

    /// The thread from its kind and id.
    pub fn parse(kind: ThreadKind, id: &str) -> Result<Thread, String> {
        let bad = |_| format!("{kind} id {id:?} is not an id");
        Ok(match kind {
            ThreadKind::Incident => Thread::Incident(id.parse().map_err(bad)?),
            ThreadKind::Inquiry => Thread::Inquiry(id.parse().map_err(bad)?),
        })
    }
}

impl fmt::Display for Thread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.id_text())
    }
}

impl FromStr for Thread {
    type Err = String;
    /// `incident:<id>` or `inquiry:<id>`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, id) = s
            .split_once(':')
            .ok_or_else(|| format!("thread {s:?}: expected incident:<id> or inquiry:<id>"))?;
        Thread::parse(kind.parse()?, id.trim())
    }
}

impl serde::Serialize for Thread {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Thread", 2)?;
        st.serialize_field("kind", &self.kind())?;
        st.serialize_field("id", &self.id_text())?;
        st.end()
    }
}

/// Why a text cannot be a message body or a subject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("{0} must not be blank")]
    Blank(&'static str),
    #[error("{what} is at most {max} characters; this one has {found}")]
    TooLong {
        what: &'static str,
        max: usize,
        found: usize,
    },
    #[error("a subject is one line")]
    MultiLine,
}

/// A message's text: not blank, at most [`MAX_MESSAGE_CHARS`] characters
/// (Unicode scalar values), kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub fn parse(text: impl Into<String>) -> Result<Self, TextError> {
        let text = text.into();
        if text.trim().is_empty() {
            return Err(TextError::Blank("a message"));
        }
        let found = text.chars().count();
        if found > MAX_MESSAGE_CHARS {
            return Err(TextError::TooLong {
                what: "a message",
                max: MAX_MESSAGE_CHARS,
                found,
            });
        }
        Ok(MessageBody(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// An inquiry's subject: one line, trimmed, 1 to [`MAX_SUBJECT_CHARS`]
/// characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject(String);

impl Subject {
    pub fn parse(text: &str) -> Result<Self, TextError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(TextError::Blank("a subject"));
        }
        if text.contains(['\n', '\r']) {
            return Err(TextError::MultiLine);
        }
        let found = text.chars().count();
        if found > MAX_SUBJECT_CHARS {
            return Err(TextError::TooLong {
                what: "a subject",
                max: MAX_SUBJECT_CHARS,
                found,
            });
        }
        Ok(Subject(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One message in a thread.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Message {
    pub id: MessageId,
    pub tenant_id: TenantId,
    pub thread: Thread,
    /// The audit log's name of the writer (`user:EMAIL`, `cli:NAME`).
    pub author: String,
    pub side: Side,
    pub body: String,
    pub created_at: Timestamp,
}

/// A question the customer asked the experts outside any incident.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Inquiry {
    pub id: InquiryId,
    pub tenant_id: TenantId,
    pub subject: String,
    pub status: InquiryStatus,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Who closed it, when closed.
    pub closed_by: Option<String>,
}

/// The status an inquiry moves to when `side` writes in it; a closed
/// inquiry takes no more messages.
pub fn status_after_message(from: InquiryStatus, side: Side) -> Result<InquiryStatus, String> {
    match (from, side) {
        (InquiryStatus::Closed, _) => {
            Err("the inquiry is closed: ask a new question instead".into())
        }
        (_, Side::Provider) => Ok(InquiryStatus::Answered),
        (_, Side::Customer) => Ok(InquiryStatus::Open),
    }
}

/// Whether an inquiry may be closed.
pub fn check_close(from: InquiryStatus) -> Result<(), String> {
    if from == InquiryStatus::Closed {
        Err("the inquiry is already closed".into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_bodies_are_limited_to_10000_characters_not_bytes() {
        assert!(MessageBody::parse("é".repeat(MAX_MESSAGE_CHARS)).is_ok());
        assert_eq!(
            MessageBody::parse("a".repeat(MAX_MESSAGE_CHARS + 1)),
            Err(TextError::TooLong {
                what: "a message",
                max: MAX_MESSAGE_CHARS,
                found: MAX_MESSAGE_CHARS + 1
            })
        );
        assert_eq!(
            MessageBody::parse(" \n\t"),
            Err(TextError::Blank("a message"))
        );
        assert_eq!(
            MessageBody::parse(" as is ").expect("ok").as_str(),
            " as is "
        );
    }

    #[test]
    fn subjects_are_one_trimmed_line() {
        assert_eq!(
            Subject::parse("  VPN question ").expect("ok").as_str(),
            "VPN question"
        );
        assert_eq!(Subject::parse("a\nb"), Err(TextError::MultiLine));
        assert!(Subject::parse(&"s".repeat(MAX_SUBJECT_CHARS + 1)).is_err());
        assert_eq!(Subject::parse(""), Err(TextError::Blank("a subject")));
    }

    #[test]
    fn an_expert_reply_answers_an_inquiry_and_a_customer_reply_reopens_it() {
        use InquiryStatus as S;
        assert_eq!(
            status_after_message(S::Open, Side::Provider),
            Ok(S::Answered)
        );
        assert_eq!(
            status_after_message(S::Answered, Side::Customer),
            Ok(S::Open)
        );
        assert_eq!(status_after_message(S::Open, Side::Customer), Ok(S::Open));
        assert!(status_after_message(S::Closed, Side::Provider).is_err());
        assert!(check_close(S::Answered).is_ok());
        assert!(check_close(S::Closed).is_err());
    }

    #[test]
    fn threads_round_trip_through_their_text() {
        let id = IncidentId::new_at(Timestamp::UNIX_EPOCH);
        let t = Thread::Incident(id);
        assert_eq!(t.to_string().parse::<Thread>(), Ok(t));
        assert!("incident:nope".parse::<Thread>().is_err());
        assert!("ticket:1".parse::<Thread>().is_err());
        assert_eq!(Side::of(Role::Analyst), Side::Provider);
        assert_eq!(Side::of(Role::CustomerReader), Side::Customer);
    }
}
