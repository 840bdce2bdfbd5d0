//! What one event says towards the major-incident criteria: commands that
//! delete shadow copies or backups, cleared logs, ransom notes, encrypted
//! files, directory replication, credential dumping, privilege, volume
//! sent out. Each test is a plain function over a [`FlatEvent`], so the
//! criteria can count them.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use vigil_formats::FlatEvent;

/// One fact an event contributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// `vssadmin delete shadows`, `wmic shadowcopy delete`, …
    ShadowCopyDeletion,
    /// `bcdedit /set … recoveryenabled no` or `bootstatuspolicy ignoreallfailures`.
    RecoveryDisabled,
    /// `wbadmin delete catalog|backup|systemstatebackup`.
    BackupDeletion,
    /// A file named like a ransom note was written (its path).
    RansomNote(String),
    /// A file with a ransomware extension was written (its path).
    EncryptedFile(String),
    /// A log or trail cleared or stopped (which one, as `host:log`).
    LogCleared(String),
    /// Directory replication requested by a user account (DCSync), or
    /// Mimikatz `lsadump::dcsync`.
    Replication,
    /// Credential dumping (Mimikatz, `ntds.dit`, LSASS dumps).
    CredentialDump,
    /// The host logs what only domain controllers log.
    DomainController,
    /// This account is privileged (special logon, admin-group membership).
    Privileged(String),
    /// Bytes sent out, as the event counts them.
    BytesOut(u64),
}

/// Directory replication rights (DS-Replication-Get-Changes, -All,
/// -In-Filtered-Set): a 4662 naming one is a replication request.
const REPLICATION_GUIDS: [&str; 3] = [
    "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2",
    "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2",
    "89e95b76-444d-4c62-991a-0facbeda640c",
];

/// Extensions ransomware families append to the files they encrypt.
const RANSOM_EXTENSIONS: &[&str] = &[
    "locked",
    "encrypted",
    "crypt",
    "crypted",
    "cry",
    "lockbit",
    "ryk",
    "conti",
    "wncry",
    "wnry",
    "wcry",
    "locky",
    "cerber",
    "akira",
    "blackcat",
    "basta",
    "hive",
    "phobos",
    "djvu",
    "crypz",
    "zepto",
];

/// Words in ransom-note file names.
const NOTE_WORDS: &[&str] = &[
    "decrypt",
    "ransom",
    "restore_files",
    "restore-my-files",
    "recover_files",
    "recovery_files",
    "how_to_recover",
    "how_to_restore",
    "how_to_back_files",
    "_readme.txt",
    "readme_for_decrypt",
    "your_files",
];

const NOTE_EXTENSIONS: &[&str] = &["txt", "hta", "html", "htm", "rtf", "url"];

/// Groups whose members are privileged.
const ADMIN_GROUPS: &[&str] = &[
    "domain admins",
    "enterprise admins",
    "schema admins",
    "administrators",
    "account operators",
    "backup operators",
];

/// Fields that hold a command line or script text.
const COMMAND_FIELDS: &[&str] = &[
    "CommandLine",
    "ProcessCommandLine",
    "ScriptBlockText",
    "Payload",
    "process.command_line",
];

/// Fields that hold a written file's path.
const FILE_FIELDS: &[&str] = &["TargetFilename", "file.path", "ObjectName"];

/// Fields that count bytes sent out.
const BYTES_FIELDS: &[&str] = &[
    "additionalEventData.bytesTransferredOut",
    "bytesTransferredOut",
    "bytes_out",
    "BytesSent",
    "SentBytes",
    "sentbyte",
    "source.bytes",
    "network.bytes_out",
];

/// The host an event came from, lowercased (`None` for cloud records).
pub fn host(e: &FlatEvent) -> Option<String> {
    e.computer()
        .filter(|c| !c.is_empty())
        .map(str::to_ascii_lowercase)
}

/// Words one of which every command signal needs ([`command_signals`]):
/// none spans a space, so each lies within one word of the text, which
/// [`normalise`] only lowercases.
const COMMAND_ANCHORS: &[&str] = &[
    "vssadmin",
    "shadowcopy",
    "bcdedit",
    "wbadmin",
    "wevtutil",
    "clear-eventlog",
    "remove-eventlog",
    "lsadump::",
    "sekurlsa::",
    "ntds.dit",
    "ntdsutil",
    "comsvcs",
    "procdump",
];

/// [`COMMAND_ANCHORS`] in any ASCII case.
static ANCHORS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(COMMAND_ANCHORS)
        .expect("a handful of plain words")
});

