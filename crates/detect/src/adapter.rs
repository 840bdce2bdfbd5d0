use std::borrow::Cow;

use rsigma_eval::{Event, EventValue};
use vigil_formats::FlatEvent;

/// A [`FlatEvent`] as `rsigma-eval` reads events. Field names compare
/// ASCII-case-insensitively; every value is text (numeric matchers parse
/// it). A field the event lacks is looked up again through `aliases`
/// (rule name → event name), the field map of the event's channel.
#[derive(Debug, Clone, Copy)]
pub struct Doc<'a>(pub &'a FlatEvent, pub &'a [(String, String)]);

impl<'a> Doc<'a> {
    /// The event with no field map.
    pub fn plain(event: &'a FlatEvent) -> Self {
        Doc(event, &[])
    }
}

impl Event for Doc<'_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        let value = self.0.get(path).or_else(|| {
            let (_, target) = self.1.iter().find(|(k, _)| k.eq_ignore_ascii_case(path))?;
            self.0.get(target)
        });
        value.map(|v| EventValue::Str(Cow::Borrowed(v)))
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        self.0.values().any(pred)
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        self.0.values().map(Cow::Borrowed).collect()
    }

    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        for v in self.0.values() {
            visit(v);
        }
    }

    fn to_json(&self) -> serde_json::Value {
        self.0.to_json()
    }
}
