//! The raw-socket floor: what the kernel alone costs to deliver one `bytes`-byte frame to each
//! of `conns` loopback TCP sockets, with a reader draining them.
//!
//! The writer is a child process (this binary, `baseline-writer`), so writer and reader each
//! have their own open-file limit, as server and client do. The writer accepts `conns`
//! connections, then per round writes the frame to every socket with plain blocking `write`s
//! from `threads` threads; the reader (this process) waits on every socket with tokio, like a
//! load client, and notes when each one's frame arrived. Both read `CLOCK_MONOTONIC`, so the
//! writer's start time and the reader's arrival times compare directly.
//!
//! The floor is the median over rounds of the time from the first write to the last arrival:
//! one message to every socket. Measured twice: on both cores (two writer threads, two reader
//! threads) and pinned to one core (one of each), as the anchors are.

use std::{
    io::{BufRead, BufReader, Write},
    net::{TcpListener, TcpStream},
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use anyhow::{Context, bail};
use serde_json::json;

use crate::report::{Latency, Report, r2};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Sockets to write to.
    #[arg(long, default_value_t = 10_000)]
    pub conns: usize,
    /// Bytes written to each socket per round.
    #[arg(long, default_value_t = 200)]
    pub bytes: usize,
    /// Rounds per variant; the floor is their median.
    #[arg(long, default_value_t = 20)]
    pub rounds: usize,
}

