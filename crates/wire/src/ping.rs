//! The anonymous usage ping, as the backend sends it and the collector reads it.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// The anonymous usage ping, exactly as it goes on the wire.
///
/// Only `instanceId` is required when parsing: FlowFuse's collector accepts pings
/// from older platforms that lack newer fields. A sender fills every field. Nothing
/// else can be sent: there is no field for names, emails, hostnames, URLs or IPs.
///
/// ```
/// use ff_telemetry_wire::ping::PingPayload;
/// let json = r#"{"instanceId":"5db51f99-c6fb-4340-9c19-78adce58cc1b","extra":1}"#;
/// assert!(PingPayload::from_json_strict(json).is_err());
/// let (payload, dropped) = PingPayload::from_json_lenient(json).unwrap();
/// assert_eq!(dropped, ["extra"]);
/// assert_eq!(payload.instance_id.to_string(), "5db51f99-c6fb-4340-9c19-78adce58cc1b");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PingPayload {
    /// Random UUIDv4 made on the platform's first start and kept.
    pub instance_id: Uuid,
    /// The operating system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<OsInfo>,
    /// Runtime and platform versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<EnvInfo>,
    /// What the platform holds and how it is set up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<PlatformInfo>,
}

/// `os`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsInfo {
    /// `os.type`, e.g. `Linux` or `Darwin`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `os.release`, the kernel release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// `os.arch`, e.g. `x64` or `arm64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
}

/// `env`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvInfo {
    /// `env.nodejs`: the runtime version (FlowFuse sends Node's; we send ours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodejs: Option<String>,
    /// `env.flowforge`: the platform version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flowforge: Option<String>,
}

/// `platform`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformInfo {
    /// `platform.counts`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<Counts>,
    /// `platform.config`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<PlatformConfigInfo>,
    /// `platform.license`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<LicenseInfo>,
}

/// `platform.counts`: one number per table, nothing about what is in them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Counts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams: Option<u64>,
    /// Node-RED instances (FlowFuse still calls them projects on the wire).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projects: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_snapshots: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_templates: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_stacks: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library_entries: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_library_entries: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blueprints: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_broker_clients: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_brokers: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projects_by_state: Option<ProjectsByState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices_by_last_seen: Option<DevicesByLastSeen>,
}

/// `platform.counts.projectsByState`
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProjectsByState {
    /// Instances in the suspended state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended: Option<u64>,
}

/// `platform.counts.devicesByLastSeen`
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DevicesByLastSeen {
    /// Devices that have never connected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub never: Option<u64>,
    /// Devices seen in the last 24 hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<u64>,
}

/// `platform.config`: which features are on, never their settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformConfigInfo {
    /// The container driver, e.g. `localfs`, `docker`, `kubernetes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// `platform.config.broker`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker: Option<FeatureFlag>,
    /// `platform.config.fileStore`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_store: Option<FeatureFlag>,
    /// `platform.config.email`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<FeatureFlag>,
}

/// `{ "enabled": bool }`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FeatureFlag {
    /// Whether the feature is on.
    pub enabled: bool,
}

/// `platform.license`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseInfo {
    /// The licence id (absent for CE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// CE, EE or DEV.
    #[serde(rename = "type")]
    pub kind: LicenseType,
}

/// The kind of licence an installation runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LicenseType {
    /// Community edition: no licence; telemetry can be turned off.
    #[serde(rename = "CE")]
    Ce,
    /// Enterprise licence.
    #[serde(rename = "EE")]
    Ee,
    /// Development licence.
    #[serde(rename = "DEV")]
    Dev,
}

impl LicenseType {
    /// EE and DEV are licensed; licensed installs cannot opt out of the ping.
    pub fn is_licensed(self) -> bool {
        !matches!(self, LicenseType::Ce)
    }

    /// `CE`, `EE` or `DEV`.
    pub fn as_str(self) -> &'static str {
        match self {
            LicenseType::Ce => "CE",
            LicenseType::Ee => "EE",
            LicenseType::Dev => "DEV",
        }
    }
}

impl std::str::FromStr for LicenseType {
    type Err = PayloadError;

    fn from_str(s: &str) -> Result<Self, PayloadError> {
        match s.trim().to_ascii_uppercase().as_str() {
            "CE" => Ok(LicenseType::Ce),
            "EE" => Ok(LicenseType::Ee),
            "DEV" => Ok(LicenseType::Dev),
            _ => Err(PayloadError::Invalid {
                path: "platform.license.type".into(),
                message: format!("expected CE, EE or DEV, found {s:?}"),
            }),
        }
    }
}

