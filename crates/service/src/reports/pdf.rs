//! PDF through headless Chromium's print to PDF (docs/adr, "PDF reports"):
//! the HTML page written to a private temporary directory, printed by the
//! browser as a subprocess with networking refused, read back. The browser
//! is found on `PATH` (`chromium`, `chromium-browser`, `google-chrome`) or
//! configured (`reports.browser`).

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The longest a print may take before the browser is killed.
const PRINT_TIMEOUT: Duration = Duration::from_secs(60);

/// Names tried on `PATH` when no browser is configured.
pub const BROWSER_NAMES: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

/// Why a PDF could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(
        "PDF reports need headless Chromium: {0}; install chromium or set reports.browser (VIGIL_REPORTS_BROWSER) to its path"
    )]
    BrowserMissing(String),
    #[error("the browser {browser} failed to print the report to PDF ({status}): {stderr}")]
    PrintFailed {
        browser: String,
        status: String,
        stderr: String,
    },
    #[error("the browser {0} did not print the report within 60 s")]
    TimedOut(String),
    #[error("printing the report to PDF: {0}")]
    Io(#[from] std::io::Error),
}

/// How PDFs are printed: the browser to run, if configured.
#[derive(Debug, Clone, Default)]
pub struct PdfPrinter {
    browser: Option<PathBuf>,
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

impl PdfPrinter {
    /// Print with the browser at `browser` (`None`: look on `PATH`).
    pub fn new(browser: Option<PathBuf>) -> Self {
        PdfPrinter { browser }
    }

    /// The browser that would print, or why there is none.
    pub fn browser(&self) -> Result<PathBuf, PdfError> {
        match &self.browser {
            Some(p) if p.is_file() => Ok(p.clone()),
            Some(p) => Err(PdfError::BrowserMissing(format!(
                "the configured browser {} does not exist",
                p.display()
            ))),
            None => BROWSER_NAMES
                .iter()
                .find_map(|n| on_path(n))
                .ok_or_else(|| {
                    PdfError::BrowserMissing(format!(
                        "none of {} is on PATH",
                        BROWSER_NAMES.join(", ")
                    ))
                }),
        }
    }

    /// The PDF of a self-contained HTML page.
    pub async fn print(&self, html: &str) -> Result<Vec<u8>, PdfError> {
        let browser = self.browser()?;
        let dir = TempDir::new()?;
        let page = dir.0.join("report.html");
        let out = dir.0.join("report.pdf");
        tokio::fs::write(&page, html).await?;
        let mut cmd = tokio::process::Command::new(&browser);
        cmd.arg("--headless")
            .arg("--no-sandbox")
            .arg("--disable-gpu")
            .arg("--disable-dev-shm-usage")
            .arg("--no-first-run")
            .arg("--no-pdf-header-footer")
            // The page needs nothing from the network: refuse it all.
            .arg("--host-resolver-rules=MAP * ~NOTFOUND")
            .arg("--proxy-server=127.0.0.1:9")
            .arg(format!(
                "--user-data-dir={}",
                dir.0.join("profile").display()
            ))
            .arg(format!("--print-to-pdf={}", out.display()))
            .arg(file_url(&page))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let browser_name = browser.display().to_string();
        let output = tokio::time::timeout(PRINT_TIMEOUT, cmd.output())
            .await
            .map_err(|_| PdfError::TimedOut(browser_name.clone()))??;
        let pdf = tokio::fs::read(&out).await.unwrap_or_default();
        if !output.status.success() || !pdf.starts_with(b"%PDF") {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let tail: String = stderr.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
            return Err(PdfError::PrintFailed {
                browser: browser_name,
                status: output.status.to_string(),
                stderr: tail,
            });
        }
        Ok(pdf)
    }
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// A private directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<Self> {
        let dir = std::env::temp_dir().join(format!("vigil-report-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_browser_that_is_not_there_is_named_in_the_error() {
        let e = PdfPrinter::new(Some("/nonexistent/chromium".into()))
            .browser()
            .expect_err("missing");
        let text = e.to_string();
        assert!(text.contains("/nonexistent/chromium"), "{text}");
        assert!(text.contains("reports.browser"), "{text}");
    }
}
