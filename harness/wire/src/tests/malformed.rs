//! Malformed lengths must produce a `DecodeError` naming the field.

use crate::*;

/// A minimal valid ClientHello body: no session id, `cookie`, one suite,
/// null compression, no extensions block.
fn minimal_client_hello(cookie: &[u8]) -> Vec<u8> {
    let mut b = vec![0xfe, 0xfd];
    b.extend([0u8; 32]);
    b.push(0);
    b.push(cookie.len() as u8);
    b.extend_from_slice(cookie);
    b.extend_from_slice(&[0x00, 0x02, 0xc0, 0xa8, 0x01, 0x00]);
    b
}

const COOKIE_AT: usize = 2 + 32 + 1;

#[test]
fn cookie_length_beyond_the_data() {
    // The shape of mbedTLS CVE-2022-35409: a cookie length larger than
    // what is left of the message.
    let mut b = minimal_client_hello(&[1, 2, 3]);
    b.truncate(COOKIE_AT + 4);
    b[COOKIE_AT] = 200;
    assert_eq!(
        ClientHello::from_bytes(&b),
        Err(DecodeError::LengthMismatch {
            what: "ClientHello.cookie",
            declared: 200,
            actual: 3
        })
    );
    // Same through the generic entry point.
    let err = HandshakeMessage::read_body(HandshakeType::ClientHello, &b, &ParseContext::default())
        .unwrap_err();
    assert_eq!(err.what(), "ClientHello.cookie");
    assert!(err.to_string().contains("ClientHello.cookie"), "{err}");
}

#[test]
fn session_id_longer_than_32() {
    let mut b = vec![0xfe, 0xfd];
    b.extend([0u8; 32]);
    b.push(33);
    b.extend([0u8; 33]);
    b.extend_from_slice(&[0, 0x00, 0x02, 0xc0, 0xa8, 0x01, 0x00]);
    assert_eq!(
        ClientHello::from_bytes(&b),
        Err(DecodeError::TooLong {
            what: "ClientHello.session_id",
            max: 32,
            actual: 33
        })
    );
}

#[test]
fn odd_cipher_suite_list() {
    let mut b = minimal_client_hello(&[]);
    let at = COOKIE_AT + 1;
    b.splice(at..at + 4, [0x00, 0x03, 0xc0, 0xa8, 0x00]);
    assert_eq!(
        ClientHello::from_bytes(&b),
        Err(DecodeError::NotMultiple {
            what: "ClientHello.cipher_suites",
            length: 3,
            element_size: 2
        })
    );
}

#[test]
fn empty_lists_with_rfc_minimums() {
    let mut b = minimal_client_hello(&[]);
    let at = COOKIE_AT + 1;
    b.splice(at..at + 4, [0x00, 0x00]);
    assert_eq!(
        ClientHello::from_bytes(&b),
        Err(DecodeError::EmptyVector {
            what: "ClientHello.cipher_suites"
        })
    );
    let mut b = minimal_client_hello(&[]);
    let len = b.len();
    b[len - 2] = 0;
    b.pop();
    assert_eq!(
        ClientHello::from_bytes(&b),
        Err(DecodeError::EmptyVector {
            what: "ClientHello.compression_methods"
        })
    );
}

#[test]
fn extensions_block_problems() {
    // One stray byte where the extensions length should be.
    let mut b = minimal_client_hello(&[]);
    b.push(0);
    assert_eq!(
        ClientHello::from_bytes(&b),
        Err(DecodeError::Truncated {
            what: "extensions",
            needed: 2,
            available: 1
        })
    );
    // Block length beyond the message.
    let mut b = minimal_client_hello(&[]);
    b.extend_from_slice(&[0x00, 0x10, 0x00, 0x17, 0x00, 0x00]);
    assert_eq!(
        ClientHello::from_bytes(&b),
        Err(DecodeError::LengthMismatch {
            what: "extensions",
            declared: 16,
            actual: 4
        })
    );
    // One extension's length beyond the block.
    let mut b = minimal_client_hello(&[]);
    b.extend_from_slice(&[0x00, 0x04, 0xff, 0x01, 0x00, 0x05]);
    assert_eq!(
        ClientHello::from_bytes(&b),
        Err(DecodeError::LengthMismatch {
            what: "Extension.extension_data",
            declared: 5,
            actual: 0
        })
    );
    // Bytes after the block.
    let mut b = minimal_client_hello(&[]);
    b.extend_from_slice(&[0x00, 0x04, 0x00, 0x17, 0x00, 0x00, 0xee]);
    assert_eq!(
        ClientHello::from_bytes(&b),
        Err(DecodeError::TrailingBytes {
            what: "ClientHello",
            count: 1
        })
    );
    // renegotiation_info whose inner length disagrees with extension_data.
    let mut b = minimal_client_hello(&[]);
    b.extend_from_slice(&[0x00, 0x06, 0xff, 0x01, 0x00, 0x02, 0x05, 0x00]);
    assert_eq!(
        ClientHello::from_bytes(&b),
        Err(DecodeError::LengthMismatch {
            what: "renegotiation_info renegotiated_connection",
            declared: 5,
            actual: 1
        })
    );
}

