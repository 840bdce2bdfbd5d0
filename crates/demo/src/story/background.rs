//! The inventory, and everyday work: people log on, open mail, documents
//! and the browser, save files, reach the file servers, sign in to
//! Microsoft 365 from the office; servers run their scheduled work. None
//! of it should alarm.

use crate::estate::{NETBIOS, OFFICE_EGRESS, Role};
use crate::records::cloud::{self, Place, SignIn};
use crate::records::inventory;
use crate::records::windows::Logon;

use super::Writer;

/// The story's span: eight hours back to a few minutes ago.
const START: i64 = 8 * 3600;
const END: i64 = 180;

pub(super) const OFFICE: Place<'static> = Place {
    ip: OFFICE_EGRESS,
    city: "Bristol",
    country: "GB",
    lat: 51.45,
    lon: -2.59,
};

pub(super) const EDGE_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";
pub(super) const OFFICE_APP: (&str, &str) = (
    "00000002-0000-0ff1-ce00-000000000000",
    "Office 365 Exchange Online",
);

const EXPLORER: &str = "C:\\Windows\\explorer.exe";
const OFFICE_ROOT: &str = "C:\\Program Files\\Microsoft Office\\root\\Office16";

/// Applications people start, with what they do next.
#[derive(Clone, Copy)]
enum App {
    Browser,
    Outlook,
    Word,
    Excel,
    Teams,
    Notepad,
}

const APPS: [App; 6] = [
    App::Browser,
    App::Outlook,
    App::Word,
    App::Excel,
    App::Teams,
    App::Notepad,
];

/// Web destinations: (address, name).
const WEB: &[(&str, &str)] = &[
    ("198.51.100.21", "outlook.office365.example"),
    ("198.51.100.22", "brightwater.sharepoint.example"),
    ("198.51.100.23", "teams.microsoft.example"),
    ("198.51.100.31", "www.carrier-portal.example"),
    ("198.51.100.32", "tracking.freightline.example"),
    ("198.51.100.40", "news.example"),
];

const DOCS: &[&str] = &[
    "Delivery schedule",
    "Route plan",
    "Customer quote",
    "Weekly report",
    "Invoice summary",
    "Rota",
];

/// Device and identity snapshots, collected once before the day starts.
pub(super) fn inventory(w: &mut Writer<'_>) {
    let estate = w.estate;
    let at = w.ago(START + 1800);
    for (i, host) in estate.hosts.iter().enumerate() {
        let id = format!("mde-{}", w.rng.hex(8).to_ascii_lowercase());
        let t = w.jitter(at);
        w.emit(t, &inventory::device(t, estate, i, host, &id));
    }
    for (i, person) in estate.people.iter().enumerate() {
        let id = w.uuid();
        let t = w.jitter(at);
        w.emit(t, &inventory::identity(t, i, person, &id));
    }
}

/// Everyone's ordinary day.
pub(super) fn everyday(w: &mut Writer<'_>) {
    let estate = w.estate;
    for host in &estate.hosts {
        match host.user.and_then(|u| estate.people.get(u)) {
            Some(person) => workstation_day(w, host, person),
            None => server_day(w, host),
        }
    }
    for person in estate.staff() {
        cloud_day(w, person);
    }
    aws_day(w);
}

fn workstation_day(w: &mut Writer<'_>, host: &crate::estate::Host, person: &crate::estate::Person) {
    let estate = w.estate;
    let user = person.windows();
    let start = START - i64::try_from(w.rng.below(1800)).unwrap_or(0);
    let t = w.ago(start);
    let logon_id = format!("0x{}", w.rng.hex(6).to_ascii_lowercase());
    w.logon(
        host,
        t,
        &Logon {
            user: &person.sam,
            domain: NETBIOS,
            logon_type: 2,
            ip: "127.0.0.1",
            workstation: &host.name,
            logon_id: &logon_id,
        },
        true,
    );
    let winlogon = w.new_proc(
        "C:\\Windows\\System32\\userinit.exe",
        "C:\\Windows\\system32\\userinit.exe",
        "NT AUTHORITY\\SYSTEM",
    );
    let explorer = w.new_proc(EXPLORER, EXPLORER, &user);
    let t = Writer::after(t, 4);
    w.process(host, t, &explorer, &winlogon);
    let dcs: Vec<&crate::estate::Host> = estate
        .servers()
        .filter(|s| s.role == Role::DomainController)
        .collect();
    let shares: Vec<&crate::estate::Host> = estate
        .servers()
        .filter(|s| s.role == Role::FileServer)
        .collect();
    let mut at = start - 300;
    while at > END {
        let t = w.ago(at);
        let t = w.jitter(t);
        let app = APPS[w.index(APPS.len())];
        open_app(w, host, person, &explorer, app, t);
        if w.rng.chance(40) {
            // A mapped drive: a Kerberos ticket from a DC, a network logon
            // on the file server.
            let fs = shares[w.index(shares.len())];
            let dc = dcs[w.index(dcs.len())];
            w.ticket(dc, t, &person.sam, &format!("cifs/{}", fs.fqdn()), &host.ip);
            let id = format!("0x{}", w.rng.hex(6).to_ascii_lowercase());
            w.logon(
                fs,
                Writer::after(t, 1),
                &Logon {
                    user: &person.sam,
                    domain: NETBIOS,
                    logon_type: 3,
                    ip: &host.ip,
                    workstation: &host.name,
                    logon_id: &id,
                },
                true,
            );
        }
        if w.rng.chance(30) {
            let task = w.new_proc(
                "C:\\Windows\\System32\\taskhostw.exe",
                "taskhostw.exe -RegisterDevice -ProtectionStateChanged -FreeNetworkOnly",
                "NT AUTHORITY\\SYSTEM",
            );
            let svc = w.new_proc(
                "C:\\Windows\\System32\\svchost.exe",
                "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule",
                "NT AUTHORITY\\SYSTEM",
            );
            w.process(host, Writer::after(t, 40), &task, &svc);
        }
        at -= i64::try_from(w.rng.between(900, 2700)).unwrap_or(1800);
    }
}

