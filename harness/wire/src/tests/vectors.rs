//! Decoding bytes assembled by hand from the RFC layouts.

use crate::*;

/// A DTLS 1.2 ClientHello body laid out field by field as in RFC 6347
/// §4.2.1 / RFC 5246 §7.4.1.2 (second flight: it carries a cookie).
fn client_hello_body() -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&[0xfe, 0xfd]); // client_version DTLS 1.2
    b.extend((0u8..32).map(|i| 0xa0 ^ i)); // random
    b.push(0); // session_id: empty
    b.extend_from_slice(&[4, 0xc0, 0x0c, 0x1e, 0x5a]); // cookie: 4 bytes
    b.extend_from_slice(&[0x00, 0x06, 0xc0, 0xa8, 0xc0, 0xae, 0x00, 0xff]); // 3 suites
    b.extend_from_slice(&[0x01, 0x00]); // compression_methods: null
    b.extend_from_slice(&[0x00, 0x1d]); // extensions: 29 bytes
    b.extend_from_slice(&[0x00, 0x17, 0x00, 0x00]); // extended_master_secret
    b.extend_from_slice(&[0xff, 0x01, 0x00, 0x01, 0x00]); // renegotiation_info, empty
    b.extend_from_slice(&[0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x17]); // supported_groups: secp256r1
    b.extend_from_slice(&[0x00, 0x0d, 0x00, 0x04, 0x00, 0x02, 0x04, 0x03]); // signature_algorithms
    b.extend_from_slice(&[0x00, 0x14, 0x00, 0x00]); // server_certificate_type, no body at all
    b
}

#[test]
fn client_hello_fields() {
    let mut body = client_hello_body();
    // Drop the last extension (its empty body is invalid, see
    // `empty_certificate_type_offer_is_rejected`) and fix the block length.
    body.truncate(body.len() - 4);
    body[2 + 32 + 1 + 5 + 8 + 2 + 1] = 0x19; // extensions length 25
    let ch = ClientHello::from_bytes(&body).unwrap();
    assert_eq!(ch.client_version, ProtocolVersion::DTLS1_2);
    assert_eq!(ch.random[0], 0xa0);
    assert_eq!(ch.random[31], 0xa0 ^ 31);
    assert!(ch.session_id.is_empty());
    assert_eq!(ch.cookie, [0xc0, 0x0c, 0x1e, 0x5a]);
    assert_eq!(
        ch.cipher_suites,
        [
            CipherSuite::TLS_PSK_WITH_AES_128_CCM_8,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8,
            CipherSuite::TLS_EMPTY_RENEGOTIATION_INFO_SCSV
        ]
    );
    assert_eq!(ch.compression_methods, [CompressionMethod::Null]);
    let exts = ch.extensions.as_deref().unwrap();
    assert_eq!(
        exts,
        [
            Extension::ExtendedMasterSecret,
            Extension::RenegotiationInfo(vec![]),
            Extension::SupportedGroups(vec![NamedGroup::Secp256r1]),
            Extension::SignatureAlgorithms(vec![SignatureScheme::EcdsaSecp256r1Sha256]),
        ]
    );
    assert_eq!(duplicate_extension(exts), None);
    assert_eq!(ch.to_bytes(), body, "re-encoding reproduces the input");

    // Wrapped in its handshake header and a record, as on the wire.
    let msg = HandshakeMessage::ClientHello(ch);
    let hs = encode_handshake(&msg, 1);
    assert_eq!(
        hs[..12],
        [
            1,
            0,
            0,
            body.len() as u8,
            0,
            1,
            0,
            0,
            0,
            0,
            0,
            body.len() as u8
        ]
    );
    let rec = Record::new(ContentType::Handshake, ProtocolVersion::DTLS1_0, 0, 1, hs);
    let parsed = parse_datagram(&rec.to_bytes());
    assert_eq!(parsed.trailing_error, None);
    let frags = HandshakeFragment::read_all(&parsed.records[0].fragment).unwrap();
    assert_eq!(frags.len(), 1);
    let back = HandshakeMessage::read_unfragmented(&frags[0], &ParseContext::default()).unwrap();
    assert_eq!(back, msg);
    assert_eq!(
        back.summary(),
        "ClientHello v=DTLS1.2 sid=0B cookie=4B suites=[TLS_PSK_WITH_AES_128_CCM_8, \
         TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, TLS_EMPTY_RENEGOTIATION_INFO_SCSV] comp=[null] \
         ext=[extended_master_secret, renegotiation_info, supported_groups, signature_algorithms]"
    );
}

#[test]
fn empty_certificate_type_offer_is_rejected() {
    // RFC 7250 §3: client_certificate_types<1..2^8-1>; the length byte is
    // missing entirely here, so the offer is truncated.
    let body = client_hello_body();
    assert_eq!(
        ClientHello::from_bytes(&body),
        Err(DecodeError::Truncated {
            what: "server_certificate_type extension_data",
            needed: 1,
            available: 0
        })
    );
}

#[test]
fn client_hello_without_extensions_block() {
    let mut body = client_hello_body();
    body.truncate(2 + 32 + 1 + 5 + 8 + 2);
    let ch = ClientHello::from_bytes(&body).unwrap();
    assert_eq!(ch.extensions, None);
    assert_eq!(ch.to_bytes(), body);
    // An empty block is different from no block.
    body.extend_from_slice(&[0, 0]);
    assert_eq!(
        ClientHello::from_bytes(&body).unwrap().extensions,
        Some(vec![])
    );
}

