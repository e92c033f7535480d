//! The flowscope TOML configuration file: the engine's tables plus
//! `[output]`, `[pipeline]` and `[parsers]`. Every key is optional; unknown
//! keys are errors so a typo is reported, not silently ignored.

use crate::sink::{SINK_KEYS, SinkConfig};
use flowscope_engine::{DecodeConfig, DefragConfig, FlowConfig, TunnelConfig};
use flowscope_engine::{EngineConfig, ReassemblyConfig};
use flowscope_io::OutputConfig;
use flowscope_shards::PipelineConfig;
use serde::Deserialize;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The most bytes a configuration file may hold.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The whole configuration: the engine's part as one [`EngineConfig`], so a
/// run uses it as it is.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(try_from = "ConfigFile")]
pub struct Config {
    /// `[decode]`, `[tunnel]`, `[flow]`, `[defrag]` and `[reassembly]`.
    pub engine: EngineConfig,
    /// `[output]`: what shapes the records.
    pub output: OutputConfig,
    /// `[output]`: where they go (`filetype`, `append`, `rotate_size`,
    /// `rotate_interval`, `pcap_filename`, `[output.kafka]`).
    pub sink: SinkConfig,
    /// `[pipeline]`.
    pub pipeline: PipelineConfig,
    /// `[parsers]` (`[parsers.http]`, `[parsers.dns]`, `[parsers.tls]`).
    pub parsers: flowscope_engine::parsers::ParsersConfig,
    /// `[ipfix]`: flow records exported to a collector.
    pub ipfix: crate::ipfix::IpfixConfig,
}

/// The file's layout: every table at the top level.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ConfigFile {
    decode: DecodeConfig,
    tunnel: TunnelConfig,
    flow: FlowConfig,
    defrag: DefragConfig,
    reassembly: ReassemblyConfig,
    output: toml::Table,
    pipeline: PipelineConfig,
    parsers: flowscope_engine::parsers::ParsersConfig,
    ipfix: crate::ipfix::IpfixConfig,
}

