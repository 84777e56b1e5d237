//! [`open_dataset`]: the `--data` values of the CLI.

use crate::builtin::Builtin;
use crate::error::{Error, Result};
use crate::folder::ImageFolder;
use crate::idx::Idx;
use crate::image_set::ImageSet;
use crate::pixels::Fit;

/// Opens the dataset a `--data` value names, at `size × size`:
///
/// - `builtin:NAME` or `builtin:NAME:COUNT`: procedural art of style NAME (mondrian,
///   kandinsky, rothko), COUNT images (default [`Builtin::DEFAULT_COUNT`]), drawn from `seed`;
/// - `idx:PATH`: an MNIST-style IDX image file, raw or gzipped (grey);
/// - anything else: a folder of images (RGB unless every image is grey).
pub fn open_dataset(spec: &str, size: usize, seed: u64) -> Result<Box<dyn ImageSet>> {
    open_dataset_fit(spec, size, seed, Fit::CentreCrop)
}

/// As [`open_dataset`], a folder's images squared as `fit` says.
pub fn open_dataset_fit(spec: &str, size: usize, seed: u64, fit: Fit) -> Result<Box<dyn ImageSet>> {
    if let Some(rest) = spec.strip_prefix("builtin:") {
        let (name, count) = match rest.split_once(':') {
            Some((name, count)) => {
                let count = count.parse::<usize>().map_err(|_| Error::BadSpec {
                    spec: spec.to_string(),
                    problem: format!("{count:?} is not an image count"),
                })?;
                (name, count)
            }
            None => (rest, Builtin::DEFAULT_COUNT),
        };
        return Ok(Box::new(Builtin::new(name, size, count, seed)?));
    }
    if let Some(path) = spec.strip_prefix("idx:") {
        if path.is_empty() {
            return Err(Error::BadSpec {
                spec: spec.into(),
                problem: "no path after idx:".into(),
            });
        }
        return Ok(Box::new(Idx::open(path, size)?));
    }
    if spec.is_empty() {
        return Err(Error::BadSpec {
            spec: spec.into(),
            problem: "expected builtin:NAME, idx:PATH or a folder".into(),
        });
    }
    Ok(Box::new(ImageFolder::open_fit(spec, size, None, fit)?))
}
