//! One network namespace, removed when its guard drops.

use std::fs::File;
use std::marker::PhantomData;
use std::os::fd::AsFd;
use std::process::{Command, Output};
use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};

use super::{require_root, require_tool, run};

/// Prefix of every namespace this harness creates.
const PREFIX: &str = "msctp-t";

/// A unique name stem for this process: `msctp-t<pid>-<n>`.
pub(crate) fn unique_stem() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{PREFIX}{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Removes namespaces named `msctp-t<pid>-…` whose process no longer runs
/// (left behind by a test process killed with SIGKILL). Once per process.
fn remove_stale() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Ok(entries) = std::fs::read_dir("/run/netns") else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(rest) = name.strip_prefix(PREFIX) else {
                continue;
            };
            let pid: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if pid.is_empty() || !rest[pid.len()..].starts_with('-') {
                continue;
            }
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = Command::new("ip").args(["netns", "del", &name]).output();
            }
        }
    });
}

/// A network namespace created for a test, deleted (with its interfaces,
/// addresses, routes and iptables rules) when dropped, also during a panic.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates the namespace `name` with its loopback up and IPv6 duplicate
    /// address detection off (addresses are usable at once). Needs root.
    /// The name should start with a stem from the harness (see [`super::Lab`])
    /// so that it is unique and recognised as the harness's.
    pub fn create(name: impl Into<String>) -> Netns {
        let name = name.into();
        require_root("creating a network namespace");
        require_tool("ip", "iproute2");
        remove_stale();
        run(Command::new("ip").args(["netns", "add", &name]));
        // From here on the guard removes it, whatever happens.
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns.sysctl("net/ipv6/conf/all/accept_dad", "0");
        ns.sysctl("net/ipv6/conf/default/accept_dad", "0");
        ns
    }

    /// Creates a namespace with a fresh unique name ending in `suffix`.
    pub fn create_unique(suffix: &str) -> Netns {
        Netns::create(format!("{}-{suffix}", unique_stem()))
    }

    /// The namespace's name (as `ip netns` knows it).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `ip -n <name> <args>`; panics if it fails.
    pub fn ip(&self, args: &[&str]) {
        run(Command::new("ip").args(["-n", &self.name]).args(args));
    }

    /// Runs `program args` inside the namespace (`ip netns exec`) and returns
    /// its output, whatever its exit status.
    pub fn exec(&self, program: &str, args: &[&str]) -> Output {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.name, program])
            .args(args);
        command
            .output()
            .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
    }

    /// Runs `program args` inside the namespace; panics if it fails. Returns
    /// its standard output.
    pub fn exec_ok(&self, program: &str, args: &[&str]) -> String {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.name, program])
            .args(args);
        String::from_utf8_lossy(&run(&mut command).stdout).into_owned()
    }

    /// Writes a sysctl of the namespace (`key` as a path under
    /// `/proc/sys`, e.g. `net/ipv4/ip_forward`).
    pub fn sysctl(&self, key: &str, value: &str) {
        let _inside = self.enter();
        let path = format!("/proc/sys/{key}");
        std::fs::write(&path, value)
            .unwrap_or_else(|e| panic!("writing {value} to {path} in {}: {e}", self.name));
    }

    /// Moves the calling thread into the namespace until the guard drops.
    /// Sockets the thread creates meanwhile belong to the namespace and keep
    /// it after the guard has dropped.
    ///
    /// Do not hold the guard across an `.await` that may let other tasks of
    /// this thread run: they would create their sockets here too. (Binding a
    /// [`crate::transport::Transport`] does not yield.)
    pub fn enter(&self) -> Entered<'_> {
        let home = File::open("/proc/thread-self/ns/net")
            .unwrap_or_else(|e| panic!("opening this thread's network namespace: {e}"));
        let target = File::open(format!("/run/netns/{}", self.name))
            .unwrap_or_else(|e| panic!("opening namespace {}: {e}", self.name));
        crate::sys::setns_net(target.as_fd())
            .unwrap_or_else(|e| panic!("entering namespace {}: {e}", self.name));
        Entered {
            home,
            _ns: PhantomData,
            _not_send: PhantomData,
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        match Command::new("ip")
            .args(["netns", "del", &self.name])
            .output()
        {
            Ok(o) if o.status.success() => {}
            Ok(o) => eprintln!(
                "warning: `ip netns del {}` failed: {}",
                self.name,
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => eprintln!("warning: cannot run `ip netns del {}`: {e}", self.name),
        }
    }
}

/// The calling thread is inside a [`Netns`] until this guard drops; it then
/// returns to the namespace it came from. Not `Send`: it belongs to the
/// thread that entered.
#[derive(Debug)]
pub struct Entered<'a> {
    home: File,
    _ns: PhantomData<&'a Netns>,
    _not_send: PhantomData<*const ()>,
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        if let Err(e) = crate::sys::setns_net(self.home.as_fd()) {
            // A thread stuck in a test namespace would run later tests
            // there: stop at once instead.
            eprintln!("fatal: cannot return to the original network namespace: {e}");
            std::process::abort();
        }
    }
}
