//! atelier-data: the images a GAN trains on, and the pictures it writes.
//!
//! Datasets ([`ImageSet`]) hand out square images as C×H×W floats in [-1, 1] (DCGAN's tanh
//! range); a [`Batcher`] shuffles them per epoch and fills NCHW batches on a background thread.
//! No GPU types here: batches are plain `Vec<f32>`.
//!
//! - [`folder`]: every image file below a folder ([`ImageFolder`]).
//! - [`idx`]: MNIST-style IDX files, raw or gzipped ([`Idx`]).
//! - [`builtin`]: procedural abstract art: mondrian, kandinsky, rothko ([`Builtin`]).
//! - [`spec`]: `--data` values → a dataset ([`open_dataset`]).
//! - [`crops`]: random crops and flips of another set, as pix2pix and CycleGAN train
//!   ([`RandomCrops`]).
//! - [`batcher`]: shuffled batches on a background thread ([`Batcher`], [`Batch`]).
//! - [`grid`], [`png`], [`image_out`]: image grids and image output (atomic; the format
//!   follows the extension, checked before work); charts are atelier-plot's.

pub mod batcher;
pub mod builtin;
pub mod crops;
pub mod error;
pub mod folder;
pub mod gif;
pub mod grid;
pub mod idx;
pub mod image_out;
pub mod image_set;
pub mod jpeg;
pub mod pixels;
pub mod png;
mod seed;
pub mod spec;

pub use batcher::{Batch, Batcher, Position};
pub use builtin::{Builtin, Style};
pub use crops::{Pick, RandomCrops};
pub use error::{Error, Result};
pub use folder::{ImageFolder, Skipped};
pub use gif::save_gif;
pub use grid::{grid_image, grid_size, save_grid};
pub use idx::Idx;
pub use image_out::{check_image_output, output_format, save_image};
pub use image_set::ImageSet;
pub use pixels::Fit;
pub use png::save_png;
pub use spec::{open_dataset, open_dataset_fit};
