//! The identity attack, about five hours ago: one address tries one
//! password against fourteen Entra ID accounts, one of them (m.okafor,
//! without MFA enforced) lets it in, and the intruder adds an inbox rule
//! that forwards finance mail out and hides it from her.

use crate::estate::{Person, attacker, cast};
use crate::records::cloud::{self, Place, SignIn};

use super::Writer;
use super::background::OFFICE_APP;

const SPRAY_FROM: Place<'static> = Place {
    ip: attacker::SPRAY_IP,
    city: "Amsterdam",
    country: "NL",
    lat: 52.37,
    lon: 4.90,
};

const SPRAY_UA: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// Accounts sprayed before the one that works (there are more than the
/// ten the spray rule needs).
const SPRAYED: usize = 13;

pub(super) fn spray_and_mailbox_rule(w: &mut Writer<'_>) {
    let estate = w.estate;
    let Some(victim) = estate.person(cast::SPRAYED) else {
        return;
    };
    let targets: Vec<&Person> = estate
        .staff()
        .filter(|p| p.sam != cast::SPRAYED && p.sam != cast::VICTIM)
        .take(SPRAYED)
        .collect();
    let start = w.ago(5 * 3600);
    for (i, p) in targets.iter().chain(std::iter::once(&victim)).enumerate() {
        let t = Writer::after(start, 55 * i64::try_from(i).unwrap_or(0));
        let t = w.jitter(t);
        let (id, correlation, user_id) = (w.uuid(), w.uuid(), w.uuid());
        let upn = p.upn();
        let failed = SignIn {
            id: &id,
            correlation: &correlation,
            upn: &upn,
            display: &p.display,
            user_id: &user_id,
            app: OFFICE_APP,
            error_code: 50126,
            place: SPRAY_FROM,
            user_agent: SPRAY_UA,
            device: "",
            mfa: false,
        };
        w.emit(t, &cloud::entra_signin(t, &failed));
    }

    // The second round's password works for m.okafor: single factor, as
    // MFA is not enforced on her account.
    let t = Writer::after(start, 25 * 60);
    let (id, correlation, user_id) = (w.uuid(), w.uuid(), w.uuid());
    let upn = victim.upn();
    let ok = SignIn {
        id: &id,
        correlation: &correlation,
        upn: &upn,
        display: &victim.display,
        user_id: &user_id,
        app: OFFICE_APP,
        error_code: 0,
        place: SPRAY_FROM,
        user_agent: SPRAY_UA,
        device: "",
        mfa: false,
    };
    w.emit(t, &cloud::entra_signin(t, &ok));

    let read = Writer::after(t, 90);
    let rid = w.uuid();
    w.emit(
        read,
        &cloud::exchange_mail_accessed(read, &rid, &upn, attacker::SPRAY_IP, "Bind"),
    );

    // Finance mail forwarded out, and moved where she will not look.
    let rule = Writer::after(t, 6 * 60);
    let rid = w.uuid();
    w.emit(
        rule,
        &cloud::new_inbox_rule(
            rule,
            &rid,
            &upn,
            attacker::SPRAY_IP,
            &[
                ("Name", "."),
                (
                    "SubjectOrBodyContainsWords",
                    "invoice;payment;remittance;bank details",
                ),
                ("ForwardTo", attacker::FORWARD_TO),
                ("MoveToFolder", "RSS Feeds"),
                ("MarkAsRead", "True"),
                ("StopProcessingRules", "True"),
            ],
        ),
    );
}