#[test]
fn hello_verify_request_fields() {
    // RFC 6347 §4.2.1: server_version then cookie<0..2^8-1>. RFC 6347
    // §4.2.1 recommends DTLS 1.0 as server_version here.
    let body = [0xfe, 0xff, 3, 1, 2, 3];
    let hvr = HelloVerifyRequest::from_bytes(&body).unwrap();
    assert_eq!(hvr.server_version, ProtocolVersion::DTLS1_0);
    assert_eq!(hvr.cookie, [1, 2, 3]);
}

#[test]
fn server_hello_fields() {
    let mut b = vec![0xfe, 0xfd];
    b.extend([7u8; 32]);
    b.push(32);
    b.extend([9u8; 32]);
    b.extend_from_slice(&[0xc0, 0xa8, 0x00]);
    b.extend_from_slice(&[0x00, 0x09]); // extensions: 9 bytes
    b.extend_from_slice(&[0x00, 0x17, 0x00, 0x00]);
    b.extend_from_slice(&[0x00, 0x13, 0x00, 0x01, 0x02]); // client_certificate_type: RawPublicKey
    let sh = ServerHello::from_bytes(&b).unwrap();
    assert_eq!(sh.session_id, [9u8; 32]);
    assert_eq!(sh.cipher_suite, CipherSuite::TLS_PSK_WITH_AES_128_CCM_8);
    assert_eq!(sh.compression_method, CompressionMethod::Null);
    assert_eq!(
        sh.extensions,
        Some(vec![
            Extension::ExtendedMasterSecret,
            Extension::ClientCertificateType(CertTypeList::Selected(CertificateType::RawPublicKey)),
        ])
    );
}

#[test]
fn ecdhe_server_key_exchange_fields() {
    // RFC 8422 §5.4: curve_type named_curve(3), secp256r1(23), point, then
    // digitally-signed with ecdsa_secp256r1_sha256.
    let mut b = vec![3, 0x00, 0x17, 65, 4];
    b.extend([0x11u8; 64]);
    b.extend_from_slice(&[0x04, 0x03, 0x00, 0x03, 0x30, 0x01, 0x00]);
    let ske = ServerKeyExchange::from_bytes_as(&b, KeyExchangeKind::EcdheEcdsa).unwrap();
    let ServerKeyExchange::Ecdhe { params, signature } = &ske else {
        panic!("expected ECDHE, got {ske:?}");
    };
    assert_eq!(params.named_group, NamedGroup::Secp256r1);
    assert_eq!(params.public.len(), 65);
    assert_eq!(
        params.to_bytes(),
        b[..4 + 65],
        "signed params are the prefix"
    );
    assert_eq!(signature.scheme, SignatureScheme::EcdsaSecp256r1Sha256);
    assert_eq!(signature.signature, [0x30, 0x01, 0x00]);
}

#[test]
fn psk_key_exchange_fields() {
    // RFC 4279 §2: psk_identity<0..2^16-1>.
    let b = [
        0x00, 0x0f, b'C', b'l', b'i', b'e', b'n', b't', b'_', b'i', b'd', b'e', b'n', b't', b'i',
        b't', b'y',
    ];
    let cke = ClientKeyExchange::from_bytes_as(&b, KeyExchangeKind::Psk).unwrap();
    assert_eq!(
        cke,
        ClientKeyExchange::Psk {
            identity: b"Client_identity".to_vec()
        }
    );
    let msg = HandshakeMessage::ClientKeyExchange(cke);
    assert_eq!(
        msg.summary(),
        "ClientKeyExchange psk identity=\"Client_identity\""
    );
    // Read without a key exchange, the same body is kept raw.
    assert_eq!(
        ClientKeyExchange::from_bytes_as(&b, KeyExchangeKind::Opaque).unwrap(),
        ClientKeyExchange::Raw(b.to_vec())
    );
}

#[test]
fn certificate_forms() {
    // RFC 7250 §3: a raw public key is one u24-prefixed SPKI.
    let rpk = [0, 0, 3, 0x30, 0x01, 0x00];
    assert_eq!(
        Certificate::from_bytes_as(&rpk, CertificateType::RawPublicKey).unwrap(),
        Certificate::RawPublicKey(vec![0x30, 0x01, 0x00])
    );
    // The same bytes as X.509: a list of 3 bytes holding a cert whose
    // declared length (0x300100) exceeds the list.
    assert_eq!(
        Certificate::from_bytes_as(&rpk, CertificateType::X509),
        Err(DecodeError::LengthMismatch {
            what: "Certificate.ASN.1Cert",
            declared: 0x30_0100,
            actual: 0
        })
    );
    let x509 = [0, 0, 5, 0, 0, 2, 0xaa, 0xbb];
    assert_eq!(
        Certificate::from_bytes_as(&x509, CertificateType::X509).unwrap(),
        Certificate::X509(vec![vec![0xaa, 0xbb]])
    );
}

#[test]
fn alert_and_change_cipher_spec() {
    let a = Alert::from_bytes(&[2, 40]).unwrap();
    assert_eq!(a, Alert::fatal(AlertDescription::HandshakeFailure));
    assert_eq!(a.summary(), "Alert fatal handshake_failure");
    assert_eq!(ChangeCipherSpec::from_bytes(&[1]).unwrap().value, 1);
    assert_eq!(ChangeCipherSpec::from_bytes(&[7]).unwrap().value, 7);
    assert!(matches!(
        ChangeCipherSpec::from_bytes(&[1, 1]),
        Err(DecodeError::TrailingBytes { count: 1, .. })
    ));
}

#[test]
fn record_header_summary() {
    let r = Record::new(
        ContentType::Handshake,
        ProtocolVersion::DTLS1_2,
        0,
        1,
        vec![0; 120],
    );
    assert_eq!(
        r.header.summary(),
        "handshake DTLS1.2 epoch=0 seq=1 len=120"
    );
}
