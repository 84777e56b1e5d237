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
//! - [`grid`], [`png`]: image grids and PNG output; [`plot`]: loss curves.

pub mod batcher;
pub mod builtin;
pub mod crops;
pub mod error;
pub mod folder;
mod font;
pub mod grid;
pub mod idx;
pub mod image_set;
pub mod pixels;
pub mod plot;
pub mod png;
mod seed;
pub mod spec;

pub use batcher::{Batch, Batcher, Position};
pub use builtin::{Builtin, Style};
pub use crops::{Pick, RandomCrops};
pub use error::{Error, Result};
pub use folder::{ImageFolder, Skipped};
pub use grid::{grid_image, save_grid};
pub use idx::Idx;
pub use image_set::ImageSet;
pub use pixels::Fit;
pub use plot::{plot_image, plot_lines};
pub use png::save_png;
pub use spec::{open_dataset, open_dataset_fit};