fn open_app(
    w: &mut Writer<'_>,
    host: &crate::estate::Host,
    person: &crate::estate::Person,
    explorer: &crate::records::windows::Proc,
    app: App,
    t: jiff::Timestamp,
) {
    let user = person.windows();
    let home = format!("C:\\Users\\{}", person.sam);
    let doc = DOCS[w.index(DOCS.len())];
    match app {
        App::Browser => {
            let image = "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe";
            let p = w.new_proc(image, &format!("\"{image}\" --single-argument"), &user);
            w.process(host, t, &p, explorer);
            let (ip, name) = WEB[w.index(WEB.len())];
            w.connect(host, Writer::after(t, 2), &p, ip, name, 443);
            if w.rng.chance(30) {
                let path = format!("{home}\\Downloads\\{doc} {}.pdf", w.rng.between(1, 40));
                w.file(host, Writer::after(t, 30), &p, &path);
            }
        }
        App::Outlook => {
            let image = format!("{OFFICE_ROOT}\\OUTLOOK.EXE");
            let p = w.new_proc(&image, &format!("\"{image}\" "), &user);
            w.process(host, t, &p, explorer);
            let (ip, name) = WEB[0];
            w.connect(host, Writer::after(t, 3), &p, ip, name, 443);
            if w.rng.chance(40) {
                let path = format!(
                    "{home}\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\{}\\{doc}.pdf",
                    w.rng.hex(8)
                );
                w.file(host, Writer::after(t, 60), &p, &path);
            }
        }
        App::Word | App::Excel => {
            let (exe, ext) = match app {
                App::Word => ("WINWORD.EXE", "docx"),
                _ => ("EXCEL.EXE", "xlsx"),
            };
            let image = format!("{OFFICE_ROOT}\\{exe}");
            let file = format!(
                "{home}\\OneDrive - Brightwater\\{} {doc}.{ext}",
                person.department
            );
            let p = w.new_proc(&image, &format!("\"{image}\" /n \"{file}\""), &user);
            w.process(host, t, &p, explorer);
            let saved = Writer::after(t, i64::try_from(w.rng.between(120, 900)).unwrap_or(300));
            w.file(host, saved, &p, &file);
        }
        App::Teams => {
            let image = "C:\\Program Files\\WindowsApps\\MSTeams_24295.605.3225.8804_x64__8wekyb3d8bbwe\\ms-teams.exe";
            let p = w.new_proc(image, &format!("\"{image}\""), &user);
            w.process(host, t, &p, explorer);
            let (ip, name) = WEB[2];
            w.connect(host, Writer::after(t, 5), &p, ip, name, 443);
        }
        App::Notepad => {
            let image = "C:\\Windows\\System32\\notepad.exe";
            let file = format!("{home}\\Desktop\\notes.txt");
            let p = w.new_proc(image, &format!("\"{image}\" {file}"), &user);
            w.process(host, t, &p, explorer);
            w.file(host, Writer::after(t, 200), &p, &file);
        }
    }
}

