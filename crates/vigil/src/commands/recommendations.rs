//! `vigil recommendations SLUG`: a tenant's posture recommendations, with
//! the incidents behind each and the posture score.

use serde_json::json;
use vigil_service::{Principal, Service};

use crate::cli::RecommendationsArgs;
use crate::output::{emit, emit_json};

pub async fn run(args: RecommendationsArgs, svc: &Service, p: &Principal) -> anyhow::Result<()> {
    let items = svc.list_recommendations(p, &args.tenant).await?;
    let score = svc.posture_score(p, &args.tenant).await?;
    if args.out.json {
        return emit_json(&json!({
            "items": items,
            "score": score.current,
            "trend": score.trend,
        }));
    }
    let c = &score.current;
    let mut text = match c.percent {
        Some(pct) => format!(
            "posture score {pct:.1}% ({} of {} points)\n",
            c.achieved, c.possible
        ),
        None => "posture score: nothing raised yet\n".to_owned(),
    };
    for r in &items {
        text.push_str(&format!(
            "{}  {:>3} pts  {:<20} {:<8} {:<9} {} incident(s)  {}\n",
            r.id,
            r.points,
            r.status.as_str(),
            r.category.as_str(),
            r.verification.state.as_str(),
            r.incidents.len(),
            r.title
        ));
    }
    emit(&text)
}
