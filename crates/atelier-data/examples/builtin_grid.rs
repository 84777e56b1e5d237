//! Writes an 8×8 grid of every builtin style at 32×32 and 64×64 to a folder (default /tmp),
//! to look at: `cargo run -p atelier-data --example builtin_grid [-- OUT_DIR [SEED]]`.

use std::path::PathBuf;
use std::time::Instant;

use atelier_data::{Builtin, ImageSet, Style, grid_image, save_grid, save_png};
use image::imageops::FilterType;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().unwrap_or_else(|| "/tmp".into()));
    let seed: u64 = args.next().map_or(Ok(0), |s| s.parse())?;
    for style in Style::ALL {
        for size in [32, 64] {
            let start = Instant::now();
            let set = Builtin::new(style.name(), size, 64, seed)?;
            let images: Vec<f32> = (0..64).flat_map(|i| set.get(i)).collect();
            let elapsed = start.elapsed();
            let path = out.join(format!("atelier-builtin-{}-{size}.png", style.name()));
            save_grid(&path, &images, 64, 3, size, size, 8, 2)?;
            if size == 32 {
                // A 3× nearest-neighbour copy, to see single pixels.
                let grid = grid_image(&images, 64, 3, size, size, 8, 2);
                let (w, h) = (grid.width() * 3, grid.height() * 3);
                let zoom = image::imageops::resize(&grid, w, h, FilterType::Nearest);
                save_png(
                    out.join(format!("atelier-builtin-{}-32-zoom.png", style.name())),
                    &zoom,
                )?;
            }
            println!(
                "{} ({:.2} ms per image)",
                path.display(),
                elapsed.as_secs_f64() * 1e3 / 64.0
            );
        }
    }
    Ok(())
}
