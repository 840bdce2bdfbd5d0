//! The report as one self-contained HTML page: inline CSS, inline SVG
//! charts, no script and no external reference, so it opens offline, in a
//! mail client, and prints to PDF as shown. Every piece of text from the
//! store is escaped with [`escape_html`].

use std::fmt::Write as _;

use vigil_reports::model::{Count, Durations, MonthFigures};
use vigil_reports::{ProviderReport, ServiceReport};

use super::schedule::words;
use super::svg::{Series, bars, columns};
use crate::render::escape_html;

const STYLE: &str = "body{font-family:'DejaVu Sans',Arial,sans-serif;color:#222;margin:24px;max-width:1100px}\
h1{font-size:22px;margin-bottom:0}h2{font-size:17px;border-bottom:1px solid #ccc;padding-bottom:3px;margin-top:26px;break-after:avoid}\
.sub{color:#555;margin-top:4px}table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}\
th{background:#f0f3f7}.num{text-align:right}.grid{display:flex;flex-wrap:wrap;gap:18px}.grid>div{break-inside:avoid}.none{color:#777}\
.kpi{display:inline-block;border:1px solid #ccd;border-radius:4px;padding:6px 12px;margin:4px 8px 4px 0}.kpi b{display:block;font-size:20px}\
@page{size:A4;margin:14mm}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head>\n<body>\n{body}</body></html>\n",
        escape_html(title)
    )
}

fn kpi(out: &mut String, label: &str, value: &str) {
    let _ = write!(
        out,
        "<span class=\"kpi\"><b>{}</b>{}</span>",
        escape_html(value),
        escape_html(label)
    );
}

fn pct(p: Option<f64>) -> String {
    p.map_or_else(|| "n/a".into(), |p| format!("{p} %"))
}

fn pairs(counts: &[Count]) -> Vec<(String, u64)> {
    counts.iter().map(|c| (c.label.clone(), c.count)).collect()
}

fn chart(out: &mut String, title: &str, counts: &[Count]) {
    let _ = write!(
        out,
        "<div><h3>{}</h3>{}</div>",
        escape_html(title),
        bars(&pairs(counts))
    );
}

fn durations_row(out: &mut String, label: &str, d: &Durations) {
    let _ = write!(
        out,
        "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
        escape_html(label),
        d.count,
        escape_html(&words(d.median_secs)),
        escape_html(&words(d.p90_secs)),
        escape_html(&words(Some(d.total_secs))),
    );
}

fn trend_charts(out: &mut String, trend: &[MonthFigures]) {
    let labels: Vec<String> = trend.iter().map(|m| m.month.clone()).collect();
    #[allow(clippy::cast_precision_loss)]
    let count = |f: fn(&MonthFigures) -> u64| trend.iter().map(|m| Some(f(m) as f64)).collect();
    out.push_str("<div class=\"grid\"><div><h3>Incidents per month</h3>");
    out.push_str(&columns(
        &labels,
        &[
            Series {
                name: "opened",
                colour: "#2f6fb0",
                values: count(|m| m.incidents),
            },
            Series {
                name: "resolved",
                colour: "#6aa84f",
                values: count(|m| m.resolved),
            },
            Series {
                name: "tasks completed",
                colour: "#e69138",
                values: count(|m| m.tasks_completed),
            },
        ],
        None,
    ));
    out.push_str("</div><div><h3>SLA compliance and posture score (%)</h3>");
    out.push_str(&columns(
        &labels,
        &[
            Series {
                name: "SLA compliance",
                colour: "#6aa84f",
                values: trend.iter().map(|m| m.sla_compliance_percent).collect(),
            },
            Series {
                name: "posture score",
                colour: "#8e7cc3",
                values: trend.iter().map(|m| m.posture_percent).collect(),
            },
        ],
        Some(100.0),
    ));
    out.push_str("</div></div><table><tr><th>month</th><th>opened</th><th>resolved</th><th>median time to resolve</th><th>SLA compliance</th><th>tasks completed</th><th>posture score</th></tr>");
    for m in trend {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape_html(&m.month),
            m.incidents,
            m.resolved,
            escape_html(&words(m.median_resolve_secs)),
            escape_html(&pct(m.sla_compliance_percent)),
            m.tasks_completed,
            escape_html(&pct(m.posture_percent)),
        );
    }
    out.push_str("</table>");
}

