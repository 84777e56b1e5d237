//! What `atelier style train` leaves for people: a run folder with TensorBoard scalars (the
//! three losses, their total, the learning rate, images/s) and sample grids (a few training
//! photos, and the network's rendering of them as training goes), scalars.csv and the run
//! page (the shared [`PageLog`]: failures warn once and training goes on).

use std::path::Path;
use std::time::Instant;

use atelier_data::ImageSet;
use atelier_runlog::{Figure, RunPage};
use atelier_style::TransformerNet;
use atelier_style::loss::LossValues;
use atelier_tensor::Tensor;

use crate::runlog::PageLog;

/// Photos in the sample grid.
const SAMPLES: usize = 4;

pub struct StyleLog {
    log: PageLog,
    /// The sample photos `[k, 3, S, S]` in [0, 1], on the training device.
    photos: Tensor,
    /// Start of the current images/s interval: (time, step).
    interval: (Instant, usize),
    batch: usize,
    lr: f64,
}

impl StyleLog {
    /// Creates the run folder with style.png, and the log.
    pub fn create(
        dir: &Path,
        tensorboard: bool,
        page: RunPage,
        style: &image::Rgb32FImage,
        photos: &dyn ImageSet,
        (batch, lr): (usize, f64),
        device: atelier_tensor::Device,
    ) -> anyhow::Result<StyleLog> {
        std::fs::create_dir_all(dir.join("samples"))?;
        atelier_style::image_io::save_png(style, &dir.join("style.png"))?;
        let k = photos.len().min(SAMPLES);
        let s = photos.size();
        let data: Vec<f32> = (0..k)
            .flat_map(|i| photos.get(i))
            .map(|v| (v + 1.0) * 0.5)
            .collect();
        let photos = Tensor::from_vec(data, &[k, 3, s, s], device);
        let mut page = page;
        page.figures.push(Figure {
            title: "Style image".into(),
            path: "style.png".into(),
            caption: "the painting the network learns".into(),
        });
        page.samples = Some((
            "samples".into(),
            format!("top: {k} training photos; bottom: the network's rendering of them"),
        ));
        page.running = true;
        Ok(StyleLog {
            log: PageLog::open(dir, 0, tensorboard, page)?,
            photos,
            interval: (Instant::now(), 0),
            batch,
            lr,
        })
    }

    /// Logs the losses read at `step`.
    pub fn losses(&mut self, step: usize, l: &LossValues) {
        let (since, from) = self.interval;
        let ips = ((step - from) * self.batch) as f64 / since.elapsed().as_secs_f64().max(1e-9);
        self.interval = (Instant::now(), step);
        let values = [
            ("loss/content", f64::from(l.content)),
            ("loss/style", f64::from(l.style)),
            ("loss/tv", f64::from(l.tv)),
            ("loss/total", f64::from(l.total())),
            ("lr", self.lr),
            ("perf/images_per_s", ips),
        ];
        self.log.scalars(step as u64, &values);
        self.log.page.step = step as u64;
    }

    /// samples/step_NNNNNN.png: the photos over their stylised versions; logged and paged.
    pub fn sample(&mut self, step: usize, net: &TransformerNet) {
        let path = self.log.dir().join(format!("samples/step_{step:06}.png"));
        if let Err(e) = self.write_sample(&path, net) {
            self.log.warn("writing a sample grid", e);
            return;
        }
        self.log.page.step = step as u64;
        self.log.sample(&path);
    }

    fn write_sample(&self, path: &Path, net: &TransformerNet) -> anyhow::Result<()> {
        let styled = net.stylize(&self.photos);
        let &[k, c, s, _] = self.photos.shape() else {
            unreachable!("photos are NCHW")
        };
        // the grid writer takes [-1, 1]
        let data: Vec<f32> = self
            .photos
            .to_vec()
            .into_iter()
            .chain(styled.to_vec())
            .map(|v| v * 2.0 - 1.0)
            .collect();
        atelier_data::save_grid(path, &data, 2 * k, c, s, s, k, 2)?;
        Ok(())
    }

    /// The page marked as finished, with the model file named.
    pub fn finish(&mut self, step: usize) {
        self.log.finish(step as u64);
    }
}
