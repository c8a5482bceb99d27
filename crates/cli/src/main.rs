//! The `msctp` command: the user-facing front of the msctp stack.
//!
//! Subcommands follow the contract in DESIGN.md. `decode`, `demo`, `server`
//! and `client` are implemented; `lab` and `bench` are not written yet and
//! say so with a non-zero exit status instead of pretending to work.

mod client;
mod decode;
mod demo;
mod net_args;
mod server;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// msctp: a userspace, multi-homed SCTP stack.
#[derive(Debug, Parser)]
#[command(name = "msctp", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode the SCTP packets of a pcap or pcapng file, chunk by chunk.
    Decode(decode::Args),
    /// Run the reference text's multi-homing experiments (normal operation,
    /// primary path switching) on the simulator: no root, no network.
    Demo(demo::Args),
    /// Set up and run the two-link namespace lab (not yet implemented).
    Lab {
        /// Any arguments; the command is not implemented yet.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        rest: Vec<String>,
    },
    /// Serve SCTP over raw IP or UDP on several addresses (multi-homed):
    /// echo, discard or daytime, any number of associations, until SIGINT or
    /// SIGTERM; prints association and path events.
    Server(server::Args),
    /// Connect to a server over several addresses (multi-homed), send
    /// messages and verify their echoes; prints path events and a summary.
    Client(client::Args),
    /// Measure bulk transfer against `msctp server --mode discard` (not yet implemented).
    Bench {
        /// Any arguments; the command is not implemented yet.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        rest: Vec<String>,
    },
}

fn not_yet(name: &str, what: &str) -> ExitCode {
    eprintln!(
        "msctp {name}: not yet implemented. It will {what}; see the project's open issues. \
         What works today: `msctp demo`, `msctp server`, `msctp client`, `msctp decode`."
    );
    ExitCode::from(3)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Decode(args) => decode::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Lab { .. } => not_yet(
            "lab",
            "build the two-link namespace lab and run the iptables failover experiment",
        ),
        Command::Server(args) => server::run(&args),
        Command::Client(args) => client::run(&args),
        Command::Bench { .. } => not_yet("bench", "measure bulk goodput"),
    }
}
