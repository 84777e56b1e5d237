//! Opens any `--data` value and writes an 8×8 grid of its first shuffled batch, to look at:
//! `cargo run -p atelier-data --example data_grid -- SPEC [SIZE [OUT.png]]`, e.g.
//! `-- idx:/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz 32 /tmp/fashion.png`.

use std::time::Instant;

use atelier_data::{Batcher, open_dataset, save_grid};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let spec = args
        .next()
        .ok_or("usage: data_grid SPEC [SIZE [OUT.png]]")?;
    let size: usize = args.next().map_or(Ok(64), |s| s.parse())?;
    let out = args
        .next()
        .unwrap_or_else(|| "/tmp/atelier-data-grid.png".into());

    let start = Instant::now();
    let set = open_dataset(&spec, size, 0)?;
    println!(
        "{} opened in {:.2} s",
        set.describe(),
        start.elapsed().as_secs_f64()
    );
    let mut batcher = Batcher::new(set, 64, 0)?;
    let batch = batcher.next_batch();
    let [n, c, h, w] = batch.shape;
    save_grid(&out, &batch.data, n, c, h, w, 8, 2)?;
    println!("{out}");
    Ok(())
}
