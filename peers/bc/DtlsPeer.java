// dicetest interop peer: a DTLS 1.2 (RFC 6347) PSK client/server on Bouncy Castle's
// low-level TLS API (org.bouncycastle.tls), for proving the harness against a third-party
// implementation. One file, compiled with plain javac against Debian's bctls/bcprov/bcutil jars.
//
//   DtlsPeer server --port P --pskfile FILE [--psk-identity ID] [--suite NAME[,NAME..]]
//                   [--bind ADDR] [--psk-hint TEXT] [--idle-ms N] [--handshake-timeout-ms N]
//   DtlsPeer client --connect HOST:PORT --pskfile FILE [--psk-identity ID] [--suite NAME[,NAME..]]
//                   [--send TEXT] [--timeout-ms N]
//
// FILE holds one line IDENTITY:HEX (dicetest's {pskfile}); --psk-identity overrides its
// identity. The key is never taken from the command line, which any user can read (ps).
//
// stdout carries the lines a caller parses: "READY <port>", "HANDSHAKE OK <suite>",
// "RECV <text>" (client), "FAIL <reason>" (client). Alerts and diagnostics go to stderr.

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.AlertLevel;
import org.bouncycastle.tls.BasicTlsPSKIdentity;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.DTLSClientProtocol;
import org.bouncycastle.tls.DTLSRequest;
import org.bouncycastle.tls.DTLSServerProtocol;
import org.bouncycastle.tls.DTLSTransport;
import org.bouncycastle.tls.DTLSVerifier;
import org.bouncycastle.tls.DatagramSender;
import org.bouncycastle.tls.DatagramTransport;
import org.bouncycastle.tls.PSKTlsClient;
import org.bouncycastle.tls.PSKTlsServer;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.SecurityParameters;
import org.bouncycastle.tls.TlsContext;
import org.bouncycastle.tls.TlsPSKIdentityManager;
import org.bouncycastle.tls.crypto.impl.bc.BcTlsCrypto;
import org.bouncycastle.util.encoders.Hex;

public final class DtlsPeer {
    /** Largest datagram we read; DTLS records are bounded by 2^14 plus expansion (RFC 6347 §4.1). */
    private static final int MAX_DATAGRAM = 16384 + 2048;
    /** Path MTU handed to BC for fragmenting handshake flights. */
    private static final int MTU = 1500;

    // IANA names (RFC 6655, RFC 5487) of the suites this peer offers, in preference order.
    private static final Map<String, Integer> SUITES = new LinkedHashMap<>();

    static {
        SUITES.put("TLS_PSK_WITH_AES_128_CCM_8", CipherSuite.TLS_PSK_WITH_AES_128_CCM_8);
        SUITES.put("TLS_PSK_WITH_AES_128_CCM", CipherSuite.TLS_PSK_WITH_AES_128_CCM);
        SUITES.put("TLS_PSK_WITH_AES_128_CBC_SHA256", CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256);
        SUITES.put("TLS_PSK_WITH_AES_128_GCM_SHA256", CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256);
    }

    private DtlsPeer() {}

    public static void main(String[] argv) {
        if (argv.length < 1) {
            usage("missing mode");
        }
        Options o = Options.parse(Arrays.copyOfRange(argv, 1, argv.length));
        try {
            switch (argv[0]) {
                case "server":
                    runServer(o);
                    break;
                case "client":
                    System.exit(runClient(o));
                    break;
                default:
                    usage("unknown mode " + argv[0]);
            }
        } catch (Exception e) {
            System.out.println("FAIL " + describe(e));
            System.out.flush();
            System.err.println("ERROR " + describe(e));
            System.exit(1);
        }
    }

    // ---------------------------------------------------------------- server

