//! The HTTP server of `serve`, hardened against clients that hold connections: at most
//! `[serve] max_connections` at once (counted from accept, TLS handshakes included; more are
//! closed at once, so file descriptors stay bounded), request heads cut off after
//! [`HEADER_READ_TIMEOUT`] (which also closes idle keep-alive connections) and
//! [`MAX_HEADER_BYTES`], writes that make no progress for [`WRITE_TIMEOUT`] closed, and a
//! graceful shutdown that waits at most the caller's drain time.
//!
//! axum's own `serve` has none of these (hyper's header timeout needs a timer it does not
//! set), so connections are served here with hyper's HTTP/1 builder.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

use crate::exporter::web::WebState;

/// A request head (start line and headers) must arrive within this; a keep-alive connection
/// idle for this long is closed too.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A write that makes no progress for this long (a client that stopped reading) closes the
/// connection.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest request head; larger ones get 431.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `app` on `tcp` (TLS when `web` has it) until `stop` resolves, then lets open
/// connections finish for at most `drain`.
pub async fn serve(
    tcp: TcpListener,
    app: axum::Router,
    web: Arc<WebState>,
    tls: bool,
    max_connections: usize,
    stop: impl Future<Output = ()>,
    drain: Duration,
) {
    let permits = Arc::new(Semaphore::new(max_connections));
    let graceful = GracefulShutdown::new();
    let mut refused: u64 = 0;
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut stop => break,
            accepted = tcp.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            refused += 1;
            // Once per 100, not per connection: a flood must not flood the log too.
            if refused % 100 == 1 {
                tracing::warn!(
                    %peer,
                    max_connections,
                    refused,
                    "connection refused: serve.max_connections are open"
                );
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let stream = WriteTimeout::new(stream, WRITE_TIMEOUT);
        let (app, watcher) = (app.clone(), graceful.watcher());
        let acceptor = tls.then(|| web.tls()).flatten().map(TlsAcceptor::from);
        tokio::spawn(async move {
            let _permit = permit;
            let service = TowerToHyperService::new(app);
            let builder = {
                let mut b = hyper::server::conn::http1::Builder::new();
                b.timer(TokioTimer::new())
                    .header_read_timeout(HEADER_READ_TIMEOUT)
                    .max_buf_size(MAX_HEADER_BYTES.max(8192) * 2)
                    .max_header_size(MAX_HEADER_BYTES);
                b
            };
            let served = match acceptor {
                None => {
                    let conn = builder.serve_connection(TokioIo::new(stream), service);
                    watcher.watch(conn).await
                }
                Some(acceptor) => {
                    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(tls)) => tls,
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    };
                    let conn = builder.serve_connection(TokioIo::new(tls), service);
                    watcher.watch(conn).await
                }
            };
            if let Err(e) = served {
                tracing::debug!(%peer, error = %e, "HTTP connection ended with an error");
            }
        });
    }
    drop(tcp);
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            seconds = drain.as_secs(),
            "HTTP connections still open at exit are closed"
        );
    }
}

/// An IO whose writes fail with `TimedOut` once one has been pending for `limit`.
struct WriteTimeout<T> {
    inner: T,
    limit: Duration,
    pending: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<T> WriteTimeout<T> {
    fn new(inner: T, limit: Duration) -> Self {
        Self {
            inner,
            limit,
            pending: None,
        }
    }

    /// Passes a write's outcome through, timing how long it stays pending.
    fn watch<R>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<std::io::Result<R>>,
    ) -> Poll<std::io::Result<R>> {
        match polled {
            Poll::Ready(r) => {
                self.pending = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let limit = self.limit;
                let sleep = self
                    .pending
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                ready!(sleep.as_mut().poll(cx));
                self.pending = None;
                Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the client did not read the response",
                )))
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteTimeout<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteTimeout<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, polled)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A peer that never reads: once the socket buffers are full, the write fails after
    /// the limit instead of hanging.
    #[tokio::test]
    async fn a_write_the_peer_never_reads_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _peer = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let mut io = WriteTimeout::new(stream, Duration::from_millis(300));
        let chunk = vec![0u8; 1 << 20];
        let started = std::time::Instant::now();
        let err = loop {
            if let Err(e) = io.write_all(&chunk).await {
                break e;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "never timed out"
            );
        };
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    }

    /// Reads pass through untouched.
    #[tokio::test]
    async fn reads_pass_through() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut peer = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let mut io = WriteTimeout::new(stream, Duration::from_millis(300));
        peer.write_all(b"hello").await.unwrap();
        let mut buf = [0u8; 5];
        io.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello");
    }
}
