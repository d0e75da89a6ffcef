//! The Sentry environment name, shared by the backend and the browser.

use ff_telemetry_wire::UNKNOWN_ENVIRONMENT;

/// The environment both Sentry sides report: `SENTRY_ENV`, else `NODE_ENV`, else
/// `unknown`. Empty (or all-blank) values count as unset.
///
/// `lookup` reads one environment variable; core never reads the process
/// environment itself.
///
/// ```
/// use ff_telemetry_core::sentry_environment;
/// let env = |k: &str| (k == "NODE_ENV").then(|| "production".to_owned());
/// assert_eq!(sentry_environment(env), "production");
/// assert_eq!(sentry_environment(|_| None), "unknown");
/// ```
pub fn sentry_environment(lookup: impl Fn(&str) -> Option<String>) -> String {
    ["SENTRY_ENV", "NODE_ENV"]
        .into_iter()
        .filter_map(lookup)
        .map(|v| v.trim().to_owned())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| UNKNOWN_ENVIRONMENT.to_owned())
}

/// The release name both Sentry sides (and the build-time upload) use:
/// `flowfuse@<platform version>`. One name, so uploaded source maps match events.
///
/// ```
/// assert_eq!(ff_telemetry_core::release_name("2.10.0"), "flowfuse@2.10.0");
/// ```
pub fn release_name(platform_version: &str) -> String {
    format!("flowfuse@{}", platform_version.trim())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn sentry_env_then_node_env_then_unknown() {
        let table: &[(&[(&str, &str)], &str)] = &[
            (&[], "unknown"),
            (&[("NODE_ENV", "development")], "development"),
            (&[("SENTRY_ENV", "staging")], "staging"),
            (
                &[("SENTRY_ENV", "staging"), ("NODE_ENV", "production")],
                "staging",
            ),
            (
                &[("SENTRY_ENV", ""), ("NODE_ENV", "production")],
                "production",
            ),
            (&[("SENTRY_ENV", "  "), ("NODE_ENV", "")], "unknown"),
            (&[("SENTRY_ENVIRONMENT", "ignored")], "unknown"),
            (&[("SENTRY_ENV", " padded ")], "padded"),
        ];
        for (vars, want) in table {
            let map: HashMap<&str, &str> = vars.iter().copied().collect();
            let got = sentry_environment(|k| map.get(k).map(|v| (*v).to_owned()));
            assert_eq!(&got, want, "{vars:?}");
        }
    }
}
