//! The `eligo` binary: parse the command line, run the command, map its error to an exit code.

#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read before `main`: its pages advised as transparent huge pages, so a
/// run faults in 2 MiB at a time instead of 4 KiB (at 10 M patients 2.0 M -> 0.25 M page
/// faults, system time 6.3-7.2 -> 4.5-5.2 s; peak memory +10 %; BENCHMARKS.md). Where
/// the kernel has transparent huge pages off, the advice does nothing. `_RJEM_MALLOC_CONF` in
/// the environment still overrides it (`thp:default` for the kernel's default).
#[cfg(target_os = "linux")]
#[export_name = "_rjem_malloc_conf"]
static MALLOC_CONF: Option<&'static u8> = Some(&b"thp:always\0"[0]);

fn main() -> std::process::ExitCode {
    eligo::cli::main()
}
