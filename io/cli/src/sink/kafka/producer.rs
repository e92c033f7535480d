//! [`KafkaOut`]: the librdkafka producer behind `-o kafka://…`, its
//! delivery reports counted into the sink's [`SinkCounters`], and the
//! [`KafkaReport`] of what became of the records at the end.

use super::{KafkaConfig, KafkaTarget, RecordRoute};
use crate::say::say;
use crate::sink::SinkCounters;
use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The soonest the same broker error is said again.
const SAY_AGAIN_AFTER: Duration = Duration::from_secs(30);
/// How long a replay waiting for room in a full queue sleeps between
/// looks (serving delivery reports meanwhile).
const ROOM_POLL: Duration = Duration::from_millis(10);

/// What became of the records sent to Kafka.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KafkaReport {
    /// `kafka://BROKERS/TOPIC`.
    pub target: String,
    /// Records handed to librdkafka.
    pub produced: u64,
    /// Records the brokers acknowledged.
    pub delivered: u64,
    /// Records that failed (refused, timed out, or not taken by
    /// librdkafka).
    pub failed: u64,
    /// Records dropped because the local queue was full (live capture).
    pub dropped: u64,
    /// Records still unacknowledged when the close timeout ran out.
    pub unacknowledged: u64,
}

impl KafkaReport {
    /// Records that did not reach the brokers, or may not have.
    pub fn lost(&self) -> u64 {
        self.failed + self.dropped + self.unacknowledged
    }
}

/// The producer's callbacks: delivery reports and client errors.
struct Context {
    counters: Arc<SinkCounters>,
    failed: AtomicU64,
    /// Delivery errors already said, by code.
    said: Mutex<Vec<RDKafkaErrorCode>>,
    /// The client errors said, by code, and when last.
    errors_said: Mutex<Vec<(RDKafkaErrorCode, Instant)>>,
    /// Set once the report is made: what librdkafka purges afterwards
    /// was counted as unacknowledged.
    closed: AtomicBool,
    display: String,
}

impl ClientContext for Context {
    /// Says a client error (brokers down, a failed connection), each
    /// kind at most once per [`SAY_AGAIN_AFTER`].
    fn error(&self, error: KafkaError, reason: &str) {
        let code = error.rdkafka_error_code().unwrap_or(RDKafkaErrorCode::Fail);
        let Ok(mut said) = self.errors_said.lock() else {
            return;
        };
        let now = Instant::now();
        match said.iter_mut().find(|(c, _)| *c == code) {
            Some((_, at)) if now.duration_since(*at) < SAY_AGAIN_AFTER => return,
            Some((_, at)) => *at = now,
            None => said.push((code, now)),
        }
        say!(
            "flowscope: warning: output {}: {error}: {reason}",
            self.display
        );
    }
}

impl ProducerContext for Context {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if self.closed.load(Ordering::Relaxed) {
            return;
        }
        match result {
            Ok(_) => {
                self.counters.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, _)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                self.counters.records_lost.fetch_add(1, Ordering::Relaxed);
                self.counters.failures.fetch_add(1, Ordering::Relaxed);
                let code = e.rdkafka_error_code().unwrap_or(RDKafkaErrorCode::Fail);
                if let Ok(mut said) = self.said.lock()
                    && !said.contains(&code)
                {
                    said.push(code);
                    say!(
                        "flowscope: error: output {}: a record was not delivered: {e} (each such record is counted as lost)",
                        self.display
                    );
                }
            }
        }
    }
}

/// Records to Kafka: see the module documentation of `kafka`.
pub struct KafkaOut {
    producer: BaseProducer<Context>,
    route: RecordRoute,
    counters: Arc<SinkCounters>,
    /// Live capture: a full queue drops the record instead of waiting.
    lossy: bool,
    /// Set on SIGINT/SIGTERM: a wait for room ends after `close_timeout`.
    stop: Option<Arc<AtomicBool>>,
    close_timeout: Duration,
    /// When a wait for room first saw the stop flag: the close timeout
    /// runs from there, for that wait, every later one and the close.
    stopped_at: Option<Instant>,
    produced: u64,
    dropped: u64,
    /// Produce calls that failed at once (not a full queue).
    refused: u64,
    display: String,
}

impl std::fmt::Debug for KafkaOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaOut")
            .field("target", &self.display)
            .field("produced", &self.produced)
            .finish_non_exhaustive()
    }
}

/// The librdkafka settings `cfg` stands for, with `brokers`.
fn client_config(cfg: &KafkaConfig, brokers: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", brokers)
        .set("client.id", "flowscope")
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("partitioner", &cfg.partitioner)
        .set("compression.codec", &cfg.compression)
        .set("linger.ms", cfg.linger_ms.to_string())
        .set("batch.num.messages", cfg.batch_records.to_string())
        .set("batch.size", cfg.batch_bytes.to_string())
        .set(
            "queue.buffering.max.messages",
            cfg.queue_records.to_string(),
        )
        .set("queue.buffering.max.kbytes", cfg.queue_kbytes.to_string())
        .set("message.timeout.ms", cfg.delivery_timeout_ms.to_string());
    for (k, v) in &cfg.properties {
        c.set(k, v);
    }
    c
}

