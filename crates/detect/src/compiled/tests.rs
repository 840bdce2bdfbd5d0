use super::*;

fn program(detection: &str) -> (Program, CompiledRule) {
    let yaml = format!(
        "title: t\nid: t\nlogsource: {{product: windows, category: process_creation}}\ndetection:\n{detection}"
    );
    let set = vigil_sigma::load_str(&yaml, "t.yml");
    assert!(set.diagnostics.is_empty(), "{:?}", set.diagnostics);
    let compiled = set.rules[0].compiled.clone();
    let program = Program::compile(&compiled, &FieldNames::default()).expect("compiles");
    (program, compiled)
}

fn event(pairs: &[(&str, &str)]) -> FlatEvent {
    let mut e = FlatEvent::new();
    for (k, v) in pairs {
        e.push(k, v, false);
    }
    e
}

/// Our answer, checked against rsigma's on the same event.
fn matches(p: &(Program, CompiledRule), e: &FlatEvent) -> bool {
    let mut lowered = Lowered::default();
    let index = EventIndex::new(e);
    let ours = p.0.matches(&mut EventView::new(
        e,
        &Aliases::default(),
        &index,
        &mut lowered,
    ));
    let theirs = rsigma_eval::evaluate_rule(&p.1, &Doc::plain(e));
    assert_eq!(ours, theirs.is_some());
    ours
}

#[test]
fn a_filter_excludes_what_the_selection_admits() {
    let p = program(
        "  sel:\n    Image|endswith: '.exe'\n  filter:\n    Image|endswith: '\\cmd.exe'\n  condition: sel and not filter\n",
    );
    assert!(matches(&p, &event(&[("Image", r"C:\x\WHOAMI.EXE")])));
    assert!(!matches(&p, &event(&[("Image", r"C:\x\CMD.exe")])));
    assert!(!matches(&p, &event(&[("Other", "a.exe")])));
}

#[test]
fn selectors_count_the_detections_their_pattern_names() {
    let p = program(
        "  sel_a:\n    CommandLine|contains: 'aaa'\n  sel_b:\n    CommandLine|contains: 'bbb'\n  sel_c:\n    CommandLine|contains: 'ccc'\n  condition: 2 of sel_*\n",
    );
    assert!(!matches(&p, &event(&[("CommandLine", "aaa")])));
    assert!(matches(&p, &event(&[("CommandLine", "AAA bbb")])));
    let all = program(
        "  sel_a:\n    CommandLine|contains: 'aaa'\n  sel_b:\n    CommandLine|contains: 'bbb'\n  condition: all of them\n",
    );
    assert!(matches(&all, &event(&[("CommandLine", "bbb aaa")])));
    assert!(!matches(&all, &event(&[("CommandLine", "bbb")])));
}

#[test]
fn an_absent_field_matches_only_null() {
    let p = program("  sel:\n    Image: null\n  condition: sel\n");
    assert!(matches(&p, &event(&[("CommandLine", "x")])));
    assert!(!matches(&p, &event(&[("Image", "x")])));
    let exists = program("  sel:\n    Image|exists: false\n  condition: sel\n");
    assert!(matches(&exists, &event(&[("CommandLine", "x")])));
    assert!(!matches(&exists, &event(&[("Image", "")])));
}

#[test]
fn keywords_search_every_value() {
    let p = program("  keywords:\n    - 'mimikatz'\n    - 'sekurlsa::*'\n  condition: keywords\n");
    assert!(matches(
        &p,
        &event(&[("A", "x"), ("B", "run MimiKatz now")])
    ));
    assert!(matches(&p, &event(&[("A", "SEKURLSA::logonpasswords")])));
    assert!(!matches(
        &p,
        &event(&[("A", "sekurlsa"), ("B", "mimi katz")])
    ));
}

#[test]
fn field_lookups_fall_back_to_the_channel_field_map() {
    let p = program("  sel:\n    Image|endswith: '\\whoami.exe'\n  condition: sel\n");
    let e = event(&[("NewProcessName", r"C:\whoami.exe")]);
    let aliases = Aliases::new(vec![("Image".to_owned(), "NewProcessName".to_owned())]);
    let mut lowered = Lowered::default();
    let index = EventIndex::new(&e);
    assert!(p.0.matches(&mut EventView::new(&e, &aliases, &index, &mut lowered)));
    let none = Aliases::default();
    assert!(!p.0.matches(&mut EventView::new(&e, &none, &index, &mut lowered)));
}

#[test]
fn matched_fields_are_those_rsigma_reports() {
    let p = program(
        "  sel:\n    Image|endswith: '\\whoami.exe'\n    CommandLine|contains: '/all'\n  other:\n    User: 'x'\n  condition: sel or other\n",
    );
    let e = event(&[
        ("Image", r"C:\whoami.exe"),
        ("CommandLine", "whoami /ALL"),
        ("User", "x"),
    ]);
    let mut lowered = Lowered::default();
    let index = EventIndex::new(&e);
    let none = Aliases::default();
    let ours =
        p.0.matched_fields(&mut EventView::new(&e, &none, &index, &mut lowered));
    let theirs: Vec<(String, String)> = rsigma_eval::evaluate_rule(&p.1, &Doc::plain(&e))
        .and_then(|r| {
            r.as_detection().map(|d| {
                d.matched_fields
                    .iter()
                    .map(|f| (f.field.clone(), f.value.as_str().unwrap_or("").to_owned()))
                    .collect()
            })
        })
        .unwrap_or_default();
    assert_eq!(ours, theirs);
    assert_eq!(ours.len(), 2);
}

#[test]
fn numeric_comparisons_parse_the_value() {
    let p = program("  sel:\n    Size|gte: 100\n  condition: sel\n");
    assert!(matches(&p, &event(&[("Size", "150")])));
    assert!(!matches(&p, &event(&[("Size", "15")])));
    assert!(!matches(&p, &event(&[("Size", "big")])));
}

#[test]
fn a_regex_is_skipped_only_on_ascii_values_without_its_required_literal() {
    let p = program(
        "  sel:\n    CommandLine|re: '(?i)\\.exe\\s+.{0,20}werfaultsecure'\n  condition: sel\n",
    );
    assert!(matches(
        &p,
        &event(&[("CommandLine", "a.EXE  WerFaultSecure")])
    ));
    assert!(!matches(&p, &event(&[("CommandLine", "a.exe werfault")])));
    // Case folding lets the long s match `s`: the regex decides.
    assert!(matches(
        &p,
        &event(&[("CommandLine", "a.exe werfault\u{17F}ecure")])
    ));
}

#[test]
fn lists_of_contains_values_match_as_one_literal_set() {
    let p = program(
        "  sel:\n    CommandLine|contains:\n      - 'aaa'\n      - 'BBB'\n      - '\u{1F986}'\n  cased:\n    User|contains|cased:\n      - 'Admin'\n      - 'Root'\n  condition: sel and cased\n",
    );
    assert!(matches(
        &p,
        &event(&[("CommandLine", "x bbb"), ("User", "xRoot")])
    ));
    assert!(matches(
        &p,
        &event(&[("CommandLine", "\u{1F986}"), ("User", "Admin")])
    ));
    assert!(!matches(
        &p,
        &event(&[("CommandLine", "x bbb"), ("User", "root")])
    ));
    assert!(!matches(
        &p,
        &event(&[("CommandLine", "x b"), ("User", "Root")])
    ));
}
