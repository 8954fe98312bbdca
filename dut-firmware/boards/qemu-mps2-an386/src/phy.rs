//! The LAN9118 as a smoltcp `phy::Device`: one receive and one transmit frame buffer, both
//! static, no heap.

use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

use crate::lan9118::{Lan9118, MTU};

pub struct EthDevice {
    pub nic: Lan9118,
    rx: [u8; MTU],
    tx: [u8; MTU],
}

impl EthDevice {
    pub const fn new(nic: Lan9118) -> Self {
        EthDevice {
            nic,
            rx: [0; MTU],
            tx: [0; MTU],
        }
    }
}

pub struct RxToken<'a>(&'a [u8]);

pub struct TxToken<'a> {
    nic: &'a mut Lan9118,
    buf: &'a mut [u8; MTU],
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let len = len.min(MTU);
        let r = f(&mut self.buf[..len]);
        self.nic.transmit(&self.buf[..len]);
        r
    }
}

impl phy::Device for EthDevice {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        // smoltcp may answer a frame at once (ARP): receive only when a reply fits.
        if !self.nic.can_transmit(MTU) {
            return None;
        }
        // Frames in error are skipped (length 0); look at the next one.
        let len = loop {
            match self.nic.receive(&mut self.rx)? {
                0 => continue,
                n => break n,
            }
        };
        Some((
            RxToken(&self.rx[..len]),
            TxToken {
                nic: &mut self.nic,
                buf: &mut self.tx,
            },
        ))
    }

    fn transmit(&mut self, _now: Instant) -> Option<TxToken<'_>> {
        if !self.nic.can_transmit(MTU) {
            return None;
        }
        Some(TxToken {
            nic: &mut self.nic,
            buf: &mut self.tx,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MTU;
        caps.max_burst_size = Some(1);
        caps
    }
}
