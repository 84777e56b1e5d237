//! [`Batcher`]: shuffled NCHW batches, prepared on a background thread.
//!
//! Epoch `e` visits every image once in an order shuffled by
//! `StdRng::seed_from_u64(derive_seed(seed, e))`, cut into `len / B` batches (the incomplete
//! last batch is dropped). The image at place `k` of epoch `e` is drawn with
//! `derive_seed(derive_seed(seed, e), k)` ([`ImageSet::get_drawn`]: random crops and flips). Because each epoch's order depends only on (seed, epoch), a run can
//! resume at any batch without replaying the ones before it.
//!
//! Resuming: a trainer that takes one batch per step and has finished `step` steps restarts
//! with `Batcher::starting_at(set, B, seed, Position::from_step(step, batches_per_epoch))`
//! (or saves [`Batch::next_position`] of the last batch it used). The same seed, batch size
//! and dataset then give exactly the batches the uninterrupted run would have seen.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::error::{Error, Result};
use crate::image_set::ImageSet;
use crate::seed::derive_seed;

/// Batches prepared ahead of the trainer: enough to hide a slow one, few enough to keep
/// memory small (a 128×3×64×64 batch is 6 MiB).
pub const PREFETCH_DEPTH: usize = 3;

/// One batch: `shape[0]` images of `shape[1] × shape[2] × shape[3]`, NCHW, values in [-1, 1].
#[derive(Debug, Clone)]
pub struct Batch {
    pub data: Vec<f32>,
    /// `[B, C, H, W]`.
    pub shape: [usize; 4],
    /// Epoch this batch belongs to, from 0.
    pub epoch: usize,
    /// Batch index within the epoch, from 0.
    pub index: usize,
    /// Batches in one epoch (to compute the position after this one).
    batches_per_epoch: usize,
}

impl Batch {
    pub fn position(&self) -> Position {
        Position {
            epoch: self.epoch,
            index: self.index,
        }
    }

    /// Where a run that has used this batch resumes.
    pub fn next_position(&self) -> Position {
        if self.index + 1 == self.batches_per_epoch {
            Position {
                epoch: self.epoch + 1,
                index: 0,
            }
        } else {
            Position {
                epoch: self.epoch,
                index: self.index + 1,
            }
        }
    }
}

/// A place in the batch stream: batch `index` of epoch `epoch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub epoch: usize,
    pub index: usize,
}

impl Position {
    /// The position after `step` batches from the start.
    pub fn from_step(step: u64, batches_per_epoch: usize) -> Position {
        let bpe = batches_per_epoch as u64;
        Position {
            epoch: (step / bpe) as usize,
            index: (step % bpe) as usize,
        }
    }
}

/// An endless iterator of shuffled batches, prepared on its own thread; dropping it stops
/// and joins the thread.
pub struct Batcher {
    receiver: Option<Receiver<Batch>>,
    worker: Option<JoinHandle<()>>,
    batch: usize,
    batches_per_epoch: usize,
    shape: [usize; 4],
}

impl Batcher {
    /// Batches of `batch` images of `set`, shuffled per epoch from `seed`, from the start.
    pub fn new(set: impl Into<Arc<dyn ImageSet>>, batch: usize, seed: u64) -> Result<Self> {
        Self::starting_at(set, batch, seed, Position::default())
    }

    /// As [`new`](Batcher::new), but the first batch is the one at `start`.
    pub fn starting_at(
        set: impl Into<Arc<dyn ImageSet>>,
        batch: usize,
        seed: u64,
        start: Position,
    ) -> Result<Self> {
        let set: Arc<dyn ImageSet> = set.into();
        if batch == 0 {
            return Err(Error::Invalid("batch size must be at least 1".into()));
        }
        if set.len() < batch {
            return Err(Error::Invalid(format!(
                "batch size {batch} is larger than the dataset ({})",
                set.describe()
            )));
        }
        let batches_per_epoch = set.len() / batch;
        if start.index >= batches_per_epoch {
            return Err(Error::Invalid(format!(
                "cannot start at batch {} of epoch {}: an epoch has {batches_per_epoch} batches",
                start.index, start.epoch
            )));
        }
        let shape = [batch, set.channels(), set.size(), set.size()];
        let (sender, receiver) = sync_channel(PREFETCH_DEPTH);
        let worker = std::thread::Builder::new()
            .name("atelier-batcher".into())
            .spawn(move || produce(set, shape, seed, start, sender))
            .map_err(|e| Error::Invalid(format!("cannot start the batcher thread: {e}")))?;
        Ok(Batcher {
            receiver: Some(receiver),
            worker: Some(worker),
            batch,
            batches_per_epoch,
            shape,
        })
    }

