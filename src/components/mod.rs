//! Building blocks shared by the views: the page shell, the server status line, and the
//! empty states (with where to send telemetry).

mod live_control;
mod shell;
mod status_line;

pub(crate) use live_control::LiveControl;
pub(crate) use shell::Shell;
pub(crate) use status_line::StatusLine;
mod otlp_hint;
pub(crate) use otlp_hint::OtlpHint;
mod range_form;
pub(crate) use range_form::{InsightPage, RangeForm};
mod time;
pub(crate) use time::{use_zone_provider, StartTime, Zone, ZoneSwitch};
mod copy;
pub(crate) use copy::CopyButton;
mod operation_list;
pub(crate) use operation_list::{known_operation, OperationList};
