//! [`ImageFolder`]: every image file below a folder, squared to one size.
//!
//! Decoded eagerly, once, at open: paintings are often megapixel JPEGs that take tens of
//! milliseconds each to decode, far too slow to redo every epoch on two cores, while the
//! squared result is small (kept as u8, 12 KiB per 64×64 RGB image, so 10,000 images take
//! 120 MiB). Files decode in parallel on all cores behind a progress bar.
//!
//! Every format the `image` crate reads in this build is read (PNG, JPEG, BMP, WebP, GIF,
//! TIFF). Only regular files are opened (a FIFO named `x.png` would block the loader forever).
//! A file that cannot be read or decoded, or a JPEG cut short (decoders fill the missing part
//! with grey and say nothing; see [`crate::jpeg`]), is skipped with a warning; any other file
//! is counted as "not an image" and named once.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use image::ImageFormat;
use indicatif::{ProgressBar, ProgressStyle};

use crate::error::{Error, Result};
use crate::image_set::ImageSet;
use crate::jpeg;
use crate::pixels::{self, Fit};

/// Whether `path`'s extension names a format the `image` crate reads in this build.
pub fn is_image_file_name(path: &Path) -> bool {
    ImageFormat::from_path(path).is_ok_and(|f| f.reading_enabled())
}

/// A file with an image extension that could not be read or decoded.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

pub struct ImageFolder {
    root: PathBuf,
    size: usize,
    channels: usize,
    /// Every image's u8 planes (C×H×W), one after another.
    pixels: Vec<u8>,
    paths: Vec<PathBuf>,
    skipped: Vec<Skipped>,
    not_images: Vec<PathBuf>,
}

impl ImageFolder {
    /// Opens every image file below `dir` (recursively, in sorted path order),
    /// each resized on its short side to `size` and centre-cropped to `size × size`.
    ///
    /// `channels`: `Some(1)` grey, `Some(3)` RGB, `None` RGB unless every image is grey.
    /// Files that fail to decode are skipped with a warning on stderr (see [`skipped`]).
    /// A missing folder, or one with no decodable image, is an error naming the folder.
    ///
    /// [`skipped`]: ImageFolder::skipped
    pub fn open(dir: impl AsRef<Path>, size: usize, channels: Option<usize>) -> Result<Self> {
        Self::open_fit(dir, size, channels, Fit::CentreCrop)
    }

    /// As [`open`](ImageFolder::open), each image squared to `size × size` as `fit` says.
    pub fn open_fit(
        dir: impl AsRef<Path>,
        size: usize,
        channels: Option<usize>,
        fit: Fit,
    ) -> Result<Self> {
        let root = dir.as_ref().to_path_buf();
        if size == 0 {
            return Err(Error::Invalid("image size must be at least 1".into()));
        }
        if let Some(c) = channels.filter(|c| *c != 1 && *c != 3) {
            return Err(Error::Invalid(format!("channels must be 1 or 3, got {c}")));
        }
        if !root.exists() {
            return Err(Error::FolderMissing(root));
        }
        if !root.is_dir() {
            return Err(Error::NotAFolder(root));
        }
        let mut found = Found::default();
        collect_files(&root, &mut found)?;
        let Found {
            mut files,
            mut not_images,
            mut skipped,
        } = found;
        files.sort();
        not_images.sort();
        for s in &skipped {
            eprintln!("warning: skipping {}: {}", s.path.display(), s.reason);
        }
        if !not_images.is_empty() {
            let names: Vec<String> = not_images.iter().map(|p| p.display().to_string()).collect();
            let shown = names.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
            let more = names.len().saturating_sub(5);
            eprintln!(
                "note: skipping {} file(s) that are not images atelier reads ({}): {shown}{}",
                names.len(),
                readable_extensions().join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            );
        }

        // decoded images are kept as u8 RGB planes
        let need = (files.len() as u128 * (3 * size * size) as u128).min(u64::MAX as u128);
        let what = format!("{} images of {size}×{size}", files.len());
        atelier_fs::check_host_memory(&what, need as u64)?;
        let decoded = decode_all(&files, size, fit);
        let mut images = Vec::new();
        for (path, result) in files.into_iter().zip(decoded) {
            match result {
                Ok(image) => images.push((path, image)),
                Err(reason) => {
                    eprintln!("warning: skipping {}: {reason}", path.display());
                    skipped.push(Skipped { path, reason });
                }
            }
        }
        if images.is_empty() {
            return Err(Error::NoImages {
                path: root,
                skipped: skipped.len(),
            });
        }

        let all_grey = images.iter().all(|(_, image)| image.grey);
        let channels = channels.unwrap_or(if all_grey { 1 } else { 3 });
        let mut pixels = Vec::with_capacity(images.len() * channels * size * size);
        let mut paths = Vec::with_capacity(images.len());
        for (path, image) in images {
            if channels == 1 {
                pixels.extend(pixels::rgb_planes_to_grey(&image.rgb));
            } else {
                pixels.extend(image.rgb);
            }
            paths.push(path);
        }
        Ok(ImageFolder {
            root,
            size,
            channels,
            pixels,
            paths,
            skipped,
            not_images,
        })
    }

