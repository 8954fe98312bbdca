//! The console: UART0 of the MPS2 (an Arm CMSDK APB UART at 0x4000_4000, AN385/AN386
//! memory map). QEMU connects it to `-serial` (stdio with `-nographic`). Polled, transmit
//! only: the board prints its address when it is ready and one line per notable event.

use core::fmt;
use core::ptr::{read_volatile, write_volatile};

const BASE: usize = 0x4000_4000;
const DATA: usize = BASE;
const STATE: usize = BASE + 0x04;
const CTRL: usize = BASE + 0x08;
const BAUDDIV: usize = BASE + 0x10;

const STATE_TX_FULL: u32 = 1 << 0;
const CTRL_TX_ENABLE: u32 = 1 << 0;

pub struct Uart(());

impl Uart {
    /// Enables the transmitter. The divisor only matters on hardware (25 MHz / 217 ≈
    /// 115200 baud); the CMSDK UART rejects divisors below 16.
    pub fn init() -> Self {
        // SAFETY: UART0's registers are at these addresses on AN385/AN386 and nothing
        // else in the firmware touches them (this is the only constructor, called once).
        unsafe {
            write_volatile(BAUDDIV as *mut u32, 217);
            write_volatile(CTRL as *mut u32, CTRL_TX_ENABLE);
        }
        Uart(())
    }

    fn put(&mut self, byte: u8) {
        // SAFETY: as in `init`; reading STATE and writing DATA have no other effect.
        unsafe {
            while read_volatile(STATE as *const u32) & STATE_TX_FULL != 0 {}
            write_volatile(DATA as *mut u32, u32::from(byte));
        }
    }
}

impl fmt::Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                self.put(b'\r');
            }
            self.put(b);
        }
        Ok(())
    }
}
