//! `-o kafka://`: records produced to a real Kafka-protocol broker
//! (tansu, in-memory storage) started on loopback by each test, read back
//! with librdkafka's consumer. Every record arrives exactly once, on the
//! partition its key chooses (murmur2, as the Java client), each flow's
//! records in order; a broker cut off mid-run loses nothing in a replay;
//! brokers that never answer are an error before anything is read.

use crate::{bin, corpus, send_signal, tmpdir, write_udp_capture};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The `tansu` binary: on PATH, or where `cargo install` puts it.
fn tansu(what: &str) -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(home.map(|h| h.join("bin")));
    for dir in candidates {
        let t = dir.join("tansu");
        if t.is_file() {
            return Some(t);
        }
    }
    assert!(
        std::env::var_os("FLOWSCOPE_REQUIRE_PEERS").is_none(),
        "tansu is required (FLOWSCOPE_REQUIRE_PEERS is set) but not installed: cargo install tansu --locked --features dynostore"
    );
    eprintln!(
        "\n*** SKIPPED: tansu (a Kafka-protocol broker) not installed; {what} did NOT run. ***\n"
    );
    None
}

/// A port nothing listens on (bound, then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A tansu broker with in-memory storage, killed when dropped.
struct Broker {
    child: Child,
    /// Where it listens.
    port: u16,
}

impl Broker {
    /// Starts one listening on a free port and advertising `advertised`
    /// (its own port unless a proxy stands in front); waits until it
    /// answers.
    fn start(tansu: &Path, advertised: Option<u16>) -> Broker {
        let port = free_port();
        let advertised = advertised.unwrap_or(port);
        let child = Command::new(tansu)
            .args(["broker", "--storage-engine", "memory://tansu/"])
            .arg("--listener-url")
            .arg(format!("tcp://127.0.0.1:{port}"))
            .arg("--advertised-listener-url")
            .arg(format!("tcp://127.0.0.1:{advertised}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tansu starts");
        let broker = Broker { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "tansu did not listen in 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        broker
    }

    /// Creates `topic` with `partitions` partitions.
    fn create_topic(&self, topic: &str, partitions: i32) {
        use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
        let admin: AdminClient<_> = ClientConfig::new()
            .set("bootstrap.servers", format!("127.0.0.1:{}", self.port))
            .create()
            .unwrap();
        let topics = [NewTopic::new(topic, partitions, TopicReplication::Fixed(1))];
        let done = futures_lite(admin.create_topics(&topics, &AdminOptions::new()));
        for r in done.expect("create_topics") {
            r.unwrap_or_else(|(t, e)| panic!("creating {t}: {e}"));
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a future to its end on this thread (the admin client's calls are
/// futures; librdkafka's own thread completes them).
fn futures_lite<F: Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park_timeout(Duration::from_millis(50));
    }
}

/// One consumed record.
struct Consumed {
    partition: i32,
    key: Option<Vec<u8>>,
    payload: String,
}

/// Reads every record of `topic` (all `partitions`) from the start,
/// until `expected` came and nothing more for a second, or 60 s.
fn consume(port: u16, topic: &str, partitions: i32, expected: usize) -> Vec<Consumed> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", format!("127.0.0.1:{port}"))
        .set("group.id", "flowscope-test")
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut quiet_since = Instant::now();
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                got.push(Consumed {
                    partition: m.partition(),
                    key: m.key().map(<[u8]>::to_vec),
                    payload: String::from_utf8(m.payload().unwrap_or(&[]).to_vec()).unwrap(),
                });
                quiet_since = Instant::now();
            }
            Some(Err(e)) => eprintln!("consumer: {e}"),
            None => {
                if got.len() >= expected && quiet_since.elapsed() > Duration::from_secs(1) {
                    break;
                }
            }
        }
    }
    got
}

