//! The CoAP exchange of an interop session as the monitor decrypts it: the client's request
//! the description asks for, and the server's response that matches it by token
//! (RFC 7252 §5.3.2), piggybacked on the ACK or sent separately after an empty ACK (§5.2).

use super::model::CoapExchange;
use crate::coap::{CoapMessage, Code, URI_PATH};

#[derive(Debug, Default)]
pub struct CoapSeen {
    /// The matching request, once seen.
    pub request: Option<CoapMessage>,
    /// Requests that did not match (their summary), for the reason.
    pub other_requests: Vec<String>,
    /// The response carrying the request's token.
    pub response: Option<CoapMessage>,
    /// Responses to no request of the client's (another token), summarised for the reason.
    pub other_responses: Vec<String>,
}

/// `/a/b` from a message's Uri-Path options (RFC 7252 §6.5).
pub fn uri_path(m: &CoapMessage) -> String {
    let segments: Vec<String> = m
        .options
        .iter()
        .filter(|(n, _)| *n == URI_PATH)
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .collect();
    format!("/{}", segments.join("/"))
}

impl CoapSeen {
    /// A record of application data from the client: a request, perhaps the one asked for.
    pub fn from_client(&mut self, want: &CoapExchange, path: &str, data: &[u8]) {
        let Ok(m) = CoapMessage::parse(data) else {
            return;
        };
        // Only requests (class 0 with a method code); empty ACKs and RSTs are not.
        if m.code.class() != 0 || m.code.0 == 0 {
            return;
        }
        let method = Code::method(&want.method);
        let matches = Some(m.code) == method
            && uri_path(&m) == path
            && (want.method != "PUT" || m.payload == want.payload.as_bytes());
        if matches && self.request.is_none() {
            self.request = Some(m);
        } else if !matches && self.other_requests.len() < 8 {
            self.other_requests
                .push(format!("{} (path {})", m.summary(), uri_path(&m)));
        }
    }

    /// A record of application data from the server: the response, if it carries the
    /// request's token and a response code (class 2 to 5).
    pub fn from_server(&mut self, data: &[u8]) {
        let (Some(req), None) = (&self.request, &self.response) else {
            return;
        };
        let Ok(m) = CoapMessage::parse(data) else {
            return;
        };
        if m.code.class() < 2 {
            return;
        }
        if m.token == req.token {
            self.response = Some(m);
        } else if self.other_responses.len() < 8 {
            self.other_responses
                .push(format!("{} with token {:?}", m.code, hex::encode(&m.token)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coap::MessageType;

    fn put() -> CoapExchange {
        CoapExchange {
            method: "PUT".into(),
            path: None,
            payload: "on".into(),
            response: vec!["2.04".into()],
        }
    }

    fn msg(t: MessageType, code: u8, token: &[u8], path: &[&str], payload: &[u8]) -> Vec<u8> {
        CoapMessage {
            mtype: t,
            code: Code(code),
            message_id: 7,
            token: token.to_vec(),
            options: path
                .iter()
                .map(|p| (URI_PATH, p.as_bytes().to_vec()))
                .collect(),
            payload: payload.to_vec(),
        }
        .encode()
    }

    #[test]
    fn matches_request_then_response_by_token() {
        let mut s = CoapSeen::default();
        // Wrong payload, then wrong path: neither is the request asked for.
        s.from_client(
            &put(),
            "/light",
            &msg(MessageType::Confirmable, 3, &[1], &["light"], b"off"),
        );
        s.from_client(
            &put(),
            "/light",
            &msg(MessageType::Confirmable, 3, &[1], &["dark"], b"on"),
        );
        assert!(s.request.is_none());
        assert_eq!(s.other_requests.len(), 2);
        s.from_client(
            &put(),
            "/light",
            &msg(MessageType::Confirmable, 3, &[9, 9], &["light"], b"on"),
        );
        assert!(s.request.is_some());
        // An empty ACK, then a response with another token: not the response.
        s.from_server(&msg(MessageType::Acknowledgement, 0, &[], &[], b""));
        s.from_server(&msg(MessageType::Confirmable, 0x44, &[1], &[], b""));
        assert!(s.response.is_none());
        assert_eq!(s.other_responses, ["2.04 with token \"01\""]);
        s.from_server(&msg(MessageType::Confirmable, 0x44, &[9, 9], &[], b""));
        assert_eq!(s.response.map(|r| r.code), Some(Code(0x44)));
    }

    #[test]
    fn garbage_is_ignored() {
        let mut s = CoapSeen::default();
        s.from_client(&put(), "/light", b"\xff\xff\xff");
        s.from_server(b"");
        assert!(s.request.is_none() && s.response.is_none());
    }
}
