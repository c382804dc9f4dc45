//! Panic messages held back until eligo knows what the panic means. polars' Parquet reader
//! panics on some damaged pages, in its own threads, and eligo turns such a panic into an error
//! naming the damaged file and column; printed as it happened, each panic's message (and
//! backtrace) came before that error, several times over, as if eligo had crashed. Held here,
//! they are printed only where eligo cannot explain the panic: a bug to report, with them.

use std::backtrace::{Backtrace, BacktraceStatus};
use std::sync::{Mutex, PoisonError};

static HELD: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// From now on, a panic's message (with its backtrace, where `RUST_BACKTRACE` asks for one) is
/// held, not printed.
pub fn hold() {
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let mut message = format!("thread '{}' {info}", thread.name().unwrap_or("<unnamed>"));
        let backtrace = Backtrace::capture();
        if backtrace.status() == BacktraceStatus::Captured {
            message.push_str(&format!("\nstack backtrace:\n{backtrace}"));
        }
        held().push(message);
    }));
}

fn held() -> std::sync::MutexGuard<'static, Vec<String>> {
    HELD.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The messages held so far, oldest first; none are held after.
pub fn take() -> Vec<String> {
    std::mem::take(&mut *held())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panic caught on another thread is held, message and place, and taken once. Other
    /// tests' panics (in threads of their own) may be held meanwhile: only this one's thread
    /// is looked for.
    #[test]
    fn panics_are_held_until_taken() {
        hold();
        let caught = std::thread::Builder::new()
            .name("held-panic-test".into())
            .spawn(|| std::panic::catch_unwind(|| panic!("page 7 is damaged")).is_err())
            .unwrap()
            .join()
            .unwrap();
        let _ = std::panic::take_hook();
        assert!(caught);
        let ours = |held: Vec<String>| -> Vec<String> {
            (held.into_iter())
                .filter(|message| message.starts_with("thread 'held-panic-test' "))
                .collect()
        };
        let held = ours(take());
        assert_eq!(held.len(), 1, "{held:?}");
        assert!(held[0].starts_with("thread 'held-panic-test' panicked at src/cli/panics.rs:"));
        assert!(held[0].contains("page 7 is damaged"), "{}", held[0]);
        assert!(ours(take()).is_empty());
    }
}