/// Kafka's murmur2 (the Java client's and librdkafka's `murmur2_random`).
fn murmur2(data: &[u8]) -> u32 {
    const M: u32 = 0x5bd1_e995;
    let mut h: u32 = 0x9747_b28c ^ data.len() as u32;
    let chunks = data.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> 24;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M) ^ k;
    }
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate().rev() {
            h ^= u32::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^ (h >> 15)
}

#[test]
fn murmur2_matches_the_java_client() {
    // Values from Kafka's own tests of Utils.murmur2.
    assert_eq!(murmur2(b"21") as i32, -973_932_308);
    assert_eq!(murmur2(b"foobar") as i32, -790_332_482);
    assert_eq!(murmur2(b"a-little-bit-long-string") as i32, -985_981_536);
    assert_eq!(
        murmur2(b"a-little-bit-longer-string") as i32,
        -1_486_304_829
    );
    assert_eq!(
        murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") as i32,
        -58_897_971
    );
}

/// The inputs: the repository's own captures, a capture of many
/// one-packet UDP flows, and a few corpus captures when there is a
/// corpus.
fn inputs(dir: &Path, udp_flows: u32) -> Vec<PathBuf> {
    let own = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/captures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&own)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    v.sort();
    let udp = dir.join("udp.pcap");
    write_udp_capture(&udp, udp_flows, udp_flows);
    v.push(udp);
    if let Some(c) = corpus() {
        for name in ["dpkt/http.pcap", "ndpi/pcap/dns_long_domainname.pcap"] {
            let p = c.join(name);
            if p.exists() {
                v.push(p);
            }
        }
    }
    v
}

/// What a replay of `inputs` with `args` writes to a file in `dir`: what
/// Kafka must read back.
fn file_output(dir: &Path, args: &[&std::ffi::OsStr], inputs: &[PathBuf]) -> String {
    let file = dir.join("eve.json");
    let o = bin()
        .args(["replay", "-q"])
        .args(args)
        .arg("-o")
        .arg(&file)
        .args(inputs)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(&file).unwrap()
}

/// The records of each flow (by `flow_id`), in order, and the rest.
fn by_flow<'a>(lines: impl Iterator<Item = &'a str>) -> BTreeMap<String, Vec<&'a str>> {
    let mut m: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for l in lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let key = v["flow_id"]
            .as_u64()
            .map_or_else(|| "-".to_owned(), |f| f.to_string());
        m.entry(key).or_default().push(l);
    }
    m
}

/// Checks what came back against the file output `expected`: the same
/// records, each once; each on the partition murmur2 gives its key; each
/// flow's records in the file's order.
fn check_read_back(expected: &str, got: &[Consumed], partitions: i32) {
    let mut want: HashMap<&str, usize> = HashMap::new();
    for l in expected.lines() {
        *want.entry(l).or_default() += 1;
    }
    let mut have: HashMap<&str, usize> = HashMap::new();
    for c in got {
        *have.entry(c.payload.as_str()).or_default() += 1;
    }
    let dup = have.iter().filter(|(_, n)| **n > 1).count();
    let missing = want.keys().filter(|l| !have.contains_key(*l)).count();
    assert_eq!(
        (dup, missing, got.len()),
        (0, 0, expected.lines().count()),
        "duplicated records, missing records, records read"
    );
    for c in got {
        let v: serde_json::Value = serde_json::from_str(&c.payload).unwrap();
        match v["flow_id"].as_u64() {
            Some(id) => {
                let key = id.to_string();
                assert_eq!(c.key.as_deref(), Some(key.as_bytes()));
                let p = (murmur2(key.as_bytes()) & 0x7fff_ffff) % partitions as u32;
                assert_eq!(c.partition as u32, p, "flow {id}'s partition");
            }
            None => assert_eq!(c.key, None, "a record without flow_id has no key"),
        }
    }
    // Per partition, each flow's records in the order the file has them.
    let want_flows = by_flow(expected.lines());
    for p in 0..partitions {
        let on_p = got
            .iter()
            .filter(|c| c.partition == p)
            .map(|c| c.payload.as_str());
        for (flow, lines) in by_flow(on_p) {
            if flow != "-" {
                assert_eq!(&lines, &want_flows[&flow], "flow {flow}'s records in order");
            }
        }
    }
}

