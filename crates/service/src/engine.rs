//! The detection engine built from the stored rule packs: Sigma over every
//! logsource (`vigil_detect::stream`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use vigil_core::TenantId;
use vigil_detect::stream::{StreamCorrelator, StreamDetector, StreamScratch};
use vigil_formats::Decoded;
use vigil_sigma::{Diagnostic, RuleInfo, RuleSet};

use crate::detection::{Detection, DetectionSession};
use crate::{Result, Service};

/// Sigma rules from the packs, over every logsource.
#[derive(Debug)]
pub struct SigmaDetection {
    detector: StreamDetector,
    /// Each tenant's correlation state, made on its first event.
    correlators: Mutex<HashMap<TenantId, Option<StreamCorrelator>>>,
}

struct Session<'a> {
    detector: &'a StreamDetector,
    scratch: StreamScratch,
}

impl DetectionSession for Session<'_> {
    fn detect(&mut self, event: &Decoded, out: &mut Vec<u32>) {
        self.detector
            .detect(&event.logsource, &event.event, &mut self.scratch, out);
    }
}

impl Detection for SigmaDetection {
    fn session(&self) -> Box<dyn DetectionSession + '_> {
        Box::new(Session {
            detector: &self.detector,
            scratch: StreamScratch::default(),
        })
    }

    fn rule(&self, index: u32) -> &RuleInfo {
        self.detector.rule(index)
    }

    fn alerts_alone(&self, index: u32) -> bool {
        self.detector.alerts_alone(index)
    }

    fn correlate(
        &self,
        tenant: TenantId,
        event: &Decoded,
        matched: &[u32],
        epoch_secs: i64,
        out: &mut Vec<RuleInfo>,
    ) {
        // Without a match nothing can advance a correlation.
        if matched.is_empty() {
            return;
        }
        let mut all = self.correlators.lock().unwrap_or_else(|p| p.into_inner());
        let state = all
            .entry(tenant)
            .or_insert_with(|| self.detector.correlator());
        let Some(correlator) = state else { return };
        let mut fired = Vec::new();
        correlator.feed(&event.event, matched, epoch_secs, &mut fired);
        for i in fired {
            if let Some(info) = correlator.rules().get(i as usize) {
                out.push(info.clone());
            }
        }
    }
}

impl SigmaDetection {
    /// Build from YAML files (pack, path, text); diagnostics name the
    /// rules that will not run.
    pub fn from_files(files: &[vigil_core::rules::RuleFile]) -> (Self, Vec<Diagnostic>) {
        let mut set = RuleSet::default();
        for f in files {
            let one = vigil_sigma::load_str(&f.yaml, &format!("{}/{}", f.pack, f.path));
            set.rules.extend(one.rules);
            set.correlations.extend(one.correlations);
            set.filters.extend(one.filters);
            set.diagnostics.extend(one.diagnostics);
            set.files += one.files;
        }
        let (detector, diagnostics) = StreamDetector::new(set);
        (
            SigmaDetection {
                detector,
                correlators: Mutex::new(HashMap::new()),
            },
            diagnostics,
        )
    }

    /// How many rules run.
    pub fn rules(&self) -> usize {
        self.detector.len()
    }
}

impl Service {
    /// The engine over every stored rule pack.
    pub async fn detection_engine(&self) -> Result<(Arc<dyn Detection>, Vec<Diagnostic>)> {
        let files = self.rule_files().await?;
        let (engine, diagnostics) =
            tokio::task::spawn_blocking(move || SigmaDetection::from_files(&files))
                .await
                .map_err(|e| crate::ServiceError::Conflict(format!("loading rules failed: {e}")))?;
        tracing::info!(
            rules = engine.rules(),
            problems = diagnostics.len(),
            "detection engine built"
        );
        Ok((Arc::new(engine), diagnostics))
    }
}
