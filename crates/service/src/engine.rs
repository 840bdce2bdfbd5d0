//! The detection engine built from the stored rule packs: Sigma over every
//! logsource (`vigil_detect::stream`).

use std::sync::Arc;

use vigil_detect::stream::{StreamDetector, StreamScratch};
use vigil_formats::Decoded;
use vigil_sigma::{Diagnostic, RuleInfo, RuleSet};

use crate::detection::{Detection, DetectionSession};
use crate::{Result, Service};

/// Sigma rules from the packs, over every logsource.
#[derive(Debug)]
pub struct SigmaDetection {
    detector: StreamDetector,
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
        (SigmaDetection { detector }, diagnostics)
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
