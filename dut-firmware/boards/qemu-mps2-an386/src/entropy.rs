//! Entropy for dut-core's HMAC_DRBG on a board that has no random number generator.
//!
//! **This is weak, and only good enough for a test target.** The MPS2 FPGA images modelled
//! by QEMU have no TRNG. What varies from run to run is timing: the LAN9118's free-running
//! 25 MHz counter and the SysTick down-counter, read at boot and at the arrival of every
//! datagram, depend on when the host scheduled QEMU and when the client's packets came.
//! An attacker who can time the packets it sends, or who knows the boot time, can guess
//! much of it. Under QEMU this gives server randoms and cookie secrets that differ between
//! runs, which is what the conformance suite needs; a product needs a hardware RNG (the
//! nRF52840 board uses its RNG peripheral).

/// A few bytes of timing jitter: the free-running counter, the SysTick phase and a running
/// count, so that two calls in the same tick still differ.
pub fn sample(free_run: u32, sub_ms: u32, now_ms: u64, counter: u32) -> [u8; 20] {
    let mut out = [0u8; 20];
    out[..4].copy_from_slice(&free_run.to_le_bytes());
    out[4..8].copy_from_slice(&sub_ms.to_le_bytes());
    out[8..16].copy_from_slice(&now_ms.to_le_bytes());
    out[16..].copy_from_slice(&counter.to_le_bytes());
    out
}
