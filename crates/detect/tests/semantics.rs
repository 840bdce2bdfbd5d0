//! Sigma semantics through Vigil's public API: every value form, modifier,
//! condition form, filter and correlation type, each with cases that must
//! match and cases that must not. Every detection case is also run without
//! the literal prefilter, which must never change a result.

use vigil_detect::correlate::Correlator;
use vigil_detect::{Detector, Hit, Scratch, WindowsDetector, WindowsOptions};
use vigil_formats::FlatEvent;

// ---------------------------------------------------------------- helpers

const SYSTEM: [&str; 5] = [
    "Channel",
    "EventID",
    "EventRecordID",
    "SystemTime",
    "Computer",
];

/// Strip the leading blank lines and the common indentation.
fn dedent(s: &str) -> String {
    let lines: Vec<&str> = s.lines().skip_while(|l| l.trim().is_empty()).collect();
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A Security-channel rule with this `detection:` body.
fn rule(detection: &str) -> String {
    let body: String = dedent(detection)
        .lines()
        .map(|l| format!("  {l}\n"))
        .collect();
    format!(
        "title: Test rule\nid: t-rule\nlogsource: {{product: windows, service: security}}\ndetection:\n{body}"
    )
}

/// An event with these fields; `Channel=Security` and `EventID=4688` are
/// added unless given.
fn event(fields: &[(&str, &str)]) -> FlatEvent {
    let mut e = FlatEvent::new();
    let has = |n: &str| fields.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
    if !has("Channel") {
        e.push("Channel", "Security", true);
    }
    if !has("EventID") {
        e.push("EventID", "4688", true);
    }
    for (k, v) in fields {
        e.push(k, v, SYSTEM.iter().any(|s| s.eq_ignore_ascii_case(k)));
    }
    e
}

fn detector(yaml: &str, options: WindowsOptions) -> WindowsDetector {
    let set = vigil_sigma::load_str(yaml, "test.yml");
    assert!(
        set.diagnostics.is_empty(),
        "the rule loads cleanly: {:#?}\n{yaml}",
        set.diagnostics
    );
    let (det, skipped) = WindowsDetector::new(set, &options);
    assert!(skipped.is_empty(), "the rule is routed: {skipped:#?}");
    det
}

fn hits(det: &WindowsDetector, e: &FlatEvent) -> Vec<Hit> {
    let mut out = Vec::new();
    det.detect(e, &mut Scratch::default(), &mut out);
    out
}

/// The ids of the rules of `yaml` that fire on `fields`, with and without
/// the prefilter, and with rsigma instead of the compiled evaluator (all
/// must agree, matched fields included).
fn fired(yaml: &str, fields: &[(&str, &str)]) -> Vec<String> {
    let e = event(fields);
    let ids = |no_prefilter, reference| {
        let det = detector(
            yaml,
            WindowsOptions {
                no_prefilter,
                reference,
            },
        );
        hits(&det, &e)
            .iter()
            .map(|h| {
                // Selectors list their selections in rsigma's map order,
                // which differs between two loads: compare as sets.
                let mut matched = h.matched.clone();
                matched.sort();
                (det.rules()[h.rule as usize].info.id.clone(), matched)
            })
            .collect::<Vec<_>>()
    };
    let with = ids(false, false);
    let without = ids(true, false);
    assert_eq!(
        with, without,
        "the prefilter changed the result on {fields:?} of\n{yaml}"
    );
    let reference = ids(false, true);
    assert_eq!(
        with, reference,
        "the compiled evaluator disagrees with rsigma on {fields:?} of\n{yaml}"
    );
    with.into_iter().map(|(id, _)| id).collect()
}

/// Whether a rule with this detection body matches an event with these
/// fields (asserting that the prefilter does not change the answer).
fn check(rule_detection_yaml: &str, fields: &[(&str, &str)]) -> bool {
    !fired(&rule(rule_detection_yaml), fields).is_empty()
}

/// An event's fields, as (name, value).
type Fields<'a> = &'a [(&'a str, &'a str)];

/// One case: why, whether it must match, the event's fields.
type Case<'a> = (&'a str, bool, Fields<'a>);

/// As [`Case`], with values built at run time.
type OwnedCase<'a> = (&'a str, bool, Vec<(&'a str, String)>);

/// A correlation that fired: its id, value and group.
type Firing = (String, f64, Vec<(String, String)>);

/// Check every case against one detection body; report all failures.
fn expect(detection: &str, cases: &[Case<'_>]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|&(why, want, fields)| {
            let got = check(detection, fields);
            (got != want)
                .then(|| format!("  {why}: expected match={want}, got {got}, fields {fields:?}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "detection:\n{}\nfailed cases:\n{}",
        dedent(detection),
        failures.join("\n")
    );
}

/// As [`expect`], for events built at run time.
fn expect_owned(detection: &str, cases: &[OwnedCase<'_>]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(why, want, fields)| {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let got = check(detection, &fields);
            (got != *want)
                .then(|| format!("  {why}: expected match={want}, got {got}, fields {fields:?}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "detection:\n{}\nfailed cases:\n{}",
        dedent(detection),
        failures.join("\n")
    );
}

fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn utf16be(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

#[test]
fn the_base64_helper_encodes_like_rfc_4648() {
    assert_eq!(b64(b""), "");
    assert_eq!(b64(b"f"), "Zg==");
    assert_eq!(b64(b"fo"), "Zm8=");
    assert_eq!(b64(b"foo"), "Zm9v");
    assert_eq!(b64(b"http://"), "aHR0cDovLw==");
}

// ---------------------------------------------------------------- values

#[test]
fn plain_values_match_whole_values_ignoring_case() {
    expect(
        r"
        sel:
          Image: 'C:\Windows\System32\cmd.exe'
        condition: sel",
        &[
            (
                "the same value",
                true,
                &[("Image", r"C:\Windows\System32\cmd.exe")],
            ),
            (
                "the value in another case",
                true,
                &[("Image", r"c:\WINDOWS\system32\CMD.EXE")],
            ),
            (
                "the field name in another case",
                true,
                &[("IMAGE", r"C:\Windows\System32\cmd.exe")],
            ),
            (
                "a longer value",
                false,
                &[("Image", r"C:\Windows\System32\cmd.exe.bak")],
            ),
            ("a shorter value", false, &[("Image", r"System32\cmd.exe")]),
            (
                "the value in another field",
                false,
                &[("ParentImage", r"C:\Windows\System32\cmd.exe")],
            ),
            ("the field absent", false, &[]),
        ],
    );
}

#[test]
fn a_list_of_values_matches_any_of_them() {
    expect(
        r"
        sel:
          User:
            - alice
            - bob
        condition: sel",
        &[
            ("the first value", true, &[("User", "alice")]),
            ("the second value", true, &[("User", "BOB")]),
            ("neither value", false, &[("User", "carol")]),
            ("the field absent", false, &[]),
        ],
    );
}

#[test]
fn a_map_matches_only_when_every_field_matches() {
    expect(
        r"
        sel:
          User: alice
          LogonType: '3'
        condition: sel",
        &[
            (
                "both fields match",
                true,
                &[("User", "alice"), ("LogonType", "3")],
            ),
            (
                "one field differs",
                false,
                &[("User", "alice"), ("LogonType", "10")],
            ),
            ("one field is absent", false, &[("User", "alice")]),
        ],
    );
}

#[test]
fn a_list_of_maps_matches_when_any_map_matches() {
    expect(
        r"
        sel:
          - User: alice
            LogonType: '3'
          - User: bob
        condition: sel",
        &[
            (
                "the first map",
                true,
                &[("User", "alice"), ("LogonType", "3")],
            ),
            (
                "the second map",
                true,
                &[("User", "bob"), ("LogonType", "2")],
            ),
            (
                "half of the first map",
                false,
                &[("User", "alice"), ("LogonType", "2")],
            ),
            ("neither map", false, &[("User", "carol")]),
        ],
    );
}

#[test]
fn star_matches_any_run_of_characters() {
    expect(
        r"
        sel:
          Image: 'C:\Windows*\cmd.exe'
        condition: sel",
        &[
            (
                "a long run",
                true,
                &[("Image", r"C:\Windows\System32\cmd.exe")],
            ),
            ("an empty run", true, &[("Image", r"C:\Windows\cmd.exe")]),
            (
                "the wrong ending",
                false,
                &[("Image", r"C:\Windows\cmd.exe.bak")],
            ),
            (
                "the wrong start",
                false,
                &[("Image", r"D:\Windows\cmd.exe")],
            ),
        ],
    );
    expect(
        r"
        sel:
          Image: '*\cmd.exe'
        condition: sel",
        &[
            (
                "a leading star",
                true,
                &[("Image", r"C:\Windows\System32\cmd.exe")],
            ),
            (
                "a leading star and no prefix",
                true,
                &[("Image", r"\cmd.exe")],
            ),
            (
                "a leading star and the wrong end",
                false,
                &[("Image", r"C:\x\cmd.exe ")],
            ),
        ],
    );
}

#[test]
fn question_mark_matches_exactly_one_character() {
    expect(
        r"
        sel:
          TargetFilename: 'report?.txt'
        condition: sel",
        &[
            ("one character", true, &[("TargetFilename", "report1.txt")]),
            ("no character", false, &[("TargetFilename", "report.txt")]),
            (
                "two characters",
                false,
                &[("TargetFilename", "report12.txt")],
            ),
        ],
    );
}

#[test]
fn escaped_wildcards_are_literal_characters() {
    expect(
        r"
        sel:
          CommandLine: 'select \* from t where a\?'
        condition: sel",
        &[
            (
                "the literal star and question mark",
                true,
                &[("CommandLine", "select * from t where a?")],
            ),
            (
                "other text where the star was",
                false,
                &[("CommandLine", "select x from t where a?")],
            ),
            (
                "another character where the ? was",
                false,
                &[("CommandLine", "select * from t where ab")],
            ),
        ],
    );
}

#[test]
fn a_doubled_backslash_is_one_literal_backslash() {
    expect(
        r"
        sel:
          Image: 'C:\\Temp\\*'
        condition: sel",
        &[
            (
                "a backslash before the wildcard",
                true,
                &[("Image", r"C:\Temp\evil.exe")],
            ),
            (
                "two backslashes are not one",
                false,
                &[("Image", r"C:\\Temp\\evil.exe")],
            ),
            ("no backslash", false, &[("Image", "C:/Temp/evil.exe")]),
        ],
    );
    expect(
        r"
        sel:
          Image: 'C:\\Windows'
        condition: sel",
        &[
            ("one backslash", true, &[("Image", r"C:\Windows")]),
            ("two backslashes", false, &[("Image", r"C:\\Windows")]),
        ],
    );
}

#[test]
fn null_matches_only_an_absent_field() {
    expect(
        r"
        sel:
          User: alice
          CommandLine: null
        condition: sel",
        &[
            ("the field absent", true, &[("User", "alice")]),
            (
                "the field present",
                false,
                &[("User", "alice"), ("CommandLine", "whoami")],
            ),
            (
                "the field present and empty",
                false,
                &[("User", "alice"), ("CommandLine", "")],
            ),
        ],
    );
}

#[test]
fn an_empty_string_matches_only_an_empty_value() {
    expect(
        r"
        sel:
          User: alice
          CommandLine: ''
        condition: sel",
        &[
            (
                "an empty value",
                true,
                &[("User", "alice"), ("CommandLine", "")],
            ),
            (
                "a non-empty value",
                false,
                &[("User", "alice"), ("CommandLine", "whoami")],
            ),
            ("the field absent", false, &[("User", "alice")]),
        ],
    );
}

#[test]
fn numbers_match_their_text() {
    expect(
        r"
        sel:
          EventID: 4624
          LogonType: 3
        condition: sel",
        &[
            (
                "the same numbers",
                true,
                &[("EventID", "4624"), ("LogonType", "3")],
            ),
            (
                "another number",
                false,
                &[("EventID", "4624"), ("LogonType", "4")],
            ),
            (
                "a number with more digits",
                false,
                &[("EventID", "4624"), ("LogonType", "30")],
            ),
            (
                "another event id",
                false,
                &[("EventID", "4625"), ("LogonType", "3")],
            ),
            (
                "text that is not a number",
                false,
                &[("EventID", "4624"), ("LogonType", "three")],
            ),
        ],
    );
}

// ---------------------------------------------------------------- keywords

#[test]
fn keywords_match_any_value_of_the_event() {
    expect(
        r"
        keywords:
          - mimikatz
          - sekurlsa
        condition: keywords",
        &[
            (
                "in one field",
                true,
                &[("CommandLine", r"C:\tools\MIMIKATZ.exe privilege::debug")],
            ),
            (
                "the second keyword in another field",
                true,
                &[("ScriptBlockText", "sekurlsa::logonpasswords")],
            ),
            (
                "no keyword anywhere",
                false,
                &[("CommandLine", "whoami /all"), ("User", "alice")],
            ),
        ],
    );
}

#[test]
fn keywords_with_all_need_every_keyword() {
    expect(
        r"
        keywords:
          '|all':
            - mimikatz
            - sekurlsa
        condition: keywords",
        &[
            (
                "both in one value",
                true,
                &[("CommandLine", "mimikatz.exe sekurlsa::logonpasswords")],
            ),
            (
                "each in a different field",
                true,
                &[("Image", "mimikatz.exe"), ("CommandLine", "sekurlsa::msv")],
            ),
            (
                "only one",
                false,
                &[("CommandLine", "mimikatz.exe privilege::debug")],
            ),
        ],
    );
}

// ---------------------------------------------------------------- modifiers

#[test]
fn contains_startswith_and_endswith_match_parts_of_a_value() {
    expect(
        r"
        sel:
          CommandLine|contains: 'whoami'
        condition: sel",
        &[
            (
                "in the middle, another case",
                true,
                &[("CommandLine", "cmd /c WHOAMI /all")],
            ),
            ("split", false, &[("CommandLine", "cmd /c who ami")]),
        ],
    );
    expect(
        r"
        sel:
          Image|startswith: 'C:\Users\'
        condition: sel",
        &[
            ("at the start", true, &[("Image", r"c:\users\bob\evil.exe")]),
            (
                "not at the start",
                false,
                &[("Image", r"D:\C:\Users\bob\evil.exe")],
            ),
        ],
    );
    expect(
        r"
        sel:
          Image|endswith: '\rundll32.exe'
        condition: sel",
        &[
            (
                "at the end",
                true,
                &[("Image", r"C:\Windows\System32\RUNDLL32.EXE")],
            ),
            (
                "not at the end",
                false,
                &[("Image", r"C:\x\rundll32.exe.bak")],
            ),
        ],
    );
}

#[test]
fn all_needs_every_value_of_the_list() {
    expect(
        r"
        sel:
          CommandLine|contains|all:
            - ' -enc '
            - 'hidden'
        condition: sel",
        &[
            (
                "both values",
                true,
                &[("CommandLine", "powershell -w hidden -enc AAAA")],
            ),
            (
                "only the first",
                false,
                &[("CommandLine", "powershell -enc AAAA")],
            ),
            (
                "only the second",
                false,
                &[("CommandLine", "powershell -w hidden")],
            ),
        ],
    );
}

#[test]
fn base64_matches_the_encoded_value() {
    expect_owned(
        r"
        sel:
          CommandLine|base64: 'http://'
        condition: sel",
        &[
            (
                "the encoded value",
                true,
                vec![("CommandLine", b64(b"http://"))],
            ),
            (
                "the plain value",
                false,
                vec![("CommandLine", "http://".into())],
            ),
            (
                "another encoded value",
                false,
                vec![("CommandLine", b64(b"ftp://"))],
            ),
        ],
    );
    expect_owned(
        r"
        sel:
          CommandLine|base64|contains: 'http://'
        condition: sel",
        &[
            (
                "the encoded value inside",
                true,
                vec![("CommandLine", format!("x {} y", b64(b"http://")))],
            ),
            (
                "the plain value",
                false,
                vec![("CommandLine", "x http:// y".into())],
            ),
        ],
    );
}

/// An event whose `CommandLine` is the base64 of `bytes`.
fn encoded(bytes: &[u8]) -> Vec<(&'static str, String)> {
    vec![("CommandLine", b64(bytes))]
}

/// `s` in UTF-16 with a byte order mark, as Python's `utf-16` codec (and so
/// pySigma's `utf16` modifier) writes it.
fn utf16_bom(s: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(utf16le(s));
    bytes
}

// "offset" is the value's byte offset modulo 3 in the encoded data. The
// first tests end the data with the value, the last one continues it.

#[test]
fn base64offset_matches_the_value_at_any_offset_of_an_encoding() {
    expect_owned(
        r"
        sel:
          CommandLine|base64offset|contains: 'http://'
        condition: sel",
        &[
            ("offset 0", true, encoded(b"iwr   http://")),
            ("offset 1", true, encoded(b"iwr http://")),
            ("offset 2", true, encoded(b"iwr  http://")),
            ("another encoded text", false, encoded(b"iwr ftp://")),
            ("a near miss", false, encoded(b"iwr http//")),
            (
                "the plain value",
                false,
                vec![("CommandLine", "iwr http://".into())],
            ),
        ],
    );
}

#[test]
fn wide_and_utf16le_encode_as_utf16_little_endian_before_base64() {
    for modifier in ["wide", "utf16le"] {
        expect_owned(
            &format!(
                "
                sel:
                  CommandLine|{modifier}|base64offset|contains: 'ping'
                condition: sel"
            ),
            &[
                ("offset 0", true, encoded(&utf16le("ping"))),
                ("offset 1", true, encoded(&utf16le("c ping"))),
                ("offset 2", true, encoded(&utf16le("cmd ping"))),
                ("utf-8 is not utf-16", false, encoded(b"cmd ping")),
                ("another word", false, encoded(&utf16le("cmd pong"))),
            ],
        );
    }
}

#[test]
fn utf16be_encodes_as_utf16_big_endian_before_base64() {
    expect_owned(
        r"
        sel:
          CommandLine|utf16be|base64offset|contains: 'ping'
        condition: sel",
        &[
            ("offset 0", true, encoded(&utf16be("ping"))),
            ("offset 1", true, encoded(&utf16be("c ping"))),
            ("offset 2", true, encoded(&utf16be("cmd ping"))),
            ("utf-8 is not utf-16", false, encoded(b"cmd ping")),
            ("another word", false, encoded(&utf16be("cmd pong"))),
        ],
    );
}

#[test]
fn utf16_encodes_with_a_byte_order_mark_before_base64() {
    expect_owned(
        r"
        sel:
          CommandLine|utf16|base64offset|contains: 'ping'
        condition: sel",
        &[
            ("utf-16 with its mark", true, encoded(&utf16_bom("ping"))),
            (
                "utf-16le without the mark",
                false,
                encoded(&utf16le("ping")),
            ),
            ("utf-8", false, encoded(b"ping")),
        ],
    );
}

#[test]
fn base64offset_matches_a_value_followed_by_more_text() {
    expect_owned(
        r"
        sel:
          CommandLine|base64offset|contains: 'http://'
        condition: sel",
        &[
            ("offset 0", true, encoded(b"http://evil.example/a")),
            ("offset 1", true, encoded(b"Xhttp://evil.example/a")),
            ("offset 2", true, encoded(b"XYhttp://evil.example/a")),
        ],
    );
    expect_owned(
        r"
        sel:
          CommandLine|wide|base64offset|contains: 'ping'
        condition: sel",
        &[
            ("offset 0", true, encoded(&utf16le("ping 10.0.0.1"))),
            ("offset 1", true, encoded(&utf16le("c ping 10.0.0.1"))),
            ("offset 2", true, encoded(&utf16le("cmd ping 10.0.0.1"))),
        ],
    );
    expect_owned(
        r"
        sel:
          CommandLine|utf16be|base64offset|contains: 'ping'
        condition: sel",
        &[
            ("offset 0", true, encoded(&utf16be("ping 10.0.0.1"))),
            ("offset 1", true, encoded(&utf16be("c ping 10.0.0.1"))),
            ("offset 2", true, encoded(&utf16be("cmd ping 10.0.0.1"))),
        ],
    );
    expect_owned(
        r"
        sel:
          CommandLine|utf16|base64offset|contains: 'ping'
        condition: sel",
        &[(
            "utf-16 with its mark",
            true,
            encoded(&utf16_bom("ping 10.0.0.1")),
        )],
    );
}

#[test]
fn windash_matches_every_dash_spelling_of_a_flag() {
    for written in [" -accepteula", " /accepteula"] {
        expect(
            &format!(
                "
                sel:
                  CommandLine|windash|contains: '{written}'
                condition: sel"
            ),
            &[
                (
                    "a hyphen",
                    true,
                    &[("CommandLine", "procdump.exe -accepteula -ma lsass.exe")],
                ),
                (
                    "a slash",
                    true,
                    &[("CommandLine", "procdump.exe /accepteula -ma lsass.exe")],
                ),
                (
                    "an en dash",
                    true,
                    &[("CommandLine", "procdump.exe \u{2013}accepteula")],
                ),
                (
                    "an em dash",
                    true,
                    &[("CommandLine", "procdump.exe \u{2014}accepteula")],
                ),
                (
                    "a horizontal bar",
                    true,
                    &[("CommandLine", "procdump.exe \u{2015}accepteula")],
                ),
                (
                    "no dash",
                    false,
                    &[("CommandLine", "procdump.exe accepteula")],
                ),
                (
                    "another character",
                    false,
                    &[("CommandLine", "procdump.exe +accepteula")],
                ),
            ],
        );
    }
    expect(
        r"
        sel:
          CommandLine|windash|contains: 'Invoke-Mimikatz'
        condition: sel",
        &[
            (
                "the dash as written",
                true,
                &[("CommandLine", "Invoke-Mimikatz -DumpCreds")],
            ),
            (
                "a dash inside a word is not a flag",
                false,
                &[("CommandLine", "Invoke/Mimikatz -DumpCreds")],
            ),
        ],
    );
}

#[test]
fn windash_matches_flags_spelled_differently_in_one_value() {
    expect(
        r"
        sel:
          CommandLine|windash|contains: ' -ma -accepteula'
        condition: sel",
        &[
            (
                "all hyphens",
                true,
                &[("CommandLine", "procdump -ma -accepteula lsass.exe")],
            ),
            (
                "all slashes",
                true,
                &[("CommandLine", "procdump /ma /accepteula lsass.exe")],
            ),
            (
                "a slash then a hyphen",
                true,
                &[("CommandLine", "procdump /ma -accepteula lsass.exe")],
            ),
            (
                "a hyphen then an en dash",
                true,
                &[("CommandLine", "procdump -ma \u{2013}accepteula lsass.exe")],
            ),
        ],
    );
}

#[test]
fn windash_with_all_matches_every_dash_spelling() {
    expect(
        r"
        sel:
          CommandLine|windash|contains|all:
            - ' -ma'
            - ' /accepteula'
        condition: sel",
        &[
            (
                "as written",
                true,
                &[("CommandLine", "procdump -ma /accepteula lsass.exe")],
            ),
            (
                "swapped spellings",
                true,
                &[("CommandLine", "procdump /ma -accepteula lsass.exe")],
            ),
            (
                "en dashes",
                true,
                &[(
                    "CommandLine",
                    "procdump \u{2013}ma \u{2013}accepteula lsass.exe",
                )],
            ),
            (
                "one flag missing",
                false,
                &[("CommandLine", "procdump -ma lsass.exe")],
            ),
        ],
    );
    expect(
        r"
        sel:
          CommandLine|windash|contains|all:
            - 'Invoke-Mimikatz'
            - ' -DumpCreds'
        condition: sel",
        &[
            (
                "as written",
                true,
                &[("CommandLine", "Invoke-Mimikatz -DumpCreds")],
            ),
            (
                "a dash inside a word is not a flag",
                false,
                &[("CommandLine", "Invoke/Mimikatz -DumpCreds")],
            ),
        ],
    );
}

#[test]
fn windash_matches_mixed_spellings_of_five_flags() {
    expect(
        r"
        sel:
          CommandLine|windash|contains: ' -a -b -c -d -e'
        condition: sel",
        &[
            (
                "all hyphens",
                true,
                &[("CommandLine", "tool -a -b -c -d -e")],
            ),
            (
                "all slashes",
                true,
                &[("CommandLine", "tool /a /b /c /d /e")],
            ),
            ("one slash", true, &[("CommandLine", "tool -a -b -c -d /e")]),
        ],
    );
}

#[test]
fn re_searches_case_sensitively_unless_flagged() {
    expect(
        r"
        sel:
          CommandLine|re: 'whoami\s+/(all|priv)'
        condition: sel",
        &[
            (
                "matching text anywhere in the value",
                true,
                &[("CommandLine", "cmd /c whoami  /priv")],
            ),
            (
                "another case",
                false,
                &[("CommandLine", "cmd /c WHOAMI /priv")],
            ),
            (
                "not matching",
                false,
                &[("CommandLine", "cmd /c whoami /groups")],
            ),
        ],
    );
    expect(
        r"
        sel:
          CommandLine|re|i: 'WHOAMI'
        condition: sel",
        &[
            ("another case with i", true, &[("CommandLine", "whoami")]),
            ("not matching", false, &[("CommandLine", "hostname")]),
        ],
    );
    expect(
        r"
        sel:
          CommandLine|re|m: '^/all$'
        condition: sel",
        &[
            (
                "a whole line with m",
                true,
                &[("CommandLine", "whoami\n/all\nexit")],
            ),
            ("no such line", false, &[("CommandLine", "whoami /all")]),
        ],
    );
    expect(
        r"
        sel:
          CommandLine|re: '^/all$'
        condition: sel",
        &[(
            "^ and $ anchor the whole value without m",
            false,
            &[("CommandLine", "whoami\n/all\nexit")],
        )],
    );
    expect(
        r"
        sel:
          CommandLine|re|s: 'whoami.+exit'
        condition: sel",
        &[
            (
                ". matches a newline with s",
                true,
                &[("CommandLine", "whoami\n/all\nexit")],
            ),
            ("not matching", false, &[("CommandLine", "whoami /all")]),
        ],
    );
    expect(
        r"
        sel:
          CommandLine|re: 'whoami.+exit'
        condition: sel",
        &[(
            ". does not match a newline without s",
            false,
            &[("CommandLine", "whoami\n/all\nexit")],
        )],
    );
}

#[test]
fn cidr_matches_addresses_inside_the_network() {
    expect(
        r"
        sel:
          IpAddress|cidr:
            - '10.0.0.0/8'
            - '192.168.1.0/24'
        condition: sel",
        &[
            (
                "inside the first network",
                true,
                &[("IpAddress", "10.20.30.40")],
            ),
            (
                "inside the second network",
                true,
                &[("IpAddress", "192.168.1.254")],
            ),
            ("just outside", false, &[("IpAddress", "192.168.2.1")]),
            ("elsewhere", false, &[("IpAddress", "11.0.0.1")]),
            ("not an address", false, &[("IpAddress", "-")]),
        ],
    );
    expect(
        r"
        sel:
          IpAddress|cidr: 'fe80::/10'
        condition: sel",
        &[
            (
                "an IPv6 address inside",
                true,
                &[("IpAddress", "fe80::1ff:fe23:4567:890a")],
            ),
            (
                "an IPv6 address outside",
                false,
                &[("IpAddress", "2001:db8::1")],
            ),
            ("an IPv4 address", false, &[("IpAddress", "10.0.0.1")]),
        ],
    );
}

#[test]
fn exists_tests_whether_the_field_is_present() {
    expect(
        r"
        sel:
          User: alice
          CommandLine|exists: true
        condition: sel",
        &[
            (
                "present",
                true,
                &[("User", "alice"), ("CommandLine", "whoami")],
            ),
            (
                "present and empty",
                true,
                &[("User", "alice"), ("CommandLine", "")],
            ),
            ("absent", false, &[("User", "alice")]),
        ],
    );
    expect(
        r"
        sel:
          User: alice
          CommandLine|exists: false
        condition: sel",
        &[
            ("absent", true, &[("User", "alice")]),
            (
                "present",
                false,
                &[("User", "alice"), ("CommandLine", "whoami")],
            ),
        ],
    );
}

#[test]
fn gt_gte_lt_and_lte_compare_numbers() {
    let cases = [
        ("gt", "4", true),
        ("gt", "3", false),
        ("gt", "2", false),
        ("gte", "4", true),
        ("gte", "3", true),
        ("gte", "2", false),
        ("lt", "2", true),
        ("lt", "3", false),
        ("lt", "4", false),
        ("lte", "2", true),
        ("lte", "3", true),
        ("lte", "4", false),
        // numerically, not as text
        ("gt", "10", true),
        ("lt", "10", false),
        // text that is not a number never compares
        ("gt", "many", false),
        ("lt", "", false),
    ];
    let failures: Vec<String> = cases
        .iter()
        .filter(|&&(op, value, want)| {
            let det = format!("sel:\n  LogonType|{op}: 3\ncondition: sel");
            check(&det, &[("LogonType", value)]) != want
        })
        .map(|(op, value, want)| format!("LogonType={value:?} |{op} 3 should be {want}"))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        !check("sel:\n  LogonType|gt: 3\ncondition: sel", &[]),
        "an absent field never compares"
    );
}

#[test]
fn expand_does_not_panic() {
    let yaml = rule(
        r"
        sel:
          SubjectUserName|expand: '%admins%'
        condition: sel",
    );
    let set = vigil_sigma::load_str(&yaml, "test.yml");
    // Without a pipeline the placeholder has no values: a diagnostic or a
    // rule that runs are both acceptable; a panic is not.
    let (det, _) = WindowsDetector::new(set, &WindowsOptions::default());
    let _ = hits(&det, &event(&[("SubjectUserName", "%admins%")]));
    let _ = hits(&det, &event(&[("SubjectUserName", "alice")]));
}

#[test]
fn fieldref_compares_two_fields_of_the_event() {
    expect(
        r"
        sel:
          TargetUserName|fieldref: SubjectUserName
        condition: sel",
        &[
            (
                "equal values",
                true,
                &[("SubjectUserName", "alice"), ("TargetUserName", "alice")],
            ),
            (
                "different values",
                false,
                &[("SubjectUserName", "alice"), ("TargetUserName", "bob")],
            ),
            (
                "the referenced field absent",
                false,
                &[("TargetUserName", "alice")],
            ),
            ("the field absent", false, &[("SubjectUserName", "alice")]),
        ],
    );
}

#[test]
fn cased_matches_case_sensitively() {
    expect(
        r"
        sel:
          CommandLine|cased|contains: 'DumpCreds'
        condition: sel",
        &[
            (
                "the same case",
                true,
                &[("CommandLine", "Invoke-Mimikatz -DumpCreds")],
            ),
            (
                "another case",
                false,
                &[("CommandLine", "invoke-mimikatz -dumpcreds")],
            ),
        ],
    );
    expect(
        r"
        sel:
          User|cased: Alice
        condition: sel",
        &[
            ("the same case", true, &[("User", "Alice")]),
            ("another case", false, &[("User", "alice")]),
        ],
    );
}

#[test]
fn neq_matches_a_present_different_value() {
    expect(
        r"
        sel:
          EventID: 4624
          LogonType|neq: 3
        condition: sel",
        &[
            (
                "a different value",
                true,
                &[("EventID", "4624"), ("LogonType", "10")],
            ),
            (
                "the same value",
                false,
                &[("EventID", "4624"), ("LogonType", "3")],
            ),
        ],
    );
}

// ---------------------------------------------------------------- conditions

/// Three selections on three fields, each true when its field is `y`.
const ABC: &str = r"
    a:
      A: y
    b:
      B: y
    c:
      C: y";

/// Fields for which `a`, `b` and `c` are as given.
fn abc(a: bool, b: bool, c: bool) -> [(&'static str, &'static str); 3] {
    let v = |x: bool| if x { "y" } else { "n" };
    [("A", v(a)), ("B", v(b)), ("C", v(c))]
}

/// Check `condition` over all eight combinations of `a`, `b`, `c`.
fn truth_table(condition: &str, want: impl Fn(bool, bool, bool) -> bool) {
    let detection = format!("{}\ncondition: {condition}", dedent(ABC));
    let mut failures = Vec::new();
    for bits in 0..8u8 {
        let (a, b, c) = (bits & 4 != 0, bits & 2 != 0, bits & 1 != 0);
        let got = check(&detection, &abc(a, b, c));
        if got != want(a, b, c) {
            failures.push(format!("a={a} b={b} c={c}: got {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "`{condition}` is wrong for {failures:#?}"
    );
}

#[test]
fn and_or_and_not_follow_boolean_logic() {
    truth_table("a and b", |a, b, _| a && b);
    truth_table("a or b", |a, b, _| a || b);
    truth_table("not a", |a, _, _| !a);
    truth_table("a and not b", |a, b, _| a && !b);
}

#[test]
fn parentheses_group_subexpressions() {
    truth_table("(a or b) and c", |a, b, c| (a || b) && c);
    truth_table("a or (b and c)", |a, b, c| a || (b && c));
    truth_table("not (a or b)", |a, b, _| !(a || b));
    truth_table("not (a and (b or c))", |a, b, c| !(a && (b || c)));
}

#[test]
fn not_binds_tighter_than_and_which_binds_tighter_than_or() {
    truth_table("a or b and c", |a, b, c| a || (b && c));
    truth_table("a and b or c", |a, b, c| (a && b) || c);
    truth_table("not a and b", |a, b, _| !a && b);
    truth_table("not a or b", |a, b, _| !a || b);
    truth_table("a or not b and c", |a, b, c| a || (!b && c));
}

/// Two selections named `sel_*` and one named `filter`.
const SEL_STAR: &str = r"
    sel_a:
      A: y
    sel_b:
      B: y
    filter:
      C: y";

fn quantified(condition: &str, want: impl Fn(bool, bool, bool) -> bool) {
    let detection = format!("{}\ncondition: {condition}", dedent(SEL_STAR));
    let mut failures = Vec::new();
    for bits in 0..8u8 {
        let (a, b, c) = (bits & 4 != 0, bits & 2 != 0, bits & 1 != 0);
        let got = check(&detection, &abc(a, b, c));
        if got != want(a, b, c) {
            failures.push(format!("sel_a={a} sel_b={b} filter={c}: got {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "`{condition}` is wrong for {failures:#?}"
    );
}

#[test]
fn one_of_a_pattern_needs_any_matching_selection() {
    quantified("1 of sel_*", |a, b, _| a || b);
    quantified("any of sel_*", |a, b, _| a || b);
    quantified("1 of sel_* and not filter", |a, b, c| (a || b) && !c);
}

#[test]
fn all_of_a_pattern_needs_every_matching_selection() {
    quantified("all of sel_*", |a, b, _| a && b);
    quantified("all of sel_* or filter", |a, b, c| (a && b) || c);
}

#[test]
fn them_means_every_selection() {
    quantified("1 of them", |a, b, c| a || b || c);
    quantified("all of them", |a, b, c| a && b && c);
}

#[test]
fn a_count_of_a_pattern_needs_that_many_selections() {
    let detection = r"
        sel_a:
          A: y
        sel_b:
          B: y
        sel_c:
          C: y
        condition: 2 of sel_*";
    let mut failures = Vec::new();
    for bits in 0..8u8 {
        let (a, b, c) = (bits & 4 != 0, bits & 2 != 0, bits & 1 != 0);
        let want = u8::from(a) + u8::from(b) + u8::from(c) >= 2;
        let got = check(detection, &abc(a, b, c));
        if got != want {
            failures.push(format!("a={a} b={b} c={c}: got {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "`2 of sel_*` is wrong for {failures:#?}"
    );
}

// ---------------------------------------------------------------- filters

const FILTERED: &str = r"
title: Whoami
id: t-whoami
logsource: {product: windows, service: security}
detection:
  sel:
    CommandLine|contains: whoami
  condition: sel
---
title: Hostname
id: t-hostname
logsource: {product: windows, service: security}
detection:
  sel:
    CommandLine|contains: hostname
  condition: sel
---
title: Not the system account
logsource: {product: windows, service: security}
filter:
  rules:
    - t-whoami
  selection:
    User: SYSTEM
  condition: not selection
";

#[test]
fn a_filter_rule_removes_matches_from_the_rules_it_names() {
    let set = vigil_sigma::load_str(FILTERED, "test.yml");
    assert!(set.diagnostics.is_empty(), "{:#?}", set.diagnostics);
    assert_eq!(
        set.filters.len(),
        1,
        "the filter document is read as a filter"
    );
    let cases: [(&str, Fields<'_>, &[&str]); 4] = [
        (
            "a user the filter keeps",
            &[("CommandLine", "whoami"), ("User", "alice")],
            &["t-whoami"],
        ),
        (
            "the user the filter removes",
            &[("CommandLine", "whoami"), ("User", "SYSTEM")],
            &[],
        ),
        (
            "a rule the filter does not name",
            &[("CommandLine", "hostname"), ("User", "SYSTEM")],
            &["t-hostname"],
        ),
        (
            "no user at all",
            &[("CommandLine", "whoami")],
            &["t-whoami"],
        ),
    ];
    for (why, fields, want) in cases {
        assert_eq!(fired(FILTERED, fields), want, "{why}");
    }
}

#[test]
fn a_filter_for_another_logsource_leaves_the_rule_alone() {
    let yaml = FILTERED.replace(
        "title: Not the system account\nlogsource: {product: windows, service: security}",
        "title: Not the system account\nlogsource: {product: windows, service: system}",
    );
    assert_eq!(
        fired(&yaml, &[("CommandLine", "whoami"), ("User", "SYSTEM")]),
        ["t-whoami"]
    );
}

// ---------------------------------------------------------------- correlations

/// A detector and a correlator over one YAML text.
struct Pipeline {
    det: WindowsDetector,
    corr: Correlator,
}

impl Pipeline {
    fn new(yaml: &str) -> Pipeline {
        let set = vigil_sigma::load_str(yaml, "test.yml");
        assert!(set.diagnostics.is_empty(), "{:#?}", set.diagnostics);
        let (corr, diags) = Correlator::new(&set.rules, &set.correlations);
        assert!(diags.is_empty(), "{diags:#?}");
        let corr = corr.expect("a correlation rule");
        let (det, skipped) = WindowsDetector::new(set, &WindowsOptions::default());
        assert!(skipped.is_empty(), "{skipped:#?}");
        Pipeline { det, corr }
    }

    /// Feed one event at `t` seconds; return the correlations that fired,
    /// as (id, value, group).
    fn feed(&mut self, t: i64, fields: &[(&str, &str)]) -> Vec<Firing> {
        let e = event(fields);
        let hits = hits(&self.det, &e);
        self.corr
            .feed(&e, &hits, t)
            .into_iter()
            .map(|(i, r)| {
                let body = r.as_correlation().expect("a correlation result");
                (
                    self.corr.rules()[i].id.clone(),
                    body.aggregated_value,
                    body.group_key.clone(),
                )
            })
            .collect()
    }

    /// Feed events in order; return the indices of those on which `id` fired.
    fn firing_steps(&mut self, id: &str, events: &[(i64, &[(&str, &str)])]) -> Vec<usize> {
        let mut out = Vec::new();
        for (step, (t, fields)) in events.iter().enumerate() {
            if self.feed(*t, fields).iter().any(|(c, _, _)| c == id) {
                out.push(step);
            }
        }
        out
    }
}

const EVENT_COUNT: &str = r"
title: Failed logon
id: t-failed
logsource: {product: windows, service: security}
detection:
  sel:
    EventID: 4625
  condition: sel
---
title: Many failed logons
id: t-many-failed
correlation:
  type: event_count
  rules:
    - t-failed
  group-by:
    - TargetUserName
  timespan: 10m
  condition:
    gte: 3
";

fn failed(user: &str) -> [(&str, &str); 2] {
    [("EventID", "4625"), ("TargetUserName", user)]
}

#[test]
fn correlations_group_security_4688_events_by_the_mapped_field() {
    let yaml = r"
title: Executable in Temp
id: t-temp-exe
name: temp_exe
logsource: {product: windows, category: process_creation}
detection:
  sel:
    Image|contains: '\Temp\'
  condition: sel
---
title: The same Temp executable twice
id: t-temp-twice
correlation:
  type: event_count
  rules: [temp_exe]
  group-by: [Image]
  timespan: 10m
  condition:
    gte: 2
";
    let mut p = Pipeline::new(yaml);
    let run = [("EventID", "4688"), ("NewProcessName", r"C:\Temp\x.exe")];
    let other = [("EventID", "4688"), ("NewProcessName", r"C:\Temp\y.exe")];
    assert!(p.feed(0, &run).is_empty());
    assert!(
        p.feed(10, &other).is_empty(),
        "another Image is another group"
    );
    let fired = p.feed(20, &run);
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(
        fired[0].2,
        [("Image".to_owned(), r"C:\Temp\x.exe".to_owned())]
    );
}

#[test]
fn event_count_fires_when_enough_events_of_one_group_fall_in_the_timespan() {
    let mut p = Pipeline::new(EVENT_COUNT);
    assert!(p.feed(0, &failed("alice")).is_empty());
    assert!(p.feed(60, &failed("alice")).is_empty());
    let fired = p.feed(120, &failed("alice"));
    assert_eq!(fired.len(), 1, "the third failure fires: {fired:?}");
    let (id, value, group) = &fired[0];
    assert_eq!(id, "t-many-failed");
    assert_eq!(*value, 3.0);
    assert_eq!(group, &[("TargetUserName".to_owned(), "alice".to_owned())]);
}

#[test]
fn event_count_does_not_fire_across_groups_outside_the_timespan_or_on_other_events() {
    let alice = failed("alice");
    let bob = failed("bob");
    let other = [("EventID", "4624"), ("TargetUserName", "alice")];
    let mut p = Pipeline::new(EVENT_COUNT);
    let steps = p.firing_steps(
        "t-many-failed",
        &[
            (0, &alice),
            (10, &bob),
            (20, &other),
            (30, &alice),
            (40, &bob),
            (50, &other),
        ],
    );
    assert!(
        steps.is_empty(),
        "two per group and non-matching events: {steps:?}"
    );
    let mut p = Pipeline::new(EVENT_COUNT);
    let steps = p.firing_steps(
        "t-many-failed",
        &[(0, &alice), (400, &alice), (1000, &alice)],
    );
    assert!(
        steps.is_empty(),
        "three failures spread over more than 10m: {steps:?}"
    );
    let steps = p.firing_steps("t-many-failed", &[(1010, &alice), (1020, &alice)]);
    assert_eq!(
        steps,
        [1],
        "then three within 10m (t=1000, 1010, 1020) fire"
    );
}

const VALUE_COUNT: &str = r"
title: Logon
id: t-logon
logsource: {product: windows, service: security}
detection:
  sel:
    EventID: 4624
  condition: sel
---
title: Logons from many addresses
id: t-many-addresses
correlation:
  type: value_count
  rules:
    - t-logon
  group-by:
    - TargetUserName
  timespan: 10m
  condition:
    field: IpAddress
    gte: 3
";

fn logon<'a>(user: &'a str, ip: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("EventID", "4624"),
        ("TargetUserName", user),
        ("IpAddress", ip),
    ]
}

#[test]
fn value_count_fires_on_enough_distinct_values_in_one_group() {
    let mut p = Pipeline::new(VALUE_COUNT);
    let steps = p.firing_steps(
        "t-many-addresses",
        &[
            (0, &logon("alice", "10.0.0.1")),
            (10, &logon("alice", "10.0.0.1")),
            (20, &logon("alice", "10.0.0.1")),
            (30, &logon("bob", "10.0.0.2")),
            (40, &logon("alice", "10.0.0.2")),
            (50, &logon("bob", "10.0.0.3")),
        ],
    );
    assert!(
        steps.is_empty(),
        "two distinct addresses per user: {steps:?}"
    );
    let fired = p.feed(60, &logon("alice", "10.0.0.3"));
    assert_eq!(fired.len(), 1, "a third address for alice fires: {fired:?}");
    assert_eq!(fired[0].1, 3.0);
    assert_eq!(
        fired[0].2,
        [("TargetUserName".to_owned(), "alice".to_owned())]
    );
}

#[test]
fn value_count_does_not_fire_outside_the_timespan() {
    let mut p = Pipeline::new(VALUE_COUNT);
    let steps = p.firing_steps(
        "t-many-addresses",
        &[
            (0, &logon("alice", "10.0.0.1")),
            (400, &logon("alice", "10.0.0.2")),
            (1000, &logon("alice", "10.0.0.3")),
        ],
    );
    assert!(
        steps.is_empty(),
        "three addresses over more than 10m: {steps:?}"
    );
}

/// Two rules (user created, user added to a group) and a correlation of
/// type `kind` over them, with `condition` (YAML lines, may be empty).
fn temporal(kind: &str, condition: &str) -> String {
    format!(
        r"
title: User created
id: t-created
logsource: {{product: windows, service: security}}
detection:
  sel:
    EventID: 4720
  condition: sel
---
title: User added to a group
id: t-added
logsource: {{product: windows, service: security}}
detection:
  sel:
    EventID: 4732
  condition: sel
---
title: New user promoted
id: t-promoted
correlation:
  type: {kind}
  rules:
    - t-created
    - t-added
  group-by:
    - TargetUserName
  timespan: 5m
{condition}"
    )
}

const BOTH_RULES: &str = "  condition:\n    gte: 2\n";

fn created(user: &str) -> [(&str, &str); 2] {
    [("EventID", "4720"), ("TargetUserName", user)]
}

fn added(user: &str) -> [(&str, &str); 2] {
    [("EventID", "4732"), ("TargetUserName", user)]
}

#[test]
fn temporal_fires_when_every_rule_matches_in_one_group_in_any_order() {
    let yaml = temporal("temporal", BOTH_RULES);
    let mut p = Pipeline::new(&yaml);
    let steps = p.firing_steps(
        "t-promoted",
        &[(0, &created("alice")), (60, &added("alice"))],
    );
    assert_eq!(steps, [1], "created then added");
    let mut p = Pipeline::new(&yaml);
    let steps = p.firing_steps("t-promoted", &[(0, &added("bob")), (60, &created("bob"))]);
    assert_eq!(steps, [1], "added then created");
}

#[test]
fn temporal_does_not_fire_across_groups_or_outside_the_timespan() {
    let yaml = temporal("temporal", BOTH_RULES);
    let mut p = Pipeline::new(&yaml);
    let steps = p.firing_steps(
        "t-promoted",
        &[
            (0, &created("alice")),
            (10, &added("bob")),
            (20, &created("alice")),
        ],
    );
    assert!(steps.is_empty(), "different users: {steps:?}");
    let mut p = Pipeline::new(&yaml);
    let steps = p.firing_steps(
        "t-promoted",
        &[(0, &created("alice")), (600, &added("alice"))],
    );
    assert!(steps.is_empty(), "ten minutes apart: {steps:?}");
}

#[test]
fn temporal_without_a_condition_needs_every_rule() {
    let mut p = Pipeline::new(&temporal("temporal", ""));
    let steps = p.firing_steps(
        "t-promoted",
        &[(0, &created("alice")), (60, &added("alice"))],
    );
    assert_eq!(steps, [1], "fires on the second rule, not the first");
}

#[test]
fn temporal_ordered_fires_only_in_the_order_of_its_rules() {
    for condition in ["", BOTH_RULES] {
        let yaml = temporal("temporal_ordered", condition);
        let mut p = Pipeline::new(&yaml);
        let steps = p.firing_steps(
            "t-promoted",
            &[(0, &created("alice")), (60, &added("alice"))],
        );
        assert_eq!(steps, [1], "created then added ({condition:?})");
        let mut p = Pipeline::new(&yaml);
        let steps = p.firing_steps("t-promoted", &[(0, &added("bob")), (60, &created("bob"))]);
        assert!(
            steps.is_empty(),
            "added then created ({condition:?}): {steps:?}"
        );
        let mut p = Pipeline::new(&yaml);
        let steps = p.firing_steps(
            "t-promoted",
            &[
                (0, &created("carol")),
                (10, &added("dave")),
                (600, &added("carol")),
            ],
        );
        assert!(
            steps.is_empty(),
            "another user, or too late ({condition:?}): {steps:?}"
        );
    }
}

// ---------------------------------------------------------------- routing

#[test]
fn an_event_id_in_the_detection_narrows_routing_only_where_every_match_needs_it() {
    let cases: [(&str, &str, bool, Fields<'_>); 12] = [
        (
            "sel:\n  EventID: 4624\ncondition: sel",
            "the id",
            true,
            &[("EventID", "4624")],
        ),
        (
            "sel:\n  EventID: 4624\ncondition: sel",
            "another id",
            false,
            &[("EventID", "4625")],
        ),
        (
            "sel:\n  EventID: '4624'\ncondition: sel",
            "the id written as text",
            true,
            &[("EventID", "4624")],
        ),
        (
            "sel:\n  EventID: [4624, 4625]\ncondition: sel",
            "the second id of a list",
            true,
            &[("EventID", "4625")],
        ),
        (
            "sel:\n  EventID: 4624\nother:\n  User: bob\ncondition: sel or other",
            "the other side of an or",
            true,
            &[("EventID", "4688"), ("User", "bob")],
        ),
        (
            "sel_a:\n  EventID: 4624\nsel_b:\n  User: bob\ncondition: 1 of sel_*",
            "another selection of 1 of",
            true,
            &[("EventID", "4688"), ("User", "bob")],
        ),
        (
            "sel:\n  - EventID: 4624\n  - User: bob\ncondition: sel",
            "another map of a list of maps",
            true,
            &[("EventID", "4688"), ("User", "bob")],
        ),
        (
            "sel:\n  EventID: 4624\ncondition: not sel",
            "a negated id, another id",
            true,
            &[("EventID", "4688")],
        ),
        (
            "sel:\n  EventID: 4624\ncondition: not sel",
            "a negated id, the id",
            false,
            &[("EventID", "4624")],
        ),
        (
            "sel:\n  EventID|gt: 4000\ncondition: sel",
            "a comparison",
            true,
            &[("EventID", "4688")],
        ),
        (
            "sel:\n  EventID: '46*'\ncondition: sel",
            "a wildcard",
            true,
            &[("EventID", "4688")],
        ),
        (
            "sel:\n  EventID: 4624\nother:\n  EventID: 4625\ncondition: sel and other",
            "contradictory ids",
            false,
            &[("EventID", "4624")],
        ),
    ];
    let failures: Vec<String> = cases
        .iter()
        .filter(|&&(detection, _, want, fields)| check(detection, fields) != want)
        .map(|(detection, why, want, _)| format!("{why}: expected {want} for\n{detection}"))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn characters_that_lowercase_to_ascii_match_like_their_ascii_letter() {
    // rsigma lowercases with Unicode rules (the Kelvin sign U+212A becomes
    // 'k', U+0130 becomes 'i' plus a combining dot); the prefilter folds them
    // the same way, so an attacker cannot hide "kerberos" behind a Kelvin
    // sign. (pySigma's SQLite backend folds ASCII only and would miss it.)
    assert!(check(
        "sel:\n  CommandLine|contains: 'kerberos'\ncondition: sel",
        &[("CommandLine", "klist \u{212A}erberos")],
    ));
    // U+0130 lowercases to 'i' followed by a combining dot, which then
    // stands between 'i' and 'n': both modes agree that it does not match.
    assert!(!check(
        "sel:\n  CommandLine|contains: 'invoke-mimikatz'\ncondition: sel",
        &[("CommandLine", "\u{0130}nvoke-Mimikatz")],
    ));
}

#[test]
fn a_case_insensitive_regex_matches_a_long_s_like_an_s() {
    // Unicode case folding equates U+017F (long s) with 's'; the prefilter
    // must not hide the rule from such a value.
    assert!(check(
        "sel:\n  CommandLine|re: '(?i)sekurlsa'\ncondition: sel",
        &[("CommandLine", "mimikatz \u{017F}ekurlsa::logonpasswords")],
    ));
}

#[test]
fn a_process_creation_rule_sees_sysmon_event_1_and_security_4688_only() {
    let yaml = r"
title: Whoami
id: t-whoami
logsource: {product: windows, category: process_creation}
detection:
  sel:
    Image|endswith: '\whoami.exe'
  condition: sel
";
    let image = ("Image", r"C:\Windows\System32\whoami.exe");
    let sysmon = "Microsoft-Windows-Sysmon/Operational";
    let cases: [(&str, Fields<'_>, bool); 7] = [
        (
            "sysmon event 1",
            &[("Channel", sysmon), ("EventID", "1"), image],
            true,
        ),
        (
            "the channel in another case",
            &[
                ("Channel", "microsoft-windows-sysmon/operational"),
                ("EventID", "1"),
                image,
            ],
            true,
        ),
        (
            "sysmon event 3",
            &[("Channel", sysmon), ("EventID", "3"), image],
            false,
        ),
        (
            "security event 1",
            &[("Channel", "Security"), ("EventID", "1"), image],
            false,
        ),
        (
            "security event 4688 with the field under the rule's name",
            &[("Channel", "Security"), ("EventID", "4688"), image],
            true,
        ),
        (
            "security event 4688 with its own field name",
            &[
                ("Channel", "Security"),
                ("EventID", "4688"),
                ("NewProcessName", r"C:\Windows\System32\whoami.exe"),
            ],
            true,
        ),
        (
            "security event 4689 (process exit)",
            &[
                ("Channel", "Security"),
                ("EventID", "4689"),
                ("NewProcessName", r"C:\Windows\System32\whoami.exe"),
            ],
            false,
        ),
    ];
    for (why, fields, want) in cases {
        assert_eq!(!fired(yaml, fields).is_empty(), want, "{why}");
    }
}

// ---------------------------------------------------------------- bad rules

#[test]
fn bad_rules_give_a_diagnostic_naming_the_reason_and_do_not_panic() {
    let cases = [
        (
            "an unknown modifier",
            "sel:\n  Image|endswithh: x\ncondition: sel",
            "endswithh",
        ),
        (
            "bad condition syntax",
            "sel:\n  Image: x\ncondition: sel and and",
            "condition",
        ),
        (
            "an unknown identifier",
            "sel:\n  Image: x\ncondition: sel and filter",
            "filter",
        ),
    ];
    for (why, detection, reason) in cases {
        let set = vigil_sigma::load_str(&rule(detection), "bad.yml");
        assert!(set.rules.is_empty(), "{why}: the rule is not loaded");
        assert!(!set.diagnostics.is_empty(), "{why}: a diagnostic");
        let text: Vec<String> = set.diagnostics.iter().map(ToString::to_string).collect();
        assert!(
            text.iter()
                .any(|t| t.contains("bad.yml") && t.to_lowercase().contains(reason)),
            "{why}: the diagnostic names the file and {reason:?}: {text:#?}"
        );
        let (det, _) = WindowsDetector::new(set, &WindowsOptions::default());
        assert!(hits(&det, &event(&[("Image", "x")])).is_empty());
    }
}

#[test]
fn a_bad_rule_does_not_stop_a_good_rule_in_the_same_text() {
    let yaml = format!(
        "{}---\n{}",
        rule("sel:\n  Image|endswithh: x\ncondition: sel"),
        rule("sel:\n  Image: x\ncondition: sel").replace("id: t-rule", "id: t-good"),
    );
    let set = vigil_sigma::load_str(&yaml, "mixed.yml");
    assert_eq!(set.diagnostics.len(), 1, "{:#?}", set.diagnostics);
    assert_eq!(set.rules.len(), 1);
    let (det, _) = WindowsDetector::new(set, &WindowsOptions::default());
    let ids: Vec<String> = hits(&det, &event(&[("Image", "x")]))
        .iter()
        .map(|h| det.rules()[h.rule as usize].info.id.clone())
        .collect();
    assert_eq!(ids, ["t-good"]);
}
