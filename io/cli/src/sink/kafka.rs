//! Records to Kafka: `-o kafka://HOST:PORT[,HOST:PORT]/TOPIC`, or
//! `[output] filetype = "kafka"` with an `[output.kafka]` table
//! ([`KafkaConfig`]). One record per message, keyed by the record's
//! `flow_id` (or `community_id`), so that every record of a flow lands on
//! the same partition and a consumer of that partition reads them in the
//! order flowscope wrote them.
//!
//! This module holds what needs no broker: the configuration, the target's
//! syntax and how a record's key and topic are read off its line
//! ([`RecordRoute`]). The producer itself ([`KafkaOut`], feature `kafka`)
//! drives librdkafka:
//!
//! - an idempotent producer (`enable.idempotence`), so a retried batch is
//!   never written twice and a partition keeps its order;
//! - every delivery report counted (delivered, failed), failures said once
//!   on stderr and counted in the `stats` record's `output` object;
//! - a full local queue (`queue_records`, `queue_kbytes`) makes an offline
//!   replay wait (nothing is lost while the brokers come back within
//!   `delivery_timeout_ms`), and is counted as dropped records in a live
//!   capture, which keeps running;
//! - at the end of the input or on SIGINT/SIGTERM, [`KafkaOut::close`]
//!   waits at most `close_timeout_ms` for the outstanding acknowledgements
//!   and says how many never came;
//! - brokers that cannot be reached at the start are an error within
//!   `connect_timeout_ms`, before anything is read.

use serde::Deserialize;
use std::collections::BTreeMap;

#[cfg(feature = "kafka")]
mod producer;
#[cfg(feature = "kafka")]
pub use producer::{KafkaOut, KafkaReport};

/// What a record's Kafka key is.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum KeyField {
    /// The decimal `flow_id`: every record of a flow has it.
    #[default]
    FlowId,
    /// The `community_id` text (`[output] community_id` must be on):
    /// the same key for a flow on every sensor that sees it.
    CommunityId,
    /// No key: librdkafka spreads the records over the partitions.
    None,
}

/// `[output.kafka]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// `HOST:PORT[,HOST:PORT…]`, used when `-o` does not name the brokers.
    pub brokers: Option<String>,
    /// The topic of every record (unless `topics` names another for its
    /// `event_type`, or `-o` names one).
    pub topic: String,
    /// Per `event_type`, its own topic: `{ flow = "eve-flow" }`.
    pub topics: BTreeMap<String, String>,
    /// What keys a record.
    pub key: KeyField,
    /// librdkafka's `partitioner`: `murmur2_random` (the Java client's,
    /// so other producers of the same keys agree), `consistent_random`, …
    pub partitioner: String,
    /// `compression.codec`: `none`, `gzip`, `snappy`, `lz4` or `zstd`.
    pub compression: String,
    /// `linger.ms`: how long a batch waits for more records.
    pub linger_ms: u32,
    /// `batch.num.messages`: the most records in one batch.
    pub batch_records: u32,
    /// `batch.size`: the most bytes in one batch.
    pub batch_bytes: u32,
    /// `queue.buffering.max.messages`: records waiting for their
    /// acknowledgement, at most.
    pub queue_records: u32,
    /// `queue.buffering.max.kbytes`: their bytes, at most, in KiB.
    pub queue_kbytes: u32,
    /// `message.timeout.ms`: how long a record may wait for its
    /// acknowledgement before it counts as failed.
    pub delivery_timeout_ms: u32,
    /// How long the brokers may take to answer at the start.
    pub connect_timeout_ms: u32,
    /// How long flowscope waits at the end for the outstanding
    /// acknowledgements.
    pub close_timeout_ms: u32,
    /// Any other librdkafka property, passed through last: TLS
    /// (`security.protocol = "ssl"`, `ssl.ca.location`, …) and SASL
    /// (`sasl.mechanism`, `sasl.username`, `sasl.password`).
    pub properties: BTreeMap<String, String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: None,
            topic: "flowscope".to_owned(),
            topics: BTreeMap::new(),
            key: KeyField::FlowId,
            partitioner: "murmur2_random".to_owned(),
            compression: "none".to_owned(),
            linger_ms: 5,
            batch_records: 10_000,
            batch_bytes: 1_000_000,
            queue_records: 100_000,
            queue_kbytes: 65_536,
            delivery_timeout_ms: 300_000,
            connect_timeout_ms: 10_000,
            close_timeout_ms: 30_000,
            properties: BTreeMap::new(),
        }
    }
}

