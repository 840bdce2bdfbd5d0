//! The fast path of [`flatten_json`](crate::flatten_json): the same rules
//! as `flatten.rs`, over the bytes in one pass, for the JSON that shippers
//! and `evtx_dump` write: the text checked as UTF-8 once, strings copied a
//! run at a time, integers written as they are spelled.
//!
//! It takes nothing it is unsure of: a `\u` escape, a number with a
//! fraction or an exponent (or `-0`, or past 64 bits), nesting deeper
//! than [`MAX_DEPTH`], or anything that is not JSON gives `None`, and the
//! caller runs the serde parser, which flattens what is valid and names
//! what is not. So this path need only agree with that parser where it
//! answers; the tests and the `flatten_json` fuzz target check that it
//! does.

use std::borrow::Cow;

use crate::flatten::clean_name;
use crate::{FlatEvent, words};

/// Nesting past which the serde parser takes over (its own limit is 128).
const MAX_DEPTH: usize = 100;

/// Flatten `json` into `out` (cleared by the caller); `None` when the
/// serde parser must decide (`out` is then half-written).
pub(crate) fn flatten(json: &[u8], out: &mut FlatEvent) -> Option<()> {
    let text = std::str::from_utf8(json).ok()?;
    let mut p = Parser { text, at: 0 };
    p.root(out)?;
    p.skip_ws();
    (p.at == text.len()).then_some(())
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes().get(self.at) {
            self.at += 1;
        }
    }

    /// The next byte after whitespace, not taken.
    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes().get(self.at).copied()
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        let rest = self.bytes().get(self.at..)?;
        rest.starts_with(word.as_bytes())
            .then(|| self.at += word.len())
    }

    /// An integer as serde_json would write it back: `0`, or an optional
    /// minus and digits without a leading zero that fit a `u64` (an `i64`
    /// when negative), so its text is its `Display`; not followed by a
    /// fraction or an exponent.
    fn integer(&mut self) -> Option<&'a str> {
        let b = self.bytes();
        let start = self.at;
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let digits = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let n = i - digits;
        let negative = digits > start;
        // Past these, serde_json reads a float.
        let bound: &[u8] = if negative {
            b"9223372036854775808"
        } else {
            b"18446744073709551615"
        };
        let ok = match b.get(digits) {
            _ if n == 0 => false,
            Some(b'0') => n == 1 && !negative,
            _ => n < bound.len() || (n == bound.len() && &b[digits..i] <= bound),
        };
        if !ok || matches!(b.get(i), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.at = i;
        Some(&self.text[start..i])
    }

    /// A string (at its opening quote), borrowed when it has no escapes.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.at + 1;
        let end = self.plain_run(start)?;
        if self.bytes()[end] == b'"' {
            self.at = end + 1;
            return Some(Cow::Borrowed(&self.text[start..end]));
        }
        let mut owned = String::with_capacity(end - start + 16);
        self.at = start;
        self.string_rest(&mut owned)?;
        Some(Cow::Owned(owned))
    }

    /// A string (at its opening quote) appended to `out`.
    fn string_into(&mut self, out: &mut String) -> Option<()> {
        self.at += 1;
        self.string_rest(out)
    }

    /// The rest of a string from `self.at` (after its opening quote),
    /// unescaped into `out`.
    fn string_rest(&mut self, out: &mut String) -> Option<()> {
        loop {
            let end = self.plain_run(self.at)?;
            // Stopped at an ASCII quote or backslash: a character boundary.
            out.push_str(&self.text[self.at..end]);
            if self.bytes()[end] == b'"' {
                self.at = end + 1;
                return Some(());
            }
            let c = match self.bytes().get(end + 1)? {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                // `\u` (surrogates and all) is the serde parser's.
                _ => return None,
            };
            out.push(c);
            self.at = end + 2;
        }
    }

    /// Where the run of plain string bytes from `from` ends: at a quote or
    /// a backslash; `None` at a control character (invalid in a JSON
    /// string) or the end of the text.
    fn plain_run(&self, from: usize) -> Option<usize> {
        let rest = self.bytes().get(from..)?;
        plain_end(rest).map(|end| from + end)
    }

    /// The items between `open` and `close`, separated by commas: `item`
    /// is called at each, after its leading whitespace.
    fn sequence(
        &mut self,
        open: u8,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        self.expect(open)?;
        if self.peek()? == close {
            self.at += 1;
            return Some(());
        }
        loop {
            self.skip_ws();
            item(self)?;
            match self.peek()? {
                b',' => self.at += 1,
                c if c == close => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// The members of an object (at its `{`): `member` is called at each
    /// value with its key.
    fn object(
        &mut self,
        mut member: impl FnMut(&mut Self, Cow<'a, str>) -> Option<()>,
    ) -> Option<()> {
        self.sequence(b'{', b'}', |p| {
            if p.peek()? != b'"' {
                return None;
            }
            let key = p.string()?;
            p.expect(b':')?;
            p.skip_ws();
            member(p, key)
        })
    }

    /// The elements of an array (at its `[`): `element` is called at each.
    fn array(&mut self, element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.sequence(b'[', b']', element)
    }

    /// The top level: an object, maybe with an `Event` wrapper.
    fn root(&mut self, out: &mut FlatEvent) -> Option<()> {
        if self.peek()? != b'{' {
            return None;
        }
        self.object(|p, key| {
            if key == "Event" {
                p.event_body(out)
            } else {
                p.node(out, &clean_name(&key), false, 1)
            }
        })
    }

    /// The inside of `Event`: `System`, then the payload sections.
    fn event_body(&mut self, out: &mut FlatEvent) -> Option<()> {
        if self.peek()? != b'{' {
            return None;
        }
        self.object(|p, key| {
            if key == "#attributes" {
                p.skip(2)
            } else {
                p.node(out, &clean_name(&key), key == "System", 2)
            }
        })
    }

    /// Any value held by the element `name`.
    fn node(&mut self, out: &mut FlatEvent, name: &str, system: bool, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => {
                let key = out.begin_field(name);
                self.string_into(out.buf_mut())?;
                out.end_field(key, system);
            }
            b'[' => return self.list(out, name, system, depth + 1),
            b'{' => return self.element(out, name, system, depth + 1),
            b'n' => return self.literal("null"),
            _ => {
                let text = self.scalar()?;
                let key = out.begin_field(name);
                out.buf_mut().push_str(text);
                out.end_field(key, system);
            }
        }
        Some(())
    }

    /// `true`, `false` or an integer, as its text.
    fn scalar(&mut self) -> Option<&'a str> {
        match self.peek()? {
            b't' => self.literal("true").map(|()| "true"),
            b'f' => self.literal("false").map(|()| "false"),
            _ => self.integer(),
        }
    }

    /// A list held by `name`: its scalars joined by `\n` into one field
    /// (written after the list's objects), its objects and lists walked.
    fn list(&mut self, out: &mut FlatEvent, name: &str, system: bool, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut joined: Option<String> = None;
        self.array(|p| match p.peek()? {
            b'[' => p.list(out, name, system, depth + 1),
            b'{' => p.element(out, name, system, depth + 1),
            b'n' => p.literal("null"),
            b'"' => p.string_into(next_joined(&mut joined)),
            _ => {
                let text = p.scalar()?;
                next_joined(&mut joined).push_str(text);
                Some(())
            }
        })?;
        if let Some(text) = joined {
            let key = out.begin_field(name);
            out.buf_mut().push_str(&text);
            out.end_field(key, system);
        }
        Some(())
    }

    /// An object held by `name`: `#text` is `name`'s own value,
    /// `#attributes` its attributes, other members elements of their own.
    fn element(
        &mut self,
        out: &mut FlatEvent,
        name: &str,
        system: bool,
        depth: usize,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.object(|p, key| match key.as_ref() {
            "#text" => p.node(out, name, system, depth),
            "#attributes" => p.attributes(out, name == "Provider", system, depth + 1),
            other => p.node(out, &clean_name(other), system, depth),
        })
    }

    /// An `#attributes` value: an object (each member a field, `Provider_`
    /// before it on a `Provider` element, `xmlns*` dropped) or `null`.
    fn attributes(
        &mut self,
        out: &mut FlatEvent,
        provider: bool,
        system: bool,
        depth: usize,
    ) -> Option<()> {
        match self.peek()? {
            b'n' => self.literal("null"),
            b'{' => self.object(|p, key| {
                if key.starts_with("xmlns") {
                    return p.skip(depth);
                }
                let cleaned = clean_name(&key);
                if provider {
                    p.node(out, &provider_name(&cleaned), system, depth)
                } else {
                    p.node(out, &cleaned, system, depth)
                }
            }),
            _ => None,
        }
    }

    /// Pass over any value (of the kinds this path reads).
    fn skip(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'[' => self.array(|p| p.skip(depth + 1)),
            b'{' => self.object(|p, _| p.skip(depth + 1)),
            b'n' => self.literal("null"),
            _ => self.scalar().map(drop),
        }
    }
}

