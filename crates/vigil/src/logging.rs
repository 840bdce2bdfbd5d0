use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::{ConfigError, LogConfig, LogFormat};

/// Logs go to standard error, so standard output stays clean for results.
pub fn init(cfg: &LogConfig, source_name: &str) -> anyhow::Result<()> {
    // The EVTX decoder logs every chunk at info: keep it quiet unless asked.
    let level = if cfg.level.contains("evtx") {
        cfg.level.clone()
    } else {
        format!("{},evtx=warn", cfg.level)
    };
    let filter = EnvFilter::try_new(&level).map_err(|e| ConfigError::Value {
        key: "log.level".into(),
        source_name: source_name.to_owned(),
        message: format!("{:?} is not a log filter: {e}", cfg.level),
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match cfg.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Human => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
    };
    result.map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))
}