/// Whether `text` may hold a command signal: it names an anchor in any
/// ASCII case, or is not ASCII (whose lowercasing [`normalise`] does by
/// Unicode's rules: the Kelvin sign becomes `k`). Most command lines name
/// none, and are then neither copied nor searched word by word.
fn may_signal(text: &str) -> bool {
    !text.is_ascii() || ANCHORS.is_match(text)
}

/// Every signal of one event.
pub fn signals(e: &FlatEvent) -> Vec<Signal> {
    let mut out = Vec::new();
    for f in COMMAND_FIELDS {
        for text in e.get_all(f).filter(|t| may_signal(t)) {
            command_signals(&normalise(text), e, &mut out);
        }
    }
    for f in FILE_FIELDS {
        if let Some(path) = e.get(f) {
            file_signals(path, &mut out);
        }
    }
    event_signals(e, &mut out);
    for f in BYTES_FIELDS {
        if let Some(n) = e.get(f).and_then(|v| v.trim().parse::<u64>().ok()) {
            out.push(Signal::BytesOut(n));
            break;
        }
    }
    out
}

/// Lowercase, with runs of whitespace as one space and a space at both
/// ends, so words can be matched as ` word `.
fn normalise(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 2);
    s.push(' ');
    for w in text.split_whitespace() {
        if w.is_ascii() {
            // The common case, without a string per word.
            s.extend(w.bytes().map(|b| char::from(b.to_ascii_lowercase())));
        } else {
            s.push_str(&w.to_lowercase());
        }
        s.push(' ');
    }
    s
}

fn command_signals(c: &str, e: &FlatEvent, out: &mut Vec<Signal>) {
    let has = |w: &str| c.contains(w);
    if (has("vssadmin") && has(" delete ") && has("shadows"))
        || (has("vssadmin") && has(" resize ") && has("shadowstorage"))
        || (has("shadowcopy") && has(" delete"))
        || (has("win32_shadowcopy") && (has(".delete(") || has("remove-")))
    {
        out.push(Signal::ShadowCopyDeletion);
    }
    if has("bcdedit") && ((has("recoveryenabled") && has(" no ")) || has("ignoreallfailures")) {
        out.push(Signal::RecoveryDisabled);
    }
    if has("wbadmin")
        && has(" delete ")
        && (has(" catalog") || has("systemstatebackup") || has(" backup"))
    {
        out.push(Signal::BackupDeletion);
    }
    let host = || host(e).unwrap_or_default();
    if let Some(rest) = c
        .split_once(" wevtutil ")
        .or_else(|| c.split_once("wevtutil.exe "))
        .map(|(_, r)| r)
    {
        let mut words = rest.split(' ').filter(|w| !w.is_empty());
        if let Some(verb) = words.next()
            && (verb == "cl" || verb == "clear-log")
        {
            let log = words.next().unwrap_or("?").trim_matches('"');
            out.push(Signal::LogCleared(format!("{}:{log}", host())));
        }
    }
    if has("clear-eventlog") || has("remove-eventlog") {
        out.push(Signal::LogCleared(format!("{}:powershell", host())));
    }
    if has("lsadump::dcsync") {
        out.push(Signal::Replication);
    }
    if has("sekurlsa::")
        || has("lsadump::")
        || has("ntds.dit")
        || (has("ntdsutil") && has(" ifm"))
        || (has("comsvcs") && has("minidump"))
        || (has("procdump") && has("lsass"))
    {
        out.push(Signal::CredentialDump);
    }
}

fn file_signals(path: &str, out: &mut Vec<Signal>) {
    let name = path
        .rsplit(['\\', '/'])
        .next()
        .unwrap_or(path)
        .to_lowercase();
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return;
    };
    if NOTE_EXTENSIONS.contains(&ext) && NOTE_WORDS.iter().any(|w| name.contains(w)) {
        out.push(Signal::RansomNote(path.to_owned()));
    } else if RANSOM_EXTENSIONS.contains(&ext) && !stem.is_empty() {
        out.push(Signal::EncryptedFile(path.to_owned()));
    }
}

