//! The `eligo` binary: parse the command line, run the command, map its error to an exit code.

#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    eligo::cli::main()
}
