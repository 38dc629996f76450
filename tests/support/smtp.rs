//! A real SMTP server for tests: aiosmtpd, run as a child process on a loopback port, storing
//! what it receives in a Maildir.
//!
//! ```ignore
//! #[path = "../support/smtp.rs"] // or "support/smtp.rs" from a test at the top of tests/
//! mod smtp;
//!
//! let server = smtp::SmtpServer::start().await;       // panics with a how-to if tools are missing
//! let config = server.smtp_config();                    // host 127.0.0.1, its port, no TLS
//! // ... make the app send mail ...
//! let mails = server.wait_for_mail(1).await;           // bounded wait, then panics
//! assert_eq!(mails[0].to, "ann@example.com");
//! assert!(mails[0].text.contains("/verify?code="));
//! ```
//!
//! - [`SmtpServer::start`] needs `SHOWRUNNER_TEST_VENV` to name a virtualenv with aiosmtpd
//!   (`scripts/provision-test-tools` makes `.venv`). Unset, the test fails: a mail test that
//!   silently passes without a server would prove nothing.
//! - [`ReceivedMail`] is the message as Python's `email` package parses it (headers decoded,
//!   body transfer-decoded), so tests compare plain strings.
//! - Dropping the [`SmtpServer`] kills the child and removes its Maildir.
#![allow(dead_code)] // each test binary uses its own part of this module

use std::{
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use showrunner::config::{SmtpConfig, SmtpSecurity};

/// How long aiosmtpd may take to start listening (Python start-up on a busy 2-core machine).
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long [`SmtpServer::wait_for_mail`] waits for the expected mails.
const MAIL_TIMEOUT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(50);

/// One delivered message, decoded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ReceivedMail {
    /// The envelope recipients (`RCPT TO`), comma-separated, as aiosmtpd recorded them.
    pub envelope_to: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    /// The plain-text body, decoded, with line breaks as `\n` (SMTP carries them as CRLF).
    pub text: String,
    /// The raw message as stored, for assertions on headers.
    pub raw: String,
}

/// A running aiosmtpd; killed on drop.
pub struct SmtpServer {
    child: Child,
    addr: SocketAddr,
    python: PathBuf,
    /// Holds the Maildir (and the server's log); removed on drop.
    workdir: tempfile::TempDir,
}

