//! A stand-in simulated board built from dicetest's own engine in its server role, used
//! until the reference firmware's `dut-sim` serves as the `sim` DUT. It shares the
//! harness's protocol code, so a verdict against it proves the interpreter, not the engine.

use std::collections::HashMap;

use super::link::SimDevice;
use crate::engine::config::Deviations;
use crate::engine::{Config, Connection, Event};
use crate::time::Instant;

pub struct EngineDevice {
    base: Config,
    sessions: HashMap<u16, Connection>,
}

impl EngineDevice {
    pub fn new(mut base: Config) -> Self {
        base.session_cache.get_or_insert_with(Default::default);
        EngineDevice {
            base,
            sessions: HashMap::new(),
        }
    }

    fn drain(c: &mut Connection, port: u16, out: &mut Vec<(u16, Vec<u8>)>) {
        while let Some(e) = c.poll_event() {
            if let Event::ApplicationData(d) = e {
                c.send_application_data(&d);
            }
        }
        while let Some(d) = c.poll_transmit() {
            out.push((port, d));
        }
    }
}

impl SimDevice for EngineDevice {
    fn handle_datagram(&mut self, now: Instant, from: u16, datagram: &[u8]) -> Vec<(u16, Vec<u8>)> {
        let base = &self.base;
        let c = self.sessions.entry(from).or_insert_with(|| {
            let mut cfg = base.clone();
            cfg.cookie_context = from.to_be_bytes().to_vec();
            cfg.seed = base.seed ^ u64::from(from);
            Connection::new(cfg)
        });
        c.handle_datagram(now, datagram);
        let mut out = Vec::new();
        Self::drain(c, from, &mut out);
        if c.is_finished() {
            self.sessions.remove(&from);
        }
        out
    }

    fn handle_timeout(&mut self, now: Instant) -> Vec<(u16, Vec<u8>)> {
        let mut out = Vec::new();
        for (port, c) in self.sessions.iter_mut() {
            c.handle_timeout(now);
            Self::drain(c, *port, &mut out);
        }
        out
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.sessions
            .values()
            .filter_map(|c| c.poll_timeout())
            .min()
    }
}

/// dicetest's engine as a DUT *client* (for running DUT-client cases in-process; not an
/// independent implementation, so it proves the runner, not a device).
pub struct EngineClientDevice {
    conn: Connection,
}

/// The source id the simulated client uses.
const CLIENT_PORT: u16 = 40000;

impl EngineClientDevice {
    pub fn new(config: Config) -> Self {
        EngineClientDevice {
            conn: Connection::new(config),
        }
    }

    /// A client that also misbehaves on purpose: `faults` names engine deviations
    /// ([`Deviations::NAMES`]), as a self-test profile lists them.
    pub fn with_deviations(mut config: Config, faults: &[String]) -> Result<Self, String> {
        for f in faults {
            if !config.deviations.set_by_name(f) {
                return Err(format!(
                    "unknown engine deviation {f:?} (known: {})",
                    Deviations::NAMES.join(", ")
                ));
            }
        }
        Ok(Self::new(config))
    }

    fn out(&mut self) -> Vec<(u16, Vec<u8>)> {
        let mut out = Vec::new();
        EngineDevice::drain(&mut self.conn, CLIENT_PORT, &mut out);
        out
    }
}

impl SimDevice for EngineClientDevice {
    fn start(&mut self, now: Instant) -> Vec<(u16, Vec<u8>)> {
        self.conn.start(now);
        self.out()
    }

    fn handle_datagram(
        &mut self,
        now: Instant,
        _from: u16,
        datagram: &[u8],
    ) -> Vec<(u16, Vec<u8>)> {
        self.conn.handle_datagram(now, datagram);
        self.out()
    }

    fn handle_timeout(&mut self, now: Instant) -> Vec<(u16, Vec<u8>)> {
        self.conn.handle_timeout(now);
        self.out()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.conn.poll_timeout()
    }
}