/// Why a ping body was refused. The path names the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Not JSON at all.
    #[error("body is not JSON: {0}")]
    NotJson(String),
    /// A field has the wrong type or value, or a required one is missing.
    #[error("{path}: {message}")]
    Invalid {
        /// Dotted JSON path, `(root)` for the top level.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A field the payload type does not have (strict parsing only).
    #[error("{0}: unknown field")]
    UnknownField(String),
}

impl PingPayload {
    /// Parses a ping, refusing any field the type does not have.
    pub fn from_json_strict(json: &str) -> Result<Self, PayloadError> {
        let (payload, dropped) = Self::from_json_lenient(json)?;
        match dropped.into_iter().next() {
            Some(path) => Err(PayloadError::UnknownField(path)),
            None => Ok(payload),
        }
    }

    /// Parses a ping, keeping known fields (type-checked) and returning the paths of
    /// the unknown ones it dropped.
    pub fn from_json_lenient(json: &str) -> Result<(Self, Vec<String>), PayloadError> {
        let input: Value =
            serde_json::from_str(json).map_err(|e| PayloadError::NotJson(e.to_string()))?;
        let payload: PingPayload = serde_path_to_error::deserialize(&input).map_err(|e| {
            let path = e.path().to_string();
            PayloadError::Invalid {
                path: if path == "." {
                    "(root)".to_owned()
                } else {
                    path
                },
                message: e.into_inner().to_string(),
            }
        })?;
        let kept = serde_json::to_value(&payload).map_err(|e| PayloadError::Invalid {
            path: "(root)".into(),
            message: e.to_string(),
        })?;
        let mut dropped = Vec::new();
        unknown_paths(&input, &kept, "", &mut dropped);
        Ok((payload, dropped))
    }

    /// The ping as the JSON text a sender POSTs.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| unreachable!("plain data serialises"))
    }
}

/// Collects paths of keys present in `input` but not in the re-serialised `kept`.
/// Null inputs carry nothing and are not reported.
fn unknown_paths(input: &Value, kept: &Value, prefix: &str, out: &mut Vec<String>) {
    let (Value::Object(input), Value::Object(kept)) = (input, kept) else {
        return;
    };
    for (key, value) in input {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match kept.get(key) {
            Some(kept_value) => unknown_paths(value, kept_value, &path, out),
            None if value.is_null() => {}
            None => out.push(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_fields_are_named() {
        let cases = [
            (r#"{}"#, "(root): missing field `instanceId`"),
            (r#"{"instanceId":"nope"}"#, "instanceId: "),
            (
                r#"{"instanceId":"5db51f99-c6fb-4340-9c19-78adce58cc1b","platform":{"counts":{"users":"6"}}}"#,
                "platform.counts.users: invalid type: string \"6\"",
            ),
            (
                r#"{"instanceId":"5db51f99-c6fb-4340-9c19-78adce58cc1b","platform":{"license":{"type":"XX"}}}"#,
                "platform.license.type: unknown variant `XX`",
            ),
            (
                r#"{"instanceId":"5db51f99-c6fb-4340-9c19-78adce58cc1b","platform":{"counts":{"users":-1}}}"#,
                "platform.counts.users: invalid value: integer `-1`",
            ),
        ];
        for (json, want) in cases {
            let err = PingPayload::from_json_lenient(json)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(want), "{json}: {err}");
        }
        assert!(matches!(
            PingPayload::from_json_lenient("{not json"),
            Err(PayloadError::NotJson(_))
        ));
    }

    #[test]
    fn unknown_fields_are_dropped_and_listed_at_any_depth() {
        let json = r#"{"instanceId":"5db51f99-c6fb-4340-9c19-78adce58cc1b",
            "hostname":"secret-host","os":{"type":"Linux","user":"root"},
            "platform":{"counts":{"users":1,"flows":9}},"env":null}"#;
        let (payload, dropped) = PingPayload::from_json_lenient(json).unwrap();
        assert_eq!(dropped, ["hostname", "os.user", "platform.counts.flows"]);
        assert!(!payload.to_json().contains("secret-host"));
        assert_eq!(
            PingPayload::from_json_strict(json),
            Err(PayloadError::UnknownField("hostname".into()))
        );
    }

    #[test]
    fn licence_types() {
        assert!(!LicenseType::Ce.is_licensed());
        assert!(LicenseType::Ee.is_licensed() && LicenseType::Dev.is_licensed());
        assert_eq!("dev".parse::<LicenseType>(), Ok(LicenseType::Dev));
        assert!("pro".parse::<LicenseType>().is_err());
    }
}
