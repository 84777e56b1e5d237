//! `atelier data dump`: a dataset as a folder of PNGs at the training size, for tools outside
//! atelier (scripts/continue_in_pytorch.py reads folders; builtin art only exists in Rust).

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write every image of a dataset (as `gan train --data` sees it) as DIR/NNNNNN.png.
    Dump(DumpArgs),
}

#[derive(clap::Args)]
struct DumpArgs {
    /// builtin:NAME[:COUNT], idx:PATH or a folder, as for `gan train`.
    #[arg(long)]
    data: String,
    #[arg(long, default_value_t = 64)]
    image_size: usize,
    /// Seeds the builtin art (use the run's --seed to get its images).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let Command::Dump(a) = args.command;
    let set = atelier_data::open_dataset(&a.data, a.image_size, a.seed)?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let bar = ProgressBar::new(set.len() as u64).with_style(
        ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} images [{elapsed_precise}]")
            .expect("template"),
    );
    let (c, s) = (set.channels(), set.size());
    for i in 0..set.len() {
        let path = a.out.join(format!("{i:06}.png"));
        atelier_data::save_grid(&path, &set.get(i), 1, c, s, s, 1, 0)?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!(
        "wrote {} images ({}) to {}",
        set.len(),
        set.describe(),
        a.out.display()
    );
    Ok(())
}
