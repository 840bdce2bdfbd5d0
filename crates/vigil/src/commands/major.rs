//! `vigil ir-bundle`: an incident's IR handoff bundle written to a file.

use anyhow::Context;
use serde_json::json;
use vigil_service::{Principal, Service};

use crate::cli::{IrBundleArgs, SpecError};
use crate::output::{emit, emit_json};

pub async fn ir_bundle(a: IrBundleArgs, svc: &Service, p: &Principal) -> anyhow::Result<()> {
    let id = a.id.parse().map_err(|_| SpecError {
        flag: "ID",
        value: a.id.clone(),
        reason: "not an incident id".into(),
    })?;
    let bundle = svc.ir_bundle(p, &a.tenant, id).await?;
    std::fs::write(&a.output, &bundle.bytes)
        .with_context(|| format!("writing the IR bundle to {}", a.output.display()))?;
    if a.out.json {
        return emit_json(&json!({
            "file": a.output,
            "bytes": bundle.bytes.len(),
            "manifest": bundle.manifest.iter().map(|(f, sum)| json!({"file": f, "sha256": sum})).collect::<Vec<_>>(),
        }));
    }
    let mut text = format!(
        "wrote {} ({} bytes, {} files and MANIFEST.sha256)\n",
        a.output.display(),
        bundle.bytes.len(),
        bundle.manifest.len()
    );
    for (file, sum) in &bundle.manifest {
        text.push_str(&format!("{sum}  {file}\n"));
    }
    emit(&text)
}
