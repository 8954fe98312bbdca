//! The reference device on QEMU's `mps2-an386` machine (Cortex-M4F, LAN9118 Ethernet).
//!
//! One UDP socket on port 5684 (RFC 7252 §12.7: coaps) of a static IPv4 address in QEMU's
//! user-mode network (10.0.2.15/24, gateway 10.0.2.2), feeding dut-core's sans-IO device:
//! every datagram goes to `Device::handle_datagram`, every datagram it produces goes back
//! out of the socket, and `Device::handle_timeout` runs when `Device::poll_timeout` says.
//! The clock is SysTick (1 ms); between events the core sleeps in `wfi`.
//!
//! ```text
//! qemu-system-arm -M mps2-an386 -nographic -kernel dut-qemu \
//!     -nic user,restrict=on,hostfwd=udp:127.0.0.1:5684-:5684
//! ```

#![no_std]
#![no_main]

mod clock;
mod entropy;
mod lan9118;
mod phy;
mod uart;

use core::fmt::Write;
use core::panic::PanicInfo;

use cortex_m_rt::entry;
use dut_core::{Config, Device, PeerAddr};
use smoltcp::iface::{Config as IfaceConfig, Interface, SocketSet, SocketStorage};
use smoltcp::socket::udp;
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr, IpEndpoint, Ipv4Address};

use clock::Clock;
use lan9118::Lan9118;
use phy::EthDevice;
use uart::Uart;

/// Concurrent DTLS sessions the board keeps (dut-core evicts beyond that).
pub const SESSIONS: usize = 2;
/// The coaps port (RFC 7252 §12.7).
const PORT: u16 = 5684;
/// QEMU's user-mode network: the guest's usual address, /24, host and gateway at .2.
const ADDRESS: [u8; 4] = [10, 0, 2, 15];
const GATEWAY: [u8; 4] = [10, 0, 2, 2];
/// Largest datagram the board takes or sends (one Ethernet frame's worth).
const DATAGRAM: usize = 1472;
/// The UDP socket's receive buffer: a few datagrams (a client's flight may come as
/// several back to back).
const SOCKET_RX_BUF: usize = 2048;
/// Its send buffer: the device's answers go out at every poll, and none is larger than
/// dut-core's `TX_BUF` (1152 bytes; `max_datagram` is clamped to it), so one of those plus room for a
/// small one is enough.
const SOCKET_TX_BUF: usize = 1536;
const SOCKET_PACKETS: usize = 4;

/// Credentials, fixed at build time: `DUT_PSK_IDENTITY` and `DUT_PSK_HEX` in the
/// environment of `cargo build`, else the demo pair most DTLS programs use.
const PSK_IDENTITY: &str = match option_env!("DUT_PSK_IDENTITY") {
    Some(s) => s,
    None => "Client_identity",
};
const PSK_HEX: &str = match option_env!("DUT_PSK_HEX") {
    Some(s) => s,
    None => "73656372657450534b",
};

/// The line the board prints when it listens; dicetest's profile waits for it.
const READY: &str = "dut-qemu-mps2-an386 ready";