fn event_signals(e: &FlatEvent, out: &mut Vec<Signal>) {
    let channel = e.channel().unwrap_or_default();
    let channel = if channel.eq_ignore_ascii_case("security") {
        "security"
    } else if channel.eq_ignore_ascii_case("system") {
        "system"
    } else {
        ""
    };
    let host = || host(e).unwrap_or_default();
    match (e.event_id(), channel) {
        (Some(1102), "security") => out.push(Signal::LogCleared(format!("{}:security", host()))),
        (Some(104), "system") => {
            let log = e
                .get("Channel")
                .filter(|c| !c.eq_ignore_ascii_case("system"));
            let log = log.unwrap_or("system").to_ascii_lowercase();
            out.push(Signal::LogCleared(format!("{}:{log}", host())));
        }
        (Some(4662), "security") => {
            out.push(Signal::DomainController);
            let props = e.get("Properties").unwrap_or_default().to_ascii_lowercase();
            let user = e.get("SubjectUserName").unwrap_or_default();
            if REPLICATION_GUIDS.iter().any(|g| props.contains(g)) && !user.ends_with('$') {
                out.push(Signal::Replication);
            }
        }
        (Some(4768 | 4769), "security") => out.push(Signal::DomainController),
        (Some(4672), "security") => {
            if let Some(u) = e.get("SubjectUserName").filter(|u| !u.ends_with('$')) {
                out.push(Signal::Privileged(u.to_ascii_lowercase()));
            }
        }
        (Some(4728 | 4732 | 4756), "security") => {
            let group = e.get("TargetUserName").unwrap_or_default().to_lowercase();
            if ADMIN_GROUPS.contains(&group.as_str())
                && let Some(member) = e.get("MemberName").and_then(common_name)
            {
                out.push(Signal::Privileged(member));
            }
        }
        _ => {}
    }
    if let Some(name) = e.get("eventName")
        && (name == "StopLogging" || name == "DeleteTrail")
    {
        let trail = e
            .get("requestParameters.name")
            .or_else(|| e.get("awsRegion"))
            .unwrap_or("?");
        out.push(Signal::LogCleared(format!("cloudtrail:{trail}")));
    }
}

/// `CN=alice,OU=…` → `alice`.
fn common_name(dn: &str) -> Option<String> {
    let first = dn.split(',').next()?.trim();
    let name = first
        .strip_prefix("CN=")
        .or_else(|| first.strip_prefix("cn="))
        .unwrap_or(first);
    (!name.is_empty() && name != "-").then(|| name.to_ascii_lowercase())
}

