//! The coaps server: one UDP socket feeding dut-core's sans-IO device.
//!
//! Each datagram goes to `Device::handle_datagram`; the datagrams the device produces are
//! put straight into the socket's send buffer (a full buffer drops one, as a lossy link
//! would, and DTLS retransmits). Between datagrams the task sleeps until the next one or
//! until the device's retransmission deadline (`Device::poll_timeout`), whichever is first.

use core::task::{Context, Waker};

use defmt::{info, warn};
use dut_core::{Config, Device, PeerAddr};
use embassy_futures::select::{select, Either};
use embassy_net::udp::{PacketMetadata, UdpSocket};
use embassy_net::{IpAddress, IpEndpoint, Stack};
use embassy_time::{Instant, Timer};
use static_cell::StaticCell;

/// The coaps port (RFC 7252 §12.7).
pub const PORT: u16 = 5684;
/// Concurrent DTLS sessions (dut-core evicts beyond that).
pub const SESSIONS: usize = 4;
/// Largest datagram taken or sent (an Ethernet frame less IPv4 and UDP headers).
const DATAGRAM: usize = 1472;
const SOCKET_BUF: usize = 2048;
const SOCKET_PACKETS: usize = 4;

/// Credentials, fixed at build time: `DUT_PSK_IDENTITY` and `DUT_PSK` (ASCII) in the
/// environment of `cargo build`, else the demo pair most DTLS programs use.
const PSK_IDENTITY: &str = match option_env!("DUT_PSK_IDENTITY") {
    Some(s) => s,
    None => "Client_identity",
};
const PSK: &str = match option_env!("DUT_PSK") {
    Some(s) => s,
    None => "secretPSK",
};

pub async fn run(stack: Stack<'static>, seed: [u8; 32]) -> ! {
    let mut config = match Config::new(PSK_IDENTITY.as_bytes(), PSK.as_bytes()) {
        Ok(c) => c,
        Err(e) => defmt::panic!("bad credentials: {}", defmt::Debug2Format(&e)),
    };
    config.seed = seed;
    config.max_datagram = DATAGRAM;

    static DEVICE: StaticCell<Device<SESSIONS>> = StaticCell::new();
    let device = DEVICE.init_with(|| Device::new(config));

    static RX_META: StaticCell<[PacketMetadata; SOCKET_PACKETS]> = StaticCell::new();
    static RX_BUF: StaticCell<[u8; SOCKET_BUF]> = StaticCell::new();
    static TX_META: StaticCell<[PacketMetadata; SOCKET_PACKETS]> = StaticCell::new();
    static TX_BUF: StaticCell<[u8; SOCKET_BUF]> = StaticCell::new();
    static DATAGRAM_BUF: StaticCell<[u8; DATAGRAM]> = StaticCell::new();
    let mut socket = UdpSocket::new(
        stack,
        RX_META.init([PacketMetadata::EMPTY; SOCKET_PACKETS]),
        RX_BUF.init([0; SOCKET_BUF]),
        TX_META.init([PacketMetadata::EMPTY; SOCKET_PACKETS]),
        TX_BUF.init([0; SOCKET_BUF]),
    );
    if socket.bind(PORT).is_err() {
        defmt::panic!("cannot bind UDP {}", PORT);
    }
    let buf = DATAGRAM_BUF.init([0; DATAGRAM]);
    info!("dut-nrf52840 ready: {} sessions", SESSIONS);

    loop {
        let received = match device.poll_timeout() {
            Some(deadline) => {
                match select(
                    socket.recv_from(buf),
                    Timer::at(Instant::from_millis(deadline)),
                )
                .await
                {
                    Either::First(r) => Some(r),
                    Either::Second(()) => None,
                }
            }
            None => Some(socket.recv_from(buf).await),
        };
        let now = Instant::now().as_millis();
        let mut out = |to: &PeerAddr, bytes: &[u8]| send(&socket, to, bytes);
        match received {
            Some(Ok((n, meta))) => {
                let peer = peer_addr(&meta.endpoint);
                // The device decrypts in place: the buffer is refilled by the next receive.
                device.handle_datagram(now, peer, &mut buf[..n], &mut out);
            }
            Some(Err(e)) => warn!("udp receive: {}", e),
            None => {}
        }
        if device.poll_timeout().is_some_and(|t| t <= now) {
            device.handle_timeout(now, &mut out);
        }
    }
}

/// Queues one datagram without waiting: the socket's send buffer takes it or it is lost.
fn send(socket: &UdpSocket<'_>, to: &PeerAddr, bytes: &[u8]) {
    let Some(ip) = to.ipv4() else { return };
    let endpoint = IpEndpoint::new(IpAddress::v4(ip[0], ip[1], ip[2], ip[3]), to.port());
    let mut cx = Context::from_waker(Waker::noop());
    if socket.poll_send_to(bytes, endpoint, &mut cx).is_pending() {
        warn!("udp send buffer full: datagram dropped");
    }
}

fn peer_addr(endpoint: &IpEndpoint) -> PeerAddr {
    match endpoint.addr {
        IpAddress::Ipv4(a) => PeerAddr::from_ipv4(a.octets(), endpoint.port),
    }
}
