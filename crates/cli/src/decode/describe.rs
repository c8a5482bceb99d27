//! What `msctp decode` says about one SCTP packet: a JSON description of the
//! common header and every chunk, parameter and error cause, and the text
//! rendering of that description. Field names follow the RFCs' names in snake
//! case; the `type` of a chunk or parameter is the RFC's name.

use std::io::{self, Write};

use bytes::Bytes;
use msctp_wire::chunk::{RawChunk, RawChunks};
use msctp_wire::header::CommonHeader;
use msctp_wire::{Chunk, ErrorCause, Param, crc32c};
use serde_json::{Map, Value, json};

/// Describes the SCTP packet `sctp` (common header onwards): ports, tag,
/// checksum status and either `chunks` or, when a chunk is malformed,
/// `error` (with the chunks before it in `chunks_before_error`).
pub fn packet(sctp: &Bytes) -> Value {
    let mut obj = Map::new();
    let header = match CommonHeader::parse(sctp) {
        Ok(h) => h,
        Err(e) => {
            obj.insert("error".into(), json!(e.to_string()));
            return Value::Object(obj);
        }
    };
    obj.insert("sport".into(), json!(header.src_port));
    obj.insert("dport".into(), json!(header.dst_port));
    obj.insert("vtag".into(), json!(header.verification_tag));
    if let Some(c) = crc32c::stored_checksum(sctp) {
        obj.insert(
            "checksum".into(),
            json!(format!("0x{:08x}", c.swap_bytes())),
        );
    }
    obj.insert("crc_ok".into(), json!(crc32c::verify(sctp)));
    let mut chunks = Vec::new();
    let mut error = None;
    for raw in RawChunks::new(sctp.clone()) {
        match raw.and_then(|r| Chunk::parse(&r).map(|c| (r, c))) {
            Ok((raw, chunk)) => chunks.push(self::chunk(&raw, &chunk)),
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    match error {
        None => {
            obj.insert("chunks".into(), Value::Array(chunks));
        }
        Some(e) => {
            obj.insert("error".into(), json!(e));
            obj.insert("chunks_before_error".into(), Value::Array(chunks));
        }
    }
    Value::Object(obj)
}

fn type_name(name: Option<&'static str>, code: impl Into<u32>, width: usize) -> String {
    match name {
        Some(n) => n.to_string(),
        None => format!("0x{:0width$x}", code.into()),
    }
}

/// Describes one chunk: `type`, `type_code`, `flags`, `length` (as received),
/// then the fields of its type.
fn chunk(raw: &RawChunk, chunk: &Chunk) -> Value {
    let mut o = Map::new();
    o.insert("type".into(), json!(type_name(raw.ty.name(), raw.ty.0, 2)));
    o.insert("type_code".into(), json!(raw.ty.0));
    o.insert("flags".into(), json!(raw.flags));
    o.insert("length".into(), json!(raw.length));
    let mut put = |k: &str, v: Value| {
        o.insert(k.into(), v);
    };
    match chunk {
        Chunk::Data(d) => {
            put("tsn", json!(d.tsn.0));
            put("stream", json!(d.stream));
            put("ssn", json!(d.ssn.0));
            put("ppid", json!(d.ppid));
            put("unordered", json!(d.unordered));
            put("begin", json!(d.begin));
            put("end", json!(d.end));
            put("immediate", json!(d.immediate));
            put("payload_len", json!(d.payload.len()));
        }
        Chunk::IData(d) => {
            put("tsn", json!(d.tsn.0));
            put("stream", json!(d.stream));
            put("mid", json!(d.mid.0));
            match d.ppid() {
                Some(ppid) => put("ppid", json!(ppid)),
                None => put("fsn", json!(d.fsn())),
            }
            put("unordered", json!(d.unordered));
            put("begin", json!(d.begin));
            put("end", json!(d.end));
            put("immediate", json!(d.immediate));
            put("payload_len", json!(d.payload.len()));
        }
        Chunk::Init(i) | Chunk::InitAck(i) => {
            put("initiate_tag", json!(i.initiate_tag));
            put("a_rwnd", json!(i.a_rwnd));
            put("outbound_streams", json!(i.outbound_streams));
            put("inbound_streams", json!(i.inbound_streams));
            put("initial_tsn", json!(i.initial_tsn.0));
            put("params", params(&i.params));
        }
        Chunk::Sack(s) => {
            put("cum_tsn_ack", json!(s.cum_tsn_ack.0));
            put("a_rwnd", json!(s.a_rwnd));
            let gaps: Vec<_> = s
                .gap_blocks
                .iter()
                .map(|g| json!([g.start, g.end]))
                .collect();
            put("gap_blocks", json!(gaps));
            let dups: Vec<_> = s.dup_tsns.iter().map(|t| t.0).collect();
            put("dup_tsns", json!(dups));
        }
        Chunk::Heartbeat(h) | Chunk::HeartbeatAck(h) => put("info_length", json!(h.info.len())),
        Chunk::Abort(a) => {
            put("t_bit", json!(a.t_bit));
            put("causes", causes(&a.causes));
        }
        Chunk::Error(e) => put("causes", causes(&e.causes)),
        Chunk::Shutdown(s) => put("cum_tsn_ack", json!(s.cum_tsn_ack.0)),
        Chunk::ShutdownAck | Chunk::CookieAck => {}
        Chunk::CookieEcho(c) => put("cookie_length", json!(c.cookie.len())),
        Chunk::Ecne(e) => put("lowest_tsn", json!(e.lowest_tsn.0)),
        Chunk::Cwr(c) => put("lowest_tsn", json!(c.lowest_tsn.0)),
        Chunk::ShutdownComplete(s) => put("t_bit", json!(s.t_bit)),
        Chunk::Auth(a) => {
            put("key_id", json!(a.key_id));
            put("hmac_id", json!(a.hmac_id));
            put("hmac_length", json!(a.hmac.len()));
        }
        Chunk::AsconfAck(a) => {
            put("serial", json!(a.serial));
            put("params", params(&a.params));
        }
        Chunk::ReConfig(r) => put("params", params(&r.params)),
        Chunk::Pad(p) => put("pad_length", json!(p.len)),
        Chunk::ForwardTsn(f) => {
            put("new_cum_tsn", json!(f.new_cum_tsn.0));
            let s: Vec<_> = f
                .streams
                .iter()
                .map(|s| json!([s.stream, s.ssn.0]))
                .collect();
            put("streams", json!(s));
        }
        Chunk::Asconf(a) => {
            put("serial", json!(a.serial));
            put("address", json!(a.address.to_string()));
            put("params", params(&a.params));
        }
        Chunk::IForwardTsn(f) => {
            put("new_cum_tsn", json!(f.new_cum_tsn.0));
            let s: Vec<_> = f
                .streams
                .iter()
                .map(|s| json!([s.stream, s.unordered, s.mid.0]))
                .collect();
            put("streams", json!(s));
        }
        Chunk::Unknown(u) => {
            put("action", json!(format!("{:?}", u.ty.action())));
            put("value_length", json!(u.value.len()));
        }
    }
    Value::Object(o)
}

fn params(ps: &[Param]) -> Value {
    Value::Array(ps.iter().map(param).collect())
}

fn param(p: &Param) -> Value {
    let ty = p.param_type();
    let mut o = Map::new();
    o.insert("type".into(), json!(type_name(ty.name(), ty.0, 4)));
    o.insert("type_code".into(), json!(ty.0));
    o.insert("length".into(), json!(p.len()));
    let mut put = |k: &str, v: Value| {
        o.insert(k.into(), v);
    };
    match p {
        Param::Ipv4Address(_) | Param::Ipv6Address(_) => {
            put("address", json!(p.as_address().map(|a| a.to_string())));
        }
        Param::HeartbeatInfo(b) => put("info_length", json!(b.len())),
        Param::StateCookie(_) => {}
        Param::UnrecognizedParameter(b) => {
            if let Some(t) = b.get(..2) {
                put("unrecognized_type", json!(u16::from_be_bytes([t[0], t[1]])));
            }
        }
        Param::CookiePreservative(ms) => put("increment_ms", json!(ms)),
        Param::HostNameAddress(b) => {
            let name = b.split(|c| *c == 0).next().unwrap_or_default();
            put("host_name", json!(String::from_utf8_lossy(name)));
        }
        Param::SupportedAddressTypes(t) => put("types", json!(t)),
        Param::OutgoingSsnResetRequest {
            request_seq,
            response_seq,
            last_tsn,
            streams,
        } => {
            put("request_seq", json!(request_seq));
            put("response_seq", json!(response_seq));
            put("last_tsn", json!(last_tsn.0));
            put("streams", json!(streams));
        }
        Param::IncomingSsnResetRequest {
            request_seq,
            streams,
        } => {
            put("request_seq", json!(request_seq));
            put("streams", json!(streams));
        }
        Param::SsnTsnResetRequest { request_seq } => put("request_seq", json!(request_seq)),
        Param::ReconfigResponse {
            response_seq,
            result,
            next_tsns,
        } => {
            put("response_seq", json!(response_seq));
            put("result", json!(result));
            if let Some((s, r)) = next_tsns {
                put("sender_next_tsn", json!(s.0));
                put("receiver_next_tsn", json!(r.0));
            }
        }
        Param::AddOutgoingStreamsRequest {
            request_seq,
            new_streams,
        }
        | Param::AddIncomingStreamsRequest {
            request_seq,
            new_streams,
        } => {
            put("request_seq", json!(request_seq));
            put("new_streams", json!(new_streams));
        }
        Param::EcnCapable | Param::ForwardTsnSupported => {}
        Param::ZeroChecksumAcceptable { edmid } => put("edmid", json!(edmid)),
        Param::Random(b) => put("random_length", json!(b.len())),
        Param::ChunkList(t) | Param::SupportedExtensions(t) => {
            put(
                "chunk_types",
                json!(t.iter().map(|c| c.0).collect::<Vec<_>>()),
            );
        }
        Param::RequestedHmacAlgorithm(ids) => put("hmac_ids", json!(ids)),
        Param::Padding(n) => put("pad_length", json!(n)),
        Param::AddIpAddress {
            correlation_id,
            address,
        }
        | Param::DeleteIpAddress {
            correlation_id,
            address,
        }
        | Param::SetPrimaryAddress {
            correlation_id,
            address,
        } => {
            put("correlation_id", json!(correlation_id));
            put("address", json!(address.to_string()));
        }
        Param::ErrorCauseIndication {
            correlation_id,
            causes: c,
        } => {
            put("correlation_id", json!(correlation_id));
            put("causes", causes(c));
        }
        Param::SuccessIndication { correlation_id } => {
            put("correlation_id", json!(correlation_id));
        }
        Param::AdaptationLayerIndication(i) => put("indication", json!(i)),
        Param::Unknown { ty, value } => {
            put("action", json!(format!("{:?}", ty.action())));
            put("value_length", json!(value.len()));
        }
    }
    Value::Object(o)
}

fn causes(cs: &[ErrorCause]) -> Value {
    Value::Array(cs.iter().map(cause).collect())
}

fn cause(c: &ErrorCause) -> Value {
    let code = c.code();
    let mut o = Map::new();
    o.insert("code".into(), json!(code.0));
    o.insert("name".into(), json!(type_name(code.name(), code.0, 4)));
    o.insert("length".into(), json!(c.len()));
    let mut put = |k: &str, v: Value| {
        o.insert(k.into(), v);
    };
    match c {
        ErrorCause::InvalidStreamIdentifier(s) => put("stream", json!(s)),
        ErrorCause::MissingMandatoryParameter(t) => {
            put("missing", json!(t.iter().map(|t| t.0).collect::<Vec<_>>()));
        }
        ErrorCause::StaleCookie(us) => put("staleness_us", json!(us)),
        ErrorCause::NoUserData(t) => put("tsn", json!(t.0)),
        ErrorCause::UserInitiatedAbort(b) | ErrorCause::ProtocolViolation(b) => {
            put("info", json!(String::from_utf8_lossy(b)));
        }
        ErrorCause::UnrecognizedChunkType(b) => {
            if let Some(t) = b.first() {
                put("unrecognized_type", json!(t));
            }
        }
        ErrorCause::UnsupportedHmacIdentifier(id) => put("hmac_id", json!(id)),
        _ => {}
    }
    Value::Object(o)
}

/// Keys rendered specially (or not at all) in the text form.
const SKIP: &[&str] = &[
    "type",
    "type_code",
    "params",
    "causes",
    "name",
    "code",
    "length",
];

fn fields(o: &Map<String, Value>) -> String {
    let mut s = String::new();
    for (k, v) in o {
        if SKIP.contains(&k.as_str()) || (k == "flags" && v == &json!(0)) {
            continue;
        }
        if !s.is_empty() {
            s.push(' ');
        }
        match v {
            Value::String(t) => s.push_str(&format!("{k}={t}")),
            Value::Number(n) if k == "flags" => {
                s.push_str(&format!("flags=0x{:02x}", n.as_u64().unwrap_or(0)))
            }
            _ => s.push_str(&format!("{k}={v}")),
        }
    }
    s
}

fn write_causes(out: &mut impl Write, v: Option<&Value>, indent: usize) -> io::Result<()> {
    for c in v.and_then(Value::as_array).into_iter().flatten() {
        let Some(c) = c.as_object() else { continue };
        let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
        let code = c.get("code").cloned().unwrap_or_default();
        writeln!(out, "{:indent$}cause {name} ({code}) {}", "", fields(c))?;
    }
    Ok(())
}

/// Writes the text form of a packet described by [`packet`] and
/// `packet_json`: one line for the packet, one per chunk, one per
/// parameter or cause.
pub fn write_human(out: &mut impl Write, p: &Value, rel_time: f64) -> io::Result<()> {
    let get = |k: &str| p.get(k).cloned().unwrap_or(Value::Null);
    let show = |v: Value| match v {
        Value::String(s) => s,
        other => other.to_string(),
    };
    let addr = |a: Value, port: Value| {
        let a = show(a);
        if a.contains(':') {
            format!("[{a}]:{}", show(port))
        } else {
            format!("{a}:{}", show(port))
        }
    };
    let crc = match p.get("crc_ok") {
        Some(Value::Bool(true)) => "crc ok",
        Some(Value::Bool(false)) => "CRC BAD",
        _ => "crc ?",
    };
    let encap = match p.get("encap").and_then(Value::as_str) {
        Some("udp") => format!(
            "  udp {}→{}",
            show(get("udp_sport")),
            show(get("udp_dport"))
        ),
        _ => String::new(),
    };
    writeln!(
        out,
        "{:>6} {:>11.6}  {} → {}  vtag 0x{:08x}  {crc}{encap}",
        show(get("n")),
        rel_time,
        addr(get("src"), get("sport")),
        addr(get("dst"), get("dport")),
        get("vtag").as_u64().unwrap_or(0),
    )?;
    let chunks = p.get("chunks").or_else(|| p.get("chunks_before_error"));
    for c in chunks.and_then(Value::as_array).into_iter().flatten() {
        let Some(c) = c.as_object() else { continue };
        let ty = c.get("type").and_then(Value::as_str).unwrap_or("?");
        writeln!(out, "         {ty} {}", fields(c))?;
        for prm in c
            .get("params")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(prm) = prm.as_object() else { continue };
            let pty = prm.get("type").and_then(Value::as_str).unwrap_or("?");
            writeln!(out, "             {pty} {}", fields(prm))?;
            write_causes(out, prm.get("causes"), 17)?;
        }
        write_causes(out, c.get("causes"), 13)?;
    }
    if let Some(e) = p.get("error").and_then(Value::as_str) {
        writeln!(out, "         MALFORMED: {e}")?;
    }
    Ok(())
}
