use proptest::prelude::*;

use super::*;
use crate::key_block::derive_key_block;
use crate::suite::{suite_by_name, SUITES};

fn aad(epoch: u16, seq: u64) -> AadFields {
    AadFields {
        epoch,
        sequence_number: seq,
        content_type: 23,
        version: [0xfe, 0xfd],
    }
}

fn keys_for(params: &'static SuiteParams) -> KeyBlock {
    derive_key_block(params, &[0x42; 48], &[1; 32], &[2; 32])
}

fn pair(params: &'static SuiteParams) -> (Box<dyn RecordProtection>, Box<dyn RecordProtection>) {
    let kb = keys_for(params);
    (
        protection_for(params, &kb, Side::Client, true),
        protection_for(params, &kb, Side::Server, false),
    )
}

fn explicit_for(p: &dyn RecordProtection, a: &AadFields) -> Vec<u8> {
    if p.explicit_nonce_len() == 8 {
        a.seq_num().unwrap().to_vec()
    } else {
        (0..16u8)
            .map(|i| i.wrapping_mul(17) ^ a.sequence_number as u8)
            .collect()
    }
}

#[test]
fn seq_num_is_epoch_then_48_bit_sequence() {
    let a = aad(0x0102, 0x0000_0304_0506_0708 & MAX_SEQUENCE_NUMBER);
    assert_eq!(
        a.seq_num(),
        Some([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08])
    );
    assert_eq!(aad(1, MAX_SEQUENCE_NUMBER + 1).seq_num(), None);
    let h = a.header_bytes(0x1234).unwrap();
    assert_eq!(&h[8..], &[23, 0xfe, 0xfd, 0x12, 0x34]);
}

#[test]
fn round_trip_every_suite_and_length() {
    for params in SUITES {
        let (writer, reader) = pair(params);
        assert_eq!(writer.suite(), params);
        for len in [0usize, 1, 15, 16, 17, 31, 32, 33, 100, 1024] {
            let a = aad(1, len as u64);
            let pt: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let explicit = explicit_for(writer.as_ref(), &a);
            let fragment = writer.seal(&a, &explicit, &pt);
            assert!(
                fragment.len() <= pt.len() + writer.max_overhead(),
                "{}",
                params.name
            );
            assert_eq!(&fragment[..explicit.len()], &explicit[..]);
            if len >= 8 {
                assert_ne!(
                    &fragment[explicit.len()..][..8],
                    &pt[..8],
                    "plaintext in clear"
                );
            }
            assert_eq!(
                reader.open(&a, &fragment).as_deref(),
                Ok(&pt[..]),
                "{} len {len}",
                params.name
            );
        }
    }
}

#[test]
fn own_direction_cannot_be_read_with_own_write_keys() {
    // A client's records are opened with client_write keys by the server,
    // not with server_write keys.
    for params in SUITES {
        let kb = keys_for(params);
        let client_writer = protection_for(params, &kb, Side::Client, true);
        let client_reader = protection_for(params, &kb, Side::Client, false);
        let a = aad(1, 7);
        let fragment = client_writer.seal(&a, &explicit_for(client_writer.as_ref(), &a), b"hello");
        assert!(
            client_reader.open(&a, &fragment).is_err(),
            "{}",
            params.name
        );
        let server_writer = protection_for(params, &kb, Side::Server, true);
        let fragment = server_writer.seal(&a, &explicit_for(server_writer.as_ref(), &a), b"hi");
        assert_eq!(client_reader.open(&a, &fragment).unwrap(), b"hi");
    }
}

#[test]
fn flipped_bits_are_rejected() {
    for params in SUITES {
        let (writer, reader) = pair(params);
        let a = aad(1, 5);
        let fragment = writer.seal(&a, &explicit_for(writer.as_ref(), &a), b"application data");
        for byte in 0..fragment.len() {
            let mut bad = fragment.clone();
            bad[byte] ^= 0x01;
            let err = reader.open(&a, &bad).unwrap_err();
            if params.cipher.is_aead() {
                assert_eq!(err, OpenError::BadTag, "{} byte {byte}", params.name);
            } else {
                assert!(
                    matches!(err, OpenError::BadMac | OpenError::BadPadding),
                    "{} byte {byte}: {err:?}",
                    params.name
                );
            }
        }
    }
}

#[test]
fn flipped_tag_bit_is_bad_tag() {
    for name in ["psk-ccm8", "psk-ccm", "ecdhe-ecdsa-ccm8"] {
        let params = suite_by_name(name).unwrap();
        let (writer, reader) = pair(params);
        let a = aad(1, 9);
        let mut fragment = writer.seal(&a, &a.seq_num().unwrap(), b"data");
        let last = fragment.len() - 1;
        fragment[last] ^= 0x80;
        assert_eq!(reader.open(&a, &fragment), Err(OpenError::BadTag));
    }
}

