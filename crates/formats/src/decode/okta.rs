//! Okta System Log events (`/api/v1/logs`, event hooks, log streaming).
//!
//! Fields: every key with dotted paths, as SigmaHQ's `identity/okta`
//! rules name them (`eventType`, `displayMessage`, `outcome.result`,
//! `actor.alternateId`, `securityContext.isProxy`,
//! `debugContext.debugData.requestUri`, `target.displayName` once per
//! target). Entities: the actor and user targets, the client's IP, other
//! targets as cloud resources (by `alternateId`, else `id`).

use serde_json::{Map, Value};

use super::entity::Entities;
use super::fields::{Check, Fields};
use super::{DecodeError, Decoded, Shape, logsource, time};

fn bad(problem: String) -> DecodeError {
    DecodeError::invalid(Shape::OktaSystemLog, problem)
}

pub(super) fn decode(map: &Map<String, Value>) -> Result<Decoded, DecodeError> {
    let top = Check::new(map);
    top.string("eventType").map_err(bad)?;
    let published = top.opt_string("published").map_err(bad)?;
    let time = time::required("published", published).map_err(bad)?;
    let actor = top.child("actor", "actor").map_err(bad)?;
    let client = top.child("client", "client").map_err(bad)?;
    top.opt_object("outcome").map_err(bad)?;
    let targets = top.opt_array("target").map_err(bad)?;

    let mut entities = Entities::default();
    if let Some(actor) = &actor {
        let kind = actor.opt_string("type").map_err(bad)?;
        if let Some(id) = actor.opt_string("alternateId").map_err(bad)?
            && kind.is_none_or(|k| k.eq_ignore_ascii_case("User"))
        {
            entities.user(None, id);
        }
    }
    if let Some(client) = &client {
        if let Some(ip) = client.opt_string("ipAddress").map_err(bad)? {
            entities.ip(ip);
        }
        if let Some(device) = client.opt_string("device").map_err(bad)?
            && device.contains('.')
        {
            entities.domain(device);
        }
    }
    for (i, target) in targets.into_iter().flatten().enumerate() {
        let Value::Object(t) = target else {
            return Err(bad(format!("target[{i}] is not an object")));
        };
        let path = format!("target[{i}]");
        let t = Check {
            map: t,
            path: &path,
        };
        let kind = t.opt_string("type").map_err(bad)?.unwrap_or("");
        let id = match t.opt_string("alternateId").map_err(bad)? {
            Some(a) if a != "unknown" => Some(a),
            _ => t.opt_string("id").map_err(bad)?,
        };
        match id {
            Some(id) if kind.eq_ignore_ascii_case("User") => entities.user(None, id),
            Some(id) => entities.cloud_resource(id),
            None => {}
        }
    }
    let mut f = Fields::default();
    f.flatten_object("", map, 0);
    Ok(Decoded {
        shape: Shape::OktaSystemLog,
        logsource: logsource("okta", Some("okta")),
        time: Some(time),
        event: f.into_event(),
        entities: entities.into_vec(),
    })
}
