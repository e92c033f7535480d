//! The flowscope TOML configuration file: the engine's tables plus
//! `[output]` and `[pipeline]`. Every key is optional; unknown keys are
//! errors so a typo is reported, not silently ignored.

use crate::eve::OutputConfig;
use flowscope_engine::{DecodeConfig, DefragConfig, FlowConfig, TunnelConfig};
use flowscope_engine::{EngineConfig, ReassemblyConfig};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Pipeline options (`[pipeline]`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// Packets per epoch: timers fire every this many packets.
    pub epoch_packets: u64,
    /// Shard threads; 0 runs one engine on the main thread. Absent: one per
    /// core but one, at least one.
    pub shards: Option<usize>,
    /// Pin threads to cores. Absent: pin when every thread gets a core.
    pub pin: Option<bool>,
    /// Packets per batch handed to a shard.
    pub batch_packets: usize,
    /// Batches queued per shard before the ingest waits.
    pub queue_batches: usize,
    /// Merge the shards' output on a thread of its own instead of the
    /// thread writing the output (which measured as fast or faster, with
    /// lower latency, and needs one thread less).
    pub merger_thread: bool,
    /// Live input (capture, paced replay): milliseconds the ingest waits
    /// for room in a full shard queue before dropping the batch.
    pub live_drop_wait_ms: u64,
}

/// Most shard threads a configuration may ask for.
pub const MAX_SHARDS: usize = 1024;

impl PipelineConfig {
    /// Rejects values the pipeline cannot work with.
    pub fn check(&self) -> Result<(), String> {
        let bad = |what: &str| Err(format!("[pipeline] {what}"));
        if self.epoch_packets == 0 {
            return bad("epoch_packets must be at least 1");
        }
        if !(1..=65_536).contains(&self.batch_packets) {
            return bad("batch_packets must be between 1 and 65536");
        }
        if !(1..=4096).contains(&self.queue_batches) {
            return bad("queue_batches must be between 1 and 4096");
        }
        if self.shards.is_some_and(|n| n > MAX_SHARDS) {
            return bad("shards must be at most 1024");
        }
        if self.live_drop_wait_ms > 1000 {
            return bad("live_drop_wait_ms must be at most 1000");
        }
        Ok(())
    }
}

impl PipelineConfig {
    /// The pipeline options of a run with `shards` threads, pinning
    /// overridden by `pin` when given.
    pub fn for_run(&self, shards: usize, pin: Option<bool>) -> flowscope_shards::PipelineConfig {
        flowscope_shards::PipelineConfig {
            shards,
            pin: pin.or(self.pin),
            epoch_packets: self.epoch_packets,
            batch_packets: self.batch_packets,
            queue_batches: self.queue_batches,
            merge_on_consumer: !self.merger_thread,
            drop_wait: std::time::Duration::from_millis(self.live_drop_wait_ms),
            ..flowscope_shards::PipelineConfig::default()
        }
    }
}

impl Default for PipelineConfig {
    fn default() -> Self {
        let p = flowscope_shards::PipelineConfig::default();
        PipelineConfig {
            epoch_packets: flowscope_shards::DEFAULT_EPOCH_PACKETS,
            shards: None,
            pin: None,
            batch_packets: p.batch_packets,
            queue_batches: p.queue_batches,
            merger_thread: false,
            live_drop_wait_ms: p.drop_wait.as_millis() as u64,
        }
    }
}

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[decode]`.
    pub decode: DecodeConfig,
    /// `[tunnel]`.
    pub tunnel: TunnelConfig,
    /// `[flow]`.
    pub flow: FlowConfig,
    /// `[defrag]`.
    pub defrag: DefragConfig,
    /// `[reassembly]`.
    pub reassembly: ReassemblyConfig,
    /// `[output]`.
    pub output: OutputConfig,
    /// `[pipeline]`.
    pub pipeline: PipelineConfig,
    /// `[parsers]` (`[parsers.http]`, `[parsers.dns]`, `[parsers.tls]`).
    pub parsers: flowscope_engine::parsers::ParsersConfig,
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
        let text = std::fs::read_to_string(path).map_err(|source| ConfigFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        let cfg = Config::parse(&text).map_err(|message| ConfigFileError::Parse {
            path: path.to_owned(),
            message,
        })?;
        cfg.engine()
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

    /// The engine part.
    pub fn engine(&self) -> EngineConfig {
        EngineConfig {
            decode: self.decode.clone(),
            tunnel: self.tunnel.clone(),
            flow: self.flow.clone(),
            defrag: self.defrag.clone(),
            reassembly: self.reassembly.clone(),
        }
    }
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
        let text = include_str!("../../configs/default.toml");
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
        assert_eq!(c.flow.key, flowscope_engine::KeyKind::IpPair);
        assert_eq!(c.flow.udp_timeout, 30);
        assert_eq!(c.flow.port_timeouts[0].port, 53);
        assert_eq!(c.pipeline.epoch_packets, 10);
        let e = Config::parse("[flow]\nudp_timout = 30\n").unwrap_err();
        assert!(e.contains("udp_timout"), "{e}");
        let e = Config::parse("[pipeline]\nbatch_packets = 0\n").unwrap_err();
        assert!(e.contains("batch_packets"), "{e}");
        let e = Config::parse("[pipeline]\nepoch_packets = 0\n").unwrap_err();
        assert!(e.contains("epoch_packets"), "{e}");
        let c = Config::parse("[pipeline]\nshards = 3\npin = false\n").unwrap();
        assert_eq!((c.pipeline.shards, c.pipeline.pin), (Some(3), Some(false)));
        let e = Config::parse("[flows]\n").unwrap_err();
        assert!(e.contains("flows"), "{e}");
        let e = Config::parse("[flow]\nmax_flows = \"many\"\n").unwrap_err();
        assert!(e.contains("max_flows") || e.contains("integer"), "{e}");
    }
}
