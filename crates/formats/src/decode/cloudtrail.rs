//! AWS CloudTrail records, alone or in a `{"Records":[…]}` batch (as
//! CloudTrail writes them to S3).
//!
//! Fields: every key with dotted paths, as SigmaHQ's `cloud/aws` rules
//! name them (`eventSource`, `eventName`, `userIdentity.arn`,
//! `requestParameters.bucketName`, `errorCode`, absent on success), and
//! each object also as its JSON text (`requestParameters|contains`).
//! Entities: the caller (`userIdentity.arn`, else its user name) as a user,
//! `sourceIPAddress` when it is an address, `resources[].ARN`, the S3
//! bucket and the CloudTrail trail acted on as cloud resources.

use serde_json::{Map, Value};

use super::entity::Entities;
use super::fields::{Check, Fields};
use super::{DecodeError, Decoded, Shape, logsource, time};

fn bad(problem: String) -> DecodeError {
    DecodeError::invalid(Shape::CloudTrail, problem)
}

pub(super) fn decode(map: &Map<String, Value>) -> Result<Decoded, DecodeError> {
    let top = Check::new(map);
    let source = top.string("eventSource").map_err(bad)?;
    top.string("eventName").map_err(bad)?;
    let event_time = top.opt_string("eventTime").map_err(bad)?;
    let time = time::required("eventTime", event_time).map_err(bad)?;
    let identity = top.child("userIdentity", "userIdentity").map_err(bad)?;
    let ip = top.opt_string("sourceIPAddress").map_err(bad)?;
    let request = top
        .child("requestParameters", "requestParameters")
        .map_err(bad)?;
    let resources = top.opt_array("resources").map_err(bad)?;
    let region = top.opt_string("awsRegion").map_err(bad)?.unwrap_or("");
    let account = top
        .opt_string("recipientAccountId")
        .map_err(bad)?
        .unwrap_or("");

    let mut entities = Entities::default();
    if let Some(id) = &identity {
        let arn = id.opt_string("arn").map_err(bad)?;
        let name = id.opt_string("userName").map_err(bad)?;
        match (arn, name) {
            (Some(arn), _) => entities.user_id(arn),
            (None, Some(name)) => entities.user(None, name),
            (None, None) => {}
        }
    }
    if let Some(ip) = ip {
        entities.ip(ip);
    }
    for (i, r) in resources.into_iter().flatten().enumerate() {
        let Value::Object(r) = r else {
            return Err(bad(format!("resources[{i}] is not an object")));
        };
        if let Some(arn) = r.get("ARN").and_then(Value::as_str) {
            entities.cloud_resource(arn);
        }
    }
    if let Some(req) = &request {
        if let Some(bucket) = req.map.get("bucketName").and_then(Value::as_str) {
            entities.cloud_resource(&format!("arn:aws:s3:::{bucket}"));
        }
        if source == "cloudtrail.amazonaws.com"
            && let Some(name) = req.map.get("name").and_then(Value::as_str)
        {
            if name.starts_with("arn:") {
                entities.cloud_resource(name);
            } else {
                entities.cloud_resource(&format!(
                    "arn:aws:cloudtrail:{region}:{account}:trail/{name}"
                ));
            }
        }
    }
    let mut f = Fields::default();
    f.flatten_object("", map, 0);
    Ok(Decoded {
        shape: Shape::CloudTrail,
        logsource: logsource("aws", Some("cloudtrail")),
        time: Some(time),
        event: f.into_event(),
        entities: entities.into_vec(),
    })
}
