//! The `eligo` binary: parse the command line, run the command, map its error to an exit code.

fn main() -> std::process::ExitCode {
    eligo::cli::main()
}