    /// The files with an image extension that could not be read or decoded, or were not
    /// regular files (their count is `skipped().len()`).
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// The other files below the folder (not hidden ones), which were not read.
    pub fn not_images(&self) -> &[PathBuf] {
        &self.not_images
    }

    /// The path of each loaded image, in dataset order.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl ImageSet for ImageFolder {
    fn len(&self) -> usize {
        self.paths.len()
    }

    fn channels(&self) -> usize {
        self.channels
    }

    fn size(&self) -> usize {
        self.size
    }

    fn get_into(&self, i: usize, out: &mut [f32]) {
        let n = self.image_len();
        pixels::u8_to_unit(&self.pixels[i * n..(i + 1) * n], out);
    }

    fn describe(&self) -> String {
        let mut skipped = match self.skipped.len() {
            0 => String::new(),
            k => format!(", {k} skipped"),
        };
        if !self.not_images.is_empty() {
            skipped.push_str(&format!(", {} not an image", self.not_images.len()));
        }
        format!(
            "folder {} ({} images{skipped}, {} {}×{})",
            self.root.display(),
            self.len(),
            if self.channels == 1 { "grey" } else { "RGB" },
            self.size,
            self.size
        )
    }
}

/// Extensions of the formats read, for messages.
pub fn readable_extensions() -> Vec<&'static str> {
    ImageFormat::all()
        .filter(|f| f.reading_enabled())
        .flat_map(|f| f.extensions_str().first().copied())
        .collect()
}

#[derive(Default)]
struct Found {
    files: Vec<PathBuf>,
    not_images: Vec<PathBuf>,
    skipped: Vec<Skipped>,
}

/// Files below `dir`: images to decode, other files, and image names that are not regular
/// files. Symlinked folders are not followed (they could loop); symlinked files are.
fn collect_files(dir: &Path, found: &mut Found) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if file_type.is_dir() {
            collect_files(&path, found)?;
            continue;
        }
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if !is_image_file_name(&path) {
            if !hidden {
                found.not_images.push(path);
            }
            continue;
        }
        match atelier_fs::check_regular_file(&path) {
            Ok(_) => found.files.push(path),
            Err(e) => found.skipped.push(Skipped {
                reason: match e {
                    atelier_fs::FsError::NotRegular { kind, .. } => {
                        format!("not a regular file ({kind})")
                    }
                    other => other.to_string(),
                },
                path,
            }),
        }
    }
    Ok(())
}

/// One file squared to the target size, as RGB planes, and whether its source was grey.
struct Decoded {
    rgb: Vec<u8>,
    grey: bool,
}

fn decode_one(path: &Path, size: usize, fit: Fit) -> Result<Decoded, String> {
    // A decoder that panics on a malformed file costs that file, not the whole run.
    std::panic::catch_unwind(|| try_decode(path, size, fit))
        .unwrap_or_else(|_| Err("the decoder panicked".to_string()))
}

fn try_decode(path: &Path, size: usize, fit: Fit) -> Result<Decoded, String> {
    let bytes = atelier_fs::read_regular_file(path).map_err(|e| match e {
        atelier_fs::FsError::Io { error, .. } => error.to_string(),
        other => other.to_string(),
    })?;
    if jpeg::is_jpeg(&bytes) && !jpeg::is_complete(&bytes) {
        return Err("truncated JPEG (the file ends before its end-of-image marker)".into());
    }
    let image = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?
        .decode()
        .map_err(|e| e.to_string())?;
    Ok(Decoded {
        rgb: pixels::to_planes_fit(&image, size, 3, fit),
        grey: pixels::is_grey(&image),
    })
}

/// Decodes `files` on all cores; results in the order of `files`.
fn decode_all(files: &[PathBuf], size: usize, fit: Fit) -> Vec<Result<Decoded, String>> {
    let bar = ProgressBar::new(files.len() as u64).with_style(
        ProgressStyle::with_template("decoding images {bar:40} {pos}/{len} {eta}")
            .expect("static progress template"),
    );
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len());
    let mut results: Vec<(usize, Result<Decoded, String>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= files.len() {
                            return done;
                        }
                        done.push((i, decode_one(&files[i], size, fit)));
                        bar.inc(1);
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("image decode thread panicked"))
            .collect()
    });
    bar.finish_and_clear();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}
