//! The fictional customer: Brightwater Logistics, its people, hosts and
//! addresses. Fixed data, so every seed tells its story about the same
//! organisation. Addresses are from the documentation ranges (RFC 5737)
//! and names under `.example` (RFC 2606).

/// The tenant's slug and name.
pub const TENANT_SLUG: &str = "brightwater";
pub const TENANT_NAME: &str = "Brightwater Logistics";
/// The DNS and mail domain.
pub const DOMAIN: &str = "brightwater.example";
/// The Active Directory NetBIOS domain.
pub const NETBIOS: &str = "BRIGHTWATER";
/// The office's internet egress address (people sign in from it).
pub const OFFICE_EGRESS: &str = "192.0.2.10";
/// The Entra ID tenant id.
pub const ENTRA_TENANT: &str = "6d1f4a20-7c3b-4e0a-9b52-0d8e5f1a2c33";
/// The AWS account the company runs its website in.
pub const AWS_ACCOUNT: &str = "444455556666";

/// The intruder's addresses and names.
pub mod attacker {
    /// Where the password spray and the stolen sign-in come from.
    pub const SPRAY_IP: &str = "203.0.113.66";
    /// The command-and-control server the implant calls.
    pub const C2_IP: &str = "198.51.100.77";
    pub const C2_HOST: &str = "cdn.northbridge-supplies.example";
    /// The sender of the phishing mail.
    pub const SENDER: &str = "accounts@northbridge-supplies.example";
    pub const SENDER_IP: &str = "203.0.113.140";
    /// Where the mailbox rule forwards mail.
    pub const FORWARD_TO: &str = "mo.archive@freemail.example";
    /// The extension encrypted files get.
    pub const EXTENSION: &str = "locked";
    /// The ransom note's file name.
    pub const NOTE: &str = "HOW_TO_RESTORE_FILES.txt";
}

/// One person with an account.
#[derive(Debug, Clone)]
pub struct Person {
    /// The Windows account name (`d.whitlock`).
    pub sam: String,
    pub display: String,
    pub department: &'static str,
    /// Holds an administrative role.
    pub privileged: bool,
}

impl Person {
    pub fn upn(&self) -> String {
        format!("{}@{DOMAIN}", self.sam)
    }

    /// `BRIGHTWATER\d.whitlock`, as Sysmon writes users.
    pub fn windows(&self) -> String {
        format!("{NETBIOS}\\{}", self.sam)
    }
}

/// What a host is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Workstation,
    FileServer,
    AppServer,
    DomainController,
}

/// One Windows host.
#[derive(Debug, Clone)]
pub struct Host {
    /// `WS-017`, `FS01`.
    pub name: String,
    pub ip: String,
    pub role: Role,
    /// The person who uses a workstation (an index into `people`).
    pub user: Option<usize>,
}

impl Host {
    pub fn fqdn(&self) -> String {
        format!("{}.{DOMAIN}", self.name)
    }
}

/// The whole organisation.
#[derive(Debug, Clone)]
pub struct Estate {
    pub people: Vec<Person>,
    pub hosts: Vec<Host>,
}

/// Staff: (first name, last name, department). The account name is the
/// first initial and the last name.
const STAFF: &[(&str, &str, &str)] = &[
    ("Amelia", "Barker", "Finance"),
    ("Tomasz", "Nowak", "Operations"),
    ("Grace", "Ellison", "Sales"),
    ("Ravi", "Menon", "IT"),
    ("Chloe", "Dubois", "Customer Service"),
    ("Samuel", "Osei", "Operations"),
    ("Hannah", "Price", "HR"),
    ("Mariam", "Okafor", "Finance"),
    ("Lucas", "Ferreira", "Logistics"),
    ("Isla", "Mackenzie", "Logistics"),
    ("Daniel", "Kowalski", "Sales"),
    ("Yuki", "Tanaka", "Operations"),
    ("Olivia", "Hughes", "Customer Service"),
    ("Noah", "Schmidt", "Logistics"),
    ("Fatima", "Rahman", "Finance"),
    ("Jack", "Turner", "Warehouse"),
    ("Dana", "Whitlock", "Accounts Payable"),
    ("Leo", "Martin", "Warehouse"),
    ("Sofia", "Rossi", "Sales"),
    ("Ethan", "Clarke", "Logistics"),
    ("Zara", "Ahmed", "HR"),
    ("Oscar", "Lindqvist", "Operations"),
    ("Ella", "Byrne", "Customer Service"),
    ("Mateo", "Garcia", "Warehouse"),
    ("Priya", "Natarajan", "IT"),
    ("George", "Evans", "Finance"),
    ("Aisha", "Bello", "Sales"),
    ("Henry", "Walsh", "Logistics"),
    ("Nina", "Petrova", "Operations"),
    ("Owen", "Price", "Warehouse"),
    ("Lily", "Chen", "Customer Service"),
    ("Max", "Weber", "Logistics"),
];

