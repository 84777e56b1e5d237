//! Writes a loss-curve plot of made-up GAN-like losses, to look at:
//! `cargo run -p atelier-data --example plot_demo [-- OUT.png]`.

use atelier_data::plot_lines;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/atelier-plot-demo.png".into());
    let steps = 1500;
    let wiggle =
        |i: usize, f: f32| ((i as f32 * f).sin() + (i as f32 * f * 2.7).cos() * 0.5) * 0.15;
    let loss_d: Vec<f32> = (0..steps)
        .map(|i| 1.4 * (-(i as f32) / 300.0).exp() + 0.45 + wiggle(i, 0.05))
        .collect();
    let loss_g: Vec<f32> = (0..steps)
        .map(|i| 0.8 + 2.2 * (1.0 - (-(i as f32) / 400.0).exp()) + wiggle(i, 0.031))
        .collect();
    let d_x: Vec<f32> = (0..steps)
        .map(|i| 0.5 + 0.25 * (1.0 - (-(i as f32) / 200.0).exp()) + wiggle(i, 0.07) * 0.3)
        .collect();
    let d_gz: Vec<f32> = (0..steps)
        .map(|i| 0.5 - 0.3 * (1.0 - (-(i as f32) / 250.0).exp()) + wiggle(i, 0.043) * 0.3)
        .collect();
    plot_lines(
        &out,
        &[
            ("Loss_D", &loss_d),
            ("Loss_G", &loss_g),
            ("D(x)", &d_x),
            ("D(G(z))", &d_gz),
        ],
        "DCGAN training losses",
    )?;
    println!("{out}");
    Ok(())
}