/// One tenant's report as a page.
pub fn service_html(r: &ServiceReport) -> String {
    let mut out = String::with_capacity(32 * 1024);
    let _ = write!(
        out,
        "<h1>Service report: {}</h1><p class=\"sub\">{} to {} · generated {} · tenant {}</p>",
        escape_html(&r.tenant_name),
        escape_html(&r.period.from.to_string()),
        escape_html(&r.period.to.to_string()),
        escape_html(&r.generated_at.to_string()),
        escape_html(&r.tenant),
    );
    let i = &r.incidents;
    out.push_str("<h2>Incidents</h2><div>");
    kpi(&mut out, "investigated", &i.investigated.to_string());
    kpi(&mut out, "resolved", &i.resolved.to_string());
    kpi(
        &mut out,
        "resolved by the experts",
        &i.resolved_by_experts.to_string(),
    );
    kpi(
        &mut out,
        "resolved with your team",
        &i.resolved_with_customer.to_string(),
    );
    kpi(&mut out, "still open", &i.open.to_string());
    out.push_str("</div><div class=\"grid\">");
    chart(&mut out, "By severity", &i.by_severity);
    chart(&mut out, "By category (determination)", &i.by_category);
    chart(&mut out, "By classification", &i.by_classification);
    chart(&mut out, "By ATT&CK tactic", &i.by_tactic);
    chart(&mut out, "By source", &i.by_source);
    out.push_str("</div>");

    out.push_str("<h2>Time to acknowledge and resolve</h2><table><tr><th></th><th>count</th><th>median</th><th>90th percentile</th><th>total</th></tr>");
    durations_row(
        &mut out,
        "acknowledge a published response",
        &r.times.to_acknowledge,
    );
    durations_row(&mut out, "resolve (opened → resolved)", &r.times.to_resolve);
    durations_row(&mut out, "of which the experts' time", &r.times.expert);
    durations_row(&mut out, "of which your team's time", &r.times.customer);
    out.push_str("</table>");
    out.push_str(&bars(&[
        (
            "experts' time (h)".into(),
            (r.times.expert.total_secs / 3600).unsigned_abs(),
        ),
        (
            "your team's time (h)".into(),
            (r.times.customer.total_secs / 3600).unsigned_abs(),
        ),
    ]));

    let s = &r.sla;
    out.push_str("<h2>SLA compliance</h2><div>");
    kpi(&mut out, "compliance", &pct(s.compliance_percent));
    kpi(&mut out, "timers met", &s.met.to_string());
    kpi(&mut out, "timers breached", &s.breached.to_string());
    kpi(&mut out, "still running", &s.running.to_string());
    let _ = write!(
        out,
        "</div><table><tr><th>timer</th><th>met</th><th>breached</th></tr>\
         <tr><td>acknowledge</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\
         <tr><td>complete the tasks</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr></table>\
         <p>Median time past due of breaches: {}.</p>",
        s.acknowledge.met,
        s.acknowledge.breached,
        s.complete.met,
        s.complete.breached,
        escape_html(&words(s.overdue.median_secs)),
    );

    let t = &r.tasks;
    out.push_str("<h2>Response tasks</h2>");
    out.push_str(&bars(&[
        ("completed".into(), t.completed),
        ("pending".into(), t.pending),
        ("skipped".into(), t.skipped),
        ("failed".into(), t.failed),
    ]));
    let _ = write!(
        out,
        "<p>{} tasks created; median completion time {} (90th percentile {}).</p>",
        t.created,
        escape_html(&words(t.completion.median_secs)),
        escape_html(&words(t.completion.p90_secs)),
    );

    out.push_str("<h2>Most affected assets</h2>");
    if r.top_assets.is_empty() {
        out.push_str("<p class=\"none\">None in this period.</p>");
    } else {
        out.push_str("<table><tr><th>asset</th><th>kind</th><th>incidents</th></tr>");
        for a in &r.top_assets {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
                escape_html(&a.name),
                escape_html(&a.kind),
                a.incidents
            );
        }
        out.push_str("</table>");
    }

    let rec = &r.recommendations;
    out.push_str("<h2>Recommendations and posture</h2><div>");
    kpi(&mut out, "posture score", &pct(rec.posture_percent));
    kpi(
        &mut out,
        "points achieved",
        &format!("{} / {}", rec.posture_achieved, rec.posture_possible),
    );
    kpi(&mut out, "raised this period", &rec.raised.to_string());
    kpi(
        &mut out,
        "completed this period",
        &rec.completed.to_string(),
    );
    out.push_str("</div>");
    chart(&mut out, "By status", &rec.by_status);
    if !rec.top_open.is_empty() {
        out.push_str("<table><tr><th>open recommendation</th><th>status</th><th>points</th></tr>");
        for o in &rec.top_open {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
                escape_html(&o.title),
                escape_html(o.status.as_str()),
                o.points
            );
        }
        out.push_str("</table>");
    }

    out.push_str("<h2>Readiness and coverage</h2>");
    match &r.readiness {
        Some(a) => {
            let _ = write!(
                out,
                "<p>Latest assessment {}: score {:.1}, {}; {} pass, {} warn, {} fail, {} not applicable.</p>",
                escape_html(&a.run_at.to_string()),
                a.score,
                if a.ready { "ready" } else { "not ready" },
                a.pass,
                a.warn,
                a.fail,
                a.not_applicable
            );
            if !a.blocking_failures.is_empty() {
                let _ = write!(
                    out,
                    "<p>Blocking failures: {}.</p>",
                    escape_html(&a.blocking_failures.join(", "))
                );
            }
        }
        None => out.push_str("<p class=\"none\">No readiness assessment has run.</p>"),
    }
    let scope = match r.coverage.scope {
        vigil_reports::CoverageScope::All => "every asset the tenant sends".to_owned(),
        vigil_reports::CoverageScope::Scoped(n) => format!("{n} named assets or groups (scoped)"),
    };
    let _ = write!(out, "<p>Coverage: {}.</p>", escape_html(&scope));
    if !r.coverage.checks.is_empty() {
        out.push_str("<table><tr><th>coverage check</th><th>status</th></tr>");
        for c in &r.coverage.checks {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td></tr>",
                escape_html(&c.title),
                escape_html(c.status.as_str())
            );
        }
        out.push_str("</table>");
    }

    out.push_str("<h2>Six-month trend</h2>");
    trend_charts(&mut out, &r.trend);
    page(&format!("Service report: {}", r.tenant_name), &out)
}

