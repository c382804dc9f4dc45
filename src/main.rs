//! The `eligo` binary: parse the command line, run the command, map its error to an exit code.

#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read before `main` (BENCHMARKS.md, twentieth session, has the runs):
/// - `oversize_threshold:0`: no dedicated arena for allocations of 8 MiB and more. That arena
///   returns every freed extent to the kernel at once (its decay is 0, "less immediate reuse is
///   expected"), but polars' column buffers are such allocations, made and freed over and over:
///   each came back as fresh pages that the kernel faulted in and zeroed again. At 10 M patients
///   system time 10-15 -> 5-5.5 s, wall -14 %, peak memory +5 %.
/// - `dirty_decay_ms:30000` (10 s by default): freed pages are kept three times as long, so a
///   run of tens of seconds reuses more and faults in fewer: at 10 M, minor faults -25 %,
///   system time -1 s, wall 0.4-3.0 s less in each of three alternated rounds, peak memory
///   +4 %. Keeping them for good (`-1`) took 1.8-2.3 GB and was no faster.
///
/// No transparent huge pages (`thp:always` until the twentieth session): on this machine's
/// kernel, zeroing 2 MiB pages on every fault cost more than the fewer faults saved.
/// `_RJEM_MALLOC_CONF` in the environment still overrides these.
#[cfg(target_os = "linux")]
#[export_name = "_rjem_malloc_conf"]
static MALLOC_CONF: Option<&'static u8> = Some(&b"oversize_threshold:0,dirty_decay_ms:30000\0"[0]);

fn main() -> std::process::ExitCode {
    eligo::cli::main()
}