#[test]
fn wrong_header_fields_are_rejected() {
    for params in SUITES {
        let (writer, reader) = pair(params);
        let a = aad(1, 5);
        let fragment = writer.seal(&a, &explicit_for(writer.as_ref(), &a), b"data");
        let expected = if params.cipher.is_aead() {
            OpenError::BadTag
        } else {
            OpenError::BadMac
        };
        for wrong in [
            aad(1, 6),
            aad(2, 5),
            AadFields {
                content_type: 22,
                ..a
            },
            AadFields {
                version: [0xfe, 0xff],
                ..a
            },
        ] {
            assert_eq!(
                reader.open(&wrong, &fragment),
                Err(expected.clone()),
                "{}",
                params.name
            );
        }
        assert_eq!(reader.open(&a, &fragment).unwrap(), b"data");
    }
}

#[test]
fn too_short_fragments() {
    for params in SUITES {
        let (_, reader) = pair(params);
        let a = aad(1, 1);
        let min = match params.cipher {
            BulkCipher::AesCcm8 => 16,
            BulkCipher::AesCcm => 24,
            BulkCipher::AesCbcSha256 => 64,
        };
        for len in 0..min {
            assert_eq!(
                reader.open(&a, &vec![0u8; len]),
                Err(OpenError::TooShort { len, min }),
                "{}",
                params.name
            );
        }
    }
}

fn cbc() -> (AesCbcHmacProtection, AesCbcHmacProtection) {
    let params = suite_by_name("psk-cbc-sha256").unwrap();
    let kb = keys_for(params);
    (
        AesCbcHmacProtection::new(params, &kb.client_write_key, &kb.client_write_mac_key).unwrap(),
        AesCbcHmacProtection::new(params, &kb.client_write_key, &kb.client_write_mac_key).unwrap(),
    )
}

#[test]
fn cbc_long_padding_is_accepted() {
    let (w, r) = cbc();
    let a = aad(1, 3);
    let pt = b"0123456789";
    // 10 + 32 + 1 = 43: minimal padding 5, and 5 + 16k for any k up to 255.
    assert_eq!(AesCbcHmacProtection::minimal_padding_length(pt.len()), 5);
    for p in [5u8, 21, 245] {
        let f = w.seal_with_padding(&a, &[7; 16], pt, p).unwrap();
        assert_eq!(f.len(), 16 + 43 + usize::from(p));
        assert_eq!(r.open(&a, &f).unwrap(), pt);
    }
    assert_eq!(
        w.seal_with_padding(&a, &[7; 16], pt, 6),
        Err(SealError::BadPaddingLength {
            padding_length: 6,
            plaintext_len: 10
        })
    );
}

#[test]
fn cbc_bad_padding_is_reported() {
    // Forge a record whose padding bytes disagree, by encrypting the
    // content by hand with the same keys.
    use ::cbc::cipher::block_padding::NoPadding;
    use ::cbc::cipher::{BlockEncryptMut, KeyIvInit};
    use aes::Aes128;

    let params = suite_by_name("psk-cbc-sha256").unwrap();
    let kb = keys_for(params);
    let reader = protection_for(params, &kb, Side::Server, false);
    let a = aad(1, 3);
    let pt = b"0123456789";
    let mac = {
        let mut input = a.header_bytes(10).unwrap().to_vec();
        input.extend_from_slice(pt);
        crate::hash::hmac_sha256(&kb.client_write_mac_key, &input)
    };
    let encrypt = |content: &[u8]| {
        let iv = [9u8; 16];
        let mut buf = content.to_vec();
        let n = buf.len();
        ::cbc::Encryptor::<Aes128>::new_from_slices(&kb.client_write_key, &iv)
            .unwrap()
            .encrypt_padded_mut::<NoPadding>(&mut buf, n)
            .unwrap();
        [&iv[..], &buf].concat()
    };
    let mut content = [&pt[..], &mac].concat();
    content.extend_from_slice(&[5, 5, 5, 5, 5, 5]);
    assert_eq!(reader.open(&a, &encrypt(&content)).unwrap(), pt);

    // One padding byte differs.
    let mut bad = content.clone();
    bad[44] = 4;
    assert_eq!(reader.open(&a, &encrypt(&bad)), Err(OpenError::BadPadding));

    // Padding length running into the MAC.
    let mut bad = content.clone();
    *bad.last_mut().unwrap() = 47;
    assert_eq!(reader.open(&a, &encrypt(&bad)), Err(OpenError::BadPadding));

    // Good padding, bad MAC.
    let mut bad = content.clone();
    bad[12] ^= 1;
    assert_eq!(reader.open(&a, &encrypt(&bad)), Err(OpenError::BadMac));
}

#[test]
fn cbc_unaligned_ciphertext() {
    let (_, r) = cbc();
    assert_eq!(
        r.open(&aad(1, 1), &[0u8; 65]),
        Err(OpenError::NotBlockAligned { len: 49 })
    );
}

