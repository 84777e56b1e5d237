use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use atelier_data::{Batch, Batcher, ImageSet, Position};

/// `len` 1×2×2 images; image i is filled with the value i (so a batch tells which images it
/// holds), and every read is counted.
struct Numbered {
    len: usize,
    reads: AtomicUsize,
}

impl Numbered {
    fn new(len: usize) -> Arc<Numbered> {
        Arc::new(Numbered {
            len,
            reads: AtomicUsize::new(0),
        })
    }
}

impl ImageSet for Numbered {
    fn len(&self) -> usize {
        self.len
    }
    fn channels(&self) -> usize {
        1
    }
    fn size(&self) -> usize {
        2
    }
    fn get_into(&self, i: usize, out: &mut [f32]) {
        self.reads.fetch_add(1, Ordering::Relaxed);
        out.fill(i as f32);
    }
    fn describe(&self) -> String {
        format!("{} numbered images", self.len)
    }
}

fn indices(batch: &Batch) -> Vec<usize> {
    batch
        .data
        .chunks_exact(4)
        .map(|image| image[0] as usize)
        .collect()
}

/// The image indices of the next `epochs` epochs, one Vec per epoch.
fn take_epochs(batcher: &mut Batcher, epochs: usize) -> Vec<Vec<usize>> {
    let per_epoch = batcher.batches_per_epoch();
    (0..epochs)
        .map(|_| {
            (0..per_epoch)
                .flat_map(|_| indices(&batcher.next_batch()))
                .collect()
        })
        .collect()
}

#[test]
fn every_index_once_per_epoch_incomplete_batch_dropped() {
    let set = Numbered::new(23);
    let mut batcher = Batcher::new(set.clone() as Arc<dyn ImageSet>, 5, 42).unwrap();
    assert_eq!(batcher.batches_per_epoch(), 4);
    assert_eq!(batcher.shape(), [5, 1, 2, 2]);
    for (epoch, seen) in take_epochs(&mut batcher, 3).into_iter().enumerate() {
        assert_eq!(seen.len(), 20);
        let distinct: HashSet<_> = seen.iter().collect();
        assert_eq!(distinct.len(), 20, "epoch {epoch}: no image twice");
        // The 20 used are the first 20 of the epoch's order; the other 3 wait for a later epoch.
        assert_eq!(seen, Batcher::epoch_order(23, 42, epoch)[..20]);
    }
    let batch = batcher.next_batch();
    assert_eq!(
        (batch.epoch, batch.index, batch.shape),
        (3, 0, [5, 1, 2, 2])
    );
}

#[test]
fn whole_epoch_covers_every_index_exactly_once() {
    let mut batcher = Batcher::new(Numbered::new(24) as Arc<dyn ImageSet>, 6, 1).unwrap();
    for seen in take_epochs(&mut batcher, 2) {
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(sorted, (0..24).collect::<Vec<_>>());
    }
}

#[test]
fn order_differs_per_epoch_and_repeats_per_seed() {
    let epochs_a = take_epochs(
        &mut Batcher::new(Numbered::new(64) as Arc<dyn ImageSet>, 8, 9).unwrap(),
        3,
    );
    let epochs_b = take_epochs(
        &mut Batcher::new(Numbered::new(64) as Arc<dyn ImageSet>, 8, 9).unwrap(),
        3,
    );
    let epochs_c = take_epochs(
        &mut Batcher::new(Numbered::new(64) as Arc<dyn ImageSet>, 8, 10).unwrap(),
        3,
    );
    assert_eq!(epochs_a, epochs_b, "same seed, same batches");
    assert_ne!(epochs_a[0], epochs_a[1], "epochs are shuffled differently");
    assert_ne!(epochs_a[1], epochs_a[2]);
    assert_ne!(epochs_a[0], epochs_c[0], "another seed, another order");
    assert_ne!(
        epochs_a[0],
        (0..64).collect::<Vec<_>>(),
        "shuffled, not in order"
    );
}

