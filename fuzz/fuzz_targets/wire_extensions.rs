//! Hello extensions (RFC 5246 §7.4.1.4, RFC 6066, RFC 7627, RFC 5746, RFC 7250, RFC 8422,
//! RFC 9146) as a ClientHello or a ServerHello carries them: the whole block, duplicates
//! kept, each re-encoding to the bytes it came from.
#![no_main]
use dicetest_wire::extensions::{encode_extensions, read_extensions};
use dicetest_wire::{duplicate_extension, ExtensionContext, Reader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for ctx in [ExtensionContext::ClientHello, ExtensionContext::ServerHello] {
        let mut r = Reader::new(data);
        if let Ok(exts) = read_extensions(&mut r, ctx) {
            let used = r.position();
            let mut out = Vec::new();
            encode_extensions(&mut out, exts.as_deref());
            assert_eq!(out, data[..used]);
            if let Some(exts) = exts {
                let _ = duplicate_extension(&exts);
                for e in &exts {
                    let _ = format!("{e:?} {}", e.ext_type());
                }
            }
        }
    }
});