/// Where a list's next scalar goes: after the ones before it and a `\n`.
fn next_joined(joined: &mut Option<String>) -> &mut String {
    let s = joined.get_or_insert_with(String::new);
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

/// `Provider_` and an attribute's name: the usual ones without making a
/// string (a `format!` for each was most of a `System` section's cost
/// after its strings).
fn provider_name(attribute: &str) -> Cow<'static, str> {
    match attribute {
        "Name" => Cow::Borrowed("Provider_Name"),
        "Guid" => Cow::Borrowed("Provider_Guid"),
        "EventSourceName" => Cow::Borrowed("Provider_EventSourceName"),
        other => {
            let mut name = String::with_capacity("Provider_".len() + other.len());
            name.push_str("Provider_");
            name.push_str(other);
            Cow::Owned(name)
        }
    }
}

/// Where the plain bytes at the start of `rest` end: at the first quote
/// or backslash; `None` at a control character first, or at the end.
///
/// Most strings (names, short values) end within a few words: those are
/// read a word at a time, each word's three tests at once, before
/// `memchr2` takes over for long ones (its setup was most of the cost of
/// a short string).
fn plain_end(rest: &[u8]) -> Option<usize> {
    let mut at = 0;
    while at < 32 {
        let Some(w) = rest.get(at..at + 8) else { break };
        let w = words::word(w);
        // A quote or backslash is a zero byte once the word is xored with
        // it.
        let marks = words::below(w ^ (words::ONES * u64::from(b'"')), 1)
            | words::below(w ^ (words::ONES * u64::from(b'\\')), 1)
            | words::below(w, 0x20);
        if marks != 0 {
            let end = at + (marks.trailing_zeros() / 8) as usize;
            return (rest[end] >= 0x20).then_some(end);
        }
        at += 8;
    }
    let tail = &rest[at..];
    let end = memchr::memchr2(b'"', b'\\', tail)?;
    if has_control(&tail[..end]) {
        return None;
    }
    Some(at + end)
}

