mod common;

use atelier_data::{grid_image, save_grid, save_png};
use common::TempDir;
use image::{GrayImage, Luma};

#[test]
fn grid_png_has_the_right_dimensions_and_pixels() {
    let dir = TempDir::new("grid");
    let (n, c, h, w) = (10, 3, 6, 5);
    // Image k is flat: red -1 (0), green +1 (255), blue k-dependent.
    let mut images = Vec::new();
    for k in 0..n {
        images.extend(std::iter::repeat_n(-1.0, h * w));
        images.extend(std::iter::repeat_n(1.0, h * w));
        images.extend(std::iter::repeat_n(k as f32 / 10.0, h * w));
    }
    let path = dir.join("grid.png");
    save_grid(&path, &images, n, c, h, w, 4, 2).unwrap();
    let grid = image::open(&path).unwrap().to_rgb8();
    // 4 columns, 3 rows, 2 pixels of padding between and around.
    assert_eq!(
        grid.dimensions(),
        ((4 * (w + 2) + 2) as u32, (3 * (h + 2) + 2) as u32)
    );
    // Image 5 is row 1, column 1; its top-left pixel:
    let p = grid.get_pixel((2 + (w + 2)) as u32, (2 + (h + 2)) as u32);
    assert_eq!(p.0, [0, 255, 191]);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left behind");
}

#[test]
fn grey_grid_and_grey_png() {
    let images = vec![0.0f32; 4 * 8 * 8];
    let grid = grid_image(&images, 4, 1, 8, 8, 8, 1);
    assert_eq!(grid.dimensions(), (4 * 9 + 1, 9 + 1), "columns capped at n");
    assert_eq!(grid.get_pixel(1, 1).0, [128, 128, 128]);

    let dir = TempDir::new("grey-png");
    let path = dir.join("grey.png");
    save_png(&path, &GrayImage::from_pixel(3, 2, Luma([77]))).unwrap();
    let back = image::open(&path).unwrap();
    assert_eq!(
        (back.width(), back.height(), back.color()),
        (3, 2, image::ColorType::L8)
    );
}
