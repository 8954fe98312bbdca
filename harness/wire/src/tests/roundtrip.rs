//! `decode(encode(x)) == x` for every wire type.

use proptest::prelude::*;

use crate::strategies as s;
use crate::*;

fn codec_roundtrip<T: Codec + PartialEq + core::fmt::Debug>(x: &T) -> Result<(), TestCaseError> {
    let bytes = x.to_bytes();
    prop_assert_eq!(
        &T::from_bytes(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?,
        x
    );
    Ok(())
}

fn codec_as_roundtrip<C: Copy, T: CodecAs<C> + PartialEq + core::fmt::Debug>(
    x: &T,
    ctx: C,
) -> Result<(), TestCaseError> {
    let bytes = x.to_bytes();
    let back = T::from_bytes_as(&bytes, ctx).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, x);
    Ok(())
}

proptest! {
    #[test]
    fn client_hello(x in s::client_hello()) { codec_roundtrip(&x)?; }

    #[test]
    fn server_hello(x in s::server_hello()) { codec_roundtrip(&x)?; }

    #[test]
    fn hello_verify_request(x in s::hello_verify_request()) { codec_roundtrip(&x)?; }

    #[test]
    fn certificate((x, t) in s::certificate()) { codec_as_roundtrip(&x, t)?; }

    #[test]
    fn server_key_exchange((x, k) in s::server_key_exchange()) { codec_as_roundtrip(&x, k)?; }

    #[test]
    fn server_ecdh_params(x in s::server_ecdh_params()) { codec_roundtrip(&x)?; }

    #[test]
    fn client_key_exchange((x, k) in s::client_key_exchange()) { codec_as_roundtrip(&x, k)?; }

    #[test]
    fn certificate_request(x in s::certificate_request()) { codec_roundtrip(&x)?; }

    #[test]
    fn certificate_verify(x in s::certificate_verify()) { codec_roundtrip(&x)?; }

    #[test]
    fn finished(x in s::finished()) { codec_roundtrip(&x)?; }

    #[test]
    fn alert(x in s::alert()) { codec_roundtrip(&x)?; }

    #[test]
    fn change_cipher_spec(x in s::change_cipher_spec()) { codec_roundtrip(&x)?; }

    #[test]
    fn extension_in_client_hello(x in s::extension(ExtensionContext::ClientHello)) {
        codec_as_roundtrip(&x, ExtensionContext::ClientHello)?;
    }

    #[test]
    fn extension_in_server_hello(x in s::extension(ExtensionContext::ServerHello)) {
        codec_as_roundtrip(&x, ExtensionContext::ServerHello)?;
    }

    #[test]
    fn enums(
        a in s::cipher_suite(), b in s::named_group(), c in s::signature_scheme(),
        d in s::extension_type(), e in s::protocol_version(), f in s::content_type(),
        g in s::handshake_type(), h in s::certificate_type(), i in s::client_certificate_type(),
        j in s::ec_point_format(), k in s::compression_method(), l in s::alert_description(),
    ) {
        codec_roundtrip(&a)?; codec_roundtrip(&b)?; codec_roundtrip(&c)?;
        codec_roundtrip(&d)?; codec_roundtrip(&e)?; codec_roundtrip(&f)?;
        codec_roundtrip(&g)?; codec_roundtrip(&h)?; codec_roundtrip(&i)?;
        codec_roundtrip(&j)?; codec_roundtrip(&k)?; codec_roundtrip(&l)?;
    }

    #[test]
    fn handshake_message_body((msg, ctx) in s::handshake_message()) {
        let back = HandshakeMessage::read_body(msg.msg_type(), &msg.encode_body(), &ctx)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, msg);
    }

    #[test]
    fn handshake_message_framed((msg, ctx) in s::handshake_message(), seq in any::<u16>()) {
        let wire = encode_handshake(&msg, seq);
        let frags = HandshakeFragment::read_all(&wire).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(frags.len(), 1);
        prop_assert_eq!(frags[0].header.message_seq, seq);
        prop_assert_eq!(frags[0].header.msg_type, msg.msg_type());
        let back = HandshakeMessage::read_unfragmented(&frags[0], &ctx)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, msg);
    }

    #[test]
    fn record_header(x in s::record_header()) { codec_roundtrip(&x)?; }

    #[test]
    fn handshake_header(x in s::handshake_header()) { codec_roundtrip(&x)?; }

    #[test]
    fn handshake_fragments(frags in proptest::collection::vec(s::handshake_fragment(), 0..5)) {
        let bytes: Vec<u8> = frags.iter().flat_map(|f| f.to_bytes()).collect();
        prop_assert_eq!(HandshakeFragment::read_all(&bytes), Ok(frags));
    }

    #[test]
    fn split_fragments_reassemble(body in s::bytes(300), max in 1usize..64) {
        let frags = HandshakeFragment::split(HandshakeType::Certificate, 9, &body, max);
        let bytes: Vec<u8> = frags.iter().flat_map(|f| f.to_bytes()).collect();
        let back = HandshakeFragment::read_all(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut joined = vec![0u8; body.len()];
        for f in &back {
            prop_assert!(f.header.check_fragment_bounds().is_ok());
            prop_assert!(f.body.len() <= max);
            let at = f.header.fragment_offset as usize;
            joined[at..at + f.body.len()].copy_from_slice(&f.body);
        }
        prop_assert_eq!(joined, body);
    }

    #[test]
    fn datagram(records in proptest::collection::vec(s::record(), 0..5)) {
        let dgram = encode_datagram(&records);
        let p = parse_datagram(&dgram);
        prop_assert_eq!(p.trailing_error, None);
        prop_assert_eq!(p.records, records);
    }
}
