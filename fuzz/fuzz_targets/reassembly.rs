//! Bounded handshake reassembly (RFC 6347 §4.2.3) with fragments the fuzzer chooses: any
//! order, overlap, lies in the header. Whatever comes out is a message whose every byte
//! a fragment supplied, and the buffer never holds more than its limit.
#![no_main]
use dicetest::engine::handshake::reassembly::{FragmentIn, Reassembler, ReassemblyLimits};
use dicetest_wire::{HandshakeFragment, Reader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = ReassemblyLimits {
        max_message_len: 4096,
        max_messages_ahead: 8,
        max_buffered_bytes: 8192,
    };
    let mut r = Reassembler::new(limits);
    if data.first().is_some_and(|b| b & 1 == 1) {
        r.expect_any_first();
    }
    let mut rd = Reader::new(data.get(1..).unwrap_or_default());
    while let Ok(f) = HandshakeFragment::read(&mut rd) {
        let _ = r.insert(FragmentIn {
            msg_type: f.header.msg_type.get_u8(),
            length: f.header.length,
            message_seq: f.header.message_seq,
            fragment_offset: f.header.fragment_offset,
            fragment_length: f.header.fragment_length,
            body: &f.body,
        });
        assert!(r.buffered_bytes() <= limits.max_buffered_bytes);
        while let Some(m) = r.pop_complete() {
            assert!(m.body.len() <= limits.max_message_len as usize);
        }
    }
});