/// CLOCK_MONOTONIC in nanoseconds: the same clock in every process.
pub fn mono_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the struct we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Restricts the calling thread (and threads it starts later) to CPU `cpu`.
pub fn pin_to(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is an empty set; sched_setaffinity reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

pub fn run(args: &Args) -> anyhow::Result<(Report, f64)> {
    let mut report = Report::new(
        "baseline",
        serde_json::to_value(json!({
            "conns": args.conns, "bytes": args.bytes, "rounds": args.rounds,
        }))?,
    );
    let two = variant(args, false)?;
    let one = variant(args, true)?;
    let floor = two.floor_ms;
    for (key, v, label) in [
        ("two_cores", &two, "both cores"),
        ("one_core", &one, "one core"),
    ] {
        report.set(
            key,
            json!({
                "floor_ms": r2(v.floor_ms),
                "round_ms": v.rounds_ms.iter().map(|&x| r2(x)).collect::<Vec<_>>(),
                "write_ms_median": r2(v.write_ms),
                "per_socket_latency_ms": v.latency,
                "per_write_us": r2(v.write_ms * 1000.0 / args.conns as f64),
            }),
        );
        report.line(format!(
            "{label}: one {}-byte frame to {} sockets takes {:.1} ms until the last arrives (median of {} rounds; writes alone {:.1} ms = {:.2} µs each); per socket p50 {:.1} / p99 {:.1} ms",
            args.bytes, args.conns, v.floor_ms, args.rounds, v.write_ms,
            v.write_ms * 1000.0 / args.conns as f64, v.latency.p50, v.latency.p99
        ));
    }
    report.set("floor_ms", r2(floor));
    report.check(
        "every frame arrived",
        two.complete && one.complete,
        "every socket got every round's bytes",
    );
    Ok((report, floor))
}

struct Variant {
    floor_ms: f64,
    rounds_ms: Vec<f64>,
    write_ms: f64,
    latency: Latency,
    complete: bool,
}

fn variant(args: &Args, one_core: bool) -> anyhow::Result<Variant> {
    let args = args.clone();
    // A thread of its own, so pinning stays with this variant's threads.
    std::thread::spawn(move || {
        if one_core {
            pin_to(0);
        }
        measure(&args, one_core)
    })
    .join()
    .map_err(|_| anyhow::anyhow!("baseline thread panicked"))?
}

fn measure(args: &Args, one_core: bool) -> anyhow::Result<Variant> {
    let threads = if one_core { 1 } else { 2 };
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .arg("baseline-writer")
        .arg(args.conns.to_string())
        .arg(args.bytes.to_string())
        .arg(threads.to_string())
        .arg(if one_core { "pin" } else { "free" })
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut to_child = child.stdin.take().context("writer stdin")?;
    let mut from_child = BufReader::new(child.stdout.take().context("writer stdout")?);
    let mut line = String::new();
    from_child.read_line(&mut line)?;
    let port: u16 = line
        .trim()
        .strip_prefix("port ")
        .context("writer did not report its port")?
        .parse()?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?;
    let n = args.conns;
    let rounds = args.rounds;
    let arrivals: Arc<Vec<AtomicU64>> =
        Arc::new((0..n * rounds).map(|_| AtomicU64::new(0)).collect());
    let done: Arc<Vec<AtomicUsize>> = Arc::new((0..rounds).map(|_| AtomicUsize::new(0)).collect());
    let mut sockets = Vec::with_capacity(n);
    for _ in 0..n {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_nodelay(true)?;
        s.set_nonblocking(true)?;
        sockets.push(s);
    }
    line.clear();
    from_child.read_line(&mut line)?;
    if line.trim() != "accepted" {
        bail!("writer: {line}");
    }
    let bytes = args.bytes;
    rt.block_on(async {
        for (i, s) in sockets.into_iter().enumerate() {
            let arrivals = arrivals.clone();
            let done = done.clone();
            let stream = tokio::net::TcpStream::from_std(s)?;
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut got = 0usize;
                let mut round = 0usize;
                // Runs until the writer closes: a task ending (and its socket closing) inside
                // the last round would be measured as part of it.
                loop {
                    if stream.readable().await.is_err() {
                        return;
                    }
                    match stream.try_read(&mut buf) {
                        Ok(0) => return,
                        Ok(k) => {
                            got += k;
                            while got >= bytes && round < rounds {
                                got -= bytes;
                                arrivals[round * n + i].store(mono_ns(), Ordering::Relaxed);
                                done[round].fetch_add(1, Ordering::Release);
                                round += 1;
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(_) => return,
                    }
                }
            });
        }
        Ok::<_, anyhow::Error>(())
    })?;

    let mut rounds_ms = Vec::new();
    let mut writes_ms = Vec::new();
    let mut lat_us = Vec::with_capacity(n * rounds);
    let mut complete = true;
    for r in 0..rounds {
        std::thread::sleep(Duration::from_millis(30));
        writeln!(to_child, "go")?;
        to_child.flush()?;
        line.clear();
        from_child.read_line(&mut line)?;
        let mut parts = line.split_whitespace().skip(1).map(|x| x.parse::<u64>());
        let (Some(Ok(t0)), Some(Ok(t1))) = (parts.next(), parts.next()) else {
            bail!("writer: {line}");
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while done[r].load(Ordering::Acquire) < n {
            if std::time::Instant::now() > deadline {
                complete = false;
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        let mut last = t0;
        for i in 0..n {
            let at = arrivals[r * n + i].load(Ordering::Relaxed);
            if at > 0 {
                last = last.max(at);
                lat_us.push((at.saturating_sub(t0) / 1000) as u32);
            }
        }
        rounds_ms.push((last - t0) as f64 / 1e6);
        writes_ms.push((t1 - t0) as f64 / 1e6);
    }
    drop(to_child);
    let _ = child.wait();
    rt.shutdown_timeout(Duration::from_secs(1));
    let median = |v: &[f64]| {
        let mut s = v.to_vec();
        s.sort_by(|a, b| a.total_cmp(b));
        s.get(s.len() / 2).copied().unwrap_or(0.0)
    };
    Ok(Variant {
        floor_ms: median(&rounds_ms),
        write_ms: median(&writes_ms),
        latency: Latency::from_us(&mut lat_us),
        rounds_ms,
        complete,
    })
}

/// The writer child: `baseline-writer CONNS BYTES THREADS pin|free`. Prints `port P`, then
/// `accepted`; per `go` line on stdin writes one round and prints `wrote T0 T1`.
pub fn writer_main(conns: usize, bytes: usize, threads: usize, pin: bool) -> anyhow::Result<()> {
    crate::server::raise_nofile_limit();
    if pin {
        pin_to(0);
    }
    let listener = TcpListener::bind("127.0.0.1:0")?;
    println!("port {}", listener.local_addr()?.port());
    std::io::stdout().flush()?;
    let mut sockets = Vec::with_capacity(conns);
    for _ in 0..conns {
        let (s, _) = listener.accept()?;
        s.set_nodelay(true)?;
        sockets.push(s);
    }
    println!("accepted");
    std::io::stdout().flush()?;
    let frame = vec![b'x'; bytes];
    let chunk = conns.div_ceil(threads.max(1));
    let mut groups: Vec<Vec<TcpStream>> = Vec::new();
    while !sockets.is_empty() {
        let rest = sockets.split_off(chunk.min(sockets.len()));
        groups.push(std::mem::replace(&mut sockets, rest));
    }
    let stdin = std::io::stdin();
    let mut line = String::new();
    loop {
        line.clear();
        if stdin.lock().read_line(&mut line)? == 0 {
            return Ok(());
        }
        let t0 = mono_ns();
        std::thread::scope(|scope| {
            for group in groups.iter_mut() {
                let frame = &frame;
                scope.spawn(move || {
                    for s in group.iter_mut() {
                        let _ = s.write_all(frame);
                    }
                });
            }
        });
        let t1 = mono_ns();
        println!("wrote {t0} {t1}");
        std::io::stdout().flush()?;
    }
}