/// The provider's view as a page: one row per tenant.
pub fn provider_html(r: &ProviderReport) -> String {
    let mut out = String::with_capacity(16 * 1024);
    // One row per tenant with every figure: landscape, smaller cells.
    out.push_str("<style>@page{size:A4 landscape}td,th{font-size:10px;padding:2px 4px}</style>");
    let _ = write!(
        out,
        "<h1>Service report: all tenants</h1><p class=\"sub\">{} to {} · generated {}</p>",
        escape_html(&r.period.from.to_string()),
        escape_html(&r.period.to.to_string()),
        escape_html(&r.generated_at.to_string()),
    );
    out.push_str("<h2>Incidents by tenant</h2>");
    out.push_str(&bars(
        &r.rows
            .iter()
            .map(|row| (row.tenant.clone(), row.investigated))
            .collect::<Vec<_>>(),
    ));
    out.push_str(
        "<table><tr><th>tenant</th><th>investigated</th><th>resolved</th><th>by experts</th><th>with customer</th>\
         <th>open</th><th>high/critical</th><th>median ack</th><th>median resolve</th><th>expert</th><th>customer</th>\
         <th>SLA met</th><th>SLA breached</th><th>SLA %</th><th>tasks done</th><th>pending</th><th>skipped</th><th>failed</th>\
         <th>median task</th><th>top asset</th><th>top tactic</th><th>open recs</th><th>posture</th><th>readiness</th></tr>",
    );
    for row in &r.rows {
        let cells = [
            row.tenant_name.clone(),
            row.investigated.to_string(),
            row.resolved.to_string(),
            row.resolved_by_experts.to_string(),
            row.resolved_with_customer.to_string(),
            row.open.to_string(),
            row.high_or_critical.to_string(),
            words(row.median_acknowledge_secs),
            words(row.median_resolve_secs),
            words(row.median_expert_secs),
            words(row.median_customer_secs),
            row.sla_met.to_string(),
            row.sla_breached.to_string(),
            pct(row.sla_compliance_percent),
            row.tasks_completed.to_string(),
            row.tasks_pending.to_string(),
            row.tasks_skipped.to_string(),
            row.tasks_failed.to_string(),
            words(row.median_task_completion_secs),
            row.top_asset.clone().unwrap_or_default(),
            row.top_tactic.clone().unwrap_or_default(),
            row.open_recommendations.to_string(),
            pct(row.posture_percent),
            row.readiness_score
                .map_or_else(|| "n/a".into(), |s| format!("{s:.1}")),
        ];
        out.push_str("<tr>");
        for c in cells {
            let _ = write!(out, "<td>{}</td>", escape_html(&c));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    page("Service report: all tenants", &out)
}
