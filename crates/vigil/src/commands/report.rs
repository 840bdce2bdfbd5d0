//! `vigil report`: a tenant's service report, or the provider's view
//! across tenants, written as JSON, HTML or PDF by the file's extension.

use std::path::Path;

use anyhow::Context;
use serde_json::json;
use vigil_service::reports::html;
use vigil_service::{Principal, Service, parse_period};

use crate::cli::{ReportArgs, SpecError};
use crate::output::{emit, emit_json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Html,
    Pdf,
}

fn format_of(path: &Path) -> Result<Format, SpecError> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("json") => Ok(Format::Json),
        Some("html" | "htm") => Ok(Format::Html),
        Some("pdf") => Ok(Format::Pdf),
        _ => Err(SpecError {
            flag: "--output",
            value: path.display().to_string(),
            reason: "the extension says the format: .json, .html or .pdf".into(),
        }),
    }
}

async fn render<T: serde::Serialize>(
    svc: &Service,
    format: Format,
    report: &T,
    page: impl FnOnce(&T) -> String,
) -> anyhow::Result<Vec<u8>> {
    Ok(match format {
        Format::Json => {
            let mut v = serde_json::to_vec_pretty(report)?;
            v.push(b'\n');
            v
        }
        Format::Html => page(report).into_bytes(),
        Format::Pdf => svc
            .pdf_printer()
            .print(&page(report))
            .await
            .map_err(vigil_service::ServiceError::from)?,
    })
}

pub async fn run(a: ReportArgs, svc: &Service, p: &Principal) -> anyhow::Result<()> {
    let format = a.output.as_deref().map(format_of).transpose()?;
    let period = parse_period(a.from.as_deref(), a.to.as_deref(), svc.now())?;
    let bytes = match (&a.tenant, a.provider) {
        (Some(slug), false) => {
            let r = svc.service_report(p, slug, period).await?;
            render(svc, format.unwrap_or(Format::Json), &r, html::service_html).await?
        }
        _ => {
            let r = svc.provider_report(p, period).await?;
            render(svc, format.unwrap_or(Format::Json), &r, html::provider_html).await?
        }
    };
    let Some(path) = &a.output else {
        return emit(&String::from_utf8_lossy(&bytes));
    };
    std::fs::write(path, &bytes)
        .with_context(|| format!("writing the report to {}", path.display()))?;
    if a.out.json {
        return emit_json(&json!({
            "file": path,
            "bytes": bytes.len(),
            "from": period.from,
            "to": period.to,
        }));
    }
    emit(&format!(
        "wrote {} ({} bytes; {} to {})\n",
        path.display(),
        bytes.len(),
        period.from,
        period.to
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_output_files_extension_picks_the_format() {
        assert_eq!(format_of(Path::new("r.json")).ok(), Some(Format::Json));
        assert_eq!(format_of(Path::new("R.HTML")).ok(), Some(Format::Html));
        assert_eq!(format_of(Path::new("out/r.pdf")).ok(), Some(Format::Pdf));
        let e = format_of(Path::new("r.docx")).expect_err("unknown");
        assert!(e.to_string().contains(".json, .html or .pdf"), "{e}");
    }
}