impl KafkaOut {
    /// Connects to the brokers `target` (else `cfg`) names and checks they
    /// answer within `connect_timeout_ms`; `display` names the output in
    /// messages.
    pub fn open(
        target: &KafkaTarget,
        cfg: &KafkaConfig,
        counters: Arc<SinkCounters>,
        display: &str,
    ) -> io::Result<KafkaOut> {
        cfg.validate().map_err(io::Error::other)?;
        let brokers = target.brokers.as_ref().or(cfg.brokers.as_ref()).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "no Kafka brokers: name them in -o kafka://HOST:PORT/TOPIC or [output.kafka] brokers",
            )
        })?;
        let topic = target.topic.as_ref().unwrap_or(&cfg.topic);
        let context = Context {
            counters: counters.clone(),
            failed: AtomicU64::new(0),
            said: Mutex::new(Vec::new()),
            errors_said: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
            display: display.to_owned(),
        };
        let producer: BaseProducer<Context> = client_config(cfg, brokers)
            .create_with_context(context)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let wait = Duration::from_millis(u64::from(cfg.connect_timeout_ms));
        producer.client().fetch_metadata(None, wait).map_err(|e| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "no Kafka broker of {brokers} answered within {} ms ({e})",
                    cfg.connect_timeout_ms
                ),
            )
        })?;
        Ok(KafkaOut {
            producer,
            route: RecordRoute::new(cfg, topic),
            counters,
            lossy: false,
            stop: None,
            close_timeout: Duration::from_millis(u64::from(cfg.close_timeout_ms)),
            stopped_at: None,
            produced: 0,
            dropped: 0,
            refused: 0,
            display: display.to_owned(),
        })
    }

    /// Whether a full queue drops records (live capture) instead of
    /// waiting for room (offline replay).
    pub fn set_lossy(&mut self, lossy: bool) {
        self.lossy = lossy;
    }

    /// The run's stop flag: once set, a wait for room lasts at most the
    /// close timeout.
    pub fn set_stop(&mut self, stop: Arc<AtomicBool>) {
        self.stop = Some(stop);
    }

    /// Produces each line of `buf` (whole lines) as one record.
    pub fn write_lines(&mut self, buf: &[u8]) {
        for line in buf.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            self.send(line);
        }
        self.producer.poll(Duration::ZERO);
    }

    fn send(&mut self, line: &[u8]) {
        let topic = self.route.topic(line);
        let key = self.route.key(line);
        let mut record = BaseRecord::<[u8], [u8]>::to(topic).payload(line);
        if let Some(k) = key {
            record = record.key(k);
        }
        loop {
            match self.producer.send(record) {
                Ok(()) => {
                    self.produced += 1;
                    return;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    let stop = self
                        .stop
                        .as_ref()
                        .is_some_and(|s| s.load(Ordering::Relaxed));
                    if stop {
                        self.stopped_at.get_or_insert_with(Instant::now);
                    }
                    let waited_out = self
                        .stopped_at
                        .is_some_and(|t| t.elapsed() >= self.close_timeout);
                    if self.lossy || waited_out {
                        self.dropped += 1;
                        self.counters.records_lost.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    record = r;
                    self.producer.poll(ROOM_POLL);
                }
                Err((e, _)) => {
                    if self.refused == 0 {
                        say!(
                            "flowscope: error: output {}: a record was refused: {e} (each such record is counted as lost)",
                            self.display
                        );
                    }
                    self.refused += 1;
                    self.counters.records_lost.fetch_add(1, Ordering::Relaxed);
                    self.counters.failures.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        }
    }

    /// Serves the delivery reports that have come in.
    pub fn poll(&self) {
        self.producer.poll(Duration::ZERO);
    }

    /// Waits at most the close timeout for every record's acknowledgement;
    /// what became of them.
    pub fn close(&mut self) -> KafkaReport {
        // A timeout leaves the rest counted as unacknowledged below.
        let wait = match self.stopped_at {
            Some(t) => self.close_timeout.saturating_sub(t.elapsed()),
            None => self.close_timeout,
        };
        let _ = self.producer.flush(wait);
        let unacknowledged = u64::try_from(self.producer.in_flight_count()).unwrap_or(0);
        self.producer
            .context()
            .closed
            .store(true, Ordering::Relaxed);
        KafkaReport {
            target: self.display.clone(),
            produced: self.produced,
            delivered: self.counters.delivered.load(Ordering::Relaxed),
            failed: self.producer.context().failed.load(Ordering::Relaxed) + self.refused,
            dropped: self.dropped,
            unacknowledged,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::mocking::MockCluster;

    fn lines(n: u32) -> Vec<u8> {
        let mut v = Vec::new();
        for i in 0..n {
            v.extend_from_slice(
                format!(
                    "{{\"timestamp\":\"t\",\"flow_id\":{},\"event_type\":\"flow\"}}\n",
                    i % 7
                )
                .as_bytes(),
            );
        }
        v
    }

    fn open(
        cluster: &MockCluster<'_, rdkafka::producer::DefaultProducerContext>,
        cfg: KafkaConfig,
    ) -> (KafkaOut, Arc<SinkCounters>) {
        let counters = Arc::new(SinkCounters::default());
        let target = KafkaTarget {
            brokers: Some(cluster.bootstrap_servers()),
            topic: Some("eve".to_owned()),
        };
        let out = KafkaOut::open(&target, &cfg, counters.clone(), "kafka://mock/eve").unwrap();
        (out, counters)
    }

    #[test]
    fn every_record_is_acknowledged_and_counted() {
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("eve", 3, 1).unwrap();
        let (mut out, counters) = open(&cluster, KafkaConfig::default());
        out.write_lines(&lines(500));
        let r = out.close();
        assert_eq!((r.produced, r.delivered, r.lost()), (500, 500, 0), "{r:?}");
        assert_eq!(counters.delivered.load(Ordering::Relaxed), 500);
        assert_eq!(counters.lost(), 0);
    }

    #[test]
    fn a_replay_waits_for_a_broker_that_comes_back() {
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("eve", 1, 1).unwrap();
        let cfg = KafkaConfig {
            queue_records: 10,
            ..KafkaConfig::default()
        };
        let (mut out, _) = open(&cluster, cfg);
        cluster.broker_down(1).unwrap();
        let writer = std::thread::spawn(move || {
            let started = Instant::now();
            out.write_lines(&lines(100));
            (out, started.elapsed())
        });
        std::thread::sleep(Duration::from_millis(400));
        cluster.broker_up(1).unwrap();
        let (mut out, waited) = writer.join().unwrap();
        assert!(
            waited >= Duration::from_millis(300),
            "the writer waited for room: {waited:?}"
        );
        let r = out.close();
        assert_eq!((r.produced, r.delivered, r.lost()), (100, 100, 0), "{r:?}");
    }

    #[test]
    fn a_live_capture_drops_what_a_full_queue_cannot_take_and_counts_it() {
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("eve", 1, 1).unwrap();
        let cfg = KafkaConfig {
            queue_records: 10,
            close_timeout_ms: 200,
            delivery_timeout_ms: 60_000,
            ..KafkaConfig::default()
        };
        let (mut out, counters) = open(&cluster, cfg);
        out.set_lossy(true);
        cluster.broker_down(1).unwrap();
        let started = Instant::now();
        out.write_lines(&lines(100));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "it did not wait"
        );
        let r = out.close();
        assert_eq!(r.produced + r.dropped, 100, "{r:?}");
        assert!(r.dropped >= 90, "{r:?}");
        assert_eq!(
            r.lost(),
            100,
            "none acknowledged while the broker is down: {r:?}"
        );
        assert_eq!(counters.lost(), r.dropped + r.failed);
    }

    /// TLS and SASL pass through to librdkafka, which was built with them:
    /// a producer with those properties is created (without OpenSSL
    /// librdkafka refuses `security.protocol = "sasl_ssl"` at creation).
    #[test]
    fn tls_and_sasl_properties_are_built_in() {
        let cfg = KafkaConfig {
            properties: [
                ("security.protocol", "sasl_ssl"),
                ("sasl.mechanism", "SCRAM-SHA-512"),
                ("sasl.username", "sensor1"),
                ("sasl.password", "secret"),
                ("ssl.endpoint.identification.algorithm", "https"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            ..KafkaConfig::default()
        };
        let context = Context {
            counters: Arc::default(),
            failed: AtomicU64::new(0),
            said: Mutex::new(Vec::new()),
            errors_said: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
            display: "kafka://x".to_owned(),
        };
        let made: Result<BaseProducer<Context>, _> =
            client_config(&cfg, "127.0.0.1:9").create_with_context(context);
        assert!(made.is_ok(), "{:?}", made.err());
    }

    #[test]
    fn brokers_that_never_answer_are_an_error_in_time() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cfg = KafkaConfig {
            connect_timeout_ms: 500,
            ..KafkaConfig::default()
        };
        let target = KafkaTarget {
            brokers: Some(format!("127.0.0.1:{port}")),
            topic: None,
        };
        let started = Instant::now();
        let e = KafkaOut::open(&target, &cfg, Arc::default(), "kafka://x").unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(e.to_string().contains("answered within 500 ms"), "{e}");
        let bad = KafkaConfig {
            properties: [("no.such.property".to_owned(), "1".to_owned())].into(),
            ..KafkaConfig::default()
        };
        let e = KafkaOut::open(&target, &bad, Arc::default(), "kafka://x").unwrap_err();
        assert!(e.to_string().contains("no.such.property"), "{e}");
    }
}
