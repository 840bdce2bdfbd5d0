//! How a tenant's alerts are grouped: the window and the common-entity
//! limits (docs/incidents.md).

use jiff::SignedDuration;
use vigil_core::Entity;

/// Correlation settings for one tenant. [`Default`] gives the documented
/// defaults; [`CorrelationConfig::with_window`] checks a tenant's window.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct CorrelationConfig {
    /// Two alerts naming the same key entity link when their activity is at
    /// most this far apart. Default 24 h.
    pub window: SignedDuration,
    /// A non-device entity seen on more devices than
    /// `max(fan_out_min_devices, tenant devices × fan_out_percent / 100)`
    /// is common. Defaults 20 and 10.
    pub fan_out_min_devices: u32,
    pub fan_out_percent: u32,
    /// A device seen with more distinct users than this is common (a
    /// terminal server, a jump box, a domain controller). Default 25.
    pub device_user_limit: u32,
    /// An entity in more incidents than this (as counted by the caller,
    /// e.g. opened in the last week) is common. Default 10.
    pub incident_limit: u32,
    /// The tenant's own entities that never link (a scanner, a proxy).
    pub never_link: Vec<Entity>,
}

/// The shortest and longest windows a tenant may choose.
pub const MIN_WINDOW: SignedDuration = SignedDuration::from_mins(1);
pub const MAX_WINDOW: SignedDuration = SignedDuration::from_hours(24 * 30);

impl Default for CorrelationConfig {
    fn default() -> Self {
        CorrelationConfig {
            window: SignedDuration::from_hours(24),
            fan_out_min_devices: 20,
            fan_out_percent: 10,
            device_user_limit: 25,
            incident_limit: 10,
            never_link: Vec::new(),
        }
    }
}

/// A correlation setting out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the correlation window must be between 1 minute and 30 days, not {}", human(*.0))]
    Window(SignedDuration),
}

impl CorrelationConfig {
    /// The defaults with another window, checked to be 1 minute to 30 days.
    pub fn with_window(window: SignedDuration) -> Result<Self, ConfigError> {
        if window < MIN_WINDOW || window > MAX_WINDOW {
            return Err(ConfigError::Window(window));
        }
        Ok(CorrelationConfig {
            window,
            ..CorrelationConfig::default()
        })
    }

    /// The device count above which a non-device entity is common, for a
    /// tenant with this many devices.
    pub fn fan_out_limit(&self, tenant_devices: u32) -> u32 {
        let share = u64::from(tenant_devices) * u64::from(self.fan_out_percent) / 100;
        let share = u32::try_from(share).unwrap_or(u32::MAX);
        share.max(self.fan_out_min_devices)
    }
}

/// A duration as people write it: `24h`, `90m`, `1h30m`, `45s`.
pub fn human(d: SignedDuration) -> String {
    let secs = d.as_secs();
    let sign = if secs < 0 { "-" } else { "" };
    let secs = secs.unsigned_abs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::from(sign);
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.len() == sign.len() {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_window_is_24_hours_and_a_tenant_may_choose_within_limits() {
        assert_eq!(
            CorrelationConfig::default().window,
            SignedDuration::from_hours(24)
        );
        let six = CorrelationConfig::with_window(SignedDuration::from_hours(6)).expect("ok");
        assert_eq!(six.window, SignedDuration::from_hours(6));
        let err = CorrelationConfig::with_window(SignedDuration::ZERO).expect_err("too short");
        assert_eq!(
            err.to_string(),
            "the correlation window must be between 1 minute and 30 days, not 0s"
        );
        assert!(CorrelationConfig::with_window(SignedDuration::from_hours(24 * 31)).is_err());
    }

    #[test]
    fn the_fan_out_limit_grows_with_the_tenant_but_never_below_the_minimum() {
        let c = CorrelationConfig::default();
        assert_eq!(c.fan_out_limit(0), 20);
        assert_eq!(c.fan_out_limit(150), 20);
        assert_eq!(c.fan_out_limit(5_000), 500);
    }

    #[test]
    fn durations_print_as_people_write_them() {
        assert_eq!(human(SignedDuration::from_hours(24)), "24h");
        assert_eq!(human(SignedDuration::from_mins(90)), "1h30m");
        assert_eq!(human(SignedDuration::from_secs(45)), "45s");
    }
}
