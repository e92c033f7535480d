//! The progress bar of `replay` on a terminal (capture bytes read): a bar
//! with a percentage and an estimate when the inputs' total size is known,
//! else (a stream among them) a spinner with the bytes read and the rate.

/// A progress bar on stderr for `total` bytes, or for an unknown total.
pub(crate) fn progress_bar(total: Option<u64>) -> indicatif::ProgressBar {
    let pb =
        indicatif::ProgressBar::with_draw_target(total, indicatif::ProgressDrawTarget::stderr());
    let template = match total {
        Some(_) => {
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})"
        }
        None => "{spinner} [{elapsed_precise}] {bytes} read ({bytes_per_sec})",
    };
    let style = indicatif::ProgressStyle::with_template(template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    pb.set_style(style);
    if total.is_none() {
        // A stream may pause: the clock and spinner still move.
        pb.enable_steady_tick(std::time::Duration::from_millis(250));
    }
    pb
}