    private static void runServer(Options o) throws IOException {
        BcTlsCrypto crypto = new BcTlsCrypto(new SecureRandom());
        InetAddress bind = InetAddress.getByName(o.get("--bind", "127.0.0.1"));
        DatagramSocket socket = new DatagramSocket(new InetSocketAddress(bind, o.intValue("--port", -1)));
        byte[][] credentials = credentials(o);
        byte[] identity = credentials[0];
        byte[] psk = credentials[1];
        String hint = o.get("--psk-hint", null);
        int[] suites = parseSuites(o.get("--suite", "TLS_PSK_WITH_AES_128_CCM_8"));
        int idleMs = o.intValue("--idle-ms", 30000);
        int handshakeTimeoutMs = o.intValue("--handshake-timeout-ms", 15000);

        // RFC 6347 §4.2.1: a stateless cookie exchange before any per-client state is kept.
        DTLSVerifier verifier = new DTLSVerifier(crypto);
        DTLSServerProtocol protocol = new DTLSServerProtocol();

        System.out.println("READY " + socket.getLocalPort());
        System.out.flush();

        byte[] buf = new byte[MAX_DATAGRAM];
        DatagramPacket pending = null;
        while (true) {
            DatagramPacket packet;
            if (pending != null) {
                packet = pending;
                pending = null;
            } else {
                packet = new DatagramPacket(buf, buf.length);
                socket.setSoTimeout(0);
                socket.receive(packet);
                packet = copy(packet);
            }
            final SocketAddress from = packet.getSocketAddress();
            DatagramSender replyTo = new DatagramSender() {
                public int getSendLimit() {
                    return MTU - 28;
                }

                public void send(byte[] b, int off, int len) throws IOException {
                    socket.send(new DatagramPacket(b, off, len, from));
                }
            };
            DTLSRequest request = verifier.verifyRequest(clientId(from), packet.getData(),
                    packet.getOffset(), packet.getLength(), replyTo);
            if (request == null) {
                // Not a ClientHello with a valid cookie: the verifier has answered it with a
                // HelloVerifyRequest, or dropped it.
                continue;
            }

            PeerTransport transport = new PeerTransport(socket, from);
            EchoServer server = new EchoServer(crypto, identity, psk, hint, suites, handshakeTimeoutMs);
            try {
                DTLSTransport dtls = protocol.accept(server, transport, request);
                transport.handshakeDone = true;
                echo(dtls, transport, server, idleMs);
            } catch (PreemptedException e) {
                System.err.println("SESSION END " + from + ": " + e.getMessage());
            } catch (Exception e) {
                System.err.println("SESSION END " + from + ": " + describe(e));
            }
            pending = transport.pending;
        }
    }

    /** Echoes every application-data record back until close, fatal alert, idle timeout or a new client. */
    private static void echo(DTLSTransport dtls, PeerTransport transport, EchoServer server, int idleMs)
            throws IOException {
        byte[] data = new byte[dtls.getReceiveLimit()];
        long lastActivity = System.currentTimeMillis();
        while (true) {
            int n;
            try {
                n = dtls.receive(data, 0, data.length, 200);
            } catch (PreemptedException e) {
                System.err.println("SESSION END " + transport.peer + ": " + e.getMessage());
                return;
            }
            if (n >= 0) {
                lastActivity = System.currentTimeMillis();
                dtls.send(data, 0, n);
                continue;
            }
            if (server.closed) {
                System.err.println("SESSION END " + transport.peer + ": closed by peer");
                return;
            }
            if (transport.pending != null) {
                System.err.println("SESSION END " + transport.peer + ": new client");
                return;
            }
            if (System.currentTimeMillis() - lastActivity > idleMs) {
                System.err.println("SESSION END " + transport.peer + ": idle");
                dtls.close();
                return;
            }
        }
    }

    private static byte[] clientId(SocketAddress from) {
        return from.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static DatagramPacket copy(DatagramPacket p) {
        byte[] b = Arrays.copyOfRange(p.getData(), p.getOffset(), p.getOffset() + p.getLength());
        return new DatagramPacket(b, b.length, p.getSocketAddress());
    }

    /** True for a datagram whose first record is an epoch-0 ClientHello (RFC 6347 §4.1, §4.2.2). */
    static boolean isInitialClientHello(byte[] b, int off, int len) {
        // record header 13 bytes + handshake header 12 bytes
        return len >= 25 && b[off] == 22 && b[off + 3] == 0 && b[off + 4] == 0 && b[off + 13] == 1;
    }

    /** Thrown out of a session when another client (or a fresh ClientHello) shows up. */
    static final class PreemptedException extends IOException {
        private static final long serialVersionUID = 1L;

        PreemptedException(String m) {
            super(m);
        }
    }

    /**
     * A DatagramTransport bound to one client on the shared, unconnected server socket. Datagrams
     * from elsewhere are dropped, except a ClientHello, which ends this session so a serial server
     * never blocks a new client behind a vanished one.
     */
    static final class PeerTransport implements DatagramTransport {
        final DatagramSocket socket;
        final SocketAddress peer;
        volatile boolean handshakeDone;
        DatagramPacket pending;

        PeerTransport(DatagramSocket socket, SocketAddress peer) {
            this.socket = socket;
            this.peer = peer;
        }

        public int getReceiveLimit() {
            return MAX_DATAGRAM;
        }

        public int getSendLimit() {
            return MTU - 28;
        }

        public int receive(byte[] b, int off, int len, int waitMillis) throws IOException {
            long deadline = System.currentTimeMillis() + Math.max(waitMillis, 1);
            byte[] buf = new byte[MAX_DATAGRAM];
            while (true) {
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) {
                    return -1;
                }
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                socket.setSoTimeout((int) left);
                try {
                    socket.receive(p);
                } catch (SocketTimeoutException e) {
                    return -1;
                }
                boolean hello = isInitialClientHello(p.getData(), p.getOffset(), p.getLength());
                if (!p.getSocketAddress().equals(peer)) {
                    if (hello) {
                        pending = copy(p);
                        throw new PreemptedException("new client " + p.getSocketAddress());
                    }
                    continue;
                }
                if (hello && handshakeDone) {
                    // RFC 6347 §4.2.8: a ClientHello after the handshake from the same address is
                    // a new connection; hand it back to the accept loop.
                    pending = copy(p);
                    throw new PreemptedException("new ClientHello from same client");
                }
                int n = Math.min(len, p.getLength());
                System.arraycopy(p.getData(), p.getOffset(), b, off, n);
                return n;
            }
        }

        public void send(byte[] b, int off, int len) throws IOException {
            socket.send(new DatagramPacket(b, off, len, peer));
        }

        public void close() {
            // the socket is shared by all sessions; never closed here
        }
    }