fn server_day(w: &mut Writer<'_>, host: &crate::estate::Host) {
    let mut at = START;
    let services = w.new_proc(
        "C:\\Windows\\System32\\services.exe",
        "C:\\Windows\\system32\\services.exe",
        "NT AUTHORITY\\SYSTEM",
    );
    while at > END {
        let t = w.ago(at);
        let t = w.jitter(t);
        let (image, cmd) = match host.role {
            Role::DomainController => (
                "C:\\Windows\\System32\\dfsrs.exe",
                "C:\\Windows\\system32\\DFSRs.exe",
            ),
            Role::FileServer => (
                "C:\\Program Files\\Brightwater\\ShareSync\\sharesync.exe",
                "\"C:\\Program Files\\Brightwater\\ShareSync\\sharesync.exe\" --scheduled",
            ),
            Role::AppServer | Role::Workstation => (
                "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
                "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding",
            ),
        };
        let p = w.new_proc(image, cmd, "NT AUTHORITY\\SYSTEM");
        w.process(host, t, &p, &services);
        if host.role == Role::FileServer {
            let path = format!(
                "D:\\Shares\\Operations\\Exports\\manifest-{}.csv",
                w.rng.between(1000, 9999)
            );
            w.file(host, Writer::after(t, 20), &p, &path);
        }
        if host.role == Role::AppServer {
            w.connect(
                host,
                Writer::after(t, 3),
                &p,
                "198.51.100.32",
                "tracking.freightline.example",
                443,
            );
        }
        at -= i64::try_from(w.rng.between(1200, 2400)).unwrap_or(1800);
    }
}

/// Sign-ins, mail and files in Microsoft 365 from the office.
fn cloud_day(w: &mut Writer<'_>, person: &crate::estate::Person) {
    let estate = w.estate;
    let upn = person.upn();
    let user_id = w.uuid();
    let device = estate
        .hosts
        .iter()
        .find(|h| {
            h.user
                .and_then(|u| estate.people.get(u))
                .is_some_and(|p| p.sam == person.sam)
        })
        .map(|h| h.name.clone())
        .unwrap_or_default();
    let mut at = START - i64::try_from(w.rng.below(3600)).unwrap_or(0);
    // Two people mistype their password once in the morning.
    let typo = matches!(person.sam.as_str(), "t.nowak" | "l.chen");
    while at > END {
        let t = w.ago(at);
        let t = w.jitter(t);
        if typo {
            let (id, correlation) = (w.uuid(), w.uuid());
            let failed = SignIn {
                id: &id,
                correlation: &correlation,
                upn: &upn,
                display: &person.display,
                user_id: &user_id,
                app: OFFICE_APP,
                error_code: 50126,
                place: OFFICE,
                user_agent: EDGE_UA,
                device: &device,
                mfa: false,
            };
            w.emit(t, &cloud::entra_signin(t, &failed));
        }
        let t = Writer::after(t, 20);
        let (id, correlation) = (w.uuid(), w.uuid());
        let ok = SignIn {
            id: &id,
            correlation: &correlation,
            upn: &upn,
            display: &person.display,
            user_id: &user_id,
            app: OFFICE_APP,
            error_code: 0,
            place: OFFICE,
            user_agent: EDGE_UA,
            device: &device,
            mfa: true,
        };
        w.emit(t, &cloud::entra_signin(t, &ok));
        let rid = w.uuid();
        let read = Writer::after(t, 30);
        w.emit(
            read,
            &cloud::exchange_mail_accessed(read, &rid, &upn, OFFICE_EGRESS, "Sync"),
        );
        for k in 0..w.rng.between(1, 3) {
            let sent = Writer::after(t, 600 * i64::try_from(k + 1).unwrap_or(1));
            let rid = w.uuid();
            let subject = format!("RE: {}", DOCS[w.index(DOCS.len())]);
            w.emit(
                sent,
                &cloud::exchange_send(sent, &rid, &upn, OFFICE_EGRESS, &subject),
            );
        }
        if w.rng.chance(60) {
            let opened = Writer::after(t, 900);
            let rid = w.uuid();
            let file = format!("{}.xlsx", DOCS[w.index(DOCS.len())]);
            w.emit(
                opened,
                &cloud::sharepoint_file_accessed(opened, &rid, &upn, OFFICE_EGRESS, &file),
            );
        }
        at -= i64::try_from(w.rng.between(5400, 9000)).unwrap_or(7200);
    }
}

/// The web team's deployment user reads the AWS account's state.
fn aws_day(w: &mut Writer<'_>) {
    let calls = [
        ("sts.amazonaws.com", "GetCallerIdentity"),
        ("ec2.amazonaws.com", "DescribeInstances"),
        ("s3.amazonaws.com", "ListBuckets"),
        ("cloudfront.amazonaws.com", "ListDistributions"),
    ];
    let mut at = START - 600;
    while at > END {
        let t = w.ago(at);
        let t = w.jitter(t);
        for (i, (source, name)) in calls.iter().enumerate() {
            let id = w.uuid();
            let at = Writer::after(t, i64::try_from(i).unwrap_or(0) * 2);
            w.emit(
                at,
                &cloud::cloudtrail(at, &id, "web-deploy", OFFICE_EGRESS, source, name),
            );
        }
        at -= 5400;
    }
}
