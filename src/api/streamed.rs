//! A large JSON array answer, written part by part as the client reads it.
//!
//! The alert lists run to tens of MiB. Written whole per request, each slow
//! reader held a full copy (30 readers of a 52 MB list: 2.1 GB). Here the
//! answer is cut into parts of a few hundred elements; a few parts are
//! rendered at a time on the blocking threads (one per core, in order),
//! and the next only once the client has taken one. A reader that has not
//! finished by the request's deadline has its answer cut off (the
//! connection is closed mid-body, so it cannot be mistaken for a whole
//! one) and what the listing held is freed.

use std::io;
use std::ops::Range;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// What a listing renders: elements `part` of it, each written after a
/// comma, calling [`Output::element_written`] after each; returns how many
/// it wrote (a filter may skip some).
pub trait RenderParts: Send + Sync + 'static {
    fn render(&self, part: Range<usize>, out: &mut Output) -> serde_json::Result<usize>;
}

/// The most a piece of the answer holds before the next is started.
const PIECE_BYTES: usize = 96 * 1024;

/// A piece's buffer: room for one more element past [`PIECE_BYTES`], and
/// still under malloc's mmap threshold (128 KiB, `main.rs`), so that it
/// reuses heap memory. A larger buffer (a group of 1000 alerts is 750 KB)
/// was a fresh mapping each time, faulted in page by page and unmapped
/// once sent: a TLB shootdown on every core.
const PIECE_CAPACITY: usize = 120 * 1024;

/// A part's JSON, in pieces of about [`PIECE_BYTES`]; written through
/// `Vec<u8>` (deref). An element is never split across pieces, so a
/// renderer may truncate back to where an unfinished element began.
pub struct Output {
    done: Vec<Vec<u8>>,
    buf: Vec<u8>,
}

impl Output {
    fn new(bytes: usize) -> Output {
        Output {
            done: Vec::new(),
            buf: Vec::with_capacity(bytes.min(PIECE_CAPACITY)),
        }
    }

    /// Ends the current piece once it is full, between two elements.
    pub fn element_written(&mut self) {
        if self.buf.len() >= PIECE_BYTES {
            let full = std::mem::replace(&mut self.buf, Vec::with_capacity(PIECE_CAPACITY));
            self.done.push(full);
        }
    }

    fn into_pieces(mut self) -> Vec<Vec<u8>> {
        if !self.buf.is_empty() {
            self.done.push(self.buf);
        }
        self.done
    }
}

impl std::ops::Deref for Output {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.buf
    }
}

impl std::ops::DerefMut for Output {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }
}

/// Elements `range` of a listing, and about how many bytes of JSON they
/// make: a small part's buffer is allocated once, at that size.
pub struct Part {
    pub range: Range<usize>,
    pub bytes: usize,
}

/// Parts of `len` elements in order, each `per_part` long, of about
/// `element_bytes` each.
pub fn parts(len: usize, per_part: usize, element_bytes: usize) -> Vec<Part> {
    let per_part = per_part.max(1);
    (0..len.div_ceil(per_part))
        .map(|i| {
            let range = i * per_part..((i + 1) * per_part).min(len);
            let bytes = range.len() * element_bytes;
            Part { range, bytes }
        })
        .collect()
}

enum Piece {
    /// A part's pieces, handed over together: the body then yields them
    /// back to back and hyper writes several with one `writev`, where one
    /// piece per hand-off cost a task switch and a send each.
    Data(Vec<Bytes>),
    End,
}

