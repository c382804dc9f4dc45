//! The `eligo` binary: parse the command line, run the command, map its error to an exit code.

#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read before `main`. `oversize_threshold:0`: no dedicated arena for
/// allocations of 8 MiB and more. That arena returns every freed extent to the kernel at once
/// (its decay is 0, "less immediate reuse is expected"), but polars' column buffers are such
/// allocations, made and freed over and over: each one came back as fresh pages that the kernel
/// faults in and zeroes again. In the normal arenas they are reused within jemalloc's decay time
/// (10 s): at 10 M patients system time 10-15 -> 5-5.5 s, wall -14 %, peak memory +5 %
/// (BENCHMARKS.md). No transparent huge pages (`thp:always` until the twentieth session): on
/// this machine's kernel zeroing 2 MiB pages on every fault cost more than the fewer faults
/// saved. `_RJEM_MALLOC_CONF` in the environment still overrides these.
#[cfg(target_os = "linux")]
#[export_name = "_rjem_malloc_conf"]
static MALLOC_CONF: Option<&'static u8> = Some(&b"oversize_threshold:0\0"[0]);

fn main() -> std::process::ExitCode {
    eligo::cli::main()
}
