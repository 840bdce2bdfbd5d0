//! Vigil's own detection pack: Sigma rules for what the SigmaHQ rules miss
//! in an XDR setting (password spray and a sign-in from the spraying source,
//! impossible travel, MFA fatigue, suspicious inbox rules, ransomware file
//! activity, mass deletion, security tooling turned off across hosts).
//!
//! The rules are YAML files in `pack/`, embedded in the binary. Most are
//! Sigma correlations over building-block rules that raise no alert by
//! themselves (`generate: false`). `docs/rules.md` describes each one;
//! `tests/` proves each fires on its positive samples and not on its
//! negative ones.
//!
//! Pure: no IO, no dependencies.

macro_rules! pack {
    ($file:literal) => {
        ($file, include_str!(concat!("../pack/", $file)))
    };
}

/// Every file of the pack, in file name order.
const PACK: &[(&str, &str)] = &[
    pack!("aws_mass_deletion.yml"),
    pack!("defender_disabled_across_hosts.yml"),
    pack!("entra_impossible_travel.yml"),
    pack!("entra_mfa_fatigue.yml"),
    pack!("entra_password_spray.yml"),
    pack!("entra_signin_after_spray.yml"),
    pack!("m365_inbox_rule_forwarding.yml"),
    pack!("m365_inbox_rule_hiding.yml"),
    pack!("okta_impossible_travel.yml"),
    pack!("okta_mfa_fatigue.yml"),
    pack!("okta_password_spray.yml"),
    pack!("okta_signin_after_spray.yml"),
    pack!("ransomware_file_extensions.yml"),
    pack!("ransomware_ransom_notes.yml"),
    pack!("sysmon_stopped_across_hosts.yml"),
    pack!("windows_logon_after_spray.yml"),
    pack!("windows_mass_file_deletion.yml"),
    pack!("windows_password_spray.yml"),
];

/// The pack shipped with Vigil: (file name, YAML text) for every file,
/// sorted by file name. A file may hold several YAML documents (a
/// correlation and the rules it counts).
pub fn builtin() -> &'static [(&'static str, &'static str)] {
    PACK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_list_names_every_file_in_the_pack_directory_once() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pack");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .expect("pack directory")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let listed: Vec<String> = builtin().iter().map(|(n, _)| (*n).to_owned()).collect();
        assert_eq!(listed, on_disk, "add new pack files to PACK in src/lib.rs");
    }

    #[test]
    fn every_listed_file_is_the_text_on_disk() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pack");
        for (name, text) in builtin() {
            let disk = std::fs::read_to_string(dir.join(name)).expect("pack file");
            assert_eq!(*text, disk, "{name}");
        }
    }
}