#[test]
fn seal_argument_errors() {
    for params in SUITES {
        let (w, r) = pair(params);
        let n = w.explicit_nonce_len();
        assert_eq!(
            w.try_seal(&aad(1, 1), &vec![0; n + 1], b"x"),
            Err(SealError::ExplicitLength {
                expected: n,
                got: n + 1
            })
        );
        assert_eq!(
            w.try_seal(&aad(1, 1), &vec![0; n], &vec![0; 65536]),
            Err(SealError::PlaintextTooLong { len: 65536 })
        );
        let big = aad(1, MAX_SEQUENCE_NUMBER + 1);
        assert!(matches!(
            w.try_seal(&big, &vec![0; n], b"x"),
            Err(SealError::BadSequenceNumber { .. })
        ));
        let f = w.seal(&aad(1, MAX_SEQUENCE_NUMBER), &vec![0; n], b"x");
        assert_eq!(r.open(&aad(1, MAX_SEQUENCE_NUMBER), &f).unwrap(), b"x");
        assert!(matches!(
            r.open(&big, &f),
            Err(OpenError::BadSequenceNumber { .. })
        ));
    }
}

#[test]
fn key_lengths_are_checked() {
    let ccm8 = suite_by_name("psk-ccm8").unwrap();
    let cbc = suite_by_name("psk-cbc-sha256").unwrap();
    assert!(try_record_protection(ccm8, &[0; 16], &[0; 4], &[]).is_ok());
    let err = try_record_protection(ccm8, &[0; 15], &[0; 4], &[]).unwrap_err();
    assert_eq!((err.what, err.expected, err.got), ("key", 16, 15));
    let err = try_record_protection(ccm8, &[0; 16], &[0; 12], &[]).unwrap_err();
    assert_eq!((err.what, err.expected, err.got), ("iv", 4, 12));
    let err = try_record_protection(ccm8, &[0; 16], &[0; 4], &[0; 32]).unwrap_err();
    assert_eq!(err.what, "mac_key");
    assert!(try_record_protection(cbc, &[0; 16], &[], &[0; 32]).is_ok());
    let err = try_record_protection(cbc, &[0; 16], &[], &[0; 20]).unwrap_err();
    assert_eq!((err.what, err.expected, err.got), ("mac_key", 32, 20));
}

#[test]
fn debug_is_redacted() {
    for params in SUITES {
        let kb = keys_for(params);
        let p = protection_for(params, &kb, Side::Client, true);
        let text = format!("{p:?}");
        assert!(text.contains("<redacted>"), "{text}");
        assert!(!text.contains(&hex::encode(&kb.client_write_key)));
        assert!(!text.contains('['), "{text}");
    }
}

proptest! {
    #[test]
    fn open_never_panics(
        suite in 0..SUITES.len(),
        epoch in any::<u16>(),
        seq in any::<u64>(),
        content_type in any::<u8>(),
        version in any::<[u8; 2]>(),
        fragment in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let (_, reader) = pair(&SUITES[suite]);
        let a = AadFields { epoch, sequence_number: seq, content_type, version };
        // Random bytes essentially never authenticate; the point is that
        // open returns instead of panicking.
        let _ = reader.open(&a, &fragment);
    }

    #[test]
    fn seal_then_open_round_trips(
        suite in 0..SUITES.len(),
        epoch in any::<u16>(),
        seq in 0..=MAX_SEQUENCE_NUMBER,
        explicit in any::<[u8; 16]>(),
        plaintext in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let (writer, reader) = pair(&SUITES[suite]);
        let a = aad(epoch, seq);
        let explicit = &explicit[..writer.explicit_nonce_len()];
        let fragment = writer.seal(&a, explicit, &plaintext);
        prop_assert_eq!(reader.open(&a, &fragment), Ok(plaintext));
    }

    #[test]
    fn tampered_fragments_never_open(
        suite in 0..SUITES.len(),
        seq in 0..=MAX_SEQUENCE_NUMBER,
        plaintext in proptest::collection::vec(any::<u8>(), 0..100),
        position in any::<prop::sample::Index>(),
        flip in 1..=255u8,
        cut in 0..20usize,
        extra in proptest::collection::vec(any::<u8>(), 1..20),
    ) {
        let (writer, reader) = pair(&SUITES[suite]);
        let a = aad(1, seq);
        let explicit = explicit_for(writer.as_ref(), &a);
        let fragment = writer.seal(&a, &explicit, &plaintext);

        let mut flipped = fragment.clone();
        let i = position.index(flipped.len());
        flipped[i] ^= flip;
        prop_assert!(reader.open(&a, &flipped).is_err());

        let cut = cut.min(fragment.len() - 1) + 1;
        prop_assert!(reader.open(&a, &fragment[..fragment.len() - cut]).is_err());

        let longer = [&fragment[..], &extra].concat();
        prop_assert!(reader.open(&a, &longer).is_err());
    }
}
