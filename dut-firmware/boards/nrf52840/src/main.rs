//! The reference device on an nRF52840 (nRF52840 DK, Dongle, or any board with the chip's
//! USB port wired), for the board farm.
//!
//! Networking is Ethernet over USB: the board is a USB CDC-NCM device (embassy-usb), which
//! Linux, macOS and Windows 11 drive without extra software; embassy-net (smoltcp) runs
//! IPv4 on it with a static address, 192.168.7.1/24. One UDP socket on 5684 (RFC 7252
//! §12.7: coaps) feeds dut-core's sans-IO device; the clock is embassy-time's (RTC1);
//! the DRBG seed comes from the RNG peripheral. Logs go out over RTT (defmt).
//!
//! Why this and not the radio: USB needs no second radio on the host side and gives each
//! board of a farm its own point-to-point link, so boards do not disturb one another and
//! the host sees one network interface per board.

#![no_std]
#![no_main]

mod server;
mod usb;

use defmt::{info, unwrap};
use embassy_executor::Spawner;
use embassy_net::{Ipv4Address, Ipv4Cidr, StackResources, StaticConfigV4};
use embassy_nrf::rng::Rng;
use embassy_nrf::{bind_interrupts, peripherals, usb as nrf_usb};
use static_cell::StaticCell;
use {defmt_rtt as _, panic_probe as _};

bind_interrupts!(struct Irqs {
    USBD => nrf_usb::InterruptHandler<peripherals::USBD>;
    CLOCK_POWER => nrf_usb::vbus_detect::InterruptHandler;
});

/// The board's address on the USB link; the host takes 192.168.7.2/24 (README).
const ADDRESS: Ipv4Address = Ipv4Address::new(192, 168, 7, 1);
const PREFIX: u8 = 24;

#[embassy_executor::task]
async fn usb_device(mut device: usb::UsbDevice) -> ! {
    device.run().await
}

#[embassy_executor::task]
async fn ncm(runner: usb::NcmRunner) -> ! {
    runner.run().await
}

#[embassy_executor::task]
async fn network(mut runner: embassy_net::Runner<'static, usb::NetDevice>) -> ! {
    runner.run().await
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    // USB needs the 32 MHz crystal as high-frequency clock.
    let mut config = embassy_nrf::config::Config::default();
    config.hfclk_source = embassy_nrf::config::HfclkSource::ExternalXtal;
    let p = embassy_nrf::init(config);

    // The RNG peripheral (thermal noise) seeds the DTLS DRBG and smoltcp. Bias correction
    // on: slower, but the output is uniform.
    let mut rng = Rng::new_blocking(p.RNG);
    rng.set_bias_correction(true);
    let mut seed = [0u8; 32];
    rng.blocking_fill_bytes(&mut seed);
    let net_seed = rng.blocking_next_u64();

    let mac = usb::mac_addresses();
    let (usb_dev, runner, net_device) = usb::start(p.USBD, Irqs, mac);
    spawner.spawn(unwrap!(usb_device(usb_dev)));
    spawner.spawn(unwrap!(ncm(runner)));

    let net_config = embassy_net::Config::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(ADDRESS, PREFIX),
        gateway: None,
        dns_servers: heapless::Vec::new(),
    });
    static RESOURCES: StaticCell<StackResources<2>> = StaticCell::new();
    let (stack, net_runner) = embassy_net::new(
        net_device,
        net_config,
        RESOURCES.init(StackResources::new()),
        net_seed,
    );
    spawner.spawn(unwrap!(network(net_runner)));

    info!("dut-nrf52840: coaps on {}:{}", ADDRESS, server::PORT);
    server::run(stack, seed).await
}