/// Administrative accounts, kept apart from people's everyday accounts.
const ADMINS: &[(&str, &str)] = &[
    // The domain administrator whose credentials the intruder steals.
    ("adm.hale", "Ian Hale (admin)"),
    // The IT team's everyday administration account: benign activity.
    ("it.ops", "IT Operations"),
];

/// Workstations: one per person among the first this many.
const WORKSTATIONS: usize = 24;

const SERVERS: &[(&str, Role)] = &[
    ("DC01", Role::DomainController),
    ("DC02", Role::DomainController),
    ("FS01", Role::FileServer),
    ("FS02", Role::FileServer),
    ("APP01", Role::AppServer),
    ("SQL01", Role::AppServer),
];

impl Estate {
    pub fn new() -> Self {
        let mut people: Vec<Person> = STAFF
            .iter()
            .map(|(first, last, department)| Person {
                sam: format!(
                    "{}.{}",
                    first.chars().next().unwrap_or('x').to_ascii_lowercase(),
                    last.to_ascii_lowercase()
                ),
                display: format!("{first} {last}"),
                department,
                privileged: false,
            })
            .collect();
        people.extend(ADMINS.iter().map(|(sam, display)| Person {
            sam: (*sam).to_owned(),
            display: (*display).to_owned(),
            department: "IT",
            privileged: true,
        }));
        let mut hosts: Vec<Host> = (0..WORKSTATIONS)
            .map(|i| Host {
                name: format!("WS-{:03}", i + 1),
                ip: format!("10.20.1.{}", i + 11),
                role: Role::Workstation,
                user: Some(i),
            })
            .collect();
        hosts.extend(SERVERS.iter().enumerate().map(|(i, (name, role))| Host {
            name: (*name).to_owned(),
            ip: format!("10.20.0.{}", i + 10),
            role: *role,
            user: None,
        }));
        Estate { people, hosts }
    }

    pub fn person(&self, sam: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.sam == sam)
    }

    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// Everyday people (not the administration accounts).
    pub fn staff(&self) -> impl Iterator<Item = &Person> {
        self.people.iter().filter(|p| !p.privileged)
    }

    pub fn servers(&self) -> impl Iterator<Item = &Host> {
        self.hosts.iter().filter(|h| h.role != Role::Workstation)
    }
}

impl Default for Estate {
    fn default() -> Self {
        Self::new()
    }
}

/// Who and where the story happens: names the tests and docs rely on.
pub mod cast {
    /// Opens the phishing mail on her workstation.
    pub const VICTIM: &str = "d.whitlock";
    pub const VICTIM_HOST: &str = "WS-017";
    /// The domain admin whose credentials are dumped and reused.
    pub const STOLEN_ADMIN: &str = "adm.hale";
    /// The hosts the intruder reaches with PsExec.
    pub const TARGETS: &[&str] = &["FS01", "FS02", "APP01", "SQL01", "WS-005"];
    /// The account the password spray breaks into.
    pub const SPRAYED: &str = "m.okafor";
    /// The IT administrator whose routine work must not alarm.
    pub const ADMIN: &str = "it.ops";
    pub const ADMIN_HOST: &str = "WS-004";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cast_exists_in_the_estate_and_names_are_unique() {
        let e = Estate::new();
        for sam in [cast::VICTIM, cast::STOLEN_ADMIN, cast::SPRAYED, cast::ADMIN] {
            assert!(e.person(sam).is_some(), "{sam}");
        }
        for host in cast::TARGETS
            .iter()
            .chain(&[cast::VICTIM_HOST, cast::ADMIN_HOST])
        {
            assert!(e.host(host).is_some(), "{host}");
        }
        let mut sams: Vec<&str> = e.people.iter().map(|p| p.sam.as_str()).collect();
        sams.sort_unstable();
        sams.dedup();
        assert_eq!(sams.len(), e.people.len(), "account names are unique");
        assert_eq!(e.host(cast::VICTIM_HOST).and_then(|h| h.user), Some(16));
        assert_eq!(e.people[16].sam, cast::VICTIM);
    }
}
