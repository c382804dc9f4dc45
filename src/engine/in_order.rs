//! Partitions evaluated side by side, their results consumed in partition order.
//!
//! One partition's evaluation keeps two cores about three quarters busy: polars' steps each
//! have serial stretches (a Parquet page decoded while the other thread waits, a kernel's fold
//! under the reduction's lock, the end of every parallel pass). Partitions evaluated at once
//! ([`PARTITIONS_AT_ONCE`]) fill those gaps from each other, and counting a finished partition
//! overlaps the next ones' evaluation. Results are handed on in partition order, so counting and
//! the restricted files see exactly what a sequential loop would give them. A partition evaluated
//! beside others runs its own parallel steps on its thread ([`one_thread_each`]): the partitions
//! already fill the cores.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Condvar, Mutex};

/// Partitions `eligo run` evaluates at once where it has more than one thread. Two filled the
/// cores to about 1.75 of 2 at 10 M patients; three took 2-8 % off the run's wall time there
/// (six alternated rounds, each faster) for 0.1-0.2 GB more at the peak, and four then no more
/// than three (twenty-ninth session). Since the kernels and polars' operations on the
/// partitions' own threads, four took 1-2 % off three at 10 M (eight of nine alternated rounds
/// as fast or faster) for 0.2 GB more, 1.5 GB at the peak (BENCHMARKS.md, fortieth session).
pub const PARTITIONS_AT_ONCE: usize = 4;

/// Runs `work` on every item, on `workers` threads, and hands each result to `consume` in the
/// items' order, on the calling thread. At most `ahead` items are started and not yet consumed,
/// so at most that many results wait in memory.
///
/// Stops at the first error in item order (of `work` or of `consume`) and returns it, once the
/// items already started have finished; items after it are not started.
///
/// Where more than one item runs at once, each runs its parallel steps on its own thread
/// ([`one_thread_each`]): the items side by side fill the cores.
pub fn in_order<T, R, E>(
    items: &[T],
    workers: usize,
    ahead: usize,
    work: impl Fn(&T) -> Result<R, E> + Sync,
    mut consume: impl FnMut(usize, R) -> Result<(), E>,
) -> Result<(), E>
where
    T: Sync,
    R: Send,
    E: Send,
{
    let (workers, ahead) = (workers.max(1), ahead.max(1));
    let gate = Gate {
        state: Mutex::new(Dispatch {
            next: 0,
            consumed: 0,
            stopped: false,
        }),
        changed: Condvar::new(),
    };
    let side_by_side = workers.min(items.len()) > 1;
    std::thread::scope(|scope| {
        let (send, results) = mpsc::channel::<(usize, Result<R, E>)>();
        for _ in 0..workers.min(items.len()) {
            let (send, gate, work) = (send.clone(), &gate, &work);
            scope.spawn(move || {
                let _stop = Stop {
                    gate,
                    only_on_panic: true,
                };
                while let Some(i) = gate.take(items.len(), ahead) {
                    let result = match side_by_side {
                        true => one_thread_each(|| work(&items[i])),
                        false => work(&items[i]),
                    };
                    if send.send((i, result)).is_err() {
                        return;
                    }
                }
            });
        }
        // Only the workers hold senders: if every one of them is gone (a panic), `recv` ends.
        drop(send);
        // However the consumer leaves (an error, a panic of `consume`), no worker waits on.
        let _stop = Stop {
            gate: &gate,
            only_on_panic: false,
        };
        let mut waiting = BTreeMap::new();
        let mut outcome = Ok(());
        'consume: for expected in 0..items.len() {
            let result = loop {
                if let Some(result) = waiting.remove(&expected) {
                    break result;
                }
                match results.recv() {
                    Ok((i, result)) => {
                        waiting.insert(i, result);
                    }
                    // A worker panicked; the scope's join passes its panic on.
                    Err(_) => break 'consume,
                }
            };
            if let Err(e) = result.and_then(|result| consume(expected, result)) {
                outcome = Err(e);
                break;
            }
            gate.consumed(expected + 1);
        }
        outcome
    })
}

/// Which item a worker takes next, and how far the consumer has come.
struct Dispatch {
    next: usize,
    consumed: usize,
    stopped: bool,
}

struct Gate {
    state: Mutex<Dispatch>,
    changed: Condvar,
}

impl Gate {
    /// The next item to work on, waiting while `ahead` items are started and not consumed;
    /// None when every item is taken or the consumer has stopped.
    fn take(&self, len: usize, ahead: usize) -> Option<usize> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if state.stopped || state.next >= len {
                return None;
            }
            if state.next < state.consumed + ahead {
                state.next += 1;
                return Some(state.next - 1);
            }
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn consumed(&self, count: usize) {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .consumed = count;
        self.changed.notify_all();
    }

