//! One capture file down the whole path, as `flowscope replay` takes it
//! with one engine: the input bytes as a capture file (pcap or pcapng; the
//! corpus starts with real captures) read by the file source, an engine
//! with every built-in parser on (and their optional outputs) driven with
//! epoch boundaries, every event rendered as an EVE line, then the final
//! flush and the stats record. The output is discarded; every line must be
//! one JSON object, valid to a strict parser.
#![no_main]

use flowscope_engine::parsers::{ParsersConfig, builtin};
use flowscope_engine::{Engine, EngineConfig, FiveTuple, FiveTupleKey, FlowHook, KeyOptions};
use flowscope_io::{CaptureBytes, CaptureFile, EveRenderer, FileSource, OutputConfig};
use flowscope_shards::{InlineRunner, PacketSource, SourceError};
use libfuzzer_sys::fuzz_target;

/// Checks a batch of rendered lines and empties the buffer.
fn drain(out: &mut Vec<u8>) {
    for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        assert!(
            line.first() == Some(&b'{') && line.last() == Some(&b'}'),
            "not a JSON object: {}",
            String::from_utf8_lossy(line)
        );
        assert!(std::str::from_utf8(line).is_ok(), "not UTF-8");
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(line) {
            panic!("not JSON ({e}): {}", String::from_utf8_lossy(line));
        }
    }
    assert!(out.is_empty() || out.last() == Some(&b'\n'));
    out.clear();
}

fuzz_target!(|data: &[u8]| {
    let mut cfg = EngineConfig::default();
    // Small enough that eviction and its report are reachable.
    cfg.flow.max_flows = 256;
    cfg.flow.lifecycle_events = true;
    cfg.flow.active_timeout = 120;
    let mut parsers = ParsersConfig::default();
    parsers.http.headers = true;
    parsers.http.body_sha256 = true;
    parsers.http.body_sample_bytes = 64;
    parsers.tls.chain = true;
    let hook = builtin::<FiveTupleKey>(&cfg.reassembly, &parsers);
    let extractor = FiveTuple::new(KeyOptions::from_config(&cfg));
    let Ok(engine) = Engine::with_hook(&cfg, extractor, hook) else {
        return;
    };
    let mut runner = InlineRunner::new(engine, 64);
    let mut renderer = EveRenderer::new(OutputConfig {
        tls_client_handshake: true,
        ..OutputConfig::default()
    })
    .with_interfaces(vec!["eth0".into(), "eth1".into()]);

    let file = CaptureFile::from_bytes("fuzz-input", CaptureBytes::Owned(data.to_vec()));
    let mut source = FileSource::new(vec![file]);
    let mut out = Vec::new();
    loop {
        match source.next_packet() {
            None => break,
            Some(Err(SourceError::Idle)) => continue,
            Some(Err(_)) => break,
            Some(Ok(p)) => runner.push(&p.raw),
        }
        for ev in runner.events() {
            renderer.render(&ev, &mut out);
        }
        drain(&mut out);
    }
    runner.finish();
    for ev in runner.events() {
        renderer.render(&ev, &mut out);
    }
    let engine = runner.engine();
    let sessions = engine.hook().session_counters();
    renderer.render_stats(&engine.stats(), sessions.as_ref(), engine.clock(), &mut out);
    drain(&mut out);
    let _ = source.take_damaged();
});
