//! The DTLS + CoAP core alone, for ci/footprint: dut-core's `Device<1>` (one session) with
//! no network stack, no console and no formatting, so that the image's flash and static RAM
//! are the core's own plus cortex-m-rt's vector table and start-up code.
//!
//! Datagrams come from a mailbox in memory the compiler cannot see into (another RAM
//! region of the board), answers go to a write-only register, so nothing of the core is
//! optimised away. It is a measuring stick, not a program to run.

#![no_std]
#![no_main]

use core::mem::size_of;
use core::ptr::{read_volatile, write_volatile};

use cortex_m_rt::entry;
use dut_core::dtls::session::Session;
use dut_core::{Config, Device, PeerAddr};

/// The mailbox: ZBT SSRAM 2/3's mirror on mps2-an386, outside the image's RAM region, so
/// it does not count as the core's RAM. Layout: now_ms (u64), peer (18 bytes), length
/// (u16), then the datagram.
const MAILBOX: usize = 0x2040_0000;
const MAILBOX_DATA: usize = MAILBOX + 32;
const MAILBOX_CAPACITY: usize = 1500;
/// Where answers go, byte by byte (UART0's data register).
const OUTBOX: usize = 0x4000_4000;

/// Figures ci/footprint reads from the image (little-endian u32s): size of one session,
/// of the device with one and with two sessions. Sizes on this target, not the host's.
#[no_mangle]
pub static DUT_FOOTPRINT: [u32; 3] = [
    size_of::<Session>() as u32,
    size_of::<Device<1>>() as u32,
    size_of::<Device<2>>() as u32,
];

#[entry]
fn main() -> ! {
    // SAFETY: reading our own static; volatile so the figures stay in the image.
    let _ = unsafe { read_volatile(&DUT_FOOTPRINT) };
    let Ok(config) = Config::new(b"Client_identity", b"secretPSK") else {
        halt()
    };
    let Some(device) = cortex_m::singleton!(: Device<1> = Device::new(config)) else {
        halt()
    };
    loop {
        // SAFETY: MAILBOX.. is RAM on mps2-an386 that only the device's in-place decryption
        // writes; its contents are whatever a debugger left there, which is the point.
        let (now, peer, len) = unsafe {
            (
                read_volatile(MAILBOX as *const u64),
                PeerAddr(read_volatile((MAILBOX + 8) as *const [u8; 18])),
                usize::from(read_volatile((MAILBOX + 26) as *const u16)),
            )
        };
        let datagram = unsafe {
            // SAFETY: as above; the length is bounded by the mailbox's capacity. The
            // device decrypts records in place, so it writes the datagram's bytes too.
            core::slice::from_raw_parts_mut(MAILBOX_DATA as *mut u8, len.min(MAILBOX_CAPACITY))
        };
        let mut out = |_: &PeerAddr, bytes: &[u8]| {
            for &b in bytes {
                // SAFETY: UART0's data register; writing it sends a byte.
                unsafe { write_volatile(OUTBOX as *mut u32, u32::from(b)) };
            }
        };
        device.add_entropy(&now.to_le_bytes());
        device.handle_datagram(now, peer, datagram, &mut out);
        if device.poll_timeout().is_some_and(|t| t <= now) {
            device.handle_timeout(now, &mut out);
        }
        cortex_m::asm::wfi();
    }
}

fn halt() -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    halt()
}
