//! The core usage ping: when it is allowed and when it is due. What it says is
//! `ff_telemetry_wire::ping::PingPayload`.

mod rule;
mod schedule;

pub use rule::{PingInputs, effective_admin_setting, should_send};
pub use schedule::{PingSchedule, ScheduleDraw};
