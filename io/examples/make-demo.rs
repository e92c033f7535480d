//! Regenerates `io/demo/demo.pcap`, the capture `flowscope replay` plays
//! when given no file.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/demo.pcap");
    let bytes = flowscope_io::demo_capture();
    std::fs::write(&path, &bytes)?;
    eprintln!("wrote {} ({} bytes)", path.display(), bytes.len());
    Ok(())
}
