/// Everything the "is the usage ping on" decision depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PingInputs {
    /// The platform's initial setup is complete.
    pub initialised: bool,
    /// A licence is installed (EE or DEV): such installs cannot opt out.
    pub licensed: bool,
    /// `telemetry.enabled` from `flowforge.yml` (true when absent).
    pub yml_enabled: bool,
    /// The admin setting `telemetry:enabled` (true when never set).
    pub admin_enabled: bool,
}

/// Whether a usage ping may be sent now:
/// `initialised && (licensed || (yml_enabled && admin_enabled))`.
///
/// Evaluated at every send, so an administrator who opts out stops the next ping.
///
/// ```
/// use ff_telemetry_core::ping::{PingInputs, should_send};
/// let licensed_but_opted_out = PingInputs {
///     initialised: true, licensed: true, yml_enabled: false, admin_enabled: false,
/// };
/// assert!(should_send(&licensed_but_opted_out));
/// ```
pub fn should_send(inputs: &PingInputs) -> bool {
    inputs.initialised && (inputs.licensed || (inputs.yml_enabled && inputs.admin_enabled))
}

/// The admin setting as the platform must report it: licensed installs always read
/// `true`, whatever is stored.
pub fn effective_admin_setting(stored: Option<bool>, licensed: bool) -> bool {
    licensed || stored.unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_over_every_combination() {
        for bits in 0..16u8 {
            let inputs = PingInputs {
                initialised: bits & 1 != 0,
                licensed: bits & 2 != 0,
                yml_enabled: bits & 4 != 0,
                admin_enabled: bits & 8 != 0,
            };
            let want = match (inputs.initialised, inputs.licensed) {
                (false, _) => false,
                (true, true) => true,
                (true, false) => inputs.yml_enabled && inputs.admin_enabled,
            };
            assert_eq!(should_send(&inputs), want, "{inputs:?}");
        }
    }

    #[test]
    fn licensed_installs_read_enabled() {
        assert!(effective_admin_setting(Some(false), true));
        assert!(!effective_admin_setting(Some(false), false));
        assert!(effective_admin_setting(None, false));
    }
}