#[test]
fn duplicate_extensions_are_kept_not_merged() {
    let mut b = minimal_client_hello(&[]);
    b.extend_from_slice(&[0x00, 0x08, 0x00, 0x17, 0x00, 0x00, 0x00, 0x17, 0x00, 0x00]);
    let ch = ClientHello::from_bytes(&b).unwrap();
    let exts = ch.extensions.unwrap();
    assert_eq!(exts.len(), 2);
    assert_eq!(
        duplicate_extension(&exts),
        Some(ExtensionType::ExtendedMasterSecret)
    );
}

#[test]
fn hello_verify_request_cookie_beyond_data() {
    assert_eq!(
        HelloVerifyRequest::from_bytes(&[0xfe, 0xff, 32, 1, 2]),
        Err(DecodeError::LengthMismatch {
            what: "HelloVerifyRequest.cookie",
            declared: 32,
            actual: 2
        })
    );
}

#[test]
fn server_hello_done_with_a_body() {
    assert_eq!(
        HandshakeMessage::read_body(
            HandshakeType::ServerHelloDone,
            &[0],
            &ParseContext::default()
        ),
        Err(DecodeError::TrailingBytes {
            what: "ServerHelloDone",
            count: 1
        })
    );
}

#[test]
fn key_exchange_lengths() {
    let ecdhe = ParseContext {
        kx: KeyExchangeKind::EcdheEcdsa,
        certificate_type: CertificateType::X509,
    };
    // Empty ECDH public value: RFC 8422 §5.4 `point<1..2^8-1>`.
    assert_eq!(
        HandshakeMessage::read_body(
            HandshakeType::ServerKeyExchange,
            &[3, 0, 23, 0, 4, 3, 0, 0],
            &ecdhe
        ),
        Err(DecodeError::EmptyVector {
            what: "ServerECDHParams.public"
        })
    );
    // Explicit curves are refused with the reason.
    assert!(matches!(
        HandshakeMessage::read_body(HandshakeType::ServerKeyExchange, &[1, 0, 23, 1, 4], &ecdhe),
        Err(DecodeError::Invalid {
            what: "ServerECDHParams.curve_params.curve_type",
            ..
        })
    ));
    // Signature length beyond the message.
    assert_eq!(
        HandshakeMessage::read_body(
            HandshakeType::ServerKeyExchange,
            &[3, 0, 23, 1, 4, 4, 3, 0, 9, 0],
            &ecdhe
        ),
        Err(DecodeError::LengthMismatch {
            what: "DigitallySigned.signature",
            declared: 9,
            actual: 1
        })
    );
    // PSK identity length beyond the message.
    let psk = ParseContext {
        kx: KeyExchangeKind::Psk,
        ..ecdhe
    };
    assert_eq!(
        HandshakeMessage::read_body(HandshakeType::ClientKeyExchange, &[0x01, 0x00, b'a'], &psk),
        Err(DecodeError::LengthMismatch {
            what: "ClientKeyExchange.psk_identity",
            declared: 256,
            actual: 1
        })
    );
}

#[test]
fn certificate_request_lengths() {
    // One DistinguishedName that claims more than the list holds.
    let b = [1, 64, 0, 2, 4, 3, 0, 4, 0, 9, 1, 2];
    assert_eq!(
        CertificateRequest::from_bytes(&b),
        Err(DecodeError::LengthMismatch {
            what: "CertificateRequest.DistinguishedName",
            declared: 9,
            actual: 2
        })
    );
    // Empty certificate_types.
    assert_eq!(
        CertificateRequest::from_bytes(&[0, 0, 2, 4, 3, 0, 0]),
        Err(DecodeError::EmptyVector {
            what: "CertificateRequest.certificate_types"
        })
    );
}

#[test]
fn certificate_list_lengths() {
    // A certificate_list that claims more than the body holds.
    assert_eq!(
        Certificate::from_bytes_as(&[0, 1, 0, 0, 0, 1, 0xaa], CertificateType::X509),
        Err(DecodeError::LengthMismatch {
            what: "Certificate.certificate_list",
            declared: 256,
            actual: 4
        })
    );
    // A zero-length certificate inside the list.
    assert_eq!(
        Certificate::from_bytes_as(&[0, 0, 3, 0, 0, 0], CertificateType::X509),
        Err(DecodeError::EmptyVector {
            what: "Certificate.ASN.1Cert"
        })
    );
}

#[test]
fn fragmented_message_is_not_read_as_whole() {
    let frags = HandshakeFragment::split(HandshakeType::Finished, 2, &[0; 12], 5);
    assert!(matches!(
        HandshakeMessage::read_unfragmented(&frags[0], &ParseContext::default()),
        Err(DecodeError::LengthMismatch {
            declared: 12,
            actual: 5,
            ..
        })
    ));
}
