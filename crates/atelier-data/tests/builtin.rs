mod common;

use atelier_data::{Builtin, Error, ImageSet, Style, open_dataset};
use common::assert_unit_range;

const SIZE: usize = 64;

/// Simple statistics of a set of RGB images, averaged over the images.
#[derive(Debug)]
struct Stats {
    /// Pixels within 0.1 (on a 0–1 scale) of Mondrian's red, yellow, blue, black or white.
    near_mondrian_palette: f32,
    /// Of the pixels on an edge, the share with both a horizontal and a vertical step: near 0
    /// for axis-aligned rectangles, large for circles and slanted lines.
    diagonal_edge_share: f32,
    /// Pixels on an edge (a step over 0.15 to a neighbour).
    edge_density: f32,
}

fn stats(set: &dyn ImageSet, n: usize) -> Stats {
    let (s, plane) = (set.size(), set.size() * set.size());
    let palette = [
        [0.86, 0.09, 0.07],
        [0.98, 0.82, 0.05],
        [0.09, 0.22, 0.62],
        [0.06, 0.06, 0.07],
        [0.95, 0.95, 0.93],
    ];
    let (mut near, mut diagonal, mut edges) = (0usize, 0usize, 0usize);
    for i in 0..n {
        let image = set.get(i);
        assert_unit_range(&image);
        let rgb =
            |x: usize, y: usize| [0, 1, 2].map(|c| (image[c * plane + y * s + x] + 1.0) / 2.0);
        let step =
            |a: [f32; 3], b: [f32; 3]| (0..3).map(|c| (a[c] - b[c]).abs()).fold(0.0, f32::max);
        for y in 0..s {
            for x in 0..s {
                let p = rgb(x, y);
                if palette.iter().any(|q| step(p, *q) < 0.1) {
                    near += 1;
                }
                if x + 1 < s && y + 1 < s {
                    let (gx, gy) = (step(p, rgb(x + 1, y)) > 0.15, step(p, rgb(x, y + 1)) > 0.15);
                    edges += usize::from(gx || gy);
                    diagonal += usize::from(gx && gy);
                }
            }
        }
    }
    Stats {
        near_mondrian_palette: near as f32 / (n * plane) as f32,
        diagonal_edge_share: diagonal as f32 / edges.max(1) as f32,
        edge_density: edges as f32 / (n * (s - 1) * (s - 1)) as f32,
    }
}

#[test]
fn same_seed_same_images_other_seed_other_images() {
    for style in Style::ALL {
        let a = Builtin::new(style.name(), 32, 8, 7).unwrap();
        let b = Builtin::new(style.name(), 32, 8, 7).unwrap();
        let c = Builtin::new(style.name(), 32, 8, 8).unwrap();
        // Read b backwards: image i depends only on (seed, i), not on the order of reads.
        let b_images: Vec<_> = (0..8).rev().map(|i| b.get(i)).collect();
        for i in 0..8 {
            assert_eq!(a.get(i), b_images[7 - i], "{} image {i}", style.name());
            assert_ne!(
                a.get(i),
                c.get(i),
                "{} image {i} with another seed",
                style.name()
            );
        }
        assert_ne!(
            a.get(0),
            a.get(1),
            "{}: images of one set differ",
            style.name()
        );
    }
}

#[test]
fn styles_differ_in_simple_statistics() {
    let n = 32;
    let mondrian = stats(&Builtin::new("mondrian", SIZE, n, 1).unwrap(), n);
    let kandinsky = stats(&Builtin::new("kandinsky", SIZE, n, 1).unwrap(), n);
    let rothko = stats(&Builtin::new("rothko", SIZE, n, 1).unwrap(), n);
    eprintln!("mondrian  {mondrian:?}\nkandinsky {kandinsky:?}\nrothko    {rothko:?}");
    // Mondrian: nearly all pixels are pure primaries, black or white, on a grid.
    assert!(mondrian.near_mondrian_palette > 0.85, "{mondrian:?}");
    assert!(mondrian.diagonal_edge_share < 0.1, "{mondrian:?}");
    // Kandinsky: curves and slanted lines, and a pale ground that is not Mondrian's white.
    assert!(kandinsky.diagonal_edge_share > 0.3, "{kandinsky:?}");
    assert!(kandinsky.near_mondrian_palette < 0.6, "{kandinsky:?}");
    // Rothko: few edges (soft fields), few of Mondrian's colours.
    assert!(
        rothko.edge_density < 0.5 * mondrian.edge_density.min(kandinsky.edge_density),
        "{rothko:?}"
    );
    assert!(rothko.near_mondrian_palette < 0.3, "{rothko:?}");
}

#[test]
fn unknown_style_lists_the_known_ones() {
    let err = Builtin::new("picasso", 32, 4, 0).err().unwrap();
    assert!(matches!(err, Error::UnknownBuiltin { .. }));
    let message = err.to_string();
    for style in Style::ALL {
        assert!(message.contains(style.name()), "{message}");
    }
    assert!(message.contains("picasso"), "{message}");
}

#[test]
fn open_dataset_parses_builtin_specs() {
    let set = open_dataset("builtin:mondrian", 32, 3).unwrap();
    assert_eq!(
        (set.len(), set.channels(), set.size()),
        (Builtin::DEFAULT_COUNT, 3, 32)
    );
    let set = open_dataset("builtin:kandinsky:100", 64, 3).unwrap();
    assert_eq!((set.len(), set.size()), (100, 64));
    assert_eq!(
        set.get(5),
        Builtin::new("kandinsky", 64, 100, 3).unwrap().get(5)
    );
    assert!(matches!(
        open_dataset("builtin:mondrian:many", 32, 0),
        Err(Error::BadSpec { .. })
    ));
    assert!(matches!(
        open_dataset("builtin:nope", 32, 0),
        Err(Error::UnknownBuiltin { .. })
    ));
    assert!(matches!(
        open_dataset("/no/such/folder", 32, 0),
        Err(Error::FolderMissing(_))
    ));
}
