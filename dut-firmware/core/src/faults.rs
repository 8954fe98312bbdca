//! Fault switches: deliberate misbehaviour, one requirement each, all off by default.
//!
//! The suite's able-to-fail self-test turns them on one at a time: a suite that still
//! passes a device with a switch on cannot see that bug. They exist only with the cargo
//! feature `faults` (the simulated board turns it on); without it every [`Faults::has`] is a
//! constant `false`, so the branches vanish and the firmware images carry none of them.

macro_rules! faults {
    ($( $(#[doc = $doc:literal])* $variant:ident = $name:literal, )*) => {
        /// One deliberate misbehaviour (see each variant for the requirement it breaks).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        pub enum Fault {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Fault {
            /// Every switch, in declaration order.
            pub const ALL: &'static [Fault] = &[$(Fault::$variant),*];

            /// The switch's name, as command lines and case files spell it.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Fault::$variant => $name,)*
                }
            }
        }

        impl Faults {
            /// Every switch's name, for command lines and reports.
            pub const NAMES: &'static [&'static str] = &[$($name),*];
        }
    };
}

faults! {
    // ---- Handshake, cookies, state machine, alerts, profile ----
    /// Accept a Finished sent in the clear (epoch 0, before or without ChangeCipherSpec).
    /// Breaks RFC 5246 §7.4.9 with RFC 6347 §4.1: Finished is the first message protected
    /// with the new keys. Imitates the state-machine bugs that let a handshake complete
    /// without the negotiated protection (SMACK, Beurdouche et al., IEEE S&P 2015; DTLS
    /// state fuzzing, Fiterău-Broştean et al., USENIX Security 2020).
    AcceptUnencryptedFinished = "accept_unencrypted_finished",
    /// No replay detection: a replayed application record is processed again. Breaks RFC
    /// 6347 §4.1.2.6. Imitates stacks that never
    /// implemented the optional window.
    NoReplayWindow = "no_replay_window",
    /// The cookie is an HMAC over the client's address only, not its ClientHello
    /// parameters: a cookie earned with one ClientHello opens the door to another. Breaks
    /// RFC 6347 §4.2.1 (the cookie binds the client's parameters).
    CookieNotBoundToParams = "cookie_not_bound_to_params",
    /// Keep state after a HelloVerifyRequest and retransmit it on a timer. Breaks RFC 6347
    /// §4.2.1 (the server stays stateless; HelloVerifyRequest is not retransmitted), which
    /// makes the device a cheap amplifier and lets spoofed ClientHellos fill its memory.
    RetransmitHelloVerifyRequest = "retransmit_hello_verify_request",
    /// Move the replay window for a record before its tag is checked: a forged record with
    /// a high sequence number makes the device reject the genuine ones that follow. Breaks
    /// RFC 6347 §4.1.2.6 ("updated only if the MAC verification succeeds").
    ReplayWindowBeforeTagCheck = "replay_window_before_tag_check",
    /// Answer an unknown PSK identity with a fatal handshake_failure instead of
    /// unknown_psk_identity (RFC 4279 §2). Imitates stacks that map every handshake error to
    /// one generic alert, which leaves the client unable to tell a provisioning error.
    WrongAlertForUnknownIdentity = "wrong_alert_for_unknown_identity",
    /// Start a new handshake when a connected client sends a ClientHello (renegotiation)
    /// instead of a warning no_renegotiation alert. Breaks RFC 7925 §17 (no renegotiation in
    /// this profile; RFC 5746 §4.4, RFC 5246 §7.2.2), and without RFC 5746 §3.7's binding
    /// of the new handshake to the old one: the flaw behind CVE-2009-3555.
    AcceptRenegotiation = "accept_renegotiation",
    /// Take a ClientHello that arrives in the clear in a record claiming epoch 1 as if it
    /// were epoch 0. Breaks RFC 6347 §4.1 (epoch 0 is the only unprotected epoch; a record
    /// that does not authenticate in its epoch is discarded, §4.1.2.7). Imitates the
    /// epoch-confusion bugs found by DTLS state fuzzing (Fiterău-Broştean et al. 2020).
    AcceptClientHelloInEpoch1 = "accept_client_hello_in_epoch_1",
    /// Skip the cookie exchange: answer the first ClientHello with ServerHello. Breaks RFC
    /// 6347 §4.2.1 (servers SHOULD do the exchange; it is the DoS countermeasure) and RFC
    /// 7925's expectation of it.
    NoHelloVerifyRequest = "no_hello_verify_request",
    /// Answer CoAP requests with an empty token. Breaks RFC 7252 §5.3.1 (the response
    /// echoes the request's token); a client cannot match the response.
    CoapTokenNotEchoed = "coap_token_not_echoed",
    /// Serve a GET whatever its Accept option asks for. Breaks RFC 7252 §5.10.4 (a 4.06
    /// Not Acceptable when the preferred Content-Format cannot be returned); the client
    /// receives a representation it said it cannot read.
    CoapIgnoresAccept = "coap_ignores_accept",
    /// Skip options the server does not know, critical ones included. Breaks RFC 7252
    /// §5.4.1 (an unrecognised critical option in a CON request gets 4.02 Bad Option): the
    /// request is executed without the condition the client attached to it.
    CoapIgnoresCriticalOptions = "coap_ignores_critical_options",
    /// Take a PUT's payload as text whatever its Content-Format says. Breaks RFC 7252
    /// §5.10.3 with §5.9.2.9 (a representation in a format the resource does not support is
    /// refused with 4.15 Unsupported Content-Format).
    CoapIgnoresContentFormat = "coap_ignores_content_format",
    /// Do not act on received alerts at all: close_notify is neither answered nor ends the
    /// association, and a fatal alert does not end it either. Breaks RFC 5246 §7.2.1 (answer
    /// close_notify with close_notify, then stop) and §7.2.2 (a fatal alert ends the
    /// connection at once). Imitates gnutls-serv, which does not answer close_notify
    /// (profiles/gnutls.yaml), and the "continue after alert" state-machine bugs found by
    /// DTLS state fuzzing (Fiterău-Broştean et al., USENIX Security 2020).
    IgnoreAlerts = "ignore_alerts",
    /// Process unprotected epoch-0 alert and application-data records whatever the state:
    /// plaintext data is handed to the application during the handshake and after it, and
    /// a plaintext alert after the handshake is acted on. Breaks RFC 6347 §4.1 (records of
    /// an epoch other than the current one are not processed; epoch 0 carries no
    /// application data) and RFC 5246 §7.4.9 (no data before Finished). Imitates wolfSSL
    /// CVE-2020-24585 (clear epoch-0 application data returned to the application).
    AcceptPlaintextRecords = "accept_plaintext_records",
    /// Do not compare the client's Finished with the expected verify_data. Breaks RFC 5246
    /// §7.4.9 (the receiver MUST verify it): the handshake completes without proof that the
    /// transcript was not tampered with. The bug class SMACK studied (Beurdouche et al.,
    /// IEEE S&P 2015).
    SkipFinishedCheck = "skip_finished_check",
    /// Serve one peer at a time: while any association (handshake or connection) exists,
    /// ClientHellos from other addresses get no answer at all. A client that leaves a
    /// handshake half done (a wrong PSK) then blocks everyone until the device gives up on
    /// it. Imitates OpenSSL's s_server and gnutls-serv (profiles/openssl.yaml,
    /// profiles/gnutls.yaml, ALRT-03).
    OneAssociationAtATime = "one_association_at_a_time",
    /// Crash (stop serving and retransmitting, as a real board does until its watchdog
    /// resets it) on input the device should discard: a record that is not a ClientHello
    /// from a peer without a session (an early ChangeCipherSpec, a ClientKeyExchange
    /// answering a HelloVerifyRequest), a ClientHello that does not parse, a HelloRequest
    /// sent to the server. Breaks RFC 6347 §4.1.2.7 (invalid input is discarded, the
    /// association and the device go on). Imitates tinydtls CVE-2017-7243 (crash on an
    /// early ChangeCipherSpec), tinydtls issue #59 (empty ClientHello), mbedTLS
    /// CVE-2022-35409 (cookie over-read) and gnutls-serv wedged by a stray datagram
    /// (profiles/gnutls.yaml, SM-01).
    CrashOnUnexpectedInput = "crash_on_unexpected_input",
    /// Select the client's first compression method instead of null, and do not require
    /// null to be offered. Breaks RFC 7925 §8 (no compression) and RFC 5246 §7.4.1.2 (a
    /// ClientHello without the null method is refused). Imitates TLS stacks that negotiate
    /// DEFLATE when both sides can (the CRIME attack, CVE-2012-4929).
    SelectFirstCompressionMethod = "select_first_compression_method",
    /// With no cipher suite in common, answer with the device's own first suite instead of
    /// a handshake_failure alert. Breaks RFC 5246 §7.4.1.3 (the suite is one the client
    /// offered) and §7.2.2.
    SuiteNotCheckedAgainstOffer = "suite_not_checked_against_offer",
    /// Ignore the client's secure-renegotiation signal (SCSV or renegotiation_info) and
    /// send no renegotiation_info in the ServerHello. Breaks RFC 5746 §3.6, which RFC 7925
    /// §17 keeps. Imitates stacks that never implemented RFC 5746.
    NoRenegotiationInfo = "no_renegotiation_info",
    /// Hand out session ids with no session cache behind them: the ServerHello repeats the
    /// id the client offered (which tells the client its session is resumed) or, when none
    /// was offered, names a fresh random one that can never be resumed. Breaks RFC 5246
    /// §7.4.1.3 (the client's id is repeated only for a resumption; an empty id says the
    /// session is not cached).
    SessionIdWithoutCache = "session_id_without_cache",
    /// Put the TLS 1.2 code point (0x0303) into the HelloVerifyRequest's server_version.
    /// Breaks RFC 6347 §4.2.1 (DTLS 1.0, or the version of the ServerHello). Imitates code
    /// shared with a TLS stack that fills version fields with TLS numbers.
    HelloVerifyRequestTlsVersion = "hello_verify_request_tls_version",
    /// The cookie is bound to the client's IP address but not its UDP port, so a spoofer
    /// elsewhere on the same host (or behind the same NAT) can reuse a cookie it saw.
    /// Breaks RFC 6347 §4.2.1 (the cookie proves the client can receive at its address and
    /// port).
    CookieNotBoundToPort = "cookie_not_bound_to_port",
    /// Number the records of flight 4 from a counter of the device's own (1, as if the
    /// HelloVerifyRequest had been 0) instead of the record sequence number of the
    /// ClientHello that carried the cookie. Breaks RFC 6347 §4.2.1 (a stateless server
    /// reuses that number so that none is used twice). Imitates OpenSSL, whose first
    /// ServerHello record is numbered 1 (profiles/openssl.yaml, CK-12).
    OwnRecordNumbersAfterCookie = "own_record_numbers_after_cookie",
    /// An epoch-0 ClientHello from the address of an established association ends that
    /// association at once, before any cookie exchange. Breaks RFC 6347 §4.2.8 (keep it
    /// until the new client has shown it is reachable): one spoofed datagram tears down a
    /// connection. Imitates Bouncy Castle, which ends it with internal_error
    /// (profiles/bouncycastle.yaml, NA-01).
    ClientHelloEndsAssociation = "client_hello_ends_association",
    /// An epoch-0 ClientHello from the address of an established association is discarded:
    /// no new handshake begins. Breaks RFC 6347 §4.2.8 (the server SHOULD proceed with a
    /// new handshake): a client that rebooted and reconnects from the same port is locked
    /// out until the old association times out.
    ClientHelloIgnoredOnAssociation = "client_hello_ignored_on_association",
    /// Protected records (epoch 1 and later) carry version DTLS 1.0 (0xfeff) in a DTLS 1.2
    /// association. Breaks RFC 6347 §4.1 (the record's version is the protocol version
    /// being employed; only the HelloVerifyRequest may say 1.0, §4.2.1).
    ProtectedRecordsVersion10 = "protected_records_version_1_0",
    /// Every ChangeCipherSpec before Finished moves the read epoch, a repeated one included
    /// (an epoch-0 copy, or one protected in the new epoch). Breaks RFC 6347 §4.2.5 and
    /// §4.1 (one ChangeCipherSpec, one epoch change): the "multiple CCS" state-machine bug
    /// shape found by DTLS state fuzzing (Fiterău-Broştean et al. 2020).
    EveryChangeCipherSpecMovesEpoch = "every_change_cipher_spec_moves_epoch",
    // ---- Record layer, fragmentation, reordering, retransmission ----
    /// Decrypt a protected record without checking its tag: CCM-8 is counter mode, so the
    /// faulty device runs the keystream over the ciphertext and delivers whatever comes out.
    /// Breaks RFC 6347 §4.1.2.7 with RFC 5246 §6.2.3.3 (a record that does not authenticate
    /// is never delivered). Imitates decrypt paths that compute the tag but do not act on
    /// the comparison.
    RecordTagNotChecked = "record_tag_not_checked",
    /// A record the device cannot use (unknown content type or version, a length past the
    /// datagram's end, an epoch it has no keys for yet, a tag that does not verify) ends the
    /// association, silently, instead of being discarded alone. Breaks RFC 6347 §4.1.2.7
    /// (invalid records SHOULD be silently discarded, preserving the association; an
    /// implementation that gives up must at least send a fatal alert) and §4.1 (a record
    /// of the next epoch that overtook its ChangeCipherSpec may be kept or dropped, not held
    /// against the peer). The TLS-over-TCP habit carried into DTLS, where one spoofed
    /// datagram then ends anyone's association; GnuTLS behaves so after a record running
    /// past its datagram (profiles/gnutls.yaml, REC-02).
    UnreadableRecordEndsAssociation = "unreadable_record_ends_association",
    /// Read only the first record of each datagram; the records after it are dropped
    /// unread. Breaks RFC 6347 §4.1.1 (a datagram may carry several records, and the
    /// receiver processes them all). Imitates stacks written as if a datagram were a record.
    FirstRecordOnly = "first_record_only",
    /// No reassembly: a handshake fragment that is not a whole message is refused (a
    /// fragmented ClientHello is dropped, any other fragment ends the handshake with a
    /// fatal handshake_failure). Breaks RFC 6347 §4.2.3 (every handshake message may be
    /// fragmented, and receivers MUST reassemble). Imitates tinydtls 0.8.6 ("No fragment
    /// support (yet)", profiles/tinydtls.yaml) and Bouncy Castle's cookie verifier.
    NoFragmentReassembly = "no_fragment_reassembly",
    /// Reassemble by appending each fragment's bytes after the previous ones, its
    /// fragment_offset ignored: complete once as many bytes arrived as the message is long.
    /// Reversed, overlapping or repeated fragments then build a wrong message. Breaks RFC
    /// 6347 §4.2.3 (fragments may arrive in any order, overlap, or repeat). Imitates
    /// reassembly written for an ordered byte stream (GnuTLS cannot take reversed fragments
    /// either: profiles/gnutls.yaml, REORD-02).
    FragmentOffsetIgnored = "fragment_offset_ignored",
    /// Merge fragments by message_seq alone: msg_type and length are taken from the first
    /// fragment, and later ones are not compared with it. Breaks RFC 6347 §4.2.3 (every
    /// fragment repeats the message's type and length; inconsistent ones do not belong to
    /// the message). Imitates OpenSSL, which completed a ClientKeyExchange with a
    /// Finished-typed fragment (profiles/openssl.yaml, FRAG-07).
    FragmentsMergedByMessageSeq = "fragments_merged_by_message_seq",
    /// Trust the handshake fragment header: neither fragment_offset + fragment_length
    /// against the message length nor the message length against the memory the device
    /// has. In C that writes past the reassembly buffer (OpenSSL CVE-2014-0195) or reserves
    /// the announced length (pion CVE-2022-29189, OpenSSL CVE-2014-3506); here the device
    /// crashes on such a header in a plaintext record, as a microcontroller does on the
    /// resulting hard fault, and answers nothing more. Breaks RFC 6347 §4.2.3.
    FragmentHeaderTrusted = "fragment_header_trusted",
    /// Deliver protected application data that arrives between the client's
    /// ChangeCipherSpec and its Finished. Breaks RFC 5246 §7.4.9 with RFC 6347 §4.1 (no
    /// application data before the handshake is verified: the peer is not yet
    /// authenticated). Imitates the state-machine bugs that process data early (DTLS state
    /// fuzzing, Fiterău-Broştean et al., USENIX Security 2020).
    ApplicationDataBeforeFinished = "application_data_before_finished",
    /// Send every flight once: no retransmission timer, no answer to the client's repeated
    /// flight, and a ClientHello already answered with a HelloVerifyRequest gets no second
    /// one. Breaks RFC 6347 §4.2.4 (the server resends its flight when its timer expires
    /// and when the client repeats its own; a lost last flight can only come back that way).
    /// Imitates minimal stacks that leave loss to the client; tinydtls and Bouncy Castle do
    /// not answer a repeated flight 5 (their profiles, RTX-02).
    NoRetransmission = "no_retransmission",
    /// After the handshake, take any handshake message from the client for a repeat of
    /// its last flight and send flight 6 again, a Finished with a new message_seq included.
    /// Breaks RFC 6347 §4.2.4 (only a retransmitted flight calls for the last flight again).
    /// Imitates OpenSSL (issue 15289) and GnuTLS (their profiles, RTX-07).
    NewMessageTakenForRetransmission = "new_message_taken_for_retransmission",
    /// Process a handshake message numbered beyond next_receive_seq as if it were the
    /// next one, and go on counting from it. Breaks RFC 6347 §4.2.2 (a later message is
    /// queued or discarded until the gap is filled).
    MessageSeqNotChecked = "message_seq_not_checked",
    /// Number the first flight after the cookie exchange from 0, as a server that counts
    /// its messages per association would (the HelloVerifyRequest came before it had one).
    /// Breaks RFC 6347 §4.2.2 (each side numbers its messages on: after the
    /// HelloVerifyRequest, 0, the ServerHello is 1).
    ServerHelloNumberedFromZero = "server_hello_numbered_from_zero",
    /// Refuse a ClientHello that carries an extension the device does not implement (any
    /// but extended_master_secret and renegotiation_info) with a fatal
    /// unsupported_extension. Breaks RFC 5246 §7.4.1.4 (a server ignores extensions it
    /// does not understand) and RFC 6066 §4 (a server may ignore max_fragment_length).
    /// Imitates the extension intolerance that made TLS clients fall back and that GREASE
    /// (RFC 8701) was introduced to catch.
    RefuseUnknownExtensions = "refuse_unknown_extensions",
    /// Change the ServerHello's random each time flight 4 is sent again on the timer, as a
    /// server that builds the flight anew instead of resending what it sent. Breaks RFC
    /// 6347 §4.2.4 (a retransmitted flight repeats the same messages; only the records
    /// are new): a client that took the first copy and one that took the second derive
    /// different keys.
    RetransmissionChangesContent = "retransmission_changes_content",
    /// Dispatch each record through a table indexed by its content type, the type
    /// unchecked: an unknown one (99, or 25, tls12_cid, where no connection ID was
    /// negotiated) reads a handler past the end of the table, and the device crashes, as
    /// the C original's hard fault stops a microcontroller. Breaks RFC 6347 §4.1.2.7
    /// (an invalid record is discarded and the association preserved) and RFC 9146 §4
    /// (tls12_cid records exist only on associations that negotiated a connection ID).
    UnknownContentTypeCrashes = "unknown_content_type_crashes",
}