    static final class EchoServer extends PSKTlsServer {
        final int[] suites;
        final int handshakeTimeoutMs;
        volatile boolean closed;

        EchoServer(BcTlsCrypto crypto, byte[] identity, byte[] psk, String hint, int[] suites,
                int handshakeTimeoutMs) {
            super(crypto, new TlsPSKIdentityManager() {
                public byte[] getHint() {
                    return hint == null ? null : hint.getBytes(StandardCharsets.UTF_8);
                }

                public byte[] getPSK(byte[] offered) {
                    // null makes BC answer unknown_psk_identity (RFC 4279 §2)
                    return Arrays.equals(offered, identity) ? psk.clone() : null;
                }
            });
            this.suites = suites;
            this.handshakeTimeoutMs = handshakeTimeoutMs;
        }

        protected ProtocolVersion[] getSupportedVersions() {
            return ProtocolVersion.DTLSv12.only();
        }

        protected int[] getSupportedCipherSuites() {
            return suites.clone();
        }

        public int getHandshakeTimeoutMillis() {
            return handshakeTimeoutMs;
        }

        public void notifyHandshakeComplete() throws IOException {
            super.notifyHandshakeComplete();
            reportHandshake(context);
        }

        public void notifyAlertRaised(short level, short description, String message, Throwable cause) {
            reportAlert("SENT", level, description, message, cause);
        }

        public void notifyAlertReceived(short level, short description) {
            if (description == AlertDescription.close_notify || level == AlertLevel.fatal) {
                closed = true;
            }
            reportAlert("RECV", level, description, null, null);
        }
    }

    // ---------------------------------------------------------------- client

    private static int runClient(Options o) throws IOException {
        String connect = o.required("--connect");
        int colon = connect.lastIndexOf(':');
        if (colon <= 0) {
            usage("--connect wants HOST:PORT");
        }
        InetSocketAddress server = new InetSocketAddress(connect.substring(0, colon),
                Integer.parseInt(connect.substring(colon + 1)));
        byte[][] credentials = credentials(o);
        byte[] identity = credentials[0];
        byte[] psk = credentials[1];
        int[] suites = parseSuites(o.get("--suite", "TLS_PSK_WITH_AES_128_CCM_8"));
        String send = o.get("--send", null);
        int timeoutMs = o.intValue("--timeout-ms", 10000);

        BcTlsCrypto crypto = new BcTlsCrypto(new SecureRandom());
        DatagramSocket socket = new DatagramSocket();
        socket.connect(server);
        DatagramTransport udp = new org.bouncycastle.tls.UDPTransport(socket, MTU);
        PSKTlsClient client = new PSKTlsClient(crypto, new BasicTlsPSKIdentity(identity, psk)) {
            protected ProtocolVersion[] getSupportedVersions() {
                return ProtocolVersion.DTLSv12.only();
            }

            protected int[] getSupportedCipherSuites() {
                return suites.clone();
            }

            public int getHandshakeTimeoutMillis() {
                return timeoutMs;
            }

            public void notifyHandshakeComplete() throws IOException {
                super.notifyHandshakeComplete();
                reportHandshake(context);
            }

            public void notifyAlertRaised(short level, short description, String message, Throwable cause) {
                reportAlert("SENT", level, description, message, cause);
            }

            public void notifyAlertReceived(short level, short description) {
                reportAlert("RECV", level, description, null, null);
            }
        };

        DTLSTransport dtls;
        try {
            dtls = new DTLSClientProtocol().connect(client, udp);
        } catch (IOException e) {
            System.out.println("FAIL handshake: " + describe(e));
            System.out.flush();
            return 1;
        }
        try {
            if (send != null) {
                byte[] out = send.getBytes(StandardCharsets.UTF_8);
                dtls.send(out, 0, out.length);
                byte[] in = new byte[dtls.getReceiveLimit()];
                int n = dtls.receive(in, 0, in.length, timeoutMs);
                if (n < 0) {
                    System.out.println("FAIL no reply within " + timeoutMs + " ms");
                    System.out.flush();
                    return 2;
                }
                System.out.println("RECV " + new String(in, 0, n, StandardCharsets.UTF_8));
                System.out.flush();
            }
            dtls.close();
        } catch (IOException e) {
            System.out.println("FAIL application data: " + describe(e));
            System.out.flush();
            return 3;
        }
        return 0;
    }