/// The answer: `[`, every part's elements, `]`, as they are read.
pub fn json_array<J: RenderParts>(job: J, parts: Vec<Part>, deadline: Instant) -> Response {
    // One part in the channel and one per core being rendered: the memory
    // a reader holds, however slowly it reads.
    let (tx, rx) = mpsc::channel::<Piece>(1);
    let job = Arc::new(job);
    tokio::spawn(async move {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        let mut rendered = futures_util::stream::iter(parts)
            .map(|part| {
                let job = job.clone();
                tokio::task::spawn_blocking(move || {
                    let mut out = Output::new(part.bytes);
                    job.render(part.range, &mut out)
                        .map(|n| (out.into_pieces(), n))
                })
            })
            .buffered(threads);
        let send = |piece| tokio::time::timeout_at(deadline, tx.send(piece));
        let mut first = true;
        while let Some(result) = rendered.next().await {
            let (mut pieces, listed) = match result {
                Ok(Ok(done)) => done,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "writing a listing failed");
                    return;
                }
                Err(e) => {
                    tracing::error!(error = %e, "a listing thread failed");
                    return;
                }
            };
            if listed == 0 {
                continue;
            }
            // Every element was written after a comma; the first of the
            // array's takes the bracket's place instead.
            if first {
                pieces[0][0] = b'[';
                first = false;
            }
            let pieces = pieces.into_iter().map(Bytes::from).collect();
            // Past the deadline, or the client went away: stop rendering
            // and let go of the listing.
            if !matches!(send(Piece::Data(pieces)).await, Ok(Ok(()))) {
                return;
            }
        }
        let end: &'static [u8] = if first { b"[]" } else { b"]" };
        let _ = send(Piece::Data(vec![Bytes::from_static(end)])).await;
        let _ = send(Piece::End).await;
    });
    let body =
        futures_util::stream::unfold(Some((rx, Vec::new().into_iter())), |state| async move {
            let (mut rx, mut queued) = state?;
            loop {
                if let Some(bytes) = queued.next() {
                    return Some((Ok(bytes), Some((rx, queued))));
                }
                match rx.recv().await {
                    Some(Piece::Data(pieces)) => queued = pieces.into_iter(),
                    Some(Piece::End) => return None,
                    // The writer stopped before the end: fail the body so the
                    // connection is closed rather than the answer looking whole.
                    None => {
                        return Some((
                            Err(io::Error::other(
                                "listing cut off at the request's time limit",
                            )),
                            None,
                        ));
                    }
                }
            }
        });
    (
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Elements `0..n` as numbers, every third one filtered out.
    struct Numbers;

    impl RenderParts for Numbers {
        fn render(&self, part: Range<usize>, out: &mut Output) -> serde_json::Result<usize> {
            let mut n = 0;
            for i in part.filter(|i| i % 3 != 0) {
                out.extend_from_slice(format!(",{i}").as_bytes());
                out.element_written();
                n += 1;
            }
            Ok(n)
        }
    }

    async fn read(resp: Response) -> Result<Vec<u8>, axum::Error> {
        axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .map(|b| b.to_vec())
    }

    #[tokio::test]
    async fn parts_join_into_one_array_in_order() {
        for (len, per_part) in [(0, 4), (1, 4), (3, 1), (10, 3), (1000, 7)] {
            let deadline = Instant::now() + Duration::from_secs(30);
            let body = read(json_array(Numbers, parts(len, per_part, 16), deadline))
                .await
                .unwrap();
            let got: Vec<usize> = serde_json::from_slice(&body).unwrap();
            let want: Vec<usize> = (0..len).filter(|i| i % 3 != 0).collect();
            assert_eq!(got, want, "{len} in parts of {per_part}");
        }
    }

    /// One part far larger than a piece: sent in pieces, each a whole
    /// number of elements, and joined into the same array.
    #[tokio::test]
    async fn a_large_part_is_sent_in_pieces_of_whole_elements() {
        struct Long;
        impl RenderParts for Long {
            fn render(&self, part: Range<usize>, out: &mut Output) -> serde_json::Result<usize> {
                for i in part.clone() {
                    out.extend_from_slice(format!(",\"{i:0>999}\"").as_bytes());
                    out.element_written();
                }
                Ok(part.len())
            }
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        let resp = json_array(Long, parts(1000, 1000, 1000), deadline);
        let mut body = resp.into_body().into_data_stream();
        let mut pieces = 0;
        let mut whole = Vec::new();
        while let Some(piece) = body.next().await {
            let piece = piece.unwrap();
            assert!(piece.len() < PIECE_CAPACITY, "{} bytes", piece.len());
            if piece.len() > 1 {
                assert!(matches!(piece[0], b'[' | b','), "starts mid-element");
            }
            pieces += 1;
            whole.extend_from_slice(&piece);
        }
        assert!(pieces > 10, "{pieces} pieces");
        let got: Vec<String> = serde_json::from_slice(&whole).unwrap();
        assert_eq!(got.len(), 1000);
        assert_eq!(got[999], format!("{:0>999}", 999));
    }

    #[tokio::test(start_paused = true)]
    async fn a_reader_past_the_deadline_gets_a_broken_body_and_the_listing_is_freed() {
        let deadline = Instant::now() + Duration::from_secs(10);
        let job = Arc::new(());
        struct Held(#[allow(dead_code)] Arc<()>);
        impl RenderParts for Held {
            fn render(&self, part: Range<usize>, out: &mut Output) -> serde_json::Result<usize> {
                out.extend_from_slice(format!(",{}", part.start).as_bytes());
                Ok(1)
            }
        }
        let resp = json_array(Held(job.clone()), parts(100, 1, 8), deadline);
        let mut body = resp.into_body().into_data_stream();
        // The reader takes one part, then stops reading past the deadline.
        assert_eq!(&body.next().await.unwrap().unwrap()[..], b"[0");
        tokio::time::sleep(Duration::from_secs(11)).await;
        // The writer gave up: the listing it held is gone.
        for _ in 0..100_000 {
            if Arc::strong_count(&job) == 1 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(Arc::strong_count(&job), 1);
        let mut last = None;
        while let Some(piece) = body.next().await {
            last = Some(piece);
        }
        assert!(last.unwrap().is_err(), "the body ends in an error");
    }
}
