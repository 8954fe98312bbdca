//! A small polled driver for the SMSC LAN9118 Ethernet controller of the MPS2 (on real
//! AN385/AN386 boards a LAN9220, which is software-compatible; QEMU models the LAN9118 at
//! 0x4020_0000, interrupt 13 — hw/arm/mps2.c). 32-bit bus, PIO through the FIFO ports,
//! no interrupts: the main loop polls.
//!
//! Register names and bit positions are the LAN9118 datasheet's (SMSC): the system control
//! and status registers, the MAC control and status registers (reached indirectly through
//! MAC_CSR_CMD/MAC_CSR_DATA), TX command words A and B in front of each frame written to
//! the TX data FIFO, and one RX status word per frame read from the RX status FIFO.

use core::ptr::{read_volatile, write_volatile};

/// Where QEMU's mps2-an386 (and the AN385/AN386 FPGA images) put the controller.
pub const BASE: usize = 0x4020_0000;

// System control and status registers, byte offsets.
const RX_DATA_FIFO: usize = 0x00;
const TX_DATA_FIFO: usize = 0x20;
const RX_STATUS_FIFO: usize = 0x40;
const TX_STATUS_FIFO: usize = 0x48;
const ID_REV: usize = 0x50;
const INT_STS: usize = 0x58;
const INT_EN: usize = 0x5c;
const BYTE_TEST: usize = 0x64;
const RX_CFG: usize = 0x6c;
const TX_CFG: usize = 0x70;
const HW_CFG: usize = 0x74;
const RX_DP_CTRL: usize = 0x78;
const RX_FIFO_INF: usize = 0x7c;
const TX_FIFO_INF: usize = 0x80;
const PMT_CTRL: usize = 0x84;
const FREE_RUN: usize = 0x9c;
const MAC_CSR_CMD: usize = 0xa4;
const MAC_CSR_DATA: usize = 0xa8;

/// BYTE_TEST always reads this: proves the bus works and its byte order.
const BYTE_TEST_VALUE: u32 = 0x8765_4321;
const HW_CFG_SRST: u32 = 1 << 0;
const PMT_CTRL_READY: u32 = 1 << 0;
const TX_CFG_TX_ON: u32 = 1 << 1;
const RX_DP_CTRL_FFWD: u32 = 1 << 31;
const CSR_BUSY: u32 = 1 << 31;
const CSR_READ: u32 = 1 << 30;

// MAC control and status registers, indices for MAC_CSR_CMD.
const MAC_CR: u32 = 1;
const MAC_ADDRH: u32 = 2;
const MAC_ADDRL: u32 = 3;
const MAC_CR_RXEN: u32 = 1 << 2;
const MAC_CR_TXEN: u32 = 1 << 3;
const MAC_CR_FDPX: u32 = 1 << 20;

// TX command A: first and last segment of a frame in one buffer.
const TX_CMD_A_FIRST: u32 = 1 << 13;
const TX_CMD_A_LAST: u32 = 1 << 12;

// RX status word.
const RX_STS_ERROR: u32 = 1 << 15;

/// Largest Ethernet frame the driver moves (without the FCS).
pub const MTU: usize = 1514;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitError {
    /// BYTE_TEST did not read 0x87654321: no LAN9118 at [`BASE`], or a bus problem.
    NoDevice(u32),
    /// The soft reset did not finish.
    ResetTimeout,
}

pub struct Lan9118 {
    mac: [u8; 6],
}

fn read(offset: usize) -> u32 {
    // SAFETY: the LAN9118's register window is 256 bytes at BASE (hw/arm/mps2.c); every
    // offset used here is one of the datasheet's registers inside it. Reading the FIFO
    // ports pops data, which is what the callers intend.
    unsafe { read_volatile((BASE + offset) as *const u32) }
}

fn write(offset: usize, value: u32) {
    // SAFETY: as in `read`; the driver is the only user of this window (one `Lan9118`).
    unsafe { write_volatile((BASE + offset) as *mut u32, value) }
}

fn mac_csr_wait() {
    // QEMU completes at once; hardware clears CSR_BUSY within a few bus cycles.
    for _ in 0..10_000 {
        if read(MAC_CSR_CMD) & CSR_BUSY == 0 {
            return;
        }
    }
}

fn mac_read(index: u32) -> u32 {
    mac_csr_wait();
    write(MAC_CSR_CMD, CSR_BUSY | CSR_READ | index);
    mac_csr_wait();
    read(MAC_CSR_DATA)
}

fn mac_write(index: u32, value: u32) {
    mac_csr_wait();
    write(MAC_CSR_DATA, value);
    write(MAC_CSR_CMD, CSR_BUSY | index);
    mac_csr_wait();
}

