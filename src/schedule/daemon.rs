//! The daemon loop: sleep until the next due time, an explicit wake-up, or shutdown.
//!
//! Shutdown never interrupts a running `on_wake`: a renewal half done (order placed, files not
//! yet swapped) is worse than a shutdown delayed by a minute. Shutdown is checked before and
//! right after every `on_wake`, so once it has fired no further wake starts. A caller that
//! needs a hard stop can race `run` against a second signal itself.

use std::future::Future;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use tokio::sync::Notify;
use tokio::time::{sleep_until, Instant};

/// Longest single sleep. Monotonic sleeps do not count time spent suspended (or a paused
/// VM), so the loop re-reads the wall clock at least this often.
pub(crate) const MAX_SLEEP: Duration = Duration::minutes(15);

/// Least time between the end of one timer-driven wake and the next, so a `next_wakeup` that
/// keeps answering "now" (e.g. a renewal that fails without recording backoff) cannot spin
/// against the CA. Explicit wake-ups are not delayed.
pub(crate) const MIN_INTERVAL: Duration = Duration::MINUTE;

/// The earliest of several due times (`None` if there are none).
pub(crate) fn earliest(times: impl IntoIterator<Item = OffsetDateTime>) -> Option<OffsetDateTime> {
    times.into_iter().min()
}

/// Runs until `shutdown` completes, calling `on_wake` whenever the wall clock reaches
/// `next_wakeup(now)` or `wake` is notified.
///
/// `next_wakeup` is asked again after every wake and every capped sleep, so it should be
/// cheap and read the caller's current state. Use `wake.notify_one()`: it stores a permit,
/// so a wake-up sent while `on_wake` is running is not lost.
pub(crate) async fn run<N, W, F, S>(next_wakeup: N, on_wake: W, wake: Arc<Notify>, shutdown: S)
where
    N: FnMut(OffsetDateTime) -> OffsetDateTime,
    W: FnMut() -> F,
    F: Future<Output = ()>,
    S: Future<Output = ()>,
{
    run_with_clock(
        OffsetDateTime::now_utc,
        next_wakeup,
        on_wake,
        wake,
        shutdown,
    )
    .await;
}

/// [`run`] with the wall clock passed in, for tests driven by tokio's paused time.
pub(crate) async fn run_with_clock<C, N, W, F, S>(
    mut clock: C,
    mut next_wakeup: N,
    mut on_wake: W,
    wake: Arc<Notify>,
    shutdown: S,
) where
    C: FnMut() -> OffsetDateTime,
    N: FnMut(OffsetDateTime) -> OffsetDateTime,
    W: FnMut() -> F,
    F: Future<Output = ()>,
    S: Future<Output = ()>,
{
    tokio::pin!(shutdown);
    let mut quiet_until: Option<Instant> = None;
    loop {
        let now = clock();
        let next = next_wakeup(now);
        let wait = (next - now).clamp(Duration::ZERO, MAX_SLEEP);
        // Cannot fail: `wait` was clamped to be non-negative.
        let wait = std::time::Duration::try_from(wait).unwrap_or_default();
        let mut deadline = Instant::now() + wait;
        if let Some(quiet) = quiet_until {
            deadline = deadline.max(quiet);
        }
        let timer = tokio::select! {
            biased;
            () = &mut shutdown => return,
            () = wake.notified() => false,
            () = sleep_until(deadline) => true,
        };
        // A capped sleep, or a wall clock that ran slow: ask again rather than wake early.
        if timer && clock() < next {
            continue;
        }
        on_wake().await;
        if timer {
            quiet_until = Some(Instant::now() + std_duration(MIN_INTERVAL));
        }
    }
}

