//! Reading event files back: every record's CRCs are checked and every event decoded (the
//! tests use it; so can anyone who wants a run's scalars without TensorBoard).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use prost::Message;

use super::proto::Event;
use super::record::{RecordError, read_record};

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: record {index}: {source}")]
    Record {
        path: PathBuf,
        index: usize,
        source: RecordError,
    },
    #[error("{path}: record {index} is not an Event message: {source}")]
    Decode {
        path: PathBuf,
        index: usize,
        source: prost::DecodeError,
    },
    #[error("{path}: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Every event of the file at `path`, in order.
pub fn read_events(path: &Path) -> Result<Vec<Event>, ReadError> {
    let file = File::open(path).map_err(|source| ReadError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    read_events_from(BufReader::new(file), path)
}

/// Every event of `input`; `path` names it in errors.
pub fn read_events_from(mut input: impl Read, path: &Path) -> Result<Vec<Event>, ReadError> {
    let mut events = Vec::new();
    loop {
        let index = events.len();
        let record = read_record(&mut input).map_err(|source| ReadError::Record {
            path: path.to_path_buf(),
            index,
            source,
        })?;
        let Some(bytes) = record else {
            return Ok(events);
        };
        let event = Event::decode(&bytes[..]).map_err(|source| ReadError::Decode {
            path: path.to_path_buf(),
            index,
            source,
        })?;
        events.push(event);
    }
}
