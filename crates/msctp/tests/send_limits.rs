//! Send limits of the socket API between two network namespaces: a message
//! larger than the whole send buffer (`Config::send_buffer`) but within
//! `max_message_size` fails at once on both the one-to-one and the
//! one-to-many socket, instead of waiting for room it can never get; the
//! association stays usable. Needs root (CI is root); fails, never skips,
//! without it.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use msctp::testing::addr::*;
use msctp::testing::{Lab, require_root};
use msctp::transport::TransportKind;
use msctp::{Config, Options, SctpListener, SctpSocket, SctpStream, SendInfo};
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(20);
const SEND_BUFFER: usize = 64 * 1024;

fn opts() -> Options {
    Options {
        transport: TransportKind::Raw,
        config: Config {
            send_buffer: SEND_BUFFER,
            max_message_size: 16 << 20,
            ..Config::default()
        },
        ..Options::default()
    }
}

/// Asserts that `send` failed at once with the send buffer error.
fn assert_too_big_for_buffer(r: Result<io::Result<()>, tokio::time::error::Elapsed>, len: usize) {
    let e = r
        .expect("send of a message larger than the send buffer waited instead of failing")
        .expect_err("a message larger than the send buffer was accepted");
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{e}");
    let text = e.to_string();
    assert!(text.contains(&len.to_string()), "{text}");
    assert!(text.contains(&SEND_BUFFER.to_string()), "{text}");
    assert!(text.contains("send_buffer"), "{text}");
}

/// A message above `Config::send_buffer` and below `max_message_size`: the
/// one-to-one `SctpStream::send` and the one-to-many `SctpSocket::send`
/// return `InvalidInput` naming both sizes and the knob, at once (a send that
/// waited would time out here); a message that fits still goes through.
#[tokio::test(flavor = "current_thread")]
async fn send_larger_than_send_buffer_fails_at_once() {
    require_root("the send limit tests create network namespaces and raw sockets");
    let lab = Lab::new();
    let listener = {
        let _inside = lab.beta.enter();
        SctpListener::bind(&[BETA1_V4], 5001, opts())
            .await
            .expect("bind listener")
    };
    let client = {
        let _inside = lab.alpha.enter();
        timeout(
            WAIT,
            SctpStream::connect(&[ALPHA1_V4], &[BETA1_V4], 5001, opts()),
        )
        .await
        .expect("connect timed out")
        .expect("connect")
    };
    let server = timeout(WAIT, listener.accept())
        .await
        .expect("accept timed out")
        .expect("accept");

    let len = SEND_BUFFER + 1;
    let big = Bytes::from(vec![7u8; len]);
    assert_too_big_for_buffer(
        timeout(WAIT, client.send(big.clone(), SendInfo::default())).await,
        len,
    );
    // The association is unharmed: a message that fits goes through.
    timeout(
        WAIT,
        client.send(Bytes::from_static(b"fits"), SendInfo::default()),
    )
    .await
    .expect("send timed out")
    .expect("send");
    let (data, _) = timeout(WAIT, server.recv())
        .await
        .expect("recv timed out")
        .expect("recv")
        .expect("message");
    assert_eq!(&data[..], b"fits");

    // The one-to-many socket's send path.
    let many = {
        let _inside = lab.beta.enter();
        SctpSocket::bind(&[BETA2_V4], 5002, opts())
            .await
            .expect("bind one-to-many socket")
    };
    let peer = {
        let _inside = lab.alpha.enter();
        SctpSocket::bind(&[ALPHA2_V4], 5004, opts())
            .await
            .expect("bind peer socket")
    };
    let assoc = timeout(WAIT, many.connect(&[ALPHA2_V4], 5004))
        .await
        .expect("connect timed out")
        .expect("connect");
    assert_too_big_for_buffer(
        timeout(WAIT, many.send(assoc, big, SendInfo::default())).await,
        len,
    );
    timeout(
        WAIT,
        many.send(assoc, Bytes::from_static(b"fits too"), SendInfo::default()),
    )
    .await
    .expect("send timed out")
    .expect("send");
    let (data, _) = timeout(WAIT, peer.recv())
        .await
        .expect("recv timed out")
        .expect("recv");
    assert_eq!(&data[..], b"fits too");
}