impl SmtpServer {
    /// Starts aiosmtpd on a free loopback port and returns once it accepts connections.
    ///
    /// Panics, saying what to do, if the virtualenv is missing or the server does not come up.
    pub async fn start() -> SmtpServer {
        let python = venv_python();
        // The port is found by binding port 0 and letting go of it, so another process can take
        // it in between; a server that dies at once is retried on a new port.
        let mut last_log = String::new();
        for _ in 0..3 {
            let workdir = tempfile::tempdir().expect("create a temporary directory");
            let addr = free_loopback_addr();
            let child = spawn_aiosmtpd(&python, addr, workdir.path());
            let mut server = SmtpServer {
                child,
                addr,
                python: python.clone(),
                workdir,
            };
            match server.wait_until_listening().await {
                Ok(()) => return server,
                Err(log) => last_log = log,
            }
        }
        panic!("aiosmtpd did not start listening; its output:\n{last_log}");
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Settings that send to this server: plain SMTP on loopback, no credentials.
    pub fn smtp_config(&self) -> SmtpConfig {
        SmtpConfig {
            host: self.addr.ip().to_string(),
            port: self.addr.port(),
            username: String::new(),
            password: String::new(),
            security: SmtpSecurity::None,
        }
    }

    /// The Maildir messages are delivered to.
    pub fn maildir(&self) -> PathBuf {
        self.workdir.path().join("maildir")
    }

    /// Everything delivered so far, oldest first.
    pub async fn received(&self) -> Vec<ReceivedMail> {
        let mut files: Vec<(std::time::SystemTime, PathBuf)> =
            match std::fs::read_dir(self.maildir().join("new")) {
                Ok(entries) => entries
                    .map(|entry| {
                        let path = entry.expect("read the Maildir").path();
                        let modified = std::fs::metadata(&path)
                            .and_then(|m| m.modified())
                            .expect("stat a mail");
                        (modified, path)
                    })
                    .collect(),
                // Created by aiosmtpd on its first delivery.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(e) => panic!("read the Maildir: {e}"),
            };
        files.sort();
        let mut mails = Vec::with_capacity(files.len());
        for (_, path) in files {
            mails.push(self.parse(&path).await);
        }
        mails
    }

    /// Waits until at least `count` mails have arrived and returns them all, oldest first.
    /// Panics after a bounded wait, listing what did arrive.
    pub async fn wait_for_mail(&self, count: usize) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + MAIL_TIMEOUT;
        loop {
            let mails = self.received().await;
            if mails.len() >= count {
                return mails;
            }
            if Instant::now() > deadline {
                panic!(
                    "expected {count} mail(s) within {MAIL_TIMEOUT:?}, got {}: {mails:#?}",
                    mails.len()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Asks Python's own mail parser, so the test checks what a real mail client would show.
    async fn parse(&self, path: &Path) -> ReceivedMail {
        const PARSE: &str = r#"
import email, email.policy, json, sys
raw = open(sys.argv[1], "rb").read()
m = email.message_from_bytes(raw, policy=email.policy.default)
body = m.get_body(preferencelist=("plain",))
print(json.dumps({
    "envelope_to": str(m.get("X-RcptTo", "")),
    "from": str(m.get("From", "")),
    "to": str(m.get("To", "")),
    "subject": str(m.get("Subject", "")),
    "text": body.get_content().replace("\r\n", "\n") if body is not None else "",
    "raw": raw.decode("utf-8", "replace"),
}))
"#;
        let output = tokio::process::Command::new(&self.python)
            .arg("-c")
            .arg(PARSE)
            .arg(path)
            .output()
            .await
            .expect("run Python to parse a mail");
        assert!(
            output.status.success(),
            "parsing {} failed: {}",
            path.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("parse the mail parser's JSON")
    }

    /// `Err` carries the server's output when it exited or never listened.
    async fn wait_until_listening(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if tokio::net::TcpStream::connect(self.addr).await.is_ok() {
                return Ok(());
            }
            let exited = self.child.try_wait().expect("poll aiosmtpd").is_some();
            if exited || Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Err(
                    std::fs::read_to_string(self.workdir.path().join("aiosmtpd.log"))
                        .unwrap_or_default(),
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn venv_python() -> PathBuf {
    let Some(venv) = std::env::var_os("SHOWRUNNER_TEST_VENV") else {
        panic!(
            "SHOWRUNNER_TEST_VENV is not set. This test sends mail to a real SMTP server (aiosmtpd) \
             from a Python virtualenv. Run the test command from the README, or:\n\
             \n    scripts/provision-test-tools && SHOWRUNNER_TEST_VENV=$PWD/.venv cargo test\n"
        );
    };
    let python = PathBuf::from(venv).join("bin/python");
    assert!(
        python.exists(),
        "{} does not exist: SHOWRUNNER_TEST_VENV must name a virtualenv made by scripts/provision-test-tools",
        python.display()
    );
    python
}

fn free_loopback_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("find a free loopback port")
}

fn spawn_aiosmtpd(python: &Path, addr: SocketAddr, workdir: &Path) -> Child {
    let log = std::fs::File::create(workdir.join("aiosmtpd.log")).expect("create the server log");
    Command::new(python)
        // -n: do not try to switch to user `nobody`. Mailbox stores each message in the Maildir.
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(addr.to_string())
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(workdir.join("maildir"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("share the server log"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("start {} -m aiosmtpd: {e}", python.display()))
}
