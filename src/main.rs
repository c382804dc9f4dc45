//! The `eligo` binary: parse the command line, run the command, map its error to an exit code.

#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: ZeroedByWriting = ZeroedByWriting;

/// jemalloc, with zeroed memory zeroed by writing it. jemalloc hands out pages fresh from the
/// kernel (or given back to it) as zeroed without touching them; Linux maps such a page to its
/// shared zero page on the first read, and the first write then faults again, copies, and
/// flushes the page from every core running the process (an inter-processor interrupt, dear in
/// a VM). eligo's per-patient accumulators are zeroed and then read before they are written
/// (`flags[p] |= ...`, `counts[p] += 1`), as are polars' bitmaps: at 1 M patients a quarter of
/// the page-fault time was these second faults. Written first, each page faults once.
#[cfg(target_os = "linux")]
struct ZeroedByWriting;

#[cfg(target_os = "linux")]
unsafe impl std::alloc::GlobalAlloc for ZeroedByWriting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        unsafe { tikv_jemallocator::Jemalloc.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        unsafe {
            let memory = tikv_jemallocator::Jemalloc.alloc(layout);
            if !memory.is_null() {
                std::ptr::write_bytes(memory, 0, layout.size());
            }
            memory
        }
    }

    unsafe fn dealloc(&self, memory: *mut u8, layout: std::alloc::Layout) {
        unsafe { tikv_jemallocator::Jemalloc.dealloc(memory, layout) }
    }

    unsafe fn realloc(&self, memory: *mut u8, layout: std::alloc::Layout, size: usize) -> *mut u8 {
        unsafe { tikv_jemallocator::Jemalloc.realloc(memory, layout, size) }
    }
}

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

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::ZeroedByWriting;
    use std::alloc::{GlobalAlloc, Layout};

    /// Zeroed memory is zero whether jemalloc hands back pages it had written (a small size
    /// class, reused at once) or fresh ones (a large allocation).
    #[test]
    fn alloc_zeroed_is_zero_after_dirty_reuse() {
        for size in [24, 4096, 3 << 20] {
            let layout = Layout::from_size_align(size, 8).unwrap();
            unsafe {
                let dirty = ZeroedByWriting.alloc(layout);
                assert!(!dirty.is_null());
                std::ptr::write_bytes(dirty, 0xA5, size);
                ZeroedByWriting.dealloc(dirty, layout);
                let zeroed = ZeroedByWriting.alloc_zeroed(layout);
                assert!(!zeroed.is_null());
                let bytes = std::slice::from_raw_parts(zeroed, size);
                assert!(bytes.iter().all(|b| *b == 0), "size {size}");
                let grown = ZeroedByWriting.realloc(zeroed, layout, size * 2);
                assert!(std::slice::from_raw_parts(grown, size)
                    .iter()
                    .all(|b| *b == 0));
                ZeroedByWriting.dealloc(grown, Layout::from_size_align(size * 2, 8).unwrap());
            }
        }
    }
}
