//! A folder of content photos for training (searched recursively, so COCO's layout
//! `DIR/train2014/*.jpg` works as well as a flat folder), each served as a square crop.

use std::path::{Path, PathBuf};

use image::Rgb32FImage;

use crate::error::{Result, StyleError};
use crate::image_io::{load_image, square_crop};

const EXTENSIONS: [&str; 5] = ["png", "jpg", "jpeg", "bmp", "webp"];

pub struct ContentFolder {
    pub root: PathBuf,
    /// The image files, sorted (so an epoch's order depends on the seed alone).
    pub files: Vec<PathBuf>,
}

impl ContentFolder {
    /// Lists the images under `root`; an error when it is not a folder or holds no image.
    pub fn open(root: &Path) -> Result<ContentFolder> {
        let mut files = Vec::new();
        collect(root, &mut files)?;
        if files.is_empty() {
            return Err(StyleError::Invalid(format!(
                "{}: no images ({}) in this folder or below",
                root.display(),
                EXTENSIONS.join(", ")
            )));
        }
        files.sort();
        Ok(ContentFolder {
            root: root.to_path_buf(),
            files,
        })
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Image `index` as a `size`×`size` centre crop (shorter side resized to `size`).
    pub fn square(&self, index: usize, size: u32) -> Result<Rgb32FImage> {
        Ok(square_crop(&load_image(&self.files[index])?, size))
    }
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| StyleError::io(dir, e))?;
    for entry in entries {
        let path = entry.map_err(|e| StyleError::io(dir, e))?.path();
        if path.is_dir() {
            collect(&path, files)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            files.push(path);
        }
    }
    Ok(())
}