/// The compression codecs librdkafka takes.
const CODECS: [&str; 5] = ["none", "gzip", "snappy", "lz4", "zstd"];

impl KafkaConfig {
    /// Checks the values; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        if !CODECS.contains(&self.compression.as_str()) {
            return Err(format!(
                "kafka.compression: `{}` is not one of {}",
                self.compression,
                CODECS.join(", ")
            ));
        }
        for (name, value, range) in [
            ("linger_ms", self.linger_ms, 0..=900_000),
            ("batch_records", self.batch_records, 1..=1_000_000),
            ("batch_bytes", self.batch_bytes, 1..=2_147_483_647),
            ("queue_records", self.queue_records, 1..=2_147_483_647),
            ("queue_kbytes", self.queue_kbytes, 1..=2_147_483_647),
            (
                "delivery_timeout_ms",
                self.delivery_timeout_ms,
                1..=2_147_483_647,
            ),
            ("connect_timeout_ms", self.connect_timeout_ms, 1..=3_600_000),
            ("close_timeout_ms", self.close_timeout_ms, 0..=3_600_000),
        ] {
            if !range.contains(&value) {
                return Err(format!(
                    "kafka.{name}: {value} is not within {}..={}",
                    range.start(),
                    range.end()
                ));
            }
        }
        for t in std::iter::once(&self.topic).chain(self.topics.values()) {
            check_topic(t)?;
        }
        if let Some(b) = &self.brokers {
            check_brokers(b)?;
        }
        Ok(())
    }
}

/// A topic name Kafka takes: 1 to 249 of `[A-Za-z0-9._-]`.
fn check_topic(t: &str) -> Result<(), String> {
    let ok = (1..=249).contains(&t.len())
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "kafka topic `{t}`: 1 to 249 letters, digits, `.`, `_` or `-`"
        ))
    }
}

/// `HOST:PORT[,HOST:PORT…]`.
fn check_brokers(list: &str) -> Result<(), String> {
    for b in list.split(',') {
        match b.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => {}
            _ => {
                return Err(format!(
                    "kafka brokers `{list}`: expected HOST:PORT[,HOST:PORT…] (a port from 1 to 65535)"
                ));
            }
        }
    }
    Ok(())
}

/// What `-o kafka://…` names, after the scheme: the brokers and, after
/// a `/`, the topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaTarget {
    /// `HOST:PORT[,HOST:PORT…]`; `None`: `[output.kafka] brokers`.
    pub brokers: Option<String>,
    /// The topic; `None`: `[output.kafka] topic`.
    pub topic: Option<String>,
}

/// Parses what follows `kafka://`: `HOST:PORT[,HOST:PORT]/TOPIC`, or
/// nothing (the configuration names both).
pub fn parse_target(spec: &str) -> Result<KafkaTarget, String> {
    let (brokers, topic) = match spec.split_once('/') {
        Some((b, t)) => (b, t),
        None => (spec, ""),
    };
    let brokers = (!brokers.is_empty()).then(|| brokers.to_owned());
    if let Some(b) = &brokers {
        check_brokers(b)?;
    }
    let topic = (!topic.is_empty()).then(|| topic.to_owned());
    if let Some(t) = &topic {
        check_topic(t)?;
    }
    Ok(KafkaTarget { brokers, topic })
}

/// Reads, off a rendered record, the topic it goes to and its key.
#[derive(Debug, Clone)]
pub struct RecordRoute {
    key: KeyField,
    topic: String,
    /// `(event_type, topic)`, for `topics`.
    by_type: Vec<(Vec<u8>, String)>,
}

impl RecordRoute {
    /// The route `cfg` describes, with `topic` as the default topic.
    pub fn new(cfg: &KafkaConfig, topic: &str) -> Self {
        RecordRoute {
            key: cfg.key,
            topic: topic.to_owned(),
            by_type: cfg
                .topics
                .iter()
                .map(|(t, topic)| (t.as_bytes().to_vec(), topic.clone()))
                .collect(),
        }
    }

