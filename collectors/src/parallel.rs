//! Work spread over the cores with the results in a fixed order, so that what runs in parallel
//! gives the answers of one thread: an import's line parsing and bucket merges, the audit units
//! side by side (`govmedia-rules`' engine), the report's table files (`govmedia-reports`).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The threads to use for work that fills every core.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `f` of every item on `workers` threads, the results in the items' order; the first error (in
/// item order) stops the items not yet started.
pub fn map_in_order<T: Sync, R: Send, E: Send>(
    items: &[T],
    workers: usize,
    f: impl Fn(&T) -> Result<R, E> + Sync,
) -> Result<Vec<R>, E> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let done: Mutex<Vec<(usize, Result<R, E>)>> = Mutex::new(Vec::with_capacity(items.len()));
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            scope.spawn(|| {
                while !failed.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let result = f(item);
                    failed.fetch_or(result.is_err(), Ordering::Relaxed);
                    done.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((i, result));
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_item_order_and_the_first_error_stops_the_rest() {
        let items: Vec<usize> = (0..50).collect();
        for workers in [1, 2, 3] {
            let doubled = map_in_order(&items, workers, |i| Ok::<_, String>(i * 2)).unwrap();
            assert_eq!(doubled, (0..50).map(|i| i * 2).collect::<Vec<_>>());
            let failed = map_in_order(&items, workers, |&i| {
                if i >= 7 {
                    Err(format!("unit {i}"))
                } else {
                    Ok(i)
                }
            });
            assert_eq!(failed, Err("unit 7".to_string()));
        }
    }
}