    // ---------------------------------------------------------------- shared

    static void reportHandshake(TlsContext context) {
        SecurityParameters sp = context.getSecurityParametersConnection();
        if (sp == null) {
            sp = context.getSecurityParametersHandshake();
        }
        System.out.println("HANDSHAKE OK " + suiteName(sp.getCipherSuite()));
        System.out.flush();
        System.err.println("INFO extended_master_secret=" + sp.isExtendedMasterSecret());
    }

    static void reportAlert(String dir, short level, short description, String message, Throwable cause) {
        StringBuilder sb = new StringBuilder("ALERT ").append(dir).append(' ')
                .append(AlertLevel.getText(level)).append(' ')
                .append(AlertDescription.getText(description));
        if (message != null) {
            sb.append(": ").append(message);
        }
        if (cause != null) {
            sb.append(" (").append(cause).append(')');
        }
        System.err.println(sb);
    }

    static String suiteName(int id) {
        for (Map.Entry<String, Integer> e : SUITES.entrySet()) {
            if (e.getValue() == id) {
                return e.getKey();
            }
        }
        return String.format("0x%04X", id);
    }

    static int[] parseSuites(String names) {
        String[] parts = names.split(",");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            Integer id = SUITES.get(parts[i].trim());
            if (id == null) {
                usage("unknown suite " + parts[i] + "; known: " + SUITES.keySet());
            }
            ids[i] = id;
        }
        return ids;
    }

    static String describe(Throwable e) {
        String m = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        if (e.getCause() != null && e.getCause() != e) {
            m += " <- " + describe(e.getCause());
        }
        return m;
    }

    /** Identity and key from --pskfile (one line IDENTITY:HEX); never echoes the line. */
    static byte[][] credentials(Options o) throws IOException {
        if (o.values.containsKey("--psk")) {
            usage("--psk is gone: a key on the command line is visible to every user; use --pskfile FILE");
        }
        String file = o.required("--pskfile");
        String line = "";
        for (String l : Files.readAllLines(Paths.get(file), StandardCharsets.UTF_8)) {
            if (!l.trim().isEmpty()) {
                line = l.trim();
                break;
            }
        }
        int colon = line.lastIndexOf(':');
        byte[] key = null;
        if (colon > 0) {
            try {
                key = Hex.decode(line.substring(colon + 1));
            } catch (RuntimeException e) {
                key = null;
            }
        }
        if (key == null || key.length == 0) {
            usage(file + ": not one line IDENTITY:HEX");
        }
        String identity = o.get("--psk-identity", line.substring(0, colon));
        return new byte[][] {identity.getBytes(StandardCharsets.UTF_8), key};
    }

    static void usage(String why) {
        System.err.println("usage error: " + why);
        System.err.println("  DtlsPeer server --port P --pskfile FILE [--psk-identity ID] [--suite NAME] [--bind ADDR]"
                + " [--psk-hint TEXT] [--idle-ms N] [--handshake-timeout-ms N]");
        System.err.println("  DtlsPeer client --connect HOST:PORT --pskfile FILE [--psk-identity ID] [--suite NAME]"
                + " [--send TEXT] [--timeout-ms N]");
        System.exit(64);
    }

    /** "--name value" pairs. */
    static final class Options {
        final Map<String, String> values = new LinkedHashMap<>();

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i += 2) {
                if (!args[i].startsWith("--") || i + 1 >= args.length) {
                    usage("bad argument " + args[i]);
                }
                o.values.put(args[i], args[i + 1]);
            }
            return o;
        }

        String get(String name, String dflt) {
            return values.getOrDefault(name, dflt);
        }

        String required(String name) {
            String v = values.get(name);
            if (v == null) {
                usage("missing " + name);
            }
            return v;
        }

        int intValue(String name, int dflt) {
            String v = values.get(name);
            if (v == null) {
                if (dflt < 0) {
                    usage("missing " + name);
                }
                return dflt;
            }
            return Integer.parseInt(v);
        }
    }
}
