//! The charts draw what they are given: curves in their colours, text in the embedded font,
//! the roofline's ceilings and dots; SVG output carries the curves as polylines and the labels
//! as text. Set ATELIER_PLOT_OUT=DIR to keep the PNGs for a look.

use atelier_plot::{LineChart, Roofline, RooflinePoint, color};
use image::RgbImage;

fn count(img: &RgbImage, rgb: [u8; 3]) -> usize {
    img.pixels().filter(|p| p.0 == rgb).count()
}

fn dark(img: &RgbImage) -> usize {
    img.pixels().filter(|p| p.0.iter().all(|&c| c < 90)).count()
}

fn keep(img: &RgbImage, name: &str) {
    if let Ok(dir) = std::env::var("ATELIER_PLOT_OUT") {
        img.save(std::path::Path::new(&dir).join(name)).unwrap();
    }
}

fn losses() -> LineChart {
    let d: Vec<f32> = (0..60).map(|i| 1.4 - 0.01 * i as f32).collect();
    let mut g: Vec<f32> = (0..60).map(|i| 0.7 + 0.03 * i as f32).collect();
    g[30] = f32::NAN;
    LineChart::new("DCGAN losses")
        .values("Loss_D", &d, 10.0)
        .values("Loss_G", &g, 10.0)
}

#[test]
fn line_chart_png_has_both_curves_and_text() {
    let img = losses().to_image().unwrap();
    keep(&img, "losses.png");
    assert_eq!(img.dimensions(), (800, 480));
    assert!(count(&img, color(0)) > 300, "Loss_D's colour");
    assert!(count(&img, color(1)) > 300, "Loss_G's colour");
    // title, tick labels and legend are drawn by the embedded font
    assert!(
        dark(&img) > 1500,
        "text and axes: {} dark pixels",
        dark(&img)
    );
    let empty = LineChart::new("").to_image().unwrap();
    assert!(dark(&img) > dark(&empty) + 500, "labels add ink");
}

#[test]
fn line_chart_svg_has_polylines_and_labels() {
    let svg = losses().to_svg().unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
    // Loss_G breaks at its NaN: three polylines in all (plus the legend's paths)
    assert!(svg.matches("<polyline").count() >= 3, "{svg}");
    for text in ["DCGAN losses", "Loss_D", "Loss_G", "step"] {
        assert!(svg.contains(text), "{text} missing");
    }
}

#[test]
fn roofline_draws_ceilings_and_points() {
    let groups = vec![
        ("conv2d".to_string(), [230, 120, 0]),
        ("matmul".to_string(), [0, 150, 70]),
    ];
    let point = |i: f64, g: f64, group: &str, hollow| RooflinePoint {
        intensity: i,
        gflops: g,
        group: group.into(),
        hollow,
    };
    let r = Roofline {
        title: "roofline".into(),
        bandwidth_gbs: 20.0,
        peak_gflops: 400.0,
        groups,
        points: vec![
            point(30.0, 150.0, "conv2d", false),
            point(30.0, 20.0, "conv2d", true),
            point(8.0, 90.0, "matmul", false),
            point(0.5, 6.0, "elementwise", false),
        ],
        filled_means: "fast variant".into(),
        hollow_means: "baseline".into(),
        size: (1200, 780),
    };
    let img = r.to_image().unwrap();
    keep(&img, "roofline.png");
    assert!(count(&img, [230, 120, 0]) > 60, "conv2d dots");
    assert!(count(&img, [0, 150, 70]) > 60, "matmul dot");
    assert!(count(&img, [200, 30, 30]) > 300, "the roof");
    assert!(count(&img, [30, 80, 200]) > 300, "the slope");
    assert!(dark(&img) > 1500, "labels");
}