#[test]
fn resuming_gives_the_batches_of_the_uninterrupted_run() {
    let set = Numbered::new(30);
    let mut full = Batcher::new(set.clone() as Arc<dyn ImageSet>, 4, 5).unwrap();
    let reference: Vec<Batch> = (0..20).map(|_| full.next_batch()).collect();
    let per_epoch = full.batches_per_epoch();

    for step in [0u64, 3, 7, 11] {
        let start = Position::from_step(step, per_epoch);
        let mut resumed =
            Batcher::starting_at(set.clone() as Arc<dyn ImageSet>, 4, 5, start).unwrap();
        for want in &reference[step as usize..step as usize + 5] {
            let got = resumed.next_batch();
            assert_eq!(
                (got.epoch, got.index, &got.data),
                (want.epoch, want.index, &want.data),
                "step {step}"
            );
        }
    }
    // next_position of a batch is where a run that used it resumes.
    let last_of_epoch = &reference[per_epoch - 1];
    assert_eq!(
        last_of_epoch.next_position(),
        Position { epoch: 1, index: 0 }
    );
    let resumed = Batcher::starting_at(
        set.clone() as Arc<dyn ImageSet>,
        4,
        5,
        reference[8].next_position(),
    )
    .unwrap()
    .next_batch();
    assert_eq!(resumed.data, reference[9].data);
    assert!(
        Batcher::starting_at(
            set as Arc<dyn ImageSet>,
            4,
            5,
            Position { epoch: 0, index: 7 }
        )
        .is_err()
    );
}

#[test]
fn prepares_ahead_but_not_endlessly_and_stops_when_dropped() {
    let set = Numbered::new(100);
    let batcher = Batcher::new(set.clone() as Arc<dyn ImageSet>, 10, 0).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let read = set.reads.load(Ordering::Relaxed);
    // A bounded channel: a few batches ahead (plus the one being filled), no more.
    assert!(
        (10..=10 * (atelier_data::batcher::PREFETCH_DEPTH + 1)).contains(&read),
        "read {read}"
    );
    drop(batcher); // joins the thread; a hang here fails the test by timeout
    let after_drop = set.reads.load(Ordering::Relaxed);
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(
        set.reads.load(Ordering::Relaxed),
        after_drop,
        "nothing reads after drop"
    );
    assert_eq!(Arc::strong_count(&set), 1, "the thread released the set");
}

#[test]
fn batch_larger_than_dataset_is_an_error() {
    let err = Batcher::new(Numbered::new(3) as Arc<dyn ImageSet>, 4, 0)
        .err()
        .unwrap();
    assert!(err.to_string().contains("batch size 4"), "{err}");
}

#[test]
fn batches_of_a_builtin_set_are_nchw_in_range() {
    let set = atelier_data::open_dataset("builtin:rothko:16", 32, 0).unwrap();
    let mut batcher = Batcher::new(set, 8, 0).unwrap();
    let batch = batcher.next_batch();
    assert_eq!(batch.shape, [8, 3, 32, 32]);
    assert_eq!(batch.data.len(), 8 * 3 * 32 * 32);
    assert!(batch.data.iter().all(|v| (-1.0..=1.0).contains(v)));
}

/// Random crops and flips come from the batcher's draws: the same (seed, epoch, place) gives
/// the same crop, so a batcher started mid-run hands out exactly the batches an
/// uninterrupted one would, and two epochs crop the same image differently.
#[test]
fn random_crops_are_drawn_reproducibly_and_resume_exactly() {
    use atelier_data::{Builtin, Pick, RandomCrops};
    let source: Arc<dyn ImageSet> = Arc::new(Builtin::new("kandinsky", 24, 5, 1).unwrap());
    let crops: Arc<dyn ImageSet> =
        Arc::new(RandomCrops::new(source, 16, true, 5, Pick::Cycle).unwrap());
    let mut full = Batcher::new(crops.clone(), 1, 9).unwrap();
    let all: Vec<Vec<f32>> = (0..10).map(|_| full.next_batch().data).collect();
    let mut resumed = Batcher::starting_at(crops.clone(), 1, 9, Position::from_step(7, 5)).unwrap();
    for want in &all[7..] {
        assert_eq!(&resumed.next_batch().data, want);
    }
    // each image is visited once per epoch, cut differently in the two epochs
    let order = |e| Batcher::epoch_order(5, 9, e);
    let (first, second) = (order(0), order(1));
    let place_in_second = second.iter().position(|&i| i == first[0]).unwrap();
    assert_ne!(all[0], all[5 + place_in_second]);
    // without a draw, an image is its centre crop
    let mut centre = vec![0.0; crops.image_len()];
    crops.get_into(first[0], &mut centre);
    assert_eq!(centre.len(), 3 * 16 * 16);
}