    fn stop(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).stopped = true;
        self.changed.notify_all();
    }
}

/// Runs `work` with its parallel steps on the calling thread: polars' in-memory operations (a
/// frame's filter, a collected query's morsels put in order) instead of polars' thread pool, and
/// eligo's own ([`join`], [`on_this_thread`]) instead of rayon's; restores the thread's settings
/// after, even on a panic.
///
/// For work that runs beside other such work on every core, as partitions evaluated at once do:
/// there the pools add no parallelism, only threads. Each time a partition's worker woke
/// polars' pool, its two threads spun through rayon's idle rounds, a `sched_yield` each, before
/// sleeping again: half of a 10 M run's 74,000 context switches (BENCHMARKS.md, fortieth
/// session). polars' streaming engine keeps its own executor threads either way.
pub fn one_thread_each<R>(work: impl FnOnce() -> R) -> R {
    use polars_async::executor::ALLOW_RAYON_THREADS;
    struct Restore(bool, bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            ALLOW_RAYON_THREADS.set(self.0);
            ON_THIS_THREAD.set(self.1);
        }
    }
    let _restore = Restore(
        ALLOW_RAYON_THREADS.replace(false),
        ON_THIS_THREAD.replace(true),
    );
    work()
}

thread_local! {
    /// Whether this thread runs its parallel steps itself ([`one_thread_each`]).
    static ON_THIS_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Whether parallel steps should run on this thread, one after the other: inside
/// [`one_thread_each`].
pub fn on_this_thread() -> bool {
    ON_THIS_THREAD.get()
}

/// `rayon::join(a, b)`, or `a` then `b` on this thread inside [`one_thread_each`].
pub fn join<RA: Send, RB: Send>(
    a: impl FnOnce() -> RA + Send,
    b: impl FnOnce() -> RB + Send,
) -> (RA, RB) {
    match on_this_thread() {
        true => (a(), b()),
        false => rayon::join(a, b),
    }
}

/// Stops the dispatch when dropped: a worker's on a panic (else the consumer would wait for its
/// result while the other workers wait for the consumer), the consumer's always.
struct Stop<'a> {
    gate: &'a Gate,
    only_on_panic: bool,
}

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        if !self.only_on_panic || std::thread::panicking() {
            self.gate.stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{in_order, join, on_this_thread, one_thread_each};
    use polars::prelude::*;
    use polars_async::executor::ALLOW_RAYON_THREADS;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Later items finish first (they sleep less); they are still consumed in order.
    #[test]
    fn results_are_consumed_in_item_order() {
        let items: Vec<u64> = (0..12).collect();
        let mut seen = Vec::new();
        in_order(
            &items,
            3,
            4,
            |item| {
                std::thread::sleep(Duration::from_millis(12 - *item));
                Ok::<_, String>((*item, item * 10))
            },
            |i, (item, value)| {
                assert_eq!(i as u64, item);
                seen.push(value);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, (0..12).map(|v| v * 10).collect::<Vec<_>>());
    }

    /// Never more than `ahead` items started and not consumed, however slow the consumer.
    #[test]
    fn at_most_ahead_items_wait() {
        let items = vec![(); 20];
        let (started, consumed) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let most = AtomicUsize::new(0);
        in_order(
            &items,
            4,
            3,
            |_| {
                let started = started.fetch_add(1, Ordering::SeqCst) + 1;
                let waiting = started - consumed.load(Ordering::SeqCst);
                most.fetch_max(waiting, Ordering::SeqCst);
                Ok::<_, ()>(())
            },
            |_, _| {
                std::thread::sleep(Duration::from_millis(2));
                consumed.fetch_add(1, Ordering::SeqCst);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(consumed.load(Ordering::SeqCst), 20);
        let most = most.load(Ordering::SeqCst);
        assert!((1..=3).contains(&most), "{most} items waited at once");
    }

    /// The first error in item order is returned, though a later item's error came first, and
    /// nothing after the failing item is consumed; items far beyond it are never started.
    #[test]
    fn the_first_error_in_item_order_stops_the_run() {
        let items: Vec<usize> = (0..50).collect();
        let started = AtomicUsize::new(0);
        let mut consumed = Vec::new();
        let result = in_order(
            &items,
            2,
            2,
            |&item| {
                started.fetch_add(1, Ordering::SeqCst);
                match item {
                    // Item 4 fails after item 5 has failed.
                    4 => {
                        std::thread::sleep(Duration::from_millis(30));
                        Err(format!("item {item}"))
                    }
                    5 => Err(format!("item {item}")),
                    _ => Ok(item),
                }
            },
            |_, item| {
                consumed.push(item);
                Ok(())
            },
        );
        assert_eq!(result, Err("item 4".to_string()));
        assert_eq!(consumed, vec![0, 1, 2, 3]);
        assert!(started.load(Ordering::SeqCst) <= 6);
    }

    /// An error of the consumer stops the run the same way.
    #[test]
    fn an_error_while_consuming_stops_the_run() {
        let items: Vec<usize> = (0..30).collect();
        let started = AtomicUsize::new(0);
        let result = in_order(
            &items,
            2,
            3,
            |&item| {
                started.fetch_add(1, Ordering::SeqCst);
                Ok(item)
            },
            |_, item| match item {
                2 => Err("consuming 2"),
                _ => Ok(()),
            },
        );
        assert_eq!(result, Err("consuming 2"));
        assert!(started.load(Ordering::SeqCst) <= 5);
    }

    /// A panic in a worker or in the consumer is passed on, not a hang.
    #[test]
    fn panics_are_passed_on() {
        let items: Vec<usize> = (0..40).collect();
        let in_worker = std::panic::catch_unwind(|| {
            in_order(
                &items,
                2,
                2,
                |&item| match item {
                    3 => panic!("worker"),
                    _ => Ok::<_, ()>(item),
                },
                |_, _| Ok(()),
            )
        });
        assert!(in_worker.is_err());
        let in_consumer = std::panic::catch_unwind(|| {
            in_order(
                &items,
                2,
                2,
                |&item| Ok::<_, ()>(item),
                |_, item| match item {
                    3 => panic!("consumer"),
                    _ => Ok(()),
                },
            )
        });
        assert!(in_consumer.is_err());
    }

    #[test]
    fn no_items_and_one_worker() {
        let none: [u8; 0] = [];
        let result = in_order(&none, 2, 2, |_| Ok::<_, ()>(()), |_, _| panic!());
        assert_eq!(result, Ok(()));
        let mut seen = Vec::new();
        in_order(
            &[1, 2, 3],
            1,
            1,
            |v| Ok::<_, ()>(*v),
            |_, v| {
                seen.push(v);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, [1, 2, 3]);
    }

    /// Items run side by side run their parallel steps on their own threads; one worker, or one
    /// item, leaves them to the pools.
    #[test]
    fn items_side_by_side_run_their_steps_on_their_own_threads() {
        let inline = |workers: usize, items: usize| {
            let mut seen = Vec::new();
            in_order(
                &vec![(); items],
                workers,
                workers + 1,
                |_| Ok::<_, ()>(on_this_thread() && !ALLOW_RAYON_THREADS.get()),
                |_, inline| {
                    seen.push(inline);
                    Ok(())
                },
            )
            .unwrap();
            seen
        };
        assert_eq!(inline(3, 5), [true; 5]);
        assert_eq!(inline(1, 5), [false; 5]);
        assert_eq!(inline(3, 1), [false]);
    }

    /// Inside, neither polars nor eligo's steps use a thread pool from this thread; after, they
    /// may again, also after a panic inside; and a frame's operations give the same result
    /// either way.
    #[test]
    fn steps_run_on_this_thread_inside_and_in_pools_after() {
        let frame = df!("a" => (0..10_000).collect::<Vec<i64>>()).unwrap();
        let keep = |frame: &DataFrame| {
            let values = frame.column("a").unwrap().i64().unwrap();
            let mask: BooleanChunked = values.iter().map(|a| a.map(|a| a % 2 == 0)).collect();
            frame.filter(&mask).unwrap()
        };
        let here = std::thread::current().id();
        let threads = || {
            join(
                || std::thread::current().id(),
                || std::thread::current().id(),
            )
        };
        assert!(ALLOW_RAYON_THREADS.get() && !on_this_thread());
        // From outside rayon's pool, a join runs on the pool's threads.
        assert_ne!(threads(), (here, here));
        let inline = one_thread_each(|| {
            assert!(!ALLOW_RAYON_THREADS.get() && on_this_thread());
            assert_eq!(threads(), (here, here));
            keep(&frame)
        });
        assert!(ALLOW_RAYON_THREADS.get() && !on_this_thread());
        assert_eq!(inline.height(), 5_000);
        assert!(inline.equals(&keep(&frame)));
        let panicked = std::panic::catch_unwind(|| one_thread_each(|| panic!("inside")));
        assert!(panicked.is_err());
        assert!(
            ALLOW_RAYON_THREADS.get() && !on_this_thread(),
            "restored after a panic"
        );
    }
}
