//! No input may panic a decoder. Where a decode succeeds, re-encoding must
//! give back exactly the bytes consumed: every format here has a single
//! encoding, so a mismatch would mean the decoder skipped or invented data.

use proptest::prelude::*;

use crate::strategies as s;
use crate::*;

const KINDS: [KeyExchangeKind; 3] = [
    KeyExchangeKind::Psk,
    KeyExchangeKind::EcdheEcdsa,
    KeyExchangeKind::Opaque,
];

const CERT_TYPES: [CertificateType; 4] = [
    CertificateType::X509,
    CertificateType::RawPublicKey,
    CertificateType::OpenPgp,
    CertificateType::Unknown(9),
];

const CONTEXTS: [ExtensionContext; 2] =
    [ExtensionContext::ClientHello, ExtensionContext::ServerHello];

fn check_codec<T: Codec>(b: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(x) = T::from_bytes(b) {
        prop_assert_eq!(x.to_bytes(), b);
    }
    Ok(())
}

fn check_codec_as<C: Copy, T: CodecAs<C>>(b: &[u8], ctx: C) -> Result<(), TestCaseError> {
    if let Ok(x) = T::from_bytes_as(b, ctx) {
        prop_assert_eq!(x.to_bytes(), b);
    }
    Ok(())
}

/// Runs every decoder of this crate over `b`.
fn every_decoder(b: &[u8]) -> Result<(), TestCaseError> {
    let p = parse_datagram(b);
    match &p.trailing_error {
        None => prop_assert_eq!(encode_datagram(&p.records), b),
        Some((at, _)) => prop_assert_eq!(encode_datagram(&p.records).len(), *at),
    }
    if let Ok(frags) = HandshakeFragment::read_all(b) {
        prop_assert_eq!(
            frags.iter().flat_map(|f| f.to_bytes()).collect::<Vec<_>>(),
            b
        );
    }
    for t in 0..=u8::MAX {
        let msg_type = HandshakeType::from(t);
        for kx in KINDS {
            for certificate_type in CERT_TYPES {
                let ctx = ParseContext {
                    kx,
                    certificate_type,
                };
                if let Ok(m) = HandshakeMessage::read_body(msg_type, b, &ctx) {
                    prop_assert_eq!(m.encode_body(), b);
                    prop_assert_eq!(m.msg_type(), msg_type);
                    let _ = m.summary();
                }
            }
        }
    }
    for kx in KINDS {
        check_codec_as::<_, ServerKeyExchange>(b, kx)?;
        check_codec_as::<_, ClientKeyExchange>(b, kx)?;
    }
    for t in CERT_TYPES {
        check_codec_as::<_, Certificate>(b, t)?;
    }
    for ctx in CONTEXTS {
        check_codec_as::<_, Extension>(b, ctx)?;
        for typ in crate::extensions::INTERPRETED_EXTENSIONS {
            if let Ok(e) = Extension::read_data(typ.get_u16(), b, ctx) {
                let mut out = Vec::new();
                e.encode_data(&mut out);
                prop_assert_eq!(out, b);
            }
        }
    }
    check_codec::<ClientHello>(b)?;
    check_codec::<ServerHello>(b)?;
    check_codec::<HelloVerifyRequest>(b)?;
    check_codec::<CertificateRequest>(b)?;
    check_codec::<CertificateVerify>(b)?;
    check_codec::<ServerEcdhParams>(b)?;
    check_codec::<DigitallySigned>(b)?;
    check_codec::<Finished>(b)?;
    check_codec::<Alert>(b)?;
    check_codec::<ChangeCipherSpec>(b)?;
    check_codec::<RecordHeader>(b)?;
    check_codec::<HandshakeHeader>(b)?;
    Ok(())
}

/// Every prefix of `b`, and `b` with one byte changed at each position.
fn mutations(b: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    let prefixes = (0..=b.len()).map(|n| b[..n].to_vec());
    let flips = (0..b.len()).map(|i| {
        let mut m = b.to_vec();
        m[i] = m[i].wrapping_add(0x81);
        m
    });
    prefixes.chain(flips)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(b in proptest::collection::vec(any::<u8>(), 0..300)) {
        every_decoder(&b)?;
    }

    #[test]
    fn mutated_handshake_messages((msg, ctx) in s::handshake_message()) {
        let body = msg.encode_body();
        for m in mutations(&body) {
            if let Ok(back) = HandshakeMessage::read_body(msg.msg_type(), &m, &ctx) {
                prop_assert_eq!(back.encode_body(), m);
            }
        }
        // Truncated framing too.
        let wire = encode_handshake(&msg, 3);
        for n in 0..wire.len() {
            prop_assert!(HandshakeFragment::read_all(&wire[..n]).is_err() || n == 0);
        }
    }

    #[test]
    fn mutated_extensions(e in s::extension(ExtensionContext::ClientHello)) {
        for m in mutations(&e.to_bytes()) {
            for ctx in CONTEXTS {
                check_codec_as::<_, Extension>(&m, ctx)?;
            }
        }
    }

    #[test]
    fn mutated_datagrams(records in proptest::collection::vec(s::record(), 1..4)) {
        let dgram = encode_datagram(&records);
        let mut ends = vec![0];
        for r in &records {
            ends.push(ends[ends.len() - 1] + r.to_bytes().len());
        }
        for n in 0..dgram.len() {
            let p = parse_datagram(&dgram[..n]);
            // A cut datagram keeps the whole records before the cut and
            // reports the rest at the offset where the broken record starts.
            let whole = ends.iter().filter(|&&e| e > 0 && e <= n).count();
            prop_assert_eq!(&p.records[..], &records[..whole]);
            let err_at = p.trailing_error.as_ref().map(|(at, _)| *at);
            prop_assert_eq!(err_at, (!ends.contains(&n)).then_some(ends[whole]));
        }
    }
}

#[test]
fn arbitrary_bytes_of_every_short_length() {
    // All 0- and 1-byte inputs and a spread of 2-byte ones.
    every_decoder(&[]).unwrap();
    for a in 0..=u8::MAX {
        every_decoder(&[a]).unwrap();
        for b in (0..=u8::MAX).step_by(17) {
            every_decoder(&[a, b]).unwrap();
        }
    }
}
