mod common;

use atelier_data::{Error, ImageFolder, ImageSet};
use common::{TempDir, assert_unit_range};
use image::{GrayImage, Luma, Rgb, RgbImage};

/// 60×20, red on the left and right thirds, blue in the middle third.
fn wide_three_bands() -> RgbImage {
    RgbImage::from_fn(60, 20, |x, _| {
        if (20..40).contains(&x) {
            Rgb([0, 0, 255])
        } else {
            Rgb([255, 0, 0])
        }
    })
}

/// A folder with a png, a jpg (in a subfolder), a grey png, a corrupt png and a text file.
fn mixed_folder() -> TempDir {
    let dir = TempDir::new("mixed");
    wide_three_bands().save(dir.join("a_bands.png")).unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    RgbImage::from_pixel(50, 50, Rgb([200, 120, 40]))
        .save(dir.join("sub/b_orange.jpg"))
        .unwrap();
    GrayImage::from_fn(20, 36, |x, y| Luma([((x + y) * 4) as u8]))
        .save(dir.join("c_grey.png"))
        .unwrap();
    std::fs::write(
        dir.join("d_corrupt.png"),
        b"this is not a png at all, just garbage bytes",
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "not an image").unwrap();
    dir
}

#[test]
fn loads_images_skips_corrupt_ignores_other_files() {
    let dir = mixed_folder();
    let set = ImageFolder::open(dir.path(), 16, None).unwrap();
    assert_eq!(
        set.len(),
        3,
        "png, jpg and grey png; corrupt skipped, txt ignored"
    );
    assert_eq!(set.channels(), 3, "one colour image makes the set RGB");
    assert_eq!(set.size(), 16);
    assert_eq!(set.skipped().len(), 1);
    assert!(set.skipped()[0].path.ends_with("d_corrupt.png"));
    let names: Vec<_> = set
        .paths()
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["a_bands.png", "c_grey.png", "b_orange.jpg"],
        "sorted by full path"
    );
    for i in 0..set.len() {
        let image = set.get(i);
        assert_eq!(image.len(), 3 * 16 * 16);
        assert_unit_range(&image);
    }
}

#[test]
fn wide_image_is_centre_cropped() {
    let dir = mixed_folder();
    let set = ImageFolder::open(dir.path(), 16, None).unwrap();
    let bands = set.get(0);
    let plane = 16 * 16;
    // Only the blue middle third survives the crop: red ≈ -1, blue ≈ +1 everywhere.
    let red_max = bands[..plane].iter().copied().fold(f32::MIN, f32::max);
    let blue_min = bands[2 * plane..].iter().copied().fold(f32::MAX, f32::min);
    assert!(
        red_max < -0.95 && blue_min > 0.95,
        "red max {red_max}, blue min {blue_min}"
    );
    // The jpg is a flat orange (200, 120, 40) up to JPEG error.
    let orange = set.get(2);
    let mean = |c: usize| orange[c * plane..(c + 1) * plane].iter().sum::<f32>() / plane as f32;
    let want = [200.0, 120.0, 40.0].map(|v: f32| v / 127.5 - 1.0);
    for (c, want) in want.into_iter().enumerate() {
        assert!(
            (mean(c) - want).abs() < 0.05,
            "channel {c}: {} vs {want}",
            mean(c)
        );
    }
}

#[test]
fn all_grey_folder_is_one_channel_and_channels_can_be_forced() {
    let dir = TempDir::new("grey");
    for k in 0..3u8 {
        GrayImage::from_pixel(10, 12, Luma([k * 100]))
            .save(dir.join(&format!("{k}.png")))
            .unwrap();
    }
    let set = ImageFolder::open(dir.path(), 8, None).unwrap();
    assert_eq!((set.len(), set.channels()), (3, 1));
    assert!(set.get(0).iter().all(|v| *v == -1.0));
    assert!(
        set.get(2)
            .iter()
            .all(|v| (*v - (200.0 / 127.5 - 1.0)).abs() < 1e-6)
    );

    let rgb = ImageFolder::open(dir.path(), 8, Some(3)).unwrap();
    assert_eq!(rgb.channels(), 3);
    assert_eq!(rgb.get(1).len(), 3 * 64);
    let mixed = mixed_folder();
    assert_eq!(
        ImageFolder::open(mixed.path(), 8, Some(1))
            .unwrap()
            .channels(),
        1
    );
    assert!(matches!(
        ImageFolder::open(mixed.path(), 8, Some(2)),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn empty_folder_is_an_error_naming_it() {
    let dir = TempDir::new("empty");
    std::fs::write(dir.join("readme.txt"), "no images here").unwrap();
    let err = ImageFolder::open(dir.path(), 32, None)
        .err()
        .expect("an empty folder is an error");
    assert!(matches!(err, Error::NoImages { skipped: 0, .. }));
    assert!(
        err.to_string().contains(dir.path().to_str().unwrap()),
        "{err}"
    );
}

#[test]
fn folder_of_only_corrupt_files_is_an_error_counting_them() {
    let dir = TempDir::new("corrupt");
    std::fs::write(dir.join("x.png"), b"garbage").unwrap();
    std::fs::write(dir.join("y.jpg"), b"\xff\xd8\xff garbage").unwrap();
    let err = ImageFolder::open(dir.path(), 32, None).err().unwrap();
    assert!(matches!(err, Error::NoImages { skipped: 2, .. }), "{err}");
    assert!(
        err.to_string().contains(dir.path().to_str().unwrap()),
        "{err}"
    );
}

#[test]
fn missing_folder_is_an_error_naming_it() {
    let dir = TempDir::new("missing");
    let missing = dir.join("not-there");
    let err = ImageFolder::open(&missing, 32, None).err().unwrap();
    assert!(matches!(err, Error::FolderMissing(_)));
    assert!(err.to_string().contains(missing.to_str().unwrap()), "{err}");
}
