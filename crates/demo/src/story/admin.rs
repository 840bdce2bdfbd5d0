//! The IT team's routine, done from the administration account `it.ops`:
//! group policy refresh, service and patch queries, listing (not
//! deleting) shadow copies, turning Defender's real-time monitoring back
//! on after troubleshooting, installing a package, RDP to servers, a
//! mailbox rule that files newsletters. Each is the harmless twin of
//! something in the attack, and none may raise an alert.

use crate::estate::{NETBIOS, OFFICE_EGRESS, cast};
use crate::records::cloud::{self, SignIn};
use crate::records::windows::Logon;

use super::Writer;
use super::background::{EDGE_UA, OFFICE, OFFICE_APP};

/// Commands run on each server over RDP: (image, command line).
const ROUTINE: &[(&str, &str)] = &[
    ("C:\\Windows\\System32\\gpupdate.exe", "gpupdate.exe /force"),
    ("C:\\Windows\\System32\\sc.exe", "sc.exe query WinDefend"),
    (
        "C:\\Windows\\System32\\vssadmin.exe",
        "vssadmin.exe list shadows",
    ),
    (
        "C:\\Windows\\System32\\wbem\\WMIC.exe",
        "wmic.exe qfe list brief",
    ),
    (
        "C:\\Windows\\System32\\wevtutil.exe",
        "wevtutil.exe qe System /c:20 /rd:true /f:text",
    ),
    (
        "C:\\Windows\\System32\\net.exe",
        "net.exe localgroup administrators",
    ),
    (
        "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
        "powershell.exe -NoProfile -Command \"Set-MpPreference -DisableRealtimeMonitoring $false\"",
    ),
    (
        "C:\\Windows\\System32\\msiexec.exe",
        "msiexec.exe /i \\\\FS01\\it$\\packages\\7z2408-x64.msi /qn /norestart",
    ),
];

/// Where the routine runs.
const SERVERS: &[&str] = &["FS01", "FS02", "APP01", "SQL01", "DC01"];

pub(super) fn routine(w: &mut Writer<'_>) {
    let estate = w.estate;
    let (Some(admin), Some(desk)) = (estate.person(cast::ADMIN), estate.host(cast::ADMIN_HOST))
    else {
        return;
    };
    let user = admin.windows();
    let start = w.ago(6 * 3600);

    // Signs in to the admin portals first, with MFA, from the office.
    let (id, correlation, user_id) = (w.uuid(), w.uuid(), w.uuid());
    let upn = admin.upn();
    let signin = SignIn {
        id: &id,
        correlation: &correlation,
        upn: &upn,
        display: &admin.display,
        user_id: &user_id,
        app: OFFICE_APP,
        error_code: 0,
        place: OFFICE,
        user_agent: EDGE_UA,
        device: &desk.name,
        mfa: true,
    };
    w.emit(start, &cloud::entra_signin(start, &signin));

    for (i, name) in SERVERS.iter().enumerate() {
        let Some(server) = estate.host(name) else {
            continue;
        };
        let t = Writer::after(start, 300 + 420 * i64::try_from(i).unwrap_or(0));
        let logon_id = format!("0x{}", w.rng.hex(6).to_ascii_lowercase());
        w.logon(
            server,
            t,
            &Logon {
                user: &admin.sam,
                domain: NETBIOS,
                logon_type: 10,
                ip: &desk.ip,
                workstation: &desk.name,
                logon_id: &logon_id,
            },
            true,
        );
        w.privileges(server, Writer::after(t, 1), &admin.sam, NETBIOS);
        let explorer = w.new_proc(
            "C:\\Windows\\explorer.exe",
            "C:\\Windows\\explorer.exe",
            &user,
        );
        let mut shell = w.new_proc(
            "C:\\Windows\\System32\\cmd.exe",
            "\"C:\\Windows\\system32\\cmd.exe\"",
            &user,
        );
        shell.integrity = "High";
        w.process(server, Writer::after(t, 20), &shell, &explorer);
        for (k, (image, cmd)) in ROUTINE.iter().enumerate() {
            if *name == "DC01" && image.ends_with("msiexec.exe") {
                continue;
            }
            let mut p = w.new_proc(image, cmd, &user);
            p.integrity = "High";
            let at = Writer::after(t, 40 + 25 * i64::try_from(k).unwrap_or(0));
            let at = w.jitter(at);
            w.process(server, at, &p, &shell);
            if image.ends_with("msiexec.exe") {
                w.file(
                    server,
                    Writer::after(at, 8),
                    &p,
                    "C:\\Program Files\\7-Zip\\7z.exe",
                );
            }
        }
    }

    // A rule that files vendor newsletters: moves mail, hides nothing that
    // matters, forwards nowhere.
    let t = Writer::after(start, 3 * 3600);
    let rid = w.uuid();
    w.emit(
        t,
        &cloud::new_inbox_rule(
            t,
            &rid,
            &upn,
            OFFICE_EGRESS,
            &[
                ("Name", "Vendor newsletters"),
                ("From", "news@vendor-updates.example"),
                ("MoveToFolder", "Newsletters"),
                ("StopProcessingRules", "False"),
            ],
        ),
    );
}
