//! The two unpaired domains, as the repository's `UnalignedDataset` with its default
//! preprocessing: every image loaded at `load_size × load_size` (folders stretched as its
//! `Resize([load_size, load_size])`; builtin art drawn at that size), then a random
//! `crop_size` square, flipped left-right half the time. An epoch has `max(|A|, |B|)` items:
//! A's images in a shuffled order (image `i mod |A|`), each with a uniformly random B image.

use std::sync::Arc;

use atelier_data::{Fit, ImageSet, Pick, RandomCrops, open_dataset_fit};

use crate::trainer::error::{CycleError, Result};

/// Where the images come from and how they are cut.
#[derive(Clone, Debug, PartialEq)]
pub struct DomainSpec<'a> {
    /// `--data-a`: a folder, `builtin:NAME[:COUNT]` or `idx:PATH`.
    pub data_a: &'a str,
    pub data_b: &'a str,
    pub load_size: usize,
    pub crop_size: usize,
    pub flip: bool,
    /// Seeds builtin art (A from `seed`, B from `seed + 1`, so two sets of one style differ).
    pub seed: u64,
}

/// The two domains as training sets of random crops, of equal length.
pub struct Domains {
    pub a: Arc<RandomCrops>,
    pub b: Arc<RandomCrops>,
    /// `max(|A|, |B|)`: items per epoch.
    pub len: usize,
}

impl Domains {
    pub fn open(spec: &DomainSpec) -> Result<Domains> {
        if spec.crop_size > spec.load_size {
            return Err(CycleError::Config(format!(
                "--crop-size {} is larger than --load-size {}: images are loaded at the load \
                 size and cropped from it",
                spec.crop_size, spec.load_size
            )));
        }
        let open = |flag: &str, data: &str, seed: u64| -> Result<Arc<dyn ImageSet>> {
            open_dataset_fit(data, spec.load_size, seed, Fit::Stretch)
                .map(Arc::from)
                .map_err(|e| CycleError::Domain {
                    flag: flag.to_string(),
                    source: e,
                })
        };
        let a = open("--data-a", spec.data_a, spec.seed)?;
        let b = open("--data-b", spec.data_b, spec.seed.wrapping_add(1))?;
        let len = a.len().max(b.len());
        let crops = |set: Arc<dyn ImageSet>, pick| {
            RandomCrops::new(set, spec.crop_size, spec.flip, len, pick)
                .map(Arc::new)
                .map_err(CycleError::from)
        };
        Ok(Domains {
            a: crops(a, Pick::Cycle)?,
            b: crops(b, Pick::Random)?,
            len,
        })
    }
}
