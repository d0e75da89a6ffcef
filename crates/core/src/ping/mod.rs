//! The core usage ping: when it is allowed, when it is due, and what it says.

mod payload;
mod rule;
mod schedule;

pub use payload::{
    Counts, DevicesByLastSeen, EnvInfo, FeatureFlag, LicenseInfo, LicenseType, OsInfo,
    PayloadError, PingPayload, PlatformConfigInfo, PlatformInfo, ProjectsByState,
};
pub use rule::{PingInputs, effective_admin_setting, should_send};
pub use schedule::{PingSchedule, ScheduleDraw};
