//! The USB side: a CDC-NCM function (USB CDC Network Control Model, Ethernet frames over
//! bulk endpoints) turned into an embassy-net device.

use embassy_nrf::usb::vbus_detect::HardwareVbusDetect;
use embassy_nrf::usb::Driver;
use embassy_nrf::{peripherals, Peri};
use embassy_usb::class::cdc_ncm::embassy_net::{Device, Runner, State as NetState};
use embassy_usb::class::cdc_ncm::{CdcNcmClass, State};
use embassy_usb::Builder;
use static_cell::StaticCell;

use crate::Irqs;

pub type UsbDriver = Driver<'static, HardwareVbusDetect>;
pub type UsbDevice = embassy_usb::UsbDevice<'static, UsbDriver>;
/// Largest Ethernet frame (without FCS) on the link.
pub const MTU: usize = 1514;
pub type NcmRunner = Runner<'static, UsbDriver, MTU>;
pub type NetDevice = Device<'static, MTU>;

/// Frames queued each way between the USB class and the IP stack.
const QUEUE: usize = 2;
/// Full-speed bulk endpoints: 64-byte packets.
const MAX_PACKET: u16 = 64;

/// The two ends of the point-to-point link: the board's MAC and the one the host's NCM
/// driver gives its interface. Locally administered (bit 1 of the first octet), unique
/// per chip: the low bytes are the chip's FICR DEVICEID, so that every board of a farm
/// shows up on the host as its own `enx…` interface.
pub struct Macs {
    pub board: [u8; 6],
    pub host: [u8; 6],
}

pub fn mac_addresses() -> Macs {
    let id = embassy_nrf::pac::FICR.deviceid(0).read().to_le_bytes();
    let board = [0x02, 0x00, id[0], id[1], id[2], id[3]];
    let mut host = board;
    host[1] = 0x01;
    Macs { board, host }
}

/// Builds the USB device with one CDC-NCM function and splits the function into its
/// background runner and the embassy-net device.
pub fn start(
    usbd: Peri<'static, peripherals::USBD>,
    irqs: Irqs,
    mac: Macs,
) -> (UsbDevice, NcmRunner, NetDevice) {
    let driver = Driver::new(usbd, irqs, HardwareVbusDetect::new(irqs));

    // Placeholder vendor and product IDs for a test device: a product needs its own.
    let mut config = embassy_usb::Config::new(0x1209, 0x0001);
    config.manufacturer = Some("dicetest");
    config.product = Some("dicetest reference DTLS device");
    config.serial_number = Some("dut-nrf52840");
    config.max_power = 100;
    config.max_packet_size_0 = 64;

    static CONFIG_DESC: StaticCell<[u8; 256]> = StaticCell::new();
    static BOS_DESC: StaticCell<[u8; 256]> = StaticCell::new();
    static MSOS_DESC: StaticCell<[u8; 128]> = StaticCell::new();
    static CONTROL: StaticCell<[u8; 128]> = StaticCell::new();
    let mut builder = Builder::new(
        driver,
        config,
        &mut CONFIG_DESC.init([0; 256])[..],
        &mut BOS_DESC.init([0; 256])[..],
        &mut MSOS_DESC.init([0; 128])[..],
        &mut CONTROL.init([0; 128])[..],
    );

    static NCM_STATE: StaticCell<State> = StaticCell::new();
    let class = CdcNcmClass::new(
        &mut builder,
        NCM_STATE.init(State::new()),
        mac.host,
        MAX_PACKET,
    );
    let usb = builder.build();

    static NET_STATE: StaticCell<NetState<MTU, QUEUE, QUEUE>> = StaticCell::new();
    let (runner, device) = class
        .into_embassy_net_device::<MTU, QUEUE, QUEUE>(NET_STATE.init(NetState::new()), mac.board);
    (usb, runner, device)
}