/// A replay's records, each once, on their key's partition, in flow order.
#[test]
fn every_record_arrives_once_in_flow_order_on_its_key_partition() {
    let Some(tansu) = tansu("the Kafka read-back test") else {
        return;
    };
    let dir = tmpdir("kafka-all");
    let inputs = inputs(&dir, 3000);
    let broker = Broker::start(&tansu, None);
    broker.create_topic("eve", 3);
    let expected = file_output(&dir, &["--shards".as_ref(), "2".as_ref()], &inputs);
    let o = bin()
        .args(["replay", "--shards", "2", "-o"])
        .arg(format!("kafka://127.0.0.1:{}/eve", broker.port))
        .args(&inputs)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let n = expected.lines().count();
    assert!(
        err.contains(&format!("{n} records produced, {n} acknowledged")),
        "{err}"
    );
    let got = consume(broker.port, "eve", 3, n);
    // The stats record differs (its `output` object): compared apart.
    let (stats, rest): (Vec<_>, Vec<_>) = got
        .into_iter()
        .partition(|c| c.payload.contains("\"event_type\":\"stats\""));
    assert_eq!(stats.len(), 1);
    let v: serde_json::Value = serde_json::from_str(&stats[0].payload).unwrap();
    assert_eq!(v["stats"]["output"]["filetype"], "kafka");
    assert_eq!(v["stats"]["output"]["records_lost"], 0);
    let expected_rest: String = expected
        .lines()
        .filter(|l| !l.contains("\"event_type\":\"stats\""))
        .map(|l| format!("{l}\n"))
        .collect();
    check_read_back(&expected_rest, &rest, 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Per-`event_type` topics and the Community ID as key, from the
/// configuration file alone (`filetype = "kafka"`, no `-o`).
#[test]
fn topics_per_event_type_and_community_id_keys_from_the_configuration() {
    let Some(tansu) = tansu("the Kafka topics test") else {
        return;
    };
    let dir = tmpdir("kafka-topics");
    let broker = Broker::start(&tansu, None);
    broker.create_topic("eve-flow", 2);
    broker.create_topic("eve-other", 1);
    let config = dir.join("kafka.toml");
    std::fs::write(
        &config,
        format!(
            "[output]\nfiletype = \"kafka\"\n[output.kafka]\nbrokers = \"127.0.0.1:{}\"\ntopic = \"eve-other\"\ntopics = {{ flow = \"eve-flow\" }}\nkey = \"community_id\"\ncompression = \"zstd\"\n",
            broker.port
        ),
    )
    .unwrap();
    let capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/captures/mqtt-mosquitto.pcap");
    let o = bin()
        .args(["replay", "-q", "--config"])
        .arg(&config)
        .arg(&capture)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let file = bin().args(["replay", "-q"]).arg(&capture).output().unwrap();
    let expected = String::from_utf8(file.stdout).unwrap();
    let flows = expected
        .lines()
        .filter(|l| l.contains("\"event_type\":\"flow\""))
        .count();
    let flow = consume(broker.port, "eve-flow", 2, flows);
    assert_eq!(flow.len(), flows);
    for c in &flow {
        let v: serde_json::Value = serde_json::from_str(&c.payload).unwrap();
        assert_eq!(v["event_type"], "flow");
        let id = v["community_id"].as_str().unwrap();
        assert_eq!(c.key.as_deref(), Some(id.as_bytes()));
        assert_eq!(
            c.partition as u32,
            (murmur2(id.as_bytes()) & 0x7fff_ffff) % 2
        );
    }
    let other = consume(
        broker.port,
        "eve-other",
        1,
        expected.lines().count() - flows,
    );
    assert_eq!(other.len(), expected.lines().count() - flows);
    assert!(
        other
            .iter()
            .all(|c| !c.payload.contains("\"event_type\":\"flow\""))
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// What happens to the broker once the clients sent enough through the
/// proxy.
#[derive(Clone, Copy)]
enum Outage {
    /// Every connection reset and the port refusing connections for this
    /// long, then serving again: to the clients, the broker process went
    /// away and a new one came up at the same address.
    Gone(Duration),
    /// The broker process (this pid) stopped with SIGSTOP for this long,
    /// then continued: connections open, no answers.
    Paused(u32, Duration),
}

/// A loopback TCP proxy standing in for the broker's advertised address,
/// which makes `outage` happen once clients have sent `cut_after` bytes
/// through it.
struct Proxy {
    port: u16,
    cuts: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    fn start(port: u16, upstream: u16, cut_after: u64, outage: Outage) -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let cuts = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (c, s) = (cuts.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut listener = Some(listener);
            while !s.load(Ordering::Relaxed) {
                if c.load(Ordering::Relaxed) == 0 && sent.load(Ordering::Relaxed) >= cut_after {
                    c.store(1, Ordering::Relaxed);
                    match outage {
                        Outage::Gone(how_long) => {
                            for conn in open.lock().unwrap().drain(..) {
                                let _ = conn.shutdown(Shutdown::Both);
                            }
                            drop(listener.take());
                            std::thread::sleep(how_long);
                            listener = Some(loop {
                                match TcpListener::bind(("127.0.0.1", port)) {
                                    Ok(l) => break l,
                                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                                }
                            });
                        }
                        Outage::Paused(pid, how_long) => {
                            send_signal(pid, "STOP");
                            std::thread::sleep(how_long);
                            // The test may have ended it meanwhile.
                            let _ = Command::new("kill")
                                .args(["-s", "CONT", &pid.to_string()])
                                .stderr(Stdio::null())
                                .status();
                        }
                    }
                }
                let Some(l) = &listener else { continue };
                l.set_nonblocking(true).unwrap();
                match l.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                            continue;
                        };
                        let mut list = open.lock().unwrap();
                        list.push(client.try_clone().unwrap());
                        list.push(server.try_clone().unwrap());
                        pipe(
                            client.try_clone().unwrap(),
                            server.try_clone().unwrap(),
                            Some(sent.clone()),
                        );
                        pipe(server, client, None);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Proxy { port, cuts, stop }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Copies `from` to `to` on a thread of its own, counting into `count`.
fn pipe(mut from: TcpStream, mut to: TcpStream, count: Option<Arc<AtomicU64>>) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
            if let Some(c) = &count {
                c.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}

/// The broker goes away mid-run (connections reset, the port refusing)
/// and comes back: the replay waits, and every record arrives once.
#[test]
fn a_broker_gone_mid_run_and_back_loses_nothing_in_a_replay() {
    outage_loses_nothing("kafka-gone", |_| Outage::Gone(Duration::from_secs(3)));
}

/// The broker process stopped mid-run (SIGSTOP: connections open, no
/// answers) and continued: the replay waits, and every record arrives
/// once.
#[test]
fn a_broker_stopped_mid_run_and_continued_loses_nothing_in_a_replay() {
    outage_loses_nothing("kafka-paused", |pid| {
        Outage::Paused(pid, Duration::from_secs(3))
    });
}

/// A replay through a [`Proxy`] whose `outage` (given the broker's pid)
/// happens after the first MiB: every record of the file output arrives
/// once, in flow order, and the replay took the outage's time.
fn outage_loses_nothing(name: &str, outage: impl Fn(u32) -> Outage) {
    let Some(tansu) = tansu("the Kafka outage test") else {
        return;
    };
    let dir = tmpdir(name);
    let inputs = inputs(&dir, 20_000);
    let proxy_port = free_port();
    let broker = Broker::start(&tansu, Some(proxy_port));
    // Clients reach the broker at its advertised address: the proxy.
    let outage = outage(broker.child.id());
    let proxy = Proxy::start(proxy_port, broker.port, 1 << 20, outage);
    broker.create_topic("eve", 2);
    let config = dir.join("kafka.toml");
    std::fs::write(
        &config,
        "[output]\nstats = false\n[output.kafka]\nqueue_records = 2000\nlinger_ms = 20\n",
    )
    .unwrap();
    let expected = file_output(&dir, &["--config".as_ref(), config.as_os_str()], &inputs);
    let started = Instant::now();
    let o = bin()
        .args(["replay", "--config"])
        .arg(&config)
        .arg("-o")
        .arg(format!("kafka://127.0.0.1:{}/eve", proxy.port))
        .args(&inputs)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    eprintln!("{err}");
    assert!(o.status.success(), "{err}");
    assert_eq!(proxy.cuts.load(Ordering::Relaxed), 1, "the outage happened");
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "the replay waited it out"
    );
    if let Outage::Gone(_) = outage {
        assert!(
            err.contains("warning: output kafka://"),
            "the outage was reported: {err}"
        );
    }
    let n = expected.lines().count();
    let got = consume(broker.port, "eve", 2, n);
    check_read_back(&expected, &got, 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// SIGINT while the broker does not answer: the replay stops, waits at
/// most the close timeout for the acknowledgements, says how many records
/// did not reach the broker, and fails.
#[test]
fn sigint_with_a_silent_broker_ends_within_the_close_timeout() {
    let Some(tansu) = tansu("the Kafka SIGINT test") else {
        return;
    };
    let dir = tmpdir("kafka-sigint");
    let inputs = inputs(&dir, 20_000);
    let proxy_port = free_port();
    let broker = Broker::start(&tansu, Some(proxy_port));
    let outage = Outage::Paused(broker.child.id(), Duration::from_secs(60));
    let proxy = Proxy::start(proxy_port, broker.port, 64 << 10, outage);
    broker.create_topic("eve", 1);
    let config = dir.join("kafka.toml");
    std::fs::write(
        &config,
        "[output.kafka]\nqueue_records = 1000\nclose_timeout_ms = 2000\n",
    )
    .unwrap();
    let mut child = bin()
        .args(["replay", "-q", "--config"])
        .arg(&config)
        .arg("-o")
        .arg(format!("kafka://127.0.0.1:{proxy_port}/eve"))
        .args(&inputs)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while proxy.cuts.load(Ordering::Relaxed) == 0 {
        assert!(Instant::now() < deadline, "the broker was never paused");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    let signalled = Instant::now();
    send_signal(child.id(), "INT");
    let status = child.wait().unwrap();
    let waited = signalled.elapsed();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    // 130 when the signal stopped the reading; 1 (records lost) when the
    // input had all been read and only the output was waiting.
    assert!(matches!(status.code(), Some(130 | 1)), "{status:?}: {err}");
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(8),
        "{waited:?}: {err}"
    );
    assert!(
        err.contains("records did not reach")
            && err.contains("unacknowledged at the close timeout"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Brokers that never answer: an error naming them within the connect
/// timeout, before anything is read; malformed targets are errors too.
#[test]
fn brokers_that_never_answer_are_an_error_within_the_timeout() {
    let dir = tmpdir("kafka-absent");
    let config = dir.join("kafka.toml");
    std::fs::write(&config, "[output.kafka]\nconnect_timeout_ms = 1500\n").unwrap();
    let started = Instant::now();
    let o = bin()
        .args(["replay", "--config"])
        .arg(&config)
        .arg("-o")
        .arg(format!("kafka://127.0.0.1:{}/eve", free_port()))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(started.elapsed() < Duration::from_secs(10), "{err}");
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("answered within 1500 ms"), "{err}");
    assert!(o.stdout.is_empty());
    for bad in ["kafka://h/eve", "kafka://h:9092/a b", "kafka:///eve"] {
        let o = bin().args(["replay", "-o", bad]).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{bad}: {err}");
        assert!(
            err.contains("kafka") && err.contains("cannot create"),
            "{bad}: {err}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
