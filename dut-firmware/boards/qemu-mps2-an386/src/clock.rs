//! The caller-driven clock of dut-core: milliseconds since boot, counted by SysTick.
//!
//! QEMU clocks the MPS2's Cortex-M4 at 25 MHz (SYSCLK in hw/arm/mps2.c), so a reload of
//! 25 000 - 1 gives one SysTick exception per millisecond. The exception also wakes the
//! main loop from `wfi`, which is how the loop polls the network without spinning.

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;
use cortex_m_rt::exception;

/// Core clock of the mps2-an386 machine.
pub const CORE_HZ: u32 = 25_000_000;

static TICKS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    TICKS.fetch_add(1, Ordering::Relaxed);
}

/// Milliseconds since [`Clock::start`], widened to 64 bits by the main loop (the tick
/// counter wraps after 49 days).
pub struct Clock {
    syst: SYST,
    high: u64,
    last: u32,
}

impl Clock {
    pub fn start(mut syst: SYST) -> Self {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(CORE_HZ / 1_000 - 1);
        syst.clear_current();
        syst.enable_counter();
        syst.enable_interrupt();
        Clock {
            syst,
            high: 0,
            last: 0,
        }
    }

    pub fn now_ms(&mut self) -> u64 {
        let t = TICKS.load(Ordering::Relaxed);
        if t < self.last {
            self.high += 1 << 32;
        }
        self.last = t;
        self.high | u64::from(t)
    }

    /// The SysTick down-counter (24 bits at 25 MHz): where within the millisecond we are.
    pub fn sub_ms(&self) -> u32 {
        SYST::get_current()
    }

    #[allow(dead_code)]
    pub fn syst(&mut self) -> &mut SYST {
        &mut self.syst
    }
}
