//! [`EventWriter`]: one `events.out.tfevents.*` file in a run folder, as TensorFlow's summary
//! writers name and start them (a `brain.Event:2` file-version event first). Each call writes
//! whole records and flushes, so `tensorboard --logdir` sees them while training runs.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use prost::Message;

use super::proto::{Event, Image, Kind, SessionLog, SessionStatus, Summary, Value, What};
use super::record::write_record;

pub const FILE_VERSION: &str = "brain.Event:2";

pub struct EventWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().replace(['/', '\\'], "_"))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

impl EventWriter {
    /// A new event file in `dir`: `events.out.tfevents.<unix seconds>.<host>.<pid>.<n>`
    /// (n counts up past any file of that name already there).
    pub fn create(dir: &Path) -> io::Result<EventWriter> {
        let secs = now() as u64;
        let (host, pid) = (hostname(), std::process::id());
        let mut n = 0;
        let path = loop {
            let p = dir.join(format!("events.out.tfevents.{secs:010}.{host}.{pid}.{n}"));
            if !p.exists() {
                break p;
            }
            n += 1;
        };
        let mut w = EventWriter {
            out: BufWriter::new(File::create(&path)?),
            path,
        };
        w.write(Event {
            wall_time: now(),
            step: 0,
            what: Some(What::FileVersion(FILE_VERSION.into())),
        })?;
        Ok(w)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write(&mut self, event: Event) -> io::Result<()> {
        write_record(&mut self.out, &event.encode_to_vec())?;
        self.out.flush()
    }

    fn summary(&mut self, step: u64, value: Vec<Value>) -> io::Result<()> {
        self.write(Event {
            wall_time: now(),
            step: step as i64,
            what: Some(What::Summary(Summary { value })),
        })
    }

    /// Scalars at `step`, in one event.
    pub fn scalars(&mut self, step: u64, scalars: &[(&str, f64)]) -> io::Result<()> {
        let value = scalars
            .iter()
            .map(|&(tag, v)| Value {
                tag: tag.to_string(),
                kind: Some(Kind::SimpleValue(v as f32)),
            })
            .collect();
        self.summary(step, value)
    }

    /// A PNG image at `step` (`channels` 1, 2, 3 or 4, as its colour type).
    pub fn png(
        &mut self,
        step: u64,
        tag: &str,
        png: Vec<u8>,
        (width, height): (u32, u32),
        channels: u8,
    ) -> io::Result<()> {
        let image = Image {
            height: height as i32,
            width: width as i32,
            colorspace: i32::from(channels),
            encoded_image_string: png,
        };
        self.summary(
            step,
            vec![Value {
                tag: tag.to_string(),
                kind: Some(Kind::Image(image)),
            }],
        )
    }

    /// A session start at `step`: TensorBoard drops what earlier files logged at steps ≥
    /// `step` (a run resumed from a checkpoint logs them again).
    pub fn session_start(&mut self, step: u64) -> io::Result<()> {
        self.write(Event {
            wall_time: now(),
            step: step as i64,
            what: Some(What::SessionLog(SessionLog {
                status: SessionStatus::Start as i32,
                checkpoint_path: String::new(),
                msg: String::new(),
            })),
        })
    }
}