/// Whether `b` holds a byte under 0x20 (a control character), eight bytes
/// at a time ([`words::below`]). A byte at a time, this check was a tenth
/// of flattening's instructions.
fn has_control(b: &[u8]) -> bool {
    words::any(b, |w| words::below(w, 0x20), |c| c < 0x20)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flatten::flatten_json_reference;

    #[test]
    fn a_plain_run_ends_at_the_first_quote_backslash_or_control_character() {
        let reference = |rest: &[u8]| {
            let end = memchr::memchr2(b'"', b'\\', rest)?;
            (!rest[..end].iter().any(|&c| c < 0x20)).then_some(end)
        };
        for len in [0usize, 1, 7, 8, 9, 16, 31, 33, 40, 70] {
            for at in 0..len {
                for c in 0..=255u8 {
                    for fill in [b'a', 0xc3, 0x7f] {
                        let mut b = vec![fill; len];
                        b[at] = c;
                        assert_eq!(plain_end(&b), reference(&b), "{b:?}");
                        // A second special byte later on.
                        if at + 3 < len {
                            b[at + 3] = b'"';
                            assert_eq!(plain_end(&b), reference(&b), "{b:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_control_character_is_found_at_every_place_whatever_its_neighbours() {
        for len in [0usize, 3, 8, 13, 24] {
            for at in 0..len {
                for c in 0..=255u8 {
                    for fill in [b'a', 0x7f, 0xc3, 0x20] {
                        let mut b = vec![fill; len];
                        b[at] = c;
                        let bytewise = b.iter().any(|&x| x < 0x20);
                        assert_eq!(has_control(&b), bytewise, "{b:?}");
                    }
                }
            }
        }
    }

    /// Both parsers over `json`: the fast one's fields when it answers,
    /// which must be the serde parser's.
    fn agree(json: &str) -> Option<Vec<(String, String)>> {
        let mut fast = FlatEvent::new();
        let answered = flatten(json.as_bytes(), &mut fast);
        let mut reference = FlatEvent::new();
        let valid = flatten_json_reference(json.as_bytes(), &mut reference).is_ok();
        answered?;
        assert!(valid, "the fast path took what serde refuses: {json}");
        let fields = |e: &FlatEvent| {
            e.fields()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(&fast), fields(&reference), "{json}");
        assert_eq!(fast.to_json(), reference.to_json(), "{json}");
        Some(fields(&fast))
    }

    #[test]
    fn evtx_dump_shapes_flatten_as_the_serde_parser_flattens_them() {
        let fields = agree(
            r##"{"Event":{"#attributes":{"xmlns":"http://schemas.microsoft.com/win/2004/08/events/event"},
            "System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon","Guid":"{5770385F}"}},
              "EventID":{"#text":1,"#attributes":{"Qualifiers":0}},"Channel":"Microsoft-Windows-Sysmon/Operational",
              "Computer":"WIN10","EventRecordID":42,"Execution":{"#attributes":{"ProcessID":4,"ThreadID":8}},
              "TimeCreated":{"#attributes":{"SystemTime":"2019-03-19T23:34:25.123Z"}},"Security":null},
            "EventData":{"Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"cmd /c \"whoami\"\n\t/all",
              "ProcessId":-1234,"IsExecutable":true,"No":false,"Empty":"","Gone":null,"Big":123456789012345678,
              "Data":["a","",null,3,true,{"Name":"x","#text":"y"},["p","q"]],"Threat Name":"Eicar",
              "Nested":{"Deep":{"Deeper":{"#text":"v"}}},"Zero":0,"Max":18446744073709551615,"Min":-9223372036854775808,"Esc":"\/\b\f\r"}}}"##,
        )
        .expect("the fast path takes it");
        assert!(fields.contains(&("ThreatName".to_owned(), "Eicar".to_owned())));
        assert!(fields.contains(&("Provider_Guid".to_owned(), "{5770385F}".to_owned())));
        assert!(fields.contains(&("Data".to_owned(), "a\n\n3\ntrue".to_owned())));
    }

    #[test]
    fn flat_and_winlogbeat_shaped_objects_flatten_as_the_serde_parser_flattens_them() {
        agree(r#"{"@timestamp":"2026-11-27T09:00:00Z","winlog":{"event_id":4625,"event_data":{"TargetUserName":"bob"}},"tags":["a","b"],"x":{}}"#)
            .expect("taken");
        agree(r##"  {"a":[],"b":[[]],"c":[[1,2],[3]],"d":{"#attributes":null}}  "##)
            .expect("taken");
    }

    #[test]
    fn what_the_fast_path_is_unsure_of_goes_to_the_serde_parser() {
        for json in [
            r#"{"a":"\u00e9"}"#,
            r#"{"a":1.5}"#,
            r#"{"a":1e3}"#,
            r#"{"a":-0}"#,
            r#"{"a":18446744073709551616}"#,
            r#"{"a":-9223372036854775809}"#,
            r#"{"a":01}"#,
            r#"{"a":"x"} trailing"#,
            r#"{"a":"x",}"#,
            r#"{"a":"tab	inside"}"#,
            r#"{"a":tru}"#,
            r#"["not an object"]"#,
            r#"{"Event":null}"#,
            r##"{"Event":{"System":{"Provider":{"#attributes":"text"}}}}"##,
            "{\"a\":\"\\x\"}",
            "{\"a\":\"unterminated",
            "",
        ] {
            assert!(agree(json).is_none(), "taken: {json}");
        }
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(120), "]".repeat(120));
        assert!(agree(&deep).is_none());
        assert!(flatten(b"{\"a\":\"\xff\"}", &mut FlatEvent::new()).is_none());
    }

    #[test]
    fn mutated_records_are_taken_only_where_the_serde_parser_agrees() {
        let seeds: [&[u8]; 3] = [
            br##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"P"}},"EventID":{"#text":4688},"Computer":"H"},"EventData":{"Data":[{"#attributes":{"Name":"CommandLine"},"#text":"cmd \"/c\" C:\\x"},"a",-12,true,null]}}}"##,
            br#"{"a":{"b":[1,[2,{"c":"d\n"}]],"e f":18446744073709551615},"g":"\u00e9","h":1.5}"#,
            br#" {"x":"y" , "z" : [ ] , "w" : { } } "#,
        ];
        // A small xorshift: the same mutations every run.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % n as u64).unwrap_or(0)
        };
        const BYTES: &[u8] = b"{}[]\":,\\ \t\n0123456789-.eEtruefalsnl#\x01\xff\xc3\xa9";
        let mut taken = 0;
        for round in 0..30_000 {
            let mut bytes = seeds[round % seeds.len()].to_vec();
            for _ in 0..1 + next(3) {
                let at = next(bytes.len() + 1);
                let b = BYTES[next(BYTES.len())];
                match next(3) {
                    0 if at < bytes.len() => bytes[at] = b,
                    1 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, b),
                }
            }
            let mut fast = FlatEvent::new();
            if flatten(&bytes, &mut fast).is_none() {
                continue;
            }
            taken += 1;
            let mut reference = FlatEvent::new();
            let valid = flatten_json_reference(&bytes, &mut reference).is_ok();
            let text = String::from_utf8_lossy(&bytes);
            assert!(valid, "the fast path took what serde refuses: {text}");
            assert!(fast.fields().eq(reference.fields()), "{text}");
        }
        assert!(taken > 1000, "only {taken} mutations were taken");
    }

    #[test]
    fn every_corpus_record_flattens_as_the_serde_parser_flattens_it() {
        let Some(corpus) = vigil_testkit::corpus() else {
            eprintln!("skipped: the shared corpus is absent");
            return;
        };
        let files =
            vigil_testkit::files_with_extension(&corpus.join("evtx-attack-samples"), "evtx");
        let mut taken = 0;
        let mut records = 0;
        for f in &files {
            crate::read_records(
                f,
                crate::FileKind::Evtx,
                0,
                &mut |r| {
                    records += 1;
                    let json = std::str::from_utf8(&r.json).expect("utf-8");
                    if agree(json).is_some() {
                        taken += 1;
                    }
                },
                &mut |_| {},
            );
        }
        assert!(records > 1000, "{records} records");
        assert!(taken * 10 >= records * 9, "{taken} of {records} taken");
    }
}