// One bit per switch.
const _: () = assert!(Fault::ALL.len() <= 64);

/// The set of switches that are on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    bits: u64,
}

impl Faults {
    /// Whether `f` is on. Always false without the `faults` feature.
    #[inline(always)]
    pub fn has(&self, f: Fault) -> bool {
        cfg!(feature = "faults") && self.bits & (1 << f as u8) != 0
    }

    /// Turns `f` on.
    pub fn set(&mut self, f: Fault) {
        self.bits |= 1 << f as u8;
    }

    /// Turns on the switch called `name` (`-` and `_` alike); false when there is none.
    pub fn set_by_name(&mut self, name: &str) -> bool {
        match Fault::ALL.iter().find(|f| same_name(f.name(), name)) {
            Some(&f) => {
                self.set(f);
                true
            }
            None => false,
        }
    }

    /// Whether any switch is on.
    pub fn any(&self) -> bool {
        self.bits != 0
    }

    /// The names of the switches that are on.
    pub fn names_on(&self) -> impl Iterator<Item = &'static str> + '_ {
        Fault::ALL
            .iter()
            .filter(|f| self.bits & (1 << **f as u8) != 0)
            .map(|f| f.name())
    }
}

pub(crate) fn same_name(a: &str, b: &str) -> bool {
    let norm = |c: u8| if c == b'-' { b'_' } else { c };
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| norm(x) == norm(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_fault_can_be_set_and_unknown_names_are_refused() {
        for (i, name) in Faults::NAMES.iter().enumerate() {
            let mut f = Faults::default();
            assert!(f.set_by_name(name), "{name}");
            assert!(f.any(), "{name} changed nothing");
            assert_eq!(f.names_on().collect::<Vec<_>>(), [*name]);
            assert_eq!(Fault::ALL[i].name(), *name);
            let mut g = Faults::default();
            assert!(g.set_by_name(&name.replace('_', "-")));
            assert_eq!(f, g);
        }
        assert!(!Faults::default().set_by_name("no_such_fault"));
    }

    #[test]
    fn names_are_unique() {
        for (i, a) in Faults::NAMES.iter().enumerate() {
            assert!(!Faults::NAMES[i + 1..].contains(a), "{a} twice");
        }
    }
}