impl Lan9118 {
    /// Resets the controller and turns the transmitter and receiver on. The MAC address is
    /// the one the controller loaded from its EEPROM (QEMU: `-nic ...,mac=`, by default
    /// 52:54:00:12:34:56). Address filtering: own address and broadcast (MAC_CR with PRMS
    /// and MCPAS clear).
    pub fn init() -> Result<Self, InitError> {
        let test = read(BYTE_TEST);
        if test != BYTE_TEST_VALUE {
            return Err(InitError::NoDevice(test));
        }
        write(HW_CFG, HW_CFG_SRST);
        let mut ready = false;
        for _ in 0..100_000 {
            if read(HW_CFG) & HW_CFG_SRST == 0 && read(PMT_CTRL) & PMT_CTRL_READY != 0 {
                ready = true;
                break;
            }
        }
        if !ready {
            return Err(InitError::ResetTimeout);
        }
        write(INT_EN, 0);
        write(INT_STS, 0xffff_ffff);
        // RX_CFG = 0: no end padding, no offset; each frame starts word-aligned.
        write(RX_CFG, 0);
        write(TX_CFG, TX_CFG_TX_ON);
        mac_write(MAC_CR, MAC_CR_TXEN | MAC_CR_RXEN | MAC_CR_FDPX);
        let lo = mac_read(MAC_ADDRL).to_le_bytes();
        let hi = mac_read(MAC_ADDRH).to_le_bytes();
        Ok(Lan9118 {
            mac: [lo[0], lo[1], lo[2], lo[3], hi[0], hi[1]],
        })
    }

    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    /// The chip's ID_REV register (0x0118_0001 for QEMU's model).
    pub fn id_rev(&self) -> u32 {
        read(ID_REV)
    }

    /// A free-running 25 MHz counter (FREE_RUN); the board's only source of
    /// timing jitter for entropy.
    pub fn free_run(&self) -> u32 {
        read(FREE_RUN)
    }

    /// Copies the next received frame (without its FCS) into `buf` and returns its length.
    /// Frames with an error, or longer than `buf`, are skipped (RX_DP_CTRL fast-forward)
    /// and reported as `Some(0)`; `None` when nothing is waiting.
    pub fn receive(&mut self, buf: &mut [u8]) -> Option<usize> {
        // RX_FIFO_INF bits 23:16: status words waiting, one per frame.
        if (read(RX_FIFO_INF) >> 16) & 0xff == 0 {
            return None;
        }
        let status = read(RX_STATUS_FIFO);
        // Bits 29:16: frame length including the 4-byte FCS.
        let with_fcs = ((status >> 16) & 0x3fff) as usize;
        let words = with_fcs.div_ceil(4);
        let len = with_fcs.saturating_sub(4);
        if status & RX_STS_ERROR != 0 || len > buf.len() || len < 14 {
            self.discard(words);
            return Some(0);
        }
        for i in 0..words {
            let w = read(RX_DATA_FIFO).to_le_bytes();
            for (j, b) in w.iter().enumerate() {
                if let Some(slot) = buf.get_mut(i * 4 + j).filter(|_| i * 4 + j < len) {
                    *slot = *b;
                }
            }
        }
        Some(len)
    }

    /// Drops the rest of a frame: fast-forward for long ones, reads for short ones (the
    /// datasheet asks for plain reads when fewer than 4 words remain).
    fn discard(&mut self, words: usize) {
        if words >= 4 {
            write(RX_DP_CTRL, RX_DP_CTRL_FFWD);
            for _ in 0..10_000 {
                if read(RX_DP_CTRL) & RX_DP_CTRL_FFWD == 0 {
                    break;
                }
            }
        } else {
            for _ in 0..words {
                let _ = read(RX_DATA_FIFO);
            }
        }
    }

    /// Room for a frame of `len` bytes in the TX data FIFO (TX_FIFO_INF bits 15:0, bytes).
    pub fn can_transmit(&self, len: usize) -> bool {
        (read(TX_FIFO_INF) & 0xffff) as usize >= len + 8
    }

    /// Queues one frame (destination MAC onwards, no FCS: the MAC appends it).
    pub fn transmit(&mut self, frame: &[u8]) {
        let len = frame.len().min(MTU) as u32;
        // Command A: one buffer that is both first and last segment, no offset, 4-byte end
        // alignment. Command B: a packet tag (here the length) and the frame length.
        write(TX_DATA_FIFO, TX_CMD_A_FIRST | TX_CMD_A_LAST | len);
        write(TX_DATA_FIFO, (len << 16) | len);
        for chunk in frame[..len as usize].chunks(4) {
            let mut w = [0u8; 4];
            w[..chunk.len()].copy_from_slice(chunk);
            write(TX_DATA_FIFO, u32::from_le_bytes(w));
        }
        // A full TX status FIFO stops transmission: drain it.
        while (read(TX_FIFO_INF) >> 16) & 0xff != 0 {
            let _ = read(TX_STATUS_FIFO);
        }
    }
}