#[entry]
fn main() -> ! {
    let mut console = Uart::init();
    let core = cortex_m::Peripherals::take().unwrap_or_else(|| halt("peripherals taken"));
    let mut clock = Clock::start(core.SYST);

    let nic = match Lan9118::init() {
        Ok(nic) => nic,
        Err(e) => {
            let _ = writeln!(console, "lan9118: {e:?}");
            halt("no network")
        }
    };
    let mac = nic.mac();
    let _ = writeln!(
        console,
        "lan9118: id {:08x}, mac {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        nic.id_rev(),
        mac[0],
        mac[1],
        mac[2],
        mac[3],
        mac[4],
        mac[5]
    );

    let mut config = match config() {
        Some(c) => c,
        None => halt("bad DUT_PSK_IDENTITY / DUT_PSK_HEX"),
    };
    config.max_datagram = DATAGRAM;
    let boot_jitter = entropy::sample(nic.free_run(), clock.sub_ms(), clock.now_ms(), 0);
    config.seed[..boot_jitter.len()].copy_from_slice(&boot_jitter);

    let eth =
        cortex_m::singleton!(: EthDevice = EthDevice::new(nic)).unwrap_or_else(|| halt("eth"));
    let device = cortex_m::singleton!(: Device<SESSIONS> = Device::new(config))
        .unwrap_or_else(|| halt("device"));
    let datagram =
        cortex_m::singleton!(: [u8; DATAGRAM] = [0; DATAGRAM]).unwrap_or_else(|| halt("buffer"));

    let mut iface = Interface::new(
        IfaceConfig::new(EthernetAddress(mac).into()),
        eth,
        Instant::from_millis(0),
    );
    iface.update_ip_addrs(|addrs| {
        let _ = addrs.push(IpCidr::new(IpAddress::Ipv4(ipv4(ADDRESS)), 24));
    });
    let _ = iface.routes_mut().add_default_ipv4_route(ipv4(GATEWAY));

    let rx_meta = cortex_m::singleton!(: [udp::PacketMetadata; SOCKET_PACKETS] =
        [udp::PacketMetadata::EMPTY; SOCKET_PACKETS])
    .unwrap_or_else(|| halt("rx meta"));
    let rx_data = cortex_m::singleton!(: [u8; SOCKET_RX_BUF] = [0; SOCKET_RX_BUF])
        .unwrap_or_else(|| halt("rx buf"));
    let tx_meta = cortex_m::singleton!(: [udp::PacketMetadata; SOCKET_PACKETS] =
        [udp::PacketMetadata::EMPTY; SOCKET_PACKETS])
    .unwrap_or_else(|| halt("tx meta"));
    let tx_data = cortex_m::singleton!(: [u8; SOCKET_TX_BUF] = [0; SOCKET_TX_BUF])
        .unwrap_or_else(|| halt("tx buf"));
    let mut socket = udp::Socket::new(
        udp::PacketBuffer::new(&mut rx_meta[..], &mut rx_data[..]),
        udp::PacketBuffer::new(&mut tx_meta[..], &mut tx_data[..]),
    );
    if socket.bind(PORT).is_err() {
        halt("bind");
    }
    let storage = cortex_m::singleton!(: [SocketStorage<'static>; 1] = [SocketStorage::EMPTY])
        .unwrap_or_else(|| halt("sockets"));
    let mut sockets = SocketSet::new(&mut storage[..]);
    let handle = sockets.add(socket);

    let _ = writeln!(
        console,
        "{READY}: coaps on {}.{}.{}.{}:{PORT}, {SESSIONS} sessions, psk identity {PSK_IDENTITY}",
        ADDRESS[0], ADDRESS[1], ADDRESS[2], ADDRESS[3]
    );

    let mut received: u32 = 0;
    loop {
        let now = clock.now_ms();
        iface.poll(Instant::from_millis(now as i64), eth, &mut sockets);
        let socket = sockets.get_mut::<udp::Socket>(handle);
        while let Ok((n, meta)) = socket.recv_slice(&mut datagram[..]) {
            received = received.wrapping_add(1);
            let Some(peer) = peer_addr(&meta.endpoint) else {
                continue;
            };
            // Timing of each arrival is the board's only entropy (see entropy.rs).
            let jitter = entropy::sample(eth.nic.free_run(), clock.sub_ms(), now, received);
            device.add_entropy(&jitter);
            // The device decrypts in place: the buffer is refilled by the next recv_slice.
            let datagram = &mut datagram[..n];
            device.handle_datagram(now, peer, datagram, &mut |to: &PeerAddr, bytes: &[u8]| {
                send(socket, to, bytes)
            });
        }
        if device.poll_timeout().is_some_and(|t| t <= now) {
            device.handle_timeout(now, &mut |to: &PeerAddr, bytes: &[u8]| {
                send(socket, to, bytes)
            });
        }
        // Send what the device produced before sleeping.
        iface.poll(Instant::from_millis(now as i64), eth, &mut sockets);
        // Sleep until the next SysTick (1 ms): the NIC is polled, not interrupt-driven.
        cortex_m::asm::wfi();
    }
}

fn send(socket: &mut udp::Socket<'_>, to: &PeerAddr, bytes: &[u8]) {
    let Some(ip) = to.ipv4() else { return };
    let endpoint = IpEndpoint::new(IpAddress::Ipv4(ipv4(ip)), to.port());
    // A full socket buffer drops the datagram, as a lossy link would; DTLS retransmits.
    let _ = socket.send_slice(bytes, endpoint);
}

fn peer_addr(endpoint: &IpEndpoint) -> Option<PeerAddr> {
    match endpoint.addr {
        IpAddress::Ipv4(a) => Some(PeerAddr::from_ipv4(a.octets(), endpoint.port)),
    }
}

fn ipv4(a: [u8; 4]) -> Ipv4Address {
    Ipv4Address::new(a[0], a[1], a[2], a[3])
}

fn config() -> Option<Config> {
    let mut psk = [0u8; dut_core::config::MAX_PSK_LEN];
    let hex = PSK_HEX.as_bytes();
    if !hex.len().is_multiple_of(2) || hex.len() / 2 > psk.len() {
        return None;
    }
    for (i, pair) in hex.chunks(2).enumerate() {
        psk[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Config::new(PSK_IDENTITY.as_bytes(), &psk[..hex.len() / 2]).ok()
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn halt(why: &str) -> ! {
    let _ = writeln!(Uart::init(), "halt: {why}");
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    let _ = writeln!(Uart::init(), "panic: {info}");
    loop {
        cortex_m::asm::wfi();
    }
}