    /// The order in which epoch `epoch` visits the `len` images.
    pub fn epoch_order(len: usize, seed: u64, epoch: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..len).collect();
        order.shuffle(&mut StdRng::seed_from_u64(derive_seed(seed, epoch as u64)));
        order
    }

    /// The draw of the image at place `place` of epoch `epoch` (see [`ImageSet::get_drawn`]).
    pub fn draw(seed: u64, epoch: usize, place: usize) -> u64 {
        derive_seed(derive_seed(seed, epoch as u64), place as u64)
    }

    pub fn batches_per_epoch(&self) -> usize {
        self.batches_per_epoch
    }

    pub fn batch_size(&self) -> usize {
        self.batch
    }

    /// `[B, C, H, W]` of every batch.
    pub fn shape(&self) -> [usize; 4] {
        self.shape
    }

    /// The next batch, waiting for it if the thread is behind.
    pub fn next_batch(&mut self) -> Batch {
        let receiver = self.receiver.as_ref().expect("receiver lives until drop");
        match receiver.recv() {
            Ok(batch) => batch,
            // The worker only stops early by panicking (an ImageSet::get_into bug): pass it on.
            Err(_) => match self.worker.take().map(JoinHandle::join) {
                Some(Err(panic)) => std::panic::resume_unwind(panic),
                _ => panic!("the batcher thread stopped"),
            },
        }
    }
}

impl Iterator for Batcher {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        Some(self.next_batch())
    }
}

impl Drop for Batcher {
    fn drop(&mut self) {
        // Dropping the receiver makes the worker's next send fail, and it returns.
        drop(self.receiver.take());
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// The worker: fills batches in order and sends them until the receiver is gone.
fn produce(
    set: Arc<dyn ImageSet>,
    shape: [usize; 4],
    seed: u64,
    start: Position,
    sender: SyncSender<Batch>,
) {
    let [b, c, h, w] = shape;
    let image_len = c * h * w;
    let batches_per_epoch = set.len() / b;
    let helpers = fill_threads();
    let mut position = start;
    loop {
        let order = Batcher::epoch_order(set.len(), seed, position.epoch);
        for index in position.index..batches_per_epoch {
            let mut data = vec![0.0f32; b * image_len];
            let places = index * b..(index + 1) * b;
            let draws: Vec<u64> = places
                .clone()
                .map(|k| Batcher::draw(seed, position.epoch, k))
                .collect();
            fill(&*set, &order[places], &draws, &mut data, image_len, helpers);
            let batch = Batch {
                data,
                shape,
                epoch: position.epoch,
                index,
                batches_per_epoch,
            };
            if sender.send(batch).is_err() {
                return;
            }
        }
        position = Position {
            epoch: position.epoch + 1,
            index: 0,
        };
    }
}

/// Threads that fill one batch: half the cores, at most 4, so that rendering builtin art
/// (the first epoch) or converting big batches keeps up on a fast GPU while the rest of the
/// cores stay with the trainer. On a 2-core machine: just the batcher thread.
fn fill_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / 2).clamp(1, 4)
}

/// Writes images `ids` of `set`, drawn with `draws`, one after another into `data`, on
/// `threads` threads.
fn fill(
    set: &dyn ImageSet,
    ids: &[usize],
    draws: &[u64],
    data: &mut [f32],
    image_len: usize,
    threads: usize,
) {
    let fill_part = |ids: &[usize], draws: &[u64], data: &mut [f32]| {
        for ((&id, &draw), out) in ids.iter().zip(draws).zip(data.chunks_exact_mut(image_len)) {
            set.get_drawn(id, draw, out);
        }
    };
    if threads <= 1 {
        return fill_part(ids, draws, data);
    }
    let per_thread = ids.len().div_ceil(threads);
    std::thread::scope(|scope| {
        for ((ids, draws), data) in ids
            .chunks(per_thread)
            .zip(draws.chunks(per_thread))
            .zip(data.chunks_mut(per_thread * image_len))
        {
            scope.spawn(move || fill_part(ids, draws, data));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::Builtin;

    #[test]
    fn filling_on_several_threads_matches_one_thread() {
        let set = Builtin::new("kandinsky", 16, 13, 4).unwrap();
        let ids: Vec<usize> = (0..13).rev().collect();
        let draws: Vec<u64> = (0..13).collect();
        let image_len = set.image_len();
        let mut one = vec![0.0; 13 * image_len];
        let mut three = vec![f32::NAN; 13 * image_len];
        fill(&set, &ids, &draws, &mut one, image_len, 1);
        fill(&set, &ids, &draws, &mut three, image_len, 3);
        assert_eq!(one, three);
    }
}
