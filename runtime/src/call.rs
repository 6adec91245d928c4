//! How a backend's method returns: a result now, or a future. The
//! operations await either, so their flow is written once for connections
//! whose calls block and for those whose calls are `async`.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

/// What a backend's method returns: its result, computed when it was
/// called, for a connection whose calls block (rusqlite, the synchronous
/// `postgres` crate); or a future, for a connection whose calls are
/// `async`. Awaiting a ready one takes one poll and allocates nothing.
#[must_use = "a call does nothing for an async backend until it is awaited (or read with `now`)"]
pub enum Call<'a, T> {
    /// The result (taken by the first poll).
    Ready(Option<T>),
    /// The work, done as the future is polled.
    Later(Pin<Box<dyn Future<Output = T> + Send + 'a>>),
}

impl<'a, T> Call<'a, T> {
    /// A result computed now.
    pub fn ready(value: T) -> Self {
        Call::Ready(Some(value))
    }

    /// The result of `work`, done now: the body of a blocking backend's
    /// method.
    pub fn of(work: impl FnOnce() -> T) -> Self {
        Call::Ready(Some(work()))
    }

    /// A result that `future` computes when it is polled.
    pub fn later(future: impl Future<Output = T> + Send + 'a) -> Self {
        Call::Later(Box::pin(future))
    }

    /// The result, for code that does not await: ready at once for a
    /// blocking connection.
    pub fn now(self) -> T {
        match self {
            Call::Ready(Some(value)) => value,
            call => complete(call),
        }
    }
}

impl<T> Future for Call<'_, T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        // `Call` holds no self-reference: a `Ready` is moved out of, a
        // `Later` is pinned in its own box.
        match self.get_mut() {
            Call::Ready(value) => match value.take() {
                Some(value) => Poll::Ready(value),
                // Each call is awaited once, in this crate; a second poll
                // is a bug here, which must not spin `complete` forever.
                None => panic!("a backend call was polled after it completed"),
            },
            Call::Later(future) => future.as_mut().poll(cx),
        }
    }
}

impl<T> Unpin for Call<'_, T> {}

/// Runs `future` to completion on this thread: the synchronous API over a
/// blocking connection, whose calls are all ready, so that one poll does
/// everything. No runtime, no thread, no allocation.
pub fn complete<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
        // Only a connection whose calls are `async` can get here, and the
        // synchronous API does not take one; give way rather than spin hot.
        std::thread::yield_now();
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use super::{Call, complete};

    /// Ready on its second poll, after one `Pending` that wakes no one: an
    /// async driver's call, as the synchronous API would meet it.
    struct Second(bool);

    impl Future for Second {
        type Output = u32;

        fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u32> {
            if std::mem::replace(&mut self.0, true) {
                Poll::Ready(7)
            } else {
                Poll::Pending
            }
        }
    }

    #[test]
    fn a_ready_call_gives_its_value_at_once_and_a_later_one_when_done() {
        assert_eq!(Call::ready(3).now(), 3);
        assert_eq!(Call::of(|| 4).now(), 4);
        assert_eq!(complete(async { Call::ready(5).await + 1 }), 6);
        assert_eq!(Call::later(Second(false)).now(), 7);
        assert_eq!(complete(async { Call::later(Second(false)).await }), 7);
    }

    #[test]
    #[should_panic(expected = "polled after it completed")]
    fn a_call_polled_after_it_completed_is_a_bug_not_a_hang() {
        let mut call = Call::ready(1);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert_eq!(Pin::new(&mut call).poll(&mut cx), Poll::Ready(1));
        let _ = Pin::new(&mut call).poll(&mut cx);
    }
}
