//! The `coap` step: a CoAP request over the association (RFC 7252).

use super::*;

impl Interpreter<'_> {
    pub(super) fn coap(&mut self, c: &CoapRequest) -> StepOutcome {
        let Some(method) = Code::method(&c.method) else {
            return StepOutcome::error(format!("unknown CoAP method {}", c.method));
        };
        let Some(mtype) = MessageType::from_name(&c.r#type) else {
            return StepOutcome::error(format!("unknown CoAP type {}", c.r#type));
        };
        self.coap_mid = self.coap_mid.wrapping_add(1);
        let mid = c.message_id.unwrap_or(self.coap_mid);
        let token = match &c.token {
            Some(t) => hex::decode(t).unwrap_or_default(),
            None => self.coap_mid.to_be_bytes().to_vec(),
        };
        let mut m = CoapMessage::request(
            mtype,
            method,
            mid,
            token,
            &c.uri,
            c.payload.as_deref().unwrap_or_default().as_bytes(),
        );
        for (name, v) in &c.options {
            let (Some(num), Ok(values)) = (option_number(name), option_values(v)) else {
                return StepOutcome::error(format!("CoAP option {name}: not usable"));
            };
            m.options.extend(values.into_iter().map(|v| (num, v)));
        }
        // Options go out in ascending number (RFC 7252 §3.1); a stable sort keeps the
        // order of repeated ones (Uri-Path segments).
        m.options.sort_by_key(|(num, _)| *num);
        self.conn.send_application_data(&m.encode());
        self.flush();
        if mtype == MessageType::Confirmable {
            let epoch = self.conn.record_layer().write_epoch();
            self.coap_timer.start(
                self.link.now(),
                m.encode(),
                RecordOverrides::default(),
                epoch,
            );
        } else {
            self.coap_timer.stop();
        }
        let s = m.summary();
        self.last_coap = Some(m);
        StepOutcome::pass(format!("sent {s} {}", c.uri))
    }

    // ---- expectations -----------------------------------------------------------------
}