impl TryFrom<ConfigFile> for Config {
    type Error = String;
    fn try_from(mut f: ConfigFile) -> Result<Self, String> {
        // `[output]` is one table in the file, two in the program: the
        // sink's keys, and the rest for the renderer.
        let mut sink = toml::Table::new();
        for key in SINK_KEYS {
            if let Some(v) = f.output.remove(key) {
                sink.insert(key.to_owned(), v);
            }
        }
        let in_output = |e: toml::de::Error| format!("in `[output]`: {}", e.message());
        let output: OutputConfig = toml::Value::Table(f.output).try_into().map_err(in_output)?;
        crate::args::parse_stats_interval(&output.stats_interval.to_string())
            .map_err(|e| format!("in `[output]`: stats_interval: {e}"))?;
        let sink: SinkConfig = toml::Value::Table(sink).try_into().map_err(in_output)?;
        sink.kafka
            .validate()
            .map_err(|e| format!("in `[output.kafka]`: {e}"))?;
        Ok(Config {
            engine: EngineConfig {
                decode: f.decode,
                tunnel: f.tunnel,
                flow: f.flow,
                defrag: f.defrag,
                reassembly: f.reassembly,
            },
            output,
            sink,
            pipeline: f.pipeline,
            parsers: f.parsers,
            ipfix: {
                f.ipfix
                    .validate()
                    .map_err(|e| format!("in `[ipfix]`: {e}"))?;
                f.ipfix
            },
        })
    }
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_CONFIG_BYTES`] (or never ends, like
    /// `/dev/zero`).
    #[error("cannot read config {path}: it is larger than 1 MiB, the most a config file may hold")]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// The TOML is malformed or has unknown keys or wrong types.
    #[error("invalid config {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// Values that parse but cannot work.
    #[error("invalid config {path}: {source}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: flowscope_engine::ConfigError,
    },
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigFileError> {
        let text = read_bounded(path)?;
        let cfg = Config::parse(&text).map_err(|message| ConfigFileError::Parse {
            path: path.to_owned(),
            message,
        })?;
        cfg.engine
            .validate()
            .and_then(|()| cfg.parsers.validate())
            .map_err(|source| ConfigFileError::Invalid {
                path: path.to_owned(),
                source,
            })?;
        Ok(cfg)
    }

    /// Parses TOML text.
    pub fn parse(text: &str) -> Result<Config, String> {
        let cfg: Config = toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())?;
        cfg.pipeline.check()?;
        Ok(cfg)
    }
}

/// The file's text, read through a bound so a huge file or one that never
/// ends (`/dev/zero`) is refused after [`MAX_CONFIG_BYTES`] bytes.
fn read_bounded(path: &Path) -> Result<String, ConfigFileError> {
    let read_err = |source| ConfigFileError::Read {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(ConfigFileError::TooLarge {
            path: path.to_owned(),
        });
    }
    String::from_utf8(bytes).map_err(|e| {
        read_err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            e.utf8_error(),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_default() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn shipped_default_config_is_the_default() {
        let text = include_str!("../../../configs/default.toml");
        assert_eq!(
            Config::parse(text).unwrap(),
            Config::default(),
            "configs/default.toml drifted from the code defaults"
        );
    }

    #[test]
    fn values_and_errors() {
        let c = Config::parse(
            "[flow]\nkey = \"ip_pair\"\nudp_timeout = 30\nport_timeouts = [{ proto = \"udp\", port = 53, timeout = 5 }]\n[pipeline]\nepoch_packets = 10\n",
        )
        .unwrap();
        assert_eq!(c.engine.flow.key, flowscope_engine::KeyKind::IpPair);
        assert_eq!(c.engine.flow.udp_timeout, 30);
        assert_eq!(c.engine.flow.port_timeouts[0].port, 53);
        assert_eq!(c.pipeline.epoch_packets, 10);
        let e = Config::parse("[flow]\nudp_timout = 30\n").unwrap_err();
        assert!(e.contains("udp_timout"), "{e}");
        let e = Config::parse("[pipeline]\nbatch_packets = 0\n").unwrap_err();
        assert!(e.contains("batch_packets"), "{e}");
        let e = Config::parse("[pipeline]\nepoch_packets = 0\n").unwrap_err();
        assert!(e.contains("epoch_packets"), "{e}");
        let e = Config::parse("[pipeline]\ningest_threads = 65\n").unwrap_err();
        assert!(e.contains("ingest_threads"), "{e}");
        let c = Config::parse("[pipeline]\ningest_threads = 0\n").unwrap();
        assert_eq!(c.pipeline.ingest_threads_for(6), 3);
        let c = Config::parse("[pipeline]\ningest_threads = 4\n").unwrap();
        assert_eq!(c.pipeline.ingest_threads, 4);
        let c = Config::parse("[pipeline]\nshards = 3\npin = false\n").unwrap();
        assert_eq!((c.pipeline.shards, c.pipeline.pin), (Some(3), Some(false)));
        let e = Config::parse("[flows]\n").unwrap_err();
        assert!(e.contains("flows"), "{e}");
        let c = Config::parse(
            "[output]\nanomalies = false\nappend = true\nfiletype = \"unix_dgram\"\nrotate_size = \"2M\"\nrotate_interval = \"1h\"\n",
        )
        .unwrap();
        assert!(!c.output.anomalies && c.sink.append);
        assert_eq!(c.sink.filetype, crate::sink::FileType::UnixDgram);
        assert_eq!(
            (c.sink.rotate_size, c.sink.rotate_interval),
            (Some(2 << 20), Some(3600))
        );
        let e = Config::parse("[output]\nfiletype = \"pipe\"\n").unwrap_err();
        assert!(e.contains("[output]") && e.contains("pipe"), "{e}");
        let e = Config::parse("[output]\nappendd = true\n").unwrap_err();
        assert!(e.contains("appendd"), "{e}");
        let e = Config::parse("[output]\nrotate_size = 0\n").unwrap_err();
        assert!(e.contains("rotate_size"), "{e}");
        let c = Config::parse("[output]\nprofile = \"strict\"\n").unwrap();
        assert_eq!(c.output.profile, flowscope_io::EveProfile::Strict);
        let c = Config::parse("[output]\nstats_interval = 2.5\n").unwrap();
        assert_eq!(c.output.stats_interval, 2.5);
        let e = Config::parse("[output]\nstats_interval = 100000\n").unwrap_err();
        assert!(e.contains("stats_interval"), "{e}");
        let e = Config::parse("[output]\nprofile = \"loose\"\n").unwrap_err();
        assert!(e.contains("loose") && e.contains("strict"), "{e}");
        let c = Config::parse(
            "[output]\nfiletype = \"kafka\"\n[output.kafka]\nbrokers = \"k1:9092,k2:9092\"\ntopic = \"eve\"\nkey = \"community_id\"\ntopics = { flow = \"eve-flow\" }\ncompression = \"zstd\"\nproperties = { \"security.protocol\" = \"ssl\" }\n",
        )
        .unwrap();
        assert_eq!(c.sink.filetype, crate::sink::FileType::Kafka);
        assert_eq!(c.sink.kafka.brokers.as_deref(), Some("k1:9092,k2:9092"));
        assert_eq!(c.sink.kafka.key, crate::sink::kafka::KeyField::CommunityId);
        assert_eq!(c.sink.kafka.topics["flow"], "eve-flow");
        assert_eq!(c.sink.kafka.properties["security.protocol"], "ssl");
        let e = Config::parse("[output.kafka]\ncompression = \"brotli\"\n").unwrap_err();
        assert!(e.contains("[output.kafka]") && e.contains("brotli"), "{e}");
        let e = Config::parse("[output.kafka]\nbrokers = \"k1\"\n").unwrap_err();
        assert!(e.contains("HOST:PORT"), "{e}");
        let e = Config::parse("[output.kafka]\nlinger = 5\n").unwrap_err();
        assert!(e.contains("linger"), "{e}");
        let e = Config::parse("[flow]\nmax_flows = \"many\"\n").unwrap_err();
        assert!(e.contains("max_flows") || e.contains("integer"), "{e}");
    }
}