/// Whether an account name reads as privileged on its own.
pub fn privileged_by_name(user: &str) -> bool {
    let u = user.rsplit(['\\', '@']).next().unwrap_or(user);
    let u = user
        .split_once('@')
        .map_or(u, |(name, _)| name.rsplit('\\').next().unwrap_or(name))
        .to_ascii_lowercase();
    u == "administrator"
        || u == "root"
        || u == "krbtgt"
        || u.contains("admin")
        || u.ends_with("-adm")
        || u.ends_with("_adm")
        || u.starts_with("adm-")
        || u.starts_with("adm_")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(fields: &[(&str, &str)]) -> FlatEvent {
        let mut e = FlatEvent::new();
        for (n, v) in fields {
            e.push(n, v, false);
        }
        e
    }

    fn of(cmd: &str) -> Vec<Signal> {
        signals(&event(&[("CommandLine", cmd)]))
    }

    #[test]
    fn deleting_shadow_copies_is_seen_in_each_of_its_spellings_but_listing_them_is_not() {
        for cmd in [
            "vssadmin.exe Delete Shadows /All /Quiet",
            "\"C:\\Windows\\system32\\vssadmin.exe\" delete shadows /for=c:",
            "wmic shadowcopy delete /nointeractive",
            "powershell Get-WmiObject Win32_Shadowcopy | ForEach-Object { $_.Delete() }",
            "vssadmin resize shadowstorage /for=c: /on=c: /maxsize=401MB",
        ] {
            assert!(of(cmd).contains(&Signal::ShadowCopyDeletion), "{cmd}");
        }
        assert!(of("vssadmin list shadows").is_empty());
        assert!(of("vssadmin.exe create shadow /for=C:").is_empty());
    }

    #[test]
    fn recovery_backup_and_log_destruction_commands_are_named() {
        assert_eq!(
            of("bcdedit /set {default} recoveryenabled No"),
            vec![Signal::RecoveryDisabled]
        );
        assert_eq!(
            of("wbadmin DELETE CATALOG -quiet"),
            vec![Signal::BackupDeletion]
        );
        let e = event(&[
            ("Computer", "WS1.acme.local"),
            ("CommandLine", "wevtutil.exe cl Security"),
        ]);
        assert_eq!(
            signals(&e),
            vec![Signal::LogCleared("ws1.acme.local:security".into())]
        );
        assert!(of("wevtutil qe Security /c:5").is_empty());
        assert_eq!(
            of("mimikatz.exe \"lsadump::dcsync /user:krbtgt\" exit"),
            vec![Signal::Replication, Signal::CredentialDump]
        );
    }

    #[test]
    fn ransom_notes_and_encrypted_files_are_told_apart_from_ordinary_files() {
        let f = |p: &str| signals(&event(&[("TargetFilename", p)]));
        assert!(matches!(
            f("C:\\Users\\a\\Desktop\\HOW_TO_DECRYPT.txt")[..],
            [Signal::RansomNote(_)]
        ));
        assert!(matches!(
            f("C:\\data\\report.docx.lockbit")[..],
            [Signal::EncryptedFile(_)]
        ));
        assert!(f("C:\\data\\README.txt").is_empty());
        assert!(f("C:\\data\\report.docx").is_empty());
    }

    #[test]
    fn a_replication_request_by_a_user_is_dcsync_and_by_a_domain_controller_is_not() {
        let req = |user: &str| {
            signals(&event(&[
                ("Channel", "Security"),
                ("EventID", "4662"),
                ("SubjectUserName", user),
                (
                    "Properties",
                    "%%7688 {1131f6ad-9c07-11d1-f79f-00c04fc2dcd2} {19195a5b-6da0-11d0-afd3-00c04fd930c9}",
                ),
            ]))
        };
        assert!(req("mallory").contains(&Signal::Replication));
        assert!(!req("DC01$").contains(&Signal::Replication));
        assert!(req("DC01$").contains(&Signal::DomainController));
    }

    /// The command signals of `text` without [`may_signal`] first.
    fn unfiltered(text: &str) -> Vec<Signal> {
        let e = event(&[("CommandLine", text)]);
        let mut out = Vec::new();
        command_signals(&normalise(text), &e, &mut out);
        out
    }

    #[test]
    fn the_anchor_prefilter_passes_every_command_with_a_signal_in_any_case() {
        for cmd in [
            "VSSADMIN Delete Shadows /all",
            "c:\\tools\\ProcDump64.exe -ma LSASS.exe out.dmp",
            "rundll32 C:\\windows\\system32\\COMSVCS.dll, MiniDump 624 out.dmp full",
            "ntdsutil \"ac i ntds\" IFM \"create full c:\\x\" q q",
            "mimikatz SeKurLsa::logonpasswords",
            // The Kelvin sign lowercases to `k` by Unicode's rules.
            "mimikatz se\u{212A}urlsa::logonpasswords",
        ] {
            assert!(may_signal(cmd), "{cmd}");
            assert!(!of(cmd).is_empty(), "{cmd}");
        }
        assert!(!may_signal("powershell.exe -NoProfile -File backup.ps1"));
        assert!(of("powershell.exe -NoProfile -File backup.ps1").is_empty());
    }

    proptest::proptest! {
        /// Commands of one word that names an anchor, or nearly, among
        /// the other words of the signals and their near misses, in
        /// random case: whatever the prefilter passes over has no command
        /// signal.
        #[test]
        fn what_the_anchor_prefilter_skips_has_no_command_signal(
            anchor in proptest::sample::select(vec![
                "vssadmin", "vssadmi", "shadowcopy", "shadow copy", "win32_shadowcopy",
                "bcdedit", "wbadmin", "wevtutil", "wevtutil.exe", "clear-eventlog",
                "remove-eventlog", "lsadump::dcsync", "lsadump:", "sekurlsa::",
                "se\u{212A}urlsa::", "ntds.dit", "ntds dit", "ntdsutil", "comsvcs", "procdump",
            ]),
            at in 0..10usize,
            words in proptest::collection::vec(
                proptest::sample::select(vec![
                    "delete", "shadows", ".delete(", "remove-", "resize", "shadowstorage",
                    "recoveryenabled", "no", "ignoreallfailures", "catalog", "backup",
                    "systemstatebackup", "cl", "clear-log", "ifm", "minidump", "lsass",
                    "\u{130}", "x", "\"", "/", "\\", "\t",
                ]),
                0..10,
            ),
            seps in proptest::collection::vec(proptest::sample::select(vec![" ", "", "  ", "\t"]), 11),
            upper in proptest::collection::vec(proptest::bool::ANY, 64),
        ) {
            let mut words = words;
            words.insert(at.min(words.len()), anchor);
            let mut text = String::new();
            for (w, sep) in words.iter().zip(&seps) {
                text.push_str(w);
                text.push_str(sep);
            }
            let text: String = text
                .chars()
                .enumerate()
                .map(|(i, c)| if upper[i % upper.len()] { c.to_ascii_uppercase() } else { c })
                .collect();
            if !may_signal(&text) {
                proptest::prop_assert!(unfiltered(&text).is_empty(), "{text:?}");
            }
        }
    }

    #[test]
    fn privileged_names_are_recognised() {
        for u in [
            "ACME\\Administrator",
            "alice-adm",
            "domainadmin@acme.example",
            "krbtgt",
        ] {
            assert!(privileged_by_name(u), "{u}");
        }
        for u in ["ACME\\alice", "bob@acme.example", "svc-backup"] {
            assert!(!privileged_by_name(u), "{u}");
        }
    }
}
