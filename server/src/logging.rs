//! Logging under Fabric's spec syntax (`FABRIC_LOGGING_SPEC`, the operations endpoint's
//! `/logspec`), changeable while running.
//!
//! A spec is `[<logger>[,<logger>...]=]<level>[:...]`: a bare level is the default, the
//! others set named loggers. Logger names are this orderer's module paths written with
//! dots, as Fabric's logger names are (`engine.kafka=debug` is the `engine::kafka`
//! module; `:` separates segments, so `::` cannot be used).

use std::sync::{Mutex, OnceLock};

use tracing_subscriber::reload;
use tracing_subscriber::{EnvFilter, Registry};
use tracing_subscriber::{fmt, prelude::*};

/// The spec when `FABRIC_LOGGING_SPEC` is not set.
pub const DEFAULT_SPEC: &str = "info";

struct Control {
    handle: reload::Handle<EnvFilter, Registry>,
    spec: Mutex<String>,
}

static CONTROL: OnceLock<Control> = OnceLock::new();

/// The `EnvFilter` directives of a Fabric logging spec.
pub fn directives(spec: &str) -> Result<String, String> {
    let mut out = Vec::new();
    for segment in spec.split(':').map(str::trim).filter(|s| !s.is_empty()) {
        let (loggers, level) = match segment.rsplit_once('=') {
            Some((loggers, level)) => (Some(loggers), level.trim()),
            None => (None, segment),
        };
        let level = level.to_ascii_lowercase();
        let level = match level.as_str() {
            "fatal" | "panic" | "error" => "error",
            "warning" | "warn" => "warn",
            "info" | "debug" | "trace" => level.as_str(),
            other => return Err(format!("invalid logging level {other:?} in {spec:?}")),
        };
        match loggers {
            None => out.push(level.to_string()),
            Some(loggers) => {
                for logger in loggers.split(',').map(str::trim) {
                    if logger.is_empty() || logger.contains(char::is_whitespace) {
                        return Err(format!("invalid logger name {logger:?} in {spec:?}"));
                    }
                    out.push(format!("{}={level}", logger.replace('.', "::")));
                }
            }
        }
    }
    if out.is_empty() {
        return Err(format!("empty logging spec {spec:?}"));
    }
    Ok(out.join(","))
}

fn filter(spec: &str) -> Result<EnvFilter, String> {
    EnvFilter::try_new(directives(spec)?).map_err(|error| error.to_string())
}

/// Installs the process's logger (stderr) with `spec`, or the default spec when `spec`
/// is invalid (the error is returned for the caller to log).
pub fn init(spec: Option<&str>) -> Result<(), String> {
    let wanted = spec.unwrap_or(DEFAULT_SPEC);
    let (initial, spec, problem) = match filter(wanted) {
        Ok(filter) => (filter, wanted.to_string(), None),
        Err(error) => (
            EnvFilter::new(DEFAULT_SPEC),
            DEFAULT_SPEC.to_string(),
            Some(error),
        ),
    };
    let (layer, handle) = reload::Layer::new(initial);
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::registry()
        .with(layer)
        .with(fmt::layer().with_writer(std::io::stderr).with_ansi(ansi))
        .init();
    let _ = CONTROL.set(Control {
        handle,
        spec: Mutex::new(spec),
    });
    problem.map_or(Ok(()), Err)
}

/// The active spec, when [`init`] installed the logger.
pub fn spec() -> Option<String> {
    let control = CONTROL.get()?;
    Some(
        control
            .spec
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone(),
    )
}

/// Makes `spec` the active one.
pub fn set_spec(spec: &str) -> Result<(), String> {
    let control = CONTROL
        .get()
        .ok_or("logging is not controlled by this process")?;
    let filter = filter(spec)?;
    control
        .handle
        .reload(filter)
        .map_err(|error| error.to_string())?;
    *control.spec.lock().unwrap_or_else(|e| e.into_inner()) = spec.to_string();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fabric_specs_become_env_filter_directives() {
        assert_eq!(directives("info").unwrap(), "info");
        assert_eq!(
            directives("warning:engine.kafka,orderer.service=debug").unwrap(),
            "warn,engine::kafka=debug,orderer::service=debug"
        );
        assert_eq!(directives("FATAL").unwrap(), "error");
        assert!(directives("loud").is_err());
        assert!(directives("").is_err());
        assert!(directives("a b=debug").is_err());
    }
}