fn std_duration(d: Duration) -> std::time::Duration {
    std::time::Duration::try_from(d).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use time::macros::datetime;
    use tokio::sync::oneshot;

    const BASE: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

    /// A wall clock that follows tokio's (paused) clock from BASE.
    fn paused_clock() -> impl FnMut() -> OffsetDateTime + Clone {
        let start = Instant::now();
        move || BASE + (Instant::now() - start)
    }

    type Log = Arc<Mutex<Vec<OffsetDateTime>>>;

    fn recorder(
        clock: impl FnMut() -> OffsetDateTime + Clone,
        log: &Log,
    ) -> impl FnMut() -> std::future::Ready<()> {
        let log = log.clone();
        move || {
            let mut clock = clock.clone();
            log.lock().unwrap().push(clock());
            std::future::ready(())
        }
    }

    fn shutdown_pair() -> (oneshot::Sender<()>, impl Future<Output = ()>) {
        let (tx, rx) = oneshot::channel::<()>();
        (tx, async move {
            let _ = rx.await;
        })
    }

    /// Next multiple of 10 minutes strictly after `now`.
    fn every_ten_minutes(now: OffsetDateTime) -> OffsetDateTime {
        let step = Duration::minutes(10);
        let n = (now - BASE).whole_seconds() / step.whole_seconds() + 1;
        BASE + step * n as i32
    }

    #[tokio::test(start_paused = true)]
    async fn wakes_at_the_right_times_and_stops_on_shutdown() {
        let clock = paused_clock();
        let log = Log::default();
        let (tx, shutdown) = shutdown_pair();
        let task = tokio::spawn(run_with_clock(
            clock.clone(),
            every_ten_minutes,
            recorder(clock.clone(), &log),
            Arc::new(Notify::new()),
            shutdown,
        ));
        tokio::time::sleep(std::time::Duration::from_secs(35 * 60)).await;
        let before = Instant::now();
        tx.send(()).unwrap();
        task.await.unwrap();
        assert_eq!(
            Instant::now(),
            before,
            "returned without waiting for the next wake"
        );
        let m = |n| BASE + Duration::minutes(n);
        assert_eq!(*log.lock().unwrap(), vec![m(10), m(20), m(30)]);
    }

    #[tokio::test(start_paused = true)]
    async fn long_waits_are_split_but_wake_exactly_once_on_time() {
        let clock = paused_clock();
        let log = Log::default();
        let due = BASE + Duration::days(1) + Duration::seconds(7);
        let asked = Arc::new(Mutex::new(0u32));
        let asked2 = asked.clone();
        let next = move |now: OffsetDateTime| {
            *asked2.lock().unwrap() += 1;
            if now < due {
                due
            } else {
                due + Duration::days(365)
            }
        };
        let (tx, shutdown) = shutdown_pair();
        let task = tokio::spawn(run_with_clock(
            clock.clone(),
            next,
            recorder(clock.clone(), &log),
            Arc::new(Notify::new()),
            shutdown,
        ));
        tokio::time::sleep(std::time::Duration::from_secs(2 * 86_400)).await;
        tx.send(()).unwrap();
        task.await.unwrap();
        assert_eq!(*log.lock().unwrap(), vec![due]);
        // Re-evaluated at least every MAX_SLEEP (96 quarter hours a day), not in a tight loop.
        let asked = *asked.lock().unwrap();
        assert!((96..400).contains(&asked), "{asked}");
    }

    #[tokio::test(start_paused = true)]
    async fn notify_wakes_immediately() {
        let clock = paused_clock();
        let log = Log::default();
        let wake = Arc::new(Notify::new());
        let (tx, shutdown) = shutdown_pair();
        let task = tokio::spawn(run_with_clock(
            clock.clone(),
            |now| now + Duration::days(30),
            recorder(clock.clone(), &log),
            wake.clone(),
            shutdown,
        ));
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        wake.notify_one();
        tokio::time::sleep(std::time::Duration::from_secs(4)).await;
        wake.notify_one();
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        tx.send(()).unwrap();
        task.await.unwrap();
        let s = |n| BASE + Duration::seconds(n);
        assert_eq!(*log.lock().unwrap(), vec![s(3), s(7)]);
    }

    #[tokio::test(start_paused = true)]
    async fn in_flight_wake_finishes_before_shutdown_returns() {
        let clock = paused_clock();
        let finished = Arc::new(Mutex::new(0u32));
        let finished2 = finished.clone();
        let on_wake = move || {
            let finished = finished2.clone();
            async move {
                tokio::time::sleep(std::time::Duration::from_secs(600)).await;
                *finished.lock().unwrap() += 1;
            }
        };
        let (tx, shutdown) = shutdown_pair();
        let task = tokio::spawn(run_with_clock(
            clock.clone(),
            |now| now, // always due: only MIN_INTERVAL spaces the wakes
            on_wake,
            Arc::new(Notify::new()),
            shutdown,
        ));
        let start = Instant::now();
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        tx.send(()).unwrap(); // mid-way through the first wake
        task.await.unwrap();
        assert_eq!(*finished.lock().unwrap(), 1, "finished, and no second wake");
        assert_eq!(Instant::now() - start, std::time::Duration::from_secs(600));
    }

    #[tokio::test(start_paused = true)]
    async fn always_due_is_rate_limited_by_min_interval() {
        let clock = paused_clock();
        let log = Log::default();
        let (tx, shutdown) = shutdown_pair();
        let task = tokio::spawn(run_with_clock(
            clock.clone(),
            |now| now - Duration::HOUR,
            recorder(clock.clone(), &log),
            Arc::new(Notify::new()),
            shutdown,
        ));
        tokio::time::sleep(std::time::Duration::from_secs(150)).await;
        tx.send(()).unwrap();
        task.await.unwrap();
        let m = |n| BASE + Duration::minutes(n);
        assert_eq!(*log.lock().unwrap(), vec![m(0), m(1), m(2)]);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_already_fired_means_no_wake() {
        let log = Log::default();
        let clock = paused_clock();
        run_with_clock(
            clock.clone(),
            |now| now,
            recorder(clock, &log),
            Arc::new(Notify::new()),
            std::future::ready(()),
        )
        .await;
        assert!(log.lock().unwrap().is_empty());
    }

    #[test]
    fn earliest_picks_the_minimum() {
        let a = BASE + Duration::days(3);
        let b = BASE + Duration::hours(2);
        let c = BASE + Duration::days(40);
        assert_eq!(earliest([a, b, c]), Some(b));
        assert_eq!(earliest([c]), Some(c));
        assert_eq!(earliest(Vec::new()), None);
    }
}
