//! moto, the AWS emulator, for tests: one server per test process, shared by its tests.
//!
//! ```ignore
//! #[path = "../support/moto.rs"]
//! mod moto;
//!
//! let moto = moto::Moto::shared();                 // panics with a how-to if moto is missing
//! let sdk = moto.sdk_config().await;               // static test credentials, its endpoint
//! let store = DynamoStore::new(&sdk, moto::table_name());
//! ```
//!
//! - `SHOWRUNNER_TEST_MOTO_URL`, if set, names a moto server to use instead of starting one
//!   (e.g. `http://127.0.0.1:5000`). Tests use a table of their own, so they can share it.
//! - Otherwise the server is started from the virtualenv in `SHOWRUNNER_TEST_VENV`
//!   (`scripts/provision-test-tools` installs `moto[server]` into `.venv`). With neither set,
//!   the test fails: a store test that silently passes without a store would prove nothing.
//! - The server is `scripts/moto_server.py`: moto's own WSGI application (what
//!   `bin/moto_server` runs) served **one request at a time**, because moto's
//!   `TransactWriteItems` is not atomic when requests run in threads (the script says more).
//!   A server given in `SHOWRUNNER_TEST_MOTO_URL` should be that script too (`scripts/test`
//!   starts it): a plain `moto_server` can fail the contract's concurrency checks.
//! - The server exits when the test process does, however it ends: it waits on a pipe from
//!   this process and exits when the pipe closes. It binds port 0, so there is no port race.
#![allow(dead_code)] // each test binary uses its own part of this module

use std::{
    fs::File,
    io::{BufRead, BufReader, Read, Seek},
    path::PathBuf,
    process::{Child, ChildStdin, Command, Stdio},
    sync::OnceLock,
};

/// Serves moto one request at a time on a free loopback port, prints the port, and exits when
/// its stdin closes (the script says why one at a time).
const SERVER_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/moto_server.py");

/// Region and credentials moto accepts (it checks neither).
pub const REGION: &str = "us-east-1";
pub const ACCESS_KEY: &str = "testing";
pub const SECRET_KEY: &str = "testing";

pub struct Moto {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// The server we started, and the pipe whose closing stops it; never written.
    _server: Option<(Child, ChildStdin)>,
}

static SHARED: OnceLock<Moto> = OnceLock::new();

impl Moto {
    /// The server of this test process, started on first use.
    pub fn shared() -> &'static Moto {
        SHARED.get_or_init(Moto::start)
    }

    fn start() -> Moto {
        if let Some(url) = std::env::var("SHOWRUNNER_TEST_MOTO_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            return Moto {
                endpoint: url.trim_end_matches('/').to_owned(),
                _server: None,
            };
        }
        let venv = std::env::var_os("SHOWRUNNER_TEST_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                panic!(
                    "the DynamoDB tests need moto: set SHOWRUNNER_TEST_VENV to a virtualenv with \
                 moto[server] (run scripts/provision-test-tools, then \
                 SHOWRUNNER_TEST_VENV=$PWD/.venv), or SHOWRUNNER_TEST_MOTO_URL to a running \
                 moto server"
                )
            });
        assert!(
            venv.join("bin/moto_server").exists(),
            "{} has no bin/moto_server: run scripts/provision-test-tools",
            venv.display()
        );
        // Where the server's errors go: an unlinked file, gone when both ends close.
        let mut log = tempfile::tempfile().expect("a temporary file for moto's log");
        let mut child = Command::new(venv.join("bin/python"))
            .arg(SERVER_SCRIPT)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log.try_clone().expect("a handle on moto's log"))
            .spawn()
            .unwrap_or_else(|e| panic!("starting moto from {}: {e}", venv.display()));
        let mut first_line = String::new();
        let stdout = child.stdout.take().expect("moto's stdout");
        let read = BufReader::new(stdout).read_line(&mut first_line);
        let Some(port) = read
            .ok()
            .and_then(|_| first_line.trim().parse::<u16>().ok())
        else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("moto did not start; its output:\n{}", read_log(&mut log));
        };
        let stdin = child.stdin.take().expect("moto's stdin");
        Moto {
            endpoint: format!("http://127.0.0.1:{port}"),
            _server: Some((child, stdin)),
        }
    }

    /// An SDK configuration that talks to this server.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .credentials_provider(aws_credential_types::Credentials::new(
                ACCESS_KEY, SECRET_KEY, None, None, "moto",
            ))
            .endpoint_url(&self.endpoint)
            .load()
            .await
    }

    /// The environment that points the AWS SDK of a child process at this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ]
    }
}

/// A table name no other test uses.
pub fn table_name() -> String {
    format!("showrunner-test-{}", uuid::Uuid::now_v7().simple())
}

fn read_log(log: &mut File) -> String {
    let mut text = String::new();
    let _ = log.rewind();
    let _ = log.read_to_string(&mut text);
    text
}
