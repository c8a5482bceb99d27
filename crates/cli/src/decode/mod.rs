//! `msctp decode`: reads a pcap or pcapng file and prints every SCTP packet in
//! it (over IP protocol 132, or over UDP per RFC 6951), chunk by chunk, as text
//! or as one JSON object per packet.
//!
//! It never panics on any file: the capture reader, the decapsulation and the
//! SCTP codec all report malformed input as errors, which are printed in
//! place of the packet's chunks.

mod describe;

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use bytes::Bytes;
use msctp_wire::capture::{self, Decap, Encapsulation, Frame};
use serde_json::{Value, json};

/// Arguments of `msctp decode`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The capture file (pcap or pcapng; Ethernet, Linux cooked v1/v2, raw IP
    /// or BSD loopback link types).
    file: PathBuf,
    /// Print one JSON object per SCTP packet instead of text.
    #[arg(long)]
    json: bool,
    /// UDP port that carries SCTP over UDP (RFC 6951), as source or destination.
    #[arg(long, default_value_t = capture::SCTP_UDP_PORT, value_name = "PORT")]
    udp_port: u16,
}

#[derive(Default)]
struct Totals {
    frames: u64,
    sctp: u64,
    malformed_sctp: u64,
    bad_crc: u64,
    fragments: u64,
    undecodable: u64,
}

/// Runs the command; exit status 0 on success, 1 if the file cannot be read
/// or is cut short.
pub fn run(args: &Args) -> ExitCode {
    let data = match std::fs::read(&args.file) {
        Ok(d) => Bytes::from(d),
        Err(e) => {
            eprintln!("msctp decode: cannot read {}: {e}", args.file.display());
            return ExitCode::FAILURE;
        }
    };
    let reader = match capture::read(data) {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "msctp decode: {} is not a capture file this command can read: {e}",
                args.file.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut totals = Totals::default();
    let mut first_time = None;
    let mut status = ExitCode::SUCCESS;
    for frame in reader {
        let frame = match frame {
            Ok(f) => f,
            Err(e) => {
                let _ = out.flush();
                eprintln!(
                    "msctp decode: {}: stopped after {} frames: {e}",
                    args.file.display(),
                    totals.frames
                );
                status = ExitCode::FAILURE;
                break;
            }
        };
        totals.frames += 1;
        let start = *first_time.get_or_insert(frame.timestamp);
        let result = match capture::sctp_in_link_with_udp_port(
            frame.link_type,
            frame.data.clone(),
            args.udp_port,
        ) {
            Decap::Sctp(d) => {
                totals.sctp += 1;
                let packet = describe::packet(&d.sctp);
                if packet.get("error").is_some() {
                    totals.malformed_sctp += 1;
                }
                if packet.get("crc_ok") == Some(&Value::Bool(false)) {
                    totals.bad_crc += 1;
                }
                let json = packet_json(&frame, &d, packet);
                if args.json {
                    writeln!(out, "{json}")
                } else {
                    let rel = frame.timestamp.saturating_sub(start);
                    describe::write_human(&mut out, &json, rel.as_secs_f64())
                }
            }
            Decap::Fragment => {
                totals.fragments += 1;
                Ok(())
            }
            Decap::NotSctp => Ok(()),
            Decap::Malformed(_) | Decap::UnsupportedLinkType(_) => {
                totals.undecodable += 1;
                Ok(())
            }
        };
        if let Err(e) = result {
            // A closed pipe (`msctp decode f | head`) is not an error.
            if e.kind() == io::ErrorKind::BrokenPipe {
                return status;
            }
            eprintln!("msctp decode: cannot write output: {e}");
            return ExitCode::FAILURE;
        }
    }
    if !args.json {
        let _ = writeln!(
            out,
            "{} frames, {} SCTP packets ({} malformed, {} with a bad checksum), \
             {} IP fragments not reassembled, {} frames not decodable",
            totals.frames,
            totals.sctp,
            totals.malformed_sctp,
            totals.bad_crc,
            totals.fragments,
            totals.undecodable
        );
    }
    let _ = out.flush();
    status
}

/// The JSON object of one packet: frame and address fields first, then what
/// [`describe::packet`] found in the SCTP bytes.
fn packet_json(frame: &Frame, d: &capture::SctpDatagram, sctp: Value) -> Value {
    let mut obj = serde_json::Map::new();
    obj.insert("n".into(), json!(frame.number));
    let t = frame.timestamp;
    // Microsecond precision, as pcap records it and tshark prints it.
    let time = t.as_secs() as f64 + f64::from(t.subsec_micros()) / 1e6;
    obj.insert("time".into(), json!(time));
    obj.insert("src".into(), json!(d.src.to_string()));
    obj.insert("dst".into(), json!(d.dst.to_string()));
    match d.encapsulation {
        Encapsulation::Ip => {
            obj.insert("encap".into(), json!("ip"));
        }
        Encapsulation::Udp { src_port, dst_port } => {
            obj.insert("encap".into(), json!("udp"));
            obj.insert("udp_sport".into(), json!(src_port));
            obj.insert("udp_dport".into(), json!(dst_port));
        }
    }
    if let Value::Object(m) = sctp {
        obj.extend(m);
    }
    Value::Object(obj)
}
