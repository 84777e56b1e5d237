//! Lists a weights file's tensors: `cargo run -p atelier-pth --example pth_info -- FILE`.

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: pth_info FILE");
        std::process::exit(2);
    };
    match atelier_pth::load(&path) {
        Ok(sd) => {
            println!("{path}: {} ({} tensors)", sd.format().describe(), sd.len());
            for (key, t) in sd.iter() {
                let head: Vec<f32> = t.values.iter().take(3).copied().collect();
                println!("  {key:40} {:?} {:?} {head:?}", t.dtype, t.shape);
            }
            for (k, v) in &sd.metadata {
                println!("  metadata {k} = {v}");
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