    /// The topic of the record `line`.
    pub fn topic(&self, line: &[u8]) -> &str {
        if !self.by_type.is_empty()
            && let Some(t) = string_field(line, b"\"event_type\":\"")
            && let Some((_, topic)) = self.by_type.iter().find(|(name, _)| name == t)
        {
            return topic;
        }
        &self.topic
    }

    /// The key of the record `line`, when it has one.
    pub fn key<'a>(&self, line: &'a [u8]) -> Option<&'a [u8]> {
        match self.key {
            KeyField::FlowId => number_field(line, b"\"flow_id\":"),
            KeyField::CommunityId => string_field(line, b"\"community_id\":\""),
            KeyField::None => None,
        }
    }
}

/// Where `pattern` first occurs in `line`, just past it.
fn after(line: &[u8], pattern: &[u8]) -> Option<usize> {
    line.windows(pattern.len())
        .position(|w| w == pattern)
        .map(|i| i + pattern.len())
}

/// The digits after the first `pattern` (`"flow_id":`): a record's own
/// field comes before any nested object's.
fn number_field<'a>(line: &'a [u8], pattern: &[u8]) -> Option<&'a [u8]> {
    let start = after(line, pattern)?;
    let rest = line.get(start..)?;
    let len = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    (len > 0).then(|| &rest[..len])
}

/// The string after the first `pattern` (which ends with its opening
/// quote), up to its closing quote; values with escapes are not keys.
fn string_field<'a>(line: &'a [u8], pattern: &[u8]) -> Option<&'a [u8]> {
    let start = after(line, pattern)?;
    let rest = line.get(start..)?;
    let len = rest.iter().position(|&b| b == b'"' || b == b'\\')?;
    (rest[len] == b'"').then(|| &rest[..len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = parse_target("10.0.0.1:9092,k2:9093/eve").unwrap();
        assert_eq!(t.brokers.as_deref(), Some("10.0.0.1:9092,k2:9093"));
        assert_eq!(t.topic.as_deref(), Some("eve"));
        let t = parse_target("").unwrap();
        assert_eq!((t.brokers, t.topic), (None, None));
        let t = parse_target("[::1]:9092").unwrap();
        assert_eq!((t.brokers.as_deref(), t.topic), (Some("[::1]:9092"), None));
        for bad in [
            "k1/eve",
            "k1:0/eve",
            "k1:9092,/x",
            "k1:9092/bad topic",
            ":9092/t",
        ] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn config_ranges() {
        assert!(KafkaConfig::default().validate().is_ok());
        let bad = KafkaConfig {
            compression: "brotli".to_owned(),
            ..KafkaConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("compression"));
        let bad = KafkaConfig {
            queue_records: 0,
            ..KafkaConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("queue_records"));
        let bad = KafkaConfig {
            topics: [("flow".to_owned(), "a/b".to_owned())].into(),
            ..KafkaConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("a/b"));
    }

    #[test]
    fn keys_and_topics_come_off_the_line() {
        let line = br#"{"timestamp":"2024-01-01T00:00:00.000000+0000","flow_id":123456,"event_type":"dns","src_ip":"10.0.0.1","community_id":"1:abc+/=","dns":{"flow_id":9}}"#;
        let cfg = KafkaConfig {
            topics: [("dns".to_owned(), "eve-dns".to_owned())].into(),
            ..KafkaConfig::default()
        };
        let r = RecordRoute::new(&cfg, "eve");
        assert_eq!(r.key(line), Some(&b"123456"[..]));
        assert_eq!(r.topic(line), "eve-dns");
        let stats = br#"{"timestamp":"x","event_type":"stats","stats":{}}"#;
        assert_eq!(r.key(stats), None);
        assert_eq!(r.topic(stats), "eve");
        let r = RecordRoute::new(
            &KafkaConfig {
                key: KeyField::CommunityId,
                ..KafkaConfig::default()
            },
            "eve",
        );
        assert_eq!(r.key(line), Some(&b"1:abc+/="[..]));
        assert_eq!(r.topic(line), "eve");
        let escaped = br#"{"community_id":"1:a\"b"}"#;
        assert_eq!(r.key(escaped), None);
        let r = RecordRoute::new(
            &KafkaConfig {
                key: KeyField::None,
                ..KafkaConfig::default()
            },
            "eve",
        );
        assert_eq!(r.key(line), None);
    }
}
